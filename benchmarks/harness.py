"""What the benchmark runners share (echo.py, resp.py, tls.py, ab.py).

Servers are scripts in servers/, started fresh with argv `PORT [UNIX_PATH]`,
pinned to one CPU, ready once they print `LISTENING <port>`. The C load
generator (loadgen.c, built here on first use) runs pinned to the other CPU
and prints one JSON line, which `run_loadgen()` turns into a `Measurement`
with the server's CPU per operation and the noise marks. `table()` and
`cpu_table()` print the medians of the rounds with ratios to baseline servers.
"""

from __future__ import annotations

import functools
import json
import os
import platform
import resource
import select
import shutil
import signal
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
SERVER_DIR = HERE / 'servers'
LOADGEN_SRC = HERE / 'loadgen.c'
LOADGEN = HERE / '.build' / 'loadgen'
RESULTS = HERE / 'results'

START_TIMEOUT = 10.0
CONNECT_TIMEOUT = 10.0
CLIENT_BOUND = 0.9  # loadgen's share of its core at which the figure may be its own limit
NOISY = 0.25  # cores that other processes kept busy during a load
GNET_PROBE = 'from gnet import create_server, run'
MARKS_NOTE = ('marks (any round): ! errors or no reply  * loadgen ≥ 90% of its core (client-bound)'
              f'  ~ other processes busy > {NOISY} cores')


@dataclass(frozen=True)
class ServerSpec:
    """One server script; `probe` is Python that must run before it can (else: skipped)."""

    name: str
    script: str
    needs_gnet: bool = False
    probe: str = ''

    def argv(self, unix_path: str | None) -> list[str]:
        runtime = ['node'] if self.script.endswith('.js') else [sys.executable]
        return [*runtime, str(SERVER_DIR / self.script), '0', *([unix_path] if unix_path else [])]

    def requirement(self) -> str:
        return self.probe or (GNET_PROBE if self.needs_gnet else '')


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


def cpus() -> tuple[int, int]:
    """The server's CPU and loadgen's."""
    mine = sorted(os.sched_getaffinity(0))
    if len(mine) < 2:
        log('note: one CPU only: the server and loadgen share it, so figures are halved at best')
    return mine[0], mine[1 if len(mine) > 1 else 0]


def build_loadgen() -> Path:
    """loadgen, rebuilt when loadgen.c is newer; with OpenSSL when its headers are there."""
    if LOADGEN.exists() and LOADGEN.stat().st_mtime >= LOADGEN_SRC.stat().st_mtime:
        return LOADGEN
    cc = os.environ.get('CC', 'gcc')
    if not shutil.which(cc):
        sys.exit(f'no C compiler ({cc}) to build {LOADGEN_SRC.name}')
    LOADGEN.parent.mkdir(exist_ok=True)
    base = [cc, '-O2', '-Wall', '-Wextra', '-o', str(LOADGEN), str(LOADGEN_SRC)]
    log(f'building {LOADGEN.relative_to(ROOT)} with {cc} -O2')
    proc = subprocess.run([*base, '-lssl', '-lcrypto'], capture_output=True, text=True, timeout=120)
    if proc.returncode != 0:
        log('note: building with OpenSSL failed, so without TLS (tls.py will not run):\n'
            + proc.stderr.strip())
        proc = subprocess.run([*base, '-DLOADGEN_NO_TLS'], capture_output=True, text=True,
                              timeout=120)
    if proc.returncode != 0:
        sys.exit(f'building loadgen failed:\n{proc.stderr}')
    return LOADGEN


def require_tls(loadgen: Path) -> None:
    """Exits with the reason unless `loadgen` was built with OpenSSL."""
    features = subprocess.run([str(loadgen), 'features'], capture_output=True, text=True,
                              timeout=10).stdout.split()
    if 'tls' not in features:
        sys.exit('loadgen was built without OpenSSL: install its headers (libssl-dev), '
                 f'then touch {LOADGEN_SRC.relative_to(ROOT)} and rerun')


def raise_nofile(needed: int) -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = needed + 256  # the listeners, logs and pipes besides the connections
    if soft >= want:
        return
    if hard != resource.RLIM_INFINITY and hard < want:
        log(f'note: RLIMIT_NOFILE hard limit {hard} < {want}: C={needed} may fail to connect')
        want = hard
    resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))


def server_env(root: Path = ROOT, **extra: str) -> dict[str, str]:
    """The environment a server runs in: gnet imported from `root`'s checkout."""
    env = dict(os.environ, **extra)
    env['PYTHONPATH'] = os.pathsep.join(filter(None, [str(root), os.environ.get('PYTHONPATH')]))
    return env


def unavailable(spec: ServerSpec, env: dict[str, str], cache: dict[str, str | None]) -> str | None:
    """Why `spec` cannot run here (its probe fails, node is missing), or None."""
    if spec.script.endswith('.js'):
        return None if shutil.which('node') else 'node is not on PATH'
    probe = spec.requirement()
    if not probe:
        return None
    if probe not in cache:
        proc = subprocess.run([sys.executable, '-c', probe], env=env, capture_output=True,
                              text=True, timeout=60)
        lines = proc.stderr.strip().splitlines()
        cache[probe] = None if proc.returncode == 0 else (
            f'gnet is not usable yet: {lines[-1] if lines else f"exit code {proc.returncode}"}')
    return cache[probe]


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
                start_new_session=True,  # a Ctrl-C reaches the runner only; it stops the server
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

    def cpu_times(self) -> tuple[int, int]:
        """The whole process's (user, kernel) CPU so far, in clock ticks."""
        try:
            with open(f'/proc/{self.proc.pid}/stat') as f:
                fields = f.read().rsplit(')', 1)[1].split()
            return int(fields[11]), int(fields[12])  # utime, stime
        except (OSError, IndexError, ValueError):
            return 0, 0

    def rss_kib(self) -> int | None:
        try:
            with open(f'/proc/{self.proc.pid}/status') as f:
                for line in f:
                    if line.startswith('VmRSS:'):
                        return int(line.split()[1])
        except (OSError, ValueError):
            pass
        return None

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


def parse_loadgen(stdout: str) -> dict | None:
    try:
        return json.loads(stdout.strip().splitlines()[-1])
    except (IndexError, ValueError):
        return None


def run_loadgen(
    loadgen: Path,
    argv: list[str],
    server: Server,
    cpu: int,
    duration: float,
    warmup: float,
    quiet_wait: float,
) -> Measurement:
    """One timed load: `loadgen <argv> <target> -d duration -w warmup`, with the server's CPU."""
    cmd = [str(loadgen), *argv, *server.target(), '-d', str(duration), '-w', str(warmup),
           '--connect-timeout', str(CONNECT_TIMEOUT)]
    wait_for_quiet(quiet_wait)
    hz = os.sysconf('SC_CLK_TCK')
    busy0, (user0, sys0), t0 = busy_ticks(), server.cpu_times(), time.monotonic()
    try:
        proc = subprocess.run(
            cmd,
            capture_output=True,
            text=True,
            preexec_fn=pin(cpu),
            timeout=CONNECT_TIMEOUT + warmup + duration + 10,
        )
    except subprocess.TimeoutExpired:
        return Measurement(None, '!', {'error': 'loadgen overran its deadline'})
    wall = time.monotonic() - t0
    user1, sys1 = server.cpu_times()
    busy, served = busy_ticks() - busy0, user1 - user0 + sys1 - sys0
    raw = parse_loadgen(proc.stdout)
    if raw is None:
        return Measurement(None, '!', {'error': f'loadgen: {proc.stderr.strip() or proc.stdout}'})
    raw['server_cpu'] = round(served / hz / wall, 3)
    # Server CPU per operation (us per round trip / request / connection, per
    # MB for bulk): what a busy shared machine distorts least, unlike a rate.
    # Approximate: the server's CPU over the whole run, over the operations
    # the measured rate implies for warm-up plus duration.
    ops = raw.get('rate', 0) * (warmup + duration)
    raw['server_us_per_op'] = round(served / hz * 1e6 / ops, 2) if ops > 0 else None
    raw['server_kernel_share'] = round((sys1 - sys0) / served, 3) if served > 0 else None
    raw['other_cpu'] = round(max(0.0, (busy - served) / hz - raw['cpu_total_s']) / wall, 3)
    return Measurement(raw['rate'], marks(raw, server), raw)


def measure_hold(
    loadgen: Path, server: Server, cpu: int, conns: int, secs: float, quiet_wait: float,
    tls: bool = False, under: int = 0,
) -> Measurement:
    """`conns` idle connections (TLS ones with `tls`), each after a 1-byte echo,
    held `secs` seconds: the server's RSS growth per connection, in KiB (the
    largest RSS sampled while they sit idle, less the RSS before).

    With `under`, that many idle connections are opened first and held
    meanwhile: the figure is then the steady cost of one more.  On a fresh
    server the first connections also fill whatever free heap start-up left
    (freed import-time and warm-up garbage), which a server that wasted more
    while starting shows as a lower figure.
    """
    base = None
    if under:
        base = subprocess.Popen(
            [str(loadgen), 'hold', *server.target(), '-n', str(under),
             '--hold', str(CONNECT_TIMEOUT * 2 + secs + 20), *(['--tls'] if tls else []),
             '--connect-timeout', str(CONNECT_TIMEOUT)],
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, preexec_fn=pin(cpu))
        try:
            ready, _, _ = select.select([base.stdout], [], [], CONNECT_TIMEOUT + 10)
            if not ready or not base.stdout.readline().startswith('READY'):
                return Measurement(None, '!', {'error': 'the connections held under did not open'})
            return _measure_hold(loadgen, server, cpu, conns, secs, quiet_wait, tls)
        finally:
            base.kill()
            base.communicate()
    return _measure_hold(loadgen, server, cpu, conns, secs, quiet_wait, tls)


def _measure_hold(
    loadgen: Path, server: Server, cpu: int, conns: int, secs: float, quiet_wait: float, tls: bool
) -> Measurement:
    wait_for_quiet(quiet_wait)
    time.sleep(0.3)  # let the priming's connections be freed
    before = server.rss_kib()
    cmd = [str(loadgen), 'hold', *server.target(), '-n', str(conns), '--hold', str(secs),
           *(['--tls'] if tls else []), '--connect-timeout', str(CONNECT_TIMEOUT)]
    samples: list[int] = []
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            preexec_fn=pin(cpu))
    deadline = time.monotonic() + CONNECT_TIMEOUT + secs + 10
    out = ''
    try:
        ready_at = None
        while time.monotonic() < deadline and proc.poll() is None:
            if ready_at is None:
                readable, _, _ = select.select([proc.stdout], [], [], 0.1)
                if readable:
                    line = proc.stdout.readline()
                    out += line
                    if line.startswith('READY'):
                        ready_at = time.monotonic()
            else:
                time.sleep(0.1)
                # after a settling moment, while the connections sit idle
                if time.monotonic() - ready_at > min(0.5, secs / 2):
                    rss = server.rss_kib()
                    if rss is not None:
                        samples.append(rss)
                if time.monotonic() - ready_at > secs:
                    break
        rest, err = proc.communicate(timeout=max(1.0, deadline - time.monotonic()))
        out += rest
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.communicate()
        return Measurement(None, '!', {'error': 'loadgen hold overran its deadline'})
    raw = parse_loadgen(out)
    if raw is None:
        return Measurement(None, '!', {'error': f'loadgen: {err.strip() or out}'})
    ready = raw.get('ready') or 0
    if before is None or not samples or ready <= 0:
        return Measurement(None, '!', {**raw, 'error': 'no RSS samples or no idle connection'})
    raw.update(rss_before_kib=before, rss_holding_kib=max(samples),
               kib_per_conn=round((max(samples) - before) / ready, 2))
    bad = raw['errors'] or ready < conns or not server.alive()
    return Measurement(raw['kib_per_conn'], '!' if bad else '', raw)


def marks(raw: dict, server: Server) -> str:
    out = ''
    if raw['errors'] or not raw['complete'] or raw['rate'] <= 0 or not server.alive():
        out += '!'
    if raw.get('cpu', 0) >= CLIENT_BOUND:
        out += '*'
    if raw.get('other_cpu', 0) > NOISY:
        out += '~'
    return out


def describe(m: Measurement) -> str:
    """One progress line's detail for a measurement."""
    if m.raw.get('error'):
        return m.raw['error']
    return (f"loadgen cpu {m.raw.get('cpu', 0):.2f}, server cpu {m.raw.get('server_cpu', 0):.2f}"
            f", errors {m.raw.get('errors')}")


def prime(loadgen: Path, server: Server, cpu: int, argv: list[str] | None = None) -> dict | None:
    """A short untimed load on connections of its own before anything is measured;
    loadgen's JSON result, or None.

    The first connections a fresh asyncio server accepts stayed ~4x slower per
    round trip for their whole life here, however long the warm-up; later ones
    did not. Priming keeps that artifact out of the first load's figure.
    """
    cmd = [str(loadgen), *(argv or ['pingpong']), *server.target(), '-c', '10', '-d', '0.2',
           '-w', '0']
    proc = subprocess.run(cmd, capture_output=True, text=True, preexec_fn=pin(cpu),
                          timeout=CONNECT_TIMEOUT + 5)
    return parse_loadgen(proc.stdout)


def fmt_value(value: float | None, marks: str, digits: int = 0) -> str:
    return ('n/a' if value is None else f'{value:,.{digits}f}') + marks


def fmt_ratios(run: Run, server: str, labels: list[str], base: str, lower_is_better: set[str]) -> str:
    parts = []
    for label in labels:
        value, _ = run.median(server, label)
        base_value, _ = run.median(base, label)
        if not (value and base_value):
            parts.append('–')
        elif label in lower_is_better:
            parts.append(f'{base_value / value:.2f}')
        else:
            parts.append(f'{value / base_value:.2f}')
    return ' / '.join(parts)


def table(
    run: Run,
    servers: list[str],
    labels: list[str],
    headings: list[str],
    bases: tuple[str, ...],
    short: dict[str, str] | None = None,
    digits: dict[str, int] | None = None,
    lower_is_better: set[str] | frozenset[str] = frozenset(),
) -> str:
    """Medians per server and load, each ÷ each base's (above 1: better than the base)."""
    measured = [s for s in servers if s in run.results]
    present = [b for b in bases if b in measured]
    names = ' / '.join((short or {}).get(label, label) for label in labels)
    head = ['server', *headings, *(f'÷ {b} ({names})' for b in present)]
    rows = [
        '| ' + ' | '.join(head) + ' |',
        '|' + '|'.join(['---', *['---:'] * (len(head) - 1)]) + '|',
    ]
    for server in measured:
        cells = [server, *(fmt_value(*run.median(server, label), (digits or {}).get(label, 0))
                           for label in labels)]
        cells += [fmt_ratios(run, server, labels, b, set(lower_is_better)) for b in present]
        rows.append('| ' + ' | '.join(cells) + ' |')
    skipped = [f'skipped {s}: {why}' for s, why in run.skipped.items() if s in servers]
    return '\n'.join(rows + ([''] if skipped else []) + skipped)


def cpu_table(
    run: Run,
    servers: list[str],
    labels: list[str],
    headings: list[str],
    bases: tuple[str, ...],
    short: dict[str, str] | None = None,
) -> str:
    """Server CPU per operation (lower is better), the kernel's share of it, and
    each base's cost ÷ the server's.

    The kernel's share (system time over user plus system: the socket calls,
    and on loopback the peer's side of TCP) is what a server's Python can
    reduce only by making fewer system calls; the larger it is, the closer
    two servers' ratios stay to 1.
    """
    measured = [s for s in servers if s in run.results]
    present = [b for b in bases if b in measured]
    names = ' / '.join((short or {}).get(label, label) for label in labels)
    head = ['server', *(f'{h} cpu µs/op' for h in headings), f'kernel share ({names})',
            *(f'{b} cost ÷ this ({names})' for b in present)]
    rows = [
        '| ' + ' | '.join(head) + ' |',
        '|' + '|'.join(['---', *['---:'] * (len(head) - 1)]) + '|',
    ]
    for server in measured:
        costs = [run.median_raw(server, label, 'server_us_per_op') for label in labels]
        cells = [server, *('n/a' if c is None else f'{c:.2f}' for c in costs)]
        shares = [run.median_raw(server, label, 'server_kernel_share') for label in labels]
        cells.append(' / '.join('–' if x is None else f'{x:.0%}' for x in shares))
        for base in present:
            ratios = []
            for label, cost in zip(labels, costs, strict=True):
                base_cost = run.median_raw(base, label, 'server_us_per_op')
                ratios.append(f'{base_cost / cost:.2f}' if cost and base_cost else '–')
            cells.append(' / '.join(ratios))
        rows.append('| ' + ' | '.join(cells) + ' |')
    return '\n'.join(rows)


def save(name: str, title: str, args: dict, run: Run, **extra: object) -> None:
    """Every round's raw loadgen output to results/<name>.json."""
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / f'{name}.json'
    out.write_text(json.dumps({
        'title': title,
        'args': args,
        'machine': {'python': platform.python_version(), 'cpus': sorted(os.sched_getaffinity(0)),
                    'kernel': platform.release()},
        'skipped': run.skipped,
        'results': {
            s: {label: [{'value': m.value, 'marks': m.marks, **m.raw} for m in ms]
                for label, ms in by_label.items()}
            for s, by_label in run.results.items()
        },
        **extra,
    }, indent=1, default=str))
    log(f'raw results: {out.relative_to(ROOT)}')
