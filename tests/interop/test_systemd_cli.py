"""``python -m gnet echo`` / ``proxy`` under the real systemd-socket-activate, with a NOTIFY_SOCKET.

The tool listens, and the first connection starts gnet with the socket(s)
passed in; NOTIFY_SOCKET is a UNIX datagram socket this test binds under
tmp_path, so every sd_notify message gnet sends is read back here.  The
last tests need no tool: NOTIFY_SOCKET alone, and LISTEN '-' without any
passed socket.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sd_activate import TIMEOUT, SocketActivate, free_port, start_activated

from support import require_tool

GNET = [sys.executable, "-m", "gnet"]


@pytest.fixture
def tool() -> str:
    return require_tool("systemd-socket-activate")


@pytest.fixture
def runs() -> Iterator[list[SocketActivate]]:
    started: list[SocketActivate] = []
    yield started
    for run in started:
        run.close()


@pytest.fixture
def notify_sock(tmp_path: Path) -> Iterator[socket.socket]:
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(str(tmp_path / "notify"))
    sock.settimeout(TIMEOUT)
    yield sock
    sock.close()


def notify_env(sock: socket.socket) -> str:
    return f"--setenv=NOTIFY_SOCKET={sock.getsockname()}"


def messages_until(sock: socket.socket, field: bytes) -> list[bytes]:
    """The datagrams received up to and including the first that has line ``field``."""
    got = []
    while True:
        message = sock.recv(4096)
        got.append(message)
        if field in message.split(b"\n"):
            return got


def connect(address: str | tuple[str, int]) -> socket.socket:
    family = socket.AF_UNIX if isinstance(address, str) else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.settimeout(TIMEOUT)
    try:
        sock.connect(address)
    except BaseException:
        sock.close()
        raise
    return sock


def recv_exactly(sock: socket.socket, n: int) -> bytes:
    data = b""
    while len(data) < n:
        chunk = sock.recv(n - len(data))
        assert chunk, f"ended after {data!r}"
        data += chunk
    return data


def echo_round_trip(address: str | tuple[str, int]) -> None:
    with connect(address) as client:
        assert recv_exactly(client, 7) == b"hello\r\n"
        client.sendall(b"ping")
        assert recv_exactly(client, 4) == b"ping"


def test_echo_serves_the_passed_unix_socket_and_reports_ready_and_stopping(
    tool: str, tmp_path: Path, notify_sock: socket.socket, runs: list[SocketActivate]
) -> None:
    path = str(tmp_path / "echo.sock")
    run, _ = start_activated(
        tool,
        lambda: [path],
        [*GNET, "echo", "9", "--shutdown-timeout", "2"],  # PORT 9 loses to the passed socket
        [notify_env(notify_sock)],
    )
    runs.append(run)
    with connect(path) as client:  # starts gnet
        assert recv_exactly(client, 7) == b"hello\r\n"
        assert run.read_line() == f"listening on {path}".encode()
        assert messages_until(notify_sock, b"READY=1") == [
            f"READY=1\nSTATUS=listening on {path}".encode()
        ]
        client.sendall(b"ping")
        assert recv_exactly(client, 4) == b"ping"
        run.signal(signal.SIGTERM)
        assert notify_sock.recv(4096) == (
            b"STOPPING=1\nSTATUS=closing 1 connection(s)\nEXTEND_TIMEOUT_USEC=3000000"
        )
        assert client.recv(100) == b""  # the drain ends the connection
    status, _out, err = run.wait()
    assert status == 0, err


def test_echo_picks_the_socket_named_echo(
    tool: str, notify_sock: socket.socket, runs: list[SocketActivate]
) -> None:
    run, listens = start_activated(
        tool,
        lambda: [f"127.0.0.1:{free_port()}", f"127.0.0.1:{free_port()}"],
        [*GNET, "echo"],
        ["--fdname=metrics:echo", notify_env(notify_sock)],
    )
    runs.append(run)
    echo_port = int(listens[1].rsplit(":", 1)[1])
    echo_round_trip(("127.0.0.1", echo_port))
    assert run.read_line() == f"listening on 127.0.0.1:{echo_port}".encode()
    assert messages_until(notify_sock, b"READY=1")[-1].endswith(f"127.0.0.1:{echo_port}".encode())


def test_echo_serves_every_passed_socket_when_none_is_named_echo(
    tool: str, tmp_path: Path, notify_sock: socket.socket, runs: list[SocketActivate]
) -> None:
    path = str(tmp_path / "b.sock")
    run, listens = start_activated(
        tool, lambda: [f"127.0.0.1:{free_port()}", path], [*GNET, "echo"], [notify_env(notify_sock)]
    )
    runs.append(run)
    port = int(listens[0].rsplit(":", 1)[1])
    echo_round_trip(("127.0.0.1", port))
    assert run.read_line() == f"listening on 127.0.0.1:{port}, {path}".encode()
    echo_round_trip(path)


def test_echo_feeds_the_watchdog(
    tool: str, tmp_path: Path, notify_sock: socket.socket, runs: list[SocketActivate]
) -> None:
    path = str(tmp_path / "wd.sock")
    run, _ = start_activated(
        tool,
        lambda: [path],
        [*GNET, "echo"],
        [notify_env(notify_sock), "--setenv=WATCHDOG_USEC=200000"],
    )
    runs.append(run)
    echo_round_trip(path)
    messages_until(notify_sock, b"READY=1")
    started = time.monotonic()
    for _ in range(3):
        assert notify_sock.recv(4096) == b"WATCHDOG=1"
    assert time.monotonic() - started >= 0.15  # about 0.1 s apart, not a burst


def test_accept_mode_is_refused_with_one_line(
    tool: str, tmp_path: Path, runs: list[SocketActivate]
) -> None:
    path = str(tmp_path / "inetd.sock")
    run, _ = start_activated(tool, lambda: [path], [*GNET, "echo"], ["--accept"])
    runs.append(run)
    # --accept forks a child per connection and keeps listening itself.
    with connect(path):
        err = run.wait_stderr(b"died with code 1")
    refusal = [line for line in err.decode().splitlines() if line.startswith("gnet echo:")]
    assert refusal == [
        "gnet echo: ERR_INVALID_FD_TYPE: Unsupported fd type: fd 3 (unknown): SOCK_STREAM, not listening"
    ], err


def test_proxy_dash_serves_the_passed_socket(
    tool: str, tmp_path: Path, notify_sock: socket.socket, runs: list[SocketActivate]
) -> None:
    path = str(tmp_path / "proxy.sock")
    with socket.socket() as upstream:
        upstream.bind(("127.0.0.1", 0))
        upstream.listen(1)
        upstream.settimeout(TIMEOUT)
        target = f"127.0.0.1:{upstream.getsockname()[1]}"
        run, _ = start_activated(
            tool, lambda: [path], [*GNET, "proxy", "-", target], [notify_env(notify_sock)]
        )
        runs.append(run)
        with connect(path) as client:
            client.sendall(b"via proxy")
            conn, _ = upstream.accept()
            with conn:
                conn.settimeout(TIMEOUT)
                assert recv_exactly(conn, 9) == b"via proxy"
        assert run.read_line() == f"listening on {path}, forwarding to {target}".encode()
    assert messages_until(notify_sock, b"READY=1")
    run.signal(signal.SIGTERM)
    assert b"STOPPING=1" in messages_until(notify_sock, b"STOPPING=1")[-1].split(b"\n")
    status, _out, err = run.wait()
    assert status == 0, err


# -- without systemd-socket-activate


def test_notify_socket_alone_reports_ready_for_a_bound_port(notify_sock: socket.socket) -> None:
    env_proc = subprocess.Popen(
        [*GNET, "echo", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env={**os.environ, "NOTIFY_SOCKET": notify_sock.getsockname()},
    )
    try:
        ready = messages_until(notify_sock, b"READY=1")[-1]
        assert ready.startswith(b"READY=1\nSTATUS=listening on 127.0.0.1:")
        env_proc.send_signal(signal.SIGTERM)
        assert messages_until(notify_sock, b"STOPPING=1")
        assert env_proc.wait(TIMEOUT) == 0
    finally:
        if env_proc.poll() is None:
            env_proc.kill()
        env_proc.communicate(timeout=TIMEOUT)


def test_proxy_dash_without_passed_sockets_fails_with_one_line() -> None:
    done = subprocess.run(
        [*GNET, "proxy", "-", "127.0.0.1:9"], capture_output=True, text=True, timeout=TIMEOUT
    )
    assert done.returncode == 1
    assert done.stderr.strip() == (
        "gnet proxy: LISTEN '-' takes the sockets systemd passes, and there are none"
    )
