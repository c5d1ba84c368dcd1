"""OpenTelemetry metrics (and optional client-connect spans) for gnet (extra ``gnet[otel]``).

Only ``opentelemetry-api`` is needed at run time; the application sets up
the SDK and its exporters as usual.  Install before the servers listen::

    from gnet.metrics.otel import OpenTelemetryMetrics

    otel = OpenTelemetryMetrics()          # the global MeterProvider
    otel.install()                         # or: with OpenTelemetryMetrics(...): ...

The instruments follow the stable semantic conventions OpenTelemetry defines
for a connection-oriented server (Kestrel's ``kestrel.*`` metrics: same
instrument types, units, attributes and bucket advice), named under the
``gnet.`` prefix, since those names belong to Kestrel's own meter:

================================  ======================  =================  ========================
instrument                        type                    unit               Kestrel's counterpart
================================  ======================  =================  ========================
``gnet.active_connections``       UpDownCounter (obs.)    ``{connection}``   active_connections
``gnet.queued_connections``       UpDownCounter (obs.)    ``{connection}``   queued_connections
``gnet.connection.duration``      Histogram               ``s``              connection.duration
``gnet.rejected_connections``     Counter                 ``{connection}``   rejected_connections
``gnet.tls_handshake.duration``   Histogram               ``s``              tls_handshake.duration
``gnet.active_tls_handshakes``    UpDownCounter           ``{handshake}``    active_tls_handshakes
``gnet.network.io``               Counter (obs.)          ``By``             (``system.network.io``)
``gnet.accept.errors``            Counter                 ``{error}``        (none)
``gnet.connection.timeouts``      Counter                 ``{timeout}``      (none)
``gnet.handler.exceptions``       Counter                 ``{exception}``    (none)
``gnet.backpressure.duration``    Histogram               ``s``              (none)
``gnet.client.connect.duration``  Histogram               ``s``              (none)
================================  ======================  =================  ========================

Server attributes: ``network.transport`` (``tcp``/``unix``), ``network.type``
(``ipv4``/``ipv6``, TCP only), ``server.address`` and ``server.port``; plus
``error.type`` where something failed (Node's code, the exception's type, or
for a rejection the ``diagnostics.DROP_*`` reason), ``tls.protocol.version``
on TLS handshakes and TLS connections, ``network.io.direction`` on
``gnet.network.io``.  ``client_spans=True`` also traces each client
``connect()`` as a ``connect`` span (kind CLIENT), ended at ``'connect'`` or
at the failure, which it records.
"""

from __future__ import annotations

import weakref
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, Any

from opentelemetry import metrics as otel_metrics
from opentelemetry import trace as otel_trace
from opentelemetry.metrics import CallbackOptions, Observation
from opentelemetry.trace import SpanKind, Status, StatusCode

from .. import __version__
from .. import diagnostics as d
from .._aliases import with_camel_aliases
from ..socket import Socket
from ._tracking import Endpoint, TrackedServer, Tracker, client_endpoint

if TYPE_CHECKING:
    from opentelemetry.metrics import MeterProvider
    from opentelemetry.trace import Span, TracerProvider

    from ..server import Server

__all__ = ["OpenTelemetryMetrics", "DURATION_BUCKETS", "HANDSHAKE_BUCKETS"]

#: Histogram buckets (seconds) for connection durations.
DURATION_BUCKETS = (0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 30, 60, 120, 300)
#: Histogram buckets (seconds) for TLS handshake durations.
HANDSHAKE_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10)

Attributes = dict[str, Any]


def _attributes(endpoint: Endpoint) -> Attributes:
    attrs: Attributes = {"network.transport": endpoint.transport}
    if endpoint.network_type is not None:
        attrs["network.type"] = endpoint.network_type
    if endpoint.host is not None:
        attrs["server.address"] = endpoint.host
    if endpoint.port is not None:
        attrs["server.port"] = endpoint.port
    return attrs


def _tls_version(protocol: str | None) -> str | None:
    """``'TLSv1.3'`` -> ``'1.3'`` (the attribute wants the numeric part)."""
    if not protocol:
        return None
    for prefix in ("TLSv", "SSLv"):
        if protocol.startswith(prefix):
            return protocol[len(prefix) :]
    return protocol


class _Server(TrackedServer):
    """A server's attribute sets, made once (and once per error type)."""

    __slots__ = ("attrs", "received", "transmitted", "_variants", "tls_versions")

    def __init__(self, ref: weakref.ref[Server], endpoint: Endpoint, complete: bool) -> None:
        super().__init__(ref, endpoint, complete)
        self.bind(endpoint)
        self.received = 0
        self.transmitted = 0
        self.tls_versions: dict[Socket, str] = {}

    def bind(self, endpoint: Endpoint) -> None:
        self.endpoint = endpoint
        self.attrs = _attributes(endpoint)
        self._variants: dict[tuple[str, str | None], Attributes] = {}

    def attrs_for(self, error_type: str, tls_version: str | None = None) -> Attributes:
        key = (error_type, tls_version)
        attrs = self._variants.get(key)
        if attrs is None:
            attrs = dict(self.attrs)
            if error_type:
                attrs["error.type"] = error_type
            if tls_version is not None:
                attrs["tls.protocol.name"] = "tls"
                attrs["tls.protocol.version"] = tls_version
            self._variants[key] = attrs
        return attrs


@with_camel_aliases
class OpenTelemetryMetrics(Tracker[_Server]):
    """gnet's metrics as OpenTelemetry instruments, on the meter ``"gnet"``.

    ``OpenTelemetryMetrics(meter_provider=None, *, tracer_provider=None,
    client_spans=False)``: the providers default to the global ones.  Make
    one per meter provider: instruments cannot be removed from a provider,
    so after :meth:`uninstall` the observable ones report nothing.
    """

    def __init__(
        self,
        meter_provider: MeterProvider | None = None,
        *,
        tracer_provider: TracerProvider | None = None,
        client_spans: bool = False,
    ) -> None:
        super().__init__()
        meter = otel_metrics.get_meter("gnet", __version__, meter_provider=meter_provider)
        self._tracer = (
            otel_trace.get_tracer("gnet", __version__, tracer_provider=tracer_provider)
            if client_spans
            else None
        )
        self._spans: dict[Socket, Span] = {}
        self._clients: dict[Socket, Attributes] = {}
        meter.create_observable_up_down_counter(
            "gnet.active_connections",
            callbacks=[self._observe_active],
            unit="{connection}",
            description="Number of connections that are currently active on the server.",
        )
        meter.create_observable_up_down_counter(
            "gnet.queued_connections",
            callbacks=[self._observe_queued],
            unit="{connection}",
            description="Number of connections that are currently queued and are waiting to start.",
        )
        meter.create_observable_counter(
            "gnet.network.io",
            callbacks=[self._observe_io],
            unit="By",
            description="Bytes received from and sent to the server's connections.",
        )
        self._duration = meter.create_histogram(
            "gnet.connection.duration",
            unit="s",
            description="The duration of connections on the server.",
            explicit_bucket_boundaries_advisory=DURATION_BUCKETS,
        )
        self._rejected = meter.create_counter(
            "gnet.rejected_connections",
            unit="{connection}",
            description="Number of connections rejected by the server.",
        )
        self._tls_duration = meter.create_histogram(
            "gnet.tls_handshake.duration",
            unit="s",
            description="The duration of TLS handshakes on the server.",
            explicit_bucket_boundaries_advisory=HANDSHAKE_BUCKETS,
        )
        self._tls_active = meter.create_up_down_counter(
            "gnet.active_tls_handshakes",
            unit="{handshake}",
            description="Number of TLS handshakes that are currently in progress on the server.",
        )
        self._accept_errors = meter.create_counter(
            "gnet.accept.errors", unit="{error}", description="accept() failures on the server."
        )
        self._timeouts = meter.create_counter(
            "gnet.connection.timeouts",
            unit="{timeout}",
            description="Idle 'timeout' events on the server's connections.",
        )
        self._exceptions = meter.create_counter(
            "gnet.handler.exceptions",
            unit="{exception}",
            description="Exceptions that escaped a listener or handler of a connection.",
        )
        self._backpressure = meter.create_histogram(
            "gnet.backpressure.duration",
            unit="s",
            description="How long writers waited for 'drain' after write() returned False.",
            explicit_bucket_boundaries_advisory=HANDSHAKE_BUCKETS,
        )
        self._client_duration = meter.create_histogram(
            "gnet.client.connect.duration",
            unit="s",
            description="The duration of client connects, lookup included.",
            explicit_bucket_boundaries_advisory=HANDSHAKE_BUCKETS,
        )
        self._handlers = {
            d.ServerListening: self._on_listening,
            d.AcceptFailed: self._on_accept_failed,
            d.ConnectionDropped: self._on_dropped,
            d.ConnectionAccepted: self._on_accepted,
            d.ConnectionClosed: self._on_closed,
            d.ClientConnectStarted: self._on_client_started,
            d.ClientConnected: self._on_client_connected,
            d.ClientConnectFailed: self._on_client_failed,
            d.SocketTimeout: self._on_timeout,
            d.BackpressureEnded: self._on_drained,
            d.TLSHandshakeStarted: self._on_tls_started,
            d.TLSHandshakeCompleted: self._on_tls_completed,
            d.TLSHandshakeFailed: self._on_tls_failed,
            d.ListenerException: self._on_listener_exception,
        }

    # -- installing --------------------------------------------------------

    def install(self) -> OpenTelemetryMetrics:
        """Subscribe to gnet's diagnostics events; returns self."""
        self._subscribe()
        return self

    def uninstall(self) -> None:
        """Unsubscribe; spans still open are ended."""
        self._unsubscribe()
        for span in self._spans.values():
            span.end()
        self._spans.clear()
        self._clients.clear()

    def __enter__(self) -> OpenTelemetryMetrics:
        return self.install()

    def __exit__(self, *exc: object) -> None:
        self.uninstall()

    def _new_entry(self, ref: weakref.ref[Server], endpoint: Endpoint, complete: bool) -> _Server:
        return _Server(ref, endpoint, complete)

    def _relabel(self, entry: _Server, endpoint: Endpoint) -> None:
        entry.bind(endpoint)

    def _count_bytes(self, entry: _Server, read: int, written: int) -> None:
        entry.received += read
        entry.transmitted += written

    # -- observable instruments -------------------------------------------

    def _observe_active(self, options: CallbackOptions) -> Iterable[Observation]:
        return [
            Observation(entry.active(server), entry.attrs)
            for entry, server in self.entries()
            if server.listening or server.connections
        ]

    def _observe_queued(self, options: CallbackOptions) -> Iterable[Observation]:
        return [
            Observation(entry.queued(server), entry.attrs)
            for entry, server in self.entries()
            if server.listening or server.connections
        ]

    def _observe_io(self, options: CallbackOptions) -> Iterator[Observation]:
        for entry, _server in self.entries():
            self.flush_bytes(entry)
            yield Observation(entry.received, {**entry.attrs, "network.io.direction": "receive"})
            yield Observation(
                entry.transmitted, {**entry.attrs, "network.io.direction": "transmit"}
            )

    # -- events ------------------------------------------------------------

    def _on_listening(self, event: d.ServerListening) -> None:
        self._entry(event.server, event.address, listening=True)

    def _on_accepted(self, event: d.ConnectionAccepted) -> None:
        self._track_accepted(event)

    def _on_accept_failed(self, event: d.AcceptFailed) -> None:
        entry = self._entry(event.server)
        self._accept_errors.add(1, entry.attrs_for(d.error_type(event.error)))

    def _on_dropped(self, event: d.ConnectionDropped) -> None:
        self._rejected.add(1, self._entry(event.server).attrs_for(event.reason))

    def _on_closed(self, event: d.ConnectionClosed) -> None:
        sock = event.socket
        entry = self._track_closed(event)
        if entry is None:
            self._clients.pop(sock, None)
            span = self._spans.pop(sock, None)
            if span is not None:  # destroyed while connecting
                span.set_status(Status(StatusCode.ERROR, "closed before connecting"))
                span.set_attribute(
                    "error.type", d.error_type(event.error) if event.error else "cancelled"
                )
                span.end()
            return
        tls_version = entry.tls_versions.pop(sock, None) if entry.tls_versions else None
        if event.duration is None:
            return
        if event.error is not None:
            error_type = d.error_type(event.error)
        else:
            error_type = "" if event.outcome == d.CLEAN else event.outcome
        attrs = (
            entry.attrs
            if not error_type and tls_version is None
            else entry.attrs_for(error_type, tls_version)
        )
        self._duration.record(event.duration, attrs)

    def _on_timeout(self, event: d.SocketTimeout) -> None:
        entry = self._socket_entry(event.socket)
        if entry is not None:
            self._timeouts.add(1, entry.attrs)

    def _on_drained(self, event: d.BackpressureEnded) -> None:
        entry = self._socket_entry(event.socket)
        if entry is not None:
            self._backpressure.record(event.duration, entry.attrs)

    def _on_tls_started(self, event: d.TLSHandshakeStarted) -> None:
        entry = self._socket_entry(event.socket) if event.server_side else None
        if entry is not None:
            self._tls_active.add(1, entry.attrs)

    def _on_tls_completed(self, event: d.TLSHandshakeCompleted) -> None:
        entry = self._socket_entry(event.socket) if event.server_side else None
        if entry is None:
            return
        self._tls_active.add(-1, entry.attrs)
        version = _tls_version(event.protocol)
        if version is not None:
            entry.tls_versions[event.socket] = version
        self._tls_duration.record(event.duration, entry.attrs_for("", version))

    def _on_tls_failed(self, event: d.TLSHandshakeFailed) -> None:
        entry = self._socket_entry(event.socket) if event.server_side else None
        if entry is None:
            return
        self._tls_active.add(-1, entry.attrs)
        error_type = event.code or d.error_type(event.error)
        self._tls_duration.record(event.duration, entry.attrs_for(error_type))

    def _on_listener_exception(self, event: d.ListenerException) -> None:
        if isinstance(event.emitter, Socket):
            entry = self._socket_entry(event.emitter)
            if entry is not None:
                self._exceptions.add(1, entry.attrs_for(d.error_type(event.error)))

    # -- clients -----------------------------------------------------------

    def _on_client_started(self, event: d.ClientConnectStarted) -> None:
        attrs = _attributes(client_endpoint(event.options))
        self._clients[event.socket] = attrs
        if self._tracer is not None:
            self._spans[event.socket] = self._tracer.start_span(
                "connect", kind=SpanKind.CLIENT, attributes=attrs
            )

    def _on_client_connected(self, event: d.ClientConnected) -> None:
        sock = event.socket
        attrs = self._clients.pop(sock, None)
        if attrs is not None and event.duration is not None:
            self._client_duration.record(event.duration, attrs)
        span = self._spans.pop(sock, None)
        if span is not None:
            peer, port = sock.remote_address, sock.remote_port
            if peer is not None:
                span.set_attribute("network.peer.address", peer)
            if port is not None:
                span.set_attribute("network.peer.port", port)
            span.end()

    def _on_client_failed(self, event: d.ClientConnectFailed) -> None:
        sock = event.socket
        error_type = d.error_type(event.error)
        attrs = self._clients.pop(sock, None)
        if attrs is not None and event.duration is not None:
            self._client_duration.record(event.duration, {**attrs, "error.type": error_type})
        span = self._spans.pop(sock, None)
        if span is not None:
            span.record_exception(event.error)
            span.set_attribute("error.type", error_type)
            span.set_status(Status(StatusCode.ERROR, str(event.error)))
            span.end()
