"""What the ``gnet`` commands share: endpoints, names for addresses and errors,
serving until a signal (systemd-aware), and the ``--metrics`` endpoint."""

from __future__ import annotations

import argparse
import errno
import logging
import os
import signal
import socket
import stat
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import gevent
import gevent.event
import gevent.os

import gnet
from gnet import systemd
from gnet.options import parse_server_options

log = logging.getLogger("gnet.cli")

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8124
DEFAULT_SHUTDOWN_TIMEOUT = 5.0
_CHUNK = 65536
_EXIT_USAGE = 2
_EXIT_INTERRUPTED = 130


class CommandError(Exception):
    """A failure to report as one line on stderr, with a non-zero exit status."""


# ---------------------------------------------------------------------------
# addresses


@dataclass(frozen=True)
class Endpoint:
    """Where to listen or connect: a TCP host and port, or a UNIX socket path."""

    host: str | None = None
    port: int | None = None
    path: str | None = None

    def connect_options(self) -> dict[str, Any]:
        if self.path is not None:
            return {"path": self.path}
        return {"host": self.host, "port": self.port}

    def listen_args(self) -> tuple[Any, ...]:
        if self.path is not None:
            return (self.path,)
        return (self.port, self.host)

    def __str__(self) -> str:
        if self.path is not None:
            return _show_path(self.path)
        return _host_port(self.host or "", self.port)


def _show_path(path: str) -> str:
    # A Linux abstract socket name starts with NUL; `@name` is how ss(8) shows it.
    return "@" + path[1:] if path.startswith("\0") else path


def unix_path(text: str) -> str:
    """A UNIX socket path from the command line: a leading ``@`` names a socket in
    Linux's abstract namespace (systemd's and ss(8)'s convention), which gnet
    writes with a leading NUL; ``./@name`` is a file called ``@name``."""
    return "\0" + text[1:] if text.startswith("@") else text


UNIX_PATH_HELP = "a leading @ means Linux's abstract namespace (@name); ./@name is a file"


def _host_port(host: str, port: object) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def _parse_port(text: str) -> int:
    """A port number; range errors are left to gnet so they read as Node's."""
    if not text.isdigit():
        # gnet (like Node) would take a non-numeric string for a pipe path.
        raise CommandError(f"invalid port {text!r}: expected a number from 0 to 65535")
    return int(text)


def parse_endpoint(spec: str, default_host: str = DEFAULT_HOST) -> Endpoint:
    """``host:port``, ``[v6]:port``, ``port`` (on ``default_host``) or a UNIX socket path."""
    if spec.isdigit():
        return Endpoint(default_host, _parse_port(spec))
    if spec.startswith("["):
        host, sep, port = spec[1:].partition("]:")
        if not sep or not host:
            raise CommandError(f"invalid address {spec!r}: expected [host]:port")
        return Endpoint(host, _parse_port(port))
    if "/" in spec or spec.startswith(("\0", "@")):
        return Endpoint(path=unix_path(spec))
    host, sep, port = spec.rpartition(":")
    if not sep:
        return Endpoint(path=spec)  # a bare name: a socket file in this directory
    if ":" in host:
        raise CommandError(f"invalid address {spec!r}: write an IPv6 address as [host]:port")
    return Endpoint(host or default_host, _parse_port(port))


def format_address(address: dict[str, Any] | str | None) -> str:
    """A server's ``address()`` as one word: ``host:port`` or the path."""
    if address is None:
        return "?"
    if isinstance(address, str):
        return _show_path(address)
    return _host_port(str(address["address"]), address["port"])


def peer_name(sock: gnet.Socket) -> str:
    """The remote end of a connection, for logs; ``unix`` for a UNIX socket."""
    host, port = sock.remote_address, sock.remote_port
    return _host_port(host, port) if host is not None else "unix"


def describe_error(err: BaseException) -> str:
    """One line for an error, with Node's code when the message lacks it."""
    text = (str(err) or type(err).__name__).replace("\0", "@")  # an abstract socket's name
    code = getattr(err, "code", None)
    if isinstance(code, str) and code not in text:
        text = f"{code}: {text}"
    return text


# ---------------------------------------------------------------------------
# a UNIX socket file left behind


def clear_stale_socket(path: str) -> None:
    """Make way for a server on ``path``: remove a socket file nobody listens on.

    A server that was killed leaves its socket file, and listening there
    then fails with EADDRINUSE.  A connect tells the two cases apart:
    refused means the file is stale (it is removed, and the log says so);
    accepted (or a full backlog) means another server is running, which is
    an error that says so.  A file that is not a socket is left alone.
    """
    if path.startswith("\0"):
        return  # abstract: the kernel frees the name with the last socket
    try:
        if not stat.S_ISSOCK(os.stat(path).st_mode):
            return  # not ours to remove: listen's EADDRINUSE names the path
    except OSError:
        return  # nothing there (or unreadable: listen will say why)
    probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        probe.setblocking(False)
        result = probe.connect_ex(path)
    finally:
        probe.close()
    if result in (0, errno.EAGAIN, errno.EINPROGRESS):
        raise CommandError(f"{path}: another server is listening on this socket")
    if result == errno.ECONNREFUSED:
        log.info("removing the stale socket file %s (nobody listens on it)", path)
        try:
            os.unlink(path)
        except FileNotFoundError:
            pass
        except OSError as exc:
            raise CommandError(
                f"{path} is a stale socket file and cannot be removed ({exc.strerror}): "
                "remove it, or choose another path"
            ) from None


# ---------------------------------------------------------------------------
# running a server until a signal


class _Stopper:
    """SIGINT/SIGTERM: the first asks for a graceful stop, a second forces it."""

    def __init__(self) -> None:
        self.outcome: gevent.event.AsyncResult = gevent.event.AsyncResult()
        self.forced = gevent.event.Event()
        self._handlers: list[Any] = []

    def __enter__(self) -> _Stopper:
        for signum in (signal.SIGINT, signal.SIGTERM):
            self._handlers.append(gevent.signal_handler(signum, self._on_signal, signum))
        return self

    def __exit__(self, *exc: object) -> None:
        for handler in self._handlers:
            handler.cancel()
        self._handlers.clear()

    def _on_signal(self, signum: int) -> None:
        name = signal.Signals(signum).name
        if not self.outcome.ready():
            log.info("%s: shutting down", name)
            self.outcome.set(None)
        elif not self.forced.is_set():
            log.warning("%s: stopping now, closing every connection", name)
            self.forced.set()


Target = Endpoint | systemd.ListenFd  # where one server listens


def listen_targets(command: str, endpoint: Endpoint | None) -> list[Target]:
    """The sockets systemd passed, if any (they win over ``endpoint``), else ``endpoint``.

    Of several, those named ``command`` if any is, else all; one server each.
    """
    try:
        inherited = systemd.select_listeners(systemd.listen_fds(), command)
    except (TypeError, ValueError) as exc:  # an Accept=yes socket, a malformed LISTEN_FDS
        raise CommandError(describe_error(exc)) from None
    if inherited:
        log.debug("serving %d socket(s) passed by systemd instead of %s", len(inherited), endpoint)
        return list(inherited)
    if endpoint is None:
        raise CommandError("LISTEN '-' takes the sockets systemd passes, and there are none")
    return [endpoint]


def serve_until_signal(
    make_server: Callable[[], gnet.Server],
    targets: Sequence[Target],
    stopper: _Stopper,
    service: systemd.Service,
    banner: Callable[[str], str],
) -> list[gnet.Server]:
    """One server per target; block until a signal; raise a listen error instead.

    Prints ``banner(addresses)`` on stdout once all listen, and tells systemd.
    Errors after that (accept failures, which gnet retries) are only logged.
    """
    servers = [make_server() for _ in targets]
    waiting = len(servers)

    def on_listening() -> None:
        nonlocal waiting
        waiting -= 1
        if waiting == 0:
            where = ", ".join(format_address(server.address()) for server in servers)
            print(banner(where), flush=True)
            service.ready(f"listening on {where}")

    def on_error(err: BaseException) -> None:
        # Once listening, the only errors are accept failures (EMFILE...),
        # which gnet retries and logs itself: logged once, not twice.
        if waiting != 0 and not stopper.outcome.ready():
            stopper.outcome.set_exception(CommandError(describe_error(err)))

    for server, target in zip(servers, targets, strict=True):
        server.on("listening", on_listening)
        server.on("error", on_error)
        if isinstance(target, Endpoint) and target.path is not None:
            clear_stale_socket(target.path)
        try:
            server.listen(*(target.listen_args() if isinstance(target, Endpoint) else (target,)))
        except (TypeError, ValueError, OSError) as exc:  # Node's synchronous throws
            raise CommandError(describe_error(exc)) from None
    try:
        stopper.outcome.get()
    except BaseException:
        for server in servers:
            server.close()
        raise
    return servers


# ---------------------------------------------------------------------------
# --metrics: Prometheus metrics of the command's server, over HTTP


@contextmanager
def _serving_metrics(spec: str | None) -> Iterator[None]:
    """With ``--metrics ADDRESS``: count the connections and serve the counts at /metrics."""
    if spec is None:
        yield
        return
    endpoint = parse_endpoint(spec)
    try:
        from ..metrics.http import start_metrics_server
    except ImportError:
        raise CommandError(
            "--metrics needs prometheus-client: pip install 'gnet[prometheus]'"
        ) from None
    if endpoint.path is not None:
        clear_stale_socket(endpoint.path)
    try:  # prometheus-client's default registry: with the process's CPU, memory and GC
        started = start_metrics_server(*endpoint.listen_args())
    except (TypeError, ValueError, OSError) as exc:
        raise CommandError(f"--metrics {spec}: {describe_error(exc)}") from None
    with started:
        address = started.address()
        where = format_address(address)
        # A UNIX socket has no http:// URL (curl --unix-socket PATH http://localhost/metrics).
        url = f"{where} (GET /metrics)" if isinstance(address, str) else f"http://{where}/metrics"
        print(f"metrics on {url}", flush=True)
        yield


def _metrics_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--metrics",
        metavar="ADDRESS",
        help="serve Prometheus metrics at http://ADDRESS/metrics (host:port, a port on "
        f"{DEFAULT_HOST}, or a UNIX socket path: {UNIX_PATH_HELP}); needs prometheus-client",
    )


# ---------------------------------------------------------------------------
# the PROXY protocol and the drain: options echo and proxy share


def _proxy_protocol_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--proxy-protocol",
        choices=("v1", "v2", "auto"),
        help="expect a PROXY protocol header (HAProxy send-proxy, send-proxy-v2) on each "
        "connection; clients are then logged and counted by their real address",
    )
    parser.add_argument(
        "--proxy-trusted",
        metavar="ADDRESSES",
        help="comma-separated addresses or CIDRs of the load balancers allowed to send "
        "the header; other peers are dropped (default: any)",
    )


def proxy_server_options(args: argparse.Namespace) -> dict[str, Any]:
    """The ``create_server`` options of ``--proxy-protocol`` and ``--proxy-trusted``."""
    if args.proxy_protocol is None:
        if args.proxy_trusted is not None:
            raise CommandError("--proxy-trusted needs --proxy-protocol")
        return {}
    options: dict[str, Any] = {"proxy_protocol": args.proxy_protocol}
    if args.proxy_trusted is not None:
        options["proxy_trusted"] = [a.strip() for a in args.proxy_trusted.split(",") if a.strip()]
    try:
        parse_server_options(options, {})  # checks the addresses now, as one error line
    except (TypeError, ValueError, gnet.NodeError) as exc:
        raise CommandError(f"--proxy-trusted: {describe_error(exc)}") from None
    return options
