"""gnet.isIP/isIPv4/isIPv6 against test/parallel/test-net-isip*.js, and the rules
of NODE-NET.md §2.K K1 checked against Node v20.

Each section names the Node file its tests port.
"""

from __future__ import annotations

import ipaddress
from typing import Any

import pytest

from gnet._aliases import add_module_aliases
from gnet.ip import is_ip, is_ipv4, is_ipv6


class Text:
    """An object whose str() is given, like a JS object with toString()."""

    def __init__(self, text: str) -> None:
        self.text = text

    def __str__(self) -> str:
        return self.text


# ----------------------------------------------------------------------
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


# ----------------------------------------------------------------------
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


# ----------------------------------------------------------------------
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


# ----------------------------------------------------------------------
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
