"""gnet.metrics.http: the /metrics responder, spoken to in raw HTTP from a gnet client.

(The server runs in this process's hub, so the client is a gnet socket
rather than a blocking stdlib HTTP client; test_cli_metrics.py scrapes the
CLI's endpoint with http.client from outside.)
"""

from __future__ import annotations

import gzip
from collections.abc import Iterator
from typing import Any

import pytest

import gnet
from support import port_of

prometheus_client = pytest.importorskip(
    "prometheus_client", reason="prometheus-client not installed"
)
from prometheus_client.parser import text_string_to_metric_families  # noqa: E402

from gnet.metrics.http import MAX_HEAD, create_metrics_server  # noqa: E402
from gnet.metrics.prometheus import PrometheusMetrics  # noqa: E402

T = 5.0


@pytest.fixture
def endpoint(track: Any) -> Iterator[tuple[int, Any]]:
    registry = prometheus_client.CollectorRegistry()
    with PrometheusMetrics(registry):
        server: gnet.Server = track(create_metrics_server(registry))
        server.listen(0, "127.0.0.1")
        gnet.once(server, "listening", timeout=T)
        yield port_of(server), registry


def read_response(sock: gnet.Socket, head_only: bool = False) -> tuple[int, dict[str, str], bytes]:
    head = sock.recv_until(b"\r\n\r\n", timeout=T)
    assert isinstance(head, bytes)
    status_line, *lines = head.decode("latin-1").rstrip("\r\n").split("\r\n")
    version, status, _reason = status_line.split(" ", 2)
    assert version == "HTTP/1.1"
    headers = {}
    for line in lines:
        name, _, value = line.partition(":")
        headers[name.lower()] = value.strip()
    length = int(headers["content-length"])
    body = b"" if head_only or not length else sock.recv_exactly(length, timeout=T)
    assert isinstance(body, bytes)
    return int(status), headers, body


def request(port: int, raw: bytes, head_only: bool = False) -> tuple[int, dict[str, str], bytes]:
    with gnet.open_connection(port, "127.0.0.1", timeout=T) as sock:
        sock.sendall(raw, timeout=T)
        return read_response(sock, head_only)


def test_get_metrics__text_format_with_the_servers_own_connection(
    endpoint: tuple[int, Any],
) -> None:
    port, _registry = endpoint
    status, headers, body = request(port, b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n")
    assert status == 200
    assert headers["content-type"].startswith("text/plain; version=0.0.4")
    families = {f.name: f for f in text_string_to_metric_families(body.decode())}
    # The scrape's own connection is open while the metrics are collected.
    (active,) = [
        s
        for s in families["gnet_connections_active"].samples
        if s.labels["server"] == f"127.0.0.1:{port}"
    ]
    assert active.value == 1


def test_keep_alive__two_requests_on_one_connection(endpoint: tuple[int, Any]) -> None:
    port, _ = endpoint
    with gnet.open_connection(port, "127.0.0.1", timeout=T) as sock:
        sock.sendall(b"GET /metrics HTTP/1.1\r\n\r\nHEAD /metrics HTTP/1.1\r\n\r\n", timeout=T)
        status, headers, body = read_response(sock)
        assert status == 200 and headers["connection"] == "keep-alive" and body
        status, headers, body = read_response(sock, head_only=True)
        assert status == 200 and int(headers["content-length"]) > 0
        sock.sendall(b"GET /metrics HTTP/1.1\r\nConnection: close\r\n\r\n", timeout=T)
        status, headers, body = read_response(sock)
        assert status == 200 and headers["connection"] == "close"
        assert sock.recv(timeout=T) == b""  # the server ended the connection


def test_http_1_0__closes_after_the_response(endpoint: tuple[int, Any]) -> None:
    port, _ = endpoint
    with gnet.open_connection(port, "127.0.0.1", timeout=T) as sock:
        sock.sendall(b"GET /metrics HTTP/1.0\r\n\r\n", timeout=T)
        status, headers, _body = read_response(sock)
        assert (status, headers["connection"]) == (200, "close")
        assert sock.recv(timeout=T) == b""


@pytest.mark.parametrize(
    ("raw", "status"),
    [
        (b"GET / HTTP/1.1\r\n\r\n", 404),
        (b"GET /metricsx HTTP/1.1\r\n\r\n", 404),
        (b"POST /metrics HTTP/1.1\r\nContent-Length: 0\r\n\r\n", 405),
        (b"nonsense\r\n\r\n", 400),
        (b"GET /metrics SPDY/3\r\n\r\n", 400),
        (b"GET /metrics HTTP/1.1\r\nno colon here\r\n\r\n", 400),
    ],
)
def test_errors(endpoint: tuple[int, Any], raw: bytes, status: int) -> None:
    port, _ = endpoint
    got, headers, _body = request(port, raw)
    assert got == status
    if status == 405:
        assert headers["allow"] == "GET, HEAD"


def test_query_string__ignored(endpoint: tuple[int, Any]) -> None:
    port, _ = endpoint
    assert request(port, b"GET /metrics?x=1 HTTP/1.1\r\n\r\n")[0] == 200


def test_oversized_head__431_and_closed(endpoint: tuple[int, Any]) -> None:
    port, _ = endpoint
    with gnet.open_connection(port, "127.0.0.1", timeout=T) as sock:
        sock.on("error", lambda err: None)
        sock.write(b"GET /metrics HTTP/1.1\r\nX-Long: " + b"a" * MAX_HEAD + b"\r\n\r\n")
        status, headers, _ = read_response(sock)
        assert (status, headers["connection"]) == (431, "close")


def test_openmetrics_and_gzip__negotiated(endpoint: tuple[int, Any]) -> None:
    port, _ = endpoint
    status, headers, body = request(
        port,
        b"GET /metrics HTTP/1.1\r\nAccept: application/openmetrics-text; version=1.0.0\r\n"
        b"Accept-Encoding: gzip\r\n\r\n",
    )
    assert status == 200
    assert headers["content-type"].startswith("application/openmetrics-text")
    assert headers["content-encoding"] == "gzip"
    assert gzip.decompress(body).endswith(b"# EOF\n")


def test_path_must_be_absolute() -> None:
    with pytest.raises(ValueError):
        create_metrics_server(path="metrics")
