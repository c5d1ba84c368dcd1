"""Accepting: the 'connection' socket, its options and greenlet, getConnections(),
pauseOnConnect, pause(msecs), and block_list.

maxConnections and 'drop' are in test_server_limits.py.

Listeners run in gnet's greenlets, where a failing ``assert`` would only be
logged; so listeners record what they see and the test body asserts.
Each test names where its rule comes from: the Node test it ports
(test/parallel/... unless said otherwise), a NODE-NET.md rule, or API.md.
Node v20 is the baseline; expected values Node's tests do not spell out
were checked against v20 with small scripts.
"""

from __future__ import annotations

import time
from typing import Any

import gevent
import pytest
from gevent.event import Event
from greenlet import getcurrent

import gnet
from support import (
    TIMEOUT,
    Collector,
    give_a_chance,
    listen_local,
    raises_code,
    sockopts,
    tracked_client,
    wait_until,
    waiter,
)

# ----------------------------------------------------------------------
# the accepted socket


def test_server__connection_socket_state(track: Any) -> None:
    # NODE-NET B1: the 'connection' socket has socket.server === server and is readable
    # and writable.
    seen: list[tuple[Any, bool, bool]] = []
    done = Collector()
    server: gnet.Server = track(gnet.create_server())

    def on_connection(conn: gnet.Socket) -> None:
        seen.append((conn.server, conn.readable, conn.writable))
        done()

    server.on("connection", on_connection)
    tracked_client(track, listen_local(server), "127.0.0.1")
    done.wait(1)
    assert seen == [(server, True, True)]


def test_local_address_port__accepted_socket(track: Any) -> None:
    # test-net-local-address-port.js: the accepted socket's local address is
    # the server's, its remote address the client's.
    socks = Collector()
    server: gnet.Server = track(gnet.create_server(socks))
    port = listen_local(server)
    peer = tracked_client(track, port, "127.0.0.1")
    gnet.once(peer, "connect", timeout=TIMEOUT)
    socks.wait(1)
    conn = socks.firsts[0]
    assert (conn.local_address, conn.local_port, conn.local_family) == ("127.0.0.1", port, "IPv4")
    assert (conn.remote_address, conn.remote_port, conn.remote_family) == (
        "127.0.0.1",
        peer.local_port,
        "IPv4",
    )
    assert conn.address() == {"address": "127.0.0.1", "family": "IPv4", "port": port}


def test_server__accepted_socket_end_without_data_listener(track: Any) -> None:
    # NODE-NET D2 with nothing buffered (Node v20, checked): an accepted socket
    # with no 'data' listener still gets 'end' when the client ends without
    # sending, then ends itself ('finish') and closes, so the server can close.
    events: list[Any] = []
    closed = Collector()

    def on_connection(conn: gnet.Socket) -> None:
        for name in ("end", "finish"):
            conn.on(name, lambda name=name: events.append(name))
        conn.on("close", lambda had_error: (events.append(("close", had_error)), closed()))

    server: gnet.Server = track(gnet.create_server(on_connection))
    peer = tracked_client(track, listen_local(server), "127.0.0.1")
    peer.resume()
    gnet.once(peer, "connect", timeout=TIMEOUT)
    peer.end()
    closed.wait(1)
    assert events == ["end", "finish", ("close", False)]
    server.close()
    gnet.once(server, "close", timeout=TIMEOUT)


def _accepted_options(
    track: Any, options: dict[str, Any]
) -> tuple[gnet.Socket, tuple[int, int, int | None]]:
    """The accepted socket of a server made with ``options``, and its descriptor's
    (TCP_NODELAY, SO_KEEPALIVE, TCP_KEEPIDLE)."""
    socks = Collector()
    server: gnet.Server = track(gnet.create_server(options, socks))
    port = listen_local(server)
    peer = tracked_client(track, port, "127.0.0.1")
    gnet.once(peer, "connect", timeout=TIMEOUT)
    socks.wait(1)
    conn = socks.firsts[0]
    return conn, sockopts(conn)


def test_server_options__accepted_sockets_default_options(track: Any) -> None:
    # NODE-NET B2 counterpart: without options, Nagle is on and keep-alive off.
    conn, (nodelay, keepalive, _) = _accepted_options(track, {})
    assert nodelay == 0
    assert keepalive == 0
    assert conn.allow_half_open is False


@pytest.mark.parametrize("spelling", ["snake", "camel"])
def test_server_options__accepted_sockets_inherit_options(track: Any, spelling: str) -> None:
    # NODE-NET B2: accepted sockets inherit allowHalfOpen, noDelay, keepAlive (the delay
    # floored to seconds) and highWaterMark (both sides).
    options = {
        "allow_half_open": True,
        "no_delay": True,
        "keep_alive": True,
        "keep_alive_initial_delay": 3500,
        "high_water_mark": 1024,
    }
    if spelling == "camel":
        options = {gnet._aliases.camel_case(k): v for k, v in options.items()}
    conn, (nodelay, keepalive, idle) = _accepted_options(track, options)
    assert nodelay != 0
    assert keepalive != 0
    assert idle == 3
    assert conn.allow_half_open is True
    assert conn.writable_high_water_mark == 1024
    assert conn.readable_high_water_mark == 1024


# ----------------------------------------------------------------------
# the connection listener and its greenlet


def test_server__connection_listener_return_does_not_close(track: Any) -> None:
    # API.md: returning from the connection listener does not close the socket.
    socks = Collector()
    server: gnet.Server = track(gnet.create_server(socks))
    peer: gnet.Socket = track(
        gnet.open_connection(listen_local(server), "127.0.0.1", timeout=TIMEOUT)
    )
    socks.wait(1)
    give_a_chance()  # for a close that must not follow the listener's return
    conn = socks.firsts[0]
    assert conn.destroyed is False
    conn.write(b"later")
    assert peer.recv_exactly(5, timeout=TIMEOUT) == b"later"


def test_server__blocking_connection_listener_does_not_stall_accepting(track: Any) -> None:
    # API.md: each connection has its own greenlet, so a connection listener
    # that blocks does not delay accepting (or serving) the next one.
    release = Event()
    seen = Collector()

    def handler(conn: gnet.Socket) -> None:
        seen(conn)
        if len(seen) == 1:
            release.wait(TIMEOUT)
        conn.end(b"served")

    server: gnet.Server = track(gnet.create_server(handler))
    port = listen_local(server)
    first = tracked_client(track, port, "127.0.0.1")
    first_data = Collector()
    first.on("data", first_data)
    seen.wait(1)
    try:
        second: gnet.Socket = track(gnet.open_connection(port, "127.0.0.1", timeout=TIMEOUT))
        assert second.recv_exactly(6, timeout=TIMEOUT) == b"served"
        assert len(seen) == 2
        assert first_data.calls == []
    finally:
        release.set()
    first_data.wait(1)
    assert first_data.firsts == [b"served"]


def test_server_each_connection_keeps_one_greenlet_for_its_events(track: Any) -> None:
    # API.md: "Each accepted connection gets one greenlet, which emits
    # 'connection' ... and then carries that socket's events."  Two
    # connections go idle, then the first one gets data: its events must
    # still run in the greenlet that ran its connection listener.
    seen: list[dict[str, Any]] = []
    closed = Collector()

    def on_connection(conn: gnet.Socket) -> None:
        mine: dict[str, Any] = {"connection": getcurrent()}
        seen.append(mine)
        conn.on("data", lambda chunk: mine.setdefault("data", getcurrent()))
        conn.on("end", lambda: mine.setdefault("end", getcurrent()))
        conn.on("close", lambda had_error: (mine.setdefault("close", getcurrent()), closed()))

    server = track(gnet.create_server(on_connection))
    port = listen_local(server)
    first = track(gnet.connect(port, "127.0.0.1"))
    wait_until(lambda: len(seen) == 1)
    second = track(gnet.connect(port, "127.0.0.1"))
    wait_until(lambda: len(seen) == 2)
    # The scenario under test: both connections sit idle a while (their
    # greenlets park) before any data comes.
    gevent.sleep(0.05)
    first.end(b"later")
    wait_until(lambda: len(closed) == 1)
    second.end(b"later")
    wait_until(lambda: len(closed) == 2)
    assert seen[0]["connection"] is not seen[1]["connection"]
    for mine in seen:
        assert mine["data"] is mine["connection"]
        assert mine["end"] is mine["connection"]
        assert mine["close"] is mine["connection"]


def test_server__get_connections(track: Any) -> None:
    # NODE-NET B8 / API.md: getConnections(cb) calls back later with (None, count);
    # connections is the count too.
    socks = Collector()
    server: gnet.Server = track(gnet.create_server(socks))
    early = Collector()
    assert server.get_connections(early) is server  # before listen: no throw
    assert early.calls == []
    early.wait(1)
    assert early.calls == [(None, 0)]

    port = listen_local(server)
    tracked_client(track, port, "127.0.0.1")
    tracked_client(track, port, "127.0.0.1")
    socks.wait(2)
    counted = Collector()
    server.getConnections(counted)  # type: ignore[attr-defined]
    assert counted.calls == []
    counted.wait(1)
    assert counted.calls == [(None, 2)]
    assert server.connections == 2

    closed = Collector()
    socks.firsts[0].on("close", closed)
    socks.firsts[0].destroy()
    assert server.connections == 1  # G3: decremented by destroy() at once
    closed.wait(1)
    after = Collector()
    server.get_connections(after)
    after.wait(1)
    assert after.calls == [(None, 1)]


# ----------------------------------------------------------------------
# pauseOnConnect


@pytest.mark.parametrize("key", ["pause_on_connect", "pauseOnConnect"])
def test_server_pause_on_connect__no_data_until_resume(track: Any, key: str) -> None:
    # test-net-server-pause-on-connect.js:
    # With pauseOnConnect the accepted socket reads nothing (bytesRead 0, no
    # 'data' although a listener is attached) until resume().  A second,
    # non-paused server receiving its data is the proof that time passed.
    msg = b"test"
    server1_socks, server1_data = Collector(), Collector()

    def server1_handler(sock: gnet.Socket) -> None:
        sock.on("data", server1_data)
        server1_socks(sock)

    server1: gnet.Server = track(gnet.create_server({key: True}, server1_handler))
    server2_data = Collector()
    server2: gnet.Server = track(
        gnet.create_server({key: False}, lambda sock: sock.on("data", server2_data))
    )
    written = Collector()
    tracked_client(track, listen_local(server1), "127.0.0.1").write(msg, written)
    written.wait(1)
    server1_socks.wait(1)
    tracked_client(track, listen_local(server2), "127.0.0.1").write(msg)
    server2_data.wait(1)
    assert server2_data.firsts == [msg]

    sock1 = server1_socks.firsts[0]
    assert sock1.bytes_read == 0
    assert server1_data.calls == []
    sock1.resume()
    server1_data.wait(1)
    assert b"".join(server1_data.firsts) == msg


def test_server_pause_on_connect__default_socket_reads_at_once(track: Any) -> None:
    # NODE-NET B1: without pauseOnConnect the accepted socket is already
    # reading: the data is read from the kernel (bytesRead) and buffered even
    # with no 'data' listener.
    msg = b"hello"
    socks = Collector()
    server: gnet.Server = track(gnet.create_server(socks))
    echo: gnet.Server = track(gnet.create_server(lambda conn: conn.pipe(conn)))
    written = Collector()
    tracked_client(track, listen_local(server), "127.0.0.1").write(msg, written)
    written.wait(1)
    socks.wait(1)
    barrier: gnet.Socket = track(
        gnet.open_connection(listen_local(echo), "127.0.0.1", timeout=TIMEOUT)
    )
    barrier.sendall(b"x", timeout=TIMEOUT)
    assert barrier.recv(timeout=TIMEOUT) == b"x"
    sock = socks.firsts[0]
    assert sock.bytes_read == len(msg)
    assert sock.readable_length == len(msg)


# ----------------------------------------------------------------------
# pause(msecs)


def test_server_pause__delays_accepting(track: Any) -> None:
    # API.md Server.pause(msecs):
    # pause(msecs): no accepting for msecs, then the pending connection (held
    # in the kernel backlog) is accepted.
    socks = Collector()
    server: gnet.Server = track(gnet.create_server(socks))
    port = listen_local(server)
    assert server.pause(300) is server
    started = time.monotonic()
    peer = tracked_client(track, port, "127.0.0.1")
    gnet.once(peer, "connect", timeout=TIMEOUT)
    socks.wait(1)
    assert time.monotonic() - started >= 0.25
    assert peer.destroyed is False


def test_server_pause__accepts_immediately_when_not_paused(track: Any) -> None:
    # API.md Server.pause(msecs):
    # The counterpart: without pause() the connection is accepted at once.
    socks = Collector()
    server: gnet.Server = track(gnet.create_server(socks))
    port = listen_local(server)
    started = time.monotonic()
    tracked_client(track, port, "127.0.0.1")
    socks.wait(1)
    assert time.monotonic() - started < 0.25


@pytest.mark.parametrize(
    ("msecs", "exc_type", "code"),
    [(-1, ValueError, "ERR_OUT_OF_RANGE"), ("1000", TypeError, "ERR_INVALID_ARG_TYPE")],
)
def test_server_pause__validates_msecs(
    track: Any, msecs: Any, exc_type: type[BaseException], code: str
) -> None:
    # API.md Server.pause(msecs): msecs is checked as Node checks a delay.
    server: gnet.Server = track(gnet.create_server())
    raises_code(exc_type, code, lambda: server.pause(msecs))


def test_server_pause_default_msecs_is_1000(track: Any) -> None:
    # API.md Server.pause(msecs=1000):
    accepted = Event()
    server = track(gnet.create_server(lambda conn: accepted.set()))
    port = listen_local(server)
    started = time.monotonic()
    server.pause()
    track(gnet.connect(port, "127.0.0.1"))
    assert not accepted.wait(0.6)  # still paused after 600 ms
    assert accepted.wait(TIMEOUT)
    assert 0.9 <= time.monotonic() - started < 3


# ----------------------------------------------------------------------
# block_list


@pytest.mark.parametrize("key", ["block_list", "blockList"])
def test_create_server_block_list_option_drops_blocked_peer(key: str, track: Any) -> None:
    # API.md module table: create_server option block_list (Node's blockList,
    # test-net-server-blocklist.js): an inbound connection from a blocked
    # address is closed at once, without 'connection'.
    block_list = gnet.BlockList()
    block_list.add_address("127.0.0.1")
    connections: list[gnet.Socket] = []
    server = track(gnet.create_server({key: block_list}, connections.append))
    port = listen_local(server)
    sock = track(gnet.connect(port, "127.0.0.1"))
    sock.on("error", lambda err: None)  # a reset is as good as a FIN here
    data: list[bytes] = []
    sock.on("data", data.append)
    closed = waiter(sock, "close")
    closed.get(timeout=TIMEOUT)
    assert data == []
    assert connections == []
    assert server.connections == 0


def test_create_server_block_list_option_admits_other_peers(track: Any) -> None:
    # API.md create_server option block_list: other peers are served.
    block_list = gnet.BlockList()
    block_list.add_subnet("10.0.0.0", 8)
    server = track(gnet.create_server({"block_list": block_list}, lambda c: c.end(b"hi")))
    port = listen_local(server)
    peer = track(gnet.open_connection(port, "127.0.0.1", timeout=TIMEOUT))
    assert peer.recv_exactly(2, timeout=TIMEOUT) == b"hi"
