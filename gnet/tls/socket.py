"""Node's ``tls.TLSSocket``: a gnet socket whose transport is TLS.

A :class:`TLSSocket` is a :class:`gnet.Socket` (same stream, same events,
same blocking helpers) over a :class:`~gnet.tls.transport.TLSTransport`.
Until its handshake is done it is *connecting*: writes queue, blocking
helpers wait, and its actor greenlet runs the handshake
(:mod:`gnet.tls.handshake`) as a plain socket's runs its connect.  Then it
is open, ``'secureConnection'``/``'secureConnect'`` and ``'secure'`` are
emitted, and what was written meanwhile goes out.

Three ways to get one:

* a :class:`gnet.tls.Server` accepts a connection: the plain socket of
  Node's ``'connection'`` event is taken over;
* :func:`gnet.tls.connect` (or ``TLSSocket().connect(...)``): TCP first,
  then the handshake;
* ``TLSSocket(socket, options)``, :func:`gnet.tls.connect` with
  ``socket=``, or the blocking :meth:`gnet.Socket.start_tls`: a plain
  socket's live connection upgraded (STARTTLS).

Taking a plain socket over (:meth:`TLSSocket._adopt`) is one step: its
buffered bytes become the handshake's first bytes, its transport becomes
a :class:`~gnet.tls.transport.ShellTransport` (its own reads stop; its
counters go on counting the bytes on the wire, as Node's raw socket's do;
``end()``/``destroy()`` on it reach the TLS socket), and its greenlet runs
the TLS socket from then on (:meth:`gnet.actor.Actor._hand_over`): one
greenlet per connection for its whole life.  The plain socket closes with
the TLS socket, after it.
"""

from __future__ import annotations

import enum
import time
from typing import TYPE_CHECKING, Any

from .. import diagnostics
from .._aliases import with_camel_aliases
from ..actor import deadline_after, logger
from ..errors import make_error
from ..socket import Socket
from ..state import PHASE, Phase, ReadSide
from . import handshake
from .certs import Certificate, certificate_from_der, peer_certificate
from .context import SecureContext
from .options import (
    ClientSide,
    ServerSide,
    client_side,
    local_certificate,
    server_side,
    split_options,
    trust_store_of,
)
from .roles import identity_host
from .sni import SNIContexts
from .transport import ShellTransport, TLSTransport
from .verify import handshake_verdict, peer_chain

if TYPE_CHECKING:
    import ssl

__all__ = ["TLSSocket", "standard_cipher_name"]

_NEW, _CONNECTING, _OPEN, _DESTROYED = Phase.NEW, Phase.CONNECTING, Phase.OPEN, Phase.DESTROYED
_R_EOF = ReadSide.EOF


class TLSPhase(enum.IntEnum):
    """Where a TLS socket's security stands (its :class:`~gnet.state.Phase` says the rest)."""

    PLAIN = 0  # no TLS yet: connecting TCP, or waiting for the socket it upgrades
    HANDSHAKE = 1  # the transport is there; the handshake is to run or running
    SECURE = 2  # handshake done and accepted
    FAILED = 3  # handshake failed or the peer was rejected


@with_camel_aliases
class TLSSocket(Socket):
    """Node's ``tls.TLSSocket``: a :class:`gnet.Socket` over TLS.

    ``TLSSocket(socket=None, options=None, **kwargs)``: with ``socket`` (a
    connected or connecting :class:`gnet.Socket`), upgrade its connection,
    as Node's ``new tls.TLSSocket(socket, options)``; ``options`` are
    Node's (``is_server``, ``secure_context`` or the
    ``create_secure_context`` options, ``request_cert``,
    ``reject_unauthorized``, ``alpn_protocols``, ``sni_callback``,
    ``session``, ``servername``, ``check_server_identity``,
    ``handshake_timeout``).  Differences from Node: a client-side socket
    made this way checks the server's certificate and name and emits
    ``'secureConnect'`` as ``tls.connect`` does (``reject_unauthorized``
    defaults to True), and a server-side one emits ``'error'`` when its
    handshake fails.
    """

    __slots__ = (
        "_tls", "_tls_phase", "_server_side", "_server_options", "_client_options", "_sni",
        "_context", "_shell", "_wrapped", "_peer_host", "_hs_initial", "_hs_timeout", "_hs_deadline",
        "_hs_began", "_hs_running", "_authorized", "_authorization_error", "_alpn",
        "_servername", "_sni_name", "_straight",
    )  # fmt: skip

    #: Node's ``tlsSocket.encrypted``: always True.
    encrypted = True

    def __init__(self, socket: Socket | None = None, options: dict[str, Any] | None = None, **kwargs: Any) -> None:
        Socket.__init__(self)
        self._tls: TLSTransport | None = None
        self._tls_phase = TLSPhase.PLAIN
        self._server_side = False
        self._server_options: ServerSide | None = None
        self._client_options: ClientSide | None = None
        self._sni: SNIContexts | None = None
        self._context: Any = None  # the SecureContext (or SSLContext) in effect
        self._shell: Socket | None = None  # the plain socket taken over, until it closes
        self._wrapped = False  # it had one: that one stands for the connection in diagnostics
        self._peer_host: str | None = None
        self._hs_initial = b""
        self._hs_timeout = 0.0  # ms from the take-over to the handshake's deadline; 0: none
        self._hs_deadline: float | None = None
        self._hs_began = 0.0
        self._hs_running = False
        self._authorized = False
        self._authorization_error: str | None = None
        self._alpn: str | bool | None = None
        self._servername: str | bool | None = None
        self._sni_name: str | None = None
        self._straight = False  # a start_tls() caller gets the handshake's error raised
        if socket is None and options is None and not kwargs:
            return
        opts = split_options(options, kwargs, "TLSSocket", server=False)
        self._configure(opts)
        if socket is not None:
            self._upgrade(socket)

    def __repr__(self) -> str:
        return f"<gnet.tls.TLSSocket {self.ready_state} {self._describe()}>"

    # ------------------------------------------------------------------
    # configuration

    def _configure(self, opts: dict[str, Any]) -> None:
        """Node's TLSSocket options (snake_case), for either side."""
        if opts.get("is_server") is True:
            side = server_side(opts, handshake_timeout=False)
            self._server_side = True
            self._server_options = side
            self._context = side.context
            if side.sni_callback is not None:
                self._sni = SNIContexts(side.sni_callback, side.role)
            self._hs_timeout = side.handshake_timeout
            server = opts.get("server")
            if server is not None:
                self._server = server
        else:
            client = client_side(opts)
            self._client_options = client
            self._context = client.context
        if opts.get("allow_half_open") is not None:
            self.allow_half_open = bool(opts["allow_half_open"])

    @classmethod
    def _accepted_by(cls, server: Any, raw: Socket) -> TLSSocket:
        """The TLS socket of a connection a :class:`gnet.tls.Server` accepted, taking ``raw`` over."""
        side: ServerSide = server._tls_side
        self = cls()
        self._server = server
        self._server_side = True
        self._server_options = side
        self._sni = server._sni
        self._context = side.context
        options = server._options
        self.allow_half_open = options.allow_half_open
        self._rhwm = self._whwm = options.high_water_mark
        if options.pause_on_connect:
            self._flowing = False
        self._hs_timeout = side.handshake_timeout
        self._adopt(raw)
        if self._phase is _CONNECTING:
            # The server counts (and drains, and shuts down) the TLS socket, not the raw one.
            server._sockets.discard(raw)
            server._sockets.add(self)
            self._on_destroy = server._ended_hook
        return self

    def _upgrade(self, socket: Socket) -> None:
        """Take ``socket``'s connection over, now or once it has connected."""
        if not isinstance(socket, Socket) or isinstance(socket, TLSSocket):
            raise make_error("ERR_INVALID_ARG_TYPE", "socket", "an instance of gnet.Socket", socket)
        if socket._decoder is not None and socket._rbuf:
            # Decoded text cannot be turned back into the bytes the handshake needs.
            raise make_error(
                "ERR_INVALID_ARG_VALUE", "socket", "a socket with set_encoding()",
                "must not hold decoded data when TLS starts",
            )  # fmt: skip
        self.allow_half_open = socket.allow_half_open
        self._rhwm, self._whwm = socket._rhwm, socket._whwm
        if socket.connecting:
            socket.once("connect", lambda *_: self._adopt(socket))
            return
        self._adopt(socket)

    def _adopt(self, shell: Socket) -> None:
        """Become the TLS layer of ``shell``'s open connection (see the module docstring)."""
        if self._phase is not _NEW:
            return  # destroyed while the plain socket was connecting
        raw = shell._transport
        if shell._phase is not _OPEN or raw is None or isinstance(raw, ShellTransport):
            self.destroy(make_error("ERR_SOCKET_CLOSED"))
            return
        shell.pause()
        if shell._idle is not None:
            shell.set_timeout(0)  # its idle timer would see none of the TLS traffic
        buffered = shell._rbuf.take() if shell._rbuf else b""
        self._hs_initial = buffered if isinstance(buffered, bytes) else b""
        options = shell._connect_options
        if self._peer_host is None and options is not None and options.path is None:
            self._peer_host = options.host
        if self._server is None and shell._server is not None:
            self._server = shell._server
        transport = TLSTransport(raw, shell)  # type: ignore[arg-type]  # a SocketTransport
        transport.set_flusher(self._on_writable)
        self._tls = transport
        self._transport = transport
        self._family = transport.family
        self._shell = shell
        self._wrapped = True
        self._id = shell.connection_id  # one connection, one id in events and logs
        shell._transport = ShellTransport(raw, self)  # type: ignore[arg-type]
        self._phase = PHASE["connect"][_NEW]
        self._tls_phase = TLSPhase.HANDSHAKE
        self._hold_ref(True)
        if self._hs_timeout:
            self._hs_deadline = deadline_after(self._hs_timeout / 1000.0)
        shell._hand_over(self)

    # ------------------------------------------------------------------
    # connecting: TCP (tls.connect), then the handshake

    def _open(self, transport: Any) -> None:
        if transport is self._tls:
            Socket._open(self, transport)  # type: ignore[arg-type]  # a Transport
            return
        # tls.connect's TCP connection is up (the base's connect calls this):
        # TLS over it next, still connecting.
        tls = TLSTransport(transport)
        tls.set_flusher(self._on_writable)
        self._tls = tls
        self._transport = tls
        self._family = transport.family
        self._tls_phase = TLSPhase.HANDSHAKE
        self._apply_options()

    def _do_connect(self) -> None:
        if self._tls is None:
            if self._connect_options is not None:
                Socket._do_connect(self)
            return
        if self._hs_running:
            # A listener called a blocking helper while the handshake waited.
            raise make_error("ERR_GNET_CONCURRENT_IO", "the TLS handshake")
        self._hs_running = True
        try:
            self._handshake()
        finally:
            self._hs_running = False

    def _handshake(self) -> None:
        self._hs_began = time.monotonic()
        diagnostics.publish_new(diagnostics.TLSHandshakeStarted, self, self._server_side)
        try:
            servername = handshake.run(self)
        except handshake.Abandoned:
            return
        except TimeoutError:
            self._fail(handshake.timeout_error())
            return
        except Exception as exc:  # the handshake's error, in Node's shape
            self._fail(exc)
            return
        self._secure(servername)

    def _secure(self, servername: str | None) -> None:
        """The handshake is done: Node's verdict, then open and announce."""
        transport = self._tls
        assert transport is not None and transport.sslobj is not None
        sslobj = transport.sslobj
        alpn = sslobj.selected_alpn_protocol()
        self._alpn = alpn if alpn else False
        if self._server_side:
            self._servername = servername or False
            side = self._server_options
            assert side is not None
            if side.role.request_cert or not _is_secure_context(self._context):
                if not self._judge(sslobj, None, side.role.reject_unauthorized):
                    return
        else:
            client = self._client_options
            assert client is not None
            self._servername = sslobj.server_hostname or False
            host = identity_host(self._sni_name or client.servername, self._peer_host)
            if not self._judge(sslobj, host, client.reject_unauthorized):
                return
        self._tls_phase = TLSPhase.SECURE
        Socket._open(self, transport)
        self._drained = False  # records that came with the handshake's last flight
        if diagnostics.subscribed():
            cipher = sslobj.cipher()
            diagnostics.publish(
                diagnostics.TLSHandshakeCompleted(
                    self, self._server_side, time.monotonic() - self._hs_began,
                    sslobj.version(), cipher[0] if cipher else None, alpn,
                )
            )  # fmt: skip
        if self._server_side:
            server = self._server
            if server is not None and getattr(server, "_tls_side", None) is not None:
                server.emit("secureConnection", self)
        elif self._phase is _OPEN:
            self.emit("secureConnect")
        if self._phase is _OPEN:
            self.emit("secure")
            self._emit_session()
        if self._phase is _OPEN and not self._wq.corked and (self._wq.entries or not self.writable):
            self._flush()  # what was written (or ended) during the handshake
        self._wake()

    def _judge(self, sslobj: ssl.SSLObject, host: str | None, reject: bool) -> bool:
        """Node's ``authorized``/``authorizationError``; False when the peer is rejected."""
        context = self._context
        if _is_secure_context(context):
            check = self._client_options.check_server_identity if self._client_options else None
            if check is None:
                authorized, error = handshake_verdict(sslobj, trust_store_of(context), host)
            else:
                authorized, error = handshake_verdict(
                    sslobj, trust_store_of(context), host, check_identity=check
                )
        else:
            # A Python SSLContext: its own verify mode decided in the handshake.
            import ssl

            authorized = sslobj.context.verify_mode != ssl.CERT_NONE and bool(sslobj.getpeercert(True))
            error = None
            reject = False
        self._authorized = authorized
        if error is not None:
            code = getattr(error, "code", None)
            self._authorization_error = code if isinstance(code, str) else str(error)
            if reject:
                self._fail(error)
                return False
        return True

    def _emit_session(self) -> None:
        # Node's 'session' on a client: the session to resume with.  Python
        # exposes it once known; with TLS 1.3 it arrives after the handshake
        # (get_session() then has it), so the event is TLS 1.2's alone.
        if self._server_side or "session" not in self._events:
            return
        session = self.get_session()
        if session is not None and (session.has_ticket or self.get_protocol() == "TLSv1.2"):
            self.emit("session", session)

    def _fail(self, error: BaseException) -> None:
        """The handshake failed, or the peer was rejected: Node's events, then destroy."""
        self._tls_phase = TLSPhase.FAILED
        diagnostics.publish_new(
            diagnostics.TLSHandshakeFailed, self, self._server_side, error,
            time.monotonic() - self._hs_began if self._hs_began else 0.0,
        )  # fmt: skip
        if self._phase >= _DESTROYED:
            return
        server = self._server
        if self._straight:
            self._errored = error  # raised by start_tls(), not an 'error' event
            self.destroy()
        elif self._server_side and server is not None and getattr(server, "_tls_side", None) is not None:
            # Node: a server's handshake failures go to 'tlsClientError', not 'error'.
            self._errored = error
            if server.listener_count("tlsClientError"):
                server.emit("tlsClientError", error, self)
            else:
                logger.debug("TLS handshake failed on %r: %s", self, error)
            self.destroy()
        else:
            self.destroy(error)

    # ------------------------------------------------------------------
    # closing: the plain socket goes with it

    def _close_handle(self) -> None:
        Socket._close_handle(self)
        shell = self._shell
        if shell is not None:
            self._shell = None
            if shell._errored is None:
                shell._errored = self._errored  # its 'close' and diagnostics say why
            shell.destroy()

    def _publish_closed(self) -> None:
        if not self._wrapped:  # over a plain socket, that one is the connection
            Socket._publish_closed(self)

    def _reset_for_reconnect(self) -> None:
        Socket._reset_for_reconnect(self)
        self._tls = None
        self._tls_phase = TLSPhase.PLAIN
        self._authorized = False
        self._authorization_error = None
        self._alpn = self._servername = None

    # ------------------------------------------------------------------
    # Node's members

    @property
    def authorized(self) -> bool:
        """Node's ``authorized``: the peer's certificate was verified (and, on a client, its name)."""
        return self._authorized

    @property
    def authorization_error(self) -> str | None:
        """Node's ``authorizationError``: why the peer is not authorized (a code such
        as ``'UNABLE_TO_VERIFY_LEAF_SIGNATURE'``, or the error's message), else None."""
        return self._authorization_error

    @property
    def alpn_protocol(self) -> str | bool | None:
        """Node's ``alpnProtocol``: the negotiated protocol, ``False`` for none, None before the handshake."""
        return self._alpn

    @property
    def servername(self) -> str | bool | None:
        """Node's ``servername``: the SNI name (a server: the one the client asked for;
        a client: the one it sent), ``False`` for none, None before the handshake."""
        return self._servername

    @property
    def ssl_object(self) -> ssl.SSLObject | None:
        """Beyond Node: the connection's ``ssl.SSLObject`` (None before the handshake starts)."""
        return self._tls.sslobj if self._tls is not None else None

    def _sslobj(self) -> ssl.SSLObject | None:
        if self._tls_phase is not TLSPhase.SECURE or self._phase >= _DESTROYED:
            return None
        return self._tls.sslobj if self._tls is not None else None

    def get_peer_certificate(self, detailed: bool = False) -> Certificate | None:
        """Node's ``getPeerCertificate([detailed])``: the peer's certificate object
        (``{}`` when it sent none; with ``detailed``, ``issuerCertificate``
        chains to its issuers); None when not connected."""
        sslobj = self._sslobj()
        if sslobj is None:
            return None
        chain = peer_chain(sslobj)
        if not detailed:
            return peer_certificate(chain[:1])
        return peer_certificate(chain, True, find_issuer=trust_store_of(self._context).find_issuer)

    def get_certificate(self) -> Certificate | None:
        """Node's ``getCertificate()``: the local certificate object, ``{}`` without one
        (or with a Python ``SSLContext``, whose certificate Python does not tell);
        None when not connected."""
        if self._sslobj() is None:
            return None
        der = local_certificate(self._context)
        return certificate_from_der(der) if der else Certificate()

    def get_protocol(self) -> str | None:
        """Node's ``getProtocol()``: ``'TLSv1.3'``, ``'TLSv1.2'``...; None before the handshake."""
        sslobj = self._sslobj()
        return sslobj.version() if sslobj is not None else None

    def get_cipher(self) -> dict[str, str] | None:
        """Node's ``getCipher()``: ``{'name', 'standardName', 'version'}``."""
        sslobj = self._sslobj()
        cipher = sslobj.cipher() if sslobj is not None else None
        if not cipher:
            return None
        name, version, _bits = cipher
        return {"name": name, "standardName": standard_cipher_name(name), "version": version}

    def is_session_reused(self) -> bool:
        """Node's ``isSessionReused()``."""
        sslobj = self._sslobj()
        return bool(sslobj is not None and sslobj.session_reused)

    def get_session(self) -> ssl.SSLSession | None:
        """Node's ``getSession()``: the session (an ``ssl.SSLSession``, where Node gives
        its bytes), to pass as ``session`` to a later ``connect``."""
        sslobj = self._sslobj()
        return sslobj.session if sslobj is not None else None

    def set_servername(self, name: str) -> None:
        """Node's ``setServername(name)``: the SNI name a client sends (before its handshake)."""
        if not isinstance(name, str):
            raise make_error("ERR_INVALID_ARG_TYPE", "name", "of type string", name)
        if self._server_side:
            raise make_error("ERR_TLS_SNI_FROM_SERVER")
        self._sni_name = name

    def disable_renegotiation(self) -> None:
        """Node's ``disableRenegotiation()``: gnet never renegotiates, so nothing to do."""


def _is_secure_context(context: Any) -> bool:
    return isinstance(context, SecureContext)


# OpenSSL's key exchange/authentication prefixes -> the IANA spelling.
_KX = {"ECDHE-RSA": "ECDHE_RSA", "ECDHE-ECDSA": "ECDHE_ECDSA", "DHE-RSA": "DHE_RSA", "DHE-DSS": "DHE_DSS"}
_BULK = {
    "AES128-GCM": "AES_128_GCM", "AES256-GCM": "AES_256_GCM", "AES128": "AES_128_CBC",
    "AES256": "AES_256_CBC", "CHACHA20-POLY1305": "CHACHA20_POLY1305", "AES128-CCM": "AES_128_CCM",
    "AES256-CCM": "AES_256_CCM", "AES128-CCM8": "AES_128_CCM_8", "AES256-CCM8": "AES_256_CCM_8",
}  # fmt: skip


def standard_cipher_name(name: str) -> str:
    """The IANA name of an OpenSSL cipher name (Node's ``standardName``):
    ``ECDHE-RSA-AES128-GCM-SHA256`` -> ``TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256``;
    TLSv1.3 names are already standard; an unknown pattern is returned as it is."""
    if name.startswith("TLS_"):
        return name
    kx = "RSA"
    rest = name
    for prefix, iana in _KX.items():
        if name.startswith(prefix + "-"):
            kx, rest = iana, name[len(prefix) + 1 :]
            break
    if rest == "CHACHA20-POLY1305":
        return f"TLS_{kx}_WITH_CHACHA20_POLY1305_SHA256"
    bulk, _, mac = rest.rpartition("-")
    if bulk in _BULK and mac in ("SHA", "SHA256", "SHA384"):
        return f"TLS_{kx}_WITH_{_BULK[bulk]}_{mac}"
    if rest in _BULK:  # CCM suites carry no MAC in OpenSSL's name
        return f"TLS_{kx}_WITH_{_BULK[rest]}"
    return name
