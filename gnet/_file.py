"""``Socket.makefile()``: a file object over a gnet socket, for legacy code.

A :class:`io.RawIOBase` whose ``readinto`` is :meth:`Socket.recv` and whose
``write`` is :meth:`Socket.sendall`, wrapped in the stdlib's buffered and
text layers like ``socket.socket.makefile`` does.  Closing the file does
not close the socket (as with the stdlib, the socket stays usable).
"""

from __future__ import annotations

import io
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .socket import Socket

__all__ = ["make_file"]


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
