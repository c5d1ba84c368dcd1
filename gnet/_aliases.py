"""Node's camelCase spellings, defined once.

gnet's names are snake_case; every one of them that Node spells in camelCase
is also reachable under Node's name, as the *same object* (a method, a
property, a module function).  Option dicts accept both spellings too.  This
module is the single place that knows how to turn one spelling into the
other, so no alias is ever written by hand.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, MutableMapping
from typing import Any, TypeVar

# Names whose camelCase form is not the mechanical one (Node capitalises
# the acronym: isIP, not isIp).
_IRREGULAR_CAMEL = {
    "is_ip": "isIP",
    "is_ipv4": "isIPv4",
    "is_ipv6": "isIPv6",
    "ipv6_only": "ipv6Only",
    "to_json": "toJSON",
    "from_json": "fromJSON",
    "add_cidr": "addCIDR",
    "add_cidrs": "addCIDRs",
    "remove_cidr": "removeCIDR",
}
_IRREGULAR_SNAKE = {camel: snake for snake, camel in _IRREGULAR_CAMEL.items()}

_CAMEL_BOUNDARY = re.compile(r"(?<=[a-z0-9])([A-Z])")

T = TypeVar("T", bound=type)


def camel_case(name: str) -> str:
    """``set_no_delay`` -> ``setNoDelay``; names without ``_`` are unchanged."""
    if name in _IRREGULAR_CAMEL:
        return _IRREGULAR_CAMEL[name]
    head, *rest = name.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


def snake_case(name: str) -> str:
    """``allowHalfOpen`` -> ``allow_half_open``; snake_case is unchanged."""
    if name in _IRREGULAR_SNAKE:
        return _IRREGULAR_SNAKE[name]
    return _CAMEL_BOUNDARY.sub(lambda m: "_" + m.group(1).lower(), name)


def _public_snake_names(names: Iterable[str]) -> list[str]:
    # Constants (PRIVATE_RANGES, DROP_BLOCK_LIST) keep their one name, as Node's do.
    return [n for n in names if "_" in n.strip("_") and not n.startswith("_") and not n.isupper()]


def with_camel_aliases(cls: T) -> T:
    """Class decorator: give each public snake_case attribute its camelCase twin.

    Applied to every public class; subclasses get the aliases of their own
    new names (inherited ones are already on the base class).
    """
    for name in _public_snake_names(list(vars(cls))):
        alias = camel_case(name)
        if alias != name and alias not in vars(cls):
            setattr(cls, alias, vars(cls)[name])
    return cls


def add_module_aliases(namespace: MutableMapping[str, Any], names: Iterable[str]) -> list[str]:
    """Add camelCase twins of module-level ``names`` to ``namespace``.

    Returns the aliases added, so a module can extend its ``__all__``.
    """
    added = []
    for name in _public_snake_names(names):
        alias = camel_case(name)
        if alias != name:
            namespace[alias] = namespace[name]
            added.append(alias)
    return added


def normalize_options(options: Mapping[str, Any] | None) -> dict[str, Any]:
    """A copy of ``options`` with every key in snake_case.

    When both spellings of one option are given, the snake_case one wins.
    """
    if not options:
        return {}
    out: dict[str, Any] = {}
    for key, value in options.items():
        snake = snake_case(key) if isinstance(key, str) else key
        if snake in out and snake != key:
            continue
        out[snake] = value
    return out
