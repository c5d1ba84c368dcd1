"""Metrics for gnet servers, fed by :mod:`gnet.diagnostics` events.

* :mod:`gnet.metrics.prometheus` (extra ``gnet[prometheus]``): a collector
  for the official ``prometheus-client``, and a ``/metrics`` responder on a
  gnet server (:mod:`gnet.metrics.http`).
* :mod:`gnet.metrics.otel` (extra ``gnet[otel]``): OpenTelemetry instruments
  named after the semantic conventions for connection-oriented servers, and
  optional client-connect spans.

Nothing here is imported by ``import gnet``; each exporter imports its
library when it is imported itself.
"""

from __future__ import annotations

__all__: list[str] = []
