"""``gnet echo``: the echo server of Node's net docs (greeting line, then ``sock.pipe(sock)``)."""

from __future__ import annotations

import argparse

import gevent
import gevent.event
import gevent.os

import gnet
from gnet import systemd

from .common import (
    DEFAULT_HOST,
    DEFAULT_PORT,
    CommandError,
    Endpoint,
    _parse_port,
    _serving_metrics,
    _Stopper,
    describe_error,
    listen_targets,
    log,
    peer_name,
    proxy_server_options,
    serve_until_signal,
    unix_path,
)
from .tlsopts import create_server, server_tls

# ---------------------------------------------------------------------------
# gnet echo


def cmd_echo(args: argparse.Namespace) -> int:
    if args.path is not None:
        if args.host is not None or args.port is not None:
            raise CommandError("--path takes no PORT or --host")
        endpoint = Endpoint(path=unix_path(args.path))
    else:
        port = DEFAULT_PORT if args.port is None else _parse_port(args.port)
        endpoint = Endpoint(args.host or DEFAULT_HOST, port)
    tls = server_tls(args)

    server_options = proxy_server_options(args)
    connections: set[gnet.Socket] = set()

    def on_connection(sock: gnet.Socket) -> None:
        peer = peer_name(sock)
        connections.add(sock)
        log.info("client connected (%s)", peer)
        sock.on("end", lambda: log.info("client disconnected (%s)", peer))
        # A peer's reset must cost only its own connection, and say so.
        sock.on(
            "error", lambda err: log.warning("client error (%s): %s", peer, describe_error(err))
        )
        sock.on("close", lambda _had_error: connections.discard(sock))
        sock.write("hello\r\n")
        sock.pipe(sock)

    with _serving_metrics(args.metrics), _Stopper() as stopper, systemd.Service() as service:
        servers = serve_until_signal(
            lambda: create_server(server_options, tls, on_connection),
            listen_targets("echo", endpoint),
            stopper,
            service,
            lambda addr: f"listening on {addr}",
        )
        service.stopping(args.shutdown_timeout, f"closing {len(connections)} connection(s)")
        # Clients mid-stream go on until they end; idle ones are ended after
        # --idle-after; what is left at the timeout is closed (gnet.drain).  A
        # second signal cuts the rest short; shutdown() then returns as soon
        # as the server has emitted 'close'.
        forcer = gevent.spawn(_destroy_on, stopper.forced, connections)
        timeout, idle_after = args.shutdown_timeout, args.idle_after
        try:
            stops = [gevent.spawn(s.shutdown, timeout, idle_after=idle_after) for s in servers]
            for stop in stops:
                stop.get()
        finally:
            forcer.kill()
    log.info("server closed")
    return 0


def _destroy_on(event: gevent.event.Event, sockets: set[gnet.Socket]) -> None:
    event.wait()
    for sock in list(sockets):
        sock.destroy()
