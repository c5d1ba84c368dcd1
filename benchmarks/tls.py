"""TLS benchmark: echo servers over TLS, gnet.tls against Node's tls and gevent.

    python benchmarks/tls.py                           # every server, every load, 3 rounds of 3 s
    python benchmarks/tls.py --servers node,gevent --rounds 1 --duration 2
    python benchmarks/tls.py --loads handshake,handshake12

Loads (loadgen with --tls; the client offers TLS_AES_128_GCM_SHA256 on TLS
1.3 and ECDHE-ECDSA-AES128-GCM-SHA256 on 1.2, X25519 first, so every server
negotiates the same; the certificate is an ECDSA P-256 one made for the run
with the openssl command):

    pingpong     C=100 connections, one 64-byte message in flight each; round trips/s
    bulk         one connection streaming 64 KiB chunks; echoed MB/s
    handshake    50 in flight, each a new connection, a full TLS 1.3 handshake
                 (no resumption), a 16-byte echo, close; handshakes/s
    handshake12  the same on TLS 1.2
    hold         N idle TLS connections after one echo each; the server's RSS
                 growth / N in KiB (taken first, on the freshly started server)

The gnet rows read `skipped` until gnet.tls.create_server exists. Server
pinned to one CPU, loadgen to the other, a fresh server per round, rounds
alternating across servers; medians are quoted, with ratios to Node and to
gevent measured in the same run. See benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from harness import (  # noqa: E402 - the shared harness lives next to this file
    MARKS_NOTE,
    Run,
    Server,
    ServerSpec,
    build_loadgen,
    cpu_table,
    cpus,
    describe,
    fmt_value,
    log,
    measure_hold,
    prime,
    raise_nofile,
    require_tls,
    run_loadgen,
    save,
    server_env,
    table,
    unavailable,
)

GNET_TLS_PROBE = 'from gnet.tls import create_server'
SERVERS = {
    spec.name: spec
    for spec in (
        ServerSpec('gnet_tls_events', 'gnet_tls_events.py', needs_gnet=True, probe=GNET_TLS_PROBE),
        ServerSpec('gnet_tls_straight', 'gnet_tls_straight.py', needs_gnet=True,
                   probe=GNET_TLS_PROBE),
        ServerSpec('gevent', 'gevent_tls_echo.py'),
        ServerSpec('asyncio', 'asyncio_tls_echo.py'),
        ServerSpec('node', 'node_tls_echo.js'),
    )
}
BASELINES = ('node', 'gevent')
LOADS = ('pingpong', 'bulk', 'handshake', 'handshake12', 'hold')
DEFAULT_LOADS = ('pingpong', 'bulk', 'handshake', 'hold')
HEADINGS = {'pingpong': 'round trips/s', 'bulk': 'bulk MB/s', 'handshake': 'TLS 1.3 handshakes/s',
            'handshake12': 'TLS 1.2 handshakes/s', 'hold': 'KiB per idle conn'}
SHORT = {'pingpong': 'rt', 'bulk': 'bulk', 'handshake': 'hs', 'handshake12': 'hs1.2',
         'hold': 'KiB'}
CERT_DAYS = 2


def load_argv(load: str, connections: int = 100, inflight: int = 50) -> list[str]:
    """loadgen's arguments for one TLS load but hold (the target and timing come on top)."""
    if load == 'pingpong':
        return ['pingpong', '-c', str(connections), '-s', '64', '--tls']
    if load == 'bulk':
        return ['bulk', '-c', '1', '--chunk', '65536', '--tls']
    version = '1.2' if load == 'handshake12' else '1.3'
    return ['connrate', '--inflight', str(inflight), '--tls', '--tls-version', version]


# For ab.py: the loads a before/after comparison of two checkouts can run.
AB_LOADS = {f'tls-{load}': load_argv(load) for load in ('pingpong', 'bulk', 'handshake')}


def make_certificate(directory: Path) -> dict[str, str]:
    """An ECDSA P-256 certificate for localhost/127.0.0.1; the servers' environment."""
    if not shutil.which('openssl'):
        sys.exit('tls.py: the openssl command is needed to make the certificate')
    cert, key = directory / 'cert.pem', directory / 'key.pem'
    subprocess.run(
        ['openssl', 'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256',
         '-nodes', '-keyout', str(key), '-out', str(cert), '-days', str(CERT_DAYS),
         '-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1'],
        check=True, capture_output=True, timeout=60,
    )
    return {'BENCH_TLS_CERT': str(cert), 'BENCH_TLS_KEY': str(key)}


def latency_table(run: Run, servers: list[str], labels: list[str]) -> str:
    """p50 / p99 latency (µs) of the loads that have one: a round trip, a handshake's connection."""
    timed = [label for label in labels if label not in ('bulk', 'hold')]
    head = ['server', *(f'{SHORT[label]} p50 / p99 µs' for label in timed)]
    rows = ['| ' + ' | '.join(head) + ' |', '|' + '|'.join(['---', *['---:'] * len(timed)]) + '|']
    for server in [s for s in servers if s in run.results]:
        cells = [server]
        for label in timed:
            p50, p99 = (run.median_raw(server, label, k) for k in ('p50_us', 'p99_us'))
            cells.append('n/a' if p50 is None or p99 is None else f'{p50:,.0f} / {p99:,.0f}')
        rows.append('| ' + ' | '.join(cells) + ' |')
    return '\n'.join(rows)


def negotiated(run: Run) -> str:
    seen = sorted({m.raw['tls'] for by_label in run.results.values() for ms in by_label.values()
                   for m in ms if m.raw.get('tls')})
    return '; '.join(seen) if seen else 'nothing'


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(
        description='TLS echo benchmark: gnet.tls vs Node tls, gevent and asyncio.',
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    p.add_argument('--servers', default=','.join(SERVERS), help='comma-separated, of: %(default)s')
    p.add_argument('--loads', default=','.join(DEFAULT_LOADS),
                   help=f'comma-separated, of: {",".join(LOADS)}')
    p.add_argument('--duration', type=float, default=3.0, help='seconds measured per load')
    p.add_argument('--warmup', type=float, default=0.5, help='seconds of load before measuring')
    p.add_argument('--rounds', type=int, default=3, help='rounds per server; medians are quoted')
    p.add_argument('--connections', type=int, default=100, help='pingpong connections')
    p.add_argument('--inflight', type=int, default=50, help='handshakes in flight')
    p.add_argument('--hold-conns', type=int, default=1000, help='idle TLS connections held')
    p.add_argument('--hold-secs', type=float, default=2.0, help='seconds they are held')
    p.add_argument('--quiet-wait', type=float, default=5.0,
                   help='seconds to wait, before each load, for other processes to go idle')
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
    if not (1 <= args.connections <= 20000 and 1 <= args.inflight <= 5000
            and 1 <= args.hold_conns <= 20000):
        p.error('need 1 <= --connections, --hold-conns <= 20000 and 1 <= --inflight <= 5000')
    if not (1 <= args.hold_secs <= 600 and 0 <= args.quiet_wait <= 600):
        p.error('need 1 <= --hold-secs <= 600 and 0 <= --quiet-wait <= 600')
    return args


def main() -> None:
    args = parse_args()
    server_cpu, loadgen_cpu = cpus()
    raise_nofile(max(args.connections, args.hold_conns))
    loadgen = build_loadgen()
    require_tls(loadgen)
    workdir = Path(tempfile.mkdtemp(prefix='gnet-tls-'))
    try:
        tls_env = make_certificate(workdir)
        env = server_env(**tls_env)
        run = Run()
        probes: dict[str, str | None] = {}
        for name in args.servers:
            why = unavailable(SERVERS[name], env, probes)
            if why:
                run.skipped[name] = why
                log(f'skipped {name}: {why}')
        # Memory first, on the freshly started (and primed) server.
        plan = sorted(args.loads, key=lambda load: load != 'hold')
        for rnd in range(1, args.rounds + 1):
            for name in args.servers:
                if name in run.skipped:
                    continue
                server = Server(SERVERS[name], server_cpu, workdir, env, unix=False)
                why = server.start()
                if why:
                    run.skipped[name] = why
                    log(f'skipped {name}: {why}')
                    continue
                try:
                    # checks the certificate chain and name once per server
                    primed = prime(loadgen, server, loadgen_cpu,
                                   ['pingpong', '--tls', '--tls-ca', tls_env['BENCH_TLS_CERT']])
                    if primed is None or primed.get('errors') or not primed.get('ops'):
                        log(f'{name}: the verified priming run failed: {primed}')
                    for load in plan:
                        if load == 'hold':
                            m = measure_hold(loadgen, server, loadgen_cpu, args.hold_conns,
                                             args.hold_secs, args.quiet_wait, tls=True)
                        else:
                            m = run_loadgen(loadgen, load_argv(load, args.connections, args.inflight),
                                            server, loadgen_cpu, args.duration, args.warmup,
                                            args.quiet_wait)
                        run.add(name, load, m)
                        digits = 2 if load == 'hold' else 0
                        log(f'round {rnd}/{args.rounds} {name} {load}: '
                            f'{fmt_value(m.value, m.marks, digits)} ({describe(m)})')
                        if not server.alive():
                            log(f'{name} died: {server.log_tail()}')
                            break
                finally:
                    server.stop()
    finally:
        shutil.rmtree(workdir, ignore_errors=True)

    title = (f'TLS echo benchmark, TCP 127.0.0.1, ECDSA P-256 certificate, negotiated: '
             f'{negotiated(run)}; pingpong C={args.connections} S=64 B, bulk 64 KiB chunks, '
             f'handshakes {args.inflight} in flight, hold N={args.hold_conns}; median of '
             f'{args.rounds} × {args.duration:g} s after {args.warmup:g} s warm-up')
    labels = list(args.loads)
    headings = [HEADINGS[label] for label in labels]
    print(f'\n{title}\n')
    print(table(run, args.servers, labels, headings, BASELINES, SHORT,
                digits={'hold': 2}, lower_is_better={'hold'}))
    rated = [label for label in labels if label != 'hold']
    if rated:
        print()
        print(cpu_table(run, args.servers, rated, [HEADINGS[label] for label in rated], BASELINES,
                        SHORT))
        if any(label not in ('bulk', 'hold') for label in labels):
            print()
            print(latency_table(run, args.servers, labels))
    print(f'\nKiB per idle conn: lower is better, so its ratio is the base\'s ÷ the server\'s.'
          f'\n{MARKS_NOTE}')
    save('tls', title, vars(args), run)


if __name__ == '__main__':
    main()
