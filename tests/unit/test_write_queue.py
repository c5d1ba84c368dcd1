"""gnet.buffers.WriteQueue: order, partial sends, callbacks, empty writes."""

from __future__ import annotations

from typing import Any

from gnet.buffers import WriteQueue


def _queue(*chunks: bytes) -> tuple[WriteQueue, list[Any]]:
    done: list[Any] = []
    wq = WriteQueue()
    for i, chunk in enumerate(chunks):
        wq.push(chunk, lambda err=None, i=i: done.append(i))
    return wq, done


def test_length_counts_every_queued_byte() -> None:
    wq, _ = _queue(b"abc", b"", b"defg")
    assert wq.length == 7
    assert wq.buffers() == [b"abc", b"", b"defg"]


def test_a_partial_send_keeps_the_unsent_tail_without_copying() -> None:
    wq, _ = _queue(b"abcdef")
    assert wq.consume(2) == []
    (tail,) = wq.buffers()
    assert isinstance(tail, memoryview) and bytes(tail) == b"cdef"
    assert wq.length == 4


def test_callbacks_come_back_in_order_once_their_bytes_are_sent() -> None:
    wq, done = _queue(b"ab", b"cd", b"ef")
    for cb in wq.consume(3):
        cb()
    assert done == [0]
    for cb in wq.consume(3):
        cb()
    assert done == [0, 1, 2]
    assert not wq.entries and wq.length == 0


def test_an_empty_write_completes_with_what_precedes_it() -> None:
    # A zero-length entry must never stall the queue (a send of b'' takes 0 bytes).
    wq, done = _queue(b"", b"x", b"")
    for cb in wq.consume(0):
        cb()
    assert done == [0]
    for cb in wq.consume(1):
        cb()
    assert done == [0, 1, 2]


def test_buffers_are_capped_for_one_sendmsg() -> None:
    wq, _ = _queue(*[b"x"] * 600)
    assert len(wq.buffers(512)) == 512


def test_clear_returns_the_pending_callbacks() -> None:
    wq, done = _queue(b"a", b"b")
    wq.push(b"c", None)
    callbacks = wq.clear()
    assert len(callbacks) == 2 and wq.length == 0 and not wq.entries
    for cb in callbacks:
        cb()
    assert done == [0, 1]
