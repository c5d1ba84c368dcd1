"""gnet.systemd.listen_fds() under the real systemd-socket-activate.

The tool listens, and on the first connection execs a small program
(tests/interop/socket_activated.py) with LISTEN_FDS/LISTEN_PID/LISTEN_FDNAMES
set.  The program reports what listen_fds() returned and serves each socket
with a gnet server, through the record itself and through ``{'fd': n}``.
"""

from __future__ import annotations

import json
import socket
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from sd_activate import TIMEOUT, SocketActivate, free_port, start_activated

from support import require_tool

DRIVER = str(Path(__file__).with_name("socket_activated.py"))


@pytest.fixture
def tool() -> str:
    return require_tool("systemd-socket-activate")


@pytest.fixture
def runs() -> Iterator[list[SocketActivate]]:
    started: list[SocketActivate] = []
    yield started
    for run in started:
        run.close()


def ask(address: str | tuple[str, int]) -> bytes:
    family = socket.AF_UNIX if isinstance(address, str) else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        sock.settimeout(TIMEOUT)
        sock.connect(address)
        data = b""
        while chunk := sock.recv(100):
            data += chunk
        return data


def test_named_tcp_and_unix_sockets(tool: str, tmp_path: Path, runs: list[SocketActivate]) -> None:
    path = str(tmp_path / "ctl.sock")
    run, listens = start_activated(
        tool,
        lambda: [f"127.0.0.1:{free_port()}", path],
        [sys.executable, DRIVER],
        ["--fdname=web:ctl"],
    )
    runs.append(run)
    port = int(listens[0].rsplit(":", 1)[1])
    assert ask(("127.0.0.1", port)) == b"web\n"  # this connection starts the program
    report = json.loads(run.read_line())
    assert report["env"] == {"LISTEN_PID": None, "LISTEN_FDS": None, "LISTEN_FDNAMES": None}
    web, ctl = report["records"]
    assert web == {
        "fd": 3,
        "name": "web",
        "family": "AF_INET",
        "type": "SOCK_STREAM",
        "listening": True,
        "address": ["127.0.0.1", port],
        "inheritable": False,
    }
    assert (ctl["fd"], ctl["name"], ctl["family"], ctl["address"]) == (4, "ctl", "AF_UNIX", path)
    assert ctl["listening"] and not ctl["inheritable"]
    assert ask(path) == b"ctl\n"
    status, _out, err = run.wait()
    assert status == 0, err


def test_fds_without_names_are_unknown(
    tool: str, tmp_path: Path, runs: list[SocketActivate]
) -> None:
    paths = [str(tmp_path / "a.sock"), str(tmp_path / "b.sock")]
    run, _ = start_activated(tool, lambda: paths, [sys.executable, DRIVER])
    runs.append(run)
    assert ask(paths[1]) == b"unknown\n"
    report = json.loads(run.read_line())
    assert [(r["fd"], r["name"]) for r in report["records"]] == [(3, "unknown"), (4, "unknown")]
    assert ask(paths[0]) == b"unknown\n"
    assert run.wait()[0] == 0


def test_accept_mode_passes_a_connected_socket_not_a_listener(
    tool: str, tmp_path: Path, runs: list[SocketActivate]
) -> None:
    path = str(tmp_path / "inetd.sock")
    run, _ = start_activated(tool, lambda: [path], [sys.executable, DRIVER], ["--accept"])
    runs.append(run)
    with socket.socket(socket.AF_UNIX) as client:
        client.settimeout(TIMEOUT)
        client.connect(path)
        report = json.loads(run.read_line())
    (record,) = report["records"]
    assert record["type"] == "SOCK_STREAM" and record["listening"] is False
