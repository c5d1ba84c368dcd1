"""The blocking helpers' arguments and their edges (issue 12): a coded error at once,
nothing corrupted, nothing hung; a caller's own gevent.Timeout passes through.

* ``recv(0)`` returns b'' and leaves the stream alone, as ``socket.recv(0)``.
* Negative sizes and an empty separator raise ValueError (``ERR_OUT_OF_RANGE``);
  a size or limit that is not an integer raises TypeError
  (``ERR_INVALID_ARG_TYPE``); ``timeout=nan`` or a negative timeout raise
  ValueError, as ``socket.settimeout`` does.  With or without data buffered
  (the fast path looks at no argument it does not understand), and nothing
  is consumed.
* ``with gevent.Timeout(...)`` around any helper, or around ``open_connection``,
  ends as gevent's docs say (the helper never turns it into its own error),
  and ``with gevent.Timeout(seconds):`` around a whole exchange bounds it.
* ``recv_exactly(n)`` never buffers more than ``n`` or the high-water mark.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import gevent
import pytest

import gnet
from support import Served, blocking_client, closed_event, payload, raw_client

T = 5.0
HWM = 16384


BAD_CALLS: dict[str, tuple[Callable[[gnet.Socket], Any], type, str]] = {
    "recv(-1)": (lambda s: s.recv(-1), ValueError, "ERR_OUT_OF_RANGE"),
    "recv('x')": (lambda s: s.recv("x"), TypeError, "ERR_INVALID_ARG_TYPE"),
    "recv(2.5)": (lambda s: s.recv(2.5), TypeError, "ERR_INVALID_ARG_TYPE"),
    "recv_exactly(-1)": (lambda s: s.recv_exactly(-1), ValueError, "ERR_OUT_OF_RANGE"),
    "recv_exactly(2.5)": (lambda s: s.recv_exactly(2.5), TypeError, "ERR_INVALID_ARG_TYPE"),
    "recv_exactly(None)": (lambda s: s.recv_exactly(None), TypeError, "ERR_INVALID_ARG_TYPE"),
    "recv_until(b'')": (lambda s: s.recv_until(b""), ValueError, "ERR_OUT_OF_RANGE"),
    "recv_until('')": (lambda s: s.recv_until(""), ValueError, "ERR_OUT_OF_RANGE"),
    "recv_until(5)": (lambda s: s.recv_until(5), TypeError, "ERR_INVALID_ARG_TYPE"),
    "recv_until(limit=-1)": (
        lambda s: s.recv_until(b"\n", limit=-1),
        ValueError,
        "ERR_OUT_OF_RANGE",
    ),
    "readline(limit=-1)": (lambda s: s.readline(limit=-1), ValueError, "ERR_OUT_OF_RANGE"),
    "readline(limit='x')": (lambda s: s.readline(limit="x"), TypeError, "ERR_INVALID_ARG_TYPE"),
    "readline(limit=None)": (lambda s: s.readline(limit=None), TypeError, "ERR_INVALID_ARG_TYPE"),
}
BAD_TIMEOUTS: dict[str, tuple[Any, type, str]] = {
    "nan": (math.nan, ValueError, "ERR_OUT_OF_RANGE"),
    "-1": (-1, ValueError, "ERR_OUT_OF_RANGE"),
    "'1'": ("1", TypeError, "ERR_INVALID_ARG_TYPE"),
    "True": (True, TypeError, "ERR_INVALID_ARG_TYPE"),
}
HELPERS: dict[str, Callable[..., Any]] = {
    "recv": lambda s, **kw: s.recv(**kw),
    "recv_exactly": lambda s, **kw: s.recv_exactly(3, **kw),
    "recv_until": lambda s, **kw: s.recv_until(b"\n", **kw),
    "readline": lambda s, **kw: s.readline(**kw),
    "sendall": lambda s, **kw: s.sendall(b"x", **kw),
}


# ----------------------------------------------------------------------
# recv(0)


def test_recv_0_returns_empty_and_leaves_the_stream_alone(serve: Callable[..., Served]) -> None:
    def handler(sock: gnet.Socket) -> Any:
        nothing = sock.recv(0)  # nothing buffered, the peer still open
        ended = sock.readable_ended
        line = sock.readline()  # partly buffers what follows
        buffered = sock.readable_length
        again = sock.recv(0)
        return nothing, ended, line, again, buffered, sock.readable_length, sock.recv_exactly(5)

    served = serve(handler)
    with raw_client(served.port) as p:
        p.sendall(b"abc\ndefgh")
        assert served.result.get(timeout=T) == (b"", False, b"abc\n", b"", 5, 5, b"defgh")


def test_recv_0_after_set_encoding_is_an_empty_str(serve: Callable[..., Served]) -> None:
    def handler(sock: gnet.Socket) -> Any:
        sock.set_encoding("utf8")
        return sock.recv(0)

    served = serve(handler)
    with raw_client(served.port):
        assert served.result.get(timeout=T) == ""


# ----------------------------------------------------------------------
# bad sizes, separators and timeouts: coded errors, nothing consumed


@pytest.mark.parametrize("buffered", [False, True], ids=["empty", "buffered"])
@pytest.mark.parametrize("name", list(BAD_CALLS))
def test_a_bad_size_or_separator_raises_and_corrupts_nothing(
    serve: Callable[..., Served], name: str, buffered: bool
) -> None:
    call, kind, code = BAD_CALLS[name]

    def handler(sock: gnet.Socket) -> Any:
        if buffered:
            sock.unshift(b"ab\ncd\n")  # as if a helper had read ahead
        with pytest.raises(kind) as info:
            call(sock)
        length = sock.readable_length
        return info.value.code, length, sock.recv_exactly(length + 12)  # type: ignore[attr-defined]

    served = serve(handler)
    with raw_client(served.port) as p:
        p.sendall(b"hello world\n")
        expected = (b"ab\ncd\n" if buffered else b"") + b"hello world\n"
        assert served.result.get(timeout=T) == (code, len(expected) - 12, expected)


@pytest.mark.parametrize("buffered", [False, True], ids=["empty", "buffered"])
@pytest.mark.parametrize("helper", list(HELPERS))
@pytest.mark.parametrize("timeout", list(BAD_TIMEOUTS))
def test_a_bad_timeout_raises_at_once(
    serve: Callable[..., Served], timeout: str, helper: str, buffered: bool
) -> None:
    value, kind, code = BAD_TIMEOUTS[timeout]

    def handler(sock: gnet.Socket) -> Any:
        if buffered:
            sock.unshift(b"abc\n")
        with pytest.raises(kind) as info:
            HELPERS[helper](sock, timeout=value)
        return info.value.code, sock.readable_length  # type: ignore[attr-defined]

    served = serve(handler)
    with raw_client(served.port):
        assert served.result.get(timeout=T) == (code, 4 if buffered else 0)


def test_an_infinite_timeout_is_no_timeout(serve: Callable[..., Served]) -> None:
    def handler(sock: gnet.Socket) -> Any:
        return sock.readline(timeout=math.inf), sock.recv_exactly(2, timeout=math.inf)

    served = serve(handler)
    with raw_client(served.port) as p:
        p.sendall(b"line\n")
        gevent.sleep(0.05)  # the helper waits (with no deadline) for the rest
        p.sendall(b"xy")
        assert served.result.get(timeout=T) == (b"line\n", b"xy")


# ----------------------------------------------------------------------
# a caller's own gevent.Timeout passes through every helper


@pytest.mark.parametrize("helper", ["recv", "recv_exactly", "recv_until", "readline", "iteration"])
def test_a_callers_gevent_timeout_ends_its_block_in_the_handler(
    serve: Callable[..., Served], helper: str
) -> None:
    calls: dict[str, Callable[[gnet.Socket], Any]] = {
        "recv": lambda s: s.recv(),
        "recv_exactly": lambda s: s.recv_exactly(10),  # part of it is buffered
        "recv_until": lambda s: s.recv_until(b";"),
        "readline": lambda s: s.readline(timeout=10),  # the helper's own timeout is longer
        "iteration": lambda s: [chunk for chunk in s],
    }

    def handler(sock: gnet.Socket) -> Any:
        if helper != "recv":
            sock.unshift(b"abc")
        finished = False
        with gevent.Timeout(0.05, False):  # False: the block just ends
            calls[helper](sock)
            finished = True
        return finished, sock.readable_length, sock.destroyed

    served = serve(handler)
    with raw_client(served.port):
        left = 0 if helper in ("recv", "iteration") else 3  # the loop took what there was
        assert served.result.get(timeout=T) == (False, left, False)


def test_a_callers_gevent_timeout_ends_its_block_in_another_greenlet(
    serve: Callable[..., Served],
) -> None:
    served = serve(lambda sock: None)
    with blocking_client(served.port) as c:
        for call in (c.recv, lambda: c.recv_exactly(3), c.readline, lambda: c.recv_until(b";")):
            with gevent.Timeout(0.05, False):
                call()
                pytest.fail("the helper returned")
        sock = served.sock.get(timeout=T)
        sock.write(b"still usable\n")
        assert c.readline(timeout=T) == b"still usable\n"


def test_a_callers_gevent_timeout_ends_a_blocked_sendall(serve: Callable[..., Served]) -> None:
    served = serve(lambda sock: sock.pause())  # reads nothing: sendall blocks
    with blocking_client(served.port) as c:
        with gevent.Timeout(0.1, False):
            c.sendall(payload(32 << 20))
            pytest.fail("sendall returned")
        assert not c.destroyed


def test_a_callers_gevent_timeout_ends_open_connection(stalled_port: int) -> None:
    with gevent.Timeout(0.1, False):
        gnet.open_connection(stalled_port, "127.0.0.1", timeout=10)
        pytest.fail("open_connection returned")
    with pytest.raises(gevent.Timeout) as info, gevent.Timeout(0.1) as mine:
        gnet.open_connection(stalled_port, "127.0.0.1")
    assert info.value is mine
    with pytest.raises(TimeoutError):  # its own timeout is still TimeoutError
        gnet.open_connection(stalled_port, "127.0.0.1", timeout=0.05)


def test_a_gevent_timeout_around_the_whole_exchange_bounds_a_trickling_client(
    serve: Callable[..., Served],
) -> None:
    # A client that sends a short line now and then defeats per-call
    # timeouts and the idle timeout; one gevent.Timeout around the handler's
    # exchange bounds the connection's total time.
    def handler(sock: gnet.Socket) -> Any:
        try:
            with gevent.Timeout(0.3), sock:
                while sock.readline(timeout=0.2):
                    pass
        except gevent.Timeout:
            return "cut off"
        return "finished"

    served = serve(handler)
    with raw_client(served.port) as p:
        closed = closed_event(served.sock.get(timeout=T))
        for _ in range(20):
            if closed.is_set():
                break
            p.sendall(b"x\n")
            gevent.sleep(0.05)
        assert served.result.get(timeout=T) == "cut off"
        assert closed.wait(T)


# ----------------------------------------------------------------------
# recv_exactly buffers no more than it was asked for


def test_recv_exactly_reads_no_more_than_asked_or_the_high_water_mark(
    serve: Callable[..., Served],
) -> None:
    flood = payload(1 << 20)

    def handler(sock: gnet.Socket) -> Any:
        header = sock.recv_exactly(4)
        after_header = sock.bytes_read
        body = sock.recv_exactly(100_000)  # larger than the mark: exactly that
        return header, after_header, len(body), sock.bytes_read

    served = serve(handler)
    with raw_client(served.port) as p:
        sender = gevent.spawn(p.sendall, flood)
        header, after_header, body, after_body = served.result.get(timeout=T)
        sender.kill()
    assert header == flood[:4] and body == 100_000
    assert after_header <= HWM
    assert after_body == 4 + 100_000


def test_recv_exactly_with_a_zero_high_water_mark_reads_exactly(
    serve: Callable[..., Served],
) -> None:
    def handler(sock: gnet.Socket) -> Any:
        sizes = []
        for n in (4, 1, 7):
            sock.recv_exactly(n)
            sizes.append(sock.bytes_read)
        return sizes

    served = serve(handler, high_water_mark=0)
    with raw_client(served.port) as p:
        p.sendall(b"x" * 1000)
        assert served.result.get(timeout=T) == [4, 5, 12]
