"""gnet.emitter.EventEmitter against Node's test/parallel/test-event-emitter-*.js.

Each test names the Node file it ports; the last sections cover what is
gnet's own (decorator form, subclass hooks, camelCase aliases).
"""

from __future__ import annotations

import gc
import math
import warnings
import weakref
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from gnet._aliases import snake_case
from gnet.emitter import EventEmitter, MaxListenersExceededWarning
from gnet.errors import Error

LEAK_MESSAGE = (
    "Possible EventEmitter memory leak detected. {count} {event} listeners added to "
    "[{cls}]. MaxListeners is {limit}. Use emitter.setMaxListeners() to increase limit"
)


def noop(*args: Any) -> None:
    pass


def fail(*args: Any) -> None:
    raise AssertionError("should not be called")


class Recorder:
    """A listener that remembers each call's arguments."""

    def __init__(self) -> None:
        self.calls: list[tuple[Any, ...]] = []

    def __call__(self, *args: Any) -> None:
        self.calls.append(args)


@pytest.fixture
def default_max_listeners() -> Iterator[None]:
    saved = EventEmitter.default_max_listeners
    yield
    EventEmitter.default_max_listeners = saved


@pytest.fixture
def leak_warnings() -> Iterator[list[warnings.WarningMessage]]:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        yield caught


def leaks(caught: list[warnings.WarningMessage]) -> list[MaxListenersExceededWarning]:
    return [w.message for w in caught if isinstance(w.message, MaxListenersExceededWarning)]


# --- test-event-emitter-add-listeners.js ------------------------------------


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
    hello = Recorder()
    ee.on("hello", hello)
    ee.once("foo", fail)
    assert seen == [("hello", hello, []), ("foo", fail, [])]
    ee.emit("hello", "a", "b")
    assert hello.calls == [("a", "b")]


def test_add_listeners__first_new_listener_not_announced() -> None:
    # test-event-emitter-add-listeners.js
    ee = EventEmitter()
    first = Recorder()
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
    rec = Recorder()
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


# --- test-event-emitter-check-listener-leaks.js -----------------------------


def test_check_listener_leaks__default_warns_past_ten(
    leak_warnings: list[warnings.WarningMessage],
) -> None:
    # test-event-emitter-check-listener-leaks.js
    ee = EventEmitter()
    for _ in range(10):
        ee.on("default", noop)
    assert leaks(leak_warnings) == []
    ee.on("default", noop)
    [warning] = leaks(leak_warnings)
    assert str(warning) == LEAK_MESSAGE.format(
        count=11, event="default", cls="EventEmitter", limit=10
    )


def test_check_listener_leaks__warns_once_per_event(
    leak_warnings: list[warnings.WarningMessage],
) -> None:
    # test-event-emitter-check-listener-leaks.js
    ee = EventEmitter().set_max_listeners(1)
    for _ in range(5):
        ee.on("a", noop)
    for _ in range(5):
        ee.on("b", noop)
    assert [(w.type, w.count) for w in leaks(leak_warnings)] == [("a", 2), ("b", 2)]


def test_check_listener_leaks__specific_limit(
    leak_warnings: list[warnings.WarningMessage],
) -> None:
    # test-event-emitter-check-listener-leaks.js
    ee = EventEmitter().set_max_listeners(5)
    for _ in range(5):
        ee.on("specific", noop)
    assert leaks(leak_warnings) == []
    ee.on("specific", noop)
    assert [w.count for w in leaks(leak_warnings)] == [6]


def test_check_listener_leaks__only_one(leak_warnings: list[warnings.WarningMessage]) -> None:
    # test-event-emitter-check-listener-leaks.js
    ee = EventEmitter().set_max_listeners(1)
    ee.on("only one", noop)
    assert leaks(leak_warnings) == []
    ee.on("only one", noop)
    assert len(leaks(leak_warnings)) == 1


@pytest.mark.parametrize("limit", [0, math.inf])
def test_check_listener_leaks__unlimited(
    leak_warnings: list[warnings.WarningMessage], limit: float
) -> None:
    # test-event-emitter-check-listener-leaks.js
    ee = EventEmitter().set_max_listeners(limit)
    for _ in range(1000):
        ee.on("unlimited", noop)
    assert leaks(leak_warnings) == []


@pytest.mark.usefixtures("default_max_listeners")
def test_check_listener_leaks__process_wide_default(
    leak_warnings: list[warnings.WarningMessage],
) -> None:
    # test-event-emitter-check-listener-leaks.js
    EventEmitter.default_max_listeners = 42
    ee = EventEmitter()
    for _ in range(42):
        ee.on("fortytwo", noop)
    assert leaks(leak_warnings) == []
    ee.on("fortytwo", noop)
    assert [w.count for w in leaks(leak_warnings)] == [43]


@pytest.mark.usefixtures("default_max_listeners")
def test_check_listener_leaks__default_read_at_add_time(
    leak_warnings: list[warnings.WarningMessage],
) -> None:
    # test-event-emitter-check-listener-leaks.js
    ee = EventEmitter()
    EventEmitter.default_max_listeners = 2
    for _ in range(3):
        ee.on("x", noop)
    assert [w.count for w in leaks(leak_warnings)] == [3]


@pytest.mark.usefixtures("default_max_listeners")
def test_check_listener_leaks__own_limit_beats_default(
    leak_warnings: list[warnings.WarningMessage],
) -> None:
    # test-event-emitter-check-listener-leaks.js
    EventEmitter.default_max_listeners = 42
    ee = EventEmitter().set_max_listeners(1)
    ee.on("uno", noop)
    ee.on("uno", noop)
    assert [w.count for w in leaks(leak_warnings)] == [2]


def test_check_listener_leaks__warns_again_after_back_to_one(
    leak_warnings: list[warnings.WarningMessage],
) -> None:
    # test-event-emitter-check-listener-leaks.js (Node keeps its `warned`
    # flag on the listener array, which is dropped at one listener; checked
    # against node v20)
    ee = EventEmitter().set_max_listeners(1)
    ee.on("z", noop).on("z", noop).off("z", noop).on("z", noop)
    ee.off("z", noop).off("z", noop).on("z", noop).on("z", noop)
    assert len(leaks(leak_warnings)) == 3


def test_check_listener_leaks__warning_fields(
    leak_warnings: list[warnings.WarningMessage],
) -> None:
    # test-event-emitter-check-listener-leaks.js
    class Foo(EventEmitter):
        pass

    ee = Foo().set_max_listeners(1)
    ee.on("bar", noop).on("bar", noop)
    [warning] = leaks(leak_warnings)
    assert isinstance(warning, RuntimeWarning)
    assert (warning.emitter, warning.type, warning.count) == (ee, "bar", 2)
    assert str(warning) == LEAK_MESSAGE.format(count=2, event="bar", cls="Foo", limit=1)


def test_check_listener_leaks__points_at_caller(
    leak_warnings: list[warnings.WarningMessage],
) -> None:
    # test-event-emitter-check-listener-leaks.js
    ee = EventEmitter().set_max_listeners(1)
    ee.on("a", noop)
    ee.on("a", noop)
    ee.once("b", noop)
    ee.once("b", noop)
    ee.on("c")(noop)
    ee.on("c")(noop)
    assert [w.filename for w in leak_warnings] == [__file__] * 3


# --- test-event-emitter-errors.js -------------------------------------------


def test_errors__string_payload() -> None:
    # test-event-emitter-errors.js
    with pytest.raises(Error) as info:
        EventEmitter().emit("error", "Accepts a string")
    assert info.value.code == "ERR_UNHANDLED_ERROR"
    assert str(info.value) == "Unhandled error. ('Accepts a string')"
    assert info.value.context == "Accepts a string"


def test_errors__object_payload() -> None:
    # test-event-emitter-errors.js
    with pytest.raises(Error, match=r"^Unhandled error\. \(\{'message': 'Error!'\}\)$") as info:
        EventEmitter().emit("error", {"message": "Error!"})
    assert info.value.code == "ERR_UNHANDLED_ERROR"


def test_errors__payload_whose_repr_raises() -> None:
    # test-event-emitter-errors.js
    class Opaque:
        def __repr__(self) -> str:
            raise RuntimeError("no repr")

    payload = Opaque()
    with pytest.raises(Error) as info:
        EventEmitter().emit("error", payload)
    assert info.value.code == "ERR_UNHANDLED_ERROR"
    assert str(info.value) == f"Unhandled error. ({object.__repr__(payload)})"
    assert info.value.context is payload


def test_errors__exception_raised_as_is() -> None:
    # test-event-emitter-errors.js
    err = ConnectionResetError("boom")
    with pytest.raises(ConnectionResetError) as info:
        EventEmitter().emit("error", err)
    assert info.value is err


def test_errors__error_listener_handles_it() -> None:
    # test-event-emitter-errors.js
    ee = EventEmitter()
    rec = Recorder()
    ee.on("error", rec)
    err = ValueError("x")
    assert ee.emit("error", err) is True
    assert rec.calls == [(err,)]


def test_errors__once_error_listener_then_raises() -> None:
    # test-event-emitter-errors.js
    ee = EventEmitter()
    ee.once("error", noop)
    ee.emit("error", ValueError("first"))
    with pytest.raises(ValueError, match="second"):
        ee.emit("error", ValueError("second"))


# --- test-event-emitter-get-max-listeners.js --------------------------------


def test_get_max_listeners__default() -> None:
    # test-event-emitter-get-max-listeners.js
    assert EventEmitter.default_max_listeners == 10
    assert EventEmitter().get_max_listeners() == EventEmitter.default_max_listeners


def test_get_max_listeners__after_set() -> None:
    # test-event-emitter-get-max-listeners.js
    ee = EventEmitter()
    ee.set_max_listeners(0)
    assert ee.get_max_listeners() == 0
    ee.set_max_listeners(3)
    assert ee.get_max_listeners() == 3


@pytest.mark.usefixtures("default_max_listeners")
def test_get_max_listeners__follows_default() -> None:
    # test-event-emitter-get-max-listeners.js
    ee = EventEmitter()
    EventEmitter.default_max_listeners = 7
    assert ee.get_max_listeners() == 7


# --- test-event-emitter-invalid-listener.js ---------------------------------


@pytest.mark.parametrize(
    "method",
    [
        "on",
        "add_listener",
        "once",
        "prepend_listener",
        "prepend_once_listener",
        "remove_listener",
        "off",
    ],
)
@pytest.mark.parametrize("value", [None, 5, "f"])
def test_invalid_listener__rejected(method: str, value: Any) -> None:
    # test-event-emitter-invalid-listener.js
    ee = EventEmitter()
    with pytest.raises(TypeError) as info:
        getattr(ee, method)("foo", value)
    assert info.value.code == "ERR_INVALID_ARG_TYPE"
    assert str(info.value).startswith('The "listener" argument must be of type function. Received ')
    assert ee.event_names() == []


def test_invalid_listener__message() -> None:
    # test-event-emitter-invalid-listener.js
    with pytest.raises(TypeError) as info:
        EventEmitter().on("foo", None)
    assert str(info.value) == 'The "listener" argument must be of type function. Received None'


# --- test-event-emitter-listener-count.js -----------------------------------


def test_listener_count__counts() -> None:
    # test-event-emitter-listener-count.js
    ee = EventEmitter()
    ee.on("foo", noop)
    ee.on("foo", fail)
    ee.on("baz", noop)
    ee.on(123, noop)
    assert ee.listener_count("foo") == 2
    assert ee.listener_count("bar") == 0
    assert ee.listener_count("baz") == 1
    assert ee.listener_count(123) == 1


def test_listener_count__of_one_listener() -> None:
    # test-event-emitter-listener-count.js
    ee = EventEmitter()
    ee.on("foo", noop).on("foo", fail).once("foo", noop)
    assert ee.listener_count("foo", noop) == 2
    assert ee.listener_count("foo", fail) == 1
    assert ee.listener_count("foo", Recorder()) == 0
    assert ee.listener_count("bar", noop) == 0


# --- test-event-emitter-listeners.js ----------------------------------------


def test_listeners__copy_unchanged_by_removal() -> None:
    # test-event-emitter-listeners.js
    ee = EventEmitter()
    ee.on("foo", noop)
    copy = ee.listeners("foo")
    assert copy == [noop]
    ee.remove_all_listeners("foo")
    assert ee.listeners("foo") == []
    assert copy == [noop]


def test_listeners__mutating_copy_does_not_change_emitter() -> None:
    # test-event-emitter-listeners.js
    ee = EventEmitter()
    ee.on("foo", noop)
    copy = ee.listeners("foo")
    copy.append(fail)
    assert ee.listeners("foo") == [noop]
    assert copy == [noop, fail]


def test_listeners__copy_unchanged_by_adding() -> None:
    # test-event-emitter-listeners.js
    ee = EventEmitter()
    ee.on("foo", noop)
    copy = ee.listeners("foo")
    ee.on("foo", fail)
    assert ee.listeners("foo") == [noop, fail]
    assert copy == [noop]


def test_listeners__once_unwrapped() -> None:
    # test-event-emitter-listeners.js
    ee = EventEmitter()
    ee.once("foo", noop)
    assert ee.listeners("foo") == [noop]
    ee.on("foo", fail).once("foo", noop)
    assert ee.listeners("foo") == [noop, fail, noop]


def test_listeners__subclass_starts_empty() -> None:
    # test-event-emitter-listeners.js
    class TestStream(EventEmitter):
        pass

    assert TestStream().listeners("foo") == []


def test_listeners__raw_listeners() -> None:
    # test-event-emitter-listeners.js
    ee = EventEmitter()
    ee.on("foo", noop)
    raw = ee.raw_listeners("foo")
    assert raw == [noop]
    assert raw is not ee.raw_listeners("foo")
    ee.once("foo", noop)
    raw = ee.raw_listeners("foo")
    assert len(raw) == 2
    assert raw[0] is noop
    assert raw[1] is not noop
    assert raw[1].listener is noop
    ee.emit("foo")
    assert len(raw) == 2
    assert ee.raw_listeners("foo") == [noop]


def test_listeners__raw_once_wrapper_fires_once() -> None:
    # test-event-emitter-listeners.js
    ee = EventEmitter()
    rec = Recorder()
    ee.once("foo", rec)
    [wrapper] = ee.raw_listeners("foo")
    wrapper(1)
    wrapper(2)
    assert rec.calls == [(1,)]
    assert ee.listener_count("foo") == 0


# --- test-event-emitter-listeners-side-effects.js ---------------------------


def test_listeners_side_effects__none() -> None:
    # test-event-emitter-listeners-side-effects.js
    ee = EventEmitter()
    assert ee.listeners("foo") == []
    assert ee.raw_listeners("bar") == []
    assert ee.listener_count("baz") == 0
    ee.emit("qux")
    assert ee.event_names() == []


def test_listeners_side_effects__returns_lists() -> None:
    # test-event-emitter-listeners-side-effects.js
    ee = EventEmitter()
    ee.on("foo", fail)
    assert ee.listeners("foo") == [fail]
    ee.on("foo", noop)
    listeners = ee.listeners("foo")
    assert isinstance(listeners, list)
    assert listeners == [fail, noop]
    assert ee.event_names() == ["foo"]


# --- test-event-emitter-max-listeners.js ------------------------------------


def test_max_listeners__event_named_max_listeners() -> None:
    # test-event-emitter-max-listeners.js
    ee = EventEmitter()
    rec = Recorder()
    ee.on("maxListeners", rec)
    ee.set_max_listeners(42)
    ee.emit("maxListeners")
    assert rec.calls == [()]


@pytest.mark.parametrize("value", [math.nan, -1, -math.inf])
def test_max_listeners__out_of_range(value: float) -> None:
    # test-event-emitter-max-listeners.js
    ee = EventEmitter()
    with pytest.raises(ValueError) as info:
        ee.set_max_listeners(value)
    assert info.value.code == "ERR_OUT_OF_RANGE"
    assert ee.get_max_listeners() == 10


@pytest.mark.parametrize("value", ["and even this", None, True])
def test_max_listeners__not_a_number(value: Any) -> None:
    # test-event-emitter-max-listeners.js
    with pytest.raises(TypeError) as info:
        EventEmitter().set_max_listeners(value)
    assert info.value.code == "ERR_INVALID_ARG_TYPE"


@pytest.mark.usefixtures("default_max_listeners")
@pytest.mark.parametrize(("value", "error"), [(-1, ValueError), ("x", TypeError)])
def test_max_listeners__default_validated(value: Any, error: type[Exception]) -> None:
    # test-event-emitter-max-listeners.js
    with pytest.raises(error):
        EventEmitter.default_max_listeners = value
    assert EventEmitter.default_max_listeners == 10


# --- test-event-emitter-method-names.js -------------------------------------


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


# --- test-event-emitter-modify-in-emit.js -----------------------------------


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
    late = Recorder()
    ee.on("foo", lambda: ee.on("foo", late))
    ee.emit("foo")
    assert late.calls == []
    ee.emit("foo")
    assert late.calls == [()]


# --- test-event-emitter-no-error-provided-to-error-event.js -----------------


def test_no_error_provided_to_error_event__raises_error() -> None:
    # test-event-emitter-no-error-provided-to-error-event.js
    with pytest.raises(Error) as info:
        EventEmitter().emit("error")
    assert isinstance(info.value, Exception)
    assert info.value.code == "ERR_UNHANDLED_ERROR"
    assert str(info.value).startswith("Unhandled error.")
    assert info.value.context is None


# --- test-event-emitter-num-args.js -----------------------------------------


@pytest.mark.parametrize("number", range(6))
@pytest.mark.parametrize("listeners", [1, 3])
def test_num_args__listeners_get_every_argument(number: int, listeners: int) -> None:
    # test-event-emitter-num-args.js
    ee = EventEmitter()
    recs = [Recorder() for _ in range(listeners)]
    for rec in recs:
        ee.on("numArgs", rec)
    args = tuple(range(number))
    assert ee.emit("numArgs", *args) is True
    assert [rec.calls for rec in recs] == [[args]] * listeners


def test_num_args__emit_without_listeners_returns_false() -> None:
    # test-event-emitter-num-args.js
    assert EventEmitter().emit("numArgs", 1, 2) is False


# --- test-event-emitter-once.js ---------------------------------------------


def test_once__called_once() -> None:
    # test-event-emitter-once.js
    ee = EventEmitter()
    rec = Recorder()
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
    ee.once("foo", fail)
    ee.remove_listener("foo", fail)
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
    rec = Recorder()
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


# --- test-event-emitter-prepend.js ------------------------------------------


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
    rec = Recorder()
    ee.on("newListener", rec)
    ee.prepend_listener("foo", noop)
    ee.prepend_once_listener("foo", fail)
    assert rec.calls == [("foo", noop), ("foo", fail)]


# --- test-event-emitter-remove-all-listeners.js -----------------------------


def test_remove_all_listeners__one_event() -> None:
    # test-event-emitter-remove-all-listeners.js
    ee = EventEmitter()
    ee.on("foo", noop).on("bar", noop).on("baz", noop).on("baz", noop)
    foo, bar, baz = ee.listeners("foo"), ee.listeners("bar"), ee.listeners("baz")
    rec = Recorder()
    ee.on("removeListener", rec)
    ee.remove_all_listeners("bar")
    ee.remove_all_listeners("baz")
    assert sorted(name for name, _ in rec.calls) == ["bar", "baz", "baz"]
    assert ee.listeners("foo") == [noop]
    assert ee.listeners("bar") == []
    assert ee.listeners("baz") == []
    assert (foo, bar, baz) == ([noop], [noop], [noop, noop])


def test_remove_all_listeners__all_lifo_remove_listener_last() -> None:
    # test-event-emitter-remove-all-listeners.js
    ee = EventEmitter()
    ee.on("foo", noop).on("bar", noop)
    first, second = Recorder(), Recorder()
    ee.on("removeListener", first).on("removeListener", second)
    ee.remove_all_listeners()
    assert [name for name, _ in first.calls] == ["foo", "bar", "removeListener"]
    assert [name for name, _ in second.calls] == ["foo", "bar"]
    assert first.calls[2] == ("removeListener", second)
    assert ee.listeners("foo") == [] and ee.listeners("bar") == []
    assert ee.event_names() == []


def test_remove_all_listeners__missing_event_with_remove_listener() -> None:
    # test-event-emitter-remove-all-listeners.js
    ee = EventEmitter()
    ee.on("removeListener", fail)
    ee.remove_all_listeners("foo")
    assert ee.event_names() == ["removeListener"]


def test_remove_all_listeners__one_at_a_time() -> None:
    # test-event-emitter-remove-all-listeners.js
    ee = EventEmitter()
    counts: list[int] = []
    ee.on("removeListener", lambda name, listener: counts.append(ee.listener_count("baz")))
    for _ in range(3):
        ee.on("baz", lambda: None)
    ee.remove_all_listeners("baz")
    assert counts == [2, 1, 0]
    assert ee.listener_count("baz") == 0


def test_remove_all_listeners__lifo_with_originals() -> None:
    # test-event-emitter-remove-all-listeners.js
    def a() -> None:
        pass

    def b() -> None:
        pass

    ee = EventEmitter()
    ee.once("y", a).on("y", b)
    rec = Recorder()
    ee.on("removeListener", rec)
    ee.remove_all_listeners("y")
    assert rec.calls == [("y", b), ("y", a)]


def test_remove_all_listeners__without_remove_listener_listeners() -> None:
    # test-event-emitter-remove-all-listeners.js
    ee = EventEmitter()
    ee.on("foo", noop).once("bar", noop)
    ee.remove_all_listeners("foo")
    assert ee.event_names() == ["bar"]
    ee.remove_all_listeners()
    assert ee.event_names() == []
    assert ee.emit("bar") is False


def test_remove_all_listeners__returns_emitter() -> None:
    # test-event-emitter-remove-all-listeners.js
    ee = EventEmitter()
    assert ee.remove_all_listeners() is ee
    assert ee.remove_all_listeners("nothing") is ee


# --- test-event-emitter-remove-listeners.js ---------------------------------


def test_remove_listeners__emits_remove_listener() -> None:
    # test-event-emitter-remove-listeners.js
    ee = EventEmitter()
    ee.on("hello", noop)
    rec = Recorder()
    ee.on("removeListener", rec)
    ee.remove_listener("hello", noop)
    assert rec.calls == [("hello", noop)]
    assert ee.listeners("hello") == []


def test_remove_listeners__unknown_listener_ignored() -> None:
    # test-event-emitter-remove-listeners.js
    ee = EventEmitter()
    ee.on("hello", noop)
    ee.on("removeListener", fail)
    ee.remove_listener("hello", Recorder())
    ee.remove_listener("nothing", noop)
    assert ee.listeners("hello") == [noop]


def test_remove_listeners__after_removal() -> None:
    # test-event-emitter-remove-listeners.js
    ee = EventEmitter()
    ee.on("hello", noop).on("hello", fail)
    seen: list[tuple[str, Any, list[Any]]] = []
    ee.on("removeListener", lambda name, cb: seen.append((name, cb, ee.listeners("hello"))))
    ee.remove_listener("hello", noop)
    ee.remove_listener("hello", fail)
    assert seen == [("hello", noop, [fail]), ("hello", fail, [])]


def test_remove_listeners__nested_from_remove_listener() -> None:
    # test-event-emitter-remove-listeners.js
    def remove1() -> None:
        raise AssertionError("remove1 should not have been called")

    def remove2() -> None:
        raise AssertionError("remove2 should not have been called")

    ee = EventEmitter()
    calls: list[Any] = []

    def on_remove(name: str, cb: Any) -> None:
        calls.append(cb)
        if cb is remove1:
            ee.remove_listener("quux", remove2)
            ee.emit("quux")

    ee.on("removeListener", on_remove)
    ee.on("quux", remove1).on("quux", remove2)
    ee.remove_listener("quux", remove1)
    assert calls == [remove1, remove2]


def test_remove_listeners__removed_during_emit_still_called() -> None:
    # test-event-emitter-remove-listeners.js
    ee = EventEmitter()
    listener4 = Recorder()
    listener3 = Recorder()
    ee.on("hello", listener3)
    ee.on("hello", lambda: ee.remove_listener("hello", listener4))
    ee.on("hello", listener4)
    ee.emit("hello")
    assert listener4.calls == [()]
    ee.emit("hello")
    assert listener3.calls == [(), ()]
    assert listener4.calls == [()]


def test_remove_listeners__once_firing_reports_original() -> None:
    # test-event-emitter-remove-listeners.js
    ee = EventEmitter()
    ee.once("hello", noop)
    rec = Recorder()
    ee.on("removeListener", rec)
    ee.emit("hello")
    assert rec.calls == [("hello", noop)]


def test_remove_listeners__once_among_others_reports_original() -> None:
    # test-event-emitter-remove-listeners.js (Node passes its wrapper here;
    # gnet always reports the function that was registered)
    ee = EventEmitter()
    ee.once("x", noop).on("x", fail)
    rec = Recorder()
    ee.on("removeListener", rec)
    ee.remove_listener("x", noop)
    assert rec.calls == [("x", noop)]


def test_remove_listeners__most_recent_instance() -> None:
    # test-event-emitter-remove-listeners.js
    ee = EventEmitter()
    ee.on("x", noop).on("x", fail).on("x", noop)
    ee.remove_listener("x", noop)
    assert ee.listeners("x") == [noop, fail]


def test_remove_listeners__most_recent_once_instance() -> None:
    # test-event-emitter-remove-listeners.js
    ee = EventEmitter()
    ee.on("x", noop).once("x", noop)
    ee.remove_listener("x", noop)
    assert ee.raw_listeners("x") == [noop]


def test_remove_listeners__last_remove_listener_not_notified() -> None:
    # test-event-emitter-remove-listeners.js (checked against node v20)
    ee = EventEmitter()
    rec = Recorder()
    ee.on("removeListener", rec).on("foo", noop)
    ee.remove_listener("removeListener", rec)
    assert rec.calls == []
    other = Recorder()
    ee.on("removeListener", rec).on("removeListener", other)
    ee.remove_listener("removeListener", rec)
    assert other.calls == [("removeListener", rec)]


def test_remove_listeners__bound_methods_compare_equal() -> None:
    # test-event-emitter-remove-listeners.js (Python: obj.method is a new
    # object on each access, so listeners are matched with ==)
    class Handler:
        def __init__(self) -> None:
            self.calls = 0

        def on_data(self) -> None:
            self.calls += 1

    ee = EventEmitter()
    handler = Handler()
    ee.on("data", handler.on_data)
    assert ee.listener_count("data", handler.on_data) == 1
    ee.remove_listener("data", handler.on_data)
    assert ee.emit("data") is False


def test_remove_listeners__event_names_order_after_readd() -> None:
    # test-event-emitter-remove-listeners.js (checked against node v20)
    ee = EventEmitter()
    ee.on("x", noop).on("y", noop).off("x", noop).on("x", noop)
    assert ee.event_names() == ["y", "x"]


# --- test-event-emitter-set-max-listeners-side-effects.js -------------------


def test_set_max_listeners_side_effects__no_event() -> None:
    # test-event-emitter-set-max-listeners-side-effects.js
    ee = EventEmitter()
    assert ee.event_names() == []
    ee.set_max_listeners(5)
    assert ee.event_names() == []


# --- test-event-emitter-special-event-names.js ------------------------------


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
    rec = Recorder()
    ee.on("__class__", rec)
    ee.emit("__class__", 1)
    assert rec.calls == [(1,)]
    assert type(ee) is EventEmitter


# --- test-event-emitter-subclass.js -----------------------------------------


def test_subclass__listeners_in_init() -> None:
    # test-event-emitter-subclass.js
    class MyEE(EventEmitter):
        def __init__(self, cb: Callable[[], None]) -> None:
            super().__init__()
            self.once(1, cb)
            self.emit(1)
            self.remove_all_listeners()

    rec = Recorder()
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


# --- test-event-emitter-symbols.js ------------------------------------------


def test_symbols__object_event() -> None:
    # test-event-emitter-symbols.js
    foo = object()
    ee = EventEmitter()
    rec = Recorder()
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


# --- decorator form (gnet) --------------------------------------------------


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
    rec = Recorder()
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
    rec = Recorder()
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


# --- subclass hooks (gnet) --------------------------------------------------


class Hooked(EventEmitter):
    __slots__ = ("log",)

    def __init__(self) -> None:
        super().__init__()
        self.log: list[tuple[str, Any, int]] = []

    def _listener_added(self, event: Any) -> None:
        self.log.append(("added", event, self.listener_count(event)))

    def _listener_removed(self, event: Any) -> None:
        self.log.append(("removed", event, self.listener_count(event)))


def test_hooks__added_after_adding() -> None:
    ee = Hooked()
    ee.on("data", noop)
    ee.once("data", noop)
    ee.prepend_listener("end", noop)
    ee.prepend_once_listener("end", noop)
    ee.on("close")(noop)
    assert ee.log == [
        ("added", "data", 1),
        ("added", "data", 2),
        ("added", "end", 1),
        ("added", "end", 2),
        ("added", "close", 1),
    ]


def test_hooks__added_after_new_listener() -> None:
    ee = Hooked()
    ee.on("newListener", lambda event, listener: ee.log.append(("new", event, -1)))
    ee.log.clear()
    ee.on("data", noop)
    assert ee.log == [("new", "data", -1), ("added", "data", 1)]


def test_hooks__removed_after_remove_listener_event() -> None:
    ee = Hooked()
    ee.on("data", noop)
    ee.on("removeListener", lambda event, listener: ee.log.append(("event", event, -1)))
    ee.log.clear()
    ee.remove_listener("data", noop)
    ee.remove_listener("data", noop)
    assert ee.log == [("event", "data", -1), ("removed", "data", 0)]


def test_hooks__removed_when_once_fires() -> None:
    ee = Hooked()
    ee.once("connect", noop)
    ee.log.clear()
    ee.emit("connect")
    assert ee.log == [("removed", "connect", 0)]


def test_hooks__remove_all_listeners() -> None:
    ee = Hooked()
    ee.on("data", noop).on("data", noop).on("end", noop)
    ee.log.clear()
    ee.remove_all_listeners("data")
    assert ee.log == [("removed", "data", 0)]
    ee.on("data", noop)
    ee.log.clear()
    ee.remove_all_listeners()
    assert ee.log == [("removed", "end", 0), ("removed", "data", 0)]


def test_hooks__remove_all_listeners_with_remove_listener() -> None:
    ee = Hooked()
    ee.on("removeListener", noop)
    ee.on("data", noop).on("data", noop)
    ee.log.clear()
    ee.remove_all_listeners()
    assert ee.log == [
        ("removed", "data", 1),
        ("removed", "data", 0),
        ("removed", "removeListener", 0),
    ]


def test_hooks__defaults_do_nothing() -> None:
    ee = EventEmitter()
    assert ee._listener_added("x") is None
    assert ee._listener_removed("x") is None


# --- camelCase aliases (gnet) -----------------------------------------------


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
    rec = Recorder()
    ee.addListener("x", rec).prependOnceListener("x", rec)
    assert ee.listenerCount("x") == 2
    assert ee.eventNames() == ["x"]
    ee.removeAllListeners()
    assert ee.rawListeners("x") == []
