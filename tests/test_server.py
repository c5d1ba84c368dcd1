"""gnet.Server against Node's server-side net tests.

Each test ports one behaviour of a Node test (named in a comment above it:
test/parallel/... unless said otherwise) or pins one rule of NODE-NET.md
§2.A/§2.B, or a gnet server feature of API.md.  Expected values that Node's
tests do not spell out were checked against Node v20 with small scripts.

Listeners run in gnet's greenlets, where a failing ``assert`` would only be
logged, so listeners here just record (``Collector``) and the test body
asserts.
"""

from __future__ import annotations

import errno
import logging
import math
import os
import re
import socket
import stat
import time
import uuid
from collections.abc import Callable
from typing import Any

import gevent
import pytest
from gevent.event import Event

import gnet
from gnet.errors import NodeError
from support import needs_ipv6, port_of

T = 5.0  # seconds: the bound on every wait for an event




class Collector:
    """A listener that records each call's arguments; a test can wait for N calls."""

    def __init__(self) -> None:
        self.calls: list[tuple[Any, ...]] = []
        self._changed = Event()

    def __call__(self, *args: Any) -> None:
        self.calls.append(args)
        self._changed.set()

    def __len__(self) -> int:
        return len(self.calls)

    @property
    def firsts(self) -> list[Any]:
        """The first argument of each call (None for a call without arguments)."""
        return [call[0] if call else None for call in self.calls]

    def wait(self, n: int = 1, timeout: float = T) -> list[tuple[Any, ...]]:
        deadline = time.monotonic() + timeout
        while len(self.calls) < n:
            remaining = deadline - time.monotonic()
            self._changed.clear()
            if len(self.calls) >= n:
                break
            if remaining <= 0 or not self._changed.wait(remaining):
                raise AssertionError(f"{len(self.calls)} of {n} expected calls within {timeout} s")
        return self.calls


def give_a_chance(seconds: float = 0.05) -> None:
    """Let anything that is (wrongly) still scheduled run, before asserting it did not happen.

    Never used to wait *for* something: that is what events are for.
    """
    gevent.sleep(seconds)


def run_returns(timeout: float = T) -> bool:
    """Whether ``gnet.run()``, called now in another greenlet, returns within ``timeout``."""
    runner = gevent.spawn(gnet.run)
    try:
        runner.join(timeout)
        return runner.ready()
    finally:
        runner.kill()


def assert_run_idle_at_start() -> None:
    assert run_returns(1.0), (
        "gnet.run() blocks before this test opened anything: "
        "an earlier test left a server or socket holding a reference"
    )


def listen_local(server: gnet.Server) -> int:
    """Listen on 127.0.0.1:0, wait for 'listening', return the port."""
    server.listen(0, "127.0.0.1")
    gnet.once(server, "listening", timeout=T)
    return port_of(server)


def client(track: Callable[[Any], Any], *args: Any, errors: Collector | None = None) -> gnet.Socket:
    """A tracked gnet client with an 'error' listener (so a reset is recorded, not raised)."""
    sock: gnet.Socket = track(gnet.connect(*args))
    sock.on("error", errors if errors is not None else (lambda err: None))
    return sock


def raises_code(exc_type: type[BaseException], code: str, func: Callable[[], Any]) -> Any:
    with pytest.raises(exc_type) as info:
        func()
    assert isinstance(info.value, NodeError)
    assert info.value.code == code
    return info.value


def abstract_name() -> str:
    return f"\0gnet-test-{os.getpid()}-{uuid.uuid4().hex}"


# ==========================================================================
# gnet.run() and ref()/unref(): test-net-server-unref.js,
# test-net-server-unref-persistent.js, NODE-NET B9.
#
# run() waits on a process-wide count of referenced servers and sockets, so a
# reference leaked by any earlier test makes these fail too (each checks that
# run() is idle first, and says so).  They come first in the file so that a
# leak elsewhere does not hide what they check.


def test_server_unref__run_returns_when_only_unrefd_server_left(track: Any) -> None:
    # test-net-server-unref.js / API.md: gnet.run() returns once an unref'd
    # server is the only thing left.
    assert_run_idle_at_start()
    server: gnet.Server = track(gnet.create_server())
    listen_local(server)
    runner = gevent.spawn(gnet.run)
    try:
        give_a_chance()
        assert not runner.ready()  # a referenced listening server holds run()
        assert server.unref() is server
        runner.join(T)
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
        runner.join(T)
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
        give_a_chance()
        assert not runner.ready()
        server.close()
        runner.join(T)
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
    peer = client(track, port, "127.0.0.1")
    gnet.once(peer, "connect", timeout=T)
    peer.unref()
    socks.wait(1)
    runner = gevent.spawn(gnet.run)
    try:
        give_a_chance()
        assert not runner.ready()
        conn_closed = Collector()
        socks.firsts[0].on("close", conn_closed)
        socks.firsts[0].destroy()
        conn_closed.wait(1)
        runner.join(T)
        assert runner.ready()
    finally:
        runner.kill()


def test_listen__error_does_not_hold_run(track: Any) -> None:
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


# ==========================================================================
# test/parallel/test-net-server-close.js


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
    client(track, port, "127.0.0.1")
    client(track, port, "127.0.0.1")
    closed.wait(1)
    client_closes.wait(2)
    give_a_chance()
    assert sorted(events) == ["client", "client", "server"]
    assert destroyed_at_close == [[True, True]]
    assert server.connections == 0


def test_server_close__returns_the_server(track: Any) -> None:
    # test-net-server-close.js / test-net-server-reset.js: close() returns this.
    server: gnet.Server = track(gnet.create_server())
    listen_local(server)
    assert server.close() is server
    gnet.once(server, "close", timeout=T)


def test_server_close__keeps_existing_connections(track: Any) -> None:
    # NODE-NET B6: close() stops accepting at once (listening False, address()
    # None, new connects refused) but keeps the existing connection; 'close'
    # fires only once that connection has ended.
    server: gnet.Server = track(gnet.create_server(lambda conn: conn.pipe(conn)))
    port = listen_local(server)
    peer: gnet.Socket = track(gnet.open_connection(port, "127.0.0.1", timeout=T))
    peer.sendall(b"ping", timeout=T)
    assert peer.recv_exactly(4, timeout=T) == b"ping"

    closes = Collector()
    server.on("close", closes)
    server.close()
    assert server.listening is False
    assert server.address() is None
    with pytest.raises(ConnectionRefusedError) as info:
        gnet.open_connection(port, "127.0.0.1", timeout=T)
    assert info.value.code == "ECONNREFUSED"

    peer.sendall(b"again", timeout=T)
    assert peer.recv_exactly(5, timeout=T) == b"again"
    give_a_chance()
    assert closes.calls == []

    peer.end()
    closes.wait(1)
    assert server.connections == 0


# ==========================================================================
# test/parallel/test-net-listen-close-server.js


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
    give_a_chance()
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


def test_server_close_before_calling_lookup_callback__does_not_hold_run(track: Any) -> None:
    # The point of Node's test: the process exits, i.e. the closed server does
    # not keep the loop alive although its lookup was still pending.
    assert_run_idle_at_start()
    server: gnet.Server = track(gnet.create_server())
    server.listen(0, "localhost").close()
    gnet.once(server, "close", timeout=T)
    assert run_returns()


# ==========================================================================
# test/parallel/test-net-listen-close-server-callback-is-not-function.js


def test_listen_close_server_callback_is_not_function__close_still_emitted(track: Any) -> None:
    # close('bad argument') does not throw; 'close' is still emitted once; the
    # listen callback is never called.
    connections = Collector()
    server: gnet.Server = track(gnet.create_server(connections))
    closes, listening = Collector(), Collector()
    server.on("close", closes)
    server.listen(0, listening)
    server.close("bad argument")  # type: ignore[arg-type]
    closes.wait(1)
    give_a_chance()
    assert len(closes) == 1
    assert listening.calls == []
    assert connections.calls == []


# ==========================================================================
# test/parallel/test-net-server-call-listen-multiple-times.js


def test_server_call_listen_multiple_times__listen_again_after_error(track: Any) -> None:
    # First test: after an 'error' (EADDRINUSE) the server can listen right away.
    dummy: gnet.Server = track(gnet.create_server())
    dummy.listen()
    gnet.once(dummy, "listening", timeout=T)
    server: gnet.Server = track(gnet.create_server())
    errors, listening = Collector(), Collector()
    server.on("error", errors)
    server.listen(port_of(dummy))
    errors.wait(1)
    assert errors.firsts[0].code == "EADDRINUSE"
    server.listen(listening)
    listening.wait(1)
    assert server.listening is True
    assert port_of(server) != port_of(dummy)


def test_server_call_listen_multiple_times__second_listen_throws(track: Any) -> None:
    # Second test: listen() while listening raises ERR_SERVER_ALREADY_LISTEN
    # (a plain Error, not a TypeError/RangeError); the first listen still works.
    server: gnet.Server = track(gnet.create_server())
    listening = Collector()
    server.listen(listening)
    err = raises_code(gnet.Error, "ERR_SERVER_ALREADY_LISTEN", server.listen)
    assert not isinstance(err, (TypeError, ValueError))
    assert str(err) == "Listen method has been called more than once without closing."
    listening.wait(1)
    give_a_chance()
    assert len(listening) == 1


def test_server_call_listen_multiple_times__listen_after_close(track: Any) -> None:
    # Third test: after close() the server can listen again.
    server: gnet.Server = track(gnet.create_server())
    first, second = Collector(), Collector()

    def on_first() -> None:
        first()
        server.close()
        server.listen(second)

    server.listen(on_first)
    second.wait(1)
    assert len(first) == 1
    assert server.listening is True
    server.close()
    gnet.once(server, "close", timeout=T)


# ==========================================================================
# test/parallel/test-net-server-listen-options.js

NO_PORT_FORMS: dict[str, Callable[[gnet.Server, Callable[..., Any]], Any]] = {
    "listen()": lambda s, cb: s.listen().on("listening", cb),
    "listen(cb)": lambda s, cb: s.listen(cb),
    "listen(0)": lambda s, cb: s.listen(0).on("listening", cb),
    "listen({port: 0})": lambda s, cb: s.listen({"port": 0}).on("listening", cb),
}


@pytest.mark.parametrize("form", list(NO_PORT_FORMS))
def test_server_listen_options__random_port_forms(track: Any, form: str) -> None:
    # listen(), listen(cb), listen(port), listen({port}): a random port.
    server: gnet.Server = track(gnet.create_server())
    listening = Collector()
    NO_PORT_FORMS[form](server, listening)
    listening.wait(1)
    assert port_of(server) > 0
    server.close()
    gnet.once(server, "close", timeout=T)


PORT_FORMS: dict[str, Callable[[gnet.Server, Any, Callable[..., Any]], Any]] = {
    "listen({port}, cb)": lambda s, port, cb: s.listen({"port": port}, cb),
    "listen(port, cb)": lambda s, port, cb: s.listen(port, cb),
}


@pytest.mark.parametrize("port", ["0", 0, None], ids=["'0'", "0", "None"])
@pytest.mark.parametrize("form", list(PORT_FORMS))
def test_server_listen_options__arbitrary_unused_port(track: Any, form: str, port: Any) -> None:
    # listen('0' | 0 | undefined | null, cb) in both forms: a random port
    # (NODE-NET A6; Python's None stands for both undefined and null).
    server: gnet.Server = track(gnet.create_server())
    listening = Collector()
    returned = PORT_FORMS[form](server, port, listening)
    assert returned is server
    listening.wait(1)
    assert port_of(server) > 0


BAD_PORTS = [-1, math.nan, 123.456, 65536, math.inf, -math.inf]


@pytest.mark.parametrize("port", BAD_PORTS, ids=repr)
@pytest.mark.parametrize("form", list(PORT_FORMS))
def test_server_listen_options__invalid_port_throws(track: Any, form: str, port: Any) -> None:
    # Invalid ports raise ERR_SOCKET_BAD_PORT (a RangeError: ValueError) at
    # once; the callback is never called and nothing listens.
    server: gnet.Server = track(gnet.create_server())
    listening = Collector()
    raises_code(
        ValueError, "ERR_SOCKET_BAD_PORT", lambda: PORT_FORMS[form](server, port, listening)
    )
    give_a_chance()
    assert listening.calls == []
    assert server.listening is False


@pytest.mark.parametrize("port", [-1, 65536])
def test_server_listen_options__bad_port_message(track: Any, port: int) -> None:
    # Node's message for ERR_SOCKET_BAD_PORT from listen().
    server: gnet.Server = track(gnet.create_server())
    err = raises_code(ValueError, "ERR_SOCKET_BAD_PORT", lambda: server.listen(port))
    assert str(err) == f"options.port should be >= 0 and < 65536. Received type number ({port})."


def test_server_listen_options__port_beats_path_invalid_port(track: Any, sock_path: str) -> None:
    # In listen(options, cb) port takes precedence over path: {port: -1, path}
    # raises ERR_SOCKET_BAD_PORT (NODE-NET A5).
    server: gnet.Server = track(gnet.create_server())
    listening = Collector()
    raises_code(
        ValueError,
        "ERR_SOCKET_BAD_PORT",
        lambda: server.listen({"port": -1, "path": sock_path}, listening),
    )
    assert not os.path.exists(sock_path)


def test_server_listen_options__port_beats_path_listens_on_tcp(track: Any, sock_path: str) -> None:
    # NODE-NET A5: with both port and path, the server is a TCP server and no
    # socket file is created.
    server: gnet.Server = track(gnet.create_server())
    server.listen({"port": 0, "host": "127.0.0.1", "path": sock_path})
    gnet.once(server, "listening", timeout=T)
    assert isinstance(server.address(), dict)
    assert not os.path.exists(sock_path)


MUST_HAVE_PORT_OR_PATH = (
    r"^The argument 'options' must have the property \"port\" or \"path\"\. Received .+$"
)
OPTIONS_INVALID = r"^The argument 'options' is invalid\. Received .+$"

SHOULD_FAIL_TO_LISTEN = [
    # Node: listen(false) is listen({port: false}).
    (False, OPTIONS_INVALID),
    ({"port": False}, OPTIONS_INVALID),
    (True, OPTIONS_INVALID),
    ({"port": True}, OPTIONS_INVALID),
    # Invalid fd as listen(handle)
    ({"fd": -1}, MUST_HAVE_PORT_OR_PATH),
    # Invalid path in listen(options)
    ({"path": -1}, OPTIONS_INVALID),
    # Neither port nor path is specified in options
    ({}, MUST_HAVE_PORT_OR_PATH),
    ({"host": "localhost"}, MUST_HAVE_PORT_OR_PATH),
    ({"host": {"port": 3000}}, MUST_HAVE_PORT_OR_PATH),
    ({"exclusive": True}, MUST_HAVE_PORT_OR_PATH),
]


@pytest.mark.parametrize(
    ("options", "message"), SHOULD_FAIL_TO_LISTEN, ids=[repr(o) for o, _ in SHOULD_FAIL_TO_LISTEN]
)
def test_server_listen_options__should_fail_to_listen(
    track: Any, options: Any, message: str
) -> None:
    # shouldFailToListen(): ERR_INVALID_ARG_VALUE (a TypeError) with Node's
    # message, which depends on whether options has 'port' or 'path'.
    server: gnet.Server = track(gnet.create_server())
    listening = Collector()
    err = raises_code(TypeError, "ERR_INVALID_ARG_VALUE", lambda: server.listen(options, listening))
    assert re.match(message, str(err)), str(err)
    assert server.listening is False


@pytest.mark.parametrize("options", [{"path": ""}, {"port": []}, {"port": {}}], ids=repr)
def test_server_listen_options__invalid_option_values(track: Any, options: Any) -> None:
    # Beyond Node's list, same rule (checked on Node v20): an empty path or a
    # port of the wrong type is "invalid", not "missing".
    server: gnet.Server = track(gnet.create_server())
    err = raises_code(TypeError, "ERR_INVALID_ARG_VALUE", lambda: server.listen(options))
    assert re.match(OPTIONS_INVALID, str(err)), str(err)


@pytest.mark.parametrize("port", ["0", "0x0", " 0 ", "+0", "0.0"])
def test_server_listen_options__numeric_string_is_a_port(track: Any, port: str) -> None:
    # NODE-NET A7: a string that is a non-negative number is a port (Node's
    # Number()), not a path.
    server: gnet.Server = track(gnet.create_server())
    listening = Collector()
    server.listen(port, listening)
    listening.wait(1)
    assert isinstance(server.address(), dict)
    assert port_of(server) > 0


def test_server_listen_options__non_numeric_string_is_a_path(
    track: Any, tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # NODE-NET A7: listen('80x') listens on a UNIX socket relative to the cwd.
    monkeypatch.chdir(tmp_path)
    server: gnet.Server = track(gnet.create_server())
    listening = Collector()
    server.listen("80x", listening)
    listening.wait(1)
    assert server.address() == "80x"
    assert stat.S_ISSOCK(os.stat(tmp_path / "80x").st_mode)


def test_server_listen_options__keyword_arguments(track: Any) -> None:
    # API.md: listen(port=0, host=None, backlog=511, callback=None) in Python
    # keyword spelling.
    server: gnet.Server = track(gnet.create_server())
    listening = Collector()
    server.listen(port=0, host="127.0.0.1", backlog=16, callback=listening)
    listening.wait(1)
    assert server.address()["address"] == "127.0.0.1"  # type: ignore[index]


# ==========================================================================
# test/sequential/test-net-server-bind.js (backlog forms, NODE-NET A8)


def test_server_bind__port_host_backlog(track: Any) -> None:
    # listen(port, host, backlog, cb)
    server: gnet.Server = track(gnet.create_server())
    listening = Collector()
    server.listen(0, "127.0.0.1", 127, listening)
    listening.wait(1)
    assert server.address() == {"address": "127.0.0.1", "family": "IPv4", "port": port_of(server)}


@needs_ipv6
def test_server_bind__port_backlog(track: Any) -> None:
    # listen(port, backlog, cb): a number second argument is the backlog, not
    # a host; so the server listens on '::' like listen(port).
    server: gnet.Server = track(gnet.create_server())
    listening = Collector()
    server.listen(0, 127, listening)
    listening.wait(1)
    assert server.address()["address"] == "::"  # type: ignore[index]


def test_server_bind__path_backlog(track: Any, sock_path: str) -> None:
    # listen(path, backlog, cb)
    server: gnet.Server = track(gnet.create_server())
    listening = Collector()
    server.listen(sock_path, 5, listening)
    listening.wait(1)
    assert server.address() == sock_path


def test_server_bind__backlog_option(track: Any) -> None:
    # listen({port, host, backlog}, cb)
    server: gnet.Server = track(gnet.create_server())
    listening = Collector()
    server.listen({"port": 0, "host": "127.0.0.1", "backlog": 5}, listening)
    listening.wait(1)
    assert port_of(server) > 0


# ==========================================================================
# test/parallel/test-net-server-listen-path.js

PATH_FORMS: dict[str, Callable[[gnet.Server, str, Callable[..., Any]], Any]] = {
    "listen(path)": lambda s, p, cb: s.listen(p).on("listening", cb),
    "listen({path})": lambda s, p, cb: s.listen({"path": p}).on("listening", cb),
    "listen(path, cb)": lambda s, p, cb: s.listen(p, cb),
    "listen({path}, cb)": lambda s, p, cb: s.listen({"path": p}, cb),
}


@pytest.mark.parametrize("form", list(PATH_FORMS))
def test_server_listen_path__forms(track: Any, sock_path: str, form: str) -> None:
    server: gnet.Server = track(gnet.create_server())
    listening = Collector()
    PATH_FORMS[form](server, sock_path, listening)
    listening.wait(1)
    assert server.address() == sock_path
    assert stat.S_ISSOCK(os.stat(sock_path).st_mode)
    server.close()
    gnet.once(server, "close", timeout=T)


@pytest.mark.parametrize(
    ("options", "mode"),
    [
        ({}, 0o700),
        ({"readable_all": True}, 0o744),
        ({"writable_all": True}, 0o722),
        ({"readable_all": True, "writable_all": True}, 0o766),
        ({"readableAll": True, "writableAll": True}, 0o766),
    ],
    ids=["none", "readable_all", "writable_all", "both", "camelCase"],
)
def test_server_listen_path__readable_all_writable_all_chmod(
    track: Any, sock_path: str, options: dict[str, Any], mode: int
) -> None:
    # "Test pipe chmod": readableAll/writableAll chmod the socket file for
    # all users (NODE-NET J2).  Under umask 077 each flag is visible on its
    # own; the modes are what Node v20 produces.
    old_umask = os.umask(0o077)
    try:
        server: gnet.Server = track(gnet.create_server())
        listening = Collector()
        server.listen({"path": sock_path, **options}, listening)
    finally:
        os.umask(old_umask)
    listening.wait(1)
    assert stat.S_IMODE(os.stat(sock_path).st_mode) == mode


def test_server_listen_path__eaddrinuse_on_a_used_path(track: Any, sock_path: str) -> None:
    # "Test should emit 'error' events when listening fails": a second server
    # on a path in use gets EADDRINUSE with Node's message prefix; its
    # callback is never called; the first server keeps its file and works.
    server1: gnet.Server = track(gnet.create_server())
    server1.listen({"path": sock_path})
    gnet.once(server1, "listening", timeout=T)
    server2: gnet.Server = track(gnet.create_server())
    listening, errors = Collector(), Collector()
    server2.listen({"path": sock_path, "writable_all": True}, listening)
    server2.on("error", errors)
    errors.wait(1)
    err = errors.firsts[0]
    assert err.code == "EADDRINUSE"
    assert re.match(r"^listen EADDRINUSE: address already in use", str(err))
    assert str(err) == f"listen EADDRINUSE: address already in use {sock_path}"
    assert isinstance(err, OSError) and err.errno == errno.EADDRINUSE
    assert err.syscall == "listen"
    assert err.address == sock_path
    assert err.port == -1
    give_a_chance()
    assert listening.calls == []
    assert server2.listening is False
    assert stat.S_ISSOCK(os.stat(sock_path).st_mode)
    peer: gnet.Socket = track(gnet.open_connection(path=sock_path, timeout=T))
    assert peer.remote_address is None  # NODE-NET J5


def test_server_listen_path__eaddrinuse_on_a_stale_file(track: Any, sock_path: str) -> None:
    # NODE-NET J1: any existing file at the path gives EADDRINUSE; Node never
    # unlinks before binding.
    with open(sock_path, "w") as f:
        f.write("not a socket")
    server: gnet.Server = track(gnet.create_server())
    errors = Collector()
    server.on("error", errors)
    server.listen(sock_path)
    errors.wait(1)
    assert errors.firsts[0].code == "EADDRINUSE"
    with open(sock_path) as f:
        assert f.read() == "not a socket"


def test_server_listen_path__socket_file_removed_on_close(track: Any, sock_path: str) -> None:
    # API.md / NODE-NET J1: close() removes the socket file the server created.
    server: gnet.Server = track(gnet.create_server())
    server.listen(sock_path)
    gnet.once(server, "listening", timeout=T)
    assert os.path.exists(sock_path)
    server.close()
    gnet.once(server, "close", timeout=T)
    assert not os.path.exists(sock_path)


def test_server_listen_path__can_listen_again_after_close(track: Any, sock_path: str) -> None:
    # Because close() unlinked the file, the same path can be used again.
    server: gnet.Server = track(gnet.create_server())
    server.listen(sock_path)
    gnet.once(server, "listening", timeout=T)
    server.close()
    gnet.once(server, "close", timeout=T)
    again: gnet.Server = track(gnet.create_server())
    listening, errors = Collector(), Collector()
    again.on("error", errors)
    again.listen(sock_path, listening)
    listening.wait(1)
    assert errors.calls == []


def test_server_listen_path__abstract_socket(track: Any) -> None:
    # NODE-NET J4: a path starting with '\0' is a Linux abstract socket:
    # address() returns it, clients can connect, there is no file.
    name = abstract_name()
    server: gnet.Server = track(gnet.create_server(lambda conn: conn.end(b"hi")))
    listening = Collector()
    server.listen(name, listening)
    listening.wait(1)
    assert server.address() == name
    assert not os.path.exists(name[1:])
    peer: gnet.Socket = track(gnet.open_connection(path=name, timeout=T))
    assert peer.recv_exactly(2, timeout=T) == b"hi"


def test_server_listen_path__abstract_socket_eaddrinuse(track: Any) -> None:
    # Node v20: a second server on a used abstract name gets EADDRINUSE with
    # the name in the message.
    name = abstract_name()
    server1: gnet.Server = track(gnet.create_server())
    server1.listen(name)
    gnet.once(server1, "listening", timeout=T)
    server2: gnet.Server = track(gnet.create_server())
    errors = Collector()
    server2.on("error", errors)
    server2.listen(name)
    errors.wait(1)
    err = errors.firsts[0]
    assert err.code == "EADDRINUSE"
    assert str(err) == f"listen EADDRINUSE: address already in use {name}"


def test_server_listen_path__abstract_socket_freed_on_close(track: Any) -> None:
    # Nothing to unlink: once closed, the abstract name can be listened on again.
    name = abstract_name()
    server: gnet.Server = track(gnet.create_server())
    server.listen(name)
    gnet.once(server, "listening", timeout=T)
    server.close()
    gnet.once(server, "close", timeout=T)
    again: gnet.Server = track(gnet.create_server())
    listening = Collector()
    again.listen(name, listening)
    listening.wait(1)


@pytest.mark.parametrize("flag", ["readable_all", "writable_all", "readableAll"])
def test_server_listen_path__abstract_socket_rejects_chmod(track: Any, flag: str) -> None:
    # NODE-NET J2: readableAll/writableAll with an abstract path throw
    # ERR_INVALID_ARG_VALUE (Node's message, typo included).
    server: gnet.Server = track(gnet.create_server())
    err = raises_code(
        TypeError,
        "ERR_INVALID_ARG_VALUE",
        lambda: server.listen({"path": abstract_name(), flag: True}),
    )
    assert re.match(
        r"^The argument 'options' can not set readableAll or writableAllt to true "
        r"when path is abstract unix socket\. Received .+$",
        str(err),
    ), str(err)
    assert server.listening is False


def test_server_listen_path__abstract_socket_rejected_listen_does_not_hold_run(track: Any) -> None:
    # A listen() that raised left nothing listening, so nothing may keep
    # gnet.run() (Node's loop) alive.
    assert_run_idle_at_start()
    server: gnet.Server = track(gnet.create_server())
    with pytest.raises(TypeError):
        server.listen({"path": abstract_name(), "readable_all": True})
    assert run_returns()


def test_server_listen_path__handle_path_not_unlinked(track: Any, sock_path: str) -> None:
    # NODE-NET J1: a server given a handle (listen(handle)) does not unlink the
    # handle's path when it closes.
    raw: socket.socket = track(socket.socket(socket.AF_UNIX, socket.SOCK_STREAM))
    raw.bind(sock_path)
    raw.listen(8)
    server: gnet.Server = track(gnet.create_server(lambda conn: conn.resume().end(b"ok")))
    listening = Collector()
    server.listen(raw, listening)
    listening.wait(1)
    assert server.address() == sock_path
    peer: gnet.Socket = track(gnet.open_connection(path=sock_path, timeout=T))
    assert peer.recv_exactly(2, timeout=T) == b"ok"
    peer.destroy()
    server.close()
    gnet.once(server, "close", timeout=T)
    assert os.path.exists(sock_path)


# ==========================================================================
# test/parallel/test-net-better-error-messages-listen-path.js


def test_better_error_messages_listen_path__error_has_address(track: Any) -> None:
    # listen on a path in a missing directory: 'error' with e.address === path;
    # neither the connection listener nor the listen callback is called.
    fp = "/blah/fadfa"
    connections, listening, errors = Collector(), Collector(), Collector()
    server: gnet.Server = track(gnet.create_server(connections))
    server.listen(fp, listening)
    server.on("error", errors)
    errors.wait(1)
    err = errors.firsts[0]
    assert err.address == fp
    assert err.syscall == "listen"
    give_a_chance()
    assert listening.calls == [] and connections.calls == []
    assert server.listening is False


def test_better_error_messages_listen_path__code_is_eacces(track: Any) -> None:
    # Node v20 (libuv) reports a missing directory on listen(path) as EACCES,
    # "listen EACCES: permission denied /blah/fadfa", port -1.
    fp = "/blah/fadfa"
    server: gnet.Server = track(gnet.create_server())
    errors = Collector()
    server.on("error", errors)
    server.listen(fp)
    errors.wait(1)
    err = errors.firsts[0]
    assert err.code == "EACCES"
    assert str(err) == f"listen EACCES: permission denied {fp}"
    assert err.port == -1


# ==========================================================================
# test/parallel/test-net-better-error-messages-listen.js


def test_better_error_messages_listen__address_not_available(track: Any) -> None:
    # listen(1, '1.1.1.1') (not a local address): 'error' EADDRNOTAVAIL with
    # address, port, syscall and Node's message.
    server: gnet.Server = track(gnet.create_server())
    listening, errors = Collector(), Collector()
    server.listen(1, "1.1.1.1", listening)
    server.on("error", errors)
    errors.wait(1)
    err = errors.firsts[0]
    assert err.code == "EADDRNOTAVAIL"
    assert err.syscall == "listen"
    assert err.address == "1.1.1.1"
    assert err.port == 1
    assert str(err) == "listen EADDRNOTAVAIL: address not available 1.1.1.1:1"
    give_a_chance()
    assert listening.calls == []


# ==========================================================================
# test/parallel/test-net-server-max-connections.js


def test_server_max_connections__first_ten_get_data_rest_closed(track: Any) -> None:
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
        c = client(track, port, "127.0.0.1", errors=errors)
        c.on("data", lambda chunk, i=index: got_data.__setitem__(i, got_data.get(i, b"") + chunk))
        c.on("close", lambda had_error, i=index: closes(i))
        gnet.once(c, "connect", timeout=T)
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


# ==========================================================================
# test/parallel/test-net-server-drop-connections.js

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
    first = client(track, port, "127.0.0.1")
    connections.wait(1)
    second = client(track, port, "127.0.0.1")
    gnet.once(second, "connect", timeout=T)
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
    give_a_chance()
    assert len(connections) == 1
    assert first.destroyed is False


def test_server_drop_connections__dropped_client_sees_end_then_close(track: Any) -> None:
    # NODE-NET B4 (exp e12): the dropped client sees 'connect', 'end', then
    # 'close'(false); no 'connection' on the server.
    connections = Collector()
    server: gnet.Server = track(gnet.create_server(connections))
    server.max_connections = 1
    port = listen_local(server)
    client(track, port, "127.0.0.1")
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
    peer = client(track, port, "127.0.0.1")
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
    gnet.once(server, "listening", timeout=T)
    client(track, sock_path)
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
    client(track, listen_local(server), "127.0.0.1")
    drops.wait(1)
    assert connections.calls == []


# ==========================================================================
# test/parallel/test-net-server-max-connections-close-makes-more-available.js


def test_server_max_connections_close_makes_more_available(track: Any) -> None:
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


# ==========================================================================
# test/parallel/test-net-server-pause-on-connect.js


@pytest.mark.parametrize("key", ["pause_on_connect", "pauseOnConnect"])
def test_server_pause_on_connect__no_data_until_resume(track: Any, key: str) -> None:
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
    client(track, listen_local(server1), "127.0.0.1").write(msg, written)
    written.wait(1)
    server1_socks.wait(1)
    client(track, listen_local(server2), "127.0.0.1").write(msg)
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
    client(track, listen_local(server), "127.0.0.1").write(msg, written)
    written.wait(1)
    socks.wait(1)
    barrier: gnet.Socket = track(gnet.open_connection(listen_local(echo), "127.0.0.1", timeout=T))
    barrier.sendall(b"x", timeout=T)
    assert barrier.recv(timeout=T) == b"x"
    sock = socks.firsts[0]
    assert sock.bytes_read == len(msg)
    assert sock.readable_length == len(msg)


# ==========================================================================
# test/parallel/test-net-bind-twice.js


def test_bind_twice__eaddrinuse(track: Any) -> None:
    # A second server on the same port and host: 'error' EADDRINUSE (attached
    # after listen() returned: errors are emitted later, NODE-NET A3) with
    # Node's fields and message; its listen callback is not called.
    connections = Collector()
    server1: gnet.Server = track(gnet.create_server(connections))
    port = listen_local(server1)
    server2: gnet.Server = track(gnet.create_server(connections))
    listening, errors = Collector(), Collector()
    server2.listen(port, "127.0.0.1", listening)
    server2.on("error", errors)
    errors.wait(1)
    err = errors.firsts[0]
    assert err.code == "EADDRINUSE"
    assert isinstance(err, OSError) and err.errno == errno.EADDRINUSE
    assert err.syscall == "listen"
    assert err.address == "127.0.0.1"
    assert err.port == port
    assert str(err) == f"listen EADDRINUSE: address already in use 127.0.0.1:{port}"
    give_a_chance()
    assert listening.calls == [] and connections.calls == []


# ==========================================================================
# test/parallel/test-net-eaddrinuse.js


def test_eaddrinuse__message_contains_code(track: Any) -> None:
    # Both without a host: the second listen's error message has EADDRINUSE.
    server1: gnet.Server = track(gnet.create_server())
    server2: gnet.Server = track(gnet.create_server())
    errors = Collector()
    server2.on("error", errors)
    server1.listen(0)
    gnet.once(server1, "listening", timeout=T)
    server2.listen(port_of(server1))
    errors.wait(1)
    assert "EADDRINUSE" in str(errors.firsts[0])


# ==========================================================================
# test/parallel/test-net-server-try-ports.js


def test_server_try_ports__listen_another_port_after_eaddrinuse(track: Any) -> None:
    # EADDRINUSE once, then listen(0) on the same server succeeds.
    server1: gnet.Server = track(gnet.create_server(lambda sock: sock.destroy()))
    server2: gnet.Server = track(gnet.create_server(lambda sock: sock.destroy()))
    errors, listening = Collector(), Collector()
    server2.on("error", errors)
    port = listen_local(server1)
    server2.listen(port, "127.0.0.1")
    errors.wait(1)
    server2.listen(0, "127.0.0.1", listening)
    listening.wait(1)
    give_a_chance()
    assert len(errors) == 1
    assert server2.listening and server1.listening
    assert port_of(server2) != port


# ==========================================================================
# test/parallel/test-net-listening.js


def test_listening__false_true_false(track: Any) -> None:
    server: gnet.Server = track(gnet.create_server())
    states: list[bool] = [server.listening]
    closed = Collector()

    def on_listening() -> None:
        states.append(server.listening)
        server.close(lambda *args: (states.append(server.listening), closed()))

    server.listen(0, "127.0.0.1", on_listening)
    closed.wait(1)
    assert states == [False, True, False]


# ==========================================================================
# test/parallel/test-net-server-options.js


@pytest.mark.parametrize(
    ("options", "received"), [("path", "type string ('path')"), (0, "type number (0)")]
)
@pytest.mark.parametrize("factory", ["create_server", "Server"])
def test_server_options__non_object_options_throw(
    factory: str, options: Any, received: str
) -> None:
    # createServer('path') and createServer(0) throw ERR_INVALID_ARG_TYPE.
    make = getattr(gnet, factory)
    err = raises_code(TypeError, "ERR_INVALID_ARG_TYPE", lambda: make(options))
    assert str(err) == f'The "options" argument must be of type object. Received {received}'


def test_server_options__camel_case_alias() -> None:
    # API.md: createServer is the same function as create_server.
    assert gnet.createServer is gnet.create_server  # type: ignore[attr-defined]


# ==========================================================================
# test/parallel/test-net-listen-invalid-port.js

INVALID_PORT = 2**32 - 1  # -1 >>> 0

INVALID_PORT_FORMS: dict[str, Callable[[gnet.Server, Callable[..., Any]], Any]] = {
    "listen({port})": lambda s, cb: s.listen({"port": INVALID_PORT}, cb),
    "listen(port)": lambda s, cb: s.listen(INVALID_PORT, cb),
    "listen(port, host)": lambda s, cb: s.listen(INVALID_PORT, "0.0.0.0", cb),
}


@pytest.mark.parametrize("form", list(INVALID_PORT_FORMS))
def test_listen_invalid_port__every_form(track: Any, form: str) -> None:
    server: gnet.Server = track(gnet.create_server())
    listening = Collector()
    raises_code(
        ValueError, "ERR_SOCKET_BAD_PORT", lambda: INVALID_PORT_FORMS[form](server, listening)
    )
    give_a_chance()
    assert listening.calls == []


# ==========================================================================
# test/parallel/test-net-server-listen-remove-callback.js


def test_server_listen_remove_callback__fires_once_no_leftovers(track: Any) -> None:
    # The listen callback fires once; after close no 'listening' listener is
    # left; listening again with a new callback fires only that one.
    server: gnet.Server = track(gnet.create_server())
    calls: list[str] = []
    leftover: list[int] = []
    closes = Collector()

    def on_close() -> None:
        leftover.append(len(server.listeners("listening")))
        closes()

    def first() -> None:
        calls.append("first")
        server.close()

    def second() -> None:
        calls.append("second")
        server.close()

    server.on("close", on_close)
    server.listen(0, "127.0.0.1", first)
    server.once("close", lambda: server.listen(0, "127.0.0.1", second))
    closes.wait(2)
    give_a_chance()
    assert calls == ["first", "second"]
    assert leftover == [0, 0]


# ==========================================================================
# test/parallel/test-net-server-reset.js


def test_server_reset__clients_get_econnreset(track: Any) -> None:
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
    gnet.once(server, "listening", timeout=T)
    client(track, port_of(server), "127.0.0.1", errors=errors)
    client(track, port_of(server), "127.0.0.1", errors=errors)
    errors.wait(2)
    socket_closes.wait(2)
    server_closes.wait(1)
    assert [err.code for err in errors.firsts] == ["ECONNRESET", "ECONNRESET"]
    assert close_returned == [True]
    assert socket_closes.firsts == [False, False]  # NODE-NET G4: locally close(false)


# ==========================================================================
# test/sequential/test-net-server-address.js


def test_server_address__ipv4(track: Any) -> None:
    server: gnet.Server = track(gnet.create_server())
    errors, listening = Collector(), Collector()
    server.on("error", errors)
    server.listen(0, "127.0.0.1", listening)
    listening.wait(1)
    address = server.address()
    assert address == {"address": "127.0.0.1", "family": "IPv4", "port": address["port"]}  # type: ignore[index]
    assert isinstance(address["port"], int) and address["port"] > 0  # type: ignore[index]
    assert errors.calls == []


@needs_ipv6
def test_server_address__ipv6(track: Any) -> None:
    server: gnet.Server = track(gnet.create_server())
    listening = Collector()
    server.listen(0, "::1", listening)
    listening.wait(1)
    address = server.address()
    assert address == {"address": "::1", "family": "IPv6", "port": address["port"]}  # type: ignore[index]


@needs_ipv6
@pytest.mark.parametrize("form", ["listen(0, cb)", "listen(cb)"])
def test_server_address__no_host_is_ipv6_any(track: Any, form: str) -> None:
    # Without a host the server listens on '::' (NODE-NET A9), with or without
    # a (false-y) port.
    server: gnet.Server = track(gnet.create_server())
    listening = Collector()
    if form == "listen(0, cb)":
        server.listen(0, listening)
    else:
        server.listen(listening)
    listening.wait(1)
    address = server.address()
    assert address["address"] == "::"  # type: ignore[index]
    assert address["family"] == "IPv6"  # type: ignore[index]


@needs_ipv6
def test_server_address__no_host_is_dual_stack(track: Any) -> None:
    # NODE-NET A9: '::' is dual-stack, so IPv4 clients reach it.
    server: gnet.Server = track(gnet.create_server(lambda conn: conn.end(b"v4")))
    listening = Collector()
    server.listen(0, listening)
    listening.wait(1)
    peer: gnet.Socket = track(gnet.open_connection(port_of(server), "127.0.0.1", timeout=T))
    assert peer.recv_exactly(2, timeout=T) == b"v4"


@needs_ipv6
@pytest.mark.parametrize("key", ["ipv6_only", "ipv6Only"])
def test_listen_ipv6only__ipv4_connect_refused(track: Any, key: str) -> None:
    # test-net-listen-ipv6only.js / NODE-NET A10: ipv6Only on '::' refuses
    # IPv4 clients.
    server: gnet.Server = track(gnet.create_server())
    listening = Collector()
    server.listen({"port": 0, "host": "::", key: True}, listening)
    listening.wait(1)
    with pytest.raises(ConnectionRefusedError) as info:
        gnet.open_connection(port_of(server), "127.0.0.1", timeout=T)
    assert info.value.code == "ECONNREFUSED"


def test_server_address__none_before_listen_and_after_close(track: Any) -> None:
    # NODE-NET A17: address() is None before binding and after close.
    server: gnet.Server = track(gnet.create_server())
    assert server.address() is None
    listen_local(server)
    server.close()
    assert server.address() is None
    gnet.once(server, "close", timeout=T)
    assert server.address() is None


def test_server_address__unix_none_after_close(track: Any, sock_path: str) -> None:
    # API.md: None when not listening (Node v20 still returned the path).
    server: gnet.Server = track(gnet.create_server())
    server.listen(sock_path)
    gnet.once(server, "listening", timeout=T)
    server.close()
    gnet.once(server, "close", timeout=T)
    assert server.address() is None


# ==========================================================================
# NODE-NET §2.A: listen()


@pytest.mark.parametrize("form", ["port", "ip-host", "path"])
def test_listen__listening_is_never_synchronous(track: Any, sock_path: str, form: str) -> None:
    # A1: 'listening' and the listen callback fire later, never inside
    # listen(); a listener attached after listen() returned still gets it.
    server: gnet.Server = track(gnet.create_server())
    callback = Collector()
    if form == "port":
        server.listen(0, callback)
    elif form == "ip-host":
        server.listen(0, "127.0.0.1", callback)
    else:
        server.listen(sock_path, callback)
    assert callback.calls == []
    late = Collector()
    server.on("listening", late)
    late.wait(1)
    callback.wait(1)


@pytest.mark.parametrize("form", ["port", "ip-host", "path"])
def test_listen__address_works_immediately(track: Any, sock_path: str, form: str) -> None:
    # A2 / API.md: with no host, an IP-literal host or a path, the bind
    # happens inside listen(): listening and address() are set at once.
    server: gnet.Server = track(gnet.create_server())
    if form == "port":
        server.listen(0)
    elif form == "ip-host":
        server.listen(0, "127.0.0.1")
    else:
        server.listen(sock_path)
    assert server.listening is True
    address = server.address()
    if form == "path":
        assert address == sock_path
    else:
        assert isinstance(address, dict) and address["port"] > 0
        if form == "ip-host":
            assert address["address"] == "127.0.0.1"
    gnet.once(server, "listening", timeout=T)
    assert server.address() == address


def test_listen__host_name_is_resolved_first(track: Any) -> None:
    # A2: with a host name, nothing is bound until the lookup is done.
    server: gnet.Server = track(gnet.create_server())
    server.listen(0, "localhost")
    assert server.address() is None
    assert server.listening is False
    gnet.once(server, "listening", timeout=T)
    address = server.address()
    assert isinstance(address, dict)
    assert address["address"] in ("127.0.0.1", "::1")


def test_listen__host_lookup_error_is_emitted(track: Any) -> None:
    # A3: a DNS failure for the host is an 'error' event, not an exception.
    server: gnet.Server = track(gnet.create_server())
    errors = Collector()
    server.on("error", errors)
    server.listen(0, "does-not-exist.invalid")
    errors.wait(1)
    assert errors.firsts[0].code in ("ENOTFOUND", "EAI_AGAIN", "EAI_FAIL")
    assert server.listening is False


def test_listen__second_listen_during_lookup_supersedes(track: Any) -> None:
    # A11: listen() again while the first one's host lookup is pending does not
    # throw; only the second binds; 'listening' fires once and (as in Node v20)
    # both callbacks, being 'listening' listeners, run once.
    server: gnet.Server = track(gnet.create_server())
    cb1, cb2, listening = Collector(), Collector(), Collector()
    server.on("listening", listening)
    server.listen(0, "localhost", cb1)
    server.listen(0, "127.0.0.1", cb2)
    listening.wait(1)
    give_a_chance(0.2)  # room for the first lookup to come back
    assert len(listening) == 1
    assert len(cb1) == 1 and len(cb2) == 1
    assert server.address()["address"] == "127.0.0.1"  # type: ignore[index]


def test_listen__failed_listen_callback_fires_on_next_success(track: Any) -> None:
    # A12 (exp e21): the callback of a listen that failed stays a 'listening'
    # listener and fires, before the new one, on the next successful listen.
    a: gnet.Server = track(gnet.create_server())
    port = listen_local(a)
    b: gnet.Server = track(gnet.create_server())
    order: list[str] = []
    errors = Collector()
    b.on("error", errors)
    b.listen(port, "127.0.0.1", lambda: order.append("cb1"))
    errors.wait(1)
    done = Collector()
    b.listen(0, "127.0.0.1", lambda: (order.append("cb2"), done()))
    done.wait(1)
    assert order == ["cb1", "cb2"]


def test_listen__no_close_after_error(track: Any) -> None:
    # A14: a server 'error' is not followed by 'close'; afterwards listening is
    # False and address() None.
    a: gnet.Server = track(gnet.create_server())
    port = listen_local(a)
    b: gnet.Server = track(gnet.create_server())
    errors, closes = Collector(), Collector()
    b.on("error", errors)
    b.on("close", closes)
    b.listen(port, "127.0.0.1")
    errors.wait(1)
    give_a_chance()
    assert closes.calls == []
    assert b.listening is False
    assert b.address() is None


def test_listen__reuse_port(track: Any) -> None:
    # A15 / API.md: reusePort (SO_REUSEPORT) lets two servers share a port.
    a: gnet.Server = track(gnet.create_server())
    a.listen({"port": 0, "host": "127.0.0.1", "reuse_port": True})
    gnet.once(a, "listening", timeout=T)
    b: gnet.Server = track(gnet.create_server())
    errors, listening = Collector(), Collector()
    b.on("error", errors)
    b.listen({"port": port_of(a), "host": "127.0.0.1", "reusePort": True}, listening)
    listening.wait(1)
    assert errors.calls == []
    assert port_of(b) == port_of(a)


# --------------------------------------------------------------------------
# listen(handle): test-net-server-listen-handle.js (int in Node; API.md forms)
# and test-listen-fd-ebadf.js


def test_server_listen_handle__python_socket(track: Any) -> None:
    raw: socket.socket = track(socket.socket(socket.AF_INET, socket.SOCK_STREAM))
    raw.bind(("127.0.0.1", 0))
    raw.listen(8)
    server: gnet.Server = track(gnet.create_server(lambda conn: conn.end(b"ok")))
    listening = Collector()
    server.listen(raw, listening)
    listening.wait(1)
    assert port_of(server) == raw.getsockname()[1]
    peer: gnet.Socket = track(gnet.open_connection(port_of(server), "127.0.0.1", timeout=T))
    assert peer.recv_exactly(2, timeout=T) == b"ok"


def test_server_listen_handle__fd_option(track: Any) -> None:
    raw: socket.socket = track(socket.socket(socket.AF_INET, socket.SOCK_STREAM))
    raw.bind(("127.0.0.1", 0))
    raw.listen(8)
    server: gnet.Server = track(gnet.create_server(lambda conn: conn.end(b"fd")))
    listening = Collector()
    server.listen({"fd": raw.fileno()}, listening)
    listening.wait(1)
    assert port_of(server) == raw.getsockname()[1]
    peer: gnet.Socket = track(gnet.open_connection(port_of(server), "127.0.0.1", timeout=T))
    assert peer.recv_exactly(2, timeout=T) == b"fd"


def test_server_listen_handle__another_server(track: Any) -> None:
    # listen(server): the same listening socket; closing the second server
    # leaves the first one listening.
    first: gnet.Server = track(gnet.create_server(lambda conn: conn.end(b"1")))
    port = listen_local(first)
    second: gnet.Server = track(gnet.create_server(lambda conn: conn.end(b"2")))
    listening = Collector()
    second.listen(first, listening)
    listening.wait(1)
    assert port_of(second) == port
    second.close()
    gnet.once(second, "close", timeout=T)
    assert first.listening is True
    peer: gnet.Socket = track(gnet.open_connection(port, "127.0.0.1", timeout=T))
    assert peer.recv_exactly(1, timeout=T) == b"1"


def test_listen_fd_ebadf__not_a_socket(track: Any, tmp_path: Any) -> None:
    # test-listen-fd-ebadf.js: an fd that cannot listen gives an asynchronous
    # 'error' EINVAL ("listen EINVAL: invalid argument"), not an exception.
    path = tmp_path / "plain-file"
    path.write_text("x")
    fd = os.open(path, os.O_RDONLY)
    try:
        connections, errors = Collector(), Collector()
        server: gnet.Server = track(gnet.create_server(connections))
        server.listen({"fd": fd})
        server.on("error", errors)
        errors.wait(1)
        err = errors.firsts[0]
        assert err.code == "EINVAL"
        assert err.syscall == "listen"
        assert str(err) == "listen EINVAL: invalid argument"
        assert server.listening is False
    finally:
        os.close(fd)


def test_listen_fd_ebadf__closed_fd(track: Any) -> None:
    # test-listen-fd-ebadf.js: an fd that is not open gives 'error' EINVAL too.
    fd = os.open(os.devnull, os.O_RDONLY)
    os.close(fd)
    server: gnet.Server = track(gnet.create_server())
    errors = Collector()
    server.listen({"fd": fd})
    server.on("error", errors)
    errors.wait(1)
    assert errors.firsts[0].code == "EINVAL"
    assert server.listening is False


# ==========================================================================
# NODE-NET §2.B: connections, close(cb), getConnections


def test_server__connection_socket_state(track: Any) -> None:
    # B1: the 'connection' socket has socket.server === server and is readable
    # and writable.
    seen: list[tuple[Any, bool, bool]] = []
    done = Collector()
    server: gnet.Server = track(gnet.create_server())

    def on_connection(conn: gnet.Socket) -> None:
        seen.append((conn.server, conn.readable, conn.writable))
        done()

    server.on("connection", on_connection)
    client(track, listen_local(server), "127.0.0.1")
    done.wait(1)
    assert seen == [(server, True, True)]


def test_local_address_port__accepted_socket(track: Any) -> None:
    # test-net-local-address-port.js: the accepted socket's local address is
    # the server's, its remote address the client's.
    socks = Collector()
    server: gnet.Server = track(gnet.create_server(socks))
    port = listen_local(server)
    peer = client(track, port, "127.0.0.1")
    gnet.once(peer, "connect", timeout=T)
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
    peer = client(track, listen_local(server), "127.0.0.1")
    peer.resume()
    gnet.once(peer, "connect", timeout=T)
    peer.end()
    closed.wait(1)
    assert events == ["end", "finish", ("close", False)]
    server.close()
    gnet.once(server, "close", timeout=T)


def _kernel_socket(local_port: int, remote_port: int) -> socket.socket:
    """A dup of this process's TCP socket with these ports, to read its options."""
    for name in os.listdir("/proc/self/fd"):
        try:
            dup = os.dup(int(name))
        except OSError:
            continue
        try:
            sock = socket.socket(fileno=dup)
        except OSError:
            os.close(dup)
            continue
        try:
            if (
                sock.family in (socket.AF_INET, socket.AF_INET6)
                and sock.type == socket.SOCK_STREAM
                and sock.getsockname()[1] == local_port
                and sock.getpeername()[1] == remote_port
            ):
                return sock
        except OSError:
            pass
        sock.close()
    raise AssertionError(f"no socket {local_port} -> {remote_port}")


def _accepted_options(track: Any, options: dict[str, Any]) -> tuple[gnet.Socket, socket.socket]:
    socks = Collector()
    server: gnet.Server = track(gnet.create_server(options, socks))
    port = listen_local(server)
    peer = client(track, port, "127.0.0.1")
    gnet.once(peer, "connect", timeout=T)
    socks.wait(1)
    conn = socks.firsts[0]
    return conn, track(_kernel_socket(port, peer.local_port))


def test_server_options__accepted_sockets_default_options(track: Any) -> None:
    # B2 counterpart: without options, Nagle is on and keep-alive off.
    conn, raw = _accepted_options(track, {})
    assert raw.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) == 0
    assert raw.getsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE) == 0
    assert conn.allow_half_open is False


@pytest.mark.parametrize("spelling", ["snake", "camel"])
def test_server_options__accepted_sockets_inherit_options(track: Any, spelling: str) -> None:
    # B2: accepted sockets inherit allowHalfOpen, noDelay, keepAlive (the delay
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
    conn, raw = _accepted_options(track, options)
    assert raw.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) != 0
    assert raw.getsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE) != 0
    assert raw.getsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPIDLE) == 3
    assert conn.allow_half_open is True
    assert conn.writable_high_water_mark == 1024
    assert conn.readable_high_water_mark == 1024


def test_server__close_callback_not_running(track: Any) -> None:
    # B7 (exp e1): close(cb) on a server that never listened: 'close' is still
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
    # B7: every extra close() on a stopped server: each callback gets
    # ERR_SERVER_NOT_RUNNING once, and 'close' is emitted each time.
    server: gnet.Server = track(gnet.create_server())
    closes, cb1, cb2 = Collector(), Collector(), Collector()
    server.on("close", closes)
    server.close(cb1)
    server.close(cb2)
    closes.wait(2)
    give_a_chance()
    assert len(closes) == 2
    assert [err.code for err in cb1.firsts] == ["ERR_SERVER_NOT_RUNNING"]
    assert [err.code for err in cb2.firsts] == ["ERR_SERVER_NOT_RUNNING"]


def test_server__close_callback_after_listening_gets_no_error(track: Any) -> None:
    # B7: on success the callback is called with no argument (a callback that
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


def test_server__get_connections(track: Any) -> None:
    # B8 / API.md: getConnections(cb) calls back later with (None, count);
    # connections is the count too.
    socks = Collector()
    server: gnet.Server = track(gnet.create_server(socks))
    early = Collector()
    assert server.get_connections(early) is server  # before listen: no throw
    assert early.calls == []
    early.wait(1)
    assert early.calls == [(None, 0)]

    port = listen_local(server)
    client(track, port, "127.0.0.1")
    client(track, port, "127.0.0.1")
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


def test_server__connection_listener_return_does_not_close(track: Any) -> None:
    # API.md: returning from the connection listener does not close the socket.
    socks = Collector()
    server: gnet.Server = track(gnet.create_server(socks))
    peer: gnet.Socket = track(gnet.open_connection(listen_local(server), "127.0.0.1", timeout=T))
    socks.wait(1)
    give_a_chance()
    conn = socks.firsts[0]
    assert conn.destroyed is False
    conn.write(b"later")
    assert peer.recv_exactly(5, timeout=T) == b"later"


def test_server__blocking_connection_listener_does_not_stall_accepting(track: Any) -> None:
    # API.md: each connection has its own greenlet, so a connection listener
    # that blocks does not delay accepting (or serving) the next one.
    release = Event()
    seen = Collector()

    def handler(conn: gnet.Socket) -> None:
        seen(conn)
        if len(seen) == 1:
            release.wait(T)
        conn.end(b"served")

    server: gnet.Server = track(gnet.create_server(handler))
    port = listen_local(server)
    first = client(track, port, "127.0.0.1")
    first_data = Collector()
    first.on("data", first_data)
    seen.wait(1)
    try:
        second: gnet.Socket = track(gnet.open_connection(port, "127.0.0.1", timeout=T))
        assert second.recv_exactly(6, timeout=T) == b"served"
        assert len(seen) == 2
        assert first_data.calls == []
    finally:
        release.set()
    first_data.wait(1)
    assert first_data.firsts == [b"served"]


def test_server__listener_exception_destroys_only_that_connection(
    track: Any, caplog: pytest.LogCaptureFixture
) -> None:
    # API.md principle 6: an exception escaping the connection listener
    # destroys that connection ('close' with had_error True) and is logged on
    # "gnet"; the server keeps serving.
    closes = Collector()
    count: list[int] = []

    def handler(conn: gnet.Socket) -> None:
        conn.on("close", closes)
        count.append(1)
        if len(count) == 1:
            raise RuntimeError("boom in handler")
        conn.end(b"fine")

    server: gnet.Server = track(gnet.create_server(handler))
    port = listen_local(server)
    with caplog.at_level(logging.ERROR, logger="gnet"):
        bad = client(track, port, "127.0.0.1")
        bad.resume()
        closes.wait(1)
    assert closes.firsts == [True]
    assert "boom in handler" in caplog.text
    good: gnet.Socket = track(gnet.open_connection(port, "127.0.0.1", timeout=T))
    assert good.recv_exactly(4, timeout=T) == b"fine"
    assert server.listening is True


# ==========================================================================
# gnet server features (API.md): pause(msecs), context manager, shutdown, run()


def test_server_pause__delays_accepting(track: Any) -> None:
    # pause(msecs): no accepting for msecs, then the pending connection (held
    # in the kernel backlog) is accepted.
    socks = Collector()
    server: gnet.Server = track(gnet.create_server(socks))
    port = listen_local(server)
    assert server.pause(300) is server
    started = time.monotonic()
    peer = client(track, port, "127.0.0.1")
    gnet.once(peer, "connect", timeout=T)
    socks.wait(1)
    assert time.monotonic() - started >= 0.25
    assert peer.destroyed is False


def test_server_pause__accepts_immediately_when_not_paused(track: Any) -> None:
    # The counterpart: without pause() the connection is accepted at once.
    socks = Collector()
    server: gnet.Server = track(gnet.create_server(socks))
    port = listen_local(server)
    started = time.monotonic()
    client(track, port, "127.0.0.1")
    socks.wait(1)
    assert time.monotonic() - started < 0.25


@pytest.mark.parametrize(
    ("msecs", "exc_type", "code"),
    [(-1, ValueError, "ERR_OUT_OF_RANGE"), ("1000", TypeError, "ERR_INVALID_ARG_TYPE")],
)
def test_server_pause__validates_msecs(
    track: Any, msecs: Any, exc_type: type[BaseException], code: str
) -> None:
    server: gnet.Server = track(gnet.create_server())
    raises_code(exc_type, code, lambda: server.pause(msecs))


def test_server_context_manager__closes_on_exit(track: Any) -> None:
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
        gnet.open_connection(port, "127.0.0.1", timeout=T)


def test_server_context_manager__closes_on_exception(track: Any) -> None:
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
    gnet.once(closed_already, "close", timeout=T)


def test_server_shutdown__graceful(track: Any) -> None:
    # API.md shutdown(timeout): stop accepting, end() each connection, return
    # once the server emitted 'close'.
    server: gnet.Server = track(gnet.create_server(lambda conn: conn.pipe(conn)))
    port = listen_local(server)
    peer = client(track, port, "127.0.0.1")
    peer.resume()
    peer_closed = Collector()
    peer.on("close", peer_closed)
    gnet.once(peer, "connect", timeout=T)
    server_closed = Collector()
    server.on("close", server_closed)
    server.get_connections(lambda err, n: None)
    counted = Collector()
    server.get_connections(counted)
    counted.wait(1)
    assert counted.calls == [(None, 1)]
    started = time.monotonic()
    server.shutdown(timeout=T)
    assert time.monotonic() - started < T
    assert len(server_closed) == 1
    assert server.listening is False
    peer_closed.wait(1)
    assert peer_closed.firsts == [False]


def test_server_shutdown__destroys_stragglers_after_timeout(track: Any) -> None:
    # A connection that does not finish within the timeout is destroyed.
    server: gnet.Server = track(gnet.create_server(lambda conn: conn.resume()))
    port = listen_local(server)
    # allow_half_open: the client does not end its side when the server does.
    peer: gnet.Socket = track(
        gnet.connect({"port": port, "host": "127.0.0.1", "allow_half_open": True})
    )
    peer.on("error", lambda err: None)
    peer.resume()
    gnet.once(peer, "connect", timeout=T)
    socks = Collector()
    server.get_connections(socks)
    socks.wait(1)
    assert socks.calls == [(None, 1)]
    started = time.monotonic()
    server.shutdown(timeout=0.2)
    elapsed = time.monotonic() - started
    assert 0.15 <= elapsed < T
    assert server.connections == 0
    assert server.listening is False
