"""Argument normalisation for ``connect()`` and ``listen()``, in one place.

Node accepts many call forms (``connect(port, host, cb)``, ``connect(path)``,
``connect(options)``, ``listen(port, host, backlog, cb)``, ...).  Every
public entry point hands its arguments to one function here, which returns
a plain options dict in snake_case plus the callback, and raises Node's
synchronous errors (``ERR_SOCKET_BAD_PORT``, ``ERR_INVALID_ARG_TYPE``, ...)
for bad input.  Nothing else in gnet parses call forms.
"""

from __future__ import annotations

import inspect
import math
import socket as _socket
from collections.abc import Callable
from typing import Any

from ._aliases import normalize_options
from .addresses import is_ip, js_string_to_number, validate_port
from .errors import make_error

__all__ = [
    "node_callback",
    "is_pipe_name",
    "validate_msecs",
    "split_callback",
    "normalize_connect_args",
    "normalize_listen_args",
    "reject_object_mode",
]

def node_callback(fn: Callable[..., Any]) -> Callable[..., Any]:
    """``fn`` as a callback that gnet calls as ``cb(err)``, ``err`` None on success.

    Node calls write, end and close callbacks with an error or with nothing;
    Python callers pass ``def cb(err)``, ``def cb()`` or ``def cb(*args)``.
    On success ``fn`` gets no argument when it can take none (as in Node),
    else ``None``.  The shape is cached per code object: a callback is often
    a lambda made anew for every write, and inspecting it costs ~13 us.
    """
    key = _shape_key(fn)
    shape = _shapes.get(key) if key is not None else None
    if shape is None:
        shape = (_can_call(fn, None), _can_call(fn))
        if key is not None:
            _shapes[key] = shape
    takes_err, takes_nothing = shape
    if takes_err and takes_nothing:
        return lambda err=None: fn() if err is None else fn(err)
    if takes_err:
        return fn
    return lambda err=None: fn()


# (code object, number of defaults, bound?) -> (takes one argument, takes none):
# all that decides how a plain or bound Python function can be called.
_shapes: dict[tuple[Any, int, bool], tuple[bool, bool]] = {}


def _shape_key(fn: Callable[..., Any]) -> tuple[Any, int, bool] | None:
    func = getattr(fn, "__func__", fn)
    code = getattr(func, "__code__", None)
    if code is None:
        return None  # a builtin, a partial, a callable object: inspected every time
    return code, len(getattr(func, "__defaults__", None) or ()), func is not fn


def _can_call(fn: Callable[..., Any], *args: Any) -> bool:
    try:
        inspect.signature(fn).bind(*args)
    except TypeError:
        return False
    except ValueError:  # no signature (some builtins): assume Node's shape
        return bool(args)
    return True


def is_pipe_name(value: Any) -> bool:
    """Node's ``isPipeName``: a string that is not a non-negative number is a path."""
    if not isinstance(value, str) or not value.strip():
        return False
    return not js_string_to_number(value) >= 0


def validate_msecs(value: Any, name: str = "msecs") -> float:
    """A timeout in milliseconds: a non-negative finite number."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise make_error("ERR_INVALID_ARG_TYPE", name, "of type number", value)
    if not math.isfinite(value) or value < 0:
        raise make_error("ERR_OUT_OF_RANGE", name, "a non-negative finite number", value)
    return float(value)


def split_callback(
    args: tuple[Any, ...], callback: Callable[..., Any] | None
) -> tuple[tuple[Any, ...], Callable[..., Any] | None]:
    """Node's rule: a callable last positional argument is the callback."""
    if args and callable(args[-1]) and not isinstance(args[-1], type):
        if callback is not None:
            raise make_error("ERR_INVALID_ARG_VALUE", "callback", callback, "was given twice")
        return args[:-1], args[-1]
    return args, callback


# dns.ADDRCONFIG | dns.V4MAPPED | dns.ALL: the only getaddrinfo hints Node accepts.
_LOOKUP_HINTS = _socket.AI_ADDRCONFIG | _socket.AI_V4MAPPED | _socket.AI_ALL

_OBJECT_MODE = ("object_mode", "readable_object_mode", "writable_object_mode")


def reject_object_mode(options: dict[str, Any]) -> None:
    """Node's sockets are byte streams; object mode is refused (NODE-NET K2)."""
    for key in _OBJECT_MODE:
        if options.get(key):
            raise make_error("ERR_INVALID_ARG_VALUE", f"options.{key}", options[key])


def normalize_connect_args(
    args: tuple[Any, ...], kwargs: dict[str, Any]
) -> tuple[dict[str, Any], Callable[..., Any] | None]:
    """``connect(...)``'s forms -> (options in snake_case, connect listener).

    Forms: ``(options)``, ``(path)``, ``(port, host='localhost')``, each
    with an optional trailing callable; keyword options are merged in.
    """
    callback = kwargs.pop("callback", None) or kwargs.pop("connect_listener", None)
    args, callback = split_callback(args, callback)
    if args and isinstance(args[0], dict):
        options = normalize_options(args[0])
    elif args and is_pipe_name(args[0]):
        options = {"path": args[0]}
    elif args:
        options = {"port": args[0]}
        if len(args) > 1 and args[1] is not None:
            options["host"] = args[1]
    else:
        options = {}
    options.update(normalize_options(kwargs))
    if callback is not None and not callable(callback):
        raise make_error("ERR_INVALID_ARG_TYPE", "callback", "of type function", callback)

    reject_object_mode(options)
    path = options.get("path")
    if path is not None:
        if not isinstance(path, str):
            raise make_error("ERR_INVALID_ARG_TYPE", "options.path", "of type string", path)
        return options, callback
    if "port" not in options:
        raise make_error("ERR_MISSING_ARGS", "options", "port", "path")
    port = options["port"]
    if isinstance(port, bool) or not isinstance(port, (int, float, str)):  # None too
        raise make_error(
            "ERR_INVALID_ARG_TYPE", "options.port", "one of type number or string", port
        )
    options["port"] = validate_port(port, "options.port")
    host = options.get("host")
    if host is None:
        options["host"] = "localhost"
    elif not isinstance(host, str):
        raise make_error("ERR_INVALID_ARG_TYPE", "options.host", "of type string", host)
    local_address = options.get("local_address")
    if local_address is not None and not is_ip(local_address):
        raise make_error("ERR_INVALID_IP_ADDRESS", local_address)
    local_port = options.get("local_port")
    if local_port is not None and (isinstance(local_port, bool) or not isinstance(local_port, int)):
        raise make_error("ERR_INVALID_ARG_TYPE", "options.localPort", "of type number", local_port)
    family = options.get("family", 0)
    if family in (None, "IPv4", "IPv6"):
        family = {None: 0, "IPv4": 4, "IPv6": 6}[family]
    if family not in (0, 4, 6) or isinstance(family, bool):
        raise make_error(
            "ERR_INVALID_ARG_VALUE", "options.family", family, "must be one of: 0, 4, 6"
        )
    options["family"] = family
    hints = options.get("hints")
    if hints is not None:
        if isinstance(hints, bool) or not isinstance(hints, int):
            raise make_error("ERR_INVALID_ARG_TYPE", "options.hints", "of type number", hints)
        if hints & ~_LOOKUP_HINTS:  # Node shows the value as an unsigned 32-bit int
            raise make_error("ERR_INVALID_ARG_VALUE", "hints", hints & 0xFFFFFFFF)
    lookup = options.get("lookup")
    if lookup is not None and not callable(lookup):
        raise make_error("ERR_INVALID_ARG_TYPE", "options.lookup", "of type function", lookup)
    auto = options.get("auto_select_family")
    if auto is not None and not isinstance(auto, bool):
        raise make_error(
            "ERR_INVALID_ARG_TYPE", "options.autoSelectFamily", "of type boolean", auto
        )
    attempt = options.get("auto_select_family_attempt_timeout")
    if attempt is not None:
        attempt = validate_msecs(attempt, "options.autoSelectFamilyAttemptTimeout")
        if attempt <= 0:
            raise make_error(
                "ERR_OUT_OF_RANGE", "options.autoSelectFamilyAttemptTimeout", ">= 1", attempt
            )
        options["auto_select_family_attempt_timeout"] = max(attempt, 10.0)
    return options, callback


def normalize_listen_args(
    args: tuple[Any, ...], kwargs: dict[str, Any]
) -> tuple[dict[str, Any], Callable[..., Any] | None]:
    """``listen(...)``'s forms -> (options in snake_case, listening listener).

    The options dict gets exactly one of ``port`` (with ``host``), ``path``
    or ``handle``; plus ``backlog`` and the flags.  Raises Node's errors for
    bad ports and for options with neither port nor path (NODE-NET A4-A8).
    """
    callback = kwargs.pop("callback", None)
    args, callback = split_callback(args, callback)
    backlog: Any = kwargs.pop("backlog", None)
    first = args[0] if args else None
    if isinstance(first, dict):
        options = normalize_options(first)
        if "handle" in options or "_handle" in options:
            options["handle"] = options.pop("_handle", None) or options.get("handle")
    elif first is not None and _is_handle(first):
        options = {"handle": first}
        if len(args) > 1 and isinstance(args[1], int):
            backlog = args[1]
    elif is_pipe_name(first):
        options = {"path": first}
        if len(args) > 1 and isinstance(args[1], int) and not isinstance(args[1], bool):
            backlog = args[1]
    else:
        options = {"port": first}
        rest = args[1:]
        if rest and (isinstance(rest[0], str) or rest[0] is None):
            options["host"] = rest[0]
            rest = rest[1:]
        if rest and isinstance(rest[0], int) and not isinstance(rest[0], bool):
            backlog = rest[0]
    options.update(normalize_options(kwargs))
    if backlog is not None and options.get("backlog") is None:
        options["backlog"] = backlog
    if callback is not None and not callable(callback):
        raise make_error("ERR_INVALID_ARG_TYPE", "callback", "of type function", callback)

    if options.get("handle") is not None or options.get("fd") is not None:
        fd = options.get("fd")
        if fd is not None and (isinstance(fd, bool) or not isinstance(fd, int) or fd < 0):
            raise make_error(
                "ERR_INVALID_ARG_VALUE", "options", options, "must have the property \"port\" or \"path\""
            )
        return options, callback
    if "port" in options:
        port = options["port"]
        if port is None:
            options["port"] = 0
        elif isinstance(port, bool) or not isinstance(port, (int, float, str)):
            raise make_error(
                "ERR_INVALID_ARG_VALUE", "options", options
            )
        else:
            options["port"] = validate_port(port, "options.port")
        host = options.get("host")
        if host is not None and not isinstance(host, str):
            raise make_error("ERR_INVALID_ARG_TYPE", "options.host", "of type string", host)
        options.pop("path", None)  # port beats path (NODE-NET A5)
        return options, callback
    path = options.get("path")
    if isinstance(path, str) and path:
        return options, callback
    received = first if first is not None else options
    if "path" in options:  # Node: a bad value is "invalid", a missing key is named
        raise make_error("ERR_INVALID_ARG_VALUE", "options", received)
    raise make_error(
        "ERR_INVALID_ARG_VALUE", "options", received, 'must have the property "port" or "path"'
    )


def _is_handle(value: Any) -> bool:
    """A listening gnet Server/Socket, or a Python socket object."""
    return hasattr(value, "fileno") or hasattr(value, "_gnet_listen_handle")
