"""Helpers shared by every test module, each defined once.

Fixtures live in ``conftest.py``; plain functions, classes and markers live
here and are imported as ``from support import port_of`` (``tests/`` is on
``sys.path`` through pytest's ``pythonpath`` setting).

Waiting: a test waits for an event (``gevent.event.Event``, ``waiter``,
``gnet.once``) or for a condition (``wait_until``), always bounded by
``TIMEOUT``.  The one sleep allowed is ``give_a_chance``: a pause *after*
the awaited thing happened, before asserting that something else did
*not* happen.
"""

from __future__ import annotations

import gc
import hashlib
import json
import os
import random
import re
import shutil
import socket
import struct
import subprocess as stdlib_subprocess
import sys
import textwrap
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import partial
from pathlib import Path
from typing import Any, TypeVar

import gevent
import gevent.select
import pytest
from gevent import socket as gsocket
from gevent import subprocess as gsubprocess
from gevent.event import AsyncResult, Event
from greenlet import getcurrent, greenlet

import gnet
from gnet.errors import NodeError

__all__ = [
    "HAS_IPV6",
    "IN_CI",
    "LINGER_0",
    "NODE_DIR",
    "PROC_TIMEOUT",
    "ROOT",
    "TIMEOUT",
    "Closes",
    "Collector",
    "Counter",
    "PipeReader",
    "Served",
    "Sink",
    "abstract_name",
    "assert_run_idle_at_start",
    "blocked",
    "blocking_client",
    "closed_event",
    "closed_port",
    "connected_pair",
    "describe_fd",
    "dropped",
    "echo_handler",
    "echo_ok",
    "err_name",
    "fail_if_called",
    "fill_backlog",
    "fmt_event",
    "give_a_chance",
    "js",
    "listen_and_wait",
    "listen_local",
    "live_greenlets",
    "names",
    "needs_ipv6",
    "node_argv",
    "noop",
    "open_fds",
    "payload",
    "port_of",
    "python_env",
    "raises_code",
    "raw_client",
    "read_json_line",
    "record",
    "recv_all",
    "recv_exactly",
    "require_tool",
    "reset",
    "run_python",
    "run_returns",
    "send_all",
    "sockopts",
    "spawn",
    "tracked_client",
    "wait_until",
    "waiter",
]

T_ = TypeVar("T_")

TIMEOUT = 5.0  # seconds: the bound on every wait for an event or a condition
ROOT = Path(__file__).resolve().parent.parent  # the repository

# CI installs every tool the tests drive; there a missing tool is a failure,
# not a skip (DEVELOPERS.md: "Under CI=true a test that needs such a tool fails").
IN_CI = os.environ.get("CI", "").lower() == "true"


def require_tool(name: str) -> str:
    """The path of command ``name``; skips the test when it is missing, fails in CI."""
    path = shutil.which(name)
    if path is None:
        if IN_CI:
            pytest.fail(f"{name} is not installed, and CI must have it (.ci/run installs it)")
        pytest.skip(f"{name} not installed")
    return path


# ----------------------------------------------------------------------
# leak probes


def open_fds() -> set[int]:
    """This process's open file descriptors (not the one that lists them)."""
    fds = set()
    for name in os.listdir("/proc/self/fd"):
        try:
            os.readlink(f"/proc/self/fd/{name}")
        except OSError:
            continue  # the listing's own descriptor, closed by now
        fds.add(int(name))
    return fds


def describe_fd(fd: int) -> str:
    """What descriptor ``fd`` is (``socket:[123]``, a path), for a failure message."""
    try:
        return os.readlink(f"/proc/self/fd/{fd}")
    except OSError:
        return "?"


def _root(g: greenlet) -> greenlet:
    while g.parent is not None:
        g = g.parent
    return g


def live_greenlets() -> list[greenlet]:
    """This thread's live greenlets but the hub (other threads' hubs, such as
    gevent's resolver pool workers, come and go on their own schedule)."""
    hub = gevent.get_hub()
    main = _root(getcurrent())
    return [
        g
        for g in gc.get_objects()
        if isinstance(g, greenlet) and g and g is not hub and g is not main and _root(g) is main
    ]


# ----------------------------------------------------------------------
# IPv6


def _can_bind_ipv6_loopback() -> bool:
    try:
        with socket.socket(socket.AF_INET6, socket.SOCK_STREAM) as probe:
            probe.bind(("::1", 0))
        return True
    except OSError:
        return False


HAS_IPV6 = _can_bind_ipv6_loopback()
needs_ipv6 = pytest.mark.skipif(not HAS_IPV6, reason="no IPv6 loopback (::1) on this machine")


# ----------------------------------------------------------------------
# listeners that do nothing, or must not be called


def noop(*args: Any) -> None:
    pass


def fail_if_called(*args: Any) -> None:
    raise AssertionError("should not be called")


# ----------------------------------------------------------------------
# waiting


def wait_until(
    predicate: Callable[[], T_],
    timeout: float = TIMEOUT,
    message: str | Callable[[], str] = "condition not met",
    interval: float = 0.002,
    changed: Event | None = None,
) -> T_:
    """Yield to the hub until ``predicate()`` is truthy; return its value.

    Fails the test (with ``message``, or ``message()``) after ``timeout`` s.
    ``predicate`` is checked every ``interval`` s or, when the caller knows
    what changes it, each time the ``changed`` event is set (so the caller
    wakes at once).
    """
    deadline = time.monotonic() + timeout
    while True:
        if changed is not None:
            changed.clear()
        value = predicate()
        if value:
            return value
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            text = message() if callable(message) else message
            pytest.fail(f"not within {timeout} s: {text}")
        if changed is not None:
            changed.wait(remaining)
        else:
            gevent.sleep(min(interval, remaining))


def give_a_chance(seconds: float = 0.05) -> None:
    """Let anything that is (wrongly) still scheduled run, before asserting it did not happen.

    The one sleep the tests use, and never to wait *for* something: that is
    what events and ``wait_until`` are for.  The call sites say what must not
    happen meanwhile.
    """
    gevent.sleep(seconds)


def blocked(g: gevent.Greenlet) -> None:
    """Let ``g`` run until it blocks (a few trips through the hub); it must not have finished."""
    for _ in range(5):
        gevent.sleep(0)
    assert not g.ready(), g.value if g.successful() else g.exception


class Collector:
    """A listener that records each call's arguments; a test can wait for N calls."""

    def __init__(self) -> None:
        self.calls: list[tuple[Any, ...]] = []
        self.changed = Event()

    def __call__(self, *args: Any) -> None:
        self.calls.append(args)
        self.changed.set()

    def __len__(self) -> int:
        return len(self.calls)

    @property
    def firsts(self) -> list[Any]:
        """The first argument of each call (None for a call without arguments)."""
        return [call[0] if call else None for call in self.calls]

    def wait(self, n: int = 1, timeout: float = TIMEOUT) -> list[tuple[Any, ...]]:
        wait_until(
            lambda: len(self.calls) >= n,
            timeout,
            lambda: f"{len(self)} of {n} expected calls",
            changed=self.changed,
        )
        return self.calls


def waiter(emitter: Any, event: str) -> AsyncResult:
    """An AsyncResult set to the arguments (a tuple) of the next ``event``."""
    result = AsyncResult()

    def listener(*args: Any) -> None:
        if not result.ready():
            result.set(args)

    emitter.on(event, listener)
    return result


def record(emitter: Any, events: list[str], log: list[Any], tag: str = "") -> Any:
    """Append ``(tag + event, args)`` to ``log`` for each of ``events``."""
    for name in events:

        def listener(*args: Any, _name: str = name) -> None:
            log.append((tag + _name, args))

        emitter.on(name, listener)
    return emitter


def names(log: list[Any]) -> list[str]:
    """The event names of a ``record`` log."""
    return [entry[0] for entry in log]


def closed_event(sock: gnet.Socket) -> Event:
    """Set on the socket's 'close' (attach it before the close can happen)."""
    ev = Event()
    sock.on("close", lambda had_error: ev.set())
    return ev


class Closes:
    """Watches sockets' ``'close'``: which closed, with which ``had_error``."""

    def __init__(self) -> None:
        self.calls: list[tuple[gnet.Socket, bool]] = []
        self.watched: list[gnet.Socket] = []
        self.changed = Event()

    def watch(self, conn: gnet.Socket) -> None:
        self.watched.append(conn)
        self.changed.set()
        conn.on("close", lambda had_error: self._closed(conn, had_error))

    def _closed(self, conn: gnet.Socket, had_error: bool) -> None:
        self.calls.append((conn, had_error))
        self.changed.set()

    def of(self, conn: gnet.Socket) -> list[bool]:
        return [had_error for c, had_error in self.calls if c is conn]

    def wait_for(self, predicate: Callable[[], bool], timeout: float = TIMEOUT) -> None:
        wait_until(
            predicate,
            timeout,
            lambda: f"{len(self.watched)} watched, {len(self.calls)} closed",
            changed=self.changed,
        )


# ----------------------------------------------------------------------
# gnet servers and clients


def port_of(server: Any) -> int:
    """The TCP port a listening gnet server is bound to."""
    address = server.address()
    assert isinstance(address, dict)
    return int(address["port"])


def listen_local(server: gnet.Server) -> int:
    """Listen on 127.0.0.1:0, wait for 'listening', return the port."""
    server.listen(0, "127.0.0.1")
    gnet.once(server, "listening", timeout=TIMEOUT)
    return port_of(server)


def listen_and_wait(server: gnet.Server, path: str | None) -> str:
    """Listen on ``path`` or 127.0.0.1:0 and wait for 'listening'; return the path or the port."""
    listening = Event()
    if path is not None:
        server.listen(path, listening.set)
    else:
        server.listen(0, "127.0.0.1", listening.set)
    assert listening.wait(TIMEOUT), "no 'listening'"
    return path if path is not None else str(port_of(server))


def echo_handler(conn: gnet.Socket) -> None:
    """A connection listener that echoes, Node's way ('data' -> write), and ignores errors."""
    conn.on("data", conn.write)
    conn.on("error", lambda err: None)


def tracked_client(
    track: Callable[[Any], Any], *args: Any, errors: Collector | None = None
) -> gnet.Socket:
    """A tracked gnet client with an 'error' listener (so a reset is recorded, not raised)."""
    sock: gnet.Socket = track(gnet.connect(*args))
    sock.on("error", errors if errors is not None else (lambda err: None))
    return sock


def connected_pair(
    track: Callable[[Any], Any], server_options: dict[str, Any] | None = None, **client_options: Any
) -> tuple[gnet.Server, gnet.Socket, gnet.Socket]:
    """A server on 127.0.0.1:0, a connected client and the server's socket."""
    accepted = AsyncResult()
    server = track(gnet.create_server(server_options or {}, accepted.set))
    port = listen_local(server)
    client = track(gnet.connect({"port": port, "host": "127.0.0.1", **client_options}))
    gnet.once(client, "connect", timeout=TIMEOUT)
    conn = track(accepted.get(timeout=TIMEOUT))
    return server, client, conn


@contextmanager
def blocking_client(port: int, **options: Any) -> Iterator[gnet.Socket]:
    """A gnet client from ``open_connection`` (so connected), destroyed at the end."""
    sock = gnet.open_connection(port, "127.0.0.1", timeout=TIMEOUT, **options)
    try:
        yield sock
    finally:
        sock.destroy()


class Served:
    """What the ``serve`` fixture started: a server whose connection handler is given.

    ``result`` gets the first handler's return value (or exception), ``sock``
    the first accepted socket, ``closed`` is set on that socket's 'close'.
    """

    def __init__(self, server: gnet.Server) -> None:
        self.server = server
        self.port = port_of(server)
        self.result: AsyncResult = AsyncResult()
        self.sock: AsyncResult = AsyncResult()
        self.closed = Event()


def abstract_name() -> str:
    """A fresh Linux abstract UNIX socket name (a path starting with NUL)."""
    return f"\0gnet-test-{os.getpid()}-{uuid.uuid4().hex}"


def run_returns(timeout: float = TIMEOUT) -> bool:
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


def raises_code(exc_type: type[BaseException], code: str, func: Callable[[], Any]) -> Any:
    """The ``exc_type`` that ``func()`` raises, checked to be a NodeError with ``code``."""
    with pytest.raises(exc_type) as info:
        func()
    assert isinstance(info.value, NodeError)
    assert info.value.code == code
    return info.value


def sockopts(sock: gnet.Socket) -> tuple[int, int, int | None]:
    """(TCP_NODELAY, SO_KEEPALIVE, TCP_KEEPIDLE) of ``sock``'s descriptor."""
    raw = socket.socket(fileno=os.dup(sock.fileno()))
    try:
        idle = None
        if hasattr(socket, "TCP_KEEPIDLE"):
            idle = raw.getsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPIDLE)
        return (
            raw.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY),
            raw.getsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE),
            idle,
        )
    finally:
        raw.close()


class Sink(gnet.EventEmitter):
    """A minimal pipe() destination: records what it is given, never pushes back."""

    def __init__(self) -> None:
        super().__init__()
        self.chunks: list[Any] = []
        self.ended = False

    def write(self, chunk: Any, *args: Any) -> bool:
        self.chunks.append(chunk)
        return True

    def end(self, *args: Any) -> None:
        self.ended = True


# ----------------------------------------------------------------------
# plain sockets: peers that send exactly what the test says

LINGER_0 = struct.pack("ii", 1, 0)  # struct linger {l_onoff=1, l_linger=0}: close() sends RST


def closed_port(host: str = "127.0.0.1") -> int:
    """A TCP port on ``host`` with (almost certainly) nothing listening: connects are refused."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family) as probe:
        probe.bind((host, 0))
        return int(probe.getsockname()[1])


def raw_client(
    port: int | None = None,
    host: str = "127.0.0.1",
    *,
    path: str | None = None,
    timeout: float = TIMEOUT,
    rcvbuf: int | None = None,
) -> gsocket.socket:
    """A connected plain (cooperative) TCP or UNIX client socket.

    ``rcvbuf`` fixes its receive buffer (no autotuning), so a sender that it
    does not read from is pushed back after a known, small amount.
    """
    family = socket.AF_UNIX if path is not None else socket.AF_INET
    sock = gsocket.socket(family, socket.SOCK_STREAM)
    try:
        sock.settimeout(timeout)
        if rcvbuf is not None:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        sock.connect(path if path is not None else (host, port))  # an IP literal: no resolver
    except BaseException:
        sock.close()
        raise
    return sock


def recv_exactly(sock: Any, n: int) -> bytes:
    """Exactly ``n`` bytes from ``sock``; EOFError if the peer ends first."""
    buf = bytearray()
    while len(buf) < n:
        chunk = sock.recv(min(n - len(buf), 1 << 20))
        if not chunk:
            raise EOFError(f"end of stream after {len(buf)} of {n} bytes")
        buf += chunk
    return bytes(buf)


def recv_all(sock: Any) -> bytes:
    """Everything until the peer's FIN."""
    buf = bytearray()
    while chunk := sock.recv(1 << 20):
        buf += chunk
    return bytes(buf)


def reset(sock: Any) -> None:
    """Close ``sock`` with an RST (SO_LINGER 0)."""
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, LINGER_0)
    finally:
        sock.close()


def dropped(sock: Any) -> bool:
    """Whether the peer ended the connection (EOF or reset), reading whatever comes first."""
    try:
        recv_all(sock)
    except ConnectionResetError:
        pass
    return True


def echo_ok(sock: Any, data: bytes) -> bool:
    """Whether an echo server behind ``sock`` sends ``data`` back."""
    sock.sendall(data)
    return recv_exactly(sock, len(data)) == data


def fill_backlog(port: int, host: str = "127.0.0.1") -> list[socket.socket]:
    """Fill the backlog of a listener (``listen(0)``, never accepting) on ``host:port``.

    Once full, the kernel drops new SYNs, so a connect there hangs as one to
    a black-holed address would.  Returns the filler sockets (close them).
    """
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    fillers = []
    for _ in range(4):
        filler = socket.socket(family)
        filler.setblocking(False)
        filler.connect_ex((host, port))
        fillers.append(filler)

    def first_connected() -> bool:
        try:
            fillers[0].getpeername()
            return True
        except OSError:
            return False

    wait_until(first_connected, message="the listener's backlog never took a connection")
    return fillers


def payload(size: int, seed: int = 1) -> bytes:
    """``size`` reproducible random bytes."""
    return random.Random(seed).randbytes(size)


# ----------------------------------------------------------------------
# subprocesses


def python_env() -> dict[str, str]:
    """The environment for a Python subprocess that imports this checkout's gnet."""
    return dict(os.environ, PYTHONPATH=str(ROOT), PYTHONUNBUFFERED="1")


def run_python(
    tmp_path: Path, source: str, *args: str, timeout: float = 60.0
) -> stdlib_subprocess.CompletedProcess[bytes]:
    """Run ``source`` (dedented) as a script to completion; its output is captured."""
    script = tmp_path / "script.py"
    script.write_text(textwrap.dedent(source))
    return stdlib_subprocess.run(
        [sys.executable, str(script), *args],
        capture_output=True,
        timeout=timeout,
        env=python_env(),
        check=False,
    )


class PipeReader:
    """Reads a subprocess's pipe without blocking the hub, with deadlines.

    ``text`` is everything read so far; ``expect`` finds lines one after the
    other.
    """

    def __init__(self, pipe: Any, context: Callable[[], str] | None = None) -> None:
        self.fd: int = pipe.fileno()
        self.context = context  # more to say when a wait fails (the other pipe, say)
        os.set_blocking(self.fd, False)
        self.data = b""
        self.eof = False
        self._line_start = 0  # where the next line expect() looks at starts

    @property
    def text(self) -> str:
        return self.data.decode(errors="replace")

    @property
    def rest(self) -> str:
        """What was read after the last line ``expect`` matched."""
        return self.data[self._line_start :].decode(errors="replace")

    def pump(self) -> bool:
        """Read what is available now; whether anything (or the end) came."""
        got = False
        while not self.eof:
            try:
                chunk = os.read(self.fd, 65536)
            except BlockingIOError:
                break
            got = True
            if not chunk:
                self.eof = True
            self.data += chunk
        return got

    def _fail(self, text: str) -> None:
        extra = f"; {self.context()}" if self.context is not None else ""
        pytest.fail(f"{text}; output so far {self.text[-3000:]!r}{extra}")

    def _wait(self, deadline: float, what: Callable[[], str]) -> None:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            self._fail(f"{what()} not within the deadline")
        gevent.select.select([self.fd], [], [], remaining)
        self.pump()

    def expect(self, pattern: str, timeout: float = TIMEOUT) -> re.Match[str]:
        """The first new complete line matching ``pattern``; later calls look after it."""
        regex = re.compile(pattern)
        deadline = time.monotonic() + timeout
        while True:
            self.pump()
            while True:
                end = self.data.find(b"\n", self._line_start)
                if end < 0:
                    break
                line = self.data[self._line_start : end].decode(errors="replace")
                self._line_start = end + 1
                match = regex.search(line)
                if match:
                    return match
            if self.eof:
                self._fail(f"the pipe ended before a line matching {pattern!r}")
            self._wait(deadline, lambda: f"a line matching {pattern!r}")

    def wait_for(self, needle: str, timeout: float = TIMEOUT) -> None:
        """Until ``needle`` appears anywhere in the output."""
        deadline = time.monotonic() + timeout
        while needle not in self.text:
            if self.eof:
                self._fail(f"the pipe ended before {needle!r}")
            self._wait(deadline, lambda: repr(needle))

    def read_to_eof(self, timeout: float = TIMEOUT) -> str:
        """Everything until the writer closes its end."""
        deadline = time.monotonic() + timeout
        self.pump()
        while not self.eof:
            self._wait(deadline, lambda: "the end of the output")
        return self.text


# ----------------------------------------------------------------------
# interop: real Node and netcat processes

PROC_TIMEOUT = 10.0  # seconds, for any one interop subprocess
NODE_DIR = Path(__file__).resolve().parent / "node"


@contextmanager
def spawn(argv: list[str], **kwargs: Any) -> Iterator[gsubprocess.Popen]:
    """A gevent (cooperative) subprocess, killed and reaped on exit whatever happens."""
    proc = gsubprocess.Popen(
        argv,
        stdin=gsubprocess.PIPE,
        stdout=gsubprocess.PIPE,
        stderr=gsubprocess.PIPE,
        **kwargs,
    )
    try:
        yield proc
    finally:
        if proc.poll() is None:
            proc.kill()
        try:
            proc.communicate(timeout=PROC_TIMEOUT)
        except (gsubprocess.TimeoutExpired, ValueError, OSError):
            pass
        for pipe in (proc.stdin, proc.stdout, proc.stderr):
            if pipe is not None:
                pipe.close()
        proc.wait()


def node_argv(script: str, *args: str) -> list[str]:
    """``node tests/node/<script> args...``; fails in CI (skips elsewhere) without node."""
    return [require_tool("node"), str(NODE_DIR / script), *args]


def read_json_line(proc: gsubprocess.Popen, what: str) -> Any:
    """The next stdout line of ``proc`` as JSON, within PROC_TIMEOUT."""
    with gevent.Timeout(PROC_TIMEOUT, AssertionError(f"no {what} from {proc.args!r}")):
        line = proc.stdout.readline()
    if not line:
        err = proc.stderr.read().decode(errors="replace") if proc.poll() is not None else ""
        raise AssertionError(f"{proc.args!r} printed no {what}; stderr: {err}")
    return json.loads(line)


def js(value: Any) -> str:
    """A value as JavaScript's template literal prints it."""
    if value is True:
        return "true"
    if value is False:
        return "false"
    return "null" if value is None else str(value)


def err_name(err: Any) -> str:
    """An error as tests/node/scenarios.js logs it: its code, else its message."""
    if err is None:
        return "null"
    return str(getattr(err, "code", None) or err)


def fmt_event(event: str, args: tuple[Any, ...]) -> str:
    """One event as tests/node/*.js log it: ``close:<had_error>``, ``error:<code>``, the name."""
    if event == "close":
        return f"close:{js(bool(args[0]))}" if args else "close"
    if event == "error":
        return f"error:{err_name(args[0])}"
    return event


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
        self.events.append(fmt_event(event, args))
        if event == "close":
            self.closed.set()

    def _data(self, chunk: bytes) -> None:
        if not self.events or self.events[-1] != "data":
            self.events.append("data")
        self.received += len(chunk)
        self.digest.update(chunk)

    def wait(self) -> None:
        assert self.closed.wait(PROC_TIMEOUT), f"socket never closed; events {self.events}"


def send_all(sock: gnet.Socket, data: bytes, then: Callable[[], Any]) -> None:
    """Write ``data`` in 64 KiB pieces, waiting for 'drain' on backpressure; then ``then()``."""
    view = memoryview(data)
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
