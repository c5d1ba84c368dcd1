"""A gnet.tls server under the Prometheus exporter: each connection is counted
once (its raw socket stands for it; the wire's bytes), labelled TLS, and its
handshakes are counted from the events the TLS sockets publish."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from tls_support import client_options, server_options

import gnet
import gnet.tls as tls
from support import Collector, port_of, wait_until

prometheus_client = pytest.importorskip("prometheus_client", reason="prometheus-client not installed")
from prometheus_client.parser import text_string_to_metric_families  # noqa: E402

from gnet.metrics.prometheus import PrometheusMetrics  # noqa: E402

T = 5.0


def scrape(registry: Any) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    text = prometheus_client.generate_latest(registry).decode()
    return {
        (s.name, frozenset(s.labels.items())): float(s.value)
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def value(samples: dict[Any, float], name: str, **labels: str) -> float:
    found = [v for (n, ls), v in samples.items() if n == name and set(labels.items()) <= ls]
    assert len(found) == 1, (name, labels)
    return found[0]


@pytest.fixture
def metrics() -> Iterator[PrometheusMetrics]:
    registry = prometheus_client.CollectorRegistry()
    with PrometheusMetrics(registry) as installed:
        yield installed


def test_tls_connections_are_counted_once(metrics: PrometheusMetrics, track: Any) -> None:
    raws = Collector()
    server = track(tls.create_server(server_options(), lambda s: s.pipe(s)))
    server.on("connection", raws)
    errors = Collector()
    server.on("tlsClientError", errors)
    server.listen(0, "127.0.0.1")
    gnet.once(server, "listening", timeout=T)
    for _ in range(3):
        with tls.connect(port_of(server), "localhost", client_options()) as sock:
            sock.sendall(b"x" * 1000)
            assert sock.recv_exactly(1000, timeout=T) == b"x" * 1000
    bad = track(tls.connect(port_of(server), "localhost"))  # trusts only the system's CAs
    bad.on("error", lambda err: None)
    wait_until(lambda: len(raws) == 4)
    wait_until(lambda: server.connections == 0)
    wait_until(lambda: all(raw.destroyed for (raw,) in raws.calls))
    samples = scrape(metrics.registry)
    labels = {"server": f"127.0.0.1:{port_of(server)}", "tls": "true"}
    assert value(samples, "gnet_connections_total", **labels) == 4
    assert value(samples, "gnet_connections_closed_total", outcome="clean", **labels) == 3
    assert value(samples, "gnet_connections_closed_total", outcome="error", **labels) == 1
    wire = sum(raw.bytes_read for (raw,) in raws.calls)
    assert value(samples, "gnet_bytes_received_total", **labels) == wire > 3000
    # The rejecting client hung up before its Finished: a failed handshake for the server.
    assert value(samples, "gnet_tls_handshake_duration_seconds_count", **labels) == 3
    assert value(samples, "gnet_tls_handshake_failures_total", code="ECONNRESET", **labels) == 1
    assert value(samples, "gnet_tls_handshakes_active", **labels) == 0
    assert [err.code for err, _ in errors.calls] == ["ECONNRESET"]
