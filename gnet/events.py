"""Blocking counterparts of Node's ``events.once`` and ``events.on``.

They block only the calling greenlet.  Called from the greenlet that
delivers the emitter's own events (a connection handler waiting on its own
socket), they keep that emitter running while they wait, so the event they
wait for can still arrive.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterator
from typing import Any

import gevent
from gevent.event import Event

from .actor import Actor
from .emitter import EventEmitter
from .errors import make_error
from .options import validate_timeout

__all__ = ["once", "on"]


def _block_until(emitter: EventEmitter, done: Callable[[], bool], signal: Event, timeout: float | None) -> None:
    if isinstance(emitter, Actor) and emitter._in_actor():
        with gevent.Timeout(timeout, TimeoutError(f"no event within {timeout} s")):
            while not done():
                emitter._step(once=True)
        return
    if not signal.wait(timeout) and not done():
        raise TimeoutError(f"no event within {timeout} s")


def once(emitter: EventEmitter, event: str, *, timeout: float | None = None) -> tuple[Any, ...]:
    """Block until ``event`` fires; return its arguments as a tuple.

    Node's ``events.once``: if ``'error'`` fires first, that error is
    raised.  ``timeout`` (seconds) raises ``TimeoutError``.
    """
    timeout = validate_timeout(timeout)  # NaN would wait forever
    if not isinstance(emitter, EventEmitter):
        raise make_error("ERR_INVALID_ARG_TYPE", "emitter", "an instance of EventEmitter", emitter)
    result: list[Any] = []
    signal = Event()

    def on_event(*args: Any) -> None:
        if not result:
            result.append(("ok", args))
            signal.set()

    def on_error(err: BaseException) -> None:
        if not result:
            result.append(("error", err))
            signal.set()

    emitter.on(event, on_event)
    if event != "error":
        emitter.on("error", on_error)
    try:
        _block_until(emitter, lambda: bool(result), signal, timeout)
    finally:
        emitter.remove_listener(event, on_event)
        if event != "error":
            emitter.remove_listener("error", on_error)
    kind, value = result[0]
    if kind == "error":
        raise value
    return value  # type: ignore[no-any-return]


def on(emitter: EventEmitter, event: str, *, close_event: str = "close") -> Iterator[tuple[Any, ...]]:
    """Iterate over each later firing of ``event`` (its arguments as a tuple).

    Node's ``events.on``: the iteration ends when the emitter emits
    ``close_event`` (``'close'``); an ``'error'`` is raised.  Firings that
    happen while the loop body runs are queued, none is lost.
    """
    queue: deque[tuple[str, Any]] = deque()
    signal = Event()

    def push(kind: str) -> Callable[..., None]:
        def listener(*args: Any) -> None:
            queue.append((kind, args))
            signal.set()

        return listener

    on_event, on_error, on_close = push("event"), push("error"), push("close")
    emitter.on(event, on_event)
    emitter.on("error", on_error)
    emitter.on(close_event, on_close)
    try:
        while True:
            if not queue:
                signal.clear()
                _block_until(emitter, lambda: bool(queue), signal, None)
            kind, args = queue.popleft()
            if kind == "error":
                raise args[0]
            if kind == "close":
                return
            yield args
    finally:
        emitter.remove_listener(event, on_event)
        emitter.remove_listener("error", on_error)
        emitter.remove_listener(close_event, on_close)
