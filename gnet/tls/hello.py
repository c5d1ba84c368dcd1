"""Reading a TLS ClientHello off the wire, before OpenSSL sees it.

A gnet server's transport owns the raw bytes, so it can look at the
client's first flight before it creates the ``ssl.SSLObject``.  That gives
what Python's ``ssl`` cannot:

* ALPN refusal as Node does it: when both sides offer ALPN and no protocol
  is common, Node's server fails the handshake with
  ``ERR_SSL_NO_APPLICATION_PROTOCOL`` and the client gets the
  ``no_application_protocol`` alert (``ERR_SSL_TLSV1_ALERT_NO_APPLICATION_PROTOCOL``);
  Python's ssl carries on without a protocol.  The server compares
  :attr:`ClientHello.alpn_protocols` with its own
  (:func:`gnet.tls.select_alpn`) and answers a mismatch with
  :func:`alert_record` instead of a ServerHello.
* The SNI name before the handshake starts, so a Node ``SNICallback`` may
  answer later (from the connection's greenlet) and the right
  ``SSLContext`` is chosen when the ``SSLObject`` is made, instead of from
  inside OpenSSL's callback.

Only the parts named above are read; anything that is not a well-formed
ClientHello is left for OpenSSL to reject with its own error.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "ClientHello",
    "parse_client_hello",
    "alert_record",
    "ALERT_HANDSHAKE_FAILURE",
    "ALERT_INTERNAL_ERROR",
    "ALERT_UNRECOGNIZED_NAME",
    "ALERT_NO_APPLICATION_PROTOCOL",
]

_HANDSHAKE = 22
_CLIENT_HELLO = 1
_EXT_SERVER_NAME = 0
_EXT_ALPN = 16
_EXT_SUPPORTED_VERSIONS = 43
# A ClientHello is at most 2^24 bytes; anything past 64 KiB is not one a
# server should buffer before it decides.
_MAX_HELLO = 1 << 16

ALERT_HANDSHAKE_FAILURE = 40
ALERT_INTERNAL_ERROR = 80
ALERT_UNRECOGNIZED_NAME = 112
ALERT_NO_APPLICATION_PROTOCOL = 120


@dataclass(frozen=True)
class ClientHello:
    """What a server needs from a ClientHello before the handshake.

    ``servername`` is the SNI host name (``None`` without one);
    ``alpn_protocols`` the client's ALPN list (``None`` when it sent no ALPN
    extension); ``versions`` the protocol versions it offers (from
    supported_versions, else its legacy version), e.g. ``(0x0304, 0x0303)``;
    ``length`` how many bytes of the input the records holding it take.
    """

    servername: str | None
    alpn_protocols: tuple[str, ...] | None
    versions: tuple[int, ...]
    length: int


class _Reader:
    __slots__ = ("data", "pos")

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.pos = 0

    def take(self, count: int) -> bytes:
        if self.pos + count > len(self.data):
            raise ValueError("truncated ClientHello")
        chunk = self.data[self.pos : self.pos + count]
        self.pos += count
        return chunk

    def number(self, size: int) -> int:
        return int.from_bytes(self.take(size), "big")

    def vector(self, size: int) -> _Reader:
        return _Reader(self.take(self.number(size)))

    @property
    def left(self) -> int:
        return len(self.data) - self.pos


def _handshake_message(data: bytes) -> tuple[bytes, int] | None:
    """The first handshake message, joined from its records, and the bytes
    those records take; None while more bytes are needed."""
    body = bytearray()
    pos = 0
    while True:
        if len(data) < pos + 5:
            return None
        if data[pos] != _HANDSHAKE or data[pos + 1] != 3:
            raise ValueError("not a TLS handshake record")
        length = int.from_bytes(data[pos + 3 : pos + 5], "big")
        if length == 0 or length > (1 << 14) + 2048:
            raise ValueError("bad TLS record length")
        if len(data) < pos + 5 + length:
            return None
        body += data[pos + 5 : pos + 5 + length]
        pos += 5 + length
        if len(body) >= 4:
            if body[0] != _CLIENT_HELLO:
                raise ValueError("not a ClientHello")
            needed = 4 + int.from_bytes(body[1:4], "big")
            if needed > _MAX_HELLO:
                raise ValueError("ClientHello too large")
            if len(body) >= needed:
                return bytes(body[4:needed]), pos


def parse_client_hello(data: bytes) -> ClientHello | None:
    """The ClientHello at the start of ``data`` (raw bytes from the client).

    Returns None while ``data`` does not hold all of it yet; raises
    ``ValueError`` when ``data`` does not start with a ClientHello (plain
    HTTP, garbage, SSLv2): the caller lets OpenSSL produce Node's error.
    """
    found = _handshake_message(data)
    if found is None:
        return None
    message, length = found
    hello = _Reader(message)
    legacy_version = hello.number(2)
    hello.take(32)  # random
    hello.vector(1)  # session id
    hello.vector(2)  # cipher suites
    hello.vector(1)  # compression methods
    servername = None
    alpn: tuple[str, ...] | None = None
    versions: tuple[int, ...] = (legacy_version,)
    if hello.left:
        extensions = hello.vector(2)
        while extensions.left:
            kind = extensions.number(2)
            body = extensions.vector(2)
            if kind == _EXT_SERVER_NAME:
                names = body.vector(2)
                while names.left:
                    name_type = names.number(1)
                    name = names.vector(2).data
                    if name_type == 0:
                        servername = name.decode("ascii", "replace")
            elif kind == _EXT_ALPN:
                protocols = body.vector(2)
                found_protocols = []
                while protocols.left:
                    found_protocols.append(protocols.vector(1).data.decode("latin-1"))
                alpn = tuple(found_protocols)
            elif kind == _EXT_SUPPORTED_VERSIONS:
                offered = body.vector(1)
                versions = tuple(offered.number(2) for _ in range(offered.left // 2))
    return ClientHello(servername, alpn, versions, length)


def alert_record(description: int) -> bytes:
    """A plaintext fatal TLS alert record, what a server sends in place of
    its ServerHello to refuse a handshake (``description`` is the alert
    number, e.g. :data:`ALERT_NO_APPLICATION_PROTOCOL`)."""
    return bytes((21, 3, 3, 0, 2, 2, description))
