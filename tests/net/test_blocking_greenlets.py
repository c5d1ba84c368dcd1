"""The blocking helpers across greenlets: one reader and one writer at a time, no helper
while flowing, destroy() waking a blocked helper, helpers then events on one stream,
reading only what is needed (backpressure), and common greenlet patterns.

API.md "Straight-line helpers".  Each helper is exercised in the two places
a user calls it from: the connection handler (the socket's own greenlet,
which then reads the kernel itself) and another greenlet (a client made by
``open_connection`` in the test's greenlet, whose own greenlet reads for
it).  The peer is usually a plain gevent socket (``raw_client``), so the
bytes on the wire are exactly what the test sends.
"""

from __future__ import annotations

import socket
from collections.abc import Callable
from typing import Any

import gevent
import pytest
from gevent.event import AsyncResult, Event

import gnet
from support import (
    Served,
    Sink,
    blocked,
    blocking_client,
    closed_event,
    give_a_chance,
    payload,
    raw_client,
    recv_all,
    recv_exactly,
)

HWM = 16384  # the default high-water mark (API.md)
RECV_CHUNK = 65536  # one read from the kernel may bring this much (Node's libuv does the same)


# ----------------------------------------------------------------------
# misuse: concurrent reads, helpers while flowing


def test_two_greenlets_reading_at_once_from_another_greenlet(serve: Callable[..., Served]) -> None:
    go = Event()

    def handler(sock: gnet.Socket) -> None:
        go.wait(5)
        sock.write(b"data")

    served = serve(handler)
    with blocking_client(served.port) as c:
        first = gevent.spawn(c.recv)
        try:
            blocked(first)
            with pytest.raises(gnet.Error) as info:
                c.recv(timeout=1)
            assert info.value.code == "ERR_GNET_CONCURRENT_IO"
            go.set()
            assert first.get(timeout=5) == b"data"
        finally:
            go.set()
            first.kill()


def test_second_reader_while_the_handler_reads(serve: Callable[..., Served]) -> None:
    reading = Event()

    def handler(sock: gnet.Socket) -> bytes:
        reading.set()  # the handler runs on into readline() and blocks there
        return sock.readline()

    served = serve(handler)
    with raw_client(served.port) as p:
        sock = served.sock.get(timeout=5)
        assert reading.wait(5)  # so the handler is now blocked in readline()
        with pytest.raises(gnet.Error) as info:
            sock.recv(timeout=1)
        assert info.value.code == "ERR_GNET_CONCURRENT_IO"
        p.sendall(b"line\n")
        assert served.result.get(timeout=5) == b"line\n"


def test_two_greenlets_in_sendall_at_once(serve: Callable[..., Served]) -> None:
    served = serve(lambda sock: sock.recv_exactly(16 << 20))
    with blocking_client(served.port) as c:
        first = gevent.spawn(c.sendall, payload(16 << 20))
        blocked(first)
        with pytest.raises(gnet.Error) as info:
            c.sendall(b"x", timeout=1)
        assert info.value.code == "ERR_GNET_CONCURRENT_IO"
        first.get(timeout=10)
        assert served.result.get(timeout=10) == payload(16 << 20)


def test_one_reader_and_one_writer_greenlet_are_fine(serve: Callable[..., Served]) -> None:
    data = payload(8 << 20)
    served = serve(lambda sock: sock.pipe(sock))
    with blocking_client(served.port) as c:
        reader = gevent.spawn(recv_exactly, c, len(data))
        writer = gevent.spawn(c.sendall, data)
        writer.get(timeout=20)
        assert reader.get(timeout=20) == data


@pytest.mark.parametrize("start_flowing", ["on_data", "pipe", "resume"])
def test_helper_while_flowing_raises(serve: Callable[..., Served], start_flowing: str) -> None:
    def handler(sock: gnet.Socket) -> list[str]:
        sink = Sink()
        if start_flowing == "on_data":
            sock.on("data", lambda chunk: None)
        elif start_flowing == "pipe":
            sock.pipe(sink)
        else:
            sock.resume()
        codes = []
        for call in (sock.recv, lambda: sock.recv_exactly(1), sock.readline, sock.recv_until):
            with pytest.raises(gnet.Error) as info:
                call()
            codes.append(info.value.code)
        return codes

    served = serve(handler)
    with raw_client(served.port):
        assert served.result.get(timeout=5) == ["ERR_GNET_FLOWING"] * 4


def test_helper_while_flowing_from_another_greenlet(serve: Callable[..., Served]) -> None:
    served = serve(lambda sock: None)
    with blocking_client(served.port) as c:
        c.on("data", lambda chunk: None)
        with pytest.raises(gnet.Error) as info:
            c.readline(timeout=1)
        assert info.value.code == "ERR_GNET_FLOWING"


# ----------------------------------------------------------------------
# destroy() from another greenlet


def test_destroy_wakes_a_blocked_recv_in_another_greenlet(serve: Callable[..., Served]) -> None:
    served = serve(lambda sock: None)
    with blocking_client(served.port) as c:
        g = gevent.spawn(c.recv)
        blocked(g)
        c.destroy()
        with pytest.raises(gnet.Error) as info:
            g.get(timeout=2)
        assert info.value.code == "ERR_SOCKET_CLOSED"


def test_destroy_wakes_the_handler_blocked_in_readline(serve: Callable[..., Served]) -> None:
    reading = Event()

    def handler(sock: gnet.Socket) -> str:
        with pytest.raises(gnet.Error) as info:
            reading.set()  # the handler runs on into readline() and blocks there
            sock.readline()
        return str(info.value.code)

    served = serve(handler)
    with raw_client(served.port) as p:
        p.sendall(b"no newline yet")
        sock = served.sock.get(timeout=5)
        assert reading.wait(5)  # so the handler is now blocked in readline()
        sock.destroy()
        assert served.result.get(timeout=2) == "ERR_SOCKET_CLOSED"


def test_data_unshifted_while_the_handler_waits_comes_before_what_arrives(
    serve: Callable[..., Served],
) -> None:
    # The handler waits in readline() with its buffer empty; another greenlet
    # puts data back meanwhile.  What arrives next is queued behind it, not
    # put in its place.
    waiting = Event()

    def handler(sock: gnet.Socket) -> list[bytes]:
        lines = [sock.readline()]
        waiting.set()  # the handler runs on into readline() and waits there
        lines += [sock.readline(), sock.readline()]
        return lines

    served = serve(handler)
    with raw_client(served.port) as p:
        p.sendall(b"first\n")
        sock = served.sock.get(timeout=5)
        assert waiting.wait(5)
        sock.unshift(b"put back\n")
        p.sendall(b"then this\n")
        assert served.result.get(timeout=5) == [b"first\n", b"put back\n", b"then this\n"]


def test_destroy_wakes_a_blocked_sendall(serve: Callable[..., Served]) -> None:
    sending = Event()

    def handler(sock: gnet.Socket) -> str:
        data = payload(32 << 20)
        with pytest.raises(gnet.Error) as info:
            sending.set()  # the handler runs on into sendall() and blocks there
            sock.sendall(data)
        return str(info.value.code)

    served = serve(handler)
    with raw_client(served.port, rcvbuf=65536):
        sock = served.sock.get(timeout=5)
        assert sending.wait(5)  # so the handler is now blocked in sendall(): nobody reads
        assert not served.result.ready()
        sock.destroy()
        assert served.result.get(timeout=2) == "ERR_SOCKET_CLOSED"


def test_helper_after_destroy_raises(serve: Callable[..., Served]) -> None:
    served = serve(lambda sock: None)
    with blocking_client(served.port) as c:
        c.destroy()
        for call in (c.recv, c.readline, lambda: c.sendall(b"x")):
            with pytest.raises(gnet.Error) as info:
                call()
            assert info.value.code == "ERR_SOCKET_CLOSED"


# ----------------------------------------------------------------------
# one stream: helpers, then events


def test_readline_then_pipe_in_the_handler(serve: Callable[..., Served]) -> None:
    body = payload(1 << 20)

    def handler(sock: gnet.Socket) -> bytes:
        header = sock.readline()
        sock.write(b"HEADER " + header)
        sock.pipe(sock)
        return header

    served = serve(handler)
    with raw_client(served.port) as p:

        def send() -> None:
            p.sendall(b"GET /x\n" + body)  # one send: readline() reads ahead into the body
            p.shutdown(socket.SHUT_WR)

        sender = gevent.spawn(send)
        got = recv_all(p)
        sender.get(timeout=10)
    assert served.result.get(timeout=5) == b"GET /x\n"
    assert got[:14] == b"HEADER GET /x\n"
    assert len(got) - 14 == len(body)
    assert got[14:] == body


def test_readline_then_data_events_from_another_greenlet(serve: Callable[..., Served]) -> None:
    body = payload(200_000)
    served = serve(lambda sock: sock.end(b"status 200\nline two\n" + body))
    with blocking_client(served.port) as c:
        assert c.readline() == b"status 200\n"
        assert c.recv_exactly(3) == b"lin"
        chunks: list[bytes] = []
        c.on("data", chunks.append)
        assert closed_event(c).wait(5)
    assert b"".join(chunks) == b"e two\n" + body


# ----------------------------------------------------------------------
# backpressure


def test_handler_reading_does_not_read_beyond_need(serve: Callable[..., Served]) -> None:
    flood = payload(8 << 20)

    def handler(sock: gnet.Socket) -> Any:
        line = sock.readline()
        after_line = sock.bytes_read
        give_a_chance(0.3)  # the peer keeps flooding meanwhile: nothing more may be read
        after_sleep = sock.bytes_read
        rest = sock.recv_exactly(len(flood))
        return line, after_line, after_sleep, rest == flood

    served = serve(handler)
    with raw_client(served.port) as p:
        sender = gevent.spawn(p.sendall, b"hello\n" + flood)
        line, after_line, after_sleep, intact = served.result.get(timeout=20)
        sender.get(timeout=10)
    assert line == b"hello\n"
    assert after_line <= 6 + HWM + RECV_CHUNK
    assert after_sleep <= 6 + HWM + RECV_CHUNK
    assert intact


def test_idle_socket_stops_reading_at_the_high_water_mark(serve: Callable[..., Served]) -> None:
    flood = payload(8 << 20)
    served = serve(lambda sock: None)  # returns at once: nobody consumes
    with raw_client(served.port) as p:
        sender = gevent.spawn(p.sendall, flood)
        sock = served.sock.get(timeout=5)
        give_a_chance(0.3)  # the peer keeps flooding meanwhile: reading must stop at the mark
        assert sock.bytes_read <= HWM + RECV_CHUNK
        assert sock.readable_length <= HWM + RECV_CHUNK
        assert not sender.ready()  # pushed back by TCP
        assert sock.recv_exactly(len(flood), timeout=10) == flood
        sender.get(timeout=5)


def test_client_helper_reading_stays_bounded(serve: Callable[..., Served]) -> None:
    flood = payload(8 << 20)

    def handler(sock: gnet.Socket) -> None:
        sock.sendall(flood)
        sock.end()

    served = serve(handler)
    with blocking_client(served.port) as c:
        assert c.recv_exactly(10) == flood[:10]
        give_a_chance(0.3)  # the server keeps flooding meanwhile: nothing more may be read
        assert c.bytes_read <= 10 + HWM + RECV_CHUNK
        assert c.readable_length <= HWM + RECV_CHUNK
        assert c.recv_exactly(len(flood) - 10, timeout=10) == flood[10:]
        assert c.recv() == b""


# ----------------------------------------------------------------------
# helpers in the handler and from other greenlets


def test_line_protocol_handler_and_client(serve: Callable[..., Served]) -> None:
    def handler(sock: gnet.Socket) -> None:
        with sock:
            for line in iter(sock.readline, b""):
                sock.sendall(line.upper())

    served = serve(handler)
    with blocking_client(served.port) as c:
        for word in (b"alpha", b"beta", b"gamma"):
            c.sendall(word + b"\n")
            assert c.readline(timeout=5) == word.upper() + b"\n"
        c.end()
        assert c.recv(timeout=5) == b""
    served.result.get(timeout=5)


def test_handler_returns_and_a_worker_greenlet_reads(serve: Callable[..., Served]) -> None:
    done: AsyncResult = AsyncResult()

    def work(sock: gnet.Socket) -> None:
        try:
            with sock:
                name = sock.readline().strip()
                sock.sendall(b"hi " + name + b"\n")
            done.set(name)
        except BaseException as exc:
            done.set_exception(exc)

    served = serve(lambda sock: gevent.spawn(work, sock))
    with blocking_client(served.port) as c:
        c.sendall(b"bob\n")
        assert c.readline(timeout=5) == b"hi bob\n"
    assert done.get(timeout=5) == b"bob"


def test_handler_joining_reader_and_writer_greenlets(serve: Callable[..., Served]) -> None:
    """A common gevent pattern: full duplex with two greenlets, the handler joins them."""
    data = payload(2 << 20)

    def handler(sock: gnet.Socket) -> bytes:
        with sock:
            reader = gevent.spawn(sock.recv_exactly, 5)
            writer = gevent.spawn(sock.sendall, data)
            gevent.joinall([reader, writer], raise_error=True, timeout=3)
            assert reader.ready() and writer.ready()
            return reader.value

    served = serve(handler)
    with blocking_client(served.port) as c:
        c.sendall(b"12345")
        assert c.recv_exactly(len(data), timeout=10) == data
        assert served.result.get(timeout=10) == b"12345"
