"""The straight-line helpers of API.md ("Straight-line helpers"), gnet.once/on, open_connection.

Each helper is exercised in the two places a user calls it from: the
connection handler (the socket's own greenlet, which then reads the kernel
itself) and another greenlet (a client made by ``open_connection`` in the
test's greenlet, whose own greenlet reads for it).  The peer is usually a
plain gevent socket, so the bytes on the wire are exactly what the test
sends.  The last sections run gnet under ``gevent.monkey.patch_all()`` (and
without it) in a subprocess.
"""

from __future__ import annotations

import errno
import gc
import os
import random
import socket as pysocket
import struct
import subprocess
import sys
import textwrap
import time
import weakref
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import gevent
import pytest
from gevent import socket as gsocket
from gevent.event import AsyncResult, Event

import gnet
from gnet.errors import Error

Handler = Callable[[gnet.Socket], Any]
HWM = 16384  # the default high-water mark (API.md)
RECV_CHUNK = 65536  # one read from the kernel may bring this much (Node's libuv does the same)


# ----------------------------------------------------------------------
# fixtures and helpers


def port_of(server: gnet.Server) -> int:
    address = server.address()
    assert isinstance(address, dict)
    return int(address["port"])


class Served:
    """A server whose connection handler is ``handler``; remembers its sockets."""

    def __init__(self, server: gnet.Server) -> None:
        self.server = server
        self.port = port_of(server)
        self.result: AsyncResult = AsyncResult()  # the first handler's return or exception
        self.sock: AsyncResult = AsyncResult()  # the first accepted gnet socket
        self.closed = Event()  # the first accepted socket emitted 'close'


@pytest.fixture
def serve(server_factory: Callable[..., gnet.Server]) -> Callable[..., Served]:
    """``serve(handler, **options)``: a server on 127.0.0.1:0 running ``handler(sock)``.

    The first connection's handler result (or exception) lands in
    ``served.result``; a handler that raises has its socket destroyed.
    """

    def start(handler: Handler, **options: Any) -> Served:
        served: Served

        def on_connection(sock: gnet.Socket) -> None:
            first = not served.sock.ready()
            if first:
                served.sock.set(sock)
                sock.on("close", lambda had_error: served.closed.set())
            try:
                value = handler(sock)
            except BaseException as exc:
                if first:
                    served.result.set_exception(exc)
                sock.destroy()
            else:
                if first:
                    served.result.set(value)

        served = Served(server_factory(on_connection, **options))
        return served

    return start


@contextmanager
def peer(port: int, rcvbuf: int | None = None) -> Iterator[gsocket.socket]:
    """A plain (cooperative) TCP client: exactly the bytes the test sends.

    ``rcvbuf`` fixes its receive buffer (no autotuning), so a sender that it
    does not read from is pushed back after a known, small amount.
    """
    s = gsocket.socket(pysocket.AF_INET, pysocket.SOCK_STREAM)
    s.settimeout(10)
    if rcvbuf is not None:
        s.setsockopt(pysocket.SOL_SOCKET, pysocket.SO_RCVBUF, rcvbuf)
    try:
        s.connect(("127.0.0.1", port))  # an IP literal: no resolver (thread pool) involved
        yield s
    finally:
        s.close()


@contextmanager
def client(port: int, **options: Any) -> Iterator[gnet.Socket]:
    """A gnet client from open_connection, destroyed at the end."""
    sock = gnet.open_connection(port, "127.0.0.1", timeout=5, **options)
    try:
        yield sock
    finally:
        sock.destroy()


def recv_exact(s: Any, n: int) -> bytes:
    buf = bytearray()
    while len(buf) < n:
        data = s.recv(min(n - len(buf), 1 << 20))
        if not data:
            break
        buf += data
    return bytes(buf)


def recv_all(s: Any) -> bytes:
    buf = bytearray()
    while True:
        data = s.recv(1 << 20)
        if not data:
            return bytes(buf)
        buf += data


def reset(s: Any) -> None:
    """Close ``s`` with an RST."""
    s.setsockopt(pysocket.SOL_SOCKET, pysocket.SO_LINGER, struct.pack("ii", 1, 0))
    s.close()


def blocked(g: gevent.Greenlet) -> None:
    """Let ``g`` run until it blocks (a few trips through the hub)."""
    for _ in range(5):
        gevent.sleep(0)
    assert not g.ready(), g.value if g.successful() else g.exception


def closed_event(sock: gnet.Socket) -> Event:
    """Set on the socket's 'close' (attach it before the close can happen)."""
    ev = Event()
    sock.on("close", lambda had_error: ev.set())
    return ev


def payload(size: int, seed: int = 1) -> bytes:
    return random.Random(seed).randbytes(size)


# ----------------------------------------------------------------------
# recv


def test_recv_returns_available_data_at_least_one_byte(serve: Callable[..., Served]) -> None:
    def handler(sock: gnet.Socket) -> list[bytes]:
        got = [sock.recv()]
        while sum(map(len, got)) < 5:
            got.append(sock.recv())
        return got

    served = serve(handler)
    with peer(served.port) as p:
        p.sendall(b"hello")
        got = served.result.get(timeout=5)
    assert all(isinstance(c, bytes) and len(c) >= 1 for c in got)
    assert b"".join(got) == b"hello"


def test_recv_respects_max_bytes(serve: Callable[..., Served]) -> None:
    def handler(sock: gnet.Socket) -> list[bytes]:
        first = sock.recv_exactly(1)  # make sure all ten bytes had time to arrive
        got = [first]
        while sum(map(len, got)) < 10:
            chunk = sock.recv(3)
            assert 1 <= len(chunk) <= 3
            got.append(chunk)
        return got

    served = serve(handler)
    with peer(served.port) as p:
        p.sendall(b"0123456789")
        got = served.result.get(timeout=5)
    assert b"".join(got) == b"0123456789"
    assert all(len(c) <= 3 for c in got)


def test_recv_max_bytes_from_another_greenlet(serve: Callable[..., Served]) -> None:
    served = serve(lambda sock: sock.write(b"abcdefghij"))
    with client(served.port) as c:
        assert c.recv(4) == b"abcd"
        assert c.recv_exactly(6) == b"efghij"


def test_recv_returns_empty_at_end_of_stream(serve: Callable[..., Served]) -> None:
    def handler(sock: gnet.Socket) -> list[bytes]:
        got = []
        while True:
            chunk = sock.recv()
            got.append(chunk)
            if not chunk:
                break
        got.append(sock.recv())  # still b'' after the end
        return got

    served = serve(handler)
    with peer(served.port) as p:
        p.sendall(b"x")
        p.shutdown(pysocket.SHUT_WR)
        got = served.result.get(timeout=5)
    assert got[-2:] == [b"", b""]
    assert b"".join(got) == b"x"


def test_recv_empty_at_end_from_another_greenlet(serve: Callable[..., Served]) -> None:
    served = serve(lambda sock: sock.end(b"bye"))
    with client(served.port) as c:
        assert recv_all(c) == b"bye"
        assert c.recv() == b""


# ----------------------------------------------------------------------
# recv_exactly


def test_recv_exactly_across_several_sends(serve: Callable[..., Served]) -> None:
    served = serve(lambda sock: (sock.recv_exactly(5), sock.recv_exactly(1)))
    with peer(served.port) as p:
        for piece in (b"ab", b"cd", b"ef"):
            p.sendall(piece)
        assert served.result.get(timeout=5) == (b"abcde", b"f")


def test_recv_exactly_raises_incomplete_read_at_end(serve: Callable[..., Served]) -> None:
    def handler(sock: gnet.Socket) -> BaseException:
        with pytest.raises(gnet.IncompleteReadError) as info:
            sock.recv_exactly(5)
        return info.value

    served = serve(handler)
    with peer(served.port) as p:
        p.sendall(b"abc")
        p.shutdown(pysocket.SHUT_WR)
        err = served.result.get(timeout=5)
    assert isinstance(err, EOFError)
    assert err.partial == b"abc"


def test_recv_exactly_incomplete_from_another_greenlet(serve: Callable[..., Served]) -> None:
    served = serve(lambda sock: sock.end(b"abc"))
    with client(served.port) as c:
        with pytest.raises(gnet.IncompleteReadError) as info:
            c.recv_exactly(10)
        assert info.value.partial == b"abc"


# ----------------------------------------------------------------------
# recv_until


def test_recv_until_includes_the_separator(serve: Callable[..., Served]) -> None:
    served = serve(lambda sock: [sock.recv_until(b"\r\n") for _ in range(3)])
    with peer(served.port) as p:
        p.sendall(b"one\r\ntwo\r")
        p.sendall(b"\nthree\r\n")
        assert served.result.get(timeout=5) == [b"one\r\n", b"two\r\n", b"three\r\n"]


def test_recv_until_limit_overrun_keeps_the_bytes(serve: Callable[..., Served]) -> None:
    def handler(sock: gnet.Socket) -> Any:
        with pytest.raises(gnet.LimitOverrunError) as info:
            sock.recv_until(b"\n", limit=10)
        rest = sock.recv_exactly(20)  # the bytes searched are still there
        line = sock.recv_until(b"\n", limit=100)
        return info.value, rest, line

    served = serve(handler)
    with peer(served.port) as p:
        p.sendall(b"x" * 20)
        p.sendall(b"y\n")  # the separator comes beyond the limit either way
        err, rest, line = served.result.get(timeout=5)
    assert isinstance(err, ValueError)
    assert rest == b"x" * 20
    assert line == b"y\n"


def test_recv_until_separator_beyond_limit_overruns(serve: Callable[..., Served]) -> None:
    def handler(sock: gnet.Socket) -> Any:
        sock.recv_exactly(1)
        sock.unshift(b"a")
        with pytest.raises(gnet.LimitOverrunError):
            sock.recv_until(b"\n", limit=5)
        return sock.readline()

    served = serve(handler)
    with peer(served.port) as p:
        p.sendall(b"abcdefghij\n")
        assert served.result.get(timeout=5) == b"abcdefghij\n"


def test_recv_until_limit_overrun_then_recv_gets_the_bytes(serve: Callable[..., Served]) -> None:
    served = serve(lambda sock: sock.write(b"z" * 100))
    with client(served.port) as c:
        with pytest.raises(gnet.LimitOverrunError):
            c.recv_until(b"\n", limit=50)
        got = b""
        while len(got) < 100:
            got += c.recv()
        assert got == b"z" * 100


def test_recv_until_raises_incomplete_read_at_end(serve: Callable[..., Served]) -> None:
    def handler(sock: gnet.Socket) -> Any:
        first = sock.recv_until(b";")
        with pytest.raises(gnet.IncompleteReadError) as info:
            sock.recv_until(b";")
        return first, info.value.partial

    served = serve(handler)
    with peer(served.port) as p:
        p.sendall(b"a;partial")
        p.shutdown(pysocket.SHUT_WR)
        assert served.result.get(timeout=5) == (b"a;", b"partial")


# ----------------------------------------------------------------------
# readline and iteration


def test_readline_like_a_file(serve: Callable[..., Served]) -> None:
    served = serve(lambda sock: [sock.readline() for _ in range(5)])
    with peer(served.port) as p:
        p.sendall(b"a\nb")
        p.sendall(b"\nrest")
        p.shutdown(pysocket.SHUT_WR)
        assert served.result.get(timeout=5) == [b"a\n", b"b\n", b"rest", b"", b""]


def test_readline_from_another_greenlet(serve: Callable[..., Served]) -> None:
    served = serve(lambda sock: sock.end(b"one\ntwo\nthree"))
    with client(served.port) as c:
        assert [c.readline() for _ in range(5)] == [b"one\n", b"two\n", b"three", b"", b""]


def test_readline_limit(serve: Callable[..., Served]) -> None:
    def handler(sock: gnet.Socket) -> Any:
        with pytest.raises(gnet.LimitOverrunError):
            sock.readline(limit=8)
        return sock.recv_exactly(21)

    served = serve(handler)
    with peer(served.port) as p:
        p.sendall(b"a-much-too-long-line\n")
        assert served.result.get(timeout=5) == b"a-much-too-long-line\n"


def test_iteration_yields_chunks_until_end(serve: Callable[..., Served]) -> None:
    served = serve(lambda sock: list(sock))
    with peer(served.port) as p:
        for piece in (b"one ", b"two ", b"three"):
            p.sendall(piece)
        p.shutdown(pysocket.SHUT_WR)
        chunks = served.result.get(timeout=5)
    assert all(isinstance(c, bytes) and c for c in chunks)
    assert b"".join(chunks) == b"one two three"


def test_iteration_from_another_greenlet(serve: Callable[..., Served]) -> None:
    data = payload(300_000)
    served = serve(lambda sock: sock.end(data))
    with client(served.port) as c:
        assert b"".join(c) == data


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
    with peer(served.port, rcvbuf=65536) as p:
        # Nobody reads yet: 16 MB cannot all be in the kernel's buffers.
        assert not returned.wait(0.3)
        got = recv_exact(p, len(data))
        assert served.result.get(timeout=10) == 0
    assert got == data


def test_sendall_from_another_greenlet(serve: Callable[..., Served]) -> None:
    data = payload(4 << 20)
    served = serve(lambda sock: sock.recv_exactly(len(data)))
    with client(served.port) as c:
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
    with peer(served.port, rcvbuf=65536) as p:
        assert timed_out.wait(5)
        got = recv_exact(p, len(data) + 3)
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
    p = gsocket.socket(pysocket.AF_INET, pysocket.SOCK_STREAM)
    p.settimeout(5)
    p.connect(("127.0.0.1", served.port))
    served.sock.get(timeout=5)
    reset(p)
    did_reset.set()
    err = served.result.get(timeout=5)
    assert isinstance(err, (ConnectionResetError, BrokenPipeError))
    assert err.code in ("ECONNRESET", "EPIPE")
    assert served.closed.wait(5)
    assert errors == [err]


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
        p = gsocket.create_connection(("127.0.0.1", port_of(server)), timeout=5)
        assert accepted.wait(5)
        reset(p)
        assert closed.wait(5)
        for _ in range(100):  # the greenlet ends a turn or two after 'close'
            if refs[0]() is None:
                break
            gevent.sleep(0)
        assert refs[0]() is None, gc.get_referrers(refs[0]())
    finally:
        gc.enable()


def test_sendall_blocked_raises_when_the_peer_resets(serve: Callable[..., Served]) -> None:
    go = Event()

    def handler(sock: gnet.Socket) -> None:
        go.wait(5)
        sock.reset_and_destroy()

    served = serve(handler)
    with client(served.port) as c:
        c.on("error", lambda err: None)
        g = gevent.spawn(c.sendall, payload(32 << 20))
        blocked(g)
        assert c.writable_length > 0
        go.set()
        with pytest.raises(OSError) as info:
            g.get(timeout=5)
        assert isinstance(info.value, (ConnectionResetError, BrokenPipeError))
        assert info.value.code in ("ECONNRESET", "EPIPE")


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
    with peer(served.port) as p:
        p.sendall(b"first line\nabcdef")
        p.shutdown(pysocket.SHUT_WR)
        assert served.result.get(timeout=5) == (b"first line\n", b"abc", b"def")


def test_makefile_wb(serve: Callable[..., Served]) -> None:
    def handler(sock: gnet.Socket) -> None:
        with sock, sock.makefile("wb") as f:
            f.write(b"hello ")
            f.write(b"world\n")
            f.flush()

    served = serve(handler)
    with peer(served.port) as p:
        assert recv_all(p) == b"hello world\n"
        served.result.get(timeout=5)


def test_makefile_rwb(serve: Callable[..., Served]) -> None:
    def handler(sock: gnet.Socket) -> None:
        with sock, sock.makefile("rwb") as f:
            for line in iter(f.readline, b""):
                f.write(line.upper())
                f.flush()

    served = serve(handler)
    with peer(served.port) as p:
        p.sendall(b"abc\n")
        assert recv_exact(p, 4) == b"ABC\n"
        p.sendall(b"def\nghi\n")
        assert recv_exact(p, 8) == b"DEF\nGHI\n"
        p.shutdown(pysocket.SHUT_WR)
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
    with peer(served.port) as p:
        p.sendall("héllo\r\n".encode())
        assert recv_all(p) == "got héllo ✓\n".encode()
        assert served.result.get(timeout=5) == "héllo\r\n"


def test_makefile_from_another_greenlet(serve: Callable[..., Served]) -> None:
    def handler(sock: gnet.Socket) -> None:
        with sock:
            sock.sendall(sock.readline()[::-1])

    served = serve(handler)
    with client(served.port) as c, c.makefile("rwb") as f:
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
    with peer(served.port) as p:
        assert recv_all(p) == b"bye\n"  # EOF after the data: a FIN, not a reset
        p.shutdown(pysocket.SHUT_WR)
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
    with peer(served.port) as p:
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


# ----------------------------------------------------------------------
# set_encoding


def test_set_encoding_multibyte_char_split_between_sends(serve: Callable[..., Served]) -> None:
    pieces = [b"a\xc3", b"\xa9\xe2\x82", b"\xac\xf0\x9f", b"\x98\x80!"]
    expected = ["a", "é", "€", "😀!"]

    def handler(sock: gnet.Socket) -> list[str]:
        sock.set_encoding("utf8")
        got = []
        for _ in pieces:
            text = sock.recv()
            got.append(text)
            sock.sendall(text)  # str out, utf8 on the wire
        return got

    served = serve(handler)
    with peer(served.port) as p:
        for piece, text in zip(pieces, expected, strict=True):
            p.sendall(piece)
            assert recv_exact(p, len(text.encode())) == text.encode()
        assert served.result.get(timeout=5) == expected


def test_set_encoding_helpers_count_characters(serve: Callable[..., Served]) -> None:
    def handler(sock: gnet.Socket) -> Any:
        sock.set_encoding("utf-8")
        return (
            sock.recv_exactly(2),
            sock.readline(),
            sock.recv_until("→"),
            sock.recv_until(b";"),
            sock.readline(),
            sock.readline(),
        )

    served = serve(handler)
    with peer(served.port) as p:
        data = "€€x\nab→cd;ü".encode()
        p.sendall(data[:1])
        p.sendall(data[1:8])
        p.sendall(data[8:])
        p.shutdown(pysocket.SHUT_WR)
        assert served.result.get(timeout=5) == ("€€", "x\n", "ab→", "cd;", "ü", "")


def test_set_encoding_from_another_greenlet(serve: Callable[..., Served]) -> None:
    data = "Grüße, 世界 😀\n".encode()

    def handler(sock: gnet.Socket) -> None:
        for i in range(len(data)):
            sock.write(data[i : i + 1])
        sock.end()

    served = serve(handler)
    with client(served.port) as c:
        c.set_encoding("utf8")
        assert c.readline() == "Grüße, 世界 😀\n"
        assert c.recv() == ""


# ----------------------------------------------------------------------
# timeout=


def test_timeouts_raise_and_leave_the_socket_usable(serve: Callable[..., Served]) -> None:
    def handler(sock: gnet.Socket) -> Any:
        for call in (
            lambda: sock.recv_exactly(5, timeout=0.1),
            lambda: sock.readline(timeout=0.1),
            lambda: sock.recv_until(b";", timeout=0.1),
        ):
            t0 = time.monotonic()
            with pytest.raises(TimeoutError):
                call()
            assert 0.05 < time.monotonic() - t0 < 2
        sock.sendall(b"go\n")
        return sock.recv_exactly(5), sock.readline(), sock.recv(timeout=5)

    served = serve(handler)
    with peer(served.port) as p:
        p.sendall(b"ab")  # buffered before the timeouts; must not be lost
        assert recv_exact(p, 3) == b"go\n"
        p.sendall(b"cde\n")
        p.sendall(b"more")
        assert served.result.get(timeout=5) == (b"abcde", b"\n", b"more")


def test_recv_timeout_with_nothing_buffered(serve: Callable[..., Served]) -> None:
    def handler(sock: gnet.Socket) -> bytes:
        with pytest.raises(TimeoutError):
            sock.recv(timeout=0.1)
        sock.sendall(b"go")
        return sock.recv(timeout=5)

    served = serve(handler)
    with peer(served.port) as p:
        assert recv_exact(p, 2) == b"go"
        p.sendall(b"later")
        assert served.result.get(timeout=5) == b"later"


def test_timeout_from_another_greenlet(serve: Callable[..., Served]) -> None:
    go = Event()

    def handler(sock: gnet.Socket) -> None:
        go.wait(5)
        sock.write(b"late\n")

    served = serve(handler)
    with client(served.port) as c:
        t0 = time.monotonic()
        with pytest.raises(TimeoutError):
            c.recv(timeout=0.1)
        with pytest.raises(TimeoutError):
            c.readline(timeout=0.1)
        assert time.monotonic() - t0 < 2
        go.set()
        assert c.readline(timeout=5) == b"late\n"


def test_once_timeout_on_a_socket(serve: Callable[..., Served]) -> None:
    served = serve(lambda sock: None)
    with client(served.port) as c, pytest.raises(TimeoutError):
        gnet.once(c, "end", timeout=0.1)


# ----------------------------------------------------------------------
# misuse: concurrent reads, helpers while flowing


def test_two_greenlets_reading_at_once_from_another_greenlet(serve: Callable[..., Served]) -> None:
    go = Event()

    def handler(sock: gnet.Socket) -> None:
        go.wait(5)
        sock.write(b"data")

    served = serve(handler)
    with client(served.port) as c:
        first = gevent.spawn(c.recv)
        try:
            blocked(first)
            with pytest.raises(Error) as info:
                c.recv(timeout=1)
            assert info.value.code == "ERR_GNET_CONCURRENT_IO"
            go.set()
            assert first.get(timeout=5) == b"data"
        finally:
            go.set()
            first.kill()


def test_second_reader_while_the_handler_reads(serve: Callable[..., Served]) -> None:
    served = serve(lambda sock: sock.readline())
    with peer(served.port) as p:
        sock = served.sock.get(timeout=5)
        gevent.sleep(0.05)  # the handler is now blocked in readline()
        with pytest.raises(Error) as info:
            sock.recv(timeout=1)
        assert info.value.code == "ERR_GNET_CONCURRENT_IO"
        p.sendall(b"line\n")
        assert served.result.get(timeout=5) == b"line\n"


def test_two_greenlets_in_sendall_at_once(serve: Callable[..., Served]) -> None:
    served = serve(lambda sock: sock.recv_exactly(16 << 20))
    with client(served.port) as c:
        first = gevent.spawn(c.sendall, payload(16 << 20))
        blocked(first)
        with pytest.raises(Error) as info:
            c.sendall(b"x", timeout=1)
        assert info.value.code == "ERR_GNET_CONCURRENT_IO"
        first.get(timeout=10)
        assert served.result.get(timeout=10) == payload(16 << 20)


def test_one_reader_and_one_writer_greenlet_are_fine(serve: Callable[..., Served]) -> None:
    data = payload(8 << 20)
    served = serve(lambda sock: sock.pipe(sock))
    with client(served.port) as c:
        reader = gevent.spawn(recv_exact, c, len(data))
        writer = gevent.spawn(c.sendall, data)
        writer.get(timeout=20)
        assert reader.get(timeout=20) == data


class Sink(gnet.EventEmitter):
    """A writable that swallows everything (a pipe() destination)."""

    def write(self, chunk: Any, *args: Any) -> bool:
        return True

    def end(self, *args: Any) -> None:
        pass


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
            with pytest.raises(Error) as info:
                call()
            codes.append(info.value.code)
        return codes

    served = serve(handler)
    with peer(served.port):
        assert served.result.get(timeout=5) == ["ERR_GNET_FLOWING"] * 4


def test_helper_while_flowing_from_another_greenlet(serve: Callable[..., Served]) -> None:
    served = serve(lambda sock: None)
    with client(served.port) as c:
        c.on("data", lambda chunk: None)
        with pytest.raises(Error) as info:
            c.readline(timeout=1)
        assert info.value.code == "ERR_GNET_FLOWING"


# ----------------------------------------------------------------------
# destroy() from another greenlet


def test_destroy_wakes_a_blocked_recv_in_another_greenlet(serve: Callable[..., Served]) -> None:
    served = serve(lambda sock: None)
    with client(served.port) as c:
        g = gevent.spawn(c.recv)
        blocked(g)
        c.destroy()
        with pytest.raises(Error) as info:
            g.get(timeout=2)
        assert info.value.code == "ERR_SOCKET_CLOSED"


def test_destroy_wakes_the_handler_blocked_in_readline(serve: Callable[..., Served]) -> None:
    def handler(sock: gnet.Socket) -> str:
        with pytest.raises(Error) as info:
            sock.readline()
        return str(info.value.code)

    served = serve(handler)
    with peer(served.port) as p:
        p.sendall(b"no newline yet")
        sock = served.sock.get(timeout=5)
        gevent.sleep(0.05)  # the handler is now blocked in readline()
        sock.destroy()
        assert served.result.get(timeout=2) == "ERR_SOCKET_CLOSED"


def test_destroy_wakes_a_blocked_sendall(serve: Callable[..., Served]) -> None:
    def handler(sock: gnet.Socket) -> str:
        with pytest.raises(Error) as info:
            sock.sendall(payload(32 << 20))
        return str(info.value.code)

    served = serve(handler)
    with peer(served.port, rcvbuf=65536):
        sock = served.sock.get(timeout=5)
        gevent.sleep(0.1)  # the handler is now blocked in sendall(): nobody reads
        assert not served.result.ready()
        sock.destroy()
        assert served.result.get(timeout=2) == "ERR_SOCKET_CLOSED"


def test_helper_after_destroy_raises(serve: Callable[..., Served]) -> None:
    served = serve(lambda sock: None)
    with client(served.port) as c:
        c.destroy()
        for call in (c.recv, c.readline, lambda: c.sendall(b"x")):
            with pytest.raises(Error) as info:
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
    with peer(served.port) as p:

        def send() -> None:
            p.sendall(b"GET /x\n" + body)  # one send: readline() reads ahead into the body
            p.shutdown(pysocket.SHUT_WR)

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
    with client(served.port) as c:
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
        gevent.sleep(0.3)  # the peer keeps flooding meanwhile
        after_sleep = sock.bytes_read
        rest = sock.recv_exactly(len(flood))
        return line, after_line, after_sleep, rest == flood

    served = serve(handler)
    with peer(served.port) as p:
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
    with peer(served.port) as p:
        sender = gevent.spawn(p.sendall, flood)
        sock = served.sock.get(timeout=5)
        gevent.sleep(0.3)
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
    with client(served.port) as c:
        assert c.recv_exactly(10) == flood[:10]
        gevent.sleep(0.3)  # the server keeps flooding meanwhile
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
    with client(served.port) as c:
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
    with client(served.port) as c:
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
    with client(served.port) as c:
        c.sendall(b"12345")
        assert c.recv_exactly(len(data), timeout=10) == data
        assert served.result.get(timeout=10) == b"12345"


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
    with peer(port_of(server)):
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


def test_once_raises_the_error_if_it_comes_first() -> None:
    emitter = gnet.EventEmitter()
    boom = OSError("boom")
    gevent.spawn_later(0.01, emitter.emit, "error", boom)
    with pytest.raises(OSError) as info:
        gnet.once(emitter, "thing", timeout=5)
    assert info.value is boom


def test_once_connect_refused_raises() -> None:
    port = _closed_port()
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
    with peer(served.port) as p:
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
    with client(served.port) as c:
        chunks = [args for args in gnet.on(c, "data")]
        assert all(len(args) == 1 for args in chunks)
        assert b"".join(args[0] for args in chunks) == b"one two three"
        assert c.destroyed


def test_on_in_the_handler(serve: Callable[..., Served]) -> None:
    served = serve(lambda sock: b"".join(chunk for (chunk,) in gnet.on(sock, "data")))
    with peer(served.port) as p:
        p.sendall(b"abc")
        p.sendall(b"def")
        p.shutdown(pysocket.SHUT_WR)
        assert served.result.get(timeout=5) == b"abcdef"


def test_on_raises_on_error(serve: Callable[..., Served]) -> None:
    def handler(sock: gnet.Socket) -> None:
        sock.write(b"some")
        gevent.sleep(0.05)
        sock.reset_and_destroy()

    served = serve(handler)
    with client(served.port) as c:
        with pytest.raises(ConnectionResetError) as info:
            for _ in gnet.on(c, "data"):
                pass
        assert info.value.code == "ECONNRESET"
        assert c.listener_count("data") == 0


def test_on_emitter_events_queue_and_error() -> None:
    emitter = gnet.EventEmitter()

    def produce() -> None:
        emitter.emit("item", 1)
        emitter.emit("item", 2)  # while the consumer is busy: queued, not lost
        gevent.sleep(0.01)
        emitter.emit("item", 3)
        emitter.emit("error", ValueError("stop"))

    gevent.spawn(produce)
    seen = []
    with pytest.raises(ValueError, match="stop"):
        for (item,) in gnet.on(emitter, "item"):
            seen.append(item)
    assert seen == [1, 2, 3]
    assert emitter.listener_count("item") == 0


# ----------------------------------------------------------------------
# open_connection


def _closed_port() -> int:
    s = pysocket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return int(port)


def test_open_connection_returns_a_connected_socket(serve: Callable[..., Served]) -> None:
    served = serve(lambda sock: None)
    with client(served.port) as c:
        assert not c.connecting
        assert not c.pending
        assert c.ready_state == "open"
        assert c.remote_address == "127.0.0.1"
        assert c.remote_port == served.port
        assert isinstance(c.local_port, int)


def test_open_connection_leaves_no_listeners_of_its_own(serve: Callable[..., Served]) -> None:
    # The socket is the caller's: a leftover 'error' listener would swallow
    # its later errors (no "unhandled 'error'", no raise from gnet.once).
    served = serve(lambda sock: None)
    with client(served.port) as c:
        assert c.event_names() == []


def test_open_connection_options_and_aliases(serve: Callable[..., Served]) -> None:
    served = serve(lambda sock: sock.end(b"x"))
    c = gnet.open_connection(port=served.port, host="127.0.0.1", allow_half_open=True)
    try:
        assert c.allow_half_open
        assert c.recv_exactly(1) == b"x"
        assert c.recv() == b""
        assert c.writable  # half-open: still writable after the peer's end
    finally:
        c.destroy()


def test_open_connection_refused() -> None:
    port = _closed_port()
    with pytest.raises(ConnectionRefusedError) as info:
        gnet.open_connection(port, "127.0.0.1", timeout=5)
    err = info.value
    assert err.code == "ECONNREFUSED"
    assert err.errno == errno.ECONNREFUSED
    assert err.syscall == "connect"
    assert err.address == "127.0.0.1"
    assert err.port == port


@pytest.mark.allow_leaks  # gevent's resolver starts its thread pool, which lives on by design
def test_open_connection_host_name(serve: Callable[..., Served]) -> None:
    served = serve(lambda sock: sock.end(b"by name"))
    c = gnet.open_connection(served.port, "localhost", timeout=5)
    try:
        assert recv_all(c) == b"by name"
    finally:
        c.destroy()


def test_open_connection_host_name_in_a_fresh_process(tmp_path: Any) -> None:
    # Nothing but gnet imported: gnet must not rely on its user importing gevent.socket.
    source = """
        import gnet
        server = gnet.create_server(lambda sock: sock.end(b"fresh"))
        server.listen(0, "127.0.0.1")
        c = gnet.open_connection(server.address()["port"], "localhost", timeout=5)
        print(b"".join(c).decode())
        c.destroy()
        server.close()
    """
    script = tmp_path / "fresh.py"
    script.write_text(textwrap.dedent(source))
    proc = subprocess.run([sys.executable, str(script)], capture_output=True, timeout=30)
    assert proc.returncode == 0, proc.stderr.decode()[-2000:]
    assert proc.stdout.decode().strip() == "fresh"


def test_open_connection_unix(server_factory: Callable[..., gnet.Server], sock_path: str) -> None:
    server_factory(lambda sock: sock.end(b"unix"), path=sock_path)
    c = gnet.open_connection(path=sock_path, timeout=5)
    try:
        assert recv_all(c) == b"unix"
    finally:
        c.destroy()


def test_open_connection_timeout() -> None:
    answers: list[gevent.Greenlet] = []

    def slow_lookup(host: str, options: dict[str, Any], callback: Callable[..., Any]) -> None:
        # Answers only after the timeout below, so the connect is still pending then.
        answers.append(
            gevent.spawn_later(0.5, callback, None, [{"address": "127.0.0.1", "family": 4}])
        )

    t0 = time.monotonic()
    with pytest.raises(TimeoutError):
        gnet.open_connection(9, "slow.example", timeout=0.1, lookup=slow_lookup)
    assert time.monotonic() - t0 < 0.45
    gevent.joinall(answers, timeout=5)


# ----------------------------------------------------------------------
# many blocking clients through a gnet echo server


CLIENTS_SCRIPT = r"""
import hashlib, random, socket, sys, threading

port, clients, size = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
results = [None] * clients

def run(i):
    data = random.Random(i).randbytes(size)
    s = socket.create_connection(("127.0.0.1", port), timeout=30)
    sender = threading.Thread(target=lambda: (s.sendall(data), s.shutdown(socket.SHUT_WR)))
    sender.start()
    got = bytearray()
    while True:
        chunk = s.recv(1 << 20)
        if not chunk:
            break
        got += chunk
    sender.join()
    s.close()
    results[i] = hashlib.sha256(got).hexdigest() == hashlib.sha256(data).hexdigest()

threads = [threading.Thread(target=run, args=(i,)) for i in range(clients)]
for t in threads:
    t.start()
for t in threads:
    t.join()
print("OK" if all(results) else f"FAIL {results}", flush=True)
"""


def _wait_process(proc: subprocess.Popen[bytes], timeout: float) -> bytes:
    """Read ``proc``'s stdout cooperatively (the hub keeps running), then reap it."""
    assert proc.stdout is not None
    fd = proc.stdout.fileno()
    os.set_blocking(fd, False)
    out = bytearray()
    with gevent.Timeout(timeout):
        while True:
            gsocket.wait_read(fd)
            data = os.read(fd, 65536)
            if not data:
                break
            out += data
    proc.wait(timeout=5)
    return bytes(out)


def test_blocking_clients_move_5mb_through_a_gnet_echo_server(
    serve: Callable[..., Served], tmp_path: Any
) -> None:
    served = serve(lambda sock: sock.pipe(sock))
    script = tmp_path / "clients.py"
    script.write_text(CLIENTS_SCRIPT)
    proc = subprocess.Popen(
        [sys.executable, str(script), str(served.port), "4", str(5 << 20)],
        stdout=subprocess.PIPE,
    )
    try:
        out = _wait_process(proc, 60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        assert proc.stdout is not None
        proc.stdout.close()
    assert out.strip() == b"OK"
    assert proc.returncode == 0


# ----------------------------------------------------------------------
# monkey-patching (subprocesses)


PATCHED_SCRIPT = r"""
from gevent import monkey
monkey.patch_all()

import http.server, json, socket, sys, threading, time, urllib.request
from gevent import pywsgi
import gnet

backend = sys.argv[1]
N = 50

if backend == "pywsgi":
    def app(environ, start_response):
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [b"pong"]
    web = pywsgi.WSGIServer(("127.0.0.1", 0), app, log=None)
    web.start()
    url = f"http://127.0.0.1:{web.server_port}/"
    stop = web.stop
else:
    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(200)
            self.send_header("Content-Length", "4")
            self.end_headers()
            self.wfile.write(b"pong")
        def log_message(self, *args):
            pass
    class Server(http.server.ThreadingHTTPServer):
        request_queue_size = 128  # the stdlib's 5 would drop SYNs of 50 clients
    web = Server(("127.0.0.1", 0), Handler)
    threading.Thread(target=web.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{web.server_address[1]}/"
    def stop():
        web.shutdown()
        web.server_close()

def handle(sock):
    with sock:
        name = sock.readline().strip()
        time.sleep(0.2)  # blocking stdlib code, cooperative under patch_all
        with urllib.request.urlopen(url, timeout=10) as resp:
            body = resp.read()
        sock.sendall(name + b" " + body + b"\n")

server = gnet.create_server(handle)
server.listen(0, "127.0.0.1")
port = server.address()["port"]

answers = [None] * N
def client(i):
    with socket.create_connection(("127.0.0.1", port), timeout=20) as s:
        s.sendall(b"c%d\n" % i)
        answers[i] = s.makefile("rb").readline()

t0 = time.monotonic()
threads = [threading.Thread(target=client, args=(i,)) for i in range(N)]
for t in threads:
    t.start()
for t in threads:
    t.join()
elapsed = time.monotonic() - t0
server.close()
stop()
ok = answers == [b"c%d pong\n" % i for i in range(N)]
print(json.dumps({"ok": ok, "elapsed": elapsed, "answers": [a and a.decode() for a in answers[:3]],
                  "patched": monkey.is_module_patched("socket")}))
"""


UNPATCHED_SCRIPT = r"""
import json, time
import gevent, gevent.monkey
import gnet

N = 50

def backend_handle(sock):
    with sock:
        sock.sendall(b"pong " + sock.readline())

backend = gnet.create_server(backend_handle)
backend.listen(0, "127.0.0.1")
backend_port = backend.address()["port"]

def handle(sock):
    with sock:
        name = sock.readline().strip()
        gevent.sleep(0.2)
        with gnet.open_connection(backend_port, "127.0.0.1", timeout=10) as up:
            up.sendall(name + b"\n")
            answer = up.readline()
        sock.sendall(answer)

server = gnet.create_server(handle)
server.listen(0, "127.0.0.1")
port = server.address()["port"]

def client(i):
    with gnet.open_connection(port, "127.0.0.1", timeout=10) as c:
        c.sendall(b"c%d\n" % i)
        return c.readline(timeout=20)

t0 = time.monotonic()
jobs = [gevent.spawn(client, i) for i in range(N)]
gevent.joinall(jobs, timeout=30, raise_error=True)
elapsed = time.monotonic() - t0
answers = [j.value for j in jobs]
server.close()
backend.close()
ok = answers == [b"pong c%d\n" % i for i in range(N)]
print(json.dumps({"ok": ok, "elapsed": elapsed, "answers": [a and a.decode() for a in answers[:3]],
                  "patched": gevent.monkey.is_anything_patched()}))
"""


def _run_script(tmp_path: Any, source: str, *args: str) -> dict[str, Any]:
    import json

    script = tmp_path / "script.py"
    script.write_text(textwrap.dedent(source))
    proc = subprocess.run(
        [sys.executable, str(script), *args], capture_output=True, timeout=60, check=False
    )
    assert proc.returncode == 0, proc.stderr.decode()
    lines = proc.stdout.decode().strip().splitlines()
    assert lines, proc.stderr.decode()
    result: dict[str, Any] = json.loads(lines[-1])
    return result


@pytest.mark.parametrize("backend", ["pywsgi", "http.server"])
def test_patch_all_handlers_calling_blocking_stdlib_run_concurrently(
    tmp_path: Any, backend: str
) -> None:
    result = _run_script(tmp_path, PATCHED_SCRIPT, backend)
    assert result["patched"]
    assert result["ok"], result
    # 50 handlers each blocking 0.2 s (sleep + HTTP): sequential would be >= 10 s.
    assert result["elapsed"] < 5, result


def test_without_patch_all_handlers_run_concurrently(tmp_path: Any) -> None:
    result = _run_script(tmp_path, UNPATCHED_SCRIPT)
    assert not result["patched"]
    assert result["ok"], result
    assert result["elapsed"] < 5, result
