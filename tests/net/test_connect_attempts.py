"""Connection attempts and Happy Eyeballs (autoSelectFamily): one attempt per resolved
address, families interleaved, each timed; AggregateError when all fail.

Listeners run in gnet's greenlets, where a failing ``assert`` would only be
logged; so listeners record what they see and the test body asserts.
Each test names where its rule comes from: the Node test it ports
(test/parallel/... unless said otherwise), a NODE-NET.md rule, or API.md.
Node v20 is the baseline; expected values Node's tests do not spell out
were checked against v20 with small scripts.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Callable
from typing import Any

import gevent
import pytest
from gevent.event import AsyncResult

import gnet
from support import (
    HAS_IPV6,
    TIMEOUT,
    closed_port,
    fill_backlog,
    names,
    needs_ipv6,
    port_of,
    record,
    waiter,
)


def test_rule_c10__attempt_events_for_a_plain_connect(track: Any) -> None:
    # NODE-NET C10: even a single attempt reports connectionAttempt, then
    # connectionAttemptFailed, then 'error', then 'close'.
    port = closed_port()
    sock = track(gnet.connect(port, "127.0.0.1"))
    log: list[Any] = []
    record(
        sock,
        [
            "connectionAttempt",
            "connectionAttemptFailed",
            "connectionAttemptTimeout",
            "error",
            "close",
        ],
        log,
    )
    closed = waiter(sock, "close")
    closed.get(timeout=TIMEOUT)
    assert names(log) == ["connectionAttempt", "connectionAttemptFailed", "error", "close"]
    assert log[0][1] == ("127.0.0.1", port, 4)
    ip, attempt_port, family, err = log[1][1]
    assert (ip, attempt_port, family) == ("127.0.0.1", port, 4)
    assert err.code == "ECONNREFUSED"
    assert log[2][1][0] is err


def _ordered_lookup(answers: list[tuple[str, int]]) -> Callable[..., None]:
    """test-net-autoselectfamily.js's lookup: IPv6 answers first."""
    hosts = sorted(answers, key=lambda a: -a[1])

    def lookup(host: str, options: dict[str, Any], cb: Callable[..., None]) -> None:
        if options.get("all"):
            cb(None, [{"address": a, "family": f} for a, f in hosts])
        else:
            cb(None, hosts[0][0], hosts[0][1])

    return lookup


def test_autoselectfamily__ipv4_reached_when_ipv6_refused(server_factory: Any, track: Any) -> None:
    # test-net-autoselectfamily.js: ::1 refuses, 127.0.0.1 answers.
    def on_connection(sock: gnet.Socket) -> None:
        sock.on("data", lambda d: sock.end("response-ipv4"))

    srv = server_factory(on_connection)
    port = port_of(srv)
    conn = track(
        gnet.create_connection(
            {
                "host": "example.org",
                "port": port,
                "lookup": _ordered_lookup([("::1", 6), ("127.0.0.1", 4)]),
                "autoSelectFamily": True,
                "autoSelectFamilyAttemptTimeout": 250,
            }
        )
    )
    response: list[str] = []
    conn.set_encoding("utf-8")
    attempted = AsyncResult()
    conn.on("ready", lambda: attempted.set(conn.auto_select_family_attempted_addresses))
    conn.on("data", response.append)
    ended = waiter(conn, "end")
    conn.write("request")
    assert attempted.get(timeout=TIMEOUT) == [f"::1:{port}", f"127.0.0.1:{port}"]
    ended.get(timeout=TIMEOUT)
    assert "".join(response) == "response-ipv4"
    assert conn.autoSelectFamilyAttemptedAddresses == [f"::1:{port}", f"127.0.0.1:{port}"]


def test_autoselectfamily__families_interleaved(server_factory: Any, track: Any) -> None:
    # test-net-autoselectfamily.js "only the last successful connection": the
    # answers are tried one at a time, families interleaved.  TEST-NET
    # addresses (RFC 5737/3849) stand in for Node's unreachable ones.
    srv = server_factory(lambda s: s.on("data", lambda d: s.end("response-ipv4")))
    port = port_of(srv)
    answers = [
        ("2001:db8::1", 6),
        ("2001:db8::2", 6),
        ("::1", 6),
        ("192.0.2.1", 4),
        ("192.0.2.2", 4),
        ("127.0.0.1", 4),
    ]
    conn = track(
        gnet.create_connection(
            {
                "host": "example.org",
                "port": port,
                "lookup": _ordered_lookup(answers),
                "autoSelectFamily": True,
                "autoSelectFamilyAttemptTimeout": 20,
            }
        )
    )
    response: list[str] = []
    conn.set_encoding("utf-8")
    conn.on("data", response.append)
    attempted = AsyncResult()
    conn.on("ready", lambda: attempted.set(conn.auto_select_family_attempted_addresses))
    ended = waiter(conn, "end")
    conn.write("request")
    assert attempted.get(timeout=TIMEOUT) == [
        f"2001:db8::1:{port}",
        f"192.0.2.1:{port}",
        f"2001:db8::2:{port}",
        f"192.0.2.2:{port}",
        f"::1:{port}",
        f"127.0.0.1:{port}",
    ]
    ended.get(timeout=TIMEOUT)
    assert "".join(response) == "response-ipv4"


@needs_ipv6
def test_autoselectfamily__ipv6_preferred_when_reachable(
    server_factory: Any, listen: Any, track: Any
) -> None:
    # test-net-autoselectfamily.js: with both up, IPv4 is never tried.
    v4_data: list[bytes] = []
    srv4 = server_factory(lambda s: s.on("data", v4_data.append))
    port = port_of(srv4)
    listen(lambda s: s.on("data", lambda d: s.end("response-ipv6")), port, "::1")
    conn = track(
        gnet.create_connection(
            {
                "host": "example.org",
                "port": port,
                "lookup": _ordered_lookup([("::1", 6), ("127.0.0.1", 4)]),
                "autoSelectFamily": True,
            }
        )
    )
    response: list[str] = []
    conn.set_encoding("utf-8")
    conn.on("data", response.append)
    attempted = AsyncResult()
    conn.on("ready", lambda: attempted.set(conn.auto_select_family_attempted_addresses))
    ended = waiter(conn, "end")
    conn.write("request")
    assert attempted.get(timeout=TIMEOUT) == [f"::1:{port}"]
    ended.get(timeout=TIMEOUT)
    assert "".join(response) == "response-ipv6"
    assert v4_data == []


@needs_ipv6
def test_autoselectfamily__disabled_tries_first_address_only(
    server_factory: Any, track: Any
) -> None:
    # test-net-autoselectfamily.js: autoSelectFamily false -> only ::1 is
    # tried; no attempted-addresses list.
    srv = server_factory()
    port = port_of(srv)
    conn = track(
        gnet.create_connection(
            {
                "host": "example.org",
                "port": port,
                "lookup": _ordered_lookup([("::1", 6), ("127.0.0.1", 4)]),
                "autoSelectFamily": False,
            }
        )
    )
    log: list[str] = []
    conn.on("ready", lambda: log.append("ready"))
    (err,) = waiter(conn, "error").get(timeout=TIMEOUT)
    assert conn.auto_select_family_attempted_addresses is None
    assert err.code == "ECONNREFUSED"
    assert str(err) == f"connect ECONNREFUSED ::1:{port}"
    assert log == []


def test_autoselectfamily__all_refused_aggregate_error(track: Any) -> None:
    # test-net-autoselectfamily.js: every attempt fails -> an AggregateError
    # holding each attempt's error, code = the first one's (NODE-NET C9).
    port = closed_port("::1") if HAS_IPV6 else closed_port()
    conn = track(
        gnet.create_connection(
            {
                "host": "example.org",
                "port": port,
                "lookup": _ordered_lookup([("::1", 6), ("127.0.0.1", 4)]),
                "autoSelectFamily": True,
            }
        )
    )
    log: list[str] = []
    conn.on("ready", lambda: log.append("ready"))
    closed = waiter(conn, "close")
    (err,) = waiter(conn, "error").get(timeout=TIMEOUT)
    assert conn.auto_select_family_attempted_addresses == [f"::1:{port}", f"127.0.0.1:{port}"]
    assert isinstance(err, gnet.AggregateError)
    assert len(err.errors) == 2
    messages = [str(e) for e in err.errors]
    assert f"connect ECONNREFUSED 127.0.0.1:{port}" in messages
    if HAS_IPV6:
        assert f"connect ECONNREFUSED ::1:{port}" in messages
        assert err.code == "ECONNREFUSED"  # type: ignore[attr-defined]
    assert closed.get(timeout=TIMEOUT) == (True,)
    assert log == []
    # gnet's differences (README): the message names every attempt, and the
    # aggregate is also of the first attempt's class.
    assert all(m in str(err) for m in messages)
    assert isinstance(err, ConnectionRefusedError)


def _blackhole_v4_and_listening_v6(track: Any) -> int:
    """A port P where 127.0.0.1:P never answers (full backlog) and ::1:P accepts."""
    for _ in range(10):
        server = track(gnet.create_server(lambda conn: conn.end(b"v6")))
        server.listen(0, "::1")
        gnet.once(server, "listening", timeout=TIMEOUT)
        port = port_of(server)
        hole = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            hole.bind(("127.0.0.1", port))
        except OSError:
            hole.close()
            server.close()
            continue
        track(hole)
        hole.listen(0)
        for filler in fill_backlog(port):
            track(filler)
        return port
    raise AssertionError("no port free on both 127.0.0.1 and ::1")


@pytest.mark.parametrize(("attempt_ms", "low", "high"), [(None, 0.2, 1.0), (60, 0.04, 0.2)])
def test_socket_connect_attempt_timeout_then_next_address(
    attempt_ms: float | None, low: float, high: float, track: Any
) -> None:
    # API.md: every resolved address is tried, families interleaved, each
    # attempt but the last given auto_select_family_attempt_timeout ms (250
    # by default); 'connectionAttempt'/'connectionAttemptTimeout' report them.
    port = _blackhole_v4_and_listening_v6(track)

    def lookup(host: str, options: dict[str, Any], callback: Callable[..., Any]) -> None:
        answer = [{"address": "127.0.0.1", "family": 4}, {"address": "::1", "family": 6}]
        gevent.spawn(callback, None, answer)

    options: dict[str, Any] = {"port": port, "host": "dual.test", "lookup": lookup}
    if attempt_ms is not None:
        options["autoSelectFamilyAttemptTimeout"] = attempt_ms
    sock = track(gnet.connect(options))
    log: list[tuple[float, str, tuple[Any, ...]]] = []
    for event in ("connectionAttempt", "connectionAttemptTimeout", "connectionAttemptFailed"):
        sock.on(event, lambda *args, e=event: log.append((time.monotonic(), e, args)))
    gnet.once(sock, "connect", timeout=TIMEOUT)
    assert [(name, args) for _, name, args in log] == [
        ("connectionAttempt", ("127.0.0.1", port, 4)),
        ("connectionAttemptTimeout", ("127.0.0.1", port, 4)),
        ("connectionAttempt", ("::1", port, 6)),
    ]
    waited = log[1][0] - log[0][0]
    assert low <= waited < high
    assert sock.remote_address == "::1"
    assert sock.auto_select_family_attempted_addresses == [f"127.0.0.1:{port}", f"::1:{port}"]
