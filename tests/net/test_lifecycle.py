"""A socket's end of life: destroy(), resetAndDestroy(), destroySoon(), 'error' and 'close'.

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
from gevent.event import AsyncResult

import gnet
from support import (
    TIMEOUT,
    closed_port,
    give_a_chance,
    names,
    port_of,
    record,
    waiter,
)

# ----------------------------------------------------------------------
# destroy()


def test_connect_destroy__close_without_connect() -> None:
    # test-net-connect-destroy.js: a never-connected socket still emits 'close'.
    sock = gnet.Socket()
    closed = waiter(sock, "close")
    assert sock.destroy() is sock
    assert sock.destroyed is True
    (had_error,) = closed.get(timeout=TIMEOUT)
    assert not had_error


def test_connect_immediate_destroy__no_connect_no_error() -> None:
    # test-net-connect-immediate-destroy.js
    server = gnet.create_server()
    server.listen(0)
    port = server.address()["port"]  # bound inside listen() (NODE-NET A2)
    log: list[Any] = []
    sock = gnet.connect(port, "127.0.0.1", lambda: log.append("connect callback"))
    record(sock, ["connect", "error", "close"], log)
    closed = waiter(sock, "close")
    server_closed = waiter(server, "close")
    server.close()
    sock.destroy()
    server_closed.get(timeout=TIMEOUT)
    closed.get(timeout=TIMEOUT)
    assert log == [("close", (False,))]


def test_rule_g1__destroy_with_error(server_factory: Any, track: Any) -> None:
    # NODE-NET G1: destroyed at once; 'error' after the call returns, then
    # 'close'(True); a second destroy(err2) is ignored.
    srv = server_factory()
    sock = track(gnet.connect(port_of(srv), "127.0.0.1"))
    gnet.once(sock, "connect", timeout=TIMEOUT)
    log: list[Any] = []
    record(sock, ["error", "close"], log)
    closed = waiter(sock, "close")
    boom = RuntimeError("boom")
    assert sock.destroy(boom) is sock
    assert sock.destroyed is True
    assert log == []  # nothing inside the call
    assert sock.destroy(RuntimeError("second")) is sock
    assert sock.errored is boom
    closed.get(timeout=TIMEOUT)
    assert log == [("error", (boom,)), ("close", (True,))]


@pytest.mark.parametrize("again", ["destroy", "reset_and_destroy"])
def test_socket_destroy_twice__one_close(again: str) -> None:
    # test-net-socket-destroy-twice.js / test-net-socket-reset-twice.js:
    # destroying again inside the 'error' listener still gives one 'close'.
    server = gnet.create_server()
    server.listen(0, "127.0.0.1")
    port = server.address()["port"]
    server.close()
    conn = gnet.create_connection(port, "127.0.0.1")
    log: list[Any] = []
    conn.on("error", lambda err: (log.append(("error", err.code)), getattr(conn, again)()))
    conn.on("close", lambda had_error: log.append(("close", had_error)))
    closed = waiter(conn, "close")
    closed.get(timeout=TIMEOUT)
    give_a_chance(0.02)  # for a second 'close' that must not come
    assert log == [("error", "ECONNREFUSED"), ("close", True)]


def test_rule_g6__destroy_soon(server_factory: Any, track: Any) -> None:
    # NODE-NET G6: destroySoon() ends, then destroys once finished.
    srv = server_factory(lambda s: s.resume())
    sock = track(gnet.connect(port_of(srv), "127.0.0.1"))
    gnet.once(sock, "connect", timeout=TIMEOUT)
    log: list[Any] = []
    sock.on("finish", lambda: log.append(("finish", sock.destroyed)))
    closed = waiter(sock, "close")
    sock.destroy_soon()
    assert (sock.writable, sock.destroyed, sock.ready_state) == (False, False, "readOnly")
    assert closed.get(timeout=TIMEOUT) == (False,)
    assert log == [("finish", False)]
    assert sock.destroyed is True


def test_rule_f7__had_error_flags(server_factory: Any, track: Any) -> None:
    # NODE-NET F7: 'close' had_error is True only when destroyed with an error.
    srv = server_factory()
    port = port_of(srv)
    plain = track(gnet.connect(port, "127.0.0.1"))
    gnet.once(plain, "connect", timeout=TIMEOUT)
    closed = waiter(plain, "close")
    plain.destroy()
    assert closed.get(timeout=TIMEOUT) == (False,)

    reset = track(gnet.connect(port, "127.0.0.1"))
    gnet.once(reset, "connect", timeout=TIMEOUT)
    closed = waiter(reset, "close")
    reset.reset_and_destroy()
    assert closed.get(timeout=TIMEOUT) == (False,)

    failed = track(gnet.connect(port, "127.0.0.1"))
    gnet.once(failed, "connect", timeout=TIMEOUT)
    failed.on("error", lambda err: None)
    closed = waiter(failed, "close")
    failed.destroy(RuntimeError("boom"))
    assert closed.get(timeout=TIMEOUT) == (True,)

    refused = track(gnet.connect(closed_port(), "127.0.0.1"))
    refused.on("error", lambda err: None)
    assert waiter(refused, "close").get(timeout=TIMEOUT) == (True,)


def test_after_close__methods_do_not_throw(server_factory: Any, track: Any) -> None:
    # test-net-after-close.js: the server ends at once; the client never
    # reads, but with nothing buffered the peer's FIN still ends it (v20).
    srv = server_factory(lambda s: s.end())
    c = track(gnet.create_connection(port_of(srv), "127.0.0.1"))
    closed = waiter(c, "close")
    assert closed.get(timeout=TIMEOUT) == (False,)
    assert c.pending  # Node: c._handle === null
    c.set_no_delay()
    c.set_keep_alive()
    assert c.buffer_size is None
    c.pause()
    c.resume()
    assert c.address() == {}
    assert c.remote_address is None
    assert c.remote_port is None


def test_rule_g7__methods_while_connecting_do_not_throw(server_factory: Any, track: Any) -> None:
    # NODE-NET G7 (test-net-during-close.js): nothing throws while connecting.
    srv = server_factory()
    sock = track(gnet.connect(port_of(srv), "127.0.0.1"))
    assert sock.remote_address is None
    assert sock.remote_port is None
    assert sock.remote_family is None
    assert sock.buffer_size == 0
    assert sock.address() == {}
    sock.set_no_delay()
    sock.set_keep_alive(True)
    sock.pause()
    sock.resume()
    gnet.once(sock, "connect", timeout=TIMEOUT)


# ----------------------------------------------------------------------
# resetAndDestroy()


def test_connect_reset__unconnected_socket_errors() -> None:
    # test-net-connect-reset.js: resetAndDestroy() without a handle ->
    # 'error' ERR_SOCKET_CLOSED, then 'close'.
    sock = gnet.Socket()
    log: list[Any] = []
    record(sock, ["error", "close"], log)
    closed = waiter(sock, "close")
    assert sock.reset_and_destroy() is sock
    closed.get(timeout=TIMEOUT)
    assert names(log) == ["error", "close"]
    err = log[0][1][0]
    assert err.code == "ERR_SOCKET_CLOSED"
    assert str(err) == "Socket is closed"


def test_socket_reset_send__peer_gets_econnreset(server_factory: Any) -> None:
    # test-net-socket-reset-send.js: resetAndDestroy() after connect -> the
    # peer's 'error' is ECONNRESET "read ECONNRESET".
    peer_error = AsyncResult()

    def on_connection(sock: gnet.Socket) -> None:
        sock.on("error", peer_error.set)

    srv = server_factory(on_connection)
    conn = gnet.create_connection(port_of(srv), "127.0.0.1")
    closed = waiter(conn, "close")
    gnet.once(conn, "connect", timeout=TIMEOUT)
    assert conn.reset_and_destroy() is conn
    err = peer_error.get(timeout=TIMEOUT)
    assert err.code == "ECONNRESET"
    assert isinstance(err, ConnectionResetError)
    assert err.syscall == "read"
    assert str(err) == "read ECONNRESET"
    closed.get(timeout=TIMEOUT)


def test_connect_reset_after_destroy__write_cb_destroyed_no_error(server_factory: Any) -> None:
    # test-net-connect-reset-after-destroy.js: resetAndDestroy().destroy()
    # returns the socket; locally no 'error' and 'close'(False); a later
    # write's callback gets ERR_STREAM_DESTROYED.
    peer_error = AsyncResult()
    srv = server_factory(lambda s: s.on("error", peer_error.set))
    conn = gnet.create_connection(port_of(srv), "127.0.0.1")
    closed = waiter(conn, "close")
    errors: list[Any] = []
    conn.on("error", errors.append)
    gnet.once(conn, "connect", timeout=TIMEOUT)
    assert conn.reset_and_destroy().destroy() is conn
    cb_err = AsyncResult()
    assert conn.write(b"fzfzfzfzfz", cb_err.set) is False
    err = cb_err.get(timeout=TIMEOUT)
    assert err.code == "ERR_STREAM_DESTROYED"
    assert str(err) == "Cannot call write after a stream was destroyed"
    assert closed.get(timeout=TIMEOUT) == (False,)
    assert peer_error.get(timeout=TIMEOUT).code == "ECONNRESET"
    assert errors == []


def test_socket_reset__unix_socket_throws(listen: Any, sock_path: str) -> None:
    # NODE-NET G4: resetAndDestroy() on a pipe throws ERR_INVALID_HANDLE_TYPE.
    listen(None, sock_path)
    sock = gnet.connect(sock_path)
    closed = waiter(sock, "close")
    gnet.once(sock, "connect", timeout=TIMEOUT)
    with pytest.raises(TypeError) as info:
        sock.reset_and_destroy()
    assert info.value.code == "ERR_INVALID_HANDLE_TYPE"  # type: ignore[attr-defined]
    sock.destroy()
    closed.get(timeout=TIMEOUT)
