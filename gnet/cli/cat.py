"""``gnet cat``: a netcat; stdin to the socket, the socket to stdout, stdin's
end becomes a half-close; a progress line on a terminal's stderr."""

from __future__ import annotations

import argparse
import fcntl
import os
import stat
import sys
from collections.abc import Callable
from typing import Any, TypeVar, cast

import gevent
import gevent.event
import gevent.os

import gnet

from .._progress import ProgressTicker
from .common import (
    _CHUNK,
    CommandError,
    Endpoint,
    _parse_port,
    describe_error,
    log,
    unix_path,
)
from .tlsopts import client_tls, open_connection

_T = TypeVar("_T")


# ---------------------------------------------------------------------------
# gnet cat


class _Stdin:
    """Reads stdin without blocking the gevent hub, whatever kind of file it is.

    A pipe or socket is switched to non-blocking mode and waited on by the
    hub (restored on close).  A regular file never blocks for long, so it is
    read directly.  A terminal is read in gevent's thread pool: making it
    non-blocking would change the shared terminal under stdout, stderr and
    the shell as well.
    """

    def __init__(self, fd: int) -> None:
        self.fd = fd
        self._restore_flags: int | None = None
        try:
            mode = os.fstat(fd).st_mode
        except OSError:
            self._read: Callable[[], bytes] = lambda: b""  # stdin closed: empty input
            return
        if stat.S_ISFIFO(mode) or stat.S_ISSOCK(mode):
            flags = _get_fl(fd)
            if not flags & os.O_NONBLOCK:
                _set_fl(fd, flags | os.O_NONBLOCK)
                self._restore_flags = flags
            self._read = lambda: bytes(gevent.os.nb_read(fd, _CHUNK))
        elif stat.S_ISREG(mode) or stat.S_ISBLK(mode):
            self._read = lambda: os.read(fd, _CHUNK)
        else:
            self._read = lambda: _in_thread(os.read, fd, _CHUNK)

    def read(self) -> bytes:
        """Up to 64 KiB; ``b''`` at end of input."""
        return self._read()

    def close(self) -> None:
        if self._restore_flags is not None:
            try:
                _set_fl(self.fd, self._restore_flags)
            except OSError:
                pass
            self._restore_flags = None


def _get_fl(fd: int) -> int:
    return fcntl.fcntl(fd, fcntl.F_GETFL)


def _set_fl(fd: int, flags: int) -> None:
    fcntl.fcntl(fd, fcntl.F_SETFL, flags)


def _write_stdout(fd: int, data: bytes) -> None:
    """Write all of ``data`` in a thread: a full pipe blocks a thread, not the hub."""
    view = memoryview(data)
    while view:
        view = view[_in_thread(os.write, fd, view) :]


def _in_thread(func: Callable[..., _T], *args: Any) -> _T:
    """``func(*args)`` in gevent's thread pool; an OSError is raised here, in the caller.

    (gevent's own tp_read/tp_write would also print the error's traceback.)
    """

    def call() -> tuple[_T | None, OSError | None]:
        try:
            return func(*args), None
        except OSError as exc:
            return None, exc

    result, error = gevent.get_hub().threadpool.apply(call)
    if error is not None:
        raise error
    return cast(_T, result)


def _pump_stdin(stdin: _Stdin, sock: gnet.Socket) -> None:
    """stdin to the socket; sendall() waits for the kernel, so a slow peer slows our reads."""
    try:
        while True:
            try:
                chunk = stdin.read()
            except OSError as exc:
                log.warning("stdin: %s", exc)
                break
            if not chunk:
                break
            sock.sendall(chunk)
    except OSError as exc:
        log.debug("stopped sending: %s", describe_error(exc))
        return
    log.debug("stdin ended: half-closing")
    sock.end()


def cmd_cat(args: argparse.Namespace) -> int:
    if args.path is not None:
        if args.host is not None or args.port is not None:
            raise CommandError("--path takes no HOST or PORT")
        endpoint = Endpoint(path=unix_path(args.path))
    else:
        if args.host is None or args.port is None:
            raise CommandError("expected HOST PORT or --path PATH")
        endpoint = Endpoint(args.host, _parse_port(args.port))
    tls = client_tls(args)
    try:
        sock = open_connection(endpoint.connect_options(), tls, args.connect_timeout)
    except TimeoutError:
        raise CommandError(f"connect to {endpoint} timed out") from None
    except (TypeError, ValueError, OSError) as exc:
        raise CommandError(describe_error(exc)) from None
    log.debug("connected to %s", endpoint)
    failures: list[BaseException] = []
    # Recorded here and raised by recv(); a listener keeps gnet from logging it again.
    sock.on("error", failures.append)
    stdin = _Stdin(sys.stdin.fileno() if sys.stdin is not None else 0)
    out_fd = sys.stdout.fileno() if sys.stdout is not None else 1
    sender = gevent.spawn(_pump_stdin, stdin, sock)
    progress = _progress_line(sock, args.quiet)
    try:
        chunks = iter(sock)
        while True:
            try:
                chunk = next(chunks, None)
            except Exception as exc:  # the socket's error, raised by recv()
                raise CommandError(describe_error(failures[0] if failures else exc)) from None
            if chunk is None:
                log.debug("peer ended")
                return 0
            try:
                _write_stdout(out_fd, chunk if isinstance(chunk, bytes) else chunk.encode())
            except BrokenPipeError:
                log.debug("stdout closed")  # `gnet cat ... | head`: the reader has had enough
                return 0
            except OSError as exc:
                raise CommandError(f"stdout: {exc}") from None
    finally:
        sender.kill()
        stdin.close()
        _close_gently(sock)
        if progress is not None:
            progress.stop()


def _progress_line(sock: gnet.Socket, quiet: bool) -> ProgressTicker | None:
    """The bytes, rate and elapsed time on stderr, when it is a terminal and not ``--quiet``."""
    stream = sys.stderr
    if quiet or stream is None or not stream.isatty():
        return None
    return ProgressTicker(stream, "gnet cat", lambda: (sock.bytes_written, sock.bytes_read))


def _close_gently(sock: gnet.Socket, timeout: float = 2.0) -> None:
    """End our side (flushing what stdin queued), then destroy after ``timeout``."""
    if sock.destroyed:
        return
    closed = gevent.event.Event()
    sock.once("close", lambda _had_error: closed.set())
    sock.end()
    if not closed.wait(timeout):
        sock.destroy()
