"""gnet.state: the transition tables, the illegal moves, and readyState."""

from __future__ import annotations

import itertools

import pytest

from gnet.state import (
    PHASE,
    READ,
    WRITE,
    IllegalTransition,
    Phase,
    ReadSide,
    WriteSide,
    ready_state,
)


def test_a_connection_s_life_through_the_phase_table() -> None:
    phase = Phase.NEW
    for event, expected in [
        ("connect", Phase.CONNECTING),
        ("connected", Phase.OPEN),
        ("destroy", Phase.DESTROYED),
        ("closed", Phase.CLOSED),
        ("reconnect", Phase.NEW),
    ]:
        phase = PHASE[event][phase]
        assert phase is expected


@pytest.mark.parametrize("start", [Phase.NEW, Phase.CONNECTING, Phase.OPEN])
def test_destroy_is_legal_from_every_live_phase(start: Phase) -> None:
    assert PHASE["destroy"][start] is Phase.DESTROYED


@pytest.mark.parametrize(
    ("state", "event"),
    [
        (Phase.DESTROYED, "destroy"),  # destroy() twice must be caught by the caller
        (Phase.OPEN, "connect"),  # connect() on an open socket is not a transition
        (Phase.DESTROYED, "reconnect"),  # only after 'close' (NODE-NET C14)
        (Phase.CLOSED, "closed"),  # 'close' exactly once
        (Phase.NEW, "connected"),
    ],
)
def test_illegal_phase_moves_raise(state: Phase, event: str) -> None:
    with pytest.raises(IllegalTransition, match=event):
        PHASE[event][state]


def test_the_read_side_reaches_ended_only_through_eof_and_a_consumer() -> None:
    side = ReadSide.IDLE
    for event in ("start", "eof", "consumed", "ended"):
        side = READ[event][side]
    assert side is ReadSide.ENDED
    with pytest.raises(IllegalTransition):
        READ["ended"][ReadSide.OPEN]  # 'end' before the FIN was consumed
    with pytest.raises(IllegalTransition):
        READ["eof"][ReadSide.EOF]  # one FIN per stream


def test_the_write_side_finishes_only_after_end() -> None:
    assert WRITE["end"][WriteSide.OPEN] is WriteSide.ENDING
    assert WRITE["finished"][WriteSide.ENDING] is WriteSide.FINISHED
    with pytest.raises(IllegalTransition):
        WRITE["finished"][WriteSide.OPEN]
    with pytest.raises(IllegalTransition):
        WRITE["end"][WriteSide.FINISHED]


def test_every_table_entry_leads_to_a_member_of_its_own_enum() -> None:
    for table, enum in ((PHASE, Phase), (READ, ReadSide), (WRITE, WriteSide)):
        for event, row in table.items():
            assert row.event == event
            for state, target in row.items():
                assert isinstance(state, enum) and isinstance(target, enum)


def test_ready_state_is_node_s_getter() -> None:
    # Node: 'opening' while connecting; else from readable/writable; closed when destroyed.
    expected = {
        (True, True): "open",
        (True, False): "readOnly",
        (False, True): "writeOnly",
        (False, False): "closed",
    }
    for read, write in itertools.product(ReadSide, WriteSide):
        readable = read is not ReadSide.ENDED
        writable = write is WriteSide.OPEN
        assert ready_state(Phase.OPEN, read, write) == expected[readable, writable]
        assert ready_state(Phase.CONNECTING, read, write) == "opening"
        assert ready_state(Phase.DESTROYED, read, write) == "closed"
        assert ready_state(Phase.CLOSED, read, write) == "closed"
