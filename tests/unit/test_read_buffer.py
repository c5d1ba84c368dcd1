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

from itertools import pairwise
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

# The one import of the module under test (issue 11 moves ReadBuffer to gnet/buffers.py).
from gnet.buffers import ReadBuffer

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


def test_a_search_accumulates_chunks_into_one_and_takes_stay_bytes() -> None:
    # Searching needs contiguous data: the chunks become one bytearray,
    # which grows in place as more data comes; what is taken is still bytes.
    buf = ReadBuffer()
    for chunk in (b"ab", b"cd", b"ef"):
        buf.push(chunk)
    assert buf.find(b"x") == -1
    buf.push(b"gh")
    assert buf.find(b"x") == -1
    first = buf.take(1)
    assert first == b"a" and type(first) is bytes
    assert buf.popleft() == b"bcdefgh"
    assert not buf


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


@pytest.mark.xfail(
    strict=True,
    raises=IndexError,
    reason="bug: take(0) on a non-empty buffer raises IndexError (so do Socket.read(0), "
    "recv(0) and recv_exactly(0) with data buffered; Node v20's read(0) returns null)",
)
def test_take_nothing() -> None:
    buf = ReadBuffer()
    buf.push(b"abc")
    assert buf.take(0) == b""
    assert len(buf) == 3


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


class ScanCounter(bytearray):
    """A chunk that records each search made in it (start and end of the window)."""

    windows: list[tuple[int, int]]

    def find(self, sub: Any, start: Any = None, end: Any = None) -> int:
        self.windows.append((start, end))
        return super().find(sub, start, end)


def test_find_never_scans_a_unit_twice() -> None:
    # A 20 KB line arriving in 200 reads of 100 bytes, searched after each:
    # every search starts where the last one stopped (less the separator's
    # length - 1, for a separator split between reads), so the units scanned
    # in all add up to the line's length, not 200 times it.  (The probe: the
    # first chunk, a bytearray, is the one the others accumulate into.)
    first = ScanCounter(b"x" * 100)
    first.windows = []
    buf = ReadBuffer()
    buf.push(first)
    for _ in range(199):
        assert buf.find(b"\r\n") == -1
        buf.push(b"x" * 100)
    buf.push(b"\r\n")
    assert buf.find(b"\r\n") == 20_002
    scanned = sum(end - start for start, end in first.windows)
    assert len(first.windows) == 200
    assert scanned <= 20_002 + 200 * (len(b"\r\n") - 1)


@pytest.mark.xfail(
    strict=True,
    reason="bug: find() resumes where a search for another separator stopped, so "
    "readline(timeout=...) timing out, then recv_until(b';') misses a ';' already buffered",
)
def test_find_another_separator_after_a_failed_search() -> None:
    buf = ReadBuffer()
    buf.push(b"ab;c")
    assert buf.find(b"\n") == -1
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
        st.tuples(st.just("unshift"), alphabet),
    )
    return st.lists(op, max_size=30)


def _check(chunks: list[Any], sep: Any, ops: list[tuple[Any, ...]], empty: Any) -> None:
    buf = ReadBuffer()
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
        elif name == "push":
            buf.push(args[0])
            model += args[0]
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
