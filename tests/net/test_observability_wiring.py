"""The core's side of observability: where it publishes events and what it logs.

The publish points and log calls of the core (issue 15): the socket's own
connection id and start time, the events published from the socket, the
server and the write path, and the records that go through gnet.logs.
Every test fails fast (it waits for a gnet event that always happens, then
checks what came with it).
"""

from __future__ import annotations

import logging
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import gevent
import gevent.event
import gevent.socket
import pytest
import zope.event

import gnet
from gnet import diagnostics, logs
from support import port_of

T = 5.0


@contextmanager
def recording() -> Iterator[list[Any]]:
    events: list[Any] = []
    zope.event.subscribers.append(events.append)
    try:
        yield events
    finally:
        zope.event.subscribers.remove(events.append)


def of(events: list[Any], cls: type) -> list[Any]:
    return [e for e in events if type(e) is cls]


def wait_until(predicate: Any) -> None:
    with gevent.Timeout(T, AssertionError("condition not reached")):
        while not predicate():
            gevent.sleep(0.005)


def listen_local(server: gnet.Server) -> int:
    server.listen(0, "127.0.0.1")
    gnet.once(server, "listening", timeout=T)
    return port_of(server)


@pytest.fixture
def fresh_limits(monkeypatch: pytest.MonkeyPatch) -> None:
    """Earlier tests' floods must not have spent this test's log tokens."""
    monkeypatch.setattr(logs.default_log, "limiter", logs.RateLimiter())


# ==========================================================================
# what the socket exposes


def test_socket_has_a_read_only_connection_id(track: Any) -> None:
    conns: list[gnet.Socket] = []
    with recording() as events:
        server: gnet.Server = track(gnet.create_server(conns.append))
        port = listen_local(server)
        peer: gnet.Socket = track(gnet.open_connection(port, "127.0.0.1", timeout=T))
        wait_until(lambda: bool(conns))
    ids = {peer.connection_id, conns[0].connection_id}
    assert len(ids) == 2 and all(isinstance(i, int) and i > 0 for i in ids)
    (accepted,) = of(events, diagnostics.ConnectionAccepted)
    assert accepted.connection_id == conns[0].connection_id
    with pytest.raises(AttributeError):
        peer.connection_id = 1


def test_duration_known_without_a_subscriber_at_the_start(track: Any) -> None:
    # The socket keeps its own start time: a subscriber that arrives late
    # still gets the duration.
    conns: list[gnet.Socket] = []
    server: gnet.Server = track(gnet.create_server(conns.append))
    port = listen_local(server)
    peer: gnet.Socket = track(gnet.open_connection(port, "127.0.0.1", timeout=T))
    wait_until(lambda: bool(conns))
    with recording() as events:
        peer.end()
        wait_until(lambda: len(of(events, diagnostics.ConnectionClosed)) == 2)
    assert all(e.duration is not None and e.duration >= 0 for e in events if hasattr(e, "duration"))


# ==========================================================================
# events the core publishes


def test_socket_timeout__published_before_timeout(track: Any) -> None:
    timeline: list[Any] = []
    conns: list[gnet.Socket] = []

    def handler(conn: gnet.Socket) -> None:
        conns.append(conn)
        conn.set_timeout(20)
        conn.on("timeout", lambda: (timeline.append("timeout"), conn.destroy()))

    with recording() as events:
        zope.event.subscribers.append(timeline.append)
        try:
            server: gnet.Server = track(gnet.create_server(handler))
            port = listen_local(server)
            track(gnet.open_connection(port, "127.0.0.1", timeout=T)).on("error", lambda e: None)
            wait_until(
                lambda: "timeout" in timeline and bool(of(events, diagnostics.ConnectionClosed))
            )
        finally:
            zope.event.subscribers.remove(timeline.append)
    (fired,) = of(events, diagnostics.SocketTimeout)
    assert fired.socket is conns[0] and fired.timeout == 20
    assert timeline.index(fired) < timeline.index("timeout")
    # The idle timeout then destroy(): the connection ended by timeout.
    closed = [e for e in of(events, diagnostics.ConnectionClosed) if e.socket is conns[0]]
    assert closed[0].outcome == diagnostics.TIMEOUT


def test_backpressure__started_on_false_write_ended_before_drain(track: Any) -> None:
    conns: list[gnet.Socket] = []
    drained: list[str] = []
    with recording() as events:
        server: gnet.Server = track(gnet.create_server(conns.append))
        port = listen_local(server)
        peer: gnet.Socket = track(gnet.open_connection(port, "127.0.0.1", timeout=T))
        wait_until(lambda: bool(conns))
        conn = conns[0]
        conn.on("drain", lambda: drained.append("drain"))
        while conn.write(b"x" * 1_000_000):
            pass
        queued = conn.writable_length
        while peer.bytes_read < conn.bytes_written:
            peer.recv(timeout=T)
        wait_until(lambda: bool(drained))
    (started,) = of(events, diagnostics.BackpressureStarted)
    (ended,) = of(events, diagnostics.BackpressureEnded)
    assert started.socket is ended.socket is conn
    assert started.writable_length == queued
    assert ended.duration >= 0 and ended.at >= started.at


def test_connection_dropped__max_connections_before_drop(track: Any) -> None:
    drops: list[Any] = []
    with recording() as events:
        server: gnet.Server = track(gnet.create_server())
        server.max_connections = 0
        server.on("drop", drops.append)
        port = listen_local(server)
        with socket.create_connection(("127.0.0.1", port), timeout=T):
            wait_until(lambda: bool(drops))
    (dropped,) = of(events, diagnostics.ConnectionDropped)
    assert dropped.reason == diagnostics.DROP_MAX_CONNECTIONS
    assert dropped.server is server and dropped.socket is None
    assert dropped.data == drops[0]
    assert dropped.connection_id > 0


def test_connection_dropped__block_list(track: Any) -> None:
    block_list = gnet.BlockList()
    block_list.add_address("127.0.0.1")
    with recording() as events:
        server: gnet.Server = track(gnet.create_server({"block_list": block_list}))
        port = listen_local(server)
        with gevent.socket.create_connection(("127.0.0.1", port), timeout=T) as raw:
            assert raw.recv(1) == b""  # closed at once
    (dropped,) = of(events, diagnostics.ConnectionDropped)
    assert dropped.reason == diagnostics.DROP_BLOCK_LIST


def test_listen_failed__before_error(track: Any) -> None:
    taken: gnet.Server = track(gnet.create_server())
    port = listen_local(taken)
    with recording() as events:
        server: gnet.Server = track(gnet.create_server())
        server.listen({"port": port, "host": "127.0.0.1", "exclusive": True})
        with pytest.raises(OSError):
            gnet.once(server, "listening", timeout=T)
    (failed,) = of(events, diagnostics.ListenFailed)
    assert failed.server is server
    assert diagnostics.error_code(failed.error) == "EADDRINUSE"
    assert failed.address == {"host": "127.0.0.1", "port": port}


def test_listener_exception__a_servers_listener_too(
    track: Any, caplog: pytest.LogCaptureFixture
) -> None:
    def broken() -> None:
        raise RuntimeError("bug in a 'listening' listener")

    with recording() as events:
        server: gnet.Server = track(gnet.create_server())
        server.on("listening", broken)
        server.listen(0, "127.0.0.1")
        wait_until(lambda: bool(of(events, diagnostics.ListenerException)))
    (published,) = of(events, diagnostics.ListenerException)
    assert published.emitter is server and published.connection_id == 0
    assert any(r.exc_info is not None and r.exc_info[1] is published.error for r in caplog.records)


# ==========================================================================
# what the core logs


def test_slow_clients_flood__a_few_info_lines_no_tracebacks(
    track: Any, caplog: pytest.LogCaptureFixture, fresh_limits: None
) -> None:
    closed: list[gnet.Socket] = []

    def handler(conn: gnet.Socket) -> None:
        conn.on("close", lambda _e: closed.append(conn))
        conn.readline(timeout=0.05)  # the slow clients never send a line

    server: gnet.Server = track(gnet.create_server(handler))
    port = listen_local(server)
    with caplog.at_level(logging.DEBUG, logger="gnet"):
        peers = [track(gnet.open_connection(port, "127.0.0.1", timeout=T)) for _ in range(50)]
        for peer in peers:
            peer.on("error", lambda e: None)
        wait_until(lambda: len(closed) == 50)
    gnet_records = [r for r in caplog.records if r.name.startswith("gnet")]
    assert [r for r in gnet_records if r.levelno >= logging.ERROR] == []
    assert all(r.exc_info is None for r in gnet_records)
    timeouts = [r for r in gnet_records if getattr(r, "gnet_reason", None) == "timeout"]
    assert 1 <= len(timeouts) <= logs.DEFAULT_BURST + 2
    assert all(r.name == "gnet.connection" and r.levelno == logging.INFO for r in timeouts)


def test_expected_outcome__no_listener_exception_event(
    track: Any, caplog: pytest.LogCaptureFixture, fresh_limits: None
) -> None:
    closed: list[gnet.Socket] = []

    def handler(conn: gnet.Socket) -> None:
        conn.on("close", lambda _e: closed.append(conn))
        conn.recv_exactly(10, timeout=T)  # the peer ends after 3 bytes

    with recording() as events, caplog.at_level(logging.INFO, logger="gnet"):
        server: gnet.Server = track(gnet.create_server(handler))
        port = listen_local(server)
        with gnet.open_connection(port, "127.0.0.1", timeout=T) as peer:
            peer.write(b"abc")
        wait_until(lambda: bool(closed))
    assert of(events, diagnostics.ListenerException) == []
    (record,) = [r for r in caplog.records if getattr(r, "gnet_reason", None) == "incomplete_read"]
    assert record.levelno == logging.INFO and record.exc_info is None
    assert record.gnet_connection_id == diagnostics.connection_id(closed[0])


def test_peer_reset_in_a_handler__one_info_line(
    track: Any, caplog: pytest.LogCaptureFixture, fresh_limits: None
) -> None:
    closed: list[gnet.Socket] = []
    ready = gevent.event.Event()

    def handler(conn: gnet.Socket) -> None:
        conn.on("close", lambda _e: closed.append(conn))
        ready.set()
        conn.recv(timeout=T)  # the peer resets instead

    server: gnet.Server = track(gnet.create_server(handler))
    port = listen_local(server)
    with caplog.at_level(logging.DEBUG, logger="gnet"):
        raw = socket.create_connection(("127.0.0.1", port), timeout=T)
        assert ready.wait(T)
        raw.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
        raw.close()
        wait_until(lambda: bool(closed))
    resets = [r for r in caplog.records if getattr(r, "gnet_error_code", None) == "ECONNRESET"]
    assert len(resets) == 1  # one line, not one per path that saw the error
    assert resets[0].levelno == logging.INFO and resets[0].exc_info is None
    assert resets[0].gnet_peer.startswith("127.0.0.1:")


def test_activity_after_timeout__the_close_is_clean(track: Any) -> None:
    # Only a socket still idle since its 'timeout' ended by timeout.
    conns: list[gnet.Socket] = []
    fired: list[str] = []

    def handler(conn: gnet.Socket) -> None:
        conns.append(conn)
        conn.set_timeout(20)
        conn.on("timeout", lambda: fired.append("timeout"))
        conn.on("data", lambda chunk: conn.destroy())

    with recording() as events:
        server: gnet.Server = track(gnet.create_server(handler))
        port = listen_local(server)
        peer: gnet.Socket = track(gnet.open_connection(port, "127.0.0.1", timeout=T))
        wait_until(lambda: bool(fired))
        peer.write(b"still here")
        wait_until(lambda: bool(of(events, diagnostics.ConnectionClosed)))
    closed = [e for e in of(events, diagnostics.ConnectionClosed) if e.socket is conns[0]]
    assert closed[0].outcome == diagnostics.CLEAN


def test_backpressure__no_end_event_without_a_start(track: Any) -> None:
    # A subscriber that arrives while write() is already refusing gets no
    # BackpressureEnded without its start (and the socket kept no start time).
    conns: list[gnet.Socket] = []
    server: gnet.Server = track(gnet.create_server(conns.append))
    port = listen_local(server)
    peer: gnet.Socket = track(gnet.open_connection(port, "127.0.0.1", timeout=T))
    wait_until(lambda: bool(conns))
    conn = conns[0]
    drained: list[str] = []
    conn.on("drain", lambda: drained.append("drain"))
    while conn.write(b"x" * 1_000_000):
        pass
    with recording() as events:
        while peer.bytes_read < conn.bytes_written:
            peer.recv(timeout=T)
        wait_until(lambda: bool(drained))
    assert of(events, diagnostics.BackpressureEnded) == []


def test_drops__logged_on_gnet_server_with_the_peer(
    track: Any, caplog: pytest.LogCaptureFixture, fresh_limits: None
) -> None:
    drops: list[Any] = []
    server: gnet.Server = track(gnet.create_server())
    server.max_connections = 0
    server.on("drop", drops.append)
    port = listen_local(server)
    with caplog.at_level(logging.INFO, logger="gnet"):
        with socket.create_connection(("127.0.0.1", port), timeout=T) as raw:
            wait_until(lambda: bool(drops))
            peer_port = raw.getsockname()[1]
    (record,) = [r for r in caplog.records if r.name == "gnet.server"]
    assert record.levelno == logging.INFO
    assert record.gnet_reason == diagnostics.DROP_MAX_CONNECTIONS
    assert record.gnet_peer == f"127.0.0.1:{peer_port}"
    assert record.gnet_local == f"127.0.0.1:{port}"


def test_unhandled_reset__one_info_line(
    track: Any, caplog: pytest.LogCaptureFixture, fresh_limits: None
) -> None:
    # Event style, no 'error' listener: the reset is the connection's fate, one line.
    closed: list[gnet.Socket] = []

    def handler(conn: gnet.Socket) -> None:
        conn.on("close", lambda _e: closed.append(conn))
        conn.resume()

    server: gnet.Server = track(gnet.create_server(handler))
    port = listen_local(server)
    with caplog.at_level(logging.DEBUG, logger="gnet"):
        raw = socket.create_connection(("127.0.0.1", port), timeout=T)
        wait_until(lambda: server.connections == 1)
        raw.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
        local_port = raw.getsockname()[1]
        raw.close()
        wait_until(lambda: bool(closed))
    (record,) = [r for r in caplog.records if r.name.startswith("gnet")]
    assert (record.levelno, record.exc_info) == (logging.INFO, None)
    assert record.gnet_error_code == "ECONNRESET"
    assert record.gnet_peer == f"127.0.0.1:{local_port}"
    assert record.gnet_connection_id == closed[0].connection_id


def test_a_client_that_never_connected__logged_with_where_it_was_going(
    caplog: pytest.LogCaptureFixture, fresh_limits: None, track: Any
) -> None:
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    closed_port = probe.getsockname()[1]
    probe.close()
    with caplog.at_level(logging.INFO, logger="gnet"):
        closed = gevent.event.Event()
        client: gnet.Socket = track(gnet.connect(closed_port, "127.0.0.1"))
        client.on("close", lambda _e: closed.set())  # and no 'error' listener
        assert closed.wait(T)
    (record,) = [r for r in caplog.records if r.name.startswith("gnet")]
    assert record.levelno == logging.WARNING and record.exc_info is None
    assert record.gnet_error_code == "ECONNREFUSED"
    assert record.gnet_peer == f"127.0.0.1:{closed_port}"
