"""``gnet cat``'s progress line: on stderr when stderr is a terminal (a pty here), else none.

A real ``gnet echo`` process serves; ``gnet cat`` sends a file through it
and writes the echo to a file, with stderr on a pseudo-terminal, on a pipe,
or on a terminal with ``--quiet``.
"""

from __future__ import annotations

import errno
import os
import pty
import re
import select
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

TIMEOUT = 15.0
GREETING = b"hello\r\n"
SIZE = 3 * 1024 * 1024
FINAL = re.compile(
    rb"gnet cat: sent 3\.0 MiB, received 3\.0 MiB, [0-9.]+ (B|KiB|MiB|GiB)/s, \d+:\d\d\x1b\[K\r?\n"
)


@pytest.fixture
def echo_port() -> Iterator[int]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "gnet", "echo", "0"],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
    )
    try:
        assert proc.stdout is not None
        ready, _, _ = select.select([proc.stdout], [], [], TIMEOUT)
        line = proc.stdout.readline() if ready else b""
        assert line.startswith(b"listening on 127.0.0.1:"), line
        yield int(line.strip().rsplit(b":", 1)[1])
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.communicate(timeout=TIMEOUT)


@pytest.fixture
def data(tmp_path: Path) -> Path:
    path = tmp_path / "data"
    path.write_bytes(os.urandom(SIZE))
    return path


def run_cat(port: int, data: Path, out: Path, *extra: str, tty: bool) -> tuple[int, bytes]:
    """Run ``gnet cat`` to the end; its exit status and what it wrote to stderr."""
    args = [sys.executable, "-m", "gnet", "cat", *extra, "127.0.0.1", str(port)]
    with open(data, "rb") as stdin, open(out, "wb") as stdout:
        if not tty:
            result = subprocess.run(
                args, stdin=stdin, stdout=stdout, stderr=subprocess.PIPE, timeout=TIMEOUT
            )
            return result.returncode, result.stderr
        master, slave = pty.openpty()
        try:
            proc = subprocess.Popen(args, stdin=stdin, stdout=stdout, stderr=slave)
            os.close(slave)
            slave = -1
            output = b""
            deadline = time.monotonic() + TIMEOUT
            while time.monotonic() < deadline:
                ready, _, _ = select.select([master], [], [], deadline - time.monotonic())
                if not ready:
                    break
                try:
                    chunk = os.read(master, 4096)
                except OSError as exc:  # EIO: the terminal's last user has gone
                    if exc.errno != errno.EIO:
                        raise
                    break
                if not chunk:
                    break
                output += chunk
            return proc.wait(timeout=TIMEOUT), output
        finally:
            os.close(master)
            if slave != -1:
                os.close(slave)


def test_progress_on_a_terminal(echo_port: int, data: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    status, stderr = run_cat(echo_port, data, out, tty=True)
    assert status == 0, stderr
    assert out.read_bytes() == GREETING + data.read_bytes()
    # Only progress lines, each starting with a carriage return; the last is final.
    assert stderr.startswith(b"\rgnet cat: sent "), stderr
    assert FINAL.search(stderr), stderr
    assert stderr.endswith(b"\n")
    assert all(part.startswith(b"gnet cat: sent ") for part in stderr.split(b"\r") if part.strip())


def test_no_progress_when_stderr_is_not_a_terminal(
    echo_port: int, data: Path, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    status, stderr = run_cat(echo_port, data, out, tty=False)
    assert (status, stderr) == (0, b"")
    assert out.read_bytes() == GREETING + data.read_bytes()


def test_quiet__no_progress_on_a_terminal(echo_port: int, data: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    status, stderr = run_cat(echo_port, data, out, "--quiet", tty=True)
    assert (status, stderr) == (0, b"")
    assert out.read_bytes() == GREETING + data.read_bytes()
