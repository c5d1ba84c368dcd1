"""``gnet echo|proxy --metrics ADDRESS``, run as real processes and scraped over HTTP.

The test drives N connections and M bytes through the command with stdlib
sockets, scrapes ``/metrics`` with ``http.client`` and parses the text with
prometheus-client's own parser: the values must be what the test did.
"""

from __future__ import annotations

import http.client
import os
import select
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

prometheus_client = pytest.importorskip(
    "prometheus_client", reason="prometheus-client not installed"
)
from prometheus_client.parser import text_string_to_metric_families  # noqa: E402

TIMEOUT = 15.0
GREETING = b"hello\r\n"
PAYLOADS = [b"a", b"b" * 100, b"c" * 10_000, b"d" * 300_000]


class Command:
    """A running ``python -m gnet ...``; :meth:`line` reads its stdout a line at a time."""

    def __init__(self, *args: str) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "gnet", *args],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        self._buffer = b""

    def line(self) -> str:
        """The next stdout line (unbuffered reads: select() must see what is left)."""
        assert self.proc.stdout is not None
        fd = self.proc.stdout.fileno()
        deadline = time.monotonic() + TIMEOUT
        while b"\n" not in self._buffer:
            remaining = deadline - time.monotonic()
            ready, _, _ = select.select([fd], [], [], max(0.0, remaining))
            chunk = os.read(fd, 4096) if ready else b""
            if not chunk:
                out, err = self.close()
                pytest.fail(f"no output line; stdout {self._buffer!r}{out!r}, stderr {err!r}")
            self._buffer += chunk
        line, _, self._buffer = self._buffer.partition(b"\n")
        return line.decode().strip()

    def close(self) -> tuple[bytes, bytes]:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.communicate(timeout=TIMEOUT)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            return self.proc.communicate(timeout=TIMEOUT)


@contextmanager
def command(*args: str) -> Iterator[tuple[Command, Any, int]]:
    """The command, where its metrics are ((host, port), or a UNIX path) and the port it serves on."""
    cmd = Command(*args)
    try:
        line = cmd.line()
        metrics: Any
        if line.startswith("metrics on http://"):
            assert line.endswith("/metrics"), line
            host, port = (
                line.removeprefix("metrics on http://").removesuffix("/metrics").rsplit(":", 1)
            )
            metrics = (host, int(port))
        else:
            assert line.startswith("metrics on /") and line.endswith(" (GET /metrics)"), line
            metrics = line.removeprefix("metrics on ").removesuffix(" (GET /metrics)")
        listening = cmd.line()
        assert listening.startswith("listening on 127.0.0.1:"), listening
        serving = int(listening.split(",")[0].rsplit(":", 1)[1])
        yield cmd, metrics, serving
    finally:
        cmd.close()


def get(address: tuple[str, int], path: str = "/metrics", method: str = "GET") -> tuple[int, bytes]:
    conn = http.client.HTTPConnection(*address, timeout=TIMEOUT)
    try:
        conn.request(method, path)
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


def scrape(address: tuple[str, int]) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    status, body = get(address)
    assert status == 200
    return {
        (s.name, frozenset(s.labels.items())): s.value
        for family in text_string_to_metric_families(body.decode())
        for s in family.samples
    }


def value(samples: dict[Any, float], name: str, **labels: str) -> float:
    found = [
        v
        for (n, lab), v in samples.items()
        if n == name and all(dict(lab).get(k) == want for k, want in labels.items())
    ]
    assert len(found) == 1, (name, labels, sorted(k for k in samples if k[0] == name))
    return found[0]


def scrape_until(
    address: tuple[str, int], name: str, want: float, **labels: str
) -> dict[Any, float]:
    """Scrape until ``name`` reaches ``want`` (connections close asynchronously)."""
    deadline = time.monotonic() + TIMEOUT
    while True:
        samples = scrape(address)
        try:
            if value(samples, name, **labels) == want:
                return samples
        except AssertionError:
            pass
        if time.monotonic() > deadline:
            pytest.fail(f"{name}{labels} never reached {want}")
        time.sleep(0.05)


def exchange(port: int, payload: bytes, greeting: bytes = GREETING) -> None:
    with socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT) as sock:
        received = b""
        sock.sendall(payload)
        sock.shutdown(socket.SHUT_WR)
        while True:
            chunk = sock.recv(65536)
            if not chunk:
                break
            received += chunk
        assert received == greeting + payload


# ==========================================================================


def test_echo_metrics__n_connections_m_bytes() -> None:
    with command("echo", "0", "--metrics", "127.0.0.1:0") as (_cmd, metrics, port):
        for payload in PAYLOADS:
            exchange(port, payload)
        n, m = len(PAYLOADS), sum(map(len, PAYLOADS))
        labels = {"server": f"127.0.0.1:{port}", "transport": "tcp", "tls": "false"}
        samples = scrape_until(
            metrics, "gnet_connections_closed_total", n, outcome="clean", **labels
        )
        assert value(samples, "gnet_connections_total", **labels) == n
        assert value(samples, "gnet_bytes_received_total", **labels) == m
        assert value(samples, "gnet_bytes_sent_total", **labels) == m + n * len(GREETING)
        assert value(samples, "gnet_connection_duration_seconds_count", **labels) == n
        assert value(samples, "gnet_connections_active", **labels) == 0
        assert value(samples, "gnet_server_listening", **labels) == 1
        # prometheus-client's default registry: the process's own metrics come along.
        assert value(samples, "process_cpu_seconds_total") > 0
        assert get(metrics, "/other")[0] == 404
        assert get(metrics, "/metrics", "POST")[0] == 405
        assert get(metrics, "/metrics", "HEAD") == (200, b"")


def test_echo_metrics__open_connections_live(tmp_path: Path) -> None:
    with command("echo", "0", "--metrics", "127.0.0.1:0") as (_cmd, metrics, port):
        labels = {"server": f"127.0.0.1:{port}", "transport": "tcp", "tls": "false"}
        clients = [socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT) for _ in range(3)]
        try:
            for client in clients:
                assert client.recv(len(GREETING)) == GREETING
            clients[0].sendall(b"12345")
            assert clients[0].recv(5) == b"12345"
            samples = scrape_until(metrics, "gnet_bytes_received_total", 5, **labels)
            assert value(samples, "gnet_connections_active", **labels) == 3
            assert value(samples, "gnet_connections_total", **labels) == 3
        finally:
            for client in clients:
                client.close()


def test_proxy_metrics__both_sides() -> None:
    with command("echo", "0", "--metrics", "127.0.0.1:0") as (_echo, _echo_metrics, echo_port):
        with command("proxy", "0", str(echo_port), "--metrics", "127.0.0.1:0") as (
            _proxy,
            metrics,
            port,
        ):
            for payload in PAYLOADS:
                exchange(port, payload)
            n, m = len(PAYLOADS), sum(map(len, PAYLOADS))
            labels = {"server": f"127.0.0.1:{port}", "transport": "tcp", "tls": "false"}
            samples = scrape_until(
                metrics, "gnet_connections_closed_total", n, outcome="clean", **labels
            )
            assert value(samples, "gnet_connections_total", **labels) == n
            assert value(samples, "gnet_bytes_received_total", **labels) == m
            assert value(samples, "gnet_bytes_sent_total", **labels) == m + n * len(GREETING)
            # Each client connection made one connection to the target.
            assert value(samples, "gnet_client_connects_total", transport="tcp") == n
            assert (
                value(samples, "gnet_client_connect_duration_seconds_count", transport="tcp") == n
            )


def test_metrics_on_a_unix_socket(tmp_path: Path) -> None:
    path = str(tmp_path / "metrics.sock")
    with command("echo", "0", "--metrics", path) as (_cmd, metrics, port):
        assert metrics == path
        exchange(port, b"xyz")
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(TIMEOUT)
        with sock:
            sock.connect(path)
            sock.sendall(b"GET /metrics HTTP/1.0\r\n\r\n")
            response = b""
            while chunk := sock.recv(65536):
                response += chunk
        head, _, body = response.partition(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 200 OK")
        assert b"gnet_connections_total" in body


def test_metrics_address_in_use__clear_error() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = subprocess.run(
            [sys.executable, "-m", "gnet", "echo", "0", "--metrics", f"127.0.0.1:{port}"],
            capture_output=True,
            text=True,
            timeout=TIMEOUT,
        )
    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr.startswith(f"gnet echo: --metrics 127.0.0.1:{port}: ")
    assert "EADDRINUSE" in result.stderr
    assert "Traceback" not in result.stderr


def test_without_prometheus_client__clear_error(tmp_path: Path) -> None:
    # A prometheus_client that cannot be imported, first on the path.
    fake = tmp_path / "prometheus_client"
    fake.mkdir()
    (fake / "__init__.py").write_text("raise ImportError('No module named prometheus_client')\n")
    env = dict(os.environ, PYTHONPATH=str(tmp_path))
    result = subprocess.run(
        [sys.executable, "-m", "gnet", "echo", "0", "--metrics", "127.0.0.1:0"],
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        env=env,
    )
    assert result.returncode == 1
    assert result.stderr == (
        "gnet echo: --metrics needs prometheus-client: pip install 'gnet[prometheus]'\n"
    )
    # Without --metrics the command does not need it.
    with subprocess.Popen(
        [sys.executable, "-m", "gnet", "echo", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    ) as proc:
        try:
            assert proc.stdout is not None
            ready, _, _ = select.select([proc.stdout], [], [], TIMEOUT)
            assert ready and proc.stdout.readline().startswith("listening on ")
        finally:
            proc.send_signal(signal.SIGTERM)
            proc.communicate(timeout=TIMEOUT)
