"""The blocking read helpers: recv, recv_exactly, recv_until, readline, iteration,
with set_encoding, and their timeout= argument.

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

import pytest
from gevent.event import Event

import gnet
from support import (
    Served,
    blocking_client,
    payload,
    raw_client,
    recv_all,
    recv_exactly,
)

# ----------------------------------------------------------------------
# recv


def test_recv_returns_available_data_at_least_one_byte(serve: Callable[..., Served]) -> None:
    def handler(sock: gnet.Socket) -> list[bytes]:
        got = [sock.recv()]
        while sum(map(len, got)) < 5:
            got.append(sock.recv())
        return got

    served = serve(handler)
    with raw_client(served.port) as p:
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
    with raw_client(served.port) as p:
        p.sendall(b"0123456789")
        got = served.result.get(timeout=5)
    assert b"".join(got) == b"0123456789"
    assert all(len(c) <= 3 for c in got)


def test_recv_max_bytes_from_another_greenlet(serve: Callable[..., Served]) -> None:
    served = serve(lambda sock: sock.write(b"abcdefghij"))
    with blocking_client(served.port) as c:
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
    with raw_client(served.port) as p:
        p.sendall(b"x")
        p.shutdown(socket.SHUT_WR)
        got = served.result.get(timeout=5)
    assert got[-2:] == [b"", b""]
    assert b"".join(got) == b"x"


def test_recv_empty_at_end_from_another_greenlet(serve: Callable[..., Served]) -> None:
    served = serve(lambda sock: sock.end(b"bye"))
    with blocking_client(served.port) as c:
        assert recv_all(c) == b"bye"
        assert c.recv() == b""


# ----------------------------------------------------------------------
# recv_exactly


def test_recv_exactly_across_several_sends(serve: Callable[..., Served]) -> None:
    served = serve(lambda sock: (sock.recv_exactly(5), sock.recv_exactly(1)))
    with raw_client(served.port) as p:
        for piece in (b"ab", b"cd", b"ef"):
            p.sendall(piece)
        assert served.result.get(timeout=5) == (b"abcde", b"f")


def test_recv_exactly_raises_incomplete_read_at_end(serve: Callable[..., Served]) -> None:
    def handler(sock: gnet.Socket) -> BaseException:
        with pytest.raises(gnet.IncompleteReadError) as info:
            sock.recv_exactly(5)
        return info.value

    served = serve(handler)
    with raw_client(served.port) as p:
        p.sendall(b"abc")
        p.shutdown(socket.SHUT_WR)
        err = served.result.get(timeout=5)
    assert isinstance(err, EOFError)
    assert err.partial == b"abc"


def test_recv_exactly_incomplete_from_another_greenlet(serve: Callable[..., Served]) -> None:
    served = serve(lambda sock: sock.end(b"abc"))
    with blocking_client(served.port) as c:
        with pytest.raises(gnet.IncompleteReadError) as info:
            c.recv_exactly(10)
        assert info.value.partial == b"abc"


# ----------------------------------------------------------------------
# recv_until


def test_recv_until_includes_the_separator(serve: Callable[..., Served]) -> None:
    served = serve(lambda sock: [sock.recv_until(b"\r\n") for _ in range(3)])
    with raw_client(served.port) as p:
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
    with raw_client(served.port) as p:
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
    with raw_client(served.port) as p:
        p.sendall(b"abcdefghij\n")
        assert served.result.get(timeout=5) == b"abcdefghij\n"


def test_recv_until_limit_overrun_then_recv_gets_the_bytes(serve: Callable[..., Served]) -> None:
    served = serve(lambda sock: sock.write(b"z" * 100))
    with blocking_client(served.port) as c:
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
    with raw_client(served.port) as p:
        p.sendall(b"a;partial")
        p.shutdown(socket.SHUT_WR)
        assert served.result.get(timeout=5) == (b"a;", b"partial")


# ----------------------------------------------------------------------
# readline and iteration


def test_readline_like_a_file(serve: Callable[..., Served]) -> None:
    served = serve(lambda sock: [sock.readline() for _ in range(5)])
    with raw_client(served.port) as p:
        p.sendall(b"a\nb")
        p.sendall(b"\nrest")
        p.shutdown(socket.SHUT_WR)
        assert served.result.get(timeout=5) == [b"a\n", b"b\n", b"rest", b"", b""]


def test_readline_from_another_greenlet(serve: Callable[..., Served]) -> None:
    served = serve(lambda sock: sock.end(b"one\ntwo\nthree"))
    with blocking_client(served.port) as c:
        assert [c.readline() for _ in range(5)] == [b"one\n", b"two\n", b"three", b"", b""]


def test_readline_limit(serve: Callable[..., Served]) -> None:
    def handler(sock: gnet.Socket) -> Any:
        with pytest.raises(gnet.LimitOverrunError):
            sock.readline(limit=8)
        return sock.recv_exactly(21)

    served = serve(handler)
    with raw_client(served.port) as p:
        p.sendall(b"a-much-too-long-line\n")
        assert served.result.get(timeout=5) == b"a-much-too-long-line\n"


def test_iteration_yields_chunks_until_end(serve: Callable[..., Served]) -> None:
    served = serve(lambda sock: list(sock))
    with raw_client(served.port) as p:
        for piece in (b"one ", b"two ", b"three"):
            p.sendall(piece)
        p.shutdown(socket.SHUT_WR)
        chunks = served.result.get(timeout=5)
    assert all(isinstance(c, bytes) and c for c in chunks)
    assert b"".join(chunks) == b"one two three"


def test_iteration_from_another_greenlet(serve: Callable[..., Served]) -> None:
    data = payload(300_000)
    served = serve(lambda sock: sock.end(data))
    with blocking_client(served.port) as c:
        assert b"".join(c) == data


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
    with raw_client(served.port) as p:
        for piece, text in zip(pieces, expected, strict=True):
            p.sendall(piece)
            assert recv_exactly(p, len(text.encode())) == text.encode()
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
    with raw_client(served.port) as p:
        data = "€€x\nab→cd;ü".encode()
        p.sendall(data[:1])
        p.sendall(data[1:8])
        p.sendall(data[8:])
        p.shutdown(socket.SHUT_WR)
        assert served.result.get(timeout=5) == ("€€", "x\n", "ab→", "cd;", "ü", "")


def test_set_encoding_from_another_greenlet(serve: Callable[..., Served]) -> None:
    data = "Grüße, 世界 😀\n".encode()

    def handler(sock: gnet.Socket) -> None:
        for i in range(len(data)):
            sock.write(data[i : i + 1])
        sock.end()

    served = serve(handler)
    with blocking_client(served.port) as c:
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
    with raw_client(served.port) as p:
        p.sendall(b"ab")  # buffered before the timeouts; must not be lost
        assert recv_exactly(p, 3) == b"go\n"
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
    with raw_client(served.port) as p:
        assert recv_exactly(p, 2) == b"go"
        p.sendall(b"later")
        assert served.result.get(timeout=5) == b"later"


def test_timeout_from_another_greenlet(serve: Callable[..., Served]) -> None:
    go = Event()

    def handler(sock: gnet.Socket) -> None:
        go.wait(5)
        sock.write(b"late\n")

    served = serve(handler)
    with blocking_client(served.port) as c:
        t0 = time.monotonic()
        with pytest.raises(TimeoutError):
            c.recv(timeout=0.1)
        with pytest.raises(TimeoutError):
            c.readline(timeout=0.1)
        assert time.monotonic() - t0 < 2
        go.set()
        assert c.readline(timeout=5) == b"late\n"
