"""gnet.options: call forms, option dicts, keywords and Node's synchronous errors.

Pure: every case is an argument list and what it parses to (or raises), no
sockets.  The Node behaviour behind each error is pinned in the net tests
(tests/net/) against real sockets; here the parsing rules themselves.
"""

from __future__ import annotations

import math
from typing import Any

import pytest

from gnet import BlockList
from gnet.errors import NodeError
from gnet.options import (
    DEFAULT_ATTEMPT_TIMEOUT,
    DEFAULT_BACKLOG,
    DEFAULT_HIGH_WATER_MARK,
    ConnectOptions,
    node_callback,
    parse_connect_args,
    parse_listen_args,
    parse_server_options,
    parse_socket_options,
)


def _code(exc: pytest.ExceptionInfo[BaseException]) -> str:
    assert isinstance(exc.value, NodeError)
    return exc.value.code


def cb(*args: Any) -> None:
    pass


# -- connect ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "kwargs", "path", "port", "host"),
    [
        ((8124,), {}, None, 8124, "localhost"),
        ((8124, "127.0.0.1"), {}, None, 8124, "127.0.0.1"),
        (("8124",), {}, None, 8124, "localhost"),  # a numeric string is a port (isPipeName)
        (("/tmp/s.sock",), {}, "/tmp/s.sock", None, "localhost"),
        (({"port": 80, "host": "::1"},), {}, None, 80, "::1"),
        ((), {"port": 80, "host": "a"}, None, 80, "a"),
        (({"path": "p", "port": 80},), {}, "p", None, "localhost"),  # path beats port
    ],
)
def test_connect_forms(args: tuple[Any, ...], kwargs: dict[str, Any], path: Any, port: Any, host: str) -> None:
    options, callback = parse_connect_args(args, kwargs)
    assert (options.path, options.port, options.host) == (path, port, host)
    assert callback is None


def test_connect_trailing_callable_is_the_listener() -> None:
    _, callback = parse_connect_args((80, "h", cb), {})
    assert callback is cb
    _, callback = parse_connect_args((80,), {"callback": cb})
    assert callback is cb


def test_connect_options_accept_both_spellings_and_snake_case_wins() -> None:
    options, _ = parse_connect_args(({"port": 1, "allowHalfOpen": True, "noDelay": True},), {})
    assert options.allow_half_open is True and options.no_delay is True
    options, _ = parse_connect_args(({"port": 1, "allowHalfOpen": True, "allow_half_open": False},), {})
    assert options.allow_half_open is False


def test_connect_defaults() -> None:
    options, _ = parse_connect_args((1,), {})
    assert options.auto_select_family is True
    assert options.auto_select_family_attempt_timeout == DEFAULT_ATTEMPT_TIMEOUT
    assert options.high_water_mark == DEFAULT_HIGH_WATER_MARK
    assert options.allow_half_open is None  # not given: the socket keeps its own
    assert options.family == 0 and options.timeout is None


def test_unknown_dict_keys_are_ignored_but_unknown_keywords_raise() -> None:
    options, _ = parse_connect_args(({"port": 1, "timout": 5},), {})
    assert options.timeout is None  # Node ignores an unknown key in an options object
    with pytest.raises(TypeError, match="timout") as exc:
        parse_connect_args((1,), {"timout": 5})
    assert _code(exc) == "ERR_GNET_UNEXPECTED_KEYWORD"


@pytest.mark.parametrize(
    ("options", "code"),
    [
        ({}, "ERR_MISSING_ARGS"),
        ({"port": None}, "ERR_INVALID_ARG_TYPE"),
        ({"port": 70000}, "ERR_SOCKET_BAD_PORT"),
        ({"port": -1}, "ERR_SOCKET_BAD_PORT"),
        ({"port": 1, "host": 5}, "ERR_INVALID_ARG_TYPE"),
        ({"port": 1, "local_address": "nope"}, "ERR_INVALID_IP_ADDRESS"),
        ({"port": 1, "family": 5}, "ERR_INVALID_ARG_VALUE"),
        ({"port": 1, "hints": 1 << 20}, "ERR_INVALID_ARG_VALUE"),
        ({"port": 1, "lookup": 5}, "ERR_INVALID_ARG_TYPE"),
        ({"port": 1, "auto_select_family": "yes"}, "ERR_INVALID_ARG_TYPE"),
        ({"port": 1, "auto_select_family_attempt_timeout": 0}, "ERR_OUT_OF_RANGE"),
        ({"port": 1, "timeout": -1}, "ERR_OUT_OF_RANGE"),
        ({"port": 1, "high_water_mark": math.nan}, "ERR_INVALID_ARG_VALUE"),
        ({"path": 5}, "ERR_INVALID_ARG_TYPE"),
        ({"port": 1, "object_mode": True}, "ERR_INVALID_ARG_VALUE"),
    ],
)
def test_connect_bad_options_raise_node_codes(options: dict[str, Any], code: str) -> None:
    with pytest.raises((TypeError, ValueError)) as exc:
        parse_connect_args((options,), {})
    assert _code(exc) == code


def test_attempt_timeout_has_node_s_floor_of_10_ms() -> None:
    options, _ = parse_connect_args(({"port": 1, "autoSelectFamilyAttemptTimeout": 1},), {})
    assert options.auto_select_family_attempt_timeout == 10.0


def test_connect_options_object_passes_through_and_serialises_for_diagnostics() -> None:
    options = ConnectOptions(port=80, host="h")
    again, _ = parse_connect_args((options,), {})
    assert again is options
    assert options.as_dict()["port"] == 80
    assert "port" not in ConnectOptions(path="p").as_dict()


# -- Socket(), createServer() -------------------------------------------------


def test_socket_options() -> None:
    opts = parse_socket_options({"allowHalfOpen": True, "readable": False, "highWaterMark": 10}, {})
    assert (opts.allow_half_open, opts.readable, opts.writable, opts.high_water_mark) == (True, False, True, 10)
    assert parse_socket_options(7, {}).fd == 7  # Node's legacy new Socket(fd)
    with pytest.raises(ValueError) as exc:
        parse_socket_options({"fd": 2**40}, {})
    assert _code(exc) == "ERR_OUT_OF_RANGE"
    with pytest.raises(TypeError) as exc:
        parse_socket_options(None, {"allow_half_opn": True})
    assert _code(exc) == "ERR_GNET_UNEXPECTED_KEYWORD"


@pytest.mark.parametrize("hwm", ["x", math.nan, math.inf, -1, 1.5])
def test_high_water_mark_is_checked_when_the_server_is_made(hwm: Any) -> None:
    # Node checks it only when the first connection's socket is made (and
    # then throws out of the accept); gnet refuses it at create_server.
    with pytest.raises(TypeError):
        parse_server_options({"highWaterMark": hwm}, {})


def test_server_options() -> None:
    block = BlockList()
    opts = parse_server_options({"pauseOnConnect": True, "keepAliveInitialDelay": math.nan}, {"block_list": block})
    assert opts.pause_on_connect is True
    assert opts.keep_alive_initial_delay == 0.0  # Node coerces NaN to 0
    assert opts.block_list is block
    with pytest.raises(TypeError) as exc:
        parse_server_options({"blockList": "no"}, {})
    assert _code(exc) == "ERR_INVALID_ARG_TYPE"


# -- listen -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "kind", "port", "host", "path", "backlog"),
    [
        ((), "tcp", 0, None, None, DEFAULT_BACKLOG),
        ((8124,), "tcp", 8124, None, None, DEFAULT_BACKLOG),
        ((8124, "127.0.0.1", 10), "tcp", 8124, "127.0.0.1", None, 10),
        ((8124, 10), "tcp", 8124, None, None, 10),
        (("/tmp/x.sock", 5), "unix", 0, None, "/tmp/x.sock", 5),
        (({"port": 1, "path": "/p"},), "tcp", 1, None, None, DEFAULT_BACKLOG),  # port beats path (A5)
        (({"path": "/p", "backlog": 3},), "unix", 0, None, "/p", 3),
    ],
)
def test_listen_forms(args: tuple[Any, ...], kind: str, port: int, host: Any, path: Any, backlog: int) -> None:
    options, _ = parse_listen_args(args, {})
    assert (options.kind, options.port, options.host, options.path, options.backlog) == (kind, port, host, path, backlog)


def test_listen_handle_forms() -> None:
    class Handle:
        def fileno(self) -> int:
            return 3

    handle = Handle()
    options, _ = parse_listen_args((handle, 7), {})
    assert options.kind == "handle" and options.handle is handle and options.backlog == 7
    options, _ = parse_listen_args(({"fd": 3},), {})
    assert options.kind == "handle" and options.fd == 3


@pytest.mark.parametrize(
    "args",
    # Node v20 throws for these (tests/node/hardening.js listen_arguments); an fd
    # of 2**40 or 1.5 is tried and fails later, as an 'error' with EINVAL.
    [({},), ({"path": ""},), ({"fd": -1},), ({"fd": "abc"},), ({"fd": math.nan},), ({"port": [1]},)],
)
def test_listen_bad_options_raise(args: tuple[Any, ...]) -> None:
    with pytest.raises(TypeError) as exc:
        parse_listen_args(args, {})
    assert _code(exc) == "ERR_INVALID_ARG_VALUE"


def test_listen_callback() -> None:
    _, callback = parse_listen_args((0, "127.0.0.1", cb), {})
    assert callback is cb
    with pytest.raises(TypeError):
        parse_listen_args((0,), {"callback": 5})


# -- callbacks --------------------------------------------------------------


def test_node_callback_calls_each_shape_the_way_it_can_be_called() -> None:
    seen: list[Any] = []
    node_callback(lambda: seen.append("none"))(None)
    node_callback(lambda err: seen.append(err))(None)
    node_callback(lambda *a: seen.append(a))(None)
    error = OSError("x")
    node_callback(lambda err: seen.append(err))(error)
    assert seen == ["none", None, (), error]
