"""The TLS block of gnet.errors: classes, Node's fields, from_ssl_error.

Texts and codes are node v20's (tests/interop/test_tls_node_errors.py makes
node produce the socket errors).
"""

from __future__ import annotations

import ctypes
import ssl

import pytest

from gnet.errors import (
    Error,
    NodeError,
    NodeSystemError,
    TLSCertificateError,
    TLSError,
    altname_error,
    make_error,
    tls_error,
)
from gnet.tls.errors import X509_VERIFY_CODES, from_ssl_error, tls_disconnect_error, verify_error


def test_tls_errors_are_ssl_errors_with_node_codes() -> None:
    err = tls_error("ERR_SSL_NO_APPLICATION_PROTOCOL")
    assert (
        isinstance(err, TLSError) and isinstance(err, ssl.SSLError) and isinstance(err, NodeError)
    )
    assert not isinstance(err, ssl.SSLCertVerificationError)
    assert err.code == "ERR_SSL_NO_APPLICATION_PROTOCOL"
    assert str(err) == "error:0A0000EB:SSL routines::no application protocol"
    assert (err.reason, err.library) == ("no application protocol", "SSL routines")
    with pytest.raises(ssl.SSLError):
        raise err
    client = tls_error("ERR_SSL_TLSV1_ALERT_NO_APPLICATION_PROTOCOL")
    assert str(client) == "error:0A000460:SSL routines::tlsv1 alert no application protocol"


def test_certificate_errors() -> None:
    err = verify_error(10)
    assert isinstance(err, TLSCertificateError)
    assert isinstance(err, ssl.SSLCertVerificationError) and isinstance(err, ValueError)
    assert (err.code, str(err), err.verify_code) == (
        "CERT_HAS_EXPIRED",
        "certificate has expired",
        10,
    )
    assert verify_error("UNABLE_TO_VERIFY_LEAF_SIGNATURE").verify_code == 21
    # Codes Node does not name are UNSPECIFIED, with OpenSSL's text.
    unnamed = verify_error(34, "unhandled critical extension")
    assert (unnamed.code, str(unnamed)) == ("UNSPECIFIED", "unhandled critical extension")


def test_altname_error_has_nodes_fields() -> None:
    cert = {"subjectaltname": "DNS:b.com"}
    err = altname_error("Host: a.com. is not in the cert's altnames: DNS:b.com", "a.com", cert)
    assert err.code == "ERR_TLS_CERT_ALTNAME_INVALID"
    assert str(err) == (
        "Hostname/IP does not match certificate's altnames: "
        "Host: a.com. is not in the cert's altnames: DNS:b.com"
    )
    assert (err.host, err.cert) == ("a.com", cert)
    assert isinstance(err, ssl.SSLCertVerificationError)


def test_handshake_timeout_is_a_timeout() -> None:
    err = make_error("ERR_TLS_HANDSHAKE_TIMEOUT")
    assert isinstance(err, TimeoutError) and isinstance(err, Error)
    assert str(err) == "TLS handshake timeout"


@pytest.mark.parametrize(
    ("server_side", "message"),
    [
        (True, "socket hang up"),
        (False, "Client network socket disconnected before secure TLS connection was established"),
    ],
)
def test_disconnect_before_the_handshake_ends(server_side: bool, message: str) -> None:
    err = tls_disconnect_error(server_side)
    assert isinstance(err, ConnectionResetError) and isinstance(err, NodeSystemError)
    assert (err.code, str(err)) == ("ECONNRESET", message)
    for raised in (ssl.SSLEOFError(8, "EOF occurred"), ssl.SSLZeroReturnError(6, "closed")):
        translated = from_ssl_error(raised, server_side=server_side)
        assert isinstance(translated, ConnectionResetError)
        assert str(translated) == message


def test_node_errors_and_other_exceptions_pass_through() -> None:
    node = make_error("ERR_TLS_HANDSHAKE_TIMEOUT")
    assert from_ssl_error(node) is node
    other = KeyError("x")
    assert from_ssl_error(other) is other
    reset = from_ssl_error(ConnectionResetError(104, "Connection reset by peer"))
    assert isinstance(reset, NodeSystemError) and reset.code == "ECONNRESET"


def test_context_errors_use_nodes_ossl_codes() -> None:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    with pytest.raises(ssl.SSLError) as raised:
        context.load_verify_locations(
            cadata="-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"
        )
    err = from_ssl_error(raised.value, context=True)
    assert isinstance(err, TLSError)
    assert err.code.startswith("ERR_OSSL_")


def test_the_verify_texts_are_openssls() -> None:
    import _ssl

    text = ctypes.CDLL(_ssl.__file__).X509_verify_cert_error_string
    text.restype = ctypes.c_char_p
    text.argtypes = [ctypes.c_long]
    for number, (_, message) in X509_VERIFY_CODES.items():
        assert text(number).decode() == message, number
