"""The PROXY protocol, versions 1 and 2 (HAProxy's spec): parser and builder.

A load balancer in front of a server (HAProxy ``send-proxy``/``send-proxy-v2``,
AWS NLB, ...) prepends one header to each connection that says who the real
client is.  This module is the pure part: no sockets, no greenlets.

* :class:`ProxyParser` is incremental: :meth:`~ProxyParser.feed` it bytes as
  they arrive and it answers :class:`NeedMore` (how many more bytes are
  certainly needed) until the header is complete, then a
  :class:`ProxyHeader`.  Bytes fed past the header are the application's:
  they are kept in :attr:`ProxyParser.remainder`, never consumed.
  :func:`parse` does the same for one buffer.
* Anything that is not a valid header raises :class:`ProxyProtocolError`
  (code ``ERR_GNET_PROXY_PROTOCOL``) with a short :attr:`~ProxyProtocolError.reason`,
  as early as the bytes allow: a wrong first byte fails at once, an
  oversized v2 length fails before its body arrives, a v1 line fails at
  its 108th byte without a CRLF.
* :func:`build_v1` and :func:`build_v2` produce headers (a gnet client or
  proxy sending one to HAProxy's ``accept-proxy``, and the tests); they and
  the wire constants live in :mod:`gnet._proxy_wire` and are re-exported
  here.

The v2 TLVs are kept raw (:attr:`ProxyHeader.tlvs`, in order) and the
registered ones are decoded: ALPN, AUTHORITY, CRC32C (verified: a wrong
checksum is an error), UNIQUE_ID, SSL (with its sub-TLVs), NETNS and the
AWS VPC endpoint id (type 0xEA, subtype 0x01).  Node has no PROXY
protocol; the names follow the spec.
"""

from __future__ import annotations

import dataclasses
import operator
import socket
import struct
from dataclasses import dataclass
from typing import Literal, TypeVar

from ._aliases import add_module_aliases, camel_case, with_camel_aliases
from ._proxy_wire import (
    ADDRESS_BLOCK,
    AUTHORITY_MAX,
    AWS_VPCE_ID,
    DEFAULT_MAX_V2_LENGTH,
    SSL_CLIENT_CERT_CONN,
    SSL_CLIENT_CERT_SESS,
    SSL_CLIENT_SSL,
    UNIQUE_ID_MAX,
    UNIX_ADDRESS,
    V1_MAX_LENGTH,
    V1_PREFIX,
    V2_FAMILIES,
    V2_FIXED,
    V2_MAX_PAYLOAD,
    V2_SIGNATURE,
    Command,
    ProxyProtocolError,
    SslSubtype,
    Tlv,
    TlvType,
    build_ssl_tlv,
    build_v1,
    build_v2,
    crc32c,
)
from .errors import make_error

__all__ = [
    "DEFAULT_MAX_V2_LENGTH",
    "V1_MAX_LENGTH",
    "V2_SIGNATURE",
    "Command",
    "NeedMore",
    "ProxyHeader",
    "ProxyParser",
    "ProxyProtocolError",
    "SslInfo",
    "SslSubtype",
    "Tlv",
    "TlvType",
    "build_ssl_tlv",
    "build_v1",
    "build_v2",
    "crc32c",
    "parse",
]

Mode = Literal["v1", "v2", "auto"]
_MODES = ("v1", "v2", "auto")


_D = TypeVar("_D", bound=type)


def _camel_fields(cls: _D) -> _D:
    """Read-only camelCase twins of a dataclass's fields (``sourceAddress``).

    Applied before ``with_camel_aliases``, which would otherwise copy a
    field's class-level default under the camelCase name.
    """
    for item in dataclasses.fields(cls):
        alias = camel_case(item.name)
        if alias != item.name:
            setattr(cls, alias, property(operator.attrgetter(item.name)))
    return cls


@dataclass(frozen=True)
class NeedMore:
    """The header is incomplete: at least ``at_least`` more bytes are needed."""

    at_least: int = 1


@with_camel_aliases
@_camel_fields
@dataclass(frozen=True)
class SslInfo:
    """The decoded ``PP2_TYPE_SSL`` TLV: how the client reached the proxy."""

    client: int  # PP2_CLIENT_* bits
    verify: int  # 0: the client's certificate was presented and verified
    version: str | None = None
    cn: str | None = None
    cipher: str | None = None
    sig_alg: str | None = None
    key_alg: str | None = None
    tlvs: tuple[Tlv, ...] = ()

    @property
    def ssl(self) -> bool:
        """The client connected over SSL/TLS (``PP2_CLIENT_SSL``)."""
        return bool(self.client & SSL_CLIENT_SSL)

    @property
    def cert_in_connection(self) -> bool:
        """The client presented a certificate on this connection (``PP2_CLIENT_CERT_CONN``)."""
        return bool(self.client & SSL_CLIENT_CERT_CONN)

    @property
    def cert_in_session(self) -> bool:
        """The client presented a certificate in this TLS session (``PP2_CLIENT_CERT_SESS``)."""
        return bool(self.client & SSL_CLIENT_CERT_SESS)

    @property
    def verified(self) -> bool:
        """A client certificate was presented and verified (``verify == 0``)."""
        return self.verify == 0


@with_camel_aliases
@_camel_fields
@dataclass(frozen=True)
class ProxyHeader:
    """A parsed PROXY protocol header.

    ``length`` is how many bytes it took on the wire: the application's data
    starts right after.  The addresses are ``None`` for a ``LOCAL`` command
    and for the ``UNKNOWN`` family: the connection's own endpoints apply
    then.  For ``UNIX`` families they are paths (an abstract name starts
    with NUL) and the ports are ``None``.
    """

    version: int
    command: Command
    family: str  # TCP4, TCP6, UDP4, UDP6, UNIX, UNIX_DGRAM or UNKNOWN
    source_address: str | None
    source_port: int | None
    destination_address: str | None
    destination_port: int | None
    length: int
    tlvs: tuple[Tlv, ...] = ()
    alpn: bytes | None = None
    authority: str | None = None
    crc32c: int | None = None
    unique_id: bytes | None = None
    ssl: SslInfo | None = None
    netns: str | None = None
    aws_vpce_id: str | None = None

    @property
    def ip_family(self) -> str | None:
        """Node's family name of the relayed client, ``'IPv4'`` or ``'IPv6'``.

        ``None`` when the header carries no IP client (``LOCAL``, ``UNKNOWN``
        or a UNIX family): the connection's real endpoints apply.
        """
        if self.source_address is None or self.family in ("UNIX", "UNIX_DGRAM"):
            return None
        return "IPv6" if self.family in ("TCP6", "UDP6") else "IPv4"

    def tlv(self, type: int) -> bytes | None:
        """The value of the first TLV of ``type``, or ``None``."""
        for item in self.tlvs:
            if item.type == type:
                return item.value
        return None


# ---------------------------------------------------------------------------
# parsing


def parse(
    data: bytes | bytearray | memoryview,
    mode: Mode = "auto",
    max_v2_length: int = DEFAULT_MAX_V2_LENGTH,
) -> ProxyHeader | NeedMore:
    """Parse the header at the start of ``data``.

    Returns the :class:`ProxyHeader` (its ``length`` bytes are the header;
    the rest of ``data`` is not looked at) or :class:`NeedMore`; raises
    :class:`ProxyProtocolError`.  ``mode`` is ``'v1'``, ``'v2'`` or
    ``'auto'`` (either, told apart by the first byte); ``max_v2_length``
    caps a v2 header's total size.
    """
    _check_mode(mode, max_v2_length)
    buf = bytes(data)
    version = _detect(buf, mode)
    if version is None:
        return NeedMore(1)
    if version == 1:
        return _parse_v1(buf)
    return _parse_v2(buf, max_v2_length)


def _check_mode(mode: str, max_v2_length: int) -> None:
    if mode not in _MODES:
        raise make_error("ERR_INVALID_ARG_VALUE", "mode", mode, "must be 'v1', 'v2' or 'auto'")
    if isinstance(max_v2_length, bool) or not isinstance(max_v2_length, int):
        raise make_error("ERR_INVALID_ARG_TYPE", "max_v2_length", "of type number", max_v2_length)
    if not V2_FIXED <= max_v2_length <= V2_FIXED + V2_MAX_PAYLOAD:
        raise make_error(
            "ERR_OUT_OF_RANGE",
            "max_v2_length",
            f">= {V2_FIXED} and <= {V2_FIXED + V2_MAX_PAYLOAD}",
            max_v2_length,
        )


def _detect(buf: bytes, mode: str) -> int | None:
    """1 or 2 once the signature is certain, None while it may still be either."""
    candidates = []
    if mode in ("v1", "auto"):
        candidates.append((1, V1_PREFIX))
    if mode in ("v2", "auto"):
        candidates.append((2, V2_SIGNATURE))
    head_len = len(buf)
    for version, signature in candidates:
        if buf[: len(signature)] == signature[:head_len]:
            return version if head_len >= len(signature) else None
    expected = " or ".join(f"v{version}" for version, _ in candidates)
    raise ProxyProtocolError("signature", f"not a PROXY protocol {expected} header")


def _parse_v1(buf: bytes) -> ProxyHeader | NeedMore:
    limit = buf[:V1_MAX_LENGTH]
    cr = limit.find(b"\r")
    lf = limit.find(b"\n")
    if lf != -1 and (cr == -1 or lf < cr):
        raise ProxyProtocolError("v1_bad_line", "a v1 line must end with CRLF, not a bare LF")
    if (cr == -1 and len(buf) >= V1_MAX_LENGTH) or cr + 2 > V1_MAX_LENGTH:
        raise ProxyProtocolError(
            "v1_too_long", f"no CRLF in the first {V1_MAX_LENGTH} bytes of a v1 line"
        )
    if cr == -1 or cr + 1 >= len(buf):
        return NeedMore(1)
    if buf[cr + 1] != 0x0A:
        raise ProxyProtocolError("v1_bad_line", "a v1 line must end with CRLF, not a bare CR")
    length = cr + 2
    # latin-1 maps every byte to one character; the field checks below
    # accept ASCII digits, dots, colons and hex only.
    fields = buf[len(V1_PREFIX) : cr].decode("latin-1").split(" ")
    protocol = fields[0]
    if protocol == "UNKNOWN":
        # The spec: the receiver must ignore anything after UNKNOWN.
        return ProxyHeader(1, Command.PROXY, "UNKNOWN", None, None, None, None, length)
    if protocol not in ("TCP4", "TCP6"):
        raise ProxyProtocolError("v1_bad_line", f"unknown v1 protocol {_show(protocol)}")
    if len(fields) != 5:
        raise ProxyProtocolError(
            "v1_bad_line",
            f"a {protocol} line has 4 fields after the protocol, separated by single spaces",
        )
    _, src, dst, sport, dport = fields
    return ProxyHeader(
        1, Command.PROXY, protocol, _v1_address(protocol, src), _v1_port(sport),
        _v1_address(protocol, dst), _v1_port(dport), length,
    )  # fmt: skip


def _show(text: str) -> str:
    return repr(text if len(text) <= 40 else text[:40] + "...")


def _v1_address(protocol: str, text: str) -> str:
    """The canonical form of a TCP4 or TCP6 address; the spec's forms only."""
    if protocol == "TCP4":
        parts = text.split(".")
        if len(parts) == 4 and all(_decimal(part, 255) is not None for part in parts):
            return text
    elif text and "%" not in text:  # inet_pton would take a scope id
        try:
            packed = socket.inet_pton(socket.AF_INET6, text)
        except (OSError, ValueError):
            pass
        else:
            return socket.inet_ntop(socket.AF_INET6, packed)
    raise ProxyProtocolError("v1_bad_line", f"bad {protocol} address {_show(text)}")


def _v1_port(text: str) -> int:
    port = _decimal(text, 65535)
    if port is None:
        raise ProxyProtocolError("v1_bad_line", f"bad port {_show(text)}")
    return port


def _decimal(text: str, maximum: int) -> int | None:
    """A decimal in 0..maximum without leading zeros (the spec forbids them: octal)."""
    if not text or len(text) > 5 or not all("0" <= c <= "9" for c in text):
        return None
    if len(text) > 1 and text[0] == "0":
        return None
    value = int(text)
    return value if value <= maximum else None


def _parse_v2(buf: bytes, max_length: int) -> ProxyHeader | NeedMore:
    if len(buf) < V2_FIXED:
        return NeedMore(V2_FIXED - len(buf))
    ver_cmd, fam, payload_len = buf[12], buf[13], int.from_bytes(buf[14:16], "big")
    if ver_cmd >> 4 != 2:
        raise ProxyProtocolError("v2_version", f"version {ver_cmd >> 4} (only 2 exists)")
    if ver_cmd & 0x0F not in (0, 1):
        raise ProxyProtocolError("v2_command", f"unknown command {ver_cmd & 0x0F:#x}")
    if fam not in V2_FAMILIES:
        raise ProxyProtocolError("v2_family", f"unknown address family and protocol {fam:#04x}")
    total = V2_FIXED + payload_len
    if total > max_length:
        raise ProxyProtocolError(
            "v2_too_long", f"a {total}-byte header is over the {max_length}-byte limit"
        )
    if len(buf) < total:
        return NeedMore(total - len(buf))
    header = buf[:total]
    command = Command.PROXY if ver_cmd & 0x0F else Command.LOCAL
    block = ADDRESS_BLOCK[fam >> 4]
    if payload_len < block:
        raise ProxyProtocolError(
            "v2_address",
            f"{payload_len} bytes cannot hold the {block}-byte address block of {V2_FAMILIES[fam]}",
        )
    addresses: tuple[str | None, int | None, str | None, int | None] = (None, None, None, None)
    if command is Command.PROXY and block:
        addresses = _v2_addresses(fam >> 4, header[V2_FIXED : V2_FIXED + block])
    tlvs = _split_tlvs(header, V2_FIXED + block, total)
    return _decode_tlvs(header, tlvs, command, V2_FAMILIES[fam], addresses)


def _v2_addresses(
    family: int, block: bytes
) -> tuple[str | None, int | None, str | None, int | None]:
    if family == 0x3:
        return _unix_path(block[:UNIX_ADDRESS]), None, _unix_path(block[UNIX_ADDRESS:]), None
    af, size = (socket.AF_INET, 4) if family == 0x1 else (socket.AF_INET6, 16)
    src = socket.inet_ntop(af, block[:size])
    dst = socket.inet_ntop(af, block[size : 2 * size])
    sport, dport = struct.unpack("!HH", block[2 * size :])
    return src, sport, dst, dport


def _unix_path(raw: bytes) -> str:
    # NUL-padded; an abstract name starts with NUL (Linux) and keeps it.
    if raw[:1] == b"\0":
        return "\0" + raw[1:].rstrip(b"\0").decode("utf-8", "surrogateescape")
    return raw.split(b"\0", 1)[0].decode("utf-8", "surrogateescape")


def _split_tlvs(header: bytes, offset: int, end: int) -> list[tuple[int, int, int]]:
    """(type, value start, value end) of each TLV in ``header[offset:end]``."""
    items = []
    while offset < end:
        if offset + 3 > end:
            raise ProxyProtocolError("v2_tlv", "a TLV is cut short by the header's length")
        kind, size = header[offset], int.from_bytes(header[offset + 1 : offset + 3], "big")
        start = offset + 3
        offset = start + size
        if offset > end:
            raise ProxyProtocolError("v2_tlv", f"TLV {kind:#04x} runs past the header's end")
        items.append((kind, start, offset))
    return items


def _decode_tlvs(
    header: bytes,
    items: list[tuple[int, int, int]],
    command: Command,
    family: str,
    addresses: tuple[str | None, int | None, str | None, int | None],
) -> ProxyHeader:
    decoded: dict[str, object] = {}
    if sum(1 for kind, _, _ in items if kind == TlvType.CRC32C) > 1:
        raise ProxyProtocolError("v2_tlv", "more than one CRC32C TLV")
    for kind, start, end in items:
        if kind == TlvType.CRC32C:
            decoded["crc32c"] = _verify_crc(header, start, end)
            continue
        name, converted = _decode_tlv(kind, header[start:end])
        if name is not None and name not in decoded:
            decoded[name] = converted
    return ProxyHeader(
        2,
        command,
        family,
        *addresses,
        length=len(header),
        tlvs=tuple(Tlv(kind, header[start:end]) for kind, start, end in items),
        **decoded,  # type: ignore[arg-type]
    )


def _verify_crc(header: bytes, start: int, end: int) -> int:
    if end - start != 4:
        raise ProxyProtocolError("v2_tlv", f"a CRC32C TLV holds 4 bytes, not {end - start}")
    received = int.from_bytes(header[start:end], "big")
    computed = crc32c(header[:start] + b"\0\0\0\0" + header[end:])
    if computed != received:
        raise ProxyProtocolError(
            "v2_crc", f"CRC32C {received:#010x} does not match the header's {computed:#010x}"
        )
    return received


def _decode_tlv(kind: int, value: bytes) -> tuple[str | None, object]:
    if kind == TlvType.ALPN:
        return "alpn", value
    if kind == TlvType.AUTHORITY:
        if len(value) > AUTHORITY_MAX:
            raise ProxyProtocolError("v2_tlv", f"an AUTHORITY TLV over {AUTHORITY_MAX} bytes")
        return "authority", _text(value, "utf-8", "AUTHORITY")
    if kind == TlvType.UNIQUE_ID:
        if len(value) > UNIQUE_ID_MAX:
            raise ProxyProtocolError("v2_tlv", f"a UNIQUE_ID TLV over {UNIQUE_ID_MAX} bytes")
        return "unique_id", value
    if kind == TlvType.SSL:
        return "ssl", _decode_ssl(value)
    if kind == TlvType.NETNS:
        return "netns", _text(value, "ascii", "NETNS")
    if kind == TlvType.AWS and value[:1] == bytes([AWS_VPCE_ID]):
        return "aws_vpce_id", _text(value[1:], "ascii", "AWS VPC endpoint id")
    return None, None


def _text(value: bytes, encoding: str, what: str) -> str:
    try:
        return value.decode(encoding)
    except UnicodeDecodeError:
        raise ProxyProtocolError("v2_tlv", f"the {what} TLV is not {encoding.upper()}") from None


_SSL_FIELDS = {
    SslSubtype.VERSION: ("version", "ascii"),
    SslSubtype.CN: ("cn", "utf-8"),
    SslSubtype.CIPHER: ("cipher", "ascii"),
    SslSubtype.SIG_ALG: ("sig_alg", "ascii"),
    SslSubtype.KEY_ALG: ("key_alg", "ascii"),
}


def _decode_ssl(value: bytes) -> SslInfo:
    if len(value) < 5:
        raise ProxyProtocolError("v2_tlv", "an SSL TLV holds at least 5 bytes")
    client, verify = value[0], int.from_bytes(value[1:5], "big")
    items = _split_tlvs(value, 5, len(value))
    fields: dict[str, str] = {}
    for kind, start, end in items:
        if kind in _SSL_FIELDS:
            name, encoding = _SSL_FIELDS[SslSubtype(kind)]
            fields.setdefault(name, _text(value[start:end], encoding, f"SSL {name}"))
    subs = tuple(Tlv(kind, value[start:end]) for kind, start, end in items)
    return SslInfo(client, verify, tlvs=subs, **fields)


@with_camel_aliases
class ProxyParser:
    """Incremental parser of one connection's header.

    ``feed(chunk)`` returns :class:`NeedMore` until the header is complete,
    then the :class:`ProxyHeader`; whatever was fed past the header is in
    :attr:`remainder`.  Call :meth:`feed_eof` when the stream ends: it
    raises if the header was not complete.  Once the parser has answered
    (a header or an error), feeding it again raises
    ``ERR_STREAM_ALREADY_FINISHED``.
    """

    __slots__ = ("mode", "max_v2_length", "_buffer", "header", "remainder", "_done")

    def __init__(self, mode: Mode = "auto", max_v2_length: int = DEFAULT_MAX_V2_LENGTH) -> None:
        _check_mode(mode, max_v2_length)
        self.mode: Mode = mode
        self.max_v2_length = max_v2_length
        self._buffer = bytearray()
        self.header: ProxyHeader | None = None
        self.remainder = b""
        self._done = False

    def feed(self, data: bytes | bytearray | memoryview) -> ProxyHeader | NeedMore:
        if self._done:
            raise make_error("ERR_STREAM_ALREADY_FINISHED", "feed")
        self._buffer += data
        try:
            result = parse(self._buffer, self.mode, self.max_v2_length)
        except ProxyProtocolError:
            self._finish()
            raise
        if isinstance(result, ProxyHeader):
            self.header = result
            self.remainder = bytes(self._buffer[result.length :])
            self._finish()
        return result

    def feed_eof(self) -> ProxyHeader:
        """The stream ended: the header, or :class:`ProxyProtocolError` (``truncated``)."""
        if self.header is not None:
            return self.header
        received = len(self._buffer)
        self._finish()
        raise ProxyProtocolError(
            "truncated", f"the connection ended after {received} bytes of the header"
        )

    def _finish(self) -> None:
        self._done = True
        self._buffer = bytearray()


__all__ += add_module_aliases(globals(), __all__)
