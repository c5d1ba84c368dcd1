"""How gnet logs what happened to a connection: one place, one line, floods rate-limited.

A server under attack (500 slow clients timing out at once, a reset storm)
must not drown its log in tracebacks, and a real bug in a handler must not
hide among routine disconnects.  So the core hands every connection outcome
worth a log record to this module, which decides:

* **Expected outcomes**: a helper's ``TimeoutError``, an
  :class:`~gnet.errors.IncompleteReadError` (the peer ended mid-record), a
  :class:`~gnet.errors.LimitOverrunError`, the peer resetting or vanishing
  (``ECONNRESET``, ``EPIPE``, ``ETIMEDOUT``, ``ECONNABORTED``), a socket
  closed under a blocked helper, a failed TLS handshake.  One line at INFO
  (WARNING for a limit overrun), with the connection id, the peer and the
  reason, no traceback; rate-limited per reason with a token bucket, and a
  ``"N similar messages suppressed"`` line once the bucket lets the next
  one through.
* **Bugs**: anything else escaping a handler keeps ERROR with its traceback.

Every record carries the same ``extra=`` fields, for structlog, JSON
formatters and OpenTelemetry's log bridge: ``gnet_connection_id``,
``gnet_peer``, ``gnet_local``, ``gnet_bytes_read``, ``gnet_bytes_written``,
``gnet_error_code`` and ``gnet_reason`` (None where they do not apply, e.g.
on a server's accept failure); a suppression summary adds
``gnet_suppressed``.

Records about connections go to the ``gnet.connection`` logger, about
servers to ``gnet.server`` (both children of ``gnet``).
"""

from __future__ import annotations

import logging
import socket as _socket
import sys
import time
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from . import diagnostics
from ._aliases import add_module_aliases, with_camel_aliases
from .errors import IncompleteReadError, LimitOverrunError

if TYPE_CHECKING:
    from .server import Server
    from .socket import Socket

__all__ = [
    "Verdict",
    "classify",
    "connection_fields",
    "RateLimiter",
    "ConnectionLog",
    "handler_failed",
    "unhandled_error",
    "accept_failed",
    "connection_dropped",
    "default_log",
    "connection_logger",
    "server_logger",
]

#: The logger of connection records ("gnet.connection").
connection_logger = _connection_logger = logging.getLogger("gnet.connection")
#: The logger of server records ("gnet.server").
server_logger = _server_logger = logging.getLogger("gnet.server")

_PEER_GONE = frozenset({"ECONNRESET", "EPIPE", "ETIMEDOUT", "ECONNABORTED"})
_CLOSED = frozenset({"ERR_SOCKET_CLOSED", "ERR_STREAM_DESTROYED"})

DEFAULT_RATE = 1.0  # records per second and reason, once the burst is spent
DEFAULT_BURST = 5
_MAX_KEYS = 1024  # reasons are few; this only bounds a pathological caller


@dataclass(frozen=True, slots=True)
class Verdict:
    """What an error that ended a connection means for the log.

    ``expected``: routine for a network server (one line, no traceback);
    ``reason``: a short stable word (``'timeout'``, ``'ECONNRESET'``,
    ``'incomplete_read'``, ...; for a bug, the error's type); ``level``:
    the logging level; ``code``: Node's code of the error, if any.
    """

    expected: bool
    reason: str
    level: int
    code: str | None


def classify(error: BaseException) -> Verdict:
    """Sort an error that ended a connection into an expected outcome or a bug."""
    code = diagnostics.error_code(error)
    if code in _PEER_GONE:
        return Verdict(True, code, logging.INFO, code)
    if isinstance(error, IncompleteReadError):
        return Verdict(True, "incomplete_read", logging.INFO, code)
    if isinstance(error, LimitOverrunError):
        return Verdict(True, "limit_overrun", logging.WARNING, code)
    if diagnostics.outcome_of(error) == diagnostics.TIMEOUT:
        return Verdict(True, "timeout", logging.INFO, code)
    if code in _CLOSED:
        return Verdict(True, "socket_closed", logging.INFO, code)
    ssl = sys.modules.get("ssl")  # never imported here: only a TLS connection has one
    if ssl is not None and isinstance(error, ssl.SSLError):
        return Verdict(True, "tls", logging.INFO, code)
    return Verdict(False, diagnostics.error_type(error), logging.ERROR, code)


def _host_port(host: str, port: object) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def _peer(sock: Socket) -> str:
    host = sock.remote_address
    if host is not None:
        return _host_port(host, sock.remote_port)
    if sock._family == _socket.AF_UNIX:
        return "unix"  # a UNIX peer has no name
    # A client that never connected (or went before anyone asked): where it was going.
    options = sock._connect_options
    if options is None:
        return "?"
    return options.path if options.path is not None else _host_port(options.host, options.port)


def _local(sock: Socket) -> str | None:
    host = sock.local_address
    if host is not None:
        return _host_port(host, sock.local_port)
    server = sock.server
    if server is not None:
        return _server_name(server)
    return None


def _server_name(server: Server) -> str | None:
    address = server.address()
    if address is None:
        return None
    if isinstance(address, str):
        return "@" + address[1:] if address.startswith("\0") else address
    return _host_port(str(address["address"]), address["port"])


def connection_fields(
    sock: Socket, error: BaseException | None = None, reason: str | None = None
) -> dict[str, Any]:
    """The ``extra=`` fields of a record about ``sock``."""
    return {
        "gnet_connection_id": sock.connection_id,
        "gnet_peer": _peer(sock),
        "gnet_local": _local(sock),
        "gnet_bytes_read": sock.bytes_read,
        "gnet_bytes_written": sock.bytes_written,
        "gnet_error_code": diagnostics.error_code(error),
        "gnet_reason": reason,
    }


_FIELDS = (
    "gnet_connection_id",
    "gnet_peer",
    "gnet_local",
    "gnet_bytes_read",
    "gnet_bytes_written",
    "gnet_error_code",
    "gnet_reason",
)


def _server_fields(
    server: Server | None, error: BaseException | None, reason: str | None
) -> dict[str, Any]:
    return {
        "gnet_connection_id": None,
        "gnet_peer": None,
        "gnet_local": _server_name(server) if server is not None else None,
        "gnet_bytes_read": None,
        "gnet_bytes_written": None,
        "gnet_error_code": diagnostics.error_code(error),
        "gnet_reason": reason,
    }


def _describe(error: BaseException) -> str:
    text = str(error) or type(error).__name__
    code = diagnostics.error_code(error)
    return text if code is None or code in text else f"{code}: {text}"


class _Bucket:
    __slots__ = ("tokens", "stamp", "suppressed")

    def __init__(self, tokens: float, stamp: float) -> None:
        self.tokens = tokens
        self.stamp = stamp
        self.suppressed = 0


@with_camel_aliases
class RateLimiter:
    """One token bucket per key: ``burst`` records at once, then ``rate`` per second.

    ``clock`` is a monotonic clock in seconds (injectable for tests).
    """

    def __init__(
        self,
        rate: float = DEFAULT_RATE,
        burst: int = DEFAULT_BURST,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if rate <= 0 or burst < 1:
            raise ValueError("rate must be > 0 and burst >= 1")
        self.rate = rate
        self.burst = burst
        self._clock = clock
        self._buckets: dict[Hashable, _Bucket] = {}

    def acquire(self, key: Hashable) -> int | None:
        """Take a token for ``key``: None when the record must be suppressed,
        else how many were suppressed since the last one let through."""
        now = self._clock()
        bucket = self._buckets.get(key)
        if bucket is None:
            if len(self._buckets) >= _MAX_KEYS:
                self._buckets.clear()
            bucket = self._buckets[key] = _Bucket(float(self.burst), now)
        else:
            bucket.tokens = min(float(self.burst), bucket.tokens + (now - bucket.stamp) * self.rate)
            bucket.stamp = now
        if bucket.tokens < 1.0:
            bucket.suppressed += 1
            return None
        bucket.tokens -= 1.0
        suppressed, bucket.suppressed = bucket.suppressed, 0
        return suppressed


@with_camel_aliases
class ConnectionLog:
    """Writes the records about connection outcomes; gnet uses one per process.

    ``ConnectionLog(logger, limiter)`` for a different logger or rate
    (``limiter=None``: the defaults).  Server records go to ``server_logger``.
    """

    def __init__(
        self,
        logger: logging.Logger | None = None,
        limiter: RateLimiter | None = None,
        server_logger: logging.Logger | None = None,
    ) -> None:
        self.logger = logger if logger is not None else _connection_logger
        self.server_logger = server_logger if server_logger is not None else _server_logger
        self.limiter = limiter if limiter is not None else RateLimiter()

    def logs_drops(self) -> bool:
        """Whether :meth:`connection_dropped` would log (the server skips the work if not)."""
        return self.server_logger.isEnabledFor(logging.INFO)

    def _limited(self, logger: logging.Logger, key: Hashable, level: int, reason: str) -> bool:
        """Take a token for ``key``; False: suppress.  Logs the summary of what was suppressed.

        Called before the record's fields are gathered: a suppressed record
        in a flood costs a token check, no address lookups.
        """
        suppressed = self.limiter.acquire(key)
        if suppressed is None:
            return False
        if suppressed:
            summary: dict[str, Any] = dict.fromkeys(_FIELDS)
            summary["gnet_reason"] = reason
            summary["gnet_suppressed"] = suppressed
            logger.log(
                level, "%d similar messages suppressed (%s)", suppressed, reason, extra=summary
            )
        return True

    def handler_failed(self, sock: Socket, error: BaseException) -> Verdict:
        """An exception escaped a listener or straight-line handler of ``sock``.

        Expected outcomes: one INFO/WARNING line, rate-limited.  Bugs:
        ERROR with the traceback, never suppressed.  Returns the verdict so
        the core can skip ``ListenerException`` for expected outcomes.
        """
        verdict = classify(error)
        logger = self.logger
        if not verdict.expected:
            fields = connection_fields(sock, error, verdict.reason)
            logger.error(
                "connection %d from %s: exception in a listener or handler",
                fields["gnet_connection_id"],
                fields["gnet_peer"],
                exc_info=error,
                extra=fields,
            )
        elif logger.isEnabledFor(verdict.level) and self._limited(
            logger, ("handler", verdict.reason), verdict.level, verdict.reason
        ):
            fields = connection_fields(sock, error, verdict.reason)
            logger.log(
                verdict.level,
                "connection %d from %s ended: %s (%s)",
                fields["gnet_connection_id"],
                fields["gnet_peer"],
                verdict.reason,
                _describe(error),
                extra=fields,
            )
        return verdict

    def unhandled_error(self, sock: Socket, error: BaseException) -> None:
        """``sock`` emitted ``'error'`` with no listener (Node would crash); it is destroyed.

        Expected outcomes at INFO, anything else at WARNING; one line each,
        no traceback (the error is the connection's, not a handler's), rate-limited.
        """
        logger = self.logger
        # A peer that reset or vanished is the routine case (one per such
        # connection): when INFO is off, that is all there is to know.
        if getattr(error, "code", None) in _PEER_GONE and not logger.isEnabledFor(logging.INFO):
            return
        verdict = classify(error)
        level = verdict.level if verdict.expected else logging.WARNING
        if not logger.isEnabledFor(level):
            return
        if self._limited(logger, ("error", verdict.reason), level, verdict.reason):
            fields = connection_fields(sock, error, verdict.reason)
            logger.log(
                level,
                "connection %d from %s: %s (no 'error' listener)",
                fields["gnet_connection_id"],
                fields["gnet_peer"],
                _describe(error),
                extra=fields,
            )

    def accept_failed(self, server: Server, error: BaseException, backoff: float) -> None:
        """``accept()`` failed on ``server``; it retries in ``backoff`` seconds.  WARNING, rate-limited."""
        logger = self.server_logger
        if not logger.isEnabledFor(logging.WARNING):
            return
        code = diagnostics.error_code(error) or diagnostics.error_type(error)
        if self._limited(logger, ("accept", code), logging.WARNING, code):
            fields = _server_fields(server, error, code)
            logger.warning(
                "accept failed on %s: %s; retrying in %.3f s",
                fields["gnet_local"],
                _describe(error),
                backoff,
                extra=fields,
            )

    def connection_dropped(
        self,
        server: Server,
        reason: str,
        data: dict[str, Any] | None = None,
        sock: Socket | None = None,
        error: BaseException | None = None,
    ) -> None:
        """``server`` dropped a connection (a ``diagnostics.DROP_*`` reason).  INFO, rate-limited."""
        logger = self.server_logger
        if not logger.isEnabledFor(logging.INFO):
            return
        if self._limited(logger, ("drop", reason), logging.INFO, reason):
            if sock is not None:
                fields = connection_fields(sock, error, reason)
            else:
                fields = _server_fields(server, error, reason)
                if data is not None and data.get("remote_address") is not None:
                    fields["gnet_peer"] = _host_port(
                        str(data["remote_address"]), data.get("remote_port")
                    )
            peer = fields["gnet_peer"] or "?"
            detail = f" ({_describe(error)})" if error is not None else ""
            logger.info(
                "connection from %s dropped by %s: %s%s",
                peer,
                fields["gnet_local"],
                reason,
                detail,
                extra=fields,
            )


#: The ConnectionLog gnet writes through; set its ``limiter`` (or ``logger``)
#: to change the rate or the destination for the whole process.
default_log = ConnectionLog()
handler_failed = default_log.handler_failed
unhandled_error = default_log.unhandled_error
accept_failed = default_log.accept_failed
connection_dropped = default_log.connection_dropped

__all__ += add_module_aliases(globals(), __all__)
