"""Node's ``net.BlockList``: rules (addresses, ranges, subnets) to check peers against.

A server with a ``block_list`` closes each accepted connection whose peer
matches, before ``'connection'``.  IPv4 rules also match IPv4-mapped IPv6
addresses, as in Node.  Beyond Node v20: the current API's ``add_addresses``,
``add_cidr``, the ``remove_*`` methods, ``clear``, ``size``,
``to_json``/``from_json`` and ``PRIVATE_RANGES``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from typing import Any, Final

from ._aliases import with_camel_aliases
from .errors import make_error
from .ip import (
    FAMILY_VERSIONS,
    IP,
    V4_MAPPED_PREFIX,
    address_of,
    family_version,
    is_v4_compatible,
    ntop,
    pton,
    validate_integer,
    validate_string,
    wide,
)
from .socketaddress import SocketAddress

__all__ = ["BlockList"]


# --------------------------------------------------------------------------
# BlockList rules


class _Rule:
    """One BlockList rule; ``key`` identifies it for the remove_* methods."""

    __slots__ = ("key",)

    key: tuple[object, ...]

    def text(self) -> str:
        raise NotImplementedError


class _AddressRule(_Rule):
    __slots__ = ("ip", "wide")

    def __init__(self, ip: IP) -> None:
        self.key = ("address", ip)
        self.ip = ip
        self.wide = wide(ip)

    def text(self) -> str:
        return f"Address: IPv{self.ip[0]} {ntop(self.ip)}"


class _RangeRule(_Rule):
    """An inclusive range, compared as Node compares two addresses: within a
    family by value, across families only when the IPv6 side is v4-mapped
    (otherwise they are "not comparable", and the range does not match).
    """

    __slots__ = ("start", "end", "low", "high", "low_mapped", "high_mapped")

    def __init__(self, start: IP, end: IP) -> None:
        self.key = ("range", start, end)
        self.start, self.end = start, end
        self.low, self.high = wide(start), wide(end)
        self.low_mapped = is_v4_compatible(self.low)
        self.high_mapped = is_v4_compatible(self.high)

    def is_reversed(self) -> bool:
        """Whether Node would find ``start`` greater than ``end``."""
        comparable = self.start[0] == self.end[0] or (self.low_mapped and self.high_mapped)
        return comparable and self.low > self.high

    def matches(self, version: int, wide: int) -> bool:
        # Across families the IPv4 side is v4-compatible by construction, so
        # "the IPv6 side is v4-mapped" is "both sides are".
        mapped = is_v4_compatible(wide)
        return (
            self.low <= wide <= self.high
            and (version == self.start[0] or (mapped and self.low_mapped))
            and (version == self.end[0] or (mapped and self.high_mapped))
        )

    def text(self) -> str:
        return f"Range: IPv{self.start[0]} {ntop(self.start)}-{ntop(self.end)}"


class _SubnetRule(_Rule):
    """A subnet; an IPv4 one is its v4-mapped IPv6 subnet (prefix + 96),
    which is how Node matches IPv6 addresses against IPv4 subnets and back.
    """

    __slots__ = ("ip", "prefix", "shift", "network")

    def __init__(self, ip: IP, prefix: int) -> None:
        self.key = ("subnet", ip, prefix)
        self.ip, self.prefix = ip, prefix
        self.shift = 128 - (prefix if ip[0] == 6 else prefix + 96)
        self.network = wide(ip) >> self.shift

    def matches(self, version: int, wide: int) -> bool:
        return wide >> self.shift == self.network

    def text(self) -> str:
        return f"Subnet: IPv{self.ip[0]} {ntop(self.ip)}/{self.prefix}"


_PREFIX_MAX: Final = {4: 32, 6: 128}
_CIDR = re.compile(r"(.*)/([0-9]{1,3})", re.DOTALL)

# BlockList.fromJSON's patterns (lib/internal/blocklist.js), searched, not
# anchored, as String.prototype.match does; the IPv6 ones also take dots so
# that rules such as 'Address: IPv6 ::ffff:1.2.3.4' survive the round trip.
_V4_JSON = r"([0-9]{1,3}(?:\.[0-9]{1,3}){3})"
_V6_JSON = r"([0-9a-f:.]{1,45})"
_JSON_V4_SUBNET = re.compile(rf"Subnet: IPv4 {_V4_JSON}/([0-9]{{1,2}})")
_JSON_V4_ADDRESS = re.compile(rf"Address: IPv4 {_V4_JSON}")
_JSON_V4_RANGE = re.compile(rf"Range: IPv4 {_V4_JSON}-{_V4_JSON}")
_JSON_V6_SUBNET = re.compile(rf"Subnet: IPv6 {_V6_JSON}/([0-9]{{1,3}})", re.IGNORECASE)
_JSON_V6_ADDRESS = re.compile(rf"Address: IPv6 {_V6_JSON}", re.IGNORECASE)
_JSON_V6_RANGE = re.compile(rf"Range: IPv6 {_V6_JSON}-{_V6_JSON}", re.IGNORECASE)


def _ip_argument(address: object, family: object, name: str) -> IP:
    """An address argument of BlockList, with Node's checks in Node's order."""
    if isinstance(address, SocketAddress):
        return address._ip
    text = validate_string(address, name)
    version = family_version(validate_string(family, "family"), "options.family")
    return version, address_of(text, version)


def _validate_list(value: object, name: str) -> Sequence[Any]:
    if not isinstance(value, (list, tuple)):
        raise make_error("ERR_INVALID_ARG_TYPE", name, "an instance of Array", value)
    return value


def _range_rule(start: str | SocketAddress, end: str | SocketAddress, family: str) -> _RangeRule:
    start_ip = _ip_argument(start, family, "start")
    rule = _RangeRule(start_ip, _ip_argument(end, family, "end"))
    if rule.is_reversed():
        raise make_error(
            "ERR_INVALID_ARG_VALUE",
            "start",
            SocketAddress._from_ip(start_ip),
            "must come before end",
        )
    return rule


def _subnet_rule(net: str | SocketAddress, prefix: int, family: str) -> _SubnetRule:
    ip = _ip_argument(net, family, "network")
    return _SubnetRule(ip, validate_integer(prefix, "prefix", 0, _PREFIX_MAX[ip[0]]))


def _cidr_rule(cidr: object) -> _SubnetRule:
    match = _CIDR.fullmatch(validate_string(cidr, "cidr"))
    if match is None:
        raise make_error("ERR_INVALID_ARG_VALUE", "cidr", cidr, "must be in CIDR notation")
    network, prefix = match.groups()
    return _subnet_rule(network, int(prefix), "ipv6" if ":" in network else "ipv4")


@with_camel_aliases
class BlockList:
    """Node's ``net.BlockList``: rules that block IP addresses, ranges and subnets.

    Address arguments are strings of the ``type`` family (``'ipv4'``, the
    default, or ``'ipv6'``, in any case) or :class:`SocketAddress` objects,
    whose own family wins.  An IPv6 check matches IPv4 rules through the
    v4-mapped form (``check('::ffff:1.2.3.4', 'ipv6')``) and an IPv4 check
    matches IPv6 rules that cover its v4-mapped address, as in Node.
    Errors as Node's: ``ERR_INVALID_ARG_TYPE`` for a non-string,
    ``ERR_INVALID_ARG_VALUE`` for an unknown family or a range that ends
    before it starts, ``ERR_OUT_OF_RANGE`` for a bad prefix,
    ``ERR_INVALID_ADDRESS`` for an address that is not an IP of the family.

    Includes the methods newer than Node v20 (``add_addresses``,
    ``add_cidr``/``add_cidrs``, the ``remove_*`` family, ``clear``,
    ``size``, ``to_json``/``from_json``, ``is_block_list``,
    ``PRIVATE_RANGES``).  Checks look addresses up in a set and scan only
    ranges and subnets, where Node scans every rule.
    """

    __slots__ = ("_rules", "_index")

    #: Node's ``BlockList.PRIVATE_RANGES``, for :meth:`add_cidrs`.
    PRIVATE_RANGES: Final[tuple[str, ...]] = (
        "10.0.0.0/8",
        "172.16.0.0/12",
        "192.168.0.0/16",
        "127.0.0.0/8",
        "::1/128",
        "169.254.0.0/16",
        "fe80::/10",
        "fc00::/7",
    )

    def __init__(self) -> None:
        self._rules: list[_Rule] = []  # oldest first; Node lists newest first
        # Built by check() after a change: the address rules as a set, the rest.
        self._index: tuple[frozenset[int], tuple[_RangeRule | _SubnetRule, ...]] | None = None

    @staticmethod
    def is_block_list(value: object) -> bool:
        """Node's ``BlockList.isBlockList(value)``."""
        return isinstance(value, BlockList)

    # -- adding

    def _add(self, rules: Iterable[_Rule]) -> None:
        self._rules.extend(rules)
        self._index = None

    def add_address(self, address: str | SocketAddress, type: str = "ipv4") -> None:
        """Node's ``blockList.addAddress(address[, type])``: block one address."""
        self._add([_AddressRule(_ip_argument(address, type, "address"))])

    def add_addresses(self, addresses: Sequence[str | SocketAddress], type: str = "ipv4") -> None:
        """Node's ``blockList.addAddresses(addresses[, type])`` (v26.8): block each
        address of a list.  Every one is checked before any is added.
        """
        self._add(
            [
                _AddressRule(_ip_argument(address, type, "address"))
                for address in _validate_list(addresses, "addresses")
            ]
        )

    def add_range(
        self, start: str | SocketAddress, end: str | SocketAddress, type: str = "ipv4"
    ) -> None:
        """Node's ``blockList.addRange(start, end[, type])``: block ``start`` to
        ``end``, both included.
        """
        self._add([_range_rule(start, end, type)])

    def add_subnet(self, net: str | SocketAddress, prefix: int, type: str = "ipv4") -> None:
        """Node's ``blockList.addSubnet(net, prefix[, type])``: block a network.

        ``net`` need not be the network's first address; the rule shows it as given.
        """
        self._add([_subnet_rule(net, prefix, type)])

    def add_cidr(self, cidr: str) -> None:
        """Node's ``blockList.addCIDR(cidr)`` (v26.8): ``add_subnet`` from
        ``'10.0.0.0/8'`` or ``'2001:db8::/32'``; the family is IPv6 when the
        address has a ``':'``.
        """
        self._add([_cidr_rule(cidr)])

    def add_cidrs(self, cidrs: Sequence[str]) -> None:
        """Node's ``blockList.addCIDRs(cidrs)`` (v26.8): :meth:`add_cidr` for each
        item; every one is checked before any is added.
        """
        self._add([_cidr_rule(cidr) for cidr in _validate_list(cidrs, "cidrs")])

    # -- removing

    def _remove(self, key: tuple[object, ...]) -> None:
        self._rules = [rule for rule in self._rules if rule.key != key]
        self._index = None

    def remove_address(self, address: str | SocketAddress, type: str = "ipv4") -> None:
        """Node's ``blockList.removeAddress(address[, type])`` (v26.8).

        Removes the rules :meth:`add_address` made for this address and
        family; a no-op when there is none.
        """
        self._remove(_AddressRule(_ip_argument(address, type, "address")).key)

    def remove_range(
        self, start: str | SocketAddress, end: str | SocketAddress, type: str = "ipv4"
    ) -> None:
        """Node's ``blockList.removeRange(start, end[, type])`` (v26.8): removes
        the rules :meth:`add_range` made for exactly this range.
        """
        self._remove(_range_rule(start, end, type).key)

    def remove_subnet(self, net: str | SocketAddress, prefix: int, type: str = "ipv4") -> None:
        """Node's ``blockList.removeSubnet(net, prefix[, type])`` (v26.8): removes
        the rules :meth:`add_subnet` made with this address and prefix.
        """
        self._remove(_subnet_rule(net, prefix, type).key)

    def remove_cidr(self, cidr: str) -> None:
        """Node's ``blockList.removeCIDR(cidr)`` (v26.8): :meth:`remove_subnet`
        for a CIDR string.
        """
        self._remove(_cidr_rule(cidr).key)

    def clear(self) -> None:
        """Node's ``blockList.clear()`` (v26.8): remove every rule."""
        self._rules = []
        self._index = None

    # -- checking

    def check(self, address: str | SocketAddress, type: str = "ipv4") -> bool:
        """Node's ``blockList.check(address[, type])``: whether a rule matches.

        A string that is not an address of the family, or an unknown family,
        is simply not blocked (``False``); only non-strings raise.
        """
        if isinstance(address, SocketAddress):
            version, value = address._ip
        else:
            text = validate_string(address, "address")
            version = FAMILY_VERSIONS.get(validate_string(type, "family").lower(), 0)
            parsed = pton(text, version) if version else None
            if parsed is None:
                return False
            value = parsed
        wide = value if version == 6 else V4_MAPPED_PREFIX | value
        if self._index is None:
            self._index = (
                frozenset(r.wide for r in self._rules if isinstance(r, _AddressRule)),
                tuple(r for r in self._rules if isinstance(r, (_RangeRule, _SubnetRule))),
            )
        addresses, others = self._index
        return wide in addresses or any(rule.matches(version, wide) for rule in others)

    # -- reading and serialising

    @property
    def rules(self) -> list[str]:
        """Node's ``blockList.rules``: the rules as text, newest first, e.g.
        ``'Address: IPv4 1.1.1.1'``, ``'Range: IPv4 10.0.0.1-10.0.0.10'``,
        ``'Subnet: IPv6 8592:757c:efae:4e45::/64'``.
        """
        return [rule.text() for rule in reversed(self._rules)]

    @property
    def size(self) -> int:
        """Node's ``blockList.size`` (v26.8): the number of rules."""
        return len(self._rules)

    def to_json(self) -> list[str]:
        """Node's ``blockList.toJSON()``: :attr:`rules`."""
        return self.rules

    def from_json(self, data: str | Sequence[str]) -> None:
        """Node's ``blockList.fromJSON(value)``: add the rules of :attr:`rules`
        text, given as a list or as its JSON string.

        As in Node, lines that are not rules are skipped and the rules are
        added in list order (so they come back newest-first reversed).
        Unlike Node, IPv6 rules in dotted form (``::ffff:1.2.3.4``) are
        read whole rather than cut at the first dot.
        """
        if isinstance(data, str):
            data = json.loads(data)
        if not isinstance(data, (list, tuple)) or not all(isinstance(i, str) for i in data):
            raise make_error("ERR_INVALID_ARG_TYPE", "data", "of type string or string[]", data)
        for item in data:
            self._add_json_rule(item)

    def _add_json_rule(self, item: str) -> None:
        if "IPv4" in item:
            if match := _JSON_V4_SUBNET.search(item):
                self.add_subnet(match[1], int(match[2]))
                return
            if match := _JSON_V4_ADDRESS.search(item):
                self.add_address(match[1])
                return
            if match := _JSON_V4_RANGE.search(item):
                self.add_range(match[1], match[2])
                return
        if "IPv6" in item:
            if match := _JSON_V6_SUBNET.search(item):
                self.add_subnet(match[1], int(match[2]), "ipv6")
            elif match := _JSON_V6_ADDRESS.search(item):
                self.add_address(match[1], "ipv6")
            elif match := _JSON_V6_RANGE.search(item):
                self.add_range(match[1], match[2], "ipv6")

    def __repr__(self) -> str:
        return f"BlockList(rules={self.rules!r})"
