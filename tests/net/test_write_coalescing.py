"""Write coalescing (beyond Node): replies to a pipelined batch leave in one send.

The rule (gnet.writable, "Coalescing"; README "When writes leave"): bytes
written while the handler still has buffered input to work through are held,
and leave together as soon as a write finds nothing left to read, when they
reach the write high-water mark, when the writing greenlet next waits for
anything, at end()/uncork()/the end of ``with sock:``, and at destroy().
A lone request's reply is never held.  Node-style code (a flowing socket)
is unaffected.

The server's sockets run over a transport that counts its sends (the
kernel's send and sendmsg calls), so "one send" is counted, not guessed.
"""

from __future__ import annotations

import errno
from collections.abc import Callable, Iterator
from typing import Any

import gevent
import pytest
from gevent.event import AsyncResult, Event

import gnet
import gnet.server
from gnet.transport import SocketTransport
from support import Served, raw_client, recv_all, recv_exactly, sockopts

T = 5.0
HWM = 16384  # the default write high-water mark


class CountingTransport(SocketTransport):
    """A socket transport that records the size of every send, and can be made to fail."""

    __slots__ = ()
    sends: list[int] = []  # shared by every instance of one test (reset by the fixture)
    fail: list[OSError] = []  # when set, every send raises this

    def send(self, data: Any, flags: int = 0) -> int:
        if self.fail:
            raise self.fail[0]
        sent = super().send(data)
        self.sends.append(sent)
        return sent

    def sendmsg(self, buffers: Any, *args: Any) -> int:
        if self.fail:
            raise self.fail[0]
        sent = super().sendmsg(buffers)
        self.sends.append(sent)
        return sent


@pytest.fixture
def sends(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[int]]:
    """Servers made in this test accept over CountingTransport; yields its list of sends."""
    monkeypatch.setattr(gnet.server, "SocketTransport", CountingTransport)
    CountingTransport.sends = []
    CountingTransport.fail = []
    yield CountingTransport.sends


def upper_lines(sock: gnet.Socket) -> None:
    """A straight-line line server: one sendall() per line, as a newcomer writes it."""
    with sock:
        while line := sock.readline():
            sock.sendall(line.upper())


LINES = [b"line %02d\n" % i for i in range(16)]
REPLY = b"".join(line.upper() for line in LINES)


# ----------------------------------------------------------------------
# a batch leaves in one send; a lone reply is not held


def test_a_pipelined_batch_of_replies_leaves_in_one_send(
    serve: Callable[..., Served], sends: list[int]
) -> None:
    served = serve(upper_lines)
    with raw_client(served.port) as p:
        p.sendall(b"".join(LINES))  # 16 requests in one segment
        assert recv_exactly(p, len(REPLY)) == REPLY
        assert sends == [len(REPLY)]
        p.sendall(b"".join(LINES))  # and again: each batch is one send
        assert recv_exactly(p, len(REPLY)) == REPLY
        assert sends == [len(REPLY), len(REPLY)]


def test_a_lone_reply_is_handed_to_the_kernel_before_sendall_returns(
    serve: Callable[..., Served], sends: list[int]
) -> None:
    def handler(sock: gnet.Socket) -> list[tuple[int, int]]:
        seen = []
        with sock:
            while line := sock.readline():
                sock.sendall(line.upper())
                seen.append((len(sends), sock.writable_length))
        return seen

    served = serve(handler)
    with raw_client(served.port) as p:
        for line in LINES[:3]:
            p.sendall(line)
            assert recv_exactly(p, len(line)) == line.upper()
    assert served.result.get(timeout=T) == [(1, 0), (2, 0), (3, 0)]


def test_write_is_coalesced_too(serve: Callable[..., Served], sends: list[int]) -> None:
    def handler(sock: gnet.Socket) -> None:
        with sock:
            while line := sock.readline():
                assert sock.write(line.upper()) is True

    served = serve(handler)
    with raw_client(served.port) as p:
        p.sendall(b"".join(LINES))
        assert recv_exactly(p, len(REPLY)) == REPLY
    assert sends[0] == len(REPLY)


def test_replies_are_held_while_input_is_buffered_and_sendall_says_so(
    serve: Callable[..., Served], sends: list[int]
) -> None:
    # What sendall() returning means while a batch is under way: the bytes
    # are queued (writable_length), not yet handed to the kernel.
    def handler(sock: gnet.Socket) -> list[Any]:
        first = sock.readline()
        sock.sendall(first.upper())
        held = (len(sends), sock.writable_length, sock.readable_length)
        second = sock.readline()
        sock.sendall(second.upper())
        return [held, (len(sends), sock.writable_length)]

    served = serve(handler)
    with raw_client(served.port) as p:
        p.sendall(LINES[0] + LINES[1])
        assert recv_exactly(p, 16) == LINES[0].upper() + LINES[1].upper()
    assert served.result.get(timeout=T) == [(0, 8, 8), (1, 0)]


# ----------------------------------------------------------------------
# the other moments held bytes leave


def test_held_replies_leave_when_the_handler_waits_for_something_else(
    serve: Callable[..., Served], sends: list[int]
) -> None:
    # The handler answers the first request, then blocks on something that
    # is not its socket (a database, another greenlet): the reply must not
    # wait for it.  The event is set only once the client has the reply.
    got_reply = Event()

    def handler(sock: gnet.Socket) -> bytes:
        sock.sendall(sock.readline().upper())  # held: the second request is buffered
        got_reply.wait(T)
        return sock.readline()

    served = serve(handler)
    with raw_client(served.port) as p:
        p.sendall(LINES[0] + LINES[1])
        assert recv_exactly(p, 8) == LINES[0].upper()
        got_reply.set()
    assert served.result.get(timeout=T) == LINES[1]
    assert sends == [8]


def test_held_bytes_go_out_once_they_reach_the_high_water_mark(
    serve: Callable[..., Served], sends: list[int]
) -> None:
    reply = b"x" * 1999 + b"\n"  # 16 requests, 32 KB of replies: more than one hold

    def handler(sock: gnet.Socket) -> None:
        with sock:
            while sock.readline():
                sock.sendall(reply)

    served = serve(handler)
    with raw_client(served.port) as p:
        p.sendall(b"".join(LINES))
        assert recv_exactly(p, 16 * len(reply)) == 16 * reply
    assert len(sends) == 2 and all(HWM <= size < HWM + len(reply) for size in sends[:-1])


def test_cork_keeps_held_bytes_until_uncork(serve: Callable[..., Served], sends: list[int]) -> None:
    def handler(sock: gnet.Socket) -> int:
        sock.cork()
        sock.write(sock.readline().upper())  # corked (and a batch: more is buffered)
        gevent.sleep(0.05)  # the end of this turn of the loop releases no cork
        before = len(sends)
        sock.uncork()
        return before

    served = serve(handler)
    with raw_client(served.port) as p:
        p.sendall(LINES[0] + LINES[1])
        assert served.result.get(timeout=T) == 0
        assert recv_exactly(p, 8) == LINES[0].upper()


# ----------------------------------------------------------------------
# destroy, errors and the end of the handler: nothing dropped silently


def test_destroy_hands_held_replies_to_the_kernel_first(
    serve: Callable[..., Served], sends: list[int]
) -> None:
    def handler(sock: gnet.Socket) -> None:
        sock.sendall(sock.readline().upper())  # held: more input is buffered
        sock.destroy()

    served = serve(handler)
    with raw_client(served.port) as p:
        p.sendall(LINES[0] + LINES[1])
        assert recv_all(p) == LINES[0].upper()
    served.result.get(timeout=T)


def test_a_handler_raising_mid_batch_still_sends_the_replies_before(
    serve: Callable[..., Served], sends: list[int]
) -> None:
    def handler(sock: gnet.Socket) -> None:
        with sock:
            sock.sendall(sock.readline().upper())
            raise ValueError("bad request")  # destroy(exc): the first reply still goes out

    served = serve(handler)
    with raw_client(served.port) as p:
        p.sendall(LINES[0] + LINES[1])
        assert recv_all(p) == LINES[0].upper()
    with pytest.raises(ValueError):
        served.result.get(timeout=T)


def test_the_end_of_with_sock_sends_held_replies_then_fin(
    serve: Callable[..., Served], sends: list[int]
) -> None:
    def handler(sock: gnet.Socket) -> None:
        with sock:
            sock.sendall(sock.readline().upper())  # held; the handler stops reading

    served = serve(handler)
    with raw_client(served.port) as p:
        p.sendall(LINES[0] + LINES[1])
        assert recv_all(p) == LINES[0].upper()  # then FIN


def test_a_held_batch_that_fails_to_send_raises_in_the_next_sendall(
    serve: Callable[..., Served], sends: list[int]
) -> None:
    def handler(sock: gnet.Socket) -> Any:
        sock.sendall(sock.readline().upper())  # held
        CountingTransport.fail.append(ConnectionResetError(errno.ECONNRESET, "reset"))
        with pytest.raises(ConnectionResetError) as info:
            sock.sendall(sock.readline().upper())  # the batch ends: the send fails
        return info.value.code, sock.destroyed

    served = serve(handler)
    with raw_client(served.port) as p:
        p.sendall(LINES[0] + LINES[1])
        assert served.result.get(timeout=T) == ("ECONNRESET", True)


def test_a_held_batch_that_fails_at_the_end_of_the_turn_raises_in_the_next_helper(
    serve: Callable[..., Served], sends: list[int]
) -> None:
    def handler(sock: gnet.Socket) -> Any:
        sock.sendall(sock.readline().upper())  # held
        CountingTransport.fail.append(ConnectionResetError(errno.ECONNRESET, "reset"))
        gevent.sleep(0)  # the turn ends: the held reply is sent, and that fails
        destroyed = sock.destroyed
        line = sock.readline()  # what was buffered is still there to read
        with pytest.raises(ConnectionResetError):
            sock.sendall(line.upper())
        return destroyed

    served = serve(handler)
    with raw_client(served.port) as p:
        p.sendall(LINES[0] + LINES[1])
        assert served.result.get(timeout=T) is True


def test_a_held_batch_that_fails_at_the_end_of_with_sock_raises_there(
    serve: Callable[..., Served], sends: list[int]
) -> None:
    def handler(sock: gnet.Socket) -> None:
        with sock:
            sock.sendall(sock.readline().upper())  # held
            CountingTransport.fail.append(ConnectionResetError(errno.ECONNRESET, "reset"))

    served = serve(handler)
    with raw_client(served.port) as p:
        p.sendall(LINES[0] + LINES[1])
        with pytest.raises(ConnectionResetError):
            served.result.get(timeout=T)


# ----------------------------------------------------------------------
# Node-style code is not affected


def test_a_flowing_socket_sends_each_write_at_once(
    serve: Callable[..., Served], sends: list[int]
) -> None:
    counted = AsyncResult()

    def handler(sock: gnet.Socket) -> None:
        def on_data(chunk: bytes) -> None:
            for line in chunk.splitlines(keepends=True):
                sock.write(line.upper())  # three writes: three sends, as in Node
            counted.set(list(sends))

        sock.on("data", on_data)

    served = serve(handler)
    with raw_client(served.port) as p:
        p.sendall(b"".join(LINES[:3]))
        assert recv_exactly(p, 24) == b"".join(LINES[:3]).upper()
    assert counted.get(timeout=T) == [8, 8, 8]


def test_accepted_sockets_keep_nagle_on(serve: Callable[..., Served], sends: list[int]) -> None:
    # no_delay is unchanged: coalescing does not turn Nagle off (or on).
    served = serve(upper_lines)
    with raw_client(served.port) as p:
        p.sendall(LINES[0])
        recv_exactly(p, 8)
        assert sockopts(served.sock.get(timeout=T))[0] == 0
