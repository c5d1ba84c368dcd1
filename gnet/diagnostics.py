"""Lifecycle events, published through ``zope.event``.

gnet's counterpart of Node's ``diagnostics_channel`` for net: each event is
a small class holding the objects involved, published to the subscribers
in ``zope.event.subscribers`` (subscribe by appending a callable there).
With no subscriber, publishing costs one truth test of that list.  A
subscriber that raises is logged on the ``"gnet"`` logger and skipped: it
never breaks the I/O path or the other subscribers (``zope.event.notify``
alone would stop at the first failure, so gnet walks the list itself).

Example: count connections::

    import zope.event
    from gnet import diagnostics

    def count(event):
        if isinstance(event, diagnostics.ConnectionAccepted):
            stats['accepted'] += 1

    zope.event.subscribers.append(count)
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import zope.event

from .actor import logger

if TYPE_CHECKING:
    from .server import Server
    from .socket import Socket

__all__ = [
    "publish",
    "publish_new",
    "subscribed",
    "ServerListening",
    "ServerClosed",
    "ConnectionAccepted",
    "ConnectionClosed",
    "ClientConnectStarted",
    "ClientConnected",
    "ClientConnectFailed",
    "ListenerException",
]


def publish(event: object) -> None:
    """Hand ``event`` to every ``zope.event`` subscriber; a failing one is logged and skipped."""
    subscribers = zope.event.subscribers
    if not subscribers:
        return
    for subscriber in list(subscribers):
        try:
            subscriber(event)
        except Exception:
            logger.exception("diagnostics subscriber %r failed on %r", subscriber, event)


def subscribed() -> bool:
    """Whether anyone subscribes: lets a publisher skip building an event's fields."""
    return bool(zope.event.subscribers)


def publish_new(event_type: Callable[..., object], *fields: Any) -> None:
    """``publish(event_type(*fields))``, the event built only when someone
    subscribes: gnet publishes two events per connection, and with no
    subscriber they must cost nothing but the check."""
    if zope.event.subscribers:
        publish(event_type(*fields))


@dataclass(frozen=True)
class ServerListening:
    """A server is listening (Node: ``net.server.listen`` ``asyncEnd``)."""

    server: Server
    address: Any


@dataclass(frozen=True)
class ServerClosed:
    """A server emitted ``'close'``."""

    server: Server


@dataclass(frozen=True)
class ConnectionAccepted:
    """A server accepted a connection (Node: ``net.server.socket``)."""

    server: Server
    socket: Socket


@dataclass(frozen=True)
class ConnectionClosed:
    """A socket closed: its byte counts and the error it ended with, if any."""

    socket: Socket
    bytes_read: int
    bytes_written: int
    error: BaseException | None


@dataclass(frozen=True)
class ClientConnectStarted:
    """A client socket started connecting (Node: ``net.client.socket``)."""

    socket: Socket
    options: dict[str, Any]


@dataclass(frozen=True)
class ClientConnected:
    """A client socket connected (emitted just before ``'connect'``)."""

    socket: Socket


@dataclass(frozen=True)
class ClientConnectFailed:
    """A client connect failed with ``error``."""

    socket: Socket
    error: BaseException


@dataclass(frozen=True)
class ListenerException:
    """An exception escaped a listener or handler of ``emitter``; it was logged."""

    emitter: Any
    error: BaseException
