"""Node's socket idle timeout (``socket.setTimeout``), as one small object.

``'timeout'`` fires once after ``msecs`` without activity and again only
after new activity followed by another idle period (NODE-NET H2); it never
closes the socket.  Activity (a read or a write) costs one clock read: the
timer is not restarted on every byte, it re-arms itself for the rest of the
period when it fires early.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

__all__ = ["IdleTimer"]


class IdleTimer:
    """Calls ``on_idle()`` (in the hub: no user code) after ``msecs`` idle."""

    __slots__ = ("_loop", "_seconds", "_timer", "_last_active", "_fired", "_on_idle")

    def __init__(self, loop: Any, msecs: float, on_idle: Callable[[], None]) -> None:
        self._loop = loop
        self._seconds = msecs / 1000.0
        self._on_idle = on_idle
        self._timer: Any = None
        self._last_active = loop.now()
        self._fired = False
        self._arm(self._seconds)

    def touch(self) -> None:
        """Activity: the idle period starts again."""
        self._last_active = self._loop.now()
        if self._fired:
            self._arm(self._seconds)

    @property
    def fired(self) -> bool:
        """``on_idle`` ran and there was no activity since (diagnostics: ended by timeout)."""
        return self._fired

    def close(self) -> None:
        if self._timer is not None:
            self._timer.close()
            self._timer = None

    def _arm(self, seconds: float) -> None:
        if self._timer is not None:
            self._timer.close()
        self._timer = self._loop.timer(seconds)
        self._timer.start(self._expired)
        self._fired = False

    def _expired(self) -> None:
        idle = self._loop.now() - self._last_active
        left = self._seconds - idle
        if left > 0.001:  # there was activity since the timer was armed
            self._arm(left)
            return
        self._fired = True
        self._on_idle()
