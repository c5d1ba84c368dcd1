"""Node's ``net.Socket``: a Duplex stream over a transport, and its life.

The class is assembled from one module per concern, so each behaviour has
one obvious home:

* :mod:`gnet.readable`: the readable side (flowing, paused, ``read()``,
  ``pipe``, ``'end'`` and half-close);
* :mod:`gnet.writable`: the writable side (``write``, cork, ``'drain'``,
  ``end``/``'finish'``);
* :mod:`gnet.blocking`: the straight-line helpers (``recv``, ``readline``,
  ``sendall``, ``makefile``, ``with sock:``);
* :mod:`gnet.addresses`: ``address()``, the remote and local ends;
* this module: the socket's life (:mod:`gnet.state`): opening over a
  transport (:mod:`gnet.transport`) when a server accepts or
  :mod:`gnet.connect` connects, the actor loop that reads and delivers
  events (:mod:`gnet.actor`), ``destroy()`` and ``'close'``, the idle
  timeout, socket options; and the module functions
  ``connect``, ``create_connection``, ``open_connection``.
"""

from __future__ import annotations

import errno
import socket as _pysocket
from collections.abc import Callable, Sequence
from time import monotonic as _monotonic
from typing import TYPE_CHECKING, Any

import gevent.event

from . import diagnostics, logs
from ._aliases import with_camel_aliases
from .actor import Actor
from .addresses import Addresses
from .blocking import Blocking
from .buffers import ReadBuffer, WriteQueue
from .connect import Cancelled
from .connect import connect as _connect
from .errors import NodeError, NodeSystemError, from_oserror, make_error, system_error
from .options import (
    DEFAULT_HIGH_WATER_MARK,
    ConnectOptions,
    ServerOptions,
    keep_alive_delay,
    parse_connect_args,
    parse_socket_options,
    split_callback,
    validate_callback,
    validate_msecs,
    validate_timeout,
)
from .readable import Readable
from .state import PHASE, READ, Phase, ReadSide, WriteSide, ready_state
from .timers import IdleTimer
from .transport import SocketTransport, Transport, recv_buffer
from .writable import Writable

if TYPE_CHECKING:
    from .pipe import Pipe
    from .proxy_protocol import ProxyHeader
    from .server import Server

__all__ = ["Socket", "connect", "create_connection", "open_connection"]

# The states as module constants: the state is tested on every event, and a
# global costs less than an attribute of the enum class.
_NEW, _CONNECTING, _OPEN = Phase.NEW, Phase.CONNECTING, Phase.OPEN
_DESTROYED, _CLOSED = Phase.DESTROYED, Phase.CLOSED
_R_IDLE, _R_OPEN, _R_ENDED = ReadSide.IDLE, ReadSide.OPEN, ReadSide.ENDED
_W_OPEN, _W_FINISHED = WriteSide.OPEN, WriteSide.FINISHED

Callback = Callable[..., Any]


@with_camel_aliases
class Socket(Blocking, Readable, Writable, Addresses, Actor):
    """Node's ``net.Socket`` (a Duplex stream), with blocking helpers.

    ``Socket(options)`` takes Node's constructor options (``fd``,
    ``allow_half_open``, ``readable``, ``writable``, ``high_water_mark``) in
    either spelling.  Differences from Node are listed in README.md.
    """

    __slots__ = (
        "_transport", "_family", "_phase", "_read_side", "_write_side", "_server",
        "_on_destroy", "allow_half_open", "_rhwm", "_whwm", "_flowing", "_rbuf",
        "_decoder", "_encoding", "_wq", "_end_callbacks", "_errored", "bytes_read",
        "_bytes_written", "_timeout_ms", "_idle", "_remote", "_connect_options",
        "_pipes", "_reader", "_sender", "_no_delay", "_keep_alive", "_attempted",
        "_drained", "_reported", "_readable_queued", "_proxy", "_id", "_started", "_outcome",
        "_peer_addr", "_pressured_at", "_view",
    )  # fmt: skip

    def __init__(self, options: dict[str, Any] | int | None = None, **kwargs: Any) -> None:
        # Actor's, named: super() would search the three mixins first, on
        # every accepted connection.
        Actor.__init__(self)
        self._transport: Transport | None = None
        self._family = 0
        self._phase = _NEW
        self._read_side = _R_IDLE
        self._write_side = _W_OPEN
        self._server: Server | None = None
        self._on_destroy: Callable[[Socket], None] | None = None
        self.allow_half_open = False
        self._rhwm = self._whwm = DEFAULT_HIGH_WATER_MARK
        self._flowing: bool | None = None  # Node's readableFlowing: None, True or False
        self._rbuf = ReadBuffer()
        self._decoder: Callable[..., str] | None = None
        self._encoding: str | None = None
        self._wq = WriteQueue()
        self._end_callbacks: tuple[Callback, ...] = ()  # a tuple: most sockets never have any
        self._errored: BaseException | None = None
        self.bytes_read = 0
        self._bytes_written = 0
        self._timeout_ms: float | None = None
        self._idle: IdleTimer | None = None
        self._remote: dict[str, Any] | None = None
        self._connect_options: ConnectOptions | None = None
        self._pipes: tuple[Pipe, ...] = ()
        self._reader: Any = None  # the greenlet in a read helper: at most one
        self._sender: Any = None  # the greenlet blocked in sendall
        self._no_delay: bool | None = None  # wanted; applied once there is a transport
        self._keep_alive: tuple[bool, float] | None = None
        self._attempted: list[str] | None = None
        self._drained = True  # the last read emptied the transport: wait before reading
        self._reported: BaseException | None = None  # last exception logged as a listener's
        self._proxy: ProxyHeader | None = None  # the PROXY header read at accept (gnet.proxy_io)
        self._id = 0  # connection_id: taken when first asked for (an event, a log line)
        self._started: float | None = None  # monotonic, at accept or connect()
        self._outcome = ""  # how it ended when not by its error: TIMEOUT, DROPPED (PROXY)
        self._peer_addr: Any = None  # accept()'s address: the peer without getpeername
        self._pressured_at: float | None = None  # write() returned False (and someone subscribes)
        # This thread's shared receive buffer, looked up once: a thread-local's
        # attribute costs ~300 instructions, and a read takes one per message.
        self._view: memoryview = recv_buffer.view
        if options is None and not kwargs:
            return  # Socket() and accepted sockets: the defaults above
        opts = parse_socket_options(options, kwargs)
        self.allow_half_open = opts.allow_half_open
        self._rhwm = self._whwm = opts.high_water_mark
        if opts.fd is not None:
            try:
                transport = SocketTransport(fileno=opts.fd)
            except OSError as exc:
                raise make_error("ERR_INVALID_FD_TYPE", "UNKNOWN") from exc
            if transport.type != _pysocket.SOCK_STREAM:
                transport.detach()
                raise make_error("ERR_INVALID_FD_TYPE", "UDP")
            self._open(transport)
            if not opts.readable:
                self._read_side = _R_ENDED
            if not opts.writable:
                self._write_side = _W_FINISHED
            self._wake()

    def __repr__(self) -> str:
        return f"<gnet.Socket {self.ready_state} {self._describe()}>"

    def _describe(self) -> str:
        if self._family == _pysocket.AF_UNIX:
            return "unix"
        remote = self._remote
        return f"{remote['address']}:{remote['port']}" if remote else ""

    # ------------------------------------------------------------------
    # opening

    def _open(self, transport: Transport) -> None:
        """Take ``transport`` (connected) as this socket's handle: phase OPEN."""
        self._transport = transport
        self._family = transport.family
        self._phase = PHASE["connected" if self._phase is _CONNECTING else "open"][self._phase]
        if self._read_side is _R_IDLE and (self._flowing is not False or "readable" in self._events):
            self._read_side = READ["start"][_R_IDLE]  # else paused before it had a handle (C9)
        self._hold_ref(True)
        if self._no_delay is not None or self._keep_alive is not None:
            self._apply_options()

    @property
    def connection_id(self) -> int:
        """Beyond Node: this socket's per-process number in :mod:`gnet.diagnostics` events and logs."""
        if not self._id:
            self._id = diagnostics.next_connection_id()
        return self._id

    @classmethod
    def _accepted(
        cls,
        server: Server,
        transport: Transport,
        options: ServerOptions,
        on_destroy: Callable[[Socket], None],
        peer: Any = None,
        started: float | None = None,
    ) -> Socket:
        """A socket for a connection ``server`` accepted from ``peer`` (accept()'s
        address) at ``started`` (monotonic; now if None); ``on_destroy(socket)``
        is the server's hook for counting its live connections."""
        self = cls()
        self._started = _monotonic() if started is None else started
        self._peer_addr = peer
        self._server = server
        self._on_destroy = on_destroy
        self.allow_half_open = options.allow_half_open
        self._rhwm = self._whwm = options.high_water_mark
        if options.pause_on_connect:
            self._flowing = False
        if options.no_delay:
            self._no_delay = True
        if options.keep_alive:
            self._keep_alive = (True, options.keep_alive_initial_delay)
        self._open(transport)
        # A new connection's first bytes have usually arrived with it: read
        # before waiting, as a blocking handler's first recv() would.
        self._drained = False
        if options.proxy_protocol is None:
            self._defer(self._serve_accepted, server)
        else:  # the PROXY header first (imported on first use: up front, callgrind
            # counted 0.3% more instructions per connection with the option off)
            from .proxy_io import serve_after_header
            self._defer(serve_after_header, self, server, options)
        return self

    def _serve_accepted(self, server: Server) -> None:
        """The first task of an accepted socket: Node's ``'connection'`` event."""
        # Published here, not where the hub accepted: subscribers are user code.
        diagnostics.publish_new(diagnostics.ConnectionAccepted, server, self)
        server.emit("connection", self)

    def _apply_options(self) -> None:
        transport = self._transport
        if transport is None:
            return
        try:
            if self._no_delay is not None:
                transport.set_no_delay(self._no_delay)
            if self._keep_alive is not None:
                transport.set_keep_alive(*self._keep_alive)
        except OSError:
            pass  # Node ignores option failures on a handle that is going away

    # ------------------------------------------------------------------
    # connect

    def connect(self, *args: Any, **kwargs: Any) -> Socket:
        """Node's ``socket.connect(options | path | port[, host][, connectListener])``.

        Returns at once; ``'connect'`` (or ``'error'`` then ``'close'``)
        follows.  Bad arguments raise at once.  Happy Eyeballs
        (``auto_select_family``, default True) tries every resolved address,
        families interleaved.
        """
        options, callback = parse_connect_args(args, kwargs)
        if self._phase is not _NEW and self._connect_again(options, callback):
            return self
        if options.allow_half_open is not None:
            self.allow_half_open = options.allow_half_open
        if options.no_delay:
            self._no_delay = True
        if options.keep_alive:
            self._keep_alive = (True, options.keep_alive_initial_delay)
        if options.timeout is not None:
            self.set_timeout(options.timeout)
        if callback is not None:
            self.once("connect", callback)
        self._connect_options = options
        self._phase = PHASE["connect"][self._phase]
        self._hold_ref(True)
        self._started = started = _monotonic()
        if diagnostics.subscribed():
            diagnostics.publish(diagnostics.ClientConnectStarted(self, options.as_dict(), self.connection_id, started))
        self._wake()
        return self

    def _connect_again(self, options: ConnectOptions, callback: Callback | None) -> bool:
        """``connect()`` on a socket that is not new, as Node v20 does it.

        Returns True when handled here; False once the socket is reset for a
        fresh connect (after its ``'close'``, NODE-NET C14).
        """
        if self._phase is _CLOSED:
            self._reset_for_reconnect()
            return False
        if self._phase is _DESTROYED:
            # Destroyed, 'close' still to come: connect once it has.
            again = (options, callback) if callback is not None else (options,)
            self.once("close", lambda *_: self.connect(*again))
            return True
        if callback is not None:
            self.once("connect", callback)
        if self._phase is _CONNECTING:
            # Node: the second connect fails the socket with EALREADY.
            target = options.path or options.host
            self.destroy(system_error(errno.EALREADY, "connect", target, options.port))
        else:
            # Node: a connected socket emits 'connect' (and 'ready') again.
            self._defer(self.emit, "connect")
            self._defer(self.emit, "ready")
        return True

    def _reset_for_reconnect(self) -> None:
        self._phase = PHASE["reconnect"][self._phase]
        self._read_side = _R_IDLE
        self._write_side = _W_OPEN
        self._errored = None
        self.bytes_read = 0
        self._bytes_written = 0
        self._remote = self._peer_addr = self._pressured_at = None
        self._outcome = ""
        empty = self._rbuf.empty
        self._rbuf = ReadBuffer()
        self._rbuf.empty = empty
        self._attempted = None

    def _do_connect(self) -> None:
        """In the actor greenlet: resolve, attempt, and open (or fail)."""
        options = self._connect_options
        assert options is not None
        attempted: list[str] = []
        self._attempted = attempted
        try:
            sock = _connect(self, options, attempted)
        except Cancelled:
            return
        except (OSError, NodeError) as exc:  # the connect failed: 'error' (a listener's bug is not)
            if self._phase is _CONNECTING:
                err = from_oserror(exc, "connect")
                diagnostics.publish_new(diagnostics.ClientConnectFailed, self, err)
                self.destroy(err)
            return
        finally:
            if not attempted:
                self._attempted = None  # Node's list is there only for Happy Eyeballs
        if self._phase is not _CONNECTING:  # destroyed meanwhile
            sock.close()
            return
        self._open(sock)
        if options.proxy_header is not None:
            from .proxy_io import send_header  # imported here, as in _accepted
            if not send_header(self, options.proxy_header):
                return  # failed or destroyed while sending it
        if not self._wq.corked:  # what was written while connecting (an end()'s FIN too) goes
            self._flush()  # first: a cork() in a 'connect' listener holds only what follows it
        diagnostics.publish_new(diagnostics.ClientConnected, self)
        self.emit("connect")
        self.emit("ready")
        self._wake()  # also helpers blocked in other greenlets while connecting

    # What gnet.connect needs from the socket it connects (ConnectHost).

    def _connect_wait(self, watcher: Any, deadline: float | None) -> None:
        self._wait(watcher, deadline)
        self._connect_check()

    def _connect_check(self) -> None:
        if self._phase is not _CONNECTING:
            raise Cancelled

    # ------------------------------------------------------------------
    # the actor: reading and delivering events

    def _has_work(self) -> bool:
        return self._phase is not _NEW and self._phase is not _CLOSED

    def _step(self, once: bool = False) -> None:
        if self._tasks:
            self._run_tasks()
            return
        phase = self._phase
        if phase is _OPEN:
            if self._flowing and self._rbuf.length:
                self._flow_buffered()
            elif self._flowing and self._read_side is _R_OPEN:
                self._pump(once)
            elif self._wants_read():
                self._read_or_wait()
            else:
                self._park()
        elif phase is _CONNECTING:
            self._do_connect()
        else:
            self._park()

    def _maybe_destroy(self) -> None:
        # Node's autoDestroy: both halves done (NODE-NET F4).
        if self._read_side is _R_ENDED and self._write_side is _W_FINISHED:
            self.destroy()

    def _on_step_error(self, exc: BaseException) -> None:
        """An exception escaped a listener or handler: log it, end this connection only."""
        # gnet.logs: a reset or a helper's timeout is one line, rate-limited; a bug a
        # traceback and ListenerException.  An error logged already is not logged again.
        if exc is not self._reported:
            self._reported = exc
            if not logs.handler_failed(self, exc).expected:
                diagnostics.publish_new(diagnostics.ListenerException, self, exc)
        if self._phase < _DESTROYED:
            self._errored = exc  # Node would have crashed; nobody else is told
            self.destroy()

    def _actor_done(self) -> None:
        # A system error that a helper raised carries the handler's frames in
        # its traceback, and they hold this socket: error -> frames -> socket
        # -> error, a cycle only the garbage collector would free, once per
        # reset connection.  Those frames are gone now; so is the traceback.
        if isinstance(self._errored, NodeSystemError):
            self._errored.__traceback__ = None

    # ------------------------------------------------------------------
    # destroy and close

    @property
    def destroyed(self) -> bool:
        return self._phase >= _DESTROYED

    @property
    def errored(self) -> BaseException | None:
        return self._errored

    def destroy(self, error: BaseException | None = None) -> Socket:
        """Node's ``destroy([error])``: close now; ``'error'`` (if given) then ``'close'``.

        The error is emitted only if the socket had none yet: an error that
        was already reported (or logged as a listener's) is not told twice.
        """
        if self._phase >= _DESTROYED:
            return self
        if self._wq.held:
            self._send_held()  # replies held for a batch go to the kernel first (gnet.writable)
        was = self._phase
        self._phase = PHASE["destroy"][was]
        emit_error = error is not None and self._errored is None
        if emit_error:
            self._errored = error
        elif self._idle is not None and self._idle.fired and self._errored is None and not self._outcome:
            self._outcome = diagnostics.TIMEOUT  # on('timeout') -> destroy() or end(), still idle
        transport = self._transport
        self._close_handle()
        if self._on_destroy is not None:
            self._on_destroy(self)
        queued = bool(self._wq.entries)
        callbacks = self._wq.clear() if queued else []
        if emit_error:
            self._defer(self._emit_error, error)
        if was is _CONNECTING or (was is _NEW and queued):
            # Node registers these as 'close' listeners at write time.
            after_close: BaseException | None = make_error("ERR_SOCKET_CLOSED_BEFORE_CONNECTION")
        else:
            after_close = None
            err = self._errored or make_error("ERR_STREAM_DESTROYED", "write")
            for cb in callbacks:
                self._defer(cb, err)
            callbacks = []
        if self._end_callbacks:
            self._fail_end_callbacks(self._errored or make_error("ERR_STREAM_DESTROYED", "end"))
        if transport is not None:
            # Node emits 'close' from the handle's close callback, in the loop's
            # close phase: after what this round of I/O scheduled with
            # setImmediate (a gevent spawn, queued before this callback), before
            # the timers of the next round (a 0 s timer comes after 'close').
            self._hub.loop.run_callback(self._defer_from_hub, self._emit_close, callbacks, after_close)
        else:
            self._defer(self._emit_close, callbacks, after_close)
        self._wake()
        return self

    def _emit_error(self, error: BaseException) -> None:
        if "error" in self._events:
            self.emit("error", error)
            return
        # Nobody listens (Node would crash the process): the socket is already
        # destroyed; say so once (gnet.logs: a reset is routine, one line), not
        # again for an error already logged as a listener exception.
        if error is not self._reported:
            self._reported = error
            logs.unhandled_error(self, error)

    def _emit_close(self, callbacks: Sequence[Callback], error: BaseException | None) -> None:
        if self._phase is not _DESTROYED:
            return
        self._phase = PHASE["closed"][self._phase]
        self._hold_ref(False)
        had_error = self._errored is not None
        self._publish_closed()
        self.emit("close", had_error)
        for cb in callbacks:
            cb(error)

    def _publish_closed(self) -> None:
        # A hook: a TLS socket over a plain one leaves it to the plain one (one connection, one event).
        diagnostics.publish_new(diagnostics.ConnectionClosed, self, self.bytes_read, self._bytes_written, self._errored, self._outcome)

    def _close_handle(self) -> None:
        if self._idle is not None:
            self._idle.close()
            self._idle = None
        transport = self._transport
        if transport is not None:
            # Addresses are cached while open so the properties survive close (NODE-NET I3).
            self._transport = None
            transport.close()

    def reset_and_destroy(self) -> Socket:
        """Node's ``resetAndDestroy``: close with RST (SO_LINGER 0); the peer sees ECONNRESET."""
        if self._family == _pysocket.AF_UNIX:
            raise make_error("ERR_INVALID_HANDLE_TYPE")
        if self._phase is _CONNECTING:
            self.once("connect", self.reset_and_destroy)
            return self
        transport = self._transport
        if transport is None:
            return self.destroy(make_error("ERR_SOCKET_CLOSED"))
        transport.reset()
        return self.destroy()

    # ------------------------------------------------------------------
    # timeout, options, ref

    def set_timeout(self, msecs: float, callback: Callback | None = None) -> Socket:
        """Node's ``setTimeout(msecs[, callback])``: ``'timeout'`` after ``msecs`` idle.

        Fires once per idle period and does not close the socket; 0
        disables (and removes ``callback``).  Works while connecting too.
        """
        msecs = validate_msecs(msecs)
        if callback is not None:
            validate_callback(callback)
        if self._phase >= _DESTROYED:
            return self
        self._timeout_ms = msecs
        if self._idle is not None:
            self._idle.close()
            self._idle = None
        if msecs == 0:
            if callback is not None:
                self.remove_listener("timeout", callback)
            return self
        if callback is not None:
            self.once("timeout", callback)
        self._idle = IdleTimer(self._hub.loop, msecs, self._on_idle)
        return self

    def _on_idle(self) -> None:
        # In the hub: hand the event to the actor greenlet.
        if self._phase < _DESTROYED:
            self._defer(self._emit_timeout)

    def _emit_timeout(self) -> None:
        if self._phase < _DESTROYED and self._timeout_ms:
            diagnostics.publish_new(diagnostics.SocketTimeout, self, self._timeout_ms)
            self.emit("timeout")

    @property
    def timeout(self) -> float | None:
        """The last value given to ``set_timeout`` (None until then)."""
        return self._timeout_ms

    def set_no_delay(self, no_delay: bool = True) -> Socket:
        """``TCP_NODELAY``; stored and applied at connect when there is no handle yet."""
        no_delay = bool(no_delay)
        if self._no_delay != no_delay:
            self._no_delay = no_delay
            self._apply_options()
        return self

    def set_keep_alive(self, enable: bool = False, initial_delay: float = 0) -> Socket:
        """``SO_KEEPALIVE``; ``initial_delay`` in ms (floored to seconds, 0: OS default)."""
        value = (bool(enable), keep_alive_delay(initial_delay))
        if self._keep_alive != value:
            self._keep_alive = value
            self._apply_options()
        return self

    def ref(self) -> Socket:
        """Let this socket keep :func:`gnet.run` blocking (the default)."""
        self._refd = True
        self._hold_ref(self._phase is _CONNECTING or self._phase is _OPEN)
        return self

    def unref(self) -> Socket:
        """Stop this socket from keeping :func:`gnet.run` blocking."""
        self._hold_ref(False)
        self._refd = False
        return self

    # ------------------------------------------------------------------
    # state

    @property
    def ready_state(self) -> str:
        """'opening', 'open', 'readOnly', 'writeOnly' or 'closed'."""
        return ready_state(self._phase, self._read_side, self._write_side)

    @property
    def connecting(self) -> bool:
        return self._phase is _CONNECTING

    @property
    def pending(self) -> bool:
        """True with no handle yet, while connecting, and again after close."""
        return self._transport is None or self._phase is _CONNECTING

    @property
    def server(self) -> Server | None:
        return self._server

    @property
    def auto_select_family_attempted_addresses(self) -> list[str] | None:
        return self._attempted

    def fileno(self) -> int:
        """The connection's descriptor, or -1 (beyond Node, as Python sockets have it)."""
        return self._transport.fileno() if self._transport is not None else -1

    @property
    def proxy(self) -> ProxyHeader | None:
        """The PROXY header read before ``'connection'`` (beyond Node); None without ``proxy_protocol``."""
        return self._proxy


# ----------------------------------------------------------------------
# module functions


def connect(*args: Any, **kwargs: Any) -> Socket:
    """Node's ``net.connect(...)``/``createConnection``: a new Socket, connecting.

    Forms: ``(port, host='localhost', connect_listener=None)``, ``(path,
    connect_listener=None)``, ``(options, connect_listener=None)``.
    """
    options, callback = parse_connect_args(args, kwargs)
    sock = Socket()
    if options.allow_half_open:
        sock.allow_half_open = True
    sock._rhwm = sock._whwm = options.high_water_mark
    return sock.connect(options, callback) if callback else sock.connect(options)


create_connection = connect


def open_connection(*args: Any, timeout: float | None = None, **kwargs: Any) -> Socket:
    """Blocking connect: return a connected Socket or raise the connect error.

    Same forms as :func:`connect`; ``timeout`` in seconds covers the whole
    connect (the socket is destroyed and ``TimeoutError`` raised).
    """
    timeout = validate_timeout(timeout)
    args, _ = split_callback(args, None)
    options, _ = parse_connect_args(args, kwargs, "open_connection")
    sock = connect(options)
    result: gevent.event.AsyncResult = gevent.event.AsyncResult()

    def on_connect() -> None:
        result.set(None)

    def on_close(had_error: bool) -> None:
        if not had_error:
            result.set(None)

    sock.once("connect", on_connect)
    sock.once("error", result.set_exception)
    sock.once("close", on_close)
    # Our own Timeout, told apart from the caller's: a gevent.Timeout the
    # caller set around this call must reach the caller (gevent's rule).
    own = gevent.Timeout(timeout)
    own.start()  # with None, a Timeout that never fires
    try:
        result.get()
    except gevent.Timeout as exc:
        sock.destroy()
        if exc is not own:
            raise
        raise TimeoutError(f"connect timed out after {timeout} s") from None
    except BaseException:
        sock.destroy()
        raise
    finally:
        own.close()
        # The socket returned is the caller's: no 'error' listener of ours
        # may swallow its later errors.
        sock.remove_listener("connect", on_connect)
        sock.remove_listener("error", result.set_exception)
        sock.remove_listener("close", on_close)
    if sock.destroyed:
        raise make_error("ERR_SOCKET_CLOSED")
    return sock
