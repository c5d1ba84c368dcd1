"""The per-side TLS options of a server and of a client, validated as Node does.

Node keeps these on the socket, not in the SecureContext: a server's
``requestCert``/``rejectUnauthorized``/``ALPNProtocols``, a client's
``rejectUnauthorized``/``ALPNProtocols``/``servername``/
``checkServerIdentity``.  Python's ``ssl`` keeps the verify mode and ALPN
on the ``SSLContext``, so :class:`gnet.tls.SecureContext` builds one
context per role (:meth:`~gnet.tls.SecureContext.server_context`,
:meth:`~gnet.tls.SecureContext.client_context`); a role is a hashable value
so those contexts can be cached.

Also here: Node's ALPN selection (the server's order wins, as OpenSSL's
``SSL_select_next_proto``), and which names a client sends as SNI and
checks the certificate against.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from .. import is_ip
from .._aliases import normalize_options
from ..errors import make_error
from .identity import check_server_identity

__all__ = [
    "ServerRole",
    "ClientRole",
    "ClientConnection",
    "server_role",
    "client_role",
    "alpn_protocols",
    "select_alpn",
    "sni_servername",
    "identity_host",
    "option",
]


def option(options: Mapping[str, Any], snake: str, node: str | None = None) -> Any:
    """``options[snake]``, else Node's spelling ``options[node]`` (for names such
    as ``ALPNProtocols`` and ``SNICallback`` that no mechanical rule maps)."""
    if snake in options:
        return options[snake]
    if node is not None:
        return options.get(node)
    return None


@dataclass(frozen=True)
class ServerRole:
    """A TLS server's side: Node's ``requestCert`` (default False),
    ``rejectUnauthorized`` (default True) and ``ALPNProtocols``."""

    request_cert: bool = False
    reject_unauthorized: bool = True
    alpn_protocols: tuple[str, ...] = ()


@dataclass(frozen=True)
class ClientRole:
    """A TLS client's side: Node's ``rejectUnauthorized`` (default True) and
    ``ALPNProtocols``.  The servername and ``checkServerIdentity`` are per
    connection (see :func:`client_role`'s second value)."""

    reject_unauthorized: bool = True
    alpn_protocols: tuple[str, ...] = ()


def server_role(options: Mapping[str, Any] | None = None) -> ServerRole:
    """The server side of ``options`` (either spelling), with Node's rules:
    ``requestCert`` only when exactly True, ``rejectUnauthorized`` unless exactly False."""
    opts = normalize_options(options)
    callback = option(opts, "sni_callback", "SNICallback")
    if callback is not None and not callable(callback):
        raise make_error(
            "ERR_INVALID_ARG_TYPE", "options.SNICallback", "of type function", callback
        )
    return ServerRole(
        request_cert=opts.get("request_cert") is True,
        reject_unauthorized=opts.get("reject_unauthorized") is not False,
        alpn_protocols=alpn_protocols(option(opts, "alpn_protocols", "ALPNProtocols")),
    )


@dataclass(frozen=True)
class ClientConnection:
    """A client connection's own TLS options: ``servername`` (``None`` when
    not given) and the ``check_server_identity`` function to call."""

    servername: str | None
    check_server_identity: Callable[[str, Any], Any]


def client_role(options: Mapping[str, Any] | None = None) -> tuple[ClientRole, ClientConnection]:
    """The client side of ``options``: the cacheable role and the per-connection part."""
    opts = normalize_options(options)
    servername = opts.get("servername")
    if servername is not None and not isinstance(servername, str):
        raise make_error("ERR_INVALID_ARG_TYPE", "name", "of type string", servername)
    check = opts.get("check_server_identity")
    if check is None:
        check = check_server_identity
    elif not callable(check):
        raise make_error(
            "ERR_INVALID_ARG_TYPE", "options.checkServerIdentity", "of type function", check
        )
    role = ClientRole(
        reject_unauthorized=opts.get("reject_unauthorized") is not False,
        alpn_protocols=alpn_protocols(option(opts, "alpn_protocols", "ALPNProtocols")),
    )
    return role, ClientConnection(servername or None, check)


def alpn_protocols(value: Any, name: str = "options.ALPNProtocols") -> tuple[str, ...]:
    """Node's ``ALPNProtocols``: a list of ``str``/``bytes``, or the wire format
    (length-prefixed protocol names) as ``bytes``; ``None`` for none."""
    if value is None:
        return ()
    if isinstance(value, (bytes, bytearray, memoryview)):
        return _from_wire(bytes(value), name)
    if not isinstance(value, Sequence) or isinstance(value, str):
        raise make_error(
            "ERR_INVALID_ARG_TYPE", name, "an instance of Array, Buffer, or TypedArray", value
        )
    out = []
    for index, item in enumerate(value):
        if isinstance(item, (bytes, bytearray, memoryview)):
            raw = bytes(item)
        elif isinstance(item, str):
            raw = item.encode("utf-8")
        else:
            raise make_error(
                "ERR_INVALID_ARG_TYPE",
                f"{name}[{index}]",
                "of type string or an instance of Buffer",
                item,
            )
        if len(raw) > 255:
            raise make_error("ERR_OUT_OF_RANGE", f"{name}[{index}]", "<= 255 bytes", len(raw))
        out.append(_protocol_text(raw, name))
    return tuple(out)


def _from_wire(wire: bytes, name: str) -> tuple[str, ...]:
    out = []
    pos = 0
    while pos < len(wire):
        length = wire[pos]
        item = wire[pos + 1 : pos + 1 + length]
        if length == 0 or len(item) != length:
            raise make_error("ERR_INVALID_ARG_VALUE", name, wire, "is not in ALPN wire format")
        out.append(_protocol_text(item, name))
        pos += 1 + length
    return tuple(out)


def _protocol_text(raw: bytes, name: str) -> str:
    if not raw:
        raise make_error("ERR_INVALID_ARG_VALUE", name, raw, "must not contain an empty protocol")
    try:
        return raw.decode("ascii")
    except UnicodeDecodeError:
        raise make_error("ERR_GNET_TLS_UNSUPPORTED", f"a non-ASCII ALPN protocol {raw!r}") from None


def select_alpn(server: Sequence[str], client: Sequence[str]) -> str | None:
    """The protocol a server picks: its first one that the client offers
    (OpenSSL's ``SSL_select_next_proto``, as Node uses it); ``None`` for none."""
    offered = set(client)
    return next((protocol for protocol in server if protocol in offered), None)


def sni_servername(servername: str | None, host: str | None) -> str | None:
    """The SNI name a gnet client sends: ``servername``, else ``host`` unless it
    is an IP address (Node sends SNI only for an explicit ``servername``;
    gnet, like Python's ssl and Node's https, defaults it to the host)."""
    if servername:
        return servername
    if host and not is_ip(host):
        return host
    return None


def identity_host(servername: str | None, host: str | None) -> str:
    """The name Node checks the server certificate against:
    ``servername || host || 'localhost'``."""
    return servername or host or "localhost"
