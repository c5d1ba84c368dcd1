# mypy: disable-error-code="empty-body"
"""The readable side of Node's Duplex socket: reading, flowing and paused, ``'end'``.

A mixin of :class:`gnet.socket.Socket` (which declares the state it uses).
Node's model (stream.md): a socket starts with ``readable_flowing`` None; a
``'data'`` listener, ``resume()`` or ``pipe()`` make it flow, ``pause()``
stops it.  Received data that nobody consumes waits in the read buffer, and
reading from the transport stops once ``readable_length`` reaches the
high-water mark, so a peer that sends faster than the socket consumes is
pushed back by TCP (:meth:`_wants_read` is that rule).

All reads go through :meth:`_read_chunk`, the one receive path (byte
accounting, end of stream, error mapping), except the flowing loop
:meth:`_pump`, which inlines it and the actor's park: that loop is the
per-message hot path of a Node-style server, and each call it saves is
~5% of a round trip.

End of stream: the peer's FIN moves the read side to ``EOF``; once a
consumer has taken everything buffered, ``'end'`` is emitted, and (unless
``allow_half_open``) the socket then ends its own side (half-close rules,
NODE-NET F1-F4).

``'readable'`` (stream.md): attaching a listener pauses the socket (it
does not flow while one is attached, ``resume()`` included); the socket
reads ahead up to the high-water mark, and ``'readable'`` fires when data
has been buffered and once at the end of the stream, where ``read()``
returns what is left, then None, and ``'end'`` follows.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from greenlet import getcurrent

from ._aliases import with_camel_aliases
from .actor import switch_to_hub
from .encodings import decoder
from .errors import io_error, make_error
from .pipe import Pipe
from .state import READ, Phase, ReadSide, WriteSide
from .transport import RECV_SIZE

if TYPE_CHECKING:
    from collections.abc import Callable

    from .buffers import ReadBuffer, WriteQueue
    from .socket import Socket
    from .timers import IdleTimer
    from .transport import Transport

__all__ = ["Readable"]

_OPEN = Phase.OPEN
_DESTROYED = Phase.DESTROYED
_R_IDLE, _R_OPEN, _R_EOF, _R_QUEUED, _R_ENDED = (
    ReadSide.IDLE,
    ReadSide.OPEN,
    ReadSide.EOF,
    ReadSide.END_QUEUED,
    ReadSide.ENDED,
)
_W_OPEN = WriteSide.OPEN
_READ_BURST = 16  # full reads in a row before a flowing socket yields to the hub


_MAX_READ = 1 << 30  # Node: read() of more than 1 GiB is out of range


def _read_size(size: Any) -> int | None:
    if isinstance(size, bool) or not isinstance(size, (int, float)):
        raise make_error("ERR_INVALID_ARG_TYPE", "size", "of type number", size)
    if size != size or size in (float("inf"), float("-inf")):  # parseInt: NaN, all
        return None
    if size > _MAX_READ:
        raise make_error("ERR_OUT_OF_RANGE", "size", "<= 1GiB", size)
    return max(0, int(size))


@with_camel_aliases
class Readable:
    """Node's Readable half: ``'data'``, ``pause``/``resume``, ``read()``, ``pipe``, ``'end'``."""

    if not TYPE_CHECKING:
        # Slots of its own would clash with Socket's layout; hidden from mypy,
        # which would otherwise refuse assignments to the Socket's slots here.
        __slots__ = ()
    else:
        _transport: Transport | None
        _phase: Phase
        _read_side: ReadSide
        _write_side: WriteSide
        _flowing: bool | None
        _rbuf: ReadBuffer
        _rhwm: int
        _wq: WriteQueue
        _decoder: Callable[..., str] | None
        _encoding: str | None
        _drained: bool
        _view: memoryview
        _readable_queued: bool
        _events: dict[Any, Any]
        _idle: IdleTimer | None
        _pipes: tuple[Pipe, ...]
        _tasks: list[Any] | None
        _waker: Any
        _parked: bool
        _hub: Any
        bytes_read: int
        allow_half_open: bool

        def emit(self, event: Any, *args: Any) -> bool: ...
        def _defer(self, fn: Any, *args: Any) -> None: ...
        def _wake(self) -> None: ...
        def _park(self, watcher: Any = None, timer: Any = None) -> None: ...
        def _wait(self, watcher: Any = None, deadline: float | None = None) -> None: ...
        def destroy(self, error: BaseException | None = None) -> Socket: ...
        def end(self, data: Any = None, encoding: Any = None, callback: Any = None) -> Socket: ...
        def _maybe_destroy(self) -> None: ...

    # -- Node's properties ---------------------------------------------------

    @property
    def readable(self) -> bool:
        """Node's ``readable``: True until ``'end'`` (or destroy)."""
        return self._phase < _DESTROYED and self._read_side is not _R_ENDED

    @property
    def readable_length(self) -> int:
        return self._rbuf.sync()

    @property
    def readable_high_water_mark(self) -> int:
        return self._rhwm

    @property
    def readable_flowing(self) -> bool | None:
        return self._flowing

    @property
    def readable_ended(self) -> bool:
        return self._read_side is _R_ENDED

    # -- flowing and paused --------------------------------------------------

    def _listener_added(self, event: Any) -> None:
        # Node: adding a 'data' listener starts flowing unless pause() was called.
        if event == "data" and self._flowing is None:
            self.resume()
        elif event == "readable" and self._read_side is not _R_ENDED:
            # Node: a 'readable' listener stops flowing and starts reading ahead.
            self._flowing = False
            self._start_reading()
            if self._rbuf or self._read_side is _R_EOF:
                self._queue_readable()
            self._wake()

    def _listener_removed(self, event: Any) -> None:
        # Node's updateReadableListening: without 'readable' listeners the
        # 'data' listeners (if any) make it flow again.
        if event == "readable" and "readable" not in self._events:
            if "data" in self._events:
                self.resume()
            elif self._flowing is False:
                self._flowing = None

    def _queue_readable(self) -> None:
        """``'readable'`` after this call, once however often it is asked for meanwhile."""
        if not getattr(self, "_readable_queued", False):  # unset until the first one
            self._readable_queued = True
            self._defer(self._emit_readable)

    def _emit_readable(self) -> None:
        self._readable_queued = False
        side = self._read_side
        if self._phase < _DESTROYED and (self._rbuf or side is _R_EOF or side is _R_QUEUED):
            self.emit("readable")  # data, or the end of the stream (before 'end')

    def set_encoding(self, encoding: str | None = "utf8") -> Socket:
        """Node's ``setEncoding``: ``'data'`` and the helpers yield ``str``, decoded incrementally."""
        self._decoder = decoder(encoding or "utf8")
        self._encoding = encoding or "utf8"
        self._rbuf.empty = ""
        if self._rbuf:  # buffered bytes are re-read as text; text stays as it is
            raw = self._rbuf.take()
            self._rbuf.push(raw if isinstance(raw, str) else self._decoder(raw))
        return self  # type: ignore[return-value]

    def pause(self) -> Socket:
        """Stop ``'data'``; reading stops once the buffer reaches the high-water mark."""
        self._flowing = False
        return self  # type: ignore[return-value]

    def resume(self) -> Socket:
        """Start (or restart) ``'data'``; with no ``'data'`` listener the data is discarded.

        While a ``'readable'`` listener is attached the socket stays paused (Node).
        """
        self._flowing = "readable" not in self._events
        if self._flowing and self._rbuf.armed:
            self._rbuf.disarm()  # the blocking helpers' fast paths stop (gnet.blocking)
        self._start_reading()
        if self._phase < _DESTROYED:
            self._check_end()  # the FIN may have come while paused, with nothing buffered
            self._wake()
        return self  # type: ignore[return-value]

    def is_paused(self) -> bool:
        return self._flowing is False

    def _start_reading(self) -> None:
        """A socket held back (pause_on_connect, or paused before it connected)
        starts reading at ``resume()`` or ``read()``."""
        if self._read_side is _R_IDLE and self._phase is _OPEN:
            self._read_side = READ["start"][_R_IDLE]

    def read(self, size: int | None = None) -> bytes | str | None:
        """Node's non-blocking ``read([size])``: buffered data, or None if not enough.

        ``size`` as Node reads it: None, NaN or infinity mean all that is
        buffered, a fraction is cut to an integer, 0 or less returns None (and
        only starts reading); over 1 GiB is ``ERR_OUT_OF_RANGE``.  A size that
        is not a number raises ``ERR_INVALID_ARG_TYPE`` (Node reads it as NaN).
        """
        if size is not None:
            size = _read_size(size)
        buf = self._rbuf
        self._start_reading()  # Node's read() -> _read(): reading starts even if paused
        if size == 0:
            if not buf:
                self._check_end()
            self._wake()
            return None
        if size is not None and size > buf.sync() and self._read_side is _R_OPEN:
            self._wake()
            return None
        if not buf:
            self._check_end()
            return None
        out = buf.take(size)
        self._check_end()
        self._wake()
        if "data" in self._events:  # Node: what read() returns is also a 'data' event
            self.emit("data", out)
        return out

    def unshift(self, chunk: bytes | str) -> None:
        """Put data back at the front of the read buffer (Node's ``unshift``)."""
        self._rbuf.unshift(chunk)

    def pipe(self, dest: Any, end: bool = True, **options: Any) -> Any:
        """Node's ``readable.pipe(dest)``: returns ``dest``; backpressure both ways."""
        end = options.get("end", end)
        if not isinstance(dest, Readable) and not all(
            callable(getattr(dest, name, None)) for name in ("write", "on", "remove_listener")
        ):
            # Checked first: a Pipe half made would already consume the stream.
            raise make_error("ERR_INVALID_ARG_TYPE", "destination", "a writable stream (write(), on())", dest)
        self._pipes += (Pipe(self, dest, bool(end)),)  # type: ignore[arg-type]
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
        return self  # type: ignore[return-value]

    # -- reading from the transport ------------------------------------------

    def _wants_read(self) -> bool:
        """Read ahead only while someone will consume it: flowing, or below the
        high-water mark (Node's backpressure on a paused socket)."""
        if self._read_side is not _R_OPEN:
            return False
        buf = self._rbuf
        # buf.length may still count what the helpers took: sync only when it decides.
        return bool(self._flowing) or buf.length < self._rhwm or buf.sync() < self._rhwm

    def _read_chunk(self, view: memoryview) -> bytes | None:
        """The one receive path: one ``recv_into(view)`` on the transport, accounted.

        Returns the bytes; ``b''`` once the stream has ended or failed (both
        handled here: EOF moves the read side, an error destroys the
        socket); None when the transport had nothing (wait before the next).
        """
        try:
            n = self._transport.recv_into(view)  # type: ignore[union-attr]
        except (BlockingIOError, InterruptedError):
            self._drained = True
            return None
        except OSError as exc:
            self.destroy(io_error(exc, "read"))
            return b""
        if n == 0:
            self._on_eof()
            return b""
        self._drained = n < len(view)
        self.bytes_read += n
        if self._idle is not None:
            self._idle.touch()
        return view[:n].tobytes()

    def _read_once(self) -> bool | None:
        """One read into the buffer (or out as ``'data'``): True if it made
        progress, None when the transport had nothing."""
        raw = self._read_chunk(self._view)
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
            if "readable" in self._events:
                self._queue_readable()
        return True

    def _read_or_wait(self, deadline: float | None = None) -> None:
        """One read into the buffer, or (when the transport was drained) one wait for data."""
        if self._drained:
            self._wait(self._transport.read_watcher(), deadline)  # type: ignore[union-attr]
            self._drained = False  # readable now, or woken for another reason
        else:
            self._read_once()  # on EAGAIN it marks the transport drained: next time, wait

    def _pump(self, once: bool = False) -> None:
        """The flowing read loop: read and emit ``'data'`` until something changes
        (or, with ``once``, until one chunk has been emitted).

        :meth:`_read_chunk` inlined: the hot path of a Node-style server,
        kept in one frame.  After a short read (the transport had no more)
        it waits for readability rather than trying a read that would only
        raise EAGAIN.
        """
        transport: Any = self._transport
        view = self._view
        # Neither len(view) nor self.emit is kept in a local: while the
        # connection sits idle this frame holds its locals, and a fresh int
        # and bound method would cost 92 bytes in each idle connection.
        size = RECV_SIZE  # len(view): every socket's view is its thread's receive buffer
        watcher = transport.read_watcher()
        switch = getcurrent().switch
        hub = self._hub
        burst = 0
        chunk: Any = None
        while True:
            if self._drained:
                if self._tasks:
                    return
                burst = 0
                chunk = None  # a parked connection holds no chunk (up to 64 KiB) it has emitted
                # Actor._park inlined, with the switch made once per pump
                # rather than per wait: this wait happens once per message.
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
                # Looked up each time, not bound once: a bound C method is
                # called through the generic path, a method lookup through
                # the fast one.
                n = transport.recv_into(view)
            except BlockingIOError:
                self._drained = True
                continue
            except InterruptedError:
                continue
            except OSError as exc:
                self.destroy(io_error(exc, "read"))
                return
            if n == 0:
                self._on_eof()
                return
            burst += 1
            # A full read means more is waiting, but reading on without
            # yielding would starve this socket's own write flush (a
            # 'data' -> write() echo grows its queue without bound) and the
            # other connections: Node's loop, too, alternates.
            self._drained = n < size or burst >= _READ_BURST or self._wq.length > 0
            self.bytes_read += n
            if self._idle is not None:
                self._idle.touch()
            chunk = view[:n].tobytes()
            if self._decoder is not None:
                chunk = self._decoder(chunk)
                if not chunk:
                    continue
            self.emit("data", chunk)
            if self._tasks or not self._flowing or self._phase is not _OPEN or self._rbuf.length or once:
                return

    def _flow_buffered(self) -> None:
        while self._flowing and self._rbuf:
            self.emit("data", self._rbuf.popleft())
        self._check_end()

    # -- the end of the stream -----------------------------------------------

    def _on_eof(self) -> None:
        self._read_side = READ["eof"][self._read_side]
        # The helpers' fast paths stop here (gnet.blocking): from now on a
        # read must notice when it takes the last unit, to schedule 'end'.
        self._rbuf.disarm()
        if self._decoder is not None:
            rest = self._decoder(b"", True)
            if rest:
                self._rbuf.push(rest)
        if "readable" in self._events:
            self._queue_readable()  # before 'end': the last read() comes first
        if self._flowing or not self._rbuf.length:
            # Node's read(0) after EOF: with nothing buffered, 'end' needs no consumer.
            self._check_end()
        if self._waker is not None:
            self._waker.set()

    def _check_end(self) -> None:
        """Schedule ``'end'`` once a consumer has reached the peer's FIN."""
        if self._read_side is _R_EOF and not self._rbuf:
            self._read_side = READ["consumed"][_R_EOF]
            self._defer(self._emit_end)

    def _emit_end(self) -> None:
        if self._read_side is not _R_QUEUED or self._phase >= _DESTROYED:
            return
        self._read_side = READ["ended"][_R_QUEUED]
        self.emit("end")
        if not self.allow_half_open and self._phase is _OPEN:
            self._defer(self._auto_end)
        else:
            self._maybe_destroy()

    def _auto_end(self) -> None:
        """Half-close off (the default): the peer's FIN ends our side too."""
        if self._write_side is _W_OPEN:
            self.end()
        else:
            self._maybe_destroy()
