"""gnet.BlockList against test/parallel/test-blocklist.js, behaviours checked
against Node v20, and the methods of current Node's docs that v20 lacks.

Each section names the Node file its tests port.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from gnet.blocklist import BlockList
from gnet.errors import Error, NodeError
from gnet.socketaddress import SocketAddress
from support import raises_code

# ----------------------------------------------------------------------
# test/parallel/test-blocklist.js


NON_STRINGS: list[object] = [1, [], {}, None]


@pytest.mark.parametrize("value", NON_STRINGS)
def test_blocklist_add_address_rejects_a_non_string_address(value: Any) -> None:
    raises_code(NodeError, "ERR_INVALID_ARG_TYPE", lambda: BlockList().add_address(value))


@pytest.mark.parametrize("value", NON_STRINGS)
def test_blocklist_add_address_rejects_a_non_string_type(value: Any) -> None:
    raises_code(
        NodeError, "ERR_INVALID_ARG_TYPE", lambda: BlockList().add_address("1.1.1.1", value)
    )


def test_blocklist_add_address_rejects_an_unknown_type() -> None:
    raises_code(
        NodeError, "ERR_INVALID_ARG_VALUE", lambda: BlockList().add_address("1.1.1.1", "foo")
    )


@pytest.mark.parametrize("value", NON_STRINGS)
def test_blocklist_add_range_rejects_a_non_string_start_or_end(value: Any) -> None:
    raises_code(NodeError, "ERR_INVALID_ARG_TYPE", lambda: BlockList().add_range(value, "1.1.1.2"))
    raises_code(NodeError, "ERR_INVALID_ARG_TYPE", lambda: BlockList().add_range("1.1.1.1", value))


@pytest.mark.parametrize("value", NON_STRINGS)
def test_blocklist_add_range_rejects_a_non_string_type(value: Any) -> None:
    raises_code(
        NodeError,
        "ERR_INVALID_ARG_TYPE",
        lambda: BlockList().add_range("1.1.1.1", "1.1.1.2", value),
    )


def test_blocklist_add_range_rejects_an_unknown_type() -> None:
    raises_code(
        NodeError,
        "ERR_INVALID_ARG_VALUE",
        lambda: BlockList().add_range("1.1.1.1", "1.1.1.2", "foo"),
    )


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
    err = raises_code(
        NodeError, "ERR_INVALID_ARG_VALUE", lambda: BlockList().add_range("1.1.1.2", "1.1.1.1")
    )
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
    raises_code(NodeError, code, lambda: BlockList().add_subnet(*args))


def test_blocklist_check_rejects_a_non_string_address() -> None:
    raises_code(NodeError, "ERR_INVALID_ARG_TYPE", lambda: BlockList().check(1))  # type: ignore[arg-type]


def test_blocklist_check_rejects_a_non_string_type() -> None:
    raises_code(NodeError, "ERR_INVALID_ARG_TYPE", lambda: BlockList().check("", 1))  # type: ignore[arg-type]


def test_blocklist_inspect_shows_rules() -> None:
    # Node's util.inspect(blockList) shows `rules: []`; repr() is gnet's inspect.
    assert repr(BlockList()) == "BlockList(rules=[])"


# ----------------------------------------------------------------------
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
    err = raises_code(
        NodeError, "ERR_INVALID_ADDRESS", lambda: BlockList().add_address("1.1.1.1", "ipv6")
    )
    assert isinstance(err, Error)


def test_blocklist_add_subnet_prefix_type_message() -> None:
    err = raises_code(
        NodeError, "ERR_INVALID_ARG_TYPE", lambda: BlockList().add_subnet("1.1.1.1", True)
    )
    assert isinstance(err, TypeError)
    assert '"prefix"' in str(err)


def test_blocklist_add_subnet_rejects_a_fractional_prefix() -> None:
    prefix: Any = 1.5
    err = raises_code(
        NodeError, "ERR_OUT_OF_RANGE", lambda: BlockList().add_subnet("1.1.1.1", prefix)
    )
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


# ----------------------------------------------------------------------
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
    raises_code(NodeError, "ERR_INVALID_ARG_TYPE", lambda: BlockList().from_json(data))


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
    raises_code(
        NodeError, "ERR_INVALID_ADDRESS", lambda: block_list.add_addresses(["1.1.1.1", "x"])
    )
    assert block_list.size == 0


def test_blocklist_add_addresses_rejects_a_non_list() -> None:
    raises_code(NodeError, "ERR_INVALID_ARG_TYPE", lambda: BlockList().add_addresses("1.1.1.1"))


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
    raises_code(NodeError, "ERR_OUT_OF_RANGE", lambda: BlockList().add_cidr("10.0.0.0/33"))


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
