"""connect()'s call forms and argument checks (test-net-connect-options-*.js, NODE-NET C1/C2).

Bad arguments are thrown at once, in every one of Node's call forms
(connect, createConnection, new Socket().connect; callback or 'connect').

Listeners run in gnet's greenlets, where a failing ``assert`` would only be
logged; so listeners record what they see and the test body asserts.
Each test names where its rule comes from: the Node test it ports
(test/parallel/... unless said otherwise), a NODE-NET.md rule, or API.md.
Node v20 is the baseline; expected values Node's tests do not spell out
were checked against v20 with small scripts.
"""

from __future__ import annotations

import re
import socket
from collections.abc import Callable
from typing import Any

import pytest

import gnet
from support import (
    TIMEOUT,
    port_of,
    waiter,
)


def _connect_forms(
    args: list[Any], cb: Callable[[], Callable[..., None]]
) -> list[Callable[[], gnet.Socket]]:
    """Node's doConnect(): the six ways of connecting with ``args``."""
    return [
        lambda: gnet.create_connection(*args, cb()).resume(),
        lambda: gnet.create_connection(*args).on("connect", cb()).resume(),
        lambda: gnet.connect(*args, cb()).resume(),
        lambda: gnet.connect(*args).on("connect", cb()).resume(),
        lambda: gnet.Socket().connect(*args, cb()).resume(),
        lambda: gnet.Socket().connect(*args).on("connect", cb()).resume(),
    ]


def _raised(form: Callable[[], Any], cls: type[BaseException]) -> Any:
    """The ``cls`` exception ``form()`` raises; fails (cleaning up) if it returns."""
    try:
        result = form()
    except cls as exc:
        return exc
    if isinstance(result, gnet.Socket):
        result.on("error", lambda err: None)
        result.destroy()
    pytest.fail(f"did not raise {cls.__name__}")


def _bad_port_forms(port: Any, opt_only: bool = False) -> list[Callable[[], gnet.Socket]]:
    never: Callable[[], Callable[..., None]] = lambda: lambda *a: None  # noqa: E731
    forms = []
    if not opt_only:
        forms += _connect_forms([port], never)
        forms += _connect_forms([port, "localhost"], never)
    forms += _connect_forms([{"port": port}], never)
    forms += _connect_forms([{"port": port, "host": "localhost"}], never)
    return forms


@pytest.mark.parametrize(
    ("port", "opt_only"),
    [(True, False), (False, False), ([], True), ({}, True), (None, False)],
    ids=repr,
)
def test_connect_options_port__bad_type_throws(port: Any, opt_only: bool) -> None:
    # test-net-connect-options-port.js: port of the wrong type -> TypeError
    # ERR_INVALID_ARG_TYPE, thrown, in every call form.
    for form in _bad_port_forms(port, opt_only):
        assert _raised(form, TypeError).code == "ERR_INVALID_ARG_TYPE"


@pytest.mark.parametrize(
    ("port", "opt_only"),
    [
        ("", False),
        (" ", False),
        ("0x", True),
        ("-0x1", True),
        (float("nan"), False),
        (float("inf"), False),
        (-1, False),
        (65536, False),
    ],
    ids=repr,
)
def test_connect_options_port__out_of_range_throws(port: Any, opt_only: bool) -> None:
    # test-net-connect-options-port.js: ERR_SOCKET_BAD_PORT (a RangeError:
    # ValueError), thrown, in every call form.
    for form in _bad_port_forms(port, opt_only):
        err = _raised(form, ValueError)
        assert err.code == "ERR_SOCKET_BAD_PORT"
        assert "should be >= 0 and < 65536. Received " in str(err)


def test_connect_options_port__invalid_hints_throw() -> None:
    # test-net-connect-options-port.js: bad dns.lookup hints -> TypeError
    # ERR_INVALID_ARG_VALUE "The argument 'hints' is invalid. Received N".
    hints = (socket.AI_ADDRCONFIG | socket.AI_V4MAPPED | socket.AI_ALL) + 42
    never: Callable[[], Callable[..., None]] = lambda: lambda *a: None  # noqa: E731
    for form in _connect_forms([{"port": 42, "hints": hints}], never):
        err = _raised(form, TypeError)
        assert err.code == "ERR_INVALID_ARG_VALUE"
        assert re.match(r"The argument 'hints' is invalid\. Received \d+", str(err))


@pytest.mark.parametrize("form", ["connect", "socket_connect"])
@pytest.mark.parametrize("args", [(), ({},)], ids=["no_args", "empty_options"])
def test_connect_no_arg__missing_args(form: str, args: tuple[Any, ...]) -> None:
    # test-net-connect-no-arg.js
    with pytest.raises(TypeError) as info:
        if form == "connect":
            gnet.connect(*args)
        else:
            gnet.Socket().connect(*args)
    assert info.value.code == "ERR_MISSING_ARGS"  # type: ignore[attr-defined]
    assert str(info.value) == 'The "options" or "port" or "path" argument must be specified'


def test_localerror__local_address_not_an_ip() -> None:
    # test-net-localerror.js
    with pytest.raises(TypeError) as info:
        gnet.connect({"host": "localhost", "port": 0, "local_address": "foobar"})
    assert info.value.code == "ERR_INVALID_IP_ADDRESS"  # type: ignore[attr-defined]
    assert str(info.value) == "Invalid IP address: foobar"


def test_localerror__local_port_not_a_number() -> None:
    # test-net-localerror.js
    with pytest.raises(TypeError) as info:
        gnet.connect({"host": "localhost", "port": 0, "localPort": "foobar"})
    assert info.value.code == "ERR_INVALID_ARG_TYPE"  # type: ignore[attr-defined]


def test_connect_options_invalid__other_bad_options_throw() -> None:
    # NODE-NET C2 (test-net-connect-options-invalid.js, -options-lookup.js):
    # family not 0/4/6, lookup not callable, path not a string, objectMode.
    cases: list[tuple[dict[str, Any], type[BaseException], str]] = [
        ({"port": 80, "family": 5}, TypeError, "ERR_INVALID_ARG_VALUE"),
        ({"port": 80, "lookup": "nope"}, TypeError, "ERR_INVALID_ARG_TYPE"),
        ({"path": 42}, TypeError, "ERR_INVALID_ARG_TYPE"),
        ({"port": 80, "objectMode": True}, TypeError, "ERR_INVALID_ARG_VALUE"),
        ({"port": 80, "host": ["localhost"]}, TypeError, "ERR_INVALID_ARG_TYPE"),
    ]
    for options, cls, code in cases:
        with pytest.raises(cls) as info:
            gnet.connect(options)
        assert info.value.code == code, options  # type: ignore[attr-defined]


def test_connect_options_port__valid_call_forms_connect(listen: Any) -> None:
    # test-net-connect-options-port.js: 3 port spellings x 4 argument forms x
    # 6 connect functions = 72 connections to a server on 'localhost'.
    connections: list[gnet.Socket] = []

    def on_connection(sock: gnet.Socket) -> None:
        connections.append(sock)
        sock.end("ok")

    server = listen(on_connection, 0, "localhost")
    port = port_of(server)
    connected: list[int] = []
    cb: Callable[[], Callable[..., None]] = lambda: lambda *a: connected.append(1)  # noqa: E731
    clients: list[gnet.Socket] = []
    try:
        for spelling in (port, str(port), hex(port)):
            for args in (
                [spelling],
                [spelling, "localhost"],
                [{"port": spelling}],
                [{"port": spelling, "host": "localhost"}],
            ):
                for form in _connect_forms(args, cb):
                    clients.append(form())
        assert len(clients) == 72
        closes = [waiter(c, "close") for c in clients]
        for closed in closes:
            assert closed.get(timeout=TIMEOUT) == (False,)
    finally:
        for client in clients:
            client.destroy()
    assert len(connected) == 72
    assert len(connections) == 72


def test_connect_options_port__closed_port_fails_async(track: Any) -> None:
    # test-net-connect-options-port.js asyncFailToConnect: port 0 -> an
    # 'error' event "connect E...", never a throw.
    errors: list[BaseException] = []

    def never() -> Callable[..., None]:
        return lambda *a: errors.append(AssertionError("connected"))

    closes = []
    for args in ([0], [{"port": 0}], [{"port": 0, "host": "localhost"}]):
        for form in _connect_forms(args, never):
            sock = track(form())
            sock.on("error", errors.append)
            closes.append(waiter(sock, "close"))
    for closed in closes:
        assert closed.get(timeout=TIMEOUT) == (True,)
    assert len(errors) == 18
    for err in errors:
        assert re.match(r"^connect E\w+.+$", str(err)), str(err)


def test_connect_options_path__twelve_call_forms(listen: Any, sock_path: str) -> None:
    # test-net-connect-options-path.js: every way of connecting to a UNIX path.
    # (v20 keeps a socket half-open while the peer's 'ok' is unread (D2), so
    # these clients resume() to reach 'close'.)
    server = listen(lambda s: s.end("ok"), sock_path)
    connected: list[int] = []
    cb: Callable[[], Callable[..., None]] = lambda: lambda *a: connected.append(1)  # noqa: E731
    clients: list[gnet.Socket] = []
    try:
        for args in ([sock_path], [{"path": sock_path}]):
            for form in _connect_forms(args, cb):
                client = form()
                client.on("connect", client.end)
                clients.append(client)
        closes = [waiter(c, "close") for c in clients]
        for closed in closes:
            assert closed.get(timeout=TIMEOUT) == (False,)
    finally:
        for client in clients:
            client.destroy()
    assert len(connected) == 12
    assert server.listening
