"""gnet.metrics.prometheus: real gnet servers and clients, scraped with prometheus-client.

Each test installs a PrometheusMetrics on a registry of its own, drives
connections in-process, renders the registry with ``generate_latest`` and
parses that text with prometheus-client's own parser; the values must be
what the test did (N connections, M bytes).
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from typing import Any

import gevent
import gevent.socket
import pytest

import gnet
from gnet import diagnostics
from support import needs_ipv6, port_of

prometheus_client = pytest.importorskip(
    "prometheus_client", reason="prometheus-client not installed"
)
from prometheus_client.parser import text_string_to_metric_families  # noqa: E402

from gnet.metrics.prometheus import PrometheusMetrics  # noqa: E402

T = 5.0


class Scrape:
    """One scrape, parsed: ``value(name, **labels)``."""

    def __init__(self, registry: Any) -> None:
        text = prometheus_client.generate_latest(registry).decode()
        self.text = text
        self.samples: list[Any] = [
            sample for family in text_string_to_metric_families(text) for sample in family.samples
        ]

    def find(self, name: str, **labels: str) -> list[Any]:
        return [
            s
            for s in self.samples
            if s.name == name and all(s.labels.get(k) == v for k, v in labels.items())
        ]

    def value(self, name: str, **labels: str) -> float:
        found = self.find(name, **labels)
        assert len(found) == 1, (name, labels, found, self.text)
        return float(found[0].value)


@pytest.fixture
def metrics() -> Iterator[PrometheusMetrics]:
    registry = prometheus_client.CollectorRegistry()
    with PrometheusMetrics(registry) as installed:
        yield installed


def listen_local(server: gnet.Server) -> str:
    server.listen(0, "127.0.0.1")
    gnet.once(server, "listening", timeout=T)
    return f"127.0.0.1:{port_of(server)}"


def echo(conn: gnet.Socket) -> None:
    conn.on("data", conn.write)
    conn.on("error", lambda err: None)


def record_closes(server: gnet.Server) -> list[gnet.Socket]:
    """The server's connections that have emitted 'close' (so their ConnectionClosed is counted)."""
    closed: list[gnet.Socket] = []
    server.on("connection", lambda conn: conn.on("close", lambda _e: closed.append(conn)))
    return closed


def wait_until(predicate: Any, timeout: float = T) -> None:
    with gevent.Timeout(timeout, AssertionError("condition not reached")):
        while not predicate():
            gevent.sleep(0.005)


# ==========================================================================


def test_echo__connections_bytes_and_durations_match(
    metrics: PrometheusMetrics, track: Any
) -> None:
    server: gnet.Server = track(gnet.create_server(echo))
    closed = record_closes(server)
    name = listen_local(server)
    payloads = [b"x" * size for size in (1, 10, 1000, 65536, 300_000)]
    for payload in payloads:
        with gnet.open_connection(port_of(server), "127.0.0.1", timeout=T) as peer:
            peer.sendall(payload, timeout=T)
            assert peer.recv_exactly(len(payload), timeout=T) == payload
    wait_until(lambda: len(closed) == len(payloads))
    total = sum(map(len, payloads))

    scrape = Scrape(metrics.registry)
    labels = {"server": name, "transport": "tcp", "tls": "false"}
    assert scrape.value("gnet_connections_total", **labels) == len(payloads)
    assert scrape.value("gnet_bytes_received_total", **labels) == total
    assert scrape.value("gnet_bytes_sent_total", **labels) == total
    assert scrape.value("gnet_connections_closed_total", outcome="clean", **labels) == len(payloads)
    assert scrape.find("gnet_connections_closed_total", outcome="error", **labels) == []
    assert scrape.value("gnet_connection_duration_seconds_count", **labels) == len(payloads)
    assert scrape.value("gnet_connection_duration_seconds_bucket", le="+Inf", **labels) == len(
        payloads
    )
    assert 0 < scrape.value("gnet_connection_duration_seconds_sum", **labels) < 10 * T
    assert scrape.value("gnet_connections_active", **labels) == 0
    assert scrape.value("gnet_connections_queued", **labels) == 0
    assert scrape.value("gnet_server_listening", **labels) == 1
    # The clients were gnet sockets too.
    assert scrape.value("gnet_client_connects_total", transport="tcp") == len(payloads)
    assert scrape.value("gnet_client_connect_duration_seconds_count", transport="tcp") == len(
        payloads
    )


def test_live_state__read_at_scrape_time(metrics: PrometheusMetrics, track: Any) -> None:
    conns: list[gnet.Socket] = []

    def handler(conn: gnet.Socket) -> None:
        conns.append(conn)
        conn.on("error", lambda err: None)

    server: gnet.Server = track(gnet.create_server(handler))
    name = listen_local(server)
    labels = {"server": name, "transport": "tcp", "tls": "false"}
    peers = [track(gnet.open_connection(port_of(server), "127.0.0.1", timeout=T)) for _ in range(3)]
    for peer in peers:
        peer.on("error", lambda err: None)
    wait_until(lambda: len(conns) == 3)

    # Bytes count while the connections are open, not only when they close.
    peers[0].sendall(b"a" * 100, timeout=T)
    wait_until(lambda: conns[0].bytes_read == 100)
    # One connection paused, one with a write queue over its high-water mark.
    conns[1].pause()
    # Fill the kernel buffers: the peer does not read, so write() queues and returns False.
    chunk = b"z" * 1_000_000
    while conns[2].write(chunk):
        pass
    scrape = Scrape(metrics.registry)
    assert scrape.value("gnet_connections_active", **labels) == 3
    assert scrape.value("gnet_connections_queued", **labels) == 0
    assert scrape.value("gnet_bytes_received_total", **labels) == 100
    assert scrape.value("gnet_connections_paused", **labels) == 1
    assert scrape.value("gnet_connections_write_blocked", **labels) == 1
    assert scrape.value("gnet_write_queue_bytes", **labels) == conns[2].writable_length > 0
    assert scrape.value("gnet_bytes_sent_total", **labels) == conns[2].bytes_written

    # A second scrape counts only what moved since: the totals stay exact.
    peers[0].sendall(b"b" * 23, timeout=T)
    wait_until(lambda: conns[0].bytes_read == 123)
    assert Scrape(metrics.registry).value("gnet_bytes_received_total", **labels) == 123
    closed: list[gnet.Socket] = []
    for conn in conns:
        conn.on("close", lambda _e, conn=conn: closed.append(conn))
        conn.destroy()
    wait_until(lambda: len(closed) == 3)
    scrape = Scrape(metrics.registry)
    assert scrape.value("gnet_bytes_received_total", **labels) == 123
    assert scrape.value("gnet_connections_active", **labels) == 0
    assert scrape.value("gnet_write_queue_bytes", **labels) == 0


def test_reset_and_timeout__closed_by_outcome_and_error_type(
    metrics: PrometheusMetrics, track: Any, caplog: pytest.LogCaptureFixture
) -> None:
    closed: list[gnet.Socket] = []

    def handler(conn: gnet.Socket) -> None:
        conn.on("close", lambda _e: closed.append(conn))
        conn.on("error", lambda err: None)
        if conn.remote_port in timeouts:
            conn.recv(timeout=0.01)  # the peer sends nothing: a helper's TimeoutError ends it

    timeouts: set[int] = set()
    server: gnet.Server = track(gnet.create_server(handler))
    name = listen_local(server)
    labels = {"server": name, "transport": "tcp", "tls": "false"}

    raw = socket.create_connection(("127.0.0.1", port_of(server)), timeout=T)
    wait_until(lambda: server.connections == 1)
    raw.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
    raw.close()  # RST
    wait_until(lambda: len(closed) == 1)

    quiet = socket.socket()
    quiet.bind(("127.0.0.1", 0))
    timeouts.add(quiet.getsockname()[1])
    quiet.settimeout(T)
    quiet.connect(("127.0.0.1", port_of(server)))
    try:
        wait_until(lambda: len(closed) == 2)
    finally:
        quiet.close()

    scrape = Scrape(metrics.registry)
    assert scrape.value("gnet_connections_closed_total", outcome="error", **labels) == 1
    assert scrape.value("gnet_connection_errors_total", error_type="ECONNRESET", **labels) == 1
    assert scrape.value("gnet_connections_closed_total", outcome="timeout", **labels) == 1
    assert scrape.value("gnet_connection_errors_total", error_type="TimeoutError", **labels) == 1
    assert scrape.value("gnet_connections_total", **labels) == 2


def test_unix_server__labels(metrics: PrometheusMetrics, track: Any, sock_path: str) -> None:
    server: gnet.Server = track(gnet.create_server(echo))
    closed = record_closes(server)
    server.listen(sock_path)
    gnet.once(server, "listening", timeout=T)
    with gnet.open_connection(sock_path, timeout=T) as peer:
        peer.sendall(b"12345", timeout=T)
        assert peer.recv_exactly(5, timeout=T) == b"12345"
    wait_until(lambda: len(closed) == 1)
    scrape = Scrape(metrics.registry)
    labels = {"server": sock_path, "transport": "unix", "tls": "false"}
    assert scrape.value("gnet_connections_total", **labels) == 1
    assert scrape.value("gnet_bytes_received_total", **labels) == 5
    assert scrape.value("gnet_client_connects_total", transport="unix") == 1


def test_client_connect_failure__counted_by_error_type(
    metrics: PrometheusMetrics, track: Any
) -> None:
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()
    with pytest.raises(ConnectionRefusedError):
        gnet.open_connection(port, "127.0.0.1", timeout=T)
    scrape = Scrape(metrics.registry)
    assert (
        scrape.value(
            "gnet_client_connect_failures_total", transport="tcp", error_type="ECONNREFUSED"
        )
        == 1
    )
    assert scrape.find("gnet_client_connect_duration_seconds_count", transport="tcp") == []


def test_drops_timeouts_backpressure_and_listen_failure__from_real_traffic(
    metrics: PrometheusMetrics, track: Any
) -> None:
    conns: list[gnet.Socket] = []
    idle: list[gnet.Socket] = []

    def handler(conn: gnet.Socket) -> None:
        conns.append(conn)
        conn.set_timeout(20)
        conn.on("timeout", lambda: idle.append(conn))

    block_list = gnet.BlockList()
    server: gnet.Server = track(gnet.create_server({"block_list": block_list}, handler))
    name = listen_local(server)
    port = port_of(server)
    labels = {"server": name, "transport": "tcp", "tls": "false"}
    peer: gnet.Socket = track(gnet.open_connection(port, "127.0.0.1", timeout=T))
    wait_until(lambda: len(idle) == 1)  # an idle 'timeout' (the connection stays open)
    (conn,) = conns
    # Backpressure: write until write() says stop, then let the peer drain it all.
    drained: list[bool] = []
    conn.on("drain", lambda: drained.append(True))
    while conn.write(b"x" * 1_000_000):
        pass
    while peer.bytes_read < conn.bytes_written:
        peer.recv(timeout=T)
    wait_until(lambda: bool(drained))
    # Two drops at the limit, one by the block list.
    server.max_connections = 1
    drops: list[Any] = []
    server.on("drop", drops.append)
    for _ in range(2):
        with socket.create_connection(("127.0.0.1", port), timeout=T):
            pass
    wait_until(lambda: len(drops) == 2)
    block_list.add_address("127.0.0.1")
    with gevent.socket.create_connection(("127.0.0.1", port), timeout=T) as raw:
        assert raw.recv(1) == b""  # closed at once
    # A listen() on the port in use.
    taken: gnet.Server = track(gnet.create_server())
    taken.listen({"port": port, "host": "127.0.0.1", "exclusive": True})
    with pytest.raises(OSError):
        gnet.once(taken, "listening", timeout=T)
    wait_until(lambda: server.connections == 1)
    scrape = Scrape(metrics.registry)
    assert scrape.value("gnet_connections_dropped_total", reason="max_connections", **labels) == 2
    assert scrape.value("gnet_connections_dropped_total", reason="block_list", **labels) == 1
    assert scrape.value("gnet_socket_timeouts_total", **labels) >= 1
    assert scrape.value("gnet_backpressure_events_total", **labels) == 1
    assert scrape.value("gnet_backpressure_seconds_total", **labels) > 0
    assert scrape.value("gnet_connections_write_blocked", **labels) == 0
    assert scrape.value("gnet_listen_errors_total", code="EADDRINUSE") == 1
    assert scrape.value("gnet_connections_total", **labels) == 1


def test_tls_proxy_and_accept_failure_events__counted(
    metrics: PrometheusMetrics, track: Any
) -> None:
    # The events gnet.tls and the PROXY protocol publish, and an accept()
    # failure (EMFILE: tests/net/test_faults.py provokes a real one), fed by
    # hand with a real server and socket.
    conns: list[gnet.Socket] = []
    server: gnet.Server = track(gnet.create_server(conns.append))
    name = listen_local(server)
    labels = {"server": name, "transport": "tcp", "tls": "false"}
    peer: gnet.Socket = track(gnet.open_connection(port_of(server), "127.0.0.1", timeout=T))
    peer.on("error", lambda err: None)
    wait_until(lambda: len(conns) == 1)
    (conn,) = conns
    publish = diagnostics.publish
    publish(diagnostics.AcceptFailed(server, gnet.errors.system_error("EMFILE", "accept"), 0.01))
    publish(diagnostics.TLSHandshakeStarted(conn, True))
    publish(diagnostics.TLSHandshakeStarted(conn, True))
    publish(
        diagnostics.TLSHandshakeCompleted(conn, True, 0.003, "TLSv1.3", "TLS_AES_256_GCM_SHA384")
    )
    publish(diagnostics.ProxyHeaderReceived(conn, "v2", {}))
    publish(diagnostics.ConnectionDropped(server, diagnostics.DROP_PROXY_REJECTED))
    scrape = Scrape(metrics.registry)
    assert scrape.value("gnet_accept_errors_total", code="EMFILE", **labels) == 1
    assert scrape.value("gnet_tls_handshakes_active", **labels) == 1
    assert scrape.value("gnet_tls_handshake_duration_seconds_count", **labels) == 1
    assert scrape.value("gnet_tls_handshake_duration_seconds_bucket", le="0.005", **labels) == 1
    assert scrape.value("gnet_proxy_headers_total", version="v2", **labels) == 1
    assert scrape.value("gnet_connections_dropped_total", reason="proxy_rejected", **labels) == 1
    publish(
        diagnostics.TLSHandshakeFailed(
            conn, True, RuntimeError("x"), 0.1, "ERR_SSL_NO_APPLICATION_PROTOCOL"
        )
    )
    scrape = Scrape(metrics.registry)
    assert scrape.value("gnet_tls_handshakes_active", **labels) == 0
    assert (
        scrape.value(
            "gnet_tls_handshake_failures_total", code="ERR_SSL_NO_APPLICATION_PROTOCOL", **labels
        )
        == 1
    )


def test_handler_exception__counted(
    metrics: PrometheusMetrics, track: Any, caplog: pytest.LogCaptureFixture
) -> None:
    closed: list[gnet.Socket] = []

    def handler(conn: gnet.Socket) -> None:
        conn.on("close", lambda _e: closed.append(conn))
        raise RuntimeError("a bug in the handler")

    server: gnet.Server = track(gnet.create_server(handler))
    name = listen_local(server)
    peer: gnet.Socket = track(gnet.open_connection(port_of(server), "127.0.0.1", timeout=T))
    peer.on("error", lambda err: None)
    wait_until(lambda: len(closed) == 1)
    scrape = Scrape(metrics.registry)
    labels = {"server": name, "transport": "tcp", "tls": "false"}
    assert scrape.value("gnet_handler_exceptions_total", **labels) == 1
    assert scrape.value("gnet_connection_errors_total", error_type="RuntimeError", **labels) == 1


def test_install_uninstall__registry_and_subscription(track: Any) -> None:
    import zope.event

    registry = prometheus_client.CollectorRegistry()
    metrics = PrometheusMetrics(registry)
    assert metrics not in zope.event.subscribers
    metrics.install()
    metrics.install()  # idempotent
    assert zope.event.subscribers.count(metrics) == 1
    assert "gnet_connections_total" in prometheus_client.generate_latest(registry).decode()
    # A second collector on the same registry clashes, as any duplicate metric would.
    with pytest.raises(ValueError):
        PrometheusMetrics(registry).install()
    metrics.uninstall()
    assert metrics not in zope.event.subscribers
    assert prometheus_client.generate_latest(registry) == b""
    # Uninstalled, it no longer counts.
    server: gnet.Server = track(gnet.create_server(echo))
    listen_local(server)
    assert metrics.entries() == []


def test_two_registries__independent(track: Any) -> None:
    first, second = prometheus_client.CollectorRegistry(), prometheus_client.CollectorRegistry()
    with PrometheusMetrics(first):
        server: gnet.Server = track(gnet.create_server(echo))
        closed = record_closes(server)
        name = listen_local(server)
        with PrometheusMetrics(second, namespace="edge"):
            with gnet.open_connection(port_of(server), "127.0.0.1", timeout=T) as peer:
                peer.sendall(b"hi", timeout=T)
                assert peer.recv_exactly(2, timeout=T) == b"hi"
            wait_until(lambda: len(closed) == 1)
            labels = {"server": name, "transport": "tcp", "tls": "false"}
            assert Scrape(first).value("gnet_connections_total", **labels) == 1
            # The second was installed after the server listened: known from its first event.
            assert Scrape(second).value("edge_connections_total", **labels) == 1
            assert Scrape(second).value("edge_connections_queued", **labels) == 0


def test_closed_server__gauges_go_counters_stay(metrics: PrometheusMetrics, track: Any) -> None:
    server: gnet.Server = track(gnet.create_server(echo))
    name = listen_local(server)
    with gnet.open_connection(port_of(server), "127.0.0.1", timeout=T):
        pass
    server.close()
    gnet.once(server, "close", timeout=T)
    scrape = Scrape(metrics.registry)
    labels = {"server": name, "transport": "tcp", "tls": "false"}
    assert scrape.value("gnet_connections_total", **labels) == 1
    assert scrape.find("gnet_server_listening", **labels) == []
    assert scrape.find("gnet_connections_active", **labels) == []


@needs_ipv6
def test_ipv6_server__bracketed_label(metrics: PrometheusMetrics, track: Any) -> None:
    server: gnet.Server = track(gnet.create_server(echo))
    closed = record_closes(server)
    server.listen(0, "::1")
    gnet.once(server, "listening", timeout=T)
    with gnet.open_connection(port_of(server), "::1", timeout=T) as peer:
        peer.sendall(b"v6", timeout=T)
        assert peer.recv_exactly(2, timeout=T) == b"v6"
    wait_until(lambda: len(closed) == 1)
    labels = {"server": f"[::1]:{port_of(server)}", "transport": "tcp", "tls": "false"}
    assert Scrape(metrics.registry).value("gnet_bytes_received_total", **labels) == 2
