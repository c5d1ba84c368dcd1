"""gnet.tls over real sockets, gnet on both ends: everything a plain socket does,
over TLS (events, both styles, backpressure, half-close with close_notify,
timeouts, destroy, counters), and Node's TLS members and verdicts.
"""

from __future__ import annotations

import hashlib
import ssl
from collections.abc import Callable
from typing import Any

import gevent
import gevent.local
import pytest
import zope.event
from gevent.event import AsyncResult, Event
from greenlet import getcurrent
from tls_support import client_options, server_options, tls_certs

import gnet
import gnet.tls as tls
from gnet import diagnostics
from support import TIMEOUT, Collector, payload, port_of, wait_until, waiter

T = TIMEOUT


@pytest.fixture
def tls_server(track: Any) -> Callable[..., tls.Server]:
    """``tls_server(listener=None, **options)``: a gnet.tls server on 127.0.0.1:0
    with the session's server certificate (options override it)."""

    def make(listener: Any = None, **options: Any) -> tls.Server:
        server = track(tls.create_server(server_options(**options), listener))
        server.listen(0, "127.0.0.1")
        gnet.once(server, "listening", timeout=T)
        return server

    return make


@pytest.fixture
def client(track: Any) -> Callable[..., tls.TLSSocket]:
    """``client(port, **options)``: a gnet.tls client to localhost:port trusting the CA."""

    def make(port: int, host: str = "localhost", **options: Any) -> tls.TLSSocket:
        return track(tls.connect(port, host, client_options(**options)))

    return make


def echo(sock: gnet.Socket) -> None:
    sock.on("error", lambda err: None)  # a client that rejects the server resets it
    sock.pipe(sock)


def secure(sock: tls.TLSSocket) -> tls.TLSSocket:
    """Wait for a client's 'secureConnect' (or fail with its error)."""
    done: AsyncResult = AsyncResult()
    sock.once("secureConnect", lambda: done.set(sock))
    sock.once("error", done.set_exception)
    return done.get(timeout=T)  # type: ignore[no-any-return]


def read_all(sock: gnet.Socket) -> bytes:
    """Everything until 'end' (the socket flows)."""
    chunks: list[bytes] = []
    ended: AsyncResult = AsyncResult()
    sock.on("data", chunks.append)
    sock.once("end", lambda: ended.set(True))
    sock.once("error", ended.set_exception)
    ended.get(timeout=T)
    return b"".join(chunks)


# --------------------------------------------------------------------------
# events and both styles


def test_node_style_echo_and_the_event_order(tls_server: Any, client: Any) -> None:
    server_log: list[Any] = []
    server = tls_server(echo)
    server.on("connection", lambda raw: server_log.append(("connection", type(raw))))
    server.on("secureConnection", lambda s: server_log.append(("secureConnection", type(s))))
    sock = client(port_of(server))
    log: list[str] = []
    for name in ("connect", "ready", "secureConnect", "secure", "end", "finish", "close"):
        sock.on(name, lambda *_, _n=name: log.append(_n))
    got: list[bytes] = []
    sock.on("data", got.append)
    sock.once("secureConnect", lambda: sock.end(b"hello over TLS"))
    closed = waiter(sock, "close")
    assert closed.get(timeout=T) == (False,)
    assert b"".join(got) == b"hello over TLS"
    assert log == ["connect", "ready", "secureConnect", "secure", "finish", "end", "close"] or log == [
        "connect", "ready", "secureConnect", "secure", "end", "finish", "close"
    ]  # fmt: skip
    assert server_log == [("connection", gnet.Socket), ("secureConnection", tls.TLSSocket)]


def test_straight_line_handler_over_tls(tls_server: Any, client: Any) -> None:
    def handle(sock: tls.TLSSocket) -> None:
        with sock:
            name = sock.readline(timeout=T).strip()
            size = int(sock.recv_until(b";", timeout=T)[:-1])
            body = sock.recv_exactly(size, timeout=T)
            sock.sendall(b"hello " + name + b" " + hashlib.sha256(body).hexdigest().encode() + b"\n")
            with sock.makefile("rb") as f:
                sock.sendall(f.readline())

    server = tls_server(handle)
    sock = secure(client(port_of(server)))
    body = payload(300_000)
    sock.write(b"world\n" + str(len(body)).encode() + b";" + body + b"via makefile\n")
    assert sock.readline(timeout=T) == b"hello world " + hashlib.sha256(body).hexdigest().encode() + b"\n"
    assert sock.readline(timeout=T) == b"via makefile\n"
    assert sock.recv(timeout=T) == b""  # the handler's with-block ended the connection


def test_a_straight_line_client(tls_server: Any) -> None:
    server = tls_server(echo)
    sock = tls.connect(port_of(server), "localhost", client_options())
    with sock:
        sock.sendall(b"ping\n")
        assert sock.readline(timeout=T) == b"ping\n"
        assert sock.authorized


def test_nodes_members(tls_server: Any, client: Any) -> None:
    certs = tls_certs()
    served: AsyncResult = AsyncResult()
    server = tls_server(served.set)
    sock = secure(client(port_of(server)))
    peer = served.get(timeout=T)
    assert sock.encrypted is True and peer.encrypted is True
    assert (sock.authorized, sock.authorization_error) == (True, None)
    assert (peer.authorized, peer.authorization_error) == (False, None)  # no requestCert
    assert sock.get_protocol() == peer.get_protocol() == "TLSv1.3"
    cipher = sock.get_cipher()
    assert set(cipher) == {"name", "standardName", "version"} and cipher["version"] == "TLSv1.3"
    assert (sock.servername, peer.servername) == ("localhost", "localhost")
    assert (sock.alpn_protocol, peer.alpn_protocol) == (False, False)
    cert = sock.get_peer_certificate()
    assert ssl.DER_cert_to_PEM_cert(cert["raw"]).encode() == tls_certs().server.leaf.replace(
        b"\r\n", b"\n"
    )
    assert "DNS:localhost" in cert["subjectaltname"]
    assert sock.get_peer_certificate(True)["issuerCertificate"]["subject"]["O"] == "gnet tests"
    assert peer.get_certificate()["raw"] == cert["raw"]
    assert peer.get_peer_certificate() == {}  # the client sent none
    assert sock.get_certificate() == {}
    assert sock.is_session_reused() is False
    # camelCase twins
    assert sock.getPeerCertificate()["fingerprint256"] == cert["fingerprint256"]
    assert (sock.authorizationError, sock.alpnProtocol, sock.isSessionReused()) == (None, False, False)
    assert certs.ca.cert  # the CA issued it
    peer.destroy()


def test_the_raw_socket_counts_the_wire_and_the_tls_socket_plaintext(tls_server: Any, client: Any) -> None:
    raws: list[gnet.Socket] = []
    served: AsyncResult = AsyncResult()
    server = tls_server(echo)
    server.on("connection", raws.append)
    server.on("secureConnection", served.set)
    sock = secure(client(port_of(server)))
    body = payload(100_000)
    sock.end(body)
    assert read_all(sock) == body
    peer = served.get(timeout=T)
    wait_until(lambda: peer.destroyed)
    raw = raws[0]
    assert (peer.bytes_read, peer.bytes_written) == (len(body), len(body))
    assert (sock.bytes_read, sock.bytes_written) == (len(body), len(body))
    # The handshake and the records' overhead are on the wire only.
    assert raw.bytes_read > len(body) + 200 and raw.bytes_written > len(body) + 500
    assert (raw.bytesRead, raw.bytesWritten) == (raw.bytes_read, raw.bytes_written)


# --------------------------------------------------------------------------
# backpressure, pause/resume, half-close, timeout, destroy


def test_backpressure_counts_unsent_ciphertext_and_drain_follows(tls_server: Any, client: Any) -> None:
    served: AsyncResult = AsyncResult()

    def paused(sock: tls.TLSSocket) -> None:
        sock.pause()
        served.set(sock)

    server = tls_server(paused)
    sock = secure(client(port_of(server), high_water_mark=64 * 1024))
    peer = served.get(timeout=T)
    body = payload(32 * 1024 * 1024)
    chunk = 256 * 1024
    state = {"offset": 0, "false": 0}

    def pump() -> None:
        while state["offset"] < len(body):
            piece = body[state["offset"] : state["offset"] + chunk]
            state["offset"] += len(piece)
            if not sock.write(piece):
                state["false"] += 1
                # Unsent ciphertext is part of what write() counts.
                transport = sock._transport
                assert transport is not None
                assert sock.writable_length == sock._wq.length + transport.pending >= 64 * 1024
                sock.once("drain", pump)
                return
        sock.end()

    pump()
    assert state["false"] == 1

    def in_the_kernel() -> int:
        return sock.bytes_written - sock.writable_length

    # The paused peer holds its high-water mark and one raw read, however
    # much the client pushed into the kernel's buffers.
    wait_until(lambda: in_the_kernel() >= peer.bytes_read + 1024 * 1024)
    assert peer.readable_length <= 16 * 1024 + 65536
    assert peer._tls.incoming.pending <= 65536
    received = hashlib.sha256()
    peer.on("data", received.update)
    peer.resume()
    wait_until(lambda: peer.readable_ended, timeout=30)
    assert received.digest() == hashlib.sha256(body).digest()
    assert state["false"] > 1  # 'drain' came, again and again
    peer.destroy()


def test_half_close_with_close_notify(tls_server: Any, client: Any) -> None:
    result: AsyncResult = AsyncResult()

    def handle(sock: tls.TLSSocket) -> None:
        data = b""
        for chunk in sock:  # until the client's close_notify
            data += chunk
        assert sock.writable  # allow_half_open: this side stays open
        sock.sendall(b"after your end: " + str(len(data)).encode())
        result.set(len(data))
        sock.end()

    server = tls_server(handle, allow_half_open=True)
    sock = secure(client(port_of(server), allow_half_open=True))
    body = payload(200_000)
    sock.end(body)
    assert sock.writable is False and sock.readable is True
    assert read_all(sock) == b"after your end: 200000"
    assert result.get(timeout=T) == 200_000
    wait_until(lambda: sock.destroyed)


def test_without_allow_half_open_the_peers_end_ends_this_side(tls_server: Any, client: Any) -> None:
    ends = Collector()
    server = tls_server(lambda s: (s.on("end", ends), s.resume()))
    sock = secure(client(port_of(server)))
    sock.end()
    assert read_all(sock) == b""
    ends.wait(1)
    wait_until(lambda: sock.destroyed)


def test_set_timeout_over_tls(tls_server: Any, client: Any) -> None:
    server = tls_server(lambda s: s.resume())
    sock = secure(client(port_of(server)))
    timed_out = waiter(sock, "timeout")
    sock.set_timeout(50)
    assert timed_out.get(timeout=T) == ()
    assert not sock.destroyed  # Node's timeout only tells


def test_destroy_closes_the_tls_socket_and_the_raw_one(tls_server: Any, client: Any) -> None:
    raws: list[gnet.Socket] = []
    served: AsyncResult = AsyncResult()
    server = tls_server(served.set)
    server.on("connection", raws.append)
    sock = secure(client(port_of(server)))
    peer = served.get(timeout=T)
    raw_closed, peer_closed = waiter(raws[0], "close"), waiter(peer, "close")
    assert server.connections == 1
    peer.destroy()
    assert peer_closed.get(timeout=T) == (False,)
    assert raw_closed.get(timeout=T) == (False,)
    assert sock.recv(timeout=T) == b""
    wait_until(lambda: server.connections == 0)


def test_destroying_the_raw_socket_destroys_the_tls_socket(tls_server: Any, client: Any) -> None:
    raws: list[gnet.Socket] = []
    served: AsyncResult = AsyncResult()
    server = tls_server(served.set)
    server.on("connection", raws.append)
    secure(client(port_of(server)))
    peer = served.get(timeout=T)
    closed = waiter(peer, "close")
    raws[0].destroy()
    closed.get(timeout=T)


def test_writes_before_the_handshake_go_out_after_it(tls_server: Any) -> None:
    server = tls_server(echo)
    sock = tls.connect(port_of(server), "localhost", client_options())
    assert sock.write(b"early ") is True  # queued: connecting
    sock.end(b"bird")
    assert read_all(sock) == b"early bird"


def test_one_greenlet_per_connection(tls_server: Any, client: Any) -> None:
    local = gevent.local.local()
    seen: list[Any] = []

    def on_connection(raw: gnet.Socket) -> None:
        local.name = "mine"
        seen.append(getcurrent())

    def on_secure(sock: tls.TLSSocket) -> None:
        seen.append((getcurrent(), getattr(local, "name", None)))
        sock.on("data", lambda d: seen.append((getcurrent(), getattr(local, "name", None))))
        sock.on("close", lambda *_: seen.append((getcurrent(), getattr(local, "name", None))))
        sock.resume()

    server = tls_server(on_secure)
    server.on("connection", on_connection)
    sock = secure(client(port_of(server)))
    sock.end(b"x")
    wait_until(lambda: len(seen) == 4)
    first = seen[0]
    assert seen[1:] == [(first, "mine")] * 3


# --------------------------------------------------------------------------
# diagnostics


def test_handshake_diagnostics(tls_server: Any, client: Any) -> None:
    events: list[Any] = []

    def subscriber(event: Any) -> None:
        if type(event).__name__.startswith("TLSHandshake"):
            events.append(event)

    zope.event.subscribers.append(subscriber)
    try:
        server = tls_server(echo, ALPNProtocols=["h2"])
        raws = Collector()
        server.on("connection", raws)
        secure(client(port_of(server), ALPNProtocols=["h2"])).end()
        wait_until(lambda: len(events) == 4)
        good = list(events)
        bad = client(port_of(server), servername="wrong.example")
        bad.on("error", lambda err: None)
        wait_until(lambda: any(isinstance(e, diagnostics.TLSHandshakeFailed) for e in events))
    finally:
        zope.event.subscribers.remove(subscriber)
    started = [e for e in good if isinstance(e, diagnostics.TLSHandshakeStarted)]
    completed = [e for e in good if isinstance(e, diagnostics.TLSHandshakeCompleted)]
    failed = [e for e in events if isinstance(e, diagnostics.TLSHandshakeFailed)]
    assert sorted(e.server_side for e in started) == [False, True]
    assert sorted(e.server_side for e in completed) == [False, True]
    assert {(e.protocol, e.alpn_protocol) for e in completed} == {("TLSv1.3", "h2")}
    assert all(e.duration >= 0 and e.cipher for e in completed)
    assert failed[0].code == "ERR_TLS_CERT_ALTNAME_INVALID" and failed[0].server_side is False
    # The TLS socket and the raw socket of 'connection' are one connection: one id.
    raw_id = raws.calls[0][0].connection_id
    assert {e.connection_id for e in good if e.server_side} == {raw_id}


# --------------------------------------------------------------------------
# ALPN, SNI, verification


def test_alpn_picks_the_servers_first_common_protocol(tls_server: Any, client: Any) -> None:
    served: AsyncResult = AsyncResult()
    server = tls_server(served.set, ALPNProtocols=["h2", "http/1.1"])
    sock = secure(client(port_of(server), ALPNProtocols=["http/1.1", "h2"]))
    assert sock.alpn_protocol == "h2" and served.get(timeout=T).alpn_protocol == "h2"


def test_alpn_with_nothing_in_common_fails_as_in_node(tls_server: Any, client: Any) -> None:
    errors = Collector()
    server = tls_server(echo, ALPNProtocols=["h2"])
    server.on("tlsClientError", errors)
    sock = client(port_of(server), ALPNProtocols=["http/1.1"])
    failed: AsyncResult = AsyncResult()
    sock.on("error", failed.set)
    err = failed.get(timeout=T)
    assert err.code == "ERR_SSL_TLSV1_ALERT_NO_APPLICATION_PROTOCOL"
    assert isinstance(err, ssl.SSLError)
    server_err, tls_sock = errors.wait(1)[0]
    assert server_err.code == "ERR_SSL_NO_APPLICATION_PROTOCOL"
    assert isinstance(tls_sock, tls.TLSSocket)


def test_sni_selects_a_context_added_for_the_name(tls_server: Any, client: Any) -> None:
    served: AsyncResult = AsyncResult()
    server = tls_server(served.set)
    server.add_context("*.example", server_options("wrong_host"))
    sock = secure(client(port_of(server), servername="wrong.example"))
    assert "DNS:wrong.example" in sock.get_peer_certificate()["subjectaltname"]
    peer = served.get(timeout=T)
    assert peer.servername == "wrong.example"
    assert "wrong.example" in peer.get_certificate()["subjectaltname"]
    # Another name keeps the server's own certificate.
    other = secure(client(port_of(server)))
    assert "DNS:localhost" in other.get_peer_certificate()["subjectaltname"]


def test_an_sni_callback_that_answers_later(tls_server: Any, client: Any) -> None:
    asked: list[str] = []
    other = tls.create_secure_context(server_options("wrong_host"))

    def sni(name: str, callback: Any) -> None:
        asked.append(name)
        gevent.spawn_later(0.01, callback, None, other)

    server = tls_server(echo, SNICallback=sni)
    sock = secure(client(port_of(server), servername="wrong.example"))
    assert asked == ["wrong.example"]
    assert "DNS:wrong.example" in sock.get_peer_certificate()["subjectaltname"]


def test_mtls_accepted(tls_server: Any, client: Any) -> None:
    certs = tls_certs()
    served: AsyncResult = AsyncResult()
    server = tls_server(served.set, ca=certs.ca.cert, request_cert=True)
    sock = secure(client(port_of(server), key=certs.client.key, cert=certs.client.cert))
    peer = served.get(timeout=T)
    assert (peer.authorized, peer.authorization_error) == (True, None)
    assert peer.get_peer_certificate()["subject"]["CN"] == "client"
    assert sock.get_certificate()["subject"]["CN"] == "client"


def test_mtls_rejected(tls_server: Any, client: Any) -> None:
    certs = tls_certs()
    errors = Collector()
    server = tls_server(fail_on_secure, ca=certs.ca.cert, request_cert=True)
    server.on("tlsClientError", errors)
    sock = client(
        port_of(server), key=certs.untrusted_client.key, cert=certs.untrusted_client.cert
    )
    sock.on("error", lambda err: None)
    err, _ = errors.wait(1)[0]
    assert err.code == "UNABLE_TO_VERIFY_LEAF_SIGNATURE"
    assert isinstance(err, ssl.SSLCertVerificationError)
    wait_until(lambda: sock.destroyed)


def test_a_missing_client_certificate_with_reject_unauthorized(tls_server: Any, client: Any) -> None:
    errors = Collector()
    server = tls_server(fail_on_secure, ca=tls_certs().ca.cert, request_cert=True)
    server.on("tlsClientError", errors)
    sock = client(port_of(server))
    sock.on("error", lambda err: None)
    err, _ = errors.wait(1)[0]
    assert err.code == "ERR_SSL_PEER_DID_NOT_RETURN_A_CERTIFICATE"
    wait_until(lambda: sock.destroyed)


def test_request_cert_without_reject_reports_the_verdict(tls_server: Any, client: Any) -> None:
    certs = tls_certs()
    served = Collector()
    server = tls_server(served, ca=certs.ca.cert, request_cert=True, reject_unauthorized=False)
    secure(client(port_of(server), key=certs.untrusted_client.key, cert=certs.untrusted_client.cert))
    secure(client(port_of(server)))
    (bad,), (none,) = served.wait(2)
    assert (bad.authorized, bad.authorization_error) == (False, "UNABLE_TO_VERIFY_LEAF_SIGNATURE")
    assert (none.authorized, none.authorization_error) == (False, "UNABLE_TO_GET_ISSUER_CERT")


def fail_on_secure(sock: tls.TLSSocket) -> None:
    raise AssertionError("'secureConnection' for a rejected client")


@pytest.mark.parametrize(
    ("certificate", "servername", "code"),
    [
        ("expired", "localhost", "CERT_HAS_EXPIRED"),
        ("wrong_host", "localhost", "ERR_TLS_CERT_ALTNAME_INVALID"),
        ("untrusted", "localhost", "UNABLE_TO_VERIFY_LEAF_SIGNATURE"),
        ("self_signed", "localhost", "DEPTH_ZERO_SELF_SIGNED_CERT"),
    ],
)
def test_a_bad_server_certificate_is_rejected_with_nodes_code(
    tls_server: Any, client: Any, certificate: str, servername: str, code: str
) -> None:
    server = tls_server(echo, **server_options(certificate))
    sock = client(port_of(server), servername=servername)
    failed: AsyncResult = AsyncResult()
    sock.on("error", failed.set)
    sock.on("secureConnect", lambda: failed.set(AssertionError("connected")))
    closed = waiter(sock, "close")
    err = failed.get(timeout=T)
    assert err.code == code
    assert isinstance(err, ssl.SSLCertVerificationError)
    assert closed.get(timeout=T) == (True,)


@pytest.mark.parametrize(
    ("certificate", "code"),
    [("untrusted", "UNABLE_TO_VERIFY_LEAF_SIGNATURE"), ("wrong_host", "ERR_TLS_CERT_ALTNAME_INVALID")],
)
def test_reject_unauthorized_false_reports_the_verdict(
    tls_server: Any, client: Any, certificate: str, code: str
) -> None:
    server = tls_server(echo, **server_options(certificate))
    sock = secure(client(port_of(server), reject_unauthorized=False))
    assert (sock.authorized, sock.authorization_error) == (False, code)
    sock.end(b"still talks")
    assert read_all(sock) == b"still talks"


def test_a_session_is_resumed(tls_server: Any, client: Any) -> None:
    server = tls_server(echo, max_version="TLSv1.2")
    first = secure(client(port_of(server)))
    session = first.get_session()
    assert session is not None and first.is_session_reused() is False
    first.end()
    again = secure(client(port_of(server), session=session))
    assert again.is_session_reused() is True
    assert again.authorized is True


def test_the_session_event_on_tls12(tls_server: Any, client: Any) -> None:
    server = tls_server(echo, max_version="TLSv1.2")
    sock = client(port_of(server))
    sessions = waiter(sock, "session")
    (session,) = sessions.get(timeout=T)
    assert isinstance(session, ssl.SSLSession)


def test_a_python_ssl_context_as_the_secure_context(tls_server: Any, track: Any) -> None:
    server = tls_server(echo)
    context = ssl.create_default_context(cadata=tls_certs().ca.cert.decode())
    sock = track(tls.connect(port_of(server), "localhost", secure_context=context))
    secure(sock)
    assert sock.authorized is True
    sock.end(b"via ssl.SSLContext")
    assert read_all(sock) == b"via ssl.SSLContext"


def test_bad_options_raise_at_once() -> None:
    with pytest.raises(TypeError) as info:
        tls.connect(1, "localhost", servername=5)
    assert info.value.code == "ERR_INVALID_ARG_TYPE"  # type: ignore[attr-defined]
    with pytest.raises(TypeError) as info:
        tls.create_server(server_options(), handshake_timeout="soon")
    assert info.value.code == "ERR_INVALID_ARG_TYPE"  # type: ignore[attr-defined]
    with pytest.raises(TypeError) as info:
        tls.connect(1, "localhost", colour="blue")
    assert info.value.code == "ERR_GNET_UNEXPECTED_KEYWORD"  # type: ignore[attr-defined]
    with pytest.raises(gnet.Error) as info2:
        tls.create_server(server_options(), ticketKeys=b"x" * 48)
    assert info2.value.code == "ERR_GNET_TLS_UNSUPPORTED"


def test_server_shutdown_ends_tls_connections_with_close_notify(tls_server: Any, client: Any) -> None:
    served: AsyncResult = AsyncResult()
    server = tls_server(served.set)
    sock = secure(client(port_of(server)))
    served.get(timeout=T).resume()
    ended = Event()
    sock.on("end", ended.set)
    sock.resume()
    gevent.spawn(server.shutdown, T)
    assert ended.wait(T)
    wait_until(lambda: not server.listening and server.connections == 0)


def test_a_close_notify_without_fin_is_the_end(tls_server: Any, track: Any) -> None:
    # A peer that half-closes TLS but keeps TCP open (Python's unwrap(), an
    # HTTP client's close): the close_notify alone must end the stream.
    import gevent.socket
    from tls_wire import BioSocket

    result: AsyncResult = AsyncResult()

    def handle(sock: tls.TLSSocket) -> None:
        data = b"".join(sock)
        sock.sendall(b"got " + data)
        result.set(data)
        sock.end()

    server = tls_server(handle, allow_half_open=True)
    raw = track(gevent.socket.create_connection(("127.0.0.1", port_of(server)), timeout=T))
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.load_verify_locations(cadata=tls_certs().ca.cert.decode())
    conn = BioSocket(raw, context, False, "localhost")
    conn.handshake()
    conn.sendall(b"half")
    try:
        conn.obj.unwrap()
    except ssl.SSLWantReadError:
        pass
    conn._flush()  # close_notify, and no FIN
    assert result.get(timeout=T) == b"half"
    assert conn.recv_all() == b"got half"


def test_tls_over_a_unix_socket(track: Any, sock_path: str) -> None:
    server = track(tls.create_server(server_options(), echo))
    server.listen(sock_path)
    gnet.once(server, "listening", timeout=T)
    sock = track(tls.connect(sock_path, client_options(servername="localhost")))
    secure(sock)
    assert sock.authorized is True and sock.servername == "localhost"
    sock.end(b"over a socket file")
    assert read_all(sock) == b"over a socket file"


def test_pause_on_connect_holds_the_tls_socket_back(tls_server: Any, client: Any) -> None:
    served: AsyncResult = AsyncResult()
    server = tls_server(served.set, pause_on_connect=True)
    sock = secure(client(port_of(server)))
    sock.write(b"waiting")
    peer = served.get(timeout=T)
    assert peer.is_paused()
    assert peer.recv(timeout=T) == b"waiting"  # a helper reads it when asked
    peer.destroy()


def test_an_idle_tls_connection_costs_one_greenlet_a_side(tls_server: Any, client: Any) -> None:
    from support import live_greenlets

    served = Collector()
    server = tls_server(served)
    before = len(live_greenlets())
    clients = [secure(client(port_of(server))) for _ in range(20)]
    served.wait(20)
    wait_until(lambda: len(live_greenlets()) - before == 40)  # 20 server sockets, 20 clients
    for sock in clients:
        sock.destroy()
    wait_until(lambda: server.connections == 0)
