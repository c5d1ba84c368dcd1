"""Servers with ``proxy_protocol``: the header is read before 'connection', in the
connection's own greenlet, through the socket's one read path.

What a user relies on: the handler sees the real client (``remote_*``,
``sock.proxy``) and exactly the bytes that followed the header; a bad,
missing, slow or untrusted header ends only that connection, with 'drop',
the diagnostics events and one log line; a stalled header holds up nothing
else; ``block_list`` and ``max_connections`` still do their jobs.
"""

from __future__ import annotations

import logging
import socket
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import gevent
import gevent.socket
import pytest
import zope.event

import gnet
from gnet import diagnostics, logs
from gnet.proxy_protocol import (
    Command,
    ProxyHeader,
    TlvType,
    build_ssl_tlv,
    build_v1,
    build_v2,
)
from support import (
    LINGER_0,
    TIMEOUT,
    Collector,
    dropped,
    port_of,
    raw_client,
    recv_all,
    recv_exactly,
)

V2 = build_v2(("203.0.113.7", 4242), ("198.51.100.1", 443), crc=True)
V1 = build_v1(("203.0.113.8", 4343), ("198.51.100.1", 443))
V2_IPV6 = build_v2(("2001:db8::7", 5555), ("2001:db8::1", 443))


@contextmanager
def recording() -> Iterator[list[Any]]:
    events: list[Any] = []
    zope.event.subscribers.append(events.append)
    try:
        yield events
    finally:
        zope.event.subscribers.remove(events.append)


@pytest.fixture(autouse=True)
def fresh_log_limits(monkeypatch: pytest.MonkeyPatch) -> None:
    """Earlier tests' drops must not have spent this test's log tokens."""
    monkeypatch.setattr(logs.default_log, "limiter", logs.RateLimiter())


class Seen:
    """A connection listener that records what each connection looked like at 'connection'."""

    def __init__(self, then: Callable[[gnet.Socket], Any] | None = None) -> None:
        self.socks: list[gnet.Socket] = []
        self.at_connection: list[dict[str, Any]] = []
        self.changed = gevent.event.Event()
        self.then = then

    def __call__(self, sock: gnet.Socket) -> None:
        self.socks.append(sock)
        self.at_connection.append(
            {
                "remote": (sock.remote_address, sock.remote_port, sock.remote_family),
                "proxy": sock.proxy,
                "bytes_read": sock.bytes_read,
                "buffered": sock.readable_length,
            }
        )
        self.changed.set()
        sock.on("error", lambda err: None)
        if self.then is not None:
            self.then(sock)

    def wait(self, n: int = 1) -> None:
        with gevent.Timeout(TIMEOUT, AssertionError(f"{len(self.socks)} of {n} connections")):
            while len(self.socks) < n:
                self.changed.clear()
                self.changed.wait()


def echo(sock: gnet.Socket) -> None:
    sock.pipe(sock)


def proxied_server(
    server_factory: Callable[..., gnet.Server], seen: Seen, **options: Any
) -> tuple[gnet.Server, int, Collector]:
    options.setdefault("proxy_protocol", "auto")
    server = server_factory(seen, **options)
    drops = Collector()
    server.on("drop", drops)
    return server, port_of(server), drops


# ----------------------------------------------------------------------
# the header is read, the client is the real one, nothing after it is lost


@pytest.mark.parametrize(
    ("mode", "header", "client"),
    [
        ("v2", V2, ("203.0.113.7", 4242, "IPv4")),
        ("v1", V1, ("203.0.113.8", 4343, "IPv4")),
        ("auto", V1, ("203.0.113.8", 4343, "IPv4")),
        ("auto", V2_IPV6, ("2001:db8::7", 5555, "IPv6")),
    ],
)
def test_header__real_client_before_connection_and_data_after_it_intact(
    server_factory: Callable[..., gnet.Server],
    mode: str,
    header: bytes,
    client: tuple[str, int, str],
) -> None:
    seen = Seen(echo)
    _, port, drops = proxied_server(server_factory, seen, proxy_protocol=mode)
    with raw_client(port) as peer:
        peer.sendall(header + b"first bytes")  # header and data in one segment
        assert recv_exactly(peer, 11) == b"first bytes"
        peer.sendall(b" and more")
        assert recv_exactly(peer, 9) == b" and more"
    seen.wait()
    state = seen.at_connection[0]
    assert state["remote"] == client
    assert isinstance(state["proxy"], ProxyHeader) and state["proxy"].length == len(header)
    # The header was the balancer's, not the application's.
    assert state["bytes_read"] == 11 and state["buffered"] == 11
    assert len(drops) == 0


def test_header_trickled_byte_by_byte__nothing_lost_nothing_twice(
    server_factory: Callable[..., gnet.Server],
) -> None:
    lines: list[bytes] = []

    def handler(sock: gnet.Socket) -> None:  # straight-line, reading what followed
        with sock:
            lines.append(sock.readline(timeout=TIMEOUT))
            lines.append(sock.readline(timeout=TIMEOUT))

    seen = Seen(handler)
    _, port, _ = proxied_server(server_factory, seen, proxy_protocol="v2")
    data = V2 + b"one\ntwo\n"
    with raw_client(port) as peer:
        peer.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        for i in range(len(data)):
            peer.sendall(data[i : i + 1])
            gevent.sleep(0)
        assert recv_all(peer) == b""
    assert lines == [b"one\n", b"two\n"]
    assert seen.at_connection[0]["remote"][:2] == ("203.0.113.7", 4242)


def test_header_tlvs_are_on_sock_proxy(server_factory: Callable[..., gnet.Server]) -> None:
    header = build_v2(
        ("203.0.113.7", 4242),
        ("198.51.100.1", 443),
        tlvs=[
            (TlvType.ALPN, b"h2"),
            (TlvType.AUTHORITY, b"example.com"),
            build_ssl_tlv(0x01, version="TLSv1.3", cn="client"),
            (TlvType.AWS, b"\x01vpce-0123"),
        ],
        crc=True,
    )
    seen = Seen(echo)
    _, port, _ = proxied_server(server_factory, seen, proxy_protocol="v2")
    with raw_client(port) as peer:
        peer.sendall(header)
        seen.wait()
    proxy = seen.at_connection[0]["proxy"]
    assert (proxy.alpn, proxy.authority, proxy.aws_vpce_id) == (b"h2", "example.com", "vpce-0123")
    assert proxy.ssl.version == "TLSv1.3" and proxy.ssl.cn == "client"
    assert proxy.crc32c is not None


def test_local_command__the_connection_s_own_endpoints(
    server_factory: Callable[..., gnet.Server],
) -> None:
    # A health check from the balancer itself: LOCAL, no client to report.
    seen = Seen(echo)
    _, port, _ = proxied_server(server_factory, seen, proxy_protocol="v2")
    with raw_client(port) as peer:
        peer.sendall(build_v2(None, None, command="LOCAL") + b"ping")
        assert recv_exactly(peer, 4) == b"ping"
        own = peer.getsockname()
    state = seen.at_connection[0]
    assert state["proxy"].command is Command.LOCAL
    assert state["remote"] == (own[0], own[1], "IPv4")


def test_off__sock_proxy_is_none_and_bytes_are_data(
    server_factory: Callable[..., gnet.Server],
) -> None:
    seen = Seen(echo)
    port = port_of(server_factory(seen))
    with raw_client(port) as peer:
        peer.sendall(V1)
        assert recv_exactly(peer, len(V1)) == V1  # no header expected: it is data
    assert seen.at_connection[0]["proxy"] is None


def test_unix_server__header_names_the_tcp_client(
    server_factory: Callable[..., gnet.Server], sock_path: str
) -> None:
    # HAProxy in front of a UNIX socket: the real client still shows.
    seen = Seen(echo)
    server_factory(seen, path=sock_path, proxy_protocol="v2")
    with raw_client(path=sock_path) as peer:
        peer.sendall(V2 + b"x")
        assert recv_exactly(peer, 1) == b"x"
    assert seen.at_connection[0]["remote"] == ("203.0.113.7", 4242, "IPv4")


def test_pause_on_connect__header_read_data_waits(
    server_factory: Callable[..., gnet.Server],
) -> None:
    seen = Seen()
    _, port, _ = proxied_server(server_factory, seen, proxy_protocol="v2", pause_on_connect=True)
    with raw_client(port) as peer:
        peer.sendall(V2 + b"held")
        seen.wait()
        sock = seen.socks[0]
        assert sock.remote_port == 4242
        assert sock.read() == b"held"


# ----------------------------------------------------------------------
# refused: 'drop' with a reason, events, one log line, nothing else affected


def rejected_case(
    server_factory: Callable[..., gnet.Server],
    send: Callable[[Any], None],
    caplog: pytest.LogCaptureFixture,
    **options: Any,
) -> tuple[Collector, list[Any], float]:
    seen = Seen(echo)
    server, port, drops = proxied_server(server_factory, seen, **options)
    caplog.set_level(logging.INFO, logger="gnet.server")
    with recording() as events:
        started = time.monotonic()
        with raw_client(port) as peer:
            send(peer)
            assert dropped(peer)
        elapsed = time.monotonic() - started
        drops.wait()
        with gevent.Timeout(TIMEOUT):
            while server.connections:
                gevent.sleep(0.005)
    assert seen.socks == [], "no 'connection' for a refused connection"
    return drops, events, elapsed


def _send(data: bytes, then_close: bool = False) -> Callable[[Any], None]:
    def send(peer: Any) -> None:
        peer.sendall(data)
        if then_close:
            peer.shutdown(socket.SHUT_WR)

    return send


@pytest.mark.parametrize(
    ("mode", "data", "then_close", "parse_reason"),
    [
        ("v2", b"GET / HTTP/1.1\r\nHost: x\r\n\r\n", False, "signature"),  # wrong signature
        ("v1", V2, False, "signature"),  # v2 where v1 is expected
        ("v2", V2[:20], True, "truncated"),  # the stream ends inside it
        ("v1", b"PROXY TCP4 " + b"1" * 120, False, "v1_too_long"),  # no CRLF in 107 bytes
        ("v2", V2[:14] + (5000).to_bytes(2, "big"), False, "v2_too_long"),  # oversized
        ("v2", V2[:-1] + bytes([V2[-1] ^ 1]), False, "v2_crc"),
    ],
)
def test_bad_header__dropped_with_reason_events_and_a_log_line(
    server_factory: Callable[..., gnet.Server],
    caplog: pytest.LogCaptureFixture,
    mode: str,
    data: bytes,
    then_close: bool,
    parse_reason: str,
) -> None:
    drops, events, elapsed = rejected_case(
        server_factory, _send(data, then_close), caplog, proxy_protocol=mode, proxy_timeout=3000
    )
    assert elapsed < 2.0, "rejected as soon as the bytes allow, not at the timeout"
    (data_,) = drops.firsts
    assert data_["reason"] == diagnostics.DROP_PROXY_REJECTED
    assert data_["remote_address"] == "127.0.0.1" and data_["local_family"] == "IPv4"
    (rejected,) = [e for e in events if isinstance(e, diagnostics.ProxyHeaderRejected)]
    assert rejected.reason == diagnostics.DROP_PROXY_REJECTED
    assert rejected.error.code == "ERR_GNET_PROXY_PROTOCOL"
    assert rejected.error.reason == parse_reason
    kinds = [type(e) for e in events]
    dropped_at = kinds.index(diagnostics.ConnectionDropped)
    assert kinds.index(diagnostics.ProxyHeaderRejected) < dropped_at
    assert dropped_at < kinds.index(diagnostics.ConnectionClosed)
    assert diagnostics.ConnectionAccepted not in kinds
    (closed,) = [e for e in events if isinstance(e, diagnostics.ConnectionClosed)]
    assert closed.outcome == diagnostics.DROPPED  # not 'error': the server refused it
    (record,) = [r for r in caplog.records if r.name == "gnet.server"]
    assert record.levelno == logging.INFO and record.exc_info is None
    assert record.gnet_reason == diagnostics.DROP_PROXY_REJECTED  # type: ignore[attr-defined]


def test_timeout__a_trickling_peer_does_not_extend_the_deadline(
    server_factory: Callable[..., gnet.Server], caplog: pytest.LogCaptureFixture
) -> None:
    def trickle(peer: Any) -> None:
        # A valid header, one byte per 50 ms: 28 bytes would take 1.4 s.
        for i in range(len(V2)):
            try:
                peer.sendall(V2[i : i + 1])
            except OSError:
                return
            gevent.sleep(0.05)

    drops, events, elapsed = rejected_case(
        server_factory, lambda peer: gevent.spawn(trickle, peer), caplog, proxy_timeout=300
    )
    assert 0.25 <= elapsed < 1.2, elapsed
    assert drops.firsts[0]["reason"] == diagnostics.DROP_PROXY_TIMEOUT
    (rejected,) = [e for e in events if isinstance(e, diagnostics.ProxyHeaderRejected)]
    assert isinstance(rejected.error, TimeoutError)
    assert "300 ms" in str(rejected.error)


def test_silent_peer__dropped_at_the_timeout(
    server_factory: Callable[..., gnet.Server], caplog: pytest.LogCaptureFixture
) -> None:
    drops, _, elapsed = rejected_case(server_factory, lambda peer: None, caplog, proxy_timeout=200)
    assert 0.15 <= elapsed < 1.0
    assert drops.firsts[0]["reason"] == diagnostics.DROP_PROXY_TIMEOUT


def test_untrusted_peer__dropped_before_reading(
    server_factory: Callable[..., gnet.Server], caplog: pytest.LogCaptureFixture
) -> None:
    drops, events, _ = rejected_case(
        server_factory, _send(V2), caplog, proxy_trusted=["10.0.0.0/8", "192.0.2.1"]
    )
    assert drops.firsts[0]["reason"] == diagnostics.DROP_PROXY_UNTRUSTED
    (rejected,) = [e for e in events if isinstance(e, diagnostics.ProxyHeaderRejected)]
    assert rejected.reason == diagnostics.DROP_PROXY_UNTRUSTED and rejected.error is None


@pytest.mark.parametrize("trusted", ["127.0.0.1", "127.0.0.0/8", ["10.0.0.0/8", "127.0.0.1"]])
def test_trusted_peer__served(
    server_factory: Callable[..., gnet.Server], trusted: Any
) -> None:
    seen = Seen(echo)
    _, port, drops = proxied_server(server_factory, seen, proxy_trusted=trusted)
    with raw_client(port) as peer:
        peer.sendall(V2 + b"ok")
        assert recv_exactly(peer, 2) == b"ok"
    assert seen.at_connection[0]["remote"][1] == 4242 and len(drops) == 0


def test_trusted_as_a_block_list(server_factory: Callable[..., gnet.Server]) -> None:
    peers = gnet.BlockList()
    peers.add_subnet("127.0.0.0", 8)
    seen = Seen(echo)
    _, port, _ = proxied_server(server_factory, seen, proxy_trusted=peers)
    with raw_client(port) as peer:
        peer.sendall(V1 + b"ok")
        assert recv_exactly(peer, 2) == b"ok"


def test_block_list_applies_to_the_real_client(
    server_factory: Callable[..., gnet.Server],
) -> None:
    block_list = gnet.BlockList()
    block_list.add_address("203.0.113.7")  # V2's client; the balancer is 127.0.0.1
    seen = Seen(echo)
    _, port, drops = proxied_server(server_factory, seen, block_list=block_list)
    with recording() as events:
        with raw_client(port) as blocked:
            blocked.sendall(V2 + b"x")
            assert dropped(blocked)
        with raw_client(port) as allowed:
            allowed.sendall(V1 + b"y")  # 203.0.113.8
            assert recv_exactly(allowed, 1) == b"y"
    assert [s["remote"][0] for s in seen.at_connection] == ["203.0.113.8"]
    assert len(drops) == 0  # as Node's block list: closed, no 'drop'
    (blocked_event,) = [e for e in events if isinstance(e, diagnostics.ConnectionDropped)]
    assert blocked_event.reason == diagnostics.DROP_BLOCK_LIST
    assert blocked_event.data["remote_address"] == "203.0.113.7"


def test_received_event(server_factory: Callable[..., gnet.Server]) -> None:
    seen = Seen(echo)
    _, port, _ = proxied_server(server_factory, seen)
    with recording() as events, raw_client(port) as peer:
        peer.sendall(V2)
        seen.wait()
    received = [e for e in events if isinstance(e, diagnostics.ProxyHeaderReceived)]
    accepted = [e for e in events if isinstance(e, diagnostics.ConnectionAccepted)]
    assert len(received) == 1 and len(accepted) == 1
    assert received[0].version == "v2" and received[0].socket is seen.socks[0]
    assert received[0].header["source_port"] == 4242
    assert events.index(received[0]) < events.index(accepted[0])


# ----------------------------------------------------------------------
# a stalled header holds up nothing else; limits count it


def test_stalled_headers_do_not_hold_up_accepting_or_other_connections(
    server_factory: Callable[..., gnet.Server],
) -> None:
    seen = Seen(echo)
    server, port, _ = proxied_server(server_factory, seen, proxy_timeout=TIMEOUT * 1000)
    silent = [raw_client(port) for _ in range(20)]
    try:
        with gevent.Timeout(TIMEOUT):
            while server.connections < 20:
                gevent.sleep(0.005)
        with raw_client(port) as prompt:
            prompt.sendall(V2 + b"served")
            assert recv_exactly(prompt, 6) == b"served"
    finally:
        for sock in silent:
            sock.close()


def test_max_connections_counts_those_waiting_for_their_header(
    server_factory: Callable[..., gnet.Server],
) -> None:
    seen = Seen(echo)
    server, port, drops = proxied_server(server_factory, seen, proxy_timeout=TIMEOUT * 1000)
    server.max_connections = 1
    with raw_client(port) as waiting:
        with gevent.Timeout(TIMEOUT):
            while server.connections < 1:
                gevent.sleep(0.005)
        with raw_client(port) as over:
            assert dropped(over)
        drops.wait()
        assert "reason" not in drops.firsts[0]  # Node's max_connections drop, unchanged
        waiting.sendall(V2 + b"in")
        assert recv_exactly(waiting, 2) == b"in"


def test_shutdown_while_a_header_is_awaited(server_factory: Callable[..., gnet.Server]) -> None:
    seen = Seen(echo)
    server, port, drops = proxied_server(server_factory, seen, proxy_timeout=TIMEOUT * 1000)
    with raw_client(port) as silent:
        with gevent.Timeout(TIMEOUT):
            while server.connections < 1:
                gevent.sleep(0.005)
        assert server.shutdown(timeout=0.2) == 1  # destroyed at the deadline
        assert dropped(silent)
    assert seen.socks == [] and len(drops) == 0


def test_no_leaks_after_every_kind_of_rejection(
    server_factory: Callable[..., gnet.Server],
) -> None:
    # The no_leaks fixture checks descriptors and greenlets after this.
    seen = Seen(echo)
    server, port, drops = proxied_server(
        server_factory, seen, proxy_protocol="v2", proxy_timeout=200
    )
    peers = [raw_client(port) for _ in range(4)]
    peers[0].sendall(b"garbage that is not a header")
    peers[1].sendall(V2[:10])
    peers[1].shutdown(socket.SHUT_WR)
    peers[2].sendall(V2[:10])  # then silence: the timeout
    peers[3].setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, LINGER_0)
    peers[3].sendall(V2[:10])
    peers[3].close()  # a reset inside the header
    for peer in peers[:3]:
        assert dropped(peer)
        peer.close()
    drops.wait(4)
    with gevent.Timeout(TIMEOUT):
        while server.connections:
            gevent.sleep(0.005)
    reasons = sorted(d["reason"] for d in drops.firsts)
    assert reasons == [diagnostics.DROP_PROXY_REJECTED] * 3 + [diagnostics.DROP_PROXY_TIMEOUT]
    assert all(d["remote_address"] == "127.0.0.1" for d in drops.firsts)  # the reset one too
