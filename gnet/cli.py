"""The ``gnet`` command line: small tools built on gnet, and a demonstration of its API.

* ``gnet echo [PORT | --path PATH] [--host HOST]``: the echo server of Node's
  net docs (greeting line, then ``sock.pipe(sock)``).
* ``gnet cat HOST PORT`` / ``gnet cat --path PATH``: a netcat; stdin to the
  socket, the socket to stdout, stdin's end becomes a half-close.
* ``gnet proxy LISTEN TARGET``: a TCP/UNIX forwarder with backpressure both
  ways, one summary line per connection and totals at exit.

``echo`` and ``proxy`` take ``--metrics ADDRESS`` to serve Prometheus metrics
at ``http://ADDRESS/metrics`` (:mod:`gnet.metrics`); ``cat`` draws a progress
line on stderr when stderr is a terminal (``--quiet``: none).

Diagnostics go to stderr through :mod:`logging` (``-v`` for debug); what a
command produces (the listening address, summaries, cat's data) goes to
stdout.  Errors are one line on stderr and a non-zero exit status.
"""

from __future__ import annotations

import argparse
import fcntl
import logging
import os
import signal
import stat
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, NoReturn, TypeVar, cast

import gevent
import gevent.event
import gevent.os

import gnet

from ._progress import ProgressTicker

__all__ = ["main"]

log = logging.getLogger("gnet.cli")
_T = TypeVar("_T")

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
    if "/" in spec or spec.startswith("\0"):
        return Endpoint(path=spec)
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
    text = str(err) or type(err).__name__
    code = getattr(err, "code", None)
    if isinstance(code, str) and code not in text:
        text = f"{code}: {text}"
    return text


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


def serve_until_signal(
    server: gnet.Server,
    endpoint: Endpoint,
    stopper: _Stopper,
    banner: Callable[[str], str],
) -> None:
    """Listen on ``endpoint`` and block until a signal; raise the listen error instead.

    Prints ``banner(address)`` on stdout once listening.  Errors after that
    (accept failures, which gnet retries) are only logged.
    """
    listening = False

    def on_listening() -> None:
        nonlocal listening
        listening = True
        print(banner(format_address(server.address())), flush=True)

    def on_error(err: BaseException) -> None:
        if listening:
            log.warning("server error: %s", describe_error(err))
        elif not stopper.outcome.ready():
            stopper.outcome.set_exception(CommandError(describe_error(err)))

    server.on("listening", on_listening)
    server.on("error", on_error)
    try:
        server.listen(*endpoint.listen_args())
    except (TypeError, ValueError, OSError) as exc:  # Node's synchronous throws
        raise CommandError(describe_error(exc)) from None
    stopper.outcome.get()


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

    server = gnet.create_server(on_connection)
    with _serving_metrics(args.metrics), _Stopper() as stopper:
        serve_until_signal(server, endpoint, stopper, lambda addr: f"listening on {addr}")
        # A second signal while draining cuts the remaining connections short;
        # shutdown() then returns as soon as the server has emitted 'close'.
        forcer = gevent.spawn(_destroy_on, stopper.forced, connections)
        try:
            server.shutdown(timeout=args.shutdown_timeout)
        finally:
            forcer.kill()
    log.info("server closed")
    return 0


def _destroy_on(event: gevent.event.Event, sockets: set[gnet.Socket]) -> None:
    event.wait()
    for sock in list(sockets):
        sock.destroy()


# ---------------------------------------------------------------------------
# gnet cat


class _Stdin:
    """Reads stdin without blocking the gevent hub, whatever kind of file it is.

    A pipe or socket is switched to non-blocking mode and waited on by the
    hub (restored on close).  A regular file never blocks for long, so it is
    read directly.  A terminal is read in gevent's thread pool: making it
    non-blocking would change the shared terminal under stdout, stderr and
    the shell as well.
    """

    def __init__(self, fd: int) -> None:
        self.fd = fd
        self._restore_flags: int | None = None
        try:
            mode = os.fstat(fd).st_mode
        except OSError:
            self._read: Callable[[], bytes] = lambda: b""  # stdin closed: empty input
            return
        if stat.S_ISFIFO(mode) or stat.S_ISSOCK(mode):
            flags = _get_fl(fd)
            if not flags & os.O_NONBLOCK:
                _set_fl(fd, flags | os.O_NONBLOCK)
                self._restore_flags = flags
            self._read = lambda: bytes(gevent.os.nb_read(fd, _CHUNK))
        elif stat.S_ISREG(mode) or stat.S_ISBLK(mode):
            self._read = lambda: os.read(fd, _CHUNK)
        else:
            self._read = lambda: _in_thread(os.read, fd, _CHUNK)

    def read(self) -> bytes:
        """Up to 64 KiB; ``b''`` at end of input."""
        return self._read()

    def close(self) -> None:
        if self._restore_flags is not None:
            try:
                _set_fl(self.fd, self._restore_flags)
            except OSError:
                pass
            self._restore_flags = None


def _get_fl(fd: int) -> int:
    return fcntl.fcntl(fd, fcntl.F_GETFL)


def _set_fl(fd: int, flags: int) -> None:
    fcntl.fcntl(fd, fcntl.F_SETFL, flags)


def _write_stdout(fd: int, data: bytes) -> None:
    """Write all of ``data`` in a thread: a full pipe blocks a thread, not the hub."""
    view = memoryview(data)
    while view:
        view = view[_in_thread(os.write, fd, view) :]


def _in_thread(func: Callable[..., _T], *args: Any) -> _T:
    """``func(*args)`` in gevent's thread pool; an OSError is raised here, in the caller.

    (gevent's own tp_read/tp_write would also print the error's traceback.)
    """

    def call() -> tuple[_T | None, OSError | None]:
        try:
            return func(*args), None
        except OSError as exc:
            return None, exc

    result, error = gevent.get_hub().threadpool.apply(call)
    if error is not None:
        raise error
    return cast(_T, result)


def _pump_stdin(stdin: _Stdin, sock: gnet.Socket) -> None:
    """stdin to the socket; sendall() waits for the kernel, so a slow peer slows our reads."""
    try:
        while True:
            try:
                chunk = stdin.read()
            except OSError as exc:
                log.warning("stdin: %s", exc)
                break
            if not chunk:
                break
            sock.sendall(chunk)
    except OSError as exc:
        log.debug("stopped sending: %s", describe_error(exc))
        return
    log.debug("stdin ended: half-closing")
    sock.end()


def cmd_cat(args: argparse.Namespace) -> int:
    if args.path is not None:
        if args.host is not None or args.port is not None:
            raise CommandError("--path takes no HOST or PORT")
        endpoint = Endpoint(path=args.path)
    else:
        if args.host is None or args.port is None:
            raise CommandError("expected HOST PORT or --path PATH")
        endpoint = Endpoint(args.host, _parse_port(args.port))
    try:
        sock = gnet.open_connection(timeout=args.connect_timeout, **endpoint.connect_options())
    except TimeoutError:
        raise CommandError(f"connect to {endpoint} timed out") from None
    except (TypeError, ValueError, OSError) as exc:
        raise CommandError(describe_error(exc)) from None
    log.debug("connected to %s", endpoint)
    failures: list[BaseException] = []
    # Recorded here and raised by recv(); a listener keeps gnet from logging it again.
    sock.on("error", failures.append)
    stdin = _Stdin(sys.stdin.fileno() if sys.stdin is not None else 0)
    out_fd = sys.stdout.fileno() if sys.stdout is not None else 1
    sender = gevent.spawn(_pump_stdin, stdin, sock)
    progress = _progress_line(sock, args.quiet)
    try:
        chunks = iter(sock)
        while True:
            try:
                chunk = next(chunks, None)
            except Exception as exc:  # the socket's error, raised by recv()
                raise CommandError(describe_error(failures[0] if failures else exc)) from None
            if chunk is None:
                log.debug("peer ended")
                return 0
            try:
                _write_stdout(out_fd, chunk if isinstance(chunk, bytes) else chunk.encode())
            except BrokenPipeError:
                log.debug("stdout closed")  # `gnet cat ... | head`: the reader has had enough
                return 0
            except OSError as exc:
                raise CommandError(f"stdout: {exc}") from None
    finally:
        sender.kill()
        stdin.close()
        _close_gently(sock)
        if progress is not None:
            progress.stop()


def _progress_line(sock: gnet.Socket, quiet: bool) -> ProgressTicker | None:
    """The bytes, rate and elapsed time on stderr, when it is a terminal and not ``--quiet``."""
    stream = sys.stderr
    if quiet or stream is None or not stream.isatty():
        return None
    return ProgressTicker(stream, "gnet cat", lambda: (sock.bytes_written, sock.bytes_read))


def _close_gently(sock: gnet.Socket, timeout: float = 2.0) -> None:
    """End our side (flushing what stdin queued), then destroy after ``timeout``."""
    if sock.destroyed:
        return
    closed = gevent.event.Event()
    sock.once("close", lambda _had_error: closed.set())
    sock.end()
    if not closed.wait(timeout):
        sock.destroy()


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

    def __init__(self, target: Endpoint) -> None:
        self.target = target
        self.pairs: set[_Pair] = set()
        self.drained = gevent.event.Event()
        self.drained.set()
        self.connections = 0
        self.bytes_up = 0
        self.bytes_down = 0

    def on_connection(self, client: gnet.Socket) -> None:
        options = dict(self.target.connect_options(), allow_half_open=True)
        target = gnet.connect(options)
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


def cmd_proxy(args: argparse.Namespace) -> int:
    listen = parse_endpoint(args.listen)
    target = parse_endpoint(args.target)
    if target.port is not None and not 0 < target.port < 65536:
        # Checked now: in the connection listener it would fail every client.
        raise CommandError(f"invalid target port {target.port}: expected 1 to 65535")
    proxy = _Proxy(target)
    # allow_half_open: a client's FIN must reach the target (and back) as a
    # FIN, not end the whole connection; each socket closes once both
    # directions are done.
    server = gnet.create_server({"allow_half_open": True}, proxy.on_connection)
    with _serving_metrics(args.metrics), _Stopper() as stopper:
        serve_until_signal(
            server, listen, stopper, lambda addr: f"listening on {addr}, forwarding to {target}"
        )
        # Not server.shutdown(): ending the client sides would cut replies in
        # flight from the target.  Stop accepting and let connections finish.
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
        from .metrics.http import start_metrics_server
    except ImportError:
        raise CommandError(
            "--metrics needs prometheus-client: pip install 'gnet[prometheus]'"
        ) from None
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
        f"{DEFAULT_HOST}, or a UNIX socket path); needs prometheus-client",
    )


# ---------------------------------------------------------------------------
# argument parsing and main


class _Parser(argparse.ArgumentParser):
    """argparse with one-line errors (the usage is one `--help` away)."""

    def error(self, message: str) -> NoReturn:
        self.exit(_EXIT_USAGE, f"{self.prog}: {message} (see '{self.prog} --help')\n")


def _shutdown_timeout_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--shutdown-timeout",
        type=float,
        default=DEFAULT_SHUTDOWN_TIMEOUT,
        metavar="SECONDS",
        help="on SIGINT/SIGTERM, how long open connections may take to finish "
        f"before they are closed (default {DEFAULT_SHUTDOWN_TIMEOUT:g})",
    )


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="gnet",
        description="Node's net module on gevent: an echo server, a netcat and a proxy.",
    )
    parser.add_argument("-v", "--verbose", action="count", default=0, help="log debug details")
    # The same flag after the command name; SUPPRESS keeps it from resetting the count.
    common = _Parser(add_help=False)
    common.add_argument(
        "-v", "--verbose", action="count", default=argparse.SUPPRESS, help="log debug details"
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    commands.required = True

    echo = commands.add_parser(
        "echo",
        parents=[common],
        help="run the echo server of Node's net docs",
        description="The echo server of Node's net docs: greets each client with "
        "'hello\\r\\n', then sends back whatever it receives.  Prints "
        "'listening on ADDRESS' once bound; SIGINT/SIGTERM stop it gracefully.",
    )
    where = echo.add_mutually_exclusive_group()
    where.add_argument(
        "port", nargs="?", metavar="PORT", help=f"TCP port (default {DEFAULT_PORT}; 0: any free)"
    )
    where.add_argument("--path", metavar="PATH", help="listen on this UNIX socket instead")
    echo.add_argument("--host", metavar="HOST", help=f"address to bind (default {DEFAULT_HOST})")
    _shutdown_timeout_option(echo)
    _metrics_option(echo)
    echo.set_defaults(func=cmd_echo)

    cat = commands.add_parser(
        "cat",
        parents=[common],
        help="netcat: stdin to a socket, the socket to stdout",
        description="Connect, copy stdin to the socket and the socket to stdout. "
        "The end of stdin half-closes the connection; exits 0 once the peer "
        "has ended and its data is written.",
    )
    cat.add_argument("host", nargs="?", metavar="HOST", help="host to connect to")
    cat.add_argument("port", nargs="?", metavar="PORT", help="TCP port")
    cat.add_argument("--path", metavar="PATH", help="connect to this UNIX socket instead")
    cat.add_argument(
        "--connect-timeout",
        type=float,
        default=None,
        metavar="SECONDS",
        help="give up connecting after this long (default: no limit)",
    )
    cat.add_argument(
        "-q",
        "--quiet",
        action="store_true",
        help="no progress line on stderr (shown on a terminal)",
    )
    cat.set_defaults(func=cmd_cat)

    proxy = commands.add_parser(
        "proxy",
        parents=[common],
        help="forward connections to another address",
        description="Accept connections on LISTEN and forward each to TARGET, both "
        "ways, with backpressure and half-close.  Each of LISTEN and TARGET is "
        f"host:port, a port (on {DEFAULT_HOST}) or a UNIX socket path.  Prints a "
        "summary line per connection and totals at exit.",
    )
    proxy.add_argument("listen", metavar="LISTEN", help="where to accept connections")
    proxy.add_argument("target", metavar="TARGET", help="where to forward them")
    _shutdown_timeout_option(proxy)
    _metrics_option(proxy)
    proxy.set_defaults(func=cmd_proxy)
    return parser


@contextmanager
def _logging_to_stderr(prog: str, verbosity: int) -> Iterator[None]:
    """Log records (gnet's too) to stderr for the command's duration.

    Undone afterwards, so that ``main()`` called in-process (from tests or
    another program) leaves the caller's logging as it was.
    """
    handler = logging.StreamHandler(sys.stderr)
    if verbosity:
        handler.setFormatter(logging.Formatter(f"{prog}: %(levelname)s %(name)s: %(message)s"))
    else:
        handler.setFormatter(logging.Formatter(f"{prog}: %(message)s"))
    root = logging.getLogger()
    old_level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG if verbosity else logging.INFO)
    try:
        yield
    finally:
        root.removeHandler(handler)
        root.setLevel(old_level)


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``gnet COMMAND ...``; returns the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    prog = f"gnet {args.command}"
    func: Callable[[argparse.Namespace], int] = args.func
    with _logging_to_stderr(prog, args.verbose):
        try:
            return func(args)
        except CommandError as exc:
            print(f"{prog}: {exc}", file=sys.stderr, flush=True)
            return 1
        except KeyboardInterrupt:
            return _EXIT_INTERRUPTED
