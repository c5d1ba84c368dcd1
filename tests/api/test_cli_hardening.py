"""The command line items of issue 12, as real processes.

- A stale UNIX socket file (left by a killed server) is replaced, and the log
  says so; a socket another server listens on is an error that says so.
- ``@name`` is Linux's abstract namespace on every subcommand (systemd's and
  ss(8)'s convention) and ``--help`` says so; before, ``--path @name`` made a
  file called ``@name`` and no subcommand could reach an abstract socket.
- An accept error is logged once (it was logged by gnet, then again as
  "server error: ...").
"""

from __future__ import annotations

import os
import resource
import signal
import socket
import subprocess
import sys
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from support import PipeReader, raw_client, recv_all, recv_exactly

CLI_TIMEOUT = 15.0
GREETING = b"hello\r\n"


@contextmanager
def gnet_process(
    *args: str, cwd: Path | None = None, preexec_fn: Callable[[], None] | None = None
) -> Iterator[tuple[subprocess.Popen[bytes], PipeReader, PipeReader]]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "gnet", *args],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=cwd,
        preexec_fn=preexec_fn,
    )
    err = PipeReader(proc.stderr)
    out = PipeReader(proc.stdout, context=lambda: f"stderr {err.text!r}")
    try:
        yield proc, out, err
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.communicate(timeout=CLI_TIMEOUT)


def stop(proc: subprocess.Popen[bytes], out: PipeReader, err: PipeReader) -> str:
    """SIGTERM, then all of stderr."""
    proc.send_signal(signal.SIGTERM)
    _, rest = proc.communicate(timeout=CLI_TIMEOUT)
    assert proc.returncode == 0, err.text + rest.decode()
    return err.text + rest.decode()


def run_gnet(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [sys.executable, "-m", "gnet", *args], capture_output=True, timeout=CLI_TIMEOUT, cwd=cwd
    )


def stale_socket(path: Path) -> None:
    """A socket file whose server is gone, as a killed server leaves it."""
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.bind(str(path))
    sock.listen()
    sock.close()  # the file stays: nobody unlinked it


# ----------------------------------------------------------------------
# stale socket files


@pytest.mark.parametrize("command", ["echo", "proxy"])
def test_a_stale_socket_file_is_replaced(command: str, tmp_path: Path) -> None:
    # issue 12: "listen EADDRINUSE" with no hint.
    path = tmp_path / "stale.sock"
    stale_socket(path)
    args = ["echo", "--path", str(path)] if command == "echo" else ["proxy", str(path), "9"]
    with gnet_process(*args) as (proc, out, err):
        out.expect(rf"^listening on {path}", CLI_TIMEOUT)
        if command == "echo":
            with raw_client(path=str(path), timeout=CLI_TIMEOUT) as client:
                assert recv_exactly(client, len(GREETING)) == GREETING
        log = stop(proc, out, err)
    assert f"removing the stale socket file {path} (nobody listens on it)" in log


def test_a_socket_another_server_listens_on_is_an_error_that_says_so(tmp_path: Path) -> None:
    path = tmp_path / "live.sock"
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as live:
        live.bind(str(path))
        live.listen()
        result = run_gnet("echo", "--path", str(path))
    assert result.returncode == 1
    assert result.stderr.decode().strip() == (
        f"gnet echo: {path}: another server is listening on this socket"
    )
    assert path.exists()


def test_a_file_that_is_no_socket_is_left_alone(tmp_path: Path) -> None:
    path = tmp_path / "notes.txt"
    path.write_text("keep me")
    result = run_gnet("echo", "--path", str(path))
    assert result.returncode == 1
    assert "EADDRINUSE" in result.stderr.decode()
    assert path.read_text() == "keep me"


# ----------------------------------------------------------------------
# @name: the abstract namespace


def abstract() -> str:
    return f"@gnet-cli-test-{os.getpid()}-{uuid.uuid4().hex[:12]}"


def test_at_name_is_an_abstract_socket_for_echo_cat_and_proxy(tmp_path: Path) -> None:
    echo_name, proxy_name = abstract(), abstract()
    with gnet_process("echo", "--path", echo_name, cwd=tmp_path) as (echo, echo_out, echo_err):
        echo_out.expect(rf"^listening on {echo_name}$", CLI_TIMEOUT)
        with gnet_process("proxy", proxy_name, echo_name, cwd=tmp_path) as (proxy, p_out, p_err):
            p_out.expect(rf"^listening on {proxy_name}, forwarding to {echo_name}$", CLI_TIMEOUT)
            result = subprocess.run(
                [sys.executable, "-m", "gnet", "cat", "--path", proxy_name],
                input=b"ping\n",
                capture_output=True,
                timeout=CLI_TIMEOUT,
                cwd=tmp_path,
            )
            assert result.returncode == 0, result.stderr
            assert result.stdout == GREETING + b"ping\n"
            with raw_client(path="\0" + proxy_name[1:], timeout=CLI_TIMEOUT) as client:
                assert recv_exactly(client, len(GREETING)) == GREETING
                client.shutdown(socket.SHUT_WR)
                assert recv_all(client) == b""
            stop(proxy, p_out, p_err)
        stop(echo, echo_out, echo_err)
    assert os.listdir(tmp_path) == []  # no file called @name


def test_an_abstract_name_in_use_is_shown_with_its_at(tmp_path: Path) -> None:
    name = abstract()
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as taken:
        taken.bind("\0" + name[1:])
        taken.listen()
        result = run_gnet("echo", "--path", name)
    assert result.returncode == 1
    assert result.stderr.decode().strip() == (
        f"gnet echo: listen EADDRINUSE: address already in use {name}"
    )


def test_dot_slash_at_name_is_a_file(tmp_path: Path) -> None:
    with gnet_process("echo", "--path", "./@file", cwd=tmp_path) as (proc, out, err):
        out.expect(r"^listening on ./@file$", CLI_TIMEOUT)
        assert (tmp_path / "@file").exists()
        stop(proc, out, err)


@pytest.mark.parametrize("command", ["echo", "cat", "proxy"])
def test_help_says_what_at_means(command: str) -> None:
    result = run_gnet(command, "--help")
    assert result.returncode == 0
    text = " ".join(result.stdout.decode().split())
    assert "a leading @ means Linux's abstract namespace" in text


# ----------------------------------------------------------------------
# accept errors


def _few_descriptors() -> None:
    # Enough to start and listen, too few to accept every client.
    resource.setrlimit(resource.RLIMIT_NOFILE, (24, 24))


def test_an_accept_error_is_logged_once() -> None:
    # issue 12: "accept failed ... retrying" and "server error: accept EMFILE"
    # for each failure.
    with gnet_process("echo", "0", preexec_fn=_few_descriptors) as (proc, out, err):
        line = out.expect(r"^listening on ", CLI_TIMEOUT).string
        port = int(line.rsplit(":", 1)[1])
        clients = [
            socket.create_connection(("127.0.0.1", port), timeout=CLI_TIMEOUT) for _ in range(40)
        ]
        try:
            err.wait_for("EMFILE", CLI_TIMEOUT)
            log = stop(proc, out, err)
        finally:
            for client in clients:
                client.close()
    emfile = [line for line in log.splitlines() if "EMFILE" in line]
    assert emfile and all("accept failed on" in line and "retrying" in line for line in emfile), (
        emfile
    )
