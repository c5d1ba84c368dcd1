"""Node's ``net.SocketAddress``: an IP address, port, family and flow label.

``SocketAddress.parse()`` reads ``host:port`` the way Node does, through the
WHATWG URL host parser (so ``0x7f.1`` is 127.0.0.1 and IPv6 goes in
brackets).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from ipaddress import IPv6Address
from typing import Any, Final
from urllib.parse import unquote_to_bytes

from ._aliases import normalize_options, with_camel_aliases
from .errors import make_error
from .ip import (
    FAMILY_NAMES,
    IP,
    address_of,
    family_version,
    ntop,
    validate_integer,
    validate_port,
    validate_string,
)

__all__ = ["SocketAddress"]


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


def _url_ipv6(inner: str) -> IP | None:
    """The WHATWG URL IPv6 parser (no zone ids) for the text inside ``[...]``."""
    if "%" in inner:
        return None
    try:
        return 6, int(IPv6Address(inner))
    except ValueError:
        return None


def _url_ipv4_host(host: str) -> IP | None:
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


def _parse_host_and_port(text: str) -> tuple[IP, int] | None:
    """The IP and port of the URL ``'http://' + text``, if its host is an IP.

    The port is the one written, even 80: Node reads it from the text
    because a URL drops its scheme's default port.
    """
    rest = text.rstrip(_C0_CONTROL_OR_SPACE).translate(_DROP_TAB_AND_NEWLINE).lstrip("/\\")
    end = _AUTHORITY_END.search(rest)
    authority = rest if end is None else rest[: end.start()]
    host_and_port = authority[authority.rfind("@") + 1 :]
    ip: IP | None
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
        version = family_version(given.get("family", "ipv4"), "options.family")
        text = validate_string(
            given.get("address", "127.0.0.1" if version == 4 else "::"), "options.address"
        )
        self._port = validate_port(given.get("port", 0), "options.port")
        label = validate_integer(given.get("flowlabel", 0), "options.flowlabel", 0, 0xFFFFF)
        self._flowlabel = label if version == 6 else 0
        self._ip: IP = (version, address_of(text, version))

    @classmethod
    def _from_ip(cls, ip: IP, port: int = 0) -> SocketAddress:
        sa = cls.__new__(cls)
        sa._ip, sa._port, sa._flowlabel = ip, port, 0
        return sa

    @property
    def address(self) -> str:
        """The address as Node prints it (``'127.0.0.1'``, ``'2001:db8::1'``)."""
        return ntop(self._ip)

    @property
    def family(self) -> str:
        """``'ipv4'`` or ``'ipv6'`` (lower case, unlike ``server.address()``)."""
        return FAMILY_NAMES[self._ip[0]]

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
        parsed = _parse_host_and_port(validate_string(input, "input"))
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
