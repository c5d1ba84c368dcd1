# mypy: disable-error-code="empty-body"
"""Beyond Node: the straight-line helpers, so a handler can read like a story.

A mixin of :class:`gnet.socket.Socket`: ``recv``, ``recv_exactly``,
``recv_until``, ``readline``, iteration, ``sendall``, ``makefile`` and
``with sock:``.  They block the calling greenlet only, and share the
socket's one stream with the events: bytes a helper read ahead but did not
return stay in the read buffer and are delivered first once the socket
flows.

Reading:

* When what a helper asks for is already buffered, it costs about what a
  buffered file's method costs: one call into the read buffer's head (an
  in-memory file: find, slice, move an offset), no guard, no deadline, no
  switch.  Everything below is paid only when it has to wait.
* Called in the socket's own greenlet (the usual connection handler), a
  helper reads the transport itself and keeps the socket's events moving
  while it waits (:meth:`gnet.actor.Actor._wait` runs queued tasks), so it
  needs no extra greenlet switch.
* Called from any other greenlet, it reads the transport too, and waits for
  the socket's next state change or for readability.  Both append to the
  one buffer in order, and greenlets cannot interleave inside a read.
* One reader and one ``sendall`` at a time: a second greenlet gets
  ``ERR_GNET_CONCURRENT_IO``; a helper called while the socket flows gets
  ``ERR_GNET_FLOWING``; ``destroy()`` wakes a blocked helper with the
  socket's error or ``ERR_SOCKET_CLOSED``.  Timeouts (seconds) raise
  ``TimeoutError`` and lose nothing; a ``gevent.Timeout`` of the caller's
  own passes through every helper untouched, so ``with
  gevent.Timeout(seconds):`` bounds a whole exchange.
* ``recv_exactly(n)`` never makes the buffer hold more than ``n`` units or
  the socket's readable high-water mark, whichever is larger (Node's bound
  on what a socket reads ahead): what follows stays in the kernel, under
  TCP's flow control, however large a length the peer announces next.

Writing: a reply written while the handler still has buffered input to
work through (a pipelined batch) is held and leaves with the batch's other
replies in one send; see :mod:`gnet.writable` ("Coalescing") for exactly
when held bytes leave.  ``sendall`` returns once its bytes are handed to
the kernel, or once they are held for such a batch.
"""

from __future__ import annotations

import io
import operator
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from greenlet import getcurrent

from ._aliases import with_camel_aliases
from .actor import deadline_after, switch_to_hub
from .buffers import LINE_LIMIT
from .checks import validate_timeout
from .errors import IncompleteReadError, LimitOverrunError, NodeError, make_error
from .state import Phase, ReadSide

if TYPE_CHECKING:
    from .buffers import ReadBuffer, WriteQueue
    from .socket import Socket
    from .tls.socket import TLSSocket
    from .transport import Transport

__all__ = ["Blocking", "make_file"]

_CONNECTING, _OPEN, _DESTROYED = Phase.CONNECTING, Phase.OPEN, Phase.DESTROYED
_R_OPEN = ReadSide.OPEN
_NUMBER = (int, float)  # the timeouts the fast paths accept without a closer look


def _size(value: Any, name: str) -> int:
    """A count of units: an integer >= 0, else Node's error for it."""
    try:
        n = operator.index(value)
    except TypeError:
        raise make_error("ERR_INVALID_ARG_TYPE", name, "of type int", value) from None
    if n < 0:
        raise make_error("ERR_OUT_OF_RANGE", name, ">= 0", value)
    return n


@with_camel_aliases
class Blocking:
    """The blocking helpers of :class:`~gnet.socket.Socket` (see the module docstring)."""

    if not TYPE_CHECKING:
        # Slots of its own would clash with Socket's layout; hidden from mypy,
        # which would otherwise refuse assignments to the Socket's slots here.
        __slots__ = ()
    else:
        _transport: Transport | None
        _phase: Phase
        _read_side: ReadSide
        _flowing: bool | None
        _rbuf: ReadBuffer
        _rhwm: int
        _wq: WriteQueue
        _decoder: Any
        _encoding: str | None
        _drained: bool
        _view: memoryview
        _tasks: list[Any] | None
        _actor: Any
        _reader: Any
        _sender: Any
        _waker: Any
        _hub: Any
        _parked: bool
        _errored: BaseException | None
        _idle: Any
        bytes_read: int

        def _in_actor(self) -> bool: ...
        def _run_tasks(self) -> None: ...
        def _wake(self) -> None: ...
        def _park(self, watcher: Any = None, timer: Any = None) -> None: ...
        def _wait(self, watcher: Any = None, deadline: float | None = None) -> None: ...
        def _do_connect(self) -> None: ...
        def _read_chunk(self, view: memoryview) -> bytes | None: ...
        def _check_end(self) -> None: ...
        def _on_eof(self) -> None: ...
        def _release_hold(self) -> None: ...
        def write(self, data: Any, encoding: Any = None, callback: Any = None) -> bool: ...
        def end(self, data: Any = None, encoding: Any = None, callback: Any = None) -> Socket: ...
        def destroy(self, error: BaseException | None = None) -> Socket: ...

        @property
        def destroyed(self) -> bool: ...

    # -- the guard and the wait ----------------------------------------------

    def _begin_read(self, what: str) -> None:
        """The one guard of the read helpers: not while flowing, one greenlet at a time."""
        if self._flowing:
            raise make_error("ERR_GNET_FLOWING", what)
        if self._reader is not None:
            raise make_error("ERR_GNET_CONCURRENT_IO", "a read")
        self._reader = getcurrent()
        if self._rbuf.armed:
            self._rbuf.disarm()  # no fast path may take from under this reader

    def _end_read(self) -> None:
        """After a read helper: release the guard, maybe ``'end'``, maybe read ahead."""
        self._reader = None
        if not self._flowing and self._read_side <= _R_OPEN:
            # And the first helper of a socket arms it.  Not after the peer's
            # FIN: then every read goes this way, which notices the last
            # unit taken and schedules 'end' (the fast paths do not look).
            self._rbuf.arm()
        self._check_end()
        if self._read_side is _R_OPEN and self._rbuf.length < self._rhwm and not self._in_actor():
            self._wake()

    def _pull(self, most: int | None) -> bool:
        """The wait and read of a handler that found nothing buffered, without
        the general path's machinery: in the socket's own greenlet, with
        nothing unusual going on, wait for readability if the last read
        drained the transport, and read one chunk of at most ``most`` bytes
        into the buffer.  False when it could not; the general path then
        takes over, with the state as it is."""
        current = getcurrent()
        if (
            self._actor is not current
            or self._tasks
            or self._flowing
            or self._reader is not None
            or self._phase is not _OPEN
            or self._read_side is not _R_OPEN
        ):
            return False
        self._reader = current  # a helper of another greenlet meanwhile: ERR_GNET_CONCURRENT_IO
        try:
            if self._drained:
                # Actor._park inlined, as in Readable._pump: a server answering
                # one request at a time waits here once per request.
                watcher = self._transport.read_watcher()  # type: ignore[union-attr]
                self._parked = True
                watcher.start(current.switch)
                try:
                    switch_to_hub(self._hub)
                finally:
                    self._parked = False
                    watcher.stop()
                self._drained = False
                if self._tasks or self._phase is not _OPEN or self._flowing:
                    return False
            view = self._view
            if most is not None and most < len(view):
                view = view[:most]
            raw = self._read_chunk(view)
            if not raw:
                return False
            chunk = raw if self._decoder is None else self._decoder(raw)
            buf = self._rbuf
            if buf.length or not chunk:  # an unshift() meanwhile, or half a character
                buf.push(chunk)
            else:
                buf.refill(chunk)  # the caller found the buffer empty
            return True
        finally:
            self._reader = None

    def _fill(self, most: int | None) -> bool | None:
        """One read from the transport into the buffer, of at most ``most`` bytes
        (None: what one read takes).  True if it made progress, None when the
        transport had nothing."""
        view = self._view
        if most is not None and most < len(view):
            view = view[:most]
        raw = self._read_chunk(view)
        if not raw:
            return None if raw is None else True
        chunk = raw if self._decoder is None else self._decoder(raw)
        if chunk:
            self._rbuf.push(chunk)
            if self._waker is not None:
                self._waker.set()
        return True

    def _wait_for_data(self, need: int, deadline: float | None, exact: bool = False) -> None:
        """Block the calling greenlet until ``need`` units are buffered, the end of
        the stream, or close (raised as the socket's error).  ``exact``: read no
        more than that, or than the high-water mark if it is larger (Node's
        bound on what a socket buffers)."""
        buf = self._rbuf
        in_actor = self._in_actor()
        while buf.length < need and self._read_side <= _R_OPEN:  # IDLE reads too: a helper asks
            phase = self._phase
            if phase >= _DESTROYED:
                raise self._closed_error()
            if in_actor and self._tasks:
                self._run_tasks()  # keep the socket's own events moving
            elif phase is _OPEN:
                if (
                    self._drained
                    or self._fill(max(need, self._rhwm) - buf.length if exact else None) is None
                ):
                    self._wait(self._transport.read_watcher(), deadline)  # type: ignore[union-attr]
                    self._drained = False  # readable now, or woken for another reason
            elif in_actor and phase is _CONNECTING:
                self._do_connect()
            elif in_actor:
                raise self._closed_error()
            else:
                self._wait(None, deadline)  # connecting in its own greenlet
        if self._phase >= _DESTROYED and not buf and self._read_side <= _R_OPEN:
            raise self._closed_error()  # closed before the end of stream: not a clean EOF

    def _closed_error(self) -> BaseException:
        if self._errored is not None and not isinstance(self._errored, NodeError):
            return self._errored
        return make_error("ERR_SOCKET_CLOSED")

    # -- reading -------------------------------------------------------------
    #
    # Each helper starts with its fast path: what it asks for is in the read
    # buffer's head, and it takes it with the buffer's readline or read and
    # returns it, as a buffered file would (ReadBuffer counts what was taken
    # at its next sync).  No guard is needed: while the socket flows, another
    # greenlet is in a read, or the peer's FIN has come, the buffer is
    # disarmed and those return nothing, which sends the caller down the
    # general path (where the guard raises, and 'end' is scheduled once the
    # last unit is taken).  Arguments are looked at closely only there.

    def recv(self, max_bytes: int = 65536, *, timeout: float | None = None) -> bytes | str:
        """Block until data is available; return at most ``max_bytes`` (b'' at end of stream).

        ``recv(0)`` returns b'' at once and leaves the stream alone (as
        ``socket.recv(0)`` does).
        """
        buf = self._rbuf
        if type(max_bytes) is int and max_bytes > 0:
            if buf.length and (timeout is None or (type(timeout) in _NUMBER and timeout >= 0)):
                read = buf.read  # a slot: loaded as an attribute, called (see readline)
                data = read(max_bytes)
                if data:
                    return data
            if (
                (not buf.length or not buf.sync())
                and timeout is None
                and self._phase is _OPEN
                and self._read_side is _R_OPEN
                and not self._flowing
                and self._reader is None
                and self._decoder is None
                and not self._tasks
                and self._actor is (current := getcurrent())
            ):
                chunk = self._recv_direct(max_bytes, current)
                if chunk is not None:
                    return chunk
        else:
            max_bytes = _size(max_bytes, "max_bytes")
            if not max_bytes:
                return buf.empty
        if timeout is not None:
            timeout = validate_timeout(timeout)
        self._begin_read("recv")
        try:
            if not buf.length:
                self._wait_for_data(1, deadline_after(timeout))
            if not buf:
                self._check_end()
                return buf.empty
            return buf.take(max_bytes)
        finally:
            self._end_read()

    def _recv_direct(self, max_bytes: int, current: Any) -> bytes | None:
        """``recv()``'s fast path in the socket's own greenlet (``current``):
        transport to caller, no read buffer.  Raises the socket's error when
        the read failed; None at the end of the stream or when anything
        unusual happened (the general path then takes over, with the state
        as it is)."""
        view = self._view
        if max_bytes < len(view):
            view = view[:max_bytes]
        self._reader = current
        try:
            while True:
                if self._drained:
                    # The wait of _pull, inlined: this is the straight-line echo's wait.
                    watcher = self._transport.read_watcher()  # type: ignore[union-attr]
                    self._parked = True
                    watcher.start(current.switch)
                    try:
                        switch_to_hub(self._hub)
                    finally:
                        self._parked = False
                        watcher.stop()
                    self._drained = False
                    if self._tasks or self._phase is not _OPEN or self._flowing:
                        return None
                chunk = self._read_chunk(view)
                if chunk:
                    return chunk
                if chunk is None:
                    continue  # nothing there after all (a new connection): wait, then read
                # b'': the end of the stream, or an error that destroyed the
                # socket (every connection meets one of them once).  The
                # error is raised here as the general path would raise it;
                # the end of the stream is the general path's ('end' and all).
                if self._phase >= _DESTROYED and self._read_side <= _R_OPEN:
                    raise self._closed_error()
                return None
        finally:
            self._reader = None

    def recv_exactly(self, n: int, *, timeout: float | None = None) -> bytes | str:
        """Exactly ``n`` units; ``IncompleteReadError`` (with ``.partial``) at end of stream.

        When it has to wait, it reads no more than the units still missing, or
        up to the readable high-water mark if that is larger: what follows
        stays in the kernel.
        """
        buf = self._rbuf
        try:
            if 0 < n <= buf.length and (
                timeout is None or (type(timeout) in _NUMBER and timeout >= 0)
            ):
                read = buf.read  # a slot: loaded as an attribute, called (see readline)
                data = read(n)
                if len(data) == n:
                    return data
                buf.unread(len(data))  # the head ends first: the general path joins
        except TypeError:  # not an integer: the general path says so, with a code
            pass
        return self._recv_exactly(_size(n, "n"), validate_timeout(timeout))

    def _recv_exactly(self, n: int, timeout: float | None) -> bytes | str:
        buf = self._rbuf
        if n and timeout is None and not buf.sync() and self._pull(max(n, self._rhwm)):
            data = buf.read(n)
            if len(data) == n:
                return data
            buf.unread(len(data))
        self._begin_read("recv_exactly")
        try:
            if buf.length < n:
                self._wait_for_data(n, deadline_after(timeout), exact=True)
                if buf.length < n:
                    raise IncompleteReadError(buf.take(), n)
            return buf.take(n)
        finally:
            self._end_read()

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
        buf = self._rbuf
        if (
            buf.length
            and type(separator) is type(buf.empty)  # bytes, or str after set_encoding
            and separator
            and type(limit) is int
            and limit >= 0
            and (timeout is None or (type(timeout) in _NUMBER and timeout >= 0))
        ):
            out = buf.take_through(separator, limit)
            if out is not None:
                return out
        return self._recv_until(
            self._separator(separator),
            _size(limit, "limit"),
            validate_timeout(timeout),
            "recv_until",
        )

    def readline(self, *, limit: int = LINE_LIMIT, timeout: float | None = None) -> bytes | str:
        """Like a file's ``readline``: a line with its ``\\n``, the rest at end, then empty."""
        buf = self._rbuf
        # Loaded, then called: a method call (buf.readline()) of a callable
        # in a slot is not specialised by CPython 3.11 and looks it up the
        # slow way on every call.  No line the head's readline returns is
        # longer than LINE_LIMIT.
        readline = buf.readline
        line = readline()
        if line:
            if limit is LINE_LIMIT and timeout is None:
                return line
        elif not buf.length and limit is LINE_LIMIT and timeout is None and self._pull(None):
            readline = buf.readline
            line = readline()  # a server answering one request at a time waited here
            if line:
                return line
        return self._readline_more(line, limit, timeout)

    def _readline_more(self, line: bytes | str, limit: Any, timeout: Any) -> bytes | str:
        """``readline`` when the fast path was not enough: ``line`` is what the
        buffer's readline gave, to be checked against the arguments."""
        buf = self._rbuf
        if (
            not line
            and timeout is None
            and type(limit) is int  # bad arguments raise before any wait
            and limit >= 0
            and not buf.sync()
            and self._pull(None)
        ):
            line = buf.readline()  # a server answering one request at a time waited here
        if line:
            n = len(line)
            try:
                if n <= limit and (timeout is None or (type(timeout) in _NUMBER and timeout >= 0)):
                    return line
            except TypeError:  # not a number: the general path says so, with a code
                pass
            buf.unread(n)
        return self._readline(limit, timeout)

    def _readline(self, limit: Any, timeout: Any) -> bytes | str:
        try:
            return self._recv_until(
                "\n" if self._decoder is not None else b"\n",
                _size(limit, "limit"),
                validate_timeout(timeout),
                "readline",
            )
        except IncompleteReadError as exc:
            return exc.partial

    def _separator(self, separator: Any) -> bytes | str:
        """``separator`` in the buffer's type (text after set_encoding), never empty."""
        if isinstance(separator, (bytearray, memoryview)):
            separator = bytes(separator)
        if self._decoder is not None and isinstance(separator, bytes):
            separator = separator.decode(self._encoding or "utf8")
        elif self._decoder is None and isinstance(separator, str):
            separator = separator.encode()
        if not isinstance(separator, (bytes, str)):
            raise make_error("ERR_INVALID_ARG_TYPE", "separator", "of type bytes or str", separator)
        if not separator:
            raise make_error("ERR_OUT_OF_RANGE", "separator.length", ">= 1", 0)
        return separator

    def _recv_until(
        self, sep: bytes | str, limit: int, timeout: float | None, what: str
    ) -> bytes | str:
        buf = self._rbuf
        if buf.length and buf.armed:
            end = buf.find(sep, limit)
            if 0 < end <= limit:
                return buf.take(end)
        self._begin_read(what)
        try:
            deadline = deadline_after(timeout)
            while True:
                end = buf.find(sep, limit)
                if end >= 0:
                    if end > limit:
                        raise LimitOverrunError(
                            "separator found, but chunk is longer than limit", end
                        )
                    return buf.take(end)
                if buf.length > limit:
                    raise LimitOverrunError("separator not found within limit", buf.length)
                if self._read_side > _R_OPEN:
                    raise IncompleteReadError(buf.take(), None)
                self._wait_for_data(buf.length + 1, deadline)
        finally:
            self._end_read()

    def __iter__(self) -> Iterator[bytes | str]:
        """Chunks until end of stream."""
        while True:
            chunk = self.recv()
            if not chunk:
                return
            yield chunk

    # -- writing -------------------------------------------------------------

    def _unsent(self) -> bool:
        transport = self._transport
        return bool(self._wq.entries) or (transport is not None and transport.pending > 0)

    def sendall(
        self, data: bytes | bytearray | memoryview | str, *, timeout: float | None = None
    ) -> None:
        """Write ``data`` and block until it is handed to the kernel; raise the socket's error.

        Written while the handler still has buffered input to work through
        (a pipelined batch), the bytes are held instead and ``sendall``
        returns at once: they leave with the batch's other replies, in one
        send, when the batch ends (see README, "When writes leave").
        """
        if timeout is None and self._phase is _OPEN and self._sender is None:
            # The usual case in as few steps as possible (once per reply):
            # the kernel took it all.
            self.write(data)
            if self._phase is _OPEN and not self._wq.entries and not self._transport.pending:  # type: ignore[union-attr]
                return
            seconds = None
        else:
            if self._sender is not None:
                raise make_error("ERR_GNET_CONCURRENT_IO", "sendall")
            phase = self._phase
            if phase is not _OPEN and phase >= _DESTROYED:
                raise self._closed_error()
            seconds = None if timeout is None else validate_timeout(timeout)
            self.write(data)
        wq = self._wq
        # Handed over already, or held for the batch (held bytes are queued):
        # nothing to wait for.
        if wq.entries:
            done = wq.held
        else:
            transport = self._transport
            done = transport is None or not transport.pending
        if done:
            if self._phase is _OPEN or self._phase < _DESTROYED:
                return
            raise self._closed_error()
        self._sender = getcurrent()
        deadline = deadline_after(seconds)
        try:
            while self._unsent() and self._phase < _DESTROYED:
                if self._phase is _CONNECTING and self._in_actor() and not self._tasks:
                    self._do_connect()
                else:
                    self._wait(None, deadline)
            if self._phase >= _DESTROYED:
                raise self._closed_error()
        finally:
            self._sender = None

    def makefile(self, mode: str = "rb", buffering: int | None = None, **kwargs: Any) -> Any:
        """A file object over the socket, for legacy code (``'rb'``, ``'wb'``, ``'rwb'``, text)."""
        return make_file(self, mode, buffering, **kwargs)  # type: ignore[arg-type]

    # -- STARTTLS ------------------------------------------------------------

    def start_tls(
        self,
        options_or_context: Any = None,
        *,
        server_side: bool = False,
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> TLSSocket:
        """Beyond Node: upgrade this connection to TLS and block until the handshake is done.

        Returns the :class:`gnet.tls.TLSSocket` (this socket must not be used
        afterwards); raises the handshake's error, ``TimeoutError`` after
        ``timeout`` seconds.  See :func:`gnet.tls.start_tls`.
        """
        from .tls.upgrade import start_tls  # gnet.tls imports ssl: only when used

        return start_tls(
            self,  # type: ignore[arg-type]  # a Socket
            options_or_context, server_side=server_side, server_hostname=server_hostname, timeout=timeout
        )

    # -- with sock: ----------------------------------------------------------

    def __enter__(self) -> Socket:
        return self  # type: ignore[return-value]

    def __exit__(self, exc_type: Any, exc: BaseException | None, tb: Any) -> None:
        if exc is None:
            if self._wq.held:
                # Replies still held for a batch go out now; if that fails, the
                # handler hears of it here, as a sendall() would have told it.
                self._release_hold()
                if self._phase >= _DESTROYED:
                    raise self._closed_error()
            self.end()
        else:
            self.destroy(exc if isinstance(exc, Exception) else None)


# ----------------------------------------------------------------------
# makefile(): a file object over the socket, like socket.socket.makefile


class SocketIO(io.RawIOBase):
    """Raw I/O over a gnet socket (bytes; the socket must not have an encoding)."""

    def __init__(self, sock: Socket, mode: str) -> None:
        super().__init__()
        self._sock = sock
        self._reading = "r" in mode
        self._writing = "w" in mode

    def readable(self) -> bool:
        return self._reading

    def writable(self) -> bool:
        return self._writing

    def readinto(self, buffer: Any) -> int:
        view = memoryview(buffer).cast("B")
        data = self._sock.recv(len(view))
        if isinstance(data, str):
            raise io.UnsupportedOperation("makefile() needs a socket without set_encoding()")
        view[: len(data)] = data
        return len(data)

    def write(self, data: Any) -> int:
        size = memoryview(data).nbytes
        self._sock.sendall(bytes(data))
        return size


def make_file(
    sock: Socket,
    mode: str = "rb",
    buffering: int | None = None,
    *,
    encoding: str | None = None,
    errors: str | None = None,
    newline: str | None = None,
) -> Any:
    """The file object for ``mode`` ('r', 'w', 'rw' with 'b' for binary)."""
    if not set(mode) <= {"r", "w", "b"}:
        raise ValueError(f"invalid mode {mode!r} (only r, w, b allowed)")
    reading, writing, binary = "r" in mode, "w" in mode, "b" in mode
    raw = SocketIO(sock, ("r" if reading else "") + ("w" if writing else ""))
    if buffering is None:
        buffering = -1
    if buffering < 0:
        buffering = io.DEFAULT_BUFFER_SIZE
    if buffering == 0:
        if not binary:
            raise ValueError("unbuffered streams must be binary")
        return raw
    buffered: io.BufferedIOBase
    if reading and writing:
        buffered = io.BufferedRWPair(raw, raw, buffering)
    elif reading:
        buffered = io.BufferedReader(raw, buffering)
    else:
        buffered = io.BufferedWriter(raw, buffering)
    if binary:
        return buffered
    text = io.TextIOWrapper(buffered, encoding, errors, newline, line_buffering=writing)  # type: ignore[type-var]
    text.mode = mode  # type: ignore[misc]
    return text
