"""Server.listen(): when it binds, 'listening', address(), listening again, errors, handles.

Call forms and argument checks are in test_listen_args.py, UNIX paths in
test_listen_unix.py.

Listeners run in gnet's greenlets, where a failing ``assert`` would only be
logged; so listeners record what they see and the test body asserts.
Each test names where its rule comes from: the Node test it ports
(test/parallel/... unless said otherwise), a NODE-NET.md rule, or API.md.
Node v20 is the baseline; expected values Node's tests do not spell out
were checked against v20 with small scripts.
"""

from __future__ import annotations

import errno
import os
import socket
from typing import Any

import pytest
from gevent.event import Event

import gnet
from support import (
    TIMEOUT,
    Collector,
    give_a_chance,
    listen_local,
    needs_ipv6,
    port_of,
    raises_code,
)

# ----------------------------------------------------------------------
# binding and 'listening' (NODE-NET A1-A3)


@pytest.mark.parametrize("form", ["port", "ip-host", "path"])
def test_listen__listening_is_never_synchronous(track: Any, sock_path: str, form: str) -> None:
    # NODE-NET A1: 'listening' and the listen callback fire later, never inside
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
    # NODE-NET A2 / API.md: with no host, an IP-literal host or a path, the bind
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
    gnet.once(server, "listening", timeout=TIMEOUT)
    assert server.address() == address


def test_listen__host_name_is_resolved_first(track: Any) -> None:
    # NODE-NET A2: with a host name, nothing is bound until the lookup is done.
    server: gnet.Server = track(gnet.create_server())
    server.listen(0, "localhost")
    assert server.address() is None
    assert server.listening is False
    gnet.once(server, "listening", timeout=TIMEOUT)
    address = server.address()
    assert isinstance(address, dict)
    assert address["address"] in ("127.0.0.1", "::1")


def test_listen__host_lookup_error_is_emitted(track: Any) -> None:
    # NODE-NET A3: a DNS failure for the host is an 'error' event, not an exception.
    server: gnet.Server = track(gnet.create_server())
    errors = Collector()
    server.on("error", errors)
    server.listen(0, "does-not-exist.invalid")
    errors.wait(1)
    assert errors.firsts[0].code in ("ENOTFOUND", "EAI_AGAIN", "EAI_FAIL")
    assert server.listening is False


def test_listening__false_true_false(track: Any) -> None:
    # test-net-listening.js: listening is False, True at 'listening', False after close.
    server: gnet.Server = track(gnet.create_server())
    states: list[bool] = [server.listening]
    closed = Collector()

    def on_listening() -> None:
        states.append(server.listening)
        server.close(lambda *args: (states.append(server.listening), closed()))

    server.listen(0, "127.0.0.1", on_listening)
    closed.wait(1)
    assert states == [False, True, False]


def test_server_listen_remove_callback__fires_once_no_leftovers(track: Any) -> None:
    # test-net-server-listen-remove-callback.js:
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
    give_a_chance()  # for a leftover callback firing again
    assert calls == ["first", "second"]
    assert leftover == [0, 0]


# ----------------------------------------------------------------------
# address()


def test_server_address__ipv4(track: Any) -> None:
    # sequential/test-net-server-address.js: listen(0, '127.0.0.1').
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
    # sequential/test-net-server-address.js: listen(0, '::1').
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
    peer: gnet.Socket = track(gnet.open_connection(port_of(server), "127.0.0.1", timeout=TIMEOUT))
    assert peer.recv_exactly(2, timeout=TIMEOUT) == b"v4"


@needs_ipv6
@pytest.mark.parametrize("key", ["ipv6_only", "ipv6Only"])
def test_listen_ipv6only__ipv4_connect_refused(track: Any, key: str) -> None:
    # test-net-listen-ipv6only.js / NODE-NET A10: ipv6Only on '::' refuses
    # IPv4 clients.
    # The IPv4 port of that number is free only if the listener is IPv6-only;
    # bound here without listening, no other process (a parallel test run)
    # can take it, and a connect to it is refused unless gnet answers.  A
    # client elsewhere may hold that number as its IPv4 ephemeral port (the
    # range port 0 draws from): then another port is tried.
    for _ in range(10):
        server: gnet.Server = track(gnet.create_server())
        listening = Collector()
        server.listen({"port": 0, "host": "::", key: True}, listening)
        listening.wait(1)
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as ipv4:
            try:
                ipv4.bind(("127.0.0.1", port_of(server)))
            except OSError as exc:
                if exc.errno != errno.EADDRINUSE:
                    raise
                server.close()
                continue
            with pytest.raises(ConnectionRefusedError) as info:
                track(gnet.open_connection(port_of(server), "127.0.0.1", timeout=TIMEOUT))
        assert info.value.code == "ECONNREFUSED"
        return
    pytest.fail("every IPv6-only port drawn was in use on 127.0.0.1")


def test_server_address__none_before_listen_and_after_close(track: Any) -> None:
    # NODE-NET A17: address() is None before binding and after close.
    server: gnet.Server = track(gnet.create_server())
    assert server.address() is None
    listen_local(server)
    server.close()
    assert server.address() is None
    gnet.once(server, "close", timeout=TIMEOUT)
    assert server.address() is None


# ----------------------------------------------------------------------
# listen() again


def test_server_call_listen_multiple_times__listen_again_after_error(track: Any) -> None:
    # test-net-server-call-listen-multiple-times.js.
    # First test: after an 'error' (EADDRINUSE) the server can listen right away.
    dummy: gnet.Server = track(gnet.create_server())
    dummy.listen()
    gnet.once(dummy, "listening", timeout=TIMEOUT)
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
    # test-net-server-call-listen-multiple-times.js.
    # Second test: listen() while listening raises ERR_SERVER_ALREADY_LISTEN
    # (a plain Error, not a TypeError/RangeError); the first listen still works.
    server: gnet.Server = track(gnet.create_server())
    listening = Collector()
    server.listen(listening)
    err = raises_code(gnet.Error, "ERR_SERVER_ALREADY_LISTEN", server.listen)
    assert not isinstance(err, (TypeError, ValueError))
    assert str(err) == "Listen method has been called more than once without closing."
    listening.wait(1)
    give_a_chance()  # for a second 'listening'
    assert len(listening) == 1


def test_server_call_listen_multiple_times__listen_after_close(track: Any) -> None:
    # test-net-server-call-listen-multiple-times.js.
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
    gnet.once(server, "close", timeout=TIMEOUT)


def test_listen__second_listen_during_lookup_supersedes(track: Any) -> None:
    # NODE-NET A11: listen() again while the first one's host lookup is pending does not
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
    # NODE-NET A12 (exp e21): the callback of a listen that failed stays a 'listening'
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


def test_server_try_ports__listen_another_port_after_eaddrinuse(track: Any) -> None:
    # test-net-server-try-ports.js:
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
    give_a_chance()  # for a second 'error'
    assert len(errors) == 1
    assert server2.listening and server1.listening
    assert port_of(server2) != port


# ----------------------------------------------------------------------
# listen errors


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
    give_a_chance()  # for a listen callback that must not come
    assert listening.calls == [] and connections.calls == []


def test_eaddrinuse__message_contains_code(track: Any) -> None:
    # test-net-eaddrinuse.js:
    # Both without a host: the second listen's error message has EADDRINUSE.
    server1: gnet.Server = track(gnet.create_server())
    server2: gnet.Server = track(gnet.create_server())
    errors = Collector()
    server2.on("error", errors)
    server1.listen(0)
    gnet.once(server1, "listening", timeout=TIMEOUT)
    server2.listen(port_of(server1))
    errors.wait(1)
    assert "EADDRINUSE" in str(errors.firsts[0])


def test_better_error_messages_listen__address_not_available(track: Any) -> None:
    # test-net-better-error-messages-listen.js:
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
    give_a_chance()  # for a listen callback that must not come
    assert listening.calls == []


def test_listen__no_close_after_error(track: Any) -> None:
    # NODE-NET A14: a server 'error' is not followed by 'close'; afterwards listening is
    # False and address() None.
    a: gnet.Server = track(gnet.create_server())
    port = listen_local(a)
    b: gnet.Server = track(gnet.create_server())
    errors, closes = Collector(), Collector()
    b.on("error", errors)
    b.on("close", closes)
    b.listen(port, "127.0.0.1")
    errors.wait(1)
    give_a_chance()  # for a 'close' that must not follow the error
    assert closes.calls == []
    assert b.listening is False
    assert b.address() is None


def test_listen__reuse_port(track: Any) -> None:
    # NODE-NET A15 / API.md: reusePort (SO_REUSEPORT) lets two servers share a port.
    a: gnet.Server = track(gnet.create_server())
    a.listen({"port": 0, "host": "127.0.0.1", "reuse_port": True})
    gnet.once(a, "listening", timeout=TIMEOUT)
    b: gnet.Server = track(gnet.create_server())
    errors, listening = Collector(), Collector()
    b.on("error", errors)
    b.listen({"port": port_of(a), "host": "127.0.0.1", "reusePort": True}, listening)
    listening.wait(1)
    assert errors.calls == []
    assert port_of(b) == port_of(a)


# ----------------------------------------------------------------------
# listen(handle)


def test_server_listen_handle__python_socket(track: Any) -> None:
    # test-net-server-listen-handle.js (an fd in Node; API.md: a Python socket).
    raw: socket.socket = track(socket.socket(socket.AF_INET, socket.SOCK_STREAM))
    raw.bind(("127.0.0.1", 0))
    raw.listen(8)
    server: gnet.Server = track(gnet.create_server(lambda conn: conn.end(b"ok")))
    listening = Collector()
    server.listen(raw, listening)
    listening.wait(1)
    assert port_of(server) == raw.getsockname()[1]
    peer: gnet.Socket = track(gnet.open_connection(port_of(server), "127.0.0.1", timeout=TIMEOUT))
    assert peer.recv_exactly(2, timeout=TIMEOUT) == b"ok"


def test_server_listen_handle__fd_option(track: Any) -> None:
    # test-net-server-listen-handle.js: listen({fd}).
    raw: socket.socket = track(socket.socket(socket.AF_INET, socket.SOCK_STREAM))
    raw.bind(("127.0.0.1", 0))
    raw.listen(8)
    server: gnet.Server = track(gnet.create_server(lambda conn: conn.end(b"fd")))
    listening = Collector()
    server.listen({"fd": raw.fileno()}, listening)
    listening.wait(1)
    assert port_of(server) == raw.getsockname()[1]
    peer: gnet.Socket = track(gnet.open_connection(port_of(server), "127.0.0.1", timeout=TIMEOUT))
    assert peer.recv_exactly(2, timeout=TIMEOUT) == b"fd"


def test_server_listen_handle_gnet_socket(track: Any) -> None:
    # API.md listen((handle, ...)): handle may be a listening Socket.
    raw = track(socket.socket(socket.AF_INET, socket.SOCK_STREAM))
    raw.bind(("127.0.0.1", 0))
    raw.listen(8)
    handle = track(gnet.Socket({"fd": os.dup(raw.fileno())}))
    handle.on("error", lambda err: None)
    server = track(gnet.create_server(lambda conn: conn.end(b"via socket")))
    listening = Event()
    server.listen(handle, listening.set)
    assert listening.wait(TIMEOUT)
    assert port_of(server) == raw.getsockname()[1]
    peer = track(gnet.open_connection(port_of(server), "127.0.0.1", timeout=TIMEOUT))
    assert peer.recv_exactly(10, timeout=TIMEOUT) == b"via socket"


def test_server_listen_handle__another_server(track: Any) -> None:
    # test-net-server-listen-handle.js (API.md forms):
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
    gnet.once(second, "close", timeout=TIMEOUT)
    assert first.listening is True
    peer: gnet.Socket = track(gnet.open_connection(port, "127.0.0.1", timeout=TIMEOUT))
    assert peer.recv_exactly(1, timeout=TIMEOUT) == b"1"


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
