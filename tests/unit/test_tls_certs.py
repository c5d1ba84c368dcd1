"""Node's certificate object from DER, read by cryptography and by the stdlib reader.

The exact strings below are what node v20 prints for the same certificates
(tests/interop/test_tls_node_certs.py compares everything with node itself).
"""

from __future__ import annotations

import hashlib
import ssl

import pytest
from hypothesis import given
from hypothesis import strategies as st
from tls_support import odd_certificate, tls_certs

from gnet.tls import Certificate, TrustStore, certificate_from_der, peer_certificate
from gnet.tls.certs import _alt_names_string, node_date
from gnet.tls.identity import _split_escaped_alt_names

READERS = pytest.mark.parametrize("use_cryptography", [True, False], ids=["cryptography", "stdlib"])


def der(pem: bytes) -> bytes:
    return ssl.PEM_cert_to_DER_cert(pem.decode())


def chain_der(pem: bytes) -> list[bytes]:
    blocks = pem.split(b"-----END CERTIFICATE-----\n")
    return [der(b + b"-----END CERTIFICATE-----\n") for b in blocks if b.strip()]


@READERS
def test_server_certificate(use_cryptography: bool) -> None:
    raw = der(tls_certs().server.cert)
    cert = certificate_from_der(raw, use_cryptography=use_cryptography)
    assert isinstance(cert, Certificate)
    assert list(cert) == [
        "subject",
        "issuer",
        "subjectaltname",
        "ca",
        "bits",
        "pubkey",
        "asn1Curve",
        "nistCurve",
        "valid_from",
        "valid_to",
        "fingerprint",
        "fingerprint256",
        "fingerprint512",
        "ext_key_usage",
        "serialNumber",
        "raw",
    ]
    assert cert["subject"]["O"].startswith("trustme")
    assert cert["issuer"]["O"] == "gnet tests"
    assert (
        cert["subjectaltname"] == "DNS:localhost, IP Address:127.0.0.1, IP Address:0:0:0:0:0:0:0:1"
    )
    assert cert["ca"] is False
    assert (cert["bits"], cert["asn1Curve"], cert["nistCurve"]) == (256, "prime256v1", "P-256")
    assert len(cert["pubkey"]) == 65 and cert["pubkey"][0] == 4  # the uncompressed point
    assert cert["valid_from"] == "Jan  1 00:00:00 2000 GMT"
    assert cert["valid_to"] == "Jan  1 00:00:00 3000 GMT"
    digest = hashlib.sha256(raw).hexdigest().upper()
    assert cert["fingerprint256"] == ":".join(digest[i : i + 2] for i in range(0, 64, 2))
    assert len(cert["fingerprint"]) == 59 and len(cert["fingerprint512"]) == 191
    assert cert["ext_key_usage"] == ["1.3.6.1.5.5.7.3.2", "1.3.6.1.5.5.7.3.1", "1.3.6.1.5.5.7.3.3"]
    assert cert["serialNumber"] == cert["serialNumber"].upper()
    assert len(cert["serialNumber"]) % 2 == 0
    assert cert["raw"] == raw
    # Attributes, in Node's and in Python's spelling.
    assert cert.serialNumber == cert.serial_number == cert["serialNumber"]
    assert cert.nist_curve == "P-256"
    with pytest.raises(AttributeError):
        cert.infoAccess  # noqa: B018 - absent, as undefined in Node


@READERS
def test_rsa_key_fields(use_cryptography: bool) -> None:
    raw = der(tls_certs().server_rsa.cert)
    cert = certificate_from_der(raw, use_cryptography=use_cryptography)
    assert list(cert)[3:8] == ["ca", "modulus", "bits", "exponent", "pubkey"]
    assert cert["bits"] == 2048
    assert cert["exponent"] == "0x10001"
    assert len(cert["modulus"]) == 512 and cert["modulus"] == cert["modulus"].upper()
    assert cert["pubkey"].startswith(b"\x30\x82\x01\x22")  # SubjectPublicKeyInfo


@READERS
def test_unusual_fields_print_as_node_does(use_cryptography: bool) -> None:
    cert = certificate_from_der(der(odd_certificate().cert), use_cryptography=use_cryptography)
    assert cert["subject"] == {
        "C": "DE",
        "ST": "Bayern",
        "L": "München",
        "O": "Org, Inc.",
        "OU": ["Unit A", "Unit B"],
        "CN": "odd.example",
        "emailAddress": "ops@odd.example",
        "DC": "example",
        "serialNumber": "1234",
        "1.2.3.4.5": "custom",
    }
    assert cert["subjectaltname"] == (
        'DNS:odd.example, DNS:*.odd.example, DNS:"a\\u002cb\\"c", IP Address:10.0.0.1, '
        "IP Address:2001:DB8:0:0:0:0:ABCD:1, email:x@odd.example, "
        'URI:"https://odd.example/a?b=1\\u002c2", DirName:"O=O\\u002cCN=dir", '
        "Registered ID:1.2.3.4"
    )
    assert cert["infoAccess"] == {
        "OCSP - URI": ["http://ocsp.odd.example", "http://ocsp2.odd.example/x,y"],
        "CA Issuers - URI": ["http://ca.odd.example/ca.crt"],
    }
    assert cert["ca"] is True
    assert (cert["bits"], cert["asn1Curve"], cert["nistCurve"]) == (384, "secp384r1", "P-384")
    assert cert["valid_from"] == "Feb  3 04:05:06 2020 GMT"
    assert cert["valid_to"] == "Dec 31 23:59:59 2049 GMT"
    assert cert["serialNumber"] == "0ABC"
    assert cert["ext_key_usage"] == ["1.3.6.1.5.5.7.3.1", "1.2.3.99"]


def test_both_readers_agree_on_every_test_certificate() -> None:
    certs = tls_certs()
    for pair in (*(getattr(certs, f) for f in certs.__dataclass_fields__), odd_certificate()):
        for raw in chain_der(pair.cert):
            assert certificate_from_der(raw, use_cryptography=True) == certificate_from_der(
                raw, use_cryptography=False
            )


def test_detailed_chain_follows_the_peer_then_the_store() -> None:
    certs = tls_certs()
    store = TrustStore(chain_der(certs.ca.cert))
    chain = chain_der(certs.chained.cert)
    cert = peer_certificate(chain, True, find_issuer=store.find_issuer)
    intermediate = cert["issuerCertificate"]
    assert intermediate["raw"] == chain[1]
    root = intermediate["issuerCertificate"]
    assert root["raw"] == store.certificates[0]
    assert root["issuerCertificate"] is root  # self-signed: circular, as in Node
    assert "issuerCertificate" not in peer_certificate(chain)
    # Without the store the chain stops where the peer's chain stops.
    alone = peer_certificate(chain, True)
    assert "issuerCertificate" not in alone["issuerCertificate"]
    assert peer_certificate([], True) == {}


def test_not_a_certificate() -> None:
    for use_cryptography in (True, False):
        with pytest.raises(ValueError):
            certificate_from_der(b"\x30\x03\x02\x01\x01", use_cryptography=use_cryptography)


def test_dates_pad_the_day_with_a_space() -> None:
    import datetime

    moment = datetime.datetime(2030, 1, 5, 7, 8, 9, tzinfo=datetime.timezone.utc)
    assert node_date(moment) == "Jan  5 07:08:09 2030 GMT"


@given(
    st.lists(
        st.text(alphabet=st.characters(min_codepoint=0x20, max_codepoint=0x7E), min_size=1),
        min_size=1,
        max_size=5,
    )
)
def test_subjectaltname_splits_back_into_its_names(names: list[str]) -> None:
    # Node prints names with commas or quotes JSON-quoted so that
    # checkServerIdentity can split the string again: the two ports agree.
    printed = _alt_names_string([("DNS", name) for name in names])
    assert _split_escaped_alt_names(printed) == [f"DNS:{name}" for name in names]
