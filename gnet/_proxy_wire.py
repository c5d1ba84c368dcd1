"""The PROXY protocol's wire format: constants, TLV types, CRC32C, and building headers.

The encoding half of :mod:`gnet.proxy_protocol`, which re-exports every
public name here and adds the parser on top (this module knows nothing of
parsing).  Node has no PROXY protocol; the names follow HAProxy's spec
(doc/proxy-protocol.txt).
"""

from __future__ import annotations

import enum
import socket
import struct
from collections.abc import Iterable
from dataclasses import dataclass

from .errors import NODE_ERRORS, Error, make_error

__all__ = [
    "DEFAULT_MAX_V2_LENGTH",
    "V1_MAX_LENGTH",
    "V2_SIGNATURE",
    "Command",
    "ProxyProtocolError",
    "SslSubtype",
    "Tlv",
    "TlvType",
    "build_ssl_tlv",
    "build_v1",
    "build_v2",
    "crc32c",
]

#: The 12 bytes that start every PROXY protocol v2 header.
V2_SIGNATURE = b"\r\n\r\n\x00\r\nQUIT\n"
V1_PREFIX = b"PROXY "
#: The spec's worst case, CRLF included.
V1_MAX_LENGTH = 107
#: Header bytes, the 16 fixed ones included.
DEFAULT_MAX_V2_LENGTH = 4096
V2_FIXED = 16
V2_MAX_PAYLOAD = 0xFFFF
AUTHORITY_MAX = 255  # HAProxy's PP2_AUTHORITY_MAX
UNIQUE_ID_MAX = 128  # the spec's limit for PP2_TYPE_UNIQUE_ID
UNIX_ADDRESS = 108


class ProxyProtocolError(Error):
    """A connection's PROXY protocol header is invalid (code ``ERR_GNET_PROXY_PROTOCOL``).

    ``reason`` names the check that failed: ``signature`` (not a header of
    the expected version), ``v1_too_long``, ``v1_bad_line``, ``v2_too_long``,
    ``v2_version``, ``v2_command``, ``v2_family``, ``v2_address``,
    ``v2_tlv``, ``v2_crc`` or ``truncated`` (the stream ended inside the
    header).  No Node equivalent.
    """

    code = "ERR_GNET_PROXY_PROTOCOL"

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(NODE_ERRORS[self.code][1](detail))
        self.reason = reason


class Command(str, enum.Enum):
    """The v2 command; a v1 header is always ``PROXY``."""

    LOCAL = "LOCAL"  # made by the proxy itself (a health check): use the real endpoints
    PROXY = "PROXY"  # relayed: the header's addresses are the client's


class TlvType(enum.IntEnum):
    """The registered v2 TLV types (``PP2_TYPE_*``), and AWS's."""

    ALPN = 0x01
    AUTHORITY = 0x02
    CRC32C = 0x03
    NOOP = 0x04
    UNIQUE_ID = 0x05
    SSL = 0x20
    NETNS = 0x30
    AWS = 0xEA


class SslSubtype(enum.IntEnum):
    """Sub-TLVs of ``PP2_TYPE_SSL`` (``PP2_SUBTYPE_SSL_*``)."""

    VERSION = 0x21
    CN = 0x22
    CIPHER = 0x23
    SIG_ALG = 0x24
    KEY_ALG = 0x25


AWS_VPCE_ID = 0x01  # the subtype of TlvType.AWS that holds the VPC endpoint id
SSL_CLIENT_SSL, SSL_CLIENT_CERT_CONN, SSL_CLIENT_CERT_SESS = 0x01, 0x02, 0x04

# v2 family byte -> the family name; the spec's seven combinations, nothing else.
V2_FAMILIES = {
    0x00: "UNKNOWN",
    0x11: "TCP4",
    0x12: "UDP4",
    0x21: "TCP6",
    0x22: "UDP6",
    0x31: "UNIX",
    0x32: "UNIX_DGRAM",
}
_V2_FAMILY_BYTES = {name: byte for byte, name in V2_FAMILIES.items()}
ADDRESS_BLOCK = {0x0: 0, 0x1: 12, 0x2: 36, 0x3: 2 * UNIX_ADDRESS}  # by the family nibble


@dataclass(frozen=True)
class Tlv:
    """One v2 type-length-value item."""

    type: int
    value: bytes


# ---------------------------------------------------------------------------
# CRC32C (Castagnoli, RFC 4960 appendix B): what PP2_TYPE_CRC32C carries


def _crc32c_table() -> tuple[int, ...]:
    table = []
    for byte in range(256):
        crc = byte
        for _ in range(8):
            crc = (crc >> 1) ^ 0x82F63B78 if crc & 1 else crc >> 1
        table.append(crc)
    return tuple(table)


_CRC32C_TABLE = _crc32c_table()


def crc32c(data: bytes | bytearray | memoryview) -> int:
    """The CRC32C of ``data`` (``crc32c(b'123456789') == 0xE3069283``)."""
    crc = 0xFFFFFFFF
    table = _CRC32C_TABLE
    for byte in bytes(data):
        crc = table[(crc ^ byte) & 0xFF] ^ (crc >> 8)
    return crc ^ 0xFFFFFFFF


Endpoint = tuple[str, int] | str | None  # an (address, port) pair, a UNIX path, or none


def build_v1(source: tuple[str, int] | None, destination: tuple[str, int] | None) -> bytes:
    """A v1 line for a TCP connection from ``source`` to ``destination`` (``(address, port)``).

    ``None`` for both builds ``PROXY UNKNOWN\\r\\n`` (v1 has no LOCAL command).
    """
    if source is None and destination is None:
        return b"PROXY UNKNOWN\r\n"
    af, src, dst, ports = _ip_pair(source, destination)
    protocol = "TCP4" if af == socket.AF_INET else "TCP6"
    return f"PROXY {protocol} {src} {dst} {ports[0]} {ports[1]}\r\n".encode("ascii")


def build_v2(
    source: Endpoint,
    destination: Endpoint,
    *,
    command: Command | str = Command.PROXY,
    tlvs: Iterable[Tlv | tuple[int, bytes]] = (),
    crc: bool = False,
    datagram: bool = False,
) -> bytes:
    """A v2 header.

    ``source`` and ``destination`` are ``(address, port)`` pairs (TCP4 or
    TCP6; UDP with ``datagram=True``), UNIX paths (``str``), or ``None``
    for neither (family UNSPEC).  ``command='LOCAL'`` builds a health
    check's header (no addresses).  ``tlvs`` are appended in order;
    ``crc=True`` appends a CRC32C TLV computed over the result.
    """
    command = Command(command)
    items = [item if isinstance(item, Tlv) else Tlv(*item) for item in tlvs]
    if command is Command.LOCAL:
        family, block = "UNKNOWN", b""
    else:
        family, block = _v2_address_block(source, destination, datagram)
    body = block + b"".join(_tlv_bytes(item) for item in items)
    if crc:
        body += _tlv_bytes(Tlv(TlvType.CRC32C, b"\0\0\0\0"))
    if len(body) > V2_MAX_PAYLOAD:
        raise make_error("ERR_OUT_OF_RANGE", "header length", f"<= {V2_MAX_PAYLOAD}", len(body))
    ver_cmd = 0x21 if command is Command.PROXY else 0x20
    header = (
        V2_SIGNATURE
        + bytes([ver_cmd, _V2_FAMILY_BYTES[family]])
        + len(body).to_bytes(2, "big")
        + body
    )
    if crc:
        header = header[:-4] + crc32c(header).to_bytes(4, "big")
    return header


def build_ssl_tlv(
    client: int,
    verify: int = 0,
    *,
    version: str | None = None,
    cn: str | None = None,
    cipher: str | None = None,
    sig_alg: str | None = None,
    key_alg: str | None = None,
) -> Tlv:
    """A ``PP2_TYPE_SSL`` TLV, for :func:`build_v2`'s ``tlvs``."""
    subs = [
        (SslSubtype.VERSION, version),
        (SslSubtype.CN, cn),
        (SslSubtype.CIPHER, cipher),
        (SslSubtype.SIG_ALG, sig_alg),
        (SslSubtype.KEY_ALG, key_alg),
    ]
    value = bytes([client]) + verify.to_bytes(4, "big")
    value += b"".join(
        _tlv_bytes(Tlv(kind, text.encode())) for kind, text in subs if text is not None
    )
    return Tlv(TlvType.SSL, value)


def _tlv_bytes(item: Tlv) -> bytes:
    if not 0 <= item.type <= 0xFF:
        raise make_error("ERR_OUT_OF_RANGE", "TLV type", ">= 0 and <= 255", item.type)
    value = bytes(item.value)
    if len(value) > V2_MAX_PAYLOAD:
        raise make_error("ERR_OUT_OF_RANGE", "TLV length", f"<= {V2_MAX_PAYLOAD}", len(value))
    return bytes([item.type]) + len(value).to_bytes(2, "big") + value


def _v2_address_block(source: Endpoint, destination: Endpoint, datagram: bool) -> tuple[str, bytes]:
    if source is None and destination is None:
        return "UNKNOWN", b""
    if isinstance(source, str) and isinstance(destination, str):
        name = "UNIX_DGRAM" if datagram else "UNIX"
        return name, _unix_field(source) + _unix_field(destination)
    af, src, dst, ports = _ip_pair(source, destination)
    name = ("UDP" if datagram else "TCP") + ("4" if af == socket.AF_INET else "6")
    return name, socket.inet_pton(af, src) + socket.inet_pton(af, dst) + struct.pack("!HH", *ports)


def _unix_field(path: str) -> bytes:
    raw = path.encode("utf-8", "surrogateescape")
    if len(raw) > UNIX_ADDRESS:
        raise make_error("ERR_OUT_OF_RANGE", "UNIX path length", f"<= {UNIX_ADDRESS}", len(raw))
    return raw.ljust(UNIX_ADDRESS, b"\0")


def _ip_pair(source: object, destination: object) -> tuple[int, str, str, tuple[int, int]]:
    """(address family, canonical source, canonical destination, ports) of two endpoints."""
    checked = []
    for name, endpoint in (("source", source), ("destination", destination)):
        if endpoint is None:
            raise make_error("ERR_MISSING_ARGS", name)
        if not isinstance(endpoint, (tuple, list)) or len(endpoint) != 2:
            raise make_error("ERR_INVALID_ARG_TYPE", name, "an (address, port) pair", endpoint)
        address, port = endpoint
        af = _family_of(address) if isinstance(address, str) else None
        if af is None:
            raise make_error("ERR_INVALID_IP_ADDRESS", address)
        if isinstance(port, bool) or not isinstance(port, int) or not 0 <= port <= 65535:
            raise make_error("ERR_SOCKET_BAD_PORT", f"{name} port", port)
        checked.append((af, socket.inet_ntop(af, socket.inet_pton(af, address)), port))
    (af, src, sport), (dst_af, dst, dport) = checked
    if af != dst_af:
        reason = "must be of the source's address family"
        raise make_error("ERR_INVALID_ARG_VALUE", "destination", destination, reason)
    return af, src, dst, (sport, dport)


def _family_of(address: str) -> int | None:
    if "%" in address:  # a scope id has no place in a PROXY header
        return None
    for af in (socket.AF_INET, socket.AF_INET6):
        try:
            socket.inet_pton(af, address)
        except (OSError, ValueError):
            continue
        return af
    return None
