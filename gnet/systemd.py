"""systemd integration: socket activation, readiness notification and the watchdog.

The three parts of systemd's service protocol a gnet server needs, written
against the protocol itself (no libsystemd, no python-systemd):

* :func:`listen_fds` takes the listening sockets systemd (or
  ``systemd-socket-activate``) passed in (``LISTEN_FDS``, ``LISTEN_PID``,
  ``LISTEN_FDNAMES``; descriptors from 3).  Each comes back as a
  :class:`ListenFd` that ``server.listen()`` accepts directly, or through
  ``server.listen({'fd': record.fd})``.
* :func:`notify` sends ``sd_notify`` messages (``READY=1``, ``STATUS=...``,
  ``STOPPING=1``, ``RELOADING=1``, ``EXTEND_TIMEOUT_USEC=...``,
  ``WATCHDOG=1``) to ``NOTIFY_SOCKET``.  It returns ``False`` when not run
  by systemd, and never raises because the socket is missing.
* :class:`Watchdog` pings ``WATCHDOG=1`` at half of ``WATCHDOG_USEC`` from a
  hub timer, between an explicit :meth:`~Watchdog.start` and
  :meth:`~Watchdog.stop`.

``python -m gnet echo`` and ``gnet proxy`` use all three by themselves.  Node
has no equivalent (its users reach for npm packages); this follows
``sd_listen_fds(3)``, ``sd_notify(3)`` and ``sd_watchdog_enabled(3)``.
"""

from __future__ import annotations

import os
import re
import socket
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import gevent

from ._aliases import add_module_aliases, with_camel_aliases
from .errors import make_error

__all__ = [
    "LISTEN_FDS_START",
    "ListenFd",
    "Service",
    "Watchdog",
    "listen_fds",
    "notify",
    "select_listeners",
    "watchdog_interval",
]

#: SD_LISTEN_FDS_START: the first passed descriptor.
LISTEN_FDS_START = 3
_LISTEN_VARIABLES = ("LISTEN_PID", "LISTEN_FDS", "LISTEN_FDNAMES")
_UNNAMED = "unknown"  # sd_listen_fds_with_names' name for an fd without one
_FIELD_NAME = re.compile(r"[A-Z][A-Z0-9_]*\Z")


@with_camel_aliases
@dataclass(frozen=True)
class ListenFd:
    """One descriptor passed by systemd.

    ``family`` and ``type`` are ``None`` when it is not a socket (a FIFO of
    ``ListenFIFO=``, say); ``listening`` tells a listening stream socket
    from a connected one (``Accept=yes`` units pass those; gnet serves
    listening sockets only).  ``address`` is its ``getsockname()``.
    ``fileno()`` makes the record itself a handle for ``server.listen()``;
    the server listens on a duplicate, so the descriptor stays open.
    """

    fd: int
    name: str
    family: socket.AddressFamily | None
    type: socket.SocketKind | None
    listening: bool
    address: Any

    def fileno(self) -> int:
        return self.fd

    @property
    def is_stream_listener(self) -> bool:
        """A listening ``SOCK_STREAM`` socket: what ``server.listen()`` can serve."""
        return self.listening and self.type == socket.SOCK_STREAM

    def dup_socket(self) -> socket.socket:
        """A Python socket on a duplicate of the descriptor (the caller closes it)."""
        return socket.socket(fileno=os.dup(self.fd))


def listen_fds(unset_environment: bool = True) -> list[ListenFd]:
    """The descriptors systemd passed to this process, in order; ``[]`` if none.

    ``sd_listen_fds_with_names(3)``: only when ``LISTEN_PID`` is this
    process's id (so a child that inherited the variables takes nothing).
    Each descriptor is made close-on-exec.  With ``unset_environment`` (the
    default) the three ``LISTEN_*`` variables are removed, whatever the
    outcome, so that no child process believes they are meant for it.
    Malformed variables raise ``ERR_OUT_OF_RANGE`` (a ``ValueError``).
    """
    environ = os.environ
    pid, count, names = (environ.get(name) for name in _LISTEN_VARIABLES)
    try:
        if pid is None or count is None:
            return []
        if _positive(pid, "LISTEN_PID") != os.getpid():
            return []
        records = []
        labels = names.split(":") if names else []
        for index in range(_positive(count, "LISTEN_FDS", allow_zero=True)):
            fd = LISTEN_FDS_START + index
            name = labels[index] if index < len(labels) and labels[index] else _UNNAMED
            records.append(_describe(fd, name, count))
        return records
    finally:
        if unset_environment:
            for name in _LISTEN_VARIABLES:
                environ.pop(name, None)


def _positive(text: str, name: str, allow_zero: bool = False) -> int:
    value = int(text) if text.isdigit() and text.isascii() else -1
    if value < (0 if allow_zero else 1):
        expected = "a non-negative integer" if allow_zero else "a positive integer"
        raise make_error("ERR_OUT_OF_RANGE", f"env.{name}", expected, text)
    return value


def _describe(fd: int, name: str, count: str) -> ListenFd:
    try:
        os.set_inheritable(fd, False)
    except OSError:
        expected = f"a count of open descriptors from {LISTEN_FDS_START} ({fd} is not open)"
        raise make_error("ERR_OUT_OF_RANGE", "env.LISTEN_FDS", expected, count) from None
    try:
        probe = socket.socket(fileno=fd)
    except OSError:  # ENOTSOCK: a FIFO or a file
        return ListenFd(fd, name, None, None, False, None)
    try:
        listening = bool(probe.getsockopt(socket.SOL_SOCKET, socket.SO_ACCEPTCONN))
        try:
            address = probe.getsockname()
        except OSError:
            address = None
        if isinstance(address, bytes):  # an abstract UNIX name
            address = address.decode("utf-8", "surrogateescape")
        return ListenFd(fd, name, probe.family, probe.type, listening, address)
    finally:
        probe.detach()  # the descriptor stays open, owned by the process


def select_listeners(records: list[ListenFd], name: str | None = None) -> list[ListenFd]:
    """The passed sockets a server called ``name`` serves: those named ``name``
    if any is, else all of them.

    Each chosen one must be a listening stream socket; anything else (a
    datagram socket, a FIFO, the connected socket of an ``Accept=yes``
    unit) raises ``ERR_INVALID_FD_TYPE``.
    """
    chosen = [r for r in records if r.name == name] or records
    for record in chosen:
        if not record.is_stream_listener:
            kind = record.type.name if record.type is not None else "not a socket"
            state = "listening" if record.listening else "not listening"
            raise make_error(
                "ERR_INVALID_FD_TYPE", f"fd {record.fd} ({record.name}): {kind}, {state}"
            )
    return chosen


# ---------------------------------------------------------------------------
# sd_notify


def notify(*fields: str, **values: object) -> bool:
    """Send one ``sd_notify`` message; ``True`` if it was sent.

    Fields are given as ``'KEY=value'`` strings, as keywords, or both:
    ``notify(ready=True, status='listening on :8124')`` sends
    ``READY=1\\nSTATUS=listening on :8124``.  A keyword is upper-cased;
    ``True`` is ``1`` and ``False``/``None`` leave the field out.
    ``reloading=True`` adds the ``MONOTONIC_USEC`` systemd wants with it.

    ``False`` without ``NOTIFY_SOCKET`` (not started by systemd, or
    ``Type=simple``), and when the send fails (the socket is gone, its queue
    is full): notifications are advice, and the service goes on.  A value
    with a newline, which would smuggle in another field, raises
    ``ERR_INVALID_ARG_VALUE``.
    """
    message = _message(fields, values)
    target = os.environ.get("NOTIFY_SOCKET", "")
    if target.startswith("@"):
        target = "\0" + target[1:]  # an abstract socket, as systemd spells it
    elif not target.startswith("/"):
        return False  # unset, or a kind this does not speak (vsock:)
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC) as sock:
            # Never blocks (a hub callback sends the watchdog's pings).
            sock.sendto(message, socket.MSG_DONTWAIT | socket.MSG_NOSIGNAL, target)
    except OSError:
        return False
    return True


def _message(fields: tuple[str, ...], values: Mapping[str, object]) -> bytes:
    lines = []
    for item in fields:
        if not isinstance(item, str) or "=" not in item:
            raise make_error("ERR_INVALID_ARG_VALUE", "field", item, "must be a 'KEY=value' string")
        lines.append(item)
    for key, value in values.items():
        if value is None or value is False:
            continue
        name = key.upper()
        if not _FIELD_NAME.match(name):
            raise make_error(
                "ERR_INVALID_ARG_VALUE", key, value, "is not a notification field name"
            )
        lines.append(f"{name}={1 if value is True else value}")
        if name == "RELOADING":
            lines.append(f"MONOTONIC_USEC={time.clock_gettime_ns(time.CLOCK_MONOTONIC) // 1000}")
    for line in lines:
        if "\n" in line:
            raise make_error("ERR_INVALID_ARG_VALUE", "field", line, "must not contain a newline")
    return "\n".join(lines).encode()


# ---------------------------------------------------------------------------
# the watchdog


def watchdog_interval() -> float | None:
    """Seconds within which systemd expects ``WATCHDOG=1``, or ``None``.

    ``sd_watchdog_enabled(3)``: from ``WATCHDOG_USEC``, and only when
    ``WATCHDOG_PID`` is unset or this process's id.
    """
    usec, pid = os.environ.get("WATCHDOG_USEC"), os.environ.get("WATCHDOG_PID")
    if not usec:
        return None
    if pid and _positive(pid, "WATCHDOG_PID") != os.getpid():
        return None
    return _positive(usec, "WATCHDOG_USEC") / 1e6


@with_camel_aliases
class Watchdog:
    """Keeps systemd's watchdog fed: ``WATCHDOG=1`` every ``interval / 2`` seconds.

    ``interval`` defaults to :func:`watchdog_interval`; without one the
    watchdog stays off (``start()`` returns ``False``).  The pings come from
    a timer in the gevent hub, so they stop (and systemd restarts the
    service) when something blocks the hub, which is what a watchdog is
    for; a handler blocking its own greenlet does not stop them.  The timer
    does not keep ``gnet.run()`` or ``gevent.wait()`` waiting.
    """

    __slots__ = ("interval", "_timer")

    def __init__(self, interval: float | None = None) -> None:
        self.interval = watchdog_interval() if interval is None else interval
        self._timer: Any = None

    @property
    def running(self) -> bool:
        return self._timer is not None

    def start(self) -> bool:
        """Ping now and then every half interval; ``False`` when no watchdog is asked for."""
        if self.interval is None or self.interval <= 0:
            return False
        if self._timer is None:
            half = self.interval / 2
            self._timer = gevent.get_hub().loop.timer(half, half, ref=False)
            self._timer.start(self._ping)
            self._ping()
        return True

    def stop(self) -> None:
        if self._timer is not None:
            self._timer.close()
            self._timer = None

    def _ping(self) -> None:
        notify("WATCHDOG=1")

    def __enter__(self) -> Watchdog:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


@with_camel_aliases
class Service:
    """What a long-running server tells systemd, in order; each step is a no-op outside it.

    :meth:`ready` once listening (``READY=1`` and a ``STATUS=``, then the
    :class:`Watchdog` starts if the unit asks for one), :meth:`stopping`
    when a graceful stop begins (``STOPPING=1``, and ``EXTEND_TIMEOUT_USEC``
    so that systemd waits for the drain instead of killing it at
    ``TimeoutStopSec=``), :meth:`close` at exit (stops the watchdog).  Also
    a context manager that closes.  ``python -m gnet`` uses it.
    """

    __slots__ = ("watchdog",)

    def __init__(self) -> None:
        self.watchdog = Watchdog()

    def ready(self, status: str | None = None) -> bool:
        sent = notify(ready=True, status=status)
        self.watchdog.start()
        return sent

    def status(self, status: str) -> bool:
        return notify(status=status)

    def stopping(self, drain_timeout: float | None = None, status: str | None = None) -> bool:
        """A stop has begun; ``drain_timeout`` seconds (plus one of slack) it may take."""
        extend = None if drain_timeout is None else int((drain_timeout + 1) * 1e6)
        return notify(stopping=True, status=status, extend_timeout_usec=extend)

    def close(self) -> None:
        self.watchdog.stop()

    def __enter__(self) -> Service:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


__all__ += add_module_aliases(globals(), __all__)
