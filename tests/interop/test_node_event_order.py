"""Node's event orders, scenario by scenario: each scenario of tests/node/scenarios.js
runs on Node and, written the same way, on gnet; the event names each socket and
server emitted (``close:<had_error>``, ``error:<code>``, consecutive ``data``
collapsed) must be the same sequences.

Node is required: missing, these tests skip locally and fail under CI=true.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

import gevent
import pytest
from gevent import subprocess
from gevent.event import Event

import gnet
from support import (
    PROC_TIMEOUT,
    TIMEOUT,
    closed_port,
    err_name,
    fmt_event,
    js,
    node_argv,
    noop,
    port_of,
    spawn,
)

HOST = "127.0.0.1"


def run_node_scenario(name: str, *args: str) -> dict[str, list[str]]:
    with spawn(node_argv("scenarios.js", name, *args)) as proc:
        try:
            out, err = proc.communicate(timeout=PROC_TIMEOUT)
        except subprocess.TimeoutExpired:
            raise AssertionError(f"node scenario {name} did not finish") from None
        assert proc.returncode == 0, err.decode(errors="replace")
        result: dict[str, list[str]] = json.loads(out.decode().strip().splitlines()[-1])
        return result


SOCKET_EVENTS = (
    "connectionAttempt",
    "connectionAttemptFailed",
    "connectionAttemptTimeout",
    "lookup",
    "connect",
    "ready",
    "data",
    "end",
    "finish",
    "timeout",
    "drain",
    "error",
    "close",
)


SERVER_EVENTS = ("listening", "connection", "drop", "error", "close")


class Recorder:
    """Records events as scenarios.js does, and knows when a scenario is over.

    Every tracked object must emit ``'close'`` for the scenario to be over
    (Node's process exits when nothing is left open).
    """

    def __init__(self) -> None:
        self.logs: dict[str, list[str]] = {}
        self._closed: list[Event] = []
        self._objects: list[Any] = []
        self._timers: list[gevent.Greenlet] = []

    def log(self, name: str, entry: str) -> None:
        entries = self.logs.setdefault(name, [])
        if entry == "data" and entries and entries[-1] == "data":
            return
        entries.append(entry)

    def _track(self, name: str | None, emitter: Any, events: tuple[str, ...]) -> Any:
        if name is not None:
            for event in events:
                emitter.on(event, partial(self._on, name, event))
        closed = Event()
        emitter.on("close", lambda *_: closed.set())
        self._closed.append(closed)
        self._objects.append(emitter)
        return emitter

    def _on(self, name: str, event: str, *args: Any) -> None:
        self.log(name, fmt_event(event, args))

    def sock(self, name: str | None, sock: gnet.Socket) -> gnet.Socket:
        return self._track(name, sock, SOCKET_EVENTS)  # type: ignore[no-any-return]

    def serv(self, name: str | None, server: gnet.Server) -> gnet.Server:
        return self._track(name, server, SERVER_EVENTS)  # type: ignore[no-any-return]

    def later(self, seconds: float, fn: Callable[..., Any], *args: Any) -> None:
        """Node's ``setTimeout(fn, ms)`` inside a scenario: a gevent timer."""
        self._timers.append(gevent.spawn_later(seconds, fn, *args))

    def immediate(self, fn: Callable[..., Any], *args: Any) -> None:
        """Node's ``setImmediate(fn)``: gevent's spawn, which runs on the hub's
        next round of callbacks, before its timers (a 0 s timer is Node's
        ``setTimeout(fn, 0)``, which runs after a 'close' that is due)."""
        self._timers.append(gevent.spawn(fn, *args))

    def wait(self) -> None:
        for closed in self._closed:
            if not closed.wait(TIMEOUT):
                raise AssertionError(f"scenario never finished; events so far: {self.logs}")

    def cleanup(self) -> None:
        gevent.killall(self._timers)
        for obj in self._objects:
            if isinstance(obj, gnet.Socket):
                obj.destroy()
            elif isinstance(obj, gnet.Server):
                for conn in list(obj._sockets):
                    conn.destroy()
                if obj.listening:
                    obj.close()


def listen(server: gnet.Server, path: str | None, callback: Callable[[], Any]) -> None:
    if path:
        server.listen(path, callback)
    else:
        server.listen(0, HOST, callback)


def target(server: gnet.Server, path: str | None) -> dict[str, Any]:
    return {"path": path} if path else {"port": port_of(server), "host": HOST}


def make_server(
    rec: Recorder, options: dict[str, Any], setup: Callable[[gnet.Socket], Any]
) -> gnet.Server:
    """A server whose accepted sockets are tracked as "server", then ``setup(conn)``."""

    def on_connection(conn: gnet.Socket) -> None:
        rec.sock("server", conn)
        setup(conn)

    return rec.serv(None, gnet.create_server(options, on_connection))


def sc_client_ends_first(rec: Recorder, path: str | None = None) -> None:
    def setup(conn: gnet.Socket) -> None:
        conn.on("data", conn.write)
        conn.on("close", lambda *_: server.close())

    server = make_server(rec, {}, setup)

    def go() -> None:
        c = rec.sock("client", gnet.connect(target(server, path)))
        c.on("connect", lambda: c.write("hello"))
        c.on("data", lambda *_: c.end())

    listen(server, path, go)


def sc_server_ends_first(rec: Recorder, path: str | None = None) -> None:
    def setup(conn: gnet.Socket) -> None:
        conn.on("data", noop)
        conn.end("bye")
        conn.on("close", lambda *_: server.close())

    server = make_server(rec, {}, setup)

    def go() -> None:
        c = rec.sock("client", gnet.connect(target(server, path)))
        c.on("data", noop)

    listen(server, path, go)


def sc_half_open_server(rec: Recorder, path: str | None = None) -> None:
    def setup(conn: gnet.Socket) -> None:
        def on_end() -> None:
            rec.log("server", f"readyState:{conn.ready_state}")
            conn.write("late reply")
            rec.immediate(conn.end, "bye")

        conn.on("data", noop)
        conn.on("end", on_end)
        conn.on("close", lambda *_: server.close())

    server = make_server(rec, {"allow_half_open": True}, setup)

    def go() -> None:
        c = rec.sock("client", gnet.connect(port_of(server), HOST))
        c.on("data", noop)
        c.on("connect", lambda: c.end("ping"))

    listen(server, None, go)


def sc_destroy_immediately(rec: Recorder, path: str | None = None) -> None:
    server = rec.serv("srv", gnet.create_server(noop))

    def go() -> None:
        c = rec.sock("client", gnet.connect(port_of(server), HOST))
        c.destroy()
        c.on("close", lambda *_: server.close())

    listen(server, None, go)


def sc_destroy_with_error(rec: Recorder, path: str | None = None) -> None:
    def setup(conn: gnet.Socket) -> None:
        conn.on("data", noop)
        conn.on("close", lambda *_: server.close())

    server = make_server(rec, {}, setup)

    def go() -> None:
        c = rec.sock("client", gnet.connect(port_of(server), HOST))
        c.on("connect", lambda: c.destroy(Exception("boom")))

    listen(server, None, go)


def sc_connect_refused(rec: Recorder, path: str | None = None) -> None:
    rec.sock("client", gnet.connect(closed_port(), HOST))


def sc_connect_enoent(rec: Recorder, path: str | None = None) -> None:
    assert path is not None
    rec.sock("client", gnet.connect(path))


def sc_write_after_end(rec: Recorder, path: str | None = None) -> None:
    def setup(conn: gnet.Socket) -> None:
        conn.on("data", noop)
        conn.on("error", noop)
        conn.on("close", lambda *_: server.close())

    server = make_server(rec, {}, setup)

    def go() -> None:
        c = rec.sock("client", gnet.connect(port_of(server), HOST))

        def on_connect() -> None:
            c.end(lambda err=None: rec.log("client", f"cb-end:{err_name(err)}"))
            ret = c.write("x", lambda err=None: rec.log("client", f"cb-write:{err_name(err)}"))
            rec.log("client", f"write-returned:{js(ret)}")
            rec.log("client", f"destroyed:{js(c.destroyed)}")

        c.on("connect", on_connect)

    listen(server, None, go)


def sc_reset_and_destroy(rec: Recorder, path: str | None = None) -> None:
    def setup(conn: gnet.Socket) -> None:
        conn.on("data", lambda *_: conn.write("ack"))
        conn.on("close", lambda *_: server.close())

    server = make_server(rec, {}, setup)

    def go() -> None:
        c = rec.sock("client", gnet.connect(port_of(server), HOST))
        c.on("connect", lambda: c.write("x"))
        c.on("data", lambda *_: c.reset_and_destroy())

    listen(server, None, go)


def sc_server_close_live(rec: Recorder, path: str | None = None) -> None:
    state: dict[str, Any] = {}

    def on_connection(conn: gnet.Socket) -> None:
        rec.sock("server", conn)
        conn.on("data", noop)
        conn.on("end", lambda: rec.log("srv", "conn-end"))
        server.close()
        address = server.address()
        port = address["port"] if isinstance(address, dict) else state["port"]
        late = rec.sock(None, gnet.connect(port, HOST))

        def on_late_error(err: BaseException) -> None:
            rec.log("late", f"error:{err_name(err)}")
            state["client"].end()

        late.on("error", on_late_error)

    server = rec.serv("srv", gnet.create_server(on_connection))

    def go() -> None:
        state["port"] = port_of(server)
        c = rec.sock("client", gnet.connect(state["port"], HOST))
        c.on("data", noop)
        state["client"] = c

    listen(server, None, go)


def sc_listen_twice(rec: Recorder, path: str | None = None) -> None:
    a = rec.serv("a", gnet.create_server())

    def go() -> None:
        b = rec.serv("b", gnet.create_server())
        b.listen(port_of(a), HOST, lambda: rec.log("b", "listen-callback"))

        def on_error(*_: Any) -> None:
            rec.log("b", f"listening:{js(b.listening)}")
            b.close(lambda err=None: rec.log("b", f"cb-close:{err_name(err)}"))
            a.close()

        b.on("error", on_error)

    listen(a, None, go)


def sc_max_connections(rec: Recorder, path: str | None = None) -> None:
    state: dict[str, Any] = {}

    def on_connection(conn: gnet.Socket) -> None:
        rec.sock("server", conn)
        conn.on("data", noop)
        dropped = rec.sock("dropped", gnet.connect(port_of(server), HOST))

        def on_dropped_close(*_: Any) -> None:
            state["first"].end()
            server.close()

        dropped.on("close", on_dropped_close)

    server = rec.serv("srv", gnet.create_server(on_connection))
    server.max_connections = 1

    def go() -> None:
        first = rec.sock("client", gnet.connect(port_of(server), HOST))
        first.on("data", noop)
        state["first"] = first

    listen(server, None, go)


def sc_set_timeout(rec: Recorder, path: str | None = None) -> None:
    def setup(conn: gnet.Socket) -> None:
        conn.on("data", conn.write)
        conn.on("close", lambda *_: server.close())

    server = make_server(rec, {}, setup)

    def go() -> None:
        c = rec.sock("client", gnet.connect(port_of(server), HOST))
        c.on("data", noop)
        timeouts = [0]
        c.set_timeout(60)

        def on_timeout() -> None:
            timeouts[0] += 1
            if timeouts[0] == 1:
                rec.later(0.3, c.write, "ping")
            else:
                c.end()

        c.on("timeout", on_timeout)

    listen(server, None, go)


def sc_pause_resume(rec: Recorder, path: str | None = None) -> None:
    def setup(conn: gnet.Socket) -> None:
        conn.on("data", noop)
        conn.end("hello")
        conn.on("close", lambda *_: server.close())

    server = make_server(rec, {}, setup)

    def go() -> None:
        c = gnet.connect(port_of(server), HOST)
        c.pause()
        rec.sock("client", c)  # adding 'data' after an explicit pause() does not resume

        def resume() -> None:
            rec.log("client", f"resume:{c.readable_length}")
            c.resume()

        c.on("connect", lambda: rec.later(0.2, resume))

    listen(server, None, go)


def sc_end_before_connect(rec: Recorder, path: str | None = None) -> None:
    def setup(conn: gnet.Socket) -> None:
        conn.on("data", noop)
        conn.on("close", lambda *_: server.close())

    server = make_server(rec, {}, setup)

    def go() -> None:
        c = rec.sock("client", gnet.connect(port_of(server), HOST))
        c.on("data", noop)
        c.end()

    listen(server, None, go)


def sc_write_in_finish_after_peer_fin(rec: Recorder, path: str | None = None) -> None:
    def setup(conn: gnet.Socket) -> None:
        conn.on("data", noop)
        conn.end("bye")
        conn.on("close", lambda *_: server.close())

    server = make_server(rec, {}, setup)

    def go() -> None:
        c = rec.sock("client", gnet.connect(port_of(server), HOST))
        c.on("data", noop)

        def on_end() -> None:
            ret = c.write(
                "in-end", lambda err=None: rec.log("client", f"cb-in-end:{err_name(err)}")
            )
            rec.log("client", f"write-returned:{js(ret)}")

        def on_finish() -> None:
            ret = c.write("late", lambda err=None: rec.log("client", f"cb-late:{err_name(err)}"))
            rec.log("client", f"late-returned:{js(ret)}")
            rec.log("client", f"destroyed:{js(c.destroyed)}")

        c.on("end", on_end)
        c.on("finish", on_finish)

    listen(server, None, go)


def _write_after_peer_fin(rec: Recorder, defer: Callable[[Callable[[], None]], None]) -> None:
    def setup(conn: gnet.Socket) -> None:
        conn.on("data", noop)
        conn.end("bye")
        conn.on("close", lambda *_: server.close())

    server = make_server(rec, {}, setup)

    def go() -> None:
        c = rec.sock("client", gnet.connect(port_of(server), HOST))
        c.on("data", noop)

        def late() -> None:
            ret = c.write("late", lambda err=None: rec.log("client", f"cb-late:{err_name(err)}"))
            rec.log("client", f"late-returned:{js(ret)}")

        def on_end() -> None:
            rec.log("client", f"writable:{js(c.writable)}")
            ret = c.write(
                "in-end", lambda err=None: rec.log("client", f"cb-in-end:{err_name(err)}")
            )
            rec.log("client", f"write-returned:{js(ret)}")
            defer(late)

        c.on("end", on_end)

    listen(server, None, go)


def sc_write_after_peer_fin(rec: Recorder, path: str | None = None) -> None:
    _write_after_peer_fin(rec, rec.immediate)


def sc_write_after_peer_fin_timer(rec: Recorder, path: str | None = None) -> None:
    _write_after_peer_fin(rec, lambda fn: rec.later(0, fn))


def sc_write_before_refused(rec: Recorder, path: str | None = None) -> None:
    c = rec.sock("client", gnet.connect(closed_port(), HOST))
    ret = c.write("x", lambda err=None: rec.log("client", f"cb-write:{err_name(err)}"))
    rec.log("client", f"write-returned:{js(ret)}")


def sc_end_callback(rec: Recorder, path: str | None = None) -> None:
    def setup(conn: gnet.Socket) -> None:
        conn.on("data", noop)
        conn.on("close", lambda *_: server.close())

    server = make_server(rec, {}, setup)

    def go() -> None:
        c = rec.sock("client", gnet.connect(port_of(server), HOST))
        c.on("data", noop)
        c.on(
            "connect",
            lambda: c.end(
                "last words", lambda err=None: rec.log("client", f"cb-end:{err_name(err)}")
            ),
        )

    listen(server, None, go)


# test id -> (scenario name in scenarios.js, gnet implementation, UNIX path or not)
SCENARIOS: dict[str, tuple[str, Callable[..., None], bool]] = {
    "client_ends_first": ("client_ends_first", sc_client_ends_first, False),
    "client_ends_first_unix": ("client_ends_first", sc_client_ends_first, True),
    "server_ends_first": ("server_ends_first", sc_server_ends_first, False),
    "server_ends_first_unix": ("server_ends_first", sc_server_ends_first, True),
    "half_open_server": ("half_open_server", sc_half_open_server, False),
    "destroy_immediately": ("destroy_immediately", sc_destroy_immediately, False),
    "destroy_with_error": ("destroy_with_error", sc_destroy_with_error, False),
    "connect_refused": ("connect_refused", sc_connect_refused, False),
    "connect_enoent_unix": ("connect_enoent", sc_connect_enoent, True),
    "write_after_end": ("write_after_end", sc_write_after_end, False),
    "reset_and_destroy": ("reset_and_destroy", sc_reset_and_destroy, False),
    "server_close_live": ("server_close_live", sc_server_close_live, False),
    "listen_twice": ("listen_twice", sc_listen_twice, False),
    "max_connections": ("max_connections", sc_max_connections, False),
    "set_timeout": ("set_timeout", sc_set_timeout, False),
    "pause_resume": ("pause_resume", sc_pause_resume, False),
    "end_before_connect": ("end_before_connect", sc_end_before_connect, False),
    "write_in_finish_after_peer_fin": (
        "write_in_finish_after_peer_fin",
        sc_write_in_finish_after_peer_fin,
        False,
    ),
    "write_after_peer_fin": ("write_after_peer_fin", sc_write_after_peer_fin, False),
    "write_after_peer_fin_timer": (
        "write_after_peer_fin_timer",
        sc_write_after_peer_fin_timer,
        False,
    ),
    "write_before_refused": ("write_before_refused", sc_write_before_refused, False),
    "end_callback": ("end_callback", sc_end_callback, False),
}


def side_by_side(node_logs: dict[str, list[str]], gnet_logs: dict[str, list[str]]) -> str:
    lines = []
    for name in sorted(set(node_logs) | set(gnet_logs)):
        ours, theirs = gnet_logs.get(name), node_logs.get(name)
        mark = "  " if ours == theirs else "!!"
        lines.append(f"{mark} {name}:\n     node: {theirs}\n     gnet: {ours}")
    return "\n".join(lines)


@pytest.mark.parametrize("test_id", list(SCENARIOS))
def test_event_order_matches_node(test_id: str, tmp_path: Path) -> None:
    """The same scenario on Node and on gnet: every object's event sequence is the same."""
    name, scenario, unix = SCENARIOS[test_id]
    node_args = [str(tmp_path / "node.sock")] if unix else []
    expected = run_node_scenario(name, *node_args)

    rec = Recorder()
    try:
        scenario(rec, str(tmp_path / "gnet.sock") if unix else None)
        rec.wait()
    finally:
        rec.cleanup()
    assert rec.logs == expected, "event orders differ:\n" + side_by_side(expected, rec.logs)
