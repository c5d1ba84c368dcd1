"""gnet.metrics.otel: real gnet servers and clients, read back through the OpenTelemetry SDK.

Each test gives OpenTelemetryMetrics a MeterProvider of its own with an
InMemoryMetricReader (and, for spans, a TracerProvider with an in-memory
exporter), drives connections in-process, and reads what the SDK collected.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from typing import Any

import gevent
import pytest

import gnet
from gnet import diagnostics
from support import port_of

pytest.importorskip("opentelemetry.sdk", reason="opentelemetry-sdk not installed")
from opentelemetry.sdk.metrics import MeterProvider  # noqa: E402
from opentelemetry.sdk.metrics.export import InMemoryMetricReader  # noqa: E402
from opentelemetry.sdk.trace import TracerProvider  # noqa: E402
from opentelemetry.sdk.trace.export import SimpleSpanProcessor  # noqa: E402
from opentelemetry.sdk.trace.export.in_memory_span_exporter import (  # noqa: E402
    InMemorySpanExporter,
)
from opentelemetry.trace import SpanKind, StatusCode  # noqa: E402

from gnet.metrics.otel import DURATION_BUCKETS, OpenTelemetryMetrics  # noqa: E402

T = 5.0


class Reader:
    """The SDK's in-memory reader, with lookups by instrument name and attributes."""

    def __init__(self) -> None:
        self.reader = InMemoryMetricReader()
        self.provider = MeterProvider(metric_readers=[self.reader])
        self.metrics: dict[str, Any] = {}

    def collect(self) -> Reader:
        self.metrics = {}
        data = self.reader.get_metrics_data()
        for resource in data.resource_metrics if data else ():
            for scope in resource.scope_metrics:
                assert scope.scope.name == "gnet"
                for metric in scope.metrics:
                    self.metrics[metric.name] = metric
        return self

    def points(self, name: str, **attrs: Any) -> list[Any]:
        metric = self.metrics.get(name)
        if metric is None:
            return []
        return [
            p
            for p in metric.data.data_points
            if all(p.attributes.get(k.replace("_", ".")) == v for k, v in attrs.items())
        ]

    def point(self, name: str, **attrs: Any) -> Any:
        found = self.points(name, **attrs)
        assert len(found) == 1, (name, attrs, found)
        return found[0]


@pytest.fixture
def reader() -> Iterator[Reader]:
    r = Reader()
    try:
        yield r
    finally:
        r.provider.shutdown()


@pytest.fixture
def otel(reader: Reader) -> Iterator[OpenTelemetryMetrics]:
    with OpenTelemetryMetrics(reader.provider) as installed:
        yield installed


def listen_local(server: gnet.Server) -> int:
    server.listen(0, "127.0.0.1")
    gnet.once(server, "listening", timeout=T)
    return port_of(server)


def echo(conn: gnet.Socket) -> None:
    conn.on("data", conn.write)
    conn.on("error", lambda err: None)


def record_closes(server: gnet.Server) -> list[gnet.Socket]:
    closed: list[gnet.Socket] = []
    server.on("connection", lambda conn: conn.on("close", lambda _e: closed.append(conn)))
    return closed


def wait_until(predicate: Any, timeout: float = T) -> None:
    with gevent.Timeout(timeout, AssertionError("condition not reached")):
        while not predicate():
            gevent.sleep(0.005)


def server_attrs(port: int) -> dict[str, Any]:
    return {
        "network.transport": "tcp",
        "network.type": "ipv4",
        "server.address": "127.0.0.1",
        "server.port": port,
    }


# ==========================================================================


def test_echo__semantic_convention_instruments(
    reader: Reader, otel: OpenTelemetryMetrics, track: Any
) -> None:
    server: gnet.Server = track(gnet.create_server(echo))
    closed = record_closes(server)
    port = listen_local(server)
    payloads = [b"a" * 5, b"b" * 5000, b"c" * 200_000]
    for payload in payloads:
        with gnet.open_connection(port, "127.0.0.1", timeout=T) as peer:
            peer.sendall(payload, timeout=T)
            assert peer.recv_exactly(len(payload), timeout=T) == payload
    wait_until(lambda: len(closed) == len(payloads))
    total = sum(map(len, payloads))

    reader.collect()
    duration = reader.point("gnet.connection.duration", server_port=port)
    assert dict(duration.attributes) == server_attrs(port)  # no error.type: all clean
    assert duration.count == len(payloads)
    assert tuple(duration.explicit_bounds) == DURATION_BUCKETS
    assert reader.metrics["gnet.connection.duration"].unit == "s"
    assert reader.point("gnet.active_connections", server_port=port).value == 0
    assert reader.point("gnet.queued_connections", server_port=port).value == 0
    assert (
        reader.point("gnet.network.io", server_port=port, network_io_direction="receive").value
        == total
    )
    assert (
        reader.point("gnet.network.io", server_port=port, network_io_direction="transmit").value
        == total
    )
    assert reader.metrics["gnet.network.io"].unit == "By"
    client = reader.point("gnet.client.connect.duration")
    assert client.count == len(payloads)
    assert dict(client.attributes) == {
        "network.transport": "tcp",
        "server.address": "127.0.0.1",
        "server.port": port,
    }


def test_active_connections__while_open(
    reader: Reader, otel: OpenTelemetryMetrics, track: Any
) -> None:
    conns: list[gnet.Socket] = []
    server: gnet.Server = track(gnet.create_server(conns.append))
    port = listen_local(server)
    for _ in range(3):
        track(gnet.open_connection(port, "127.0.0.1", timeout=T)).on("error", lambda e: None)
    wait_until(lambda: len(conns) == 3)
    conns[0].write(b"x" * 10)
    reader.collect()
    assert reader.point("gnet.active_connections", server_port=port).value == 3
    assert (
        reader.point("gnet.network.io", server_port=port, network_io_direction="transmit").value
        == 10
    )
    assert reader.metrics["gnet.active_connections"].unit == "{connection}"


def test_reset__duration_carries_error_type(
    reader: Reader, otel: OpenTelemetryMetrics, track: Any
) -> None:
    server: gnet.Server = track(gnet.create_server(echo))
    closed = record_closes(server)
    port = listen_local(server)
    raw = socket.create_connection(("127.0.0.1", port), timeout=T)
    wait_until(lambda: server.connections == 1)
    raw.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
    raw.close()
    wait_until(lambda: len(closed) == 1)
    reader.collect()
    point = reader.point("gnet.connection.duration", server_port=port)
    assert point.attributes["error.type"] == "ECONNRESET"
    assert point.count == 1


def test_unix_server__attributes(
    reader: Reader, otel: OpenTelemetryMetrics, track: Any, sock_path: str
) -> None:
    server: gnet.Server = track(gnet.create_server(echo))
    closed = record_closes(server)
    server.listen(sock_path)
    gnet.once(server, "listening", timeout=T)
    with gnet.open_connection(sock_path, timeout=T) as peer:
        peer.sendall(b"abc", timeout=T)
        assert peer.recv_exactly(3, timeout=T) == b"abc"
    wait_until(lambda: len(closed) == 1)
    reader.collect()
    point = reader.point("gnet.connection.duration", network_transport="unix")
    assert dict(point.attributes) == {"network.transport": "unix", "server.address": sock_path}


def test_rejection_accept_timeout_and_tls_events__recorded(
    reader: Reader, otel: OpenTelemetryMetrics, track: Any
) -> None:
    conns: list[gnet.Socket] = []
    server: gnet.Server = track(gnet.create_server(conns.append))
    port = listen_local(server)
    track(gnet.open_connection(port, "127.0.0.1", timeout=T)).on("error", lambda e: None)
    wait_until(lambda: len(conns) == 1)
    (conn,) = conns
    publish = diagnostics.publish
    publish(diagnostics.ConnectionDropped(server, diagnostics.DROP_MAX_CONNECTIONS))
    publish(diagnostics.AcceptFailed(server, gnet.errors.system_error("EMFILE", "accept"), 0.1))
    publish(diagnostics.TLSHandshakeStarted(conn, True))
    publish(diagnostics.TLSHandshakeStarted(conn, True))
    publish(
        diagnostics.TLSHandshakeCompleted(conn, True, 0.004, "TLSv1.3", "TLS_AES_128_GCM_SHA256")
    )
    publish(
        diagnostics.TLSHandshakeFailed(
            conn, True, TimeoutError(), 10.0, "ERR_TLS_HANDSHAKE_TIMEOUT"
        )
    )
    publish(diagnostics.SocketTimeout(conn, 500))
    publish(diagnostics.BackpressureEnded(conn, 0.02))
    reader.collect()
    rejected = reader.point("gnet.rejected_connections", server_port=port)
    assert rejected.value == 1 and rejected.attributes["error.type"] == "max_connections"
    assert reader.point("gnet.accept.errors", server_port=port).attributes["error.type"] == "EMFILE"
    assert reader.point("gnet.active_tls_handshakes", server_port=port).value == 0
    ok = reader.point("gnet.tls_handshake.duration", tls_protocol_version="1.3")
    assert ok.count == 1 and "error.type" not in ok.attributes
    failed = reader.point("gnet.tls_handshake.duration", error_type="ERR_TLS_HANDSHAKE_TIMEOUT")
    assert failed.count == 1
    assert reader.point("gnet.connection.timeouts", server_port=port).value == 1
    assert reader.point("gnet.backpressure.duration", server_port=port).count == 1
    # The connection negotiated TLS 1.3: its duration says so when it closes.
    closed = []
    conn.on("close", lambda _e: closed.append(conn))
    conn.destroy()
    wait_until(lambda: closed == [conn])
    reader.collect()
    assert (
        reader.point("gnet.connection.duration", server_port=port).attributes[
            "tls.protocol.version"
        ]
        == "1.3"
    )


def test_handler_exception__counted_with_its_type(
    reader: Reader, otel: OpenTelemetryMetrics, track: Any, caplog: pytest.LogCaptureFixture
) -> None:
    def handler(conn: gnet.Socket) -> None:
        raise KeyError("bug")

    server: gnet.Server = track(gnet.create_server())
    closed = record_closes(server)  # before the handler, which raises
    server.on("connection", handler)
    port = listen_local(server)
    track(gnet.open_connection(port, "127.0.0.1", timeout=T)).on("error", lambda e: None)
    wait_until(lambda: len(closed) == 1)
    reader.collect()
    point = reader.point("gnet.handler.exceptions", server_port=port)
    assert point.value == 1 and point.attributes["error.type"] == "KeyError"


def test_client_spans__connect_ok_and_refused(reader: Reader, track: Any) -> None:
    exporter = InMemorySpanExporter()
    tracer_provider = TracerProvider()
    tracer_provider.add_span_processor(SimpleSpanProcessor(exporter))
    server: gnet.Server = track(gnet.create_server(echo))
    port = listen_local(server)
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    closed_port = probe.getsockname()[1]
    probe.close()
    with OpenTelemetryMetrics(reader.provider, tracer_provider=tracer_provider, client_spans=True):
        peer = track(gnet.open_connection(port, "127.0.0.1", timeout=T))
        with pytest.raises(ConnectionRefusedError):
            gnet.open_connection(closed_port, "127.0.0.1", timeout=T)
    ok, refused = exporter.get_finished_spans()
    assert ok.name == refused.name == "connect"
    assert ok.kind == SpanKind.CLIENT
    assert ok.attributes["server.address"] == "127.0.0.1"
    assert ok.attributes["server.port"] == port
    assert ok.attributes["network.peer.port"] == port
    assert ok.status.status_code == StatusCode.UNSET
    assert refused.attributes["server.port"] == closed_port
    assert refused.attributes["error.type"] == "ECONNREFUSED"
    assert refused.status.status_code == StatusCode.ERROR
    assert [e.name for e in refused.events] == ["exception"]
    assert ok.end_time is not None and ok.start_time is not None and ok.end_time >= ok.start_time
    reader.collect()
    failed = reader.point("gnet.client.connect.duration", error_type="ECONNREFUSED")
    assert failed.count == 1
    peer.destroy()
    tracer_provider.shutdown()


def test_uninstall__stops_observing(reader: Reader, track: Any) -> None:
    otel = OpenTelemetryMetrics(reader.provider).install()
    server: gnet.Server = track(gnet.create_server(echo))
    port = listen_local(server)
    reader.collect()
    assert reader.point("gnet.active_connections", server_port=port).value == 0
    otel.uninstall()
    reader.collect()
    assert reader.points("gnet.active_connections", server_port=port) == []
