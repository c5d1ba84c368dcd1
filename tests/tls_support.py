"""Test certificates and case tables for the TLS tests (never checked-in keys).

Certificates are made with trustme (and ``cryptography`` for the unusual
ones); the peers and the TLS-over-MemoryBIO drivers are in ``tls_wire``.

``tls_certs()`` builds one set per test session (key generation is the slow
part) and ``write_certs(directory)`` puts it on disk as PEM files, for the
peers nobody here wrote (node, openssl) that read certificates from files:

* ``ca``: the trusted CA; ``other_ca``: a CA nobody trusts.
* ``server``: for ``localhost``, ``127.0.0.1`` and ``::1``, issued by ``ca``
  (ECDSA P-256, trustme's default); ``server_rsa``: the same names, RSA 2048.
* ``chained``: ``localhost`` issued by ``intermediate`` (a child CA of
  ``ca``); its chain file holds the leaf and the intermediate.
* ``wrong_host``: ``wrong.example`` only; ``expired``: valid until
  yesterday; ``not_yet_valid``: valid from tomorrow (all issued by ``ca``).
* ``untrusted``: ``localhost`` issued by ``other_ca`` (the leaf alone: the
  peer cannot find its issuer); ``untrusted_chain``: the same leaf sent with
  ``other_ca``'s self-signed certificate (a self-signed CA in the chain).
* ``expired_untrusted``: expired and issued by ``other_ca`` (two errors).
* ``self_signed``: ``other_ca``'s own certificate and key used as a leaf.
* ``client``: a client certificate (``client.example``, CN ``client``)
  issued by ``ca``; ``untrusted_client``: the same from ``other_ca``.

Each entry of :class:`Certs` is a :class:`Pair` of PEM bytes: ``cert`` (the
chain, leaf first) and ``key``.  ``write_certs`` writes ``<name>.pem`` (the
chain) and ``<name>.key`` per pair, plus ``ca.pem`` and ``other_ca.pem``.
"""

from __future__ import annotations

import datetime
import functools
from dataclasses import dataclass, fields
from pathlib import Path

import trustme

__all__ = [
    "CONTEXT_CASES",
    "IDENTITY_CASES",
    "SERVER_NAMES",
    "Certs",
    "Pair",
    "Pem",
    "client_options",
    "custom_chain",
    "odd_certificate",
    "resolve_for_gnet",
    "resolve_for_node",
    "server_options",
    "tls_certs",
    "write_certs",
]

SERVER_NAMES = ("localhost", "127.0.0.1", "::1")


@dataclass(frozen=True)
class Pair:
    """A certificate chain (PEM, leaf first) and its private key (PEM)."""

    cert: bytes
    key: bytes

    @property
    def leaf(self) -> bytes:
        """The first certificate of the chain alone."""
        end = b"-----END CERTIFICATE-----\n"
        return self.cert[: self.cert.index(end) + len(end)]


@dataclass(frozen=True)
class Certs:
    ca: Pair
    other_ca: Pair
    intermediate: Pair
    server: Pair
    server_rsa: Pair
    chained: Pair
    wrong_host: Pair
    expired: Pair
    not_yet_valid: Pair
    untrusted: Pair
    untrusted_chain: Pair
    expired_untrusted: Pair
    self_signed: Pair
    client: Pair
    untrusted_client: Pair


def _leaf(leaf: trustme.LeafCert) -> Pair:
    chain = b"".join(blob.bytes() for blob in leaf.cert_chain_pems)
    return Pair(chain, leaf.private_key_pem.bytes())


def _ca(ca: trustme.CA) -> Pair:
    return Pair(ca.cert_pem.bytes(), ca.private_key_pem.bytes())


@functools.lru_cache(maxsize=1)
def tls_certs() -> Certs:
    """The session's certificate set (built once)."""
    now = datetime.datetime.now(datetime.timezone.utc)
    day = datetime.timedelta(days=1)
    ca = trustme.CA(organization_name="gnet tests")
    other_ca = trustme.CA(organization_name="gnet untrusted")
    intermediate = ca.create_child_ca()
    untrusted = other_ca.issue_cert("localhost")
    untrusted_leaf = untrusted.cert_chain_pems[0].bytes()
    return Certs(
        ca=_ca(ca),
        other_ca=_ca(other_ca),
        intermediate=_ca(intermediate),
        server=_leaf(ca.issue_cert(*SERVER_NAMES)),
        server_rsa=_leaf(ca.issue_cert(*SERVER_NAMES, key_type=trustme.KeyType.RSA)),
        chained=_leaf(intermediate.issue_cert("localhost")),
        wrong_host=_leaf(ca.issue_cert("wrong.example")),
        expired=_leaf(ca.issue_cert(*SERVER_NAMES, not_before=now - 2 * day, not_after=now - day)),
        not_yet_valid=_leaf(
            ca.issue_cert(*SERVER_NAMES, not_before=now + day, not_after=now + 2 * day)
        ),
        untrusted=Pair(untrusted_leaf, untrusted.private_key_pem.bytes()),
        untrusted_chain=Pair(
            untrusted_leaf + other_ca.cert_pem.bytes(), untrusted.private_key_pem.bytes()
        ),
        expired_untrusted=_leaf(
            other_ca.issue_cert(*SERVER_NAMES, not_before=now - 2 * day, not_after=now - day)
        ),
        self_signed=_ca(other_ca),
        client=_leaf(ca.issue_cert("client.example", common_name="client")),
        untrusted_client=_leaf(other_ca.issue_cert("client.example", common_name="client")),
    )


def write_certs(directory: Path) -> dict[str, Path]:
    """Write every pair as ``<name>.pem`` + ``<name>.key``; returns name -> chain path.

    The key of ``<name>`` is at ``path.with_suffix('.key')``.
    """
    certs = tls_certs()
    paths: dict[str, Path] = {}
    for field in fields(certs):
        pair: Pair = getattr(certs, field.name)
        cert_path = directory / f"{field.name}.pem"
        cert_path.write_bytes(pair.cert)
        key_path = cert_path.with_suffix(".key")
        key_path.write_bytes(pair.key)
        key_path.chmod(0o600)
        paths[field.name] = cert_path
    return paths


# Node's checkServerIdentity, case by case: (host, certificate object).  The
# unit test holds Node's answers; the interop test asks node again.
IDENTITY_CASES: list[tuple[str, dict[str, object]]] = [
    ("a.com", {"subject": {"CN": "a.com"}}),
    ("a.com", {"subject": {"CN": "A.COM"}}),
    ("a.com", {"subject": {"CN": "b.com"}}),
    ("a.com.", {"subject": {"CN": "a.com"}}),
    ("a.com", {"subject": {"CN": "a.com."}}),
    ("8.8.8.8", {"subject": {"CN": "8.8.8.8"}}),
    ("8.8.8.8", {"subjectaltname": "IP Address:8.8.8.8"}),
    ("::1", {"subjectaltname": "IP Address:0:0:0:0:0:0:0:1"}),
    ("0:0::1", {"subjectaltname": "IP Address:0:0:0:0:0:0:0:1"}),
    ("8.8.4.4", {"subjectaltname": "IP Address:8.8.8.8, IP Address:8.8.4.5"}),
    ("::ffff:127.0.0.1", {"subjectaltname": "IP Address:0:0:0:0:0:FFFF:7F00:1"}),
    ("127.0.0.1", {"subjectaltname": "IP Address:0:0:0:0:0:FFFF:7F00:1"}),
    ("b.a.com", {"subject": {"CN": "*.a.com"}}),
    ("a.com", {"subject": {"CN": "*.a.com"}}),
    ("c.b.a.com", {"subject": {"CN": "*.a.com"}}),
    ("a.com", {"subject": {"CN": "*.com"}}),
    ("bxa.a.com", {"subject": {"CN": "b*.a.com"}}),
    ("ba.a.com", {"subject": {"CN": "b*a.a.com"}}),
    ("b.a.com", {"subject": {"CN": "b*a.a.com"}}),
    ("xn--b.a.com", {"subject": {"CN": "xn--*.a.com"}}),
    ("a.com", {"subject": {"CN": "**.com"}}),
    ("foo.com", {"subject": {"CN": "*"}}),
    ("a.b.c.com", {"subjectaltname": "DNS:a.*.c.com"}),
    ("a.com", {"subject": {"CN": ["b.com", "a.com"]}}),
    ("c.com", {"subject": {"CN": ["b.com", "a.com"]}}),
    ("a.com", {"subject": {"CN": "a.com"}, "subjectaltname": "DNS:b.com"}),
    ("a.com", {"subject": {"CN": "a.com"}, "subjectaltname": "URI:http://a.com/"}),
    ("a.com", {"subject": {"CN": "a.com"}, "subjectaltname": "IP Address:1.2.3.4"}),
    ("a.com", {"subjectaltname": "DNS:a.com"}),
    ("A.COM", {"subjectaltname": "DNS:a.com"}),
    ("x.a.com", {"subjectaltname": "DNS:*.a.com, DNS:a.com"}),
    ("a.com", {}),
    ("a.com", {"subject": {}}),
    ("a.com", {"subject": {"CN": ""}}),
    ("a.com", {"subjectaltname": 'DNS:"a.com"'}),
    ("a,b.com", {"subjectaltname": 'DNS:"a\\u002cb.com", DNS:c.com'}),
    ("a.com", {"subjectaltname": 'DNS:"a.com'}),
    ("a..com", {"subject": {"CN": "a..com"}}),
    ("a.com\u00e9", {"subject": {"CN": "a.com\u00e9"}}),
    ("", {"subjectaltname": "DNS:a.com"}),
    ("localhost", {"subjectaltname": "DNS:localhost, IP Address:127.0.0.1"}),
    ("127.0.0.1", {"subjectaltname": "DNS:localhost, IP Address:127.0.0.1"}),
    ("10.0.0.1", {"subjectaltname": "DNS:localhost"}),
    ("www.Example.ORG", {"subjectaltname": "DNS:*.example.org, DNS:example.org"}),
]


# --------------------------------------------------------------------------
# createSecureContext cases: the option values that are PEM are Pem(...)
# references, resolved to bytes for gnet and to files for node.

_RANDOM_BODY = "\nAAAAAAAAAAAAAAAAAAAA\n"


@dataclass(frozen=True)
class Pem:
    """A PEM option value: ``part`` of the ``Certs`` entry ``name`` ('cert',
    'key', 'encrypted_key' with passphrase 'secret', 'pfx' with passphrase
    'secret'), maybe ``mangle``\\ d ('truncate', 'bad_base64', 'no_end'),
    as ``str`` when ``text``."""

    name: str
    part: str = "cert"
    mangle: str | None = None
    text: bool = False

    def data(self) -> bytes:
        pair: Pair = getattr(tls_certs(), self.name)
        if self.part == "cert":
            data = pair.cert
        elif self.part == "key":
            data = pair.key
        elif self.part == "encrypted_key":
            data = _encrypted(pair.key)
        else:
            data = _pfx(pair)
        if self.mangle == "truncate":
            data = data[:200]
        elif self.mangle == "bad_base64":
            lines = data.split(b"\n")
            lines[2] = b"!!!!" + lines[2][4:]
            data = b"\n".join(lines)
        elif self.mangle == "no_end":
            data = b"\n".join(data.split(b"\n")[:-3])
        return data

    def value(self) -> bytes | str:
        data = self.data()
        return data.decode() if self.text else data


@functools.cache
def _encrypted(key_pem: bytes) -> bytes:
    """``key_pem`` encrypted with passphrase 'secret' (PKCS#8, AES-256-CBC).

    A wrong passphrase decrypts to valid CBC padding once in ~256 tries, and
    then OpenSSL (so Node) reports an ASN.1 error instead of "bad decrypt":
    encrypt again until neither wrong passphrase the tests use ('nope', and
    none at all) can.
    """
    from cryptography.hazmat.primitives import serialization

    key = serialization.load_pem_private_key(key_pem, None)
    while True:
        pem = key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.BestAvailableEncryption(b"secret"),
        )
        if not any(_pads_validly(pem, wrong) for wrong in (b"nope", b"")):
            return pem


def _pads_validly(pem: bytes, passphrase: bytes) -> bool:
    """Whether PBES2 (PBKDF2 + AES-CBC) decryption with ``passphrase`` ends in valid padding."""
    import base64
    import hashlib

    from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

    from gnet.tls._x509 import _DER, _oid

    body = b"".join(line for line in pem.split(b"\n") if line and not line.startswith(b"-----"))
    info = _DER(base64.b64decode(body))
    algorithm, data = info.children()
    kdf, scheme = algorithm.children()[1].children()
    salt, iterations, *rest = kdf.children()[1].children()
    prf = "sha1"
    for part in rest:
        if part.tag == 0x30:  # the PRF's AlgorithmIdentifier
            prf = {"1.2.840.113549.2.9": "sha256", "1.2.840.113549.2.11": "sha512"}.get(
                _oid(part.children()[0].content), "sha1"
            )
    iv = scheme.children()[1].content
    secret = hashlib.pbkdf2_hmac(
        prf, passphrase, salt.content, int.from_bytes(iterations.content, "big"), 32
    )
    decryptor = Cipher(algorithms.AES(secret), modes.CBC(iv)).decryptor()
    plain = decryptor.update(data.content) + decryptor.finalize()
    pad = plain[-1]
    return 1 <= pad <= 16 and plain[-pad:] == bytes([pad]) * pad


@functools.cache
def _pfx(pair: Pair) -> bytes:
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.serialization import pkcs12

    certs = x509.load_pem_x509_certificates(pair.cert)
    key = serialization.load_pem_private_key(pair.key, None)
    return pkcs12.serialize_key_and_certificates(
        b"gnet", key, certs[0], certs[1:], serialization.BestAvailableEncryption(b"secret")
    )


C = Pem("server")
K = Pem("server", "key")
ENC = Pem("server", "encrypted_key")
# (label, options).  What Node answers for each is in the unit test.
CONTEXT_CASES: list[tuple[str, object]] = [
    ("garbage key", {"key": "hello", "cert": C}),
    ("garbage cert", {"key": K, "cert": "hello"}),
    ("truncated cert", {"key": K, "cert": Pem("server", mangle="truncate")}),
    ("cert with bad base64", {"key": K, "cert": Pem("server", mangle="bad_base64")}),
    (
        "cert with a random body",
        {"key": K, "cert": f"-----BEGIN CERTIFICATE-----{_RANDOM_BODY}-----END CERTIFICATE-----\n"},
    ),
    ("cert is a key", {"key": K, "cert": K}),
    ("key without its end", {"key": Pem("server", "key", mangle="no_end"), "cert": C}),
    (
        "key with a random body",
        {"key": f"-----BEGIN PRIVATE KEY-----{_RANDOM_BODY}-----END PRIVATE KEY-----\n", "cert": C},
    ),
    ("key is a cert", {"key": C, "cert": C}),
    ("key of another cert", {"key": Pem("client", "key"), "cert": C}),
    ("encrypted key without passphrase", {"key": ENC, "cert": C}),
    ("encrypted key, wrong passphrase", {"key": ENC, "cert": C, "passphrase": "nope"}),
    ("encrypted key", {"key": ENC, "cert": C, "passphrase": "secret"}),
    (
        "encrypted key as {pem, passphrase}",
        {"key": [{"pem": ENC, "passphrase": "secret"}], "cert": C},
    ),
    ("key as text", {"key": Pem("server", "key", text=True), "cert": Pem("server", text=True)}),
    ("key is a number", {"key": 5, "cert": C}),
    ("cert is a number", {"key": K, "cert": 5}),
    ("ca is a number", {"ca": 5}),
    ("ca list holds a number", {"ca": [Pem("ca"), 5]}),
    ("passphrase is a number", {"key": ENC, "cert": C, "passphrase": 5}),
    ("minVersion unknown", {"minVersion": "TLSv1.4"}),
    ("maxVersion unknown", {"maxVersion": "tls1.2"}),
    ("minVersion a number", {"minVersion": 5}),
    ("min above max", {"minVersion": "TLSv1.3", "maxVersion": "TLSv1.2"}),
    (
        "secureProtocol with minVersion",
        {"minVersion": "TLSv1.2", "secureProtocol": "TLSv1_2_method"},
    ),
    ("secureProtocol unknown", {"secureProtocol": "nope"}),
    ("secureProtocol SSLv3", {"secureProtocol": "SSLv3_method"}),
    ("secureProtocol TLSv1_2", {"secureProtocol": "TLSv1_2_method"}),
    ("ciphers a number", {"ciphers": 5}),
    ("ciphers match nothing", {"ciphers": "NOPE"}),
    ("ciphers TLSv1.2 only", {"ciphers": "ECDHE-ECDSA-AES128-GCM-SHA256"}),
    ("ecdhCurve unknown", {"ecdhCurve": "nope"}),
    ("ecdhCurve a number", {"ecdhCurve": 5}),
    ("ecdhCurve NIST name", {"ecdhCurve": "P-384"}),
    ("sessionTimeout negative", {"sessionTimeout": -1}),
    ("sessionTimeout a string", {"sessionTimeout": "5"}),
    ("options a string", "hello"),
    ("secureOptions a string", {"secureOptions": "x"}),
    ("chain", {"key": Pem("chained", "key"), "cert": Pem("chained")}),
    ("chain in a list", {"key": Pem("chained", "key"), "cert": [Pem("chained")]}),
    ("two key types", {"key": [K, Pem("server_rsa", "key")], "cert": [Pem("server_rsa"), C]}),
    ("pfx", {"pfx": Pem("chained", "pfx"), "passphrase": "secret"}),
    ("pfx as {buf, passphrase}", {"pfx": [{"buf": Pem("chained", "pfx"), "passphrase": "secret"}]}),
    ("pfx, wrong passphrase", {"pfx": Pem("chained", "pfx"), "passphrase": "nope"}),
    ("pfx garbage", {"pfx": b"hello"}),
    ("ca", {"ca": Pem("ca")}),
    ("ca as text, two certificates", {"ca": Pem("chained", text=True)}),
]


def resolve_for_gnet(value: object) -> object:
    """CONTEXT_CASES options with each Pem replaced by its contents."""
    if isinstance(value, Pem):
        return value.value()
    if isinstance(value, dict):
        return {k: resolve_for_gnet(v) for k, v in value.items()}
    if isinstance(value, list):
        return [resolve_for_gnet(v) for v in value]
    return value


def resolve_for_node(value: object, directory: Path) -> object:
    """CONTEXT_CASES options as tls_oracle.js takes them: each Pem written to a
    file under ``directory`` and given as ``{"file": path}`` (``{"text": path}``),
    bytes as a file too."""
    if isinstance(value, (Pem, bytes)):
        data = value.data() if isinstance(value, Pem) else value
        path = directory / f"pem{len(list(directory.iterdir()))}"
        path.write_bytes(data)
        kind = "text" if isinstance(value, Pem) and value.text else "file"
        return {kind: str(path)}
    if isinstance(value, dict):
        return {k: resolve_for_node(v, directory) for k, v in value.items()}
    if isinstance(value, list):
        return [resolve_for_node(v, directory) for v in value]
    return value


@functools.cache
def odd_certificate() -> Pair:
    """A self-signed certificate with the fields Node prints in unusual ways:
    repeated and unknown name attributes, non-ASCII text, SAN entries that
    need quoting (a comma, a quote), IPv6, email, URI, DirName, a registered
    ID, authority information access, an EC P-384 key, a short serial."""
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import (
        AuthorityInformationAccessOID,
        ExtendedKeyUsageOID,
        NameOID,
        ObjectIdentifier,
    )

    key = ec.generate_private_key(ec.SECP384R1())
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "DE"),
            x509.NameAttribute(NameOID.STATE_OR_PROVINCE_NAME, "Bayern"),
            x509.NameAttribute(NameOID.LOCALITY_NAME, "München"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Org, Inc."),
            x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, "Unit A"),
            x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, "Unit B"),
            x509.NameAttribute(NameOID.COMMON_NAME, "odd.example"),
            x509.NameAttribute(NameOID.EMAIL_ADDRESS, "ops@odd.example"),
            x509.NameAttribute(NameOID.DOMAIN_COMPONENT, "example"),
            x509.NameAttribute(NameOID.SERIAL_NUMBER, "1234"),
            x509.NameAttribute(ObjectIdentifier("1.2.3.4.5"), "custom"),
        ]
    )
    alt_names = x509.SubjectAlternativeName(
        [
            x509.DNSName("odd.example"),
            x509.DNSName("*.odd.example"),
            x509.DNSName('a,b"c'),
            x509.IPAddress(ipaddress.ip_address("10.0.0.1")),
            x509.IPAddress(ipaddress.ip_address("2001:db8::abcd:1")),
            x509.RFC822Name("x@odd.example"),
            x509.UniformResourceIdentifier("https://odd.example/a?b=1,2"),
            x509.DirectoryName(
                x509.Name(
                    [
                        x509.NameAttribute(NameOID.COMMON_NAME, "dir"),
                        x509.NameAttribute(NameOID.ORGANIZATION_NAME, "O"),
                    ]
                )
            ),
            x509.RegisteredID(ObjectIdentifier("1.2.3.4")),
        ]
    )
    uri = x509.UniformResourceIdentifier
    access = x509.AuthorityInformationAccess(
        [
            x509.AccessDescription(
                AuthorityInformationAccessOID.OCSP, uri("http://ocsp.odd.example")
            ),
            x509.AccessDescription(
                AuthorityInformationAccessOID.CA_ISSUERS, uri("http://ca.odd.example/ca.crt")
            ),
            x509.AccessDescription(
                AuthorityInformationAccessOID.OCSP, uri("http://ocsp2.odd.example/x,y")
            ),
        ]
    )
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(0x0ABC)
        .not_valid_before(datetime.datetime(2020, 2, 3, 4, 5, 6))
        .not_valid_after(datetime.datetime(2049, 12, 31, 23, 59, 59))
        .add_extension(alt_names, critical=False)
        .add_extension(access, critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH, ObjectIdentifier("1.2.3.99")]),
            critical=False,
        )
        .sign(key, hashes.SHA256())
    )
    return Pair(
        cert.public_bytes(serialization.Encoding.PEM),
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ),
    )


@functools.cache
def _custom_root(path_length: int | None) -> tuple[object, object]:
    from cryptography import x509
    from cryptography.hazmat.primitives.asymmetric import ec

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(x509.NameOID.COMMON_NAME, "gnet custom root")])
    return key, _issue(name, key.public_key(), name, key, ca=True, path_length=path_length)


def _issue(
    subject: object,
    public_key: object,
    issuer: object,
    issuer_key: object,
    *,
    ca: bool,
    path_length: int | None = None,
    usages: list[object] | None = None,
    names: list[str] = (),  # type: ignore[assignment]
) -> object:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes

    now = datetime.datetime.now(datetime.timezone.utc)
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=30))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=path_length), critical=True)
    )
    if names:
        builder = builder.add_extension(
            x509.SubjectAlternativeName([x509.DNSName(n) for n in names]), critical=False
        )
    if usages is not None:
        builder = builder.add_extension(x509.ExtendedKeyUsage(usages), critical=False)
    return builder.sign(issuer_key, hashes.SHA256())


@functools.cache
def custom_chain(kind: str) -> tuple[Pair, bytes]:
    """(a localhost server's chain and key, the root CA PEM that anchors it) for
    a chain OpenSSL rejects on its extensions:

    * ``client_only``: the leaf's extended key usage is clientAuth only;
    * ``leaf_as_issuer``: issued by a certificate that is not a CA;
    * ``too_deep``: issued by an intermediate below a root whose pathLen is 0.
    """
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID

    root_key, root = _custom_root(0 if kind == "too_deep" else None)

    def name(text: str) -> x509.Name:
        return x509.Name([x509.NameAttribute(x509.NameOID.COMMON_NAME, text)])

    leaf_key = ec.generate_private_key(ec.SECP256R1())
    issued: list[x509.Certificate] = []
    issuer, issuer_key = root, root_key
    if kind == "leaf_as_issuer":
        mid_key = ec.generate_private_key(ec.SECP256R1())
        mid = _issue(name("not a CA"), mid_key.public_key(), root.subject, root_key, ca=False)  # type: ignore[attr-defined]
        issued.append(mid)  # type: ignore[arg-type]
        issuer, issuer_key = mid, mid_key
    elif kind == "too_deep":
        mid_key = ec.generate_private_key(ec.SECP256R1())
        mid = _issue(name("intermediate"), mid_key.public_key(), root.subject, root_key, ca=True)  # type: ignore[attr-defined]
        issued.append(mid)  # type: ignore[arg-type]
        issuer, issuer_key = mid, mid_key
    usages = [ExtendedKeyUsageOID.CLIENT_AUTH] if kind == "client_only" else None
    leaf = _issue(
        name("localhost"),
        leaf_key.public_key(),
        issuer.subject,  # type: ignore[attr-defined]
        issuer_key,
        ca=False,
        usages=usages,  # type: ignore[arg-type]
        names=["localhost"],
    )
    pem = serialization.Encoding.PEM
    chain = b"".join(c.public_bytes(pem) for c in [leaf, *issued])  # type: ignore[attr-defined]
    key = leaf_key.private_bytes(
        pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    return Pair(chain, key), root.public_bytes(pem)  # type: ignore[attr-defined]


# --------------------------------------------------------------------------
# Options for gnet.tls servers and clients made from the session's certificates


def server_options(name: str = "server", **extra: object) -> dict[str, object]:
    """A gnet.tls server's options with the certificate ``name`` (a :class:`Certs` field)."""
    pair: Pair = getattr(tls_certs(), name)
    return {"key": pair.key, "cert": pair.cert, **extra}


def client_options(**extra: object) -> dict[str, object]:
    """A gnet.tls client's options trusting the session's CA."""
    return {"ca": tls_certs().ca.cert, **extra}
