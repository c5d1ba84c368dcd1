"""What every metrics exporter keeps: the servers it has seen and their live connections.

An exporter is a ``zope.event`` subscriber of :mod:`gnet.diagnostics`.
Counters move with the events; live values (open connections, bytes
queued, paused sockets) are read at collection time through gnet's public
API (``server.connections``, ``sock.writable_length``, ``sock.is_paused()``)
for the servers and connections the events introduced.  So an exporter
sees the servers that start listening after it is installed; a server
already listening is picked up at its first event, without its queued
count (see :attr:`TrackedServer.complete`).

Bytes are counted as they move, not only when a connection closes: at each
collection the bytes of live connections since the last collection are
added (:meth:`Tracker.flush_bytes`), and the rest when they close.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Generic, TypeVar

import zope.event

from .. import diagnostics

if TYPE_CHECKING:
    from ..server import Server
    from ..socket import Socket

__all__ = ["Endpoint", "TrackedServer", "Tracker", "endpoint_of", "client_endpoint"]


@dataclass(frozen=True, slots=True)
class Endpoint:
    """Where a server listens, or a client connects, as metrics name it.

    ``name`` is ``host:port`` (``[v6]:port``) or the socket path (``@name``
    for a Linux abstract socket); ``transport`` is ``'tcp'`` or ``'unix'``;
    ``network_type`` ``'ipv4'``/``'ipv6'`` (None for UNIX).
    """

    name: str
    transport: str
    network_type: str | None
    host: str | None
    port: int | None
    tls: bool


def _host_port(host: str, port: object) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def _is_tls(obj: object) -> bool:
    # gnet.tls servers and sockets say so, as Node's TLSSocket does (encrypted).
    return getattr(obj, "encrypted", False) is True


def endpoint_of(server: Server, address: Any = None) -> Endpoint:
    """The endpoint of ``server``; ``address`` is its ``address()`` when known already."""
    if address is None:
        address = server.address()
    tls = _is_tls(server)
    if isinstance(address, str):
        name = "@" + address[1:] if address.startswith("\0") else address
        return Endpoint(name, "unix", None, name, None, tls)
    if isinstance(address, dict):
        host = str(address.get("address"))
        port = address.get("port")
        network_type = "ipv6" if address.get("family") == "IPv6" else "ipv4"
        return Endpoint(_host_port(host, port), "tcp", network_type, host, port, tls)
    return Endpoint("unknown", "tcp", None, None, None, tls)


def client_endpoint(options: dict[str, Any], tls: bool = False) -> Endpoint:
    """The endpoint a client connects to, from its (normalised) connect options."""
    path = options.get("path")
    if path is not None:
        name = "@" + path[1:] if path.startswith("\0") else str(path)
        return Endpoint(name, "unix", None, name, None, tls)
    host = str(options.get("host") or "localhost")
    port = options.get("port")
    port = int(port) if isinstance(port, (int, str)) and str(port).isdigit() else None
    return Endpoint(_host_port(host, port), "tcp", None, host, port, tls)


class TrackedServer:
    """One server an exporter has seen, and its connections that reached ``'connection'``.

    ``sockets`` maps each live accepted connection to the bytes already
    counted (``[read, written]``).  ``complete`` is True when the exporter
    saw the server start listening, so every connection it accepted went
    through the events: only then is ``queued()`` known.
    """

    __slots__ = ("_ref", "endpoint", "sockets", "complete")

    def __init__(self, ref: weakref.ref[Server], endpoint: Endpoint, complete: bool) -> None:
        self._ref = ref
        self.endpoint = endpoint
        self.sockets: dict[Socket, list[int]] = {}
        self.complete = complete

    @property
    def server(self) -> Server | None:
        return self._ref()

    def queued(self, server: Server) -> int:
        """Connections accepted from the kernel that have not reached ``'connection'``
        (waiting for their greenlet, or for a PROXY header)."""
        if not self.complete:
            return 0
        return max(0, server.connections - len(self.sockets))

    def active(self, server: Server) -> int:
        """Open connections that reached ``'connection'``."""
        return server.connections - self.queued(server)


E = TypeVar("E", bound=TrackedServer)


class Tracker(Generic[E]):
    """The bookkeeping shared by the exporters: a ``zope.event`` subscriber.

    Subclasses fill ``self._handlers`` (event class -> method), build their
    per-server state in :meth:`_new_entry`, and count bytes in
    :meth:`_count_bytes`.  Per event the work is one dict lookup for the
    handler and, for a connection's event, one for its server.
    """

    def __init__(self) -> None:
        self._servers: dict[int, E] = {}
        self._handlers: dict[type, Callable[[Any], None]] = {}
        self._subscribed = False

    # -- subscription ------------------------------------------------------

    def _subscribe(self) -> None:
        if not self._subscribed:
            zope.event.subscribers.append(self)
            self._subscribed = True

    def _unsubscribe(self) -> None:
        while self in zope.event.subscribers:
            zope.event.subscribers.remove(self)
        self._subscribed = False
        self._servers.clear()

    def __call__(self, event: object) -> None:
        handler = self._handlers.get(type(event))
        if handler is not None:
            handler(event)

    # -- servers -----------------------------------------------------------

    def _new_entry(self, ref: weakref.ref[Server], endpoint: Endpoint, complete: bool) -> E:
        raise NotImplementedError

    def _relabel(self, entry: E, endpoint: Endpoint) -> None:
        """``entry``'s server listens elsewhere now (closed, then listened again)."""
        entry.endpoint = endpoint

    def _entry(self, server: Server, address: Any = None, listening: bool = False) -> E:
        """The state of ``server``, made at its first event; ``listening``: from ServerListening."""
        key = id(server)
        entry = self._servers.get(key)
        if entry is None:
            servers = self._servers
            ref = weakref.ref(server, lambda _ref: servers.pop(key, None))
            entry = servers[key] = self._new_entry(ref, endpoint_of(server, address), listening)
        elif listening:
            endpoint = endpoint_of(server, address)
            if endpoint != entry.endpoint:
                self._relabel(entry, endpoint)
        return entry

    def _socket_entry(self, sock: Socket) -> E | None:
        """The state of the server that accepted ``sock``; None for a client socket."""
        server = sock.server
        return None if server is None else self._entry(server)

    def entries(self) -> list[tuple[E, Server]]:
        """The servers still alive, with their state."""
        live = []
        for entry in list(self._servers.values()):
            server = entry.server
            if server is not None:
                live.append((entry, server))
        return live

    # -- connections -------------------------------------------------------

    def _track_accepted(self, event: diagnostics.ConnectionAccepted) -> E:
        entry = self._entry(event.server)
        entry.sockets.setdefault(event.socket, [0, 0])
        return entry

    def _track_closed(self, event: diagnostics.ConnectionClosed) -> E | None:
        """Count the last bytes of a closed server-side connection; its server's state."""
        entry = self._socket_entry(event.socket)
        if entry is None:
            return None
        counted = entry.sockets.pop(event.socket, None)
        read, written = (0, 0) if counted is None else counted
        if event.bytes_read != read or event.bytes_written != written:
            self._count_bytes(entry, event.bytes_read - read, event.bytes_written - written)
        return entry

    def _count_bytes(self, entry: E, read: int, written: int) -> None:
        raise NotImplementedError

    def flush_bytes(self, entry: E) -> None:
        """Count the bytes the live connections of ``entry`` moved since the last flush."""
        # A snapshot: a scrape may run in another thread (prometheus-client's
        # own HTTP server without monkey patching) while the hub closes sockets.
        for sock, counted in list(entry.sockets.items()):
            read, written = sock.bytes_read, sock.bytes_written
            if read != counted[0] or written != counted[1]:
                self._count_bytes(entry, read - counted[0], written - counted[1])
                counted[0], counted[1] = read, written
