"""A socket's life, as data.

A Node socket is a Duplex stream over a connection, so its state has three
parts that move independently; each is an explicit value here, never a
combination of flags:

``Phase`` (the connection)::

    NEW ──connect()──▶ CONNECTING ──connected──▶ OPEN ──destroy()──▶ DESTROYED
     │                     │                                 ▲
     └──────── destroy() ──┴─────────────────────────────────┘

``ReadSide`` (the readable half)::

    OPEN ──peer FIN──▶ EOF (data still buffered) ──consumed, 'end'──▶ ENDED

``WriteSide`` (the writable half)::

    OPEN ──end()──▶ ENDING (flushing) ──FIN sent, 'finish'──▶ FINISHED

A socket is destroyed automatically once its read side is ``ENDED`` and its
write side ``FINISHED`` (NODE-NET.md F4).  :data:`READY_STATE` maps the
three onto Node's ``readyState`` strings ('opening', 'open', 'readOnly',
'writeOnly', 'closed').
"""

from __future__ import annotations

import enum

__all__ = ["Phase", "ReadSide", "WriteSide", "ready_state"]


class Phase(enum.Enum):
    NEW = "new"  # no handle yet: a fresh Socket() or one whose connect failed
    CONNECTING = "connecting"
    OPEN = "open"
    DESTROYED = "destroyed"


class ReadSide(enum.Enum):
    OPEN = "open"
    EOF = "eof"  # the peer's FIN arrived; buffered data not yet consumed
    ENDED = "ended"  # 'end' emitted


class WriteSide(enum.Enum):
    OPEN = "open"
    ENDING = "ending"  # end() called; queue flushing, FIN not yet sent
    FINISHED = "finished"  # FIN sent, 'finish' emitted


def _readable(read: ReadSide) -> bool:
    return read is not ReadSide.ENDED


def _writable(write: WriteSide) -> bool:
    return write is WriteSide.OPEN


def ready_state(phase: Phase, read: ReadSide, write: WriteSide) -> str:
    """Node's ``socket.readyState`` for a state triple."""
    if phase is Phase.CONNECTING:
        return "opening"
    if phase is Phase.DESTROYED:
        return "closed"
    return READY_STATE[_readable(read), _writable(write)]


# (readable, writable) -> readyState, as Node's getter computes it.
READY_STATE = {
    (True, True): "open",
    (True, False): "readOnly",
    (False, True): "writeOnly",
    (False, False): "closed",
}
