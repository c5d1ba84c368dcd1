"""TLS for the ``gnet`` commands: the options, and servers and clients made from them.

* Serving TLS (``echo``, ``proxy``'s listening side): ``--tls-cert FILE
  --tls-key FILE`` (PEM; the certificate file may hold the chain), and
  ``--tls-ca FILE`` to ask clients for a certificate issued by that CA.
* Connecting with TLS (``cat``, ``proxy``'s target): ``--tls``, with
  ``--ca FILE`` (trust this CA instead of the system's), ``--insecure`` (do
  not reject a certificate that fails verification) and ``--servername
  NAME`` (SNI, and the name the certificate must carry; default the host).

:mod:`gnet.tls` is imported only when one of these is given.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any

import gevent.event

import gnet

from .common import CommandError, describe_error, log, peer_name

__all__ = [
    "add_server_tls_options",
    "add_client_tls_options",
    "server_tls",
    "client_tls",
    "create_server",
    "connect",
    "open_connection",
]


def add_server_tls_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("TLS (serving)")
    group.add_argument("--tls-cert", metavar="FILE", help="serve TLS with this PEM certificate (chain)")
    group.add_argument("--tls-key", metavar="FILE", help="the PEM private key of --tls-cert")
    group.add_argument(
        "--tls-ca",
        metavar="FILE",
        help="ask clients for a certificate and accept only those issued by this CA",
    )


def add_client_tls_options(parser: argparse.ArgumentParser, what: str = "") -> None:
    group = parser.add_argument_group("TLS (connecting)")
    group.add_argument("--tls", action="store_true", help=f"connect{what} with TLS")
    group.add_argument("--ca", metavar="FILE", help="trust this PEM CA (default: the system's)")
    group.add_argument(
        "--insecure", action="store_true", help="do not reject a certificate that fails verification"
    )
    group.add_argument("--servername", metavar="NAME", help="the SNI name (default: the host)")


def _read(path: str, what: str) -> bytes:
    try:
        with open(path, "rb") as handle:
            return handle.read()
    except OSError as exc:
        raise CommandError(f"{what} {path}: {exc.strerror or exc}") from None


def server_tls(args: argparse.Namespace) -> dict[str, Any] | None:
    """The TLS server options the command line asks for; None: plain TCP."""
    cert, key, ca = args.tls_cert, args.tls_key, getattr(args, "tls_ca", None)
    if cert is None and key is None:
        if ca is not None:
            raise CommandError("--tls-ca needs --tls-cert and --tls-key")
        return None
    if cert is None or key is None:
        raise CommandError("--tls-cert and --tls-key go together")
    options: dict[str, Any] = {"cert": _read(cert, "--tls-cert"), "key": _read(key, "--tls-key")}
    if ca is not None:
        options.update(ca=_read(ca, "--tls-ca"), request_cert=True, reject_unauthorized=True)
    import gnet.tls as gnet_tls

    try:
        options["secure_context"] = gnet_tls.create_secure_context(options)
    except (TypeError, ValueError, OSError) as exc:
        raise CommandError(f"--tls-cert/--tls-key: {describe_error(exc)}") from None
    return options


def client_tls(args: argparse.Namespace) -> dict[str, Any] | None:
    """The TLS client options the command line asks for; None: plain TCP."""
    if not args.tls:
        if args.ca is not None or args.insecure or args.servername is not None:
            raise CommandError("--ca, --insecure and --servername need --tls")
        return None
    options: dict[str, Any] = {"reject_unauthorized": not args.insecure}
    if args.ca is not None:
        options["ca"] = _read(args.ca, "--ca")
    if args.servername is not None:
        options["servername"] = args.servername
    return options


def create_server(
    options: dict[str, Any], tls: dict[str, Any] | None, listener: Callable[[gnet.Socket], None]
) -> gnet.Server:
    """A server calling ``listener`` with each connection: plain, or TLS (after
    the handshake; failed handshakes are logged, one line each)."""
    if tls is None:
        return gnet.create_server(options, listener)
    import gnet.tls as gnet_tls

    server = gnet_tls.create_server({**options, **tls}, listener)

    def on_tls_error(err: BaseException, sock: gnet.Socket) -> None:
        log.info("TLS handshake failed (%s): %s", peer_name(sock), describe_error(err))

    server.on("tlsClientError", on_tls_error)
    return server


def connect(options: dict[str, Any], tls: dict[str, Any] | None) -> gnet.Socket:
    """``gnet.connect(options)``, or ``gnet.tls.connect`` with the TLS options."""
    if tls is None:
        return gnet.connect(options)
    import gnet.tls as gnet_tls

    return gnet_tls.connect({**options, **tls})


def open_connection(
    options: dict[str, Any], tls: dict[str, Any] | None, timeout: float | None
) -> gnet.Socket:
    """A connected socket (TLS: handshake done, the server's certificate judged),
    or the error; ``timeout`` in seconds covers both."""
    if tls is None:
        return gnet.open_connection(timeout=timeout, **options)
    sock = connect(options, tls)
    result: gevent.event.AsyncResult = gevent.event.AsyncResult()

    def on_secure() -> None:
        result.set(None)

    def on_close(_had_error: bool) -> None:
        if not result.ready():  # the error (set first) must stay
            result.set(None)

    sock.once("secureConnect", on_secure)
    sock.once("error", result.set_exception)
    sock.once("close", on_close)
    try:
        result.get(timeout=timeout)
    except gevent.Timeout:
        sock.destroy()
        raise TimeoutError from None
    except BaseException:
        sock.destroy()
        raise
    finally:  # the socket is the caller's: none of these may swallow its later events
        sock.remove_listener("secureConnect", on_secure)
        sock.remove_listener("error", result.set_exception)
        sock.remove_listener("close", on_close)
    if sock.destroyed:
        raise gnet.errors.make_error("ERR_SOCKET_CLOSED")
    if not getattr(sock, "authorized", False):  # --insecure let it through
        log.warning("TLS: the server is not authorized: %s", getattr(sock, "authorization_error", None))
    return sock
