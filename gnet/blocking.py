# mypy: disable-error-code="empty-body"
"""Beyond Node: the straight-line helpers, so a handler can read like a story.

A mixin of :class:`gnet.socket.Socket`: ``recv``, ``recv_exactly``,
``recv_until``, ``readline``, iteration, ``sendall``, ``makefile`` and
``with sock:``.  They block the calling greenlet only, and share the
socket's one stream with the events: bytes a helper read ahead but did not
return stay in the read buffer and are delivered first once the socket
flows.

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
  ``TimeoutError`` and lose nothing.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from greenlet import getcurrent

from ._aliases import with_camel_aliases
from .actor import deadline_after
from .errors import IncompleteReadError, LimitOverrunError, NodeError, make_error
from .state import Phase, ReadSide
from .transport import recv_view

if TYPE_CHECKING:
    from .buffers import ReadBuffer, WriteQueue
    from .socket import Socket
    from .tls.socket import TLSSocket
    from .transport import Transport

__all__ = ["Blocking", "make_file"]

_CONNECTING, _OPEN, _DESTROYED = Phase.CONNECTING, Phase.OPEN, Phase.DESTROYED
_R_OPEN = ReadSide.OPEN


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
        _tasks: list[Any] | None
        _actor: Any
        _reader: Any
        _sender: Any
        _errored: BaseException | None

        def _in_actor(self) -> bool: ...
        def _run_tasks(self) -> None: ...
        def _wake(self) -> None: ...
        def _park(self, watcher: Any = None, timer: Any = None) -> None: ...
        def _wait(self, watcher: Any = None, deadline: float | None = None) -> None: ...
        def _do_connect(self) -> None: ...
        def _read_once(self) -> bool | None: ...
        def _read_chunk(self, view: memoryview) -> bytes | None: ...
        def _check_end(self) -> None: ...
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

    def _end_read(self) -> None:
        """After a read helper: release the guard, maybe ``'end'``, maybe read ahead."""
        self._reader = None
        self._check_end()
        if self._read_side is _R_OPEN and self._rbuf.length < self._rhwm and not self._in_actor():
            self._wake()

    def _wait_for_data(self, need: int, deadline: float | None) -> None:
        """Block the calling greenlet until ``need`` units are buffered, the end of
        the stream, or close (raised as the socket's error)."""
        buf = self._rbuf
        in_actor = self._in_actor()
        while buf.length < need and self._read_side <= _R_OPEN:  # IDLE reads too: a helper asks
            phase = self._phase
            if phase >= _DESTROYED:
                raise self._closed_error()
            if in_actor and self._tasks:
                self._run_tasks()  # keep the socket's own events moving
            elif phase is _OPEN:
                if self._drained or self._read_once() is None:
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

    def recv(self, max_bytes: int = 65536, *, timeout: float | None = None) -> bytes | str:
        """Block until data is available; return at most ``max_bytes`` (b'' at end of stream)."""
        if (
            timeout is None
            and self._phase is _OPEN
            and self._read_side is _R_OPEN
            and not self._rbuf.length
            and not self._flowing
            and self._reader is None
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
                self._wait_for_data(1, deadline_after(timeout))
            if not buf:
                self._check_end()
                return "" if self._decoder is not None else b""
            return buf.take(max_bytes)
        finally:
            self._end_read()

    def _recv_direct(self, max_bytes: int) -> bytes | None:
        """``recv()``'s fast path in the socket's own greenlet: transport to caller,
        no read buffer.  None when anything unusual happened (the general path
        then takes over, with the state as it is)."""
        view = recv_view()
        if max_bytes < len(view):
            view = view[:max_bytes]
        self._reader = getcurrent()
        try:
            if self._drained:
                self._park(self._transport.read_watcher())  # type: ignore[union-attr]
                self._drained = False
                if self._tasks or self._phase is not _OPEN or self._flowing:
                    return None
            return self._read_chunk(view) or None
        finally:
            self._reader = None

    def recv_exactly(self, n: int, *, timeout: float | None = None) -> bytes | str:
        """Exactly ``n`` units; ``IncompleteReadError`` (with ``.partial``) at end of stream."""
        self._begin_read("recv_exactly")
        try:
            self._wait_for_data(n, deadline_after(timeout))
            if self._rbuf.length < n:
                partial = self._rbuf.take()
                raise IncompleteReadError(partial, n)
            return self._rbuf.take(n)
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
        if self._decoder is not None and isinstance(separator, bytes):
            separator = separator.decode(self._encoding or "utf8")
        elif self._decoder is None and isinstance(separator, str):
            separator = separator.encode()
        self._begin_read("recv_until")
        try:
            deadline = deadline_after(timeout)
            buf = self._rbuf
            while True:
                end = buf.find(separator, limit)
                if end >= 0:
                    if end > limit:
                        raise LimitOverrunError("separator found, but chunk is longer than limit", end)
                    return buf.take(end)
                if buf.length > limit:
                    raise LimitOverrunError("separator not found within limit", buf.length)
                if self._read_side > _R_OPEN:
                    raise IncompleteReadError(buf.take(), None)
                self._wait_for_data(buf.length + 1, deadline)
        finally:
            self._end_read()

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

    # -- writing -------------------------------------------------------------

    def _unsent(self) -> bool:
        transport = self._transport
        return bool(self._wq.entries) or (transport is not None and transport.pending > 0)

    def sendall(self, data: bytes | bytearray | memoryview | str, *, timeout: float | None = None) -> None:
        """Write ``data`` and block until it is handed to the kernel; raise the socket's error."""
        if self._sender is not None:
            raise make_error("ERR_GNET_CONCURRENT_IO", "sendall")
        if self._phase >= _DESTROYED:
            raise self._closed_error()
        self.write(data)
        if not self._unsent() and self._phase < _DESTROYED:
            return
        self._sender = getcurrent()
        deadline = deadline_after(timeout)
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
