"""A/B: one gnet echo server from two checkouts, on one load, in alternating runs.

    python benchmarks/ab.py --base HEAD~1                      # connrate, gnet_events, 5 rounds each
    python benchmarks/ab.py --base main --load pingpong --server gnet_straight --rounds 7

The figure compared is the server's CPU per operation (us per connection,
per round trip, or per MB for bulk), which a noisy shared machine distorts
far less than a rate.  Runs of the two checkouts alternate (A B, B A, ...)
so that a slow minute hits both.  ``--base`` is any git revision (checked out
in a temporary worktree) or a directory holding a gnet package; the other
side is this checkout as it is on disk, uncommitted changes included.
``--b-server`` runs another server script on the B side; with ``--base .``
that compares two servers on one checkout (the exporter's cost:
``--base . --server gnet_events --b-server gnet_events_metrics``).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import echo  # noqa: E402 - the harness's helpers: loadgen, servers, measurement


def checkout(rev: str, into: Path) -> Path:
    subprocess.run(
        ['git', '-C', str(echo.ROOT), 'worktree', 'add', '--detach', '--force', str(into), rev],
        check=True,
        capture_output=True,
        timeout=60,
    )
    return into


def remove_worktree(path: Path) -> None:
    subprocess.run(
        ['git', '-C', str(echo.ROOT), 'worktree', 'remove', '--force', str(path)],
        capture_output=True,
        timeout=60,
    )


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split('\n', 1)[0])
    p.add_argument('--base', required=True, help='git revision or directory: the A side')
    p.add_argument('--load', default='connrate', choices=echo.LOADS)
    p.add_argument('--server', default='gnet_events', choices=[n for n, s in echo.SERVERS.items() if s.needs_gnet])
    p.add_argument('--b-server', help='the B side runs this script instead (servers/NAME.py)')
    p.add_argument('--rounds', type=int, default=5, help='runs per side')
    p.add_argument('--duration', type=float, default=2.5)
    p.add_argument('--warmup', type=float, default=0.5)
    args = p.parse_args()
    if not 1 <= args.rounds <= 50 or not 0 < args.duration <= 60:
        p.error('need 1 <= --rounds <= 50 and 0 < --duration <= 60')
    # What echo.measure() reads besides the load itself.
    args.connections, args.size, args.quiet_wait = 100, 64, 5.0

    cpus = sorted(os.sched_getaffinity(0))
    server_cpu, loadgen_cpu = cpus[0], cpus[-1]
    loadgen = echo.build_loadgen()
    echo.raise_nofile(args.connections)
    workdir = Path(tempfile.mkdtemp(prefix='gnet-ab-'))
    worktree = None
    if Path(args.base).is_dir():
        base = Path(args.base).resolve()
    else:
        base = worktree = checkout(args.base, workdir / 'base')
    b_name = f'B {args.b_server}' if args.b_server else 'B this checkout'
    sides = {f'A {args.base}': base, b_name: echo.ROOT}
    specs = {name: echo.SERVERS[args.server] for name in sides}
    if args.b_server:
        specs[b_name] = echo.ServerSpec(args.b_server, f'{args.b_server}.py', needs_gnet=True)
    figures: dict[str, list[float]] = {name: [] for name in sides}
    rates: dict[str, list[float]] = {name: [] for name in sides}
    try:
        for rnd in range(args.rounds):
            order = list(sides) if rnd % 2 == 0 else list(reversed(sides))
            for name in order:
                env = dict(os.environ, PYTHONPATH=str(sides[name]))
                server = echo.Server(specs[name], server_cpu, workdir, env, unix=False)
                why = server.start()
                if why:
                    sys.exit(f'ab.py: {name}: the server did not start: {why}')
                try:
                    m = echo.measure(args, loadgen, server, args.load, args.connections, loadgen_cpu)
                finally:
                    server.stop()
                per_op = m.raw.get('server_us_per_op')
                if m.marks or per_op is None:
                    echo.log(f'{name}: round {rnd + 1} marked {m.marks!r}: {m.raw.get("error", "")}')
                if per_op is not None:
                    figures[name].append(per_op)
                    rates[name].append(m.value or 0.0)
    finally:
        if worktree is not None:
            remove_worktree(worktree)
    unit = {'connrate': 'us/connection', 'pingpong': 'us/round trip', 'bulk': 'us/MB'}[args.load]
    print(f'{args.server}, {args.load}: server CPU {unit}, median of {args.rounds} (min), rate median')
    for name in sides:
        if figures[name]:
            print(f'  {name:28s} {statistics.median(figures[name]):8.2f} ({min(figures[name]):.2f})'
                  f'  {statistics.median(rates[name]):10.0f}/s')
    a, b = (statistics.median(figures[n]) if figures[n] else None for n in sides)
    if a and b:
        print(f'  B / A = {b / a:.3f}')


if __name__ == '__main__':
    main()
