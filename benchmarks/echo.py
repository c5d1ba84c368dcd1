"""Echo-server benchmark: gnet against gevent, asyncio and Node on this machine.

    python benchmarks/echo.py                       # every server, the three loads, a table
    python benchmarks/echo.py --servers gevent,gnet_events --duration 2 --rounds 1
    python benchmarks/echo.py --unix                # over a UNIX socket instead of TCP
    python benchmarks/echo.py --sweep               # pingpong at C = 1, 10, 100, 1000; a plot

Each server runs pinned to one CPU and the C load generator (loadgen.c, built
here on first use) to another. See benchmarks/README.md for what the figures
mean and how to read the marks.
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import platform
import resource
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
SERVER_DIR = HERE / 'servers'
LOADGEN_SRC = HERE / 'loadgen.c'
LOADGEN = HERE / '.build' / 'loadgen'
RESULTS = HERE / 'results'

LOADS = ('pingpong', 'bulk', 'connrate')
LOAD_HEADINGS = {'pingpong': 'round trips/s', 'bulk': 'bulk MB/s', 'connrate': 'conn/s'}
SHORT = {'pingpong': 'rt', 'bulk': 'bulk', 'connrate': 'conn'}
SWEEP_CONNECTIONS = (1, 10, 100, 1000)
CONNRATE_INFLIGHT = 50
BULK_CHUNK = 65536
BASELINES = ('gevent', 'node')
START_TIMEOUT = 10.0
CONNECT_TIMEOUT = 10.0
CLIENT_BOUND = 0.9  # loadgen's share of its core at which the figure may be its own limit
NOISY = 0.25  # cores that other processes kept busy during a load


@dataclass(frozen=True)
class ServerSpec:
    name: str
    script: str
    needs_gnet: bool = False

    def argv(self, unix_path: str | None) -> list[str]:
        runtime = ['node'] if self.script.endswith('.js') else [sys.executable]
        return [*runtime, str(SERVER_DIR / self.script), '0', *([unix_path] if unix_path else [])]


SERVERS = {
    spec.name: spec
    for spec in (
        ServerSpec('gnet_events', 'gnet_events.py', needs_gnet=True),
        ServerSpec('gnet_data', 'gnet_data.py', needs_gnet=True),
        ServerSpec('gnet_straight', 'gnet_straight.py', needs_gnet=True),
        ServerSpec('gevent', 'gevent_echo.py'),
        ServerSpec('asyncio', 'asyncio_echo.py'),
        ServerSpec('node', 'node_echo.js'),
    )
}


@dataclass
class Measurement:
    value: float | None
    marks: str
    raw: dict


@dataclass
class Run:
    """Everything one invocation measured, keyed by server, then by load label."""

    results: dict[str, dict[str, list[Measurement]]] = field(default_factory=dict)
    skipped: dict[str, str] = field(default_factory=dict)

    def add(self, server: str, label: str, m: Measurement) -> None:
        self.results.setdefault(server, {}).setdefault(label, []).append(m)

    def median_raw(self, server: str, label: str, key: str) -> float | None:
        values = [m.raw[key] for m in self.results.get(server, {}).get(label, [])
                  if m.raw.get(key) is not None]
        return statistics.median(values) if values else None

    def median(self, server: str, label: str) -> tuple[float | None, str]:
        ms = self.results.get(server, {}).get(label, [])
        values = [m.value for m in ms if m.value is not None]
        marks = ''.join(sorted({c for m in ms for c in m.marks}))
        return (statistics.median(values) if values else None), marks


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def pin(cpu: int) -> functools.partial:
    # Set in the child before exec, so every thread the runtime starts (Node's
    # V8 and libuv workers, gevent's threadpool) inherits the CPU too.
    return functools.partial(os.sched_setaffinity, 0, {cpu})


def build_loadgen() -> Path:
    if LOADGEN.exists() and LOADGEN.stat().st_mtime >= LOADGEN_SRC.stat().st_mtime:
        return LOADGEN
    cc = os.environ.get('CC', 'gcc')
    if not shutil.which(cc):
        sys.exit(f'echo.py: no C compiler ({cc}) to build {LOADGEN_SRC.name}')
    LOADGEN.parent.mkdir(exist_ok=True)
    log(f'building {LOADGEN.relative_to(ROOT)} with {cc} -O2')
    proc = subprocess.run(
        [cc, '-O2', '-Wall', '-Wextra', '-o', str(LOADGEN), str(LOADGEN_SRC)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    if proc.returncode != 0:
        sys.exit(f'echo.py: building loadgen failed:\n{proc.stderr}')
    return LOADGEN


def raise_nofile(needed: int) -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = needed + 256  # the listeners, logs and pipes besides the connections
    if soft >= want:
        return
    if hard != resource.RLIM_INFINITY and hard < want:
        log(f'note: RLIMIT_NOFILE hard limit {hard} < {want}: C={needed} may fail to connect')
        want = hard
    resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))


def gnet_import_error(env: dict[str, str]) -> str | None:
    proc = subprocess.run(
        # gnet/ imports as a namespace package before its __init__.py exists
        [sys.executable, '-c', 'from gnet import create_server, run'],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    if proc.returncode == 0:
        return None
    lines = proc.stderr.strip().splitlines()
    return f'gnet is not usable yet: {lines[-1] if lines else f"exit code {proc.returncode}"}'


def busy_ticks() -> int:
    """Ticks every CPU spent on anything but idling, steal included."""
    with open('/proc/stat') as f:
        user, nice, system, idle, iowait, irq, softirq, steal = map(int, f.readline().split()[1:9])
    return user + nice + system + irq + softirq + steal


def wait_for_quiet(limit: float) -> None:
    """Waits, at most `limit` s, until other processes leave the machine nearly idle."""
    hz = os.sysconf('SC_CLK_TCK')
    start = time.monotonic()
    while time.monotonic() - start < limit:
        before = busy_ticks()
        time.sleep(0.25)
        if (busy_ticks() - before) / hz / 0.25 < NOISY:
            break
    waited = time.monotonic() - start
    if waited > 0.5:
        log(f'waited {waited:.1f} s for other processes to quiet down')


class Server:
    def __init__(self, spec: ServerSpec, cpu: int, workdir: Path, env: dict[str, str], unix: bool):
        self.spec = spec
        self.cpu = cpu
        self.env = env
        self.log_path = workdir / f'{spec.name}.log'
        self.unix_path = str(workdir / f'{spec.name}.sock') if unix else None
        self.proc: subprocess.Popen | None = None
        self.port = 0

    def start(self) -> str | None:
        """Starts the server; returns why it could not, or None once it listens."""
        if self.unix_path and os.path.exists(self.unix_path):
            os.unlink(self.unix_path)
        with open(self.log_path, 'wb') as logf:
            self.proc = subprocess.Popen(
                self.spec.argv(self.unix_path),
                stdin=subprocess.DEVNULL,
                stdout=logf,
                stderr=subprocess.STDOUT,
                env=self.env,
                cwd=str(SERVER_DIR),
                preexec_fn=pin(self.cpu),
                start_new_session=True,  # a Ctrl-C reaches echo.py only; it stops the server
            )
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            for line in self.log_path.read_text(errors='replace').splitlines():
                if line.startswith('LISTENING '):
                    self.port = int(line.split()[1])
                    return None
            if self.proc.poll() is not None:
                return f'exited with code {self.proc.returncode}: {self.log_tail()}'
            time.sleep(0.02)
        self.stop()
        return f'not listening after {START_TIMEOUT:.0f} s: {self.log_tail()}'

    def log_tail(self) -> str:
        lines = [line.strip() for line in self.log_path.read_text(errors='replace').splitlines()]
        return ' | '.join([line for line in lines if line][-3:]) or '(no output)'

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def cpu_ticks(self) -> int:
        try:
            with open(f'/proc/{self.proc.pid}/stat') as f:
                fields = f.read().rsplit(')', 1)[1].split()
            return int(fields[11]) + int(fields[12])  # utime, stime of the whole process
        except (OSError, IndexError, ValueError):
            return 0

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=3)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=3)

    def target(self) -> list[str]:
        return ['--unix', self.unix_path] if self.unix_path else ['--port', str(self.port)]


def measure(
    args: argparse.Namespace,
    loadgen: Path,
    server: Server,
    load: str,
    connections: int,
    cpu: int,
) -> Measurement:
    cmd = [str(loadgen), load, *server.target(), '-d', str(args.duration), '-w', str(args.warmup)]
    if load == 'pingpong':
        cmd += ['-c', str(connections), '-s', str(args.size)]
    elif load == 'bulk':
        cmd += ['-c', '1', '--chunk', str(BULK_CHUNK)]
    else:
        cmd += ['--inflight', str(CONNRATE_INFLIGHT)]
    cmd += ['--connect-timeout', str(CONNECT_TIMEOUT)]
    wait_for_quiet(args.quiet_wait)
    hz = os.sysconf('SC_CLK_TCK')
    busy0, served0, t0 = busy_ticks(), server.cpu_ticks(), time.monotonic()
    try:
        proc = subprocess.run(
            cmd,
            capture_output=True,
            text=True,
            preexec_fn=pin(cpu),
            timeout=CONNECT_TIMEOUT + args.warmup + args.duration + 10,
        )
    except subprocess.TimeoutExpired:
        return Measurement(None, '!', {'error': 'loadgen overran its deadline'})
    wall = time.monotonic() - t0
    busy, served = busy_ticks() - busy0, server.cpu_ticks() - served0
    try:
        raw = json.loads(proc.stdout.strip().splitlines()[-1])
    except (IndexError, ValueError):
        return Measurement(None, '!', {'error': f'loadgen: {proc.stderr.strip() or proc.stdout}'})
    raw['server_cpu'] = round(served / hz / wall, 3)
    # Server CPU per operation (us per round trip / connection, per MB for
    # bulk): what a busy shared machine distorts least, unlike a rate.
    # Approximate: the server's CPU over the whole run, over the operations
    # the measured rate implies for warm-up plus duration.
    ops = raw.get('rate', 0) * (args.warmup + args.duration)
    raw['server_us_per_op'] = round(served / hz * 1e6 / ops, 2) if ops > 0 else None
    raw['other_cpu'] = round(max(0.0, (busy - served) / hz - raw['cpu_total_s']) / wall, 3)
    marks = ''
    if raw['errors'] or not raw['complete'] or raw['rate'] <= 0 or not server.alive():
        marks += '!'
    if raw['cpu'] >= CLIENT_BOUND:
        marks += '*'
    if raw['other_cpu'] > NOISY:
        marks += '~'
    return Measurement(raw['rate'], marks, raw)


def prime(loadgen: Path, server: Server, cpu: int) -> None:
    """A short untimed pingpong on connections of its own before anything is measured.

    The first connections a fresh asyncio server accepts stayed ~4x slower per
    round trip for their whole life here, however long the warm-up; later ones
    did not. Priming keeps that artifact out of the first load's figure, so a
    fresh server's pingpong agrees with the sweep's, which follows other loads.
    """
    cmd = [str(loadgen), 'pingpong', *server.target(), '-c', '10', '-d', '0.2', '-w', '0']
    subprocess.run(cmd, capture_output=True, preexec_fn=pin(cpu), timeout=CONNECT_TIMEOUT + 5)


def fmt_value(value: float | None, marks: str) -> str:
    return ('n/a' if value is None else f'{value:,.0f}') + marks


def fmt_ratios(run: Run, server: str, labels: list[str], base: str) -> str:
    parts = []
    for label in labels:
        value, _ = run.median(server, label)
        base_value, _ = run.median(base, label)
        parts.append(f'{value / base_value:.2f}' if value and base_value else '–')
    return ' / '.join(parts)


def table(run: Run, servers: list[str], labels: list[str], headings: list[str]) -> str:
    measured = [s for s in servers if s in run.results]
    bases = [b for b in BASELINES if b in measured]
    short = ' / '.join(SHORT.get(label, label) for label in labels)
    head = ['server', *headings, *(f'÷ {b} ({short})' for b in bases)]
    rows = [
        '| ' + ' | '.join(head) + ' |',
        '|' + '|'.join(['---', *['---:'] * (len(head) - 1)]) + '|',
    ]
    for server in measured:
        cells = [server, *(fmt_value(*run.median(server, label)) for label in labels)]
        cells += [fmt_ratios(run, server, labels, b) for b in bases]
        rows.append('| ' + ' | '.join(cells) + ' |')
    skipped = [f'skipped {s}: {why}' for s, why in run.skipped.items() if s in servers]
    return '\n'.join(rows + ([''] if skipped else []) + skipped)


def cpu_table(run: Run, servers: list[str], labels: list[str], headings: list[str]) -> str:
    """Server CPU per operation (lower is better), and each base's cost ÷ the server's."""
    measured = [s for s in servers if s in run.results]
    bases = [b for b in BASELINES if b in measured]
    short = ' / '.join(SHORT.get(label, label) for label in labels)
    head = ['server', *(f'{h} cpu µs/op' for h in headings),
            *(f'{b} cost ÷ this ({short})' for b in bases)]
    rows = [
        '| ' + ' | '.join(head) + ' |',
        '|' + '|'.join(['---', *['---:'] * (len(head) - 1)]) + '|',
    ]
    for server in measured:
        costs = [run.median_raw(server, label, 'server_us_per_op') for label in labels]
        cells = [server, *('n/a' if c is None else f'{c:.2f}' for c in costs)]
        for base in bases:
            ratios = []
            for label, cost in zip(labels, costs, strict=True):
                base_cost = run.median_raw(base, label, 'server_us_per_op')
                ratios.append(f'{base_cost / cost:.2f}' if cost and base_cost else '–')
            cells.append(' / '.join(ratios))
        rows.append('| ' + ' | '.join(cells) + ' |')
    return '\n'.join(rows)


def plot_sweep(run: Run, servers: list[str], title: str) -> None:
    try:
        import matplotlib
    except ImportError:
        log('matplotlib is not importable: no plot (pip install matplotlib for benchmarks/sweep.png)')
        return
    matplotlib.use('Agg')  # renders to a file with no display
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(8, 5))
    for server in servers:
        points = [(c, run.median(server, f'C={c}')[0]) for c in SWEEP_CONNECTIONS]
        points = [(c, v) for c, v in points if v]
        if points:
            ax.plot(*zip(*points, strict=True), marker='o', label=server)
    ax.set_xscale('log')
    ax.set_xticks(SWEEP_CONNECTIONS, [str(c) for c in SWEEP_CONNECTIONS])
    ax.set_xlabel('connections (one message in flight each)')
    ax.set_ylabel('round trips/s (median)')
    ax.set_ylim(bottom=0)
    ax.set_title(title, fontsize=10)
    ax.grid(True, alpha=0.3)
    ax.legend()
    fig.tight_layout()
    out = HERE / 'sweep.png'  # committed: README.md shows it
    fig.savefig(out, dpi=120)
    log(f'plot: {out.relative_to(ROOT)}')


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(
        description='Echo-server benchmark: gnet vs gevent, asyncio and Node.',
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    p.add_argument('--servers', default=','.join(SERVERS), help='comma-separated, of: %(default)s')
    p.add_argument('--loads', default=','.join(LOADS), help='comma-separated, of: %(default)s')
    p.add_argument('--duration', type=float, default=3.0, help='seconds measured per load')
    p.add_argument('--warmup', type=float, default=0.5, help='seconds of load before measuring')
    p.add_argument('--rounds', type=int, default=3, help='rounds per server; medians are quoted')
    p.add_argument('--connections', type=int, default=100, help='pingpong connections')
    p.add_argument('--size', type=int, default=64, help='pingpong message bytes')
    p.add_argument(
        '--quiet-wait',
        type=float,
        default=5.0,
        help='seconds to wait, before each load, for other processes to go idle',
    )
    p.add_argument('--unix', action='store_true', help='use a UNIX socket instead of TCP')
    p.add_argument(
        '--sweep', action='store_true', help='pingpong at C = 1, 10, 100, 1000; plot to results/'
    )
    args = p.parse_args()
    args.servers = [s.strip() for s in args.servers.split(',') if s.strip()]
    args.loads = [s.strip() for s in args.loads.split(',') if s.strip()]
    unknown = [s for s in args.servers if s not in SERVERS] + [
        s for s in args.loads if s not in LOADS
    ]
    if unknown:
        p.error(f'unknown server or load: {", ".join(unknown)}')
    if not (0 < args.duration <= 600 and 0 <= args.warmup <= 60 and 1 <= args.rounds <= 50):
        p.error('need 0 < --duration <= 600, 0 <= --warmup <= 60, 1 <= --rounds <= 50')
    if not 0 <= args.quiet_wait <= 600:
        p.error('need 0 <= --quiet-wait <= 600')
    if not (1 <= args.connections <= 20000 and 1 <= args.size <= 1 << 24):
        p.error('need 1 <= --connections <= 20000 and 1 <= --size <= 16777216')
    return args


def main() -> None:
    args = parse_args()
    cpus = sorted(os.sched_getaffinity(0))
    server_cpu, loadgen_cpu = cpus[0], cpus[1 if len(cpus) > 1 else 0]
    if len(cpus) < 2:
        log('note: one CPU only: the server and loadgen share it, so figures are halved at best')
    raise_nofile(max([args.connections, *(SWEEP_CONNECTIONS if args.sweep else ())]))
    loadgen = build_loadgen()

    env = dict(os.environ)
    env['PYTHONPATH'] = os.pathsep.join(filter(None, [str(ROOT), env.get('PYTHONPATH')]))
    run = Run()
    gnet_error = None
    if any(SERVERS[s].needs_gnet for s in args.servers):
        gnet_error = gnet_import_error(env)
    for name in args.servers:
        if SERVERS[name].needs_gnet and gnet_error:
            run.skipped[name] = gnet_error
        elif SERVERS[name].script.endswith('.js') and not shutil.which('node'):
            run.skipped[name] = 'node is not on PATH'
    for name, why in run.skipped.items():
        log(f'skipped {name}: {why}')

    if args.sweep:
        labels = [f'C={c}' for c in SWEEP_CONNECTIONS]
        plan = [('pingpong', c, f'C={c}') for c in SWEEP_CONNECTIONS]
    else:
        labels = args.loads
        plan = [(load, args.connections, load) for load in args.loads]
    transport = 'UNIX socket' if args.unix else 'TCP 127.0.0.1'

    workdir = Path(tempfile.mkdtemp(prefix='gnet-echo-'))
    try:
        # Rounds go across the servers, so a burst of noise on this shared machine
        # hits one round of several servers rather than every round of one.
        for rnd in range(1, args.rounds + 1):
            for name in args.servers:
                if name in run.skipped:
                    continue
                server = Server(SERVERS[name], server_cpu, workdir, env, args.unix)
                why = server.start()
                if why:
                    run.skipped[name] = why
                    log(f'skipped {name}: {why}')
                    continue
                try:
                    prime(loadgen, server, loadgen_cpu)
                    for load, connections, label in plan:
                        m = measure(args, loadgen, server, load, connections, loadgen_cpu)
                        run.add(name, label, m)
                        detail = m.raw.get('error') or (
                            f"loadgen cpu {m.raw['cpu']:.2f}, server cpu {m.raw['server_cpu']:.2f}"
                            f", errors {m.raw['errors']}"
                        )
                        log(f'round {rnd}/{args.rounds} {name} {label}: '
                            f'{fmt_value(m.value, m.marks)} ({detail})')
                        if not server.alive():
                            log(f'{name} died: {server.log_tail()}')
                            break
                finally:
                    server.stop()
    finally:
        shutil.rmtree(workdir, ignore_errors=True)

    if args.sweep:
        title = (f'Echo pingpong sweep, {transport}, {args.size} B messages, '
                 f'median of {args.rounds} × {args.duration:g} s')
        headings = [f'C={c} rt/s' for c in SWEEP_CONNECTIONS]
    else:
        title = (f'Echo benchmark, {transport}: pingpong C={args.connections} S={args.size} B, '
                 f'bulk {BULK_CHUNK // 1024} KiB chunks, connrate {CONNRATE_INFLIGHT} in flight; '
                 f'median of {args.rounds} × {args.duration:g} s after {args.warmup:g} s warm-up')
        headings = [LOAD_HEADINGS[label] for label in labels]
    print(f'\n{title}\n')
    print(table(run, args.servers, labels, headings))
    print()
    print(cpu_table(run, args.servers, labels, headings))
    print('\nmarks (any round): ! errors or no echo  * loadgen ≥ 90% of its core (client-bound)'
          f'  ~ other processes busy > {NOISY} cores')

    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / ('sweep.json' if args.sweep else 'echo.json')
    out.write_text(json.dumps({
        'title': title,
        'args': vars(args),
        'machine': {'python': platform.python_version(), 'cpus': cpus, 'kernel': platform.release()},
        'skipped': run.skipped,
        'results': {
            s: {label: [{'value': m.value, 'marks': m.marks, **m.raw} for m in ms]
                for label, ms in by_label.items()}
            for s, by_label in run.results.items()
        },
    }, indent=1))
    log(f'raw results: {out.relative_to(ROOT)}')
    if args.sweep:
        plot_sweep(run, [s for s in args.servers if s in run.results], title)


if __name__ == '__main__':
    main()
