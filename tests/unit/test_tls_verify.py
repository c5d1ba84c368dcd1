"""verify_peer: Node's authorized/authorizationError for a chain, without a handshake.

The codes are what node v20 reports for the same certificates
(tests/interop/test_tls_node_verify.py asks node for each).
"""

from __future__ import annotations

import builtins
import datetime
import ssl
from typing import Any

import pytest
from tls_support import custom_chain, tls_certs

from gnet.errors import NodeError, TLSCertificateError
from gnet.tls import TrustStore, verify_peer


def ders(pem: bytes) -> list[bytes]:
    blocks = pem.split(b"-----END CERTIFICATE-----\n")
    return [
        ssl.PEM_cert_to_DER_cert((b + b"-----END CERTIFICATE-----\n").decode())
        for b in blocks
        if b.strip()
    ]


def store() -> TrustStore:
    return TrustStore(ders(tls_certs().ca.cert))


@pytest.mark.parametrize(
    ("name", "purpose", "code"),
    [
        ("server", "server", None),
        ("server_rsa", "server", None),
        ("chained", "server", None),
        ("client", "client", None),
        ("expired", "server", "CERT_HAS_EXPIRED"),
        ("not_yet_valid", "server", "CERT_NOT_YET_VALID"),
        ("untrusted", "server", "UNABLE_TO_VERIFY_LEAF_SIGNATURE"),
        ("untrusted_chain", "server", "SELF_SIGNED_CERT_IN_CHAIN"),
        ("self_signed", "server", "DEPTH_ZERO_SELF_SIGNED_CERT"),
        ("untrusted_client", "client", "UNABLE_TO_VERIFY_LEAF_SIGNATURE"),
        ("expired", "client", "CERT_HAS_EXPIRED"),
    ],
)
def test_chain_verdicts(name: str, purpose: str, code: str | None) -> None:
    chain = ders(getattr(tls_certs(), name).cert)
    authorized, error = verify_peer(chain, store(), None, purpose)
    assert authorized is (code is None)
    assert getattr(error, "code", None) == code
    if error is not None:
        assert isinstance(error, TLSCertificateError)
        assert isinstance(error, ssl.SSLCertVerificationError)


def test_the_name_is_checked_once_the_chain_is_good() -> None:
    chain = ders(tls_certs().wrong_host.cert)
    authorized, error = verify_peer(chain, store(), "localhost")
    assert not authorized
    assert error is not None and getattr(error, "code", None) == "ERR_TLS_CERT_ALTNAME_INVALID"
    assert verify_peer(ders(tls_certs().server.cert), store(), "127.0.0.1") == (True, None)
    # A broken chain is reported before a wrong name, as Node does.
    _, error = verify_peer(ders(tls_certs().untrusted.cert), store(), "wrong.example")
    assert getattr(error, "code", None) == "UNABLE_TO_VERIFY_LEAF_SIGNATURE"


def test_a_custom_identity_check_decides_the_name() -> None:
    seen: list[Any] = []

    def check(host: str, cert: Any) -> Exception:
        seen.append((host, cert["subjectaltname"]))
        return Exception("not this one")

    authorized, error = verify_peer(
        ders(tls_certs().server.cert), store(), "localhost", check_identity=check
    )
    assert not authorized and str(error) == "not this one"
    assert seen == [
        ("localhost", "DNS:localhost, IP Address:127.0.0.1, IP Address:0:0:0:0:0:0:0:1")
    ]


def test_no_certificate_is_unable_to_get_issuer_cert() -> None:
    authorized, error = verify_peer([], store(), None, "client")
    assert not authorized
    assert getattr(error, "code", None) == "UNABLE_TO_GET_ISSUER_CERT"
    assert str(error) == "unable to get issuer certificate"


def test_the_last_error_wins_as_in_node() -> None:
    # Expired and from an unknown issuer: Node lets OpenSSL carry on after
    # the first error and reports the last one.
    now = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(days=365 * 2000)
    _, error = verify_peer(ders(tls_certs().untrusted.cert), store(), now=now)
    assert getattr(error, "code", None) == "CERT_HAS_EXPIRED"


def test_older_pythons_see_only_the_leaf() -> None:
    # What a client on Python < 3.13 can pass: the leaf without its intermediate.
    leaf = ders(tls_certs().chained.cert)[:1]
    _, error = verify_peer(leaf, store())
    assert getattr(error, "code", None) == "UNABLE_TO_VERIFY_LEAF_SIGNATURE"
    # Trusting the intermediate too makes the leaf verifiable again.
    both = TrustStore([*store().certificates, *ders(tls_certs().intermediate.cert)])
    assert verify_peer(leaf, both)[0]


def test_needs_cryptography(monkeypatch: pytest.MonkeyPatch) -> None:
    real_import = builtins.__import__

    def no_cryptography(name: str, *args: Any, **kwargs: Any) -> Any:
        if name.startswith("cryptography"):
            raise ImportError(name)
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_cryptography)
    with pytest.raises(NodeError) as raised:
        verify_peer(ders(tls_certs().server.cert), store())
    assert raised.value.code == "ERR_GNET_TLS_NEEDS_CRYPTOGRAPHY"


@pytest.mark.parametrize(
    ("kind", "code"),
    [
        ("client_only", "INVALID_PURPOSE"),
        # Not a CA: OpenSSL records INVALID_CA, then INVALID_PURPOSE; Node reports the last.
        ("leaf_as_issuer", "INVALID_PURPOSE"),
        ("too_deep", "PATH_LENGTH_EXCEEDED"),
    ],
)
def test_extension_verdicts(kind: str, code: str) -> None:
    pair, root = custom_chain(kind)
    authorized, error = verify_peer(ders(pair.cert), TrustStore(ders(root)), "localhost")
    assert not authorized
    assert getattr(error, "code", None) == code
