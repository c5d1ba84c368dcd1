"""gnet.diagnostics: the fields every event carries (connection id, timestamps,
durations, how a connection ended), over real connections.

test_diagnostics.py covers which event is published when; this module
covers what the events say.  test_observability_wiring.py covers the
socket's id and start time, drops, timeouts, backpressure, listen failures
and the log records.
"""

from __future__ import annotations

import dataclasses
import socket
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import gevent
import pytest
import zope.event

import gnet
from gnet import diagnostics
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


def of(events: list[Any], cls: type, **attrs: Any) -> list[Any]:
    return [
        e for e in events if type(e) is cls and all(getattr(e, k) is v for k, v in attrs.items())
    ]


def wait_until(predicate: Any) -> None:
    with gevent.Timeout(T, AssertionError("condition not reached")):
        while not predicate():
            gevent.sleep(0.005)


def listen_local(server: gnet.Server) -> int:
    server.listen(0, "127.0.0.1")
    gnet.once(server, "listening", timeout=T)
    return port_of(server)


def test_one_connection_id_per_socket_across_its_events(track: Any) -> None:
    conns: list[gnet.Socket] = []

    def handler(conn: gnet.Socket) -> None:
        conns.append(conn)
        conn.on("data", conn.write)

    with recording() as events:
        server: gnet.Server = track(gnet.create_server(handler))
        port = listen_local(server)
        peer: gnet.Socket = track(gnet.open_connection(port, "127.0.0.1", timeout=T))
        peer.sendall(b"ping", timeout=T)
        assert peer.recv_exactly(4, timeout=T) == b"ping"
        peer.end()
        wait_until(lambda: len(of(events, diagnostics.ConnectionClosed)) == 2)
    (conn,) = conns
    client_ids = {e.connection_id for e in events if getattr(e, "socket", None) is peer}
    server_ids = {e.connection_id for e in events if getattr(e, "socket", None) is conn}
    assert len(client_ids) == len(server_ids) == 1
    assert client_ids != server_ids
    assert client_ids.pop() == diagnostics.connection_id(peer) > 0
    assert server_ids.pop() == diagnostics.connection_id(conn) > 0


def test_connection_ids_are_distinct() -> None:
    ids = {diagnostics.connection_id(gnet.Socket()) for _ in range(100)}
    assert len(ids) == 100
    assert diagnostics.next_connection_id() > max(ids)


def test_timestamps_are_monotonic_in_publication_order(track: Any) -> None:
    before = time.monotonic()
    with recording() as events:
        server: gnet.Server = track(gnet.create_server(lambda conn: conn.end()))
        port = listen_local(server)
        with gnet.open_connection(port, "127.0.0.1", timeout=T) as peer:
            peer.recv(timeout=T)
        server.close()
        gnet.once(server, "close", timeout=T)
    stamps = [e.at for e in events]
    assert len(stamps) >= 6
    assert stamps == sorted(stamps)
    assert before <= stamps[0] and stamps[-1] <= time.monotonic()


def test_connection_closed__duration_outcome_and_code(track: Any) -> None:
    conns: list[gnet.Socket] = []
    with recording() as events:
        server: gnet.Server = track(gnet.create_server(conns.append))
        port = listen_local(server)
        started = time.monotonic()
        peer: gnet.Socket = track(gnet.open_connection(port, "127.0.0.1", timeout=T))
        wait_until(lambda: bool(conns))
        gevent.sleep(0.05)  # a measurable duration, not a synchronisation
        peer.end()
        wait_until(lambda: len(of(events, diagnostics.ConnectionClosed)) == 2)
        elapsed = time.monotonic() - started
    (server_side,) = of(events, diagnostics.ConnectionClosed, socket=conns[0])
    (client_side,) = of(events, diagnostics.ConnectionClosed, socket=peer)
    for closed in (server_side, client_side):
        assert closed.outcome == diagnostics.CLEAN
        assert closed.error_code is None
        assert 0.05 <= closed.duration <= elapsed
    # The client's connection started first (at connect()), so it lasted longer.
    assert client_side.duration >= server_side.duration


def test_connection_closed__reset_is_an_error_with_its_code(track: Any) -> None:
    conns: list[gnet.Socket] = []

    def handler(conn: gnet.Socket) -> None:
        conns.append(conn)
        conn.on("error", lambda err: None)

    with recording() as events:
        server: gnet.Server = track(gnet.create_server(handler))
        port = listen_local(server)
        raw = socket.create_connection(("127.0.0.1", port), timeout=T)
        wait_until(lambda: bool(conns))
        raw.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
        raw.close()
        wait_until(lambda: bool(of(events, diagnostics.ConnectionClosed)))
    (closed,) = of(events, diagnostics.ConnectionClosed, socket=conns[0])
    assert (closed.outcome, closed.error_code) == (diagnostics.ERROR, "ECONNRESET")


def test_connection_closed__a_helpers_timeout(track: Any, caplog: pytest.LogCaptureFixture) -> None:
    conns: list[gnet.Socket] = []

    def handler(conn: gnet.Socket) -> None:
        conns.append(conn)
        conn.readline(timeout=0.01)

    with recording() as events:
        server: gnet.Server = track(gnet.create_server(handler))
        port = listen_local(server)
        peer: gnet.Socket = track(gnet.open_connection(port, "127.0.0.1", timeout=T))
        peer.on("error", lambda err: None)
        wait_until(lambda: bool(of(events, diagnostics.ConnectionClosed)))
    (closed,) = of(events, diagnostics.ConnectionClosed, socket=conns[0])
    assert closed.outcome == diagnostics.TIMEOUT
    assert isinstance(closed.error, TimeoutError)
    assert closed.error_code is None


def test_client_connected_and_failed__durations(track: Any) -> None:
    server: gnet.Server = track(gnet.create_server())
    port = listen_local(server)
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    closed_port = probe.getsockname()[1]
    probe.close()
    with recording() as events:
        peer: gnet.Socket = track(gnet.open_connection(port, "127.0.0.1", timeout=T))
        with pytest.raises(ConnectionRefusedError):
            gnet.open_connection(closed_port, "127.0.0.1", timeout=T)
    (connected,) = of(events, diagnostics.ClientConnected, socket=peer)
    (failed,) = of(events, diagnostics.ClientConnectFailed)
    for event in (connected, failed):
        assert 0 <= event.duration < T
    (started,) = of(events, diagnostics.ClientConnectStarted, socket=peer)
    assert connected.duration == pytest.approx(connected.at - started.at)


def test_listener_exception__carries_the_sockets_id(
    track: Any, caplog: pytest.LogCaptureFixture
) -> None:
    conns: list[gnet.Socket] = []

    def handler(conn: gnet.Socket) -> None:
        conns.append(conn)
        raise RuntimeError("bug")

    with recording() as events:
        server: gnet.Server = track(gnet.create_server(handler))
        port = listen_local(server)
        track(gnet.open_connection(port, "127.0.0.1", timeout=T)).on("error", lambda e: None)
        wait_until(lambda: bool(of(events, diagnostics.ListenerException)))
    (published,) = of(events, diagnostics.ListenerException)
    assert published.connection_id == diagnostics.connection_id(conns[0])


def test_events_are_frozen_slotted_and_keep_their_positional_fields() -> None:
    sock, server = gnet.Socket(), gnet.Server()
    closed = diagnostics.ConnectionClosed(sock, 1, 2, None)
    assert (closed.socket, closed.bytes_read, closed.bytes_written, closed.error) == (
        sock,
        1,
        2,
        None,
    )
    assert closed.outcome == diagnostics.CLEAN
    with pytest.raises(dataclasses.FrozenInstanceError):
        closed.bytes_read = 5  # type: ignore[misc]
    for cls in [getattr(diagnostics, name) for name in diagnostics.__all__]:
        if isinstance(cls, type):
            assert dataclasses.is_dataclass(cls), cls
            assert "__slots__" in vars(cls), cls
            assert "at" in {f.name for f in dataclasses.fields(cls)}, cls
    assert [f.name for f in dataclasses.fields(diagnostics.ConnectionAccepted)][:2] == [
        "server",
        "socket",
    ]
    assert diagnostics.ServerClosed(server).server is server
