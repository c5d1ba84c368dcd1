"""Node's ``net.Socket``: a Duplex stream over TCP or a UNIX socket, on gevent.

How it works (see :mod:`gnet.loop` for the actor model):

* The socket owns the real non-blocking ``_socket.socket``, not gevent's
  wrapper.  Its actor greenlet connects, then reads: ``recv_into`` a buffer
  shared by all sockets (the chunk is copied out before anything can
  switch), so an idle socket holds no read buffer.  It waits in the hub
  only after ``EAGAIN``.
* ``write()`` sends at once when nothing is queued; only the rest is
  queued, and a hub io watcher flushes the queue.  Flushing runs no user
  code, so a socket's writes progress even while its own greenlet is busy
  in a blocking handler; ``'drain'``, write callbacks and ``'finish'`` are
  then delivered by the actor greenlet, in order.
* Reading stops once ``readable_length`` reaches the high-water mark while
  nobody consumes (Node's backpressure), so a paused socket's peer is
  pushed back by TCP.
* The straight-line helpers (``recv``, ``readline``, ``sendall``, ...) share
  the same buffer and state.  Called in the socket's own greenlet (the
  usual connection handler), they read the kernel directly; called from
  another greenlet, they let the actor read and wait to be notified.

The state is three explicit values (:mod:`gnet.state`): the phase, the read
side and the write side.
"""

from __future__ import annotations

import _socket
import errno
import socket as _pysocket
import threading
from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING, Any

import gevent
import gevent.event
import gevent.socket
from greenlet import getcurrent

from . import diagnostics
from ._aliases import normalize_options, with_camel_aliases
from ._args import (
    node_callback,
    normalize_connect_args,
    reject_object_mode,
    split_callback,
    validate_msecs,
)
from .addresses import is_ip
from .errors import (
    IncompleteReadError,
    LimitOverrunError,
    NodeError,
    NodeSystemError,
    aggregate_error,
    from_oserror,
    make_error,
    system_error,
)
from .flow import Pipe, ReadBuffer, decoder, encoder
from .loop import Actor, logger, switch_to_hub
from .state import Phase, ReadSide, WriteSide, ready_state

if TYPE_CHECKING:
    from .server import Server

__all__ = ["Socket", "connect", "create_connection", "open_connection"]

DEFAULT_HIGH_WATER_MARK = 16384  # Node v20's default for both directions
DEFAULT_ATTEMPT_TIMEOUT = 250.0  # ms; Node v20's autoSelectFamilyAttemptTimeout
_RECV_SIZE = 65536
_SHUT_WR = _pysocket.SHUT_WR
# The states as module constants: on Python 3.11 an enum member lookup
# (Phase.OPEN) costs ~60 ns, a global ~3, and the state is tested on every event.
_NEW, _CONNECTING = Phase.NEW, Phase.CONNECTING
_OPEN, _DESTROYED = Phase.OPEN, Phase.DESTROYED
_READ_OPEN, _READ_EOF, _READ_ENDED = ReadSide.OPEN, ReadSide.EOF, ReadSide.ENDED
_WRITE_OPEN, _WRITE_ENDING, _WRITE_FINISHED = WriteSide.OPEN, WriteSide.ENDING, WriteSide.FINISHED
_READ_BURST = 16  # full reads in a row before a flowing socket yields to the hub
_NO_OPTIONS: dict[str, Any] = {}  # never written: Socket() without options shares it

_PEER_GONE = frozenset({"ECONNRESET", "EPIPE", "ETIMEDOUT", "ECONNABORTED"})

Callback = Callable[..., Any]


class _RecvBuffer(threading.local):
    """One receive buffer per thread (per hub), shared by all its sockets."""

    def __init__(self) -> None:
        self.view = memoryview(bytearray(_RECV_SIZE))


_recv_buffer = _RecvBuffer()


def _family_name(family: int) -> str:
    return "IPv6" if family == _pysocket.AF_INET6 else "IPv4"


def _addr_dict(addr: Any, family: int) -> dict[str, Any]:
    if family in (_pysocket.AF_INET, _pysocket.AF_INET6) and isinstance(addr, tuple):
        return {"address": addr[0], "family": _family_name(family), "port": addr[1]}
    return {}


@with_camel_aliases
class Socket(Actor):
    """Node's ``net.Socket`` (a Duplex stream), with blocking helpers.

    ``Socket(options)`` takes Node's constructor options (``fd``,
    ``allow_half_open``, ``readable``, ``writable``, ``high_water_mark``) in
    either spelling.  Differences from Node are listed in README.md.
    """

    __slots__ = (
        "_sock", "_family", "_phase", "_read_side", "_write_side", "_server",
        "allow_half_open", "_rhwm", "_whwm", "_flowing", "_reading", "_rbuf",
        "_decoder", "_encoding", "_wqueue", "_wlen", "_corked", "_need_drain",
        "_end_callbacks", "_rwatch", "_wwatch", "_errored", "_error_emitted",
        "bytes_read", "_bytes_written", "_timeout_ms", "_timer", "_last_active",
        "_timer_fired", "_remote", "_connect_options", "_pipes", "_helper",
        "_sender", "_no_delay", "_keep_alive", "_pending_end_emit",
        "_attempted", "_close_emitted", "_drained", "_reported",
    )  # fmt: skip

    def __init__(self, options: dict[str, Any] | int | None = None, **kwargs: Any) -> None:
        super().__init__()
        opts: dict[str, Any] = _NO_OPTIONS
        if options is not None or kwargs:
            if isinstance(options, int) and not isinstance(options, bool):
                options = {"fd": options}  # Node's legacy new Socket(fd)
            opts = normalize_options(options if isinstance(options, dict) else None)
            opts.update(normalize_options(kwargs))
            reject_object_mode(opts)
        self._sock: Any = None
        self._family = 0
        self._phase = _NEW
        self._read_side = _READ_OPEN
        self._write_side = _WRITE_OPEN
        self._server: Server | None = None
        self.allow_half_open = bool(opts.get("allow_half_open", False))
        hwm = opts.get("high_water_mark")
        self._rhwm = self._whwm = DEFAULT_HIGH_WATER_MARK if hwm is None else int(hwm)
        self._flowing: bool | None = None  # Node's readableFlowing: None, True or False
        self._reading = True  # False: pause_on_connect until resume()
        self._rbuf = ReadBuffer()
        self._decoder: Callable[..., str] | None = None
        self._encoding: str | None = None
        self._wqueue: list[list[Any]] = []  # [data, callback] pairs not yet sent
        self._wlen = 0
        self._corked = 0
        self._need_drain = False
        self._end_callbacks: tuple[Callback, ...] = ()  # tuples: most sockets never have any
        self._rwatch: Any = None
        self._wwatch: Any = None
        self._errored: BaseException | None = None
        self._error_emitted = False
        self.bytes_read = 0
        self._bytes_written = 0
        self._timeout_ms: float | None = None
        self._timer: Any = None
        self._last_active = 0.0
        self._timer_fired = False
        self._remote: dict[str, Any] | None = None
        self._connect_options: dict[str, Any] | None = None
        self._pipes: tuple[Pipe, ...] = ()
        self._helper: Any = None  # the greenlet in a read helper: at most one
        self._sender: Any = None  # the greenlet blocked in sendall
        self._no_delay: bool | None = None
        self._keep_alive: tuple[bool, float] | None = None
        self._pending_end_emit = False
        self._attempted: list[str] | None = None
        self._close_emitted = False
        self._drained = True  # the last read emptied the kernel's buffer: wait before reading
        self._reported: BaseException | None = None  # last exception logged as a listener's
        fd = opts.get("fd")
        if fd is not None:
            if isinstance(fd, bool) or not isinstance(fd, int):
                raise make_error("ERR_INVALID_ARG_TYPE", "options.fd", "of type number", fd)
            if fd < 0:
                raise make_error("ERR_OUT_OF_RANGE", "fd", ">= 0 && <= 2147483647", fd)
            try:
                sock = _socket.socket(fileno=fd)
            except OSError as exc:
                raise make_error("ERR_INVALID_FD_TYPE", "UNKNOWN") from exc
            if sock.type != _pysocket.SOCK_STREAM:
                sock.detach()
                raise make_error("ERR_INVALID_FD_TYPE", "UDP")
            self._adopt(sock)
            if opts.get("readable") is False:
                self._read_side = _READ_ENDED
            if opts.get("writable") is False:
                self._write_side = _WRITE_FINISHED
            self._wake()

    def __repr__(self) -> str:
        return f"<gnet.Socket {self.ready_state} {self._describe()}>"

    def _describe(self) -> str:
        if self._family == _pysocket.AF_UNIX:
            return "unix"
        remote = self._remote
        return f"{remote['address']}:{remote['port']}" if remote else ""

    # ------------------------------------------------------------------
    # creating the handle

    def _adopt(self, sock: Any) -> None:
        """Take ``sock`` (connected) as this socket's handle; phase OPEN."""
        sock.setblocking(False)
        self._sock = sock
        self._family = sock.family
        self._phase = _OPEN
        self._hold_ref(True)
        if self._no_delay is not None or self._keep_alive is not None:
            self._apply_options()

    @classmethod
    def _accepted(cls, server: Server, sock: Any, opts: dict[str, Any]) -> Socket:
        self = cls()  # the server's options are already normalised and checked
        self._server = server
        if opts.get("allow_half_open"):
            self.allow_half_open = True
        hwm = opts.get("high_water_mark")
        if hwm is not None:
            self._rhwm = self._whwm = int(hwm)
        if opts.get("pause_on_connect"):
            self._reading = False
            self._flowing = False
        if opts.get("no_delay"):
            self._no_delay = True
        if opts.get("keep_alive"):
            self._keep_alive = (True, float(opts.get("keep_alive_initial_delay") or 0))
        self._adopt(sock)
        # A new connection's first bytes have usually arrived with it: read
        # before waiting, as a blocking handler's first recv() would.
        self._drained = False
        self._defer(self._serve_accepted, server)
        return self

    def _apply_options(self) -> None:
        sock = self._sock
        if sock is None or self._family == _pysocket.AF_UNIX:
            return
        try:
            if self._no_delay is not None:
                sock.setsockopt(_pysocket.IPPROTO_TCP, _pysocket.TCP_NODELAY, int(self._no_delay))
            if self._keep_alive is not None:
                enable, delay = self._keep_alive
                sock.setsockopt(_pysocket.SOL_SOCKET, _pysocket.SO_KEEPALIVE, int(enable))
                if enable and delay >= 1000 and hasattr(_pysocket, "TCP_KEEPIDLE"):
                    sock.setsockopt(_pysocket.IPPROTO_TCP, _pysocket.TCP_KEEPIDLE, int(delay // 1000))
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
        options, callback = normalize_connect_args(args, kwargs)
        if self._phase is not _NEW and self._connect_again(options, callback):
            return self
        if options.get("allow_half_open") is not None:
            self.allow_half_open = bool(options["allow_half_open"])
        if options.get("no_delay"):
            self._no_delay = True
        if options.get("keep_alive"):
            self._keep_alive = (True, max(0.0, float(options.get("keep_alive_initial_delay") or 0)))
        if options.get("timeout") is not None:
            self.set_timeout(options["timeout"])
        if callback is not None:
            self.once("connect", callback)
        self._connect_options = options
        self._phase = _CONNECTING
        self._hold_ref(True)
        diagnostics.publish_new(diagnostics.ClientConnectStarted, self, options)
        self._wake()
        return self

    def _connect_again(self, options: dict[str, Any], callback: Callback | None) -> bool:
        """``connect()`` on a socket that is not new, as Node v20 does it.

        Returns True when handled here; False once the socket is reset for a
        fresh connect (after its ``'close'``, NODE-NET C14).
        """
        if self._phase is _DESTROYED:
            if self._close_emitted:
                self._reset_for_reconnect()
                return False
            # Destroyed, 'close' still to come: connect once it has.
            again = (options, callback) if callback is not None else (options,)
            self.once("close", lambda *_: self.connect(*again))
            return True
        if callback is not None:
            self.once("connect", callback)
        if self._phase is _CONNECTING:
            # Node: the second connect fails the socket with EALREADY.
            target = options.get("path") or options.get("host")
            self.destroy(system_error(errno.EALREADY, "connect", target, options.get("port")))
        else:
            # Node: a connected socket emits 'connect' (and 'ready') again.
            self._defer(self.emit, "connect")
            self._defer(self.emit, "ready")
        return True

    def _reset_for_reconnect(self) -> None:
        self._phase = _NEW
        self._read_side = _READ_OPEN
        self._write_side = _WRITE_OPEN
        self._errored = None
        self._error_emitted = False
        self._close_emitted = False
        self.bytes_read = 0
        self._bytes_written = 0
        self._remote = None
        empty = self._rbuf.empty
        self._rbuf = ReadBuffer()
        self._rbuf.empty = empty
        self._pending_end_emit = False
        self._attempted = None

    def _do_connect(self) -> None:
        """In the actor greenlet: resolve, attempt, and open (or fail)."""
        options = self._connect_options or {}
        try:
            sock = self._connect_path(options) if "path" in options else self._connect_tcp(options)
        except _Cancelled:
            return
        except (OSError, NodeError) as exc:  # the connect failed: 'error' (a listener's bug is not)
            if self._phase is _CONNECTING:
                err = from_oserror(exc, "connect")
                diagnostics.publish_new(diagnostics.ClientConnectFailed, self, err)
                self._phase = _NEW
                self.destroy(err)
            return
        if self._phase is not _CONNECTING:  # destroyed meanwhile
            sock.close()
            return
        if self._flowing is False:
            self._reading = False  # Node reads nothing from a socket paused before connect
        self._adopt(sock)
        diagnostics.publish_new(diagnostics.ClientConnected, self)
        self.emit("connect")
        self.emit("ready")
        self._wake()  # also helpers blocked in other greenlets while connecting
        if not self.destroyed:  # a 'connect' listener may have destroyed it
            self._flush_queue()
            if self._write_side is _WRITE_ENDING and not self._wqueue:
                self._shutdown_write()

    def _connect_path(self, options: dict[str, Any]) -> Any:
        path = options["path"]
        sock = _socket.socket(_pysocket.AF_UNIX, _pysocket.SOCK_STREAM)
        try:
            self._attempt(sock, path, None)
        except OSError as exc:
            sock.close()
            err = from_oserror(exc, "connect", path)
            self.emit("connectionAttemptFailed", path, None, None, err)
            raise err from None
        except BaseException:
            sock.close()
            raise
        return sock

    def _connect_tcp(self, options: dict[str, Any]) -> Any:
        host: str = options["host"]
        port: int = options["port"]
        family: int = options.get("family", 0)
        local_address = options.get("local_address")
        local_port = options.get("local_port")
        ip_family = is_ip(host)
        if ip_family:
            addresses = [(host, ip_family)]
        else:
            addresses = self._lookup(host, family, options)
            if not addresses:  # only a custom lookup can answer nothing (Node crashes)
                raise system_error(_pysocket.EAI_NONAME, "getaddrinfo", hostname=host)
        auto = options.get("auto_select_family")
        if auto is None:
            auto = True
        if auto and family == 0 and not local_address and len(addresses) > 1:
            addresses = _interleave(addresses)
            self._attempted = []
        else:
            addresses = addresses[:1]
        attempt_ms = options.get("auto_select_family_attempt_timeout") or DEFAULT_ATTEMPT_TIMEOUT
        errors: list[BaseException] = []
        for i, (ip, fam) in enumerate(addresses):
            last = i == len(addresses) - 1
            af = _pysocket.AF_INET6 if fam == 6 else _pysocket.AF_INET
            sock = _socket.socket(af, _pysocket.SOCK_STREAM)
            local = None
            try:
                if local_address or local_port:
                    sock.setsockopt(_pysocket.SOL_SOCKET, _pysocket.SO_REUSEADDR, 1)
                    sock.bind((local_address or ("::" if fam == 6 else "0.0.0.0"), local_port or 0))
                    if local_address and local_port:
                        local = (local_address, local_port)
                if self._attempted is not None:
                    self._attempted.append(f"{ip}:{port}")
                self.emit("connectionAttempt", ip, port, fam)
                self._attempt(sock, (ip, port), None if last else attempt_ms / 1000.0)
                return sock
            except _AttemptTimeout:
                sock.close()
                err = system_error(errno.ETIMEDOUT, "connect", ip, port)
                errors.append(err)
                self.emit("connectionAttemptTimeout", ip, port, fam)
            except OSError as exc:
                sock.close()
                syscall = "bind" if exc.errno == errno.EADDRINUSE and local else "connect"
                err = from_oserror(exc, syscall, ip, port, local=local)  # type: ignore[assignment]
                errors.append(err)
                if self._phase is not _CONNECTING:
                    raise _Cancelled from None
                self.emit("connectionAttemptFailed", ip, port, fam, err)
            except BaseException:  # cancelled, or a listener raised: this attempt is over
                sock.close()
                raise
        if len(errors) == 1:
            raise errors[0]
        raise aggregate_error(errors)

    def _lookup(self, host: str, family: int, options: dict[str, Any]) -> list[tuple[str, int]]:
        """Resolve ``host``, emitting ``'lookup'`` per address (or once with the error)."""
        lookup = options.get("lookup")
        try:
            if lookup is not None:
                result = _call_custom_lookup(lookup, host, family)
            else:
                af = {4: _pysocket.AF_INET, 6: _pysocket.AF_INET6}.get(family, _pysocket.AF_UNSPEC)
                flags = options.get("hints") or 0
                infos = gevent.socket.getaddrinfo(host, None, af, _pysocket.SOCK_STREAM, 0, flags)
                result = []
                for fam, _type, _proto, _name, sockaddr in infos:
                    entry = (sockaddr[0], 6 if fam == _pysocket.AF_INET6 else 4)
                    if entry not in result:
                        result.append(entry)
        except BaseException as exc:  # noqa: B036
            err = from_oserror(exc, "getaddrinfo", host)
            if self._phase is not _CONNECTING:
                raise _Cancelled from None
            self.emit("lookup", err, None, None, host)
            raise err from None
        if self._phase is not _CONNECTING:
            raise _Cancelled
        for ip, fam in result:
            if not isinstance(ip, str) or not is_ip(ip):
                raise make_error("ERR_INVALID_IP_ADDRESS", ip)
            if fam not in (4, 6):
                raise make_error("ERR_INVALID_ADDRESS_FAMILY", fam, host, options["port"])
            self.emit("lookup", None, ip, fam, host)
        return result

    def _attempt(self, sock: Any, address: Any, timeout: float | None) -> None:
        """Connect ``sock`` without blocking the hub; raise on failure."""
        sock.setblocking(False)
        err = sock.connect_ex(address)
        if err in (errno.EINPROGRESS, errno.EAGAIN, errno.EALREADY):
            watcher = self._hub.loop.io(sock.fileno(), 2)
            timer = None
            if timeout is not None:
                timer = self._hub.loop.timer(timeout)
                timer.start(self._resume)
            try:
                while True:
                    if self._tasks:  # e.g. 'timeout': a listener may destroy us meanwhile
                        self._run_tasks()
                    else:
                        self._park(watcher)
                    if self._phase is not _CONNECTING:
                        raise _Cancelled
                    err = sock.getsockopt(_pysocket.SOL_SOCKET, _pysocket.SO_ERROR)
                    if err != 0 or _writable_now(sock):
                        break
                    if timer is not None and not timer.active:
                        raise _AttemptTimeout
            finally:
                if timer is not None:
                    timer.close()
                watcher.close()
        if err:
            raise OSError(err, "")

    # ------------------------------------------------------------------
    # the actor: reading and delivering events

    def _has_work(self) -> bool:
        return self._phase is not _NEW and not (
            self._phase is _DESTROYED and self._close_emitted
        )

    def _step(self, once: bool = False) -> None:
        if self._tasks:
            self._run_tasks()
            return
        phase = self._phase
        if phase is _OPEN:
            if self._flowing and self._rbuf.length:
                self._flow_buffered()
            elif self._flowing and self._read_side is _READ_OPEN:
                self._pump(once)
            elif self._wants_read():
                self._read_or_wait()
            else:
                self._park()
        elif phase is _CONNECTING:
            self._do_connect()
        elif not self._tasks:
            self._park()

    def _pump(self, once: bool = False) -> None:
        """The flowing read loop: ``recv`` and emit ``'data'`` until something changes
        (or, with ``once``, until one chunk has been emitted).

        The hot path of a Node-style server, kept in one frame: after a
        short read (the kernel had no more) it waits for readability rather
        than trying a ``recv`` that would only raise EAGAIN.
        """
        sock = self._sock
        view = _recv_buffer.view
        size = len(view)
        emit = self.emit
        watcher = self._read_watcher()
        switch = getcurrent().switch
        hub = self._hub
        burst = 0
        while True:
            if self._drained:
                if self._tasks:
                    return
                burst = 0
                # Parked only while the watcher is started, so only it, or
                # _wake() through _resume(), can switch back here.
                self._parked = True
                watcher.start(switch)
                try:
                    switch_to_hub(hub)
                finally:
                    self._parked = False
                    watcher.stop()
                if self._tasks or not self._flowing or self._phase is not _OPEN:
                    return
            try:
                n = sock.recv_into(view)
            except BlockingIOError:
                self._drained = True
                continue
            except InterruptedError:
                continue
            except OSError as exc:
                self.destroy(from_oserror(exc, "read"))
                return
            if n == 0:
                self._on_eof()
                return
            burst += 1
            # A full read means more is waiting, but reading on without
            # yielding would starve this socket's own write flush (a
            # 'data' -> write() echo grows its queue without bound) and the
            # other connections: Node's loop, too, alternates.
            self._drained = n < size or burst >= _READ_BURST or self._wlen > 0
            self.bytes_read += n
            if self._timeout_ms:
                self._touch()
            chunk: Any = view[:n].tobytes()
            if self._decoder is not None:
                chunk = self._decoder(chunk)
                if not chunk:
                    continue
            emit("data", chunk)
            if (
                self._tasks
                or not self._flowing
                or self._phase is not _OPEN
                or self._rbuf.length
                or once
            ):
                return

    def _read_or_wait(self, deadline: float | None = None) -> None:
        """One read into the buffer, or (when the kernel was drained) one wait for data."""
        if self._drained:
            self._park_with_deadline(self._read_watcher(), deadline)
            self._drained = False  # readable now, or woken for another reason
        else:
            self._read_once()  # on EAGAIN it marks the kernel drained: next time, wait

    def _read_watcher(self) -> Any:
        watcher = self._rwatch
        if watcher is None:
            self._rwatch = watcher = self._hub.loop.io(self._sock.fileno(), 1)
        return watcher

    def _wants_read(self) -> bool:
        if self._read_side is not _READ_OPEN:
            return False
        if self._flowing:
            return True
        return self._reading and self._rbuf.length < self._rhwm

    def _recv_raw(self, view: memoryview) -> bytes | None:
        """One ``recv_into(view)``, accounted: the bytes, ``b''`` once the stream
        has ended or failed (handled here), None when the kernel had nothing."""
        try:
            n = self._sock.recv_into(view)
        except (BlockingIOError, InterruptedError):
            self._drained = True
            return None
        except OSError as exc:
            self.destroy(from_oserror(exc, "read"))
            return b""
        if n == 0:
            self._on_eof()
            return b""
        self._drained = n < len(view)
        self.bytes_read += n
        if self._timeout_ms:
            self._touch()
        return view[:n].tobytes()

    def _read_once(self) -> bool | None:
        """One ``recv`` into the buffer (or ``'data'``): True if it made progress,
        None on EAGAIN."""
        raw = self._recv_raw(_recv_buffer.view)
        if not raw:
            return None if raw is None else True
        chunk: Any = raw if self._decoder is None else self._decoder(raw)
        if not chunk:
            return True
        if self._flowing and not self._rbuf:
            self.emit("data", chunk)
        else:
            self._rbuf.push(chunk)
            if self._waker is not None:
                self._waker.set()
        return True

    def _flow_buffered(self) -> None:
        while self._flowing and self._rbuf:
            self.emit("data", self._rbuf.popleft())
        self._check_end()

    def _on_eof(self) -> None:
        self._read_side = _READ_EOF
        if self._decoder is not None:
            rest = self._decoder(b"", True)
            if rest:
                self._rbuf.push(rest)
        if self._flowing or not self._rbuf.length:
            # Node's read(0) after EOF: with nothing buffered, 'end' needs no consumer.
            self._check_end()
        if self._waker is not None:
            self._waker.set()

    def _check_end(self) -> None:
        """Schedule ``'end'`` once the peer's FIN has been reached by a consumer."""
        if self._read_side is _READ_EOF and not self._rbuf and not self._pending_end_emit:
            self._pending_end_emit = True
            self._defer(self._emit_end)

    def _emit_end(self) -> None:
        if self._read_side is not _READ_EOF or self._phase is _DESTROYED:
            return
        self._read_side = _READ_ENDED
        self.emit("end")
        if not self.allow_half_open and self._phase is _OPEN:
            self._defer(self._auto_end)
        else:
            self._maybe_destroy()

    def _auto_end(self) -> None:
        if self._write_side is _WRITE_OPEN:
            self.end()
        else:
            self._maybe_destroy()

    def _maybe_destroy(self) -> None:
        # Node's autoDestroy: both halves done (NODE-NET F4).
        if self._read_side is _READ_ENDED and self._write_side is _WRITE_FINISHED:
            self.destroy()

    def _on_step_error(self, exc: BaseException) -> None:
        """An exception escaped a listener or handler: log it, end this connection only."""
        if exc is self._errored and getattr(exc, "code", None) in _PEER_GONE:
            # The socket's own I/O error (the peer reset or vanished), raised by
            # a helper and not caught by the handler: the connection's fate,
            # not a bug in the handler.  Routine for a server; no traceback.
            logger.debug("%r ended: %s", self, exc)
            return
        logger.error("exception in a listener of %r", self, exc_info=exc)
        diagnostics.publish_new(diagnostics.ListenerException, self, exc)
        self._reported = exc
        if self._phase is not _DESTROYED:
            self._errored = exc
            self._error_emitted = True  # Node would have crashed; nobody else is told
            self.destroy()

    def _actor_done(self) -> None:
        # A system error that a helper raised carries the handler's frames in
        # its traceback, and they hold this socket: error -> frames -> socket
        # -> error, a cycle only the garbage collector would free, once per
        # reset connection.  Those frames are gone now; so is the traceback.
        if isinstance(self._errored, NodeSystemError):
            self._errored.__traceback__ = None

    def _serve_accepted(self, server: Server) -> None:
        """The first task of an accepted socket: Node's ``'connection'`` event."""
        # Published here, not where the hub accepted: subscribers are user code.
        diagnostics.publish_new(diagnostics.ConnectionAccepted, server, self)
        server.emit("connection", self)

    # ------------------------------------------------------------------
    # Readable

    @property
    def readable(self) -> bool:
        """Node's ``readable``: True until ``'end'`` (or destroy)."""
        return self._phase is not _DESTROYED and self._read_side is not _READ_ENDED

    @property
    def readable_length(self) -> int:
        return self._rbuf.length

    @property
    def readable_high_water_mark(self) -> int:
        return self._rhwm

    @property
    def readable_flowing(self) -> bool | None:
        return self._flowing

    @property
    def readable_ended(self) -> bool:
        return self._read_side is _READ_ENDED

    def _listener_added(self, event: Any) -> None:
        # Node: adding a 'data' listener starts flowing unless pause() was called.
        if event == "data" and self._flowing is None:
            self.resume()

    def set_encoding(self, encoding: str | None = "utf8") -> Socket:
        """Node's ``setEncoding``: ``'data'`` and the helpers yield ``str``, decoded incrementally."""
        self._decoder = decoder(encoding or "utf8")
        self._encoding = encoding or "utf8"
        self._rbuf.empty = ""
        if self._rbuf:  # buffered bytes are re-read as text; text stays as it is
            raw = self._rbuf.take()
            self._rbuf.push(raw if isinstance(raw, str) else self._decoder(raw))
        return self

    def pause(self) -> Socket:
        """Stop ``'data'``; reading stops once the buffer reaches the high-water mark."""
        self._flowing = False
        return self

    def resume(self) -> Socket:
        """Start (or restart) ``'data'``; with no ``'data'`` listener the data is discarded."""
        self._flowing = True
        self._reading = True
        if self._phase is not _DESTROYED:
            self._check_end()  # the FIN may have come while paused, with nothing buffered
            self._wake()
        return self

    def is_paused(self) -> bool:
        return self._flowing is False

    def read(self, size: int | None = None) -> bytes | str | None:
        """Node's non-blocking ``read([size])``: buffered data, or None if not enough."""
        buf = self._rbuf
        self._reading = True  # Node's read() -> _read(): reading starts even if paused
        if size is not None and size > buf.length and self._read_side is _READ_OPEN:
            self._wake()
            return None
        if not buf:
            self._check_end()
            return None
        out = buf.take(size)
        self._check_end()
        self._wake()
        return out

    def unshift(self, chunk: bytes | str) -> None:
        """Put data back at the front of the read buffer (Node's ``unshift``)."""
        self._rbuf.unshift(chunk)

    def pipe(self, dest: Any, end: bool = True, **options: Any) -> Any:
        """Node's ``readable.pipe(dest)``: returns ``dest``; backpressure both ways."""
        end = options.get("end", end)
        self._pipes += (Pipe(self, dest, bool(end)),)
        if not self._flowing:  # Node: the 'data' listener has usually resumed it already
            self.resume()
        return dest

    def unpipe(self, dest: Any = None) -> Socket:
        """Stop piping into ``dest`` (all destinations when None)."""
        for p in self._pipes:
            if dest is None or p.dest is dest:
                p.detach()
                self._pipes = tuple(q for q in self._pipes if q is not p)
        if not self._pipes and self._flowing:
            self.pause()
        return self

    # ------------------------------------------------------------------
    # Writable

    @property
    def writable(self) -> bool:
        return self._phase is not _DESTROYED and self._write_side is _WRITE_OPEN

    @property
    def writable_length(self) -> int:
        return self._wlen

    @property
    def writable_high_water_mark(self) -> int:
        return self._whwm

    @property
    def writable_need_drain(self) -> bool:
        return self._need_drain

    @property
    def writable_ended(self) -> bool:
        return self._write_side is not _WRITE_OPEN

    @property
    def writable_finished(self) -> bool:
        return self._write_side is _WRITE_FINISHED

    @property
    def buffer_size(self) -> int | None:
        """Deprecated in Node: ``writable_length`` when there is a handle, else None."""
        return self._wlen if self._sock is not None or self._phase is _CONNECTING else None

    @property
    def bytes_written(self) -> int:
        """Bytes written so far, including those still queued (Node's rule)."""
        return self._bytes_written

    def _to_bytes(self, data: Any, encoding: str | None) -> bytes:
        if isinstance(data, bytes):
            return data
        if isinstance(data, str):
            return encoder(encoding)(data)
        if isinstance(data, (bytearray, memoryview)):
            return bytes(data)
        if data is None:
            raise make_error("ERR_STREAM_NULL_VALUES")
        raise make_error(
            "ERR_INVALID_ARG_TYPE",
            "chunk",
            "of type string or an instance of Buffer, TypedArray, or DataView",
            data,
        )

    def write(
        self,
        data: bytes | bytearray | memoryview | str,
        encoding: str | Callback | None = None,
        callback: Callback | None = None,
    ) -> bool:
        """Node's ``write(data[, encoding][, callback])``: never blocks.

        Sends at once what the kernel takes and queues the rest.  Returns
        False once ``writable_length`` reaches ``writable_high_water_mark``
        (then ``'drain'`` follows the flush).  ``callback(err)`` runs, in
        order, once the data is handed to the kernel.
        """
        if callable(encoding):
            encoding, callback = None, encoding
        if callback is not None:
            callback = node_callback(callback)
        chunk = data if type(data) is bytes else self._to_bytes(data, encoding)
        if self._write_side is not _WRITE_OPEN or self._phase is _DESTROYED:
            return self._write_refused(callback)
        self._bytes_written += len(chunk)
        if self._timeout_ms:
            self._touch()
        if not self._wqueue and self._phase is _OPEN and not self._corked:
            try:
                sent = self._sock.send(chunk)
            except BlockingIOError:
                sent = 0
            except OSError as exc:
                self._wqueue.append([chunk, callback])
                self._wlen += len(chunk)
                self.destroy(from_oserror(exc, "write"))
                return False
            if sent == len(chunk):
                if callback is not None:
                    self._defer(callback, None)
                return True
            tail = memoryview(chunk)[sent:]  # the unsent part, not a copy of it
            self._wqueue.append([tail, callback])
            self._wlen += len(tail)
            self._write_watcher().start(self._on_writable)
        else:
            self._wqueue.append([chunk, callback])
            self._wlen += len(chunk)
        if self._wlen >= self._whwm:
            self._need_drain = True
            return False
        return True

    def _write_refused(self, callback: Callback | None) -> bool:
        if self._read_side is _READ_ENDED and not self.allow_half_open:
            # Node v20's writeAfterFIN (NODE-NET E10): once the automatic
            # end() after the peer's FIN has run, a write gets EPIPE in its
            # callback and destroys the socket with it; on a socket already
            # destroyed (its 'close' still pending) that adds no 'error'.
            err: BaseException = system_error(
                "EPIPE", None, message="This socket has been ended by the other party"
            )
            if callback is not None:
                self._defer(callback, err)
            self.destroy(err)
            return False
        if self._phase is _DESTROYED:
            err = make_error("ERR_STREAM_DESTROYED", "write")
            if callback is not None:
                self._defer(callback, err)
            return False
        # NODE-NET E9: write after our own end() destroys at once.
        err = make_error("ERR_STREAM_WRITE_AFTER_END")
        if callback is not None:
            self._defer(callback, err)
        self._fail_end_callbacks(err)
        self.destroy(err)
        return False

    def _write_watcher(self) -> Any:
        watcher = self._wwatch
        if watcher is None:
            self._wwatch = watcher = self._hub.loop.io(self._sock.fileno(), 2)
        return watcher

    def _on_writable(self) -> None:
        # In the hub: no user code here, only I/O; events go through _defer.
        try:
            self._flush_queue()
        except BaseException as exc:  # noqa: B036 - nothing may escape into the hub
            self.destroy(exc)

    def _flush_queue(self) -> None:
        """Send what the kernel takes from the queue; finish up when it is empty."""
        queue = self._wqueue
        sock = self._sock
        while queue and self._phase is _OPEN:
            try:
                if len(queue) == 1:
                    sent = sock.send(queue[0][0])
                else:
                    sent = sock.sendmsg([entry[0] for entry in queue[:512]])
            except BlockingIOError:
                watcher = self._write_watcher()
                if not watcher.active:
                    watcher.start(self._on_writable)
                return
            except InterruptedError:
                continue
            except OSError as exc:
                self.destroy(from_oserror(exc, "write"))
                return
            self._wlen -= sent
            while sent:
                entry = queue[0]
                size = len(entry[0])
                if sent >= size:
                    queue.pop(0)
                    sent -= size
                    if entry[1] is not None:
                        self._defer(entry[1], None)
                else:
                    entry[0] = memoryview(entry[0])[sent:]
                    sent = 0
        if self._phase is not _OPEN:
            return
        if self._wwatch is not None:
            self._wwatch.stop()
        if self._sender is not None or self._waker is not None:
            self._wake()
        if self._need_drain:
            self._need_drain = False
            self._defer(self._emit_drain)
        if self._write_side is _WRITE_ENDING:
            self._shutdown_write()

    def _emit_drain(self) -> None:
        if self._phase is not _DESTROYED:
            self.emit("drain")

    def cork(self) -> None:
        """Hold writes until :meth:`uncork` (they go out together)."""
        self._corked += 1

    def uncork(self) -> None:
        if self._corked:
            self._corked -= 1
            if not self._corked and self._wqueue and self._phase is _OPEN:
                self._flush_queue()

    def end(
        self,
        data: Any = None,
        encoding: str | Callback | None = None,
        callback: Callback | None = None,
    ) -> Socket:
        """Node's ``end([data[, encoding]][, callback])``: flush, then FIN.

        ``'finish'`` follows once the write side is shut; ``callback`` runs
        just before the ``'finish'`` listeners (or gets the error).
        """
        if callable(data):
            data, callback = None, data
        elif callable(encoding):
            encoding, callback = None, encoding
        if data is not None:
            self.write(data, encoding)
        if callback is not None:
            callback = node_callback(callback)
            if self._write_side is _WRITE_FINISHED:
                self._defer(callback, make_error("ERR_STREAM_ALREADY_FINISHED", "end"))
            elif self._phase is _DESTROYED:
                self._defer(callback, make_error("ERR_STREAM_DESTROYED", "end"))
            else:
                self._end_callbacks += (callback,)
        if self._write_side is _WRITE_OPEN and self._phase is not _DESTROYED:
            self._write_side = _WRITE_ENDING
            self._corked = 0
            if self._phase is _OPEN:
                if self._wqueue:
                    self._flush_queue()
                else:
                    self._shutdown_write()
            elif self._phase is _NEW:
                self._defer(self._finish)  # nothing to shut: Node still finishes
        return self

    def _shutdown_write(self) -> None:
        try:
            self._sock.shutdown(_SHUT_WR)
        except OSError as exc:
            if exc.errno != errno.ENOTCONN:
                self.destroy(from_oserror(exc, "shutdown"))
                return
        self._defer(self._finish)

    def _finish(self) -> None:
        if self._phase is _DESTROYED or self._write_side is not _WRITE_ENDING:
            return
        self._write_side = _WRITE_FINISHED
        callbacks, self._end_callbacks = self._end_callbacks, ()
        for cb in callbacks:
            cb(None)
        self.emit("finish")
        self._maybe_destroy()

    def _fail_end_callbacks(self, err: BaseException) -> None:
        callbacks, self._end_callbacks = self._end_callbacks, ()
        for cb in callbacks:
            self._defer(cb, err)

    def destroy_soon(self) -> None:
        """Node's ``destroySoon``: end, then destroy once finished."""
        if self._write_side is _WRITE_OPEN:
            self.once("finish", self.destroy)
            self.end()
        elif self._write_side is _WRITE_FINISHED:
            self.destroy()
        else:
            self.once("finish", self.destroy)

    # ------------------------------------------------------------------
    # destroy and close

    @property
    def destroyed(self) -> bool:
        return self._phase is _DESTROYED

    @property
    def errored(self) -> BaseException | None:
        return self._errored

    def destroy(self, error: BaseException | None = None) -> Socket:
        """Node's ``destroy([error])``: close now; ``'error'`` (if given) then ``'close'``."""
        if self._phase is _DESTROYED:
            return self
        was = self._phase
        self._phase = _DESTROYED
        if error is not None and self._errored is None:
            self._errored = error
        had_handle = self._sock is not None
        self._close_handle()
        if self._server is not None:
            self._server._connection_closed(self)
        queued = self._wqueue
        if queued:
            self._wqueue = []
            self._wlen = 0
        if error is not None and not self._error_emitted:
            self._error_emitted = True
            self._defer(self._emit_error, error)
        if was is _CONNECTING or was is _NEW and queued:
            # Node registers these as 'close' listeners at write time.
            after_close: BaseException | None = make_error("ERR_SOCKET_CLOSED_BEFORE_CONNECTION")
        else:
            after_close = None
            err = self._errored or make_error("ERR_STREAM_DESTROYED", "write")
            for _data, cb in queued:
                if cb is not None:
                    self._defer(cb, err)
        if self._end_callbacks:
            self._fail_end_callbacks(self._errored or make_error("ERR_STREAM_DESTROYED", "end"))
        callbacks = [cb for _data, cb in queued if cb is not None] if after_close else ()
        if had_handle:
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
        if self._events.get("error"):
            self.emit("error", error)
            return
        # Nobody listens (Node would crash the process): the socket is already
        # destroyed; say so once.  A peer going away is routine for a server,
        # and an error already logged as a listener exception (a with-block
        # that raised) needs no second line.
        if error is self._reported:
            return
        peer_gone = getattr(error, "code", None) in _PEER_GONE
        log = logger.debug if peer_gone else logger.warning
        log("unhandled 'error' event on %r: %s", self, error)

    def _emit_close(self, callbacks: Sequence[Callback], error: BaseException | None) -> None:
        if self._close_emitted:
            return
        self._close_emitted = True
        self._hold_ref(False)
        had_error = self._errored is not None
        diagnostics.publish_new(
            diagnostics.ConnectionClosed, self, self.bytes_read, self._bytes_written, self._errored
        )
        self.emit("close", had_error)
        for cb in callbacks:
            cb(error)

    def _close_handle(self) -> None:
        for watcher in (self._rwatch, self._wwatch):
            if watcher is not None:
                watcher.stop()
                watcher.close()
        self._rwatch = self._wwatch = None
        if self._timer is not None:
            self._timer.close()
            self._timer = None
        sock = self._sock
        if sock is not None:
            # Cached while open so the properties survive close (NODE-NET I3).
            self._sock = None
            try:
                sock.close()
            except OSError:
                pass

    def reset_and_destroy(self) -> Socket:
        """Node's ``resetAndDestroy``: close with RST (SO_LINGER 0); the peer sees ECONNRESET."""
        if self._family == _pysocket.AF_UNIX:
            raise make_error("ERR_INVALID_HANDLE_TYPE")
        if self._sock is None and self._phase is not _CONNECTING:
            return self.destroy(make_error("ERR_SOCKET_CLOSED"))
        if self._phase is _CONNECTING:
            self.once("connect", self.reset_and_destroy)
            return self
        try:
            self._sock.setsockopt(
                _pysocket.SOL_SOCKET, _pysocket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00"
            )
        except OSError:
            pass
        return self.destroy()

    # ------------------------------------------------------------------
    # timeout, options, ref

    def set_timeout(self, msecs: float, callback: Callback | None = None) -> Socket:
        """Node's ``setTimeout(msecs[, callback])``: ``'timeout'`` after ``msecs`` idle.

        Fires once per idle period and does not close the socket; 0
        disables (and removes ``callback``).  Works while connecting too.
        """
        msecs = validate_msecs(msecs)
        if callback is not None and not callable(callback):
            raise make_error("ERR_INVALID_ARG_TYPE", "callback", "of type function", callback)
        if self._phase is _DESTROYED:
            return self
        self._timeout_ms = msecs
        if self._timer is not None:
            self._timer.close()
            self._timer = None
        if msecs == 0:
            if callback is not None:
                self.remove_listener("timeout", callback)
            return self
        if callback is not None:
            self.once("timeout", callback)
        self._last_active = self._hub.loop.now()
        self._arm_timer(msecs / 1000.0)
        return self

    def _arm_timer(self, seconds: float) -> None:
        """(Re)start the idle timer to fire in ``seconds``."""
        if self._timer is not None:
            self._timer.close()
        self._timer = self._hub.loop.timer(seconds)
        self._timer.start(self._on_timer)
        self._timer_fired = False

    def _on_timer(self) -> None:
        # In the hub: decide, then hand the event to the actor greenlet.
        ms = self._timeout_ms
        if not ms or self._phase is _DESTROYED:
            return
        idle = self._hub.loop.now() - self._last_active
        remaining = ms / 1000.0 - idle
        if remaining > 0.001:
            self._arm_timer(remaining)
            return
        self._timer_fired = True
        self._defer(self._emit_timeout)

    def _emit_timeout(self) -> None:
        if self._phase is not _DESTROYED and self._timeout_ms:
            self.emit("timeout")

    def _touch(self) -> None:
        """Activity: the idle timer restarts (NODE-NET H2)."""
        self._last_active = self._hub.loop.now()
        if self._timer_fired and self._timeout_ms:
            self._arm_timer(self._timeout_ms / 1000.0)

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
        value = (bool(enable), max(0.0, float(initial_delay or 0)))
        if self._keep_alive != value:
            self._keep_alive = value
            self._apply_options()
        return self

    def ref(self) -> Socket:
        """Let this socket keep :func:`gnet.run` blocking (the default)."""
        self._refd = True
        self._hold_ref(self._phase in (_CONNECTING, _OPEN))
        return self

    def unref(self) -> Socket:
        """Stop this socket from keeping :func:`gnet.run` blocking."""
        self._hold_ref(False)
        self._refd = False
        return self

    # ------------------------------------------------------------------
    # state and addresses

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
        return self._sock is None or self._phase is _CONNECTING

    @property
    def server(self) -> Server | None:
        return self._server

    @property
    def auto_select_family_attempted_addresses(self) -> list[str] | None:
        return self._attempted

    def fileno(self) -> int:
        """The connection's descriptor, or -1 (beyond Node, as Python sockets have it)."""
        return self._sock.fileno() if self._sock is not None else -1

    def address(self) -> dict[str, Any]:
        """The local end as ``{'address', 'family', 'port'}``; ``{}`` without a handle or for UNIX."""
        sock = self._sock
        if sock is None:
            return {}
        try:
            return _addr_dict(sock.getsockname(), self._family)
        except OSError:
            return {}

    def _remote_info(self) -> dict[str, Any]:
        if self._remote is None and self._sock is not None and self._phase is _OPEN:
            try:
                self._remote = _addr_dict(self._sock.getpeername(), self._family)
            except OSError:
                return {}
        return self._remote or {}

    @property
    def remote_address(self) -> str | None:
        return self._remote_info().get("address")

    @property
    def remote_port(self) -> int | None:
        return self._remote_info().get("port")

    @property
    def remote_family(self) -> str | None:
        return self._remote_info().get("family")

    @property
    def local_address(self) -> str | None:
        return self.address().get("address")

    @property
    def local_port(self) -> int | None:
        return self.address().get("port")

    @property
    def local_family(self) -> str | None:
        return self.address().get("family")

    # ------------------------------------------------------------------
    # straight-line helpers

    def _begin_read(self, what: str) -> None:
        if self._flowing:
            raise make_error("ERR_GNET_FLOWING", what)
        if self._helper is not None:
            raise make_error("ERR_GNET_CONCURRENT_IO", "a read")
        self._helper = getcurrent()

    def _wait_for_data(self, need: int, deadline: float | None) -> None:
        """Block the calling greenlet until ``need`` units are buffered, EOF, or close."""
        buf = self._rbuf
        if self._in_actor():
            # The socket's own greenlet: read the kernel here, keep events moving.
            while buf.length < need and self._read_side is _READ_OPEN:
                if self._phase is _DESTROYED:
                    raise self._closed_error()
                if self._tasks:
                    self._run_tasks()
                    continue
                if self._phase is _CONNECTING:
                    self._do_connect()
                    continue
                if self._phase is not _OPEN:
                    raise self._closed_error()
                self._read_or_wait(deadline)
        else:
            # Another greenlet: read the kernel here too.  The actor may read
            # as well; both append to the one buffer in order, and greenlets
            # cannot interleave inside a recv, so nothing is lost or reordered.
            while buf.length < need and self._read_side is _READ_OPEN:
                if self._phase is _DESTROYED:
                    raise self._closed_error()
                if self._phase is _OPEN:
                    if self._read_once() is not None:
                        continue
                    self._wait_foreign(_remaining(deadline), self._sock.fileno())
                else:
                    self._wait_foreign(_remaining(deadline))
                if deadline is not None and _now() >= deadline:
                    raise TimeoutError("timed out")
        if self._phase is _DESTROYED and not buf and self._read_side is _READ_OPEN:
            raise self._closed_error()  # closed before the end of stream: not a clean EOF

    def _park_with_deadline(self, watcher: Any, deadline: float | None) -> None:
        if deadline is None:
            self._park(watcher)
            return
        remaining = deadline - _now()
        if remaining <= 0:
            raise TimeoutError("timed out")
        with gevent.Timeout(remaining, TimeoutError("timed out")):
            self._park(watcher)

    def _closed_error(self) -> BaseException:
        if self._errored is not None and not isinstance(self._errored, NodeError):
            return self._errored
        return make_error("ERR_SOCKET_CLOSED")

    def _consumed(self) -> None:
        """After a helper took data: maybe 'end', maybe read more."""
        self._check_end()
        if self._read_side is _READ_OPEN and self._rbuf.length < self._rhwm:
            if not self._in_actor():
                self._wake()

    def recv(self, max_bytes: int = 65536, *, timeout: float | None = None) -> bytes | str:
        """Block until data is available; return at most ``max_bytes`` (b'' at end of stream)."""
        if (
            timeout is None
            and self._phase is _OPEN
            and self._read_side is _READ_OPEN
            and not self._rbuf.length
            and not self._flowing
            and self._helper is None
            and self._decoder is None
            and not self._tasks
            and self._actor is getcurrent()
        ):
            chunk = self._recv_direct(max_bytes)
            if chunk is not None:
                return chunk
        self._begin_read("recv")
        try:
            buf = self._rbuf
            if not buf.length:
                self._wait_for_data(1, None if timeout is None else _deadline(timeout))
            if not buf:
                self._check_end()
                return "" if self._decoder is not None else b""
            return buf.take(max_bytes)
        finally:
            self._helper = None
            self._consumed()

    def _recv_direct(self, max_bytes: int) -> bytes | None:
        """``recv()``'s fast path in the socket's own greenlet: kernel to caller,
        no read buffer.  None when anything unusual happened (the general path
        then takes over, with the state as it is)."""
        view = _recv_buffer.view
        if max_bytes < len(view):
            view = view[:max_bytes]
        me = getcurrent()
        self._helper = me
        try:
            if self._drained:
                watcher = self._read_watcher()
                self._parked = True
                watcher.start(me.switch)
                try:
                    switch_to_hub(self._hub)
                finally:
                    self._parked = False
                    watcher.stop()
                self._drained = False
                if self._tasks or self._phase is not _OPEN or self._flowing:
                    return None
            return self._recv_raw(view) or None
        finally:
            self._helper = None

    def recv_exactly(self, n: int, *, timeout: float | None = None) -> bytes | str:
        """Exactly ``n`` units; ``IncompleteReadError`` (with ``.partial``) at end of stream."""
        self._begin_read("recv_exactly")
        try:
            self._wait_for_data(n, _deadline(timeout))
            if self._rbuf.length < n:
                partial = self._rbuf.take()
                raise IncompleteReadError(partial, n)
            return self._rbuf.take(n)
        finally:
            self._helper = None
            self._consumed()

    def recv_until(
        self,
        separator: bytes | str = b"\n",
        *,
        limit: int = 65536,
        timeout: float | None = None,
    ) -> bytes | str:
        """Up to and including ``separator``.

        ``LimitOverrunError`` if it is not within ``limit`` units (the data
        stays buffered); ``IncompleteReadError`` at end of stream.
        """
        if self._decoder is not None and isinstance(separator, bytes):
            separator = separator.decode(self._encoding or "utf8")
        elif self._decoder is None and isinstance(separator, str):
            separator = separator.encode()
        self._begin_read("recv_until")
        try:
            deadline = _deadline(timeout)
            buf = self._rbuf
            while True:
                end = buf.find(separator, limit)
                if end >= 0:
                    if end > limit:
                        raise LimitOverrunError("separator found, but chunk is longer than limit", end)
                    return buf.take(end)
                if buf.length > limit:
                    raise LimitOverrunError("separator not found within limit", buf.length)
                if self._read_side is not _READ_OPEN:
                    raise IncompleteReadError(buf.take(), None)
                self._wait_for_data(buf.length + 1, deadline)
        finally:
            self._helper = None
            self._consumed()

    def readline(self, *, limit: int = 65536, timeout: float | None = None) -> bytes | str:
        """Like a file's ``readline``: a line with its ``\\n``, the rest at end, then empty."""
        try:
            return self.recv_until("\n" if self._decoder else b"\n", limit=limit, timeout=timeout)
        except IncompleteReadError as exc:
            return exc.partial

    def __iter__(self) -> Iterator[bytes | str]:
        """Chunks until end of stream."""
        while True:
            chunk = self.recv()
            if not chunk:
                return
            yield chunk

    def sendall(self, data: bytes | bytearray | memoryview | str, *, timeout: float | None = None) -> None:
        """Write ``data`` and block until it is handed to the kernel; raise the socket's error."""
        if self._sender is not None:
            raise make_error("ERR_GNET_CONCURRENT_IO", "sendall")
        if self._phase is _DESTROYED:
            raise self._closed_error()
        self.write(data)
        if not self._wqueue and self._phase is not _DESTROYED:
            return
        self._sender = getcurrent()
        deadline = _deadline(timeout)
        try:
            while self._wqueue and not self.destroyed:
                if not self._in_actor():
                    self._wait_foreign(_remaining(deadline))
                    if deadline is not None and _now() >= deadline:
                        raise TimeoutError("timed out")
                elif self._tasks:
                    self._run_tasks()
                elif self.connecting:
                    self._do_connect()
                else:
                    self._park_with_deadline(None, deadline)
            if self.destroyed:
                raise self._closed_error()
        finally:
            self._sender = None

    def makefile(self, mode: str = "rb", buffering: int | None = None, **kwargs: Any) -> Any:
        """A file object over the socket, for legacy code (``'rb'``, ``'wb'``, ``'rwb'``, text)."""
        from ._file import make_file

        return make_file(self, mode, buffering, **kwargs)

    def __enter__(self) -> Socket:
        return self

    def __exit__(self, exc_type: Any, exc: BaseException | None, tb: Any) -> None:
        if exc is None:
            self.end()
        else:
            self.destroy(exc if isinstance(exc, Exception) else None)


# ----------------------------------------------------------------------
# helpers


class _Cancelled(Exception):
    """The socket was destroyed while connecting: stop quietly (NODE-NET C16)."""


class _AttemptTimeout(Exception):
    """One Happy Eyeballs attempt ran out of time."""


def _writable_now(sock: Any) -> bool:
    try:
        sock.getpeername()
        return True
    except OSError:
        return False


def _interleave(addresses: list[tuple[str, int]]) -> list[tuple[str, int]]:
    """Node's Happy Eyeballs order: families alternate, starting with the first result's."""
    first = addresses[0][1]
    same = [a for a in addresses if a[1] == first]
    other = [a for a in addresses if a[1] != first]
    out: list[tuple[str, int]] = []
    for i in range(max(len(same), len(other))):
        if i < len(same):
            out.append(same[i])
        if i < len(other):
            out.append(other[i])
    return out


def _call_custom_lookup(lookup: Callable[..., Any], host: str, family: int) -> list[tuple[str, int]]:
    """Call a Node-style ``lookup(host, options, callback)`` and wait for its answer."""
    result = gevent.event.AsyncResult()

    def callback(err: Any, address: Any = None, fam: Any = None) -> None:
        if err:
            result.set_exception(err if isinstance(err, BaseException) else OSError(str(err)))
        elif isinstance(address, list):
            result.set([(a["address"], a["family"]) if isinstance(a, dict) else tuple(a) for a in address])
        else:
            result.set([(address, fam)])

    lookup(host, {"family": family, "all": True}, callback)
    value: list[tuple[str, int]] = result.get()
    return value


def _now() -> float:
    return float(gevent.get_hub().loop.now())


def _deadline(timeout: float | None) -> float | None:
    return None if timeout is None else _now() + timeout


def _remaining(deadline: float | None) -> float | None:
    return None if deadline is None else max(0.0, deadline - _now())


# ----------------------------------------------------------------------
# module functions


def connect(*args: Any, **kwargs: Any) -> Socket:
    """Node's ``net.connect(...)``/``createConnection``: a new Socket, connecting.

    Forms: ``(port, host='localhost', connect_listener=None)``, ``(path,
    connect_listener=None)``, ``(options, connect_listener=None)``.
    """
    options, callback = normalize_connect_args(args, dict(kwargs))
    sock = Socket({k: options[k] for k in ("allow_half_open", "high_water_mark") if k in options})
    return sock.connect(options, callback) if callback else sock.connect(options)


create_connection = connect


def open_connection(*args: Any, timeout: float | None = None, **kwargs: Any) -> Socket:
    """Blocking connect: return a connected Socket or raise the connect error.

    Same forms as :func:`connect`; ``timeout`` in seconds covers the whole
    connect (the socket is destroyed and ``TimeoutError`` raised).
    """
    args, _ = split_callback(args, None)
    sock = connect(*args, **kwargs)
    result = gevent.event.AsyncResult()

    def on_connect() -> None:
        result.set(None)

    def on_close(had_error: bool) -> None:
        if not had_error:
            result.set(None)

    sock.once("connect", on_connect)
    sock.once("error", result.set_exception)
    sock.once("close", on_close)
    try:
        result.get(timeout=timeout)
    except gevent.Timeout:
        sock.destroy()
        raise TimeoutError(f"connect timed out after {timeout} s") from None
    except BaseException:
        sock.destroy()
        raise
    finally:
        # The socket returned is the caller's: no 'error' listener of ours
        # may swallow its later errors.
        sock.remove_listener("connect", on_connect)
        sock.remove_listener("error", result.set_exception)
        sock.remove_listener("close", on_close)
    if sock.destroyed:
        raise make_error("ERR_SOCKET_CLOSED")
    return sock
