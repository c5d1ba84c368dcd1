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
import shutil
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from harness import (  # noqa: E402 - the shared harness lives next to this file
    HERE,
    MARKS_NOTE,
    ROOT,
    Measurement,
    Run,
    Server,
    ServerSpec,
    build_loadgen,
    cpu_table,
    cpus,
    describe,
    fmt_value,
    log,
    prime,
    raise_nofile,
    run_loadgen,
    save,
    server_env,
    table,
    unavailable,
)

LOADS = ('pingpong', 'bulk', 'connrate')
LOAD_HEADINGS = {'pingpong': 'round trips/s', 'bulk': 'bulk MB/s', 'connrate': 'conn/s'}
SHORT = {'pingpong': 'rt', 'bulk': 'bulk', 'connrate': 'conn'}
SWEEP_CONNECTIONS = (1, 10, 100, 1000)
CONNRATE_INFLIGHT = 50
BULK_CHUNK = 65536
BASELINES = ('gevent', 'node')

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


def load_argv(load: str, connections: int = 100, size: int = 64) -> list[str]:
    """loadgen's arguments for one echo load (the target and timing come on top)."""
    if load == 'pingpong':
        return ['pingpong', '-c', str(connections), '-s', str(size)]
    if load == 'bulk':
        return ['bulk', '-c', '1', '--chunk', str(BULK_CHUNK)]
    return ['connrate', '--inflight', str(CONNRATE_INFLIGHT)]


def measure(
    args: argparse.Namespace,
    loadgen: Path,
    server: Server,
    load: str,
    connections: int,
    cpu: int,
) -> Measurement:
    return run_loadgen(loadgen, load_argv(load, connections, args.size), server, cpu,
                       args.duration, args.warmup, args.quiet_wait)


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
    server_cpu, loadgen_cpu = cpus()
    raise_nofile(max([args.connections, *(SWEEP_CONNECTIONS if args.sweep else ())]))
    loadgen = build_loadgen()

    env = server_env()
    run = Run()
    probes: dict[str, str | None] = {}
    for name in args.servers:
        why = unavailable(SERVERS[name], env, probes)
        if why:
            run.skipped[name] = why
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
                        log(f'round {rnd}/{args.rounds} {name} {label}: '
                            f'{fmt_value(m.value, m.marks)} ({describe(m)})')
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
    print(table(run, args.servers, labels, headings, BASELINES, SHORT))
    print()
    print(cpu_table(run, args.servers, labels, headings, BASELINES, SHORT))
    print(f'\n{MARKS_NOTE}')

    save('sweep' if args.sweep else 'echo', title, vars(args), run)
    if args.sweep:
        plot_sweep(run, [s for s in args.servers if s in run.results], title)


if __name__ == '__main__':
    main()
