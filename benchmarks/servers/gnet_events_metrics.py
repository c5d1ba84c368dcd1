"""gnet_events with gnet's Prometheus exporter installed (a registry of its own,
never scraped): what the exporter costs the echo server. argv: PORT [UNIX_PATH]"""

from prometheus_client import CollectorRegistry

from gnet.metrics.prometheus import PrometheusMetrics

PrometheusMetrics(CollectorRegistry()).install()

import gnet_events  # noqa: E402,F401 - runs the server
