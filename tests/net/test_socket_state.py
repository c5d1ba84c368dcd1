"""A socket's state and addresses: connecting, pending, readable/writable, readyState,
remote*/local*/address(), and the options on its descriptor (noDelay, keepAlive, fd).

Listeners run in gnet's greenlets, where a failing ``assert`` would only be
logged; so listeners record what they see and the test body asserts.
Each test names where its rule comes from: the Node test it ports
(test/parallel/... unless said otherwise), a NODE-NET.md rule, or API.md.
Node v20 is the baseline; expected values Node's tests do not spell out
were checked against v20 with small scripts.
"""

from __future__ import annotations

import os
import socket
from typing import Any

import pytest
from gevent.event import AsyncResult, Event

import gnet
from support import (
    TIMEOUT,
    listen_local,
    needs_ipv6,
    port_of,
    sockopts,
    waiter,
)

# ----------------------------------------------------------------------
# connecting, pending, readable/writable, readyState


def test_socket_connecting__true_until_connect(server_factory: Any, track: Any) -> None:
    # test-net-socket-connecting.js
    srv = server_factory(lambda c: c.end())
    at_connect = AsyncResult()
    client = track(
        gnet.connect(port_of(srv), "127.0.0.1", lambda: at_connect.set(client.connecting))
    )
    assert client.connecting is True
    assert at_connect.get(timeout=TIMEOUT) is False


def test_rule_i1__connecting_and_pending_through_a_life(server_factory: Any) -> None:
    # NODE-NET I1: pending = no handle or connecting; true again after close.
    srv = server_factory(lambda s: s.end())
    sock = gnet.Socket()
    states = [("new", sock.pending, sock.connecting)]
    sock.connect(port_of(srv), "127.0.0.1")
    states.append(("connecting", sock.pending, sock.connecting))
    sock.on("connect", lambda: states.append(("connect", sock.pending, sock.connecting)))
    sock.resume()
    closed = waiter(sock, "close")
    try:
        closed.get(timeout=TIMEOUT)
    finally:
        sock.destroy()
    states.append(("closed", sock.pending, sock.connecting))
    assert states == [
        ("new", True, False),
        ("connecting", True, True),
        ("connect", False, False),
        ("closed", True, False),
    ]


def test_socket_constructor__readable_writable_flags(server_factory: Any, track: Any) -> None:
    # test-net-socket-constructor.js, with v20's values (NODE-NET I2): a new,
    # connecting, accepted or connected socket is readable and writable.
    fresh = gnet.Socket()
    assert (fresh.readable, fresh.writable, fresh.ready_state) == (True, True, "open")
    fresh.destroy()
    accepted = AsyncResult()
    srv = server_factory(lambda s: accepted.set((s.readable, s.writable, s.ready_state)))
    connected = AsyncResult()
    sock = track(gnet.connect(port_of(srv), "127.0.0.1"))
    sock.on("connect", lambda: connected.set((sock.readable, sock.writable, sock.ready_state)))
    assert (sock.readable, sock.writable, sock.ready_state) == (True, True, "opening")
    assert accepted.get(timeout=TIMEOUT) == (True, True, "open")
    assert connected.get(timeout=TIMEOUT) == (True, True, "open")


@pytest.mark.parametrize(
    "kind", ["unix", "tcp", "localhost", pytest.param("ipv6", marks=needs_ipv6)]
)
def test_pingpong__flags_and_ready_state_at_each_stage(
    kind: str, listen: Any, sock_path: str
) -> None:
    # test-net-pingpong.js: PING/PONG round trips to an allowHalfOpen server,
    # checking readable/writable (and readyState) at every stage.
    n = 1000
    count = [0]
    sent_pongs = [0]
    sent_final_ping = [False]
    problems: list[Any] = []
    server_sockets: list[gnet.Socket] = []
    server_holder: list[gnet.Server] = []

    def check(cond: bool, what: Any) -> None:
        if not cond:
            problems.append(what)

    def on_connection(socket: gnet.Socket) -> None:
        server = server_holder[0]
        server_sockets.append(socket)
        check(socket.server is server, "socket.server")
        check(server.connections == 1, ("connections", server.connections))
        socket.set_no_delay()
        socket.set_encoding("utf8")

        def on_data(data: str) -> None:
            check(0 <= socket.buffer_size <= 4, ("bufferSize", socket.buffer_size))
            check(socket.writable and socket.readable, "server flags in data")
            check(socket.ready_state == "open", ("server data", socket.ready_state))
            check(count[0] <= n, "count")
            check(data == "PING", ("data", data))
            socket.write("PONG", lambda *err: sent_pongs.__setitem__(0, sent_pongs[0] + 1))

        def on_end() -> None:
            check(socket.allow_half_open is True, "allowHalfOpen")
            check(socket.writable is True, "server writable at end")
            check(socket.readable is False, "server readable at end")
            check(socket.ready_state == "writeOnly", ("server end", socket.ready_state))
            socket.end()

        def on_close(had_error: bool) -> None:
            check(socket.writable is False and socket.readable is False, "server close flags")
            check(socket.ready_state == "closed", ("server close", socket.ready_state))
            server.close()

        socket.on("data", on_data)
        socket.on("end", on_end)
        socket.on("error", lambda e: problems.append(e))
        socket.on("close", on_close)

    if kind == "unix":
        server = listen(on_connection, sock_path, allow_half_open=True)
        client = gnet.create_connection(sock_path)
    elif kind == "tcp":
        server = listen(on_connection, 0, allow_half_open=True)
        client = gnet.create_connection(port_of(server))
    elif kind == "localhost":
        server = listen(on_connection, 0, "localhost", allow_half_open=True)
        client = gnet.create_connection(port_of(server), "localhost")
    else:
        server = listen(on_connection, 0, "::1", allow_half_open=True)
        client = gnet.create_connection(port_of(server), "::1")
    server_holder.append(server)
    states = [("start", client.ready_state)]
    client.set_encoding("ascii")

    def on_connect() -> None:
        check(client.readable and client.writable, "client flags at connect")
        states.append(("connect", client.ready_state))
        client.write("PING")

    def on_data(data: str) -> None:
        check(data == "PONG", ("client data", data))
        count[0] += 1
        if sent_final_ping[0]:
            check(client.writable is False and client.readable is True, "client after end")
            check(client.ready_state == "readOnly", ("client final", client.ready_state))
            return
        check(client.writable is True and client.readable is True, "client flags")
        check(client.ready_state == "open", ("client data", client.ready_state))
        if count[0] < n:
            client.write("PING")
        else:
            sent_final_ping[0] = True
            client.write("PING")
            client.end()
            states.append(("after end()", client.ready_state))

    client.on("connect", on_connect)
    client.on("data", on_data)
    client.on("error", lambda e: problems.append(e))
    closed = waiter(client, "close")
    server_closed = waiter(server, "close")
    try:
        assert closed.get(timeout=TIMEOUT * 2) == (False,)
        server_closed.get(timeout=TIMEOUT)
    finally:
        client.destroy()
    states.append(("close", client.ready_state))
    assert problems == []
    assert count[0] == n + 1
    assert sent_pongs[0] == n + 1
    assert sent_final_ping[0] is True
    assert states == [
        ("start", "opening"),
        ("connect", "open"),
        ("after end()", "readOnly"),
        ("close", "closed"),
    ]


# ----------------------------------------------------------------------
# addresses


def test_remote_address_port__while_connecting_connected_and_closed(listen: Any) -> None:
    # test-net-remote-address-port.js (+ test-net-remote-address.js): remote*
    # are None while connecting, set at 'connect', and still valid at
    # 'close' because they were read while connected (NODE-NET I3).
    candidates = {"127.0.0.1", "::ffff:127.0.0.1"}
    families = {"IPv4", "IPv6"}
    server_seen: list[tuple[Any, ...]] = []
    server_ended = Event()

    def on_connection(sock: gnet.Socket) -> None:
        server_seen.append((sock.remote_address, sock.remote_family, sock.remote_port))

        def on_close(had_error: bool) -> None:
            server_seen.append((sock.remote_address, sock.remote_family, sock.remote_port))

        sock.on("close", on_close)
        sock.on("end", lambda: len(server_seen) >= 4 and server_ended.set())
        sock.resume()

    server = listen(on_connection, 0, "localhost")
    port = port_of(server)
    clients = [gnet.create_connection(port, "localhost"), gnet.create_connection(port)]
    seen: list[tuple[Any, ...]] = []
    try:
        for client in clients:
            seen.append(("connecting", client.remote_address, client.remote_port))
            client.on(
                "connect",
                lambda c=client: (
                    seen.append(("connect", c.remote_address, c.remote_family, c.remote_port)),
                    c.end(),
                ),
            )
            client.on(
                "close",
                lambda had_error, c=client: seen.append(
                    ("close", c.remote_address, c.remote_family, c.remote_port)
                ),
            )
            client.resume()
        closes = [waiter(client, "close") for client in clients]
        for closed in closes:
            closed.get(timeout=TIMEOUT)
    finally:
        for client in clients:
            client.destroy()
    assert [s for s in seen if s[0] == "connecting"] == [("connecting", None, None)] * 2
    after = [s for s in seen if s[0] != "connecting"]
    assert len(after) == 4
    for _, address, family, remote_port in after:
        assert address in candidates
        assert family in families
        assert remote_port == port
    assert len(server_seen) >= 2
    for address, family, remote_port in server_seen:
        assert address in candidates
        assert family in families
        assert remote_port and remote_port != port


def test_rule_i3__remote_cached_local_not(server_factory: Any, track: Any) -> None:
    # NODE-NET I3/I4/I5: remote* read while connected survive close; local*
    # and address() do not; families are strings.
    srv = server_factory(lambda s: s.end())
    sock = track(gnet.connect(port_of(srv), "127.0.0.1"))
    assert (sock.local_address, sock.local_port, sock.local_family) == (None, None, None)
    assert sock.address() == {}
    seen = AsyncResult()

    def on_connect() -> None:
        seen.set(
            (
                sock.remote_address,
                sock.remote_port,
                sock.remote_family,
                sock.local_address,
                sock.local_family,
                sock.address(),
            )
        )

    sock.on("connect", on_connect)
    sock.resume()
    closed = waiter(sock, "close")
    remote, rport, rfamily, local, lfamily, address = seen.get(timeout=TIMEOUT)
    assert (remote, rport, rfamily) == ("127.0.0.1", port_of(srv), "IPv4")
    assert (local, lfamily) == ("127.0.0.1", "IPv4")
    assert set(address) == {"address", "family", "port"}
    assert address["family"] == "IPv4"
    closed.get(timeout=TIMEOUT)
    assert (sock.remote_address, sock.remote_port, sock.remote_family) == (remote, rport, rfamily)
    assert sock.local_address is None
    assert sock.address() == {}


def test_rule_i4__unix_client_has_no_addresses(listen: Any, sock_path: str, track: Any) -> None:
    # NODE-NET I4/J5: address() is {} and remote*/local* are None over UNIX.
    listen(None, sock_path)
    sock = track(gnet.connect(sock_path))
    gnet.once(sock, "connect", timeout=TIMEOUT)
    assert sock.address() == {}
    assert (sock.remote_address, sock.remote_port, sock.local_address) == (None, None, None)


# ----------------------------------------------------------------------
# the descriptor: Socket({fd}), fileno(), noDelay, keepAlive


def test_socket_constructor__fd_option(server_factory: Any) -> None:
    # test-net-socket-constructor.js (NODE-NET K4): Socket({fd}) wraps a
    # connected descriptor; fd -1 -> ERR_OUT_OF_RANGE, 'foo' -> ERR_INVALID_ARG_TYPE.
    with pytest.raises(ValueError) as info:
        gnet.Socket({"fd": -1})
    assert info.value.code == "ERR_OUT_OF_RANGE"  # type: ignore[attr-defined]
    with pytest.raises(TypeError) as info2:
        gnet.Socket({"fd": "foo"})
    assert info2.value.code == "ERR_INVALID_ARG_TYPE"  # type: ignore[attr-defined]
    received = AsyncResult()
    srv = server_factory(lambda s: s.on("data", received.set))
    raw = socket.create_connection(("127.0.0.1", port_of(srv)))
    sock = gnet.Socket({"fd": os.dup(raw.fileno()), "readable": True, "writable": True})
    raw.close()
    try:
        assert (sock.readable, sock.writable, sock.ready_state) == (True, True, "open")
        assert sock.remote_port == port_of(srv)
        sock.write(b"via fd")
        assert received.get(timeout=TIMEOUT) == b"via fd"
    finally:
        sock.destroy()


def test_socket_fileno__the_descriptor_then_minus_one(server_factory: Any) -> None:
    # Beyond Node (README "Differences"): fileno() as Python sockets have it.
    server = server_factory()
    sock = gnet.Socket()
    assert sock.fileno() == -1
    sock.connect(port_of(server), "127.0.0.1")
    gnet.once(sock, "connect", timeout=TIMEOUT)
    fd = sock.fileno()
    assert fd >= 0
    assert os.readlink(f"/proc/self/fd/{fd}").startswith("socket:")
    sock.destroy()
    gnet.once(sock, "close", timeout=TIMEOUT)
    assert sock.fileno() == -1


def _wrapped_raw(srv: gnet.Server) -> tuple[socket.socket, gnet.Socket]:
    """A connected stdlib socket and a gnet Socket on a dup of its descriptor."""
    raw = socket.create_connection(("127.0.0.1", port_of(srv)))
    return raw, gnet.Socket({"fd": os.dup(raw.fileno()), "readable": True, "writable": True})


def test_socket_setnodelay__sets_tcp_nodelay(server_factory: Any) -> None:
    # test-net-socket-setnodelay.js (NODE-NET H8): the argument defaults to
    # True and is coerced to a boolean; returns the socket.
    srv = server_factory()
    raw, sock = _wrapped_raw(srv)
    try:

        def nodelay() -> bool:
            return bool(raw.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))

        assert nodelay() is False  # Nagle is on at first
        assert sock.set_no_delay() is sock
        assert nodelay() is True
        for value in [False, 0, ""]:
            sock.set_no_delay(value)  # type: ignore[arg-type]
            assert nodelay() is False, value
        for value in [True, 1, "true", {1: 1}, [1]]:
            sock.set_no_delay(value)  # type: ignore[arg-type]
            assert nodelay() is True, value
        assert sock.setNoDelay(False) is sock
        assert nodelay() is False
    finally:
        sock.destroy()
        raw.close()


def test_socket_setkeepalive__sets_so_keepalive_and_idle(server_factory: Any) -> None:
    # NODE-NET H7 (test-net-persistent-keepalive.js, -keepalive.js): the delay
    # is floored to seconds; returns the socket.
    srv = server_factory()
    raw, sock = _wrapped_raw(srv)
    try:
        assert sock.set_keep_alive(True, 5500) is sock
        assert raw.getsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE) == 1
        if hasattr(socket, "TCP_KEEPIDLE"):
            assert raw.getsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPIDLE) == 5
        assert sock.set_keep_alive(False) is sock
        assert raw.getsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE) == 0
        assert sock.setKeepAlive(True) is sock
        assert raw.getsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE) == 1
    finally:
        sock.destroy()
        raw.close()


def test_socket_setnodelay_keepalive__before_connect(server_factory: Any, track: Any) -> None:
    # NODE-NET H7/H8/G7: before connecting both are stored, return the
    # socket, and do not throw; the socket then connects normally, and
    # (API.md) both apply at connect.  (Merged with the API.md test
    # test_socket_set_no_delay_and_keep_alive_before_connect_apply_at_connect.)
    srv = server_factory()
    sock = gnet.Socket()
    assert sock.set_no_delay().set_keep_alive(True, 4000) is sock
    track(sock)
    sock.connect(port_of(srv), "127.0.0.1")
    gnet.once(sock, "connect", timeout=TIMEOUT)
    nodelay, keepalive, idle = sockopts(sock)
    assert (nodelay, keepalive) == (1, 1)
    if idle is not None:
        assert idle == 4  # ms, floored to seconds


@pytest.mark.parametrize(
    "options",
    [
        {"no_delay": True, "keep_alive": True, "keep_alive_initial_delay": 3000},
        {"noDelay": True, "keepAlive": True, "keepAliveInitialDelay": 3000},
    ],
    ids=["snake", "camel"],
)
def test_socket_connect_options_no_delay_and_keep_alive_applied(
    options: dict[str, Any], track: Any
) -> None:
    # API.md connect() options no_delay, keep_alive, keep_alive_initial_delay:
    server = track(gnet.create_server())
    port = listen_local(server)
    sock = track(gnet.connect({"port": port, "host": "127.0.0.1", **options}))
    gnet.once(sock, "connect", timeout=TIMEOUT)
    nodelay, keepalive, idle = sockopts(sock)
    assert nodelay == 1
    assert keepalive == 1
    if idle is not None:
        assert idle == 3  # ms, floored to seconds
