"""The stream's buffers: what was received and not yet consumed, and what was
written and not yet taken by the transport.

* :class:`ReadBuffer`: received data as a queue of chunks (all bytes or all
  str).  A separator search resumes where the last one stopped, so a long
  line costs O(n) however many reads it arrives in.
* :class:`WriteQueue`: data handed to ``write()`` that the transport has not
  taken yet, each chunk with its callback, plus the writable side's
  bookkeeping (length, cork count, whether a ``'drain'`` is owed).

Pure data structures: no I/O, no events; :mod:`gnet.socket` drives them.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from typing import Any

__all__ = ["ReadBuffer", "WriteQueue", "Entry", "Chunk"]

Chunk = bytes | str


class ReadBuffer:
    """Received, not yet consumed data: a queue of chunks (all bytes or all str).

    :meth:`find` remembers how far it has searched, so repeated searches for
    a separator while data trickles in never rescan.
    """

    __slots__ = ("_chunks", "length", "_scanned", "empty")

    def __init__(self) -> None:
        # Made on the first push: an empty deque is 760 bytes, and most
        # sockets never buffer anything (a flowing socket emits each chunk
        # as it is read).
        self._chunks: deque[Chunk] | None = None
        self.length = 0
        self._scanned = 0  # units from the front known not to start a match
        self.empty: Chunk = b""  # what an empty take() returns

    def __len__(self) -> int:
        return self.length

    def __bool__(self) -> bool:
        return self.length > 0

    def push(self, chunk: Chunk) -> None:
        if self._chunks is None:
            self._chunks = deque()
        self._chunks.append(chunk)
        self.length += len(chunk)

    def unshift(self, chunk: Chunk) -> None:
        """Put ``chunk`` back at the front (it was taken but not used)."""
        if chunk:
            if self._chunks is None:
                self._chunks = deque()
            self._chunks.appendleft(chunk)
            self.length += len(chunk)
            self._scanned = 0

    def popleft(self) -> Chunk:
        """The oldest chunk, whole."""
        chunk = self._chunks.popleft()  # type: ignore[union-attr]
        self.length -= len(chunk)
        self._scanned = max(0, self._scanned - len(chunk))
        return bytes(chunk) if isinstance(chunk, bytearray) else chunk

    def take(self, n: int | None = None) -> Chunk:
        """Up to ``n`` units (all of it when ``n`` is None), joined."""
        chunks = self._chunks
        if not chunks:
            return self.empty
        if n is None or n >= self.length:
            if len(chunks) == 1:
                out = chunks.pop()
                if isinstance(out, bytearray):
                    out = bytes(out)
            else:
                out = chunks[0][:0].join(chunks)  # type: ignore[arg-type]
                chunks.clear()
            self.length = 0
            self._scanned = 0
            return out
        parts: list[Any] = []
        need = n
        while need:
            chunk = chunks[0]
            if len(chunk) <= need:
                parts.append(chunks.popleft())
                need -= len(chunk)
            elif isinstance(chunk, bytearray):
                parts.append(bytes(chunk[:need]))
                del chunk[:need]  # cheap at the front of a bytearray: no copy of the rest
                need = 0
            else:
                parts.append(chunk[:need])
                chunks[0] = chunk[need:]
                need = 0
        self.length -= n
        self._scanned = max(0, self._scanned - n)
        out = parts[0] if len(parts) == 1 else parts[0][:0].join(parts)
        return bytes(out) if isinstance(out, bytearray) else out

    def find(self, sep: Chunk, limit: int | None = None) -> int:
        """Index just past the first ``sep``, or -1; searches only new data.

        With ``limit``, the search stops once ``limit`` units have been
        scanned without a match.
        """
        chunks = self._chunks
        if chunks is None:
            return -1
        if len(chunks) > 1:
            # Searching needs one contiguous chunk.  Bytes accumulate in a
            # bytearray (amortised O(1) per byte), so a long line arriving in
            # many reads is never copied again and again.
            first = chunks.popleft()
            if isinstance(first, str):
                chunks.appendleft(first + "".join(chunks))  # type: ignore[arg-type]
                while len(chunks) > 1:
                    chunks.pop()
            else:
                acc = first if isinstance(first, bytearray) else bytearray(first)
                while chunks:
                    acc += chunks.popleft()  # type: ignore[arg-type]
                chunks.append(acc)  # type: ignore[arg-type]
        if not chunks:
            return -1
        data = chunks[0]
        end = self.length if limit is None else min(self.length, limit + len(sep))
        idx = data.find(sep, self._scanned, end)  # type: ignore[arg-type]
        if idx < 0:
            self._scanned = max(self._scanned, end - len(sep) + 1)
            return -1
        return idx + len(sep)


class Entry:
    """One ``write()``: the part of its data not yet taken, and its callback."""

    __slots__ = ("data", "callback")

    def __init__(self, data: Any, callback: Callable[..., Any] | None) -> None:
        self.data = data
        self.callback = callback


class WriteQueue:
    """Written, not yet sent: chunks in order, each with its callback.

    ``length`` is Node's ``writableLength`` (the bytes still queued);
    ``need_drain`` says a ``write()`` returned False and ``'drain'`` is owed
    once the queue empties; ``corked`` counts ``cork()`` calls not yet undone.
    """

    __slots__ = ("entries", "length", "corked", "need_drain")

    def __init__(self) -> None:
        # The queued writes, oldest first; made on the first push (most
        # writes are taken by the kernel at once).  A plain attribute, not
        # __bool__: write() tests it on every call.
        self.entries: deque[Entry] | None = None
        self.length = 0
        self.corked = 0
        self.need_drain = False

    def push(self, data: Any, callback: Callable[..., Any] | None) -> None:
        if self.entries is None:
            self.entries = deque()
        self.entries.append(Entry(data, callback))
        self.length += len(data)

    def buffers(self, limit: int = 512) -> list[Any]:
        """The queued chunks, oldest first, at most ``limit`` (one ``sendmsg``'s worth)."""
        entries = self.entries
        if not entries:
            return []
        if len(entries) == 1:
            return [entries[0].data]
        return [entry.data for _, entry in zip(range(limit), entries, strict=False)]

    def consume(self, sent: int) -> list[Callable[..., Any]]:
        """Drop ``sent`` bytes from the front; return the callbacks of the writes now
        wholly sent, in order (a partly sent chunk keeps its unsent tail as a view)."""
        self.length -= sent
        done: list[Callable[..., Any]] = []
        entries = self.entries
        while entries:
            entry = entries[0]
            size = len(entry.data)
            if sent < size:
                if sent:
                    entry.data = memoryview(entry.data)[sent:]
                break
            entries.popleft()  # wholly sent; an empty write() goes with what precedes it
            sent -= size
            if entry.callback is not None:
                done.append(entry.callback)
        return done

    def clear(self) -> list[Callable[..., Any]]:
        """Empty the queue (the socket is going away); return the pending callbacks."""
        entries, self.entries = self.entries, None
        self.length = 0
        if not entries:
            return []
        return [entry.callback for entry in entries if entry.callback is not None]
