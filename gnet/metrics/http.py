"""A minimal HTTP/1.0 and 1.1 ``GET /metrics`` responder on a gnet server (extra ``gnet[prometheus]``).

What Prometheus needs and nothing more, so a gnet program can expose its
metrics without a thread or a web framework::

    from gnet.metrics.http import create_metrics_server
    from gnet.metrics.prometheus import PrometheusMetrics

    PrometheusMetrics().install()
    create_metrics_server().listen(9100, "127.0.0.1")

``GET`` and ``HEAD`` of the metrics path answer the registry in the format
the scraper asks for (Prometheus text, or OpenMetrics through ``Accept``),
gzipped when accepted; any other path is 404, any other method 405, a
malformed request 400, a request head over 8 KiB 431.  Connections are kept
alive as HTTP/1.1 does (``Connection: close`` and HTTP/1.0 without
``keep-alive`` close after the response) and closed after ``idle_timeout``
seconds without a request.  Each connection is a straight-line handler in
its own greenlet.

:func:`start_metrics_server` does both steps above in one blocking call
(``prometheus_client.start_http_server``'s counterpart, without a thread).
"""

from __future__ import annotations

import gzip
import logging
from collections.abc import Callable
from typing import Any

from prometheus_client import REGISTRY, CollectorRegistry
from prometheus_client.exposition import choose_encoder, gzip_accepted

from .._aliases import with_camel_aliases
from ..errors import IncompleteReadError, LimitOverrunError
from ..events import once
from ..server import Server, create_server
from ..socket import Socket
from .prometheus import PrometheusMetrics

__all__ = ["create_metrics_server", "start_metrics_server", "MetricsEndpoint", "MAX_HEAD"]

#: Bytes of request line and headers.
MAX_HEAD = 8192
DEFAULT_IDLE_TIMEOUT = 30.0

log = logging.getLogger("gnet.metrics")

_REASONS = {
    200: "OK",
    400: "Bad Request",
    404: "Not Found",
    405: "Method Not Allowed",
    431: "Request Header Fields Too Large",
    500: "Internal Server Error",
}


class _Request:
    __slots__ = ("method", "path", "headers", "keep_alive", "has_body")

    def __init__(self, method: str, path: str, headers: dict[str, str], keep_alive: bool) -> None:
        self.method = method
        self.path = path
        self.headers = headers
        self.keep_alive = keep_alive
        # We never read a body: a request with one is answered, then closed.
        self.has_body = headers.get("content-length", "0") != "0" or "transfer-encoding" in headers


def _parse(head: bytes) -> _Request | None:
    """The request in ``head`` (up to the blank line), or None when malformed."""
    lines = head.decode("latin-1").split("\r\n")
    parts = lines[0].split(" ")
    if len(parts) != 3 or not parts[2].startswith("HTTP/1."):
        return None
    method, target, version = parts
    headers: dict[str, str] = {}
    for line in lines[1:]:
        if not line:
            continue
        name, sep, value = line.partition(":")
        if not sep or not name or name != name.strip():
            return None
        headers[name.lower()] = value.strip()
    connection = headers.get("connection", "").lower()
    if version == "HTTP/1.0":
        keep_alive = "keep-alive" in connection
    else:
        keep_alive = "close" not in connection
    return _Request(method, target.partition("?")[0], headers, keep_alive)


def _response(
    status: int,
    body: bytes,
    *,
    keep_alive: bool,
    head_only: bool = False,
    headers: tuple[tuple[str, str], ...] = (("Content-Type", "text/plain; charset=utf-8"),),
) -> bytes:
    lines = [f"HTTP/1.1 {status} {_REASONS[status]}"]
    lines += [f"{name}: {value}" for name, value in headers]
    lines.append(f"Content-Length: {len(body)}")
    lines.append("Connection: keep-alive" if keep_alive else "Connection: close")
    head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
    return head if head_only else head + body


def _metrics_body(
    registry: CollectorRegistry, request: _Request
) -> tuple[bytes, tuple[tuple[str, str], ...]]:
    encoder, content_type = choose_encoder(request.headers.get("accept", ""))
    body = encoder(registry)
    headers: tuple[tuple[str, str], ...] = (("Content-Type", content_type),)
    if gzip_accepted(request.headers.get("accept-encoding", "")):
        body = gzip.compress(body)
        headers += (("Content-Encoding", "gzip"),)
    return body, headers


def _handler(
    registry: CollectorRegistry, path: str, idle_timeout: float
) -> Callable[[Socket], None]:
    def serve(sock: Socket) -> None:
        try:
            while _answer(sock, registry, path, idle_timeout):
                pass
        except IncompleteReadError as exc:
            if exc.partial:  # ended mid-request; between requests is a normal end
                sock.destroy()
            else:
                sock.end()
        except LimitOverrunError:
            sock.write(_response(431, b"request head too large\n", keep_alive=False))
            sock.end()
        except (TimeoutError, OSError):
            sock.destroy()  # an idle or vanished scraper: routine

    return serve


def _answer(sock: Socket, registry: CollectorRegistry, path: str, idle_timeout: float) -> bool:
    """Read one request and answer it; False when the connection is to close."""
    head = sock.recv_until(b"\r\n\r\n", limit=MAX_HEAD, timeout=idle_timeout)
    assert isinstance(head, bytes)
    request = _parse(head)
    if request is None:
        sock.write(_response(400, b"bad request\n", keep_alive=False))
        sock.end()
        return False
    keep_alive = request.keep_alive and not request.has_body
    head_only = request.method == "HEAD"
    if request.method not in ("GET", "HEAD"):
        reply = _response(
            405,
            b"method not allowed\n",
            keep_alive=keep_alive,
            headers=(("Content-Type", "text/plain; charset=utf-8"), ("Allow", "GET, HEAD")),
        )
    elif request.path != path:
        reply = _response(404, b"not found\n", keep_alive=keep_alive, head_only=head_only)
    else:
        try:
            body, headers = _metrics_body(registry, request)
        except Exception:
            log.exception("collecting metrics failed")
            reply = _response(500, b"collecting metrics failed\n", keep_alive=keep_alive)
        else:
            reply = _response(
                200, body, keep_alive=keep_alive, head_only=head_only, headers=headers
            )
    sock.sendall(reply, timeout=idle_timeout)
    if not keep_alive:
        sock.end()
    return keep_alive


def create_metrics_server(
    registry: CollectorRegistry | None = None,
    *,
    path: str = "/metrics",
    idle_timeout: float = DEFAULT_IDLE_TIMEOUT,
    **server_options: Any,
) -> Server:
    """A gnet server (not yet listening) answering ``GET path`` with ``registry``'s metrics.

    ``registry`` defaults to ``prometheus_client.REGISTRY``;
    ``server_options`` are :func:`gnet.create_server`'s.  Call ``listen()``
    on the result as on any server.
    """
    if not path.startswith("/"):
        raise ValueError(f"path must start with '/': {path!r}")
    return create_server(
        server_options,
        _handler(REGISTRY if registry is None else registry, path, idle_timeout),
    )


@with_camel_aliases
class MetricsEndpoint:
    """What :func:`start_metrics_server` started: ``metrics`` (installed),
    ``server`` (listening) and its ``address()``; :meth:`close` stops both."""

    def __init__(self, metrics: PrometheusMetrics, server: Server) -> None:
        self.metrics = metrics
        self.server = server

    def address(self) -> dict[str, Any] | str | None:
        return self.server.address()

    def close(self) -> None:
        """Stop listening, cut open scrapes, and uninstall the metrics."""
        self.server.shutdown(timeout=0)
        self.metrics.uninstall()

    def __enter__(self) -> MetricsEndpoint:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def start_metrics_server(
    *listen_args: Any,
    registry: CollectorRegistry | None = None,
    path: str = "/metrics",
    timeout: float | None = 10.0,
) -> MetricsEndpoint:
    """Install :class:`PrometheusMetrics` on ``registry`` and serve it at ``path``.

    ``listen_args`` are ``server.listen()``'s (``9100, "127.0.0.1"``, a
    UNIX path, an options dict).  Blocks the calling greenlet until the
    server listens; raises the listen error (``EADDRINUSE``, ...) instead,
    with the metrics uninstalled again.
    """
    metrics = PrometheusMetrics(registry).install()
    server = create_metrics_server(metrics.registry, path=path)
    try:
        server.listen(*listen_args)
        once(server, "listening", timeout=timeout)
    except BaseException:
        if server.listening:
            server.close()
        metrics.uninstall()
        raise
    return MetricsEndpoint(metrics, server)
