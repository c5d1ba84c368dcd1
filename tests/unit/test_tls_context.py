"""create_secure_context: Node's options, Node's errors, and the SSLContexts built.

NODE_ANSWERS holds what node v20's tls.createSecureContext answers for each
of tls_support.CONTEXT_CASES (code and message; None: it succeeds), except
that Node's pfx errors have no code and gnet's carry OpenSSL's name.
tests/interop/test_tls_node_context.py asks node again.
"""

from __future__ import annotations

import os
import ssl
import subprocess
import sys
import tempfile

import pytest
from tls_support import CONTEXT_CASES, Pem, resolve_for_gnet, tls_certs

import gnet.tls
import gnet.tls.context
from gnet.errors import NodeError, TLSError
from gnet.tls import (
    DEFAULT_CIPHERS,
    DEFAULT_ECDH_CURVE,
    DEFAULT_MAX_VERSION,
    DEFAULT_MIN_VERSION,
    ClientRole,
    SecureContext,
    ServerRole,
    create_secure_context,
    createSecureContext,
    get_ciphers,
)
from gnet.tls._verify_hook import is_continuing

NODE_ANSWERS: dict[str, tuple[str, str] | None] = {
    "garbage key": ("ERR_OSSL_UNSUPPORTED", "error:1E08010C:DECODER routines::unsupported"),
    "garbage cert": ("ERR_OSSL_PEM_NO_START_LINE", "error:0480006C:PEM routines::no start line"),
    "truncated cert": ("ERR_OSSL_PEM_BAD_END_LINE", "error:04800066:PEM routines::bad end line"),
    "cert with bad base64": (
        "ERR_OSSL_PEM_BAD_BASE64_DECODE",
        "error:04800064:PEM routines::bad base64 decode",
    ),
    "cert with a random body": (
        "ERR_OSSL_ASN1_WRONG_TAG",
        "error:068000A8:asn1 encoding routines::wrong tag",
    ),
    "cert is a key": ("ERR_OSSL_PEM_NO_START_LINE", "error:0480006C:PEM routines::no start line"),
    "key without its end": ("ERR_OSSL_UNSUPPORTED", "error:1E08010C:DECODER routines::unsupported"),
    "key with a random body": (
        "ERR_OSSL_UNSUPPORTED",
        "error:1E08010C:DECODER routines::unsupported",
    ),
    "key is a cert": ("ERR_OSSL_UNSUPPORTED", "error:1E08010C:DECODER routines::unsupported"),
    "key of another cert": (
        "ERR_OSSL_X509_KEY_VALUES_MISMATCH",
        "error:05800074:x509 certificate routines::key values mismatch",
    ),
    "encrypted key without passphrase": (
        "ERR_OSSL_BAD_DECRYPT",
        "error:1C800064:Provider routines::bad decrypt",
    ),
    "encrypted key, wrong passphrase": (
        "ERR_OSSL_BAD_DECRYPT",
        "error:1C800064:Provider routines::bad decrypt",
    ),
    "encrypted key": None,
    "encrypted key as {pem, passphrase}": None,
    "key as text": None,
    "key is a number": (
        "ERR_INVALID_ARG_TYPE",
        'The "options.key" property must be of type string or an instance of Buffer, TypedArray, or DataView. Received type number (5)',
    ),
    "cert is a number": (
        "ERR_INVALID_ARG_TYPE",
        'The "options.cert" property must be of type string or an instance of Buffer, TypedArray, or DataView. Received type number (5)',
    ),
    "ca is a number": (
        "ERR_INVALID_ARG_TYPE",
        'The "options.ca" property must be of type string or an instance of Buffer, TypedArray, or DataView. Received type number (5)',
    ),
    "ca list holds a number": (
        "ERR_INVALID_ARG_TYPE",
        'The "options.ca" property must be of type string or an instance of Buffer, TypedArray, or DataView. Received type number (5)',
    ),
    "passphrase is a number": (
        "ERR_INVALID_ARG_TYPE",
        'The "options.passphrase" property must be of type string. Received type number (5)',
    ),
    "minVersion unknown": (
        "ERR_TLS_INVALID_PROTOCOL_VERSION",
        '"TLSv1.4" is not a valid minimum TLS protocol version',
    ),
    "maxVersion unknown": (
        "ERR_TLS_INVALID_PROTOCOL_VERSION",
        '"tls1.2" is not a valid maximum TLS protocol version',
    ),
    "minVersion a number": (
        "ERR_TLS_INVALID_PROTOCOL_VERSION",
        "5 is not a valid minimum TLS protocol version",
    ),
    "min above max": None,
    "secureProtocol with minVersion": (
        "ERR_TLS_PROTOCOL_VERSION_CONFLICT",
        'TLS protocol version "TLSv1.2" conflicts with secureProtocol "TLSv1_2_method"',
    ),
    "secureProtocol unknown": ("ERR_TLS_INVALID_PROTOCOL_METHOD", "Unknown method: nope"),
    "secureProtocol SSLv3": ("ERR_TLS_INVALID_PROTOCOL_METHOD", "SSLv3 methods disabled"),
    "secureProtocol TLSv1_2": None,
    "ciphers a number": (
        "ERR_INVALID_ARG_TYPE",
        'The "options.ciphers" property must be of type string. Received type number (5)',
    ),
    "ciphers match nothing": (
        "ERR_SSL_NO_CIPHER_MATCH",
        "error:0A0000B9:SSL routines::no cipher match",
    ),
    "ciphers TLSv1.2 only": None,
    "ecdhCurve unknown": ("ERR_CRYPTO_OPERATION_FAILED", "Failed to set ECDH curve"),
    "ecdhCurve a number": (
        "ERR_INVALID_ARG_TYPE",
        'The "options.ecdhCurve" property must be of type string. Received type number (5)',
    ),
    "ecdhCurve NIST name": None,
    "sessionTimeout negative": (
        "ERR_OUT_OF_RANGE",
        'The value of "options.sessionTimeout" is out of range. It must be >= 0 && <= 2147483647. Received -1',
    ),
    "sessionTimeout a string": (
        "ERR_INVALID_ARG_TYPE",
        "The \"options.sessionTimeout\" property must be of type number. Received type string ('5')",
    ),
    "options a string": (
        "ERR_INVALID_ARG_TYPE",
        "The \"options\" argument must be of type object. Received type string ('hello')",
    ),
    "secureOptions a string": (
        "ERR_INVALID_ARG_TYPE",
        "The \"secureOptions\" argument must be of type number. Received type string ('x')",
    ),
    "chain": None,
    "chain in a list": None,
    "two key types": None,
    "pfx": None,
    "pfx as {buf, passphrase}": None,
    "pfx, wrong passphrase": ("ERR_OSSL_PKCS12_MAC_VERIFY_FAILURE", "mac verify failure"),
    "pfx garbage": ("ERR_OSSL_ASN1_NOT_ENOUGH_DATA", "not enough data"),
    "ca": None,
    "ca as text, two certificates": None,
}


@pytest.mark.parametrize(("label", "options"), CONTEXT_CASES, ids=[c[0] for c in CONTEXT_CASES])
def test_answers_as_node(label: str, options: object) -> None:
    answer = NODE_ANSWERS[label]
    if answer is None:
        assert isinstance(create_secure_context(resolve_for_gnet(options)), SecureContext)  # type: ignore[arg-type]
        return
    with pytest.raises(NodeError) as raised:
        create_secure_context(resolve_for_gnet(options))  # type: ignore[arg-type]
    assert (raised.value.code, str(raised.value)) == answer


def test_openssl_failures_are_ssl_errors_with_node_fields() -> None:
    with pytest.raises(ssl.SSLError) as raised:
        create_secure_context({"key": Pem("client", "key").value(), "cert": Pem("server").value()})
    err = raised.value
    assert isinstance(err, TLSError)
    assert err.library == "x509 certificate routines"
    assert err.reason == "key values mismatch"


@pytest.mark.parametrize(
    ("options", "code"),
    [
        # Node accepts these and fails later, or ignores them: gnet says so at once.
        ({"ca": "hello"}, "ERR_OSSL_PEM_NO_START_LINE"),
        ({"key": Pem("server", "key").value()}, "ERR_INVALID_ARG_VALUE"),
        ({"cert": Pem("server").value()}, "ERR_INVALID_ARG_VALUE"),
        # What Python's ssl cannot set.
        ({"sessionTimeout": 300}, "ERR_GNET_TLS_UNSUPPORTED"),
        ({"ecdhCurve": "P-256:P-384"}, "ERR_GNET_TLS_UNSUPPORTED"),
        ({"dhparam": "auto"}, "ERR_GNET_TLS_UNSUPPORTED"),
        ({"ciphers": "TLS_AES_128_GCM_SHA256"}, "ERR_GNET_TLS_UNSUPPORTED"),
    ],
)
def test_differences_from_node_are_errors(options: dict[str, object], code: str) -> None:
    with pytest.raises(NodeError) as raised:
        create_secure_context(options)
    assert raised.value.code == code


def test_both_spellings_and_no_options() -> None:
    ctx = create_secure_context({"min_version": "TLSv1.3"})
    assert ctx.context.minimum_version == ssl.TLSVersion.TLSv1_3
    ctx = createSecureContext({"minVersion": "TLSv1.3", "maxVersion": "TLSv1.3"})
    assert ctx.context.maximum_version == ssl.TLSVersion.TLSv1_3
    ctx = create_secure_context()
    assert ctx.context.minimum_version == ssl.TLSVersion.TLSv1_2
    assert ctx.context.maximum_version == ssl.TLSVersion.TLSv1_3


def test_node_defaults() -> None:
    assert (DEFAULT_MIN_VERSION, DEFAULT_MAX_VERSION, DEFAULT_ECDH_CURVE) == (
        "TLSv1.2",
        "TLSv1.3",
        "auto",
    )
    assert DEFAULT_CIPHERS.startswith("TLS_AES_256_GCM_SHA384:")
    names = {c["name"] for c in create_secure_context().context.get_ciphers()}
    assert "ECDHE-ECDSA-AES128-GCM-SHA256" in names
    assert not any("CAMELLIA" in n for n in names)
    ciphers = get_ciphers()
    assert ciphers == sorted(ciphers)
    assert {"tls_aes_256_gcm_sha384", "ecdhe-rsa-aes128-gcm-sha256"} <= set(ciphers)


def test_cipher_order_is_the_clients_unless_honor_cipher_order() -> None:
    # Python's contexts prefer the server's order; Node's createSecureContext does not.
    assert not create_secure_context().context.options & ssl.OP_CIPHER_SERVER_PREFERENCE
    honoring = create_secure_context({"honorCipherOrder": True})
    assert honoring.context.options & ssl.OP_CIPHER_SERVER_PREFERENCE


def test_only_tls13_suites_raises_the_minimum_as_node() -> None:
    ctx = create_secure_context(
        {"ciphers": "TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256:TLS_AES_128_GCM_SHA256"}
    )
    assert ctx.context.minimum_version == ssl.TLSVersion.TLSv1_3


def test_secure_protocol_pins_the_version() -> None:
    ctx = create_secure_context({"secureProtocol": "TLSv1_2_method"})
    assert ctx.context.minimum_version == ctx.context.maximum_version == ssl.TLSVersion.TLSv1_2


def test_certificates_and_cas_as_der() -> None:
    certs = tls_certs()
    ctx = create_secure_context(
        {
            "key": certs.chained.key,
            "cert": certs.chained.cert,
            "ca": [certs.ca.cert, certs.other_ca.cert],
        }
    )
    assert ctx.certificates == [ssl.PEM_cert_to_DER_cert(certs.chained.leaf.decode())]
    assert ctx.ca_certificates == [
        ssl.PEM_cert_to_DER_cert(certs.ca.cert.decode()),
        ssl.PEM_cert_to_DER_cert(certs.other_ca.cert.decode()),
    ]
    assert create_secure_context().ca_certificates is None  # the system's store


def test_key_material_never_touches_the_disk() -> None:
    before = set(os.listdir(tempfile.gettempdir()))
    certs = tls_certs()
    create_secure_context({"key": certs.server.key, "cert": certs.server.cert, "ca": certs.ca.cert})
    assert set(os.listdir(tempfile.gettempdir())) == before


def test_role_contexts() -> None:
    certs = tls_certs()
    ctx = create_secure_context(
        {"key": certs.server.key, "cert": certs.server.cert, "ca": certs.ca.cert}
    )
    assert ctx.context.verify_mode == ssl.CERT_NONE
    assert ctx.server_context().verify_mode == ssl.CERT_NONE
    # requestCert: Node's always-continue callback; only a missing certificate
    # fails the handshake when rejectUnauthorized.
    strict = ctx.server_context(ServerRole(request_cert=True))
    assert strict.verify_mode == ssl.CERT_REQUIRED and is_continuing(strict)
    lenient = ctx.server_context(ServerRole(request_cert=True, reject_unauthorized=False))
    assert lenient.verify_mode == ssl.CERT_OPTIONAL and is_continuing(lenient)
    assert strict is ctx.server_context(ServerRole(request_cert=True))
    assert ctx.new_server_context() is not ctx.new_server_context()
    client = ctx.client_context()
    assert is_continuing(client) and client.verify_mode == ssl.CERT_OPTIONAL
    assert not client.check_hostname  # names are checked as Node does, afterwards
    assert ctx.client_context(ClientRole(alpn_protocols=("h2",))) is ctx.client_context(
        ClientRole(alpn_protocols=("h2",))
    )


def test_role_contexts_without_nodes_callback(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(gnet.tls.context, "continue_on_verify_error", lambda *a, **k: False)
    certs = tls_certs()
    ctx = create_secure_context(
        {"key": certs.server.key, "cert": certs.server.cert, "ca": certs.ca.cert}
    )
    assert ctx.server_context(ServerRole(request_cert=True)).verify_mode == ssl.CERT_REQUIRED
    assert ctx.client_context().verify_mode == ssl.CERT_REQUIRED
    assert ctx.client_context(ClientRole(reject_unauthorized=False)).verify_mode == ssl.CERT_NONE


def test_importing_gnet_tls_does_not_import_ssl() -> None:
    code = "import gnet, gnet.tls, sys; assert 'ssl' not in sys.modules, 'ssl imported'"
    subprocess.run([sys.executable, "-W", "error", "-c", code], check=True, timeout=60)


def test_root_certificates_are_pem_strings() -> None:
    roots = gnet.tls.root_certificates
    assert roots is gnet.tls.rootCertificates
    assert isinstance(roots, tuple)
    assert all(r.startswith("-----BEGIN CERTIFICATE-----") for r in roots)
