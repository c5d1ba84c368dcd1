"""gnet.addresses against Node's tests.

Ports test/parallel/test-net-isip.js, test-net-isipv4.js, test-net-isipv6.js,
test-blocklist.js and test-socketaddress.js; each test names its Node file.
The later sections pin behaviours checked by hand against Node v20 (rule text,
cross-family matching, validation order) and the BlockList methods of current
Node's docs that v20 lacks.
"""

from __future__ import annotations

import ipaddress
import json
from collections.abc import Callable
from typing import Any

import pytest

from gnet import BlockList, SocketAddress, is_ip, is_ipv4, is_ipv6
from gnet._aliases import add_module_aliases
from gnet.errors import Error, NodeError


def raises_code(code: str, func: Callable[[], object]) -> NodeError:
    with pytest.raises(NodeError) as info:
        func()
    assert info.value.code == code
    return info.value


class Text:
    """An object whose str() is given, like a JS object with toString()."""

    def __init__(self, text: str) -> None:
        self.text = text

    def __str__(self) -> str:
        return self.text


# --------------------------------------------------------------------------
# test/parallel/test-net-isip.js

ISIP_CASES = [
    ("127.0.0.1", 4),
    ("x127.0.0.1", 0),
    ("example.com", 0),
    ("0000:0000:0000:0000:0000:0000:0000:0000", 6),
    ("0000:0000:0000:0000:0000:0000:0000:0000::0000", 0),
    ("1050:0:0:0:5:600:300c:326b", 6),
    ("2001:252:0:1::2008:6", 6),
    ("2001:dead:beef:1::2008:6", 6),
    ("2001::", 6),
    ("2001:dead::", 6),
    ("2001:dead:beef::", 6),
    ("2001:dead:beef:1::", 6),
    ("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", 6),
    (":2001:252:0:1::2008:6:", 0),
    (":2001:252:0:1::2008:6", 0),
    ("2001:252:0:1::2008:6:", 0),
    ("2001:252::1::2008:6", 0),
    ("::2001:252:1:2008:6", 6),
    ("::2001:252:1:1.1.1.1", 6),
    ("::2001:252:1:255.255.255.255", 6),
    ("::2001:252:1:255.255.255.255.76", 0),
    ("::anything", 0),
    ("::1", 6),
    ("::", 6),
    ("0000:0000:0000:0000:0000:0000:12345:0000", 0),
    ("0", 0),
    ("", 0),
]


@pytest.mark.parametrize(("value", "expected"), ISIP_CASES)
def test_net_isip(value: str, expected: int) -> None:
    assert is_ip(value) == expected


def test_net_isip_without_argument_is_0() -> None:
    assert is_ip() == 0
    assert is_ipv4() is False
    assert is_ipv6() is False


@pytest.mark.parametrize("value", [None, 123, True, {}])
def test_net_isip_non_strings_are_not_ips(value: object) -> None:
    assert is_ip(value) == 0
    assert is_ipv4(value) is False
    assert is_ipv6(value) is False


@pytest.mark.parametrize(
    ("text", "expected"),
    [("::2001:252:1:255.255.255.255", 6), ("127.0.0.1", 4), ("bla", 0)],
)
def test_net_isip_objects_are_converted_with_str(text: str, expected: int) -> None:
    assert is_ip(Text(text)) == expected
    assert is_ipv4(Text(text)) is (expected == 4)
    assert is_ipv6(Text(text)) is (expected == 6)


@pytest.mark.parametrize(
    ("value", "expected"),
    [("127.0.0.1", True), ("example.com", False), ("2001:252:0:1::2008:6", False), ("", False)],
)
def test_net_isip_isipv4(value: str, expected: bool) -> None:
    assert is_ipv4(value) is expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [("127.0.0.1", False), ("example.com", False), ("2001:252:0:1::2008:6", True), ("", False)],
)
def test_net_isip_isipv6(value: str, expected: bool) -> None:
    assert is_ipv6(value) is expected


# --------------------------------------------------------------------------
# test/parallel/test-net-isipv4.js

V4 = [
    "0.0.0.0",
    "8.8.8.8",
    "127.0.0.1",
    "100.100.100.100",
    "192.168.0.1",
    "18.101.25.153",
    "123.23.34.2",
    "172.26.168.134",
    "212.58.241.131",
    "128.0.0.0",
    "23.71.254.72",
    "223.255.255.255",
    "192.0.2.235",
    "99.198.122.146",
    "46.51.197.88",
    "173.194.34.134",
]

V4_NOT = [
    ".100.100.100.100",
    "100..100.100.100.",
    "100.100.100.100.",
    "999.999.999.999",
    "256.256.256.256",
    "256.100.100.100.100",
    "123.123.123",
    "http://123.123.123",
    "1000.2.3.4",
    "999.2.3.4",
    "0000000192.168.0.200",
    "192.168.0.2000000000",
]


@pytest.mark.parametrize("ip", V4)
def test_net_isipv4_accepts(ip: str) -> None:
    assert is_ipv4(ip) is True


@pytest.mark.parametrize("ip", V4_NOT)
def test_net_isipv4_rejects(ip: str) -> None:
    assert is_ipv4(ip) is False


# --------------------------------------------------------------------------
# test/parallel/test-net-isipv6.js

V6 = [
    "::",
    "1::",
    "::1",
    "1::8",
    "1::7:8",
    "1:2:3:4:5:6:7:8",
    "1:2:3:4:5:6::8",
    "1:2:3:4:5:6:7::",
    "1:2:3:4:5::7:8",
    "1:2:3:4:5::8",
    "1:2:3::8",
    "1::4:5:6:7:8",
    "1::6:7:8",
    "1::3:4:5:6:7:8",
    "1:2:3:4::6:7:8",
    "1:2::4:5:6:7:8",
    "::2:3:4:5:6:7:8",
    "1:2::8",
    "2001:0000:1234:0000:0000:C1C0:ABCD:0876",
    "3ffe:0b00:0000:0000:0001:0000:0000:000a",
    "FF02:0000:0000:0000:0000:0000:0000:0001",
    "0000:0000:0000:0000:0000:0000:0000:0001",
    "0000:0000:0000:0000:0000:0000:0000:0000",
    "::ffff:192.168.1.26",
    "2::10",
    "ff02::1",
    "fe80::",
    "2002::",
    "2001:db8::",
    "2001:0db8:1234::",
    "::ffff:0:0",
    "::ffff:192.168.1.1",
    "1:2:3:4::8",
    "1::2:3:4:5:6:7",
    "1::2:3:4:5:6",
    "1::2:3:4:5",
    "1::2:3:4",
    "1::2:3",
    "::2:3:4:5:6:7",
    "::2:3:4:5:6",
    "::2:3:4:5",
    "::2:3:4",
    "::2:3",
    "::8",
    "1:2:3:4:5:6::",
    "1:2:3:4:5::",
    "1:2:3:4::",
    "1:2:3::",
    "1:2::",
    "1:2:3:4::7:8",
    "1:2:3::7:8",
    "1:2::7:8",
    "1:2:3:4:5:6:1.2.3.4",
    "1:2:3:4:5::1.2.3.4",
    "1:2:3:4::1.2.3.4",
    "1:2:3::1.2.3.4",
    "1:2::1.2.3.4",
    "1::1.2.3.4",
    "1:2:3:4::5:1.2.3.4",
    "1:2:3::5:1.2.3.4",
    "1:2::5:1.2.3.4",
    "1::5:1.2.3.4",
    "1::5:11.22.33.44",
    "fe80::217:f2ff:254.7.237.98",
    "fe80::217:f2ff:fe07:ed62",
    "2001:DB8:0:0:8:800:200C:417A",
    "FF01:0:0:0:0:0:0:101",
    "0:0:0:0:0:0:0:1",
    "0:0:0:0:0:0:0:0",
    "2001:DB8::8:800:200C:417A",
    "FF01::101",
    "0:0:0:0:0:0:13.1.68.3",
    "0:0:0:0:0:FFFF:129.144.52.38",
    "::13.1.68.3",
    "::FFFF:129.144.52.38",
    "fe80:0000:0000:0000:0204:61ff:fe9d:f156",
    "fe80:0:0:0:204:61ff:fe9d:f156",
    "fe80::204:61ff:fe9d:f156",
    "fe80:0:0:0:204:61ff:254.157.241.86",
    "fe80::204:61ff:254.157.241.86",
    "fe80::1",
    "2001:0db8:85a3:0000:0000:8a2e:0370:7334",
    "2001:db8:85a3:0:0:8a2e:370:7334",
    "2001:db8:85a3::8a2e:370:7334",
    "2001:0db8:0000:0000:0000:0000:1428:57ab",
    "2001:0db8:0000:0000:0000::1428:57ab",
    "2001:0db8:0:0:0:0:1428:57ab",
    "2001:0db8:0:0::1428:57ab",
    "2001:0db8::1428:57ab",
    "2001:db8::1428:57ab",
    "::ffff:12.34.56.78",
    "::ffff:0c22:384e",
    "2001:0db8:1234:0000:0000:0000:0000:0000",
    "2001:0db8:1234:ffff:ffff:ffff:ffff:ffff",
    "2001:db8:a::123",
    "::ffff:192.0.2.128",
    "::ffff:c000:280",
    "a:b:c:d:e:f:f1:f2",
    "a:b:c::d:e:f:f1",
    "a:b:c::d:e:f",
    "a:b:c::d:e",
    "a:b:c::d",
    "::a",
    "::a:b:c",
    "::a:b:c:d:e:f:f1",
    "a::",
    "a:b:c::",
    "a:b:c:d:e:f:f1::",
    "a:bb:ccc:dddd:000e:00f:0f::",
    "0:a:0:a:0:0:0:a",
    "0:a:0:0:a:0:0:a",
    "2001:db8:1:1:1:1:0:0",
    "2001:db8:1:1:1:0:0:0",
    "2001:db8:1:1:0:0:0:0",
    "2001:db8:1:0:0:0:0:0",
    "2001:db8:0:0:0:0:0:0",
    "2001:0:0:0:0:0:0:0",
    "A:BB:CCC:DDDD:000E:00F:0F::",
    "0:0:0:0:0:0:0:a",
    "0:0:0:0:a:0:0:0",
    "0:0:0:a:0:0:0:0",
    "a:0:0:a:0:0:a:a",
    "a:0:0:a:0:0:0:a",
    "a:0:0:0:a:0:0:a",
    "a:0:0:0:a:0:0:0",
    "a:0:0:0:0:0:0:0",
    "fe80::7:8%eth0",
    "fe80::7:8%1",
]

V6_NOT = [
    "",
    "1:",
    ":1",
    "11:36:12",
    "02001:0000:1234:0000:0000:C1C0:ABCD:0876",
    "2001:0000:1234:0000:00001:C1C0:ABCD:0876",
    "2001:0000:1234: 0000:0000:C1C0:ABCD:0876",
    "2001:1:1:1:1:1:255Z255X255Y255",
    "3ffe:0b00:0000:0001:0000:0000:000a",
    "FF02:0000:0000:0000:0000:0000:0000:0000:0001",
    "3ffe:b00::1::a",
    "::1111:2222:3333:4444:5555:6666::",
    "1:2:3::4:5::7:8",
    "12345::6:7:8",
    "1::5:400.2.3.4",
    "1::5:260.2.3.4",
    "1::5:256.2.3.4",
    "1::5:1.256.3.4",
    "1::5:1.2.256.4",
    "1::5:1.2.3.256",
    "1::5:300.2.3.4",
    "1::5:1.300.3.4",
    "1::5:1.2.300.4",
    "1::5:1.2.3.300",
    "1::5:900.2.3.4",
    "1::5:1.900.3.4",
    "1::5:1.2.900.4",
    "1::5:1.2.3.900",
    "1::5:300.300.300.300",
    "1::5:3000.30.30.30",
    "1::400.2.3.4",
    "1::260.2.3.4",
    "1::256.2.3.4",
    "1::1.256.3.4",
    "1::1.2.256.4",
    "1::1.2.3.256",
    "1::300.2.3.4",
    "1::1.300.3.4",
    "1::1.2.300.4",
    "1::1.2.3.300",
    "1::900.2.3.4",
    "1::1.900.3.4",
    "1::1.2.900.4",
    "1::1.2.3.900",
    "1::300.300.300.300",
    "1::3000.30.30.30",
    "::400.2.3.4",
    "::260.2.3.4",
    "::256.2.3.4",
    "::1.256.3.4",
    "::1.2.256.4",
    "::1.2.3.256",
    "::300.2.3.4",
    "::1.300.3.4",
    "::1.2.300.4",
    "::1.2.3.300",
    "::900.2.3.4",
    "::1.900.3.4",
    "::1.2.900.4",
    "::1.2.3.900",
    "::300.300.300.300",
    "::3000.30.30.30",
    "2001:DB8:0:0:8:800:200C:417A:221",
    "FF01::101::2",
    "1111:2222:3333:4444::5555:",
    "1111:2222:3333::5555:",
    "1111:2222::5555:",
    "1111::5555:",
    "::5555:",
    ":::",
    "1111:",
    ":",
    ":1111:2222:3333:4444::5555",
    ":1111:2222:3333::5555",
    ":1111:2222::5555",
    ":1111::5555",
    ":::5555",
    "1.2.3.4:1111:2222:3333:4444::5555",
    "1.2.3.4:1111:2222:3333::5555",
    "1.2.3.4:1111:2222::5555",
    "1.2.3.4:1111::5555",
    "1.2.3.4::5555",
    "1.2.3.4::",
    "fe80:0000:0000:0000:0204:61ff:254.157.241.086",
    "123",
    "ldkfj",
    "2001::FFD3::57ab",
    "2001:db8:85a3::8a2e:37023:7334",
    "2001:db8:85a3::8a2e:370k:7334",
    "1:2:3:4:5:6:7:8:9",
    "1::2::3",
    "1:::3:4:5",
    "1:2:3::4:5:6:7:8:9",
    "::ffff:2.3.4",
    "::ffff:257.1.2.3",
    "::ffff:12345678901234567890.1.26",
    "2001:0000:1234:0000:0000:C1C0:ABCD:0876 0",
    "02001:0000:1234:0000:0000:C1C0:ABCD:0876",
]


@pytest.mark.parametrize("ip", V6)
def test_net_isipv6_accepts(ip: str) -> None:
    assert is_ipv6(ip) is True


@pytest.mark.parametrize("ip", V6_NOT)
def test_net_isipv6_rejects(ip: str) -> None:
    assert is_ipv6(ip) is False


# --------------------------------------------------------------------------
# isIP: NODE-NET.md §2.K K1 and gnet's conversions (checked against Node v20)


@pytest.mark.parametrize("ip", ["127.000.000.001", "01.2.3.4", "1.2.3.04"])
def test_isip_ipv4_with_leading_zeros_is_0(ip: str) -> None:
    assert is_ip(ip) == 0


def test_isip_zone_with_a_character_outside_the_zone_set_is_0() -> None:
    assert is_ip("fe80::2008%eth0@1") == 0


def test_isip_zone_takes_letters_digits_dots_colons_and_dashes() -> None:
    assert is_ip("::1%a.b-c:d") == 6
    assert is_ip("::1%") == 0


@pytest.mark.parametrize("ip", ["10.0.0.0/8", "2001:db8::/32"])
def test_isip_cidr_is_0(ip: str) -> None:
    assert is_ip(ip) == 0


def test_isip_trailing_newline_is_0() -> None:
    # Python's `$` would accept it; JavaScript's does not.
    assert is_ip("1.2.3.4\n") == 0
    assert is_ip("::1\n") == 0


def test_isip_bytes_are_decoded_like_a_buffer() -> None:
    assert is_ip(b"127.0.0.1") == 4
    assert is_ip(bytearray(b"::1")) == 6
    assert is_ip(b"\xff") == 0


def test_isip_ipaddress_objects_are_converted_with_str() -> None:
    assert is_ip(ipaddress.ip_address("10.1.2.3")) == 4
    assert is_ip(ipaddress.ip_address("2001:db8::1")) == 6


def test_isip_module_aliases_are_node_names() -> None:
    namespace: dict[str, Any] = {"is_ip": is_ip, "is_ipv4": is_ipv4, "is_ipv6": is_ipv6}
    assert add_module_aliases(namespace, list(namespace)) == ["isIP", "isIPv4", "isIPv6"]
    assert namespace["isIP"] is is_ip


# --------------------------------------------------------------------------
# test/parallel/test-blocklist.js

NON_STRINGS: list[object] = [1, [], {}, None]


@pytest.mark.parametrize("value", NON_STRINGS)
def test_blocklist_add_address_rejects_a_non_string_address(value: Any) -> None:
    raises_code("ERR_INVALID_ARG_TYPE", lambda: BlockList().add_address(value))


@pytest.mark.parametrize("value", NON_STRINGS)
def test_blocklist_add_address_rejects_a_non_string_type(value: Any) -> None:
    raises_code("ERR_INVALID_ARG_TYPE", lambda: BlockList().add_address("1.1.1.1", value))


def test_blocklist_add_address_rejects_an_unknown_type() -> None:
    raises_code("ERR_INVALID_ARG_VALUE", lambda: BlockList().add_address("1.1.1.1", "foo"))


@pytest.mark.parametrize("value", NON_STRINGS)
def test_blocklist_add_range_rejects_a_non_string_start_or_end(value: Any) -> None:
    raises_code("ERR_INVALID_ARG_TYPE", lambda: BlockList().add_range(value, "1.1.1.2"))
    raises_code("ERR_INVALID_ARG_TYPE", lambda: BlockList().add_range("1.1.1.1", value))


@pytest.mark.parametrize("value", NON_STRINGS)
def test_blocklist_add_range_rejects_a_non_string_type(value: Any) -> None:
    raises_code("ERR_INVALID_ARG_TYPE", lambda: BlockList().add_range("1.1.1.1", "1.1.1.2", value))


def test_blocklist_add_range_rejects_an_unknown_type() -> None:
    raises_code("ERR_INVALID_ARG_VALUE", lambda: BlockList().add_range("1.1.1.1", "1.1.1.2", "foo"))


def _check_addresses(block_list: BlockList) -> None:
    assert block_list.check("1.1.1.1")
    assert not block_list.check("1.1.1.1", "ipv6")
    assert not block_list.check("8592:757c:efae:4e45:fb5d:d62a:0d00:8e17")
    assert block_list.check("8592:757c:efae:4e45:fb5d:d62a:0d00:8e17", "ipv6")
    assert block_list.check("::ffff:1.1.1.1", "ipv6")
    assert block_list.check("::ffff:1.1.1.1", "IPV6")
    assert block_list.check("1.1.1.2")
    assert not block_list.check("1.2.3.4")
    assert not block_list.check("::1", "ipv6")


def test_blocklist_addresses() -> None:
    block_list = BlockList()
    block_list.add_address("1.1.1.1")
    block_list.add_address("8592:757c:efae:4e45:fb5d:d62a:0d00:8e17", "ipv6")
    block_list.add_address("::ffff:1.1.1.2", "ipv6")
    _check_addresses(block_list)


def test_blocklist_addresses_as_socket_addresses() -> None:
    block_list = BlockList()
    sa1 = SocketAddress({"address": "1.1.1.1"})
    sa2 = SocketAddress({"address": "8592:757c:efae:4e45:fb5d:d62a:0d00:8e17", "family": "ipv6"})
    sa3 = SocketAddress({"address": "1.1.1.2"})
    block_list.add_address(sa1)
    block_list.add_address(sa2)
    block_list.add_address("::ffff:1.1.1.2", "ipv6")
    _check_addresses(block_list)
    assert block_list.check(sa1)
    assert block_list.check(sa2)
    assert block_list.check(sa3)


def _check_ranges(block_list: BlockList) -> None:
    assert not block_list.check("1.1.1.0")
    for n in range(1, 11):
        assert block_list.check(f"1.1.1.{n}")
    assert not block_list.check("1.1.1.11")
    assert not block_list.check("::0", "ipv6")
    for n in range(0x1, 0x10):
        assert block_list.check(f"::{n:x}", "ipv6"), f"::{n:x} check failed"
    assert not block_list.check("::10", "ipv6")


def test_blocklist_ranges() -> None:
    block_list = BlockList()
    block_list.add_range("1.1.1.1", "1.1.1.10")
    block_list.add_range("::1", "::f", "ipv6")
    _check_ranges(block_list)


def test_blocklist_ranges_as_socket_addresses() -> None:
    block_list = BlockList()
    block_list.add_range(SocketAddress(address="1.1.1.1"), SocketAddress(address="1.1.1.10"))
    block_list.add_range(
        SocketAddress(address="::1", family="ipv6"), SocketAddress(address="::f", family="ipv6")
    )
    _check_ranges(block_list)


def _check_subnets(block_list: BlockList) -> None:
    assert block_list.check("1.1.0.1")
    assert block_list.check("1.1.1.1")
    assert not block_list.check("1.2.0.1")
    assert block_list.check("::ffff:1.1.0.1", "ipv6")
    assert block_list.check("8592:757c:efae:4e45:f::", "ipv6")
    assert block_list.check("8592:757c:efae:4e45::f", "ipv6")
    assert not block_list.check("8592:757c:efae:4f45::f", "ipv6")


def test_blocklist_subnets() -> None:
    block_list = BlockList()
    block_list.add_subnet("1.1.1.0", 16)
    block_list.add_subnet("8592:757c:efae:4e45::", 64, "ipv6")
    _check_subnets(block_list)


def test_blocklist_subnets_as_socket_addresses() -> None:
    block_list = BlockList()
    block_list.add_subnet(SocketAddress(address="1.1.1.0"), 16)
    block_list.add_subnet("8592:757c:efae:4e45::", 64, "ipv6")
    _check_subnets(block_list)
    assert block_list.check(SocketAddress(address="1.1.1.1"))


def test_blocklist_rules_text_newest_first() -> None:
    block_list = BlockList()
    block_list.add_address("1.1.1.1")
    block_list.add_range("10.0.0.1", "10.0.0.10")
    block_list.add_subnet("8592:757c:efae:4e45::", 64, "IpV6")  # Case insensitive
    assert block_list.rules == [
        "Subnet: IPv6 8592:757c:efae:4e45::/64",
        "Range: IPv4 10.0.0.1-10.0.0.10",
        "Address: IPv4 1.1.1.1",
    ]


def test_blocklist_mixed_rules_check() -> None:
    block_list = BlockList()
    block_list.add_address("1.1.1.1")
    block_list.add_range("10.0.0.1", "10.0.0.10")
    block_list.add_subnet("8592:757c:efae:4e45::", 64, "IpV6")
    assert block_list.check("1.1.1.1")
    assert block_list.check("10.0.0.5")
    assert block_list.check("::ffff:10.0.0.5", "ipv6")
    assert block_list.check("8592:757c:efae:4e45::f", "ipv6")
    assert not block_list.check("123.123.123.123")
    assert not block_list.check("8592:757c:efaf:4e45:fb5d:d62a:0d00:8e17", "ipv6")
    assert not block_list.check("::ffff:123.123.123.123", "ipv6")


def test_blocklist_non_aligned_prefix_boundaries() -> None:
    block_list = BlockList()
    block_list.add_subnet("10.0.0.0", 27)
    block_list.add_subnet("8592:757c:efaf::", 51, "ipv6")
    for n in range(32):
        assert block_list.check(f"10.0.0.{n}")
    assert not block_list.check("10.0.0.32")
    assert block_list.check("8592:757c:efaf:0:0:0:0:0", "ipv6")
    assert block_list.check("8592:757c:efaf:1fff:ffff:ffff:ffff:ffff", "ipv6")
    assert not block_list.check("8592:757c:efaf:2fff:ffff:ffff:ffff:ffff", "ipv6")


def test_blocklist_ipv4_range_checked_with_ipv6_notation() -> None:
    # Regression test for https://github.com/nodejs/node/issues/39074
    block_list = BlockList()
    block_list.add_range("10.0.0.2", "10.0.0.10")
    assert block_list.check("10.0.0.2")
    assert block_list.check("10.0.0.10")
    assert not block_list.check("192.168.0.3")
    assert not block_list.check("2.2.2.2")
    assert not block_list.check("255.255.255.255")
    assert block_list.check("::ffff:0a00:0002", "ipv6")
    assert block_list.check("::ffff:0a00:000a", "ipv6")
    assert not block_list.check("::ffff:c0a8:0003", "ipv6")
    assert not block_list.check("::ffff:0202:0202", "ipv6")
    assert not block_list.check("::ffff:ffff:ffff", "ipv6")


def test_blocklist_add_range_end_before_start() -> None:
    err = raises_code("ERR_INVALID_ARG_VALUE", lambda: BlockList().add_range("1.1.1.2", "1.1.1.1"))
    assert "must come before end" in str(err)


@pytest.mark.parametrize(
    ("args", "code"),
    [
        ((1, 8), "ERR_INVALID_ARG_TYPE"),
        (("1.1.1.1", ""), "ERR_INVALID_ARG_TYPE"),
        (("1.1.1.1", float("nan")), "ERR_OUT_OF_RANGE"),
        (("", 1, 1), "ERR_INVALID_ARG_TYPE"),
        (("", 1, ""), "ERR_INVALID_ARG_VALUE"),
        (("1.1.1.1", -1, "ipv4"), "ERR_OUT_OF_RANGE"),
        (("1.1.1.1", 33, "ipv4"), "ERR_OUT_OF_RANGE"),
        (("::", -1, "ipv6"), "ERR_OUT_OF_RANGE"),
        (("::", 129, "ipv6"), "ERR_OUT_OF_RANGE"),
    ],
)
def test_blocklist_add_subnet_validation(args: tuple[Any, ...], code: str) -> None:
    raises_code(code, lambda: BlockList().add_subnet(*args))


def test_blocklist_check_rejects_a_non_string_address() -> None:
    raises_code("ERR_INVALID_ARG_TYPE", lambda: BlockList().check(1))  # type: ignore[arg-type]


def test_blocklist_check_rejects_a_non_string_type() -> None:
    raises_code("ERR_INVALID_ARG_TYPE", lambda: BlockList().check("", 1))  # type: ignore[arg-type]


def test_blocklist_inspect_shows_rules() -> None:
    # Node's util.inspect(blockList) shows `rules: []`; repr() is gnet's inspect.
    assert repr(BlockList()) == "BlockList(rules=[])"


# --------------------------------------------------------------------------
# BlockList behaviours checked against Node v20


def test_blocklist_rules_show_addresses_as_node_prints_them() -> None:
    block_list = BlockList()
    block_list.add_address("2001:0db8:0000::1", "ipv6")
    block_list.add_address("::FFFF:1.1.1.2", "ipv6")
    block_list.add_address("fe80::1%eth0", "ipv6")
    block_list.add_range("::ffff:0:0", "::ffff:ffff:ffff", "ipv6")
    assert block_list.rules == [
        "Range: IPv6 ::ffff:0.0.0.0-::ffff:255.255.255.255",
        "Address: IPv6 fe80::1",
        "Address: IPv6 ::ffff:1.1.1.2",
        "Address: IPv6 2001:db8::1",
    ]


def test_blocklist_subnet_rule_keeps_the_address_as_given() -> None:
    block_list = BlockList()
    block_list.add_subnet("10.1.2.3", 8)
    assert block_list.rules == ["Subnet: IPv4 10.1.2.3/8"]
    assert block_list.check("10.200.0.1")


def test_blocklist_rules_keep_duplicates() -> None:
    block_list = BlockList()
    block_list.add_address("1.1.1.1")
    block_list.add_address("1.1.1.1")
    assert block_list.rules == ["Address: IPv4 1.1.1.1", "Address: IPv4 1.1.1.1"]


def test_blocklist_ipv4_check_matches_ipv6_subnet_through_mapping() -> None:
    covering = BlockList()
    covering.add_subnet("::", 64, "ipv6")
    assert covering.check("1.2.3.4")
    not_covering = BlockList()
    not_covering.add_subnet("::", 96, "ipv6")
    assert not not_covering.check("1.2.3.4")
    assert not_covering.check("::1.2.3.4", "ipv6")


def test_blocklist_ipv4_subnet_matches_only_v4_mapped_ipv6() -> None:
    block_list = BlockList()
    block_list.add_subnet("0.0.0.0", 0)
    assert block_list.check("::ffff:200.2.3.4", "ipv6")
    assert not block_list.check("::1.2.3.4", "ipv6")
    assert not block_list.check("::1", "ipv6")


def test_blocklist_ipv6_range_with_an_unmapped_bound_never_matches_ipv4() -> None:
    block_list = BlockList()
    block_list.add_range("::", "::ffff:ffff:ffff", "ipv6")
    assert not block_list.check("1.2.3.4")
    assert block_list.check("::ffff:1.2.3.4", "ipv6")


def test_blocklist_range_across_families_through_mapping() -> None:
    block_list = BlockList()
    block_list.add_range(SocketAddress(address="::ffff:1.1.1.1", family="ipv6"), "1.1.1.5")
    assert block_list.rules == ["Range: IPv6 ::ffff:1.1.1.1-1.1.1.5"]
    assert block_list.check("1.1.1.3")


def test_blocklist_check_of_an_invalid_address_is_false() -> None:
    block_list = BlockList()
    block_list.add_subnet("0.0.0.0", 0)
    assert block_list.check("nope") is False
    assert block_list.check("1.1.1.1", "ipv6") is False
    assert block_list.check("1.1.1.1", "foo") is False


def test_blocklist_check_of_a_socket_address_ignores_type() -> None:
    block_list = BlockList()
    block_list.add_address("1.1.1.1")
    assert block_list.check(SocketAddress(address="1.1.1.1"), "ipv6")


def test_blocklist_add_address_of_an_invalid_address() -> None:
    err = raises_code("ERR_INVALID_ADDRESS", lambda: BlockList().add_address("1.1.1.1", "ipv6"))
    assert isinstance(err, Error)


def test_blocklist_add_subnet_prefix_type_message() -> None:
    err = raises_code("ERR_INVALID_ARG_TYPE", lambda: BlockList().add_subnet("1.1.1.1", True))
    assert isinstance(err, TypeError)
    assert '"prefix"' in str(err)


def test_blocklist_add_subnet_rejects_a_fractional_prefix() -> None:
    prefix: Any = 1.5
    err = raises_code("ERR_OUT_OF_RANGE", lambda: BlockList().add_subnet("1.1.1.1", prefix))
    assert isinstance(err, ValueError)
    assert "an integer" in str(err)


def test_blocklist_camel_case_aliases() -> None:
    assert BlockList.addAddress is BlockList.add_address  # type: ignore[attr-defined]
    assert BlockList.addCIDR is BlockList.add_cidr  # type: ignore[attr-defined]
    assert BlockList.addCIDRs is BlockList.add_cidrs  # type: ignore[attr-defined]
    assert BlockList.removeCIDR is BlockList.remove_cidr  # type: ignore[attr-defined]
    assert BlockList.toJSON is BlockList.to_json  # type: ignore[attr-defined]
    assert BlockList.fromJSON is BlockList.from_json  # type: ignore[attr-defined]
    assert BlockList.isBlockList(BlockList())  # type: ignore[attr-defined]
    assert not hasattr(BlockList, "PRIVATERANGES")


# --------------------------------------------------------------------------
# BlockList methods of current Node (doc/api/net.md), newer than v20


def test_blocklist_is_block_list() -> None:
    assert BlockList.is_block_list(BlockList())
    assert not BlockList.is_block_list({})


def test_blocklist_to_json_is_rules() -> None:
    block_list = BlockList()
    block_list.add_address("1.1.1.1")
    assert block_list.to_json() == block_list.rules


DOC_RULES = [
    "Subnet: IPv4 192.168.1.0/24",
    "Address: IPv4 10.0.0.5",
    "Range: IPv4 192.168.2.1-192.168.2.10",
    "Range: IPv4 10.0.0.1-10.0.0.10",
]


def test_blocklist_from_json_list() -> None:
    block_list = BlockList()
    block_list.from_json(DOC_RULES)
    assert block_list.rules == DOC_RULES[::-1]
    assert block_list.check("192.168.1.200")


def test_blocklist_from_json_string() -> None:
    block_list = BlockList()
    block_list.from_json(json.dumps(DOC_RULES))
    assert block_list.rules == DOC_RULES[::-1]


def test_blocklist_from_json_round_trips_ipv6_rules() -> None:
    source = BlockList()
    source.add_address("::ffff:1.2.3.4", "ipv6")
    source.add_subnet("2001:db8:1234::", 48, "ipv6")
    source.add_range("2001:db8::1", "2001:db8::10", "ipv6")
    copy = BlockList()
    copy.from_json(source.to_json()[::-1])
    assert copy.rules == source.rules


def test_blocklist_from_json_skips_lines_that_are_not_rules() -> None:
    block_list = BlockList()
    block_list.from_json(["hello", "Address: IPv7 1.2.3.4"])
    assert block_list.rules == []


@pytest.mark.parametrize("data", [1, "{}", ["Address: IPv4 1.1.1.1", 2]])
def test_blocklist_from_json_rejects_what_is_not_a_list_of_strings(data: Any) -> None:
    raises_code("ERR_INVALID_ARG_TYPE", lambda: BlockList().from_json(data))


def test_blocklist_add_addresses() -> None:
    block_list = BlockList()
    block_list.add_addresses(["1.1.1.1", "1.1.1.2"])
    block_list.add_addresses(["::1"], "ipv6")
    assert block_list.rules == [
        "Address: IPv6 ::1",
        "Address: IPv4 1.1.1.2",
        "Address: IPv4 1.1.1.1",
    ]


def test_blocklist_add_addresses_adds_nothing_when_one_is_invalid() -> None:
    block_list = BlockList()
    raises_code("ERR_INVALID_ADDRESS", lambda: block_list.add_addresses(["1.1.1.1", "x"]))
    assert block_list.size == 0


def test_blocklist_add_addresses_rejects_a_non_list() -> None:
    raises_code("ERR_INVALID_ARG_TYPE", lambda: BlockList().add_addresses("1.1.1.1"))


def test_blocklist_add_cidr_detects_the_family() -> None:
    block_list = BlockList()
    block_list.add_cidr("10.0.0.0/8")
    block_list.add_cidr("2001:db8::/32")
    assert block_list.rules == ["Subnet: IPv6 2001:db8::/32", "Subnet: IPv4 10.0.0.0/8"]
    assert block_list.check("10.9.8.7")
    assert block_list.check("2001:db8:ffff::1", "ipv6")


@pytest.mark.parametrize("cidr", ["10.0.0.0", "10.0.0.0/", "10.0.0.0/x", "/8"])
def test_blocklist_add_cidr_rejects_what_is_not_cidr(cidr: str) -> None:
    codes = {"ERR_INVALID_ARG_VALUE", "ERR_INVALID_ADDRESS"}
    with pytest.raises(NodeError) as info:
        BlockList().add_cidr(cidr)
    assert info.value.code in codes


def test_blocklist_add_cidr_prefix_out_of_range() -> None:
    raises_code("ERR_OUT_OF_RANGE", lambda: BlockList().add_cidr("10.0.0.0/33"))


def test_blocklist_private_ranges() -> None:
    block_list = BlockList()
    block_list.add_cidrs(BlockList.PRIVATE_RANGES)
    assert block_list.check("10.0.0.1")
    assert block_list.check("127.0.0.1")
    assert not block_list.check("8.8.8.8")
    assert block_list.check("fd12::1", "ipv6")
    assert block_list.size == 8


def test_blocklist_remove_address() -> None:
    block_list = BlockList()
    block_list.add_address("2001:db8::1", "ipv6")
    block_list.add_address("1.1.1.1")
    block_list.remove_address("2001:0db8:0::1", "ipv6")
    assert block_list.rules == ["Address: IPv4 1.1.1.1"]
    assert not block_list.check("2001:db8::1", "ipv6")


def test_blocklist_remove_address_of_the_other_family_is_a_no_op() -> None:
    block_list = BlockList()
    block_list.add_address("1.1.1.1")
    block_list.remove_address("::ffff:1.1.1.1", "ipv6")
    assert block_list.size == 1


def test_blocklist_remove_range() -> None:
    block_list = BlockList()
    block_list.add_range("10.0.0.1", "10.0.0.10")
    block_list.remove_range("10.0.0.1", "10.0.0.9")
    assert block_list.size == 1
    block_list.remove_range("10.0.0.1", "10.0.0.10")
    assert block_list.size == 0


def test_blocklist_remove_subnet_and_cidr() -> None:
    block_list = BlockList()
    block_list.add_subnet("192.168.0.0", 16)
    block_list.add_cidr("10.0.0.0/8")
    block_list.remove_subnet("192.168.0.0", 24)
    assert block_list.size == 2
    block_list.remove_subnet("192.168.0.0", 16)
    block_list.remove_cidr("10.0.0.0/8")
    assert block_list.rules == []
    assert not block_list.check("10.0.0.1")


def test_blocklist_clear() -> None:
    block_list = BlockList()
    block_list.add_address("1.1.1.1")
    block_list.clear()
    assert block_list.size == 0
    assert not block_list.check("1.1.1.1")


# --------------------------------------------------------------------------
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
    err = raises_code("ERR_INVALID_ARG_TYPE", lambda: SocketAddress(options))
    assert isinstance(err, TypeError)


@pytest.mark.parametrize("family", [1, False, {}, [], "test"])
def test_socketaddress_validates_family(family: Any) -> None:
    raises_code("ERR_INVALID_ARG_VALUE", lambda: SocketAddress({"family": family}))


@pytest.mark.parametrize("address", [1, False, {}, []])
def test_socketaddress_validates_address(address: Any) -> None:
    raises_code("ERR_INVALID_ARG_TYPE", lambda: SocketAddress({"address": address}))


@pytest.mark.parametrize("port", [-1, False, {}, [], 65536, 1.5, float("nan"), "", " ", "x"])
def test_socketaddress_validates_port(port: Any) -> None:
    err = raises_code("ERR_SOCKET_BAD_PORT", lambda: SocketAddress({"port": port}))
    assert isinstance(err, ValueError)


def test_socketaddress_validates_flowlabel() -> None:
    raises_code("ERR_OUT_OF_RANGE", lambda: SocketAddress({"flowlabel": -1}))


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


# --------------------------------------------------------------------------
# SocketAddress behaviours checked against Node v20, and gnet's spelling


def test_socketaddress_invalid_address_for_the_family() -> None:
    err = raises_code("ERR_INVALID_ADDRESS", lambda: SocketAddress(address="::1"))
    assert isinstance(err, Error)
    raises_code("ERR_INVALID_ADDRESS", lambda: SocketAddress(address="example.com"))


@pytest.mark.parametrize("address", ["01.2.3.4", "1.2.3", "1.2.3.4 ", ""])
def test_socketaddress_ipv4_must_be_strict_dotted_decimal(address: str) -> None:
    raises_code("ERR_INVALID_ADDRESS", lambda: SocketAddress(address=address))


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
    raises_code("ERR_INVALID_ARG_VALUE", lambda: SocketAddress({"family": "x", "address": 1}))
    raises_code("ERR_SOCKET_BAD_PORT", lambda: SocketAddress({"address": "x", "port": -1}))
    raises_code("ERR_OUT_OF_RANGE", lambda: SocketAddress({"address": "x", "flowlabel": -1}))


def test_socketaddress_flowlabel_must_be_a_number() -> None:
    raises_code("ERR_INVALID_ARG_TYPE", lambda: SocketAddress({"flowlabel": "1"}))


def test_socketaddress_flowlabel_is_20_bits() -> None:
    assert SocketAddress(family="ipv6", flowlabel=0xFFFFF).flowlabel == 0xFFFFF
    raises_code("ERR_OUT_OF_RANGE", lambda: SocketAddress(family="ipv6", flowlabel=0x100000))


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
    raises_code("ERR_INVALID_ARG_TYPE", lambda: SocketAddress.parse(1))  # type: ignore[arg-type]


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
