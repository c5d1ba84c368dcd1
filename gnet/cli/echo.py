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
    serve_until_signal,
)
from .tlsopts import create_server, server_tls

# ---------------------------------------------------------------------------
# gnet echo


def cmd_echo(args: argparse.Namespace) -> int:
    if args.path is not None:
        if args.host is not None or args.port is not None:
            raise CommandError("--path takes no PORT or --host")
        endpoint = Endpoint(path=args.path)
    else:
        port = DEFAULT_PORT if args.port is None else _parse_port(args.port)
        endpoint = Endpoint(args.host or DEFAULT_HOST, port)
    tls = server_tls(args)

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
            lambda: create_server({}, tls, on_connection),
            listen_targets("echo", endpoint),
            stopper,
            service,
            lambda addr: f"listening on {addr}",
        )
        service.stopping(args.shutdown_timeout, f"closing {len(connections)} connection(s)")
        # A second signal while draining cuts the remaining connections short;
        # shutdown() then returns as soon as the server has emitted 'close'.
        forcer = gevent.spawn(_destroy_on, stopper.forced, connections)
        try:
            for stop in [gevent.spawn(s.shutdown, args.shutdown_timeout) for s in servers]:
                stop.get()
        finally:
            forcer.kill()
    log.info("server closed")
    return 0


def _destroy_on(event: gevent.event.Event, sockets: set[gnet.Socket]) -> None:
    event.wait()
    for sock in list(sockets):
        sock.destroy()
