"""maxConnections and the 'drop' event (test-net-server-max-connections*.js,
test-net-server-drop-connections.js, NODE-NET B4).

Listeners run in gnet's greenlets, where a failing ``assert`` would only be
logged; so listeners record what they see and the test body asserts.
Each test names where its rule comes from: the Node test it ports
(test/parallel/... unless said otherwise), a NODE-NET.md rule, or API.md.
Node v20 is the baseline; expected values Node's tests do not spell out
were checked against v20 with small scripts.
"""

from __future__ import annotations

from typing import Any

import gnet
from support import (
    TIMEOUT,
    Collector,
    give_a_chance,
    listen_local,
    tracked_client,
)


def test_server_max_connections__first_ten_get_data_rest_closed(track: Any) -> None:
    # test-net-server-max-connections.js:
    # 20 clients, maxConnections 10: the first 10 get data; the other 10 are
    # closed without data and close before any of the first 10.
    n = 20
    waits: list[gnet.Socket] = []

    def on_connection(conn: gnet.Socket) -> None:
        conn.write(b"hello")
        waits.append(conn)

    server: gnet.Server = track(gnet.create_server(on_connection))
    server.max_connections = n // 2
    port = listen_local(server)
    closes = Collector()
    got_data: dict[int, bytes] = {}
    errors = Collector()
    for index in range(n):
        c = tracked_client(track, port, "127.0.0.1", errors=errors)
        c.on("data", lambda chunk, i=index: got_data.__setitem__(i, got_data.get(i, b"") + chunk))
        c.on("close", lambda had_error, i=index: closes(i))
        gnet.once(c, "connect", timeout=TIMEOUT)
    closes.wait(n // 2)
    first_closed = closes.firsts[: n // 2]
    assert sorted(first_closed) == list(range(n // 2, n))
    assert len(waits) == n // 2
    for conn in waits:
        conn.end()
    closes.wait(n)
    server.close()
    assert {i: got_data.get(i) for i in range(n)} == {
        i: (b"hello" if i < n // 2 else None) for i in range(n)
    }
    assert errors.calls == []


def test_server_max_connections_close_makes_more_available(track: Any) -> None:
    # test-net-server-max-connections-close-makes-more-available.js:
    # maxConnections 1: connection 0 accepted, 1 rejected; close 0; then 2 is
    # accepted and 3 rejected.  Every client sent; only 0 and 2 were received.
    received: list[bytes] = []
    sent: list[str] = []
    server_socks: list[gnet.Socket] = []

    def on_connection(conn: gnet.Socket) -> None:
        server_socks.append(conn)

        def on_data(data: bytes) -> None:
            received.append(data)
            conn.write(b"acknowledged")

        conn.on("data", on_data)

    server: gnet.Server = track(gnet.create_server(on_connection))
    server.max_connections = 1
    port = listen_local(server)
    connections: list[gnet.Socket] = []

    def create_connection(index: int) -> Any:
        outcome = Collector()
        conn: gnet.Socket = track(gnet.connect(port, "127.0.0.1"))

        def on_connect() -> None:
            conn.write(str(index).encode())
            sent.append(str(index))

        conn.on("connect", on_connect)
        conn.on("error", lambda err: outcome("error", err.code))
        conn.on("data", lambda data: outcome("data", data))
        conn.on("end", lambda: outcome("end"))
        connections.append(conn)
        outcome.wait(1)
        return outcome.calls[0]

    def close_connection(index: int) -> None:
        conn = connections[index]
        if not conn.readable_ended:
            ended = Collector()
            conn.on("end", ended)
            conn.end()
            ended.wait(1)
        else:
            conn.end()

    assert create_connection(0) == ("data", b"acknowledged")
    assert create_connection(1)[0] in ("end", "error")
    server_closed = Collector()
    server_socks[0].on("close", server_closed)
    close_connection(0)
    server_closed.wait(1)
    assert create_connection(2) == ("data", b"acknowledged")
    assert create_connection(3)[0] in ("end", "error")
    server.close()
    close_connection(2)
    assert sent == ["0", "1", "2", "3"]
    assert received == [b"0", b"2"]


DROP_KEYS = {
    "local_address",
    "local_port",
    "local_family",
    "remote_address",
    "remote_port",
    "remote_family",
}


def test_server_drop_connections__drop_event_data(track: Any) -> None:
    # maxConnections 1: the second connection is dropped and 'drop' carries
    # the addresses (API.md's snake_case keys; IPv4 family strings).
    connections, drops = Collector(), Collector()
    server: gnet.Server = track(gnet.create_server(connections))
    server.max_connections = 1
    server.on("drop", drops)
    port = listen_local(server)
    first = tracked_client(track, port, "127.0.0.1")
    connections.wait(1)
    second = tracked_client(track, port, "127.0.0.1")
    gnet.once(second, "connect", timeout=TIMEOUT)
    drops.wait(1)
    data = drops.firsts[0]
    assert set(data) == DROP_KEYS
    assert data == {
        "local_address": "127.0.0.1",
        "local_port": port,
        "local_family": "IPv4",
        "remote_address": "127.0.0.1",
        "remote_port": second.local_port,
        "remote_family": "IPv4",
    }
    give_a_chance()  # for a 'connection' the dropped one must not get, or a drop of the first
    assert len(connections) == 1
    assert first.destroyed is False


def test_server_drop_connections__dropped_client_sees_end_then_close(track: Any) -> None:
    # NODE-NET B4 (exp e12): the dropped client sees 'connect', 'end', then
    # 'close'(false); no 'connection' on the server.
    connections = Collector()
    server: gnet.Server = track(gnet.create_server(connections))
    server.max_connections = 1
    port = listen_local(server)
    tracked_client(track, port, "127.0.0.1")
    connections.wait(1)
    events: list[Any] = []
    closed = Collector()
    dropped: gnet.Socket = track(gnet.connect(port, "127.0.0.1"))
    dropped.resume()  # consume, so that 'end' does not wait for a reader (NODE-NET D2)
    for name in ("connect", "end", "error"):
        dropped.on(name, lambda *args, name=name: events.append(name))
    dropped.on("close", lambda had_error: (events.append(("close", had_error)), closed()))
    closed.wait(1)
    assert events == ["connect", "end", ("close", False)]
    assert len(connections) == 1


def test_server_drop_connections__max_connections_zero_drops_everything(track: Any) -> None:
    # API.md (current Node, not v20): maxConnections 0 drops every connection.
    connections, drops = Collector(), Collector()
    server: gnet.Server = track(gnet.create_server(connections))
    server.max_connections = 0
    server.on("drop", drops)
    port = listen_local(server)
    peer = tracked_client(track, port, "127.0.0.1")
    peer.resume()
    closed = Collector()
    peer.on("close", closed)
    drops.wait(1)
    closed.wait(1)
    assert connections.calls == []
    assert set(drops.firsts[0]) == DROP_KEYS


def test_server_drop_connections__unix_server_drop_data_is_none(track: Any, sock_path: str) -> None:
    # NODE-NET J5 / API.md: 'drop' gets None for a UNIX server.
    connections, drops = Collector(), Collector()
    server: gnet.Server = track(gnet.create_server(connections))
    server.max_connections = 0
    server.on("drop", drops)
    server.listen(sock_path)
    gnet.once(server, "listening", timeout=TIMEOUT)
    tracked_client(track, sock_path)
    drops.wait(1)
    assert drops.calls == [(None,)]
    assert connections.calls == []


def test_server_drop_connections__camel_case_alias(track: Any) -> None:
    # API.md: maxConnections is the same attribute as max_connections.
    connections, drops = Collector(), Collector()
    server: gnet.Server = track(gnet.create_server(connections))
    assert server.max_connections is None
    server.maxConnections = 0  # type: ignore[attr-defined]
    assert server.max_connections == 0
    server.on("drop", drops)
    tracked_client(track, listen_local(server), "127.0.0.1")
    drops.wait(1)
    assert connections.calls == []
