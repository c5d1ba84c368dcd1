"""A socket's life, as data: three state values and every transition between them.

A Node socket is a Duplex stream over a connection, so its state has three
parts that move independently; each is an explicit value here, never a
combination of flags, and each moves only through its table (:data:`PHASE`,
:data:`READ`, :data:`WRITE`: event -> {from: to}) with one of the events
below.  h11's ``_state.py`` is the model: the tables list every legal move,
and anything else raises :class:`IllegalTransition`, a bug in gnet rather
than a condition to handle.  A move is one dict lookup,
``PHASE["destroy"][phase]``, cheap enough for every connection.

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
from typing import Any

__all__ = [
    "Phase",
    "ReadSide",
    "WriteSide",
    "IllegalTransition",
    "Moves",
    "PHASE",
    "READ",
    "WRITE",
    "ready_state",
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


class Moves(dict):  # type: ignore[type-arg]
    """One event's row of a table: from-state -> to-state.  Looking up a state
    the row does not list raises :class:`IllegalTransition`, so a transition
    is one dict lookup (``PHASE["destroy"][phase]``) and still checked."""

    def __init__(self, event: str, moves: dict[Any, Any]) -> None:
        super().__init__(moves)
        self.event = event

    def __missing__(self, state: Any) -> Any:
        raise IllegalTransition(f"{self.event!r} is not allowed in {state!r}")


# The tables: event -> {from: to}.  Every legal move is listed here, and
# nowhere else.
PHASE: dict[str, Moves] = {
    "connect": Moves("connect", {Phase.NEW: Phase.CONNECTING}),
    "open": Moves("open", {Phase.NEW: Phase.OPEN}),  # accepted, or Socket({'fd': n})
    "connected": Moves("connected", {Phase.CONNECTING: Phase.OPEN}),
    "destroy": Moves(
        "destroy",
        {Phase.NEW: Phase.DESTROYED, Phase.CONNECTING: Phase.DESTROYED, Phase.OPEN: Phase.DESTROYED},
    ),
    "closed": Moves("closed", {Phase.DESTROYED: Phase.CLOSED}),
    "reconnect": Moves("reconnect", {Phase.CLOSED: Phase.NEW}),  # NODE-NET C14
}

READ: dict[str, Moves] = {
    "start": Moves("start", {ReadSide.IDLE: ReadSide.OPEN}),
    # a blocking helper reads a held-back (IDLE) socket too
    "eof": Moves("eof", {ReadSide.OPEN: ReadSide.EOF, ReadSide.IDLE: ReadSide.EOF}),
    "consumed": Moves("consumed", {ReadSide.EOF: ReadSide.END_QUEUED}),
    "ended": Moves("ended", {ReadSide.END_QUEUED: ReadSide.ENDED}),
}

WRITE: dict[str, Moves] = {
    "end": Moves("end", {WriteSide.OPEN: WriteSide.ENDING}),
    "finished": Moves("finished", {WriteSide.ENDING: WriteSide.FINISHED}),
}


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
