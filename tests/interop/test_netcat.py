"""netcat (``nc``, or ``socat``) against a gnet echo server, over TCP and UNIX.

The tool is required: missing, these tests skip locally and fail under
CI=true.  An installed nc that cannot do what a test needs (no -U, unknown
flavour) skips, naming why.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from gevent import subprocess

import gnet
from support import (
    PROC_TIMEOUT,
    Counter,
    listen_and_wait,
    require_tool,
    spawn,
)

HOST = "127.0.0.1"


def _help_text(exe: str) -> str:
    try:
        done = subprocess.run([exe, "-h"], capture_output=True, timeout=PROC_TIMEOUT, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return ""
    output: bytes = done.stdout + done.stderr
    return output.decode(errors="replace")


def netcat_command(tool: str, target: str, unix: bool) -> list[str]:
    """The argv that sends stdin to ``target``, half-closes at stdin's end and prints the reply.

    A missing tool fails in CI (``require_tool``); an installed one that
    cannot do that skips, naming the reason.
    """
    exe = require_tool(tool)
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
