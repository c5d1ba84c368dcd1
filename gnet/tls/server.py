"""Node's ``tls.Server`` and ``tls.createServer``.

A :class:`Server` is a :class:`gnet.Server` whose own first
``'connection'`` listener (as Node's ``tlsConnectionListener``) makes a
:class:`~gnet.tls.TLSSocket` that takes the accepted plain socket over:
user ``'connection'`` listeners still get the plain socket, before any
TLS byte is read; the handshake then runs in the connection's greenlet,
under ``handshake_timeout``; ``'secureConnection'`` (or
``'tlsClientError'``) follows.  From then on the server counts, drains and
shuts down the TLS sockets (``server.connections``, ``close()``,
``shutdown()`` see them), so ending one sends close_notify.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from typing import Any

from .._aliases import normalize_options, with_camel_aliases
from ..errors import make_error
from ..options import validate_callback
from ..server import Server as NetServer
from ..socket import Socket
from .context import SecureContext, create_secure_context
from .options import ServerSide, server_side, split_options
from .sni import SNIContexts
from .socket import TLSSocket

__all__ = ["Server", "TLSServer", "create_server"]


@with_camel_aliases
class TLSServer(NetServer):
    """Node's ``tls.Server`` (``gnet.tls.Server``): ``Server(options=None,
    secure_connection_listener=None, **kwargs)``.

    Options: every :func:`gnet.create_server` option, the
    :func:`gnet.tls.create_secure_context` options (``key``, ``cert``,
    ``ca``, ...) or ``secure_context``, and ``request_cert``,
    ``reject_unauthorized``, ``alpn_protocols`` (Node's ``ALPNProtocols``),
    ``sni_callback`` (Node's ``SNICallback``), ``handshake_timeout`` (ms,
    default 120000).  Events beyond :class:`gnet.Server`'s:
    ``'secureConnection'(tls_socket)``, ``'tlsClientError'(err, tls_socket)``.

    Differences from Node: at the handshake timeout the socket is
    destroyed, not only reported; the timeout is one deadline for the
    whole handshake rather than an idle timer; a client certificate
    rejected after the handshake (``request_cert`` with
    ``reject_unauthorized``) is reported as ``'tlsClientError'`` with the
    verification error, where Node reports a reset.
    """

    __slots__ = ("_tls_side", "_sni")

    #: Beyond Node: True, as on the TLS sockets (metrics label TLS servers with it).
    encrypted = True

    def __init__(
        self,
        options: Mapping[str, Any] | Callable[..., Any] | None = None,
        secure_connection_listener: Callable[..., Any] | None = None,
        **kwargs: Any,
    ) -> None:
        if callable(options) and secure_connection_listener is None:
            options, secure_connection_listener = None, options
        opts = split_options(options, kwargs, "create_server", server=True)
        side = server_side(opts)
        NetServer.__init__(self, opts)
        self._tls_side: ServerSide = side
        self._sni = SNIContexts(side.sni_callback, side.role)
        # First, as Node's: the user's 'connection' listeners see the plain socket after it.
        self.on("connection", self._take_over)
        if secure_connection_listener is not None:
            self.on("secureConnection", validate_callback(secure_connection_listener, "listener"))

    def __repr__(self) -> str:
        return f"<gnet.tls.Server {self.address()!r}>"

    def _take_over(self, raw: Socket) -> None:
        TLSSocket._accepted_by(self, raw)

    def add_context(self, hostname: str, context: SecureContext | Mapping[str, Any]) -> None:
        """Node's ``server.addContext(hostname, context)``: the context (a SecureContext
        or its options) for clients asking for ``hostname`` by SNI (``*`` wildcards
        as Node's; the last match wins)."""
        self._sni.add_context(hostname, context)

    def set_secure_context(self, options: Mapping[str, Any]) -> None:
        """Node's ``server.setSecureContext(options)``: new connections use a context
        made from ``options`` (the :func:`create_secure_context` options)."""
        if not isinstance(options, Mapping):
            raise make_error("ERR_INVALID_ARG_TYPE", "options", "of type object", options)
        context = create_secure_context(normalize_options(options))
        self._tls_side = dataclasses.replace(self._tls_side, context=context)


#: Node's name for it: ``tls.Server``.
Server = TLSServer


def create_server(
    options: Mapping[str, Any] | Callable[..., Any] | None = None,
    secure_connection_listener: Callable[..., Any] | None = None,
    **kwargs: Any,
) -> TLSServer:
    """Node's ``tls.createServer([options][, secureConnectionListener])``."""
    return TLSServer(options, secure_connection_listener, **kwargs)
