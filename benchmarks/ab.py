"""A/B: one gnet server from two checkouts, on one load, in alternating runs.

    python benchmarks/ab.py --base HEAD~1                      # connrate, gnet_events, 5 rounds each
    python benchmarks/ab.py --base main --load pingpong --server gnet_straight --rounds 7
    python benchmarks/ab.py --base main --load pingpong --unix --server gnet_events
    python benchmarks/ab.py --base main --load resp-p16 --server gnet_straight
    python benchmarks/ab.py --base ed38d59 --load hold --server gnet_straight --rounds 3
    python benchmarks/ab.py --base ed38d59 --load hold --hold-under 5000 --rounds 3
    python benchmarks/ab.py --base main --load tls-handshake --server gnet_tls_events

Loads: the echo benchmark's (pingpong C=100 S=64, bulk, connrate; with
--unix over a UNIX socket), ``hold`` (--hold-conns idle connections after a
1-byte echo each: the figure is the server's RSS growth per connection, the
yardstick's ``hold`` row; with --hold-under N, measured on top of N idle
connections opened first, the steady cost of one more), the RESP benchmark's (resp-p1, resp-p16: 50
connections, 1 or 16 requests in flight) and the TLS benchmark's
(tls-pingpong, tls-bulk, tls-handshake). --server is one of that
benchmark's gnet servers. The figure compared is the server's CPU per
operation (us per connection, round trip, request or handshake, or per MB
for bulk), which a noisy shared machine distorts far less than a rate.  Runs
of the two checkouts alternate (A B, B A, ...) so that a slow minute hits
both.  ``--base`` is any git revision (checked out in a temporary worktree)
or a directory holding a gnet package; the other side is this checkout as it
is on disk, uncommitted changes included. The server scripts are always this
checkout's. ``--b-server`` runs another server script on the B side; with
``--base .`` that compares two servers on one checkout (the Prometheus
exporter's cost: ``--base . --server gnet_events --b-server gnet_events_metrics``).
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import echo  # noqa: E402 - the benchmarks' loads and servers live next to this file
import resp  # noqa: E402
import tls  # noqa: E402
from harness import (  # noqa: E402
    ROOT,
    Server,
    ServerSpec,
    build_loadgen,
    cpus,
    log,
    measure_hold,
    prime,
    raise_nofile,
    require_tls,
    run_loadgen,
    server_env,
)

# load -> (its benchmark's servers, loadgen's arguments, what one operation is)
LOADS: dict[str, tuple[dict[str, ServerSpec], list[str], str]] = {
    'pingpong': (echo.SERVERS, echo.load_argv('pingpong'), 'us/round trip'),
    'bulk': (echo.SERVERS, echo.load_argv('bulk'), 'us/MB'),
    'connrate': (echo.SERVERS, echo.load_argv('connrate'), 'us/connection'),
    'hold': (echo.SERVERS, [], 'KiB/idle connection'),
    **{name: (resp.SERVERS, argv, 'us/request') for name, argv in resp.AB_LOADS.items()},
    **{name: (tls.SERVERS, argv, 'us/MB' if 'bulk' in name else
              'us/handshake' if 'handshake' in name else 'us/round trip')
       for name, argv in tls.AB_LOADS.items()},
}


def checkout(rev: str, into: Path) -> Path:
    subprocess.run(
        ['git', '-C', str(ROOT), 'worktree', 'add', '--detach', '--force', str(into), rev],
        check=True,
        capture_output=True,
        timeout=60,
    )
    return into


def remove_worktree(path: Path) -> None:
    subprocess.run(
        ['git', '-C', str(ROOT), 'worktree', 'remove', '--force', str(path)],
        capture_output=True,
        timeout=60,
    )


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split('\n', 1)[0])
    p.add_argument('--base', required=True, help='git revision or directory: the A side')
    p.add_argument('--load', default='connrate', choices=list(LOADS))
    p.add_argument('--server', default='gnet_events',
                   help="one of the load's gnet servers (echo and resp: gnet_events, "
                        'gnet_straight, ...; tls: gnet_tls_events, gnet_tls_straight)')
    p.add_argument('--unix', action='store_true', help='over a UNIX socket (not for tls-*)')
    p.add_argument('--b-server', help='the B side runs this script instead (servers/NAME.py)')
    p.add_argument('--rounds', type=int, default=5, help='runs per side')
    p.add_argument('--duration', type=float, default=2.5)
    p.add_argument('--warmup', type=float, default=0.5)
    p.add_argument('--hold-conns', type=int, default=5000, help='idle connections (hold)')
    p.add_argument('--hold-under', type=int, default=0,
                   help='hold: measure on top of this many idle connections held first '
                        '(the steady cost, past what start-up left free)')
    args = p.parse_args()
    if not 1 <= args.rounds <= 50 or not 0 < args.duration <= 60:
        p.error('need 1 <= --rounds <= 50 and 0 < --duration <= 60')
    if not 1 <= args.hold_conns <= 20000 or not 0 <= args.hold_under <= 20000:
        p.error('need 1 <= --hold-conns <= 20000 and 0 <= --hold-under <= 20000')
    servers, argv, unit = LOADS[args.load]
    gnet_servers = [name for name, spec in servers.items() if spec.needs_gnet]
    if args.server not in gnet_servers:
        p.error(f'--server for {args.load} is one of: {", ".join(gnet_servers)}')
    if args.unix and args.load.startswith('tls-'):
        p.error('the TLS loads run over TCP only')
    spec = servers[args.server]

    server_cpu, loadgen_cpu = cpus()
    loadgen = build_loadgen()
    if args.load.startswith('tls-'):
        require_tls(loadgen)
    raise_nofile(args.hold_conns + args.hold_under if args.load == 'hold' else 100)
    workdir = Path(tempfile.mkdtemp(prefix='gnet-ab-'))
    extra_env = tls.make_certificate(workdir) if args.load.startswith('tls-') else {}
    worktree = None
    if Path(args.base).is_dir():
        base = Path(args.base).resolve()
    else:
        base = worktree = checkout(args.base, workdir / 'base')
    # Both sides import gnet from bytecode, as an installed package does: a
    # side compiling its sources at start-up (a fresh worktree, with
    # PYTHONDONTWRITEBYTECODE set) leaves megabytes of freed compiler memory
    # in the heap, which its first idle connections then fill without the
    # RSS growing (hold read 8% low for such a side here).
    for side in (base, ROOT):
        subprocess.run([sys.executable, '-m', 'compileall', '-q', str(side / 'gnet')],
                       check=False, capture_output=True, timeout=120)
    b_name = f'B {args.b_server}' if args.b_server else 'B this checkout'
    sides = {f'A {args.base}': base, b_name: ROOT}
    specs = {name: spec for name in sides}
    if args.b_server:
        specs[b_name] = ServerSpec(args.b_server, f'{args.b_server}.py', needs_gnet=True)
    figures: dict[str, list[float]] = {name: [] for name in sides}
    rates: dict[str, list[float]] = {name: [] for name in sides}
    try:
        for rnd in range(args.rounds):
            order = list(sides) if rnd % 2 == 0 else list(reversed(sides))
            for name in order:
                env = server_env(sides[name], **extra_env)
                server = Server(specs[name], server_cpu, workdir, env, unix=args.unix)
                why = server.start()
                if why:
                    sys.exit(f'ab.py: {name}: the server did not start: {why}')
                try:
                    if args.load == 'hold':
                        prime(loadgen, server, loadgen_cpu)  # as the yardstick's warm-up
                        m = measure_hold(loadgen, server, loadgen_cpu, args.hold_conns,
                                         max(2.5, args.duration), quiet_wait=5.0,
                                         under=args.hold_under)
                        per_op = m.value
                    else:
                        m = run_loadgen(loadgen, argv, server, loadgen_cpu, args.duration,
                                        args.warmup, quiet_wait=5.0)
                        per_op = m.raw.get('server_us_per_op')
                finally:
                    server.stop()
                if m.marks or per_op is None:
                    log(f'{name}: round {rnd + 1} marked {m.marks!r}: {m.raw.get("error", "")}')
                if per_op is not None:
                    figures[name].append(per_op)
                    rates[name].append(m.value or 0.0)
    finally:
        if worktree is not None:
            remove_worktree(worktree)
        shutil.rmtree(workdir, ignore_errors=True)
    where = ' over a UNIX socket' if args.unix else ''
    hold = args.load == 'hold'
    print(f'{args.server}, {args.load}{where}: server {"RSS" if hold else "CPU"} {unit}, median of '
          f'{args.rounds} (min){"" if hold else ", rate median"}')
    for name in sides:
        if figures[name]:
            rate = '' if hold else f'  {statistics.median(rates[name]):10.0f}/s'
            print(f'  {name:28s} {statistics.median(figures[name]):8.2f} ({min(figures[name]):.2f})'
                  + rate)
    a, b = (statistics.median(figures[n]) if figures[n] else None for n in sides)
    if a and b:
        print(f'  B / A = {b / a:.3f}')


if __name__ == '__main__':
    main()
