"""How gnet runs on gevent: one greenlet per socket or server, and ``run()``.

Every :class:`~gnet.socket.Socket` and :class:`~gnet.server.Server` is an
:class:`Actor`: it owns at most one greenlet (its *actor greenlet*) that
delivers its events, in order, and (for a socket) does its reading.  This is
what makes gnet both Node-like and gevent-like:

* Events that Node defers to ``process.nextTick`` are queued with
  :meth:`Actor._defer` and run by the actor greenlet after the current call
  returns, never inside it, so a listener attached right after ``listen()``
  or ``connect()`` still gets the event (NODE-NET.md §2.L).
* Listeners always run in a greenlet, never in the hub, so a listener may
  block; it then delays only its own object's events.
* A blocking helper called *in* the actor greenlet (a straight-line handler)
  keeps the object running by calling :meth:`Actor._step` itself while it
  waits, so nothing deadlocks and no extra greenlet switch is paid.

The actor greenlet parks in the hub only when there is nothing to do; any
state change that could give it work calls :meth:`Actor._wake`.  Spurious
wake-ups are harmless: every step re-reads the state.

``run()`` keeps a count of the objects that hold the process alive (a
listening server, an open socket), like Node's referenced handles.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import gevent
from gevent.event import Event
from gevent.hub import Hub
from greenlet import getcurrent, greenlet

from .emitter import EventEmitter

__all__ = ["Actor", "run", "logger"]

logger = logging.getLogger("gnet")

Task = tuple[Callable[..., Any], tuple[Any, ...]]

# How an actor greenlet parks: greenlet's own switch() to the hub.  The
# hub's switch() method first looks for a 'switch_out' hook on the current
# greenlet (a gevent.Greenlet feature that actor greenlets lack); going
# around it saves a call on every wait, and a parked greenlet's saved C
# stack is one frame shorter.
switch_to_hub = greenlet.switch


class Actor(EventEmitter):
    """An event emitter whose events are delivered by one greenlet of its own.

    Subclasses implement :meth:`_step` (one unit of work, or park) and
    :meth:`_has_work` (whether the actor greenlet should keep running), and
    may override :meth:`_on_step_error` (what an exception escaping a
    listener does to the object).
    """

    __slots__ = ("_hub", "_tasks", "_actor", "_parked", "_waker", "_holds_ref", "_refd")

    def __init__(self) -> None:
        super().__init__()
        self._hub: Hub = gevent.get_hub()
        self._tasks: list[Task] | None = None
        self._actor: greenlet | None = None
        self._parked = False
        self._waker: Event | None = None  # set on state changes while a foreign greenlet waits
        self._holds_ref = False  # counted by run()
        self._refd = True  # ref()/unref(): may hold a ref at all

    # -- deferred delivery ---------------------------------------------------

    def _defer(self, fn: Callable[..., Any], *args: Any) -> None:
        """Run ``fn(*args)`` in the actor greenlet after the current call (Node's nextTick)."""
        self._queue(fn, args)
        self._wake()

    def _defer_from_hub(self, fn: Callable[..., Any], *args: Any) -> None:
        """``_defer`` for code the hub runs (a watcher's or a loop callback): a
        parked actor greenlet is switched to at once rather than through
        one more hub callback."""
        self._queue(fn, args)
        if self._parked:
            self._resume()
        else:
            self._wake()

    def _queue(self, fn: Callable[..., Any], args: tuple[Any, ...]) -> None:
        if self._tasks is None:
            self._tasks = [(fn, args)]
        else:
            self._tasks.append((fn, args))

    def _run_tasks(self) -> None:
        # Tasks added while these run wait for the next call, which keeps
        # Node's order: a nextTick scheduled inside a nextTick runs after it.
        tasks, self._tasks = self._tasks, None
        if tasks:
            for i, (fn, args) in enumerate(tasks):
                try:
                    fn(*args)
                except BaseException:
                    rest = tasks[i + 1 :]
                    if rest:
                        self._tasks = rest + (self._tasks or [])
                    raise

    # -- the actor greenlet --------------------------------------------------

    def _wake(self) -> None:
        """Make sure the actor greenlet runs soon: start it, or un-park it."""
        if self._actor is None:
            self._start_actor()
        elif self._parked:
            self._hub.loop.run_callback(self._resume)
        waker = self._waker
        if waker is not None:
            waker.set()

    def _start_actor(self) -> None:
        """Give this object its actor greenlet; it starts on the hub's next round."""
        self._actor = g = greenlet(self._actor_main, self._hub)
        self._hub.loop.run_callback(g.switch)

    def _resume(self) -> None:
        # In the hub: from a watcher or a run_callback.
        if self._parked:
            self._parked = False
            actor = self._actor
            if actor is not None:
                actor.switch()

    def _park(self, watcher: Any = None) -> None:
        """In the actor greenlet: sleep until woken (or ``watcher`` fires).

        Returns at once when tasks are queued: a task deferred by the actor
        itself (while running, so ``_wake`` had nothing to un-park) must not
        wait for some unrelated wake-up.
        """
        if self._tasks:
            return
        self._parked = True
        if watcher is not None:
            watcher.start(self._resume)
        try:
            switch_to_hub(self._hub)
        finally:
            self._parked = False
            if watcher is not None:
                watcher.stop()

    def _actor_main(self) -> None:
        """The actor loop: the body of the object's greenlet, until it is done."""
        try:
            while True:
                try:
                    if self._tasks:
                        self._run_tasks()
                    elif self._has_work():
                        self._step()
                    else:
                        break
                except gevent.GreenletExit:
                    raise
                except BaseException as exc:  # noqa: B036 - isolation boundary
                    self._on_step_error(exc)
        finally:
            self._actor = None
            self._actor_done()
            if self._tasks:
                self._wake()

    def _actor_done(self) -> None:
        """Called as the actor greenlet ends (it may get a new one later)."""

    def _in_actor(self) -> bool:
        return self._actor is not None and getcurrent() is self._actor

    def _step(self, once: bool = False) -> None:
        """One unit of work in the actor greenlet; parks when there is none.

        ``once``: the caller (a blocking wait in the actor greenlet) wants
        control back after each delivered event.
        """
        if self._tasks:
            self._run_tasks()

    def _has_work(self) -> bool:
        return False

    def _on_step_error(self, exc: BaseException) -> None:
        logger.error("unhandled exception in %r", self, exc_info=exc)

    def _wait_foreign(self, timeout: float | None, readable_fd: int | None = None) -> None:
        """In a greenlet other than the actor: wait for the next state change
        (or, given ``readable_fd``, for that descriptor to become readable)."""
        waker = self._waker
        if waker is None:
            self._waker = waker = Event()
        waker.clear()
        if readable_fd is None:
            waker.wait(timeout)
            return
        watcher = self._hub.loop.io(readable_fd, 1)
        watcher.start(waker.set)
        try:
            waker.wait(timeout)
        finally:
            watcher.close()

    # -- keeping run() alive -------------------------------------------------

    def _hold_ref(self, hold: bool) -> None:
        hold = hold and self._refd
        if hold != self._holds_ref:
            self._holds_ref = hold
            _refs.add(1 if hold else -1)


class _RefCount:
    """How many servers and sockets keep ``run()`` blocking."""

    def __init__(self) -> None:
        self.count = 0
        self.idle = Event()
        self.idle.set()

    def add(self, delta: int) -> None:
        self.count += delta
        if self.count <= 0:
            self.count = 0
            self.idle.set()
        else:
            self.idle.clear()


_refs = _RefCount()


def run() -> None:
    """Block until no referenced server or socket is left.

    Node's process stays alive while its loop has referenced handles; this
    is the same rule for the calling greenlet.  ``unref()`` on a server or
    socket lets it stop counting.
    """
    while _refs.count > 0:
        _refs.idle.wait()
