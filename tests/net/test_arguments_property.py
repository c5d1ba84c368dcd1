"""Property: any argument to the public calls gets Node's kind of answer (issue 12).

Hypothesis drives the argument-taking calls (``connect``, ``open_connection``,
``create_server``, ``listen``, ``Socket()``, ``write``, ``end``,
``set_timeout``, ``set_keep_alive``, ``set_no_delay``, ``set_encoding``,
``pipe``, ``max_connections``, ``get_connections``, ``once`` and the blocking
helpers' timeouts) with wrong types and out-of-range values, mixed with good
ones, and checks that each call

- returns, or raises at once an exception that carries a ``code``;
- if the failure comes later, it comes as an ``'error'`` event with a ``code``;
- never hangs (every example is bounded by a ``gevent.Timeout``);
- lets nothing reach gevent's hub as an uncaught exception, and makes gnet
  log no ERROR (a value taken and breaking something later);
- leaks no descriptor, greenlet or ``run()`` reference (the autouse
  ``no_leaks`` fixture, after all the examples).

Only 127.0.0.1, ::1, localhost and names that fail before any lookup are
used: nothing waits for DNS.
"""

from __future__ import annotations

import logging
import math
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import gevent
import gevent.event
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import gnet
from support import TIMEOUT, closed_port

EXAMPLE_TIMEOUT = TIMEOUT  # seconds: any one example, all its events included

SETTINGS = settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


async def _coroutine_function(*args: Any) -> None:
    pass


def _junk() -> st.SearchStrategy[Any]:
    """Wrong types and out-of-range values."""
    return st.one_of(
        st.none(),
        st.booleans(),
        st.integers(min_value=-(2**70), max_value=2**70),
        st.sampled_from([-1, 0, 1, 65535, 65536, 2**31, 2**40, 2**64]),
        st.floats(allow_nan=True, allow_infinity=True),
        st.sampled_from([math.nan, math.inf, -math.inf, 1e300, -0.0, 1.5]),
        st.text(alphabet=st.characters(blacklist_characters="/"), max_size=6),
        st.sampled_from(["", "abc", "1e3", "0x10", " 80 ", "-1", "\0", "utf8", "hex"]),
        st.binary(max_size=6),
        st.lists(st.integers(0, 9), max_size=2),
        st.dictionaries(st.sampled_from(["port", "host", "path"]), st.integers(-1, 9), max_size=2),
        st.just(object()),
        st.just(_coroutine_function),
    )


JUNK = _junk()
# Names that need no DNS: IP literals, localhost (/etc/hosts), names with no
# ASCII form (EINVAL before any lookup).  Not '1.2.3': glibc reads it as 1.2.0.3.
HOSTS = st.sampled_from(
    ["127.0.0.1", "::1", "localhost", "", "xn--a.example", "\u200d.example", "a" * 300, "::"]
)
# Descriptor numbers that cannot be one of this process's: wrapping (and then
# closing) a real descriptor would break the test process itself.
FDS = st.sampled_from([-1, 2**31, 2**40, 1.5, math.nan, math.inf, "abc", True, None, 1_000_000])


def _not_a_string(value: Any) -> bool:
    return not isinstance(value, str)


# A host: a good one, or junk that is no string (glibc reads '1' or '0x10' as an
# IPv4 address, 0.0.0.1, and a connect there waits for the network).
HOST_OR_JUNK = st.one_of(HOSTS, JUNK.filter(_not_a_string))


def _not_a_descriptor(value: Any) -> bool:
    return not (isinstance(value, int) and not isinstance(value, bool) and 0 <= value < 2**31)


# ----------------------------------------------------------------------
# what every example checks


class Watch:
    """What reached the hub, what gnet logged at ERROR."""

    def __init__(self) -> None:
        self.hub_errors: list[Any] = []
        self.logged: list[logging.LogRecord] = []


@pytest.fixture
def watch(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Watch]:
    seen = Watch()
    hub = gevent.get_hub()

    def record(context: Any, kind: Any, value: Any, tb: Any) -> None:
        # What the hub would print: gevent's thread resolver reports every
        # failed lookup here too, as one of the hub's NOT_ERROR types.
        if not (isinstance(kind, type) and issubclass(kind, hub.NOT_ERROR)):
            seen.hub_errors.append((context, kind, value))

    monkeypatch.setattr(hub, "handle_error", record)

    class Recorder(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            seen.logged.append(record)

    handler = Recorder(logging.ERROR)
    logger = logging.getLogger("gnet")
    logger.addHandler(handler)
    monkeypatch.chdir(tmp_path)  # UNIX socket files made from junk paths land here
    try:
        yield seen
    finally:
        logger.removeHandler(handler)


def has_code(err: BaseException) -> bool:
    code = getattr(err, "code", None)
    return isinstance(code, str) and bool(code)


@contextmanager
def example(seen: Watch) -> Iterator[list[Any]]:
    """One example: bounded; at the end the objects it made are closed, and nothing
    reached the hub or was logged as an error."""
    made: list[Any] = []
    seen.hub_errors.clear()
    seen.logged.clear()
    try:
        with gevent.Timeout(EXAMPLE_TIMEOUT, AssertionError("the call hung")):
            yield made
    finally:
        for obj in made:
            if isinstance(obj, gnet.Socket):
                obj.destroy()
            elif isinstance(obj, gnet.Server):
                for conn in list(obj._sockets):
                    conn.destroy()
                if obj.listening:
                    obj.close()
        gevent.sleep(0)  # the 'close' events of what was just destroyed
    assert not seen.hub_errors, seen.hub_errors
    assert not seen.logged, [r.getMessage() for r in seen.logged]


def call(fn: Callable[[], Any]) -> tuple[Any, BaseException | None]:
    """``fn()``'s result, or the exception it raised, which must carry a code
    (a blocking call's own ``TimeoutError`` is re-raised for the caller)."""
    try:
        return fn(), None
    except (gevent.Timeout, AssertionError):
        raise
    except TimeoutError as err:
        if has_code(err):
            return None, err
        raise
    except Exception as err:  # noqa: BLE001 - any exception must have a code
        assert has_code(err), f"{type(err).__name__} without a code: {err!r}"
        return None, err


def settle_socket(sock: gnet.Socket) -> None:
    """Until it has connected or closed; an 'error' on the way must have a code."""
    errors: list[BaseException] = []
    sock.on("error", errors.append)
    done = gevent.event.Event()
    sock.on("connect", lambda: done.set())
    sock.on("close", lambda had_error: done.set())
    if sock.destroyed or not sock.connecting:
        done.set()
    done.wait()
    assert all(has_code(err) for err in errors), errors


def settle_server(server: gnet.Server) -> None:
    """Until it listens or failed to; an 'error' must have a code."""
    errors: list[BaseException] = []
    server.on("error", errors.append)
    done = gevent.event.Event()
    server.on("listening", done.set)
    server.on("error", lambda err: done.set())
    if server.listening:
        done.set()
    done.wait()
    assert all(has_code(err) for err in errors), errors


def maybe(strategy: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """A good value or junk, about half and half."""
    return st.one_of(strategy, JUNK)


PORT = st.just(0).map(lambda _: closed_port())  # a port nothing listens on: refused at once

CONNECT_OPTIONS = st.fixed_dictionaries(
    {},
    optional={
        "port": maybe(PORT),
        "host": HOST_OR_JUNK,
        "path": JUNK,
        "local_address": maybe(st.sampled_from(["127.0.0.1", "::1"])),
        "local_port": maybe(st.integers(0, 65535)),
        "family": maybe(st.sampled_from([0, 4, 6])),
        "timeout": maybe(st.floats(0, 100)),
        "no_delay": JUNK,
        "keep_alive": JUNK,
        "keep_alive_initial_delay": maybe(st.floats(0, 1e6)),
        "allow_half_open": JUNK,
        "high_water_mark": maybe(st.integers(0, 1 << 20)),
        "auto_select_family": maybe(st.booleans()),
        "auto_select_family_attempt_timeout": maybe(st.floats(10, 1000)),
        "hints": JUNK,
        "lookup": JUNK,
    },
)


# ----------------------------------------------------------------------
# the properties


@SETTINGS
@given(
    options=CONNECT_OPTIONS,
    positional=st.tuples(maybe(PORT), HOST_OR_JUNK, JUNK).flatmap(
        lambda args: st.integers(0, 3).map(lambda n: args[:n])
    ),
)
def test_connect(watch: Watch, options: dict[str, Any], positional: tuple[Any, ...]) -> None:
    with example(watch) as made:
        for args in ((options,), tuple(positional)):
            sock, _ = call(lambda args=args: gnet.connect(*args))
            if sock is not None:
                made.append(sock)
                settle_socket(sock)


@SETTINGS
@given(options=CONNECT_OPTIONS, timeout=maybe(st.floats(0.5, 5)))
def test_open_connection(watch: Watch, options: dict[str, Any], timeout: Any) -> None:
    with example(watch) as made:
        try:
            sock, _ = call(lambda: gnet.open_connection(options, timeout=timeout))
        except TimeoutError:
            # Junk may be a real timeout too short for even a refused connect
            # (0, 1e-300): its expiry is open_connection's documented outcome.
            # A good one (0.5 s and up) must not expire: nothing here waits.
            assert isinstance(timeout, (int, float)) and not isinstance(timeout, bool)
            assert 0 <= timeout < 0.5, timeout
            return
        if sock is not None:
            made.append(sock)


SERVER_OPTIONS = st.fixed_dictionaries(
    {},
    optional={
        key: maybe(good)
        for key, good in {
            "allow_half_open": st.booleans(),
            "pause_on_connect": st.booleans(),
            "no_delay": st.booleans(),
            "keep_alive": st.booleans(),
            "keep_alive_initial_delay": st.floats(0, 1e6),
            "high_water_mark": st.integers(0, 1 << 20),
            "block_list": st.none(),
        }.items()
    },
)

LISTEN_OPTIONS = st.fixed_dictionaries(
    {},
    optional={
        "port": maybe(st.just(0)),
        "host": maybe(st.sampled_from(["127.0.0.1", "::1", "localhost"])),
        "path": JUNK,
        "backlog": JUNK,
        "fd": FDS,
        "exclusive": JUNK,
        "ipv6_only": JUNK,
        "reuse_port": JUNK,
        "readable_all": JUNK,
        "writable_all": JUNK,
    },
)


@SETTINGS
@given(
    server_options=maybe(SERVER_OPTIONS),
    listener=maybe(st.just(lambda conn: conn.destroy())),
    listen_options=LISTEN_OPTIONS,
    positional=st.lists(maybe(st.sampled_from([0, "127.0.0.1", "::1", 16])), max_size=3),
)
def test_create_server_and_listen(
    watch: Watch,
    server_options: Any,
    listener: Any,
    listen_options: dict[str, Any],
    positional: list[Any],
) -> None:
    with example(watch) as made:
        server, _ = call(lambda: gnet.create_server(server_options, listener))
        if server is None:
            server = gnet.create_server()
        made.append(server)
        for args in ((listen_options,), tuple(positional)):
            if server.listening:
                server.close()
            listened, _ = call(lambda args=args: server.listen(*args))
            if listened is not None:
                settle_server(server)
                if server.listening:  # a connection must still be served
                    address = server.address()
                    if isinstance(address, str):
                        # As a dict: connect(' ') reads a blank string as a port, as Node does.
                        client = gnet.connect({"path": address})
                    else:
                        host = address["address"]  # type: ignore[index]
                        client = gnet.connect(
                            address["port"],  # type: ignore[index]
                            "127.0.0.1" if host in ("0.0.0.0", "::") else host,
                        )
                    made.append(client)
                    settle_socket(client)


@SETTINGS
@given(
    options=st.one_of(
        st.fixed_dictionaries(
            {},
            optional={
                "fd": FDS,
                "allow_half_open": JUNK,
                "readable": JUNK,
                "writable": JUNK,
                "high_water_mark": maybe(st.integers(0, 1 << 20)),
            },
        ),
        JUNK.filter(_not_a_descriptor),  # Socket(n) is Node's legacy Socket({fd: n})
    )
)
def test_socket_constructor(watch: Watch, options: Any) -> None:
    with example(watch) as made:
        sock, _ = call(lambda: gnet.Socket(options))
        if sock is not None:
            made.append(sock)


# -- methods of a connected socket ---------------------------------------


@pytest.fixture
def echo_server() -> Iterator[gnet.Server]:
    server = gnet.create_server(lambda conn: conn.on("error", lambda err: None).pipe(conn))
    server.listen(0, "127.0.0.1")
    yield server
    for conn in list(server._sockets):
        conn.destroy()
    server.close()


# Each method with its arguments (a missing required one is Python's own
# TypeError, not a value to check: each gets at least those it requires).
METHODS: dict[str, Callable[[gnet.Socket, list[Any]], Any]] = {
    "write": lambda s, a: s.write(*a[:3]),
    "end": lambda s, a: s.end(*a[1:3]),
    "set_timeout": lambda s, a: s.set_timeout(*a[:2]),
    "set_keep_alive": lambda s, a: s.set_keep_alive(*a[1:3]),
    "set_no_delay": lambda s, a: s.set_no_delay(*a[2:3]),
    "set_encoding": lambda s, a: s.set_encoding(*a[1:2]),
    "pipe": lambda s, a: s.pipe(a[0]),
    "read": lambda s, a: s.read(*a[1:2]),
    "destroy": lambda s, a: s.destroy(),  # destroy(err) emits what it is given, by design
    "once": lambda s, a: gnet.once(s, "connect", timeout=_short(a[0])),
}


def _short(timeout: Any) -> Any:
    """once() waits for a 'connect' that already happened: a timeout it takes
    must be short (junk it refuses is kept as it is)."""
    if timeout is None or (
        isinstance(timeout, (int, float)) and not isinstance(timeout, bool) and timeout > 0.01
    ):
        return 0.01
    return timeout


@SETTINGS
@given(
    calls=st.lists(
        st.tuples(
            st.sampled_from(sorted(METHODS)),
            st.lists(
                maybe(st.sampled_from([b"ping", "pong", "utf8", 0.05, 100, None])),
                min_size=3,
                max_size=3,
            ),
        ),
        min_size=1,
        max_size=4,
    )
)
def test_socket_methods(
    watch: Watch, echo_server: gnet.Server, calls: list[tuple[str, list[Any]]]
) -> None:
    with example(watch) as made:
        sock = gnet.open_connection(echo_server.address()["port"], "127.0.0.1", timeout=TIMEOUT)  # type: ignore[index]
        made.append(sock)
        errors: list[BaseException] = []
        sock.on("error", errors.append)
        for name, args in calls:
            try:
                call(lambda name=name, args=args: METHODS[name](sock, args))
            except TimeoutError:
                pass  # once()'s own timeout, as documented
        if sock.writable:
            sock.write(b"still there?")
        gevent.sleep(0.01)  # what the calls scheduled runs
        assert all(has_code(err) for err in errors), errors


@SETTINGS
@given(value=JUNK, callback=JUNK)
def test_server_limits_and_counts(
    watch: Watch, echo_server: gnet.Server, value: Any, callback: Any
) -> None:
    with example(watch):
        before = echo_server.max_connections
        _, err = call(lambda: setattr(echo_server, "max_connections", value))
        if err is not None:
            assert echo_server.max_connections == before
        call(lambda: echo_server.get_connections(callback))
        call(lambda: echo_server.pause(value))
        # Whatever was taken, the server still serves (or drops, with 'drop').
        client = gnet.connect(echo_server.address()["port"], "127.0.0.1")  # type: ignore[index]
        client.on("error", lambda err: None)
        settle_socket(client)
        client.destroy()
        echo_server.max_connections = None
        echo_server._resume_accepting()  # undo pause()


@SETTINGS
@given(timeout=JUNK)
def test_server_shutdown_timeout(watch: Watch, timeout: Any) -> None:
    with example(watch) as made:
        server = gnet.create_server()
        made.append(server)
        server.listen(0, "127.0.0.1")
        _, err = call(lambda: server.shutdown(timeout))
        if err is not None:
            server.close()


@SETTINGS
@given(
    timeout=JUNK,
    helper=st.sampled_from(["recv", "recv_exactly", "recv_until", "readline", "sendall"]),
)
def test_blocking_helpers_timeouts(
    watch: Watch, echo_server: gnet.Server, timeout: Any, helper: str
) -> None:
    with example(watch) as made:
        sock = gnet.open_connection(echo_server.address()["port"], "127.0.0.1", timeout=TIMEOUT)  # type: ignore[index]
        made.append(sock)
        sock.sendall(b"ping\n")  # echoed: a helper given a long timeout returns at once
        calls = {
            "recv": lambda: sock.recv(timeout=timeout),
            "recv_exactly": lambda: sock.recv_exactly(4, timeout=timeout),
            "recv_until": lambda: sock.recv_until(b"\n", timeout=timeout),
            "readline": lambda: sock.readline(timeout=timeout),
            "sendall": lambda: sock.sendall(b"x", timeout=timeout),
        }
        try:
            calls[helper]()
        except (gevent.Timeout, AssertionError):
            raise
        except TimeoutError:
            pass  # the helper's own timeout, as documented
        except Exception as err:  # noqa: BLE001
            assert has_code(err), f"{type(err).__name__} without a code: {err!r}"


def test_the_watch_sees_what_reaches_the_hub(watch: Watch) -> None:
    # The property's own check must be able to fail: an exception escaping a
    # raw greenlet reaches the hub's handle_error, and is recorded.
    g = gevent.spawn(lambda: 1 / 0)
    g.join()
    assert len(watch.hub_errors) == 1
    assert os.getcwd()  # (the fixture moved to tmp_path)
