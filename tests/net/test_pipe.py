"""pipe() and unpipe(): forwarding with backpressure (Node's stream.pipe, NODE-NET §1.9).

Listeners run in gnet's greenlets, where a failing ``assert`` would only be
logged; so listeners record what they see and the test body asserts.
Each test names where its rule comes from: the Node test it ports
(test/parallel/... unless said otherwise), a NODE-NET.md rule, or API.md.
Node v20 is the baseline; expected values Node's tests do not spell out
were checked against v20 with small scripts.
"""

from __future__ import annotations

import socket
from typing import Any

import gevent
import gevent.select
from gevent.event import AsyncResult, Event

import gnet
from support import (
    TIMEOUT,
    Sink,
    give_a_chance,
    listen_local,
    port_of,
    wait_until,
)


def test_pipe__backpressure_pauses_source_until_drain(server_factory: Any, track: Any) -> None:
    # doc stream.pipe (NODE-NET §1.9): dest.write() returning False pauses the
    # source until dest's 'drain'; everything arrives; the end is passed on.
    total = 16 * 1024 * 1024
    sink_received = [0]
    sink_ended = Event()
    sink_side: list[gnet.Socket] = []

    def sink(s: gnet.Socket) -> None:
        sink_side.append(s)
        s.pause()  # a slow consumer at first

        def on_data(chunk: bytes) -> None:
            sink_received[0] += len(chunk)

        gevent.spawn_later(0.2, lambda: s.on("data", on_data) and s.resume())
        s.on("end", sink_ended.set)

    sink_srv = server_factory(sink)
    source_srv = server_factory(lambda s: s.end(bytes(total)))
    dest = track(gnet.connect(port_of(sink_srv), "127.0.0.1"))
    src = track(gnet.connect(port_of(source_srv), "127.0.0.1"))
    paused_at_drain: list[bool] = []
    dest.prepend_listener("drain", lambda: paused_at_drain.append(src.is_paused()))
    assert src.pipe(dest) is dest
    assert sink_ended.wait(TIMEOUT)
    assert sink_received[0] == total
    assert paused_at_drain and all(paused_at_drain)


def test_pipe__proxy_to_a_slow_reader_keeps_memory_bounded(server_factory: Any) -> None:
    # Issue 3's check: a proxy (accepted socket piped to an upstream
    # connection) between a fast sender and a reader that has stopped reading.
    # Backpressure must reach the sender through TCP: the proxy's queues stay
    # near the high-water mark however much the sender pushes.
    slow_side: list[gnet.Socket] = []
    stalled = Event()

    def reader(conn: gnet.Socket) -> None:
        slow_side.append(conn)
        conn.pause()  # reads nothing more: the kernel buffers fill up
        stalled.set()

    upstream = server_factory(reader)
    proxied: list[tuple[gnet.Socket, gnet.Socket]] = []

    def proxy(conn: gnet.Socket) -> None:
        target = gnet.connect(port_of(upstream), "127.0.0.1")
        conn.pipe(target)
        target.pipe(conn)
        proxied.append((conn, target))

    front = server_factory(proxy)
    sender = socket.create_connection(("127.0.0.1", port_of(front)))
    sender.setblocking(False)
    try:
        assert stalled.wait(5)
        chunk = b"x" * 65536
        sent = 0
        worst = 0
        deadline = gevent.get_hub().loop.now() + 1.0
        while sent < 64 * 1024 * 1024 and gevent.get_hub().loop.now() < deadline:
            try:
                sent += sender.send(chunk)
            except BlockingIOError:
                # Pushed back: let the proxy run until the sender may write again.
                remaining = deadline - gevent.get_hub().loop.now()
                gevent.select.select([], [sender], [], max(0.0, remaining))
            conn, target = proxied[0]
            worst = max(worst, conn.readable_length + target.writable_length)
        # Far less got through than was offered, and the proxy never held
        # more than its two buffers' worth: each side its high-water mark
        # plus one 64 KiB read (a write queue takes a whole chunk before
        # write() returns False; a read buffer reads one more before it is
        # full), however much the sender offered.
        assert sent < 64 * 1024 * 1024
        assert worst <= 2 * (16384 + 65536)
    finally:
        sender.close()
        for conn, target in proxied:
            conn.destroy()
            target.destroy()
        for conn in slow_side:
            conn.destroy()


def test_socket_pipe_end_false_leaves_dest_open(track: Any) -> None:
    # API.md Socket.pipe(dest, end=False):
    server = track(gnet.create_server(lambda conn: conn.end(b"source data")))
    port = listen_local(server)
    sink_got: list[bytes] = []
    sink = track(gnet.create_server(lambda conn: conn.on("data", sink_got.append)))
    sink_port = listen_local(sink)
    dest = track(gnet.connect(sink_port, "127.0.0.1"))
    src = track(gnet.connect(port, "127.0.0.1"))
    assert src.pipe(dest, end=False) is dest
    at_end = AsyncResult()
    src.on("end", lambda: at_end.set(dest.writable))
    assert at_end.get(timeout=TIMEOUT) is True
    wait_until(lambda: b"".join(sink_got) == b"source data")
    assert dest.writable is True


def test_socket_pipe_end_true_ends_dest(track: Any) -> None:
    # API.md Socket.pipe(dest): the source's end ends dest.
    server = track(gnet.create_server(lambda conn: conn.end(b"source data")))
    port = listen_local(server)
    sink_ended = Event()
    sink = track(gnet.create_server(lambda conn: (conn.resume(), conn.on("end", sink_ended.set))))
    sink_port = listen_local(sink)
    dest = track(gnet.connect(sink_port, "127.0.0.1"))
    src = track(gnet.connect(port, "127.0.0.1"))
    src.pipe(dest)
    at_end = AsyncResult()
    src.on("end", lambda: at_end.set(dest.writable))
    assert at_end.get(timeout=TIMEOUT) is False
    assert sink_ended.wait(TIMEOUT)


def test_pipe__ended_pipe_is_unpiped(server_factory: Any, track: Any) -> None:
    # Node's pipe cleans up on the source's 'end': the pipe is gone, so a
    # socket piped again (e.g. after a reconnect) does not pile up old ones.
    server = server_factory(lambda conn: conn.end(b"bye"))
    src = track(gnet.connect(port_of(server), "127.0.0.1", allow_half_open=True))
    sink = Sink()
    src.pipe(sink)
    gnet.once(src, "end", timeout=TIMEOUT)
    assert sink.chunks == [b"bye"] and sink.ended
    assert not src._pipes
    assert src.listener_count("data") == 0


def test_unpipe__stops_forwarding_and_pauses(server_factory: Any, track: Any) -> None:
    # doc stream.unpipe: after unpipe(dest) nothing more is written to dest
    # and the source (with no pipes left) is paused.
    received: list[bytes] = []
    got_first = Event()
    source_side = AsyncResult()

    def sink(s: gnet.Socket) -> None:
        s.on("data", lambda chunk: (received.append(chunk), got_first.set()))

    sink_srv = server_factory(sink)
    source_srv = server_factory(source_side.set)
    dest = track(gnet.connect(port_of(sink_srv), "127.0.0.1"))
    src = track(gnet.connect(port_of(source_srv), "127.0.0.1"))
    src.pipe(dest)
    feeder = source_side.get(timeout=TIMEOUT)
    feeder.write(b"first")
    assert got_first.wait(TIMEOUT)
    assert src.unpipe(dest) is src
    assert src.is_paused()
    feeder.write(b"second")
    wait_until(lambda: src.readable_length == 6)  # read, and kept
    give_a_chance()  # for a write to dest that must not come
    assert b"".join(received) == b"first"
    assert src.read() == b"second"


def test_socket_unpipe_without_dest_stops_every_pipe(track: Any) -> None:
    # API.md Socket.unpipe(): with no dest, every pipe.
    feeder_ready = AsyncResult()
    server = track(gnet.create_server(feeder_ready.set))
    port = listen_local(server)
    got: dict[int, list[bytes]] = {0: [], 1: []}
    accepted: list[gnet.Socket] = []

    def on_sink(conn: gnet.Socket) -> None:
        index = len(accepted)
        accepted.append(conn)
        conn.on("data", got[index].append)

    sink = track(gnet.create_server(on_sink))
    sink_port = listen_local(sink)
    dests = [track(gnet.connect(sink_port, "127.0.0.1")) for _ in range(2)]
    wait_until(lambda: len(accepted) == 2 and not any(dest.connecting for dest in dests))
    src = track(gnet.connect(port, "127.0.0.1"))
    for dest in dests:
        src.pipe(dest)
    feeder = feeder_ready.get(timeout=TIMEOUT)
    feeder.write(b"one")
    wait_until(lambda: got[0] and got[1])
    assert src.unpipe() is src
    assert src.is_paused()
    assert src.listener_count("data") == 0
    feeder.write(b"two")
    assert wait_until(lambda: src.readable_length == 3)
    assert src.read() == b"two"
