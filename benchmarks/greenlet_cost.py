"""What a greenlet costs on this Python: resident memory while parked, and time
to resume a parked one versus to start a fresh one.

    python benchmarks/greenlet_cost.py

These two figures decide gnet's memory per idle connection (each connection
keeps one greenlet, parked while idle) and part of its per-connection cost
(one greenlet started per connection).
"""

from __future__ import annotations

import time

import gevent
from gevent.event import Event
from greenlet import getcurrent, greenlet

PARKED = 20000
SWITCHES = 200000


def rss_bytes() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * 4096


def parked_kib() -> float:
    """Resident KiB per greenlet parked in the hub a few Python frames deep
    (like a connection's actor waiting for data)."""
    hub = gevent.get_hub()

    def body() -> None:
        def waiting() -> None:
            hub.switch()

        waiting()

    before = rss_bytes()
    parked = []
    for _ in range(PARKED):
        g = greenlet(body, hub)
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


if __name__ == "__main__":
    print(f"resume a parked greenlet: {resume_us():.2f} us")
    print(f"start a fresh greenlet:   {start_us():.2f} us")
    print(f"a parked greenlet keeps:  {parked_kib():.2f} KiB resident")
