"""gnet.options, issue 12: every argument either parses as Node reads it or
raises at once with Node's ``code`` (pure: no sockets).

Node v20's behaviour for each rule is printed by ``node tests/node/hardening.js
listen_arguments`` (backlog, fd, host) and by the scripts quoted below; the
network tests (tests/net/test_bad_input.py) check the async half.
"""

from __future__ import annotations

import math
from typing import Any

import pytest

from gnet.errors import NodeError
from gnet.options import (
    DEFAULT_BACKLOG,
    keep_alive_delay,
    node_callback,
    parse_connect_args,
    parse_listen_args,
    parse_server_options,
    parse_socket_options,
    validate_callback,
    validate_timeout,
)
from support import raises_code

# ----------------------------------------------------------------------
# listen: backlog


@pytest.mark.parametrize(
    ("args", "backlog"),
    [
        # Node v20 listens for each of these (listen_arguments): a backlog that
        # is not a number > 0 means 511; a huge one is as large as listen() takes.
        ((0, "127.0.0.1", 2**40), 0x7FFFFFFF),
        ((0, "127.0.0.1", "abc"), DEFAULT_BACKLOG),
        ((0, "127.0.0.1", math.nan), DEFAULT_BACKLOG),
        ((0, "127.0.0.1", math.inf), 0x7FFFFFFF),
        ((0, "127.0.0.1", -1), DEFAULT_BACKLOG),
        ((0, "127.0.0.1", 0), DEFAULT_BACKLOG),  # Node: backlog || 511
        ((0, "127.0.0.1", 7.9), 7),
        ((0, "127.0.0.1", "100"), 100),  # Node's Number('100')
        ((0, "127.0.0.1", None), DEFAULT_BACKLOG),
        ((0, 16), 16),
        (("/tmp/x.sock", "abc"), DEFAULT_BACKLOG),
        (({"port": 0, "backlog": "abc"},), DEFAULT_BACKLOG),
        (({"port": 0, "backlog": 2**40},), 0x7FFFFFFF),
        (({"port": 0, "backlog": -5},), DEFAULT_BACKLOG),
    ],
)
def test_listen_backlog_never_raises(args: tuple[Any, ...], backlog: int) -> None:
    # issue 12: 2**40 raised OverflowError, 'abc' in the options ValueError,
    # both without a code.
    options, _ = parse_listen_args(args, {})
    assert options.backlog == backlog


def test_listen_backlog_keyword() -> None:
    options, _ = parse_listen_args((0,), {"backlog": 2**40})
    assert options.backlog == 0x7FFFFFFF


# ----------------------------------------------------------------------
# listen: fd and host


@pytest.mark.parametrize("fd", [2**40, 1.5, math.inf, 3])
def test_listen_fd_number_is_tried(fd: float) -> None:
    # Node v20: {fd: 2**40} and {fd: 1.5} are tried and fail with an async
    # EINVAL (listen_arguments); so they parse here.
    options, _ = parse_listen_args(({"fd": fd},), {})
    assert options.kind == "handle" and options.fd == fd


@pytest.mark.parametrize("fd", [-1, "abc", math.nan, True, [3]])
def test_listen_fd_not_a_number_raises(fd: Any) -> None:
    # Node v20: {fd: -1} and {fd: 'abc'} throw ERR_INVALID_ARG_VALUE.
    raises_code(TypeError, "ERR_INVALID_ARG_VALUE", lambda: parse_listen_args(({"fd": fd},), {}))


@pytest.mark.parametrize("host", [b"127.0.0.1", bytearray(b"::1"), ["127.0.0.1"], {"a": 1}])
def test_listen_host_not_a_string_raises(host: Any) -> None:
    # issue 12: listen(0, b'127.0.0.1') bound every interface (Node ignores a
    # Buffer host and does too); connect(80, b'127.0.0.1') raised.  Both raise.
    err = raises_code(TypeError, "ERR_INVALID_ARG_TYPE", lambda: parse_listen_args((0, host), {}))
    assert '"host"' in str(err)
    raises_code(
        TypeError,
        "ERR_INVALID_ARG_TYPE",
        lambda: parse_listen_args(({"port": 0, "host": host},), {}),
    )
    raises_code(TypeError, "ERR_INVALID_ARG_TYPE", lambda: parse_connect_args((80, host), {}))


def test_listen_empty_host_is_every_interface() -> None:
    options, _ = parse_listen_args((0, ""), {})
    assert options.host is None  # Node: a falsy host is no host


# ----------------------------------------------------------------------
# Python's (host, port) order


@pytest.mark.parametrize("host", ["127.0.0.1", "::1", "localhost", "0.0.0.0"])
def test_listen_swapped_host_and_port_raises_with_a_hint(host: str) -> None:
    # issue 12: listen('127.0.0.1', 8000) made a UNIX socket file named
    # 127.0.0.1 with backlog 8000 (as Node would).
    err = raises_code(
        TypeError, "ERR_INVALID_ARG_VALUE", lambda: parse_listen_args((host, 8000), {})
    )
    assert f"listen(8000, {host!r})" in str(err)


@pytest.mark.parametrize("function", ["connect", "open_connection"])
def test_connect_swapped_host_and_port_raises_with_a_hint(function: str) -> None:
    # issue 12: open_connection('127.0.0.1', 6379) failed with "connect ENOENT
    # 127.0.0.1" (Node: connect(path) to a file named 127.0.0.1).
    err = raises_code(
        TypeError,
        "ERR_INVALID_ARG_VALUE",
        lambda: parse_connect_args(("127.0.0.1", 6379), {}, function),
    )
    assert f"{function}(6379, '127.0.0.1')" in str(err)


@pytest.mark.parametrize(
    "args",
    [("/tmp/x.sock", 5), ("127.0.0.1",), ("127.0.0.1", None), ("sock", 8000), ("127.0.0.1", "x")],
)
def test_paths_that_are_not_swapped_arguments_stay_paths(args: tuple[Any, ...]) -> None:
    options, _ = parse_listen_args(args, {})
    assert options.kind == "unix" and options.path == args[0]
    connect, _ = parse_connect_args(args[:1], {})
    assert connect.path == args[0]


# ----------------------------------------------------------------------
# connect


def test_connect_empty_host_is_localhost() -> None:
    # Node: options.host || 'localhost'
    options, _ = parse_connect_args((80, ""), {})
    assert options.host == "localhost"


@pytest.mark.parametrize("local_port", [70000, -1, 1.5, 1e300, 65536, math.inf])
def test_connect_local_port_any_number_parses(local_port: float) -> None:
    # Node v20: any number is taken; one that is no port fails the connect
    # with an async 'bind EADDRINUSE' (connect_errors), not a throw.
    options, _ = parse_connect_args(({"port": 80, "local_port": local_port},), {})
    assert options.local_port == local_port


def test_connect_local_port_nan_is_no_local_port() -> None:
    # Node: NaN is falsy, so there is no bind at all.
    options, _ = parse_connect_args(({"port": 80, "local_port": math.nan},), {})
    assert options.local_port is None


@pytest.mark.parametrize("local_port", ["abc", True, [1]])
def test_connect_local_port_not_a_number_raises(local_port: Any) -> None:
    # Node v20: localPort 'abc' throws ERR_INVALID_ARG_TYPE.
    raises_code(
        TypeError,
        "ERR_INVALID_ARG_TYPE",
        lambda: parse_connect_args(({"port": 80, "local_port": local_port},), {}),
    )


# ----------------------------------------------------------------------
# Socket(fd), high-water marks, keep-alive delays


@pytest.mark.parametrize(
    ("fd", "exc", "code"),
    [
        # Node v20, new net.Socket({fd}): 1.5 -> ERR_OUT_OF_RANGE (an integer),
        # 2**40 and -1 -> ERR_OUT_OF_RANGE (>= 0 && <= 2147483647).
        (1.5, ValueError, "ERR_OUT_OF_RANGE"),
        (2**40, ValueError, "ERR_OUT_OF_RANGE"),
        (-1, ValueError, "ERR_OUT_OF_RANGE"),
        (math.nan, ValueError, "ERR_OUT_OF_RANGE"),
        ("3", TypeError, "ERR_INVALID_ARG_TYPE"),
    ],
)
def test_socket_fd_checks(fd: Any, exc: type, code: str) -> None:
    raises_code(exc, code, lambda: parse_socket_options({"fd": fd}, {}))


def test_socket_fd_integral_float_is_that_fd() -> None:
    assert parse_socket_options({"fd": 3.0}, {}).fd == 3


@pytest.mark.parametrize("hwm", [math.nan, math.inf, -1, 1.5, "x", True])
def test_high_water_mark_checked_everywhere(hwm: Any) -> None:
    # Node v20: new net.Socket({highWaterMark}) throws ERR_INVALID_ARG_VALUE
    # for each; createServer({highWaterMark: 'x'}) ERR_INVALID_ARG_TYPE.
    for parse in (
        lambda: parse_socket_options({"high_water_mark": hwm}, {}),
        lambda: parse_connect_args(({"port": 80, "high_water_mark": hwm},), {}),
        lambda: parse_server_options({"high_water_mark": hwm}, {}),
    ):
        with pytest.raises(TypeError) as info:
            parse()
        assert isinstance(info.value, NodeError)
        assert info.value.code in ("ERR_INVALID_ARG_VALUE", "ERR_INVALID_ARG_TYPE")


@pytest.mark.parametrize(
    ("value", "ms"),
    [
        # Node's setKeepAlive reads ~~(initialDelay / 1000) and never throws;
        # the createServer/connect options check the type first.
        (1e300, 1e15),
        (math.inf, 1e15),
        (math.nan, 0.0),
        (-5, 0.0),
        (5000, 5000.0),
    ],
)
def test_keep_alive_initial_delay_option(value: float, ms: float) -> None:
    assert (
        parse_server_options({"keep_alive_initial_delay": value}, {}).keep_alive_initial_delay == ms
    )
    options, _ = parse_connect_args(({"port": 80, "keep_alive_initial_delay": value},), {})
    assert options.keep_alive_initial_delay == ms


def test_keep_alive_initial_delay_option_not_a_number_raises() -> None:
    # Node v20: createServer({keepAliveInitialDelay: 'x'}) -> ERR_INVALID_ARG_TYPE.
    raises_code(
        TypeError,
        "ERR_INVALID_ARG_TYPE",
        lambda: parse_server_options({"keep_alive_initial_delay": "x"}, {}),
    )


@pytest.mark.parametrize(
    ("value", "ms"),
    [
        ("x", 0.0),
        ("60000", 60000.0),
        (None, 0.0),
        ([1], 0.0),
        (True, 0.0),
        (math.nan, 0.0),
        (2000, 2000.0),
    ],
)
def test_set_keep_alive_delay_never_raises(value: Any, ms: float) -> None:
    # Node v20: socket.setKeepAlive(true, 'x') returns the socket (delay 0).
    # issue 12: gnet raised a bare ValueError.
    assert keep_alive_delay(value) == ms


# ----------------------------------------------------------------------
# timeouts (seconds) and callbacks


@pytest.mark.parametrize(
    ("value", "seconds"), [(None, None), (0, 0.0), (1.5, 1.5), (math.inf, None)]
)
def test_validate_timeout_takes(value: Any, seconds: Any) -> None:
    assert validate_timeout(value) == seconds


@pytest.mark.parametrize(
    ("value", "exc", "code"),
    [
        # socket.settimeout refuses NaN and negatives with ValueError too.
        (math.nan, ValueError, "ERR_OUT_OF_RANGE"),
        (-1, ValueError, "ERR_OUT_OF_RANGE"),
        ("5", TypeError, "ERR_INVALID_ARG_TYPE"),
        (True, TypeError, "ERR_INVALID_ARG_TYPE"),
    ],
)
def test_validate_timeout_refuses(value: Any, exc: type, code: str) -> None:
    raises_code(exc, code, lambda: validate_timeout(value))


@pytest.mark.parametrize("callback", [5, "cb", b"x"])
def test_node_callback_not_callable_raises(callback: Any) -> None:
    # issue 12: write(b'x', None, 5) was taken, and the connection destroyed
    # when the "callback" was called.  (Node v20 ignores it; gnet raises.)
    raises_code(TypeError, "ERR_INVALID_ARG_TYPE", lambda: node_callback(callback))


def test_callbacks_refuse_async_functions() -> None:
    async def handler(*args: Any) -> None:
        pass

    raises_code(TypeError, "ERR_INVALID_ARG_VALUE", lambda: node_callback(handler))
    raises_code(TypeError, "ERR_INVALID_ARG_VALUE", lambda: validate_callback(handler))
    raises_code(TypeError, "ERR_INVALID_ARG_VALUE", lambda: parse_connect_args((80, handler), {}))
    raises_code(
        TypeError,
        "ERR_INVALID_ARG_VALUE",
        lambda: parse_connect_args(({"port": 80, "lookup": handler},), {}),
    )
