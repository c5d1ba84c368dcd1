"""The ``'readable'`` event (stream.md, Event 'readable'; issue 12).

Attaching a ``'readable'`` listener pauses the socket (``readable_flowing``
False, ``resume()`` included, while one is attached); ``'readable'`` fires
when data has been buffered and once at the end of the stream; ``read()``
then returns the data, then None, and ``'end'`` follows.  Before, a reader
written this way never got data or ``'end'``.

Node v20 (``node tests/node/hardening.js readable basic``; the interop test
tests/interop/test_node_hardening.py compares every mode live)::

    ["flowing:null","flowing:false","readable:5","read:hello","read:null",
     "readable:0","read:null","end","close"]
"""

from __future__ import annotations

import math
from typing import Any

import pytest
from gevent.event import Event

import gnet
from support import TIMEOUT, Collector, port_of, wait_until


def reader(sock: gnet.Socket, log: list[Any], done: Event) -> None:
    def on_readable() -> None:
        log.append(("readable", sock.readable_length))
        while (chunk := sock.read()) is not None:
            log.append(("read", chunk))
        log.append(("read", None))

    sock.on("readable", on_readable)
    sock.on("end", lambda: log.append("end"))
    sock.on("close", lambda had_error: done.set())


def test_readable_then_read_then_end(server_factory: Any, track: Any) -> None:
    server = server_factory(lambda conn: conn.end("hello"))
    sock = track(gnet.connect(port_of(server), "127.0.0.1"))
    assert sock.readable_flowing is None
    log: list[Any] = []
    done = Event()
    reader(sock, log, done)
    assert sock.readable_flowing is False  # attaching 'readable' paused it
    assert done.wait(TIMEOUT)
    assert log == [
        ("readable", 5),
        ("read", b"hello"),
        ("read", None),
        ("readable", 0),
        ("read", None),
        "end",
    ]


def test_readable_on_an_accepted_socket(server_factory: Any, track: Any) -> None:
    log: list[Any] = []
    done = Event()
    server = server_factory(lambda conn: reader(conn, log, done))
    client = track(gnet.connect(port_of(server), "127.0.0.1"))
    client.end(b"ping")
    assert done.wait(TIMEOUT)
    assert b"".join(chunk for kind, chunk in log[:-1] if kind == "read" and chunk) == b"ping"
    assert log[-1] == "end"


def test_resume_does_not_flow_while_readable_is_attached(track: Any) -> None:
    sock = track(gnet.Socket())
    sock.on("readable", lambda: None)
    sock.resume()
    assert sock.readable_flowing is False
    sock.on("data", lambda chunk: None)  # nor does a 'data' listener
    assert sock.readable_flowing is False


def test_read_also_emits_data(server_factory: Any, track: Any) -> None:
    # Node: what read() returns is a 'data' event too.
    server = server_factory(lambda conn: conn.end("hello"))
    sock = track(gnet.connect(port_of(server), "127.0.0.1"))
    data = Collector()
    sock.on("data", data)
    read: list[Any] = []
    sock.on("readable", lambda: read.append(sock.read()))
    data.wait(1)
    wait_until(lambda: b"hello" in read)
    assert data.firsts == [b"hello"]


def test_removing_readable_lets_data_listeners_flow(server_factory: Any, track: Any) -> None:
    # Node's updateReadableListening: the last 'readable' listener gone, a
    # 'data' listener makes the socket flow and gets what was buffered.
    server = server_factory(lambda conn: conn.end("hello"))
    sock = track(gnet.connect(port_of(server), "127.0.0.1"))
    data = Collector()
    ended = Event()

    def on_readable() -> None:
        sock.on("data", data)
        sock.off("readable", on_readable)

    sock.on("readable", on_readable)
    sock.on("end", ended.set)
    assert ended.wait(TIMEOUT)
    assert data.firsts == [b"hello"]
    assert sock.readable_flowing is True


def test_removing_readable_without_data_listeners_is_back_to_null(track: Any) -> None:
    sock = track(gnet.Socket())

    def nothing() -> None:
        pass

    sock.on("readable", nothing)
    sock.off("readable", nothing)
    assert sock.readable_flowing is None


def test_a_listener_that_does_not_read_holds_the_data_back(server_factory: Any, track: Any) -> None:
    # It is told once per arrival and at the end; the data waits in the
    # buffer (reading stops at the high-water mark) and 'end' waits for read().
    conns = Collector()
    server = server_factory(conns)
    sock = track(
        gnet.connect({"port": port_of(server), "host": "127.0.0.1", "high_water_mark": 1024})
    )
    told = Collector()
    sock.on("readable", told)
    ended = Event()
    sock.on("end", ended.set)
    conn = conns.wait(1)[0][0]
    conn.end(b"x" * 100_000)
    told.wait(1)
    wait_until(lambda: sock.readable_length >= 1024)
    assert sock.readable_length < 100_000  # backpressure: not all of it was read in
    assert not ended.is_set()
    drained: list[bytes] = []

    def drain() -> None:
        while (chunk := sock.read()) is not None:
            drained.append(chunk)

    sock.on("readable", drain)  # reading frees room: more comes, and 'readable' again
    drain()
    assert ended.wait(TIMEOUT)
    assert sum(map(len, drained)) == 100_000


def test_read_size_as_node_reads_it(server_factory: Any, track: Any) -> None:
    # Node v20, 'hello world' buffered, read(n) for 0, -1, 1.5, 'x', NaN:
    # ["0=null","-1=null","1.5=\"h\"","x=\"ello world\"","NaN=null"]; and on an
    # empty socket read(2**30 + 1) throws ERR_OUT_OF_RANGE.  gnet refuses a
    # size that is not a number ('x': Node reads all); NaN reads all.
    server = server_factory(lambda conn: conn.end("hello world"))
    sock = track(gnet.connect(port_of(server), "127.0.0.1"))
    sock.on("readable", lambda: None)
    wait_until(lambda: sock.readable_length == 11)
    assert sock.read(0) is None
    assert sock.read(-1) is None
    assert sock.read(1.5) == b"h"
    with pytest.raises(TypeError) as info:
        sock.read("x")  # type: ignore[arg-type]
    assert info.value.code == "ERR_INVALID_ARG_TYPE"  # type: ignore[attr-defined]
    assert sock.read(math.nan) == b"ello world"  # type: ignore[arg-type]
    with pytest.raises(ValueError) as info2:
        sock.read(2**30 + 1)
    assert info2.value.code == "ERR_OUT_OF_RANGE"  # type: ignore[attr-defined]
    assert sock.read(2**30) is None
