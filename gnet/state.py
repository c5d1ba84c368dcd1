"""A socket's life, as data: three state values and every transition between them.

A Node socket is a Duplex stream over a connection, so its state has three
parts that move independently; each is an explicit value here, never a
combination of flags, and each moves only through :func:`transition` with
one of the events below (h11's ``_state.py`` is the model: the tables list
every legal move, and anything else raises :class:`IllegalTransition`, a
bug in gnet rather than a condition to handle).

``Phase``, the connection::

    NEW ──connect──▶ CONNECTING ──connected──▶ OPEN
     │  └──────────────── open ───────────────▶ │
     └──────────── destroy (from any of the three) ──▶ DESTROYED ──closed──▶ CLOSED
                                                                              │
    NEW ◀──────────────────────────── reconnect (connect() after 'close') ─────┘

``ReadSide``, the readable half::

    IDLE ──start──▶ OPEN ──eof──▶ EOF ──consumed──▶ END_QUEUED ──ended──▶ ENDED
      └─────────────── eof ───────▲

``IDLE`` is a socket that does not read ahead until asked (no handle yet,
``pause_on_connect``, or paused before it connected): ``resume()`` or
``read()`` starts it; a blocking helper reads it without starting it.
``EOF``: the peer's FIN arrived and data is still buffered; ``END_QUEUED``:
a consumer reached the FIN and ``'end'`` is scheduled.

``WriteSide``, the writable half::

    OPEN ──end──▶ ENDING (flushing) ──finished──▶ FINISHED ('finish' emitted)

The initial values (``IDLE``, ``WriteSide.OPEN``; ``ENDED``/``FINISHED``
for a socket made with ``readable``/``writable`` false) and the reset of a
socket reconnected after ``'close'`` are set directly; every other change
goes through the tables.

A socket is destroyed automatically once its read side is ``ENDED`` and its
write side ``FINISHED`` (NODE-NET F4).  :func:`ready_state` derives Node's
``readyState`` from the three.
"""

from __future__ import annotations

import enum
from typing import TypeVar

__all__ = [
    "Phase",
    "ReadSide",
    "WriteSide",
    "IllegalTransition",
    "transition",
    "ready_state",
    "PHASE_TRANSITIONS",
    "READ_TRANSITIONS",
    "WRITE_TRANSITIONS",
]


# IntEnums, not plain Enums: a plain Enum hashes through a Python-level
# __hash__, and the transition tables are dicts looked up on every change.
class Phase(enum.IntEnum):
    NEW = 0  # no handle: a fresh Socket()
    CONNECTING = 1
    OPEN = 2
    DESTROYED = 3  # handle closed; 'close' not yet emitted
    CLOSED = 4  # 'close' emitted


class ReadSide(enum.IntEnum):
    IDLE = 0
    OPEN = 1
    EOF = 2
    END_QUEUED = 3
    ENDED = 4


class WriteSide(enum.IntEnum):
    OPEN = 0
    ENDING = 1
    FINISHED = 2


class IllegalTransition(RuntimeError):
    """A state change that the tables do not allow: a bug in gnet."""


_S = TypeVar("_S", Phase, ReadSide, WriteSide)

PHASE_TRANSITIONS: dict[tuple[Phase, str], Phase] = {
    (Phase.NEW, "connect"): Phase.CONNECTING,
    (Phase.NEW, "open"): Phase.OPEN,  # an accepted socket, or Socket({'fd': n})
    (Phase.CONNECTING, "connected"): Phase.OPEN,
    (Phase.NEW, "destroy"): Phase.DESTROYED,
    (Phase.CONNECTING, "destroy"): Phase.DESTROYED,
    (Phase.OPEN, "destroy"): Phase.DESTROYED,
    (Phase.DESTROYED, "closed"): Phase.CLOSED,
    (Phase.CLOSED, "reconnect"): Phase.NEW,  # NODE-NET C14
}

READ_TRANSITIONS: dict[tuple[ReadSide, str], ReadSide] = {
    (ReadSide.IDLE, "start"): ReadSide.OPEN,
    (ReadSide.OPEN, "eof"): ReadSide.EOF,
    (ReadSide.IDLE, "eof"): ReadSide.EOF,  # a blocking helper reads a held-back socket
    (ReadSide.EOF, "consumed"): ReadSide.END_QUEUED,
    (ReadSide.END_QUEUED, "ended"): ReadSide.ENDED,
}

WRITE_TRANSITIONS: dict[tuple[WriteSide, str], WriteSide] = {
    (WriteSide.OPEN, "end"): WriteSide.ENDING,
    (WriteSide.ENDING, "finished"): WriteSide.FINISHED,
}


def transition(table: dict[tuple[_S, str], _S], state: _S, event: str) -> _S:
    """The state that ``event`` leads to from ``state``; raises if the table has no such move."""
    try:
        return table[state, event]
    except KeyError:
        raise IllegalTransition(f"{event!r} is not allowed in {state!r}") from None


def ready_state(phase: Phase, read: ReadSide, write: WriteSide) -> str:
    """Node's ``socket.readyState`` for a state triple."""
    if phase is Phase.CONNECTING:
        return "opening"
    if phase is Phase.DESTROYED or phase is Phase.CLOSED:
        return "closed"
    return _READY_STATE[read is not ReadSide.ENDED, write is WriteSide.OPEN]


# (readable, writable) -> readyState, as Node's getter computes it.
_READY_STATE = {
    (True, True): "open",
    (True, False): "readOnly",
    (False, True): "writeOnly",
    (False, False): "closed",
}
