"""gnet.diagnostics: which lifecycle event is published when, with which objects.

API.md "Diagnostics": events go to ``zope.event``'s own registry; no
subscriber costs nothing but a check; a subscriber that raises is logged and
skipped without breaking the I/O path or the other subscribers.

Every test subscribes by appending to ``zope.event.subscribers`` and removes
its subscribers in a ``finally`` (``subscribed``).  Subscribers and gnet
listeners only record, into one ``Timeline``, so a test can check both what
was published and in which order relative to the events gnet emits.
"""

from __future__ import annotations

import logging
import socket
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
import zope.event
from gevent.event import Event

import gnet
from gnet import diagnostics
from support import (
    TIMEOUT,
    closed_port,
    echo_handler,
    give_a_chance,
    listen_local,
    raw_client,
    wait_until,
)

ALL_EVENTS = (
    diagnostics.ServerListening,
    diagnostics.ServerClosed,
    diagnostics.ConnectionAccepted,
    diagnostics.ConnectionClosed,
    diagnostics.ClientConnectStarted,
    diagnostics.ClientConnected,
    diagnostics.ClientConnectFailed,
    diagnostics.ListenerException,
)


class Timeline:
    """Diagnostics events and gnet events in the order they happened.

    The instance itself is a ``zope.event`` subscriber; ``mark(label)`` is a
    gnet listener recording ``(label, args)``.
    """

    def __init__(self) -> None:
        self.items: list[Any] = []
        self._changed = Event()

    def __call__(self, event: object) -> None:
        if isinstance(event, ALL_EVENTS):
            self.items.append(event)
            self._changed.set()

    def mark(self, label: str) -> Callable[..., None]:
        def listener(*args: Any) -> None:
            self.items.append((label, args))
            self._changed.set()

        return listener

    def of(self, cls: type, **attrs: Any) -> list[Any]:
        """The published events of class ``cls`` whose attributes are (``is``) ``attrs``."""
        return [
            item
            for item in self.items
            if isinstance(item, cls) and all(getattr(item, k) is v for k, v in attrs.items())
        ]

    def index(self, predicate: Callable[[Any], bool]) -> int:
        for i, item in enumerate(self.items):
            if predicate(item):
                return i
        raise AssertionError(f"not in the timeline: {self.items!r}")

    def index_of(self, cls: type, **attrs: Any) -> int:
        return self.index(
            lambda item: (
                isinstance(item, cls) and all(getattr(item, k) is v for k, v in attrs.items())
            )
        )

    def index_of_mark(self, label: str) -> int:
        return self.index(lambda item: isinstance(item, tuple) and item[0] == label)

    def wait_for(self, predicate: Callable[[], Any], timeout: float = TIMEOUT) -> None:
        wait_until(predicate, timeout, lambda: f"timeline: {self.items!r}", changed=self._changed)


@contextmanager
def subscribed(*subscribers: Callable[[object], Any]) -> Iterator[None]:
    """Append ``subscribers`` to ``zope.event.subscribers``; always remove them."""
    zope.event.subscribers.extend(subscribers)
    try:
        yield
    finally:
        for subscriber in subscribers:
            while subscriber in zope.event.subscribers:
                zope.event.subscribers.remove(subscriber)


# ==========================================================================
# servers


def test_server_listening__published_before_listening_event(track: Any) -> None:
    timeline = Timeline()
    with subscribed(timeline):
        server: gnet.Server = track(gnet.create_server())
        server.on("listening", timeline.mark("listening"))
        port = listen_local(server)
        timeline.wait_for(lambda: timeline.of(diagnostics.ServerListening, server=server))
    published = timeline.of(diagnostics.ServerListening, server=server)
    assert len(published) == 1
    assert published[0].address == server.address()
    assert published[0].address["port"] == port
    assert timeline.index_of(diagnostics.ServerListening, server=server) < timeline.index_of_mark(
        "listening"
    )
    assert timeline.of(diagnostics.ServerClosed, server=server) == []


def test_server_listening__not_published_for_a_failed_listen(track: Any) -> None:
    # A bind error is an 'error' event: the server never listened.
    timeline = Timeline()
    taken: gnet.Server = track(gnet.create_server())
    port = listen_local(taken)
    with subscribed(timeline):
        server: gnet.Server = track(gnet.create_server())
        server.on("error", timeline.mark("error"))
        server.listen({"port": port, "host": "127.0.0.1", "exclusive": True})
        timeline.wait_for(lambda: any(isinstance(i, tuple) for i in timeline.items))
    assert timeline.of(diagnostics.ServerListening, server=server) == []


def test_server_closed__published_before_close_event(track: Any) -> None:
    timeline = Timeline()
    server: gnet.Server = track(gnet.create_server())
    listen_local(server)
    with subscribed(timeline):
        server.on("close", timeline.mark("close"))
        server.close()
        timeline.wait_for(lambda: any(isinstance(i, tuple) for i in timeline.items))
    published = timeline.of(diagnostics.ServerClosed, server=server)
    assert len(published) == 1
    assert timeline.index_of(diagnostics.ServerClosed, server=server) < timeline.index_of_mark(
        "close"
    )


def test_server_closed__waits_for_the_connections(track: Any) -> None:
    # ServerClosed goes with the server's 'close', which waits for the
    # connections to end, not with close() itself.
    timeline = Timeline()
    conns: list[gnet.Socket] = []
    server: gnet.Server = track(gnet.create_server(conns.append))
    port = listen_local(server)
    peer: gnet.Socket = track(gnet.open_connection(port, "127.0.0.1", timeout=TIMEOUT))
    peer.on("error", lambda err: None)
    with subscribed(timeline):
        server.on("connection", timeline.mark("connection"))
        server.close()
        # The connection is still open: no ServerClosed yet.
        assert server.connections == 1
        give_a_chance()  # for a wrong early publish to happen
        assert timeline.of(diagnostics.ServerClosed, server=server) == []
        peer.end()
        timeline.wait_for(lambda: timeline.of(diagnostics.ServerClosed, server=server))
    assert len(timeline.of(diagnostics.ServerClosed, server=server)) == 1


# ==========================================================================
# accepted connections


def test_connection_accepted__same_socket_as_connection_listener_and_before_it(
    track: Any,
) -> None:
    timeline = Timeline()
    with subscribed(timeline):
        server: gnet.Server = track(gnet.create_server(timeline.mark("connection")))
        port = listen_local(server)
        peer: gnet.Socket = track(gnet.open_connection(port, "127.0.0.1", timeout=TIMEOUT))
        timeline.wait_for(lambda: any(isinstance(i, tuple) for i in timeline.items))
    accepted = timeline.of(diagnostics.ConnectionAccepted, server=server)
    assert len(accepted) == 1
    (conn,) = timeline.items[timeline.index_of_mark("connection")][1]
    assert accepted[0].socket is conn
    assert isinstance(conn, gnet.Socket)
    assert conn.remote_port == peer.local_port
    assert timeline.index_of(diagnostics.ConnectionAccepted, socket=conn) < timeline.index_of_mark(
        "connection"
    )
    # The client side is not an accepted connection.
    assert timeline.of(diagnostics.ConnectionAccepted, socket=peer) == []


def test_connection_accepted__not_published_for_a_dropped_connection(track: Any) -> None:
    # max_connections: a connection over the limit is dropped ('drop'), never accepted.
    timeline = Timeline()
    with subscribed(timeline):
        server: gnet.Server = track(gnet.create_server())
        server.max_connections = 0
        server.on("drop", timeline.mark("drop"))
        port = listen_local(server)
        with raw_client(port):
            timeline.wait_for(lambda: any(isinstance(i, tuple) for i in timeline.items))
    assert timeline.of(diagnostics.ConnectionAccepted, server=server) == []


def test_connection_closed__byte_counts_and_no_error(track: Any) -> None:
    timeline = Timeline()
    conns: list[gnet.Socket] = []

    def handler(conn: gnet.Socket) -> None:
        conns.append(conn)
        conn.on("close", timeline.mark("server close"))
        echo_handler(conn)

    with subscribed(timeline):
        server: gnet.Server = track(gnet.create_server(handler))
        port = listen_local(server)
        peer: gnet.Socket = track(gnet.open_connection(port, "127.0.0.1", timeout=TIMEOUT))
        peer.on("close", timeline.mark("client close"))
        peer.sendall(b"hello", timeout=TIMEOUT)
        assert peer.recv_exactly(5, timeout=TIMEOUT) == b"hello"
        peer.sendall(b" world!", timeout=TIMEOUT)
        assert peer.recv_exactly(7, timeout=TIMEOUT) == b" world!"
        peer.end()
        timeline.wait_for(lambda: len([i for i in timeline.items if isinstance(i, tuple)]) == 2)
    (conn,) = conns
    (server_side,) = timeline.of(diagnostics.ConnectionClosed, socket=conn)
    assert (server_side.bytes_read, server_side.bytes_written) == (12, 12)
    assert server_side.error is None
    (client_side,) = timeline.of(diagnostics.ConnectionClosed, socket=peer)
    assert (client_side.bytes_read, client_side.bytes_written) == (12, 12)
    assert client_side.error is None
    assert timeline.index_of(diagnostics.ConnectionClosed, socket=conn) < timeline.index_of_mark(
        "server close"
    )
    assert timeline.index_of(diagnostics.ConnectionClosed, socket=peer) < timeline.index_of_mark(
        "client close"
    )
    # The 'close' listener sees had_error False, matching error None.
    assert timeline.items[timeline.index_of_mark("server close")][1] == (False,)


def test_connection_closed__carries_the_destroy_error(track: Any) -> None:
    timeline = Timeline()
    conns: list[gnet.Socket] = []
    failure = RuntimeError("the server gave up")

    def handler(conn: gnet.Socket) -> None:
        conns.append(conn)
        conn.on("error", timeline.mark("error"))
        conn.on("close", timeline.mark("close"))
        conn.once("data", lambda chunk: conn.destroy(failure))

    with subscribed(timeline):
        server: gnet.Server = track(gnet.create_server(handler))
        port = listen_local(server)
        peer: gnet.Socket = track(gnet.open_connection(port, "127.0.0.1", timeout=TIMEOUT))
        peer.on("error", lambda err: None)
        peer.sendall(b"abc", timeout=TIMEOUT)
        timeline.wait_for(
            lambda: bool(conns) and timeline.of(diagnostics.ConnectionClosed, socket=conns[0])
        )
    (closed,) = timeline.of(diagnostics.ConnectionClosed, socket=conns[0])
    assert closed.error is failure
    assert closed.bytes_read == 3
    assert closed.bytes_written == 0


def test_connection_closed__carries_the_peer_reset(track: Any) -> None:
    # The peer resets the connection: the server side closes with ECONNRESET.
    timeline = Timeline()
    conns: list[gnet.Socket] = []
    accepted = Event()

    def handler(conn: gnet.Socket) -> None:
        conns.append(conn)
        conn.on("error", lambda err: None)
        conn.resume()
        accepted.set()

    with subscribed(timeline):
        server: gnet.Server = track(gnet.create_server(handler))
        port = listen_local(server)
        raw = raw_client(port)
        try:
            raw.sendall(b"xyz")
            assert accepted.wait(TIMEOUT)
            raw.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
        finally:
            raw.close()
        timeline.wait_for(
            lambda: bool(conns) and timeline.of(diagnostics.ConnectionClosed, socket=conns[0])
        )
    (closed,) = timeline.of(diagnostics.ConnectionClosed, socket=conns[0])
    assert isinstance(closed.error, ConnectionResetError)
    assert getattr(closed.error, "code", None) == "ECONNRESET"
    assert closed.error is conns[0].errored


# ==========================================================================
# clients


def test_client_connect__started_then_connected_then_connect_event(track: Any) -> None:
    timeline = Timeline()
    server: gnet.Server = track(gnet.create_server())
    port = listen_local(server)
    with subscribed(timeline):
        peer: gnet.Socket = track(gnet.connect(port, "127.0.0.1"))
        peer.on("connect", timeline.mark("connect"))
        timeline.wait_for(lambda: any(isinstance(i, tuple) for i in timeline.items))
    (started,) = timeline.of(diagnostics.ClientConnectStarted, socket=peer)
    assert started.options["port"] == port
    assert started.options["host"] == "127.0.0.1"
    (connected,) = timeline.of(diagnostics.ClientConnected, socket=peer)
    assert connected.socket is peer
    assert (
        timeline.index_of(diagnostics.ClientConnectStarted, socket=peer)
        < timeline.index_of(diagnostics.ClientConnected, socket=peer)
        < timeline.index_of_mark("connect")
    )
    assert timeline.of(diagnostics.ClientConnectFailed, socket=peer) == []


def test_client_connect__started_for_a_unix_path(track: Any, sock_path: str) -> None:
    timeline = Timeline()
    server: gnet.Server = track(gnet.create_server())
    server.listen(sock_path)
    gnet.once(server, "listening", timeout=TIMEOUT)
    with subscribed(timeline):
        peer: gnet.Socket = track(gnet.connect(sock_path))
        timeline.wait_for(lambda: timeline.of(diagnostics.ClientConnected, socket=peer))
    (started,) = timeline.of(diagnostics.ClientConnectStarted, socket=peer)
    assert started.options["path"] == sock_path


def test_client_connect_failed__carries_the_error_before_the_error_event(track: Any) -> None:
    timeline = Timeline()
    port = closed_port()
    with subscribed(timeline):
        peer: gnet.Socket = track(gnet.connect(port, "127.0.0.1"))
        peer.on("error", timeline.mark("error"))
        peer.on("close", timeline.mark("close"))
        timeline.wait_for(
            lambda: any(isinstance(i, tuple) and i[0] == "close" for i in timeline.items)
        )
    assert len(timeline.of(diagnostics.ClientConnectStarted, socket=peer)) == 1
    (failed,) = timeline.of(diagnostics.ClientConnectFailed, socket=peer)
    (err,) = timeline.items[timeline.index_of_mark("error")][1]
    assert failed.error is err
    assert isinstance(err, ConnectionRefusedError)
    assert err.code == "ECONNREFUSED"
    assert (
        timeline.index_of(diagnostics.ClientConnectStarted, socket=peer)
        < timeline.index_of(diagnostics.ClientConnectFailed, socket=peer)
        < timeline.index_of_mark("error")
    )
    assert timeline.of(diagnostics.ClientConnected, socket=peer) == []


# ==========================================================================
# listener exceptions


@pytest.mark.parametrize(
    "where",
    ["connection listener", "data listener", "straight-line handler", "straight-line with-block"],
)
def test_listener_exception__published_with_the_socket_and_the_error(
    track: Any, caplog: pytest.LogCaptureFixture, where: str
) -> None:
    timeline = Timeline()
    conns: list[gnet.Socket] = []
    errors: list[BaseException] = []

    def fail(*args: Any) -> None:
        exc = RuntimeError(f"boom in the {where}")
        errors.append(exc)
        raise exc

    def handler(conn: gnet.Socket) -> None:
        conns.append(conn)
        conn.on("close", timeline.mark("close"))
        if where == "connection listener":
            fail()
        elif where == "straight-line handler":
            conn.recv(timeout=TIMEOUT)
            fail()
        elif where == "straight-line with-block":
            with conn:  # API.md's documented handler shape
                conn.recv(timeout=TIMEOUT)
                fail()
        else:
            conn.on("data", fail)

    with subscribed(timeline), caplog.at_level(logging.ERROR, logger="gnet"):
        server: gnet.Server = track(gnet.create_server(handler))
        port = listen_local(server)
        peer: gnet.Socket = track(gnet.open_connection(port, "127.0.0.1", timeout=TIMEOUT))
        peer.on("error", lambda err: None)
        peer.write(b"trigger")
        timeline.wait_for(
            lambda: bool(conns) and timeline.of(diagnostics.ConnectionClosed, socket=conns[0])
        )
        timeline.wait_for(lambda: any(isinstance(i, tuple) for i in timeline.items))
    (conn,) = conns
    (published,) = timeline.of(diagnostics.ListenerException, emitter=conn)
    assert published.error is errors[0]
    assert timeline.index_of(diagnostics.ListenerException, emitter=conn) < timeline.index_of_mark(
        "close"
    )
    assert timeline.items[timeline.index_of_mark("close")][1] == (True,)
    (closed,) = timeline.of(diagnostics.ConnectionClosed, socket=conn)
    assert closed.error is errors[0]
    assert f"boom in the {where}" in caplog.text


# ==========================================================================
# subscribers that fail, and no subscriber at all


def test_failing_subscriber__logged_and_skipped(
    track: Any, caplog: pytest.LogCaptureFixture
) -> None:
    # A subscriber that raises on every event, placed first: the next one
    # still gets every event, connect() does not raise (ClientConnectStarted
    # may be published in the caller), the connection listener still runs
    # (ConnectionAccepted comes before it), and the bytes still flow.
    calls: list[object] = []

    def broken(event: object) -> None:
        calls.append(event)
        raise ValueError("subscriber is broken")

    timeline = Timeline()
    conns: list[gnet.Socket] = []
    closed = Event()
    peer_closes: list[bool] = []
    peer_closed = Event()

    def handler(conn: gnet.Socket) -> None:
        conns.append(conn)
        conn.on("close", lambda had_error: closed.set())
        echo_handler(conn)

    with subscribed(broken, timeline), caplog.at_level(logging.ERROR, logger="gnet"):
        server: gnet.Server = track(gnet.create_server(handler))
        port = listen_local(server)
        peer: gnet.Socket = track(gnet.open_connection(port, "127.0.0.1", timeout=TIMEOUT))
        peer.on("close", lambda had_error: (peer_closes.append(had_error), peer_closed.set()))
        peer.sendall(b"still echoed", timeout=TIMEOUT)
        assert peer.recv_exactly(12, timeout=TIMEOUT) == b"still echoed"
        peer.end()
        assert closed.wait(TIMEOUT)
        assert peer_closed.wait(TIMEOUT)
        assert peer_closes == [False]
        server.close()
        timeline.wait_for(lambda: timeline.of(diagnostics.ServerClosed, server=server))
    (conn,) = conns
    for cls, attrs in [
        (diagnostics.ServerListening, {"server": server}),
        (diagnostics.ClientConnectStarted, {"socket": peer}),
        (diagnostics.ClientConnected, {"socket": peer}),
        (diagnostics.ConnectionAccepted, {"socket": conn}),
        (diagnostics.ConnectionClosed, {"socket": conn}),
        (diagnostics.ConnectionClosed, {"socket": peer}),
        (diagnostics.ServerClosed, {"server": server}),
    ]:
        assert len(timeline.of(cls, **attrs)) == 1, cls
    # Every event went to the broken subscriber too, and each failure was logged.
    assert len([e for e in calls if isinstance(e, ALL_EVENTS)]) == len(timeline.items)
    failures = [
        r
        for r in caplog.records
        if r.name == "gnet" and r.exc_info and isinstance(r.exc_info[1], ValueError)
    ]
    assert len(failures) >= len(timeline.items)
    assert "subscriber is broken" in caplog.text
    assert conn.errored is None


def test_failing_subscriber__after_a_good_one(track: Any, caplog: pytest.LogCaptureFixture) -> None:
    def broken(event: object) -> None:
        raise RuntimeError("late subscriber is broken")

    timeline = Timeline()
    with subscribed(timeline, broken), caplog.at_level(logging.ERROR, logger="gnet"):
        server: gnet.Server = track(gnet.create_server(echo_handler))
        port = listen_local(server)
        peer: gnet.Socket = track(gnet.open_connection(port, "127.0.0.1", timeout=TIMEOUT))
        peer.sendall(b"x", timeout=TIMEOUT)
        assert peer.recv_exactly(1, timeout=TIMEOUT) == b"x"
    assert timeline.of(diagnostics.ServerListening, server=server)
    assert timeline.of(diagnostics.ClientConnected, socket=peer)
    assert "late subscriber is broken" in caplog.text


def test_no_subscriber__publish_is_a_no_op_and_io_works(track: Any) -> None:
    assert zope.event.subscribers == [], "an earlier test left a subscriber behind"
    server: gnet.Server = track(gnet.create_server(echo_handler))
    assert diagnostics.publish(diagnostics.ServerClosed(server)) is None
    assert diagnostics.publish(object()) is None  # anything goes when nobody listens
    port = listen_local(server)
    peer: gnet.Socket = track(gnet.open_connection(port, "127.0.0.1", timeout=TIMEOUT))
    peer.sendall(b"nobody listens", timeout=TIMEOUT)
    assert peer.recv_exactly(14, timeout=TIMEOUT) == b"nobody listens"
    assert zope.event.subscribers == []


def test_subscribers_use_zope_event_registry() -> None:
    # zope.event.notify reaches the same subscribers gnet publishes to.
    seen: list[object] = []
    marker = object()
    with subscribed(seen.append):
        zope.event.notify(marker)
        diagnostics.publish(marker)
    assert seen == [marker, marker]
    diagnostics.publish(marker)
    assert seen == [marker, marker]
