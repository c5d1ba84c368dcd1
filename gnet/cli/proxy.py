"""``gnet proxy``: a TCP/UNIX forwarder with backpressure both ways, one
summary line per connection and totals at exit."""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from typing import Any

import gevent
import gevent.event
import gevent.os

import gnet
from gnet import systemd
from gnet.proxy_protocol import Command, build_v1, build_v2

from .common import (
    CommandError,
    Endpoint,
    _serving_metrics,
    _Stopper,
    describe_error,
    listen_targets,
    log,
    parse_endpoint,
    peer_name,
    proxy_server_options,
    serve_until_signal,
)
from .tlsopts import client_tls, connect, create_server, server_tls

# ---------------------------------------------------------------------------
# gnet proxy


class _Pair:
    """One proxied connection: the accepted client socket and its target socket."""

    def __init__(self, client: gnet.Socket, target: gnet.Socket, proxy: _Proxy) -> None:
        self.client = client
        self.target = target
        self.proxy = proxy
        self.peer = peer_name(client)
        self.started = time.monotonic()
        self.error: BaseException | None = None
        self._open = 2
        for near, far, side in ((client, target, "client"), (target, client, "target")):
            near.on("error", self._error_handler(far, side))
            near.on("close", self._close_handler(far))

    def _error_handler(self, far: gnet.Socket, side: str) -> Callable[[BaseException], None]:
        def on_error(err: BaseException) -> None:
            if self.error is None:
                self.error = err
            log.debug("%s: %s error: %s", self.peer, side, describe_error(err))
            far.destroy()

        return on_error

    def _close_handler(self, far: gnet.Socket) -> Callable[[bool], None]:
        def on_close(had_error: bool) -> None:
            if had_error:  # also covers an exception in a listener, which has no 'error'
                far.destroy()
            self._open -= 1
            if self._open == 0:
                self.proxy.finished(self)

        return on_close

    def destroy(self) -> None:
        self.client.destroy()
        self.target.destroy()


class _Proxy:
    """Accepts, connects each client to the target, and keeps the books."""

    def __init__(
        self, target: Endpoint, send_proxy: str | None = None, tls: dict[str, Any] | None = None
    ) -> None:
        self.target = target
        self.send_proxy = send_proxy
        self.tls = tls  # TLS to the target (origination), or None
        self.pairs: set[_Pair] = set()
        self.drained = gevent.event.Event()
        self.drained.set()
        self.connections = 0
        self.bytes_up = 0
        self.bytes_down = 0

    def on_connection(self, client: gnet.Socket) -> None:
        options = dict(self.target.connect_options(), allow_half_open=True)
        if self.send_proxy is not None:
            options["proxy_header"] = _proxy_header(client, self.send_proxy)
        target = connect(options, self.tls)
        # Writes to a connecting socket are queued, and write() returning
        # False pauses the source: so piping at once is safe and bounded.
        pair = _Pair(client, target, self)
        self.pairs.add(pair)
        self.drained.clear()
        log.debug("%s: connected, forwarding to %s", pair.peer, self.target)
        client.pipe(target)
        target.pipe(client)

    def finished(self, pair: _Pair) -> None:
        self.pairs.discard(pair)
        up, down = pair.client.bytes_read, pair.target.bytes_read
        self.connections += 1
        self.bytes_up += up
        self.bytes_down += down
        seconds = time.monotonic() - pair.started
        line = f"{pair.peer} -> {self.target}: {up} bytes up, {down} bytes down, {seconds:.3f} s"
        if pair.error is not None:
            line += f" (error: {describe_error(pair.error)})"
        print(line, flush=True)
        if not self.pairs:
            self.drained.set()

    def totals(self) -> str:
        return (
            f"total: {self.connections} connections, "
            f"{self.bytes_up} bytes up, {self.bytes_down} bytes down"
        )


def _proxy_header(client: gnet.Socket, version: str) -> bytes:
    """The PROXY header that names ``client`` to the target.

    A header that came in (``--proxy-protocol``) is passed on as it named the
    connection; else the client's own endpoints; a UNIX client has none
    (v1 ``UNKNOWN``, v2 ``UNSPEC``: the target uses the connection's own).
    """
    came = client.proxy
    if came is not None and came.command is Command.PROXY and came.ip_family is not None:
        ends = came.source_address, came.source_port, came.destination_address, came.destination_port
    else:
        ends = client.remote_address, client.remote_port, client.local_address, client.local_port
    build = build_v1 if version == "v1" else build_v2
    src, sport, dst, dport = ends
    if src is None or sport is None or dst is None or dport is None:
        return build(None, None)
    return build((src, sport), (dst, dport))


def cmd_proxy(args: argparse.Namespace) -> int:
    listen = None if args.listen == "-" else parse_endpoint(args.listen)
    target = parse_endpoint(args.target)
    if target.port is not None and not 0 < target.port < 65536:
        # Checked now: in the connection listener it would fail every client.
        raise CommandError(f"invalid target port {target.port}: expected 1 to 65535")
    server_options = {"allow_half_open": True, **proxy_server_options(args)}
    proxy = _Proxy(target, args.send_proxy, client_tls(args))
    tls = server_tls(args)  # TLS from the clients (termination), or None
    with _serving_metrics(args.metrics), _Stopper() as stopper, systemd.Service() as service:
        servers = serve_until_signal(
            # allow_half_open: a client's FIN must reach the target (and back)
            # as a FIN, not end the whole connection; each socket closes once
            # both directions are done.
            lambda: create_server(server_options, tls, proxy.on_connection),
            listen_targets("proxy", listen),
            stopper,
            service,
            lambda addr: f"listening on {addr}, forwarding to {target}",
        )
        service.stopping(args.shutdown_timeout, f"draining {len(proxy.pairs)} connection(s)")
        # Not server.shutdown(): ending the client sides would cut replies in
        # flight from the target.  Stop accepting and let connections finish.
        for server in servers:
            server.close()
        if proxy.pairs:
            log.info("waiting for %d connection(s) to finish", len(proxy.pairs))
            gevent.wait([proxy.drained, stopper.forced], timeout=args.shutdown_timeout, count=1)
        if proxy.pairs:
            log.warning("closing %d unfinished connection(s)", len(proxy.pairs))
            for pair in list(proxy.pairs):
                log.debug(
                    "%s: unfinished: client %r, target %r", pair.peer, pair.client, pair.target
                )
                pair.destroy()
            proxy.drained.wait(2.0)
    print(proxy.totals(), flush=True)
    return 0
