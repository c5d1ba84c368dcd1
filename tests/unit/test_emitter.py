"""gnet.emitter.EventEmitter against Node's test/parallel/test-event-emitter-*.js:
adding listeners and emitting.

Each section names the Node file its tests port; the last sections cover
what is gnet's own (decorator form, camelCase aliases).  Listing and
removing listeners are in test_emitter_remove.py; limits (setMaxListeners,
leak warnings) and the 'error' event in test_emitter_limits.py.
"""

from __future__ import annotations

import gc
import weakref
from collections.abc import Callable
from typing import Any

import pytest

from gnet._aliases import snake_case
from gnet.emitter import EventEmitter
from support import Collector, fail_if_called, noop

# ----------------------------------------------------------------------
# test-event-emitter-add-listeners.js


def test_add_listeners__add_listener_is_on() -> None:
    # test-event-emitter-add-listeners.js
    assert EventEmitter.add_listener is EventEmitter.on
    ee = EventEmitter()
    assert ee.add_listener == ee.on


def test_add_listeners__new_listener_before_adding() -> None:
    # test-event-emitter-add-listeners.js
    ee = EventEmitter()
    seen: list[tuple[str, Any, list[Any]]] = []

    def on_new(event: str, listener: Any) -> None:
        if event != "newListener":
            seen.append((event, listener, ee.listeners(event)))

    ee.on("newListener", on_new)
    hello = Collector()
    ee.on("hello", hello)
    ee.once("foo", fail_if_called)
    assert seen == [("hello", hello, []), ("foo", fail_if_called, [])]
    ee.emit("hello", "a", "b")
    assert hello.calls == [("a", "b")]


def test_add_listeners__first_new_listener_not_announced() -> None:
    # test-event-emitter-add-listeners.js
    ee = EventEmitter()
    first = Collector()
    ee.on("newListener", first)
    assert first.calls == []
    ee.on("newListener", noop)
    assert first.calls == [("newListener", noop)]


def test_add_listeners__added_from_new_listener_goes_first() -> None:
    # test-event-emitter-add-listeners.js
    def listen1() -> None:
        pass

    def listen2() -> None:
        pass

    ee = EventEmitter()
    seen: list[list[Any]] = []

    def on_new(*args: Any) -> None:
        seen.append(ee.listeners("hello"))
        ee.once("newListener", lambda *a: seen.append(ee.listeners("hello")))
        ee.on("hello", listen2)

    ee.once("newListener", on_new)
    ee.on("hello", listen1)
    assert seen == [[], []]
    assert ee.listeners("hello") == [listen2, listen1]


def test_add_listeners__set_max_listeners_zero() -> None:
    # test-event-emitter-add-listeners.js
    EventEmitter().set_max_listeners(0)


def test_add_listeners__methods_return_emitter() -> None:
    # test-event-emitter-add-listeners.js (Node's methods return `this`)
    ee = EventEmitter()
    assert ee.on("a", noop) is ee
    assert ee.add_listener("a", noop) is ee
    assert ee.once("a", noop) is ee
    assert ee.prepend_listener("a", noop) is ee
    assert ee.prepend_once_listener("a", noop) is ee
    assert ee.off("a", noop) is ee
    assert ee.remove_listener("a", noop) is ee
    assert ee.remove_all_listeners("a") is ee
    assert ee.remove_all_listeners() is ee
    assert ee.set_max_listeners(3) is ee


def test_add_listeners__same_function_twice_called_twice() -> None:
    # test-event-emitter-add-listeners.js
    ee = EventEmitter()
    rec = Collector()
    ee.on("x", rec).on("x", rec)
    ee.emit("x", 1)
    assert rec.calls == [(1,), (1,)]
    assert ee.listener_count("x") == 2


def test_add_listeners__registration_order() -> None:
    # test-event-emitter-add-listeners.js
    ee = EventEmitter()
    order: list[int] = []
    for i in range(5):
        ee.on("x", lambda i=i: order.append(i))
    ee.emit("x")
    assert order == [0, 1, 2, 3, 4]


# ----------------------------------------------------------------------
# test-event-emitter-method-names.js


def test_method_names__names_match() -> None:
    # test-event-emitter-method-names.js
    aliases = {"on": "add_listener", "off": "remove_listener"}
    for name, value in vars(EventEmitter).items():
        if name.startswith("_") or not callable(value):
            continue
        canonical = aliases.get(name, snake_case(name))
        assert value.__name__ == canonical, name


def test_method_names__class_name() -> None:
    # test-event-emitter-method-names.js
    assert EventEmitter.__name__ == "EventEmitter"
    assert EventEmitter.on is EventEmitter.add_listener
    assert EventEmitter.off is EventEmitter.remove_listener


# ----------------------------------------------------------------------
# test-event-emitter-modify-in-emit.js


def test_modify_in_emit__add_and_remove_during_emit() -> None:
    # test-event-emitter-modify-in-emit.js
    ee = EventEmitter()
    called: list[str] = []

    def callback1() -> None:
        called.append("callback1")
        ee.on("foo", callback2)
        ee.on("foo", callback3)
        ee.remove_listener("foo", callback1)

    def callback2() -> None:
        called.append("callback2")
        ee.remove_listener("foo", callback2)

    def callback3() -> None:
        called.append("callback3")
        ee.remove_listener("foo", callback3)

    ee.on("foo", callback1)
    assert len(ee.listeners("foo")) == 1
    ee.emit("foo")
    assert len(ee.listeners("foo")) == 2
    assert called == ["callback1"]
    ee.emit("foo")
    assert len(ee.listeners("foo")) == 0
    assert called == ["callback1", "callback2", "callback3"]
    ee.emit("foo")
    assert called == ["callback1", "callback2", "callback3"]

    ee.on("foo", callback1).on("foo", callback2)
    assert len(ee.listeners("foo")) == 2
    ee.remove_all_listeners("foo")
    assert len(ee.listeners("foo")) == 0

    # Removing callbacks while in emit still lets the emit reach all of them.
    called.clear()
    ee.on("foo", callback2).on("foo", callback3)
    ee.emit("foo")
    assert called == ["callback2", "callback3"]
    assert len(ee.listeners("foo")) == 0


def test_modify_in_emit__added_listener_waits_for_next_emit() -> None:
    # test-event-emitter-modify-in-emit.js
    ee = EventEmitter()
    late = Collector()
    ee.on("foo", lambda: ee.on("foo", late))
    ee.emit("foo")
    assert late.calls == []
    ee.emit("foo")
    assert late.calls == [()]


# ----------------------------------------------------------------------
# test-event-emitter-num-args.js


@pytest.mark.parametrize("number", range(6))
@pytest.mark.parametrize("listeners", [1, 3])
def test_num_args__listeners_get_every_argument(number: int, listeners: int) -> None:
    # test-event-emitter-num-args.js
    ee = EventEmitter()
    recs = [Collector() for _ in range(listeners)]
    for rec in recs:
        ee.on("numArgs", rec)
    args = tuple(range(number))
    assert ee.emit("numArgs", *args) is True
    assert [rec.calls for rec in recs] == [[args]] * listeners


def test_num_args__emit_without_listeners_returns_false() -> None:
    # test-event-emitter-num-args.js
    assert EventEmitter().emit("numArgs", 1, 2) is False


# ----------------------------------------------------------------------
# test-event-emitter-once.js


def test_once__called_once() -> None:
    # test-event-emitter-once.js
    ee = EventEmitter()
    rec = Collector()
    ee.once("hello", rec)
    for _ in range(4):
        ee.emit("hello", "a", "b")
    assert rec.calls == [("a", "b")]
    assert ee.event_names() == []


def test_once__unfired_listener_does_not_keep_the_emitter_alive() -> None:
    # gnet-specific: a once() wrapper that never fires (a socket's 'end'
    # when the peer resets) must not make a reference cycle with its emitter.
    ee = EventEmitter()
    ee.once("never", lambda: None)
    ref = weakref.ref(ee)
    gc.disable()
    try:
        del ee
        assert ref() is None
    finally:
        gc.enable()


def test_once__removable_by_original() -> None:
    # test-event-emitter-once.js
    ee = EventEmitter()
    ee.once("foo", fail_if_called)
    ee.remove_listener("foo", fail_if_called)
    assert ee.emit("foo") is False


def test_once__reentrant_emit() -> None:
    # test-event-emitter-once.js
    ee = EventEmitter()
    calls: list[str] = []

    def first() -> None:
        calls.append("first")
        ee.emit("e")

    ee.once("e", first)
    ee.once("e", lambda: calls.append("second"))
    ee.emit("e")
    assert calls == ["first", "second"]
    assert ee.listener_count("e") == 0


@pytest.mark.parametrize("number", range(5))
def test_once__arguments(number: int) -> None:
    # test-event-emitter-once.js
    ee = EventEmitter()
    rec = Collector()
    ee.once("foo", rec)
    ee.emit("foo", *range(number))
    assert rec.calls == [tuple(range(number))]


def test_once__removed_before_call() -> None:
    # test-event-emitter-once.js
    ee = EventEmitter()
    counts: list[int] = []
    ee.once("foo", lambda: counts.append(ee.listener_count("foo")))
    ee.emit("foo")
    assert counts == [0]


def test_once__returns_listener_result() -> None:
    # test-event-emitter-once.js
    ee = EventEmitter()
    ee.once("foo", lambda x: x * 2)
    [wrapper] = ee.raw_listeners("foo")
    assert wrapper(21) == 42


# ----------------------------------------------------------------------
# test-event-emitter-prepend.js


def test_prepend__order() -> None:
    # test-event-emitter-prepend.js
    ee = EventEmitter()
    order: list[str] = []
    ee.on("foo", lambda: order.append("last"))
    ee.prepend_listener("foo", lambda: order.append("second"))
    ee.prepend_once_listener("foo", lambda: order.append("first"))
    ee.emit("foo")
    assert order == ["first", "second", "last"]
    order.clear()
    ee.emit("foo")
    assert order == ["second", "last"]


def test_prepend__new_listener_gets_original() -> None:
    # test-event-emitter-prepend.js
    ee = EventEmitter()
    rec = Collector()
    ee.on("newListener", rec)
    ee.prepend_listener("foo", noop)
    ee.prepend_once_listener("foo", fail_if_called)
    assert rec.calls == [("foo", noop), ("foo", fail_if_called)]


# ----------------------------------------------------------------------
# test-event-emitter-special-event-names.js


def test_special_event_names__names() -> None:
    # test-event-emitter-special-event-names.js
    ee = EventEmitter()
    names = ["__proto__", "__class__", "__dict__", "get", "toString", "_events"]
    for name in names:
        ee.on(name, noop)
    assert ee.event_names() == names
    for name in names:
        assert ee.listeners(name) == [noop]


def test_special_event_names__emit() -> None:
    # test-event-emitter-special-event-names.js
    ee = EventEmitter()
    rec = Collector()
    ee.on("__class__", rec)
    ee.emit("__class__", 1)
    assert rec.calls == [(1,)]
    assert type(ee) is EventEmitter


# ----------------------------------------------------------------------
# test-event-emitter-subclass.js


def test_subclass__listeners_in_init() -> None:
    # test-event-emitter-subclass.js
    class MyEE(EventEmitter):
        def __init__(self, cb: Callable[[], None]) -> None:
            super().__init__()
            self.once(1, cb)
            self.emit(1)
            self.remove_all_listeners()

    rec = Collector()
    myee = MyEE(rec)
    assert rec.calls == [()]
    assert myee.event_names() == []


def test_subclass__error_in_init() -> None:
    # test-event-emitter-subclass.js
    class ErrorEE(EventEmitter):
        def __init__(self) -> None:
            super().__init__()
            self.emit("error", RuntimeError("blerg"))

    with pytest.raises(RuntimeError, match="blerg"):
        ErrorEE()


def test_subclass__instances_do_not_share() -> None:
    # test-event-emitter-subclass.js
    class MyEE2(EventEmitter):
        pass

    ee1, ee2 = MyEE2(), MyEE2()
    ee1.on("x", noop)
    assert ee2.listener_count("x") == 0


def test_subclass__with_slots() -> None:
    # test-event-emitter-subclass.js
    class Slotted(EventEmitter):
        __slots__ = ("extra",)

        def __init__(self) -> None:
            super().__init__()
            self.extra = 1

    ee = Slotted()
    assert not hasattr(ee, "__dict__")
    ee.on("x", noop)
    assert ee.emit("x") is True


def test_subclass__weak_referenceable() -> None:
    # test-event-emitter-subclass.js
    import weakref

    ee = EventEmitter()
    assert weakref.ref(ee)() is ee


@pytest.mark.usefixtures("default_max_listeners")
def test_subclass__default_max_listeners_is_process_wide() -> None:
    # test-event-emitter-subclass.js (Node's static accessor is inherited)
    class Sub(EventEmitter):
        pass

    Sub.default_max_listeners = 3
    assert EventEmitter.default_max_listeners == 3
    assert EventEmitter().get_max_listeners() == 3


# ----------------------------------------------------------------------
# test-event-emitter-symbols.js


def test_symbols__object_event() -> None:
    # test-event-emitter-symbols.js
    foo = object()
    ee = EventEmitter()
    rec = Collector()
    ee.on(foo, rec)
    assert ee.listeners(foo) == [rec]
    ee.emit(foo)
    assert rec.calls == [()]
    ee.remove_all_listeners()
    assert ee.listeners(foo) == []
    ee.on(foo, rec)
    assert ee.listeners(foo) == [rec]
    ee.remove_listener(foo, rec)
    assert ee.listeners(foo) == []


# ----------------------------------------------------------------------
# decorator form (gnet)


def test_decorator__on_returns_function() -> None:
    ee = EventEmitter()
    chunks: list[bytes] = []

    @ee.on("data")
    def on_data(chunk: bytes) -> None:
        chunks.append(chunk)

    assert callable(on_data)
    assert ee.listeners("data") == [on_data]
    ee.emit("data", b"a")
    ee.emit("data", b"b")
    assert chunks == [b"a", b"b"]


def test_decorator__once() -> None:
    ee = EventEmitter()
    rec = Collector()
    assert ee.once("x")(rec) is rec
    ee.emit("x", 1)
    ee.emit("x", 2)
    assert rec.calls == [(1,)]
    ee.once("x")(rec)
    ee.remove_listener("x", rec)
    assert ee.emit("x") is False


def test_decorator__add_listener_and_prepend() -> None:
    ee = EventEmitter()
    order: list[str] = []
    ee.add_listener("x")(lambda: order.append("on"))
    ee.prepend_listener("x")(lambda: order.append("prepend"))
    ee.prepend_once_listener("x")(lambda: order.append("prepend once"))
    ee.emit("x")
    ee.emit("x")
    assert order == ["prepend once", "prepend", "on", "prepend", "on"]


def test_decorator__new_listener_gets_function() -> None:
    ee = EventEmitter()
    rec = Collector()
    ee.on("newListener", rec)
    ee.once("x")(noop)
    assert rec.calls == [("x", noop)]


def test_decorator__rejects_non_callable() -> None:
    ee = EventEmitter()
    register = ee.on("x")
    with pytest.raises(TypeError) as info:
        register(None)
    assert info.value.code == "ERR_INVALID_ARG_TYPE"
    assert ee.event_names() == []


# ----------------------------------------------------------------------
# camelCase aliases (gnet)


@pytest.mark.parametrize(
    ("camel", "snake"),
    [
        ("addListener", "add_listener"),
        ("removeListener", "remove_listener"),
        ("removeAllListeners", "remove_all_listeners"),
        ("listenerCount", "listener_count"),
        ("prependListener", "prepend_listener"),
        ("prependOnceListener", "prepend_once_listener"),
        ("rawListeners", "raw_listeners"),
        ("eventNames", "event_names"),
        ("setMaxListeners", "set_max_listeners"),
        ("getMaxListeners", "get_max_listeners"),
    ],
)
def test_aliases__same_object(camel: str, snake: str) -> None:
    assert getattr(EventEmitter, camel) is getattr(EventEmitter, snake)


@pytest.mark.usefixtures("default_max_listeners")
def test_aliases__default_max_listeners() -> None:
    EventEmitter.defaultMaxListeners = 20
    assert EventEmitter.default_max_listeners == 20
    EventEmitter.default_max_listeners = 30
    assert EventEmitter.defaultMaxListeners == 30


def test_aliases__camel_chain() -> None:
    ee = EventEmitter()
    rec = Collector()
    ee.addListener("x", rec).prependOnceListener("x", rec)
    assert ee.listenerCount("x") == 2
    assert ee.eventNames() == ["x"]
    ee.removeAllListeners()
    assert ee.rawListeners("x") == []
