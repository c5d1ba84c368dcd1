"""Smoke tests of examples/: each runs as a subprocess on port 0 and is talked to over TCP.

The examples print the port they bound; the tests read it from their
stdout (with a deadline), then talk to them with plain sockets with
timeouts.  Every process is terminated and every pipe closed at the end.
The last section imports one example's class and uses it in process.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, Any

import gevent
import pytest
import zope.event

import gnet
from support import (
    ROOT,
    TIMEOUT,
    PipeReader,
    closed_port,
    echo_handler,
    listen_local,
    python_env,
    raw_client,
    recv_all,
)

EXAMPLES = ROOT / "examples"


class Example:
    """A running example script; ``expect(regex)`` waits for a line of its stdout."""

    def __init__(self, name: str, *args: str, stderr: IO[bytes]) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, str(EXAMPLES / name), *args],
            stdout=subprocess.PIPE,
            stderr=stderr,
            cwd=ROOT,
            env=python_env(),
        )
        self._stderr = stderr
        self.out = PipeReader(self.proc.stdout, context=self.stderr)

    def expect(self, pattern: str, timeout: float = 2 * TIMEOUT) -> re.Match[str]:
        """The first new stdout line matching ``pattern`` (fails after ``timeout``)."""
        return self.out.expect(pattern, timeout)

    def port(self, pattern: str) -> int:
        return int(self.expect(pattern).group("port"))

    def stderr(self) -> str:
        self._stderr.flush()
        self._stderr.seek(0)
        return "stderr: " + self._stderr.read().decode(errors="replace")[-3000:]

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        assert self.proc.stdout is not None
        self.proc.stdout.close()


@pytest.fixture
def run_example(tmp_path: Path) -> Iterator[Callable[..., Example]]:
    started: list[tuple[Example, IO[bytes]]] = []

    def start(name: str, *args: str) -> Example:
        stderr = open(tmp_path / f"{name}.{len(started)}.stderr", "w+b")
        example = Example(name, *args, stderr=stderr)
        started.append((example, stderr))
        return example

    yield start
    for example, stderr in started:
        example.stop()
        stderr.close()


ECHO_PORT = r"'port': (?P<port>\d+)"


# ----------------------------------------------------------------------
# echo_server.py / echo_client.py


def test_echo_server(run_example: Callable[..., Example]) -> None:
    server = run_example("echo_server.py", "0")
    port = server.port(ECHO_PORT)
    with raw_client(port) as s, s.makefile("rb") as f:
        assert f.readline() == b"hello\r\n"
        s.sendall(b"ping\n")
        assert f.readline() == b"ping\n"
        s.sendall(b"x" * 100_000 + b"\n")
        assert f.readline() == b"x" * 100_000 + b"\n"
        s.shutdown(socket.SHUT_WR)
        assert f.read() == b""  # the echo ends when we do
    server.expect("client connected")
    server.expect("client disconnected")


def test_echo_server_unix_socket(run_example: Callable[..., Example], tmp_path: Path) -> None:
    path = str(tmp_path / "echo.sock")
    server = run_example("echo_server.py", path)
    server.expect("server bound on")
    with raw_client(path=path) as s:
        s.sendall(b"over unix\n")
        s.shutdown(socket.SHUT_WR)
        assert recv_all(s) == b"hello\r\nover unix\n"


def test_echo_client(run_example: Callable[..., Example]) -> None:
    server = run_example("echo_server.py", "0")
    port = server.port(ECHO_PORT)
    proc = subprocess.run(
        [sys.executable, str(EXAMPLES / "echo_client.py"), str(port), "first", "second message"],
        capture_output=True,
        timeout=30,
        cwd=ROOT,
        env=python_env(),
        check=False,
    )
    assert proc.returncode == 0, proc.stderr.decode()
    assert proc.stdout.decode().splitlines() == ["hello", "first", "second message"]


# ----------------------------------------------------------------------
# line_server.py


LINE_PORT = r"listening on 127\.0\.0\.1:(?P<port>\d+)"


def test_line_server_commands(run_example: Callable[..., Example]) -> None:
    server = run_example("line_server.py", "0")
    port = server.port(LINE_PORT)
    with raw_client(port) as s, s.makefile("rb") as f:
        s.sendall(b"ECHO hello world\nADD 1 2\n")
        assert f.readline() == b"hello world\n"
        assert f.readline() == b"3\n"
        s.sendall(b"ADD 1.5 2 -1\nUPPER gr\xc3\xbc\xc3\x9fe\nNOPE\nADD x\n")
        assert f.readline() == b"2.5\n"
        assert f.readline() == "GRÜSSE\n".encode()
        assert f.readline().startswith(b"ERR")
        assert f.readline().startswith(b"ERR")
        s.sendall(b"QUIT\nECHO ignored\n")
        assert f.readline() == b"BYE\n"
        assert f.read() == b""  # the server ended the connection after BYE
    server.expect("done")


def test_line_server_client_ends_first_and_many_clients(
    run_example: Callable[..., Example],
) -> None:
    server = run_example("line_server.py", "0")
    port = server.port(LINE_PORT)
    clients = [raw_client(port) for _ in range(20)]
    try:
        for i, s in enumerate(clients):
            s.sendall(b"ADD %d %d\n" % (i, i))
        for i, s in enumerate(clients):
            s.shutdown(socket.SHUT_WR)  # no QUIT: the end of stream ends the session
            assert recv_all(s) == b"%d\n" % (2 * i)
    finally:
        for s in clients:
            s.close()


def test_line_server_line_too_long(run_example: Callable[..., Example]) -> None:
    server = run_example("line_server.py", "0")
    port = server.port(LINE_PORT)
    with raw_client(port) as s:
        s.sendall(b"ECHO " + b"x" * 10_000 + b"\n")
        s.shutdown(socket.SHUT_WR)
        assert recv_all(s) == b"ERR line too long\n"


# ----------------------------------------------------------------------
# header_proxy.py


PROXY_PORT = r"listening on 127\.0\.0\.1:(?P<port>\d+)"


def test_header_proxy_to_the_echo_server(run_example: Callable[..., Example]) -> None:
    echo_port = run_example("echo_server.py", "0").port(ECHO_PORT)
    proxy_port = run_example("header_proxy.py", "0").port(PROXY_PORT)
    with raw_client(proxy_port) as s, s.makefile("rb") as f:
        # Data right behind the header, in the same packet: must not be lost.
        s.sendall(b"CONNECT 127.0.0.1:%d\nearly bird\n" % echo_port)
        assert f.readline() == b"OK\n"
        assert f.readline() == b"hello\r\n"  # the echo server's greeting
        assert f.readline() == b"early bird\n"
        s.sendall(b"second\n")
        assert f.readline() == b"second\n"
        s.shutdown(socket.SHUT_WR)  # our FIN travels through the proxy and back
        assert f.read() == b""


def test_header_proxy_big_transfer(run_example: Callable[..., Example]) -> None:
    echo_port = run_example("echo_server.py", "0").port(ECHO_PORT)
    proxy_port = run_example("header_proxy.py", "0").port(PROXY_PORT)
    data = os.urandom(3 << 20)
    with raw_client(proxy_port) as s:
        s.sendall(b"CONNECT 127.0.0.1:%d\n" % echo_port)

        def send() -> None:
            s.sendall(data)
            s.shutdown(socket.SHUT_WR)

        sender = gevent.spawn(send)  # s is a gevent socket: a greenlet sends while we read
        try:
            got = recv_all(s)
        finally:
            sender.join(TIMEOUT)
    assert got[:10] == b"OK\nhello\r\n"
    assert len(got) == 10 + len(data)
    assert got[10:] == data


def test_header_proxy_by_host_name(run_example: Callable[..., Example]) -> None:
    echo_port = run_example("echo_server.py", "0").port(ECHO_PORT)
    proxy_port = run_example("header_proxy.py", "0").port(PROXY_PORT)
    with raw_client(proxy_port) as s:
        s.sendall(b"CONNECT localhost:%d\nvia a name\n" % echo_port)
        s.shutdown(socket.SHUT_WR)
        assert recv_all(s) == b"OK\nhello\r\nvia a name\n"


@pytest.mark.parametrize(
    "header",
    [b"CONNECT 127.0.0.1:%d\n" % closed_port(), b"GET / HTTP/1.0\n", b"CONNECT nowhere\n"],
    ids=["refused", "not_connect", "no_port"],  # stable ids: the port differs each run
)
def test_header_proxy_errors(run_example: Callable[..., Example], header: bytes) -> None:
    proxy_port = run_example("header_proxy.py", "0").port(PROXY_PORT)
    with raw_client(proxy_port) as s:
        s.sendall(header)
        s.shutdown(socket.SHUT_WR)
        reply = recv_all(s)
    assert reply.startswith(b"ERR ") and reply.endswith(b"\n") and reply.count(b"\n") == 1


# ----------------------------------------------------------------------
# wsgi_and_tcp.py


def test_wsgi_and_tcp(run_example: Callable[..., Example]) -> None:
    example = run_example("wsgi_and_tcp.py", "0", "0")
    http_port = example.port(r"http listening on http://127\.0\.0\.1:(?P<port>\d+)/")
    tcp_port = example.port(r"tcp listening on 127\.0\.0\.1:(?P<port>\d+)")

    import urllib.request

    with urllib.request.urlopen(f"http://127.0.0.1:{http_port}/greet?name=web", timeout=10) as r:
        assert r.read() == b"hello, web\n"

    with raw_client(tcp_port) as s, s.makefile("rb") as f:
        s.sendall(b"alice\nbob\n")
        assert f.readline() == b"hello, alice\n"
        assert f.readline() == b"hello, bob\n"
        s.sendall("zoë\n".encode())
        assert f.readline() == "hello, zoë\n".encode()
        s.shutdown(socket.SHUT_WR)
        assert f.read() == b""


def test_wsgi_and_tcp_clients_are_concurrent(run_example: Callable[..., Example]) -> None:
    example = run_example("wsgi_and_tcp.py", "0", "0")
    example.expect("http listening")
    tcp_port = example.port(r"tcp listening on 127\.0\.0\.1:(?P<port>\d+)")
    clients = [raw_client(tcp_port) for _ in range(30)]
    try:
        for i, s in enumerate(clients):
            s.sendall(b"c%d\n" % i)
            s.shutdown(socket.SHUT_WR)
        for i, s in enumerate(clients):
            assert recv_all(s) == b"hello, c%d\n" % i
    finally:
        for s in clients:
            s.close()


# ----------------------------------------------------------------------
# diagnostics_counters.py


def test_example_diagnostics_counters(tmp_path: Path) -> None:
    # The example runs its own clients and exits, printing its counters.
    stderr_path = tmp_path / "stderr.txt"
    with open(stderr_path, "wb") as stderr:
        proc = subprocess.Popen(
            [sys.executable, str(EXAMPLES / "diagnostics_counters.py"), "0"],
            stdout=subprocess.PIPE,
            stderr=stderr,
            cwd=tmp_path,
            env=python_env(),
        )
        try:
            out = PipeReader(proc.stdout).read_to_eof(timeout=30.0)
            proc.wait(timeout=5)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait(5)
            assert proc.stdout is not None
            proc.stdout.close()
    assert proc.returncode == 0, f"exit {proc.returncode}; stderr: {stderr_path.read_text()}"
    match = re.search(r"listening on 127\.0\.0\.1:(\d+)", out)
    assert match and int(match.group(1)) > 0, out
    counters = dict(re.findall(r"^(\w+): (\d+)$", out, re.MULTILINE))
    assert {k: int(v) for k, v in counters.items()} == {
        "listening": 1,
        "accepted": 4,
        "closed": 4,
        "bytes_in": 3 * len(b"hello 0\n") + len(b"boom\n"),
        "bytes_out": 3 * len(b"hello 0\n"),
        "errors": 1,
        "client_connects": 4,
        "client_failures": 1,
        "listener_exceptions": 1,
    }, out


def test_example_counters_class_in_process(track: Any) -> None:
    # The subscriber class itself, imported: counts a gnet echo exchange.
    sys.path.insert(0, str(EXAMPLES))
    try:
        import diagnostics_counters
    finally:
        sys.path.remove(str(EXAMPLES))

    counters = diagnostics_counters.Counters()
    with counters.installed():
        server: gnet.Server = track(gnet.create_server(echo_handler))
        port = listen_local(server)
        with gnet.open_connection(port, "127.0.0.1", timeout=TIMEOUT) as peer:
            peer.sendall(b"12345", timeout=TIMEOUT)
            assert peer.recv_exactly(5, timeout=TIMEOUT) == b"12345"
        counters.wait_until_all_closed(TIMEOUT)
    assert counters not in zope.event.subscribers
    snap = counters.snapshot()
    assert snap["listening"] == 1
    assert snap["accepted"] == snap["closed"] == 1
    assert snap["bytes_in"] == snap["bytes_out"] == 5
    assert snap["errors"] == snap["listener_exceptions"] == snap["client_failures"] == 0
    assert snap["client_connects"] == 1
