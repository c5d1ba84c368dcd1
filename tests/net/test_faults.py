"""Faults: isolation of failing handlers and misbehaving peers, EMFILE, a fault mix.

API.md principle 6: an exception that escapes a listener or handler destroys
only that connection (``'close'`` with ``had_error=True``), is logged with its
traceback on the ``"gnet"`` logger, and the server keeps serving; nothing
leaks.  Also the accept back-off on EMFILE (in a subprocess with a low
RLIMIT_NOFILE) and a mix of 2000 misbehaving clients.

Peers are plain gevent sockets (cooperative, so they share the hub with the
gnet server under test) unless a gnet client is the point.  Listeners only
record; the test body asserts.  Every wait is on an event, bounded.
"""

from __future__ import annotations

import logging
import select
import socket
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import gevent
import gevent.pool
import pytest

import gnet
from support import (
    TIMEOUT,
    Closes,
    Collector,
    PipeReader,
    describe_fd,
    dropped,
    echo_ok,
    listen_local,
    live_greenlets,
    open_fds,
    port_of,
    python_env,
    raw_client,
    recv_all,
    recv_exactly,
    reset,
    tracked_client,
    wait_until,
)


def lines(tag: int, size: int) -> bytes:
    """About ``size`` bytes of newline-terminated lines, never containing ``boom``."""
    line = (b"%06d " % tag) + b"the quick brown fox jumps over the lazy dog 0123456789\n"
    count = max(1, size // len(line))
    return line * count


# ----------------------------------------------------------------------
# an exception escaping a handler ends only that connection


def _node_connection_listener_fails(conns: list[gnet.Socket], errors: list[BaseException]) -> Any:
    def handler(conn: gnet.Socket) -> None:
        conn.on("data", conn.write)
        if len(conns) == 2 and conn is conns[1]:  # the second client is the bad one
            errors.append(RuntimeError("boom in the connection listener"))
            raise errors[-1]

    return handler


def _node_data_listener_fails(conns: list[gnet.Socket], errors: list[BaseException]) -> Any:
    def handler(conn: gnet.Socket) -> None:
        def on_data(chunk: bytes) -> None:
            if b"boom" in chunk:
                errors.append(RuntimeError("boom in a data listener"))
                raise errors[-1]
            conn.write(chunk)

        conn.on("data", on_data)

    return handler


def _straight_line_fails(conns: list[gnet.Socket], errors: list[BaseException]) -> Any:
    def handler(conn: gnet.Socket) -> None:
        while True:
            line = conn.readline()
            if not line:
                conn.end()
                return
            if line == b"boom\n":
                errors.append(RuntimeError("boom in a straight-line handler"))
                raise errors[-1]
            conn.sendall(line)

    return handler


def _straight_line_with_block_fails(conns: list[gnet.Socket], errors: list[BaseException]) -> Any:
    # API.md: "def handle(sock): with sock: ..." is the documented shape.
    def handler(conn: gnet.Socket) -> None:
        with conn:
            while True:
                line = conn.readline()
                if not line:
                    return
                if line == b"boom\n":
                    errors.append(RuntimeError("boom inside with sock"))
                    raise errors[-1]
                conn.sendall(line)

    return handler


HANDLERS = {
    "connection listener": _node_connection_listener_fails,
    "data listener": _node_data_listener_fails,
    "straight-line handler": _straight_line_fails,
    "straight-line with-block": _straight_line_with_block_fails,
}


@pytest.mark.parametrize("where", list(HANDLERS))
def test_handler_exception__ends_only_that_connection(
    track: Any, caplog: pytest.LogCaptureFixture, where: str
) -> None:
    conns: list[gnet.Socket] = []
    errors: list[BaseException] = []
    closes = Closes()

    def watch(conn: gnet.Socket) -> None:  # the first 'connection' listener: records only
        conns.append(conn)
        closes.watch(conn)

    server: gnet.Server = track(gnet.create_server())
    server.on("connection", watch)
    server.on("connection", HANDLERS[where](conns, errors))
    port = listen_local(server)
    with caplog.at_level(logging.ERROR, logger="gnet"):
        bystander = track(raw_client(port))
        assert echo_ok(bystander, b"before\n")
        bad = track(raw_client(port))
        bad.sendall(b"boom\n")
        closes.wait_for(lambda: len(closes.calls) >= 1)
        assert dropped(bad)
        # The others are unaffected: the one already connected and a new one.
        assert echo_ok(bystander, b"after\n")
        newcomer = track(raw_client(port))
        assert echo_ok(newcomer, b"new\n")
    assert len(errors) == 1
    assert closes.calls == [(conns[1], True)], "only the failing connection closes, with an error"
    assert conns[0].destroyed is False
    assert server.listening is True
    assert server.connections == 2
    logged = [
        r
        for r in caplog.records
        if r.name.startswith("gnet") and r.exc_info is not None and r.exc_info[1] is errors[0]
    ]
    assert logged, f"the exception was not logged with its traceback on 'gnet': {caplog.text}"
    assert logged[0].levelno >= logging.ERROR
    assert "Traceback" in caplog.text and str(errors[0]) in caplog.text


def test_handler_exception__gnet_client_listener_isolated(
    track: Any, caplog: pytest.LogCaptureFixture
) -> None:
    # The same rule for a client socket: its listener raising destroys only it.
    server: gnet.Server = track(gnet.create_server(lambda conn: conn.pipe(conn)))
    port = listen_local(server)
    failure = RuntimeError("boom in a client data listener")
    closes = Closes()

    def on_data(chunk: bytes) -> None:
        raise failure

    with caplog.at_level(logging.ERROR, logger="gnet"):
        bad: gnet.Socket = track(gnet.connect(port, "127.0.0.1"))
        closes.watch(bad)
        bad.on("data", on_data)
        bad.write(b"echo me")
        good: gnet.Socket = track(gnet.open_connection(port, "127.0.0.1", timeout=TIMEOUT))
        closes.watch(good)
        closes.wait_for(lambda: bool(closes.of(bad)))
        good.sendall(b"fine", timeout=TIMEOUT)
        assert good.recv_exactly(4, timeout=TIMEOUT) == b"fine"
    assert closes.of(bad) == [True]
    assert closes.of(good) == []
    assert any(r.exc_info is not None and r.exc_info[1] is failure for r in caplog.records)


def test_server__listener_exception_destroys_only_that_connection(
    track: Any, caplog: pytest.LogCaptureFixture
) -> None:
    # API.md principle 6: an exception escaping the connection listener
    # destroys that connection ('close' with had_error True) and is logged on
    # "gnet"; the server keeps serving.
    closes = Collector()
    count: list[int] = []

    def handler(conn: gnet.Socket) -> None:
        conn.on("close", closes)
        count.append(1)
        if len(count) == 1:
            raise RuntimeError("boom in handler")
        conn.end(b"fine")

    server: gnet.Server = track(gnet.create_server(handler))
    port = listen_local(server)
    with caplog.at_level(logging.ERROR, logger="gnet"):
        bad = tracked_client(track, port, "127.0.0.1")
        bad.resume()
        closes.wait(1)
    assert closes.firsts == [True]
    assert "boom in handler" in caplog.text
    good: gnet.Socket = track(gnet.open_connection(port, "127.0.0.1", timeout=TIMEOUT))
    assert good.recv_exactly(4, timeout=TIMEOUT) == b"fine"
    assert server.listening is True


def test_connect_listener_exception__is_isolated_not_a_connect_error(
    server_factory: Any, track: Any, caplog: Any
) -> None:
    # A bug in a 'connectionAttempt' listener is a listener exception
    # (logged with its traceback, 'close'(true)), not an 'error' event
    # disguised as a failed connect; the attempt's descriptor is closed
    # (the leak check would fail otherwise).
    conn = gnet.Socket()
    track(conn)
    conn.on("connectionAttempt", lambda *args: 1 / 0)
    errors: list[Any] = []
    conn.on("error", errors.append)
    conn.connect(port_of(server_factory()), "127.0.0.1")
    assert gnet.once(conn, "close", timeout=TIMEOUT) == (True,)
    assert errors == []
    assert any(r.exc_info and r.exc_info[0] is ZeroDivisionError for r in caplog.records)


# ----------------------------------------------------------------------
# an 'error' event nobody listens to destroys just that socket


@pytest.mark.parametrize("cause", ["peer reset", "write after end"])
def test_unhandled_error_event__destroys_only_that_socket(track: Any, cause: str) -> None:
    conns: list[gnet.Socket] = []
    closes = Closes()

    def handler(conn: gnet.Socket) -> None:  # no 'error' listener, on purpose
        conns.append(conn)
        closes.watch(conn)

        def on_data(chunk: bytes) -> None:
            if chunk == b"end then write\n":
                conn.end(b"bye\n")
                conn.write(b"after end")  # ERR_STREAM_WRITE_AFTER_END, as an 'error' event
            else:
                conn.write(chunk)

        conn.on("data", on_data)

    server: gnet.Server = track(gnet.create_server(handler))
    port = listen_local(server)
    bystander = track(raw_client(port))
    assert echo_ok(bystander, b"before\n")
    bad = raw_client(port)
    try:
        if cause == "peer reset":
            assert echo_ok(bad, b"accepted\n")  # the server side is up and reading
            reset(bad)
        else:
            bad.sendall(b"end then write\n")
            assert dropped(bad)
    finally:
        bad.close()
    closes.wait_for(lambda: len(closes.calls) >= 1)
    assert closes.calls == [(conns[1], True)]
    err = conns[1].errored
    if cause == "peer reset":
        assert isinstance(err, ConnectionResetError), err
        assert getattr(err, "code", None) == "ECONNRESET"
    else:
        assert getattr(err, "code", None) == "ERR_STREAM_WRITE_AFTER_END", err
    assert echo_ok(bystander, b"after\n")
    newcomer = track(raw_client(port))
    assert echo_ok(newcomer, b"new\n")
    assert server.listening is True
    assert server.connections == 2


# ----------------------------------------------------------------------
# EMFILE: the accept loop backs off, logs, and recovers


EMFILE_SERVER = """
import logging, os, resource, sys

import gevent
import zope.event

import gnet
import gnet.diagnostics

logging.basicConfig(
    stream=sys.stderr, level=logging.WARNING, format="%(name)s %(levelname)s %(message)s"
)
ROOM = int(sys.argv[1])  # descriptors left free for accepted connections


def open_fds():
    fds = set()
    for name in os.listdir("/proc/self/fd"):
        try:
            os.readlink(f"/proc/self/fd/{name}")  # the listdir's own fd is gone by now
        except OSError:
            continue
        fds.add(int(name))
    return fds


def on_connection(conn):
    conn.on("error", lambda err: None)
    conn.pipe(conn)


def on_event(event):
    if isinstance(event, gnet.diagnostics.AcceptFailed):
        print(f"AcceptFailed {event.error.code} backoff {event.backoff}", file=sys.stderr, flush=True)


zope.event.subscribers.append(on_event)
server = gnet.create_server(on_connection)
server.listen(0, "127.0.0.1")
gnet.once(server, "listening", timeout=10)
gevent.sleep(0)
used = open_fds()
# Descriptors above the limit stay usable; only new ones must be below it, so
# exactly ROOM numbers are left free for accepted connections.
limit, free = 0, 0
while free < ROOM:
    if limit not in used:
        free += 1
    limit += 1
_soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
resource.setrlimit(resource.RLIMIT_NOFILE, (limit, hard))
print(f"port {server.address()['port']} limit {limit} room {ROOM}", flush=True)
gnet.run()
"""


def test_emfile_on_accept__server_survives_logs_and_recovers(tmp_path: Path) -> None:
    room, n_clients = 3, 8
    script = tmp_path / "emfile_server.py"
    script.write_text(textwrap.dedent(EMFILE_SERVER))
    proc = subprocess.Popen(
        [sys.executable, str(script), str(room)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=tmp_path,
        env=python_env(),
    )
    clients: list[socket.socket] = []
    try:
        assert proc.stdout is not None and proc.stderr is not None
        out, err = PipeReader(proc.stdout), PipeReader(proc.stderr)
        port = int(out.expect(r"^port (\d+) ", timeout=15.0).group(1))

        # More clients than the server has descriptors for: the kernel completes
        # every handshake (backlog), the server can only accept `room` of them.
        for i in range(n_clients):
            sock = socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT)
            clients.append(sock)
            sock.sendall(b"ping %d\n" % i)
        served: set[int] = set()

        def collect(deadline: float, done: Callable[[], bool], close_served: bool) -> None:
            while not done():
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise AssertionError(
                        f"served {sorted(served)} of {n_clients}; server log: {err.text!r}"
                    )
                waiting = {clients[i].fileno(): i for i in range(n_clients) if i not in served}
                ready, _, _ = select.select([*waiting, err.fd], [], [], remaining)
                err.pump()
                for fd in ready:
                    if fd in waiting:
                        i = waiting[fd]
                        expected = b"ping %d\n" % i
                        assert recv_exactly(clients[i], len(expected)) == expected
                        served.add(i)
                        if close_served:
                            clients[i].close()

        # Phase 1: the server runs out of descriptors, logs it, keeps running.
        # Until the log line: the AcceptFailed line (published first) says EMFILE too.
        collect(time.monotonic() + 15.0, lambda: "gnet.server WARNING" in err.text, close_served=False)
        assert proc.poll() is None, f"the server died: {err.text!r}"
        assert len(served) <= room
        assert len(served) < n_clients
        assert "gnet.server WARNING" in err.text and "accept" in err.text, err.text
        # Published before the log line, with the back-off the server waits.
        assert "AcceptFailed EMFILE backoff 0.01" in err.text, err.text
        assert err.text.index("AcceptFailed") < err.text.index("gnet.server WARNING")
        # Phase 2: the served clients leave; the waiting ones are accepted and served.
        for i in served:
            clients[i].close()
        collect(time.monotonic() + 15.0, lambda: len(served) == n_clients, close_served=True)
        with socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT) as late:
            late.sendall(b"late\n")
            assert recv_exactly(late, 5) == b"late\n"
        assert proc.poll() is None, f"the server died: {err.text!r}"
        assert "Traceback" not in err.text, err.text
        # Backing off, not spinning: a handful of failed accepts, not thousands.
        assert err.text.count("accept failed") < 100, err.text.count("accept failed")
    finally:
        for sock in clients:
            sock.close()
        if proc.poll() is None:
            proc.kill()
        proc.wait(5)
        for pipe in (proc.stdout, proc.stderr):
            if pipe is not None:
                pipe.close()


# ----------------------------------------------------------------------
# the fault mix: 2000 misbehaving clients


N_CLIENTS = 2000


CONCURRENCY = 200


IDLE_MS = 1000  # the server's set_timeout: idle connections are destroyed


KINDS = ("normal", "half_close", "rst", "vanish", "boom", "idle")


def node_style_echo(conn: gnet.Socket) -> None:
    """Node's echo with pipe; a 'data' listener that raises on ``boom``; no 'error' listener."""
    conn.set_timeout(IDLE_MS, conn.destroy)

    def on_data(chunk: bytes) -> None:
        if b"boom" in chunk:
            raise RuntimeError("boom")

    conn.on("data", on_data)
    conn.pipe(conn)


def straight_line_echo(conn: gnet.Socket) -> None:
    """The same server as blocking code: a line ``boom`` raises."""
    conn.set_timeout(IDLE_MS, conn.destroy)
    with conn:
        while True:
            line = conn.readline()
            if not line:
                return
            if line == b"boom\n":
                raise RuntimeError("boom")
            conn.sendall(line)


def mix_client(port: int, i: int) -> str | None:
    """One misbehaving (or normal) client; returns a failure description or None."""
    kind = KINDS[i % len(KINDS)]
    try:
        sock = raw_client(port, timeout=10.0)
    except OSError as exc:
        return f"{kind} #{i}: connect failed: {exc!r}"
    try:
        if kind == "normal":
            payload = lines(i, 1 + (i * 7919) % 32768)
            if not echo_ok(sock, payload):
                return f"normal #{i}: wrong echo"
        elif kind == "half_close":
            payload = lines(i, 1 + (i * 104729) % 8192)
            sock.sendall(payload)
            sock.shutdown(socket.SHUT_WR)
            got = recv_all(sock)
            if got != payload:
                return f"half_close #{i}: {len(got)} of {len(payload)} bytes echoed"
        elif kind == "rst":
            reset(sock)
        elif kind == "vanish":
            big = lines(i, 256 * 1024)
            sock.sendall(big[: 64 * 1024 + i % 1000])
            reset(sock)
        elif kind == "boom":
            sock.sendall(b"boom\n")
            dropped(sock)
        elif kind == "idle":
            started = time.monotonic()
            dropped(sock)
            if time.monotonic() - started < IDLE_MS / 1000 / 2:
                return f"idle #{i}: dropped after {time.monotonic() - started:.3f} s"
    except Exception as exc:  # noqa: BLE001 - reported, not raised, so all clients finish
        return f"{kind} #{i}: {exc!r}"
    finally:
        sock.close()
    return None


class Records(logging.Handler):
    """Keeps the records of the "gnet" logger, unformatted (formatting hundreds of
    tracebacks would dominate the fault mix's run time)."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.fixture
def gnet_records() -> Iterator[Records]:
    """The "gnet" logger's records go here only, not to pytest's (formatting) capture."""
    logger = logging.getLogger("gnet")
    handler = Records()
    saved = logger.propagate, logger.level
    logger.addHandler(handler)
    logger.propagate = False
    logger.setLevel(logging.WARNING)
    try:
        yield handler
    finally:
        logger.removeHandler(handler)
        logger.propagate, logger.level = saved


@pytest.mark.parametrize("handler", [node_style_echo, straight_line_echo], ids=["node", "straight"])
def test_fault_mix__server_survives_and_leaks_nothing(
    track: Any, gnet_records: Records, handler: Callable[[gnet.Socket], None]
) -> None:
    gevent.sleep(0)
    fds_before = open_fds()
    greenlets_before = set(map(id, live_greenlets()))
    closes = Closes()
    server: gnet.Server = track(gnet.create_server())
    server.on("connection", closes.watch)  # first: the handler may block or raise
    server.on("connection", handler)
    port = listen_local(server)
    started = time.monotonic()
    pool = gevent.pool.Pool(CONCURRENCY)
    with gevent.Timeout(60, AssertionError("the fault mix did not finish within 60 s")):
        results = pool.map(lambda i: mix_client(port, i), range(N_CLIENTS))
    failures = [r for r in results if r is not None]
    assert failures == [], f"{len(failures)} clients failed, e.g. {failures[:10]}"

    # Every accepted connection closes, and the server counts none.
    closes.wait_for(lambda: len(closes.calls) == len(closes.watched), timeout=15.0)
    assert len(closes.watched) >= N_CLIENTS * 4 // 6  # all but the RST ones surely got accepted
    assert server.connections == 0
    assert len({id(c) for c, _ in closes.calls}) == len(closes.calls), "a 'close' fired twice"
    # No descriptor leaked: only the listening socket is new.
    # (closes are asynchronous: wait for them to settle)
    wait_until(
        lambda: open_fds() - fds_before <= {server.fileno()},
        message=lambda: repr({fd: describe_fd(fd) for fd in open_fds() - fds_before}),
        interval=0.01,
    )
    assert len(open_fds()) <= len(fds_before) + 1

    # The server still serves a normal client correctly.
    with raw_client(port) as sock:
        payload = lines(123456, 20000)
        assert echo_ok(sock, payload)
    closes.wait_for(lambda: len(closes.calls) == len(closes.watched))
    assert server.connections == 0

    # No greenlet leaked once the server is closed too.
    server.close()
    gnet.once(server, "close", timeout=TIMEOUT)
    wait_until(
        lambda: not [g for g in live_greenlets() if id(g) not in greenlets_before],
        message=lambda: repr([g for g in live_greenlets() if id(g) not in greenlets_before]),
        interval=0.01,
    )
    elapsed = time.monotonic() - started
    assert elapsed < 30, f"the fault mix took {elapsed:.1f} s"

    # Principle 6, under load: each 'boom' raised by the handler was logged
    # with its traceback (exc_info), at ERROR, once.
    n_boom = len(range(KINDS.index("boom"), N_CLIENTS, len(KINDS)))
    booms = [
        r
        for r in gnet_records.records
        if r.exc_info is not None
        and isinstance(r.exc_info[1], RuntimeError)
        and str(r.exc_info[1]) == "boom"
    ]
    assert len(booms) == n_boom, (
        f"{len(booms)} of {n_boom} handler exceptions logged with a traceback; "
        f"e.g. {[(r.levelname, r.getMessage()) for r in gnet_records.records[:3]]}"
    )
    assert all(r.levelno >= logging.ERROR for r in booms)
