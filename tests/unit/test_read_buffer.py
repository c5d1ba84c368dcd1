"""ReadBuffer: what a socket received and nobody consumed yet (pure, no sockets).

push/unshift/popleft/take/find over bytes or str chunks.  ``find`` is what
``recv_until`` and ``readline`` use: it returns the index just past the
separator, may stop after ``limit`` units, and remembers how far it has
searched, so a long line arriving in many reads is scanned once (O(n), not
O(n^2)).  Node has no such class; what it must do is what the socket's
read paths need, and the properties below say that in general: any split
of the data into chunks, then any sequence of operations, gives what
slicing the joined data gives.
"""

from __future__ import annotations

import sys
import tracemalloc
from itertools import pairwise
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

# The one import of the module under test (issue 11 moves ReadBuffer to gnet/buffers.py).
from gnet.buffers import LINE_LIMIT, ReadBuffer

# ----------------------------------------------------------------------
# push, take, popleft, unshift


def test_an_empty_buffer() -> None:
    buf = ReadBuffer()
    assert len(buf) == 0 and not buf
    assert buf.take() == b""
    assert buf.find(b"\n") == -1


def test_take_joins_and_splits_chunks() -> None:
    buf = ReadBuffer()
    for chunk in (b"abc", b"def", b"g"):
        buf.push(chunk)
    assert len(buf) == 7 and buf
    assert buf.take(2) == b"ab"
    assert buf.take(3) == b"cde"  # across a chunk boundary
    assert len(buf) == 2
    assert buf.take(10) == b"fg"  # more than there is: all of it
    assert len(buf) == 0
    assert buf.take() == b""


def test_take_all_is_one_join() -> None:
    buf = ReadBuffer()
    buf.push(b"one ")
    buf.push(b"two")
    assert buf.take() == b"one two"
    assert not buf


def test_popleft_returns_the_oldest_chunk_whole() -> None:
    buf = ReadBuffer()
    buf.push(b"first")
    buf.push(b"second")
    assert buf.popleft() == b"first"
    assert len(buf) == 6
    assert buf.popleft() == b"second"
    assert not buf


def test_unshift_puts_data_back_in_front() -> None:
    buf = ReadBuffer()
    buf.unshift(b"on a fresh buffer")
    assert buf.take() == b"on a fresh buffer"
    buf.push(b"world")
    buf.unshift(b"hello ")
    assert len(buf) == 11
    buf.unshift(b"")  # nothing to put back: no empty chunk either
    assert buf.popleft() == b"hello "
    assert buf.take() == b"world"


def test_bytearray_chunks_come_out_as_bytes() -> None:
    buf = ReadBuffer()
    buf.push(bytearray(b"abc"))
    assert type(buf.popleft()) is bytes
    buf.push(bytearray(b"abcdef"))
    part = buf.take(2)
    assert part == b"ab" and type(part) is bytes
    rest = buf.take()
    assert rest == b"cdef" and type(rest) is bytes


def test_a_search_across_chunks_copies_nothing_and_takes_stay_bytes() -> None:
    # A search that fails leaves the chunks as they came; taking across them
    # joins only what is taken.
    buf = ReadBuffer()
    for chunk in (b"ab", b"cd", b"ef"):
        buf.push(chunk)
    assert buf.find(b"x") == -1
    buf.push(b"gh")
    assert buf.find(b"x") == -1
    first = buf.take(1)
    assert first == b"a" and type(first) is bytes
    assert buf.popleft() == b"b"  # what is left of the oldest chunk
    assert buf.take(5) == b"cdefg"
    assert buf.popleft() == b"h"
    assert not buf


def test_taking_small_records_does_not_copy_the_rest_of_the_chunk() -> None:
    # Many small records in one large read: each take copies only what it
    # returns (the head is read through an offset), so 1,000 takes of 8
    # bytes from a 1 MB chunk allocate kilobytes, not a gigabyte.
    buf = ReadBuffer()
    buf.push(bytes(1 << 20))
    tracemalloc.start()
    try:
        for _ in range(1000):
            assert len(buf.take(8)) == 8
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 64 * 1024
    assert len(buf) == (1 << 20) - 8000


def test_str_chunks() -> None:
    # After set_encoding the buffer holds text; ``empty`` is what an empty take() gives.
    buf = ReadBuffer()
    buf.empty = ""
    assert buf.take() == ""
    buf.push("é€")
    buf.push("x\ny")
    assert len(buf) == 5  # characters, not bytes
    assert buf.find("\n") == 4
    assert buf.take(4) == "é€x\n"
    assert buf.take() == "y"
    assert buf.take() == ""


def test_take_nothing() -> None:
    # take(0) takes nothing, empty buffer or not (it once raised IndexError).
    buf = ReadBuffer()
    assert buf.take(0) == b""
    buf.push(b"abc")
    assert buf.take(0) == b""
    assert len(buf) == 3
    assert buf.take() == b"abc"


def test_the_fast_slots_take_whole_lines_from_the_head_only_while_armed() -> None:
    # readline()/read() are the head's own C methods.  A new buffer is
    # disarmed (the socket's first helper arms it), and disarm() makes both
    # find nothing without losing anything.
    buf = ReadBuffer()
    buf.push(b"one\ntwo\nthr")
    assert buf.readline() == b"" and buf.read(3) == b""
    buf.arm()
    assert buf.readline() == b"one\n"
    buf.disarm()
    assert buf.length == 7  # disarm() counted what readline took
    assert buf.readline() == b"" and buf.read(3) == b""
    buf.arm()
    assert buf.readline() == b"two\n"  # the head was cut after its last newline
    assert buf.readline() == b""  # "thr" is not a whole line: not taken
    buf.push(b"ee\n")
    assert buf.take() == b"three\n"


def test_what_the_fast_slots_take_is_counted_at_the_next_sync() -> None:
    # The fast slots touch nothing but the head file's position: length is
    # an upper bound until sync() (or len(), bool(), any other method)
    # counts what they took.
    buf = ReadBuffer()
    buf.arm()
    buf.push(b"a\nbb\n")
    assert buf.readline() == b"a\n" and buf.read(3) == b"bb\n"
    assert buf.length == 5  # not counted yet
    assert not buf  # bool() syncs
    assert buf.length == 0 and buf.readline() == b"" and buf.read(1) == b""
    buf.push(b"xyz")
    assert buf.read(1) == b"x"
    buf.push(b"\n")  # behind a head with units left: queued, length still an upper bound
    assert buf.length == 4 and len(buf) == 3 and buf.length == 3
    assert buf.take() == b"yz\n"


def test_an_emptied_buffer_keeps_a_small_head_for_the_next_push_and_drops_a_large_one() -> None:
    # A request-at-a-time server empties the buffer once a request: the
    # small head stays (read to its end) and the next whole-line push
    # reuses its file, so the slots bound to it keep working, armed or not.
    # A large head is dropped at once: an idle connection keeps no chunk of
    # up to 64 KiB it has read through.
    buf = ReadBuffer()
    buf.arm()
    buf.push(b"*1\r\n$4\r\nPING\r\n")
    readline, read = buf.readline, buf.read
    assert readline() == b"*1\r\n" and read(4) == b"$4\r\n" and read(6) == b"PING\r\n"
    assert not buf
    buf.push(b"*2\r\n")
    assert (buf.readline, buf.read) == (readline, read)  # the same file, reset to the new chunk
    buf.disarm()
    assert buf.readline() == b"" and len(buf) == 4
    buf.arm()
    assert buf.readline() == b"*2\r\n" and not buf
    buf.push(b"partial")  # not whole lines: a new head, cut at its first readline
    assert buf.readline() == b"" and buf.take() == b"partial"

    large = b"x" * 4096 + b"\n"
    before = sys.getrefcount(large)
    buf.push(large)
    assert buf.readline() == large
    assert sys.getrefcount(large) > before  # the head, until a sync
    assert not buf
    assert sys.getrefcount(large) == before


def test_a_head_longer_than_the_line_limit_has_no_fast_readline() -> None:
    # readline() returns the head's lines unchecked against the default
    # limit: a head longer than it gets none (the general path finds lines).
    buf = ReadBuffer()
    buf.arm()
    buf.push(b"x" * LINE_LIMIT + b"\n")
    assert buf.readline() == b""
    assert len(buf) == LINE_LIMIT + 1 and buf.find(b"\n") == LINE_LIMIT + 1
    buf.clear()
    buf.push(b"x" * (LINE_LIMIT - 1) + b"\n")
    assert buf.readline() == b"x" * (LINE_LIMIT - 1) + b"\n"


def test_a_taken_unit_given_back_with_unread() -> None:
    buf = ReadBuffer()
    buf.arm()
    buf.push(b"abcdef")
    assert buf.read(4) == b"abcd"
    buf.unread(4)
    assert buf.take(2) == b"ab" and buf.take() == b"cdef"


# ----------------------------------------------------------------------
# find


def test_find_returns_the_index_past_the_separator_and_consumes_nothing() -> None:
    buf = ReadBuffer()
    buf.push(b"GET / HTTP/1.0\r\nHost: x\r\n")
    assert buf.find(b"\r\n") == 16
    assert buf.find(b"\r\n") == 16  # again: nothing was consumed
    assert len(buf) == 25
    assert buf.take(16) == b"GET / HTTP/1.0\r\n"
    assert buf.find(b"\r\n") == 9


def test_find_a_separator_split_between_chunks() -> None:
    buf = ReadBuffer()
    buf.push(b"line\r")
    assert buf.find(b"\r\n") == -1
    buf.push(b"\nnext")
    assert buf.find(b"\r\n") == 6


def test_find_with_a_limit() -> None:
    # Found when the separator starts within the first ``limit`` units.
    buf = ReadBuffer()
    buf.push(b"0123456789\nrest")
    assert buf.find(b"\n", limit=10) == 11
    assert buf.find(b"\n", limit=9) == -1
    assert buf.find(b"\n", limit=100) == 11  # a larger limit later still finds it


def test_find_after_unshift_searches_the_new_front() -> None:
    buf = ReadBuffer()
    buf.push(b"no separator here")
    assert buf.find(b";") == -1
    buf.unshift(b"a;")
    assert buf.find(b";") == 2


class ScanCounter(bytes):
    """A chunk that records each search made in it (the window searched)."""

    windows: list[int]

    def find(self, sub: Any, start: Any = None, end: Any = None) -> int:
        lo, hi, _ = slice(start, end).indices(len(self))
        self.windows.append(max(0, hi - lo))
        return super().find(sub, start, end)


@pytest.mark.parametrize("sep", [b"\n", b"\r\n"])
def test_find_never_scans_a_unit_twice(sep: bytes) -> None:
    # A 20 KB line arriving in 200 reads of 100 bytes, searched after each:
    # every search starts where the last one stopped (a separator split
    # between reads is looked for in the few units around the boundary), so
    # the units scanned in all add up to the line's length, not 200 times it.
    windows: list[int] = []

    def chunk(data: bytes) -> ScanCounter:
        probe = ScanCounter(data)
        probe.windows = windows
        return probe

    buf = ReadBuffer()
    for _ in range(200):
        buf.push(chunk(b"x" * 100))
        assert buf.find(sep) == -1
    buf.push(chunk(sep))
    assert buf.find(sep) == 20_000 + len(sep)
    assert sum(windows) <= 20_000 + len(sep)


def test_find_resumes_after_taking_from_the_front() -> None:
    # Taking from the front does not spoil what a search ruled out: the
    # next search still starts where the last one stopped.
    buf = ReadBuffer()
    buf.push(b"abcdef")
    buf.push(b"ghij")
    assert buf.find(b"\n") == -1
    assert buf.take(2) == b"ab"
    assert buf.find(b"\n") == -1
    assert buf.take(5) == b"cdefg"  # across the chunks
    buf.push(b"k\nl")
    assert buf.find(b"\n") == 5
    assert buf.take(5) == b"hijk\n"


def test_find_another_separator_after_a_failed_search() -> None:
    # What one search ruled out says nothing about another separator (a
    # readline(timeout=...) that timed out, then recv_until(b';')).
    buf = ReadBuffer()
    buf.push(b"ab;c")
    assert buf.find(b"\n") == -1
    assert buf.find(b";") == 3
    buf.push(b"d;e\nf")
    assert buf.find(b"\n") == 8
    assert buf.find(b";") == 3


# ----------------------------------------------------------------------
# properties: any split, any operations, same as slicing the joined data


def _splits(data: Any) -> st.SearchStrategy[list[Any]]:
    """``data`` cut into chunks at any points.  No empty chunks: the socket pushes
    only what it read (and an empty read is the end of the stream)."""

    def cut(cuts: list[int]) -> list[Any]:
        bounds = [0, *sorted(cuts), len(data)]
        return [data[a:b] for a, b in pairwise(bounds) if b > a]

    return st.lists(st.integers(0, len(data)), max_size=8).map(cut)


def _operations(alphabet: st.SearchStrategy[Any]) -> st.SearchStrategy[list[tuple[Any, ...]]]:
    op = st.one_of(
        st.tuples(st.just("take"), st.none() | st.integers(1, 40)),
        st.tuples(st.just("find"), st.none() | st.integers(0, 40)),
        st.tuples(st.just("popleft")),
        st.tuples(st.just("push"), alphabet),
        st.tuples(st.just("refill"), alphabet),
        st.tuples(st.just("unshift"), alphabet),
        st.tuples(st.just("readline"), st.booleans()),
        st.tuples(st.just("take_through"), st.integers(0, 40)),
        st.tuples(st.just("read"), st.integers(1, 40), st.booleans()),
        st.tuples(st.just("arm"), st.booleans()),
    )
    return st.lists(op, max_size=30)


def _check(chunks: list[Any], sep: Any, ops: list[tuple[Any, ...]], empty: Any) -> None:
    buf = ReadBuffer()
    buf.arm()  # as the socket's first helper does
    buf.empty = empty
    model = empty
    for chunk in chunks:
        buf.push(chunk)
        model += chunk
    for name, *args in ops:
        if name == "take":
            (n,) = args
            expected = model if n is None else model[:n]
            model = model[len(expected) :]
            assert buf.take(n) == expected
        elif name == "find":
            (limit,) = args
            end = len(model) if limit is None else min(len(model), limit + len(sep))
            index = model.find(sep, 0, end)
            assert buf.find(sep, limit) == (index + len(sep) if index >= 0 else -1)
        elif name == "popleft":
            if not model:
                continue
            chunk = buf.popleft()
            assert chunk and model.startswith(chunk)
            model = model[len(chunk) :]
        elif name == "take_through":
            # recv_until's fast path: the first separator if the head has it
            # within the limit, else None and nothing taken.
            (limit,) = args
            got = buf.take_through(sep, limit)
            if got is not None:
                index = model.find(sep)
                assert index >= 0 and got == model[: index + len(sep)] and len(got) <= limit
                model = model[len(got) :]
        elif name in ("readline", "read"):
            # The fast paths: the caller keeps what they took (counted at the
            # next sync), or gives the units back.
            *size, keep = args
            got = buf.readline() if name == "readline" else buf.read(*size)
            if not got:
                continue
            assert model.startswith(got)
            if name == "readline" and got:  # a whole line, never a part of one
                newline = got[-1:]
                assert newline in (b"\n", "\n") and newline not in got[:-1]
            if name == "read":
                assert len(got) <= size[0]
            if keep:
                model = model[len(got) :]
            else:
                buf.unread(len(got))
            assert buf.length >= len(model)  # an upper bound until a sync
        elif name == "arm":
            # A socket disarms the buffer while it flows or a reader waits.
            buf.arm() if args[0] else buf.disarm()
        elif name == "push":
            buf.push(args[0])
            model += args[0]
        elif name == "refill":
            # What a helper that found the buffer empty does with what it read.
            if model:
                continue
            buf.refill(args[0])
            model = args[0]
        else:
            buf.unshift(args[0])
            model = args[0] + model
        assert len(buf) == len(model)
        assert bool(buf) == bool(model)
    assert buf.take() == model


SEPARATORS_BYTES = st.sampled_from([b"\n", b"\r\n", b"ab", b"aba"])


def _bytes(min_size: int, max_size: int) -> st.SearchStrategy[bytes]:
    """Bytes made of a few values, so that separators occur (and split) often."""
    return st.lists(st.sampled_from(b"ab\r\nx"), min_size=min_size, max_size=max_size).map(bytes)


SEPARATORS_TEXT = st.sampled_from(["\n", "\r\n", "é", "éa"])


@given(
    data=_bytes(0, 120).flatmap(_splits),
    sep=SEPARATORS_BYTES,
    ops=_operations(_bytes(1, 12)),
)
def test_property_bytes(data: list[bytes], sep: bytes, ops: list[tuple[Any, ...]]) -> None:
    # One separator per buffer: see test_find_another_separator_after_a_failed_search.
    _check(data, sep, ops, b"")


@given(
    data=_bytes(0, 120).flatmap(_splits),
    ops=_operations(_bytes(1, 12)),
)
def test_property_bytearray_chunks(data: list[bytes], ops: list[tuple[Any, ...]]) -> None:
    _check([bytearray(chunk) for chunk in data], b"\r\n", ops, b"")


@given(
    data=st.text(alphabet="ab\r\né€x", max_size=80).flatmap(_splits),
    sep=SEPARATORS_TEXT,
    ops=_operations(st.text(alphabet="ab\r\né€x", min_size=1, max_size=12)),
)
def test_property_text(data: list[str], sep: str, ops: list[tuple[Any, ...]]) -> None:
    _check(data, sep, ops, "")
