"""connect() to a host name: the lookup (built-in and custom), its 'lookup' event and errors.

Listeners run in gnet's greenlets, where a failing ``assert`` would only be
logged; so listeners record what they see and the test body asserts.
Each test names where its rule comes from: the Node test it ports
(test/parallel/... unless said otherwise), a NODE-NET.md rule, or API.md.
Node v20 is the baseline; expected values Node's tests do not spell out
were checked against v20 with small scripts.
"""

from __future__ import annotations

import socket
from collections.abc import Callable
from typing import Any

import gevent
import pytest

import gnet
from support import (
    TIMEOUT,
    closed_port,
    give_a_chance,
    listen_local,
    names,
    needs_ipv6,
    port_of,
    record,
    waiter,
)


def test_dns_lookup__lookup_event_for_localhost(server_factory: Any, track: Any) -> None:
    # test-net-dns-lookup.js: 'lookup'(None, '127.0.0.1', 4, 'localhost').
    srv = server_factory(lambda c: c.end())
    sock = track(gnet.connect(port_of(srv), "localhost"))
    lookup = waiter(sock, "lookup")
    connected = waiter(sock, "connect")
    assert lookup.get(timeout=TIMEOUT) == (None, "127.0.0.1", 4, "localhost")
    connected.get(timeout=TIMEOUT)


@pytest.mark.parametrize("address", ["127.0.0.1", pytest.param("::1", marks=needs_ipv6)])
def test_dns_lookup_skip__no_lookup_for_ip_literal(address: str, listen: Any, track: Any) -> None:
    # test-net-dns-lookup-skip.js (NODE-NET C6): an IP literal is not looked up.
    server = listen(lambda c: c.end(), 0, address)
    log: list[Any] = []
    sock = track(gnet.connect(port_of(server), address))
    record(sock, ["lookup", "connect"], log)
    gnet.once(sock, "connect", timeout=TIMEOUT)
    assert names(log) == ["connect"]


def test_socket_connect_option_family_4_resolves_ipv4_only(track: Any) -> None:
    # API.md connect() option family 4:
    server = track(gnet.create_server())
    port = listen_local(server)
    sock = track(gnet.connect({"port": port, "host": "localhost", "family": 4}))
    lookup = waiter(sock, "lookup")
    gnet.once(sock, "connect", timeout=TIMEOUT)
    assert lookup.get(timeout=TIMEOUT) == (None, "127.0.0.1", 4, "localhost")
    assert sock.remote_family == "IPv4"


def test_socket_connect_option_family_6_reaches_the_lookup(track: Any) -> None:
    # API.md connect() option family 6:
    asked: list[dict[str, Any]] = []

    def lookup(host: str, options: dict[str, Any], callback: Callable[..., Any]) -> None:
        asked.append(dict(options))
        gevent.spawn(callback, socket.gaierror(socket.EAI_NONAME, "not here"))

    sock = track(gnet.connect({"port": 80, "host": "nowhere.test", "family": 6, "lookup": lookup}))
    errors: list[BaseException] = []
    sock.on("error", errors.append)
    waiter(sock, "close").get(timeout=TIMEOUT)
    assert asked and asked[0]["family"] == 6
    assert [err.code for err in errors] == ["ENOTFOUND"]


def _fixed_lookup(address: str, family: int, seen: list[dict[str, Any]]) -> Callable[..., None]:
    def lookup(host: str, options: dict[str, Any], cb: Callable[..., None]) -> None:
        seen.append(dict(options, host=host))
        if options.get("all"):
            gevent.spawn(cb, None, [{"address": address, "family": family}])
        else:
            gevent.spawn(cb, None, address, family)

    return lookup


@pytest.mark.parametrize(
    ("address", "family"), [("127.0.0.1", 4), pytest.param("::1", 6, marks=needs_ipv6)]
)
def test_dns_custom_lookup__lookup_event(
    address: str, family: int, listen: Any, track: Any
) -> None:
    # test-net-dns-custom-lookup.js: a custom lookup (answering later) is used,
    # and 'lookup' reports its answer with a numeric family.
    server = listen(lambda c: c.end(), 0, address)
    seen: list[dict[str, Any]] = []
    sock = track(
        gnet.connect(
            {
                "port": port_of(server),
                "host": "localhost",
                "family": family,
                "lookup": _fixed_lookup(address, family, seen),
            }
        )
    )
    lookup = waiter(sock, "lookup")
    connected = waiter(sock, "connect")
    assert lookup.get(timeout=TIMEOUT) == (None, address, family, "localhost")
    connected.get(timeout=TIMEOUT)
    assert sock.remote_address == address
    assert [s["host"] for s in seen] == ["localhost"]


def test_dns_custom_lookup__bad_ip_is_an_error(track: Any) -> None:
    # test-net-dns-custom-lookup.js: a lookup answering a non-IP ->
    # 'error' ERR_INVALID_IP_ADDRESS.
    def lookup(host: str, options: dict[str, Any], cb: Callable[..., None]) -> None:
        if options.get("all"):
            cb(None, [{"address": None, "family": 4}])
        else:
            cb(None, None, 4)

    sock = track(gnet.connect({"host": "localhost", "port": 80, "lookup": lookup}))
    closed = waiter(sock, "close")
    (err,) = waiter(sock, "error").get(timeout=TIMEOUT)
    assert err.code == "ERR_INVALID_IP_ADDRESS"
    assert closed.get(timeout=TIMEOUT) == (True,)


def test_options_lookup__bad_family_is_an_error(track: Any) -> None:
    # test-net-options-lookup.js (NODE-NET C8): a lookup answering family 100
    # -> 'error' ERR_INVALID_ADDRESS_FAMILY "Invalid address family: 100 localhost:0".
    def lookup(host: str, options: dict[str, Any], cb: Callable[..., None]) -> None:
        if options.get("all"):
            cb(None, [{"address": "127.0.0.1", "family": 100}])
        else:
            cb(None, "127.0.0.1", 100)

    sock = track(gnet.connect({"host": "localhost", "port": 0, "lookup": lookup}))
    (err,) = waiter(sock, "error").get(timeout=TIMEOUT)
    assert err.code == "ERR_INVALID_ADDRESS_FAMILY"
    assert isinstance(err, ValueError)
    assert str(err) == "Invalid address family: 100 localhost:0"


def test_connect_custom_lookup__no_address_is_enotfound(track: Any) -> None:
    # A lookup that answers nothing fails the connect (Node v20 crashes with
    # a TypeError; gnet gives the getaddrinfo error a real resolver would).
    conn = track(
        gnet.connect({"port": 1, "host": "nothing.test", "lookup": lambda h, o, cb: cb(None, [])})
    )
    errors, closed = waiter(conn, "error"), waiter(conn, "close")
    (err,) = errors.get(timeout=TIMEOUT)
    assert err.code == "ENOTFOUND" and err.hostname == "nothing.test"
    assert closed.get(timeout=TIMEOUT) == (True,)


def test_dns_error__unknown_host(track: Any) -> None:
    # test-net-dns-error.js / NODE-NET C5: a failed lookup -> 'lookup'(err,
    # None, None, host), then 'error' with getaddrinfo fields, no address/port.
    host = "no-such-host.invalid"
    sock = track(gnet.connect(80, host))
    lookup = waiter(sock, "lookup")
    closed = waiter(sock, "close")
    (err,) = waiter(sock, "error").get(timeout=TIMEOUT)
    assert err.code in ("ENOTFOUND", "EAI_AGAIN", "EAI_FAIL")
    assert err.syscall == "getaddrinfo"
    assert err.hostname == host
    assert str(err) == f"getaddrinfo {err.code} {host}"
    assert getattr(err, "port", None) is None
    lookup_err, address, family, lookup_host = lookup.get(timeout=TIMEOUT)
    assert lookup_err is err
    assert (address, family, lookup_host) == (None, None, host)
    assert closed.get(timeout=TIMEOUT) == (True,)


def test_rule_c16__destroy_during_lookup(track: Any) -> None:
    # NODE-NET C16: destroy() while the lookup is pending -> no 'error', no
    # 'connect'; 'close'(False).
    answers: list[gevent.Greenlet] = []

    def slow_lookup(host: str, options: dict[str, Any], cb: Callable[..., None]) -> None:
        answer = [{"address": "127.0.0.1", "family": 4}] if options.get("all") else "127.0.0.1"
        if options.get("all"):
            answers.append(gevent.spawn_later(0.05, cb, None, answer))
        else:
            answers.append(gevent.spawn_later(0.05, cb, None, answer, 4))

    sock = track(
        gnet.connect({"host": "example.org", "port": closed_port(), "lookup": slow_lookup})
    )
    log: list[Any] = []
    record(sock, ["connect", "error"], log)
    closed = waiter(sock, "close")
    assert sock.connecting is True
    sock.destroy()
    assert sock.connecting is False
    assert closed.get(timeout=TIMEOUT) == (False,)
    gevent.joinall(answers, timeout=TIMEOUT)  # the lookup has answered
    give_a_chance()  # for a 'connect' or 'error' that must not come
    assert log == []
