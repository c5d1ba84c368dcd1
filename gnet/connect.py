"""Connecting: name lookup, Happy Eyeballs, timed attempts, ``AggregateError``.

:func:`connect` turns checked :class:`~gnet.options.ConnectOptions` into a
connected :class:`~gnet.transport.SocketTransport`, or raises the error Node would
emit.  It runs in the connecting socket's own greenlet and knows the socket
only through :class:`ConnectHost`: the events it reports (``'lookup'``,
``'connectionAttempt'``, ``'connectionAttemptFailed'``,
``'connectionAttemptTimeout'``) and the one way to wait, which raises
:class:`Cancelled` once the socket no longer wants the connection (it was
destroyed: Node stops quietly, NODE-NET C16).

Happy Eyeballs as in Node >= 20 (``auto_select_family``, default on): every
address the lookup returns is tried, families interleaved starting with the
first result's, each attempt but the last given
``auto_select_family_attempt_timeout`` ms.
"""

from __future__ import annotations

import encodings.idna
import errno
import re
import socket as _pysocket
from collections.abc import Callable
from typing import Any, Protocol

import gevent.event
import gevent.socket

from .errors import aggregate_error, from_oserror, make_error, system_error
from .ip import is_ip
from .listen import unix_path_error
from .options import ConnectOptions
from .transport import SocketTransport

__all__ = ["connect", "ConnectHost", "Cancelled", "interleave", "resolve", "ascii_hostname"]

_IN_PROGRESS = (errno.EINPROGRESS, errno.EAGAIN, errno.EALREADY)


class Cancelled(Exception):
    """The socket stopped wanting this connection (destroyed): stop quietly."""


class _AttemptTimeout(Exception):
    """One Happy Eyeballs attempt ran out of time."""


class ConnectHost(Protocol):
    """What :func:`connect` needs from the socket it connects."""

    def emit(self, event: str, *args: Any) -> bool: ...

    def _connect_wait(self, watcher: Any, deadline: float | None) -> None:
        """Wait for ``watcher`` (or any state change); raise :class:`Cancelled`
        if the connect was abandoned, ``TimeoutError`` at ``deadline``."""

    def _connect_check(self) -> None:
        """Raise :class:`Cancelled` if the connect was abandoned."""

    def _wake(self) -> None: ...


def connect(host: ConnectHost, options: ConnectOptions, attempted: list[str]) -> SocketTransport:
    """Connect as ``options`` say; return the connected transport or raise the error.

    ``attempted`` collects ``ip:port`` of each Happy Eyeballs attempt (Node's
    ``autoSelectFamilyAttemptedAddresses``).
    """
    if options.path is not None:
        return _connect_unix(host, options.path)
    return _connect_tcp(host, options, attempted)


def _connect_unix(host: ConnectHost, path: str) -> SocketTransport:
    too_long = unix_path_error(path, "connect")
    if too_long is not None:
        raise too_long
    sock = SocketTransport(_pysocket.AF_UNIX, _pysocket.SOCK_STREAM)
    try:
        _attempt(host, sock, path, None)
    except OSError as exc:
        sock.close()
        err = from_oserror(exc, "connect", path)
        host.emit("connectionAttemptFailed", path, None, None, err)
        raise err from None
    except BaseException:
        sock.close()
        raise
    return sock


def _connect_tcp(host: ConnectHost, options: ConnectOptions, attempted: list[str]) -> SocketTransport:
    name = options.host
    port = options.port
    assert port is not None
    ip_family = is_ip(name)
    if ip_family:
        addresses = [(name, ip_family)]
    else:
        addresses = _lookup(host, name, options)
        if not addresses:  # only a custom lookup can answer nothing (Node crashes)
            raise system_error(_pysocket.EAI_NONAME, "getaddrinfo", hostname=name)
    local_address, local_port = options.local_address, options.local_port
    if local_port is not None and not (0 <= local_port <= 0xFFFF and local_port == int(local_port)):
        # Node v20 takes any number and fails the bind: 'bind EADDRINUSE
        # 0.0.0.0:70000' (70000, 65536, 1.5, 1e300; a negative one wraps).
        bound = local_address or ("::" if addresses[0][1] == 6 else "0.0.0.0")
        shown = f"{local_port:g}" if isinstance(local_port, float) else str(local_port)
        failed = system_error(errno.EADDRINUSE, "bind", bound, message=f"bind EADDRINUSE {bound}:{shown}")
        failed.port = local_port  # type: ignore[assignment]
        raise failed
    if options.auto_select_family and options.family == 0 and not local_address and len(addresses) > 1:
        addresses = interleave(addresses)
        record = True
    else:
        addresses = addresses[:1]
        record = False
    attempt_seconds = options.auto_select_family_attempt_timeout / 1000.0
    errors: list[BaseException] = []
    for i, (ip, fam) in enumerate(addresses):
        last = i == len(addresses) - 1
        af = _pysocket.AF_INET6 if fam == 6 else _pysocket.AF_INET
        sock = SocketTransport(af, _pysocket.SOCK_STREAM)
        local = None
        try:
            if local_address or local_port:
                sock.setsockopt(_pysocket.SOL_SOCKET, _pysocket.SO_REUSEADDR, 1)
                sock.bind((local_address or ("::" if fam == 6 else "0.0.0.0"), int(local_port or 0)))
                if local_address and local_port:
                    local = (local_address, int(local_port))
            if record:
                attempted.append(f"{ip}:{port}")
            host.emit("connectionAttempt", ip, port, fam)
            _attempt(host, sock, (ip, port), None if last else attempt_seconds)
            return sock
        except _AttemptTimeout:
            sock.close()
            errors.append(system_error(errno.ETIMEDOUT, "connect", ip, port))
            host.emit("connectionAttemptTimeout", ip, port, fam)
        except OSError as exc:
            sock.close()
            syscall = "bind" if exc.errno == errno.EADDRINUSE and local else "connect"
            err = from_oserror(exc, syscall, ip, port, local=local)
            errors.append(err)
            host._connect_check()
            host.emit("connectionAttemptFailed", ip, port, fam, err)
        except BaseException:  # cancelled, or a listener raised: this attempt is over
            sock.close()
            raise
    if len(errors) == 1:
        raise errors[0]
    raise aggregate_error(errors)


def _lookup(host: ConnectHost, name: str, options: ConnectOptions) -> list[tuple[str, int]]:
    """Resolve ``name``, emitting ``'lookup'`` per address (or once with the error)."""
    try:
        if options.lookup is not None:
            result = _call_custom_lookup(host, options.lookup, name, options.family)
        else:
            result = resolve(name, options.family, options.hints)
    except Cancelled:
        raise
    except BaseException as exc:  # noqa: B036 - the lookup's failure is the connect's
        err = from_oserror(exc, "getaddrinfo", name)
        host._connect_check()
        host.emit("lookup", err, None, None, name)
        raise err from None
    host._connect_check()
    for ip, fam in result:
        if not isinstance(ip, str) or not is_ip(ip):
            raise make_error("ERR_INVALID_IP_ADDRESS", ip)
        if fam not in (4, 6):
            raise make_error("ERR_INVALID_ADDRESS_FAMILY", fam, name, options.port)
        host.emit("lookup", None, ip, fam, name)
    return result


def resolve(name: str, family: int = 0, hints: int = 0) -> list[tuple[str, int]]:
    """``dns.lookup(name, {all: true, family, hints})``: ``[(ip, 4 or 6), ...]``
    in the resolver's order, or the Node-shaped error (``getaddrinfo
    ENOTFOUND name``, ``getaddrinfo EINVAL name``, ...)."""
    af = {4: _pysocket.AF_INET, 6: _pysocket.AF_INET6}.get(family, _pysocket.AF_UNSPEC)
    try:
        infos = gevent.socket.getaddrinfo(ascii_hostname(name), None, af, _pysocket.SOCK_STREAM, 0, hints)
    except OSError as exc:
        raise from_oserror(exc, "getaddrinfo", name) from None
    result: list[tuple[str, int]] = []
    for fam, _type, _proto, _name, sockaddr in infos:
        entry = (sockaddr[0], 6 if fam == _pysocket.AF_INET6 else 4)
        if entry not in result:
            result.append(entry)
    return result


# Label separators, as libuv's IDNA conversion takes them.
_DOTS = re.compile("[.\u3002\uff0e\uff61]")
_MAX_NAME = 255  # bytes: libuv's buffer for the ASCII name, its NUL aside


def ascii_hostname(name: str) -> bytes:
    """The ASCII name getaddrinfo gets, as Node makes it: non-ASCII labels in
    IDNA's Punycode (``☕.example`` -> ``xn--53h.example``), ASCII left to the
    resolver (a 64-character label is its ENOTFOUND, as in Node).

    A name with no ASCII form (a character IDNA refuses, an ``xn--`` label
    that is no Punycode, over 255 bytes) raises Node's ``getaddrinfo
    EINVAL`` error, which the connect or listen reports as its ``'error'``.
    Python's own conversion would raise ``UnicodeError`` inside the resolver
    instead (and refuse long ASCII labels that libc looks up).
    """
    try:
        if name.isascii():
            for label in name.lower().split("."):
                if label.startswith("xn--"):
                    _check_punycode(label[4:].encode("ascii"))
            out = name.encode("ascii")
        else:
            out = b".".join(_idna_label(label) for label in _DOTS.split(name))
    except (UnicodeError, ValueError):
        out = b""
    if not out or len(out) > _MAX_NAME:
        raise system_error("EINVAL", "getaddrinfo", hostname=name)
    return out


def _check_punycode(encoded: bytes) -> None:
    """An ``xn--`` label must be the Punycode of a non-ASCII label (Node's URL
    parser checks it); anything else has no ASCII form."""
    decoded = encoded.decode("punycode")
    if not decoded or decoded.isascii() or encodings.idna.ToASCII(decoded) != b"xn--" + encoded:
        raise UnicodeError("not the Punycode of a valid label")


def _idna_label(label: str) -> bytes:
    if label.isascii():
        return label.encode("ascii")
    prepared = encodings.idna.nameprep(label)
    if not prepared:  # mapped to nothing (a lone joiner): Node refuses it too
        raise UnicodeError("empty label")
    if prepared.isascii():
        return prepared.encode("ascii")
    return b"xn--" + prepared.encode("punycode")


def _call_custom_lookup(
    host: ConnectHost, lookup: Callable[..., Any], name: str, family: int
) -> list[tuple[str, int]]:
    """Call a Node-style ``lookup(host, options, callback)`` and wait for its answer."""
    result: gevent.event.AsyncResult = gevent.event.AsyncResult()

    def callback(err: Any, address: Any = None, fam: Any = None) -> None:
        if err:
            result.set_exception(err if isinstance(err, BaseException) else OSError(str(err)))
        elif isinstance(address, list):
            result.set([(a["address"], a["family"]) if isinstance(a, dict) else tuple(a) for a in address])
        else:
            result.set([(address, fam)])
        host._wake()

    lookup(name, {"family": family, "all": True}, callback)
    while not result.ready():
        host._connect_wait(None, None)  # a destroy() meanwhile raises Cancelled
    value: list[tuple[str, int]] = result.get()
    return value


def _attempt(host: ConnectHost, sock: Any, address: Any, timeout: float | None) -> None:
    """Connect ``sock`` without blocking the hub; raise on failure."""
    sock.setblocking(False)
    err = sock.connect_ex(address)
    if err in _IN_PROGRESS:
        loop = gevent.get_hub().loop
        watcher = loop.io(sock.fileno(), 2)
        deadline = None if timeout is None else loop.now() + timeout
        try:
            while True:
                try:
                    host._connect_wait(watcher, deadline)
                except TimeoutError:
                    raise _AttemptTimeout from None
                err = sock.getsockopt(_pysocket.SOL_SOCKET, _pysocket.SO_ERROR)
                if err != 0 or _connected(sock):
                    break
        finally:
            watcher.close()
    if err:
        raise OSError(err, "")


def _connected(sock: Any) -> bool:
    try:
        sock.getpeername()
        return True
    except OSError:
        return False


def interleave(addresses: list[tuple[str, int]]) -> list[tuple[str, int]]:
    """Node's Happy Eyeballs order: families alternate, starting with the first result's."""
    first = addresses[0][1]
    same = [a for a in addresses if a[1] == first]
    other = [a for a in addresses if a[1] != first]
    out: list[tuple[str, int]] = []
    for i in range(max(len(same), len(other))):
        if i < len(same):
            out.append(same[i])
        if i < len(other):
            out.append(other[i])
    return out
