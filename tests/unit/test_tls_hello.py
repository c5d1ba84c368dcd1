"""parse_client_hello: SNI and ALPN read off the wire before OpenSSL sees them.

The ClientHellos here are Python's; tests/interop/test_tls_node_hello.py
reads node's and answers a mismatch with an alert, as Node's server does.
"""

from __future__ import annotations

import ssl

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from tls_support import tls_certs
from tls_wire import BioEnd

from gnet.tls import ClientRole, create_secure_context, parse_client_hello
from gnet.tls.errors import from_ssl_error
from gnet.tls.hello import ALERT_NO_APPLICATION_PROTOCOL, alert_record


def client_hello(servername: str | None = "example.org", alpn: tuple[str, ...] = ()) -> bytes:
    context = create_secure_context({"ca": tls_certs().ca.cert}).client_context(
        ClientRole(alpn_protocols=alpn)
    )
    end = BioEnd(context, False, servername)
    end.step()
    return end.outgoing.read()


def test_servername_alpn_and_versions() -> None:
    data = client_hello("example.org", ("h2", "http/1.1"))
    hello = parse_client_hello(data)
    assert hello is not None
    assert hello.servername == "example.org"
    assert hello.alpn_protocols == ("h2", "http/1.1")
    assert 0x0304 in hello.versions and 0x0303 in hello.versions
    assert hello.length == len(data)


def test_without_sni_or_alpn() -> None:
    # Python sends no SNI for an IP address, as Node.
    hello = parse_client_hello(client_hello("127.0.0.1"))
    assert hello is not None
    assert hello.servername is None
    assert hello.alpn_protocols is None


def test_needs_the_whole_hello() -> None:
    data = client_hello()
    for end in range(len(data)):
        assert parse_client_hello(data[:end]) is None
    assert parse_client_hello(data + b"\x14\x03\x03\x00\x01\x01") is not None


def test_a_hello_split_across_records() -> None:
    data = client_hello("split.example", ("h2",))
    message = data[5:]
    first, second = message[:40], message[40:]
    records = b"".join(
        b"\x16\x03\x01" + len(part).to_bytes(2, "big") + part for part in (first, second)
    )
    hello = parse_client_hello(records)
    assert hello is not None
    assert (hello.servername, hello.alpn_protocols, hello.length) == (
        "split.example",
        ("h2",),
        len(records),
    )


@pytest.mark.parametrize(
    "data",
    [
        b"GET / HTTP/1.1\r\nHost: x\r\n\r\n",
        b"\x80\x2e\x01\x00\x02\x00\x15",  # an SSLv2 ClientHello
        b"\x16\x03\x01\x00\x00",
        b"\x15\x03\x03\x00\x02\x02\x28",  # an alert
        b"\x16\x03\x03\x00\x04\x02\x00\x00\x00",  # a ServerHello
    ],
)
def test_not_a_client_hello(data: bytes) -> None:
    with pytest.raises(ValueError):
        parse_client_hello(data)


@settings(max_examples=300)
@given(st.binary(max_size=600))
def test_any_bytes_give_a_hello_none_or_value_error(data: bytes) -> None:
    try:
        parse_client_hello(b"\x16\x03\x01" + data)
    except ValueError:
        pass


@given(st.data())
def test_corrupted_hellos_only_raise_value_error(data: st.DataObject) -> None:
    raw = bytearray(client_hello("fuzz.example", ("h2",)))
    for _ in range(data.draw(st.integers(1, 5))):
        index = data.draw(st.integers(5, len(raw) - 1))
        raw[index] = data.draw(st.integers(0, 255))
    try:
        parse_client_hello(bytes(raw))
    except ValueError:
        pass


def test_alert_record() -> None:
    assert alert_record(ALERT_NO_APPLICATION_PROTOCOL) == b"\x15\x03\x03\x00\x02\x02\x78"
    # Python's own client reads it as Node's client does.
    context = create_secure_context({"ca": tls_certs().ca.cert}).client_context(
        ClientRole(alpn_protocols=("h2",))
    )
    end = BioEnd(context, False, "localhost")
    end.step()
    end.incoming.write(alert_record(ALERT_NO_APPLICATION_PROTOCOL))
    end.step()
    assert isinstance(end.error, ssl.SSLError)
    err = from_ssl_error(end.error)
    assert getattr(err, "code", None) == "ERR_SSL_TLSV1_ALERT_NO_APPLICATION_PROTOCOL"
    assert getattr(err, "reason", None) == "tlsv1 alert no application protocol"
