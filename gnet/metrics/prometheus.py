"""Prometheus metrics for gnet servers (extra ``gnet[prometheus]``: the official ``prometheus-client``).

Install once, before the servers start listening::

    from gnet.metrics.prometheus import PrometheusMetrics

    metrics = PrometheusMetrics()      # registry=None: prometheus_client.REGISTRY
    metrics.install()                  # or: with PrometheusMetrics() as metrics: ...
    ...
    metrics.uninstall()

then expose the registry as usual (``prometheus_client.start_http_server``,
a WSGI app, or gnet's own :func:`gnet.metrics.http.create_metrics_server`).

Counters and histograms move with :mod:`gnet.diagnostics` events; gauges are
read from the live servers and sockets when Prometheus scrapes.  Every
server metric has the labels ``server`` (``host:port`` or the socket path),
``transport`` (``tcp``/``unix``) and ``tls`` (``true``/``false``); a few add
one bounded label (``outcome``, ``reason``, ``error_type``, ``code``).

========================================  =======  ===========================================
name                                      type     meaning
========================================  =======  ===========================================
``gnet_connections_total``                counter  connections that reached ``'connection'``
``gnet_connections_active``               gauge    of those, still open
``gnet_connections_queued``               gauge    accepted, not yet at ``'connection'``
``gnet_connections_closed_total``         counter  by ``outcome``: clean, error, timeout, dropped
``gnet_connection_errors_total``          counter  closed with an error, by ``error_type``
``gnet_connections_dropped_total``        counter  refused by ``reason`` (max_connections, ...)
``gnet_connection_duration_seconds``      histo    accept to close
``gnet_bytes_received_total``             counter  bytes read from accepted connections
``gnet_bytes_sent_total``                 counter  bytes written to them (queued included)
``gnet_write_queue_bytes``                gauge    bytes queued for write (``writable_length``)
``gnet_connections_paused``               gauge    connections whose reading is paused
``gnet_connections_write_blocked``        gauge    connections waiting for ``'drain'``
``gnet_backpressure_events_total``        counter  ``write()`` returned False
``gnet_backpressure_seconds_total``       counter  time spent waiting for ``'drain'``
``gnet_socket_timeouts_total``            counter  idle ``'timeout'`` events
``gnet_handler_exceptions_total``         counter  exceptions escaping a handler (bugs)
``gnet_accept_errors_total``              counter  ``accept()`` failures by ``code``
``gnet_server_listening``                 gauge    1 while the server listens
``gnet_tls_handshakes_active``            gauge    TLS handshakes in progress
``gnet_tls_handshake_duration_seconds``   histo    successful TLS handshakes
``gnet_tls_handshake_failures_total``     counter  failed TLS handshakes by ``code``
``gnet_proxy_headers_total``              counter  PROXY headers accepted by ``version``
``gnet_listen_errors_total``              counter  failed ``listen()`` by ``code`` (no server labels)
``gnet_client_connects_total``            counter  client ``connect()`` calls by ``transport``
``gnet_client_connect_failures_total``    counter  failed ones, by ``transport`` and ``error_type``
``gnet_client_connect_duration_seconds``  histo    ``connect()`` to ``'connect'``, by ``transport``
========================================  =======  ===========================================

Per event the collector does a few dict and attribute operations: the
labelled children are made once per server (and per reason) and cached.
With ``PROMETHEUS_MULTIPROC_DIR`` set, the counters and histograms are
shared between processes as prometheus-client does it; the gauges are read
live and so describe the scraped process only.
"""

from __future__ import annotations

import weakref
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.core import GaugeMetricFamily, Metric

from .. import diagnostics as d
from .._aliases import with_camel_aliases
from ..socket import Socket
from ._tracking import Endpoint, TrackedServer, Tracker, client_endpoint

if TYPE_CHECKING:
    from ..server import Server

__all__ = ["PrometheusMetrics", "DURATION_BUCKETS", "HANDSHAKE_BUCKETS"]

# OpenTelemetry's advice for kestrel.connection.duration and tls_handshake.duration.
#: Histogram buckets (seconds) for connection durations.
DURATION_BUCKETS = (0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 30, 60, 120, 300)
#: Histogram buckets (seconds) for TLS handshake durations.
HANDSHAKE_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10)

_LABELS = ("server", "transport", "tls")


class _Instruments:
    """The prometheus-client metric objects of one PrometheusMetrics (not registered:
    the collector yields them, after counting the live connections' bytes)."""

    def __init__(self, namespace: str) -> None:
        def name(short: str) -> str:
            return f"{namespace}_{short}"

        def counter(short: str, doc: str, *extra: str) -> Counter:
            return Counter(name(short), doc, _LABELS + extra, registry=None)

        self.connections = counter("connections", "Connections that reached 'connection'.")
        self.closed = counter(
            "connections_closed", "Accepted connections closed, by outcome.", "outcome"
        )
        self.errors = counter(
            "connection_errors", "Accepted connections closed by an error.", "error_type"
        )
        self.dropped = counter(
            "connections_dropped", "Connections the server refused, by reason.", "reason"
        )
        self.duration = Histogram(
            name("connection_duration_seconds"),
            "Seconds from accept to close.",
            _LABELS,
            buckets=DURATION_BUCKETS,
            registry=None,
        )
        self.received = counter("bytes_received", "Bytes read from accepted connections.")
        self.sent = counter(
            "bytes_sent", "Bytes written to accepted connections (queued ones included)."
        )
        self.backpressure = counter(
            "backpressure_events", "write() calls that returned False (buffer full)."
        )
        self.backpressure_seconds = counter(
            "backpressure_seconds", "Seconds writers waited for 'drain'."
        )
        self.timeouts = counter("socket_timeouts", "Idle 'timeout' events (set_timeout).")
        self.exceptions = counter(
            "handler_exceptions", "Exceptions that escaped a listener or handler."
        )
        self.accept_errors = counter("accept_errors", "accept() failures, by code.", "code")
        self.tls_active = Gauge(
            name("tls_handshakes_active"),
            "TLS handshakes in progress.",
            _LABELS,
            registry=None,
            multiprocess_mode="livesum",
        )
        self.tls_duration = Histogram(
            name("tls_handshake_duration_seconds"),
            "Seconds taken by successful TLS handshakes.",
            _LABELS,
            buckets=HANDSHAKE_BUCKETS,
            registry=None,
        )
        self.tls_failures = counter(
            "tls_handshake_failures", "Failed TLS handshakes, by code.", "code"
        )
        self.proxy_headers = counter(
            "proxy_headers", "PROXY protocol headers accepted, by version.", "version"
        )
        self.listen_errors = Counter(
            name("listen_errors"), "Failed listen() calls, by code.", ("code",), registry=None
        )
        self.client_connects = Counter(
            name("client_connects"), "Client connect() calls.", ("transport",), registry=None
        )
        self.client_failures = Counter(
            name("client_connect_failures"),
            "Failed client connects, by error type.",
            ("transport", "error_type"),
            registry=None,
        )
        self.client_duration = Histogram(
            name("client_connect_duration_seconds"),
            "Seconds from connect() to 'connect' (lookup included).",
            ("transport",),
            buckets=HANDSHAKE_BUCKETS,
            registry=None,
        )

    def all(self) -> list[Any]:
        return list(vars(self).values())


class _Server(TrackedServer):
    """A server's cached children: per event, no label lookup."""

    __slots__ = (
        "labels", "connections", "received", "sent", "duration", "backpressure",
        "backpressure_seconds", "timeouts", "exceptions", "tls_active", "tls_duration",
        "_closed", "_errors", "_dropped", "_accept_errors", "_tls_failures", "_proxy",
        "_instruments",
    )  # fmt: skip

    def __init__(
        self,
        ref: weakref.ref[Server],
        endpoint: Endpoint,
        complete: bool,
        instruments: _Instruments,
    ) -> None:
        super().__init__(ref, endpoint, complete)
        self._instruments = instruments
        self.bind(endpoint)

    def bind(self, endpoint: Endpoint) -> None:
        """(Re)make the children for ``endpoint``'s labels."""
        self.endpoint = endpoint
        m = self._instruments
        labels = self.labels = (
            endpoint.name,
            endpoint.transport,
            "true" if endpoint.tls else "false",
        )
        self.connections = m.connections.labels(*labels)
        self.received = m.received.labels(*labels)
        self.sent = m.sent.labels(*labels)
        self.duration = m.duration.labels(*labels)
        self.backpressure = m.backpressure.labels(*labels)
        self.backpressure_seconds = m.backpressure_seconds.labels(*labels)
        self.timeouts = m.timeouts.labels(*labels)
        self.exceptions = m.exceptions.labels(*labels)
        self.tls_active = m.tls_active.labels(*labels)
        self.tls_duration = m.tls_duration.labels(*labels)
        self._closed: dict[str, Any] = {}
        self._errors: dict[str, Any] = {}
        self._dropped: dict[str, Any] = {}
        self._accept_errors: dict[str, Any] = {}
        self._tls_failures: dict[str, Any] = {}
        self._proxy: dict[str, Any] = {}

    def _child(self, cache: dict[str, Any], metric: Counter, value: str) -> Any:
        child = cache.get(value)
        if child is None:
            child = cache[value] = metric.labels(*self.labels, value)
        return child

    def closed(self, outcome: str) -> Any:
        return self._child(self._closed, self._instruments.closed, outcome)

    def errors(self, error_type: str) -> Any:
        return self._child(self._errors, self._instruments.errors, error_type)

    def dropped(self, reason: str) -> Any:
        return self._child(self._dropped, self._instruments.dropped, reason)

    def accept_errors(self, code: str) -> Any:
        return self._child(self._accept_errors, self._instruments.accept_errors, code)

    def tls_failures(self, code: str) -> Any:
        return self._child(self._tls_failures, self._instruments.tls_failures, code)

    def proxy(self, version: str) -> Any:
        return self._child(self._proxy, self._instruments.proxy_headers, version)


@with_camel_aliases
class PrometheusMetrics(Tracker[_Server]):
    """gnet's metrics in a prometheus-client registry.

    ``PrometheusMetrics(registry=None, namespace='gnet')``: ``registry``
    defaults to ``prometheus_client.REGISTRY``.  :meth:`install` subscribes
    to gnet's diagnostics and registers one collector; :meth:`uninstall`
    undoes both; the object is also a context manager.  Install before the
    servers start listening: a server is known from its first event.
    """

    def __init__(self, registry: CollectorRegistry | None = None, namespace: str = "gnet") -> None:
        super().__init__()
        if registry is None:
            from prometheus_client import REGISTRY

            registry = REGISTRY
        self.registry = registry
        self.namespace = namespace
        self._m = _Instruments(namespace)
        self._client_transport: dict[Socket, str] = {}
        self._registered = False
        self._handlers = {
            d.ServerListening: self._on_listening,
            d.ListenFailed: self._on_listen_failed,
            d.AcceptFailed: self._on_accept_failed,
            d.ConnectionDropped: self._on_dropped,
            d.ConnectionAccepted: self._on_accepted,
            d.ConnectionClosed: self._on_closed,
            d.ClientConnectStarted: self._on_client_started,
            d.ClientConnected: self._on_client_connected,
            d.ClientConnectFailed: self._on_client_failed,
            d.SocketTimeout: self._on_timeout,
            d.BackpressureStarted: self._on_backpressure,
            d.BackpressureEnded: self._on_drained,
            d.TLSHandshakeStarted: self._on_tls_started,
            d.TLSHandshakeCompleted: self._on_tls_completed,
            d.TLSHandshakeFailed: self._on_tls_failed,
            d.ProxyHeaderReceived: self._on_proxy_header,
            d.ListenerException: self._on_listener_exception,
        }

    # -- installing --------------------------------------------------------

    def install(self) -> PrometheusMetrics:
        """Register with the registry and subscribe to gnet's events; returns self."""
        if not self._registered:
            self.registry.register(self)
            self._registered = True
        self._subscribe()
        return self

    def uninstall(self) -> None:
        """Unsubscribe and unregister; the values collected so far are dropped."""
        self._unsubscribe()
        self._client_transport.clear()
        if self._registered:
            self.registry.unregister(self)
            self._registered = False

    def __enter__(self) -> PrometheusMetrics:
        return self.install()

    def __exit__(self, *exc: object) -> None:
        self.uninstall()

    def _new_entry(self, ref: weakref.ref[Server], endpoint: Endpoint, complete: bool) -> _Server:
        return _Server(ref, endpoint, complete, self._m)

    def _relabel(self, entry: _Server, endpoint: Endpoint) -> None:
        self.flush_bytes(entry)  # bytes so far belong to the old address
        entry.bind(endpoint)

    def _count_bytes(self, entry: _Server, read: int, written: int) -> None:
        if read:
            entry.received.inc(read)
        if written:
            entry.sent.inc(written)

    # -- events ------------------------------------------------------------

    def _on_listening(self, event: d.ServerListening) -> None:
        self._entry(event.server, event.address, listening=True)

    def _on_listen_failed(self, event: d.ListenFailed) -> None:
        self._m.listen_errors.labels(d.error_type(event.error)).inc()

    def _on_accept_failed(self, event: d.AcceptFailed) -> None:
        self._entry(event.server).accept_errors(d.error_type(event.error)).inc()

    def _on_dropped(self, event: d.ConnectionDropped) -> None:
        self._entry(event.server).dropped(event.reason).inc()

    def _on_accepted(self, event: d.ConnectionAccepted) -> None:
        self._track_accepted(event).connections.inc()

    def _on_closed(self, event: d.ConnectionClosed) -> None:
        entry = self._track_closed(event)
        if entry is None:
            self._client_transport.pop(event.socket, None)  # destroyed while connecting
            return
        entry.closed(event.outcome).inc()
        if event.error is not None:
            entry.errors(d.error_type(event.error)).inc()
        if event.duration is not None:
            entry.duration.observe(event.duration)

    def _on_client_started(self, event: d.ClientConnectStarted) -> None:
        transport = client_endpoint(event.options).transport
        self._client_transport[event.socket] = transport
        self._m.client_connects.labels(transport).inc()

    def _on_client_connected(self, event: d.ClientConnected) -> None:
        transport = self._client_transport.pop(event.socket, None)
        if transport is not None and event.duration is not None:
            self._m.client_duration.labels(transport).observe(event.duration)

    def _on_client_failed(self, event: d.ClientConnectFailed) -> None:
        transport = self._client_transport.pop(event.socket, None) or "tcp"
        self._m.client_failures.labels(transport, d.error_type(event.error)).inc()

    def _on_timeout(self, event: d.SocketTimeout) -> None:
        entry = self._socket_entry(event.socket)
        if entry is not None:
            entry.timeouts.inc()

    def _on_backpressure(self, event: d.BackpressureStarted) -> None:
        entry = self._socket_entry(event.socket)
        if entry is not None:
            entry.backpressure.inc()

    def _on_drained(self, event: d.BackpressureEnded) -> None:
        entry = self._socket_entry(event.socket)
        if entry is not None:
            entry.backpressure_seconds.inc(event.duration)

    def _on_tls_started(self, event: d.TLSHandshakeStarted) -> None:
        entry = self._socket_entry(event.socket) if event.server_side else None
        if entry is not None:
            entry.tls_active.inc()

    def _on_tls_completed(self, event: d.TLSHandshakeCompleted) -> None:
        entry = self._socket_entry(event.socket) if event.server_side else None
        if entry is not None:
            entry.tls_active.dec()
            entry.tls_duration.observe(event.duration)

    def _on_tls_failed(self, event: d.TLSHandshakeFailed) -> None:
        entry = self._socket_entry(event.socket) if event.server_side else None
        if entry is not None:
            entry.tls_active.dec()
            entry.tls_failures(event.code or d.error_type(event.error)).inc()

    def _on_proxy_header(self, event: d.ProxyHeaderReceived) -> None:
        entry = self._socket_entry(event.socket)
        if entry is not None:
            entry.proxy(event.version).inc()

    def _on_listener_exception(self, event: d.ListenerException) -> None:
        if isinstance(event.emitter, Socket):
            entry = self._socket_entry(event.emitter)
            if entry is not None:
                entry.exceptions.inc()

    # -- the collector -----------------------------------------------------

    def describe(self) -> Iterator[Metric]:
        """The metric families this collector yields (for the registry's name check)."""
        for instrument in self._m.all():
            yield from instrument.describe()
        yield from self._live_families()

    def collect(self) -> Iterator[Metric]:
        """Called by the registry at each scrape: live gauges, then the counters."""
        entries = self.entries()
        for entry, _server in entries:
            self.flush_bytes(entry)
        for instrument in self._m.all():
            yield from instrument.collect()
        yield from self._live_families(entries)

    def _live_families(
        self, entries: Iterable[tuple[_Server, Server]] = ()
    ) -> Iterator[GaugeMetricFamily]:
        ns = self.namespace

        def gauge(short: str, doc: str) -> GaugeMetricFamily:
            return GaugeMetricFamily(f"{ns}_{short}", doc, labels=_LABELS)

        active = gauge("connections_active", "Open connections that reached 'connection'.")
        queued = gauge("connections_queued", "Connections accepted, not yet at 'connection'.")
        queue_bytes = gauge("write_queue_bytes", "Bytes queued for write (writable_length).")
        paused = gauge("connections_paused", "Connections whose reading is paused.")
        blocked = gauge("connections_write_blocked", "Connections waiting for 'drain'.")
        listening = gauge("server_listening", "1 while the server listens.")
        for entry, server in entries:
            is_listening = server.listening
            if not is_listening and not server.connections:
                continue  # closed: its counters remain, its gauges go
            labels = list(entry.labels)
            queued.add_metric(labels, entry.queued(server))
            active.add_metric(labels, entry.active(server))
            total = n_paused = n_blocked = 0
            for sock in list(entry.sockets):
                total += sock.writable_length
                if sock.is_paused():
                    n_paused += 1
                if sock.writable_need_drain:
                    n_blocked += 1
            queue_bytes.add_metric(labels, total)
            paused.add_metric(labels, n_paused)
            blocked.add_metric(labels, n_blocked)
            listening.add_metric(labels, 1 if is_listening else 0)
        yield from (active, queued, queue_bytes, paused, blocked, listening)
