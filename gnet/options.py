"""Every call form and option check, in one place.

Node accepts many call forms (``connect(port, host, cb)``, ``connect(path)``,
``connect(options)``, ``listen(port, host, backlog, cb)``, ...) and option
dicts in camelCase.  Each public entry point hands its arguments to one
function here, which returns a typed, frozen options object (and the
callback) and raises Node's synchronous errors for bad input at once
(``ERR_SOCKET_BAD_PORT``, ``ERR_INVALID_ARG_TYPE``, ...).  Nothing else in
gnet parses call forms or looks into option dicts.

Two rules from the contract (API.md, principle 1):

* an unknown key in an option *dict* is ignored, as Node does;
* an unknown *keyword argument* raises ``TypeError`` (Python's rule: a
  misspelt ``timout=5`` must not silently connect without a timeout).

Both spellings are accepted everywhere (``allowHalfOpen`` or
``allow_half_open``); the snake_case one wins when both are given.
"""

from __future__ import annotations

import dataclasses
import inspect
import math
import socket as _socket
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from ._aliases import normalize_options
from ._proxy_wire import DEFAULT_MAX_V2_LENGTH, V2_FIXED, V2_MAX_PAYLOAD
from .blocklist import BlockList
from .checks import (
    is_number,
    keep_alive_delay,
    node_backlog,
    reject_swapped_host_port,
    validate_callback,
    validate_max_connections,
    validate_msecs,
    validate_timeout,
)
from .errors import make_error
from .ip import is_ip, js_string_to_number, validate_port

__all__ = [
    "SocketOptions",
    "ConnectOptions",
    "ServerOptions",
    "ListenOptions",
    "parse_socket_options",
    "parse_connect_args",
    "parse_server_options",
    "parse_listen_args",
    "node_callback",
    "split_callback",
    "validate_msecs",
    "validate_timeout",
    "validate_callback",
    "keep_alive_delay",
    "validate_max_connections",
    "is_pipe_name",
    "DEFAULT_HIGH_WATER_MARK",
    "DEFAULT_ATTEMPT_TIMEOUT",
    "DEFAULT_BACKLOG",
    "DEFAULT_PROXY_TIMEOUT",
]

DEFAULT_HIGH_WATER_MARK = 16384  # Node v20's default for both directions
DEFAULT_ATTEMPT_TIMEOUT = 250.0  # ms; Node v20's autoSelectFamilyAttemptTimeout
DEFAULT_BACKLOG = 511
# ms to receive a whole PROXY header: above the spec's "at least 3 seconds to
# cover a TCP retransmit", and enough for the header's segment to be lost
# twice at the initial 1 s RTO (resent at 1 s and 3 s); short enough that a
# flood of silent connections holds each slot for only 5 s.
DEFAULT_PROXY_TIMEOUT = 5000.0

Callback = Callable[..., Any]


# ----------------------------------------------------------------------
# the option objects


@dataclass(frozen=True, slots=True)
class SocketOptions:
    """``new Socket(options)``: Node's constructor options."""

    fd: int | None = None
    allow_half_open: bool = False
    readable: bool = True
    writable: bool = True
    high_water_mark: int = DEFAULT_HIGH_WATER_MARK


@dataclass(frozen=True, slots=True)
class ConnectOptions:
    """``socket.connect(options)``: a UNIX ``path``, or a TCP ``port`` and ``host``.

    ``timeout`` and the attempt timeout are in ms (Node's units);
    ``allow_half_open`` is None when not given (the socket keeps its own).
    """

    path: str | None = None
    port: int | None = None
    host: str = "localhost"
    local_address: str | None = None
    local_port: float | None = None  # any number: connect() fails on one that is no port
    family: int = 0
    timeout: float | None = None
    no_delay: bool = False
    keep_alive: bool = False
    keep_alive_initial_delay: float = 0.0
    allow_half_open: bool | None = None
    high_water_mark: int = DEFAULT_HIGH_WATER_MARK
    auto_select_family: bool = True
    auto_select_family_attempt_timeout: float = DEFAULT_ATTEMPT_TIMEOUT
    lookup: Callback | None = None
    hints: int = 0
    proxy_header: bytes | None = None  # a PROXY protocol header, sent first once connected

    def as_dict(self) -> dict[str, Any]:
        """The options as a snake_case dict (what diagnostics subscribers get)."""
        out = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}
        if self.path is not None:
            for key in ("port", "host", "local_address", "local_port", "family", "hints"):
                out.pop(key)
        return out


@dataclass(frozen=True, slots=True)
class ServerOptions:
    """``net.createServer(options)``: what every accepted socket starts with."""

    allow_half_open: bool = False
    pause_on_connect: bool = False
    no_delay: bool = False
    keep_alive: bool = False
    keep_alive_initial_delay: float = 0.0
    high_water_mark: int = DEFAULT_HIGH_WATER_MARK
    block_list: BlockList | None = None
    # The PROXY protocol (gnet.proxy_io): 'v1', 'v2', 'auto', or None (off).
    proxy_protocol: str | None = None
    proxy_trusted: BlockList | None = None  # peers allowed to send a header; None: any
    proxy_timeout: float = DEFAULT_PROXY_TIMEOUT  # ms for the whole header
    proxy_max_header: int = DEFAULT_MAX_V2_LENGTH  # bytes a v2 header may take


@dataclass(frozen=True, slots=True)
class ListenOptions:
    """``server.listen(...)``: exactly one of a TCP ``port`` (with ``host``), a UNIX
    ``path``, or a ``handle``/``fd`` to listen on."""

    kind: str  # 'tcp', 'unix' or 'handle'
    port: int = 0
    host: str | None = None
    path: str | None = None
    handle: Any = None
    fd: int | None = None
    backlog: int = DEFAULT_BACKLOG
    exclusive: bool = False
    ipv6_only: bool = False
    reuse_port: bool = False
    readable_all: bool = False
    writable_all: bool = False


_SOCKET_KEYS = frozenset(f.name for f in dataclasses.fields(SocketOptions))
_CONNECT_KEYS = frozenset(f.name for f in dataclasses.fields(ConnectOptions))
_SERVER_KEYS = frozenset(f.name for f in dataclasses.fields(ServerOptions))
_LISTEN_KEYS = frozenset(f.name for f in dataclasses.fields(ListenOptions)) - {"kind"}
_OBJECT_MODE = ("object_mode", "readable_object_mode", "writable_object_mode")


def check_keywords(function: str, kwargs: Mapping[str, Any], allowed: frozenset[str]) -> dict[str, Any]:
    """``kwargs`` in snake_case; an unknown keyword raises ``TypeError`` as Python does."""
    options = normalize_options(kwargs)
    for key in options:
        if key not in allowed:
            raise make_error("ERR_GNET_UNEXPECTED_KEYWORD", function, key)
    return options


# ----------------------------------------------------------------------
# value checks


def _high_water_mark(value: Any) -> int:
    """Node's ``getHighWaterMark``: a non-negative integer (1e300 included)."""
    if value is None:
        return DEFAULT_HIGH_WATER_MARK
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise make_error("ERR_INVALID_ARG_VALUE", "options.readableHighWaterMark", value)
    if not math.isfinite(value) or value < 0 or not float(value).is_integer():
        raise make_error("ERR_INVALID_ARG_VALUE", "options.readableHighWaterMark", value)
    return int(value)


def _number(value: Any, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise make_error("ERR_INVALID_ARG_TYPE", name, "of type number", value)
    return float(value)


def _keep_alive_delay(value: Any, name: str) -> float:
    """ms; Node coerces NaN and negatives to 0 rather than refusing them, and
    takes any large number (1e300, inf: the longest delay the kernel has)."""
    if value is None:
        return 0.0
    return keep_alive_delay(_number(value, name))


def reject_object_mode(options: Mapping[str, Any]) -> None:
    """Node's sockets are byte streams; object mode is refused (NODE-NET K2)."""
    for key in _OBJECT_MODE:
        if options.get(key):
            raise make_error("ERR_INVALID_ARG_VALUE", f"options.{key}", options[key])


def is_pipe_name(value: Any) -> bool:
    """Node's ``isPipeName``: a string that is not a non-negative number is a path."""
    if not isinstance(value, str) or not value.strip():
        return False
    return not js_string_to_number(value) >= 0


# ----------------------------------------------------------------------
# callbacks


def node_callback(fn: Callback) -> Callback:
    """``fn`` as a callback that gnet calls as ``cb(err)``, ``err`` None on success.

    Node calls write, end and close callbacks with an error or with nothing;
    Python callers pass ``def cb(err)``, ``def cb()`` or ``def cb(*args)``.
    On success ``fn`` gets no argument when it can take none (as in Node),
    else ``None``.  The shape is cached per code object: a callback is often
    a lambda made anew for every write, and inspecting it costs ~13 us.
    A non-callable raises ``ERR_INVALID_ARG_TYPE`` (Node ignores it; called
    later it would only break the connection).
    """
    key = _shape_key(fn)
    shape = _shapes.get(key) if key is not None else None
    if shape is None:
        validate_callback(fn)
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


def _shape_key(fn: Callback) -> tuple[Any, int, bool] | None:
    func = getattr(fn, "__func__", fn)
    code = getattr(func, "__code__", None)
    if code is None:
        return None  # a builtin, a partial, a callable object: inspected every time
    return code, len(getattr(func, "__defaults__", None) or ()), func is not fn


def _can_call(fn: Callback, *args: Any) -> bool:
    try:
        inspect.signature(fn).bind(*args)
    except TypeError:
        return False
    except ValueError:  # no signature (some builtins): assume Node's shape
        return bool(args)
    return True


def split_callback(args: tuple[Any, ...], callback: Callback | None) -> tuple[tuple[Any, ...], Callback | None]:
    """Node's rule: a callable last positional argument is the callback."""
    if args and callable(args[-1]) and not isinstance(args[-1], type):
        if callback is not None:
            raise make_error("ERR_INVALID_ARG_VALUE", "callback", callback, "was given twice")
        return args[:-1], args[-1]
    return args, callback


# ----------------------------------------------------------------------
# Socket(options)


def parse_socket_options(options: Any, kwargs: Mapping[str, Any]) -> SocketOptions:
    """``Socket(options=None, **kwargs)``; ``Socket(fd)`` is Node's legacy form."""
    if isinstance(options, int) and not isinstance(options, bool):
        options = {"fd": options}
    opts = normalize_options(options if isinstance(options, dict) else None)
    opts.update(check_keywords("Socket", kwargs, _SOCKET_KEYS))
    reject_object_mode(opts)
    fd = opts.get("fd")
    if fd is not None:  # Node's validateInt32(fd, 'fd', 0)
        if not is_number(fd):
            raise make_error("ERR_INVALID_ARG_TYPE", "options.fd", "of type number", fd)
        if isinstance(fd, float) and not fd.is_integer():
            raise make_error("ERR_OUT_OF_RANGE", "fd", "an integer", fd)
        if not 0 <= fd <= 0x7FFFFFFF:
            raise make_error("ERR_OUT_OF_RANGE", "fd", ">= 0 && <= 2147483647", fd)
        fd = int(fd)
    return SocketOptions(
        fd=fd,
        allow_half_open=bool(opts.get("allow_half_open", False)),
        readable=opts.get("readable") is not False,
        writable=opts.get("writable") is not False,
        high_water_mark=_high_water_mark(opts.get("high_water_mark")),
    )


# ----------------------------------------------------------------------
# connect(...)

# dns.ADDRCONFIG | dns.V4MAPPED | dns.ALL: the only getaddrinfo hints Node accepts.
# A plain int: the socket module's AI_* are IntFlags, whose ~ keeps only the
# flag's own bits, so an unknown bit would slip through the check below.
_LOOKUP_HINTS = int(_socket.AI_ADDRCONFIG | _socket.AI_V4MAPPED | _socket.AI_ALL)


def parse_connect_args(
    args: tuple[Any, ...], kwargs: Mapping[str, Any], function: str = "connect"
) -> tuple[ConnectOptions, Callback | None]:
    """``connect(...)``'s forms -> (options, connect listener).

    Forms: ``(options)``, ``(path)``, ``(port, host='localhost')``, each
    with an optional trailing callable; keyword options are merged in.
    """
    kwargs = dict(kwargs)
    callback = kwargs.pop("callback", None) or kwargs.pop("connect_listener", None)
    args, callback = split_callback(args, callback)
    if args and isinstance(args[0], (dict, ConnectOptions)):
        if isinstance(args[0], ConnectOptions):
            return args[0], callback
        options = normalize_options(args[0])
    elif args and is_pipe_name(args[0]):
        reject_swapped_host_port(function, args[0], args[1:])
        options = {"path": args[0]}
    elif args:
        options = {"port": args[0]}
        if len(args) > 1 and args[1] is not None:
            options["host"] = args[1]
    else:
        options = {}
    options.update(check_keywords(function, kwargs, _CONNECT_KEYS))
    if callback is not None:
        validate_callback(callback)
    return connect_options(options), callback


def connect_options(options: dict[str, Any]) -> ConnectOptions:
    """A snake_case option dict -> checked :class:`ConnectOptions`."""
    reject_object_mode(options)
    path = options.get("path")
    if path is not None:
        if not isinstance(path, str):
            raise make_error("ERR_INVALID_ARG_TYPE", "options.path", "of type string", path)
        return ConnectOptions(path=path, **_stream_options(options))
    if "port" not in options:
        raise make_error("ERR_MISSING_ARGS", "options", "port", "path")
    port = options["port"]
    if isinstance(port, bool) or not isinstance(port, (int, float, str)):  # None too
        raise make_error("ERR_INVALID_ARG_TYPE", "options.port", "one of type number or string", port)
    host = options.get("host")
    if host is not None and not isinstance(host, str):
        raise make_error("ERR_INVALID_ARG_TYPE", "options.host", "of type string", host)
    host = host or "localhost"  # Node: options.host || 'localhost'
    local_address = options.get("local_address")
    if local_address is not None and not is_ip(local_address):
        raise make_error("ERR_INVALID_IP_ADDRESS", local_address)
    local_port = options.get("local_port")
    # Any number is taken: one that is no port fails the connect later, as
    # an 'error' (Node's async bind error), not here.
    if local_port is not None and not is_number(local_port):
        raise make_error("ERR_INVALID_ARG_TYPE", "options.localPort", "of type number", local_port)
    if local_port is not None and math.isnan(local_port):
        local_port = None  # Node: NaN is falsy, so no bind at all
    family = options.get("family", 0)
    if family in (None, "IPv4", "IPv6"):
        family = {None: 0, "IPv4": 4, "IPv6": 6}[family]
    if family not in (0, 4, 6) or isinstance(family, bool):
        raise make_error("ERR_INVALID_ARG_VALUE", "options.family", family, "must be one of: 0, 4, 6")
    hints = options.get("hints")
    if hints is not None:
        if isinstance(hints, bool) or not isinstance(hints, int):
            raise make_error("ERR_INVALID_ARG_TYPE", "options.hints", "of type number", hints)
        if hints & ~_LOOKUP_HINTS:  # Node shows the value as an unsigned 32-bit int
            raise make_error("ERR_INVALID_ARG_VALUE", "hints", hints & 0xFFFFFFFF)
    lookup = options.get("lookup")
    if lookup is not None:
        validate_callback(lookup, "options.lookup")
    auto = options.get("auto_select_family")
    if auto is not None and not isinstance(auto, bool):
        raise make_error("ERR_INVALID_ARG_TYPE", "options.autoSelectFamily", "of type boolean", auto)
    attempt = options.get("auto_select_family_attempt_timeout")
    if attempt is None:
        attempt = DEFAULT_ATTEMPT_TIMEOUT
    else:
        attempt = validate_msecs(attempt, "options.autoSelectFamilyAttemptTimeout")
        if attempt <= 0:
            raise make_error("ERR_OUT_OF_RANGE", "options.autoSelectFamilyAttemptTimeout", ">= 1", attempt)
        attempt = max(attempt, 10.0)
    return ConnectOptions(
        port=validate_port(port, "options.port"),
        host=host,
        local_address=local_address,
        local_port=local_port,
        family=int(family),
        auto_select_family=True if auto is None else auto,
        auto_select_family_attempt_timeout=attempt,
        lookup=lookup,
        hints=hints or 0,
        **_stream_options(options),
    )


def _stream_options(options: dict[str, Any]) -> dict[str, Any]:
    """The options a connect shares with the socket it makes (checked last, as
    Node's connect() reaches them after the address)."""
    timeout = options.get("timeout")
    return {
        "timeout": None if timeout is None else validate_msecs(timeout),
        "no_delay": bool(options.get("no_delay")),
        "keep_alive": bool(options.get("keep_alive")),
        "keep_alive_initial_delay": _keep_alive_delay(
            options.get("keep_alive_initial_delay"), "options.keepAliveInitialDelay"
        ),
        "allow_half_open": None if options.get("allow_half_open") is None else bool(options["allow_half_open"]),
        "high_water_mark": _high_water_mark(options.get("high_water_mark")),
        "proxy_header": _proxy_header(options.get("proxy_header")),
    }


# ----------------------------------------------------------------------
# createServer(options)


def parse_server_options(options: Any, kwargs: Mapping[str, Any]) -> ServerOptions:
    """``createServer(options, **kwargs)``; checked as Node checks each accepted socket's."""
    if options is not None and not isinstance(options, dict):
        raise make_error("ERR_INVALID_ARG_TYPE", "options", "of type object", options)
    opts = normalize_options(options)
    opts.update(check_keywords("create_server", kwargs, _SERVER_KEYS))
    hwm = opts.get("high_water_mark")
    if hwm is not None and (isinstance(hwm, bool) or not isinstance(hwm, (int, float))):
        raise make_error("ERR_INVALID_ARG_TYPE", "options.highWaterMark", "of type number", hwm)
    block_list = opts.get("block_list")
    if block_list is not None and not BlockList.is_block_list(block_list):
        raise make_error("ERR_INVALID_ARG_TYPE", "options.blockList", "an instance of net.BlockList", block_list)
    return ServerOptions(
        allow_half_open=bool(opts.get("allow_half_open")),
        pause_on_connect=bool(opts.get("pause_on_connect")),
        no_delay=bool(opts.get("no_delay")),
        keep_alive=bool(opts.get("keep_alive")),
        keep_alive_initial_delay=_keep_alive_delay(
            opts.get("keep_alive_initial_delay"), "options.keepAliveInitialDelay"
        ),
        high_water_mark=_high_water_mark(hwm),
        block_list=block_list,
        **_proxy_server_options(opts),
    )


# ----------------------------------------------------------------------
# listen(...)


def parse_listen_args(args: tuple[Any, ...], kwargs: Mapping[str, Any]) -> tuple[ListenOptions, Callback | None]:
    """``listen(...)``'s forms -> (options, listening listener).

    Forms: ``(port=0, host=None, backlog=511, cb)``, ``(port, backlog, cb)``,
    ``(path, backlog, cb)``, ``(handle, backlog, cb)``, ``(options, cb)``.
    Raises Node's errors for bad ports and for options with neither port nor
    path (NODE-NET A4-A8); a host that is not a string raises too (Node
    would ignore it and listen on every interface), and so does
    ``listen('127.0.0.1', 8000)`` (Python's order: Node would make a UNIX
    socket named ``127.0.0.1``).
    """
    kwargs = dict(kwargs)
    callback = kwargs.pop("callback", None)
    args, callback = split_callback(args, callback)
    backlog: Any = kwargs.pop("backlog", None)
    first = args[0] if args else None
    if isinstance(first, dict):
        options = normalize_options(first)
        if "handle" in options or "_handle" in options:
            options["handle"] = options.pop("_handle", None) or options.get("handle")
    elif first is not None and hasattr(first, "fileno"):
        options = {"handle": first}
        backlog = _positional_backlog(args[1:], backlog)
    elif is_pipe_name(first):
        reject_swapped_host_port("listen", str(first), args[1:])
        options = {"path": first}
        backlog = _positional_backlog(args[1:], backlog)
    else:
        options = {"port": first}
        rest = args[1:]
        if rest and (rest[0] is None or isinstance(rest[0], str)):
            options["host"] = rest[0]
            rest = rest[1:]
        elif rest and not is_number(rest[0]):
            raise make_error("ERR_INVALID_ARG_TYPE", "host", "of type string", rest[0])
        backlog = _positional_backlog(rest, backlog)
    options.update(check_keywords("listen", kwargs, _LISTEN_KEYS))
    if options.get("backlog") is None:
        options["backlog"] = backlog
    if callback is not None:
        validate_callback(callback)
    flags: dict[str, Any] = {
        "backlog": node_backlog(options["backlog"], DEFAULT_BACKLOG),
        "exclusive": bool(options.get("exclusive")),
        "ipv6_only": bool(options.get("ipv6_only")),
        "reuse_port": bool(options.get("reuse_port")),
        "readable_all": bool(options.get("readable_all")),
        "writable_all": bool(options.get("writable_all")),
    }
    if options.get("handle") is not None or options.get("fd") is not None:
        fd = options.get("fd")
        # Node: a number >= 0 is tried (an unusable one is an async EINVAL);
        # anything else is refused at once.
        if fd is not None and not (is_number(fd) and fd >= 0):
            raise make_error("ERR_INVALID_ARG_VALUE", "options", options, 'must have the property "port" or "path"')
        return ListenOptions("handle", handle=options.get("handle"), fd=fd, **flags), callback
    if "port" in options:
        port = options["port"]
        if port is None:
            port = 0
        elif isinstance(port, bool) or not isinstance(port, (int, float, str)):
            raise make_error("ERR_INVALID_ARG_VALUE", "options", options)
        else:
            port = validate_port(port, "options.port")
        host = options.get("host")
        if host is not None and not isinstance(host, str):
            raise make_error("ERR_INVALID_ARG_TYPE", "options.host", "of type string", host)
        return ListenOptions("tcp", port=port, host=host or None, **flags), callback  # port beats path (A5)
    path = options.get("path")
    if isinstance(path, str) and path:
        return ListenOptions("unix", path=path, **flags), callback
    received = first if first is not None else options
    if "path" in options:  # Node: a bad value is "invalid", a missing key is named
        raise make_error("ERR_INVALID_ARG_VALUE", "options", received)
    raise make_error("ERR_INVALID_ARG_VALUE", "options", received, 'must have the property "port" or "path"')


def _positional_backlog(rest: tuple[Any, ...], keyword: Any) -> Any:
    """The backlog among the arguments after the port, host, path or handle."""
    return rest[0] if rest and keyword is None else keyword


# ----------------------------------------------------------------------
# the PROXY protocol's options (gnet.proxy_io): createServer's proxy_*, connect's proxy_header

_PROXY_MODES = ("v1", "v2", "auto")


def _proxy_server_options(opts: Mapping[str, Any]) -> dict[str, Any]:
    """``proxy_protocol``, ``proxy_trusted``, ``proxy_timeout`` (ms), ``proxy_max_header``."""
    mode = opts.get("proxy_protocol")
    if mode is not None and mode not in _PROXY_MODES:
        reason = "must be 'v1', 'v2' or 'auto'"
        raise make_error("ERR_INVALID_ARG_VALUE", "options.proxyProtocol", mode, reason)
    trusted = opts.get("proxy_trusted")
    if trusted is not None:
        if mode is None:
            # A trust list without the protocol is a server the user believes
            # reads headers: say so now rather than serve the proxy's address.
            reason = "needs options.proxyProtocol"
            raise make_error("ERR_INVALID_ARG_VALUE", "options.proxyTrusted", trusted, reason)
        trusted = _trusted_peers(trusted)
    timeout = opts.get("proxy_timeout")
    if timeout is None:
        timeout = DEFAULT_PROXY_TIMEOUT
    else:
        timeout = validate_msecs(timeout, "options.proxyTimeout")
        if timeout <= 0:
            raise make_error("ERR_OUT_OF_RANGE", "options.proxyTimeout", "> 0", timeout)
    limit = opts.get("proxy_max_header")
    if limit is None:
        limit = DEFAULT_MAX_V2_LENGTH
    elif isinstance(limit, bool) or not isinstance(limit, int):
        raise make_error("ERR_INVALID_ARG_TYPE", "options.proxyMaxHeader", "of type number", limit)
    elif not V2_FIXED <= limit <= V2_FIXED + V2_MAX_PAYLOAD:
        expected = f">= {V2_FIXED} and <= {V2_FIXED + V2_MAX_PAYLOAD}"
        raise make_error("ERR_OUT_OF_RANGE", "options.proxyMaxHeader", expected, limit)
    return {
        "proxy_protocol": mode,
        "proxy_trusted": trusted,
        "proxy_timeout": timeout,
        "proxy_max_header": limit,
    }


def _trusted_peers(value: Any) -> BlockList:
    """A BlockList as given, or one made from an address, a CIDR, or a list of them."""
    if BlockList.is_block_list(value):
        return value  # type: ignore[no-any-return]
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, (list, tuple, set, frozenset)) or not all(isinstance(i, str) for i in items):
        expected = "a net.BlockList, or an address or CIDR string or a list of them"
        raise make_error("ERR_INVALID_ARG_TYPE", "options.proxyTrusted", expected, value)
    peers = BlockList()
    for item in items:
        if "/" in item:
            peers.add_cidr(item)
        else:
            peers.add_address(item, "ipv6" if ":" in item else "ipv4")
    return peers


def _proxy_header(value: Any) -> bytes | None:
    """connect's ``proxy_header``: a header's bytes (checked), or a dict for build_v1/build_v2.

    The dict: ``version`` (1 or 2, or ``'v1'``/``'v2'``), ``source`` and
    ``destination`` (``(address, port)``, a path for v2, or None), and for v2
    ``command``, ``tlvs`` and ``crc`` as :func:`gnet.proxy_protocol.build_v2` takes them.
    """
    if value is None:
        return None
    from .proxy_protocol import NeedMore, ProxyProtocolError, build_v1, build_v2, parse

    if isinstance(value, Mapping):
        spec = dict(value)
        version = spec.pop("version", 2)
        endpoints = spec.pop("source", None), spec.pop("destination", None)
        if version in (1, "v1") and not spec:
            return build_v1(*endpoints)
        if version in (2, "v2"):
            try:
                return build_v2(*endpoints, **spec)
            except TypeError:  # a key build_v2 does not take
                pass
        raise make_error("ERR_INVALID_ARG_VALUE", "options.proxyHeader", value)
    if not isinstance(value, (bytes, bytearray, memoryview)):
        raise make_error("ERR_INVALID_ARG_TYPE", "options.proxyHeader", "of type bytes or object", value)
    header = bytes(value)
    try:
        parsed = parse(header)
    except ProxyProtocolError as exc:
        reason = f"is not a PROXY header ({exc.reason})"
        raise make_error("ERR_INVALID_ARG_VALUE", "options.proxyHeader", header, reason) from exc
    if isinstance(parsed, NeedMore) or parsed.length != len(header):
        raise make_error("ERR_INVALID_ARG_VALUE", "options.proxyHeader", header, "must be exactly one header")
    return header
