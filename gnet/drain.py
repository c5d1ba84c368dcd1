"""A graceful stop that is graceful: what :meth:`gnet.Server.shutdown` does, stage by stage.

The model is HAProxy's soft-stop and nginx's ``worker_shutdown_timeout``:

1. **At once**: the listening socket closes (new connections are refused;
   connections already accepted, even those still waiting for a PROXY
   header, are kept), ``server.shutting_down`` becomes True and the server
   emits ``'shutdown'``, so a handler can finish its current request and
   close.
2. **Until the deadline**: every connection may finish its exchange; none is
   sent a FIN while data moves.  Every ``idle_after / 4`` seconds each
   connection is looked at, and one that is *idle* is ended (``end()``: what
   is queued goes out, then a FIN).  Idle means all of: its handler waits
   for input (a read helper is blocked, or the socket flows and its greenlet
   is parked waiting for data), the peer has not ended its side, nothing is
   buffered either way (gnet's read buffer and write queue, and, on Linux,
   the kernel's receive and send queues), and no byte has moved for
   ``idle_after`` seconds.  A handler that is busy (computing, waiting on a
   database, in ``sendall``) or paused is never idle.  ``idle_after=None``
   ends nothing early: connections finish on their own or meet the deadline.
3. **At the deadline** (``timeout`` seconds after the call): what is left is
   destroyed (a blocked read helper wakes with ``ERR_SOCKET_CLOSED``).
4. The server emits ``'close'`` once its last connection is gone, and
   ``shutdown()`` returns after it.

Why a quiet period and not "nothing buffered" alone: between a reply and
the next request a connection is momentarily idle, so ending it at that
instant would meet the peer's next request with a FIN (the race HTTP
keep-alive has, which HTTP clients answer by retrying; raw TCP clients do
not retry).  A peer that is quiet for longer than ``idle_after`` and then
sends still races the FIN: choose ``idle_after`` longer than the pauses
your clients make, or None.
"""

from __future__ import annotations

import fcntl
import logging
import struct
import termios
from typing import TYPE_CHECKING, Any

import gevent.event

from .actor import deadline_after, now, remaining
from .state import Phase, ReadSide, WriteSide

if TYPE_CHECKING:
    from .server import Server
    from .socket import Socket

__all__ = ["DEFAULT_IDLE_AFTER", "Drain", "shutdown"]

DEFAULT_IDLE_AFTER = 1.0  # seconds with nothing moving before a connection counts as idle
_LOOKS_PER_IDLE = 4  # how finely the quiet period is measured

_OPEN, _R_OPEN, _W_OPEN = Phase.OPEN, ReadSide.OPEN, WriteSide.OPEN
_INT = struct.Struct("i")

log = logging.getLogger("gnet.server")


class Drain:
    """One server's shutdown in progress; ``server._drain`` while it lasts.

    Several ``shutdown()`` calls on one server share it: each waits for the
    same ``'close'``, each with its own deadline.
    """

    __slots__ = ("server", "closed")

    def __init__(self, server: Server) -> None:
        self.server = server
        self.closed = gevent.event.Event()
        server.prepend_once_listener("close", self._on_close)  # the flag is down in every listener

    def _on_close(self) -> None:
        if self.server._drain is self:
            self.server._drain = None
        self.closed.set()

    def run(self, timeout: float | None, idle_after: float | None) -> int:
        """Stages 2 to 4 (see the module docstring), in the calling greenlet;
        returns how many connections the deadline destroyed."""
        deadline = deadline_after(timeout)
        step = None if idle_after is None else max(idle_after / _LOOKS_PER_IDLE, 0.001)
        quiet: dict[Socket, tuple[int, int, float]] = {}
        while True:
            if idle_after is not None:
                quiet = self._end_idle(quiet, idle_after)
            wait = remaining(deadline)
            if step is not None:
                wait = step if wait is None else min(wait, step)
            if self.closed.wait(wait):
                return 0
            if deadline is not None and now() >= deadline:
                break
        left = list(self.server._sockets)
        if left:
            where = self.server._address  # address() is None once closed
            log.info("shutdown of %s: destroying %d connection(s) at the deadline", where, len(left))
            for conn in left:
                conn.destroy()
        self.closed.wait()
        return len(left)

    def _end_idle(
        self, quiet: dict[Socket, tuple[int, int, float]], idle_after: float
    ) -> dict[Socket, tuple[int, int, float]]:
        """End each connection idle for ``idle_after``; returns the quiet times for the next look.

        ``quiet`` maps a connection to its byte counters and the time they
        were last seen to change (or the connection last seen busy).
        """
        t = now()
        seen: dict[Socket, tuple[int, int, float]] = {}
        for conn in list(self.server._sockets):
            read, written = conn.bytes_read, conn.bytes_written
            before = quiet.get(conn)
            if before is None or before[:2] != (read, written) or not is_idle(conn):
                seen[conn] = (read, written, t)
            elif t - before[2] >= idle_after:
                log.debug("shutdown: ending idle connection %r", conn)
                conn.end()  # its write side is no longer open: never looked at again
            else:
                seen[conn] = before
        return seen


def is_idle(conn: Socket) -> bool:
    """Whether ``conn`` is between exchanges right now (see the module docstring)."""
    if conn._phase is not _OPEN or conn._read_side is not _R_OPEN or conn._write_side is not _W_OPEN:
        return False
    if conn._rbuf or conn.writable_length:
        return False
    if conn._reader is None and not (conn._flowing and conn._parked):
        return False  # busy, paused, or nobody reads: not waiting for input
    transport: Any = conn._transport
    if transport is None or transport.pending:
        return False
    return not _kernel_queued(transport.fileno())


def _kernel_queued(fd: int) -> bool:
    """Bytes in the kernel's receive queue not yet read, or in its send queue not
    yet taken by the peer (for TCP: not yet acknowledged).  False where the
    ioctls are not supported."""
    try:
        for request in (termios.FIONREAD, termios.TIOCOUTQ):  # SIOCINQ, SIOCOUTQ on Linux
            if _INT.unpack(fcntl.ioctl(fd, request, b"\0\0\0\0"))[0]:
                return True
    except OSError:
        return False
    return False


def shutdown(server: Server, timeout: float | None, idle_after: float | None) -> int:
    """:meth:`gnet.Server.shutdown`: stage 1 (once per shutdown), then wait for the rest."""
    drain = server._drain
    if drain is None:
        drain = server._drain = Drain(server)
        # 'shutdown' is queued before close() can queue 'close'.
        server._defer(server.emit, "shutdown")
        server.close()
    return drain.run(timeout, idle_after)
