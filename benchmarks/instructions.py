"""A/B by instruction count: a gnet echo server under valgrind's callgrind.

    python benchmarks/instructions.py --base HEAD~3                 # all loads, both styles
    python benchmarks/instructions.py --base main --loads pingpong --servers gnet_events

On this shared 2-core machine a rate (or even CPU time) moves by 10-20% with
what the other processes do; an instruction count does not.  Each server
runs under ``valgrind --tool=callgrind``; a plain Python client (another
process, no gevent) drives a fixed amount of work after a warm-up, the
counters are zeroed before it and dumped after it, and the figure is the
server's instructions per operation: per round trip (pingpong, TCP and
UNIX, over 100 connections with one message in flight at a time, so no
batching depends on timing), per 64 KiB echoed (bulk) and per connection
(connrate).  The same work on the same binary gives the same count to a
fraction of a percent, so a 1-3% difference between two checkouts is
visible and real.

Instructions are not time (a cache miss costs more than an add), so this
complements ``ab.py`` (CPU time, alternating runs) rather than replacing it.
``--base`` is a git revision (checked out in a temporary worktree) or a
directory holding a gnet package; the other side is this checkout as it is.
``--b-server`` runs another server script on the B side: with ``--base .``
it compares two servers on one checkout, e.g. the echo server without and
with the Prometheus exporter installed::

    python benchmarks/instructions.py --base . --servers gnet_events --b-server gnet_events_metrics
Only 127.0.0.1 and a socket file in a fresh temporary directory are used.
"""

from __future__ import annotations

import argparse
import os
import re
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
SERVERS = HERE / "servers"
LOADS = ("pingpong", "pingpong_unix", "bulk", "connrate")
START_TIMEOUT = 120.0  # a Python start under valgrind takes a while
IO_TIMEOUT = 60.0
PINGPONG_CONNECTIONS = 100
MESSAGE = b"x" * 64
CHUNK = 65536


def checkout(rev: str, into: Path) -> Path:
    subprocess.run(
        ["git", "-C", str(ROOT), "worktree", "add", "--detach", "--force", str(into), rev],
        check=True,
        capture_output=True,
        timeout=60,
    )
    return into


def remove_worktree(path: Path) -> None:
    subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force", str(path)], capture_output=True, timeout=60)


class Server:
    """One echo server under callgrind, from the gnet in ``source``."""

    def __init__(self, script: str, source: Path, workdir: Path, unix_path: str | None) -> None:
        self.out = workdir / f"callgrind.{os.getpid()}.{time.monotonic_ns()}"
        env = dict(os.environ, PYTHONPATH=str(source), PYTHONHASHSEED="0")
        argv = [
            "valgrind",
            "--tool=callgrind",
            f"--callgrind-out-file={self.out}.%p",
            sys.executable,
            str(SERVERS / script),
            "0",
            *([unix_path] if unix_path else []),
        ]
        self.log = workdir / f"{script}.log"
        with open(self.log, "wb") as logf:
            self.proc = subprocess.Popen(argv, stdout=logf, stderr=subprocess.STDOUT, env=env, cwd=str(SERVERS))
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            match = re.search(r"^LISTENING (\d+)", self.log.read_text(errors="replace"), re.M)
            if match:
                self.port = int(match.group(1))
                return
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited: {self.log.read_text(errors='replace')[-500:]}")
            time.sleep(0.1)
        self.stop()
        raise RuntimeError("server not listening in time")

    def control(self, flag: str) -> None:
        subprocess.run(["callgrind_control", flag, str(self.proc.pid)], check=True, capture_output=True, timeout=60)

    def instructions_since_zero(self) -> int:
        """Dump the counters and read the total of the last dump."""
        before = set(self.out.parent.glob(self.out.name + "*"))
        self.control("--dump")
        deadline = time.monotonic() + IO_TIMEOUT
        while time.monotonic() < deadline:
            new = set(self.out.parent.glob(self.out.name + "*")) - before
            for path in new:
                text = path.read_text(errors="replace")
                match = re.search(r"^(?:summary|totals): (\d+)", text, re.M)
                if match:
                    return int(match.group(1))
            time.sleep(0.1)
        raise RuntimeError("no callgrind dump")

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=IO_TIMEOUT)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=IO_TIMEOUT)


def _connect(server: Server, unix_path: str | None) -> socket.socket:
    if unix_path:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(IO_TIMEOUT)
        sock.connect(unix_path)
    else:
        sock = socket.create_connection(("127.0.0.1", server.port), timeout=IO_TIMEOUT)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return sock


def _recv_exactly(sock: socket.socket, size: int) -> None:
    left = size
    while left:
        chunk = sock.recv(min(left, 1 << 20))
        if not chunk:
            raise RuntimeError("server closed")
        left -= len(chunk)


def pingpong(server: Server, unix_path: str | None, rounds: int) -> int:
    conns = [_connect(server, unix_path) for _ in range(PINGPONG_CONNECTIONS)]
    try:
        for r in range(rounds):
            if r == rounds // 5:
                server.control("--zero")  # after a warm-up fifth
                start = r
            # One message in flight at a time: each is handled alone, so the
            # count does not depend on how many the server happens to batch.
            for c in conns:
                c.sendall(MESSAGE)
                _recv_exactly(c, len(MESSAGE))
        return (rounds - start) * len(conns)
    finally:
        for c in conns:
            c.close()


def bulk(server: Server, unix_path: str | None, chunks: int) -> int:
    conn = _connect(server, unix_path)
    data = b"y" * CHUNK
    try:
        for i in range(chunks):
            if i == chunks // 5:
                server.control("--zero")
                start = i
            conn.sendall(data)
            _recv_exactly(conn, CHUNK)
        return chunks - start
    finally:
        conn.close()


def connrate(server: Server, unix_path: str | None, count: int) -> int:
    for i in range(count):
        if i == count // 5:
            server.control("--zero")
            start = i
        conn = _connect(server, unix_path)
        conn.sendall(MESSAGE[:16])
        _recv_exactly(conn, 16)
        conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
        conn.close()  # RST, as the yardstick's connrate does: no TIME_WAIT pile-up
    return count - start


def measure(script: str, source: Path, load: str, scale: int) -> float:
    """Server instructions per operation for one load."""
    with tempfile.TemporaryDirectory(prefix="gnet-instr-") as tmp:
        unix_path = str(Path(tmp) / "s.sock") if load == "pingpong_unix" else None
        server = Server(script, source, Path(tmp), unix_path)
        try:
            if load.startswith("pingpong"):
                ops = pingpong(server, unix_path, 60 * scale)
            elif load == "bulk":
                ops = bulk(server, None, 100 * scale)
            else:
                ops = connrate(server, None, 500 * scale)
            # Let the server finish the last operation's work before the dump.
            time.sleep(0.5)
            return server.instructions_since_zero() / ops
        finally:
            server.stop()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--base", required=True, help="git revision or directory: the A side")
    parser.add_argument("--loads", default=",".join(LOADS))
    parser.add_argument("--servers", default="gnet_events,gnet_straight")
    parser.add_argument("--scale", type=int, default=1, help="more work per measurement")
    parser.add_argument("--b-server", help="the B side runs this server script instead (servers/NAME.py)")
    args = parser.parse_args()
    loads = args.loads.split(",")
    servers = args.servers.split(",")
    with tempfile.TemporaryDirectory(prefix="gnet-instr-base-") as tmp:
        base_path = Path(args.base)
        worktree = None
        if not base_path.is_dir():
            worktree = base_path = checkout(args.base, Path(tmp) / "base")
        try:
            b_side = f"B {args.b_server}" if args.b_server else "B this checkout"
            print(f"| server | load | A {args.base} | {b_side} | B / A |")
            print("|---|---|---:|---:|---:|")
            for script in servers:
                for load in loads:
                    a = measure(f"{script}.py", base_path, load, args.scale)
                    b = measure(f"{args.b_server or script}.py", ROOT, load, args.scale)
                    unit = {"bulk": "per 64 KiB", "connrate": "per connection"}.get(load, "per round trip")
                    print(f"| {script} | {load} ({unit}) | {a:,.0f} | {b:,.0f} | {b / a:.3f} |", flush=True)
        finally:
            if worktree is not None:
                remove_worktree(worktree)
    return 0


if __name__ == "__main__":
    sys.exit(main())
