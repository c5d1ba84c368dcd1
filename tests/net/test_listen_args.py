"""createServer() and listen(): every call form and argument check (thrown at once).

Listeners run in gnet's greenlets, where a failing ``assert`` would only be
logged; so listeners record what they see and the test body asserts.
Each test names where its rule comes from: the Node test it ports
(test/parallel/... unless said otherwise), a NODE-NET.md rule, or API.md.
Node v20 is the baseline; expected values Node's tests do not spell out
were checked against v20 with small scripts.
"""

from __future__ import annotations

import math
import os
import re
import stat
from collections.abc import Callable
from typing import Any

import pytest

import gnet
from support import (
    TIMEOUT,
    Collector,
    give_a_chance,
    needs_ipv6,
    port_of,
    raises_code,
)

# ----------------------------------------------------------------------
# createServer(options)


@pytest.mark.parametrize(
    ("options", "received"), [("path", "type string ('path')"), (0, "type number (0)")]
)
@pytest.mark.parametrize("factory", ["create_server", "Server"])
def test_server_options__non_object_options_throw(
    factory: str, options: Any, received: str
) -> None:
    # test-net-server-options.js:
    # createServer('path') and createServer(0) throw ERR_INVALID_ARG_TYPE.
    make = getattr(gnet, factory)
    err = raises_code(TypeError, "ERR_INVALID_ARG_TYPE", lambda: make(options))
    assert str(err) == f'The "options" argument must be of type object. Received {received}'


# ----------------------------------------------------------------------
# listen(): ports


NO_PORT_FORMS: dict[str, Callable[[gnet.Server, Callable[..., Any]], Any]] = {
    "listen()": lambda s, cb: s.listen().on("listening", cb),
    "listen(cb)": lambda s, cb: s.listen(cb),
    "listen(0)": lambda s, cb: s.listen(0).on("listening", cb),
    "listen({port: 0})": lambda s, cb: s.listen({"port": 0}).on("listening", cb),
}


@pytest.mark.parametrize("form", list(NO_PORT_FORMS))
def test_server_listen_options__random_port_forms(track: Any, form: str) -> None:
    # test-net-server-listen-options.js:
    # listen(), listen(cb), listen(port), listen({port}): a random port.
    server: gnet.Server = track(gnet.create_server())
    listening = Collector()
    NO_PORT_FORMS[form](server, listening)
    listening.wait(1)
    assert port_of(server) > 0
    server.close()
    gnet.once(server, "close", timeout=TIMEOUT)


PORT_FORMS: dict[str, Callable[[gnet.Server, Any, Callable[..., Any]], Any]] = {
    "listen({port}, cb)": lambda s, port, cb: s.listen({"port": port}, cb),
    "listen(port, cb)": lambda s, port, cb: s.listen(port, cb),
}


@pytest.mark.parametrize("port", ["0", 0, None], ids=["'0'", "0", "None"])
@pytest.mark.parametrize("form", list(PORT_FORMS))
def test_server_listen_options__arbitrary_unused_port(track: Any, form: str, port: Any) -> None:
    # listen('0' | 0 | undefined | null, cb) in both forms: a random port
    # (NODE-NET A6; Python's None stands for both undefined and null).
    server: gnet.Server = track(gnet.create_server())
    listening = Collector()
    returned = PORT_FORMS[form](server, port, listening)
    assert returned is server
    listening.wait(1)
    assert port_of(server) > 0


BAD_PORTS = [-1, math.nan, 123.456, 65536, math.inf, -math.inf]


@pytest.mark.parametrize("port", BAD_PORTS, ids=repr)
@pytest.mark.parametrize("form", list(PORT_FORMS))
def test_server_listen_options__invalid_port_throws(track: Any, form: str, port: Any) -> None:
    # test-net-server-listen-options.js:
    # Invalid ports raise ERR_SOCKET_BAD_PORT (a RangeError: ValueError) at
    # once; the callback is never called and nothing listens.
    server: gnet.Server = track(gnet.create_server())
    listening = Collector()
    raises_code(
        ValueError, "ERR_SOCKET_BAD_PORT", lambda: PORT_FORMS[form](server, port, listening)
    )
    give_a_chance()  # for a listen callback that must not come
    assert listening.calls == []
    assert server.listening is False


@pytest.mark.parametrize("port", [-1, 65536])
def test_server_listen_options__bad_port_message(track: Any, port: int) -> None:
    # test-net-server-listen-options.js:
    # Node's message for ERR_SOCKET_BAD_PORT from listen().
    server: gnet.Server = track(gnet.create_server())
    err = raises_code(ValueError, "ERR_SOCKET_BAD_PORT", lambda: server.listen(port))
    assert str(err) == f"options.port should be >= 0 and < 65536. Received type number ({port})."


INVALID_PORT = 2**32 - 1  # -1 >>> 0


INVALID_PORT_FORMS: dict[str, Callable[[gnet.Server, Callable[..., Any]], Any]] = {
    "listen({port})": lambda s, cb: s.listen({"port": INVALID_PORT}, cb),
    "listen(port)": lambda s, cb: s.listen(INVALID_PORT, cb),
    "listen(port, host)": lambda s, cb: s.listen(INVALID_PORT, "0.0.0.0", cb),
}


@pytest.mark.parametrize("form", list(INVALID_PORT_FORMS))
def test_listen_invalid_port__every_form(track: Any, form: str) -> None:
    # test-net-listen-invalid-port.js: 2**32 - 1 is a bad port in every form.
    server: gnet.Server = track(gnet.create_server())
    listening = Collector()
    raises_code(
        ValueError, "ERR_SOCKET_BAD_PORT", lambda: INVALID_PORT_FORMS[form](server, listening)
    )
    give_a_chance()  # for a listen callback that must not come
    assert listening.calls == []


@pytest.mark.parametrize("port", ["0", "0x0", " 0 ", "+0", "0.0"])
def test_server_listen_options__numeric_string_is_a_port(track: Any, port: str) -> None:
    # NODE-NET A7: a string that is a non-negative number is a port (Node's
    # Number()), not a path.
    server: gnet.Server = track(gnet.create_server())
    listening = Collector()
    server.listen(port, listening)
    listening.wait(1)
    assert isinstance(server.address(), dict)
    assert port_of(server) > 0


def test_server_listen_options__non_numeric_string_is_a_path(
    track: Any, tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # NODE-NET A7: listen('80x') listens on a UNIX socket relative to the cwd.
    monkeypatch.chdir(tmp_path)
    server: gnet.Server = track(gnet.create_server())
    listening = Collector()
    server.listen("80x", listening)
    listening.wait(1)
    assert server.address() == "80x"
    assert stat.S_ISSOCK(os.stat(tmp_path / "80x").st_mode)


def test_server_listen_options__port_beats_path_invalid_port(track: Any, sock_path: str) -> None:
    # In listen(options, cb) port takes precedence over path: {port: -1, path}
    # raises ERR_SOCKET_BAD_PORT (NODE-NET A5).
    server: gnet.Server = track(gnet.create_server())
    listening = Collector()
    raises_code(
        ValueError,
        "ERR_SOCKET_BAD_PORT",
        lambda: server.listen({"port": -1, "path": sock_path}, listening),
    )
    assert not os.path.exists(sock_path)


def test_server_listen_options__port_beats_path_listens_on_tcp(track: Any, sock_path: str) -> None:
    # NODE-NET A5: with both port and path, the server is a TCP server and no
    # socket file is created.
    server: gnet.Server = track(gnet.create_server())
    server.listen({"port": 0, "host": "127.0.0.1", "path": sock_path})
    gnet.once(server, "listening", timeout=TIMEOUT)
    assert isinstance(server.address(), dict)
    assert not os.path.exists(sock_path)


# ----------------------------------------------------------------------
# listen(options): invalid options


MUST_HAVE_PORT_OR_PATH = (
    r"^The argument 'options' must have the property \"port\" or \"path\"\. Received .+$"
)


OPTIONS_INVALID = r"^The argument 'options' is invalid\. Received .+$"


SHOULD_FAIL_TO_LISTEN = [
    # Node: listen(false) is listen({port: false}).
    (False, OPTIONS_INVALID),
    ({"port": False}, OPTIONS_INVALID),
    (True, OPTIONS_INVALID),
    ({"port": True}, OPTIONS_INVALID),
    # Invalid fd as listen(handle)
    ({"fd": -1}, MUST_HAVE_PORT_OR_PATH),
    # Invalid path in listen(options)
    ({"path": -1}, OPTIONS_INVALID),
    # Neither port nor path is specified in options
    ({}, MUST_HAVE_PORT_OR_PATH),
    ({"host": "localhost"}, MUST_HAVE_PORT_OR_PATH),
    ({"host": {"port": 3000}}, MUST_HAVE_PORT_OR_PATH),
    ({"exclusive": True}, MUST_HAVE_PORT_OR_PATH),
]


@pytest.mark.parametrize(
    ("options", "message"), SHOULD_FAIL_TO_LISTEN, ids=[repr(o) for o, _ in SHOULD_FAIL_TO_LISTEN]
)
def test_server_listen_options__should_fail_to_listen(
    track: Any, options: Any, message: str
) -> None:
    # test-net-server-listen-options.js:
    # shouldFailToListen(): ERR_INVALID_ARG_VALUE (a TypeError) with Node's
    # message, which depends on whether options has 'port' or 'path'.
    server: gnet.Server = track(gnet.create_server())
    listening = Collector()
    err = raises_code(TypeError, "ERR_INVALID_ARG_VALUE", lambda: server.listen(options, listening))
    assert re.match(message, str(err)), str(err)
    assert server.listening is False


@pytest.mark.parametrize("options", [{"path": ""}, {"port": []}, {"port": {}}], ids=repr)
def test_server_listen_options__invalid_option_values(track: Any, options: Any) -> None:
    # Beyond Node's list, same rule (checked on Node v20): an empty path or a
    # port of the wrong type is "invalid", not "missing".
    server: gnet.Server = track(gnet.create_server())
    err = raises_code(TypeError, "ERR_INVALID_ARG_VALUE", lambda: server.listen(options))
    assert re.match(OPTIONS_INVALID, str(err)), str(err)


# ----------------------------------------------------------------------
# backlog and keyword forms


def test_server_bind__port_host_backlog(track: Any) -> None:
    # sequential/test-net-server-bind.js (NODE-NET A8):
    # listen(port, host, backlog, cb)
    server: gnet.Server = track(gnet.create_server())
    listening = Collector()
    server.listen(0, "127.0.0.1", 127, listening)
    listening.wait(1)
    assert server.address() == {"address": "127.0.0.1", "family": "IPv4", "port": port_of(server)}


@needs_ipv6
def test_server_bind__port_backlog(track: Any) -> None:
    # sequential/test-net-server-bind.js (NODE-NET A8):
    # listen(port, backlog, cb): a number second argument is the backlog, not
    # a host; so the server listens on '::' like listen(port).
    server: gnet.Server = track(gnet.create_server())
    listening = Collector()
    server.listen(0, 127, listening)
    listening.wait(1)
    assert server.address()["address"] == "::"  # type: ignore[index]


def test_server_bind__path_backlog(track: Any, sock_path: str) -> None:
    # sequential/test-net-server-bind.js (NODE-NET A8):
    # listen(path, backlog, cb)
    server: gnet.Server = track(gnet.create_server())
    listening = Collector()
    server.listen(sock_path, 5, listening)
    listening.wait(1)
    assert server.address() == sock_path


def test_server_bind__backlog_option(track: Any) -> None:
    # sequential/test-net-server-bind.js (NODE-NET A8):
    # listen({port, host, backlog}, cb)
    server: gnet.Server = track(gnet.create_server())
    listening = Collector()
    server.listen({"port": 0, "host": "127.0.0.1", "backlog": 5}, listening)
    listening.wait(1)
    assert port_of(server) > 0


def test_server_listen_options__keyword_arguments(track: Any) -> None:
    # API.md: listen(port=0, host=None, backlog=511, callback=None) in Python
    # keyword spelling.
    server: gnet.Server = track(gnet.create_server())
    listening = Collector()
    server.listen(port=0, host="127.0.0.1", backlog=16, callback=listening)
    listening.wait(1)
    assert server.address()["address"] == "127.0.0.1"  # type: ignore[index]
