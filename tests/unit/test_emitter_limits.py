"""gnet.emitter.EventEmitter against Node's test/parallel/test-event-emitter-*.js:
maxListeners and the leak warning, invalid listeners, and the 'error' event.

Each section names the Node file its tests port.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Iterator
from typing import Any

import pytest

from gnet.emitter import EventEmitter, MaxListenersExceededWarning
from gnet.errors import Error
from support import Collector, noop

LEAK_MESSAGE = (
    "Possible EventEmitter memory leak detected. {count} {event} listeners added to "
    "[{cls}]. MaxListeners is {limit}. Use emitter.setMaxListeners() to increase limit"
)


@pytest.fixture
def leak_warnings() -> Iterator[list[warnings.WarningMessage]]:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        yield caught


def leaks(caught: list[warnings.WarningMessage]) -> list[MaxListenersExceededWarning]:
    return [w.message for w in caught if isinstance(w.message, MaxListenersExceededWarning)]


# ----------------------------------------------------------------------
# test-event-emitter-check-listener-leaks.js


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


# ----------------------------------------------------------------------
# test-event-emitter-errors.js


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
    rec = Collector()
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


# ----------------------------------------------------------------------
# test-event-emitter-get-max-listeners.js


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


# ----------------------------------------------------------------------
# test-event-emitter-invalid-listener.js


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


# ----------------------------------------------------------------------
# test-event-emitter-max-listeners.js


def test_max_listeners__event_named_max_listeners() -> None:
    # test-event-emitter-max-listeners.js
    ee = EventEmitter()
    rec = Collector()
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


# ----------------------------------------------------------------------
# test-event-emitter-no-error-provided-to-error-event.js


def test_no_error_provided_to_error_event__raises_error() -> None:
    # test-event-emitter-no-error-provided-to-error-event.js
    with pytest.raises(Error) as info:
        EventEmitter().emit("error")
    assert isinstance(info.value, Exception)
    assert info.value.code == "ERR_UNHANDLED_ERROR"
    assert str(info.value).startswith("Unhandled error.")
    assert info.value.context is None


# ----------------------------------------------------------------------
# test-event-emitter-set-max-listeners-side-effects.js


def test_set_max_listeners_side_effects__no_event() -> None:
    # test-event-emitter-set-max-listeners-side-effects.js
    ee = EventEmitter()
    assert ee.event_names() == []
    ee.set_max_listeners(5)
    assert ee.event_names() == []
