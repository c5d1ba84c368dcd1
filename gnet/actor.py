"""How gnet runs on gevent: one greenlet per socket or server, one way to wait, and ``run()``.

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

Waiting has one primitive, :meth:`Actor._park`: the actor greenlet switches
to the hub until :meth:`Actor._wake` (any state change that could give it
work) or the watcher it parked on resumes it.  :meth:`Actor._wait` builds
the deadline and the foreign-greenlet case on top of it.  Spurious
wake-ups are harmless: every step re-reads the state.

``run()`` keeps a count of the objects that hold the process alive (a
listening server, an open socket), like Node's referenced handles, plus
the objects with events queued and not yet delivered: Node's process does
not exit while a nextTick or a handle's close callback is pending, so a
listen error, a server's ``'close'`` and the callbacks that follow them are
delivered before ``run()`` returns, whatever greenlet caused them.
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

__all__ = ["Actor", "run", "logger", "now", "deadline_after", "remaining"]

logger = logging.getLogger("gnet")

Task = tuple[Callable[..., Any], tuple[Any, ...]]
_NO_TASKS: list[Task] = []  # what _run_tasks runs when none are queued; never changed

# How an actor greenlet parks: greenlet's own switch() to the hub.  The
# hub's switch() method first looks for a 'switch_out' hook on the current
# greenlet (a gevent.Greenlet feature that actor greenlets lack); going
# around it saves a call on every wait, and a parked greenlet's saved C
# stack is one frame shorter.
switch_to_hub = greenlet.switch


def now() -> float:
    """The hub loop's clock (seconds), the one deadlines are measured on."""
    return float(gevent.get_hub().loop.now())


def deadline_after(timeout: float | None) -> float | None:
    """The deadline ``timeout`` seconds from now (None: no deadline)."""
    return None if timeout is None else now() + timeout


def remaining(deadline: float | None) -> float | None:
    """Seconds left until ``deadline`` (never negative; None: no deadline)."""
    return None if deadline is None else max(0.0, deadline - now())


class Actor(EventEmitter):
    """An event emitter whose events are delivered by one greenlet of its own.

    Subclasses implement :meth:`_step` (one unit of work, or park) and
    :meth:`_has_work` (whether the actor greenlet should keep running), and
    may override :meth:`_on_step_error` (what an exception escaping a
    listener does to the object).
    """

    __slots__ = ("_hub", "_tasks", "_actor", "_parked", "_waker", "_holds_ref", "_refd", "_pending")

    def __init__(self) -> None:
        super().__init__()
        self._hub: Hub = gevent.get_hub()
        self._tasks: list[Task] | None = None
        self._actor: greenlet | None = None
        self._parked = False
        self._waker: Event | None = None  # set on state changes while a foreign greenlet waits
        self._holds_ref = False  # counted by run()
        self._refd = True  # ref()/unref(): may hold a ref at all
        self._pending = False  # tasks are queued: counted by run() whatever ref()/unref() say

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
        tasks = self._tasks
        if tasks is None:
            self._tasks = [(fn, args)]
            if not self._holds_ref and not self._pending:
                # Queued work holds run() until it is delivered (Node does
                # not exit with a nextTick pending), even on an unref'd
                # object.  (An object holding a reference needs no second.)
                self._pending = True
                _refs.add(1)
        else:
            tasks.append((fn, args))

    def _run_tasks(self) -> None:
        # Tasks added while these run wait for the next call, which keeps
        # Node's order: a nextTick scheduled inside a nextTick runs after it.
        tasks, self._tasks = self._tasks or _NO_TASKS, None
        # A handler parked in its 'connection' task keeps this frame for the
        # connection's life, so it holds as little as it can: an index, not
        # enumerate()'s iterator and item tuple.
        i, n = 0, len(tasks)
        try:
            while i < n:
                fn, args = tasks[i]
                i += 1
                # fn(*args) would make CPython 3.11+ run a Python fn in a
                # nested C frame (CALL_FUNCTION_EX goes through
                # PyObject_Call); a plain call runs it in this one, which
                # shortens a parked handler's saved greenlet stack by ~650
                # bytes.
                if len(args) == 1:
                    fn(args[0])
                elif args:
                    fn(*args)
                else:
                    fn()
        except BaseException:
            rest = tasks[i:]
            if rest:
                self._tasks = rest + (self._tasks or [])
            raise
        finally:
            if self._tasks is None and self._pending:
                self._pending = False
                _refs.add(-1)

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
        # The loop as a function, given self at the first switch: a bound
        # method would be called through one more C frame, which each
        # parked greenlet's saved stack keeps (~70 bytes).
        self._actor = g = greenlet(type(self)._actor_main, self._hub)
        self._hub.loop.run_callback(g.switch, self)

    def _resume(self) -> None:
        # In the hub: from a run_callback queued by _wake().
        if self._parked:
            self._parked = False
            actor = self._actor
            if actor is not None:
                actor.switch()

    def _park(self, watcher: Any = None, timer: Any = None) -> None:
        """In the actor greenlet: sleep until woken, or until ``watcher`` or ``timer`` fires.

        The one way an actor greenlet waits.  Returns at once when tasks are
        queued: a task deferred by the actor itself (while running, so
        ``_wake`` had nothing to un-park) must not wait for some unrelated
        wake-up.  The watchers switch straight back into this greenlet:
        they are started only while it is parked, and stopping them on the
        way out clears any event still pending, so they can never switch
        into it at another time.
        """
        if self._tasks:
            return
        self._parked = True
        if watcher is not None or timer is not None:
            switch = getcurrent().switch
            if watcher is not None:
                watcher.start(switch)
            if timer is not None:
                timer.start(switch)
        try:
            switch_to_hub(self._hub)
        finally:
            self._parked = False
            if watcher is not None:
                watcher.stop()
            if timer is not None:
                timer.stop()

    def _wait(self, watcher: Any = None, deadline: float | None = None) -> None:
        """Block the calling greenlet until this object's state may have changed.

        In the actor greenlet this runs queued tasks if there are any, else
        parks (on ``watcher`` too).  In any other greenlet it waits for the
        next :meth:`_wake` (or for ``watcher``'s descriptor).  Raises
        ``TimeoutError`` if ``deadline`` (on :func:`now`'s clock) has passed;
        callers re-check their condition after every return.
        """
        loop = self._hub.loop
        if deadline is not None and loop.now() >= deadline:
            raise TimeoutError("timed out")
        if self._actor is not None and getcurrent() is self._actor:
            if self._tasks:
                self._run_tasks()
                return
            timer = None if deadline is None else loop.timer(deadline - loop.now())
            try:
                self._park(watcher, timer)
            finally:
                if timer is not None:
                    timer.close()
            return
        waker = self._waker
        if waker is None:
            self._waker = waker = Event()
        waker.clear()
        timeout = None if deadline is None else max(0.0, deadline - loop.now())
        if watcher is None:
            waker.wait(timeout)
            return
        # The actor may be parked on ``watcher`` itself: watch the descriptor
        # with a watcher of our own.
        mine = loop.io(watcher.fd, watcher.events)
        mine.start(waker.set)
        try:
            waker.wait(timeout)
        finally:
            mine.close()

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

    def _hand_over(self, heir: Actor) -> None:
        """Let ``heir`` (an actor with no greenlet yet) run in this actor's greenlet.

        One greenlet per connection when another object takes the
        connection over (a TLS socket over an accepted or upgraded plain
        socket).  From this call on, ``heir``'s events run in this greenlet:
        in a blocking helper of ``heir`` called here, and, once the task
        running now returns, in ``heir``'s own loop, which this greenlet
        runs to its end before going back to this actor's own tasks.
        """
        if self._actor is None:
            self._start_actor()
        heir._actor = self._actor
        self._defer(heir._actor_main)

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

    # -- keeping run() alive -------------------------------------------------

    def _hold_ref(self, hold: bool) -> None:
        hold = hold and self._refd
        if hold != self._holds_ref:
            self._holds_ref = hold
            if not hold and self._tasks and not self._pending:
                # What is queued holds run() from now on: the reference
                # passes to it (a closing socket's last events), count unchanged.
                self._pending = True
                return
            _refs.add(1 if hold else -1)


class _RefCount:
    """How many servers and sockets keep ``run()`` blocking (referenced, or with
    events still to deliver)."""

    def __init__(self) -> None:
        self.count = 0
        self.idle = Event()
        self.idle.set()

    def add(self, delta: int) -> None:
        # The event moves only when the count crosses zero: most changes
        # (a connection opening while others are open) touch no event.
        was = self.count
        count = was + delta
        if count <= 0:
            self.count = 0
            if was > 0:
                self.idle.set()
        else:
            self.count = count
            if was <= 0:
                self.idle.clear()


_refs = _RefCount()


def run() -> None:
    """Block until no referenced server or socket is left, and no event is
    waiting to be delivered.

    Node's process stays alive while its loop has referenced handles or
    pending callbacks; this is the same rule for the calling greenlet.
    ``unref()`` on a server or socket lets it stop counting (its queued
    events are still delivered first).
    """
    while _refs.count > 0:
        _refs.idle.wait()
