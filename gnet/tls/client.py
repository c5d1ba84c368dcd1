"""Node's ``tls.connect``: a TCP (or UNIX) connection, then a TLS handshake over it;
or, with ``socket=``, a TLS handshake over a connection a plain socket has.

Forms, as Node's: ``connect(options[, callback])``,
``connect(port[, host][, options][, callback])``,
``connect(path[, options][, callback])``; an options dict after the
port/host wins over them, keyword arguments are merged in.  ``callback``
is a ``'secureConnect'`` listener.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .._aliases import normalize_options
from ..errors import make_error
from ..options import connect_options, is_pipe_name, split_callback, validate_callback
from .options import TLS_KEYS, split_options
from .socket import TLSSocket

__all__ = ["connect"]


def _forms(args: tuple[Any, ...]) -> dict[str, Any]:
    """Node's normalizeConnectArgs for tls.connect: positional port/host/path and an options dict."""
    rest = list(args)
    options: dict[str, Any] = {}
    if rest and isinstance(rest[0], dict):
        options = normalize_options(rest.pop(0))
    elif rest:
        first = rest.pop(0)
        options = {"path": first} if is_pipe_name(first) else {"port": first}
        if rest and not isinstance(rest[0], dict):
            host = rest.pop(0)
            if host is not None and "path" not in options:
                options["host"] = host
        if rest and isinstance(rest[0], dict):
            options.update(normalize_options(rest.pop(0)))
    if rest:
        raise make_error("ERR_INVALID_ARG_VALUE", "args", rest, "is not a valid argument list")
    return options


def connect(*args: Any, **kwargs: Any) -> TLSSocket:
    """Node's ``tls.connect(...)``: a new :class:`TLSSocket`, connecting.

    Options: every :func:`gnet.connect` option, the
    :func:`gnet.tls.create_secure_context` options (``ca``, ``key``,
    ``cert``, ...) or ``secure_context``, and ``servername`` (the SNI name;
    default: the host, unless it is an IP address, where Node sends none),
    ``reject_unauthorized`` (default True), ``check_server_identity``,
    ``alpn_protocols`` (Node's ``ALPNProtocols``), ``session`` (from
    :meth:`TLSSocket.get_session`), ``socket`` (a connected
    :class:`gnet.Socket` to upgrade: STARTTLS).  ``'secureConnect'``
    follows, or ``'error'`` (a rejected certificate is an
    :class:`ssl.SSLCertVerificationError` with Node's code).
    """
    callback: Callable[..., Any] | None = kwargs.pop("callback", None)
    args, callback = split_callback(args, callback)
    opts = split_options(_forms(args), kwargs, "connect", server=False)
    socket = opts.pop("socket", None)
    tls = TLSSocket()
    tls._configure(opts)
    net = {key: value for key, value in opts.items() if key not in TLS_KEYS}
    if callback is not None:
        tls.once("secureConnect", validate_callback(callback))
    if socket is not None:
        tls._peer_host = net.get("host") if isinstance(net.get("host"), str) else None
        tls._upgrade(socket)
        return tls
    options = connect_options(net)
    if options.allow_half_open:
        tls.allow_half_open = True
    tls._rhwm = tls._whwm = options.high_water_mark
    tls._peer_host = options.host if options.path is None else None
    tls.connect(options)
    return tls
