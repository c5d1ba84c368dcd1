"""Node's ``net.Server`` on gevent: listening, accepting, closing.

The hub accepts connections on the real non-blocking listening socket
(a watcher callback: accepting runs no user code, so it pays no greenlet
switch), and the server's actor greenlet (:mod:`gnet.actor`) delivers the
server's own events (``'listening'``, ``'error'``, ``'drop'``, ``'close'``).
Each accepted connection gets a :class:`~gnet.socket.Socket` with its own
greenlet, whose first act is to emit the server's ``'connection'`` (running
the connection listener in that greenlet), and which then carries that
socket's events.  So a slow or blocking listener never delays accepting.

Binding happens inside ``listen()`` (``address()`` works at once) unless a
host name must be resolved first; either way ``'listening'`` and bind errors
arrive later as events.  Accept errors such as EMFILE back off and retry.
"""

from __future__ import annotations

import os
import socket as _pysocket
from collections.abc import Callable
from time import monotonic as _monotonic
from typing import Any

import gevent
import gevent.event
import gevent.socket

from . import diagnostics, drain, logs
from ._aliases import with_camel_aliases
from .actor import Actor, logger
from .connect import resolve
from .errors import from_oserror, make_error
from .ip import is_ip
from .listen import adopt_handle, bind_tcp, bind_unix
from .options import (
    ListenOptions,
    node_callback,
    parse_listen_args,
    parse_server_options,
    validate_callback,
    validate_max_connections,
    validate_msecs,
)
from .socket import Socket
from .transport import SocketTransport

__all__ = ["Server", "create_server"]

_ACCEPT_BATCH = 64  # accepts per hub round before letting other watchers run
_BACKOFF_MIN, _BACKOFF_MAX = 0.01, 1.0  # seconds, for EMFILE and friends


@with_camel_aliases
class Server(Actor):
    """Node's ``net.Server``.

    ``Server(options=None, connection_listener=None)`` is
    ``create_server``.  Beyond Node: :meth:`shutdown` (graceful, blocking)
    and the context manager (closes on exit).
    """

    __slots__ = (
        "_options", "_lsock", "_lwatch", "_address", "_unlink_path",
        "_listen_id", "_max_connections", "_pause_timer", "_backoff", "_closing",
        "_sockets", "_drain", "_ended_hook", "_peer_host",
    )  # fmt: skip

    def __init__(
        self,
        options: dict[str, Any] | Callable[..., Any] | None = None,
        connection_listener: Callable[..., Any] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__()
        if callable(options) and connection_listener is None:
            options, connection_listener = None, options
        self._options = parse_server_options(options, kwargs)
        self._lsock: Any = None
        self._lwatch: Any = None
        self._address: Any = None
        self._unlink_path: str | None = None
        self._listen_id = 0
        self._max_connections: float | None = None
        self._pause_timer: Any = None  # pause() or an accept error's back-off
        self._backoff = 0.0
        self._closing = False
        self._sockets: set[Socket] = set()
        # Made once: a bound method made per accepted connection would keep
        # 64 bytes alive in each idle one.
        self._ended_hook = self._connection_ended
        self._peer_host: str | None = None  # the last accepted peer's host, shared by the next ones
        self._drain: drain.Drain | None = None  # a shutdown() in progress (gnet.drain)
        if connection_listener is not None:
            self.on("connection", validate_callback(connection_listener, "connectionListener"))

    def __repr__(self) -> str:
        return f"<gnet.Server {self.address()!r}>"

    def _on_step_error(self, exc: BaseException) -> None:
        super()._on_step_error(exc)  # logged with its traceback
        diagnostics.publish_new(diagnostics.ListenerException, self, exc)

    # ------------------------------------------------------------------
    # listen

    def listen(self, *args: Any, **kwargs: Any) -> Server:
        """Node's ``server.listen(...)``; returns at once, ``'listening'`` follows.

        Forms: ``(port=0, host=None, backlog=511, callback=None)``, ``(path,
        backlog, callback)``, ``(handle, backlog, callback)``, ``(options,
        callback)``.  Bad arguments raise; bind errors are ``'error'``
        events.
        """
        options, callback = parse_listen_args(args, kwargs)
        if self._lsock is not None:
            raise make_error("ERR_SERVER_ALREADY_LISTEN")
        if callback is not None:
            self.once("listening", callback)
        self._listen_id += 1
        self._closing = False
        if options.kind == "tcp" and options.host is not None and not is_ip(options.host):
            self._hold_ref(True)  # a pending lookup keeps run() waiting, as in Node
            gevent.spawn(self._resolve_and_bind, self._listen_id, options.host, options)
            return self
        try:
            if options.kind == "handle":
                sock = adopt_handle(options)
            elif options.kind == "tcp":
                sock = bind_tcp(options.host, options)
            else:
                assert options.path is not None
                sock = bind_unix(options.path, options)
                if not options.path.startswith("\0"):
                    # The kernel's name ends at a NUL (Node's too: a C string).
                    self._unlink_path = options.path.partition("\0")[0]
        except OSError as err:
            self._fail_listen(err, options)
            return self
        self._start(sock)
        return self

    def _resolve_and_bind(self, listen_id: int, host: str, options: ListenOptions) -> None:
        try:
            address = resolve(host)[0][0]
        except OSError as exc:  # Node-shaped: getaddrinfo ENOTFOUND, EINVAL (IDNA), ...
            if listen_id == self._listen_id and not self._closing:
                self._fail_listen(exc, options)
            return
        if listen_id == self._listen_id and not self._closing and self._lsock is None:
            try:
                sock = bind_tcp(address, options)
            except OSError as err:
                self._fail_listen(err, options)
                return
            self._start(sock)

    def _start(self, sock: Any) -> None:
        self._hold_ref(True)
        self._lsock = sock
        self._lwatch = self._hub.loop.io(sock.fileno(), 1)
        self._address = self.address()
        self._defer(self._emit_listening, self._listen_id)
        # 'listening' still comes first: the server's greenlet is due now, a
        # connection's only after the hub has polled and accepted it.
        self._start_accepting()

    def _emit_listening(self, listen_id: int) -> None:
        if listen_id != self._listen_id or self._lsock is None:
            return
        diagnostics.publish_new(diagnostics.ServerListening, self, self.address())
        self.emit("listening")

    def _fail_listen(self, err: BaseException, options: ListenOptions) -> None:
        self._hold_ref(False)
        self._defer(self._emit_listen_error, err, options)

    def _emit_listen_error(self, err: BaseException, options: ListenOptions) -> None:
        if diagnostics.subscribed():
            asked = {"host": options.host, "port": options.port} if options.kind == "tcp" else options.path
            diagnostics.publish(diagnostics.ListenFailed(self, err, asked))
        self.emit("error", err)

    def fileno(self) -> int:
        """The listening descriptor, or -1 (beyond Node: for select() and handle passing)."""
        return self._lsock.fileno() if self._lsock is not None else -1

    @property
    def listening(self) -> bool:
        return self._lsock is not None

    def address(self) -> dict[str, Any] | str | None:
        """``{'address', 'family', 'port'}`` for TCP, the path for UNIX, None when not listening."""
        sock = self._lsock
        if sock is None:
            return None
        if sock.family == _pysocket.AF_UNIX:
            name = sock.getsockname()
            return name.decode() if isinstance(name, bytes) else name
        addr = sock.getsockname()
        family = "IPv6" if sock.family == _pysocket.AF_INET6 else "IPv4"
        return {"address": addr[0], "family": family, "port": addr[1]}

    # ------------------------------------------------------------------
    # accepting

    def _start_accepting(self) -> None:
        """Watch the listening socket, unless it is closed or accepting is paused."""
        if self._lwatch is not None and self._pause_timer is None:
            self._lwatch.start(self._accept_ready)

    def _accept_ready(self) -> None:
        """The listening socket's watcher callback, run in the hub: accept.

        Accepting runs no user code (a connection's events start in its own
        greenlet, the server's in the server's), so it needs no switch into
        the server's greenlet: the hub accepts a batch and moves on.  The
        watcher is level-triggered, so what is left is accepted next round.
        """
        lsock = self._lsock
        # One start time for the batch: the moment the hub found these
        # connections waiting.  Shared, the float costs idle connections
        # nothing each, and the batch one clock read.
        now = _monotonic()
        for _ in range(_ACCEPT_BATCH):
            if self._lsock is not lsock or self._pause_timer is not None:
                return
            try:
                fd, addr = lsock._accept()
            except BlockingIOError:
                return
            except InterruptedError:
                continue
            except OSError as exc:
                self._accept_failed(exc)
                return
            self._backoff = 0.0
            try:
                self._on_accept(fd, addr, now)
            except Exception as exc:  # a bug here must cost one connection, not the server
                logger.error("accepting a connection on %r failed", self, exc_info=exc)

    def _accept_failed(self, exc: OSError) -> None:
        # Node emits 'error' (and crashes without a listener); a gnet server
        # keeps serving: it backs off, logs, and tells 'error' listeners.
        # Every accept error backs off: EMFILE and friends persist until
        # descriptors free up, and retrying at once would spin the hub.
        self._backoff = min(_BACKOFF_MAX, max(_BACKOFF_MIN, self._backoff * 2))
        self._pause_accepting(self._backoff)
        self._defer(self._report_accept_error, from_oserror(exc, "accept"), self._backoff)

    def _report_accept_error(self, err: BaseException, backoff: float) -> None:
        diagnostics.publish_new(diagnostics.AcceptFailed, self, err, backoff)
        logs.accept_failed(self, err, backoff)  # WARNING, rate-limited
        if self.listener_count("error"):
            self.emit("error", err)

    def _pause_accepting(self, seconds: float) -> None:
        if self._lwatch is not None:
            self._lwatch.stop()
        if self._pause_timer is not None:
            self._pause_timer.close()
        self._pause_timer = timer = self._hub.loop.timer(seconds)
        timer.start(self._resume_accepting)

    def _resume_accepting(self) -> None:
        if self._pause_timer is not None:
            self._pause_timer.close()
            self._pause_timer = None
        self._start_accepting()

    def _on_accept(self, fd: int, addr: Any, started: float | None = None) -> None:
        lsock = self._lsock
        try:
            sock = SocketTransport.accepted(lsock.family, fd)
        except OSError:
            os.close(fd)  # not a socket object yet: nobody else would close it
            return
        block_list = self._options.block_list
        # Behind a PROXY-protocol balancer the block list is for the real
        # client, checked once its header is read (gnet.proxy_io).
        if block_list is not None and isinstance(addr, tuple) and self._options.proxy_protocol is None:
            family = "ipv6" if lsock.family == _pysocket.AF_INET6 else "ipv4"
            if block_list.check(addr[0], family):
                # Node: closed at once, no 'connection', no 'drop'; gnet tells who watches.
                if diagnostics.subscribed() or logs.default_log.logs_drops():
                    self._defer(self._report_drop, diagnostics.DROP_BLOCK_LIST, _drop_data(sock))
                sock.close()
                return
        limit = self._max_connections
        if limit is not None and len(self._sockets) >= limit:
            data = _drop_data(sock)
            sock.close()
            self._defer(self._report_drop, diagnostics.DROP_MAX_CONNECTIONS, data)
            return
        if type(addr) is tuple:
            # Connections from one host (a balancer, a proxy, loopback) share
            # its string: each idle one keeps accept()'s address, and the
            # host is most of its size (58 bytes for an IPv4 address).
            if addr[0] == self._peer_host:
                addr = (self._peer_host, *addr[1:])
            else:
                self._peer_host = addr[0]
        self._sockets.add(Socket._accepted(self, sock, self._options, self._ended_hook, addr, started))

    def _report_drop(self, reason: str, data: dict[str, Any] | None) -> None:
        """In the server's greenlet: a dropped connection's event, log line and ``'drop'``."""
        diagnostics.publish_new(diagnostics.ConnectionDropped, self, reason, data)
        logs.connection_dropped(self, reason, data)  # INFO, rate-limited
        if reason == diagnostics.DROP_MAX_CONNECTIONS:
            self.emit("drop", data)

    def _connection_ended(self, conn: Socket) -> None:
        """Each accepted socket's destroy hook: one slot free; maybe the server's 'close'."""
        if conn in self._sockets:
            self._sockets.discard(conn)
            self._emit_close_if_drained()

    # ------------------------------------------------------------------
    # pause, limits, counts

    @property
    def max_connections(self) -> float | None:
        """Node's ``maxConnections``: over it a new connection is closed and
        ``'drop'`` fires.  None (the default) means no limit.

        Checked when set (Node takes any value, and a bad one then decides
        each connection's fate): a non-number raises ``ERR_INVALID_ARG_TYPE``,
        NaN or a negative number ``ERR_OUT_OF_RANGE``.
        """
        return self._max_connections

    @max_connections.setter
    def max_connections(self, value: float | None) -> None:
        self._max_connections = validate_max_connections(value)

    def pause(self, msecs: float = 1000) -> Server:
        """Stop accepting for ``msecs``, then resume; pending connections wait in the backlog."""
        msecs = validate_msecs(msecs)
        self._pause_accepting(msecs / 1000.0)
        return self

    def get_connections(self, callback: Callable[..., Any]) -> Server:
        """Node's ``getConnections(cb)``: ``cb(None, count)``, always later."""
        validate_callback(callback)
        self._defer(callback, None, len(self._sockets))
        return self

    @property
    def connections(self) -> int:
        """The live connection count (Node's removed ``server.connections``)."""
        return len(self._sockets)

    def ref(self) -> Server:
        self._refd = True
        self._hold_ref(self._lsock is not None)
        return self

    def unref(self) -> Server:
        self._hold_ref(False)
        self._refd = False
        return self

    # ------------------------------------------------------------------
    # closing

    def close(self, callback: Callable[..., Any] | None = None) -> Server:
        """Stop accepting; ``'close'`` follows once every connection has ended.

        ``callback`` becomes a ``'close'`` listener; it gets
        ``ERR_SERVER_NOT_RUNNING`` when the server was not listening.
        """
        if callable(callback):
            cb = node_callback(callback)
            err = None if self._lsock is not None else make_error("ERR_SERVER_NOT_RUNNING")
            self.once("close", lambda: cb(err))
        self._closing = True
        self._listen_id += 1  # a pending host lookup must not bind any more
        self._accept_completed()
        self._stop_listening()
        self._hold_ref(False)  # also the ref of a lookup that will now never bind
        self._emit_close_if_drained()
        return self

    def _accept_completed(self) -> None:
        """Accept the connections the kernel has already completed, before closing.

        Closing the listening socket would reset them, yet their clients have
        seen 'connect'.  Node's loop accepts them before it runs the code that
        calls close() (a client of the same process closing the server in its
        'connect' listener), and serves them to the end; so does gnet.
        """
        lsock = self._lsock
        if lsock is None or self._pause_timer is not None:
            return
        for _ in range(_ACCEPT_BATCH * 64):  # at most a full backlog (somaxconn: 4096)
            try:
                fd, addr = lsock._accept()
            except InterruptedError:
                continue
            except OSError:  # none left (EAGAIN), or none possible (EMFILE): stop
                return
            try:
                self._on_accept(fd, addr)
            except Exception as exc:
                logger.error("accepting a connection on %r failed", self, exc_info=exc)

    def _stop_listening(self) -> None:
        lsock = self._lsock
        if lsock is None:
            return
        self._lsock = None
        if self._lwatch is not None:
            self._lwatch.stop()
            self._lwatch.close()
            self._lwatch = None
        if self._pause_timer is not None:
            self._pause_timer.close()
            self._pause_timer = None
        lsock.close()
        if self._unlink_path is not None:
            try:
                os.unlink(self._unlink_path)
            except OSError:
                pass
            self._unlink_path = None
        self._hold_ref(False)
        self._wake()

    def _emit_close_if_drained(self) -> None:
        if self._closing and self._lsock is None and not self._sockets:
            self._defer(self._emit_close)

    def _emit_close(self) -> None:
        diagnostics.publish_new(diagnostics.ServerClosed, self)
        self.emit("close")

    def shutdown(
        self, timeout: float | None = None, *, idle_after: float | None = drain.DEFAULT_IDLE_AFTER
    ) -> int:
        """Graceful stop (beyond Node, blocking), as HAProxy's soft-stop does it.

        Stops accepting at once, sets :attr:`shutting_down` and emits
        ``'shutdown'``; lets each connection finish its exchange, ending
        (``end()``) only those idle for ``idle_after`` seconds (None: none);
        destroys what is left ``timeout`` seconds after the call; returns once
        the server has emitted ``'close'``, with the number of connections the
        deadline destroyed.  :mod:`gnet.drain` says exactly what "idle"
        means.  Timeouts in seconds.
        """
        for name, value in (("timeout", timeout), ("idle_after", idle_after)):
            if value is not None:
                validate_msecs(value, name)  # a non-negative finite number, whatever the unit
        return drain.shutdown(self, timeout, idle_after)

    @property
    def shutting_down(self) -> bool:
        """True from :meth:`shutdown` until the server's ``'close'`` (beyond Node).

        A straight-line handler that serves requests in a loop checks it
        between requests; a Node-style one listens for the server's
        ``'shutdown'`` event.
        """
        return self._drain is not None

    def __enter__(self) -> Server:
        return self

    def __exit__(self, *exc: Any) -> None:
        if self._lsock is not None:
            self.close()


def _drop_data(sock: Any) -> dict[str, Any] | None:
    if sock.family == _pysocket.AF_UNIX:
        return None
    try:
        local, remote = sock.getsockname(), sock.getpeername()
    except OSError:
        return None
    family = "IPv6" if sock.family == _pysocket.AF_INET6 else "IPv4"
    return {
        "local_address": local[0],
        "local_port": local[1],
        "local_family": family,
        "remote_address": remote[0],
        "remote_port": remote[1],
        "remote_family": family,
    }


def create_server(
    options: dict[str, Any] | Callable[..., Any] | None = None,
    connection_listener: Callable[..., Any] | None = None,
    **kwargs: Any,
) -> Server:
    """Node's ``net.createServer([options][, connectionListener])``."""
    if options is not None and not isinstance(options, dict) and not callable(options):
        raise make_error("ERR_INVALID_ARG_TYPE", "options", "of type object", options)
    return Server(options, connection_listener, **kwargs)
