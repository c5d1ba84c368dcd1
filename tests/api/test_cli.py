"""The ``gnet`` command line, run as real processes (``python -m gnet ...``).

Servers listen on port 0 or a UNIX path under tmp_path and print
``listening on ADDRESS``; the tests read that line, talk to them with plain
sockets, and check exit statuses, stdout and stderr (read as it comes, so a
test can wait for a line of the log instead of sleeping).  Every process has a
timeout and is killed (and its pipes closed) whatever happens.
"""

from __future__ import annotations

import logging
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

from gnet.cli import CommandError, Endpoint, main, parse_endpoint
from support import LINGER_0, PipeReader, closed_port, raw_client, recv_all, recv_exactly

CLI_TIMEOUT = 15.0  # seconds for any one process or exchange; generous for slow CI
GREETING = b"hello\r\n"


class Gnet:
    """A running ``python -m gnet ...``; its stdout and stderr are read as they come."""

    def __init__(self, *args: str) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "gnet", *args],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        self.err = PipeReader(self.proc.stderr)
        self.out = PipeReader(self.proc.stdout, context=lambda: f"stderr {self.err.text!r}")
        self.address = ""

    def wait_listening(self) -> str:
        """The address of the ``listening on ADDRESS`` line (fails if the process dies first)."""
        line = self.out.expect(r"^listening on ", CLI_TIMEOUT).string
        self.address = line.removeprefix("listening on ").split(",")[0].strip()
        return self.address

    def wait_logged(self, text: str) -> None:
        """Until ``text`` appears on the process's stderr (its log)."""
        self.err.wait_for(text, CLI_TIMEOUT)

    @property
    def port(self) -> int:
        return int(self.address.rsplit(":", 1)[1])

    def stop(self, sig: int = signal.SIGTERM) -> tuple[str, str]:
        """Send ``sig`` and collect the rest of stdout and stderr."""
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        return self.wait()

    def wait(self) -> tuple[str, str]:
        """After a signal already sent: wait for the exit (a second signal would force it).

        Returns stdout after the ``listening on`` line, and all of stderr.
        """
        out, err = self.proc.communicate(timeout=CLI_TIMEOUT)
        return self.out.rest + out.decode(), self.err.text + err.decode()

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.communicate(timeout=CLI_TIMEOUT)  # reaps it and closes the pipes


@contextmanager
def gnet_process(*args: str) -> Iterator[Gnet]:
    process = Gnet(*args)
    try:
        yield process
    finally:
        process.close()


@contextmanager
def listening(*args: str) -> Iterator[Gnet]:
    with gnet_process(*args) as process:
        process.wait_listening()
        yield process


def run_gnet(
    *args: str, input: bytes = b"", stdin: int | None = None
) -> subprocess.CompletedProcess[bytes]:
    """Run a short-lived command; ``subprocess.run`` kills it on timeout."""
    # Either stdin or input, never both keywords: gevent's patched
    # subprocess.run refuses stdin=None next to input, unlike the stdlib's.
    stdio: dict[str, Any] = {"stdin": stdin} if stdin is not None else {"input": input}
    return subprocess.run(
        [sys.executable, "-m", "gnet", *args],
        capture_output=True,
        timeout=CLI_TIMEOUT,
        **stdio,
    )


def exchange(sock: socket.socket, payload: bytes) -> bytes:
    """Send ``payload`` then FIN while reading, until the peer's FIN; returns what came back.

    Sending and receiving at once: a proxy or echo server with backpressure
    would otherwise stall once both directions' buffers are full.
    """
    sock.setblocking(False)
    received = bytearray()
    view = memoryview(payload)
    sending = True
    deadline = time.monotonic() + CLI_TIMEOUT
    while True:
        remaining = deadline - time.monotonic()
        assert remaining > 0, (
            f"exchange timed out: sent {len(payload) - len(view)} got {len(received)}"
        )
        readable, writable, _ = select.select([sock], [sock] if sending else [], [], remaining)
        if writable:
            try:
                view = view[sock.send(view[:65536]) :]
            except BlockingIOError:
                pass
            if not view:
                sock.shutdown(socket.SHUT_WR)
                sending = False
        if readable:
            chunk = sock.recv(65536)
            if not chunk:
                return bytes(received)
            received += chunk


def one_line(text: str | bytes) -> str:
    if isinstance(text, bytes):
        text = text.decode()
    lines = text.strip().splitlines()
    assert len(lines) == 1, f"expected one line, got {text!r}"
    return lines[0]


# ---------------------------------------------------------------------------
# --help and argument errors


@pytest.mark.parametrize("command", [None, "echo", "cat", "proxy"])
def test_help(command: str | None) -> None:
    args = [command, "--help"] if command else ["--help"]
    result = run_gnet(*args)
    assert result.returncode == 0
    usage = f"usage: gnet {command}" if command else "usage: gnet"
    assert result.stdout.decode().startswith(usage)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["echo", "70000"], "gnet echo: ERR_SOCKET_BAD_PORT: "),
        (["echo", "http"], "gnet echo: invalid port 'http'"),
        (["cat", "127.0.0.1", "99999"], "gnet cat: ERR_SOCKET_BAD_PORT: "),
        (["proxy", "127.0.0.1:-5", "8124"], "gnet proxy: invalid port '-5'"),
        (["proxy", "0", "[::1"], "gnet proxy: invalid address '[::1'"),
        (["proxy", "0", "127.0.0.1:65536"], "gnet proxy: invalid target port 65536"),
        (["proxy", "70000", "8124"], "gnet proxy: ERR_SOCKET_BAD_PORT: "),
        (["cat", "127.0.0.1"], "gnet cat: expected HOST PORT or --path PATH"),
        (["echo", "--no-such-option"], "gnet: unrecognized arguments: --no-such-option"),
    ],
)
def test_bad_arguments_give_one_line_error(args: list[str], message: str) -> None:
    result = run_gnet(*args)
    assert result.returncode != 0
    assert result.stdout == b""
    assert one_line(result.stderr).startswith(message)


def test_address_in_use(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = run_gnet("echo", str(port))
    assert result.returncode != 0
    assert one_line(result.stderr) == (
        f"gnet echo: listen EADDRINUSE: address already in use 127.0.0.1:{port}"
    )


def test_unix_address_in_use(tmp_path: Path) -> None:
    path = str(tmp_path / "in-use.sock")
    with listening("echo", "--path", path):
        result = run_gnet("echo", "--path", path)
    assert result.returncode != 0
    # A live server's socket (a stale one would be replaced: test_cli_hardening.py).
    assert one_line(result.stderr) == f"gnet echo: {path}: another server is listening on this socket"


# ---------------------------------------------------------------------------
# gnet echo


def test_echo_over_tcp() -> None:
    with listening("echo", "0") as server:
        assert server.address.startswith("127.0.0.1:")
        with raw_client(server.port, timeout=CLI_TIMEOUT) as client:
            assert recv_exactly(client, len(GREETING)) == GREETING
            client.sendall(b"ping\n")
            assert recv_exactly(client, 5) == b"ping\n"
            binary = bytes(range(256))
            client.sendall(binary)
            assert recv_exactly(client, len(binary)) == binary
            client.shutdown(socket.SHUT_WR)
            assert recv_all(client) == b""  # our FIN: the echo ends too
        out, err = server.stop()
    assert server.proc.returncode == 0
    assert "client connected (127.0.0.1:" in err
    assert "client disconnected (127.0.0.1:" in err


def test_echo_over_unix_socket(tmp_path: Path) -> None:
    path = str(tmp_path / "echo.sock")
    with listening("echo", "--path", path) as server:
        assert server.address == path
        with raw_client(path=path, timeout=CLI_TIMEOUT) as client:
            assert recv_exactly(client, len(GREETING)) == GREETING
            client.sendall(b"over unix\n")
            assert recv_exactly(client, 10) == b"over unix\n"
        server.stop()
    assert server.proc.returncode == 0
    assert not os.path.exists(path)  # the server removes the socket file it made


def test_echo_default_port_is_8124() -> None:
    result = run_gnet("echo", "--help")
    assert "8124" in result.stdout.decode()


def test_echo_serves_many_clients_at_once() -> None:
    with listening("echo", "0") as server:
        clients = [raw_client(server.port, timeout=CLI_TIMEOUT) for _ in range(10)]
        try:
            for i, client in enumerate(clients):
                assert recv_exactly(client, len(GREETING)) == GREETING
                client.sendall(f"client {i}\n".encode())
            for i, client in enumerate(clients):
                line = f"client {i}\n".encode()
                assert recv_exactly(client, len(line)) == line
        finally:
            for client in clients:
                client.close()
        server.stop()
    assert server.proc.returncode == 0


def test_echo_moves_a_megabyte() -> None:
    payload = os.urandom(1 << 20)
    with listening("echo", "0") as server:
        with raw_client(server.port, timeout=CLI_TIMEOUT) as client:
            assert exchange(client, payload) == GREETING + payload
        server.stop()
    assert server.proc.returncode == 0


def test_echo_survives_a_peer_reset() -> None:
    with listening("echo", "0") as server:
        with raw_client(server.port, timeout=CLI_TIMEOUT) as rude:
            assert recv_exactly(rude, len(GREETING)) == GREETING
            rude.sendall(b"x")
            assert recv_exactly(rude, 1) == b"x"
            # SO_LINGER 0: close() sends RST instead of FIN.
            rude.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, LINGER_0)
        server.wait_logged("client error (127.0.0.1:")  # the reset reached it
        assert server.proc.poll() is None
        with raw_client(server.port, timeout=CLI_TIMEOUT) as polite:
            assert recv_exactly(polite, len(GREETING)) == GREETING
        out, err = server.stop()
    assert server.proc.returncode == 0
    assert "client error (127.0.0.1:" in err  # logged with the peer, e.g. "read ECONNRESET"
    assert "Traceback" not in err


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_signal_shuts_down_gracefully(sig: int) -> None:
    with listening("echo", "0", "--shutdown-timeout", "5") as server:
        with raw_client(server.port, timeout=CLI_TIMEOUT) as client:
            assert recv_exactly(client, len(GREETING)) == GREETING
            server.proc.send_signal(sig)
            # shutdown() ends each connection: the client sees the FIN, and
            # once it ends its side too the server can close and exit.
            assert recv_all(client) == b""
        out, err = server.wait()
    assert server.proc.returncode == 0
    assert f"{signal.Signals(sig).name}: shutting down" in err
    assert "Traceback" not in err


def test_shutdown_timeout_cuts_a_connection_that_stays_open() -> None:
    with listening("echo", "0", "--shutdown-timeout", "0.5") as server:
        with raw_client(server.port, timeout=CLI_TIMEOUT) as client:
            assert recv_exactly(client, len(GREETING)) == GREETING
            started = time.monotonic()
            out, err = server.stop()  # the client never closes its side
            assert recv_all(client) == b""
    assert server.proc.returncode == 0
    assert time.monotonic() - started < CLI_TIMEOUT / 2


# ---------------------------------------------------------------------------
# gnet cat


def test_cat_in_a_pipeline() -> None:
    with listening("echo", "0") as server:
        result = run_gnet("cat", "127.0.0.1", str(server.port), input=b"abc\n")
        server.stop()
    assert result.stderr == b""
    assert result.stdout == b"hello\r\nabc\n"
    assert result.returncode == 0


def test_cat_over_unix_socket_with_stdin_from_a_file(tmp_path: Path) -> None:
    path = str(tmp_path / "echo.sock")
    payload = os.urandom(300_000)
    source = tmp_path / "input.bin"
    source.write_bytes(payload)
    with listening("echo", "--path", path) as server:
        with open(source, "rb") as stdin:
            result = run_gnet("cat", "--path", path, stdin=stdin.fileno())
        server.stop()
    assert result.returncode == 0, result.stderr
    assert result.stdout == GREETING + payload  # binary-safe, both ways


def test_cat_with_empty_stdin_half_closes_at_once() -> None:
    with listening("echo", "0") as server:
        result = run_gnet("cat", "127.0.0.1", str(server.port), stdin=subprocess.DEVNULL)
        server.stop()
    assert result.returncode == 0
    assert result.stdout == GREETING


def test_cat_to_a_closed_port_fails_with_one_line() -> None:
    port = closed_port()
    result = run_gnet("cat", "127.0.0.1", str(port))
    assert result.returncode != 0
    assert one_line(result.stderr) == f"gnet cat: connect ECONNREFUSED 127.0.0.1:{port}"


def test_cat_to_a_missing_unix_socket_fails(tmp_path: Path) -> None:
    result = run_gnet("cat", "--path", str(tmp_path / "nobody.sock"))
    assert result.returncode != 0
    assert "ENOENT" in one_line(result.stderr)


# ---------------------------------------------------------------------------
# gnet proxy


@pytest.mark.parametrize("listen_kind", ["tcp", "unix"])
def test_proxy_moves_a_megabyte_both_ways(tmp_path: Path, listen_kind: str) -> None:
    payload = os.urandom(1 << 20)
    path = str(tmp_path / "proxy.sock")
    with listening("echo", "0") as echo:
        listen = "127.0.0.1:0" if listen_kind == "tcp" else path
        with listening("proxy", listen, f"127.0.0.1:{echo.port}") as proxy:
            client = (
                raw_client(proxy.port, timeout=CLI_TIMEOUT)
                if listen_kind == "tcp"
                else raw_client(path=path, timeout=CLI_TIMEOUT)
            )
            with client:
                assert exchange(client, payload) == GREETING + payload
            out, err = proxy.stop()
        echo.stop()
    assert proxy.proc.returncode == 0, err
    summary, total = out.strip().splitlines()
    up, down = len(payload), len(GREETING) + len(payload)
    assert f"-> 127.0.0.1:{echo.port}: {up} bytes up, {down} bytes down" in summary
    assert total == f"total: 1 connections, {up} bytes up, {down} bytes down"


def test_proxy_and_cat_in_a_pipeline() -> None:
    with listening("echo", "0") as echo, listening("proxy", "0", str(echo.port)) as proxy:
        result = run_gnet("cat", "127.0.0.1", str(proxy.port), input=b"through the proxy\n")
        out, err = proxy.stop()
        echo.stop()
    assert result.returncode == 0
    assert result.stdout == b"hello\r\nthrough the proxy\n"
    assert proxy.proc.returncode == 0


def test_proxy_to_an_unreachable_target_closes_the_client_and_keeps_serving() -> None:
    target = closed_port()
    with listening("proxy", "0", f"127.0.0.1:{target}") as proxy:
        for _ in range(3):
            with raw_client(proxy.port, timeout=CLI_TIMEOUT) as client:
                try:
                    assert client.recv(100) == b""
                except ConnectionResetError:
                    pass  # also a closed connection
        assert proxy.proc.poll() is None
        out, err = proxy.stop()
    assert proxy.proc.returncode == 0
    lines = out.strip().splitlines()
    assert len(lines) == 4
    for line in lines[:3]:
        assert line.endswith(f"(error: connect ECONNREFUSED 127.0.0.1:{target})")
    assert lines[3] == "total: 3 connections, 0 bytes up, 0 bytes down"


def test_proxy_drains_a_connection_on_sigterm() -> None:
    with listening("echo", "0") as echo, listening("proxy", "0", str(echo.port)) as proxy:
        with raw_client(proxy.port, timeout=CLI_TIMEOUT) as client:
            assert recv_exactly(client, len(GREETING)) == GREETING
            proxy.proc.send_signal(signal.SIGTERM)
            proxy.wait_logged("waiting for 1 connection(s) to finish")  # logged once closed
            # Stopped accepting, but the connection in flight still works.
            with pytest.raises(ConnectionRefusedError):
                raw_client(proxy.port, timeout=CLI_TIMEOUT).close()
            client.sendall(b"still here\n")
            assert recv_exactly(client, 11) == b"still here\n"
            client.shutdown(socket.SHUT_WR)
            assert recv_all(client) == b""
        out, err = proxy.wait()
        echo.stop()
    assert proxy.proc.returncode == 0
    assert out.strip().splitlines()[-1] == "total: 1 connections, 11 bytes up, 18 bytes down"


# ---------------------------------------------------------------------------
# address parsing (in process)


@pytest.mark.parametrize(
    ("spec", "endpoint"),
    [
        ("8124", Endpoint("127.0.0.1", 8124)),
        ("0.0.0.0:80", Endpoint("0.0.0.0", 80)),
        ("localhost:8080", Endpoint("localhost", 8080)),
        (":9000", Endpoint("127.0.0.1", 9000)),
        ("[::1]:8124", Endpoint("::1", 8124)),
        ("/tmp/gnet.sock", Endpoint(path="/tmp/gnet.sock")),
        ("./gnet.sock", Endpoint(path="./gnet.sock")),
        ("gnet.sock", Endpoint(path="gnet.sock")),
    ],
)
def test_parse_endpoint(spec: str, endpoint: Endpoint) -> None:
    assert parse_endpoint(spec) == endpoint


@pytest.mark.parametrize("spec", ["host:port", "[::1]", "::1:80", "[]:80"])
def test_parse_endpoint_rejects(spec: str) -> None:
    with pytest.raises(CommandError):
        parse_endpoint(spec)


def test_main_in_process_returns_the_status(capsys: pytest.CaptureFixture[str]) -> None:
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    assert main(["echo", "not-a-port"]) == 1
    assert (
        capsys.readouterr().err
        == "gnet echo: invalid port 'not-a-port': expected a number from 0 to 65535\n"
    )
    assert root.handlers == handlers and root.level == level  # logging left as it was
    with pytest.raises(SystemExit) as exit_info:
        main(["proxy", "--help"])
    assert exit_info.value.code == 0
