"""The ``gnet`` command line: small tools built on gnet, and a demonstration of its API.

* ``gnet echo [PORT | --path PATH] [--host HOST]``: the echo server of Node's
  net docs (greeting line, then ``sock.pipe(sock)``).
* ``gnet cat HOST PORT`` / ``gnet cat --path PATH``: a netcat; stdin to the
  socket, the socket to stdout, stdin's end becomes a half-close.
* ``gnet proxy LISTEN TARGET``: a TCP/UNIX forwarder with backpressure both
  ways, one summary line per connection and totals at exit.

TLS (:mod:`gnet.cli.tlsopts`): ``echo --tls-cert F --tls-key F`` serves
TLS, ``cat --tls [--ca F] [--insecure]`` connects with it, and ``proxy``
takes both (TLS termination and origination).

``echo`` and ``proxy`` take ``--metrics ADDRESS`` to serve Prometheus metrics
at ``http://ADDRESS/metrics`` (:mod:`gnet.metrics`); ``cat`` draws a progress
line on stderr when stderr is a terminal (``--quiet``: none).

Diagnostics go to stderr through :mod:`logging` (``-v`` for debug); what a
command produces (the listening address, summaries, cat's data) goes to
stdout.  Errors are one line on stderr and a non-zero exit status.

Under systemd (or ``systemd-socket-activate``) the servers take the
listening sockets passed to them instead of binding (see
:func:`listen_targets`), report ``READY=1``/``STOPPING=1`` to
``NOTIFY_SOCKET`` and feed the watchdog (:class:`gnet.systemd.Service`).
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import NoReturn

from ..drain import DEFAULT_IDLE_AFTER
from .cat import cmd_cat
from .common import (
    _EXIT_INTERRUPTED,
    _EXIT_USAGE,
    DEFAULT_HOST,
    DEFAULT_PORT,
    DEFAULT_SHUTDOWN_TIMEOUT,
    UNIX_PATH_HELP,
    CommandError,
    Endpoint,
    _metrics_option,
    _proxy_protocol_options,
    parse_endpoint,
)
from .echo import cmd_echo
from .proxy import cmd_proxy
from .tlsopts import add_client_tls_options, add_server_tls_options

__all__ = ["main", "build_parser", "CommandError", "Endpoint", "parse_endpoint"]


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


def _seconds_or_none(text: str) -> float | None:
    if text.lower() == "none":
        return None
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of seconds: {text!r}") from None
    if not 0 <= value < float("inf"):
        raise argparse.ArgumentTypeError(f"not a number of seconds: {text!r}")
    return value


def _systemd_epilog(command: str, ignored: str) -> str:
    return (
        "Under systemd socket activation (LISTEN_FDS, as systemd or "
        "systemd-socket-activate set it) the sockets passed in win over "
        f"{ignored}: those named '{command}' (FileDescriptorName=, --fdname) if "
        "any is, else all of them, one server each.  With NOTIFY_SOCKET it "
        "sends READY=1 and a STATUS= naming the addresses once listening, "
        "STOPPING=1 with EXTEND_TIMEOUT_USEC (the shutdown timeout) at "
        "SIGINT/SIGTERM, and WATCHDOG=1 at half of WATCHDOG_USEC."
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
        epilog=_systemd_epilog("echo", "PORT, --path and --host"),
    )
    where = echo.add_mutually_exclusive_group()
    where.add_argument(
        "port", nargs="?", metavar="PORT", help=f"TCP port (default {DEFAULT_PORT}; 0: any free)"
    )
    where.add_argument(
        "--path",
        metavar="PATH",
        help=f"listen on this UNIX socket instead ({UNIX_PATH_HELP}); a socket file left "
        "by a server that is gone is replaced",
    )
    echo.add_argument("--host", metavar="HOST", help=f"address to bind (default {DEFAULT_HOST})")
    _shutdown_timeout_option(echo)
    echo.add_argument(
        "--idle-after",
        type=_seconds_or_none,
        default=DEFAULT_IDLE_AFTER,
        metavar="SECONDS",
        help="while shutting down, end a connection once nothing has moved on it for this "
        f"long ('none': let clients end their own; default {DEFAULT_IDLE_AFTER:g})",
    )
    _proxy_protocol_options(echo)
    _metrics_option(echo)
    add_server_tls_options(echo)
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
    cat.add_argument(
        "--path", metavar="PATH", help=f"connect to this UNIX socket instead ({UNIX_PATH_HELP})"
    )
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
    add_client_tls_options(cat)
    cat.set_defaults(func=cmd_cat)

    proxy = commands.add_parser(
        "proxy",
        parents=[common],
        help="forward connections to another address",
        description="Accept connections on LISTEN and forward each to TARGET, both "
        "ways, with backpressure and half-close.  Each of LISTEN and TARGET is "
        f"host:port, a port (on {DEFAULT_HOST}) or a UNIX socket path ({UNIX_PATH_HELP}; "
        "a socket file left by a server that is gone is replaced).  Prints a "
        "summary line per connection and totals at exit.",
        epilog=_systemd_epilog("proxy", "LISTEN (write '-' to take only passed sockets)"),
    )
    proxy.add_argument("listen", metavar="LISTEN", help="where to accept connections")
    proxy.add_argument("target", metavar="TARGET", help="where to forward them")
    _shutdown_timeout_option(proxy)
    _proxy_protocol_options(proxy)
    proxy.add_argument(
        "--send-proxy",
        choices=("v1", "v2"),
        help="send TARGET a PROXY protocol header naming each client (for HAProxy's "
        "accept-proxy, or another gnet server with --proxy-protocol)",
    )
    _metrics_option(proxy)
    add_server_tls_options(proxy)
    add_client_tls_options(proxy, " to TARGET")
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
