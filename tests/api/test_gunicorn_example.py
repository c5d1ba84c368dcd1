"""Smoke test of examples/gunicorn_side_by_side.py: the two gunicorn commands of its docstring.

gunicorn's gevent worker serves the WSGI app on a free port (read from its
log), gnet's worker serves the TCP handler with GREET_URL pointing there; a
client's name goes through both.  Both masters are stopped with TERM (and
killed at teardown whatever happens).
"""

from __future__ import annotations

import os
import re
import select
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from support import IN_CI

ROOT = Path(__file__).resolve().parent.parent.parent
EXAMPLES = str(ROOT / "examples")
TIMEOUT = 20.0

try:
    import gunicorn  # noqa: F401
except ImportError:
    if IN_CI:
        raise
    pytest.skip("the gunicorn package (gnet[gunicorn]) is not installed", allow_module_level=True)


class Master:
    def __init__(self, tmp_path: Path, worker: str, app: str, env: dict[str, str]) -> None:
        (tmp_path / worker).mkdir()  # gunicorn's control socket goes there
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "-k", worker, "-w", "2", "-b", "127.0.0.1:0",
             "--pythonpath", EXAMPLES, f"gunicorn_side_by_side:{app}"],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
            env={**os.environ, "XDG_RUNTIME_DIR": str(tmp_path / worker), **env}, cwd=tmp_path,
        )  # fmt: skip
        self.log = b""

    def wait_log(self, pattern: bytes, count: int = 1) -> list[re.Match[bytes]]:
        assert self.proc.stderr is not None
        deadline = time.monotonic() + TIMEOUT
        while len(found := list(re.finditer(pattern, self.log))) < count:
            ready, _, _ = select.select(
                [self.proc.stderr], [], [], max(0.0, deadline - time.monotonic())
            )
            chunk = os.read(self.proc.stderr.fileno(), 65536) if ready else b""
            if not chunk:
                pytest.fail(f"no {pattern!r} in the log: {self.log.decode(errors='replace')}")
            self.log += chunk
        return found

    def stop(self) -> int:
        self.proc.send_signal(signal.SIGTERM)
        return self.proc.wait(TIMEOUT)

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.communicate(timeout=TIMEOUT)


@pytest.fixture
def masters() -> Iterator[list[Master]]:
    started: list[Master] = []
    yield started
    for master in started:
        master.close()


def test_wsgi_and_gnet_side_by_side(tmp_path: Path, masters: list[Master]) -> None:
    web = Master(tmp_path, "gevent", "app", {})
    masters.append(web)
    http_port = int(web.wait_log(rb"Listening at: http://127\.0\.0\.1:(\d+)")[0].group(1))
    web.wait_log(rb"Booting worker", count=2)
    tcp = Master(
        tmp_path, "gnet.gunicorn.Worker", "handle", {"GREET_URL": f"http://127.0.0.1:{http_port}"}
    )
    masters.append(tcp)
    tcp_port = int(tcp.wait_log(rb"Listening at: http://127\.0\.0\.1:(\d+)")[0].group(1))
    tcp.wait_log(rb"gnet worker \d+ serving", count=2)

    with urllib.request.urlopen(
        f"http://127.0.0.1:{http_port}/greet?name=web", timeout=TIMEOUT
    ) as resp:
        assert resp.read() == b"hello, web\n"
    with socket.create_connection(("127.0.0.1", tcp_port), timeout=TIMEOUT) as sock:
        reader = sock.makefile("rb")
        for name in ("alice", "bob"):
            sock.sendall(f"{name}\n".encode())
            assert reader.readline() == f"hello, {name}\n".encode()
        sock.shutdown(socket.SHUT_WR)
        assert reader.read() == b""
        reader.close()
    assert tcp.stop() == 0
    assert web.stop() == 0
