"""gnet.once() and gnet.on(): blocking versions of Node's events.once and events.on.

API.md "Straight-line helpers".  Each helper is exercised in the two places
a user calls it from: the connection handler (the socket's own greenlet,
which then reads the kernel itself) and another greenlet (a client made by
``open_connection`` in the test's greenlet, whose own greenlet reads for
it).  The peer is usually a plain gevent socket (``raw_client``), so the
bytes on the wire are exactly what the test sends.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Callable
from typing import Any

import gevent
import pytest
from gevent.event import Event

import gnet
from support import (
    Served,
    blocked,
    blocking_client,
    closed_event,
    closed_port,
    port_of,
    raw_client,
    recv_all,
    wait_until,
)

# ----------------------------------------------------------------------
# gnet.once


def test_once_returns_the_arguments_tuple(serve: Callable[..., Served]) -> None:
    served = serve(lambda sock: sock.end(b"hi"))
    c = gnet.connect(served.port, "127.0.0.1")
    try:
        assert gnet.once(c, "connect", timeout=5) == ()
        assert gnet.once(c, "data", timeout=5) == (b"hi",)
        assert gnet.once(c, "close", timeout=5) == (False,)
    finally:
        c.destroy()


def test_once_server_connection(server_factory: Callable[..., gnet.Server]) -> None:
    server = server_factory()
    waiter = gevent.spawn(gnet.once, server, "connection", timeout=5)
    blocked(waiter)
    with raw_client(port_of(server)):
        (conn,) = waiter.get(timeout=5)
        assert isinstance(conn, gnet.Socket)
        conn.destroy()


def test_once_emitter_args_and_timeout() -> None:
    emitter = gnet.EventEmitter()
    gevent.spawn_later(0.01, emitter.emit, "thing", 1, "two")
    assert gnet.once(emitter, "thing", timeout=5) == (1, "two")
    t0 = time.monotonic()
    with pytest.raises(TimeoutError):
        gnet.once(emitter, "never", timeout=0.1)
    assert time.monotonic() - t0 < 2
    assert emitter.listener_count("never") == 0
    assert emitter.listener_count("error") == 0


def test_once_timeout_on_a_socket(serve: Callable[..., Served]) -> None:
    served = serve(lambda sock: None)
    with blocking_client(served.port) as c, pytest.raises(TimeoutError):
        gnet.once(c, "end", timeout=0.1)


def test_once_raises_the_error_if_it_comes_first() -> None:
    emitter = gnet.EventEmitter()
    boom = OSError("boom")
    gevent.spawn_later(0.01, emitter.emit, "error", boom)
    with pytest.raises(OSError) as info:
        gnet.once(emitter, "thing", timeout=5)
    assert info.value is boom


def test_once_connect_refused_raises() -> None:
    port = closed_port()
    c = gnet.connect(port, "127.0.0.1")
    closed = closed_event(c)
    with pytest.raises(ConnectionRefusedError) as info:
        gnet.once(c, "connect", timeout=5)
    assert info.value.code == "ECONNREFUSED"
    assert closed.wait(5)


def test_once_in_the_handler(serve: Callable[..., Served]) -> None:
    def handler(sock: gnet.Socket) -> tuple[Any, ...]:
        args = gnet.once(sock, "data", timeout=5)
        sock.end(b"got " + args[0])
        return args

    served = serve(handler)
    with raw_client(served.port) as p:
        p.sendall(b"ping")
        assert recv_all(p) == b"got ping"
        assert served.result.get(timeout=5) == (b"ping",)


# ----------------------------------------------------------------------
# gnet.on


def test_on_iterates_data_until_close(serve: Callable[..., Served]) -> None:
    def handler(sock: gnet.Socket) -> None:
        for piece in (b"one ", b"two ", b"three"):
            sock.write(piece)
        sock.end()

    served = serve(handler)
    with blocking_client(served.port) as c:
        chunks = [args for args in gnet.on(c, "data")]
        assert all(len(args) == 1 for args in chunks)
        assert b"".join(args[0] for args in chunks) == b"one two three"
        assert c.destroyed


def test_on_in_the_handler(serve: Callable[..., Served]) -> None:
    served = serve(lambda sock: b"".join(chunk for (chunk,) in gnet.on(sock, "data")))
    with raw_client(served.port) as p:
        p.sendall(b"abc")
        p.sendall(b"def")
        p.shutdown(socket.SHUT_WR)
        assert served.result.get(timeout=5) == b"abcdef"


def test_on_raises_on_error(serve: Callable[..., Served]) -> None:
    got_data = Event()

    def handler(sock: gnet.Socket) -> None:
        sock.write(b"some")
        got_data.wait(5)  # the client iterates over the data first
        sock.reset_and_destroy()

    served = serve(handler)
    with blocking_client(served.port) as c:
        with pytest.raises(ConnectionResetError) as info:
            for _ in gnet.on(c, "data"):
                got_data.set()
        assert info.value.code == "ECONNRESET"
        assert c.listener_count("data") == 0


def test_on_emitter_events_queue_and_error() -> None:
    emitter = gnet.EventEmitter()

    def produce() -> None:
        emitter.emit("item", 1)
        emitter.emit("item", 2)  # while the consumer is busy: queued, not lost
        wait_until(lambda: len(seen) == 2)  # the consumer caught up
        emitter.emit("item", 3)
        emitter.emit("error", ValueError("stop"))

    gevent.spawn(produce)
    seen = []
    with pytest.raises(ValueError, match="stop"):
        for (item,) in gnet.on(emitter, "item"):
            seen.append(item)
    assert seen == [1, 2, 3]
    assert emitter.listener_count("item") == 0
