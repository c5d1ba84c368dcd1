"""Handshakes between gnet's contexts, in memory (two SSLObjects, four MemoryBIOs).

What the coming transport will see from Python's ssl for each case, and
the Node code gnet gives it (handshake_verdict, from_ssl_error).  The
codes are the ones node v20 reports in the same situations.  Where Node's
verify callback cannot be installed (``fallback``), OpenSSL rejects in the
handshake or verify_peer judges afterwards.
"""

from __future__ import annotations

import ssl

import pytest
from tls_support import tls_certs
from tls_wire import BioEnd, handshake_in_memory

import gnet.tls.context
from gnet.errors import NodeError, NodeSystemError, TLSCertificateError, TLSError
from gnet.tls import ClientRole, ServerRole, TrustStore, create_secure_context, handshake_verdict
from gnet.tls.errors import from_ssl_error


@pytest.fixture
def fallback(monkeypatch: pytest.MonkeyPatch) -> None:
    """As on a Python where Node's verify callback cannot be installed."""
    monkeypatch.setattr(gnet.tls.context, "continue_on_verify_error", lambda *a, **k: False)


def server_ctx(name: str = "server", **options: object) -> ssl.SSLContext:
    certs = tls_certs()
    pair = getattr(certs, name)
    role = ServerRole(
        request_cert=options.pop("request_cert", False) is True,  # type: ignore[arg-type]
        reject_unauthorized=options.pop("reject_unauthorized", True) is not False,
    )
    secure = create_secure_context(
        {"cert": pair.cert, "key": pair.key, "ca": certs.ca.cert, **options}
    )
    return secure.new_server_context(role)


def client_ctx(
    name: str | None = None, reject_unauthorized: bool = True, **options: object
) -> ssl.SSLContext:
    certs = tls_certs()
    opts: dict[str, object] = {"ca": certs.ca.cert, **options}
    if name is not None:
        pair = getattr(certs, name)
        opts.update(cert=pair.cert, key=pair.key)
    return create_secure_context(opts).client_context(
        ClientRole(reject_unauthorized=reject_unauthorized)
    )


def connect(
    client: ssl.SSLContext, server: ssl.SSLContext, servername: str = "localhost"
) -> tuple[BioEnd, BioEnd]:
    c, s = BioEnd(client, False, servername), BioEnd(server, True)
    handshake_in_memory(c, s)
    return c, s


def store() -> TrustStore:
    return TrustStore.of(create_secure_context({"ca": tls_certs().ca.cert}))


@pytest.mark.parametrize("name", ["server", "server_rsa", "chained"])
def test_a_good_server(name: str) -> None:
    c, s = connect(client_ctx(), server_ctx(name))
    assert c.done and s.done, (c.error, s.error)
    assert handshake_verdict(c.obj, store(), "localhost") == (True, None)
    # A server that did not ask for a certificate reports nothing, as Node.
    assert handshake_verdict(s.obj, store()) == (False, None)


def test_a_good_server_fallback(fallback: None) -> None:
    c, s = connect(client_ctx(), server_ctx("chained"))
    assert c.done and s.done, (c.error, s.error)
    assert handshake_verdict(c.obj, store(), "localhost") == (True, None)


VERDICTS = [
    ("expired", "CERT_HAS_EXPIRED"),
    ("not_yet_valid", "CERT_NOT_YET_VALID"),
    ("untrusted", "UNABLE_TO_VERIFY_LEAF_SIGNATURE"),
    ("untrusted_chain", "SELF_SIGNED_CERT_IN_CHAIN"),
    ("self_signed", "DEPTH_ZERO_SELF_SIGNED_CERT"),
    ("wrong_host", "ERR_TLS_CERT_ALTNAME_INVALID"),
]


@pytest.mark.parametrize("reject", [True, False])
@pytest.mark.parametrize(("name", "code"), VERDICTS)
def test_verdict_after_the_handshake_as_node(name: str, code: str, reject: bool) -> None:
    # Node's model: the handshake completes, the verdict comes after, and
    # the caller rejects when reject_unauthorized says so.
    c, s = connect(client_ctx(reject_unauthorized=reject), server_ctx(name))
    assert c.done and s.done, (c.error, s.error)
    authorized, error = handshake_verdict(c.obj, store(), "localhost")
    assert not authorized
    assert getattr(error, "code", None) == code
    assert isinstance(error, ssl.SSLCertVerificationError)


@pytest.mark.parametrize(
    ("name", "code"),
    [
        ("expired", "CERT_HAS_EXPIRED"),
        ("not_yet_valid", "CERT_NOT_YET_VALID"),
        # OpenSSL's first error; Node reports the last, UNABLE_TO_VERIFY_LEAF_SIGNATURE.
        ("untrusted", "UNABLE_TO_GET_ISSUER_CERT_LOCALLY"),
        ("untrusted_chain", "SELF_SIGNED_CERT_IN_CHAIN"),
        ("self_signed", "DEPTH_ZERO_SELF_SIGNED_CERT"),
    ],
)
def test_fallback_rejects_in_the_handshake_with_nodes_codes(
    fallback: None, name: str, code: str
) -> None:
    c, _ = connect(client_ctx(), server_ctx(name))
    assert isinstance(c.error, ssl.SSLCertVerificationError)
    err = from_ssl_error(c.error)
    assert isinstance(err, TLSCertificateError) and isinstance(err, ssl.SSLCertVerificationError)
    assert err.code == code
    assert str(err) == c.error.verify_message


@pytest.mark.parametrize(
    ("name", "code"),
    [
        ("server", None),
        ("expired", "CERT_HAS_EXPIRED"),
        ("untrusted", "UNABLE_TO_VERIFY_LEAF_SIGNATURE"),
        ("self_signed", "DEPTH_ZERO_SELF_SIGNED_CERT"),
        ("wrong_host", "ERR_TLS_CERT_ALTNAME_INVALID"),
    ],
)
def test_fallback_lets_through_then_verifies(fallback: None, name: str, code: str | None) -> None:
    # reject_unauthorized=False without the callback: verify_peer judges.
    c, s = connect(client_ctx(reject_unauthorized=False), server_ctx(name))
    assert c.done and s.done, (c.error, s.error)
    authorized, error = handshake_verdict(c.obj, store(), "localhost")
    assert authorized is (code is None)
    assert getattr(error, "code", None) == code


@pytest.mark.parametrize("use_fallback", [False, True])
def test_client_certificate_required_and_missing(
    use_fallback: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    if use_fallback:
        monkeypatch.setattr(gnet.tls.context, "continue_on_verify_error", lambda *a, **k: False)
    c, s = connect(client_ctx(), server_ctx(request_cert=True))
    server_err = from_ssl_error(s.error, server_side=True)  # type: ignore[arg-type]
    client_err = from_ssl_error(c.error)  # type: ignore[arg-type]
    assert isinstance(server_err, TLSError) and isinstance(client_err, ssl.SSLError)
    assert server_err.code == "ERR_SSL_PEER_DID_NOT_RETURN_A_CERTIFICATE"
    assert server_err.reason == "peer did not return a certificate"
    assert server_err.library == "SSL routines"
    assert getattr(client_err, "code", None) == "ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED"


@pytest.mark.parametrize(
    ("name", "code"),
    [
        ("client", None),
        ("untrusted_client", "UNABLE_TO_VERIFY_LEAF_SIGNATURE"),
        ("expired", "CERT_HAS_EXPIRED"),
    ],
)
def test_client_certificate_required(name: str, code: str | None) -> None:
    # Node's server with requestCert and rejectUnauthorized: the handshake
    # completes, then the server rejects a bad certificate.
    c, s = connect(client_ctx(name), server_ctx(request_cert=True))
    assert c.done and s.done, (c.error, s.error)
    authorized, error = handshake_verdict(s.obj, store())
    assert authorized is (code is None)
    assert getattr(error, "code", None) == code


@pytest.mark.parametrize(
    ("name", "code"),
    [
        ("client", None),
        ("untrusted_client", "UNABLE_TO_VERIFY_LEAF_SIGNATURE"),
        ("expired", "CERT_HAS_EXPIRED"),
        (None, "UNABLE_TO_GET_ISSUER_CERT"),
    ],
)
def test_request_cert_without_reject_completes_whatever_the_client_sends(
    name: str | None, code: str | None
) -> None:
    # Python's CERT_OPTIONAL would abort on a bad certificate; gnet installs
    # Node's always-continue verify callback and judges afterwards.
    c, s = connect(client_ctx(name), server_ctx(request_cert=True, reject_unauthorized=False))
    assert c.done and s.done, (c.error, s.error)
    authorized, error = handshake_verdict(s.obj, store())
    assert authorized is (code is None)
    assert getattr(error, "code", None) == code


def test_request_cert_without_reject_needs_the_callback(fallback: None) -> None:
    with pytest.raises(NodeError) as raised:
        server_ctx(request_cert=True, reject_unauthorized=False)
    assert raised.value.code == "ERR_GNET_TLS_UNSUPPORTED"


def test_alpn_without_a_common_protocol_is_not_refused_by_python() -> None:
    # Why the transport must read the ClientHello itself (gnet.tls.hello).
    server = create_secure_context({"cert": tls_certs().server.cert, "key": tls_certs().server.key})
    s_ctx = server.new_server_context(ServerRole(alpn_protocols=("h2",)))
    c_ctx = create_secure_context({"ca": tls_certs().ca.cert}).client_context(
        ClientRole(alpn_protocols=("http/1.1",))
    )
    c, s = connect(c_ctx, s_ctx)
    assert c.done and s.done
    assert c.obj.selected_alpn_protocol() is None and s.obj.selected_alpn_protocol() is None
    c_ctx2 = create_secure_context({"ca": tls_certs().ca.cert}).client_context(
        ClientRole(alpn_protocols=("http/1.1", "h2"))
    )
    c, s = connect(c_ctx2, s_ctx)
    assert c.obj.selected_alpn_protocol() == s.obj.selected_alpn_protocol() == "h2"


def test_no_common_version() -> None:
    c, s = connect(client_ctx(maxVersion="TLSv1.2"), server_ctx(minVersion="TLSv1.3"))
    assert (
        getattr(from_ssl_error(s.error, server_side=True), "code", None)
        == "ERR_SSL_UNSUPPORTED_PROTOCOL"
    )  # type: ignore[arg-type]
    assert getattr(from_ssl_error(c.error), "code", None) == "ERR_SSL_TLSV1_ALERT_PROTOCOL_VERSION"  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("data", "code"),
    [
        (b"GET / HTTP/1.1\r\nHost: x\r\n\r\n", "ERR_SSL_HTTP_REQUEST"),
        (b"\x16" * 100, "ERR_SSL_WRONG_VERSION_NUMBER"),
    ],
)
def test_not_tls_from_a_client(data: bytes, code: str) -> None:
    s = BioEnd(server_ctx(), True)
    s.incoming.write(data)
    s.step()
    err = from_ssl_error(s.error, server_side=True)  # type: ignore[arg-type]
    assert getattr(err, "code", None) == code
    assert isinstance(err, ssl.SSLError)


def test_not_tls_from_a_server() -> None:
    c = BioEnd(client_ctx(), False, "localhost")
    c.step()
    c.incoming.write(b"HTTP/1.1 400 Bad Request\r\n\r\n")
    c.step()
    err = from_ssl_error(c.error)  # type: ignore[arg-type]
    assert getattr(err, "code", None) == "ERR_SSL_WRONG_VERSION_NUMBER"
    assert str(err) == "error:0A00010B:SSL routines::wrong version number"


@pytest.mark.parametrize("server_side", [False, True])
def test_the_peer_closing_mid_handshake_is_econnreset(server_side: bool) -> None:
    end = BioEnd(
        server_ctx() if server_side else client_ctx(), server_side, None if server_side else "x"
    )
    end.step()
    if server_side:
        end.incoming.write(b"\x16\x03\x01\x00\x50\x01")
    end.incoming.write_eof()
    end.step()
    err = from_ssl_error(end.error, server_side=server_side)  # type: ignore[arg-type]
    assert isinstance(err, ConnectionResetError) and isinstance(err, NodeSystemError)
    assert err.code == "ECONNRESET"
    expected = (
        "socket hang up"
        if server_side
        else "Client network socket disconnected before secure TLS connection was established"
    )
    assert str(err) == expected
