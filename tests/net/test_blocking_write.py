"""The blocking write helpers: sendall, makefile, and ``with sock:``.

API.md "Straight-line helpers".  Each helper is exercised in the two places
a user calls it from: the connection handler (the socket's own greenlet,
which then reads the kernel itself) and another greenlet (a client made by
``open_connection`` in the test's greenlet, whose own greenlet reads for
it).  The peer is usually a plain gevent socket (``raw_client``), so the
bytes on the wire are exactly what the test sends.
"""

from __future__ import annotations

import gc
import socket
import time
import weakref
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
    payload,
    port_of,
    raw_client,
    recv_all,
    recv_exactly,
    reset,
    wait_until,
)

# ----------------------------------------------------------------------
# sendall


def test_sendall_returns_once_flushed(serve: Callable[..., Served]) -> None:
    data = payload(16 << 20)
    returned = Event()

    def handler(sock: gnet.Socket) -> int:
        sock.sendall(data)
        returned.set()
        return sock.writable_length

    served = serve(handler)
    with raw_client(served.port, rcvbuf=65536) as p:
        # Nobody reads yet: 16 MB cannot all be in the kernel's buffers.
        assert not returned.wait(0.3)
        got = recv_exactly(p, len(data))
        assert served.result.get(timeout=10) == 0
    assert got == data


def test_sendall_from_another_greenlet(serve: Callable[..., Served]) -> None:
    data = payload(4 << 20)
    served = serve(lambda sock: sock.recv_exactly(len(data)))
    with blocking_client(served.port) as c:
        c.sendall(data)
        assert c.writable_length == 0
        assert served.result.get(timeout=10) == data


def test_sendall_timeout_leaves_the_socket_usable(serve: Callable[..., Served]) -> None:
    data = payload(16 << 20)
    timed_out = Event()

    def handler(sock: gnet.Socket) -> None:
        t0 = time.monotonic()
        with pytest.raises(TimeoutError):
            sock.sendall(data, timeout=0.2)  # nobody reads: 16 MB cannot be flushed
        assert time.monotonic() - t0 < 2
        timed_out.set()
        sock.sendall(b"END")

    served = serve(handler)
    with raw_client(served.port, rcvbuf=65536) as p:
        assert timed_out.wait(5)
        got = recv_exactly(p, len(data) + 3)
        served.result.get(timeout=10)
    assert got == data + b"END"


def test_sendall_raises_the_socket_error_after_peer_reset(serve: Callable[..., Served]) -> None:
    did_reset = Event()
    errors: list[BaseException] = []

    def handler(sock: gnet.Socket) -> BaseException:
        sock.on("error", errors.append)
        did_reset.wait(5)
        with pytest.raises(OSError) as info:
            for _ in range(100):
                sock.sendall(b"x" * 65536)
        return info.value

    served = serve(handler)
    p = raw_client(served.port)
    served.sock.get(timeout=5)
    reset(p)
    did_reset.set()
    err = served.result.get(timeout=5)
    assert isinstance(err, (ConnectionResetError, BrokenPipeError))
    assert err.code in ("ECONNRESET", "EPIPE")
    assert served.closed.wait(5)
    assert errors == [err]


def test_sendall_blocked_raises_when_the_peer_resets(serve: Callable[..., Served]) -> None:
    go = Event()

    def handler(sock: gnet.Socket) -> None:
        go.wait(5)
        sock.reset_and_destroy()

    served = serve(handler)
    with blocking_client(served.port) as c:
        c.on("error", lambda err: None)
        g = gevent.spawn(c.sendall, payload(32 << 20))
        blocked(g)
        assert c.writable_length > 0
        go.set()
        with pytest.raises(OSError) as info:
            g.get(timeout=5)
        assert isinstance(info.value, (ConnectionResetError, BrokenPipeError))
        assert info.value.code in ("ECONNRESET", "EPIPE")


def test_a_reset_connection_is_freed_without_the_cyclic_gc(
    server_factory: Callable[..., gnet.Server],
) -> None:
    # A straight-line server's everyday end: the peer resets, recv() raises,
    # the handler lets the error escape.  The socket must then be freed by
    # reference counting alone: an error whose traceback holds the handler's
    # frames (which hold the socket) would leave every such connection to
    # the cyclic garbage collector.
    refs: list[weakref.ref[gnet.Socket]] = []
    accepted, closed = Event(), Event()

    def handler(sock: gnet.Socket) -> None:
        refs.append(weakref.ref(sock))
        sock.on("close", lambda had_error: closed.set())
        accepted.set()
        while sock.recv(timeout=5):
            pass

    server = server_factory(handler)
    gc.collect()
    gc.disable()
    try:
        p = raw_client(port_of(server))
        assert accepted.wait(5)
        reset(p)
        assert closed.wait(5)
        # the greenlet ends a turn or two after 'close'
        wait_until(lambda: refs[0]() is None, message=lambda: repr(gc.get_referrers(refs[0]())))
    finally:
        gc.enable()


# ----------------------------------------------------------------------
# makefile


def test_makefile_rb(serve: Callable[..., Served]) -> None:
    def handler(sock: gnet.Socket) -> Any:
        f = sock.makefile("rb")
        with f:
            out = (f.readline(), f.read(3), f.read())
        assert not sock.destroyed  # closing the file does not close the socket
        return out

    served = serve(handler)
    with raw_client(served.port) as p:
        p.sendall(b"first line\nabcdef")
        p.shutdown(socket.SHUT_WR)
        assert served.result.get(timeout=5) == (b"first line\n", b"abc", b"def")


def test_makefile_wb(serve: Callable[..., Served]) -> None:
    def handler(sock: gnet.Socket) -> None:
        with sock, sock.makefile("wb") as f:
            f.write(b"hello ")
            f.write(b"world\n")
            f.flush()

    served = serve(handler)
    with raw_client(served.port) as p:
        assert recv_all(p) == b"hello world\n"
        served.result.get(timeout=5)


def test_makefile_rwb(serve: Callable[..., Served]) -> None:
    def handler(sock: gnet.Socket) -> None:
        with sock, sock.makefile("rwb") as f:
            for line in iter(f.readline, b""):
                f.write(line.upper())
                f.flush()

    served = serve(handler)
    with raw_client(served.port) as p:
        p.sendall(b"abc\n")
        assert recv_exactly(p, 4) == b"ABC\n"
        p.sendall(b"def\nghi\n")
        assert recv_exactly(p, 8) == b"DEF\nGHI\n"
        p.shutdown(socket.SHUT_WR)
        assert recv_all(p) == b""
        served.result.get(timeout=5)


def test_makefile_text_modes(serve: Callable[..., Served]) -> None:
    def handler(sock: gnet.Socket) -> str:
        reader = sock.makefile("r", encoding="utf-8", newline="")
        writer = sock.makefile("w", encoding="utf-8")
        with sock, reader, writer:
            line = reader.readline()
            writer.write(f"got {line.strip()} ✓\n")  # line-buffered: flushed on \n
            writer.flush()
            return line

    served = serve(handler)
    with raw_client(served.port) as p:
        p.sendall("héllo\r\n".encode())
        assert recv_all(p) == "got héllo ✓\n".encode()
        assert served.result.get(timeout=5) == "héllo\r\n"


def test_makefile_from_another_greenlet(serve: Callable[..., Served]) -> None:
    def handler(sock: gnet.Socket) -> None:
        with sock:
            sock.sendall(sock.readline()[::-1])

    served = serve(handler)
    with blocking_client(served.port) as c, c.makefile("rwb") as f:
        f.write(b"olleh\n")
        f.flush()
        assert f.read() == b"\nhello"


# ----------------------------------------------------------------------
# with sock:


def test_with_sock_ends_on_normal_exit(serve: Callable[..., Served]) -> None:
    def handler(sock: gnet.Socket) -> tuple[bool, bool, bytes]:
        with sock:
            sock.sendall(b"bye\n")
        state = sock.writable_ended, sock.destroyed
        # Node's D2: 'end' (and so the automatic close) needs the EOF consumed.
        return (*state, sock.recv(timeout=5))

    served = serve(handler)
    with raw_client(served.port) as p:
        assert recv_all(p) == b"bye\n"  # EOF after the data: a FIN, not a reset
        p.shutdown(socket.SHUT_WR)
        assert served.result.get(timeout=5) == (True, False, b"")
    assert served.closed.wait(5)


def test_with_sock_destroys_on_exception(serve: Callable[..., Served]) -> None:
    closes: list[bool] = []
    errors: list[BaseException] = []
    boom = ValueError("boom")

    def handler(sock: gnet.Socket) -> None:
        sock.on("close", closes.append)
        sock.on("error", errors.append)
        with sock:
            raise boom

    served = serve(handler)
    with raw_client(served.port) as p:
        with pytest.raises(ValueError):
            served.result.get(timeout=5)
        sock = served.sock.get()
        assert sock.destroyed
        assert sock.errored is boom
        try:
            assert p.recv(10) == b""
        except ConnectionResetError:
            pass
    assert served.closed.wait(5)
    assert closes == [True]
    assert errors == [boom]


def test_with_client_socket(serve: Callable[..., Served]) -> None:
    served = serve(lambda sock: sock.pipe(sock))
    with gnet.open_connection(served.port, "127.0.0.1", timeout=5) as c:
        closed = closed_event(c)
        c.sendall(b"ping\n")
        assert c.readline() == b"ping\n"
    assert recv_all(c) == b""  # our FIN came back through the echo's pipe
    assert closed.wait(5)
