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


def _handshake_message(data: bytes) -> tuple[bytes, int] | None:
    """The first handshake message, joined from its records, and the bytes
    those records take; None while more bytes are needed."""
    if len(data) < 5:
        return None
    if data[0] != _HANDSHAKE or data[1] != 3:
        raise ValueError("not a TLS handshake record")
    length = (data[3] << 8) | data[4]
    if 4 <= length <= (1 << 14) + 2048 and len(data) >= 5 + length and data[5] == _CLIENT_HELLO:
        needed = 4 + ((data[6] << 16) | (data[7] << 8) | data[8])
        if needed <= length:  # the usual case: the whole hello in one record
            return data[9 : 5 + needed], 5 + length
    body = bytearray()
    pos = 0
    while True:
        if len(data) < pos + 5:
            return None
        if data[pos] != _HANDSHAKE or data[pos + 1] != 3:
            raise ValueError("not a TLS handshake record")
        length = (data[pos + 3] << 8) | data[pos + 4]
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
    try:
        return _parse(message, length)
    except IndexError:
        raise ValueError("truncated ClientHello") from None


def _parse(m: bytes, length: int) -> ClientHello:
    # Index arithmetic on the bytes (a server reads one per connection):
    # an IndexError is a truncated field.
    end = len(m)
    legacy_version = (m[0] << 8) | m[1]
    pos = 34  # version, random
    pos += 1 + m[pos]  # session id
    pos += 2 + ((m[pos] << 8) | m[pos + 1])  # cipher suites
    pos += 1 + m[pos]  # compression methods
    if pos > end:
        raise ValueError("truncated ClientHello")
    servername = None
    alpn: tuple[str, ...] | None = None
    versions: tuple[int, ...] = (legacy_version,)
    if pos < end:
        extensions_end = pos + 2 + ((m[pos] << 8) | m[pos + 1])
        if extensions_end > end:
            raise ValueError("truncated ClientHello")
        pos += 2
        while pos < extensions_end:
            kind = (m[pos] << 8) | m[pos + 1]
            body = pos + 4
            body_end = body + ((m[pos + 2] << 8) | m[pos + 3])
            if body_end > extensions_end:
                raise ValueError("truncated ClientHello")
            if kind == _EXT_SERVER_NAME:
                servername = _servername(m, body, body_end)
            elif kind == _EXT_ALPN:
                alpn = _alpn(m, body, body_end)
            elif kind == _EXT_SUPPORTED_VERSIONS:
                count = m[body]
                if body + 1 + count > body_end:
                    raise ValueError("truncated ClientHello")
                versions = tuple(
                    (m[i] << 8) | m[i + 1] for i in range(body + 1, body + count, 2)
                )
            pos = body_end
    return ClientHello(servername, alpn, versions, length)


def _vector_end(m: bytes, pos: int, size_bytes: int, limit: int) -> int:
    size = m[pos] if size_bytes == 1 else (m[pos] << 8) | m[pos + 1]
    end = pos + size_bytes + size
    if end > limit:
        raise ValueError("truncated ClientHello")
    return end


def _servername(m: bytes, pos: int, limit: int) -> str | None:
    end = _vector_end(m, pos, 2, limit)
    pos += 2
    found = None
    while pos < end:
        name_type = m[pos]
        name_end = _vector_end(m, pos + 1, 2, end)
        if name_type == 0:
            found = m[pos + 3 : name_end].decode("ascii", "replace")
        pos = name_end
    return found


def _alpn(m: bytes, pos: int, limit: int) -> tuple[str, ...]:
    end = _vector_end(m, pos, 2, limit)
    pos += 2
    protocols = []
    while pos < end:
        item_end = _vector_end(m, pos, 1, end)
        protocols.append(m[pos + 1 : item_end].decode("latin-1"))
        pos = item_end
    return tuple(protocols)


def alert_record(description: int) -> bytes:
    """A plaintext fatal TLS alert record, what a server sends in place of
    its ServerHello to refuse a handshake (``description`` is the alert
    number, e.g. :data:`ALERT_NO_APPLICATION_PROTOCOL`)."""
    return bytes((21, 3, 3, 0, 2, 2, description))
