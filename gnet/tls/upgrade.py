"""STARTTLS, straight-line: :func:`start_tls` upgrades a plain socket's connection
and blocks until the handshake is done (``gnet.Socket.start_tls`` calls it).

The natural STARTTLS of SMTP, IMAP or PostgreSQL handlers::

    def handle(sock):
        with sock:
            sock.sendall(b'220 ready\\r\\n')
            if sock.readline() == b'STARTTLS\\r\\n':
                sock.sendall(b'220 go ahead\\r\\n')
                tls = sock.start_tls(context, server_side=True)
                ...   # tls.readline(), tls.sendall() from here on

Bytes the plain socket had already read (a client that sent its
ClientHello in the same packet as its command) are the handshake's first
bytes; what it had queued to write goes out before the first TLS byte.
The TLS socket runs in the plain socket's greenlet.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .._aliases import normalize_options
from ..errors import make_error
from ..socket import Socket
from ..state import Phase
from .context import SecureContext
from .socket import TLSSocket

__all__ = ["start_tls"]


def start_tls(
    sock: Socket,
    options_or_context: Any = None,
    *,
    server_side: bool = False,
    server_hostname: str | None = None,
    timeout: float | None = None,
) -> TLSSocket:
    """Upgrade ``sock``'s connection to TLS; block until the handshake is done.

    ``options_or_context``: the options of :func:`gnet.tls.connect` /
    :class:`TLSSocket` (a dict), or a :class:`SecureContext`, or a Python
    ``ssl.SSLContext`` (used as it is: its verify mode decides in the
    handshake).  ``server_side`` takes the server's part;
    ``server_hostname`` is the client's SNI name and the name its
    certificate must carry.  Returns the new :class:`TLSSocket` (``sock``
    must not be used afterwards); raises the handshake's error (Node's
    codes), ``TimeoutError`` (``ERR_TLS_HANDSHAKE_TIMEOUT``) after
    ``timeout`` seconds.
    """
    import ssl

    if isinstance(options_or_context, (SecureContext, ssl.SSLContext)):
        opts: dict[str, Any] = {"secure_context": options_or_context}
    elif options_or_context is None:
        opts = {}
    elif isinstance(options_or_context, Mapping):
        opts = normalize_options(options_or_context)
    else:
        raise make_error(
            "ERR_INVALID_ARG_TYPE", "options_or_context",
            "a dict, a gnet.tls.SecureContext or an ssl.SSLContext", options_or_context,
        )  # fmt: skip
    if server_side:
        opts["is_server"] = True
    if server_hostname is not None:
        opts["servername"] = server_hostname
    if not isinstance(sock, Socket) or isinstance(sock, TLSSocket):
        raise make_error("ERR_INVALID_ARG_TYPE", "socket", "an instance of gnet.Socket", sock)
    if sock._flowing:
        raise make_error("ERR_GNET_FLOWING", "start_tls")
    if sock._reader is not None:
        raise make_error("ERR_GNET_CONCURRENT_IO", "a read")
    if sock._phase is not Phase.OPEN:
        raise sock._closed_error()
    tls = TLSSocket(None, opts)
    tls._straight = True
    if timeout is not None:
        tls._hs_timeout = max(0.001, float(timeout) * 1000.0)
    tls._upgrade(sock)
    if tls._in_actor():
        while tls._phase is Phase.CONNECTING:
            tls._do_connect()
    else:
        while tls._phase is Phase.CONNECTING:
            tls._wait()
    if tls._phase is not Phase.OPEN:
        raise tls._errored or make_error("ERR_SOCKET_CLOSED")
    return tls
