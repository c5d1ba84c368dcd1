"""The helpers on data already buffered (their fast path): the same rules as when
they wait.

A helper whose answer is in the read buffer takes it without a guard of its
own (the buffer is disarmed while the socket flows or another greenlet
reads); these tests hold it to every rule of API.md "Straight-line helpers"
that the general path keeps: ERR_GNET_FLOWING, ERR_GNET_CONCURRENT_IO, the
limit, text after set_encoding, 'end' once the last byte is taken.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import gevent
import gevent.event
import pytest

import gnet
from gnet.state import ReadSide
from support import Served, blocking_client, closed_event, raw_client, wait_until

T = 5.0


def test_helpers_on_a_flowing_socket_raise_even_with_data_buffered(
    serve: Callable[..., Served],
) -> None:
    def handler(sock: gnet.Socket) -> Any:
        first = sock.readline()  # the rest of the packet stays buffered
        buffered = sock.readable_length
        sock.pause()
        sock.on("data", lambda chunk: None)  # flowing again (pause() made it paused)
        sock.resume()
        codes = []
        for call in (
            sock.readline,
            lambda: sock.recv_exactly(2),
            sock.recv,
            lambda: sock.recv_until(b"\n"),
        ):
            with pytest.raises(gnet.Error) as info:
                call()
            codes.append(info.value.code)
        return first, buffered, codes

    served = serve(handler)
    with raw_client(served.port) as p:
        p.sendall(b"one\ntwo\nthree\n")
        assert served.result.get(timeout=T) == (b"one\n", 10, ["ERR_GNET_FLOWING"] * 4)


def test_helpers_work_again_after_pause(serve: Callable[..., Served]) -> None:
    def handler(sock: gnet.Socket) -> Any:
        sock.resume()
        sock.pause()
        return sock.readline(), sock.readline(), sock.recv_exactly(3)

    served = serve(handler, pause_on_connect=True)
    with raw_client(served.port) as p:
        p.sendall(b"one\ntwo\nabc")
        assert served.result.get(timeout=T) == (b"one\n", b"two\n", b"abc")


def test_a_second_reader_is_refused_even_with_data_buffered(serve: Callable[..., Served]) -> None:
    served = serve(lambda sock: sock.write(b"a\nb\n"))
    with blocking_client(served.port) as c:
        first = gevent.spawn(c.recv_exactly, 100)  # waits: 4 bytes of 100 buffered
        wait_until(lambda: c.readable_length == 4)
        for call in (c.readline, lambda: c.recv_exactly(2), c.recv):
            with pytest.raises(gnet.Error) as info:
                call()
            assert info.value.code == "ERR_GNET_CONCURRENT_IO"
        first.kill()
        assert c.readline(timeout=T) == b"a\n"  # nothing was taken meanwhile


def test_a_buffered_line_longer_than_the_limit_overruns_and_stays(
    serve: Callable[..., Served],
) -> None:
    def handler(sock: gnet.Socket) -> Any:
        first = sock.readline()
        with pytest.raises(gnet.LimitOverrunError):
            sock.readline(limit=4)  # "abcdefgh\n" is buffered, 9 bytes
        return first, sock.readline(limit=9), sock.readline()

    served = serve(handler)
    with raw_client(served.port) as p:
        p.sendall(b"x\nabcdefgh\nz\n")
        assert served.result.get(timeout=T) == (b"x\n", b"abcdefgh\n", b"z\n")


def test_buffered_records_across_reads_and_put_back(serve: Callable[..., Served]) -> None:
    # Lines and exact reads that straddle the boundary between two reads,
    # with data put back in front: the same bytes, in order, whichever path.
    def handler(sock: gnet.Socket) -> Any:
        out = [sock.readline(), sock.recv_exactly(2)]
        sock.unshift(out[-1])
        out += [sock.readline(), sock.recv_until(b";"), sock.readline(), sock.recv(100)]
        return out

    served = serve(handler)
    with raw_client(served.port) as p:
        p.sendall(b"one\ntw")
        gevent.sleep(0.05)  # two reads on the server, most likely
        p.sendall(b"o\nthr;ee\nrest")
        assert served.result.get(timeout=T) == [
            b"one\n",
            b"tw",
            b"two\n",
            b"thr;",
            b"ee\n",
            b"rest",
        ]


def test_buffered_text_after_set_encoding(serve: Callable[..., Served]) -> None:
    def handler(sock: gnet.Socket) -> Any:
        sock.set_encoding("utf8")
        return sock.readline(), sock.recv_exactly(2), sock.readline(), sock.recv(10)

    served = serve(handler)
    with raw_client(served.port) as p:
        p.sendall("héllo\n€é\nà bientôt".encode())
        assert served.result.get(timeout=T) == ("héllo\n", "€é", "\n", "à bientôt")


def test_taking_the_last_buffered_line_after_the_peer_ended_emits_end(
    serve: Callable[..., Served],
) -> None:
    # The client's own greenlet reads ahead, so the peer's FIN is known
    # while two lines are still buffered; the helper that takes the last
    # one must let 'end' (then 'close') follow.
    def handler(sock: gnet.Socket) -> None:
        sock.end(b"a\nb\n")

    served = serve(handler)
    with blocking_client(served.port) as c:
        closed = closed_event(c)
        wait_until(lambda: c._read_side is ReadSide.EOF)
        assert c.readable_length == 4
        assert c.readline() == b"a\n"
        assert c.readline() == b"b\n"
        assert closed.wait(T)


def test_readable_length_counts_what_the_fast_paths_took(serve: Callable[..., Served]) -> None:
    # The fast paths take from the head without counting it there and then
    # (ReadBuffer counts at its next sync); readable_length, and 'end' after
    # the peer's FIN behind the last lines, must not notice the difference.
    go = gevent.event.Event()

    def handler(sock: gnet.Socket) -> None:
        sock.write(b"1\na\nbb\n")
        go.wait()
        sock.end(b"ccc\n")

    served = serve(handler)
    with blocking_client(served.port) as c:
        closed = closed_event(c)
        assert c.readline() == b"1\n"  # the general path: it arms the fast ones
        wait_until(lambda: c.readable_length == 5)
        assert c.readline() == b"a\n"
        assert c.readable_length == 3
        assert c.recv_exactly(3) == b"bb\n"
        assert c.readable_length == 0
        go.set()
        assert c.readline() == b"ccc\n"
        assert c.readline() == b""
        assert closed.wait(T)
