"""Microbenchmark: a straight-line read helper on small, already buffered records.

    python benchmarks/readline.py                     # 8-byte lines, 5 rounds
    python benchmarks/readline.py --size 32 --rounds 9

What one call costs when no wait is needed: each reader gets the same bytes
(lines of --size bytes, newline included) over a real 127.0.0.1 TCP
connection, written by a plain blocking socket in batches that fit in the
kernel's buffers, so every byte is there before the timed loop starts; only
the loop of calls is timed. Readers:

    gnet_readline      gnet socket's readline()
    gnet_recv_until    gnet socket's recv_until(b'\\n')
    gnet_recv_exactly  gnet socket's recv_exactly(size)
    gnet_makefile      gnet socket's makefile('rb').readline()
    gevent_makefile    gevent socket's makefile('rb').readline(): the reference

One process pinned to one CPU; rounds alternate across readers; the table
quotes the median of the rounds' lines/s and each reader's ratio to
gevent_makefile (issue 13 asks gnet's readline() for >= 0.5).
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE.parent), str(HERE)]  # gnet from this checkout; the harness

import gevent.socket  # noqa: E402
from harness import NOISY, busy_ticks  # noqa: E402

BASE = 'gevent_makefile'


def gnet_reader(kind: str, port: int, size: int) -> tuple[Callable[[], bytes], Callable[[], None]]:
    import gnet

    sock = gnet.open_connection(port, '127.0.0.1', timeout=10)
    if kind == 'readline':
        return sock.readline, sock.destroy
    if kind == 'recv_until':
        return (lambda: sock.recv_until(b'\n')), sock.destroy
    if kind == 'recv_exactly':
        return (lambda: sock.recv_exactly(size)), sock.destroy
    rfile = sock.makefile('rb')

    def close() -> None:
        rfile.close()
        sock.destroy()

    return rfile.readline, close


def gevent_reader(port: int) -> tuple[Callable[[], bytes], Callable[[], None]]:
    sock = gevent.socket.create_connection(('127.0.0.1', port), timeout=10)
    rfile = sock.makefile('rb')

    def close() -> None:
        rfile.close()
        sock.close()

    return rfile.readline, close


READERS: dict[str, Callable[[int, int], tuple[Callable[[], bytes], Callable[[], None]]]] = {
    'gnet_readline': lambda port, size: gnet_reader('readline', port, size),
    'gnet_recv_until': lambda port, size: gnet_reader('recv_until', port, size),
    'gnet_recv_exactly': lambda port, size: gnet_reader('recv_exactly', port, size),
    'gnet_makefile': lambda port, size: gnet_reader('makefile', port, size),
    BASE: lambda port, size: gevent_reader(port),
}


def batch_bytes(lines: int, size: int, start: int) -> bytes:
    width = size - 1
    return b''.join(b'%0*d\n' % (width, (start + i) % 10**width) for i in range(lines))


def other_cores(busy0: int, own0: float, t0: float) -> float:
    """Cores that other processes kept busy since (busy0, own0, t0)."""
    hz = os.sysconf('SC_CLK_TCK')
    own = sum(os.times()[:2]) - own0
    return max(0.0, (busy_ticks() - busy0) / hz - own) / (time.monotonic() - t0)


def measure(name: str, args: argparse.Namespace, listener: socket.socket) -> float:
    """Lines/s of one reader over args.batches batches of args.lines lines."""
    read, close = READERS[name](listener.getsockname()[1], args.size)
    writer, _ = listener.accept()
    writer.settimeout(10)  # a batch that does not fit in the buffers raises, never hangs
    try:
        elapsed = 0.0
        for b in range(args.batches):
            data = batch_bytes(args.lines, args.size, b * args.lines)
            writer.sendall(data)
            t0 = time.perf_counter()
            for _ in range(args.lines - 1):
                read()
            last = read()
            elapsed += time.perf_counter() - t0
            if last != data[-args.size:]:
                sys.exit(f'readline.py: {name} read {last!r}, expected {data[-args.size:]!r}')
        return args.lines * args.batches / elapsed
    finally:
        close()
        writer.close()


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split('\n', 1)[0],
                                formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument('--readers', default=','.join(READERS), help='comma-separated, of: %(default)s')
    p.add_argument('--size', type=int, default=8, help='bytes per line, newline included')
    p.add_argument('--lines', type=int, default=16384, help='lines per batch (all buffered)')
    p.add_argument('--batches', type=int, default=20, help='batches per round')
    p.add_argument('--rounds', type=int, default=5, help='rounds per reader; medians are quoted')
    args = p.parse_args()
    args.readers = [r.strip() for r in args.readers.split(',') if r.strip()]
    unknown = [r for r in args.readers if r not in READERS]
    if unknown:
        p.error(f'unknown reader: {", ".join(unknown)}')
    if not (2 <= args.size <= 1024 and 1 <= args.rounds <= 50 and 1 <= args.batches <= 1000):
        p.error('need 2 <= --size <= 1024, 1 <= --rounds <= 50, 1 <= --batches <= 1000')
    if not 2 <= args.lines or args.lines * args.size > 256 * 1024:
        p.error('need --lines >= 2 and a batch (--lines x --size) of at most 256 KiB')
    return args


def main() -> None:
    args = parse_args()
    os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
    listener = socket.socket()  # the plain blocking stdlib socket: the writer side
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 1 << 20)  # accepted sockets inherit it
    listener.bind(('127.0.0.1', 0))
    listener.listen(8)
    rates: dict[str, list[float]] = {name: [] for name in args.readers}
    noisy: set[str] = set()
    try:
        for rnd in range(args.rounds):
            for name in args.readers:
                busy0, own0, t0 = busy_ticks(), sum(os.times()[:2]), time.monotonic()
                rate = measure(name, args, listener)
                others = other_cores(busy0, own0, t0)
                rates[name].append(rate)
                mark = '~' if others > NOISY else ''
                if mark:
                    noisy.add(name)
                print(f'round {rnd + 1}/{args.rounds} {name}: {rate:,.0f} lines/s{mark} '
                      f'(other processes {others:.2f} cores)', file=sys.stderr, flush=True)
    finally:
        listener.close()
    base = statistics.median(rates[BASE]) if BASE in rates else None
    print(f'\nBuffered {args.size}-byte lines over 127.0.0.1 TCP, {args.lines} lines a batch, '
          f'{args.batches} batches a round; median of {args.rounds} rounds, one CPU\n')
    print(f'| reader | lines/s | µs/line |{" ÷ " + BASE + " |" if base else ""}')
    print(f'|---|---:|---:|{"---:|" if base else ""}')
    for name, values in rates.items():
        rate = statistics.median(values)
        ratio = f' {rate / base:.2f} |' if base else ''
        mark = '~' if name in noisy else ''
        print(f'| {name} | {rate:,.0f}{mark} | {1e6 / rate:.3f} |{ratio}')
    print(f'\n~ other processes kept more than {NOISY} cores busy in a round of this reader')


if __name__ == '__main__':
    main()
