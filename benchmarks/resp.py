"""Small-record benchmark: one RESP (Redis protocol) server written five ways.

    python benchmarks/resp.py                          # every server, P=1 and P=16, 3 rounds of 3 s
    python benchmarks/resp.py --servers gevent,gnet_straight --rounds 1 --duration 2
    python benchmarks/resp.py --nodelay                # every server turns Nagle off
    python benchmarks/resp.py --unix                   # over a UNIX socket (no Nagle there)
    python benchmarks/resp.py --redis-benchmark        # plus redis-benchmark's figures, if installed

Echo has no records to parse; this has many small ones. Every server speaks
the same RESP subset (servers/_resp.py) and is driven by loadgen's `resp`
mode: C connections, each sending P requests at once (a fixed PING / SET /
GET mix) and checking every reply before the next batch. Server pinned to
one CPU, loadgen to the other, a fresh server per round, rounds alternating
across servers; medians are quoted, with ratios to raw gevent and to gnet's
Node style measured in the same run. See benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import csv
import io
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from harness import (  # noqa: E402 - the shared harness lives next to this file
    MARKS_NOTE,
    Measurement,
    Run,
    Server,
    ServerSpec,
    build_loadgen,
    busy_ticks,
    cpu_table,
    cpus,
    describe,
    fmt_value,
    log,
    marks,
    pin,
    prime,
    raise_nofile,
    run_loadgen,
    save,
    server_env,
    table,
    unavailable,
    wait_for_quiet,
)

SERVERS = {
    spec.name: spec
    for spec in (
        ServerSpec('gnet_straight', 'gnet_resp_straight.py', needs_gnet=True),
        ServerSpec('gnet_makefile', 'gnet_resp_makefile.py', needs_gnet=True),
        ServerSpec('gnet_events', 'gnet_resp_events.py', needs_gnet=True),
        ServerSpec('gevent', 'gevent_resp.py'),
        ServerSpec('asyncio', 'asyncio_resp.py'),
    )
}
BASELINES = ('gevent', 'gnet_events')
CONNECTIONS = 50
RB_TESTS = 'ping_mbulk,set,get'


def load_argv(pipeline: int, connections: int = CONNECTIONS) -> list[str]:
    return ['resp', '-c', str(connections), '-P', str(pipeline)]


# For ab.py: the loads a before/after comparison of two checkouts can run.
AB_LOADS = {'resp-p1': load_argv(1), 'resp-p16': load_argv(16)}


def measure_redis_benchmark(
    args: argparse.Namespace, server: Server, pipeline: int, cpu: int
) -> Measurement:
    """redis-benchmark's mean requests/s over PING, SET and GET (count-bounded)."""
    target = (['-s', server.unix_path] if server.unix_path
              else ['-h', '127.0.0.1', '-p', str(server.port)])
    cmd = ['redis-benchmark', *target, '-c', str(args.connections), '-P', str(pipeline),
           '-n', str(args.rb_requests), '-t', RB_TESTS, '--csv']
    wait_for_quiet(args.quiet_wait)
    hz = os.sysconf('SC_CLK_TCK')
    busy0, (user0, sys0), t0 = busy_ticks(), server.cpu_times(), time.monotonic()
    child0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, preexec_fn=pin(cpu),
                              timeout=args.rb_timeout)
    except subprocess.TimeoutExpired:
        return Measurement(None, '!', {'error': f'redis-benchmark ran over {args.rb_timeout} s'})
    wall = time.monotonic() - t0
    child1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    client_cpu = (child1.ru_utime - child0.ru_utime) + (child1.ru_stime - child0.ru_stime)
    user1, sys1 = server.cpu_times()
    busy, served = busy_ticks() - busy0, user1 - user0 + sys1 - sys0
    rates = {}
    for row in csv.reader(io.StringIO(proc.stdout)):
        if len(row) >= 2 and row[0] != 'test':
            try:
                rates[row[0]] = float(row[1])
            except ValueError:
                pass
    if len(rates) != len(RB_TESTS.split(',')) or proc.returncode != 0:
        return Measurement(None, '!', {'error': f'redis-benchmark: {proc.stderr.strip()[-300:]}'
                                       f' {proc.stdout.strip()[-300:]}'})
    ops = args.rb_requests * len(rates)
    raw = {
        'rate': sum(rates.values()) / len(rates), 'rates': rates, 'errors': 0, 'complete': True,
        'cpu': round(client_cpu / wall, 3), 'server_cpu': round(served / hz / wall, 3),
        'server_us_per_op': round(served / hz * 1e6 / ops, 2),
        'server_kernel_share': round((sys1 - sys0) / served, 3) if served > 0 else None,
        'other_cpu': round(max(0.0, (busy - served) / hz - client_cpu) / wall, 3),
    }
    return Measurement(raw['rate'], marks(raw, server), raw)


def latency_table(run: Run, servers: list[str], labels: list[str]) -> str:
    head = ['server', *(f'{label} p50 / p99 µs' for label in labels)]
    rows = ['| ' + ' | '.join(head) + ' |', '|' + '|'.join(['---', *['---:'] * len(labels)]) + '|']
    for server in [s for s in servers if s in run.results]:
        cells = [server]
        for label in labels:
            p50, p99 = (run.median_raw(server, label, k) for k in ('p50_us', 'p99_us'))
            cells.append('n/a' if p50 is None or p99 is None else f'{p50:,.0f} / {p99:,.0f}')
        rows.append('| ' + ' | '.join(cells) + ' |')
    return '\n'.join(rows)


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(
        description='Small-record (RESP) benchmark: one server written five ways.',
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    p.add_argument('--servers', default=','.join(SERVERS), help='comma-separated, of: %(default)s')
    p.add_argument('--pipelines', default='1,16', help='requests in flight per connection')
    p.add_argument('--connections', type=int, default=CONNECTIONS)
    p.add_argument('--duration', type=float, default=3.0, help='seconds measured per load')
    p.add_argument('--warmup', type=float, default=0.5, help='seconds of load before measuring')
    p.add_argument('--rounds', type=int, default=3, help='rounds per server; medians are quoted')
    p.add_argument('--quiet-wait', type=float, default=5.0,
                   help='seconds to wait, before each load, for other processes to go idle')
    p.add_argument('--unix', action='store_true', help='use a UNIX socket instead of TCP')
    p.add_argument('--nodelay', action='store_true',
                   help='servers turn Nagle off on each connection (BENCH_NODELAY=1)')
    p.add_argument('--redis-benchmark', action='store_true',
                   help='also drive each server with redis-benchmark (when on PATH)')
    p.add_argument('--rb-requests', type=int, default=30000,
                   help='redis-benchmark requests per test (it is count-bounded)')
    p.add_argument('--rb-timeout', type=float, default=90.0, help='seconds per redis-benchmark run')
    args = p.parse_args()
    args.servers = [s.strip() for s in args.servers.split(',') if s.strip()]
    unknown = [s for s in args.servers if s not in SERVERS]
    if unknown:
        p.error(f'unknown server: {", ".join(unknown)}')
    try:
        args.pipelines = [int(x) for x in args.pipelines.split(',') if x.strip()]
    except ValueError:
        p.error('--pipelines is a comma-separated list of integers')
    if not args.pipelines or not all(1 <= x <= 1024 for x in args.pipelines):
        p.error('need 1 <= each pipeline depth <= 1024')
    if not (0 < args.duration <= 600 and 0 <= args.warmup <= 60 and 1 <= args.rounds <= 50):
        p.error('need 0 < --duration <= 600, 0 <= --warmup <= 60, 1 <= --rounds <= 50')
    if not (0 <= args.quiet_wait <= 600 and 1 <= args.connections <= 10000):
        p.error('need 0 <= --quiet-wait <= 600 and 1 <= --connections <= 10000')
    if not (1 <= args.rb_requests <= 10_000_000 and 1 <= args.rb_timeout <= 3600):
        p.error('need 1 <= --rb-requests <= 1e7 and 1 <= --rb-timeout <= 3600')
    return args


def main() -> None:
    args = parse_args()
    server_cpu, loadgen_cpu = cpus()
    raise_nofile(args.connections)
    loadgen = build_loadgen()
    env = server_env(**({'BENCH_NODELAY': '1'} if args.nodelay else {}))
    rb = args.redis_benchmark and shutil.which('redis-benchmark')
    if args.redis_benchmark and not rb:
        log('redis-benchmark is not on PATH: its columns are left out')

    run = Run()
    probes: dict[str, str | None] = {}
    for name in args.servers:
        why = unavailable(SERVERS[name], env, probes)
        if why:
            run.skipped[name] = why
            log(f'skipped {name}: {why}')
    labels = [f'P={p}' for p in args.pipelines]
    rb_labels = [f'rb P={p}' for p in args.pipelines] if rb else []
    plan = [(f'P={p}', p) for p in args.pipelines]
    plan += [(f'rb P={p}', p) for p in args.pipelines] if rb else []

    workdir = Path(tempfile.mkdtemp(prefix='gnet-resp-'))
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
                    prime(loadgen, server, loadgen_cpu, ['resp'])
                    for label, pipeline in plan:
                        if label in rb_labels:
                            m = measure_redis_benchmark(args, server, pipeline, loadgen_cpu)
                        else:
                            m = run_loadgen(loadgen, load_argv(pipeline, args.connections), server,
                                            loadgen_cpu, args.duration, args.warmup, args.quiet_wait)
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

    transport = 'UNIX socket' if args.unix else 'TCP 127.0.0.1'
    if args.unix:
        nagle = 'no Nagle on a UNIX socket'
    elif args.nodelay:
        nagle = 'every server with no_delay'
    else:
        nagle = 'servers as written (Nagle on, but asyncio turns it off)'
    title = (f'RESP benchmark, {transport}, {nagle}: {args.connections} connections, '
             f'PING/SET/GET 1:1:1, P requests in flight per connection; '
             f'median of {args.rounds} × {args.duration:g} s after {args.warmup:g} s warm-up')
    all_labels = labels + rb_labels
    headings = [f'{label} req/s' for label in all_labels]
    print(f'\n{title}\n')
    print(table(run, args.servers, all_labels, headings, BASELINES))
    print()
    print(cpu_table(run, args.servers, all_labels, headings, BASELINES))
    print()
    print(latency_table(run, args.servers, labels))
    if rb:
        print(f'\n`rb` columns: redis-benchmark -c {args.connections} -n {args.rb_requests} '
              f'-t {RB_TESTS}, mean of the three tests\' requests/s')
    print(f'\n{MARKS_NOTE}')
    save('resp', title, vars(args), run)


if __name__ == '__main__':
    main()
