"""The stream's buffers: what was received and not yet consumed, and what was
written and not yet taken by the transport.

* :class:`ReadBuffer`: received data, a head chunk being read through an
  in-memory file, then a queue of chunks (all bytes or all str).  Taking a
  few units from the head copies only what is taken; a separator search
  resumes where the last one stopped, so a long line costs O(n) however
  many reads it arrives in.
* :class:`WriteQueue`: data handed to ``write()`` that the transport has not
  taken yet, each chunk with its callback, plus the writable side's
  bookkeeping (length, cork count, whether a ``'drain'`` is owed, whether
  the queue is holding a batch of replies).

Pure data structures: no I/O, no events; :mod:`gnet.socket` drives them.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from io import BytesIO, StringIO
from itertools import islice
from typing import Any

__all__ = ["ReadBuffer", "WriteQueue", "Chunk", "LINE_LIMIT"]

Chunk = bytes | str

# readline()'s default limit.  A head no longer than this holds no line
# longer than it, so a line the head's readline returns needs no check
# against the default; a longer head (an unshift, a huge decoded chunk)
# gets no fast readline at all.  A receive is at most 64 KiB, so in
# practice every head qualifies.
LINE_LIMIT = 65536


# The largest head an emptied buffer keeps (see ReadBuffer.sync): what an
# idle connection may hold on to of its last request.
_KEEP_EMPTIED = 1024

# ``ReadBuffer.readline`` when the head holds no whole line (or there is no
# head): a C callable returning b'', as a Python function would cost a frame
# on every miss (one per request, for a server answering one at a time).
_no_line: Callable[[], bytes] = b"".strip


def _no_read(n: int | None = -1) -> bytes:
    """``ReadBuffer.read`` when there is no head."""
    return b""


def _join(parts: list[Any]) -> Chunk:
    """The chunks joined (all bytes or all str; at least one)."""
    joined: Chunk = parts[0][:0].join(parts)
    return joined


def _as_chunk(chunk: Any) -> Chunk:
    """bytes or str as they are (subclasses too); other buffers copied to bytes."""
    return chunk if isinstance(chunk, (bytes, str)) else bytes(chunk)


class ReadBuffer:
    """Received, not yet consumed data: a head chunk being read, then a queue of chunks.

    All chunks are bytes, or all str (after ``set_encoding``); a bytearray or
    memoryview pushed or put back is copied to bytes.  ``length`` is the
    number of units (bytes or characters) buffered: exact, but for what the
    two fast paths below took since the last :meth:`sync`.

    The head is read through an in-memory file over it (``io.BytesIO``,
    ``io.StringIO``), so taking a few units is one C call that slices and
    moves an offset: nothing is copied but what is returned, and many small
    records in one large read cost O(n), not O(n^2).  Two methods of that
    file are the buffer's fast paths, slots a caller calls directly (the
    per-record path of a straight-line handler):

    * ``readline()``: the next whole line (ending in ``\\n``) from the head,
      or an empty value when the head has none.  The first call on a new
      head cuts it after its last newline (the partial line behind moves to
      the queue), so a non-empty result is always a whole line.
    * ``read(n)``: up to ``n`` units from the head (fewer at its end).

    They leave ``length`` alone, and so does the caller: what they took
    is counted at the next :meth:`sync` (from the head file's position),
    which every other method does first, as do ``len()``, ``bool()`` and
    :meth:`disarm`.  So while armed, ``length`` may still count what they
    took: it is an upper bound, exact after a sync (``not length`` always
    means empty; ``length < x`` always holds for the exact length too).  A
    caller that keeps less than it took gives it back with :meth:`unread`.
    While the socket must not be read that way (it flows, a reader is
    blocked in the general path, or the peer's FIN has come and the end
    of the data must be noticed), :meth:`disarm` makes both return nothing,
    so a caller needs no guard of its own; :meth:`arm` restores them.  A new
    buffer is disarmed: the general path of the first helper arms it.

    :meth:`find` remembers how far it has searched for a separator, in
    positions within the chunks (so taking from the head does not spoil
    it), and never searches a unit twice while a long line trickles in.
    """

    __slots__ = (
        "length", "readline", "read", "armed", "empty",
        "_line", "_head", "_file", "_mark", "_chunks", "_scan",
    )  # fmt: skip

    def __init__(self) -> None:
        self.length = 0
        self.readline: Callable[[], Chunk] = _no_line
        self.read: Callable[[int], Chunk] = _no_read
        # readline and read work (see disarm()); the first helper armed it,
        # so a socket only ever read Node's way never pays for arming.
        self.armed = False
        self.empty: Chunk = b""  # what an empty take() returns
        self._line: Callable[[], Chunk] = _no_line  # what readline is when armed
        self._head: Chunk | None = None  # the chunk being read, through _file
        self._file: Any = None
        self._mark = 0  # the head file's position at the last sync()
        # The chunks behind the head; made on first use and dropped once
        # emptied, so None whenever the buffer is (an empty deque is 760
        # bytes, and most sockets never buffer anything).
        self._chunks: deque[Chunk] | None = None
        # find()'s progress: (separator, position in the head before which no
        # match starts, chunks of the queue searched, their units); None: none.
        self._scan: tuple[Chunk, int, int, int] | None = None

    def __len__(self) -> int:
        return self.sync()

    def __bool__(self) -> bool:
        return self.length > 0 and self.sync() > 0

    def sync(self) -> int:
        """Count what ``readline`` and ``read`` took since the last sync; the exact length.

        An emptied buffer drops its head here, unless the head is small:
        that one stays, read to its end, until the next push replaces it.
        """
        file = self._file
        if file is not None:
            pos = file.tell()
            taken = pos - self._mark
            if taken:
                length = self.length - taken
                if length:
                    self.length = length
                    self._mark = pos
                else:
                    # Emptied.  A small head read to its end stays (its
                    # readline and read return nothing) until the next push
                    # replaces it: a request-at-a-time server empties the
                    # buffer once a request, and dropping it costs as much as
                    # the push that follows.  A large one goes (the queue
                    # is gone already: see _next_head).
                    self.length = 0
                    self._mark = pos
                    if pos > _KEEP_EMPTIED:
                        self.clear()
        return self.length

    # -- the head ------------------------------------------------------------

    def arm(self) -> None:
        """Let ``readline`` and ``read`` take from the head again."""
        self.armed = True
        if self._file is not None:
            self.readline = self._line
            self.read = self._file.read

    def disarm(self) -> None:
        """Make ``readline`` and ``read`` return nothing until :meth:`arm`; sync."""
        self.sync()
        self.armed = False
        self.readline = _no_line
        self.read = _no_read

    def _set_head(self, chunk: Chunk) -> None:
        """``chunk`` becomes the head; what the old head held is already accounted."""
        self._head = chunk
        self._mark = 0
        file: Any
        if isinstance(chunk, bytes):
            self._file = file = BytesIO(chunk)
            whole = chunk[-1:] == b"\n"
        else:
            self._file = file = StringIO(chunk)
            whole = chunk[-1:] == "\n"
        # A chunk that ends a line (a request read whole, usually) is all whole
        # lines already; any other is cut at its first readline().
        if len(chunk) > LINE_LIMIT:
            self._line = _no_line
        else:
            self._line = file.readline if whole else self._first_line
        if self.armed:
            self.readline = self._line
            self.read = file.read

    def _first_line(self) -> Chunk:
        """``readline`` on a new head: keep only whole lines in the head, then read one."""
        head, file = self._head, self._file
        assert head is not None
        pos = file.tell()
        cut = head.rfind(b"\n" if isinstance(head, bytes) else "\n", pos) + 1  # type: ignore[arg-type]
        if not cut:
            self._line = self.readline = _no_line
            return head[:0]
        if cut < len(head):
            chunks = self._chunks
            if chunks is None:
                self._chunks = chunks = deque()
            chunks.appendleft(head[cut:])
            self.length -= pos - self._mark  # what was taken before the cut
            self._set_head(head[pos:cut])
            self._scan = None  # chunk positions moved
            file = self._file
        self._line = self.readline = file.readline
        return file.readline()  # type: ignore[no-any-return]

    def _next_head(self) -> None:
        """The head is used up: the next chunk becomes the head."""
        chunks = self._chunks
        assert chunks
        self.length -= len(self._head) - self._mark  # type: ignore[arg-type]  # read to its end
        head = chunks.popleft()
        if not chunks:
            self._chunks = None  # an empty deque is 760 bytes
        self._set_head(head)
        scan = self._scan
        if scan is not None:
            sep, _, done, units = scan
            # The new head was searched if it was among the chunks searched.
            self._scan = (
                (sep, len(head) - len(sep) + 1, done - 1, units - len(head)) if done else None
            )

    def unread(self, n: int) -> None:
        """Give back the last ``n`` units taken with ``readline`` or ``read`` (no sync between)."""
        if n:
            file = self._file
            file.seek(file.tell() - n)

    def clear(self) -> None:
        """Drop everything (and the head, which may be a large chunk)."""
        self.length = 0
        self.readline = self._line = _no_line
        self.read = _no_read
        self._head = self._file = self._chunks = self._scan = None
        self._mark = 0

    # -- adding --------------------------------------------------------------

    def push(self, chunk: Chunk) -> None:
        """Append ``chunk`` (received data)."""
        if type(chunk) is not bytes and type(chunk) is not str:
            chunk = _as_chunk(chunk)
        size = len(chunk)
        if not size:
            return
        length = self.length
        if length:
            length -= self._file.tell() - self._mark  # exact (sync() without its writes)
        if not length:  # the usual case: a helper read into an empty (or read out) buffer
            self.refill(chunk)
        else:
            chunks = self._chunks
            if chunks is None:
                self._chunks = chunks = deque()
            chunks.append(chunk)
            self.length += size

    def refill(self, chunk: Chunk) -> None:
        """``chunk`` (bytes or str, not empty) becomes the buffer's content: for
        a buffer that is empty (``push`` checks; a helper that waited on an
        empty buffer checks that ``length`` is still 0, as an ``unshift``
        from another greenlet may have filled it meanwhile).

        This is once per request of a server answering one request at a time.
        """
        size = len(chunk)
        self.length = size
        self._scan = None
        file: Any = self._file
        if (
            type(chunk) is bytes
            and chunk[-1:] == b"\n"
            and size <= LINE_LIMIT
            and self._line.__self__ is file  # type: ignore[attr-defined]
        ):
            # Whole lines, as the emptied head was (see sync()): its file is
            # reset to the new chunk, so readline and read, bound to it,
            # stay as they are.  A new file and two bound methods cost more.
            self._head = chunk
            self._mark = 0
            file.__init__(chunk)
        else:
            self._set_head(chunk)

    def unshift(self, chunk: Chunk) -> None:
        """Put ``chunk`` back at the front (it was taken but not used)."""
        chunk = _as_chunk(chunk)
        if not chunk:
            return
        if self.sync():
            rest = self._file.read()
            if rest:
                chunks = self._chunks
                if chunks is None:
                    self._chunks = chunks = deque()
                chunks.appendleft(rest)
        self._set_head(chunk)
        self._scan = None
        self.length += len(chunk)

    # -- taking --------------------------------------------------------------

    def popleft(self) -> Chunk:
        """The oldest chunk (what is left of it), whole; the buffer must not be empty."""
        chunk: Chunk = self._file.read()
        while not chunk:
            self._next_head()
            chunk = self._file.read()
        self.sync()
        return chunk

    def take(self, n: int | None = None) -> Chunk:
        """Up to ``n`` units (all of it when ``n`` is None), joined; ``take(0)`` is empty."""
        length = self.sync()
        file: Any = self._file
        if n is None or n >= length:
            if not length:
                return self.empty
            rest: Chunk = file.read()
            if self._chunks:
                rest = _join([rest, *self._chunks])
            self.clear()
            return rest
        if n <= 0:
            return self.empty
        out: Chunk = file.read(n)
        need = n - len(out)
        if need:
            parts = [out]
            while need:
                self._next_head()
                part = self._file.read(need)
                parts.append(part)
                need -= len(part)
            out = _join(parts)
        self.sync()
        return out

    def take_through(self, sep: Chunk, limit: int) -> Chunk | None:
        """Up to and including the first ``sep``, if the head holds it within
        ``limit`` units; else None (and nothing searched is remembered: use
        :meth:`find`).  ``recv_until``'s fast path; None while disarmed."""
        file = self._file
        if file is None or not self.armed or self._scan is not None:
            return None  # nothing, or a search under way that find() must resume
        pos = file.tell()
        k = len(sep)
        idx = self._head.find(sep, pos, pos + limit + k)  # type: ignore[arg-type, union-attr]
        n = idx + k - pos
        if idx < 0 or n > limit:
            return None
        out: Chunk = file.read(n)
        self.sync()
        return out

    def find(self, sep: Chunk, limit: int | None = None) -> int:
        """Index just past the first ``sep``, or -1; searches only new data.

        With ``limit``, only the first ``limit + len(sep)`` units are
        searched: a separator starting after ``limit`` is not found.
        """
        length = self.sync()
        if not length:
            return -1
        head: Any = self._head
        pos: int = self._file.tell()
        k = len(sep)
        # The window searched, in units from the front.
        stop = length if limit is None else min(length, limit + k)
        scan = self._scan
        if scan is not None and type(scan[0]) is type(sep) and scan[0] == sep:
            _, searched, done, units = scan
        else:
            searched, done, units = pos, 0, 0
        # The head, from where no match was ruled out yet.
        hlen = len(head)
        end = min(hlen, pos + stop)
        start = max(pos, searched)
        if end - start >= k:
            idx: int = head.find(sep, start, end)
            if idx >= 0:
                return idx - pos + k
            searched = max(searched, end - k + 1)
        if end < hlen:  # the window ends inside the head
            self._scan = (sep, searched, 0, 0)
            return -1
        # The queued chunks not searched yet, each with the units before it
        # (a separator may straddle two chunks).
        chunks: Any = self._chunks
        count = len(chunks) if chunks else 0
        base = hlen - pos + units  # where chunk `done` starts, from the front
        while done < count and base < stop:
            chunk = chunks[done]
            size = min(len(chunk), stop - base)
            if k > 1:
                before = self._units_before(done, k - 1, pos)
                idx = (before + chunk[: min(k - 1, size)]).find(sep)
                if idx >= 0:
                    return base - len(before) + idx + k
            idx = chunk.find(sep, 0, size)
            if idx >= 0:
                return base + idx + k
            if size < len(chunk):
                break  # the window ends inside this chunk: not searched to its end
            base += size
            units += size
            done += 1
        self._scan = (sep, searched, done, units)
        return -1

    def _units_before(self, index: int, most: int, pos: int) -> Any:
        """The last ``most`` (or fewer) units buffered before queued chunk ``index``."""
        chunks: Any = self._chunks
        head: Any = self._head
        parts = []
        need = most
        while need and index:
            index -= 1
            chunk = chunks[index]
            parts.append(chunk[-need:])
            need -= min(need, len(chunk))
        if need:
            parts.append(head[pos:][-need:])
        parts.reverse()
        return _join(parts)


class WriteQueue:
    """Written, not yet sent: ``(chunk, callback)`` pairs in order.

    ``entries`` is made on the first push (most writes are taken by the
    kernel at once; an empty deque is 760 bytes); a partly sent chunk keeps
    only its unsent tail, as a view.  ``length`` is Node's
    ``writableLength`` (the bytes still queued); ``need_drain`` says a
    ``write()`` returned False and ``'drain'`` is owed once the queue
    empties; ``corked`` counts ``cork()`` calls not yet undone; ``held`` says
    the queued chunks are a batch of replies held back on purpose (no send
    was tried; see :mod:`gnet.writable`, "Coalescing").
    """

    __slots__ = ("entries", "length", "corked", "need_drain", "held")

    def __init__(self) -> None:
        # A plain attribute, not __bool__: write() tests it on every call.
        self.entries: deque[tuple[Any, Callable[..., Any] | None]] | None = None
        self.length = 0
        self.corked = 0
        self.need_drain = False
        self.held = False

    def push(self, data: Any, callback: Callable[..., Any] | None) -> None:
        entries = self.entries
        if entries is None:
            self.entries = entries = deque()
        entries.append((data, callback))
        self.length += len(data)

    def buffers(self, limit: int = 512) -> list[Any]:
        """The queued chunks, oldest first, at most ``limit`` (one ``sendmsg``'s worth)."""
        entries = self.entries
        if not entries:
            return []
        if len(entries) == 1:
            return [entries[0][0]]
        return [data for data, _ in islice(entries, limit)]

    def consume(self, sent: int) -> list[Callable[..., Any]]:
        """Drop ``sent`` bytes from the front; return the callbacks of the writes now
        wholly sent, in order (a partly sent chunk keeps its unsent tail as a view)."""
        self.length -= sent
        done: list[Callable[..., Any]] = []
        entries = self.entries
        while entries:
            data, callback = entries[0]
            size = len(data)
            if sent < size:
                if sent:
                    entries[0] = (memoryview(data)[sent:], callback)
                break
            entries.popleft()  # wholly sent; an empty write() goes with what precedes it
            sent -= size
            if callback is not None:
                done.append(callback)
        return done

    def clear(self) -> list[Callable[..., Any]]:
        """Empty the queue (the socket is going away); return the pending callbacks."""
        entries, self.entries = self.entries, None
        self.length = 0
        if not entries:
            return []
        return [callback for _, callback in entries if callback is not None]
