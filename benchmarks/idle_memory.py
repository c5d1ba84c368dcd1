"""Where an idle connection's memory goes: Python allocations per connection, by site.

    python benchmarks/idle_memory.py                          # this checkout, Node style
    python benchmarks/idle_memory.py --base ed38d59 --style straight
    python benchmarks/idle_memory.py --base /tmp/old --connections 5000 --top 30

The yardstick's ``hold`` row gives KiB per idle connection from the RSS; this
says which lines allocated it.  One process per side: a gnet echo server
(``sock.pipe(sock)``, or a ``recv``/``sendall`` loop with ``--style
straight``) and, in the same process, plain non-blocking client sockets
over 127.0.0.1.  After a warm-up batch, ``tracemalloc`` snapshots are taken
before and after ``--connections`` more connect, echo one byte each and go
idle; the difference, divided by the count, is listed by the line that
allocated it (the frame inside gnet where there is one).  Only what Python's
allocator hands out is seen.  That includes the greenlet's saved C stack
(greenlet copies it with PyMem_Realloc: the largest line, at the park).  It
leaves out the greenlet's Python data-stack page (an mmap, ~4 KiB resident
per greenlet on 3.11+), malloc's own overhead and the kernel's socket
buffers: compare the totals with the yardstick's KiB.

``--base`` is a git revision (checked out in a temporary worktree) or a
directory holding a gnet package; the other side is this checkout.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent

MEASURE = r"""
import gc, socket, sys, tracemalloc
import gevent, gevent.socket, gnet

N, STYLE, TOP = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])

def events(sock):
    sock.on('error', lambda err: None)
    sock.pipe(sock)

def straight(sock):
    try:
        while data := sock.recv(65536):
            sock.sendall(data)
    except OSError:
        pass

server = gnet.create_server(events if STYLE == 'events' else straight)
server.listen(0, '127.0.0.1')
port = server.address()['port']
clients = []

def open_idle(count):
    batch = []
    for _ in range(count):
        c = socket.socket()
        c.setblocking(False)
        try:
            c.connect(('127.0.0.1', port))
        except BlockingIOError:
            pass
        batch.append(c)
    for c in batch:
        gevent.socket.wait_write(c.fileno(), 10)
        c.send(b'x')
    for c in batch:
        gevent.socket.wait_read(c.fileno(), 10)
        assert c.recv(16) == b'x'
    clients.extend(batch)
    gevent.sleep(0.3)
    gc.collect()

open_idle(200)  # warm-up: lazily made objects, pools, the set of live connections
tracemalloc.start(8)
before = tracemalloc.take_snapshot()
open_idle(N)
after = tracemalloc.take_snapshot()

def site(trace):
    for frame in reversed(trace):  # oldest first: the newest frame in gnet names the site
        if '/gnet/' in frame.filename:
            break
    else:
        frame = trace[-1]
    return f"{'/'.join(frame.filename.split('/')[-2:])}:{frame.lineno}"

sites = {}
for stat in after.compare_to(before, 'traceback'):
    key = site(stat.traceback)
    size, count = sites.get(key, (0, 0))
    sites[key] = (size + stat.size_diff, count + stat.count_diff)
total = sum(size for size, _ in sites.values())
print(f'{total / N:.0f} B per idle connection ({N} connections, {STYLE})')
for key, (size, count) in sorted(sites.items(), key=lambda kv: -kv[1][0])[:TOP]:
    print(f'{size / N:8.1f} B {count / N:6.2f} objects  {key}')
for c in clients:
    c.close()
server.close()
"""


def measure(source: Path, args: argparse.Namespace) -> str:
    env = dict(os.environ, PYTHONPATH=str(source))
    result = subprocess.run(
        [sys.executable, "-c", MEASURE, str(args.connections), args.style, str(args.top)],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        cwd=tempfile.gettempdir(),
    )
    if result.returncode != 0:
        raise SystemExit(f"measuring {source} failed:\n{result.stderr[-2000:]}")
    return result.stdout


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--base", help="git revision or directory: also measure that gnet")
    parser.add_argument("--style", choices=("events", "straight"), default="events")
    parser.add_argument("--connections", type=int, default=2000)
    parser.add_argument("--top", type=int, default=20, help="sites listed per side")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="gnet-idle-") as tmp:
        sides = []
        worktree = None
        if args.base:
            base = Path(args.base)
            if not base.is_dir():
                worktree = base = Path(tmp) / "base"
                subprocess.run(
                    ["git", "-C", str(ROOT), "worktree", "add", "--detach", str(base), args.base],
                    check=True,
                    capture_output=True,
                    timeout=120,
                )
            sides.append((f"A {args.base}", base))
        sides.append(("B this checkout" if args.base else "this checkout", ROOT))
        try:
            for name, source in sides:
                print(f"## {name}\n\n{measure(source, args)}")
        finally:
            if worktree is not None:
                subprocess.run(
                    ["git", "-C", str(ROOT), "worktree", "remove", "--force", str(worktree)],
                    capture_output=True,
                    timeout=60,
                )
    return 0


if __name__ == "__main__":
    sys.exit(main())
