"""Node's ``events.EventEmitter``: the base of every gnet Server and Socket.

Listeners are called synchronously, in registration order, with the
arguments given to :meth:`EventEmitter.emit`.  The semantics are Node's
(``'newListener'`` / ``'removeListener'``, once-wrappers, the leak warning,
an unhandled ``'error'`` raising); the spelling is Python's, with Node's
camelCase names as aliases.

``emit`` sits on the hot path of every socket (one ``'data'`` event per
chunk), so listeners are stored as Node stores them: an event's only
listener is kept as itself, and two or more as a tuple that is replaced,
never mutated.  An emit calls the entry it looked up, or iterates the tuple,
which is already the snapshot Node takes by copying its array; an event
without listeners costs one dict lookup.  The lone listener kept bare saves
a tuple (48 bytes) per event in every connection, most of which have one
listener per event.
"""

from __future__ import annotations

import functools
import inspect
import math
import warnings
import weakref
from collections.abc import Callable, Hashable
from typing import Any, NoReturn, TypeVar, overload

from ._aliases import with_camel_aliases
from .errors import make_error

__all__ = ["EventEmitter", "MaxListenersExceededWarning", "check_not_async"]

Listener = Callable[..., Any]
_F = TypeVar("_F", bound=Listener)
_E = TypeVar("_E", bound="EventEmitter")

# Distinguishes ``on('x')`` (decorator form) from ``on('x', None)``, which
# Node rejects as an invalid listener.
_MISSING: Any = object()

_default_max_listeners: float = 10


class MaxListenersExceededWarning(RuntimeWarning):
    """Node's ``MaxListenersExceededWarning``: probably a listener leak.

    Carries Node's fields: ``emitter``, ``type`` (the event name) and
    ``count`` (how many listeners it has now).
    """

    def __init__(self, emitter: EventEmitter, event: Hashable, count: int, limit: float) -> None:
        super().__init__(
            f"Possible EventEmitter memory leak detected. {count} {event} listeners "
            f"added to [{type(emitter).__name__}]. MaxListeners is {limit}. "
            "Use emitter.setMaxListeners() to increase limit"
        )
        self.emitter = emitter
        self.type = event
        self.count = count


_ASYNC_CODE = inspect.CO_COROUTINE | inspect.CO_ASYNC_GENERATOR


def check_not_async(fn: object, name: str = "listener") -> None:
    """Refuse an ``async def`` (or async generator) function as a listener or callback.

    Events are delivered by calling listeners; calling an async function
    only makes a coroutine, which nobody awaits: the code would never run
    (Python's only sign is a "never awaited" warning).  A gnet listener may
    block its own greenlet instead, so a plain ``def`` does what the
    ``async def`` meant to.
    """
    while isinstance(fn, functools.partial):
        fn = fn.func
    code = getattr(fn, "__code__", None)  # functions, and bound methods through __func__
    if code is None:  # a callable object: its class's __call__
        code = getattr(type(fn).__call__, "__code__", None)
    if code is not None and code.co_flags & _ASYNC_CODE:
        raise make_error(
            "ERR_INVALID_ARG_VALUE",
            name,
            fn,
            "is an async function, which gnet would call without awaiting it, so it would "
            "never run; use a plain def (it may block: it runs in its own greenlet)",
        )


def _check_listener(listener: object) -> None:
    if not callable(listener):
        raise make_error("ERR_INVALID_ARG_TYPE", "listener", "of type function", listener)
    check_not_async(listener)


def _check_max_listeners(n: object, name: str) -> None:
    # Node's validateNumber(n, name, 0): booleans are not numbers there.
    if isinstance(n, bool) or not isinstance(n, (int, float)):
        raise make_error("ERR_INVALID_ARG_TYPE", name, "of type number", n)
    if math.isnan(n) or n < 0:
        raise make_error("ERR_OUT_OF_RANGE", name, ">= 0", n)


class _OnceWrapper:
    """What ``once`` registers: removes itself, then calls ``listener``.

    ``fired`` guards against a second call from an emit whose snapshot was
    taken before the removal (a listener re-emitting the same event).
    """

    __slots__ = ("emitter", "event", "listener", "fired")

    def __init__(self, emitter: EventEmitter, event: Hashable, listener: Listener) -> None:
        # Weak: the emitter holds this wrapper, and a once listener that
        # never fires ('end' on a socket that is reset) must not tie them
        # into a cycle only the garbage collector frees.
        self.emitter = weakref.ref(emitter)
        self.event = event
        self.listener = listener
        self.fired = False

    def __call__(self, *args: Any) -> Any:
        if self.fired:
            return None
        self.fired = True
        emitter = self.emitter()
        if emitter is not None:
            emitter.remove_listener(self.event, self)
        return self.listener(*args)

    def __repr__(self) -> str:
        return f"<once {self.listener!r}>"


def _unwrap(listener: Listener) -> Listener:
    return listener.listener if type(listener) is _OnceWrapper else listener


def _as_tuple(entry: Listener | tuple[Listener, ...]) -> tuple[Listener, ...]:
    """An ``_events`` entry (or ``()`` for none) as the tuple of its listeners."""
    return entry if type(entry) is tuple else (entry,)  # type: ignore[return-value]


class _Unrepresentable:
    """Stands in for an ``'error'`` payload whose ``repr`` raised, as Node
    falls back to ``String(er)`` when ``inspect(er)`` throws."""

    __slots__ = ("_text",)

    def __init__(self, value: object) -> None:
        self._text = object.__repr__(value)

    def __repr__(self) -> str:
        return self._text


@with_camel_aliases
class _EmitterMeta(type):
    """Makes ``EventEmitter.default_max_listeners`` (and its camelCase twin)
    one validated, process-wide value, as Node's static accessor is: setting
    it on any subclass changes it for every emitter."""

    @property
    def default_max_listeners(cls) -> float:
        """Node's ``EventEmitter.defaultMaxListeners`` (10 unless changed)."""
        return _default_max_listeners

    @default_max_listeners.setter
    def default_max_listeners(cls, n: float) -> None:
        global _default_max_listeners
        _check_max_listeners(n, "default_max_listeners")
        _default_max_listeners = n


@with_camel_aliases
class EventEmitter(metaclass=_EmitterMeta):
    """Node's ``events.EventEmitter``.

    Listeners are compared with ``==``, so a bound method registered as
    ``obj.handler`` is removed by passing ``obj.handler`` again.  Events are
    any hashable value (Node's strings and symbols).

    Subclasses must call ``super().__init__()``; they may override the
    :meth:`_listener_added` / :meth:`_listener_removed` hooks.
    """

    __slots__ = ("_events", "_max_listeners", "_warned", "__weakref__")

    # An event's listener, or its tuple of two or more (never an empty tuple:
    # an event without listeners has no key).  A listener is callable, so
    # it is never a plain tuple itself.
    _events: dict[Hashable, Listener | tuple[Listener, ...]]
    _max_listeners: float | None
    # Events already warned about; Node keeps this flag on the listener
    # array, so it is forgotten when the event drops back to one listener.
    _warned: set[Hashable] | None

    def __init__(self) -> None:
        self._events = {}
        self._max_listeners = None
        self._warned = None

    # -- hooks -------------------------------------------------------------

    def _listener_added(self, event: Hashable) -> None:
        """Called after a listener for ``event`` has been added (``on``,
        ``once``, the prepend variants), ``'newListener'`` included.

        Where a Node subclass would override ``on`` and act after
        ``super.on()`` (Readable starts flowing on a ``'data'`` listener),
        a gnet subclass overrides this.  The default does nothing.
        """

    def _listener_removed(self, event: Hashable) -> None:
        """Called after listeners of ``event`` have been removed, once the
        ``'removeListener'`` events have fired: once per removed listener by
        ``remove_listener`` (a ``once`` listener firing included), once per
        event by ``remove_all_listeners`` when nobody listens to
        ``'removeListener'``.  The default does nothing.
        """

    # -- adding ------------------------------------------------------------

    def _add(self, event: Hashable, listener: Listener, prepend: bool) -> None:
        events = self._events
        if "newListener" in events:
            self.emit("newListener", event, _unwrap(listener))
        existing = events.get(event)
        if existing is None:
            events[event] = listener
        else:
            old = _as_tuple(existing)
            events[event] = (listener, *old) if prepend else (*old, listener)
            self._check_count(event, len(old) + 1)
        self._listener_added(event)

    def _check_count(self, event: Hashable, count: int) -> None:
        limit = self._max_listeners
        if limit is None:
            limit = _default_max_listeners
        if 0 < limit < count and (self._warned is None or event not in self._warned):
            if self._warned is None:
                self._warned = set()
            self._warned.add(event)
            # stacklevel 4: the caller of on()/once() or the decorated def.
            warnings.warn(MaxListenersExceededWarning(self, event, count, limit), stacklevel=4)

    def _decorator(self, event: Hashable, once: bool, prepend: bool) -> Callable[[_F], _F]:
        def register(listener: _F) -> _F:
            _check_listener(listener)
            self._add(event, _OnceWrapper(self, event, listener) if once else listener, prepend)
            return listener

        return register

    @overload
    def add_listener(self, event: Hashable) -> Callable[[_F], _F]: ...
    @overload
    def add_listener(self: _E, event: Hashable, listener: Listener) -> _E: ...
    def add_listener(self, event: Hashable, listener: Any = _MISSING) -> Any:
        """Node's ``emitter.on(event, listener)`` / ``addListener``: call
        ``listener(*args)`` on every ``emit(event, *args)``; returns the
        emitter.

        With ``event`` only, returns a decorator that registers the function
        and gives it back unchanged: ``@sock.on('data')``.
        """
        if listener is _MISSING:
            return self._decorator(event, False, False)
        # The common case inline (on() runs for every connection): a plain
        # function or bound method, not async.  Anything else is checked in full.
        try:
            if listener.__code__.co_flags & _ASYNC_CODE:
                _check_listener(listener)
        except AttributeError:  # no code of its own: a builtin, a partial, an object
            _check_listener(listener)
        self._add(event, listener, False)
        return self

    on = add_listener

    @overload
    def prepend_listener(self, event: Hashable) -> Callable[[_F], _F]: ...
    @overload
    def prepend_listener(self: _E, event: Hashable, listener: Listener) -> _E: ...
    def prepend_listener(self, event: Hashable, listener: Any = _MISSING) -> Any:
        """Node's ``emitter.prependListener``: like ``on``, but the listener
        goes first.  Decorator form with ``event`` only."""
        if listener is _MISSING:
            return self._decorator(event, False, True)
        _check_listener(listener)
        self._add(event, listener, True)
        return self

    @overload
    def once(self, event: Hashable) -> Callable[[_F], _F]: ...
    @overload
    def once(self: _E, event: Hashable, listener: Listener) -> _E: ...
    def once(self, event: Hashable, listener: Any = _MISSING) -> Any:
        """Node's ``emitter.once``: the listener is removed just before its
        first call.  ``remove_listener(event, listener)`` with the original
        function removes it before then.  Decorator form with ``event``
        only."""
        if listener is _MISSING:
            return self._decorator(event, True, False)
        _check_listener(listener)
        self._add(event, _OnceWrapper(self, event, listener), False)
        return self

    @overload
    def prepend_once_listener(self, event: Hashable) -> Callable[[_F], _F]: ...
    @overload
    def prepend_once_listener(self: _E, event: Hashable, listener: Listener) -> _E: ...
    def prepend_once_listener(self, event: Hashable, listener: Any = _MISSING) -> Any:
        """Node's ``emitter.prependOnceListener``: ``once``, placed first.
        Decorator form with ``event`` only."""
        if listener is _MISSING:
            return self._decorator(event, True, True)
        _check_listener(listener)
        self._add(event, _OnceWrapper(self, event, listener), True)
        return self

    # -- removing ----------------------------------------------------------

    def remove_listener(self: _E, event: Hashable, listener: Listener) -> _E:
        """Node's ``emitter.removeListener`` / ``off``: remove the most
        recently added instance of ``listener`` (or of a ``once`` wrapper
        around it), then emit ``'removeListener'`` with it.  Returns the
        emitter."""
        if not callable(listener):
            _check_listener(listener)
        events = self._events
        existing = events.get(event)
        if existing is None:
            return self
        if type(existing) is not tuple:
            found = existing
            if not (found == listener or (type(found) is _OnceWrapper and found.listener == listener)):
                return self
            del events[event]
            n = 1
        else:
            n = len(existing)
            for i in range(n - 1, -1, -1):
                found = existing[i]
                if found == listener or (type(found) is _OnceWrapper and found.listener == listener):
                    break
            else:
                return self
            rest = existing[:i] + existing[i + 1 :]
            events[event] = rest[0] if n == 2 else rest
        if self._warned and n <= 2:
            self._warned.discard(event)
        if "removeListener" in events:
            self.emit("removeListener", event, _unwrap(found))
        self._listener_removed(event)
        return self

    off = remove_listener

    def remove_all_listeners(self: _E, event: Hashable | None = None) -> _E:
        """Node's ``emitter.removeAllListeners([event])``: every listener of
        ``event``, or of every event when it is ``None``.

        When someone listens to ``'removeListener'``, it fires for each
        removed listener (last added first), and the ``'removeListener'``
        listeners themselves go last.  Returns the emitter.
        """
        events = self._events
        if "removeListener" not in events:
            if event is None:
                cleared = list(events)
                events.clear()
                self._warned = None
            elif event in events:
                cleared = [event]
                del events[event]
                if self._warned:
                    self._warned.discard(event)
            else:
                return self
            for name in cleared:
                self._listener_removed(name)
            return self
        if event is None:
            for name in list(events):
                if name != "removeListener":
                    self.remove_all_listeners(name)
            self.remove_all_listeners("removeListener")
            events.clear()
            self._warned = None
            return self
        for listener in reversed(_as_tuple(events.get(event, ()))):
            self.remove_listener(event, listener)
        return self

    # -- emitting ----------------------------------------------------------

    def emit(self, event: Hashable, *args: Any) -> bool:
        """Node's ``emitter.emit``: call each listener of ``event`` with
        ``args``, synchronously, in order; returns whether there were any.

        Listeners added or removed meanwhile do not change this emit.  An
        ``'error'`` without listeners raises: the payload itself if it is an
        exception, else an ``ERR_UNHANDLED_ERROR`` error whose ``context``
        is the payload.
        """
        listeners: Any = self._events.get(event)
        if listeners is None:
            if event == "error":
                self._raise_unhandled(args[0] if args else None)
            return False
        # One listener with one argument is the common case (a socket's
        # 'data', 'error', 'close'; a server's 'connection').  Skipping the
        # loop saves ~15% of an emit, and a call without *args lets Python
        # run a Python listener in the emitter's own C frame: a straight-line
        # handler parked in 'connection' then keeps a shorter C stack.
        if type(listeners) is not tuple:
            if len(args) == 1:
                listeners(args[0])
            else:
                listeners(*args)
            return True
        for listener in listeners:
            listener(*args)
        return True

    def _raise_unhandled(self, payload: object) -> NoReturn:
        if isinstance(payload, BaseException):
            raise payload
        try:
            err = make_error("ERR_UNHANDLED_ERROR", payload)
        except Exception:
            err = make_error("ERR_UNHANDLED_ERROR", _Unrepresentable(payload))
        err.context = payload  # type: ignore[attr-defined]
        raise err

    # -- inspecting --------------------------------------------------------

    def listeners(self, event: Hashable) -> list[Listener]:
        """Node's ``emitter.listeners``: a copy, ``once`` wrappers unwrapped."""
        return [_unwrap(listener) for listener in _as_tuple(self._events.get(event, ()))]

    def raw_listeners(self, event: Hashable) -> list[Listener]:
        """Node's ``emitter.rawListeners``: a copy, ``once`` wrappers included
        (calling one fires and removes it; its ``.listener`` is the original)."""
        return list(_as_tuple(self._events.get(event, ())))

    def listener_count(self, event: Hashable, listener: Listener | None = None) -> int:
        """Node's ``emitter.listenerCount(event[, listener])``: how many
        listeners ``event`` has, or how many of them are ``listener``."""
        listeners = _as_tuple(self._events.get(event, ()))
        if listener is None:
            return len(listeners)
        return sum(1 for found in listeners if found == listener or _unwrap(found) == listener)

    def event_names(self) -> list[Hashable]:
        """Node's ``emitter.eventNames``: the events that have listeners, in
        the order each got its first one (an event emptied and refilled moves
        to the end, as in Node)."""
        return list(self._events)

    def set_max_listeners(self: _E, n: float) -> _E:
        """Node's ``emitter.setMaxListeners``: warn past ``n`` listeners for
        one event (0 or ``math.inf``: never).  Returns the emitter."""
        _check_max_listeners(n, "n")
        self._max_listeners = n
        return self

    def get_max_listeners(self) -> float:
        """Node's ``emitter.getMaxListeners``: this emitter's limit, else
        ``EventEmitter.default_max_listeners``."""
        if self._max_listeners is None:
            return _default_max_listeners
        return self._max_listeners
