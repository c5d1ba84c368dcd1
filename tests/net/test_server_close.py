"""Stopping a server: close() and its callback, resetting connections, ``with server:``,
and shutdown(timeout).

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

import gnet
from support import (
    TIMEOUT,
    Closes,
    Collector,
    dropped,
    echo_ok,
    give_a_chance,
    listen_local,
    port_of,
    raw_client,
    recv_all,
    tracked_client,
)

# ----------------------------------------------------------------------
# close()


def test_server_close__returns_the_server(track: Any) -> None:
    # test-net-server-close.js / test-net-server-reset.js: close() returns this.
    server: gnet.Server = track(gnet.create_server())
    listen_local(server)
    assert server.close() is server
    gnet.once(server, "close", timeout=TIMEOUT)


def test_server_close__close_after_both_connections(track: Any) -> None:
    # test-net-server-close.js: 'close' comes only once both connections are
    # destroyed; one server 'close', two socket 'close's; connections back to 0.
    events: list[str] = []
    sockets: list[gnet.Socket] = []
    destroyed_at_close: list[list[bool]] = []
    closed, client_closes = Collector(), Collector()
    server: gnet.Server = track(gnet.create_server())

    def on_connection(conn: gnet.Socket) -> None:
        conn.on("close", lambda had_error: (events.append("client"), client_closes()))
        sockets.append(conn)
        if len(sockets) == 2:
            server.close()
            for c in sockets:
                c.destroy()

    def on_close() -> None:
        events.append("server")
        destroyed_at_close.append([c.destroyed for c in sockets])
        closed()

    server.on("connection", on_connection)
    server.on("close", on_close)
    port = listen_local(server)
    tracked_client(track, port, "127.0.0.1")
    tracked_client(track, port, "127.0.0.1")
    closed.wait(1)
    client_closes.wait(2)
    give_a_chance()  # for late or extra 'close' events
    assert sorted(events) == ["client", "client", "server"]
    assert destroyed_at_close == [[True, True]]
    assert server.connections == 0


def test_server_close__keeps_existing_connections(track: Any) -> None:
    # NODE-NET B6: close() stops accepting at once (listening False, address()
    # None, new connects refused) but keeps the existing connection; 'close'
    # fires only once that connection has ended.
    server: gnet.Server = track(gnet.create_server(lambda conn: conn.pipe(conn)))
    port = listen_local(server)
    peer: gnet.Socket = track(gnet.open_connection(port, "127.0.0.1", timeout=TIMEOUT))
    peer.sendall(b"ping", timeout=TIMEOUT)
    assert peer.recv_exactly(4, timeout=TIMEOUT) == b"ping"

    closes = Collector()
    server.on("close", closes)
    server.close()
    assert server.listening is False
    assert server.address() is None
    with pytest.raises(ConnectionRefusedError) as info:
        gnet.open_connection(port, "127.0.0.1", timeout=TIMEOUT)
    assert info.value.code == "ECONNREFUSED"

    peer.sendall(b"again", timeout=TIMEOUT)
    assert peer.recv_exactly(5, timeout=TIMEOUT) == b"again"
    give_a_chance()  # for a 'close' that must wait for the connection
    assert closes.calls == []

    peer.end()
    closes.wait(1)
    assert server.connections == 0


@pytest.mark.parametrize("form", ["port", "ip-host", "path"])
def test_listen_close_server__no_listening_no_error(track: Any, sock_path: str, form: str) -> None:
    # test-net-listen-close-server.js / NODE-NET A13: listen() then an
    # immediate close(): no 'listening', no 'error', exactly one 'close'.
    connections = Collector()
    server: gnet.Server = track(gnet.create_server(connections))
    listening, errors, closes = Collector(), Collector(), Collector()
    if form == "port":
        server.listen(0, listening)
    elif form == "ip-host":
        server.listen(0, "127.0.0.1", listening)
    else:
        server.listen(sock_path, listening)
    server.on("error", errors)
    server.on("close", closes)
    server.close()
    closes.wait(1)
    give_a_chance()  # for a 'listening' or 'error' that must not come
    assert listening.calls == []
    assert errors.calls == []
    assert len(closes) == 1
    assert server.listening is False


def test_server_close_before_calling_lookup_callback__never_listens(track: Any) -> None:
    # test-net-server-close-before-calling-lookup-callback.js / NODE-NET A13:
    # listen(0, 'localhost').close(): the lookup finishes later but no handle
    # is ever created.
    server: gnet.Server = track(gnet.create_server())
    listening, errors, closes = Collector(), Collector(), Collector()
    server.on("listening", listening)
    server.on("error", errors)
    server.on("close", closes)
    server.listen(0, "localhost").close()
    closes.wait(1)
    give_a_chance(0.2)  # room for the host lookup to come back
    assert listening.calls == []
    assert errors.calls == []
    assert server.listening is False
    assert server.address() is None


def test_listen_close_server_callback_is_not_function__close_still_emitted(track: Any) -> None:
    # test-net-listen-close-server-callback-is-not-function.js:
    # close('bad argument') does not throw; 'close' is still emitted once; the
    # listen callback is never called.
    connections = Collector()
    server: gnet.Server = track(gnet.create_server(connections))
    closes, listening = Collector(), Collector()
    server.on("close", closes)
    server.listen(0, listening)
    server.close("bad argument")  # type: ignore[arg-type]
    closes.wait(1)
    give_a_chance()  # for a second 'close' or a late 'listening'
    assert len(closes) == 1
    assert listening.calls == []
    assert connections.calls == []


def test_server_reset__clients_get_econnreset(track: Any) -> None:
    # test-net-server-reset.js:
    # The server resetAndDestroy()s both accepted sockets: each client gets
    # ECONNRESET, each server-side socket 'close's, then the server 'close's.
    sockets: list[gnet.Socket] = []
    close_returned: list[bool] = []
    socket_closes, server_closes, errors = Collector(), Collector(), Collector()
    server: gnet.Server = track(gnet.create_server())

    def on_connection(conn: gnet.Socket) -> None:
        conn.on("close", socket_closes)
        sockets.append(conn)
        if len(sockets) == 2:
            close_returned.append(server.close() is server)
            for c in sockets:
                c.reset_and_destroy()

    server.on("connection", on_connection)
    server.on("close", server_closes)
    assert server.listen(0, "127.0.0.1") is server
    gnet.once(server, "listening", timeout=TIMEOUT)
    tracked_client(track, port_of(server), "127.0.0.1", errors=errors)
    tracked_client(track, port_of(server), "127.0.0.1", errors=errors)
    errors.wait(2)
    socket_closes.wait(2)
    server_closes.wait(1)
    assert [err.code for err in errors.firsts] == ["ECONNRESET", "ECONNRESET"]
    assert close_returned == [True]
    assert socket_closes.firsts == [False, False]  # NODE-NET G4: locally close(false)


# ----------------------------------------------------------------------
# close(callback) (NODE-NET B7)


def test_server__close_callback_not_running(track: Any) -> None:
    # NODE-NET B7 (exp e1): close(cb) on a server that never listened: 'close' is still
    # emitted and cb gets ERR_SERVER_NOT_RUNNING; close() returns the server.
    server: gnet.Server = track(gnet.create_server())
    order: list[Any] = []
    done = Collector()
    server.on("close", lambda: order.append("close"))
    returned = server.close(lambda *args: (order.append(args), done()))
    assert returned is server
    done.wait(1)
    assert order[0] == "close"
    (err,) = order[1]
    assert isinstance(err, gnet.Error)
    assert err.code == "ERR_SERVER_NOT_RUNNING"
    assert str(err) == "Server is not running."


def test_server__close_callback_every_extra_close(track: Any) -> None:
    # NODE-NET B7: every extra close() on a stopped server: each callback gets
    # ERR_SERVER_NOT_RUNNING once, and 'close' is emitted each time.
    server: gnet.Server = track(gnet.create_server())
    closes, cb1, cb2 = Collector(), Collector(), Collector()
    server.on("close", closes)
    server.close(cb1)
    server.close(cb2)
    closes.wait(2)
    give_a_chance()  # for a third 'close' or a second callback
    assert len(closes) == 2
    assert [err.code for err in cb1.firsts] == ["ERR_SERVER_NOT_RUNNING"]
    assert [err.code for err in cb2.firsts] == ["ERR_SERVER_NOT_RUNNING"]


def test_server__close_callback_after_listening_gets_no_error(track: Any) -> None:
    # NODE-NET B7: on success the callback is called with no argument (a callback that
    # wants one gets None).
    server: gnet.Server = track(gnet.create_server())
    listen_local(server)
    no_args, one_arg = Collector(), Collector()
    server.close(no_args)
    server2: gnet.Server = track(gnet.create_server())
    listen_local(server2)

    def wants_err(err: Any) -> None:
        one_arg(err)

    server2.close(wants_err)
    no_args.wait(1)
    one_arg.wait(1)
    assert no_args.calls == [()]
    assert one_arg.calls == [(None,)]


def test_server__close_callback_keyword(track: Any) -> None:
    # API.md principle 9: callback= works as a keyword too.
    server: gnet.Server = track(gnet.create_server())
    listen_local(server)
    closed = Collector()
    server.close(callback=closed)
    closed.wait(1)


# ----------------------------------------------------------------------
# with server:


def test_server_context_manager__closes_on_exit(track: Any) -> None:
    # API.md Server as a context manager:
    # `with create_server(...) as server:` closes the server on exit.
    closes = Collector()
    with gnet.create_server() as server:
        track(server)
        assert isinstance(server, gnet.Server)
        server.on("close", closes)
        port = listen_local(server)
        assert server.listening
    assert server.listening is False
    closes.wait(1)
    with pytest.raises(ConnectionRefusedError):
        gnet.open_connection(port, "127.0.0.1", timeout=TIMEOUT)


def test_server_context_manager__closes_on_exception(track: Any) -> None:
    # API.md Server as a context manager: also when the block raises.
    closes = Collector()
    with pytest.raises(RuntimeError, match="inside with"):
        with gnet.create_server() as server:
            track(server)
            server.on("close", closes)
            listen_local(server)
            raise RuntimeError("inside with")
    assert server.listening is False
    closes.wait(1)


def test_server_context_manager__not_listening_or_closed_is_fine(track: Any) -> None:
    # Like Node's asyncDispose (test-net-server-async-dispose.mjs): exiting
    # for a server that never listened, or is already closed, does not raise.
    with gnet.create_server() as never:
        track(never)
    with gnet.create_server() as closed_already:
        track(closed_already)
        listen_local(closed_already)
        closed_already.close()
    gnet.once(closed_already, "close", timeout=TIMEOUT)


# ----------------------------------------------------------------------
# shutdown(timeout)


def test_server_shutdown__graceful(track: Any) -> None:
    # shutdown(timeout): stop accepting, end() each idle connection (this
    # echo's, after idle_after of quiet), return once the server emitted 'close'.
    server: gnet.Server = track(gnet.create_server(lambda conn: conn.pipe(conn)))
    port = listen_local(server)
    peer = tracked_client(track, port, "127.0.0.1")
    peer.resume()
    peer_closed = Collector()
    peer.on("close", peer_closed)
    gnet.once(peer, "connect", timeout=TIMEOUT)
    server_closed = Collector()
    server.on("close", server_closed)
    server.get_connections(lambda err, n: None)
    counted = Collector()
    server.get_connections(counted)
    counted.wait(1)
    assert counted.calls == [(None, 1)]
    started = time.monotonic()
    server.shutdown(timeout=TIMEOUT)
    assert time.monotonic() - started < TIMEOUT
    assert len(server_closed) == 1
    assert server.listening is False
    peer_closed.wait(1)
    assert peer_closed.firsts == [False]


def test_server_shutdown__destroys_stragglers_after_timeout(track: Any) -> None:
    # API.md Server.shutdown(timeout):
    # A connection that does not finish within the timeout is destroyed.
    server: gnet.Server = track(gnet.create_server(lambda conn: conn.resume()))
    port = listen_local(server)
    # allow_half_open: the client does not end its side when the server does.
    peer: gnet.Socket = track(
        gnet.connect({"port": port, "host": "127.0.0.1", "allow_half_open": True})
    )
    peer.on("error", lambda err: None)
    peer.resume()
    gnet.once(peer, "connect", timeout=TIMEOUT)
    socks = Collector()
    server.get_connections(socks)
    socks.wait(1)
    assert socks.calls == [(None, 1)]
    started = time.monotonic()
    server.shutdown(timeout=0.2)
    elapsed = time.monotonic() - started
    assert 0.15 <= elapsed < TIMEOUT
    assert server.connections == 0
    assert server.listening is False


def test_shutdown__stops_accepting_ends_every_connection_and_returns_after_close(
    track: Any,
) -> None:
    # Server.shutdown(timeout), with plain clients that are idle after their
    # echo: each gets the server's FIN once quiet for idle_after.
    closes = Closes()
    server: gnet.Server = track(gnet.create_server())
    server.on("connection", closes.watch)
    server.on("connection", lambda conn: conn.pipe(conn))
    port = listen_local(server)
    server_closes: list[float] = []
    server.on("close", lambda: server_closes.append(time.monotonic()))
    n = 3
    clients = [track(raw_client(port)) for _ in range(n)]
    for i, sock in enumerate(clients):
        assert echo_ok(sock, b"hi %d\n" % i)
    assert server.connections == n
    saw_eof = [Event() for _ in range(n)]
    proceed = Event()

    def client_main(i: int) -> None:
        assert recv_all(clients[i]) == b""  # the server's end(): a FIN
        saw_eof[i].set()
        proceed.wait(TIMEOUT)
        clients[i].close()

    workers = [gevent.spawn(client_main, i) for i in range(n)]
    returned: list[int] = []

    def do_shutdown() -> None:
        server.shutdown(timeout=TIMEOUT)
        returned.append(len(server_closes))

    shutting = gevent.spawn(do_shutdown)
    try:
        for event in saw_eof:
            assert event.wait(TIMEOUT), "a client did not see the server end its side"
        with pytest.raises(ConnectionRefusedError):
            raw_client(port).close()
        assert not shutting.ready(), "shutdown returned while connections were still open"
        assert server_closes == []
        proceed.set()
        shutting.join(TIMEOUT)
        assert shutting.ready()
        shutting.get()
    finally:
        proceed.set()
        shutting.kill()
        gevent.joinall(workers, timeout=TIMEOUT)
    assert returned == [1], "shutdown returns once the server's 'close' has fired"
    assert all(w.successful() for w in workers)
    assert server.listening is False
    assert server.connections == 0
    assert all(conn.destroyed for conn in closes.watched)
    # Each connection's own 'close' comes a loop turn after its destroy (Node
    # emits it from the handle's close callback), so possibly after the server's.
    closes.wait_for(lambda: len(closes.calls) == n)
    assert sorted(had_error for _c, had_error in closes.calls) == [False] * n


def test_shutdown__destroys_what_is_left_after_timeout(track: Any) -> None:
    # API.md Server.shutdown(timeout):
    closes = Closes()
    server: gnet.Server = track(gnet.create_server())
    server.on("connection", closes.watch)
    server.on("connection", lambda conn: conn.pipe(conn))
    port = listen_local(server)
    server_closes: list[float] = []
    server.on("close", lambda: server_closes.append(time.monotonic()))
    polite = track(raw_client(port))
    stubborn = track(raw_client(port))  # never reads, never closes
    assert echo_ok(polite, b"polite\n")
    assert echo_ok(stubborn, b"stubborn\n")
    polite_conn, stubborn_conn = closes.watched
    polite_closed_at: list[float] = []
    polite_conn.on("close", lambda had_error: polite_closed_at.append(time.monotonic()))

    def polite_main() -> None:
        recv_all(polite)
        polite.close()

    worker = gevent.spawn(polite_main)
    started = time.monotonic()
    # Both are idle after their echo: ended after 0.1 s of quiet, then the
    # polite one closes; the stubborn one is destroyed at the deadline.
    server.shutdown(timeout=0.5, idle_after=0.1)
    elapsed = time.monotonic() - started
    worker.join(TIMEOUT)
    assert 0.4 <= elapsed < TIMEOUT, elapsed
    assert len(server_closes) == 1
    assert server.connections == 0
    assert server.listening is False
    assert polite_conn.destroyed and stubborn_conn.destroyed
    closes.wait_for(lambda: len(closes.calls) == 2)
    assert closes.of(polite_conn) == [False]
    assert len(closes.of(stubborn_conn)) == 1
    assert polite_closed_at[0] - started < 0.4, "the polite one closed on its own, in time"
    assert dropped(stubborn)
    with pytest.raises(ConnectionRefusedError):
        raw_client(port).close()


def test_shutdown__destroys_a_straight_line_handler_blocked_in_a_read(track: Any) -> None:
    # A handler blocked in readline() on a client that sends nothing: end()
    # does not finish it; after the timeout it is destroyed, which wakes the
    # blocked read, and shutdown returns.
    closes = Closes()
    woke: list[BaseException] = []
    handler_done = Event()

    def handler(conn: gnet.Socket) -> None:
        closes.watch(conn)
        try:
            conn.readline()
        except Exception as exc:  # noqa: BLE001 - recorded for the test
            woke.append(exc)
        finally:
            handler_done.set()

    server: gnet.Server = track(gnet.create_server(handler))
    port = listen_local(server)
    silent = track(raw_client(port))
    closes.wait_for(lambda: len(closes.watched) == 1)
    started = time.monotonic()
    server.shutdown(timeout=0.3)
    assert time.monotonic() - started < TIMEOUT
    assert server.connections == 0
    closes.wait_for(lambda: len(closes.calls) == 1)
    assert dropped(silent)
    assert handler_done.wait(TIMEOUT), "the blocked readline() was never woken"
    assert len(woke) == 1
    assert getattr(woke[0], "code", None) == "ERR_SOCKET_CLOSED", woke


@pytest.mark.parametrize("timeout", [None, 10.0])
def test_shutdown__idle_server_returns_at_once(track: Any, timeout: float | None) -> None:
    # API.md Server.shutdown(timeout): nothing to wait for.
    server: gnet.Server = track(gnet.create_server())
    port = listen_local(server)
    server_closes: list[float] = []
    server.on("close", lambda: server_closes.append(time.monotonic()))
    started = time.monotonic()
    with gevent.Timeout(TIMEOUT, AssertionError("shutdown of an idle server blocked")):
        server.shutdown(timeout=timeout)
    assert time.monotonic() - started < 0.5
    assert len(server_closes) == 1
    assert server.listening is False
    with pytest.raises(ConnectionRefusedError):
        raw_client(port).close()
