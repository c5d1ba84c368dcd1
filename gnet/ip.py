"""IP addresses as Node sees them: ``net.isIP``/``isIPv4``/``isIPv6``, libuv's
parsing and printing, and Node's port and argument validators.

Pure computation (no sockets, no greenlets), used on hot paths: host
arguments are classified with :func:`is_ip`.  :func:`is_ip` uses the
regular expressions of Node's ``lib/internal/net.js``; addresses are parsed
the way libuv's ``uv_inet_pton`` does (strict dotted decimal, IPv6 zone ids
accepted and dropped) and printed the way its ``uv_inet_ntop`` does
(``::ffff:1.2.3.4``, ``::1.2.3.4``), which is what ``SocketAddress.address``
and ``BlockList.rules`` show in Node.  The arithmetic works on integers
from the stdlib :mod:`ipaddress` parsers.
"""

from __future__ import annotations

import re
from ipaddress import IPv4Address, IPv6Address
from typing import Final

from .errors import make_error

__all__ = [
    "is_ip",
    "is_ipv4",
    "is_ipv6",
    "IP",
    "pton",
    "ntop",
    "wide",
    "is_v4_compatible",
    "js_string_to_number",
    "validate_port",
    "validate_integer",
    "validate_string",
    "family_version",
    "address_of",
    "FAMILY_VERSIONS",
    "FAMILY_NAMES",
    "V4_MAPPED_PREFIX",
    "JS_WHITESPACE",
]


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
IP = tuple[int, int]

FAMILY_VERSIONS: Final = {"ipv4": 4, "ipv6": 6}
FAMILY_NAMES: Final = {4: "ipv4", 6: "ipv6"}
V4_MAPPED_PREFIX: Final = 0xFFFF << 32


def pton(text: str, version: int) -> int | None:
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


def ntop(ip: IP) -> str:
    return _ntop4(ip[1]) if ip[0] == 4 else _ntop6(ip[1])


def wide(ip: IP) -> int:
    """The address in IPv6 space: IPv4 as its v4-mapped ``::ffff:a.b.c.d``.

    Node's BlockList compares an IPv4 address with an IPv6 rule (and the
    reverse) through that mapping, so one integer line serves both families.
    """
    return ip[1] if ip[0] == 6 else V4_MAPPED_PREFIX | ip[1]


def is_v4_compatible(wide: int) -> bool:
    return wide >> 32 == 0xFFFF


# --------------------------------------------------------------------------
# Node's validators

# What JavaScript's String.prototype.trim() and Number() strip.
JS_WHITESPACE: Final = (
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
    text = text.strip(JS_WHITESPACE)
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
    elif isinstance(port, str) and port.strip(JS_WHITESPACE):
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


def validate_integer(value: object, name: str, low: int, high: int) -> int:
    """Node's ``validateInt32``/``validateUint32``: a number, integral, in range."""
    if not isinstance(value, (int, float)) or isinstance(value, bool):
        raise make_error("ERR_INVALID_ARG_TYPE", name, "of type number", value)
    if isinstance(value, float) and not value.is_integer():
        raise make_error("ERR_OUT_OF_RANGE", name, "an integer", value)
    if not low <= value <= high:
        raise make_error("ERR_OUT_OF_RANGE", name, f">= {low} && <= {high}", value)
    return int(value)


def validate_string(value: object, name: str) -> str:
    if not isinstance(value, str):
        raise make_error("ERR_INVALID_ARG_TYPE", name, "of type string", value)
    return value


def family_version(family: object, name: str) -> int:
    """4 or 6 for a family name in any case, like Node's ``toLowerCase()``."""
    version = FAMILY_VERSIONS.get(family.lower()) if isinstance(family, str) else None
    if version is None:
        raise make_error("ERR_INVALID_ARG_VALUE", name, family)
    return version


def address_of(text: str, version: int) -> int:
    value = pton(text, version)
    if value is None:
        raise make_error("ERR_INVALID_ADDRESS")
    return value
