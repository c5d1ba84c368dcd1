"""The progress line of a long transfer (``gnet cat``): bytes each way, rate and elapsed time.

One line, rewritten in place (carriage return, erase to end of line) on a
terminal; the caller decides whether there is a terminal.  The rate is the
recent one (the last few seconds) while the transfer runs, and the average
on the final line.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from typing import TextIO

import gevent

__all__ = ["Progress", "ProgressTicker", "format_bytes", "format_elapsed"]

_UNITS = ("KiB", "MiB", "GiB", "TiB")
RATE_WINDOW = 3.0  # seconds of history behind the running rate
INTERVAL = 0.25  # seconds between redraws


def format_bytes(count: float) -> str:
    """``512 B``, ``1.5 KiB``, ``3.0 MiB``... (binary units, one decimal)."""
    if count < 1024:
        return f"{int(count)} B"
    value = float(count)
    for unit in _UNITS:
        value /= 1024
        if value < 1024 or unit == _UNITS[-1]:
            return f"{value:.1f} {unit}"
    raise AssertionError("unreachable")  # the loop returns at the last unit


def format_elapsed(seconds: float) -> str:
    """``0:07``, ``12:34``, ``1:02:03``."""
    whole = int(seconds)
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


class Progress:
    """Renders and writes the progress line to ``stream`` (a terminal)."""

    def __init__(
        self, stream: TextIO, label: str, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.stream = stream
        self.label = label
        self._clock = clock
        self.started = clock()
        self._samples: deque[tuple[float, int]] = deque([(self.started, 0)])

    def render(self, sent: int, received: int, *, final: bool = False) -> str:
        """The line for these counters now (``final``: the average rate)."""
        now = self._clock()
        total = sent + received
        elapsed = now - self.started
        if final:
            rate = total / elapsed if elapsed > 0 else 0.0
        else:
            samples = self._samples
            samples.append((now, total))
            while len(samples) > 2 and now - samples[1][0] >= RATE_WINDOW:
                samples.popleft()
            then, before = samples[0]
            rate = (total - before) / (now - then) if now > then else 0.0
        return (
            f"{self.label}: sent {format_bytes(sent)}, received {format_bytes(received)}, "
            f"{format_bytes(rate)}/s, {format_elapsed(elapsed)}"
        )

    def update(self, sent: int, received: int) -> None:
        self.stream.write("\r" + self.render(sent, received) + "\x1b[K")
        self.stream.flush()

    def finish(self, sent: int, received: int) -> None:
        """The final line, and a newline so what follows starts on its own line."""
        self.stream.write("\r" + self.render(sent, received, final=True) + "\x1b[K\n")
        self.stream.flush()


class ProgressTicker:
    """Redraws a :class:`Progress` every ``interval`` seconds from a greenlet
    until :meth:`stop`, which draws the final line.

    ``counts()`` returns ``(sent, received)``.
    """

    def __init__(
        self,
        stream: TextIO,
        label: str,
        counts: Callable[[], tuple[int, int]],
        interval: float = INTERVAL,
    ) -> None:
        self.progress = Progress(stream, label)
        self._counts = counts
        self._interval = interval
        self._greenlet = gevent.spawn(self._run)

    def _run(self) -> None:
        while True:
            gevent.sleep(self._interval)
            self.progress.update(*self._counts())

    def stop(self) -> None:
        self._greenlet.kill()
        self.progress.finish(*self._counts())
