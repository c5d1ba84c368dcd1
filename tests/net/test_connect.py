"""connect(): outcomes and errors (refused, local address and port, UNIX paths),
connecting again, and reconnecting a closed socket.

Argument checks and call forms are in test_connect_args.py, host lookups in
test_connect_lookup.py, Happy Eyeballs in test_connect_attempts.py.

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
from typing import Any

import pytest
from gevent.event import AsyncResult, Event

import gnet
from support import (
    TIMEOUT,
    closed_port,
    names,
    needs_ipv6,
    port_of,
    record,
    wait_until,
    waiter,
)

IS_ROOT = hasattr(os, "geteuid") and os.geteuid() == 0


# ----------------------------------------------------------------------
# connecting, and failing to


def test_rule_c6__connect_to_ip_literal_is_async(server_factory: Any, track: Any) -> None:
    # NODE-NET C6/C12 (test-net-socket-ready-without-cb.js): a listener added
    # after connect() returns still gets 'connect', then 'ready' at once.
    srv = server_factory()
    sock = track(gnet.connect(port_of(srv), "127.0.0.1"))
    log: list[Any] = []
    record(sock, ["lookup", "connect", "ready", "data"], log)
    ready = waiter(sock, "ready")
    ready.get(timeout=TIMEOUT)
    assert names(log) == ["connect", "ready"]


def test_connect_handle_econnrefused__error_not_connecting(track: Any) -> None:
    # sequential/test-net-connect-handle-econnrefused.js (+ NODE-NET C3/C4).
    port = closed_port()
    sock = track(gnet.create_connection(port, "127.0.0.1"))
    log: list[Any] = []
    sock.on("connect", lambda: log.append("connect"))
    sock.on("error", lambda err: log.append(("error", err, sock.connecting)))
    sock.on("close", lambda had_error: log.append(("close", had_error)))
    closed = waiter(sock, "close")
    assert closed.get(timeout=TIMEOUT) == (True,)
    assert [entry[0] for entry in log] == ["error", "close"]
    _, err, connecting = log[0]
    assert connecting is False
    assert err.code == "ECONNREFUSED"
    assert isinstance(err, ConnectionRefusedError)
    assert err.errno == errno.ECONNREFUSED
    assert err.syscall == "connect"
    assert err.address == "127.0.0.1"
    assert err.port == port
    assert str(err) == f"connect ECONNREFUSED 127.0.0.1:{port}"
    assert not hasattr(err, "localAddress")
    assert log[1] == ("close", True)


def _local_error_case(host: str, local: str, family: int, track: Any) -> None:
    port = closed_port("::1") if family == 6 else closed_port()
    local_port = closed_port("::1") if family == 6 else closed_port()
    options = {
        "host": host,
        "port": port,
        "localPort": local_port,
        "localAddress": local,
        "family": family,
    }
    sock = track(gnet.connect(options))
    (err,) = waiter(sock, "error").get(timeout=TIMEOUT)
    assert err.code in ("ECONNREFUSED", "EADDRINUSE")
    assert err.syscall == "connect"
    assert err.localPort == local_port
    assert err.localAddress == local
    assert str(err) == (
        f"connect {err.code} {err.address}:{err.port} - Local ({err.localAddress}:{err.localPort})"
    )
    assert (err.address, err.port) == (host, port)


def test_connect_local_error__ipv4(track: Any) -> None:
    # sequential/test-net-connect-local-error.js
    _local_error_case("127.0.0.1", "127.0.0.1", 4, track)


@needs_ipv6
def test_connect_local_error__ipv6(track: Any) -> None:
    # sequential/test-net-connect-local-error.js
    _local_error_case("::1", "::1", 6, track)


def test_localport__server_sees_chosen_port(server_factory: Any, track: Any) -> None:
    # sequential/test-net-localport.js (NODE-NET C13)
    remote_ports = AsyncResult()
    srv = server_factory(lambda s: (remote_ports.set(s.remote_port), s.end()))
    local_port = closed_port()
    client = track(
        gnet.connect({"host": "127.0.0.1", "port": port_of(srv), "localPort": local_port})
    )
    at_connect = AsyncResult()
    client.on("connect", lambda: at_connect.set(client.local_port))
    assert at_connect.get(timeout=TIMEOUT) == local_port
    assert remote_ports.get(timeout=TIMEOUT) == local_port


def test_client_bind_twice__local_port_in_use(server_factory: Any, track: Any) -> None:
    # test-net-client-bind-twice.js (NODE-NET C13): a local port already
    # taken by a listening server -> 'error' EADDRINUSE.
    srv = server_factory()
    taken = port_of(srv)
    target = server_factory()
    client = track(
        gnet.connect(
            {
                "host": "127.0.0.1",
                "port": port_of(target),
                "localAddress": "127.0.0.1",
                "localPort": taken,
            }
        )
    )
    (err,) = waiter(client, "error").get(timeout=TIMEOUT)
    assert err.code == "EADDRINUSE"


# ----------------------------------------------------------------------
# UNIX paths


def test_pipe_connect_errors__not_a_socket(tmp_path: Any, track: Any) -> None:
    # test-net-pipe-connect-errors.js: a regular file -> ENOTSOCK or ECONNREFUSED.
    path = tmp_path / "0.txt"
    path.write_text("")
    log: list[str] = []
    sock = track(gnet.create_connection(str(path), lambda: log.append("connect")))
    closed = waiter(sock, "close")
    (err,) = waiter(sock, "error").get(timeout=TIMEOUT)
    assert err.code in ("ENOTSOCK", "ECONNREFUSED")
    assert err.syscall == "connect"
    assert closed.get(timeout=TIMEOUT) == (True,)
    assert log == []


def test_pipe_connect_errors__missing_path_enoent(tmp_path: Any, track: Any) -> None:
    # test-net-pipe-connect-errors.js (+ test-net-better-error-messages-path.js)
    path = str(tmp_path / "no-ent-file")
    log: list[str] = []
    sock = track(gnet.create_connection(path, lambda: log.append("connect")))
    closed = waiter(sock, "close")
    (err,) = waiter(sock, "error").get(timeout=TIMEOUT)
    assert err.code == "ENOENT"
    assert isinstance(err, FileNotFoundError)
    assert str(err) == f"connect ENOENT {path}"
    assert closed.get(timeout=TIMEOUT) == (True,)
    assert log == []


@pytest.mark.skipif(IS_ROOT, reason="root ignores the socket file's mode (Node skips it too)")
def test_pipe_connect_errors__no_access_eacces(listen: Any, sock_path: str, track: Any) -> None:
    # test-net-pipe-connect-errors.js: a socket file with mode 0 -> EACCES.
    listen(None, sock_path)
    os.chmod(sock_path, 0)
    sock = track(gnet.create_connection(sock_path))
    (err,) = waiter(sock, "error").get(timeout=TIMEOUT)
    assert err.code == "EACCES"


# ----------------------------------------------------------------------
# connect() again, and reconnecting


def test_connect_again__while_connecting_fails_with_ealready(stalled_port: int) -> None:
    # Node v20 (checked): a second connect() on a connecting socket does not
    # throw; the socket gets 'error' EALREADY, then 'close'(true).
    conn = gnet.connect(stalled_port, "127.0.0.1")
    assert conn.connect(stalled_port, "127.0.0.1") is conn
    errors, closed = waiter(conn, "error"), waiter(conn, "close")
    assert errors.get(timeout=TIMEOUT)[0].code == "EALREADY"
    assert closed.get(timeout=TIMEOUT) == (True,)


def test_connect_again__while_connected_emits_connect_again(
    server_factory: Any, track: Any
) -> None:
    # Node v20 (checked): connect() on a connected socket emits 'connect'
    # again and the connection carries on.
    conn = track(gnet.connect(port_of(server_factory()), "127.0.0.1"))
    gnet.once(conn, "connect", timeout=TIMEOUT)
    called = Event()
    conn.connect(port_of(server_factory()), "127.0.0.1", called.set)
    assert called.wait(TIMEOUT)
    assert conn.ready_state == "open" and not conn.destroyed


def test_connect_again__after_destroy_reconnects_once_closed(
    server_factory: Any, track: Any
) -> None:
    # Node v20 (checked): connect() right after destroy(), before 'close',
    # does not throw; the socket connects again (gnet: once 'close' is out).
    port = port_of(server_factory())
    conn = track(gnet.connect(port, "127.0.0.1"))
    gnet.once(conn, "connect", timeout=TIMEOUT)
    events: list[str] = []
    conn.on("close", lambda had_error: events.append("close"))
    conn.destroy()
    reconnected = Event()
    conn.connect(port, "127.0.0.1", lambda: (events.append("connect"), reconnected.set()))
    assert reconnected.wait(TIMEOUT)
    assert events == ["close", "connect"]
    assert conn.ready_state == "open"


def test_reconnect__same_socket_fifty_times(server_factory: Any) -> None:
    # test-net-reconnect.js: reconnect the same Socket from its 'close'
    # listener; every close is clean and each connection sees one greeting.
    n = 50
    server_had_error: list[bool] = []

    def on_connection(sock: gnet.Socket) -> None:
        sock.resume()
        sock.write("hello\r\n")
        sock.on("end", lambda: sock.end())
        sock.on("close", server_had_error.append)

    srv = server_factory(on_connection)
    port = port_of(srv)
    client = gnet.create_connection(port, "127.0.0.1")
    client.set_encoding("UTF8")
    counts = {"recv": 0, "end": 0, "disconnect": 0}
    chunks: list[str] = []
    client_had_error: list[bool] = []
    done = Event()

    def on_data(chunk: str) -> None:
        counts["recv"] += 1
        chunks.append(chunk)
        client.end()

    def on_close(had_error: bool) -> None:
        client_had_error.append(had_error)
        counts["disconnect"] += 1
        if counts["disconnect"] <= n and not done.is_set():
            client.connect(port, "127.0.0.1")
        else:
            done.set()

    client.on("data", on_data)
    client.on("end", lambda: counts.__setitem__("end", counts["end"] + 1))
    client.on("close", on_close)
    try:
        assert done.wait(TIMEOUT * 2)
    finally:
        done.set()  # no more reconnecting
        client.destroy()
    assert counts == {"recv": n + 1, "end": n + 1, "disconnect": n + 1}
    assert set(chunks) == {"hello\r\n"}
    assert client_had_error == [False] * (n + 1)
    wait_until(lambda: len(server_had_error) == n + 1)  # every server side closed too
    assert server_had_error == [False] * len(server_had_error)


def test_reconnect__resumed_socket_stays_flowing(server_factory: Any) -> None:
    # NODE-NET C14/D6: reconnecting does not reset the flowing state (Node's
    # _undestroy keeps readableFlowing): a resume()d socket without 'data'
    # listeners keeps discarding, so each connection reaches 'end'.
    srv = server_factory(lambda s: s.end("hello"))
    port = port_of(srv)
    sock = gnet.connect(port, "127.0.0.1")
    sock.resume()
    ends: list[int] = []
    done = Event()
    sock.on("end", lambda: ends.append(sock.bytes_read))

    def on_close(had_error: bool) -> None:
        if len(ends) == 1 and not done.is_set():
            sock.connect(port, "127.0.0.1")
        else:
            done.set()

    sock.on("close", on_close)
    try:
        assert done.wait(TIMEOUT)
    finally:
        done.set()  # no more reconnecting
        sock.destroy()
    assert ends == [5, 5]


def test_bytes_stats__counters_restart_on_reconnect(server_factory: Any) -> None:
    # test-net-bytes-stats.js: 'foo' + 'bar' twice; the counters are per
    # connection (they restart on reconnect, NODE-NET C14/I6).
    server_read: list[int] = []

    def on_connection(s: gnet.Socket) -> None:
        s.resume()  # discard, Node's "old mode"
        s.on("end", lambda: server_read.append(s.bytes_read))

    srv = server_factory(on_connection)
    port = port_of(srv)
    written: list[int] = []
    sock = gnet.create_connection(port, "127.0.0.1")
    count = [0]
    done = Event()

    def on_connect() -> None:
        count[0] += 1
        sock.write("foo", lambda *err: sock.end("bar"))

    def on_close(had_error: bool) -> None:
        if count[0] < 2 and not done.is_set():
            sock.connect(port, "127.0.0.1")
        else:
            done.set()

    sock.on("connect", on_connect)
    sock.on("finish", lambda: written.append(sock.bytes_written))
    sock.on("close", on_close)
    try:
        assert done.wait(TIMEOUT)
    finally:
        done.set()  # no more reconnecting
        sock.destroy()
    wait_until(lambda: len(server_read) == 2)  # the server saw both ends
    assert written == [6, 6]
    assert server_read == [6, 6]
