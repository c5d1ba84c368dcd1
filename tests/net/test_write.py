"""Writing: write() arguments, callbacks, the write queue, high-water mark and 'drain', cork.

Ending (end(), writes after it) is in test_half_close.py.

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
import pytest
from gevent.event import AsyncResult, Event

import gnet
from support import (
    TIMEOUT,
    give_a_chance,
    listen_local,
    port_of,
    record,
    waiter,
)

# ----------------------------------------------------------------------
# write() arguments


def test_write_arguments__null_and_bad_types_throw() -> None:
    # test-net-write-arguments.js: thrown synchronously, never an 'error' event.
    sock = gnet.Socket({"high_water_mark": 0})
    errors: list[Any] = []
    sock.on("error", errors.append)
    with pytest.raises(TypeError) as info:
        sock.write(None)  # type: ignore[arg-type]
    assert info.value.code == "ERR_STREAM_NULL_VALUES"  # type: ignore[attr-defined]
    assert str(info.value) == "May not write null values to stream"
    for value in [True, False, 1, 1.0, float("inf"), float("-inf"), [], {}, object()]:
        with pytest.raises(TypeError) as info:
            sock.write(value)  # type: ignore[arg-type]
        assert info.value.code == "ERR_INVALID_ARG_TYPE", value  # type: ignore[attr-defined]
        assert str(info.value).startswith(
            'The "chunk" argument must be of type string or an instance of Buffer'
        ), value
    gevent.sleep(0)
    assert errors == []
    assert sock.destroyed is False
    sock.destroy()


def test_write_arguments__bytes_like_and_str_accepted(server_factory: Any, track: Any) -> None:
    # NODE-NET E1: str (utf8 by default), bytes, bytearray and memoryview.
    received: list[bytes] = []
    server_closed = AsyncResult()

    def on_connection(s: gnet.Socket) -> None:
        s.on("data", received.append)
        s.on("close", server_closed.set)

    srv = server_factory(on_connection)
    sock = track(gnet.connect(port_of(srv), "127.0.0.1"))
    sock.write("é")
    sock.write(b"b")
    sock.write(bytearray(b"c"))
    sock.write(memoryview(b"d"))
    sock.write("ff", "hex")
    sock.end()
    sock.resume()
    assert server_closed.get(timeout=TIMEOUT) is False
    assert b"".join(received) == "é".encode() + b"bcd\xff"


# ----------------------------------------------------------------------
# callbacks


def test_rule_e4__write_callbacks_async_and_in_order(server_factory: Any, track: Any) -> None:
    # NODE-NET E4/E14: never called synchronously; in write order; end()'s
    # callback runs before the 'finish' listeners.
    srv = server_factory(lambda s: s.resume())
    sock = track(gnet.connect(port_of(srv), "127.0.0.1"))
    gnet.once(sock, "connect", timeout=TIMEOUT)
    log: list[str] = []
    in_call = [True]

    def cb(name: str) -> Callable[..., None]:
        return lambda *err: log.append(name + (" (sync!)" if in_call[0] else ""))

    sock.write("a", cb("w1"))
    sock.write(b"b" * 100_000, cb("w2"))
    sock.write("c", "utf8", cb("w3"))
    assert sock.end(cb("end")) is sock
    sock.on("finish", lambda: log.append("finish"))
    in_call[0] = False
    gnet.once(sock, "finish", timeout=TIMEOUT)
    assert log == ["w1", "w2", "w3", "end", "finish"]


def test_write_callback__every_python_shape_is_called_right(
    server_factory: Any, track: Any
) -> None:
    # Node calls a write callback with nothing on success; gnet calls each
    # shape the way it can take it, also when the same code comes again
    # (the shape is cached per code object).
    calls: list[Any] = []

    class Holder:
        def method(self, err: Any) -> None:
            calls.append(("method", err))

    conn = track(gnet.connect(port_of(server_factory(lambda c: c.resume())), "127.0.0.1"))
    gnet.once(conn, "connect", timeout=TIMEOUT)
    for i in range(2):
        conn.write(b"a", lambda i=i: calls.append(("none", i)))
        conn.write(b"b", lambda err, i=i: calls.append(("err", i, err)))
        conn.write(b"c", lambda *args, i=i: calls.append(("args", i, args)))
        conn.write(b"d", Holder().method)
    done = Event()
    conn.write(b"e", done.set)
    assert done.wait(TIMEOUT)
    assert calls == [
        ("none", 0), ("err", 0, None), ("args", 0, ()), ("method", None),
        ("none", 1), ("err", 1, None), ("args", 1, ()), ("method", None),
    ]  # fmt: skip
    failed: AsyncResult = AsyncResult()
    conn.destroy()
    conn.write(b"x", lambda *args: failed.set(args))
    assert failed.get(timeout=TIMEOUT)[0].code == "ERR_STREAM_DESTROYED"


def test_write_slow__all_callbacks_and_data_arrive(server_factory: Any, track: Any) -> None:
    # test-net-write-slow.js: 10 x 200 KB writes to a reader that pauses after
    # each chunk; every callback runs and every byte arrives.
    size, count = 200_000, 10
    state = {"flushed": 0, "timeouts": 0}

    def on_connection(sock: gnet.Socket) -> None:
        sock.set_no_delay()
        sock.set_timeout(1000)
        sock.on("timeout", lambda: state.__setitem__("timeouts", state["timeouts"] + 1))

        def flushed(*err: Any) -> None:
            state["flushed"] += 1
            if state["flushed"] == count:
                sock.set_timeout(0)

        for _ in range(count):
            sock.write(b"a" * size, flushed)
        sock.end()

    srv = server_factory(on_connection)
    conn = track(gnet.connect(port_of(srv), "127.0.0.1"))
    received = [0]

    def resume_later() -> None:
        # The scenario (Node's test resumes from a timer): a reader that
        # keeps the writer waiting a little after each chunk.
        gevent.sleep(0.005)
        conn.resume()

    def on_data(chunk: bytes) -> None:
        received[0] += len(chunk)
        conn.pause()
        gevent.spawn(resume_later)

    conn.on("data", on_data)
    gnet.once(conn, "end", timeout=TIMEOUT * 2)
    assert received[0] == size * count
    assert state == {"flushed": count, "timeouts": 0}


# ----------------------------------------------------------------------
# writes before the connection, after destroy()


def test_write_connect_write__before_and_at_connect_in_order(
    server_factory: Any, track: Any
) -> None:
    # test-net-write-connect-write.js: a write queued before connecting and
    # one made at 'connect' arrive in order (echo server: sock.pipe(sock)).
    srv = server_factory(lambda s: s.pipe(s))
    conn = track(gnet.connect(port_of(srv), "127.0.0.1"))
    received: list[str] = []
    conn.set_encoding("utf8")
    conn.write("before")
    conn.on("connect", lambda: conn.write("after"))

    def on_data(chunk: str) -> None:
        received.append(chunk)
        conn.end()

    conn.on("data", on_data)
    gnet.once(conn, "end", timeout=TIMEOUT)
    assert "".join(received) == "beforeafter"


def test_rule_e5__callbacks_of_writes_before_connect_run_after_it(
    server_factory: Any, track: Any
) -> None:
    # NODE-NET E5 (test-net-connect-buffer.js)
    srv = server_factory(lambda s: s.resume())
    sock = track(gnet.connect(port_of(srv), "127.0.0.1"))
    log: list[str] = []
    sock.write("one", lambda *err: log.append("cb1"))
    sock.write("two", lambda *err: log.append("cb2"))
    sock.on("connect", lambda: log.append("connect"))
    assert sock.pending and sock.connecting and sock.ready_state == "opening"
    assert sock.bytes_written == 6
    finished = waiter(sock, "finish")
    sock.end()
    finished.get(timeout=TIMEOUT)
    assert log == ["connect", "cb1", "cb2"]


def test_write_cb_on_destroy_before_connect(server_factory: Any) -> None:
    # test-net-write-cb-on-destroy-before-connect.js
    srv = server_factory()
    sock = gnet.Socket()
    log: list[Any] = []
    record(sock, ["connect", "error"], log)
    closed = waiter(sock, "close")
    sock.connect({"port": port_of(srv), "host": "127.0.0.1"})
    assert sock.connecting is True
    cb_err = AsyncResult()
    sock.write("foo", cb_err.set)
    sock.destroy()
    err = cb_err.get(timeout=TIMEOUT)
    assert err.code == "ERR_SOCKET_CLOSED_BEFORE_CONNECTION"
    assert str(err) == "Socket closed before the connection was established"
    assert isinstance(err, gnet.Error)
    assert closed.get(timeout=TIMEOUT) == (False,)
    assert log == []


def test_socket_destroy_send__write_after_destroy(server_factory: Any) -> None:
    # test-net-socket-destroy-send.js (v20; NODE-NET E11): destroy() returns
    # the socket even when it short-circuits; a later write's callback gets
    # ERR_STREAM_DESTROYED and no 'error' is emitted.
    srv = server_factory()
    conn = gnet.create_connection(port_of(srv), "127.0.0.1")
    closed = waiter(conn, "close")
    gnet.once(conn, "connect", timeout=TIMEOUT)
    assert conn.destroy().destroy() is conn
    errors: list[Any] = []
    conn.on("error", errors.append)
    cb_err = AsyncResult()
    assert conn.write(b"kaboom", cb_err.set) is False
    err = cb_err.get(timeout=TIMEOUT)
    assert err.code == "ERR_STREAM_DESTROYED"
    assert str(err) == "Cannot call write after a stream was destroyed"
    assert closed.get(timeout=TIMEOUT) == (False,)
    assert errors == []


def test_error_twice__one_error_per_socket(server_factory: Any, track: Any) -> None:
    # test-net-error-twice.js: the peer is destroyed during a 10 MB write;
    # the writing socket emits exactly one 'error'.
    errors: list[BaseException] = []
    server_side = AsyncResult()

    def on_connection(conn: gnet.Socket) -> None:
        conn.on("error", errors.append)
        server_side.set(conn)

    srv = server_factory(on_connection)
    client = track(gnet.connect({"port": port_of(srv), "host": "127.0.0.1"}))
    gnet.once(client, "connect", timeout=TIMEOUT)
    conn = server_side.get(timeout=TIMEOUT)
    closed = waiter(conn, "close")
    client.destroy()
    conn.write(b"b" * (10 * 1024 * 1024))
    assert closed.get(timeout=TIMEOUT) == (True,)
    give_a_chance(0.01)  # for a second 'error' that must not come
    assert len(errors) == 1
    assert getattr(errors[0], "code", None) in ("EPIPE", "ECONNRESET")


# ----------------------------------------------------------------------
# the write queue: bufferSize, high-water mark, 'drain'


def test_buffersize__counts_queued_writes(server_factory: Any, track: Any) -> None:
    # test-net-buffersize.js: writes queued while connecting count in
    # bufferSize; it is back to 0 at 'finish'.
    srv = server_factory(lambda s: s.resume())
    client = track(gnet.connect(port_of(srv), "127.0.0.1"))
    at_finish = AsyncResult()
    client.on("finish", lambda: at_finish.set(client.buffer_size))
    sizes = []
    for _ in range(1, 10):
        client.write("a")
        sizes.append(client.buffer_size)
    assert client.bufferSize == client.buffer_size
    client.end()
    assert sizes == list(range(1, 10))
    assert at_finish.get(timeout=TIMEOUT) == 0


def test_buffersize__none_without_handle() -> None:
    # NODE-NET E7/I2: bufferSize is undefined (None) when there is no handle.
    sock = gnet.Socket()
    assert sock.buffer_size is None
    assert sock.writable_length == 0
    sock.destroy()


def test_rule_e2__write_return_value_vs_high_water_mark(server_factory: Any, track: Any) -> None:
    # NODE-NET E2/E3: queued while connecting, write() returns False once
    # writable_length reaches 16384; 'drain' follows the flush.
    received = [0]
    done = Event()

    def on_connection(s: gnet.Socket) -> None:
        def on_data(chunk: bytes) -> None:
            received[0] += len(chunk)
            if received[0] == 16384:
                done.set()

        s.on("data", on_data)

    srv = server_factory(on_connection)
    sock = track(gnet.connect(port_of(srv), "127.0.0.1"))
    assert sock.writable_high_water_mark == 16384
    assert sock.write(bytes(16383)) is True
    assert sock.writable_length == 16383
    assert sock.write(b"x") is False
    assert sock.writable_length == 16384
    assert sock.writable_need_drain is True
    gnet.once(sock, "drain", timeout=TIMEOUT)
    assert sock.writable_length == 0
    assert done.wait(TIMEOUT)


def test_rule_e2__write_taken_by_kernel_returns_true(server_factory: Any, track: Any) -> None:
    # NODE-NET E2 (v20): the result is computed after trying the kernel, so a
    # 16 KiB write on an idle connection returns True with nothing queued,
    # and no 'drain' follows (E3).
    srv = server_factory(lambda s: s.resume())
    sock = track(gnet.connect(port_of(srv), "127.0.0.1"))
    gnet.once(sock, "connect", timeout=TIMEOUT)
    drains: list[int] = []
    sock.on("drain", lambda: drains.append(1))
    assert sock.write(bytes(16384)) is True
    assert sock.writable_length == 0
    assert sock.write(b"small") is True
    finished = waiter(sock, "finish")
    sock.end()
    finished.get(timeout=TIMEOUT)
    assert drains == []


def test_socket_high_water_mark_option_sets_the_write_threshold(track: Any) -> None:
    # API.md Socket option high_water_mark:
    server = track(gnet.create_server(lambda conn: conn.resume()))
    port = listen_local(server)
    sock = track(gnet.Socket({"high_water_mark": 4}))
    sock.connect(port, "127.0.0.1")
    assert sock.write(b"abc") is True  # queued while connecting: 3 < 4
    assert sock.write(b"d") is False  # writable_length reached 4
    assert sock.writable_length == 4
    gnet.once(sock, "drain", timeout=TIMEOUT)
    assert sock.writable_length == 0


# ----------------------------------------------------------------------
# cork() and bytesWritten


def test_rule_e8__cork_holds_writes_until_uncork(server_factory: Any, track: Any) -> None:
    # NODE-NET E8: corked writes stay queued (even when connected) and go out
    # together on uncork(); cork() nests.
    received: list[bytes] = []
    got = Event()
    server_ended = Event()

    def on_connection(s: gnet.Socket) -> None:
        s.on("data", lambda chunk: (received.append(chunk), got.set()))
        s.on("end", server_ended.set)

    srv = server_factory(on_connection)
    sock = track(gnet.connect(port_of(srv), "127.0.0.1"))
    gnet.once(sock, "connect", timeout=TIMEOUT)
    sock.cork()
    sock.cork()
    sock.write("ab")
    sock.write(b"cd")
    assert sock.writable_length == 4
    sock.uncork()
    assert sock.writable_length == 4  # still corked once
    assert not got.wait(0.05)
    sock.uncork()
    assert got.wait(TIMEOUT)
    finished = waiter(sock, "finish")
    sock.end()
    finished.get(timeout=TIMEOUT)
    assert server_ended.wait(TIMEOUT)  # all the data came before
    assert b"".join(received) == b"abcd"


def test_rule_e8__end_flushes_corked_writes(server_factory: Any, track: Any) -> None:
    # NODE-NET E8/E14: end() uncorks: what was corked is sent before the FIN.
    received: list[bytes] = []
    server_ended = Event()

    def on_connection(s: gnet.Socket) -> None:
        s.on("data", received.append)
        s.on("end", server_ended.set)

    srv = server_factory(on_connection)
    sock = track(gnet.connect(port_of(srv), "127.0.0.1"))
    sock.cork()
    sock.write("corked")
    sock.end("+end")
    assert server_ended.wait(TIMEOUT)
    assert b"".join(received) == b"corked+end"


def test_socket_byteswritten__cork_writev_counts_bytes(server_factory: Any, track: Any) -> None:
    # test-net-socket-byteswritten.js: corked writes (one writev) count
    # bytes, not characters, before connect, at 'connect' and at 'end'.
    srv = server_factory(lambda s: s.end())
    sock = track(gnet.connect(port_of(srv), "127.0.0.1"))
    sock.cork()
    sock.write("one")
    sock.write("twø".encode())
    sock.uncork()
    assert sock.bytes_written == 3 + 4
    assert sock.bytesWritten == 7
    at: dict[str, int] = {}
    sock.on("connect", lambda: at.setdefault("connect", sock.bytes_written))
    sock.on("end", lambda: at.setdefault("end", sock.bytes_written))
    gnet.once(sock, "end", timeout=TIMEOUT)
    assert at == {"connect": 7, "end": 7}
