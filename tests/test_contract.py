"""API.md, item by item: the contract items that no other test file asserts.

Each test is named after the API.md item it pins (principle number, module
table row, Server/Socket bullet).  Items already asserted elsewhere
(tests/test_*.py) are not repeated here.  Listeners only record; the test
body asserts (an assert inside a listener would only be logged by gnet).
"""

from __future__ import annotations

import inspect
import os
import socket as pysocket
import time
from collections.abc import Callable
from typing import Any

import gevent
import pytest
from gevent.event import AsyncResult, Event
from greenlet import getcurrent

import gnet
import gnet.errors
from support import port_of

T = 5.0  # seconds: the bound on every wait


# ----------------------------------------------------------------------
# helpers


def waiter(emitter: Any, event: str) -> AsyncResult:
    """An AsyncResult set to the argument tuple of the next ``event``."""
    result = AsyncResult()

    def listener(*args: Any) -> None:
        if not result.ready():
            result.set(args)

    emitter.on(event, listener)
    return result


def until(condition: Callable[[], Any], timeout: float = T) -> Any:
    """Yield to the hub until ``condition()`` is truthy (bounded); return its value."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        gevent.sleep(0.005)


class Collector:
    """A listener that counts its calls."""

    def __init__(self) -> None:
        self.count = 0

    def __call__(self, *args: Any) -> None:
        self.count += 1


def listen_local(server: gnet.Server) -> int:
    server.listen(0, "127.0.0.1")
    gnet.once(server, "listening", timeout=T)
    return port_of(server)


def connected_pair(
    track: Callable[[Any], Any], server_options: dict[str, Any] | None = None, **client_options: Any
) -> tuple[gnet.Server, gnet.Socket, gnet.Socket]:
    """A server on 127.0.0.1:0, a connected client and the server's socket."""
    accepted = AsyncResult()
    server = track(gnet.create_server(server_options or {}, accepted.set))
    port = listen_local(server)
    client = track(gnet.connect({"port": port, "host": "127.0.0.1", **client_options}))
    gnet.once(client, "connect", timeout=T)
    conn = track(accepted.get(timeout=T))
    return server, client, conn


def sockopts(sock: gnet.Socket) -> tuple[int, int, int | None]:
    """(TCP_NODELAY, SO_KEEPALIVE, TCP_KEEPIDLE) of ``sock``'s descriptor."""
    raw = pysocket.socket(fileno=os.dup(sock.fileno()))
    try:
        idle = None
        if hasattr(pysocket, "TCP_KEEPIDLE"):
            idle = raw.getsockopt(pysocket.IPPROTO_TCP, pysocket.TCP_KEEPIDLE)
        return (
            raw.getsockopt(pysocket.IPPROTO_TCP, pysocket.TCP_NODELAY),
            raw.getsockopt(pysocket.SOL_SOCKET, pysocket.SO_KEEPALIVE),
            idle,
        )
    finally:
        raw.close()


def run_is_idle() -> bool:
    """Whether gnet.run() returns at once (nothing referenced holds it)."""
    runner = gevent.spawn(gnet.run)
    runner.join(0.3)
    done = runner.ready()
    runner.kill()
    return done


# ======================================================================
# Principle 1: Python's spelling, Node's camelCase aliases


@pytest.mark.parametrize(
    ("camel", "snake"),
    [
        ("createServer", "create_server"),
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
    gnet.once(conn, "data", timeout=T)
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
    conn = track(accepted.get(timeout=T))
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
    gnet.once(sock, "connect", timeout=T)
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
    gnet.once(server, "listening", timeout=T)
    peer = track(gnet.open_connection(port_of(server), "127.0.0.1", timeout=T))
    assert peer.recv_exactly(2, timeout=T) == b"ok"


# ======================================================================
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
    gnet.once(sock, "end", timeout=T)
    assert all(isinstance(chunk, str) for chunk in chunks)
    assert "".join(chunks) == text


def test_principle3_data_is_bytes_without_set_encoding(track: Any) -> None:
    server = track(gnet.create_server(lambda conn: conn.end(bytearray(b"raw"))))
    port = listen_local(server)
    sock = track(gnet.connect(port, "127.0.0.1"))
    chunks: list[Any] = []
    sock.on("data", chunks.append)
    gnet.once(sock, "end", timeout=T)
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
    assert ended.wait(T)
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
    assert ended.wait(T)
    assert b"".join(received) == b"hi"


# ======================================================================
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
    gnet.once(sock, "timeout", timeout=T)
    sock.set_timeout(0)
    sock.end(b"bye")
    gnet.once(sock, "close", timeout=T)
    assert closed.wait(T)
    server.close(note("server close callback"))
    gnet.once(server, "close", timeout=T)
    expected = {
        "listening", "connection", "connect", "ready", "timeout", "data", "end", "finish",
        "close", "server data", "server end", "server close", "write callback",
        "end callback", "server close callback",
    }  # fmt: skip
    assert set(where) == expected
    assert [name for name, in_hub in where.items() if in_hub] == []


# ======================================================================
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


# ======================================================================
# Principle 9: call forms


def test_principle9_write_callback_keyword(track: Any) -> None:
    _, client, _ = connected_pair(track)
    done = AsyncResult()
    client.write(b"abc", callback=done.set)
    assert done.get(timeout=T) is None


def test_principle9_write_encoding_then_callback_positional(track: Any) -> None:
    _, client, conn = connected_pair(track)
    done = AsyncResult()
    client.write("6869", "hex", done.set)
    assert done.get(timeout=T) is None
    assert gnet.once(conn, "data", timeout=T) == (b"hi",)


def test_principle9_end_callback_keyword(track: Any) -> None:
    _, client, conn = connected_pair(track)
    conn.resume()
    done = AsyncResult()
    client.end(b"bye", callback=done.set)
    assert done.get(timeout=T) is None


def test_principle9_set_timeout_callback_keyword(track: Any) -> None:
    _, client, _ = connected_pair(track)
    fired = Event()
    assert client.set_timeout(20, callback=fired.set) is client
    assert fired.wait(T)
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
    assert first.wait(T) and second.wait(T)


def test_principle9_listen_callback_keyword_with_port_and_host(track: Any) -> None:
    server = track(gnet.create_server())
    listening = Event()
    assert server.listen(0, "127.0.0.1", callback=listening.set) is server
    assert listening.wait(T)


def test_principle9_methods_that_return_this_in_node_return_the_object(track: Any) -> None:
    server = track(gnet.create_server())
    assert server.listen(0, "127.0.0.1") is server
    gnet.once(server, "listening", timeout=T)
    assert server.ref() is server
    assert server.unref() is server
    assert server.pause(1) is server
    assert server.get_connections(lambda *a: None) is server
    sock = track(gnet.Socket())
    assert sock.connect(port_of(server), "127.0.0.1") is sock
    gnet.once(sock, "connect", timeout=T)
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
    gnet.once(server, "close", timeout=T)


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
    assert ended.wait(T)  # the decorated 'data' listener made the socket flow
    assert b"".join(got) == b"decorated"


# ======================================================================
# Module gnet: create_server options


@pytest.mark.parametrize("key", ["block_list", "blockList"])
def test_create_server_block_list_option_drops_blocked_peer(key: str, track: Any) -> None:
    # API.md module table: create_server option block_list (Node's blockList,
    # test-net-server-blocklist.js): an inbound connection from a blocked
    # address is closed at once, without 'connection'.
    block_list = gnet.BlockList()
    block_list.add_address("127.0.0.1")
    connections: list[gnet.Socket] = []
    server = track(gnet.create_server({key: block_list}, connections.append))
    port = listen_local(server)
    sock = track(gnet.connect(port, "127.0.0.1"))
    sock.on("error", lambda err: None)  # a reset is as good as a FIN here
    data: list[bytes] = []
    sock.on("data", data.append)
    closed = waiter(sock, "close")
    closed.get(timeout=T)
    assert data == []
    assert connections == []
    assert server.connections == 0


def test_create_server_block_list_option_admits_other_peers(track: Any) -> None:
    block_list = gnet.BlockList()
    block_list.add_subnet("10.0.0.0", 8)
    server = track(gnet.create_server({"block_list": block_list}, lambda c: c.end(b"hi")))
    port = listen_local(server)
    peer = track(gnet.open_connection(port, "127.0.0.1", timeout=T))
    assert peer.recv_exactly(2, timeout=T) == b"hi"


# ======================================================================
# Server bullets


def test_server_listen_handle_gnet_socket(track: Any) -> None:
    # API.md listen((handle, ...)): handle may be a listening Socket.
    raw = track(pysocket.socket(pysocket.AF_INET, pysocket.SOCK_STREAM))
    raw.bind(("127.0.0.1", 0))
    raw.listen(8)
    handle = track(gnet.Socket({"fd": os.dup(raw.fileno())}))
    handle.on("error", lambda err: None)
    server = track(gnet.create_server(lambda conn: conn.end(b"via socket")))
    listening = Event()
    server.listen(handle, listening.set)
    assert listening.wait(T)
    assert port_of(server) == raw.getsockname()[1]
    peer = track(gnet.open_connection(port_of(server), "127.0.0.1", timeout=T))
    assert peer.recv_exactly(10, timeout=T) == b"via socket"


def test_server_pause_default_msecs_is_1000(track: Any) -> None:
    accepted = Event()
    server = track(gnet.create_server(lambda conn: accepted.set()))
    port = listen_local(server)
    started = time.monotonic()
    server.pause()
    track(gnet.connect(port, "127.0.0.1"))
    assert not accepted.wait(0.6)  # still paused after 600 ms
    assert accepted.wait(T)
    assert 0.9 <= time.monotonic() - started < 3


def test_server_each_connection_keeps_one_greenlet_for_its_events(track: Any) -> None:
    # API.md: "Each accepted connection gets one greenlet, which emits
    # 'connection' ... and then carries that socket's events."  Two
    # connections go idle, then the first one gets data: its events must
    # still run in the greenlet that ran its connection listener.
    seen: list[dict[str, Any]] = []
    closed = Collector()

    def on_connection(conn: gnet.Socket) -> None:
        mine: dict[str, Any] = {"connection": getcurrent()}
        seen.append(mine)
        conn.on("data", lambda chunk: mine.setdefault("data", getcurrent()))
        conn.on("end", lambda: mine.setdefault("end", getcurrent()))
        conn.on("close", lambda had_error: (mine.setdefault("close", getcurrent()), closed()))

    server = track(gnet.create_server(on_connection))
    port = listen_local(server)
    first = track(gnet.connect(port, "127.0.0.1"))
    until(lambda: len(seen) == 1)
    second = track(gnet.connect(port, "127.0.0.1"))
    until(lambda: len(seen) == 2)
    gevent.sleep(0.05)  # both connections sit idle for a while
    first.end(b"later")
    until(lambda: closed.count == 1)
    second.end(b"later")
    until(lambda: closed.count == 2)
    assert seen[0]["connection"] is not seen[1]["connection"]
    for mine in seen:
        assert mine["data"] is mine["connection"]
        assert mine["end"] is mine["connection"]
        assert mine["close"] is mine["connection"]


# ======================================================================
# Socket bullets: options, events, reading


def test_socket_high_water_mark_option_sets_the_write_threshold(track: Any) -> None:
    server = track(gnet.create_server(lambda conn: conn.resume()))
    port = listen_local(server)
    sock = track(gnet.Socket({"high_water_mark": 4}))
    sock.connect(port, "127.0.0.1")
    assert sock.write(b"abc") is True  # queued while connecting: 3 < 4
    assert sock.write(b"d") is False  # writable_length reached 4
    assert sock.writable_length == 4
    gnet.once(sock, "drain", timeout=T)
    assert sock.writable_length == 0


@pytest.mark.parametrize(
    "options",
    [
        {"no_delay": True, "keep_alive": True, "keep_alive_initial_delay": 3000},
        {"noDelay": True, "keepAlive": True, "keepAliveInitialDelay": 3000},
    ],
    ids=["snake", "camel"],
)
def test_socket_connect_options_no_delay_and_keep_alive_applied(
    options: dict[str, Any], track: Any
) -> None:
    server = track(gnet.create_server())
    port = listen_local(server)
    sock = track(gnet.connect({"port": port, "host": "127.0.0.1", **options}))
    gnet.once(sock, "connect", timeout=T)
    nodelay, keepalive, idle = sockopts(sock)
    assert nodelay == 1
    assert keepalive == 1
    if idle is not None:
        assert idle == 3  # ms, floored to seconds


def test_socket_set_no_delay_and_keep_alive_before_connect_apply_at_connect(track: Any) -> None:
    server = track(gnet.create_server())
    port = listen_local(server)
    sock = track(gnet.Socket())
    sock.set_no_delay().set_keep_alive(True, 4000)
    sock.connect(port, "127.0.0.1")
    gnet.once(sock, "connect", timeout=T)
    nodelay, keepalive, idle = sockopts(sock)
    assert (nodelay, keepalive) == (1, 1)
    if idle is not None:
        assert idle == 4


def test_socket_connect_option_family_4_resolves_ipv4_only(track: Any) -> None:
    server = track(gnet.create_server())
    port = listen_local(server)
    sock = track(gnet.connect({"port": port, "host": "localhost", "family": 4}))
    lookup = waiter(sock, "lookup")
    gnet.once(sock, "connect", timeout=T)
    assert lookup.get(timeout=T) == (None, "127.0.0.1", 4, "localhost")
    assert sock.remote_family == "IPv4"


def test_socket_connect_option_family_6_reaches_the_lookup(track: Any) -> None:
    asked: list[dict[str, Any]] = []

    def lookup(host: str, options: dict[str, Any], callback: Callable[..., Any]) -> None:
        asked.append(dict(options))
        gevent.spawn(callback, pysocket.gaierror(pysocket.EAI_NONAME, "not here"))

    sock = track(gnet.connect({"port": 80, "host": "nowhere.test", "family": 6, "lookup": lookup}))
    errors: list[BaseException] = []
    sock.on("error", errors.append)
    waiter(sock, "close").get(timeout=T)
    assert asked and asked[0]["family"] == 6
    assert [err.code for err in errors] == ["ENOTFOUND"]


def _blackhole_v4_and_listening_v6(track: Any) -> int:
    """A port P where 127.0.0.1:P never answers (full backlog) and ::1:P accepts."""
    for _ in range(10):
        server = track(gnet.create_server(lambda conn: conn.end(b"v6")))
        server.listen(0, "::1")
        gnet.once(server, "listening", timeout=T)
        port = port_of(server)
        hole = pysocket.socket(pysocket.AF_INET, pysocket.SOCK_STREAM)
        try:
            hole.bind(("127.0.0.1", port))
        except OSError:
            hole.close()
            server.close()
            continue
        track(hole)
        hole.listen(0)
        fillers = [track(pysocket.socket()) for _ in range(2)]
        for filler in fillers:
            filler.setblocking(False)
            filler.connect_ex(("127.0.0.1", port))

        def first_connected(first: pysocket.socket = fillers[0]) -> bool:
            try:
                first.getpeername()
                return True
            except OSError:
                return False

        until(first_connected)
        return port
    raise AssertionError("no port free on both 127.0.0.1 and ::1")


@pytest.mark.parametrize(("attempt_ms", "low", "high"), [(None, 0.2, 1.0), (60, 0.04, 0.2)])
def test_socket_connect_attempt_timeout_then_next_address(
    attempt_ms: float | None, low: float, high: float, track: Any
) -> None:
    # API.md: every resolved address is tried, families interleaved, each
    # attempt but the last given auto_select_family_attempt_timeout ms (250
    # by default); 'connectionAttempt'/'connectionAttemptTimeout' report them.
    port = _blackhole_v4_and_listening_v6(track)

    def lookup(host: str, options: dict[str, Any], callback: Callable[..., Any]) -> None:
        answer = [{"address": "127.0.0.1", "family": 4}, {"address": "::1", "family": 6}]
        gevent.spawn(callback, None, answer)

    options: dict[str, Any] = {"port": port, "host": "dual.test", "lookup": lookup}
    if attempt_ms is not None:
        options["autoSelectFamilyAttemptTimeout"] = attempt_ms
    sock = track(gnet.connect(options))
    log: list[tuple[float, str, tuple[Any, ...]]] = []
    for event in ("connectionAttempt", "connectionAttemptTimeout", "connectionAttemptFailed"):
        sock.on(event, lambda *args, e=event: log.append((time.monotonic(), e, args)))
    gnet.once(sock, "connect", timeout=T)
    assert [(name, args) for _, name, args in log] == [
        ("connectionAttempt", ("127.0.0.1", port, 4)),
        ("connectionAttemptTimeout", ("127.0.0.1", port, 4)),
        ("connectionAttempt", ("::1", port, 6)),
    ]
    waited = log[1][0] - log[0][0]
    assert low <= waited < high
    assert sock.remote_address == "::1"
    assert sock.auto_select_family_attempted_addresses == [f"127.0.0.1:{port}", f"::1:{port}"]


def test_socket_read_size_is_nodes_non_blocking_pull(track: Any) -> None:
    _, client, conn = connected_pair(track)
    client.pause()
    conn.write(b"abcdef")
    until(lambda: client.readable_length == 6)
    assert client.read(10) is None  # not enough buffered, stream still open
    assert client.readable_length == 6
    assert client.read(4) == b"abcd"
    assert client.readable_length == 2
    assert client.read() == b"ef"
    assert client.read() is None  # nothing buffered
    ended = waiter(client, "end")
    conn.end(b"xyz")
    assert until(lambda: client.read(10)) == b"xyz"  # at the end: what is left
    assert ended.get(timeout=T) == ()


def test_socket_read_starts_reading_on_a_socket_paused_before_connect(track: Any) -> None:
    # Node: read() on a paused socket asks the handle for data (_read), even
    # when the socket was paused before it connected.
    server = track(gnet.create_server(lambda conn: conn.end(b"abcdef")))
    port = listen_local(server)
    sock = track(gnet.Socket())
    sock.pause()
    sock.connect(port, "127.0.0.1")
    gnet.once(sock, "connect", timeout=T)
    assert sock.read() is None  # nothing yet; this asks for data
    assert until(lambda: sock.read(10), timeout=2) == b"abcdef"


def test_create_server_pause_on_connect_read_pulls_data(track: Any) -> None:
    # Node: a pause_on_connect socket reads nothing until asked; read() asks.
    accepted = AsyncResult()
    server = track(gnet.create_server({"pause_on_connect": True}, accepted.set))
    port = listen_local(server)
    sock = track(gnet.connect(port, "127.0.0.1"))
    sock.write(b"hello")
    conn = track(accepted.get(timeout=T))
    assert conn.read() is None  # nothing yet; this asks for data
    assert until(lambda: conn.read(5), timeout=2) == b"hello"


def test_socket_pipe_end_false_leaves_dest_open(track: Any) -> None:
    server = track(gnet.create_server(lambda conn: conn.end(b"source data")))
    port = listen_local(server)
    sink_got: list[bytes] = []
    sink = track(gnet.create_server(lambda conn: conn.on("data", sink_got.append)))
    sink_port = listen_local(sink)
    dest = track(gnet.connect(sink_port, "127.0.0.1"))
    src = track(gnet.connect(port, "127.0.0.1"))
    assert src.pipe(dest, end=False) is dest
    at_end = AsyncResult()
    src.on("end", lambda: at_end.set(dest.writable))
    assert at_end.get(timeout=T) is True
    until(lambda: b"".join(sink_got) == b"source data")
    assert dest.writable is True


def test_socket_pipe_end_true_ends_dest(track: Any) -> None:
    server = track(gnet.create_server(lambda conn: conn.end(b"source data")))
    port = listen_local(server)
    sink_ended = Event()
    sink = track(gnet.create_server(lambda conn: (conn.resume(), conn.on("end", sink_ended.set))))
    sink_port = listen_local(sink)
    dest = track(gnet.connect(sink_port, "127.0.0.1"))
    src = track(gnet.connect(port, "127.0.0.1"))
    src.pipe(dest)
    at_end = AsyncResult()
    src.on("end", lambda: at_end.set(dest.writable))
    assert at_end.get(timeout=T) is False
    assert sink_ended.wait(T)


def test_socket_unpipe_without_dest_stops_every_pipe(track: Any) -> None:
    feeder_ready = AsyncResult()
    server = track(gnet.create_server(feeder_ready.set))
    port = listen_local(server)
    got: dict[int, list[bytes]] = {0: [], 1: []}
    accepted: list[gnet.Socket] = []

    def on_sink(conn: gnet.Socket) -> None:
        index = len(accepted)
        accepted.append(conn)
        conn.on("data", got[index].append)

    sink = track(gnet.create_server(on_sink))
    sink_port = listen_local(sink)
    dests = [track(gnet.connect(sink_port, "127.0.0.1")) for _ in range(2)]
    until(lambda: len(accepted) == 2 and not any(dest.connecting for dest in dests))
    src = track(gnet.connect(port, "127.0.0.1"))
    for dest in dests:
        src.pipe(dest)
    feeder = feeder_ready.get(timeout=T)
    feeder.write(b"one")
    until(lambda: got[0] and got[1])
    assert src.unpipe() is src
    assert src.is_paused()
    assert src.listener_count("data") == 0
    feeder.write(b"two")
    assert until(lambda: src.readable_length == 3)
    assert src.read() == b"two"


def test_socket_ref_and_unref_hold_and_release_run(track: Any) -> None:
    # API.md Socket: ref(), unref(); module run(): blocks until no referenced
    # server or socket is left.
    assert run_is_idle(), "something from an earlier test still holds gnet.run()"
    accepted = AsyncResult()
    server = track(gnet.create_server(accepted.set))
    port = listen_local(server)
    server.unref()
    sock = track(gnet.connect(port, "127.0.0.1"))
    gnet.once(sock, "connect", timeout=T)
    conn = accepted.get(timeout=T)
    conn.unref()
    assert not run_is_idle()  # the connected client holds run()
    assert sock.unref() is sock
    assert run_is_idle()
    assert sock.ref() is sock
    assert not run_is_idle()
    runner = gevent.spawn(gnet.run)
    try:
        gevent.sleep(0.05)
        assert not runner.ready()
        sock.destroy()
        runner.join(T)
        assert runner.ready()  # run() returned once the last reference closed
    finally:
        runner.kill()
