"""The PROXY protocol on gnet's connections: a server reads the header, a client sends one.

The parser and the builder are :mod:`gnet.proxy_protocol`; this module puts
them on the wire.

Server side (``create_server(proxy_protocol='v1' | 'v2' | 'auto')``): an
accepted socket's first task, in its own greenlet, is :func:`serve_after_header`
instead of the server's ``'connection'``.  It

1. drops the connection at once if ``proxy_trusted`` is set and the peer
   (the load balancer) is not in it (a UNIX peer has no address: the socket
   file's permissions decide who may connect);
2. reads through the socket's one receive path
   (:meth:`gnet.readable.Readable._read_chunk`: byte counts, end of stream,
   errors) into a :class:`~gnet.proxy_protocol.ProxyParser`, waiting in the
   socket's own greenlet (:meth:`gnet.actor.Actor._wait`) against one
   deadline for the whole header, ``proxy_timeout`` ms after the accept, so a
   peer trickling bytes does not extend it;
3. on a header: puts what came after it at the front of the read buffer (the
   application's first bytes: nothing lost, nothing read twice), takes the
   header's bytes off ``bytes_read`` (they were the load balancer's, not the
   application's), sets ``sock.proxy`` and, for a relayed TCP client, the
   addresses ``remote_address``/``remote_port``/``remote_family`` report;
   applies ``block_list`` to that real client; then emits ``'connection'``;
4. on a bad or missing header, an end of stream or a reset inside it, or the
   deadline: publishes ``ProxyHeaderRejected`` and ``ConnectionDropped``
   (reasons ``DROP_PROXY_REJECTED``, ``DROP_PROXY_UNTRUSTED``,
   ``DROP_PROXY_TIMEOUT``), logs one rate-limited INFO line through
   :mod:`gnet.logs`, destroys the socket and emits the server's ``'drop'``
   with Node's drop data plus ``reason``.

The connection counts against ``max_connections`` from its accept, while it
waits for its header, and a stalled header holds up nothing but its own
greenlet.  Client side (``connect(proxy_header=...)``): :func:`send_header`
writes the header before anything else once connected, before ``'connect'``.
Node has no PROXY protocol.
"""

from __future__ import annotations

import dataclasses
import socket as _pysocket
from typing import TYPE_CHECKING, Any

from . import diagnostics, logs
from .actor import deadline_after
from .errors import io_error
from .proxy_protocol import Command, NeedMore, ProxyHeader, ProxyParser, ProxyProtocolError
from .state import Phase

if TYPE_CHECKING:
    from .options import ServerOptions
    from .server import Server
    from .socket import Socket

__all__ = ["serve_after_header", "send_header"]

_OPEN = Phase.OPEN


def serve_after_header(sock: Socket, server: Server, options: ServerOptions) -> None:
    """An accepted socket's first task when its server expects a PROXY header:
    read and check it, then emit the server's ``'connection'``."""
    if _read_header(sock, server, options):
        sock._serve_accepted(server)


def _read_header(sock: Socket, server: Server, options: ServerOptions) -> bool:
    """The header read and applied (True), or the connection dropped (False)."""
    # The peer's address, read now (and kept): the trust check needs it, and a
    # drop reported after a reset inside the header still names the peer.
    peer = sock._remote_info().get("address")
    trusted = options.proxy_trusted
    if trusted is not None and sock._family != _pysocket.AF_UNIX:
        if peer is None or not trusted.check(peer, _family_name(sock._family)):
            _reject(sock, server, diagnostics.DROP_PROXY_UNTRUSTED, None)
            return False
    parser = ProxyParser(options.proxy_protocol, options.proxy_max_header)  # type: ignore[arg-type]
    deadline = deadline_after(options.proxy_timeout / 1000.0)
    view = sock._view
    transport: Any = sock._transport
    try:
        while True:
            if sock._phase is not _OPEN:
                return False  # destroyed meanwhile (a shutdown's deadline, say): nothing to report
            chunk = sock._read_chunk(view)
            if chunk is None:
                sock._wait(transport.read_watcher(), deadline)  # TimeoutError at the deadline
                continue
            if not chunk:
                if sock._phase is not _OPEN:  # reset: _read_chunk destroyed it with the error
                    _reject(sock, server, diagnostics.DROP_PROXY_REJECTED, sock._errored)
                    return False
                header = parser.feed_eof()  # raises: the stream ended inside the header
            else:
                result = parser.feed(chunk)
                if isinstance(result, NeedMore):
                    continue
                header = result
            break
    except ProxyProtocolError as err:
        _reject(sock, server, diagnostics.DROP_PROXY_REJECTED, err)
        return False
    except TimeoutError:
        ms = options.proxy_timeout
        late = TimeoutError(f"no complete PROXY protocol header within {ms:g} ms")
        _reject(sock, server, diagnostics.DROP_PROXY_TIMEOUT, late)
        return False
    if parser.remainder:
        sock._rbuf.unshift(parser.remainder)
    sock.bytes_read -= header.length
    _apply(sock, header)
    return _real_client_allowed(sock, server, options)


def _apply(sock: Socket, header: ProxyHeader) -> None:
    sock._proxy = header
    family = header.ip_family
    if header.command is Command.PROXY and family is not None:
        address = {"address": header.source_address, "family": family, "port": header.source_port}
        sock._remote = address
    if diagnostics.subscribed():
        fields = dataclasses.asdict(header)
        diagnostics.publish(diagnostics.ProxyHeaderReceived(sock, f"v{header.version}", fields))


def _real_client_allowed(sock: Socket, server: Server, options: ServerOptions) -> bool:
    """``block_list`` against the client the header names (else the peer itself).

    As Node's block list at accept: the connection is closed, with no
    ``'drop'``; the event and the log line say why.
    """
    block_list = options.block_list
    address, family = sock.remote_address, sock.remote_family
    if block_list is None or address is None or family is None:
        return True
    if not block_list.check(address, family.lower()):
        return True
    data = _drop_data(sock)
    reason = diagnostics.DROP_BLOCK_LIST
    diagnostics.publish_new(diagnostics.ConnectionDropped, server, reason, data, sock, None)
    logs.connection_dropped(server, reason, data, sock, None)
    sock._outcome = diagnostics.DROPPED  # its ConnectionClosed says so
    sock.destroy()
    return False


def _reject(sock: Socket, server: Server, reason: str, error: BaseException | None) -> None:
    """End a connection whose header was refused: events, a log line, ``'drop'``."""
    data = _drop_data(sock)
    if data is not None:
        data["reason"] = reason
    diagnostics.publish_new(diagnostics.ProxyHeaderRejected, sock, reason, error)
    # Published here, before the socket's ConnectionClosed, which must follow it.
    diagnostics.publish_new(diagnostics.ConnectionDropped, server, reason, data, sock, error)
    logs.connection_dropped(server, reason, data, sock, error)
    sock._outcome = diagnostics.DROPPED  # its ConnectionClosed says so
    sock.destroy()
    server._defer(server.emit, "drop", data)


def _family_name(family: int) -> str:
    return "ipv6" if family == _pysocket.AF_INET6 else "ipv4"


def _drop_data(sock: Socket) -> dict[str, Any] | None:
    """Node's ``'drop'`` data for ``sock``: its real endpoints (None for UNIX).

    The remote end is the real client when a header named one, else the peer.
    """
    if sock._family == _pysocket.AF_UNIX:
        return None
    local, remote = sock.address(), sock._remote_info()
    if not local:  # the socket is gone (a reset): its own end is unknown now
        local = {"address": None, "port": None, "family": remote.get("family")}
    if not remote:
        return None
    return {
        "local_address": local["address"],
        "local_port": local["port"],
        "local_family": local["family"],
        "remote_address": remote["address"],
        "remote_port": remote["port"],
        "remote_family": remote["family"],
    }


def send_header(sock: Socket, header: bytes) -> bool:
    """Write ``header`` (a client's ``proxy_header``) before anything else.

    Called in the connecting socket's greenlet once it has connected, before
    ``'connect'``; writes queued while connecting follow it.  Not counted in
    ``bytes_written``.  False when the socket failed (or was destroyed) meanwhile.
    """
    transport: Any = sock._transport
    view = memoryview(header)
    while view:
        try:
            view = view[transport.send(view) :]
        except BlockingIOError:
            pass
        except OSError as exc:
            sock.destroy(io_error(exc, "write"))
            return False
        if view:
            # A fresh connection's send buffer takes a header whole; this is
            # for a peer that has stopped reading before it begins.
            sock._wait(transport.write_watcher(), None)
            if sock._phase is not _OPEN:
                return False
    return True
