"""API.md, item by item: the contract's principles that no behaviour file asserts.

Each test is named after the API.md principle it pins: 1 (Python's spelling,
Node's camelCase aliases), 3 (data types), 5 (listeners never run in the hub),
8 (errors re-exported), 9 (call forms).  The Server and Socket bullets of
API.md are asserted with the behaviour they describe, in tests/net/.
Listeners only record; the test body asserts.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

import gevent
import pytest
from gevent.event import AsyncResult, Event
from greenlet import getcurrent

import gnet
from support import (
    TIMEOUT,
    connected_pair,
    listen_local,
    port_of,
    sockopts,
)

# ----------------------------------------------------------------------
# Principle 1: Python's spelling, Node's camelCase aliases


@pytest.mark.parametrize(
    ("camel", "snake"),
    [
        ("createServer", "create_server"),  # also the check of test-net-server-options.js
        ("createConnection", "create_connection"),
        ("isIP", "is_ip"),
        ("isIPv4", "is_ipv4"),
        ("isIPv6", "is_ipv6"),
        ("openConnection", "open_connection"),
    ],
)
def test_principle1_module_camel_alias_is_the_snake_case_object(camel: str, snake: str) -> None:
    assert getattr(gnet, camel) is getattr(gnet, snake)
    assert camel in gnet.__all__


SOCKET_ALIASES = [
    ("setEncoding", "set_encoding"),
    ("setKeepAlive", "set_keep_alive"),
    ("setNoDelay", "set_no_delay"),
    ("setTimeout", "set_timeout"),
    ("bufferSize", "buffer_size"),
    ("bytesRead", "bytes_read"),
    ("bytesWritten", "bytes_written"),
    ("remoteAddress", "remote_address"),
    ("remotePort", "remote_port"),
    ("remoteFamily", "remote_family"),
    ("localAddress", "local_address"),
    ("localPort", "local_port"),
    ("localFamily", "local_family"),
    ("resetAndDestroy", "reset_and_destroy"),
    ("destroySoon", "destroy_soon"),
    ("readyState", "ready_state"),
    ("writableLength", "writable_length"),
    ("writableHighWaterMark", "writable_high_water_mark"),
    ("readableLength", "readable_length"),
    ("allowHalfOpen", "allow_half_open"),
    ("isPaused", "is_paused"),
    ("addListener", "add_listener"),
    ("removeListener", "remove_listener"),
    ("removeAllListeners", "remove_all_listeners"),
    ("listenerCount", "listener_count"),
    ("prependListener", "prepend_listener"),
]


@pytest.mark.parametrize(("camel", "snake"), SOCKET_ALIASES)
def test_principle1_socket_camel_alias_is_the_snake_case_object(camel: str, snake: str) -> None:
    assert inspect.getattr_static(gnet.Socket, camel) is inspect.getattr_static(gnet.Socket, snake)


@pytest.mark.parametrize(
    ("camel", "snake"),
    [
        ("maxConnections", "max_connections"),
        ("getConnections", "get_connections"),
        ("addListener", "add_listener"),
        ("removeListener", "remove_listener"),
        ("removeAllListeners", "remove_all_listeners"),
        ("listenerCount", "listener_count"),
        ("prependListener", "prepend_listener"),
    ],
)
def test_principle1_server_camel_alias_is_the_snake_case_object(camel: str, snake: str) -> None:
    assert inspect.getattr_static(gnet.Server, camel) is inspect.getattr_static(gnet.Server, snake)


def test_principle1_camel_aliases_read_and_write_the_same_live_values(track: Any) -> None:
    server, client, conn = connected_pair(track)
    client.write(b"abc")
    gnet.once(conn, "data", timeout=TIMEOUT)
    for camel, snake in SOCKET_ALIASES:
        value = getattr(client, snake)
        if not callable(value):
            assert getattr(client, camel) == value, camel
    assert client.remoteAddress == "127.0.0.1"
    assert client.remotePort == port_of(server)
    assert client.bytesWritten == 3
    assert conn.bytesRead == 3
    server.maxConnections = 7
    assert server.max_connections == 7
    client.allowHalfOpen = True
    assert client.allow_half_open is True


@pytest.mark.parametrize(
    "options",
    [
        {"allow_half_open": True, "high_water_mark": 1024},
        {"allowHalfOpen": True, "highWaterMark": 1024},
    ],
    ids=["snake", "camel"],
)
def test_principle1_socket_options_dict_in_both_spellings(options: dict[str, Any]) -> None:
    sock = gnet.Socket(options)
    assert sock.allow_half_open is True
    assert sock.writable_high_water_mark == 1024
    assert sock.readable_high_water_mark == 1024


def test_principle1_socket_keyword_options_in_both_spellings() -> None:
    for sock in (
        gnet.Socket(allowHalfOpen=True, highWaterMark=64),
        gnet.Socket(allow_half_open=True, high_water_mark=64),
    ):
        assert sock.allow_half_open is True
        assert sock.writable_high_water_mark == 64


@pytest.mark.parametrize("key", ["allow_half_open", "allowHalfOpen"])
def test_principle1_create_server_keyword_options_in_both_spellings(key: str, track: Any) -> None:
    accepted = AsyncResult()
    server = track(gnet.create_server(accepted.set, **{key: True}))
    port = listen_local(server)
    track(gnet.connect(port, "127.0.0.1"))
    conn = track(accepted.get(timeout=TIMEOUT))
    assert conn.allow_half_open is True


@pytest.mark.parametrize(
    "options",
    [
        {"allow_half_open": True, "high_water_mark": 64, "no_delay": True},
        {"allowHalfOpen": True, "highWaterMark": 64, "noDelay": True},
    ],
    ids=["snake", "camel"],
)
def test_principle1_connect_keyword_options_in_both_spellings(
    options: dict[str, Any], track: Any
) -> None:
    server = track(gnet.create_server())
    port = listen_local(server)
    sock = track(gnet.connect(port=port, host="127.0.0.1", **options))
    gnet.once(sock, "connect", timeout=TIMEOUT)
    assert sock.allow_half_open is True
    assert sock.writable_high_water_mark == 64
    assert sockopts(sock)[0] == 1


@pytest.mark.parametrize(
    "options",
    [
        {"exclusive": True, "reuse_port": True, "ipv6_only": False, "backlog": 8},
        {"exclusive": True, "reusePort": True, "ipv6Only": False, "backlog": 8},
    ],
    ids=["snake", "camel"],
)
def test_principle1_listen_options_dict_in_both_spellings(
    options: dict[str, Any], track: Any
) -> None:
    server = track(gnet.create_server(lambda conn: conn.end(b"ok")))
    server.listen({"port": 0, "host": "127.0.0.1", **options})
    gnet.once(server, "listening", timeout=TIMEOUT)
    peer = track(gnet.open_connection(port_of(server), "127.0.0.1", timeout=TIMEOUT))
    assert peer.recv_exactly(2, timeout=TIMEOUT) == b"ok"


# ----------------------------------------------------------------------
# Principle 3: data (str after set_encoding; write(str, encoding))


@pytest.mark.parametrize(
    ("encoding", "text"),
    [
        ("utf8", "Aé"),
        ("utf-8", "Aé"),
        ("ascii", "AC)"),  # Node's ascii clears the high bit of each byte
        ("latin1", "AÃ©"),
        ("base64", "QcOp"),
        ("hex", "41c3a9"),
    ],
)
def test_principle3_data_is_str_after_set_encoding(encoding: str, text: str, track: Any) -> None:
    server = track(gnet.create_server(lambda conn: conn.end("Aé".encode())))
    port = listen_local(server)
    sock = track(gnet.connect(port, "127.0.0.1"))
    sock.set_encoding(encoding)
    chunks: list[Any] = []
    sock.on("data", chunks.append)
    gnet.once(sock, "end", timeout=TIMEOUT)
    assert all(isinstance(chunk, str) for chunk in chunks)
    assert "".join(chunks) == text


def test_principle3_data_is_bytes_without_set_encoding(track: Any) -> None:
    server = track(gnet.create_server(lambda conn: conn.end(bytearray(b"raw"))))
    port = listen_local(server)
    sock = track(gnet.connect(port, "127.0.0.1"))
    chunks: list[Any] = []
    sock.on("data", chunks.append)
    gnet.once(sock, "end", timeout=TIMEOUT)
    assert chunks and all(type(chunk) is bytes for chunk in chunks)
    assert b"".join(chunks) == b"raw"


@pytest.mark.parametrize(
    ("encoding", "text", "wire"),
    [
        (None, "é", b"\xc3\xa9"),
        ("utf8", "é", b"\xc3\xa9"),
        ("utf-8", "é", b"\xc3\xa9"),
        ("ascii", "Aé", b"A\xe9"),
        ("latin1", "Aé", b"A\xe9"),
        ("base64", "aGk=", b"hi"),
        ("hex", "6869", b"hi"),
    ],
)
def test_principle3_write_str_with_encoding(
    encoding: str | None, text: str, wire: bytes, track: Any
) -> None:
    received: list[bytes] = []
    ended = Event()

    def on_connection(conn: gnet.Socket) -> None:
        conn.on("data", received.append)
        conn.on("end", ended.set)

    server = track(gnet.create_server(on_connection))
    port = listen_local(server)
    sock = track(gnet.connect(port, "127.0.0.1"))
    assert sock.write(text, encoding) is True
    sock.end()
    assert ended.wait(TIMEOUT)
    assert b"".join(received) == wire


def test_principle3_end_str_with_encoding(track: Any) -> None:
    received: list[bytes] = []
    ended = Event()

    def on_connection(conn: gnet.Socket) -> None:
        conn.on("data", received.append)
        conn.on("end", ended.set)

    server = track(gnet.create_server(on_connection))
    port = listen_local(server)
    sock = track(gnet.connect(port, "127.0.0.1"))
    sock.end("6869", "hex")
    assert ended.wait(TIMEOUT)
    assert b"".join(received) == b"hi"


# ----------------------------------------------------------------------
# Principle 5: listeners run in greenlets, never in the hub


def test_principle5_listeners_and_callbacks_never_run_in_the_hub(track: Any) -> None:
    hub = gevent.get_hub()
    where: dict[str, bool] = {}

    def note(name: str) -> Callable[..., None]:
        def listener(*args: Any) -> None:
            where.setdefault(name, getcurrent() is hub)

        return listener

    closed = Event()

    def on_connection(conn: gnet.Socket) -> None:
        note("connection")()
        conn.on("data", note("server data"))
        conn.on("end", lambda: (note("server end")(), conn.end(note("end callback"))))
        conn.on("close", lambda had_error: (note("server close")(), closed.set()))
        conn.write(b"x" * 100_000, note("write callback"))

    server = track(gnet.create_server(on_connection))
    server.on("listening", note("listening"))
    port = listen_local(server)
    sock = track(gnet.connect(port, "127.0.0.1", note("connect")))
    for event in ("ready", "data", "end", "finish", "close"):
        sock.on(event, note(event))
    sock.set_timeout(50, note("timeout"))
    gnet.once(sock, "timeout", timeout=TIMEOUT)
    sock.set_timeout(0)
    sock.end(b"bye")
    gnet.once(sock, "close", timeout=TIMEOUT)
    assert closed.wait(TIMEOUT)
    server.close(note("server close callback"))
    gnet.once(server, "close", timeout=TIMEOUT)
    expected = {
        "listening", "connection", "connect", "ready", "timeout", "data", "end", "finish",
        "close", "server data", "server end", "server close", "write callback",
        "end callback", "server close callback",
    }  # fmt: skip
    assert set(where) == expected
    assert [name for name, in_hub in where.items() if in_hub] == []


# ----------------------------------------------------------------------
# Principle 8: errors re-exported from gnet


EXCEPTION_CLASSES = sorted(
    name
    for name, obj in vars(gnet.errors).items()
    if isinstance(obj, type)
    and issubclass(obj, BaseException)
    and not name.startswith("_")
    and obj.__module__ == "gnet.errors"
)


@pytest.mark.parametrize("name", EXCEPTION_CLASSES)
def test_principle8_every_gnet_exception_is_re_exported_from_gnet(name: str) -> None:
    assert getattr(gnet, name, None) is getattr(gnet.errors, name)


# ----------------------------------------------------------------------
# Principle 9: call forms


def test_principle9_write_callback_keyword(track: Any) -> None:
    _, client, _ = connected_pair(track)
    done = AsyncResult()
    client.write(b"abc", callback=done.set)
    assert done.get(timeout=TIMEOUT) is None


def test_principle9_write_encoding_then_callback_positional(track: Any) -> None:
    _, client, conn = connected_pair(track)
    done = AsyncResult()
    client.write("6869", "hex", done.set)
    assert done.get(timeout=TIMEOUT) is None
    assert gnet.once(conn, "data", timeout=TIMEOUT) == (b"hi",)


def test_principle9_end_callback_keyword(track: Any) -> None:
    _, client, conn = connected_pair(track)
    conn.resume()
    done = AsyncResult()
    client.end(b"bye", callback=done.set)
    assert done.get(timeout=TIMEOUT) is None


def test_principle9_set_timeout_callback_keyword(track: Any) -> None:
    _, client, _ = connected_pair(track)
    fired = Event()
    assert client.set_timeout(20, callback=fired.set) is client
    assert fired.wait(TIMEOUT)
    client.set_timeout(0)


@pytest.mark.parametrize("how", ["positional", "keyword"])
def test_principle9_connect_callback_forms(how: str, track: Any) -> None:
    server = track(gnet.create_server())
    port = listen_local(server)
    first, second = Event(), Event()
    if how == "positional":
        sock = gnet.Socket().connect(port, "127.0.0.1", first.set)
        sock2 = gnet.connect({"port": port, "host": "127.0.0.1"}, second.set)
    else:
        sock = gnet.Socket().connect(port, "127.0.0.1", callback=first.set)
        sock2 = gnet.connect({"port": port, "host": "127.0.0.1"}, callback=second.set)
    track(sock)
    track(sock2)
    assert isinstance(sock, gnet.Socket) and isinstance(sock2, gnet.Socket)
    assert first.wait(TIMEOUT) and second.wait(TIMEOUT)


def test_principle9_listen_callback_keyword_with_port_and_host(track: Any) -> None:
    server = track(gnet.create_server())
    listening = Event()
    assert server.listen(0, "127.0.0.1", callback=listening.set) is server
    assert listening.wait(TIMEOUT)


def test_principle9_methods_that_return_this_in_node_return_the_object(track: Any) -> None:
    server = track(gnet.create_server())
    assert server.listen(0, "127.0.0.1") is server
    gnet.once(server, "listening", timeout=TIMEOUT)
    assert server.ref() is server
    assert server.unref() is server
    assert server.pause(1) is server
    assert server.get_connections(lambda *a: None) is server
    sock = track(gnet.Socket())
    assert sock.connect(port_of(server), "127.0.0.1") is sock
    gnet.once(sock, "connect", timeout=TIMEOUT)
    assert sock.set_no_delay().set_keep_alive(True) is sock
    assert sock.set_encoding("utf8") is sock
    assert sock.set_timeout(0) is sock
    assert sock.pause() is sock
    assert sock.resume() is sock
    assert sock.unpipe() is sock
    assert sock.ref() is sock
    assert sock.unref() is sock
    assert sock.on("data", lambda d: None) is sock
    assert sock.once("end", lambda: None) is sock
    assert sock.end() is sock
    assert sock.destroy() is sock
    assert server.close() is server
    gnet.once(server, "close", timeout=TIMEOUT)


def test_principle9_on_decorator_form_on_server_and_socket(track: Any) -> None:
    server = track(gnet.create_server())
    got: list[bytes] = []
    ended = Event()

    @server.on("connection")
    def on_connection(conn: gnet.Socket) -> None:
        @conn.on("data")
        def on_data(chunk: bytes) -> None:
            got.append(chunk)

        @conn.once("end")
        def on_end() -> None:
            ended.set()

    assert callable(on_connection)
    assert server.listeners("connection") == [on_connection]
    port = listen_local(server)
    sock = track(gnet.connect(port, "127.0.0.1"))
    sock.end(b"decorated")
    assert ended.wait(TIMEOUT)  # the decorated 'data' listener made the socket flow
    assert b"".join(got) == b"decorated"
