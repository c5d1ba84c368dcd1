"""Multi-core scaling under gunicorn: the echo pingpong against 1 and 2 gnet workers.

    python benchmarks/gunicorn_scaling.py                          # 3 rounds of 3 s per setup
    python benchmarks/gunicorn_scaling.py --rounds 1 --duration 2  # rough, under a minute

Each setup starts ``gunicorn -k gnet.gunicorn.Worker -w N`` serving
``servers/gunicorn_echo.py`` (``sock.pipe(sock)``, as ``gnet_events``) on
127.0.0.1, the master and its workers pinned to the CPUs the setup gives
them, and drives it with ``loadgen pingpong`` pinned to the last CPU, as
``echo.py`` does.  The setups:

* ``1 worker, cpu 0``: echo.py's arrangement; the server and the load
  generator each have a core of their own.
* ``2 workers, cpus 0-1``: the server may use every core, so on a 2-core
  machine it shares the load generator's.
* ``2 workers, cpus 0-1, --reuse-port``: the same with a listening socket per
  worker, so the kernel spreads connections evenly; with one shared socket
  whichever worker wakes first accepts a whole batch.

The figures: round trips/s (median of the rounds), the cores the server
processes used (master and workers, from /proc), and round trips per
server-core-second, which says whether a second worker adds what the first
did.  How many connections each worker held is read from /proc too.

Rounds alternate across the setups, and before each load the script waits
(up to ``--quiet-wait``) for the machine to go idle, as echo.py does; on a
shared machine the figures still move by 10-20%: quote medians.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import harness  # noqa: E402  (the load generator, pinning and quiet-wait the runners share)

START_TIMEOUT = 30.0


@dataclass(frozen=True)
class Setup:
    label: str
    workers: int
    cpus: tuple[int, ...]
    reuse_port: bool = False


@dataclass
class Result:
    rates: list[float] = field(default_factory=list)
    server_cores: list[float] = field(default_factory=list)
    loadgen_cpu: list[float] = field(default_factory=list)
    spread: list[list[int]] = field(default_factory=list)
    marks: str = ''


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(('127.0.0.1', 0))
        return int(probe.getsockname()[1])


def children(pid: int) -> list[int]:
    try:
        with open(f'/proc/{pid}/task/{pid}/children') as f:
            return [int(p) for p in f.read().split()]
    except OSError:
        return []


def cpu_ticks(pids: list[int]) -> int:
    total = 0
    for pid in pids:
        try:
            with open(f'/proc/{pid}/stat') as f:
                fields = f.read().rsplit(')', 1)[1].split()
            total += int(fields[11]) + int(fields[12])
        except (OSError, IndexError, ValueError):
            pass
    return total


def established(pid: int, port: int) -> int:
    """Connections to ``port`` that process ``pid`` holds (its descriptors, matched in /proc/net/tcp)."""
    inodes = set()
    try:
        for fd in os.listdir(f'/proc/{pid}/fd'):
            try:
                target = os.readlink(f'/proc/{pid}/fd/{fd}')
            except OSError:
                continue
            if target.startswith('socket:['):
                inodes.add(target[8:-1])
    except OSError:
        return 0
    local = f':{port:04X}'
    count = 0
    with open('/proc/net/tcp') as table:
        for line in table.readlines()[1:]:
            cols = line.split()
            if cols[1].endswith(local) and cols[3] == '01' and cols[9] in inodes:
                count += 1
    return count


class Gunicorn:
    def __init__(self, setup: Setup, workdir: Path, env: dict[str, str]) -> None:
        self.setup = setup
        self.port = free_port()
        self.log_path = workdir / f'gunicorn-{setup.workers}-{len(setup.cpus)}-{setup.reuse_port}.log'
        argv = [
            sys.executable, '-m', 'gunicorn', '-k', 'gnet.gunicorn.Worker',
            '-w', str(setup.workers), '-b', f'127.0.0.1:{self.port}',
            '--backlog', '2048', '--log-level', 'info', '--graceful-timeout', '2',
            '--pythonpath', str(HERE / 'servers'),
            *(['--reuse-port'] if setup.reuse_port else []),
            'gunicorn_echo:echo',
        ]  # fmt: skip
        cpus = set(setup.cpus)
        with open(self.log_path, 'wb') as log:
            self.proc = subprocess.Popen(
                argv,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                env=env,
                cwd=workdir,
                preexec_fn=lambda: os.sched_setaffinity(0, cpus),
                start_new_session=True,
            )

    def wait_ready(self) -> str | None:
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            text = self.log_path.read_text(errors='replace')
            if text.count('gnet worker') >= self.setup.workers:
                return None
            if self.proc.poll() is not None:
                return f'gunicorn exited with {self.proc.returncode}: {text[-500:]}'
            time.sleep(0.05)
        return f'not ready after {START_TIMEOUT:.0f} s'

    def pids(self) -> list[int]:
        return [self.proc.pid, *children(self.proc.pid)]

    def spread(self) -> list[int]:
        return sorted((established(pid, self.port) for pid in children(self.proc.pid)), reverse=True)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGQUIT)  # gunicorn's quick stop
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=10)


def measure(args: argparse.Namespace, loadgen: Path, server: Gunicorn, cpu: int, result: Result) -> str:
    cmd = [
        str(loadgen), 'pingpong', '--port', str(server.port), '-c', str(args.connections),
        '-s', str(args.size), '-d', str(args.duration), '-w', str(args.warmup),
        '--connect-timeout', str(harness.CONNECT_TIMEOUT),
    ]  # fmt: skip
    harness.wait_for_quiet(args.quiet_wait)
    hz = os.sysconf('SC_CLK_TCK')
    pids = server.pids()
    busy0, served0, t0 = harness.busy_ticks(), cpu_ticks(pids), time.monotonic()
    spread: list[int] = []
    proc = subprocess.Popen(
        cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, preexec_fn=harness.pin(cpu)
    )
    time.sleep(args.warmup + args.duration / 2)
    spread = server.spread()  # mid-run: who holds the connections
    out, err = proc.communicate(timeout=harness.CONNECT_TIMEOUT + args.warmup + args.duration + 10)
    wall = time.monotonic() - t0
    busy, served = harness.busy_ticks() - busy0, cpu_ticks(pids) - served0
    try:
        raw = json.loads(out.strip().splitlines()[-1])
    except (IndexError, ValueError):
        result.marks += '!'
        return f'loadgen: {err.strip() or out}'
    cores = served / hz / wall
    other = max(0.0, (busy - served) / hz - raw['cpu_total_s']) / wall
    if raw['errors'] or not raw['complete'] or raw['rate'] <= 0:
        result.marks += '!'
    if raw['cpu'] >= harness.CLIENT_BOUND:
        result.marks += '*'
    if other > harness.NOISY:
        result.marks += '~'
    result.rates.append(raw['rate'])
    result.server_cores.append(cores)
    result.loadgen_cpu.append(raw['cpu'])
    result.spread.append(spread)
    return (f"{raw['rate']:,.0f} rt/s, server {cores:.2f} cores, loadgen {raw['cpu']:.2f}, "
            f'other {other:.2f}, connections per worker {spread}, errors {raw["errors"]}')


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split('\n\n')[0],
                                formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument('--rounds', type=int, default=3)
    p.add_argument('--duration', type=float, default=3.0, help='seconds measured per round')
    p.add_argument('--warmup', type=float, default=0.5)
    p.add_argument('--connections', type=int, default=100)
    p.add_argument('--size', type=int, default=64)
    p.add_argument('--quiet-wait', type=float, default=5.0)
    args = p.parse_args()

    cpus = sorted(os.sched_getaffinity(0))
    if len(cpus) < 2:
        sys.exit('gunicorn_scaling.py: needs at least 2 CPUs')
    loadgen_cpu = cpus[-1]
    setups = [
        Setup(f'1 worker, cpu {cpus[0]}', 1, (cpus[0],)),
        Setup(f'2 workers, cpus {cpus[0]}-{cpus[-1]}', 2, tuple(cpus)),
        Setup(f'2 workers, cpus {cpus[0]}-{cpus[-1]}, --reuse-port', 2, tuple(cpus), True),
    ]
    harness.raise_nofile(args.connections)
    loadgen = harness.build_loadgen()
    env = dict(os.environ)
    env['PYTHONPATH'] = os.pathsep.join(filter(None, [str(harness.ROOT), env.get('PYTHONPATH')]))
    results = {s.label: Result() for s in setups}
    workdir = Path(tempfile.mkdtemp(prefix='gnet-gunicorn-'))
    env['XDG_RUNTIME_DIR'] = str(workdir)  # gunicorn's control socket goes there
    try:
        for rnd in range(1, args.rounds + 1):
            for setup in setups:
                server = Gunicorn(setup, workdir, env)
                try:
                    why = server.wait_ready()
                    if why:
                        harness.log(f'{setup.label}: {why}')
                        results[setup.label].marks += '!'
                        continue
                    harness.prime(loadgen, _Target(server.port), loadgen_cpu)  # type: ignore[arg-type]
                    detail = measure(args, loadgen, server, loadgen_cpu, results[setup.label])
                    harness.log(f'round {rnd}/{args.rounds} {setup.label}: {detail}')
                finally:
                    server.stop()
    finally:
        shutil.rmtree(workdir, ignore_errors=True)

    base = statistics.median(results[setups[0].label].rates) if results[setups[0].label].rates else None
    print(f'\nEcho pingpong C={args.connections} S={args.size} B under gunicorn (gnet.gunicorn.Worker), '
          f'loadgen on cpu {loadgen_cpu}; median of {args.rounds} x {args.duration:g} s\n')
    print('| setup | round trips/s | ÷ 1 worker | server cores used | rt/s per server core | connections per worker |')
    print('|---|---:|---:|---:|---:|---|')
    for setup in setups:
        r = results[setup.label]
        if not r.rates:
            print(f'| {setup.label} | n/a{r.marks} | | | | |')
            continue
        rate, cores = statistics.median(r.rates), statistics.median(r.server_cores)
        marks = ''.join(sorted(set(r.marks)))
        ratio = f'{rate / base:.2f}' if base else '–'
        spread = r.spread[len(r.spread) // 2] if r.spread else []
        print(f'| {setup.label} | {rate:,.0f}{marks} | {ratio} | {cores:.2f} | {rate / cores:,.0f} | {spread} |')
    print('\nmarks (any round): ! errors  * loadgen ≥ 90% of its core  '
          f'~ other processes busy > {harness.NOISY} cores')


class _Target:
    """What echo.prime() needs of a server: its loadgen target arguments."""

    def __init__(self, port: int) -> None:
        self.port = port

    def target(self) -> list[str]:
        return ['--port', str(self.port)]


if __name__ == '__main__':
    main()
