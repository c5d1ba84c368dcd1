"""Lifecycle events, published through ``zope.event``.

gnet's counterpart of Node's ``diagnostics_channel`` for net: each event is
a small frozen dataclass holding the objects involved, published to the
subscribers in ``zope.event.subscribers`` (subscribe by appending a callable
there).  With no subscriber, publishing costs one truth test of that list:
the core calls :func:`publish_new` with the event's class and fields, and
the event is only built when someone listens.  A subscriber that raises is
logged on the ``"gnet"`` logger and skipped: it never breaks the I/O path or
the other subscribers (``zope.event.notify`` alone would stop at the first
failure, so gnet walks the list itself).

Every event carries ``at``, the ``time.monotonic()`` of its publication, and
every event about one connection carries ``connection_id``, a per-process
number (from 1) that also appears in gnet's log records
(``gnet_connection_id``), so a log line, a metric exemplar and a trace can
be joined.  Each class's docstring says the moment it is published.

Example: count connections::

    import zope.event
    from gnet import diagnostics

    def count(event):
        if isinstance(event, diagnostics.ConnectionAccepted):
            stats['accepted'] += 1

    zope.event.subscribers.append(count)

Ready-made subscribers: :mod:`gnet.metrics.prometheus` and
:mod:`gnet.metrics.otel`.
"""

from __future__ import annotations

import errno as _errno
import itertools
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Final

import gevent
import zope.event

from ._aliases import add_module_aliases
from .actor import logger

if TYPE_CHECKING:
    from .server import Server
    from .socket import Socket

__all__ = [
    "publish",
    "publish_new",
    "subscribed",
    "next_connection_id",
    "connection_id",
    "error_code",
    "error_type",
    "outcome_of",
    "CLEAN",
    "ERROR",
    "TIMEOUT",
    "DROPPED",
    "DROP_MAX_CONNECTIONS",
    "DROP_BLOCK_LIST",
    "DROP_PROXY_REJECTED",
    "DROP_PROXY_UNTRUSTED",
    "DROP_PROXY_TIMEOUT",
    "ServerListening",
    "ListenFailed",
    "ServerClosed",
    "AcceptFailed",
    "ConnectionDropped",
    "ConnectionAccepted",
    "ConnectionClosed",
    "ClientConnectStarted",
    "ClientConnected",
    "ClientConnectFailed",
    "SocketTimeout",
    "BackpressureStarted",
    "BackpressureEnded",
    "TLSHandshakeStarted",
    "TLSHandshakeCompleted",
    "TLSHandshakeFailed",
    "ProxyHeaderReceived",
    "ProxyHeaderRejected",
    "ListenerException",
]

# How a connection ended (ConnectionClosed.outcome).
#: No error: both sides ended, or a destroy() without error.
CLEAN: Final = "clean"
#: Ended by an error; ConnectionClosed.error_code says which.
ERROR: Final = "error"
#: A helper's deadline, or a socket that ended without an error while idle
#: since its 'timeout' (the usual on('timeout', destroy) or end()).
TIMEOUT: Final = "timeout"
#: Refused by the server before 'connection' (ConnectionDropped too).
DROPPED: Final = "dropped"

# Why a server dropped a connection (ConnectionDropped.reason).
#: Server.max_connections reached (Node's 'drop').
DROP_MAX_CONNECTIONS: Final = "max_connections"
#: The peer is in the server's block_list.
DROP_BLOCK_LIST: Final = "block_list"
#: A bad or missing PROXY header.
DROP_PROXY_REJECTED: Final = "proxy_rejected"
#: A peer not in proxy_trusted sent a header.
DROP_PROXY_UNTRUSTED: Final = "proxy_untrusted"
#: No complete PROXY header within proxy_timeout.
DROP_PROXY_TIMEOUT: Final = "proxy_timeout"

# Errors that are a timeout of gnet's own, though they carry a code.
_TIMEOUT_CODES = frozenset({"ERR_TLS_HANDSHAKE_TIMEOUT"})


def publish(event: object) -> None:
    """Hand ``event`` to every ``zope.event`` subscriber; a failing one is logged and skipped."""
    subscribers = zope.event.subscribers
    if not subscribers:
        return
    for subscriber in list(subscribers):
        try:
            subscriber(event)
        except Exception:
            logger.exception("diagnostics subscriber %r failed on %r", subscriber, event)


def subscribed() -> bool:
    """Whether anyone subscribes: lets a publisher skip building an event's fields."""
    return bool(zope.event.subscribers)


def publish_new(event_type: Callable[..., object], *fields: Any) -> None:
    """``publish(event_type(*fields))``, the event built only when someone
    subscribes: gnet publishes events on every connection, and with no
    subscriber they must cost nothing but the check."""
    if zope.event.subscribers:
        publish(event_type(*fields))


# ----------------------------------------------------------------------
# connection ids and what the events derive from a socket

_ids = itertools.count(1)


def next_connection_id() -> int:
    """A new per-process connection id (1, 2, ...); a socket takes one when first asked."""
    return next(_ids)


def connection_id(sock: Socket) -> int:
    """``sock.connection_id``: the number that names ``sock`` in events and logs."""
    return sock.connection_id


def _known_connection_id(obj: object) -> int:
    """The connection id of ``obj`` if it is a socket, else 0 (a server)."""
    cid = getattr(obj, "connection_id", 0)
    return cid if isinstance(cid, int) else 0


def _since_start(sock: Socket, at: float) -> float | None:
    """Seconds from ``sock``'s accept or ``connect()`` to ``at``; None if it never started."""
    started = sock._started
    return None if started is None else at - started


def error_code(error: BaseException | None) -> str | None:
    """Node's ``code`` of ``error`` (``'ECONNRESET'``, ``'ERR_SOCKET_CLOSED'``),
    the errno name of a plain ``OSError``, or None."""
    if error is None:
        return None
    code = getattr(error, "code", None)
    if isinstance(code, str) and code:
        return code
    if isinstance(error, OSError) and error.errno is not None:
        return _errno.errorcode.get(error.errno)
    return None


def error_type(error: BaseException) -> str:
    """A short, low-cardinality name for ``error`` (OpenTelemetry's ``error.type``):
    its code when it has one, else its class (module-qualified unless built in)."""
    code = error_code(error)
    if code is not None:
        return code
    cls = type(error)
    module = cls.__module__
    return cls.__qualname__ if module == "builtins" else f"{module}.{cls.__qualname__}"


def outcome_of(error: BaseException | None) -> str:
    """How a connection that ended with ``error`` ended: CLEAN, TIMEOUT or ERROR."""
    if error is None:
        return CLEAN
    code = getattr(error, "code", None)
    if isinstance(error, gevent.Timeout) or code in _TIMEOUT_CODES:
        return TIMEOUT
    if isinstance(error, TimeoutError) and not code:
        return TIMEOUT  # a helper's deadline; an ETIMEDOUT from the kernel has a code
    return ERROR


def _now() -> float:
    return time.monotonic()


def _set(event: object, name: str, value: Any) -> None:
    object.__setattr__(event, name, value)  # filling in a frozen event's derived field


# ----------------------------------------------------------------------
# servers


@dataclass(frozen=True, slots=True)
class ServerListening:
    """A server is listening (Node: ``net.server.listen`` ``asyncEnd``).

    Published in the server's greenlet just before ``'listening'``;
    ``address`` is ``server.address()`` at that moment.
    """

    server: Server
    address: Any
    at: float = field(default_factory=_now)


@dataclass(frozen=True, slots=True)
class ListenFailed:
    """``listen()`` failed: bind, lookup or handle error (Node: ``net.server.listen`` ``error``).

    Published in the server's greenlet just before the ``'error'`` event;
    ``address`` is what was asked for (``{'host', 'port'}``, a path, or
    None for a handle).
    """

    server: Server
    error: BaseException
    address: Any = None
    at: float = field(default_factory=_now)


@dataclass(frozen=True, slots=True)
class ServerClosed:
    """A server closed: published just before its ``'close'`` (after the last connection ended)."""

    server: Server
    at: float = field(default_factory=_now)


@dataclass(frozen=True, slots=True)
class AcceptFailed:
    """``accept()`` failed (EMFILE, ENFILE, ENOBUFS, ...); the server waits
    ``backoff`` seconds before accepting again.

    Published in the server's greenlet, before the warning is logged and
    before ``'error'`` reaches the server's listeners.
    """

    server: Server
    error: BaseException
    backoff: float
    at: float = field(default_factory=_now)


@dataclass(frozen=True, slots=True)
class ConnectionDropped:
    """The server refused a connection it had accepted from the kernel.

    ``reason`` is one of the ``DROP_*`` names.  For ``max_connections`` and
    ``block_list`` no :class:`~gnet.socket.Socket` was made (``socket`` is
    None) and ``data`` is what Node's ``'drop'`` event carries (local and
    remote address, port and family; None for UNIX sockets).  For a PROXY
    rejection ``socket`` is the connection being closed and ``error`` says
    why; a :class:`ConnectionClosed` with outcome ``dropped`` follows.
    Published in the server's greenlet just before ``'drop'`` (a block-list
    drop has no ``'drop'`` in Node: published all the same).
    """

    server: Server
    reason: str
    data: dict[str, Any] | None = None
    socket: Socket | None = None
    error: BaseException | None = None
    connection_id: int = 0
    at: float = field(default_factory=_now)

    def __post_init__(self) -> None:
        if not self.connection_id:
            sock = self.socket
            _set(self, "connection_id", sock.connection_id if sock is not None else next(_ids))


# ----------------------------------------------------------------------
# accepted connections


@dataclass(frozen=True, slots=True)
class ConnectionAccepted:
    """A server accepted a connection (Node: ``net.server.socket``).

    Published in the connection's greenlet just before the server's
    ``'connection'`` (after the PROXY header, when the server expects one).
    """

    server: Server
    socket: Socket
    connection_id: int = 0
    at: float = field(default_factory=_now)

    def __post_init__(self) -> None:
        if not self.connection_id:
            _set(self, "connection_id", self.socket.connection_id)


@dataclass(frozen=True, slots=True)
class ConnectionClosed:
    """A socket closed, server or client side: published just before its ``'close'``.

    ``bytes_read``/``bytes_written`` are the socket's counters;
    ``error`` is the error it ended with (also ``socket.errored``);
    ``outcome`` is :data:`CLEAN`, :data:`ERROR`, :data:`TIMEOUT` or
    :data:`DROPPED`, and ``error_code`` Node's code of the error (None when
    clean or when the error has none); ``duration`` is the seconds from
    the accept (or from ``connect()``) to the close, None for a socket
    that never connected.
    """

    socket: Socket
    bytes_read: int
    bytes_written: int
    error: BaseException | None
    outcome: str = ""
    error_code: str | None = None
    duration: float | None = None
    connection_id: int = 0
    at: float = field(default_factory=_now)

    def __post_init__(self) -> None:
        if not self.connection_id:
            _set(self, "connection_id", self.socket.connection_id)
        if not self.outcome:
            _set(self, "outcome", outcome_of(self.error))
        if self.error_code is None and self.error is not None:
            _set(self, "error_code", error_code(self.error))
        if self.duration is None:
            _set(self, "duration", _since_start(self.socket, self.at))


# ----------------------------------------------------------------------
# client connections


@dataclass(frozen=True, slots=True)
class ClientConnectStarted:
    """A client socket started connecting (Node: ``net.client.socket``).

    Published in the caller of ``connect()``, before the lookup; ``options``
    are the normalised connect options (``host``/``port`` or ``path``).
    """

    socket: Socket
    options: dict[str, Any]
    connection_id: int = 0
    at: float = field(default_factory=_now)

    def __post_init__(self) -> None:
        if not self.connection_id:
            _set(self, "connection_id", self.socket.connection_id)


@dataclass(frozen=True, slots=True)
class ClientConnected:
    """A client socket connected: published just before ``'connect'``;
    ``duration`` is the seconds since ``connect()`` (lookup included)."""

    socket: Socket
    duration: float | None = None
    connection_id: int = 0
    at: float = field(default_factory=_now)

    def __post_init__(self) -> None:
        if not self.connection_id:
            _set(self, "connection_id", self.socket.connection_id)
        if self.duration is None:
            _set(self, "duration", _since_start(self.socket, self.at))


@dataclass(frozen=True, slots=True)
class ClientConnectFailed:
    """A client connect failed with ``error``: published just before ``'error'``."""

    socket: Socket
    error: BaseException
    duration: float | None = None
    connection_id: int = 0
    at: float = field(default_factory=_now)

    def __post_init__(self) -> None:
        if not self.connection_id:
            _set(self, "connection_id", self.socket.connection_id)
        if self.duration is None:
            _set(self, "duration", _since_start(self.socket, self.at))


# ----------------------------------------------------------------------
# the life of an open connection


@dataclass(frozen=True, slots=True)
class SocketTimeout:
    """The idle timer of ``set_timeout`` fired: published just before ``'timeout'``.

    ``timeout`` is the idle time in milliseconds.  (A helper's own
    ``timeout=`` raises ``TimeoutError`` instead; if that ends the
    connection, :class:`ConnectionClosed` says ``timeout``.)
    """

    socket: Socket
    timeout: float
    connection_id: int = 0
    at: float = field(default_factory=_now)

    def __post_init__(self) -> None:
        if not self.connection_id:
            _set(self, "connection_id", self.socket.connection_id)


@dataclass(frozen=True, slots=True)
class BackpressureStarted:
    """``write()`` returned False: ``writable_length`` reached the high-water mark.

    Published once per episode, by the ``write()`` that first returns
    False, in the writer's greenlet; ``writable_length`` includes that write.
    """

    socket: Socket
    writable_length: int
    connection_id: int = 0
    at: float = field(default_factory=_now)

    def __post_init__(self) -> None:
        if not self.connection_id:
            _set(self, "connection_id", self.socket.connection_id)


@dataclass(frozen=True, slots=True)
class BackpressureEnded:
    """The write queue drained after a :class:`BackpressureStarted`:
    published just before ``'drain'``; ``duration`` is the seconds since it started."""

    socket: Socket
    duration: float
    connection_id: int = 0
    at: float = field(default_factory=_now)

    def __post_init__(self) -> None:
        if not self.connection_id:
            _set(self, "connection_id", self.socket.connection_id)


# ----------------------------------------------------------------------
# TLS
#
# Published by gnet.tls, as the core publishes the rest: in the connection's
# greenlet, never in the hub, and built only when someone subscribes.  The
# handshake's start time is kept only then too:
#
#     started = None
#     if diagnostics.subscribed():
#         event = TLSHandshakeStarted(sock, server_side)
#         started = event.at
#         diagnostics.publish(event)
#     ... handshake ...
#     if started is not None:
#         diagnostics.publish_new(TLSHandshakeCompleted, sock, server_side,
#                                 time.monotonic() - started, version, cipher, alpn)
#
# (TLSHandshakeFailed likewise, before 'tlsClientError' or the client's
# 'error'.)  The exporters pair Started with Completed/Failed for their
# in-progress gauges, so a Started is always followed by one of the two.
# A handshake timeout's error has the code ERR_TLS_HANDSHAKE_TIMEOUT, which
# ConnectionClosed reports as TIMEOUT and gnet.logs as a routine outcome, as
# it does ssl.SSLError (TLSError).


@dataclass(frozen=True, slots=True)
class TLSHandshakeStarted:
    """A TLS handshake starts on ``socket`` (``server_side``: accepted by a TLS server,
    or ``start_tls(server_side=True)``), in the connection's greenlet."""

    socket: Socket
    server_side: bool
    connection_id: int = 0
    at: float = field(default_factory=_now)

    def __post_init__(self) -> None:
        if not self.connection_id:
            _set(self, "connection_id", self.socket.connection_id)


@dataclass(frozen=True, slots=True)
class TLSHandshakeCompleted:
    """A TLS handshake succeeded: published just before ``'secureConnection'``
    (server) or ``'secureConnect'``/``'secure'`` (client).

    ``protocol`` is ``get_protocol()`` (``'TLSv1.3'``), ``cipher`` the
    cipher's OpenSSL name, ``alpn_protocol`` the negotiated protocol or None.
    """

    socket: Socket
    server_side: bool
    duration: float
    protocol: str | None = None
    cipher: str | None = None
    alpn_protocol: str | None = None
    connection_id: int = 0
    at: float = field(default_factory=_now)

    def __post_init__(self) -> None:
        if not self.connection_id:
            _set(self, "connection_id", self.socket.connection_id)


@dataclass(frozen=True, slots=True)
class TLSHandshakeFailed:
    """A TLS handshake failed (bad certificate, no common ALPN protocol,
    handshake timeout, reset): published before ``'tlsClientError'`` or the
    client's ``'error'``; ``code`` is Node's code of ``error``."""

    socket: Socket
    server_side: bool
    error: BaseException
    duration: float
    code: str | None = None
    connection_id: int = 0
    at: float = field(default_factory=_now)

    def __post_init__(self) -> None:
        if not self.connection_id:
            _set(self, "connection_id", self.socket.connection_id)
        if self.code is None:
            _set(self, "code", error_code(self.error))


# ----------------------------------------------------------------------
# PROXY protocol
#
# Published by the server's PROXY header check, in the connection's greenlet
# before 'connection'.  A rejected connection: ProxyHeaderRejected, then
# ConnectionDropped(server, DROP_PROXY_*, socket=sock, error=...) and
# gnet.logs.connection_dropped(...), then the socket is destroyed with
# ``sock._outcome = DROPPED`` set first, so its ConnectionClosed says dropped.


@dataclass(frozen=True, slots=True)
class ProxyHeaderReceived:
    """A valid PROXY header was read from a trusted peer, before ``'connection'``.

    ``version`` is ``'v1'`` or ``'v2'``; ``header`` the fields the socket
    exposes as ``sock.proxy`` (source and destination, TLVs).
    """

    socket: Socket
    version: str
    header: dict[str, Any]
    connection_id: int = 0
    at: float = field(default_factory=_now)

    def __post_init__(self) -> None:
        if not self.connection_id:
            _set(self, "connection_id", self.socket.connection_id)


@dataclass(frozen=True, slots=True)
class ProxyHeaderRejected:
    """A PROXY header was bad, missing, too slow or from an untrusted peer.

    ``reason`` is one of the ``DROP_PROXY_*`` names, ``error`` the parse or
    timeout error.  A :class:`ConnectionDropped` with the same reason follows.
    """

    socket: Socket
    reason: str
    error: BaseException | None = None
    connection_id: int = 0
    at: float = field(default_factory=_now)

    def __post_init__(self) -> None:
        if not self.connection_id:
            _set(self, "connection_id", self.socket.connection_id)


# ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ListenerException:
    """An exception escaped a listener or handler of ``emitter``; it was logged.

    Published after the log record, before the socket is destroyed with
    the error.  ``connection_id`` is the socket's (0 for a server).
    """

    emitter: Any
    error: BaseException
    connection_id: int = 0
    at: float = field(default_factory=_now)

    def __post_init__(self) -> None:
        if not self.connection_id:
            _set(self, "connection_id", _known_connection_id(self.emitter))


__all__ += add_module_aliases(globals(), __all__)
