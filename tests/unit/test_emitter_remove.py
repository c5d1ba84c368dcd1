"""gnet.emitter.EventEmitter against Node's test/parallel/test-event-emitter-*.js:
listing listeners and removing them.

Each section names the Node file its tests port; the last section covers
gnet's own subclass hooks (listener added/removed).
"""

from __future__ import annotations

from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from gnet.emitter import EventEmitter
from support import Collector, fail_if_called, noop

# ----------------------------------------------------------------------
# test-event-emitter-listener-count.js


def test_listener_count__counts() -> None:
    # test-event-emitter-listener-count.js
    ee = EventEmitter()
    ee.on("foo", noop)
    ee.on("foo", fail_if_called)
    ee.on("baz", noop)
    ee.on(123, noop)
    assert ee.listener_count("foo") == 2
    assert ee.listener_count("bar") == 0
    assert ee.listener_count("baz") == 1
    assert ee.listener_count(123) == 1


def test_listener_count__of_one_listener() -> None:
    # test-event-emitter-listener-count.js
    ee = EventEmitter()
    ee.on("foo", noop).on("foo", fail_if_called).once("foo", noop)
    assert ee.listener_count("foo", noop) == 2
    assert ee.listener_count("foo", fail_if_called) == 1
    assert ee.listener_count("foo", Collector()) == 0
    assert ee.listener_count("bar", noop) == 0


# ----------------------------------------------------------------------
# test-event-emitter-listeners.js


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
    copy.append(fail_if_called)
    assert ee.listeners("foo") == [noop]
    assert copy == [noop, fail_if_called]


def test_listeners__copy_unchanged_by_adding() -> None:
    # test-event-emitter-listeners.js
    ee = EventEmitter()
    ee.on("foo", noop)
    copy = ee.listeners("foo")
    ee.on("foo", fail_if_called)
    assert ee.listeners("foo") == [noop, fail_if_called]
    assert copy == [noop]


def test_listeners__once_unwrapped() -> None:
    # test-event-emitter-listeners.js
    ee = EventEmitter()
    ee.once("foo", noop)
    assert ee.listeners("foo") == [noop]
    ee.on("foo", fail_if_called).once("foo", noop)
    assert ee.listeners("foo") == [noop, fail_if_called, noop]


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
    rec = Collector()
    ee.once("foo", rec)
    [wrapper] = ee.raw_listeners("foo")
    wrapper(1)
    wrapper(2)
    assert rec.calls == [(1,)]
    assert ee.listener_count("foo") == 0


# ----------------------------------------------------------------------
# test-event-emitter-listeners-side-effects.js


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
    ee.on("foo", fail_if_called)
    assert ee.listeners("foo") == [fail_if_called]
    ee.on("foo", noop)
    listeners = ee.listeners("foo")
    assert isinstance(listeners, list)
    assert listeners == [fail_if_called, noop]
    assert ee.event_names() == ["foo"]


# ----------------------------------------------------------------------
# test-event-emitter-remove-all-listeners.js


def test_remove_all_listeners__one_event() -> None:
    # test-event-emitter-remove-all-listeners.js
    ee = EventEmitter()
    ee.on("foo", noop).on("bar", noop).on("baz", noop).on("baz", noop)
    foo, bar, baz = ee.listeners("foo"), ee.listeners("bar"), ee.listeners("baz")
    rec = Collector()
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
    first, second = Collector(), Collector()
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
    ee.on("removeListener", fail_if_called)
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
    rec = Collector()
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


# ----------------------------------------------------------------------
# test-event-emitter-remove-listeners.js


def test_remove_listeners__emits_remove_listener() -> None:
    # test-event-emitter-remove-listeners.js
    ee = EventEmitter()
    ee.on("hello", noop)
    rec = Collector()
    ee.on("removeListener", rec)
    ee.remove_listener("hello", noop)
    assert rec.calls == [("hello", noop)]
    assert ee.listeners("hello") == []


def test_remove_listeners__unknown_listener_ignored() -> None:
    # test-event-emitter-remove-listeners.js
    ee = EventEmitter()
    ee.on("hello", noop)
    ee.on("removeListener", fail_if_called)
    ee.remove_listener("hello", Collector())
    ee.remove_listener("nothing", noop)
    assert ee.listeners("hello") == [noop]


def test_remove_listeners__after_removal() -> None:
    # test-event-emitter-remove-listeners.js
    ee = EventEmitter()
    ee.on("hello", noop).on("hello", fail_if_called)
    seen: list[tuple[str, Any, list[Any]]] = []
    ee.on("removeListener", lambda name, cb: seen.append((name, cb, ee.listeners("hello"))))
    ee.remove_listener("hello", noop)
    ee.remove_listener("hello", fail_if_called)
    assert seen == [("hello", noop, [fail_if_called]), ("hello", fail_if_called, [])]


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
    listener4 = Collector()
    listener3 = Collector()
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
    rec = Collector()
    ee.on("removeListener", rec)
    ee.emit("hello")
    assert rec.calls == [("hello", noop)]


def test_remove_listeners__once_among_others_reports_original() -> None:
    # test-event-emitter-remove-listeners.js (Node passes its wrapper here;
    # gnet always reports the function that was registered)
    ee = EventEmitter()
    ee.once("x", noop).on("x", fail_if_called)
    rec = Collector()
    ee.on("removeListener", rec)
    ee.remove_listener("x", noop)
    assert rec.calls == [("x", noop)]


def test_remove_listeners__most_recent_instance() -> None:
    # test-event-emitter-remove-listeners.js
    ee = EventEmitter()
    ee.on("x", noop).on("x", fail_if_called).on("x", noop)
    ee.remove_listener("x", noop)
    assert ee.listeners("x") == [noop, fail_if_called]


def test_remove_listeners__most_recent_once_instance() -> None:
    # test-event-emitter-remove-listeners.js
    ee = EventEmitter()
    ee.on("x", noop).once("x", noop)
    ee.remove_listener("x", noop)
    assert ee.raw_listeners("x") == [noop]


def test_remove_listeners__last_remove_listener_not_notified() -> None:
    # test-event-emitter-remove-listeners.js (checked against node v20)
    ee = EventEmitter()
    rec = Collector()
    ee.on("removeListener", rec).on("foo", noop)
    ee.remove_listener("removeListener", rec)
    assert rec.calls == []
    other = Collector()
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


# ----------------------------------------------------------------------
# subclass hooks (gnet)


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


# ----------------------------------------------------------------------
# gnet's storage: an event's lone listener is kept bare, two or more as a
# tuple.  Whatever the sequence of adds and removes, every reader sees the
# list Node would hold.

_LISTENERS = [lambda *a, i=i: ("called", i) for i in range(3)]


@given(
    st.lists(st.tuples(st.sampled_from(["on", "prepend", "off"]), st.integers(0, 2)), max_size=12)
)
def test_storage__bare_and_tuple_entries_read_as_one_list(ops: list[tuple[str, int]]) -> None:
    ee = EventEmitter()
    model: list[Any] = []
    for op, i in ops:
        listener = _LISTENERS[i]
        if op == "on":
            ee.on("x", listener)
            model.append(listener)
        elif op == "prepend":
            ee.prepend_listener("x", listener)
            model.insert(0, listener)
        else:
            ee.off("x", listener)
            if listener in model:  # Node removes the most recently added instance
                del model[len(model) - 1 - model[::-1].index(listener)]
        assert ee.listeners("x") == model
        assert ee.raw_listeners("x") == model
        assert ee.listener_count("x") == len(model)
        assert ee.listener_count("x", listener) == model.count(listener)
        assert ee.event_names() == (["x"] if model else [])
    called: list[Any] = []
    for listener in model:
        ee.off("x", listener)
    for listener in model:
        ee.on("x", lambda *a, listener=listener: called.append(listener))
    assert ee.emit("x", 1) == bool(model)
    assert called == model
    ee.remove_all_listeners("x")
    assert ee.listeners("x") == [] and not ee.emit("x")
