"""check_server_identity: Node's tls.checkServerIdentity, case by case.

The table of cases lives in tls_support.IDENTITY_CASES; NODE_ANSWERS holds
what node v20 answers for each (None: valid; a reason string: the
ERR_TLS_CERT_ALTNAME_INVALID error's reason; a code: what it throws).
tests/interop/test_tls_node_identity.py asks node again.
"""

from __future__ import annotations

import ssl

import pytest
from tls_support import IDENTITY_CASES

from gnet.errors import NodeValueError, TLSCertificateError
from gnet.tls import Certificate, check_server_identity, checkServerIdentity

NODE_ANSWERS: list[str | None] = [
    None,
    None,
    "Host: a.com. is not cert's CN: b.com",
    None,
    None,
    "IP: 8.8.8.8 is not in the cert's list: ",
    None,
    None,
    None,
    "IP: 8.8.4.4 is not in the cert's list: 8.8.8.8, 8.8.4.5",
    None,
    "IP: 127.0.0.1 is not in the cert's list: ::ffff:127.0.0.1",
    None,
    "Host: a.com. is not cert's CN: *.a.com",
    "Host: c.b.a.com. is not cert's CN: *.a.com",
    "Host: a.com. is not cert's CN: *.com",
    None,
    None,
    "Host: b.a.com. is not cert's CN: b*a.a.com",
    "Host: xn--b.a.com. is not cert's CN: xn--*.a.com",
    "Host: a.com. is not cert's CN: **.com",
    "Host: foo.com. is not cert's CN: *",
    "Host: a.b.c.com. is not in the cert's altnames: DNS:a.*.c.com",
    None,
    "Host: c.com. is not cert's CN: b.com,a.com",
    "Host: a.com. is not in the cert's altnames: DNS:b.com",
    None,
    None,
    None,
    None,
    None,
    "Cert does not contain a DNS name",
    "Cert does not contain a DNS name",
    "Cert does not contain a DNS name",
    None,
    None,
    "ERR_TLS_CERT_ALTNAME_FORMAT",
    "Host: a..com. is not cert's CN: a..com",
    "Host: a.comé. is not cert's CN: a.comé",
    "Host: . is not in the cert's altnames: DNS:a.com",
    None,
    None,
    "IP: 10.0.0.1 is not in the cert's list: ",
    None,
]


@pytest.mark.parametrize(
    ("host", "cert", "answer"),
    [(h, c, a) for (h, c), a in zip(IDENTITY_CASES, NODE_ANSWERS, strict=True)],
    ids=[f"{i}:{h or 'empty'}" for i, (h, _) in enumerate(IDENTITY_CASES)],
)
def test_answers_as_node(host: str, cert: dict[str, object], answer: str | None) -> None:
    if answer == "ERR_TLS_CERT_ALTNAME_FORMAT":
        with pytest.raises(NodeValueError) as raised:
            check_server_identity(host, cert)
        assert raised.value.code == answer
        return
    error = check_server_identity(host, cert)
    if answer is None:
        assert error is None
        return
    assert isinstance(error, TLSCertificateError)
    assert error.code == "ERR_TLS_CERT_ALTNAME_INVALID"
    assert error.reason == answer
    assert str(error) == f"Hostname/IP does not match certificate's altnames: {answer}"
    assert error.host == (host[:-1] if host.endswith(".") else host)
    assert error.cert is cert


def test_the_error_is_a_rejected_certificate_to_python() -> None:
    error = check_server_identity("a.com", {"subjectaltname": "DNS:b.com"})
    assert isinstance(error, ssl.SSLCertVerificationError)


def test_reads_a_certificate_object_by_attribute_too() -> None:
    cert = Certificate(subject={"CN": "ignored"}, subjectaltname="DNS:*.example.org")
    assert check_server_identity("www.example.org", cert) is None
    assert checkServerIdentity is check_server_identity
