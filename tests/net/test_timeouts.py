"""setTimeout(): the idle timer, its 'timeout' event, and timeouts while connecting.

Listeners run in gnet's greenlets, where a failing ``assert`` would only be
logged; so listeners record what they see and the test body asserts.
Each test names where its rule comes from: the Node test it ports
(test/parallel/... unless said otherwise), a NODE-NET.md rule, or API.md.
Node v20 is the baseline; expected values Node's tests do not spell out
were checked against v20 with small scripts.
"""

from __future__ import annotations

from typing import Any

import pytest
from gevent.event import AsyncResult, Event

import gnet
from support import (
    TIMEOUT,
    give_a_chance,
    port_of,
    waiter,
)


def test_socket_timeout__validation() -> None:
    # test-net-socket-timeout.js: bad delays and callbacks are thrown.
    s = gnet.Socket()
    for delay in ["100", True, False, None, "", {}, lambda: None, []]:
        with pytest.raises(TypeError) as info:
            s.set_timeout(delay, lambda: None)  # type: ignore[arg-type]
        assert info.value.code == "ERR_INVALID_ARG_TYPE", delay  # type: ignore[attr-defined]
    for delay in [-0.001, -1, float("-inf"), float("inf"), float("nan")]:
        with pytest.raises(ValueError) as info:
            s.set_timeout(delay, lambda: None)
        assert info.value.code == "ERR_OUT_OF_RANGE", delay  # type: ignore[attr-defined]
    for delay in [0, 0.001, 1, 1e6]:
        assert s.set_timeout(delay, lambda: None) is s
    for callback in [1, "100", True, False, {}, []]:
        for msecs in (0, 1):
            with pytest.raises(TypeError) as info:
                s.set_timeout(msecs, callback)  # type: ignore[arg-type]
            assert info.value.code == "ERR_INVALID_ARG_TYPE"  # type: ignore[attr-defined]
    s.set_timeout(0)
    s.destroy()


def test_socket_timeout__fires_then_noop_after_destroy(server_factory: Any, track: Any) -> None:
    # test-net-socket-timeout.js: setTimeout returns the socket; after
    # destroy(), setTimeout is a no-op that still returns it.
    srv = server_factory()
    sock = track(gnet.create_connection(port_of(srv), "127.0.0.1"))
    late: list[str] = []
    after: list[Any] = []
    fired = Event()

    def on_timeout() -> None:
        sock.destroy()
        after.append(sock.set_timeout(1, lambda: late.append("timeout after destroy")))
        fired.set()

    assert sock.set_timeout(1, on_timeout) is sock
    assert fired.wait(TIMEOUT)
    give_a_chance(0.02)  # for the 1 ms timeout set after destroy(): it must not fire
    assert after == [sock]
    assert late == []


def test_settimeout__zero_disables_before_firing(server_factory: Any, track: Any) -> None:
    # test-net-settimeout.js: setTimeout(T, cb) then setTimeout(0): cb never runs.
    srv = server_factory(lambda c: c.write("hello"))
    sock = track(gnet.create_connection(port_of(srv), "127.0.0.1"))
    fired: list[str] = []
    assert isinstance(sock.set_timeout(50, lambda: fired.append("cb")), gnet.Socket)
    sock.on("timeout", lambda: fired.append("event"))
    sock.set_timeout(0)
    give_a_chance(0.1)  # twice the timeout: it must not fire
    assert fired == []
    assert sock.listener_count("timeout") == 2  # setTimeout(0) alone keeps cb (H3)


def test_settimeout__zero_with_callback_removes_it() -> None:
    # NODE-NET H3: setTimeout(0, cb) removes that cb listener.
    sock = gnet.Socket()
    cb = lambda: None  # noqa: E731
    sock.set_timeout(1000, cb)
    assert sock.listener_count("timeout") == 1
    assert sock.set_timeout(0, cb) is sock
    assert sock.listener_count("timeout") == 0
    sock.destroy()


def test_can_reset_timeout__write_in_timeout_listener(server_factory: Any, track: Any) -> None:
    # test-net-can-reset-timeout.js: the server's 'timeout' listener writes;
    # the client answers with end(); 'timeout' fired exactly once.
    timeouts: list[int] = []
    server_closed = AsyncResult()

    def on_connection(stream: gnet.Socket) -> None:
        stream.set_timeout(50)
        stream.resume()
        stream.on("timeout", lambda: (timeouts.append(1), stream.write("WHAT.")))
        stream.on("end", lambda: stream.end())
        stream.on("close", server_closed.set)

    srv = server_factory(on_connection)
    c = track(gnet.create_connection(port_of(srv), "127.0.0.1"))
    c.on("data", lambda d: c.end())
    client_ended = waiter(c, "end")
    client_ended.get(timeout=TIMEOUT)
    assert server_closed.get(timeout=TIMEOUT) is False
    assert timeouts == [1]


def test_timeout_no_handle__fires_without_connecting() -> None:
    # test-net-timeout-no-handle.js (NODE-NET H5): the idle timer runs on a
    # socket that never connected.
    sock = gnet.Socket()
    log: list[str] = []
    sock.on("connect", lambda: log.append("connect"))
    sock.set_timeout(50)
    gnet.once(sock, "timeout", timeout=TIMEOUT)
    assert sock.pending is True  # Node: socket._handle === null
    assert log == []
    sock.destroy()


def test_timeout__once_per_idle_period_and_rearmed_by_activity(
    server_factory: Any, track: Any
) -> None:
    # NODE-NET H1/H2: 'timeout' does not close the socket; it fires once per
    # idle period; activity (a write) re-arms it.
    srv = server_factory(lambda s: s.resume())
    sock = track(gnet.connect(port_of(srv), "127.0.0.1"))
    gnet.once(sock, "connect", timeout=TIMEOUT)
    fired: list[float] = []
    sock.on("timeout", lambda: fired.append(1))
    sock.set_timeout(30)
    gnet.once(sock, "timeout", timeout=TIMEOUT)
    give_a_chance(0.12)  # four more timeout lengths of idleness: no second 'timeout'
    assert len(fired) == 1
    assert sock.destroyed is False
    assert sock.ready_state == "open"
    sock.write("activity")
    gnet.once(sock, "timeout", timeout=TIMEOUT)
    assert len(fired) == 2


def test_timeout__property_and_connect_option(server_factory: Any, track: Any) -> None:
    # NODE-NET H6/C1: timeout is None until set, then the last value (0 once
    # disabled); connect's timeout option calls setTimeout before connecting.
    sock = gnet.Socket()
    assert sock.timeout is None
    sock.set_timeout(100)
    assert sock.timeout == 100
    sock.set_timeout(0)
    assert sock.timeout == 0
    sock.destroy()
    srv = server_factory()
    client = track(gnet.connect({"port": port_of(srv), "host": "127.0.0.1", "timeout": 30}))
    assert client.timeout == 30
    gnet.once(client, "timeout", timeout=TIMEOUT)
    assert not client.destroyed


def test_connect_timeout__timeout_while_connecting_can_destroy(stalled_port: int) -> None:
    # NODE-NET H5 (nodejs/node#5757): set_timeout() is the connect timeout;
    # 'timeout' fires while the connect hangs and its listener can end it.
    # (The actor once spun on the queued 'timeout' and hung the process.)
    conn = gnet.connect(stalled_port, "127.0.0.1")
    conn.set_timeout(50)
    events: list[Any] = []
    conn.on("timeout", lambda: (events.append("timeout"), conn.destroy()))
    conn.on("error", lambda err: events.append(err))
    assert gnet.once(conn, "close", timeout=TIMEOUT) == (False,)
    assert events == ["timeout"]
