"""IP address helpers: Node's ``net.isIP``/``isIPv4``/``isIPv6``,
``net.SocketAddress`` and ``net.BlockList``.

Everything here is pure computation (no sockets, no greenlets), so the rest of
gnet can call it on hot paths: the servers check accepted peers against a
:class:`BlockList`, and host arguments are classified with :func:`is_ip`.

The text forms follow Node exactly.  :func:`is_ip` uses the regular
expressions of Node's ``lib/internal/net.js``; addresses are parsed the way
libuv's ``uv_inet_pton`` does (strict dotted decimal, IPv6 zone ids
accepted and dropped) and printed the way its ``uv_inet_ntop`` does
(``::ffff:1.2.3.4``, ``::1.2.3.4``), which is what ``SocketAddress.address``
and ``BlockList.rules`` show in Node.  The matching arithmetic works on
integers from the stdlib :mod:`ipaddress` parsers.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from ipaddress import IPv4Address, IPv6Address
from typing import Any, Final
from urllib.parse import unquote_to_bytes

from ._aliases import normalize_options, with_camel_aliases
from .errors import make_error

__all__ = ["is_ip", "is_ipv4", "is_ipv6", "SocketAddress", "BlockList"]


# --------------------------------------------------------------------------
# isIP: Node's regular expressions, verbatim

_V4_SEG = "(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9][0-9]|[0-9])"
_V4_STR = rf"(?:{_V4_SEG}\.){{3}}{_V4_SEG}"
_V6_SEG = "(?:[0-9a-fA-F]{1,4})"
_IPV6_ALTERNATIVES = (
    rf"(?:{_V6_SEG}:){{7}}(?:{_V6_SEG}|:)|"
    rf"(?:{_V6_SEG}:){{6}}(?:{_V4_STR}|:{_V6_SEG}|:)|"
    rf"(?:{_V6_SEG}:){{5}}(?::{_V4_STR}|(?::{_V6_SEG}){{1,2}}|:)|"
    rf"(?:{_V6_SEG}:){{4}}(?:(?::{_V6_SEG}){{0,1}}:{_V4_STR}|(?::{_V6_SEG}){{1,3}}|:)|"
    rf"(?:{_V6_SEG}:){{3}}(?:(?::{_V6_SEG}){{0,2}}:{_V4_STR}|(?::{_V6_SEG}){{1,4}}|:)|"
    rf"(?:{_V6_SEG}:){{2}}(?:(?::{_V6_SEG}){{0,3}}:{_V4_STR}|(?::{_V6_SEG}){{1,5}}|:)|"
    rf"(?:{_V6_SEG}:){{1}}(?:(?::{_V6_SEG}){{0,4}}:{_V4_STR}|(?::{_V6_SEG}){{1,6}}|:)|"
    rf"(?::(?:(?::{_V6_SEG}){{0,5}}:{_V4_STR}|(?::{_V6_SEG}){{1,7}}|:))"
)
# fullmatch, not ``$``: Python's ``$`` also matches before a final newline,
# JavaScript's does not ('1.2.3.4\n' is not an IP in Node).
_is_ipv4_text = re.compile(_V4_STR).fullmatch
_is_ipv6_text = re.compile(rf"(?:{_IPV6_ALTERNATIVES})(?:%[0-9a-zA-Z.:-]+)?").fullmatch


def _as_text(value: object) -> str:
    # Node's RegExp.test() converts its argument with ToString: a Buffer is
    # decoded as UTF-8 (bytes are gnet's Buffer), other objects go through
    # their toString(), which is str() here.  None stands for undefined.
    if isinstance(value, str):
        return value
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value).decode("utf-8", "replace")
    if value is None:
        return ""
    return str(value)


def is_ipv4(value: object = None) -> bool:
    """Node's ``net.isIPv4(input)``: dotted decimal without leading zeros.

    Like Node, a non-string is converted to text first (``str()`` standing
    for ``toString()``, bytes decoded as Node decodes a Buffer), so it never
    raises for a wrong type; ``None`` and most objects are simply not IPs.
    """
    return _is_ipv4_text(_as_text(value)) is not None


def is_ipv6(value: object = None) -> bool:
    """Node's ``net.isIPv6(input)``: full, compressed, IPv4-suffixed and
    ``%zone`` forms (``'fe80::1%eth0'``; ``'fe80::1%eth0@1'`` is not one).

    Non-strings are converted as :func:`is_ipv4` does.
    """
    return _is_ipv6_text(_as_text(value)) is not None


def is_ip(value: object = None) -> int:
    """Node's ``net.isIP(input)``: 4, 6, or 0 when ``value`` is not an IP address.

    Same rules and conversions as :func:`is_ipv4` and :func:`is_ipv6`.
    """
    text = _as_text(value)
    if _is_ipv4_text(text) is not None:
        return 4
    if _is_ipv6_text(text) is not None:
        return 6
    return 0


# --------------------------------------------------------------------------
# Parsing and printing addresses as libuv does

# (4 or 6, the address as an integer)
_IP = tuple[int, int]

_FAMILY_VERSIONS: Final = {"ipv4": 4, "ipv6": 6}
_FAMILY_NAMES: Final = {4: "ipv4", 6: "ipv6"}
_V4_MAPPED_PREFIX: Final = 0xFFFF << 32


def _pton(text: str, version: int) -> int | None:
    """The address in ``text`` as an integer, or ``None`` (``uv_inet_pton``)."""
    try:
        if version == 4:
            return int(IPv4Address(text))
        # uv_ip6_addr accepts any zone id (unknown ones mean scope 0) and
        # SocketAddress never shows it, so it plays no part in the value.
        return int(IPv6Address(text.partition("%")[0]))
    except ValueError:
        return None


def _ntop4(value: int) -> str:
    return f"{value >> 24}.{(value >> 16) & 0xFF}.{(value >> 8) & 0xFF}.{value & 0xFF}"


def _ntop6(value: int) -> str:
    """``uv_inet_ntop`` for IPv6: RFC 5952 compression, plus the dotted tail of
    ``::ffff:a.b.c.d`` and ``::a.b.c.d`` that Node prints and ipaddress does not.
    """
    words = [(value >> shift) & 0xFFFF for shift in range(112, -16, -16)]
    if not any(words[:5]) and (words[5] == 0xFFFF or (words[5] == 0 and words[6])):
        return ("::ffff:" if words[5] else "::") + _ntop4(value & 0xFFFFFFFF)
    best_start, best_len, run_start = 0, 0, -1
    for i, word in enumerate([*words, 1]):
        if word == 0:
            if run_start < 0:
                run_start = i
        elif run_start >= 0:
            if i - run_start > best_len:
                best_start, best_len = run_start, i - run_start
            run_start = -1
    hextets = [f"{word:x}" for word in words]
    if best_len < 2:
        return ":".join(hextets)
    return ":".join(hextets[:best_start]) + "::" + ":".join(hextets[best_start + best_len :])


def _ntop(ip: _IP) -> str:
    return _ntop4(ip[1]) if ip[0] == 4 else _ntop6(ip[1])


def _wide(ip: _IP) -> int:
    """The address in IPv6 space: IPv4 as its v4-mapped ``::ffff:a.b.c.d``.

    Node's BlockList compares an IPv4 address with an IPv6 rule (and the
    reverse) through that mapping, so one integer line serves both families.
    """
    return ip[1] if ip[0] == 6 else _V4_MAPPED_PREFIX | ip[1]


def _is_v4_compatible(wide: int) -> bool:
    return wide >> 32 == 0xFFFF


# --------------------------------------------------------------------------
# Node's validators

# What JavaScript's String.prototype.trim() and Number() strip.
_JS_WHITESPACE: Final = (
    "\t\n\v\f\r \xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008"
    "\u2009\u200a\u2028\u2029\u202f\u205f\u3000\ufeff"
)
_JS_DECIMAL = re.compile(r"[+-]?(?:Infinity|(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?)")
_JS_RADIX_LITERAL = re.compile(r"0(?:[xX][0-9a-fA-F]+|[oO][0-7]+|[bB][01]+)")
_JS_RADIXES: Final = {"x": 16, "o": 8, "b": 2}


def js_string_to_number(text: str) -> int | float:
    """JavaScript's ``Number(text)`` for a non-blank ``text`` (``NaN`` when it
    is not a number).
    """
    text = text.strip(_JS_WHITESPACE)
    if _JS_RADIX_LITERAL.fullmatch(text):
        return int(text[2:], _JS_RADIXES[text[1].lower()])
    if _JS_DECIMAL.fullmatch(text):
        return float(text)
    return float("nan")


def validate_port(port: object, name: str = "Port", allow_zero: bool = True) -> int:
    """Node's ``validatePort``: an integer 0..65535, or a string Number() reads as one.

    The one port check of gnet: ``listen()``, ``connect()`` and
    ``SocketAddress`` all use it.
    """
    number: int | float | None = None
    if isinstance(port, (int, float)) and not isinstance(port, bool):
        number = port
    elif isinstance(port, str) and port.strip(_JS_WHITESPACE):
        number = js_string_to_number(port)
    # The range test comes first: it also rejects NaN, and float() of a huge
    # int would overflow.
    if (
        number is None
        or not 0 <= number <= 0xFFFF
        or not float(number).is_integer()
        or (number == 0 and not allow_zero)
    ):
        raise make_error("ERR_SOCKET_BAD_PORT", name, port, allow_zero)
    return int(number)


def _validate_integer(value: object, name: str, low: int, high: int) -> int:
    """Node's ``validateInt32``/``validateUint32``: a number, integral, in range."""
    if not isinstance(value, (int, float)) or isinstance(value, bool):
        raise make_error("ERR_INVALID_ARG_TYPE", name, "of type number", value)
    if isinstance(value, float) and not value.is_integer():
        raise make_error("ERR_OUT_OF_RANGE", name, "an integer", value)
    if not low <= value <= high:
        raise make_error("ERR_OUT_OF_RANGE", name, f">= {low} && <= {high}", value)
    return int(value)


def _validate_string(value: object, name: str) -> str:
    if not isinstance(value, str):
        raise make_error("ERR_INVALID_ARG_TYPE", name, "of type string", value)
    return value


def _family_version(family: object, name: str) -> int:
    """4 or 6 for a family name in any case, like Node's ``toLowerCase()``."""
    version = _FAMILY_VERSIONS.get(family.lower()) if isinstance(family, str) else None
    if version is None:
        raise make_error("ERR_INVALID_ARG_VALUE", name, family)
    return version


def _address_of(text: str, version: int) -> int:
    value = _pton(text, version)
    if value is None:
        raise make_error("ERR_INVALID_ADDRESS")
    return value


# --------------------------------------------------------------------------
# SocketAddress.parse(): the host and port of the WHATWG URL 'http://' + input

_C0_CONTROL_OR_SPACE: Final = "".join(map(chr, range(0x21)))
_DROP_TAB_AND_NEWLINE: Final = str.maketrans("", "", "\t\n\r")
_AUTHORITY_END = re.compile(r"[/\\?#]")
_DIGITS = re.compile(r"[0-9]*")
_RADIX_DIGITS: Final = {
    10: re.compile(r"[0-9]+"),
    8: re.compile(r"[0-7]+"),
    16: re.compile(r"[0-9a-f]+"),
}


def _url_ipv4_number(part: str) -> int | None:
    """The WHATWG URL "IPv4 number parser": decimal, 0x hex or 0-prefixed octal."""
    if not part:
        return None
    radix = 10
    if part.startswith("0x"):
        radix, part = 16, part[2:]
    elif len(part) > 1 and part.startswith("0"):
        radix, part = 8, part[1:]
    if not part:
        return 0
    if not _RADIX_DIGITS[radix].fullmatch(part):
        return None
    return int(part, radix)


def _url_ipv4(host: str) -> int | None:
    """The WHATWG URL "IPv4 parser" ('256' is 0.0.1.0, '0x7f.1' is 127.0.0.1)."""
    parts = host.split(".")
    if parts[-1] == "" and len(parts) > 1:
        parts.pop()
    if len(parts) > 4:
        return None
    numbers = []
    for part in parts:
        number = _url_ipv4_number(part)
        if number is None:
            return None
        numbers.append(number)
    *leading, last = numbers
    if any(number > 255 for number in leading) or last >= 256 ** (5 - len(numbers)):
        return None
    return last + sum(number << (8 * (3 - i)) for i, number in enumerate(leading))


def _url_ipv6(inner: str) -> _IP | None:
    """The WHATWG URL IPv6 parser (no zone ids) for the text inside ``[...]``."""
    if "%" in inner:
        return None
    try:
        return 6, int(IPv6Address(inner))
    except ValueError:
        return None


def _url_ipv4_host(host: str) -> _IP | None:
    """The IPv4 address a special URL's host parser makes of ``host``, if any.

    A host name gives ``None`` too: Node hands it to SocketAddress, which
    rejects it.
    """
    try:
        host = unquote_to_bytes(host).decode("utf-8")
    except UnicodeDecodeError:
        return None
    if not host.isascii():
        # UTS #46 mapping, as far as it can yield an IPv4 address:
        # full-width digits and ideographic full stops ('１２７。０.０.１').
        host = unicodedata.normalize("NFKC", host).replace("\u3002", ".")
        if not host.isascii():
            return None
    value = _url_ipv4(host.lower())
    return None if value is None else (4, value)


def _parse_host_and_port(text: str) -> tuple[_IP, int] | None:
    """The IP and port of the URL ``'http://' + text``, if its host is an IP.

    The port is the one written, even 80: Node reads it from the text
    because a URL drops its scheme's default port.
    """
    rest = text.rstrip(_C0_CONTROL_OR_SPACE).translate(_DROP_TAB_AND_NEWLINE).lstrip("/\\")
    end = _AUTHORITY_END.search(rest)
    authority = rest if end is None else rest[: end.start()]
    host_and_port = authority[authority.rfind("@") + 1 :]
    ip: _IP | None
    if host_and_port.startswith("["):
        inner, bracket, after = host_and_port[1:].partition("]")
        if not bracket or (after and not after.startswith(":")):
            return None
        ip, port_text = _url_ipv6(inner), after[1:]
    else:
        host, _, port_text = host_and_port.partition(":")
        ip = _url_ipv4_host(host)
    if ip is None or not _DIGITS.fullmatch(port_text):
        return None
    port = int(port_text) if port_text else 0
    return None if port > 0xFFFF else (ip, port)


# --------------------------------------------------------------------------
# SocketAddress


@with_camel_aliases
class SocketAddress:
    """Node's ``net.SocketAddress``: an immutable IP address, port, family and
    IPv6 flow label.

    ``SocketAddress({'address': '::1', 'family': 'ipv6', 'port': 80})`` or
    the same as keyword arguments (keywords win over the dict).  Defaults:
    family ``'ipv4'``, address ``'127.0.0.1'`` (``'::'`` for ipv6), port 0,
    flowlabel 0.  Errors as Node's: a non-dict ``options`` or a non-string
    ``address`` is ``ERR_INVALID_ARG_TYPE``, an unknown family
    ``ERR_INVALID_ARG_VALUE``, a bad port ``ERR_SOCKET_BAD_PORT``, a bad
    flowlabel ``ERR_OUT_OF_RANGE``, an address that is not an IP of the
    family ``ERR_INVALID_ADDRESS``.  ``address`` is shown as Node shows it
    (``'2001:db8::1'``, ``'::ffff:1.2.3.4'``, the zone id dropped).

    Differences from Node: ``None`` means "not given", as ``undefined``
    does (Node rejects ``null``); the default address follows the family in
    any case (Node picks it before lower-casing, so ``{family: 'IPv4'}``
    throws there); a numeric string port (``'80'``) is accepted as
    ``validatePort`` allows (Node v20 then aborts); a flowlabel above 20
    bits is ``ERR_OUT_OF_RANGE`` (Node v20 aborts).  Instances compare equal
    and hash by value.
    """

    __slots__ = ("_ip", "_port", "_flowlabel")

    def __init__(
        self,
        options: Mapping[str, Any] | None = None,
        /,
        *,
        address: str | None = None,
        family: str | None = None,
        port: int | str | None = None,
        flowlabel: int | None = None,
    ) -> None:
        if options is not None and not isinstance(options, Mapping):
            raise make_error("ERR_INVALID_ARG_TYPE", "options", "of type object", options)
        given = {
            key: value for key, value in normalize_options(options).items() if value is not None
        }
        given.update(
            (key, value)
            for key, value in (
                ("address", address),
                ("family", family),
                ("port", port),
                ("flowlabel", flowlabel),
            )
            if value is not None
        )
        version = _family_version(given.get("family", "ipv4"), "options.family")
        text = _validate_string(
            given.get("address", "127.0.0.1" if version == 4 else "::"), "options.address"
        )
        self._port = validate_port(given.get("port", 0), "options.port")
        label = _validate_integer(given.get("flowlabel", 0), "options.flowlabel", 0, 0xFFFFF)
        self._flowlabel = label if version == 6 else 0
        self._ip: _IP = (version, _address_of(text, version))

    @classmethod
    def _from_ip(cls, ip: _IP, port: int = 0) -> SocketAddress:
        sa = cls.__new__(cls)
        sa._ip, sa._port, sa._flowlabel = ip, port, 0
        return sa

    @property
    def address(self) -> str:
        """The address as Node prints it (``'127.0.0.1'``, ``'2001:db8::1'``)."""
        return _ntop(self._ip)

    @property
    def family(self) -> str:
        """``'ipv4'`` or ``'ipv6'`` (lower case, unlike ``server.address()``)."""
        return _FAMILY_NAMES[self._ip[0]]

    @property
    def port(self) -> int:
        return self._port

    @property
    def flowlabel(self) -> int:
        """The IPv6 flow label; always 0 for ipv4."""
        return self._flowlabel

    def to_json(self) -> dict[str, Any]:
        """Node's ``toJSON()``: ``{'address', 'port', 'family', 'flowlabel'}``."""
        return {
            "address": self.address,
            "port": self._port,
            "family": self.family,
            "flowlabel": self._flowlabel,
        }

    @staticmethod
    def is_socket_address(value: object) -> bool:
        """Node's ``SocketAddress.isSocketAddress(value)``."""
        return isinstance(value, SocketAddress)

    @staticmethod
    def parse(input: str) -> SocketAddress | None:
        """Node's ``SocketAddress.parse(input)``: ``'1.2.3.4:80'``, ``'[::1]:80'``
        or a bare address; ``None`` when ``input`` is not an IP with an
        optional port.

        As in Node, ``input`` is read as the host and port of the URL
        ``'http://' + input``, so URL rules apply: ``'user@'`` is skipped,
        ``'256'`` is 0.0.1.0, ``'0x7f.1'`` is 127.0.0.1, a path after the port
        is ignored, and host names are rejected.  The port is the one
        written, 80 included, as in current Node (its first releases of
        ``parse`` lost an explicit 80 to the URL's default-port rule).
        Non-ASCII hosts are mapped with NFKC, which covers the UTS #46 cases
        that can spell an IPv4 address.
        """
        parsed = _parse_host_and_port(_validate_string(input, "input"))
        if parsed is None:
            return None
        return SocketAddress._from_ip(*parsed)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, SocketAddress):
            return NotImplemented
        return (self._ip, self._port, self._flowlabel) == (other._ip, other._port, other._flowlabel)

    def __hash__(self) -> int:
        return hash((self._ip, self._port, self._flowlabel))

    def __repr__(self) -> str:
        return (
            f"SocketAddress(address={self.address!r}, port={self._port}, "
            f"family={self.family!r}, flowlabel={self._flowlabel})"
        )


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

    def __init__(self, ip: _IP) -> None:
        self.key = ("address", ip)
        self.ip = ip
        self.wide = _wide(ip)

    def text(self) -> str:
        return f"Address: IPv{self.ip[0]} {_ntop(self.ip)}"


class _RangeRule(_Rule):
    """An inclusive range, compared as Node compares two addresses: within a
    family by value, across families only when the IPv6 side is v4-mapped
    (otherwise they are "not comparable", and the range does not match).
    """

    __slots__ = ("start", "end", "low", "high", "low_mapped", "high_mapped")

    def __init__(self, start: _IP, end: _IP) -> None:
        self.key = ("range", start, end)
        self.start, self.end = start, end
        self.low, self.high = _wide(start), _wide(end)
        self.low_mapped = _is_v4_compatible(self.low)
        self.high_mapped = _is_v4_compatible(self.high)

    def is_reversed(self) -> bool:
        """Whether Node would find ``start`` greater than ``end``."""
        comparable = self.start[0] == self.end[0] or (self.low_mapped and self.high_mapped)
        return comparable and self.low > self.high

    def matches(self, version: int, wide: int) -> bool:
        # Across families the IPv4 side is v4-compatible by construction, so
        # "the IPv6 side is v4-mapped" is "both sides are".
        mapped = _is_v4_compatible(wide)
        return (
            self.low <= wide <= self.high
            and (version == self.start[0] or (mapped and self.low_mapped))
            and (version == self.end[0] or (mapped and self.high_mapped))
        )

    def text(self) -> str:
        return f"Range: IPv{self.start[0]} {_ntop(self.start)}-{_ntop(self.end)}"


class _SubnetRule(_Rule):
    """A subnet; an IPv4 one is its v4-mapped IPv6 subnet (prefix + 96),
    which is how Node matches IPv6 addresses against IPv4 subnets and back.
    """

    __slots__ = ("ip", "prefix", "shift", "network")

    def __init__(self, ip: _IP, prefix: int) -> None:
        self.key = ("subnet", ip, prefix)
        self.ip, self.prefix = ip, prefix
        self.shift = 128 - (prefix if ip[0] == 6 else prefix + 96)
        self.network = _wide(ip) >> self.shift

    def matches(self, version: int, wide: int) -> bool:
        return wide >> self.shift == self.network

    def text(self) -> str:
        return f"Subnet: IPv{self.ip[0]} {_ntop(self.ip)}/{self.prefix}"


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


def _ip_argument(address: object, family: object, name: str) -> _IP:
    """An address argument of BlockList, with Node's checks in Node's order."""
    if isinstance(address, SocketAddress):
        return address._ip
    text = _validate_string(address, name)
    version = _family_version(_validate_string(family, "family"), "options.family")
    return version, _address_of(text, version)


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
    return _SubnetRule(ip, _validate_integer(prefix, "prefix", 0, _PREFIX_MAX[ip[0]]))


def _cidr_rule(cidr: object) -> _SubnetRule:
    match = _CIDR.fullmatch(_validate_string(cidr, "cidr"))
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
            text = _validate_string(address, "address")
            version = _FAMILY_VERSIONS.get(_validate_string(type, "family").lower(), 0)
            parsed = _pton(text, version) if version else None
            if parsed is None:
                return False
            value = parsed
        wide = value if version == 6 else _V4_MAPPED_PREFIX | value
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
