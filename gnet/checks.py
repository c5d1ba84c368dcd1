"""Checks of single argument values, as Node's validators make them.

Each function takes one value a caller gave and returns it in the form gnet
uses, or raises Node's error for it (``ERR_INVALID_ARG_TYPE``,
``ERR_OUT_OF_RANGE``, ``ERR_INVALID_ARG_VALUE``); where Node coerces a value
rather than refusing it (a backlog, a keep-alive delay), so do these.
:mod:`gnet.options` parses whole call forms with them and re-exports them.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from .emitter import check_not_async
from .errors import make_error
from .ip import is_ip, js_string_to_number

__all__ = [
    "is_number",
    "validate_msecs",
    "validate_timeout",
    "validate_callback",
    "validate_max_connections",
    "keep_alive_delay",
    "node_backlog",
    "reject_swapped_host_port",
]

Callback = Callable[..., Any]


def is_number(value: Any) -> bool:
    """An int or a float (a bool is not a number here, as in JavaScript)."""
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def validate_msecs(value: Any, name: str = "msecs") -> float:
    """A timeout in milliseconds: a non-negative finite number."""
    if not is_number(value):
        raise make_error("ERR_INVALID_ARG_TYPE", name, "of type number", value)
    if not math.isfinite(value) or value < 0:
        raise make_error("ERR_OUT_OF_RANGE", name, "a non-negative finite number", value)
    return float(value)


def validate_timeout(value: Any, name: str = "timeout") -> float | None:
    """A blocking call's ``timeout`` in seconds: None (no limit), or a number
    >= 0; ``inf`` is no limit.  NaN and negatives raise ``ERR_OUT_OF_RANGE``,
    a ``ValueError``, as ``socket.settimeout`` refuses them."""
    if value is None:
        return None
    if not is_number(value):
        raise make_error("ERR_INVALID_ARG_TYPE", name, "of type number", value)
    if math.isnan(value) or value < 0:
        raise make_error("ERR_OUT_OF_RANGE", name, "a non-negative number of seconds or None", value)
    return None if math.isinf(value) else float(value)


def validate_callback(value: Any, name: str = "callback") -> Callback:
    """A callable that is not an ``async def`` (which gnet could only call
    without awaiting: it would never run)."""
    if not callable(value):
        raise make_error("ERR_INVALID_ARG_TYPE", name, "of type function", value)
    check_not_async(value, name)
    return value  # type: ignore[no-any-return]


def validate_max_connections(value: Any) -> float | None:
    """``server.max_connections``: None (no limit) or a non-negative number."""
    if value is None:
        return None
    if not is_number(value):
        raise make_error("ERR_INVALID_ARG_TYPE", "server.maxConnections", "of type number", value)
    if math.isnan(value) or value < 0:
        raise make_error("ERR_OUT_OF_RANGE", "server.maxConnections", ">= 0", value)
    return value  # type: ignore[no-any-return]


def keep_alive_delay(value: Any) -> float:
    """``set_keep_alive``'s ``initial_delay`` (ms) as Node's method reads it:
    ``~~(initialDelay / 1000)`` never throws, so anything that is not a
    number (or a numeric string) > 0 is 0, the OS default."""
    if isinstance(value, str):
        value = js_string_to_number(value) if value.strip() else 0
    if not is_number(value) or not value > 0:  # NaN compares False
        return 0.0
    return float(min(value, 1e15))  # beyond any keep-alive delay the kernel takes


_MAX_BACKLOG = 0x7FFFFFFF  # listen()'s int; the kernel caps it at somaxconn anyway


def node_backlog(value: Any, default: int) -> int:
    """Node's rule: a backlog that is not a number > 0 (NaN, ``'abc'``, -1, 0)
    means ``default``; a larger one than listen() can take is capped."""
    if isinstance(value, str):
        value = js_string_to_number(value) if value.strip() else 0
    if not is_number(value) or not value > 0:  # NaN compares False
        return default
    return int(min(value, _MAX_BACKLOG))


def reject_swapped_host_port(function: str, first: str, rest: tuple[Any, ...]) -> None:
    """``listen('127.0.0.1', 8000)``, ``connect('localhost', 6379)``: Python's
    (host, port) order.  Node reads a path there (a UNIX socket file named
    ``127.0.0.1``); an IP address or ``localhost`` followed by a port number
    is almost surely the host and port swapped, so it raises with a hint."""
    if not rest or not is_number(rest[0]):
        return
    if first != "localhost" and not is_ip(first):
        return
    raise make_error(
        "ERR_INVALID_ARG_VALUE",
        "path",
        first,
        f"is a host, not a UNIX socket path: the port comes first, as in Node: "
        f"{function}({rest[0]!r}, {first!r})",
    )
