"""The TLS handshake, driven in the connection's own greenlet under one deadline.

:func:`run` takes a :class:`gnet.tls.TLSSocket` whose transport has no
``SSLObject`` yet and leaves it with a finished one, or raises the error
the handshake ended with (already in Node's shape).  It runs in the
socket's actor greenlet: every wait is the socket's own ``_wait`` on the
descriptor, bounded by the socket's handshake deadline (``_hs_deadline``,
on the hub clock: one deadline for the whole handshake, so a peer that
trickles bytes does not extend it), after which it raises
``ERR_TLS_HANDSHAKE_TIMEOUT``.  When the socket is destroyed meanwhile it
raises :class:`Abandoned` and the caller stops quietly.

A server reads the ClientHello itself first (at most 64 KiB), so that it
can answer as Node does where Python's ``ssl`` would not:

* the SNI name picks the context (``add_context``, or a Node
  ``SNICallback`` that may answer later: the greenlet waits for it, within
  the deadline) before the ``SSLObject`` is made;
* both sides offering ALPN with no protocol in common is refused with the
  ``no_application_protocol`` alert and ``ERR_SSL_NO_APPLICATION_PROTOCOL``.

Anything that is not a ClientHello (plain HTTP, garbage) is handed to
OpenSSL, which fails it with its own error (``ERR_SSL_HTTP_REQUEST``,
``ERR_SSL_WRONG_VERSION_NUMBER``).  The bytes the connection already
buffered (``_hs_initial``: a STARTTLS peer's first flight, sent with its
command) are the first bytes of the handshake.  Whatever OpenSSL writes
goes out after every call, the alert of a failed handshake included.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..errors import from_oserror, make_error, tls_error
from ..state import Phase
from .errors import from_ssl_error, tls_disconnect_error
from .hello import ALERT_NO_APPLICATION_PROTOCOL, alert_record, parse_client_hello
from .options import server_ssl_context
from .roles import select_alpn, sni_servername
from .sni import SNIContexts
from .transport import ShellTransport

if TYPE_CHECKING:
    from .socket import TLSSocket
    from .transport import TLSTransport

__all__ = ["run", "Abandoned", "MAX_HELLO"]

MAX_HELLO = 1 << 16  # ClientHello bytes a server buffers before it lets OpenSSL decide
_CONNECTING = Phase.CONNECTING


class Abandoned(Exception):
    """The socket was destroyed during its handshake: stop quietly."""


def run(sock: TLSSocket) -> str | None:
    """The handshake of ``sock``; returns the SNI name a server was asked for."""
    transport = sock._tls
    assert transport is not None
    try:
        if sock._server_side:
            return _server(sock, transport)
        _client(sock, transport)
        return None
    except (Abandoned, TimeoutError):
        raise
    except BaseException as exc:  # noqa: B036 - every failure becomes Node's error
        if isinstance(exc, transport._ssl_mod.SSLError) or not isinstance(exc, OSError):
            raise from_ssl_error(exc, server_side=sock._server_side) from None
        raise from_oserror(exc, "read") from None


# --------------------------------------------------------------------------
# waiting, bounded by the deadline


def _wait(sock: TLSSocket, watcher: Any) -> None:
    sock._wait(watcher, sock._hs_deadline)
    if sock._phase is not _CONNECTING:
        raise Abandoned


def _read(sock: TLSSocket, transport: TLSTransport) -> bytes:
    """The next ciphertext from the peer; ``b''`` at its FIN."""
    while True:
        try:
            return transport.recv_raw()
        except (BlockingIOError, InterruptedError):
            _wait(sock, transport.read_watcher())


def _send(sock: TLSSocket, transport: TLSTransport) -> None:
    """Everything OpenSSL wrote, into the kernel (waiting for room if need be)."""
    while not transport.send_out():
        _wait(sock, transport.write_watcher())


def _take_wire(sock: TLSSocket) -> None:
    """What the plain socket taken over had queued goes out before the first TLS
    byte; then the connection carries TLS alone."""
    shell = sock._shell
    if shell is None:
        return
    transport = sock._tls
    assert transport is not None
    while shell._unsent() and shell._phase is Phase.OPEN:
        shell._flush()
        if shell._unsent():
            _wait(sock, transport.write_watcher())
    wire = shell._transport
    if isinstance(wire, ShellTransport):
        wire.seal()


def _drive(sock: TLSSocket, transport: TLSTransport) -> None:
    """``do_handshake`` until it is done, feeding it what the peer sends."""
    ssl = transport._ssl_mod
    ssl_obj = transport._ssl
    while True:
        try:
            ssl_obj.do_handshake()
        except ssl.SSLWantReadError:
            _send(sock, transport)
            data = _read(sock, transport)
            if not data:
                raise tls_disconnect_error(sock._server_side) from None
            transport.incoming.write(data)
            continue
        except ssl.SSLError:
            try:
                transport.send_out()  # the alert: the peer learns why
            except OSError:
                pass
            raise
        break
    transport.defer_out()  # the last flight goes with the first record (or next round)


# --------------------------------------------------------------------------
# the two sides


def _server(sock: TLSSocket, transport: TLSTransport) -> str | None:
    side = sock._server_options
    assert side is not None
    data = sock._hs_initial
    sock._hs_initial = b""
    _take_wire(sock)
    hello = None
    while len(data) <= MAX_HELLO:
        try:
            hello = parse_client_hello(data)
        except ValueError:
            break  # not a ClientHello OpenSSL would take either: its error, below
        if hello is not None:
            break
        chunk = _read(sock, transport)
        if not chunk:
            raise tls_disconnect_error(True)
        data += chunk
    context = server_ssl_context(side.context, side.role)
    servername = hello.servername if hello is not None else None
    if servername and sock._sni is not None:
        chosen, ssl_context = _resolve(sock, sock._sni, servername)
        if ssl_context is not None:
            context = ssl_context
            sock._context = chosen
    offered = hello.alpn_protocols if hello is not None else None
    if side.role.alpn_protocols and offered is not None:
        if select_alpn(side.role.alpn_protocols, offered) is None:
            transport.send_alert(alert_record(ALERT_NO_APPLICATION_PROTOCOL))
            raise tls_error("ERR_SSL_NO_APPLICATION_PROTOCOL")
    sslobj = context.wrap_bio(transport.incoming, transport.outgoing, server_side=True)
    transport.attach(sslobj)
    transport.incoming.write(data)
    _drive(sock, transport)
    return servername


def _resolve(sock: TLSSocket, sni: SNIContexts, servername: str) -> tuple[Any, Any]:
    """The context SNI picks for ``servername`` and its SSLContext (None: the
    server's own), waiting for an SNICallback that answers later."""
    answers: list[tuple[BaseException | None, Any]] = []

    def answer(err: BaseException | None, chosen: Any) -> None:
        answers.append((err, chosen))
        sock._wake()

    sni.resolve(servername, answer)
    while not answers:
        _wait(sock, None)
    err, chosen = answers[0]
    if err is not None:
        raise err
    return chosen, sni.ssl_context_for(chosen)


def _client(sock: TLSSocket, transport: TLSTransport) -> None:
    side = sock._client_options
    assert side is not None
    data = sock._hs_initial
    sock._hs_initial = b""
    _take_wire(sock)
    name = sock._sni_name if sock._sni_name is not None else side.servername
    sni = sni_servername(name, sock._peer_host)
    sslobj = side.ssl_context.wrap_bio(
        transport.incoming,
        transport.outgoing,
        server_side=False,
        server_hostname=sni,
        session=side.session,
    )
    transport.attach(sslobj)
    if data:
        transport.incoming.write(data)
    _drive(sock, transport)


def timeout_error() -> BaseException:
    """Node's ``ERR_TLS_HANDSHAKE_TIMEOUT``."""
    return make_error("ERR_TLS_HANDSHAKE_TIMEOUT")
