"""gnet.SocketAddress against test/parallel/test-socketaddress.js, and behaviours
checked against Node v20.

Each section names the Node file its tests port.
"""

from __future__ import annotations

from typing import Any

import pytest

from gnet.errors import Error, NodeError
from gnet.socketaddress import SocketAddress
from support import raises_code

# ----------------------------------------------------------------------
# test/parallel/test-socketaddress.js


def _assert_socket_address(
    sa: SocketAddress, address: str, port: int, family: str, flowlabel: int
) -> None:
    assert (sa.address, sa.port, sa.family, sa.flowlabel) == (address, port, family, flowlabel)


def test_socketaddress_default() -> None:
    _assert_socket_address(SocketAddress(), "127.0.0.1", 0, "ipv4", 0)


def test_socketaddress_has_reasonable_defaults() -> None:
    _assert_socket_address(SocketAddress({}), "127.0.0.1", 0, "ipv4", 0)


def test_socketaddress_interprets_simple_ipv4_correctly() -> None:
    sa = SocketAddress({"address": "123.123.123.123"})
    _assert_socket_address(sa, "123.123.123.123", 0, "ipv4", 0)


def test_socketaddress_sets_the_port_correctly() -> None:
    sa = SocketAddress({"address": "123.123.123.123", "port": 80})
    _assert_socket_address(sa, "123.123.123.123", 80, "ipv4", 0)


def test_socketaddress_interprets_simple_ipv6_correctly() -> None:
    _assert_socket_address(SocketAddress({"family": "ipv6"}), "::", 0, "ipv6", 0)


def test_socketaddress_uses_the_flowlabel_correctly() -> None:
    sa = SocketAddress({"family": "ipv6", "flowlabel": 1})
    _assert_socket_address(sa, "::", 0, "ipv6", 1)


@pytest.mark.parametrize("options", [1, False, "hello", []])
def test_socketaddress_validates_options(options: Any) -> None:
    err = raises_code(NodeError, "ERR_INVALID_ARG_TYPE", lambda: SocketAddress(options))
    assert isinstance(err, TypeError)


@pytest.mark.parametrize("family", [1, False, {}, [], "test"])
def test_socketaddress_validates_family(family: Any) -> None:
    raises_code(NodeError, "ERR_INVALID_ARG_VALUE", lambda: SocketAddress({"family": family}))


@pytest.mark.parametrize("address", [1, False, {}, []])
def test_socketaddress_validates_address(address: Any) -> None:
    raises_code(NodeError, "ERR_INVALID_ARG_TYPE", lambda: SocketAddress({"address": address}))


@pytest.mark.parametrize("port", [-1, False, {}, [], 65536, 1.5, float("nan"), "", " ", "x"])
def test_socketaddress_validates_port(port: Any) -> None:
    err = raises_code(NodeError, "ERR_SOCKET_BAD_PORT", lambda: SocketAddress({"port": port}))
    assert isinstance(err, ValueError)


def test_socketaddress_validates_flowlabel() -> None:
    raises_code(NodeError, "ERR_OUT_OF_RANGE", lambda: SocketAddress({"flowlabel": -1}))


PARSE_GOOD = [
    ("1.2.3.4", "1.2.3.4", 0, "ipv4"),
    ("192.168.257:1", "192.168.1.1", 1, "ipv4"),
    ("256", "0.0.1.0", 0, "ipv4"),
    ("999999999:12", "59.154.201.255", 12, "ipv4"),
    ("0xffffffff", "255.255.255.255", 0, "ipv4"),
    ("0x.0x.0", "0.0.0.0", 0, "ipv4"),
    ("[1:0::]", "1::", 0, "ipv6"),
    ("[1::8]:123", "1::8", 123, "ipv6"),
    ("127.0.0.1:80", "127.0.0.1", 80, "ipv4"),
    ("127.0.0.1:443", "127.0.0.1", 443, "ipv4"),
    ("[::1]:80", "::1", 80, "ipv6"),
    ("[::1]:443", "::1", 443, "ipv6"),
    ("user:80@1.2.3.4", "1.2.3.4", 0, "ipv4"),
    ("user:80@1.2.3.4:80", "1.2.3.4", 80, "ipv4"),
    ("user:80@1.2.3.4:123", "1.2.3.4", 123, "ipv4"),
    ("user:80@[::1]", "::1", 0, "ipv6"),
    ("user:80@[::1]:80", "::1", 80, "ipv6"),
    ("user:80@[::1]:123", "::1", 123, "ipv6"),
]


@pytest.mark.parametrize(("text", "address", "port", "family"), PARSE_GOOD)
def test_socketaddress_parse_works_as_expected(
    text: str, address: str, port: int, family: str
) -> None:
    sa = SocketAddress.parse(text)
    assert sa is not None
    assert (sa.address, sa.port, sa.family) == (address, port, family)


@pytest.mark.parametrize("text", ["not an ip", "abc.123", "259.1.1.1", "12:12:12"])
def test_socketaddress_parse_returns_none_on_failure(text: str) -> None:
    assert SocketAddress.parse(text) is None


# ----------------------------------------------------------------------
# SocketAddress behaviours checked against Node v20, and gnet's spelling


def test_socketaddress_invalid_address_for_the_family() -> None:
    err = raises_code(NodeError, "ERR_INVALID_ADDRESS", lambda: SocketAddress(address="::1"))
    assert isinstance(err, Error)
    raises_code(NodeError, "ERR_INVALID_ADDRESS", lambda: SocketAddress(address="example.com"))


@pytest.mark.parametrize("address", ["01.2.3.4", "1.2.3", "1.2.3.4 ", ""])
def test_socketaddress_ipv4_must_be_strict_dotted_decimal(address: str) -> None:
    raises_code(NodeError, "ERR_INVALID_ADDRESS", lambda: SocketAddress(address=address))


@pytest.mark.parametrize(
    ("given", "shown"),
    [
        ("2001:0db8:0000::1", "2001:db8::1"),
        ("::FFFF:1.2.3.4", "::ffff:1.2.3.4"),
        ("0:0:0:0:0:ffff:102:304", "::ffff:1.2.3.4"),
        ("::1.2.3.4", "::1.2.3.4"),
        ("::f", "::f"),
        ("fe80::1%eth0", "fe80::1"),
        ("fe80::1%", "fe80::1"),
    ],
)
def test_socketaddress_ipv6_is_shown_as_node_prints_it(given: str, shown: str) -> None:
    assert SocketAddress(address=given, family="ipv6").address == shown


def test_socketaddress_family_is_case_insensitive() -> None:
    assert SocketAddress(family="IPv6").address == "::"
    assert SocketAddress(family="IPV4").family == "ipv4"


def test_socketaddress_validation_order_family_address_port_flowlabel() -> None:
    raises_code(
        NodeError, "ERR_INVALID_ARG_VALUE", lambda: SocketAddress({"family": "x", "address": 1})
    )
    raises_code(
        NodeError, "ERR_SOCKET_BAD_PORT", lambda: SocketAddress({"address": "x", "port": -1})
    )
    raises_code(
        NodeError, "ERR_OUT_OF_RANGE", lambda: SocketAddress({"address": "x", "flowlabel": -1})
    )


def test_socketaddress_flowlabel_must_be_a_number() -> None:
    raises_code(NodeError, "ERR_INVALID_ARG_TYPE", lambda: SocketAddress({"flowlabel": "1"}))


def test_socketaddress_flowlabel_is_20_bits() -> None:
    assert SocketAddress(family="ipv6", flowlabel=0xFFFFF).flowlabel == 0xFFFFF
    raises_code(
        NodeError, "ERR_OUT_OF_RANGE", lambda: SocketAddress(family="ipv6", flowlabel=0x100000)
    )


def test_socketaddress_flowlabel_is_0_for_ipv4() -> None:
    assert SocketAddress(flowlabel=7).flowlabel == 0


@pytest.mark.parametrize(("port", "expected"), [("80", 80), (" 80 ", 80), ("0x50", 80), (8.0, 8)])
def test_socketaddress_port_as_validate_port_reads_it(port: Any, expected: int) -> None:
    assert SocketAddress(port=port).port == expected


def test_socketaddress_none_means_not_given() -> None:
    sa = SocketAddress({"address": None, "family": "ipv6", "port": None})
    _assert_socket_address(sa, "::", 0, "ipv6", 0)


def test_socketaddress_keywords_override_options() -> None:
    sa = SocketAddress({"address": "1.1.1.1", "port": 1}, port=2)
    _assert_socket_address(sa, "1.1.1.1", 2, "ipv4", 0)


def test_socketaddress_properties_are_read_only() -> None:
    sa = SocketAddress()
    with pytest.raises(AttributeError):
        sa.port = 1  # type: ignore[misc]


def test_socketaddress_to_json() -> None:
    sa = SocketAddress(address="::1", family="ipv6", port=80, flowlabel=5)
    assert sa.to_json() == {"address": "::1", "port": 80, "family": "ipv6", "flowlabel": 5}
    assert sa.toJSON() == sa.to_json()  # type: ignore[attr-defined]


def test_socketaddress_equality_and_hash() -> None:
    a = SocketAddress(address="2001:db8::1", family="ipv6", port=80)
    b = SocketAddress(address="2001:0db8::0001", family="ipv6", port=80)
    assert a == b
    assert hash(a) == hash(b)
    assert a != SocketAddress(address="2001:db8::1", family="ipv6", port=81)
    assert SocketAddress(address="::ffff:1.1.1.1", family="ipv6") != SocketAddress(
        address="1.1.1.1"
    )


def test_socketaddress_repr() -> None:
    assert repr(SocketAddress(port=80)) == (
        "SocketAddress(address='127.0.0.1', port=80, family='ipv4', flowlabel=0)"
    )


def test_socketaddress_is_socket_address() -> None:
    assert SocketAddress.is_socket_address(SocketAddress())
    assert SocketAddress.isSocketAddress(SocketAddress())  # type: ignore[attr-defined]
    assert not SocketAddress.is_socket_address("127.0.0.1")


def test_socketaddress_parse_rejects_a_non_string() -> None:
    raises_code(NodeError, "ERR_INVALID_ARG_TYPE", lambda: SocketAddress.parse(1))  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("text", "address", "port"),
    [
        ("1.2.3.4:80/path", "1.2.3.4", 80),
        ("1.2.3.4.", "1.2.3.4", 0),
        ("017.1", "15.0.0.1", 0),
        ("%31.2.3.4", "1.2.3.4", 0),
        ("[::ffff:1.2.3.4]:9", "::ffff:1.2.3.4", 9),
        ("１２７.０.０.１", "127.0.0.1", 0),
    ],
)
def test_socketaddress_parse_follows_url_host_rules(text: str, address: str, port: int) -> None:
    sa = SocketAddress.parse(text)
    assert sa is not None
    assert (sa.address, sa.port) == (address, port)


@pytest.mark.parametrize(
    "text",
    ["example.com:80", "1.2.3.4:65536", "[::1%eth0]", "[::1]x", "1.2.3.4@", " 1.2.3.4", "08.1"],
)
def test_socketaddress_parse_rejects_what_url_or_socketaddress_rejects(text: str) -> None:
    assert SocketAddress.parse(text) is None
