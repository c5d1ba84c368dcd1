"""gnet.logs: which connection outcomes are routine, and how floods of them are logged.

Pure logic: the classification table, the token bucket (with an injected
clock), and the records a ConnectionLog writes (level, one line or a
traceback, the stable ``extra=`` fields), for an unconnected gnet socket.
"""

from __future__ import annotations

import errno
import logging
import ssl
from collections.abc import Iterator

import gevent
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import gnet
from gnet import diagnostics, logs
from gnet.errors import make_error, system_error

FIELDS = (
    "gnet_connection_id",
    "gnet_peer",
    "gnet_local",
    "gnet_bytes_read",
    "gnet_bytes_written",
    "gnet_error_code",
    "gnet_reason",
)


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class Recorder(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.fixture
def recorder() -> Iterator[tuple[Recorder, logging.Logger]]:
    logger = logging.getLogger("gnet.test.logs")
    logger.propagate = False
    logger.setLevel(logging.DEBUG)
    handler = Recorder()
    logger.addHandler(handler)
    try:
        yield handler, logger
    finally:
        logger.removeHandler(handler)


# ==========================================================================
# classification


@pytest.mark.parametrize(
    ("error", "reason", "level"),
    [
        (TimeoutError("timed out"), "timeout", logging.INFO),
        (gevent.Timeout(1), "timeout", logging.INFO),
        (gnet.IncompleteReadError(b"ab", 5), "incomplete_read", logging.INFO),
        (gnet.LimitOverrunError("separator not found within limit", 10), "limit_overrun", logging.WARNING),
        (system_error("ECONNRESET", "read"), "ECONNRESET", logging.INFO),
        (system_error("EPIPE", "write"), "EPIPE", logging.INFO),
        (system_error("ETIMEDOUT", "read"), "ETIMEDOUT", logging.INFO),
        (system_error("ECONNABORTED", "read"), "ECONNABORTED", logging.INFO),
        (ConnectionResetError(errno.ECONNRESET, "reset by peer"), "ECONNRESET", logging.INFO),
        (BrokenPipeError(errno.EPIPE, "broken pipe"), "EPIPE", logging.INFO),
        (make_error("ERR_SOCKET_CLOSED"), "socket_closed", logging.INFO),
        (ssl.SSLError(1, "[SSL: WRONG_VERSION_NUMBER] wrong version number"), "tls", logging.INFO),
    ],
)
def test_classify__expected_outcomes(error: BaseException, reason: str, level: int) -> None:
    verdict = logs.classify(error)
    assert verdict.expected
    assert verdict.reason == reason
    assert verdict.level == level


class MyBug(Exception):
    pass


@pytest.mark.parametrize(
    ("error", "reason"),
    [
        (RuntimeError("boom"), "RuntimeError"),
        (KeyError("k"), "KeyError"),
        (MyBug("x"), f"{__name__}.MyBug"),
        (system_error("ECONNREFUSED", "connect"), "ECONNREFUSED"),
        (make_error("ERR_INVALID_ARG_TYPE", "x", "of type number", "s"), "ERR_INVALID_ARG_TYPE"),
    ],
)
def test_classify__bugs_keep_error(error: BaseException, reason: str) -> None:
    verdict = logs.classify(error)
    assert not verdict.expected
    assert verdict.reason == reason
    assert verdict.level == logging.ERROR


def test_classify__carries_nodes_code() -> None:
    assert logs.classify(system_error("ECONNRESET", "read")).code == "ECONNRESET"
    assert logs.classify(gnet.IncompleteReadError(b"", 3)).code == "ERR_GNET_INCOMPLETE_READ"
    assert logs.classify(TimeoutError("timed out")).code is None


def test_outcome_of__kernel_etimedout_is_an_error_not_our_timeout() -> None:
    assert diagnostics.outcome_of(None) == diagnostics.CLEAN
    assert diagnostics.outcome_of(TimeoutError("timed out")) == diagnostics.TIMEOUT
    assert diagnostics.outcome_of(system_error("ETIMEDOUT", "read")) == diagnostics.ERROR
    assert diagnostics.outcome_of(RuntimeError()) == diagnostics.ERROR


# ==========================================================================
# the token bucket


def test_rate_limiter__burst_then_rate_then_reports_suppressed() -> None:
    clock = FakeClock()
    limiter = logs.RateLimiter(rate=2.0, burst=3, clock=clock)
    assert [limiter.acquire("k") for _ in range(3)] == [0, 0, 0]
    assert [limiter.acquire("k") for _ in range(7)] == [None] * 7
    clock.now += 0.25  # half a token
    assert limiter.acquire("k") is None
    clock.now += 0.25  # one token: the next record goes through, saying 8 were suppressed
    assert limiter.acquire("k") == 8
    assert limiter.acquire("k") is None
    clock.now += 10.0  # refills to the burst, no more
    assert [limiter.acquire("k") for _ in range(4)] == [1, 0, 0, None]


def test_rate_limiter__keys_are_independent() -> None:
    clock = FakeClock()
    limiter = logs.RateLimiter(rate=1.0, burst=1, clock=clock)
    assert limiter.acquire("timeout") == 0
    assert limiter.acquire("timeout") is None
    assert limiter.acquire("ECONNRESET") == 0


def test_rate_limiter__rejects_nonsense() -> None:
    with pytest.raises(ValueError):
        logs.RateLimiter(rate=0)
    with pytest.raises(ValueError):
        logs.RateLimiter(burst=0)


@settings(max_examples=200, deadline=None)
@given(
    gaps=st.lists(st.floats(min_value=0.0, max_value=3.0), min_size=1, max_size=200),
    rate=st.floats(min_value=0.1, max_value=20.0),
    burst=st.integers(min_value=1, max_value=10),
)
def test_rate_limiter__never_more_than_burst_plus_rate_and_counts_every_record(
    gaps: list[float], rate: float, burst: int
) -> None:
    clock = FakeClock()
    limiter = logs.RateLimiter(rate=rate, burst=burst, clock=clock)
    allowed: list[float] = []
    reported = 0
    for gap in gaps:
        clock.now += gap
        result = limiter.acquire("k")
        if result is not None:
            allowed.append(clock.now)
            reported += result
    # In any window of length w, at most burst + rate * w records pass.
    for i, start in enumerate(allowed):
        for j in range(i, len(allowed)):
            assert j - i + 1 <= burst + rate * (allowed[j] - start) + 1e-6
    # Every record is either let through or counted in a later summary, or still pending.
    clock.now += burst / rate + 1.0
    pending = limiter.acquire("k")
    assert pending is not None
    assert len(allowed) + reported + pending == len(gaps)


# ==========================================================================
# the records


def make_log(logger: logging.Logger, clock: FakeClock) -> logs.ConnectionLog:
    return logs.ConnectionLog(logger, logs.RateLimiter(rate=1.0, burst=5, clock=clock), logger)


def test_handler_failed__a_flood_of_timeouts_is_a_few_lines_and_a_summary(
    recorder: tuple[Recorder, logging.Logger],
) -> None:
    handler, logger = recorder
    clock = FakeClock()
    log = make_log(logger, clock)
    sockets = [gnet.Socket() for _ in range(500)]
    for sock in sockets:
        verdict = log.handler_failed(sock, TimeoutError("timed out"))
        assert verdict.expected
    assert len(handler.records) == 5
    for record in handler.records:
        assert record.levelno == logging.INFO
        assert record.exc_info is None
        assert "\n" not in record.getMessage()
        assert "timeout" in record.getMessage()
    clock.now += 1.0
    log.handler_failed(sockets[0], TimeoutError("timed out"))
    summary, line = handler.records[5:]
    assert summary.getMessage() == "495 similar messages suppressed (timeout)"
    assert summary.gnet_suppressed == 495  # type: ignore[attr-defined]
    assert summary.gnet_reason == "timeout"  # type: ignore[attr-defined]
    assert line.gnet_connection_id == diagnostics.connection_id(sockets[0])  # type: ignore[attr-defined]


def test_handler_failed__bugs_are_errors_with_tracebacks_and_never_suppressed(
    recorder: tuple[Recorder, logging.Logger],
) -> None:
    handler, logger = recorder
    log = make_log(logger, FakeClock())
    sock = gnet.Socket()
    for i in range(20):
        try:
            raise RuntimeError(f"bug {i}")
        except RuntimeError as exc:
            verdict = log.handler_failed(sock, exc)
        assert not verdict.expected
    assert len(handler.records) == 20
    for record in handler.records:
        assert record.levelno == logging.ERROR
        assert record.exc_info is not None and isinstance(record.exc_info[1], RuntimeError)
        assert record.gnet_reason == "RuntimeError"  # type: ignore[attr-defined]


def test_records__carry_the_stable_fields(recorder: tuple[Recorder, logging.Logger]) -> None:
    handler, logger = recorder
    log = make_log(logger, FakeClock())
    sock = gnet.Socket()
    log.handler_failed(sock, system_error("ECONNRESET", "read"))
    log.handler_failed(sock, RuntimeError("bug"))
    log.unhandled_error(sock, system_error("EPIPE", "write"))
    log.unhandled_error(sock, system_error("EHOSTUNREACH", "read"))
    server = gnet.Server()
    log.accept_failed(server, system_error("EMFILE", "accept"), 0.02)
    log.connection_dropped(server, diagnostics.DROP_MAX_CONNECTIONS, None)
    assert [r.levelno for r in handler.records] == [
        logging.INFO,
        logging.ERROR,
        logging.INFO,
        logging.WARNING,
        logging.WARNING,
        logging.INFO,
    ]
    for record in handler.records:
        for name in FIELDS:
            assert hasattr(record, name), (name, record.getMessage())
    reset, bug, epipe, unreach, emfile, dropped = handler.records
    assert reset.gnet_error_code == "ECONNRESET"  # type: ignore[attr-defined]
    assert reset.gnet_connection_id == diagnostics.connection_id(sock)  # type: ignore[attr-defined]
    assert (reset.gnet_bytes_read, reset.gnet_bytes_written) == (0, 0)  # type: ignore[attr-defined]
    assert epipe.gnet_reason == "EPIPE"  # type: ignore[attr-defined]
    assert unreach.exc_info is None and "EHOSTUNREACH" in unreach.getMessage()
    assert emfile.gnet_error_code == "EMFILE"  # type: ignore[attr-defined]
    assert emfile.gnet_connection_id is None  # type: ignore[attr-defined]
    assert "retrying in 0.020 s" in emfile.getMessage()
    assert dropped.gnet_reason == "max_connections"  # type: ignore[attr-defined]


def test_accept_failed__emfile_storm_is_rate_limited(
    recorder: tuple[Recorder, logging.Logger],
) -> None:
    handler, logger = recorder
    log = make_log(logger, FakeClock())
    server = gnet.Server()
    for _ in range(100):
        log.accept_failed(server, system_error("EMFILE", "accept"), 1.0)
    assert len(handler.records) == 5


def test_disabled_level__nothing_is_formatted_or_counted(
    recorder: tuple[Recorder, logging.Logger],
) -> None:
    handler, logger = recorder
    logger.setLevel(logging.WARNING)
    clock = FakeClock()
    log = make_log(logger, clock)
    sock = gnet.Socket()
    for _ in range(50):
        log.handler_failed(sock, TimeoutError("timed out"))
    assert handler.records == []
    logger.setLevel(logging.DEBUG)
    log.handler_failed(sock, TimeoutError("timed out"))
    # Records below the level never took a token: no suppression summary.
    cid = diagnostics.connection_id(sock)
    assert [r.getMessage() for r in handler.records] == [
        f"connection {cid} from ? ended: timeout (timed out)"
    ]
