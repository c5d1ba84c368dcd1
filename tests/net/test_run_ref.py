"""gnet.run() and ref()/unref(): run() blocks while a referenced server or socket is open
(test-net-server-unref.js, test-net-server-unref-persistent.js, NODE-NET B9).

run() waits on a process-wide count of references, so a reference leaked by
an earlier test makes these fail too; each checks that run() is idle first,
and says so.

Listeners run in gnet's greenlets, where a failing ``assert`` would only be
logged; so listeners record what they see and the test body asserts.
Each test names where its rule comes from: the Node test it ports
(test/parallel/... unless said otherwise), a NODE-NET.md rule, or API.md.
Node v20 is the baseline; expected values Node's tests do not spell out
were checked against v20 with small scripts.
"""

from __future__ import annotations

from typing import Any

import gevent
import pytest
from gevent.event import AsyncResult

import gnet
from support import (
    TIMEOUT,
    Collector,
    abstract_name,
    assert_run_idle_at_start,
    give_a_chance,
    listen_local,
    run_returns,
    tracked_client,
)


def test_server_unref__run_returns_when_only_unrefd_server_left(track: Any) -> None:
    # test-net-server-unref.js / API.md: gnet.run() returns once an unref'd
    # server is the only thing left.
    assert_run_idle_at_start()
    server: gnet.Server = track(gnet.create_server())
    listen_local(server)
    runner = gevent.spawn(gnet.run)
    try:
        give_a_chance()  # for run() to return wrongly
        assert not runner.ready()  # a referenced listening server holds run()
        assert server.unref() is server
        runner.join(TIMEOUT)
        assert runner.ready()
    finally:
        runner.kill()


def test_server_unref_persistent__unref_before_listen(track: Any) -> None:
    # test-net-server-unref-persistent.js: unref() before listen() persists.
    assert_run_idle_at_start()
    server: gnet.Server = track(gnet.create_server())
    server.unref()
    listen_local(server)
    runner = gevent.spawn(gnet.run)
    try:
        runner.join(TIMEOUT)
        assert runner.ready()
    finally:
        runner.kill()


def test_server_unref__ref_again_holds_run(track: Any) -> None:
    # API.md ref(): a server ref()'d again holds run() until it closes.
    assert_run_idle_at_start()
    server: gnet.Server = track(gnet.create_server())
    listen_local(server)
    server.unref()
    assert server.ref() is server
    runner = gevent.spawn(gnet.run)
    try:
        give_a_chance()  # for run() to return wrongly
        assert not runner.ready()
        server.close()
        runner.join(TIMEOUT)
        assert runner.ready()
    finally:
        runner.kill()


def test_server_unref__accepted_sockets_still_hold_run(track: Any) -> None:
    # NODE-NET B9: server.unref() covers the listening socket only; an accepted
    # connection still keeps run() blocking until it closes.
    socks = Collector()
    assert_run_idle_at_start()
    server: gnet.Server = track(gnet.create_server(socks))
    port = listen_local(server)
    server.unref()
    peer = tracked_client(track, port, "127.0.0.1")
    gnet.once(peer, "connect", timeout=TIMEOUT)
    peer.unref()
    socks.wait(1)
    runner = gevent.spawn(gnet.run)
    try:
        give_a_chance()  # for run() to return wrongly
        assert not runner.ready()
        conn_closed = Collector()
        socks.firsts[0].on("close", conn_closed)
        socks.firsts[0].destroy()
        conn_closed.wait(1)
        runner.join(TIMEOUT)
        assert runner.ready()
    finally:
        runner.kill()


def test_socket_ref_and_unref_hold_and_release_run(track: Any) -> None:
    # API.md Socket: ref(), unref(); module run(): blocks until no referenced
    # server or socket is left.
    assert run_returns(0.3), "something from an earlier test still holds gnet.run()"
    accepted = AsyncResult()
    server = track(gnet.create_server(accepted.set))
    port = listen_local(server)
    server.unref()
    sock = track(gnet.connect(port, "127.0.0.1"))
    gnet.once(sock, "connect", timeout=TIMEOUT)
    conn = accepted.get(timeout=TIMEOUT)
    conn.unref()
    assert not run_returns(0.3)  # the connected client holds run()
    assert sock.unref() is sock
    assert run_returns(0.3)
    assert sock.ref() is sock
    assert not run_returns(0.3)
    runner = gevent.spawn(gnet.run)
    try:
        give_a_chance()  # for run() to return wrongly while the socket is open
        assert not runner.ready()
        sock.destroy()
        runner.join(TIMEOUT)
        assert runner.ready()  # run() returned once the last reference closed
    finally:
        runner.kill()


def test_listen__error_does_not_hold_run(track: Any) -> None:
    # test-net-server-unref.js, NODE-NET B9:
    # A listen that failed with 'error' holds no reference: run() returns.
    assert_run_idle_at_start()
    a: gnet.Server = track(gnet.create_server())
    port = listen_local(a)
    a.unref()
    b: gnet.Server = track(gnet.create_server())
    errors = Collector()
    b.on("error", errors)
    b.listen(port, "127.0.0.1")
    errors.wait(1)
    assert run_returns()


def test_server_close_before_calling_lookup_callback__does_not_hold_run(track: Any) -> None:
    # test-net-server-close-before-calling-lookup-callback.js:
    # The point of Node's test: the process exits, i.e. the closed server does
    # not keep the loop alive although its lookup was still pending.
    assert_run_idle_at_start()
    server: gnet.Server = track(gnet.create_server())
    server.listen(0, "localhost").close()
    gnet.once(server, "close", timeout=TIMEOUT)
    assert run_returns()


def test_server_listen_path__abstract_socket_rejected_listen_does_not_hold_run(track: Any) -> None:
    # NODE-NET J2, B9:
    # A listen() that raised left nothing listening, so nothing may keep
    # gnet.run() (Node's loop) alive.
    assert_run_idle_at_start()
    server: gnet.Server = track(gnet.create_server())
    with pytest.raises(TypeError):
        server.listen({"path": abstract_name(), "readable_all": True})
    assert run_returns()
