"""The slow-client flood: N handlers' readline timeouts at once, and a legitimate client's latency.

    python benchmarks/log_flood.py                        # 500 slow clients, 5 s timeout, log INFO and off
    python benchmarks/log_flood.py --base 5d4cc86         # the same runs on another checkout too
    python benchmarks/log_flood.py --clients 200 --timeout 2 --rounds 3 --logs INFO

The server (`servers/gnet_readline_flood.py`) echoes lines with a
straight-line handler, `while line := sock.readline(timeout=T)`, and logs
to stderr with Python's logging (level INFO, or 'off': ``logging.disable()``).
One legitimate client pings a line every millisecond and times each round
trip; then N clients connect and send nothing, so N handlers time out
within a few milliseconds of each other, T seconds later, and each
TimeoutError escapes its handler and is logged by gnet.  Figures per run:
the log records the server wrote (and the most in any one second), how many
carried a traceback, the legitimate client's worst and 99th-percentile
round trip while the flood was handled (from T - 0.5 s after the slow clients
connected to the end) and over the whole run, and how many slow clients the
server closed.

The server and this client are pinned to different CPUs when there are two;
on a shared machine a single run's worst case can include another process's
burst, so compare the 'log off' row of the same checkout, and use --rounds.
Only 127.0.0.1 is used.
"""

from __future__ import annotations

import argparse
import os
import re
import resource
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
SERVERS = HERE / 'servers'
START_TIMEOUT = 20.0
PING_INTERVAL = 0.001
RECORD = re.compile(rb'^\d+\.\d+ ', re.M)


def checkout(rev: str, into: Path) -> Path:
    subprocess.run(
        ['git', '-C', str(ROOT), 'worktree', 'add', '--detach', '--force', str(into), rev],
        check=True,
        capture_output=True,
        timeout=60,
    )
    return into


def remove_worktree(path: Path) -> None:
    subprocess.run(['git', '-C', str(ROOT), 'worktree', 'remove', '--force', str(path)], capture_output=True, timeout=60)


def raise_nofile(needed: int) -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = needed + 64
    if soft < want:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(want, hard) if hard != resource.RLIM_INFINITY else want, hard))


def start_server(source: Path, timeout: float, level: str, workdir: Path, cpu: int | None) -> tuple[subprocess.Popen[bytes], int, Path]:
    err_path = workdir / f'server-{time.monotonic_ns()}.err'
    env = dict(os.environ, PYTHONPATH=str(source))

    def pin() -> None:
        if cpu is not None:
            os.sched_setaffinity(0, {cpu})
        raise_nofile(4096)

    with open(err_path, 'wb') as err:
        proc = subprocess.Popen(
            [sys.executable, str(SERVERS / 'gnet_readline_flood.py'), '0', str(timeout), level],
            stdout=subprocess.PIPE,
            stderr=err,
            cwd=str(SERVERS),
            env=env,
            preexec_fn=pin,
        )
    assert proc.stdout is not None
    deadline = time.monotonic() + START_TIMEOUT
    line = b''
    while time.monotonic() < deadline and not line.startswith(b'LISTENING'):
        line = proc.stdout.readline()
        if not line and proc.poll() is not None:
            raise RuntimeError(f'server exited: {err_path.read_text(errors="replace")[-500:]}')
    if not line.startswith(b'LISTENING'):
        proc.kill()
        raise RuntimeError('server not listening in time')
    return proc, int(line.split()[1]), err_path


def ping(conn: socket.socket) -> float:
    start = time.perf_counter()
    conn.sendall(b'ping\n')
    got = b''
    while not got.endswith(b'\n'):
        chunk = conn.recv(64)
        if not chunk:
            raise RuntimeError('the server closed the legitimate client')
        got += chunk
    return time.perf_counter() - start


def closed_by_server(sock: socket.socket) -> bool:
    sock.settimeout(0.0)
    try:
        return sock.recv(1) == b''
    except BlockingIOError:
        return False
    except OSError:
        return True  # reset: closed too


def run(source: Path, args: argparse.Namespace, level: str, workdir: Path, cpus: list[int]) -> dict[str, float | int]:
    server_cpu = cpus[0] if len(cpus) > 1 else None
    proc, port, err_path = start_server(source, args.timeout, level, workdir, server_cpu)
    slow: list[socket.socket] = []
    try:
        legit = socket.create_connection(('127.0.0.1', port), timeout=10)
        legit.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        for _ in range(50):
            ping(legit)  # warm up
        for _ in range(args.clients):
            slow.append(socket.create_connection(('127.0.0.1', port), timeout=10))
        flood_at = time.perf_counter() + args.timeout - 0.5
        end = time.perf_counter() + args.timeout + args.after
        samples: list[tuple[float, float]] = []
        while (now := time.perf_counter()) < end:
            samples.append((now, ping(legit)))
            time.sleep(PING_INTERVAL)
        legit.close()
        closed = sum(closed_by_server(s) for s in slow)
    finally:
        for s in slow:
            s.close()
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)
        if proc.stdout is not None:
            proc.stdout.close()
    text = err_path.read_bytes()
    stamps = sorted(float(m.group(0)) for m in RECORD.finditer(text))
    busiest = 0
    lo = 0
    for hi, stamp in enumerate(stamps):
        while stamp - stamps[lo] >= 1.0:
            lo += 1
        busiest = max(busiest, hi - lo + 1)
    during = [lat for at, lat in samples if at >= flood_at]
    everything = [lat for _, lat in samples]
    return {
        'records': len(stamps),
        'per_second': busiest,
        'tracebacks': text.count(b'Traceback'),
        'worst_flood': max(during) * 1000,
        'p99_flood': quantile(during, 0.99) * 1000,
        'worst_all': max(everything) * 1000,
        'median_all': statistics.median(everything) * 1000,
        'pings': len(samples),
        'closed': closed,
    }


def quantile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--base', help='git revision or directory: also run that checkout')
    parser.add_argument('--clients', type=int, default=500, help='slow clients (default 500)')
    parser.add_argument('--timeout', type=float, default=5.0, help="the handler's readline timeout, s")
    parser.add_argument('--after', type=float, default=2.0, help='seconds measured after the timeout')
    parser.add_argument('--logs', default='INFO,off', help="comma-separated: logging levels or 'off'")
    parser.add_argument('--rounds', type=int, default=1)
    args = parser.parse_args()
    if not 1 <= args.clients <= 5000 or not 0.5 <= args.timeout <= 60 or not 1 <= args.rounds <= 20:
        parser.error('need 1 <= --clients <= 5000, 0.5 <= --timeout <= 60, 1 <= --rounds <= 20')
    raise_nofile(args.clients + 64)
    cpus = sorted(os.sched_getaffinity(0))
    if len(cpus) > 1:
        os.sched_setaffinity(0, {cpus[-1]})
    with tempfile.TemporaryDirectory(prefix='gnet-flood-') as tmp:
        workdir = Path(tmp)
        sides: dict[str, Path] = {'this checkout': ROOT}
        worktree = None
        if args.base:
            base = Path(args.base)
            if not base.is_dir():
                base = worktree = checkout(args.base, workdir / 'base')
            sides = {args.base: base, **sides}
        try:
            print(f'{args.clients} slow clients, readline(timeout={args.timeout}); latencies in ms')
            print('| checkout | log | records | most in 1 s | tracebacks | worst (flood) | p99 (flood) | worst (all) | median | slow clients closed |')
            print('|---|---|---:|---:|---:|---:|---:|---:|---:|---:|')
            for _ in range(args.rounds):
                for name, source in sides.items():
                    for level in args.logs.split(','):
                        r = run(source, args, level, workdir, cpus)
                        print(
                            f"| {name} | {level} | {r['records']} | {r['per_second']} | {r['tracebacks']} "
                            f"| {r['worst_flood']:.1f} | {r['p99_flood']:.2f} | {r['worst_all']:.1f} "
                            f"| {r['median_all']:.2f} | {r['closed']}/{args.clients} |",
                            flush=True,
                        )
        finally:
            if worktree is not None:
                remove_worktree(worktree)
    return 0


if __name__ == '__main__':
    sys.exit(main())
