# mypy: disable-error-code="empty-body"
"""The writable side of Node's Duplex socket: ``write``, cork, ``'drain'``, ``end``/``'finish'``.

A mixin of :class:`gnet.socket.Socket` (which declares the state it uses).
``write()`` never blocks: it hands the data to the transport at once when
nothing is queued and queues only what the transport did not take.  A hub
io watcher flushes the queue; flushing runs no user code, so a socket's
writes progress even while its own greenlet is busy in a blocking handler.
The resulting ``'drain'``, write callbacks and ``'finish'`` are delivered by
the actor greenlet, in order.

``write()`` returns False once ``writable_length`` reaches the high-water
mark (computed after the first send attempt, as Node v20 does); ``'drain'``
follows when the queue has been flushed.  ``end()`` flushes, then shuts the
write side (FIN); ``'finish'`` follows.

Coalescing (beyond Node), for straight-line handlers answering pipelined
requests: bytes written (``write`` or ``sendall``) while unconsumed input
is buffered are *held* in the queue rather than sent, so a batch of replies
leaves in one send instead of one per reply (which, with Nagle on, would
also wait for the peer's delayed ACK).  Held bytes leave, all together:

* as soon as a write finds the read buffer empty (the handler has answered
  the last buffered request: the batch is done);
* when the held bytes would reach the write high-water mark;
* at the end of the current turn of the event loop, that is when the
  writing greenlet next waits for anything (more input included);
* at ``end()``, ``uncork()``, and a normal exit of ``with sock:``;
* at ``destroy()``: handed to the kernel first, without waiting.

A write with nothing buffered to read (a lone request's reply, any write of
a flowing socket whose chunk came straight from the kernel) is never held.
``cork()`` keeps its meaning: held bytes stay until ``uncork()``.
"""

from __future__ import annotations

from collections.abc import Callable
from time import monotonic
from typing import TYPE_CHECKING, Any

from . import diagnostics
from ._aliases import with_camel_aliases
from .encodings import encoder, normalize_encoding
from .errors import io_error, make_error, system_error
from .options import node_callback
from .state import WRITE, Phase, ReadSide, WriteSide

if TYPE_CHECKING:
    from gevent.hub import Hub

    from .buffers import ReadBuffer, WriteQueue
    from .socket import Socket
    from .timers import IdleTimer
    from .transport import Transport

__all__ = ["Writable"]

Callback = Callable[..., Any]

_NEW, _CONNECTING, _OPEN, _DESTROYED = Phase.NEW, Phase.CONNECTING, Phase.OPEN, Phase.DESTROYED
_R_ENDED = ReadSide.ENDED
_W_OPEN, _W_ENDING, _W_FINISHED = WriteSide.OPEN, WriteSide.ENDING, WriteSide.FINISHED
_SENDMSG_MAX = 512  # buffers per sendmsg (IOV_MAX is 1024)


@with_camel_aliases
class Writable:
    """Node's Writable half: ``write``, ``cork``/``uncork``, ``end``, ``'drain'``, ``'finish'``."""

    if not TYPE_CHECKING:
        # Slots of its own would clash with Socket's layout; hidden from mypy,
        # which would otherwise refuse assignments to the Socket's slots here.
        __slots__ = ()
    else:
        _transport: Transport | None
        _phase: Phase
        _read_side: ReadSide
        _write_side: WriteSide
        _wq: WriteQueue
        _rbuf: ReadBuffer
        _hub: Hub
        _whwm: int
        _bytes_written: int
        _end_callbacks: tuple[Callback, ...]
        _idle: IdleTimer | None
        _sender: Any
        _waker: Any
        _pressured_at: float | None
        allow_half_open: bool

        def emit(self, event: Any, *args: Any) -> bool: ...
        def _defer(self, fn: Any, *args: Any) -> None: ...
        def _wake(self) -> None: ...
        def destroy(self, error: BaseException | None = None) -> Socket: ...
        def _maybe_destroy(self) -> None: ...

    # -- Node's properties ---------------------------------------------------

    @property
    def writable(self) -> bool:
        return self._phase < _DESTROYED and self._write_side is _W_OPEN

    @property
    def writable_length(self) -> int:
        """Bytes written but not yet handed to the kernel (a TLS transport's
        unsent ciphertext included)."""
        transport = self._transport
        return self._wq.length + (transport.pending if transport is not None else 0)

    @property
    def writable_high_water_mark(self) -> int:
        return self._whwm

    @property
    def writable_need_drain(self) -> bool:
        return self._wq.need_drain

    @property
    def writable_ended(self) -> bool:
        return self._write_side is not _W_OPEN

    @property
    def writable_finished(self) -> bool:
        return self._write_side is _W_FINISHED

    @property
    def buffer_size(self) -> int | None:
        """Deprecated in Node: ``writable_length`` when there is a handle, else None."""
        if self._transport is not None or self._phase is _CONNECTING:
            return self.writable_length
        return None

    @property
    def bytes_written(self) -> int:
        """Bytes written so far, including those still queued (Node's rule)."""
        return self._bytes_written

    # -- writing -------------------------------------------------------------

    def write(
        self,
        data: bytes | bytearray | memoryview | str,
        encoding: str | Callback | None = None,
        callback: Callback | None = None,
    ) -> bool:
        """Node's ``write(data[, encoding][, callback])``: never blocks.

        Sends at once what the transport takes and queues the rest.  Returns
        False once ``writable_length`` reaches ``writable_high_water_mark``
        (then ``'drain'`` follows the flush).  ``callback(err)`` runs, in
        order, once the data is handed to the kernel.
        """
        if encoding is not None:
            if callable(encoding):
                encoding, callback = None, encoding
            elif type(data) is not str:
                normalize_encoding(encoding)  # Node checks the name for a Buffer too
        if callback is not None:
            callback = node_callback(callback)
        chunk = data if type(data) is bytes else _to_bytes(data, encoding)
        wq = self._wq
        # The common case first, in as few steps as possible: open, nothing
        # queued, the transport takes it all.
        if self._phase is _OPEN and self._write_side is _W_OPEN and not wq.entries and not wq.corked:
            size = len(chunk)
            self._bytes_written += size
            if self._idle is not None:
                self._idle.touch()
            transport: Any = self._transport
            if self._rbuf.length and size < self._whwm and not transport.pending and self._rbuf.sync():
                self._hold(chunk, callback)  # input still buffered: a batch is under way
                return True
            try:
                sent = transport.send(chunk)
            except BlockingIOError:
                sent = 0
            except OSError as exc:
                wq.push(chunk, callback)
                self.destroy(io_error(exc, "write"))
                return False
            if sent == size:
                if callback is not None:
                    self._defer(callback, None)
                if not transport.pending:
                    return True
                # A transport that took more than the kernel did (TLS: its
                # ciphertext) is flushed when the descriptor is writable.
            else:
                wq.push(memoryview(chunk)[sent:], callback)  # the unsent part, not a copy of it
            transport.write_watcher().start(self._on_writable)
        elif self._write_side is not _W_OPEN or self._phase >= _DESTROYED:
            return self._write_refused(callback)
        else:  # connecting, corked, or behind queued data: in order, after them
            self._bytes_written += len(chunk)
            if self._idle is not None:
                self._idle.touch()
            wq.push(chunk, callback)
            if wq.held:
                if self._rbuf.length and wq.length < self._whwm and self._rbuf.sync():
                    return True  # still holding (all that is queued is held, below the mark)
                self._release_hold()  # the batch is answered, or big enough
        if self.writable_length >= self._whwm:
            if not wq.need_drain and diagnostics.subscribed():
                self._backpressure_started()
            wq.need_drain = True
            return False
        return True

    def _backpressure_started(self) -> None:
        # The start is kept only while someone subscribes: 'drain' then says how long it took.
        event = diagnostics.BackpressureStarted(self, self.writable_length)  # type: ignore[arg-type]
        self._pressured_at = event.at
        diagnostics.publish(event)

    def _write_refused(self, callback: Callback | None) -> bool:
        if self._read_side is _R_ENDED and not self.allow_half_open:
            # Node v20's writeAfterFIN (NODE-NET E10): once the automatic
            # end() after the peer's FIN has run, a write gets EPIPE in its
            # callback and destroys the socket with it; on a socket already
            # destroyed (its 'close' still pending) that adds no 'error'.
            err: BaseException = system_error("EPIPE", None, message="This socket has been ended by the other party")
            if callback is not None:
                self._defer(callback, err)
            self.destroy(err)
            return False
        if self._phase >= _DESTROYED:
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

    def _on_writable(self) -> None:
        # In the hub: no user code here, only I/O; events go through _defer.
        try:
            self._flush()
        except BaseException as exc:  # noqa: B036 - nothing may escape into the hub
            self.destroy(exc)

    def _flush(self) -> None:
        """Hand the transport what it takes from the queue; finish up once it is all out."""
        wq = self._wq
        wq.held = False  # whatever was held goes now
        transport = self._transport
        assert transport is not None
        while self._phase is _OPEN:
            entries = wq.entries
            try:
                if entries:
                    if len(entries) == 1:
                        sent = transport.send(entries[0][0])
                    else:
                        sent = transport.sendmsg(wq.buffers(_SENDMSG_MAX))
                elif transport.pending and not transport.flush():
                    raise BlockingIOError  # a TLS transport still holds ciphertext
                else:
                    break
            except BlockingIOError:
                watcher = transport.write_watcher()
                if not watcher.active:
                    watcher.start(self._on_writable)
                return
            except InterruptedError:
                continue
            except OSError as exc:
                self.destroy(io_error(exc, "write"))
                return
            for callback in wq.consume(sent):
                self._defer(callback, None)
        if self._phase is not _OPEN:
            return
        transport.stop_write_watcher()
        if self._sender is not None or self._waker is not None:
            self._wake()
        if wq.need_drain:
            wq.need_drain = False
            self._defer(self._emit_drain)
        if self._write_side is _W_ENDING:
            self._shutdown_write()

    # -- coalescing (see the module docstring) --------------------------------

    def _hold(self, chunk: bytes, callback: Callback | None) -> None:
        """Queue ``chunk`` without sending it: the first write of a batch."""
        wq = self._wq
        wq.push(chunk, callback)
        wq.held = True
        self._hub.loop.run_callback(self._end_of_turn)

    def _release_hold(self) -> None:
        """Send what the queue holds (unless corked: uncork() will)."""
        wq = self._wq
        if wq.held:
            wq.held = False
            if not wq.corked and self._phase is _OPEN:
                self._flush()

    def _end_of_turn(self) -> None:
        # In the hub, once the greenlet that held the bytes has let it run.
        try:
            self._release_hold()
        except BaseException as exc:  # noqa: B036 - nothing may escape into the hub
            self.destroy(exc)

    def _send_held(self) -> None:
        """For ``destroy()``: hand held bytes to the kernel first, as far as it takes
        them without waiting (as they would have been, written one by one).
        What it does not take is dropped with the rest of the queue, as
        Node's ``destroy()`` drops queued writes."""
        wq = self._wq
        wq.held = False
        transport = self._transport
        if transport is None or self._phase is not _OPEN or wq.corked:
            return
        try:
            while wq.entries:
                if len(wq.entries) == 1:
                    sent = transport.send(wq.entries[0][0])
                else:
                    sent = transport.sendmsg(wq.buffers(_SENDMSG_MAX))
                for callback in wq.consume(sent):
                    self._defer(callback, None)
            transport.flush()
        except OSError:
            pass  # the kernel takes no more now, or the connection failed: dropped

    def _emit_drain(self) -> None:
        if self._phase < _DESTROYED:
            started = self._pressured_at
            if started is not None:
                self._pressured_at = None
                diagnostics.publish_new(diagnostics.BackpressureEnded, self, monotonic() - started)
            self.emit("drain")

    def cork(self) -> None:
        """Hold writes until :meth:`uncork` (they go out together)."""
        self._wq.corked += 1

    def uncork(self) -> None:
        wq = self._wq
        if wq.corked:
            wq.corked -= 1
            if not wq.corked and wq.entries and self._phase is _OPEN:
                self._flush()

    # -- ending --------------------------------------------------------------

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
        if callback is not None:
            callback = node_callback(callback)  # checked before anything is written
        if data is not None:
            self.write(data, encoding)
        if callback is not None:
            if self._write_side is _W_FINISHED:
                self._defer(callback, make_error("ERR_STREAM_ALREADY_FINISHED", "end"))
            elif self._phase >= _DESTROYED:
                self._defer(callback, make_error("ERR_STREAM_DESTROYED", "end"))
            else:
                self._end_callbacks += (callback,)
        if self._write_side is _W_OPEN and self._phase < _DESTROYED:
            self._write_side = WRITE["end"][_W_OPEN]
            self._wq.corked = 0
            if self._phase is _OPEN:
                self._flush()  # FIN once the queue is out
            elif self._phase is _NEW:
                self._defer(self._finish)  # nothing to shut: Node still finishes
        return self  # type: ignore[return-value]

    def _shutdown_write(self) -> None:
        try:
            self._transport.shutdown_write()  # type: ignore[union-attr]
        except OSError as exc:
            self.destroy(exc)
            return
        self._defer(self._finish)

    def _finish(self) -> None:
        if self._phase >= _DESTROYED or self._write_side is not _W_ENDING:
            return
        self._write_side = WRITE["finished"][_W_ENDING]
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
        if self._write_side is _W_OPEN:
            self.once("finish", self.destroy)  # type: ignore[attr-defined]
            self.end()
        elif self._write_side is _W_FINISHED:
            self.destroy()
        else:
            self.once("finish", self.destroy)  # type: ignore[attr-defined]


def _to_bytes(data: Any, encoding: str | None) -> bytes:
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
