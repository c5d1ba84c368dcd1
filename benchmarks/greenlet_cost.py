"""What a greenlet costs on this Python: resident memory while parked, and time
to resume a parked one versus to start a fresh one.

    python benchmarks/greenlet_cost.py

These two figures decide gnet's memory per idle connection (each connection
keeps one greenlet, parked while idle) and part of its per-connection cost
(one greenlet started per connection).
"""

from __future__ import annotations

import functools
import subprocess
import sys
import time

import gevent
from gevent.event import Event
from greenlet import getcurrent, greenlet

PARKED = 20000
SWITCHES = 200000


def rss_bytes() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * 4096


def parked_kib(run_python: bool = True) -> float:
    """Resident KiB per greenlet parked in the hub.

    ``run_python``: the greenlet parks a few Python frames deep (like a
    connection's actor waiting for data); otherwise its body is a C call
    that switches straight to the hub, so it never runs Python code and
    never gets a Python data stack of its own.
    """
    hub = gevent.get_hub()

    def body() -> None:
        def waiting() -> None:
            hub.switch()

        waiting()

    before = rss_bytes()
    parked = []
    for _ in range(PARKED):
        g = greenlet(body if run_python else functools.partial(greenlet.switch, hub), hub)
        parked.append(g)
        hub.loop.run_callback(g.switch)
    gevent.sleep(0)
    gevent.sleep(0)
    return (rss_bytes() - before) / PARKED / 1024


def resume_us() -> float:
    """Microseconds to park a greenlet in the hub and switch back into it."""
    hub = gevent.get_hub()
    done = Event()

    def body() -> None:
        me = getcurrent()
        for _ in range(SWITCHES):
            hub.loop.run_callback(me.switch)
            hub.switch()
        done.set()

    start = time.perf_counter()
    hub.loop.run_callback(greenlet(body, hub).switch)
    done.wait()
    return (time.perf_counter() - start) / SWITCHES * 1e6


def start_us() -> float:
    """Microseconds to start a fresh greenlet from the hub and let it finish."""
    hub = gevent.get_hub()
    done = Event()
    count = [0]

    def body() -> None:
        count[0] += 1
        if count[0] < SWITCHES:
            hub.loop.run_callback(start)
        else:
            done.set()

    def start() -> None:
        greenlet(body, hub).switch()

    begin = time.perf_counter()
    hub.loop.run_callback(start)
    done.wait()
    return (time.perf_counter() - begin) / SWITCHES * 1e6


def parked_kib_fresh(run_python: bool) -> float:
    """:func:`parked_kib` in a fresh process: memory freed by an earlier
    measurement would otherwise be reused and hide part of the cost."""
    out = subprocess.run(
        [sys.executable, __file__, "--parked", "python" if run_python else "c"],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    return float(out.stdout)


if __name__ == "__main__":
    if sys.argv[1:2] == ["--parked"]:
        print(parked_kib(sys.argv[2] == "python"))
        sys.exit()
    print(f"resume a parked greenlet: {resume_us():.2f} us")
    print(f"start a fresh greenlet:   {start_us():.2f} us")
    print(f"a parked greenlet that never ran Python keeps: {parked_kib_fresh(False):.2f} KiB resident")
    print(f"a parked greenlet that ran Python keeps:       {parked_kib_fresh(True):.2f} KiB resident")
