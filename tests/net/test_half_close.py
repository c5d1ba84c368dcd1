"""Half-close: end(), the FIN each way, allowHalfOpen, and writes around them.

'end' (the peer's FIN), 'finish' (ours sent), the automatic end() of a
socket without allowHalfOpen, writable/readable/readyState along the way,
and writes after our end() or after the peer's FIN.

Listeners run in gnet's greenlets, where a failing ``assert`` would only be
logged; so listeners record what they see and the test body asserts.
Each test names where its rule comes from: the Node test it ports
(test/parallel/... unless said otherwise), a NODE-NET.md rule, or API.md.
Node v20 is the baseline; expected values Node's tests do not spell out
were checked against v20 with small scripts.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import gevent
from gevent.event import AsyncResult, Event

import gnet
from support import (
    TIMEOUT,
    give_a_chance,
    names,
    port_of,
    record,
    waiter,
)

# ----------------------------------------------------------------------
# end() and 'finish'


def test_socket_end_callback__three_call_forms(server_factory: Any, track: Any) -> None:
    # test-net-socket-end-callback.js: end(cb), end(data, cb), end(data, enc, cb).
    srv = server_factory(lambda s: s.resume())
    calls: list[int] = []
    done = Event()

    def cb(index: int) -> Callable[..., None]:
        def called(*err: Any) -> None:
            calls.append(index)
            if len(calls) == 3:
                done.set()

        return called

    forms: list[tuple[Any, ...]] = [(cb(1),), ("foo", cb(2)), ("foo", "utf8", cb(3))]
    for args in forms:
        sock = track(gnet.create_connection(port_of(srv), "127.0.0.1"))
        sock.on("connect", lambda s=sock, a=args: s.end(*a))
    assert done.wait(TIMEOUT)
    assert sorted(calls) == [1, 2, 3]


def test_rule_e14__end_twice_and_end_after_finish(server_factory: Any, track: Any) -> None:
    # NODE-NET E14: end() returns the socket and may be called twice before
    # 'finish'; end(cb) after it gets ERR_STREAM_ALREADY_FINISHED.
    srv = server_factory(lambda s: s.resume())
    sock = track(gnet.connect(port_of(srv), "127.0.0.1"))
    log: list[Any] = []
    gnet.once(sock, "connect", timeout=TIMEOUT)
    assert sock.end(lambda *e: log.append("cb1")) is sock
    assert sock.end(lambda *e: log.append("cb2")) is sock
    gnet.once(sock, "finish", timeout=TIMEOUT)
    late = AsyncResult()
    sock.end(late.set)
    err = late.get(timeout=TIMEOUT)
    assert err.code == "ERR_STREAM_ALREADY_FINISHED"
    assert str(err) == "Cannot call end after a stream was finished"
    assert log == ["cb1", "cb2"]


def test_end_without_connect__callback_and_not_writable() -> None:
    # test-net-end-without-connect.js (current Node; NODE-NET E15): end() on a
    # socket that never connects does not throw, calls back, and is not writable.
    sock = gnet.Socket()
    writable_in_cb = AsyncResult()
    assert sock.end(lambda *err: writable_in_cb.set(sock.writable)) is sock
    assert sock.writable is False
    assert writable_in_cb.get(timeout=TIMEOUT) is False
    sock.destroy()


def test_socket_end_before_connect__still_closes(server_factory: Any, track: Any) -> None:
    # test-net-socket-end-before-connect.js: end() right after connect();
    # the shutdown waits for the connection and the socket still closes.
    srv = server_factory()
    sock = track(gnet.create_connection(port_of(srv)))
    closed = waiter(sock, "close")
    sock.end()
    assert closed.get(timeout=TIMEOUT) == (False,)


def test_rule_e9__write_after_own_end(server_factory: Any, track: Any) -> None:
    # NODE-NET E9: write() after our own end() -> False, destroyed at once,
    # both callbacks get ERR_STREAM_WRITE_AFTER_END, then 'error' and
    # 'close'(True); no 'finish'.
    srv = server_factory(lambda s: s.resume())
    sock = track(gnet.connect(port_of(srv), "127.0.0.1"))
    gnet.once(sock, "connect", timeout=TIMEOUT)
    log: list[Any] = []
    record(sock, ["finish", "error", "close"], log)
    closed = waiter(sock, "close")
    sock.end(lambda err=None: log.append(("end cb", err)))
    assert sock.write("x", lambda err=None: log.append(("write cb", err))) is False
    assert sock.destroyed is True
    closed.get(timeout=TIMEOUT)
    by_name = {entry[0]: entry[1] for entry in log}
    assert set(by_name) == {"end cb", "write cb", "error", "close"}
    err = by_name["write cb"]
    assert err.code == "ERR_STREAM_WRITE_AFTER_END"
    assert str(err) == "write after end"
    assert by_name["end cb"].code == "ERR_STREAM_WRITE_AFTER_END"
    assert by_name["error"][0].code == "ERR_STREAM_WRITE_AFTER_END"
    assert by_name["close"] == (True,)
    assert names(log)[-2:] == ["error", "close"]


def test_write_after_end_nt__epipe_in_callback(server_factory: Any, track: Any) -> None:
    # test-net-write-after-end-nt.js: a write in 'end' after our own end()
    # returns False; its callback gets EPIPE; 'error' comes only later.
    srv = server_factory(lambda s: s.end())
    seen: dict[str, Any] = {}
    cb_err = AsyncResult()
    error = AsyncResult()

    def on_connect() -> None:
        client.on("error", error.set)

        def on_end() -> None:
            seen["ret"] = client.write("hello", cb_err.set)
            seen["error_already"] = error.ready()
            seen["cb_already"] = cb_err.ready()

        client.on("end", on_end)
        client.end()

    client = track(gnet.connect(port_of(srv), "127.0.0.1", on_connect))
    err = cb_err.get(timeout=TIMEOUT)
    assert err.code == "EPIPE"
    assert isinstance(err, BrokenPipeError)
    assert str(err) == "This socket has been ended by the other party"
    assert error.get(timeout=TIMEOUT) is err
    assert seen == {"ret": False, "error_already": False, "cb_already": False}


# ----------------------------------------------------------------------
# the peer's FIN: 'end', and the automatic end() without allowHalfOpen


def test_rule_f6__event_order_when_the_client_ends_first(server_factory: Any, track: Any) -> None:
    # NODE-NET F1/F5/F6: client: connect, ready, data, finish, end,
    # close(False); server: data, end, finish, close(False); readyState along.
    server_log: list[Any] = []
    server_closed = Event()

    def on_connection(s: gnet.Socket) -> None:
        for name in ["data", "end", "finish", "close"]:
            s.on(name, lambda *a, n=name: server_log.append((n, s.ready_state)))
        s.on("data", lambda d: s.write(d))
        s.on("close", lambda had_error: server_closed.set())

    srv = server_factory(on_connection)
    c = track(gnet.connect(port_of(srv), "127.0.0.1"))
    log: list[Any] = [("start", c.ready_state)]
    for name in ["connect", "ready", "data", "end", "finish", "close"]:
        c.on(name, lambda *a, n=name: log.append((n, c.ready_state) + a))
    c.on("connect", lambda: c.write("x"))
    c.on("data", lambda d: (c.end(), log.append(("after end()", c.ready_state))))
    closed = waiter(c, "close")
    closed.get(timeout=TIMEOUT)
    assert server_closed.wait(TIMEOUT)
    assert log == [
        ("start", "opening"),
        ("connect", "open"),
        ("ready", "open"),
        ("data", "open", b"x"),
        ("after end()", "readOnly"),
        ("finish", "readOnly"),
        ("end", "closed"),
        ("close", "closed", False),
    ]
    assert server_log == [
        ("data", "open"),
        ("end", "writeOnly"),
        ("finish", "closed"),
        ("close", "closed"),
    ]


def test_end_destroyed__not_destroyed_when_end_fires(server_factory: Any, track: Any) -> None:
    # test-net-end-destroyed.js: neither side reads; the client's end()
    # reaches the server, whose automatic end() comes back as the client's 'end'.
    conns: list[Any] = []
    srv = server_factory(conns.append)
    sock = track(gnet.create_connection({"port": port_of(srv), "host": "127.0.0.1"}))
    destroyed_at_end = AsyncResult()

    def on_connect() -> None:
        sock.on("end", lambda: destroyed_at_end.set(sock.destroyed))
        sock.end()

    sock.on("connect", on_connect)
    assert destroyed_at_end.get(timeout=TIMEOUT) is False
    assert len(conns) == 1


def test_socket_close_after_end__close_waits_for_delayed_read(
    server_factory: Any, track: Any
) -> None:
    # test-net-socket-close-after-end.js: the server reads its data late;
    # 'close' must still come after 'end'.
    log: list[str] = []
    got: list[Any] = []
    closed = AsyncResult()

    def on_connection(sock: gnet.Socket) -> None:
        def read_late() -> None:
            # The scenario: Node's test reads only after a timer, so the data
            # and the FIN wait unread meanwhile.
            gevent.sleep(0.05)
            got.append(sock.recv(timeout=TIMEOUT))

        gevent.spawn(read_late)
        sock.on("end", lambda: log.append("end"))
        sock.on("close", lambda had_error: (log.append("close"), closed.set(had_error)))
        sock.end(b"foo")

    srv = server_factory(on_connection)
    client = track(gnet.create_connection(port_of(srv), "127.0.0.1"))
    client.on("connect", lambda: client.end(b"foo"))
    assert closed.get(timeout=TIMEOUT) is False
    assert got == [b"foo"]
    assert log == ["end", "close"]


def test_writable__still_writable_inside_end(track: Any, listen: Any) -> None:
    # test-net-writable.js: with allowHalfOpen false, the automatic end()
    # comes on the next tick, so 'end' listeners may still write.
    def on_connection(s: gnet.Socket) -> None:
        server.close()
        s.end()

    server = listen(on_connection, 0, "127.0.0.1")
    sock = track(gnet.connect(port_of(server), "localhost"))
    at_end = AsyncResult()

    def on_end() -> None:
        writable = sock.writable
        at_end.set((writable, sock.write("hello world")))

    sock.on("end", on_end)
    assert at_end.get(timeout=TIMEOUT) == (True, True)


def test_writable__write_inside_end_is_delivered(server_factory: Any, track: Any) -> None:
    # NODE-NET F2/E10: what an 'end' listener writes reaches the peer, then
    # FIN, 'finish' and 'close'(False).
    received: list[bytes] = []
    server_closed = AsyncResult()

    def on_connection(s: gnet.Socket) -> None:
        s.on("data", received.append)
        s.on("close", server_closed.set)
        s.end(b"bye")

    srv = server_factory(on_connection)
    sock = track(gnet.connect(port_of(srv), "127.0.0.1"))
    log: list[Any] = []
    record(sock, ["end", "finish", "close"], log)
    sock.on("end", lambda: log.append(("write", sock.write(b"in-end"))))
    sock.resume()
    gnet.once(sock, "close", timeout=TIMEOUT)
    assert server_closed.get(timeout=TIMEOUT) is False
    assert b"".join(received) == b"in-end"
    assert log == [("end", ()), ("write", True), ("finish", ()), ("close", (False,))]


def test_socket_write_after_fin_error__epipe_not_write_after_end(
    server_factory: Any, track: Any
) -> None:
    # test-socket-write-after-fin-error.js, as v20 behaves (NODE-NET E10):
    # without allowHalfOpen, a write after the automatic end() that follows
    # the peer's FIN fails with EPIPE "ended by the other party" (not
    # "write after end"); the socket is destroyed with that error.
    got: dict[str, Any] = {}
    server_closed = AsyncResult()

    def on_connection(sock: gnet.Socket) -> None:
        data: list[str] = []
        sock.set_encoding("utf8")
        sock.on("error", lambda err: got.setdefault("error", err))
        sock.on("data", data.append)
        sock.on("end", lambda: got.setdefault("server_data", "".join(data)))

        def on_finish() -> None:  # our automatic end() is done
            got["ret"] = sock.write("".join(data), lambda err: got.setdefault("cb", err))
            got["destroyed_at_once"] = sock.destroyed

        sock.on("finish", on_finish)
        sock.on("close", server_closed.set)

    srv = server_factory(on_connection)
    sock = track(gnet.connect(port_of(srv), "127.0.0.1"))
    client_data: list[str] = []
    sock.set_encoding("utf8")
    sock.on("data", client_data.append)
    client_ended = waiter(sock, "end")
    sock.write("hello1")
    sock.write("hello2")
    sock.write("hello3\n")
    sock.end("THUNDERMUSCLE!")
    assert server_closed.get(timeout=TIMEOUT) is True
    client_ended.get(timeout=TIMEOUT)
    assert client_data == []
    assert got["server_data"] == "hello1hello2hello3\nTHUNDERMUSCLE!"
    assert got["ret"] is False
    assert got["destroyed_at_once"] is True
    err = got["error"]
    assert err.code == "EPIPE"
    assert str(err) != "write after end"
    assert str(err) == "This socket has been ended by the other party"
    assert got["cb"] is err


# ----------------------------------------------------------------------
# allowHalfOpen


def test_allow_half_open__not_destroyed_at_end_or_finish(server_factory: Any, track: Any) -> None:
    # test-net-allow-half-open.js
    srv = server_factory(lambda s: s.end(bytes(1024)))
    sock = track(gnet.connect(port_of(srv), "127.0.0.1"))
    assert sock.allow_half_open is False
    sock.resume()
    seen: list[tuple[str, bool]] = []
    sock.on("end", lambda: seen.append(("end", sock.destroyed)))
    sock.on("finish", lambda: seen.append(("finish", sock.destroyed)))
    closed = waiter(sock, "close")
    assert closed.get(timeout=TIMEOUT) == (False,)
    assert seen == [("end", False), ("finish", False)]


def test_rule_f3__allow_half_open_write_only_after_end(server_factory: Any, track: Any) -> None:
    # NODE-NET F3: with allowHalfOpen, after 'end' the socket is writeOnly and
    # writes keep working until end().
    got: list[bytes] = []
    server_ended = Event()

    def on_connection(s: gnet.Socket) -> None:
        s.on("data", got.append)
        s.on("end", server_ended.set)
        s.end()

    srv = server_factory(on_connection)
    sock = track(gnet.connect({"port": port_of(srv), "host": "127.0.0.1", "allowHalfOpen": True}))
    assert sock.allow_half_open is True
    sock.resume()
    gnet.once(sock, "end", timeout=TIMEOUT)
    give_a_chance(0.02)  # for something that ends our side behind our back: nothing may
    assert (sock.readable, sock.writable, sock.ready_state) == (False, True, "writeOnly")
    assert sock.write("still here") is True
    closed = waiter(sock, "close")
    sock.end()
    assert closed.get(timeout=TIMEOUT) == (False,)
    assert server_ended.wait(TIMEOUT)
    assert b"".join(got) == b"still here"


def test_rule_f4__own_end_stays_read_only_until_peer_fin(server_factory: Any, track: Any) -> None:
    # NODE-NET F4: after our end() the socket stays open for reading
    # (readOnly) until the peer's FIN; only both halves destroy it.
    server_side = AsyncResult()

    def on_connection(s: gnet.Socket) -> None:
        s.on("end", lambda: server_side.set(s))
        s.resume()

    srv = server_factory(on_connection, allow_half_open=True)
    sock = track(gnet.connect(port_of(srv), "127.0.0.1"))
    got: list[bytes] = []
    sock.on("data", got.append)
    sock.end()
    gnet.once(sock, "finish", timeout=TIMEOUT)
    peer = server_side.get(timeout=TIMEOUT)
    give_a_chance(0.02)  # for a destroy that must not come before the peer's FIN
    assert sock.destroyed is False
    assert sock.ready_state == "readOnly"
    closed = waiter(sock, "close")
    peer.end(b"late reply")
    assert closed.get(timeout=TIMEOUT) == (False,)
    assert got == [b"late reply"]


def test_socket_write_after_fin__half_open_server_echoes_with_end(
    server_factory: Any, track: Any
) -> None:
    # test-socket-write-after-fin.js: an allowHalfOpen server gets everything
    # up to the FIN, then answers with end(data).
    expected = "hello1hello2hello3\nTHUNDERMUSCLE!"
    server_seen = AsyncResult()

    def on_connection(sock: gnet.Socket) -> None:
        data: list[str] = []
        sock.set_encoding("utf8")
        sock.on("data", data.append)

        def on_end() -> None:
            server_seen.set("".join(data))
            sock.end("".join(data))

        sock.on("end", on_end)

    srv = server_factory(on_connection, allow_half_open=True)
    sock = track(gnet.connect(port_of(srv), "127.0.0.1"))
    client_data: list[str] = []
    sock.set_encoding("utf8")
    sock.on("data", client_data.append)
    ended = waiter(sock, "end")
    closed = waiter(sock, "close")
    sock.write("hello1")
    sock.write("hello2")
    sock.write("hello3\n")
    sock.end("THUNDERMUSCLE!")
    ended.get(timeout=TIMEOUT)
    assert server_seen.get(timeout=TIMEOUT) == expected
    assert "".join(client_data) == expected
    assert closed.get(timeout=TIMEOUT) == (False,)


def test_connect_options_allowhalfopen__six_call_forms(server_factory: Any) -> None:
    # test-net-connect-options-allowhalfopen.js: an allowHalfOpen client stays
    # writable (not readable) after the server's FIN, in every call form.
    server_data: dict[int, bytes] = {}
    server_ends: list[int] = []
    server_closes: list[AsyncResult] = []

    def on_connection(sock: gnet.Socket) -> None:
        key = id(sock)
        server_data[key] = b""
        server_closes.append(waiter(sock, "close"))

        def on_data(chunk: bytes) -> None:
            server_data[key] += chunk

        sock.on("data", on_data)
        sock.on("end", lambda: server_ends.append(key))
        sock.end()

    srv = server_factory(on_connection, allow_half_open=True)
    opts = {"allow_half_open": True, "host": "127.0.0.1", "port": port_of(srv)}
    after_end: dict[int, tuple[bool, bool, bool]] = {}
    closes: dict[int, AsyncResult] = {}
    clients: list[gnet.Socket] = []

    def on_connect(index: int) -> Callable[[], None]:
        def connected() -> None:
            client = clients[index - 1]
            client.resume()

            def later() -> None:
                # As Node's test: a while after 'end' (nothing may end our
                # side meanwhile: the behaviour under test), write and end.
                gevent.sleep(0.05)
                after_end[index] = (client.readable, client.writable, client.write(str(index)))
                client.end()

            client.on("end", lambda: gevent.spawn(later))

        return connected

    forms: list[Callable[[int], gnet.Socket]] = [
        lambda i: gnet.connect(opts, on_connect(i)),
        lambda i: gnet.connect(opts).on("connect", on_connect(i)),
        lambda i: gnet.create_connection(opts, on_connect(i)),
        lambda i: gnet.create_connection(opts).on("connect", on_connect(i)),
        lambda i: gnet.Socket(opts).connect(opts, on_connect(i)),
        lambda i: gnet.Socket(opts).connect(opts).on("connect", on_connect(i)),
    ]
    try:
        for index, form in enumerate(forms, 1):
            client = form(index)
            clients.append(client)
            closes[index] = waiter(client, "close")
        for index in closes:
            assert closes[index].get(timeout=TIMEOUT) == (False,), index
        assert len(server_closes) == 6
        for server_closed in server_closes:
            assert server_closed.get(timeout=TIMEOUT) == (False,)
    finally:
        for client in clients:
            client.destroy()
    assert after_end == {i: (False, True, True) for i in range(1, 7)}
    assert sorted(server_data.values()) == [str(i).encode() for i in range(1, 7)]
    assert len(server_ends) == len(set(server_ends)) == 6
