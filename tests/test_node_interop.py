"""gnet against Node itself: real Node peers, real netcat, and Node's event orders.

Three kinds of checks, all on 127.0.0.1 port 0 or UNIX sockets under tmp_path:

1. Interop: a Node ``net`` client against a gnet server and a gnet client
   against a Node server (``tests/node/peer.js``) move a few MB both ways
   with half-close, over TCP and UNIX sockets; byte counts and SHA-256
   digests must match on both ends.
2. netcat (``nc``, or ``socat``) against a gnet echo server over TCP and UNIX.
3. Event orders: each scenario of ``tests/node/scenarios.js`` runs on Node
   and, written the same way, on gnet; the event names each socket and
   server emitted (``close:<had_error>``, ``error:<code>``, consecutive
   ``data`` collapsed) must be the same sequences.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import socket as pysocket
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import partial
from pathlib import Path
from typing import Any

import gevent
import pytest
from gevent import subprocess
from gevent.event import Event

import gnet

NODE = shutil.which("node")
NODE_DIR = Path(__file__).parent / "node"
HOST = "127.0.0.1"
PROC_TIMEOUT = 10.0  # seconds, for any one subprocess
WAIT = 5.0  # seconds, for any one gnet event

pytestmark = pytest.mark.skipif(NODE is None, reason="node not on PATH")


# ----------------------------------------------------------------------
# subprocesses


@contextmanager
def spawn(argv: list[str], **kwargs: Any) -> Iterator[subprocess.Popen]:
    """A gevent (cooperative) subprocess, killed and reaped on exit whatever happens."""
    proc = subprocess.Popen(
        argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, **kwargs
    )
    try:
        yield proc
    finally:
        if proc.poll() is None:
            proc.kill()
        try:
            proc.communicate(timeout=PROC_TIMEOUT)
        except (subprocess.TimeoutExpired, ValueError, OSError):
            pass
        for pipe in (proc.stdin, proc.stdout, proc.stderr):
            if pipe is not None:
                pipe.close()
        proc.wait()


def node(script: str, *args: str) -> list[str]:
    assert NODE is not None
    return [NODE, str(NODE_DIR / script), *args]


def read_json_line(proc: subprocess.Popen, what: str) -> Any:
    """The next stdout line of ``proc`` as JSON, within PROC_TIMEOUT."""
    with gevent.Timeout(PROC_TIMEOUT, AssertionError(f"no {what} from {proc.args!r}")):
        line = proc.stdout.readline()
    if not line:
        err = proc.stderr.read().decode(errors="replace") if proc.poll() is not None else ""
        raise AssertionError(f"{proc.args!r} printed no {what}; stderr: {err}")
    return json.loads(line)


def run_node_scenario(name: str, *args: str) -> dict[str, list[str]]:
    with spawn(node("scenarios.js", name, *args)) as proc:
        try:
            out, err = proc.communicate(timeout=PROC_TIMEOUT)
        except subprocess.TimeoutExpired:
            raise AssertionError(f"node scenario {name} did not finish") from None
        assert proc.returncode == 0, err.decode(errors="replace")
        result: dict[str, list[str]] = json.loads(out.decode().strip().splitlines()[-1])
        return result


# ----------------------------------------------------------------------
# 1. interop: Node's net against gnet, a few MB both ways with half-close

CLIENT_SIZE = 3 * 1024 * 1024  # what each client uploads
SERVER_SIZE = 2 * 1024 * 1024  # what a "count" server sends back of its own


class Counter:
    """Byte count, SHA-256 and collapsed event names of one socket's traffic."""

    EVENTS = ("connect", "ready", "end", "finish", "error", "close")

    def __init__(self, sock: gnet.Socket, payload: bytes) -> None:
        self.payload = payload
        self.received = 0
        self.digest = hashlib.sha256()
        self.events: list[str] = []
        self.closed = Event()
        for event in self.EVENTS:
            sock.on(event, partial(self._event, event))
        sock.on("data", self._data)

    def _event(self, event: str, *args: Any) -> None:
        self.events.append(fmt(event, args))
        if event == "close":
            self.closed.set()

    def _data(self, chunk: bytes) -> None:
        if not self.events or self.events[-1] != "data":
            self.events.append("data")
        self.received += len(chunk)
        self.digest.update(chunk)

    def wait(self) -> None:
        assert self.closed.wait(PROC_TIMEOUT), f"socket never closed; events {self.events}"


def send_all(sock: gnet.Socket, payload: bytes, then: Callable[[], Any]) -> None:
    """Write ``payload`` in 64 KiB pieces, waiting for 'drain' on backpressure; then ``then()``."""
    view = memoryview(payload)
    offset = 0

    def pump(*_: Any) -> None:
        nonlocal offset
        while offset < len(view):
            piece = view[offset : offset + 65536]
            offset += len(piece)
            if not sock.write(bytes(piece)):
                sock.once("drain", pump)
                return
        then()

    pump()


def listen_and_wait(server: gnet.Server, path: str | None) -> str:
    """Listen on ``path`` or 127.0.0.1:0 and wait for 'listening'; return the path or the port."""
    listening = Event()
    if path is not None:
        server.listen(path, listening.set)
    else:
        server.listen(0, HOST, listening.set)
    assert listening.wait(WAIT), "no 'listening'"
    return path if path is not None else str(port_of(server))


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def serve_count(conn: gnet.Socket, payload: bytes) -> None:
    """An allowHalfOpen "count" server: sends ``payload``; ends after that and the peer's FIN."""
    state = {"sent": False, "peer_ended": False}

    def maybe_end(key: str) -> None:
        state[key] = True
        if state["sent"] and state["peer_ended"]:
            conn.end()

    conn.on("end", lambda: maybe_end("peer_ended"))
    send_all(conn, payload, lambda: maybe_end("sent"))


@pytest.fixture(params=["tcp", "unix"])
def transport(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.mark.parametrize("mode", ["echo", "count"])
def test_node_client_against_gnet_server(mode: str, transport: str, tmp_path: Path) -> None:
    """A Node client uploads 3 MB and end()s; a gnet server echoes it, or counts and sends 2 MB."""
    server_payload = os.urandom(SERVER_SIZE) if mode == "count" else b""
    counters: list[Counter] = []
    echoed: list[bytes] = []

    def on_connection(conn: gnet.Socket) -> None:
        counter = Counter(conn, server_payload)
        counters.append(counter)
        if mode == "echo":
            conn.on("data", echoed.append)
            conn.pipe(conn)
        else:
            serve_count(conn, server_payload)

    server = gnet.create_server({"allow_half_open": mode == "count"}, on_connection)
    try:
        target = listen_and_wait(
            server, str(tmp_path / "gnet.sock") if transport == "unix" else None
        )
        with spawn(node("peer.js", "client", mode, target, str(CLIENT_SIZE))) as proc:
            report = read_json_line(proc, "client report")
            assert proc.wait(timeout=PROC_TIMEOUT) == 0
        assert len(counters) == 1
        counter = counters[0]
        counter.wait()
    finally:
        for conn in list(server._sockets):
            conn.destroy()
        server.close()

    # What Node sent, gnet received (and echoed back, in echo mode).
    assert report["sent"] == CLIENT_SIZE
    assert counter.received == CLIENT_SIZE
    assert counter.digest.hexdigest() == report["sent_sha256"]
    expected_back = b"".join(echoed) if mode == "echo" else server_payload
    assert report["received"] == len(expected_back)
    assert report["received_sha256"] == sha(expected_back)
    assert report["had_error"] is False
    assert report["events"][:2] == ["connect", "ready"]
    assert report["events"][-1] == "close:false"
    assert {"finish", "end"} <= set(report["events"])
    # The gnet side: data, both halves closed, a clean close.
    assert counter.events[0] == "data"
    assert counter.events[-1] == "close:false"
    assert {"end", "finish"} <= set(counter.events)
    assert "error" not in " ".join(counter.events)


@pytest.mark.parametrize("mode", ["echo", "count"])
def test_gnet_client_against_node_server(mode: str, transport: str, tmp_path: Path) -> None:
    """A gnet client uploads 3 MB and end()s; a Node server echoes it, or counts and sends 2 MB."""
    payload = os.urandom(CLIENT_SIZE)
    args = ["server", mode]
    if transport == "unix":
        args.append(str(tmp_path / "node.sock"))
    args.append(str(SERVER_SIZE))
    sock: gnet.Socket | None = None
    with spawn(node("peer.js", *args)) as proc:
        try:
            where = read_json_line(proc, "listening address")
            options = (
                {"path": where["path"]}
                if "path" in where
                else {"port": where["port"], "host": HOST}
            )
            sock = client = gnet.connect(options)
            counter = Counter(client, payload)
            client.on("connect", lambda: send_all(client, payload, client.end))
            counter.wait()
            report = read_json_line(proc, "server report")
            assert proc.wait(timeout=PROC_TIMEOUT) == 0
        finally:
            if sock is not None:
                sock.destroy()

    assert report["received"] == CLIENT_SIZE
    assert report["received_sha256"] == sha(payload)
    expected = CLIENT_SIZE if mode == "echo" else SERVER_SIZE
    assert report["sent"] == expected
    assert counter.received == expected
    assert counter.digest.hexdigest() == report["sent_sha256"]
    assert report["had_error"] is False
    assert report["events"][-1] == "close:false"
    assert {"end", "finish"} <= set(report["events"])
    assert counter.events[:2] == ["connect", "ready"]
    assert counter.events[-1] == "close:false"
    assert {"finish", "end"} <= set(counter.events)
    assert "error" not in " ".join(counter.events)


# ----------------------------------------------------------------------
# 2. netcat against a gnet echo server


def _help_text(exe: str) -> str:
    try:
        done = subprocess.run([exe, "-h"], capture_output=True, timeout=PROC_TIMEOUT, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return ""
    output: bytes = done.stdout + done.stderr
    return output.decode(errors="replace")


def netcat_command(tool: str, target: str, unix: bool) -> list[str]:
    """The argv that sends stdin to ``target``, half-closes at stdin's end and prints the reply.

    Skips (naming the reason) when the tool is missing or cannot do that.
    """
    exe = shutil.which(tool)
    if exe is None:
        pytest.skip(f"{tool} not installed")
    if tool == "socat":
        address = f"UNIX-CONNECT:{target}" if unix else f"TCP:{HOST}:{target}"
        return [exe, "-t", "5", "-", address]
    text = _help_text(exe)
    endpoint = ["-U", target] if unix else [HOST, target]
    if unix and not re.search(r"^\s*-U\b|\[-[A-Za-z]*U", text, re.M):
        pytest.skip("the installed nc has no -U (UNIX socket) option")
    if "OpenBSD" in text or re.search(r"^\s*-N\b", text, re.M):
        return [exe, "-N", *endpoint]  # -N: shutdown(SHUT_WR) at stdin's EOF
    if "Ncat" in text:
        return [exe, *endpoint]  # ncat half-closes at stdin's EOF by default
    if re.search(r"^\s*-q\b", text, re.M):
        return [exe, "-q", "2", *endpoint]  # traditional netcat: quit 2 s after stdin's EOF
    pytest.skip(f"unknown nc flavour (no -N, -q or Ncat): {text.splitlines()[:1]}")


@pytest.mark.parametrize("tool", ["nc", "socat"])
def test_netcat_against_gnet_echo_server(tool: str, transport: str, tmp_path: Path) -> None:
    """The echo server of Node's net docs (greeting, then pipe) serves netcat 1 MB."""
    payload = os.urandom(1024 * 1024)
    counters: list[Counter] = []

    def on_connection(conn: gnet.Socket) -> None:
        counters.append(Counter(conn, b""))
        conn.write("hello\r\n")
        conn.pipe(conn)

    server = gnet.create_server(on_connection)
    try:
        target = listen_and_wait(
            server, str(tmp_path / "echo.sock") if transport == "unix" else None
        )
        argv = netcat_command(tool, target, transport == "unix")
        with spawn(argv) as proc:
            try:
                out, err = proc.communicate(payload, timeout=PROC_TIMEOUT)
            except subprocess.TimeoutExpired:
                raise AssertionError(f"{argv!r} did not finish") from None
        assert proc.returncode == 0, err.decode(errors="replace")
        assert len(counters) == 1
        counters[0].wait()
    finally:
        for conn in list(server._sockets):
            conn.destroy()
        server.close()
    assert len(out) == len(payload) + 7
    assert out == b"hello\r\n" + payload
    assert counters[0].received == len(payload)
    assert counters[0].events == ["data", "end", "finish", "close:false"]


# ----------------------------------------------------------------------
# 3. event orders, scenario by scenario (mirrors tests/node/scenarios.js)

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


def js(value: Any) -> str:
    """A value as JavaScript's template literal prints it."""
    if value is True:
        return "true"
    if value is False:
        return "false"
    return "null" if value is None else str(value)


def err_name(err: Any) -> str:
    if err is None:
        return "null"
    return str(getattr(err, "code", None) or err)


def fmt(event: str, args: tuple[Any, ...]) -> str:
    if event == "close":
        return f"close:{js(bool(args[0]))}" if args else "close"
    if event == "error":
        return f"error:{err_name(args[0])}"
    return event


def noop(*_: Any) -> None:
    pass


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
        self.log(name, fmt(event, args))

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
            if not closed.wait(WAIT):
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


def port_of(server: gnet.Server) -> int:
    address = server.address()
    assert isinstance(address, dict)
    return int(address["port"])


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


def free_port() -> int:
    probe = pysocket.socket()
    try:
        probe.bind((HOST, 0))
        return int(probe.getsockname()[1])
    finally:
        probe.close()


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
    rec.sock("client", gnet.connect(free_port(), HOST))


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
    c = rec.sock("client", gnet.connect(free_port(), HOST))
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
