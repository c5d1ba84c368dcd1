"""gnet.run() does not return while events are still to be delivered (issue 12).

Node's process does not exit while a nextTick or a handle's close callback
is pending: a listen error reaches its ``'error'`` listener, and a server's
``'close'`` event and ``close(cb)`` callback run, whatever caused them.  So
``gnet.run()`` waits for queued events too, not only for referenced servers
and sockets.

Each test calls ``gnet.run()`` as a program does, right after the calls
under test, and records what had been delivered the moment it returned.

Node v20 (``node tests/node/hardening.js NAME`` prints what happened before
the process exited)::

    listen_in_use             ["error:EADDRINUSE:listen"]   (also with 'localhost')
    close_from_timer          ["close","cb:null"]
    lookup_never_answers      ["close:false"]
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import gevent
import pytest

import gnet
from support import (
    TIMEOUT,
    assert_run_idle_at_start,
    listen_local,
    run_python,
    tracked_client,
)


def run_and_see(seen: Callable[[], Any]) -> Any:
    """Call ``gnet.run()`` here, as a program's main greenlet does (bounded);
    what ``seen()`` says the moment it returns."""
    with gevent.Timeout(TIMEOUT, AssertionError("gnet.run() did not return")):
        gnet.run()
    return seen()


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost"])
def test_listen_error__delivered_before_run_returns(host: str, track: Any) -> None:
    # issue 12: `server.on('error', report); server.listen(PORT_IN_USE);
    # gnet.run()` returned without calling report.  Node v20 reports
    # EADDRINUSE first (IP literal and 'localhost' alike), then exits.
    assert_run_idle_at_start()
    holder: gnet.Server = track(gnet.create_server())
    port = listen_local(holder)
    holder.unref()
    server: gnet.Server = track(gnet.create_server())
    errors: list[Any] = []
    server.on("error", errors.append)
    server.listen(port, host)
    codes = run_and_see(lambda: [getattr(e, "code", None) for e in errors])
    assert codes == ["EADDRINUSE"]


def test_listen_error_unix_path_in_use__delivered_before_run_returns(
    sock_path: str, track: Any
) -> None:
    assert_run_idle_at_start()
    holder: gnet.Server = track(gnet.create_server())
    holder.listen(sock_path)
    holder.unref()
    server: gnet.Server = track(gnet.create_server())
    errors: list[Any] = []
    server.on("error", errors.append)
    server.listen(sock_path)
    codes = run_and_see(lambda: [getattr(e, "code", None) for e in errors])
    assert codes == ["EADDRINUSE"]


def close_log(server: gnet.Server) -> tuple[list[str], Callable[..., None]]:
    log: list[str] = []
    server.on("close", lambda: log.append("close"))
    return log, lambda err: log.append(f"cb:{err}")


def test_server_close_from_a_timer__close_and_callback_before_run_returns(track: Any) -> None:
    # issue 12: close(cb) from a greenlet other than the server's own: run()
    # returned before 'close' and cb.  Node v20: ["close","cb:null"].
    assert_run_idle_at_start()
    server: gnet.Server = track(gnet.create_server())
    listen_local(server)
    log, cb = close_log(server)
    gevent.spawn_later(0.01, server.close, cb)
    assert run_and_see(lambda: list(log)) == ["close", "cb:None"]


def test_server_close_right_after_listen__close_and_callback_before_run_returns(track: Any) -> None:
    assert_run_idle_at_start()
    server: gnet.Server = track(gnet.create_server())
    server.listen(0, "127.0.0.1")
    log, cb = close_log(server)
    server.close(cb)
    assert run_and_see(lambda: list(log)) == ["close", "cb:None"]


def test_server_close_from_another_sockets_close__before_run_returns(track: Any) -> None:
    assert_run_idle_at_start()
    server: gnet.Server = track(gnet.create_server())
    listen_local(server)
    log, cb = close_log(server)
    other: gnet.Server = track(gnet.create_server(lambda conn: conn.destroy()))
    port = listen_local(other)
    other.unref()
    client = tracked_client(track, port, "127.0.0.1")
    client.on("close", lambda had_error: server.close(cb))
    assert run_and_see(lambda: list(log)) == ["close", "cb:None"]


def test_unrefd_server_close__still_delivered_before_run_returns(track: Any) -> None:
    # An unref'd server does not hold run(); the events it queued still do
    # (Node runs pending nextTicks before exiting).
    assert_run_idle_at_start()
    server: gnet.Server = track(gnet.create_server())
    listen_local(server)
    server.unref()
    log, cb = close_log(server)
    server.close(cb)
    assert run_and_see(lambda: list(log)) == ["close", "cb:None"]


def test_destroy_while_a_custom_lookup_never_answers__close_and_run_returns(track: Any) -> None:
    # issue 12: destroy() while a custom lookup is pending must emit 'close'
    # and let run() return (fixed on main by the restructure; pinned here).
    # Node v20: ["close:false"], then the process exits.
    assert_run_idle_at_start()
    sock = track(
        gnet.connect({"port": 80, "host": "example.invalid", "lookup": lambda *args: None})
    )
    closes: list[bool] = []
    sock.on("close", closes.append)
    gevent.spawn_later(0.01, sock.destroy)
    assert run_and_see(lambda: list(closes)) == [False]


def test_program_listen_error_without_listener__is_logged_not_lost(tmp_path: Path) -> None:
    # The program: with no 'error' listener nothing at all was
    # printed.  Node crashes with the error; gnet logs it (the process goes on).
    source = """
        import logging, sys
        import gnet
        logging.basicConfig(stream=sys.stderr)
        holder = gnet.create_server().listen(0, '127.0.0.1')
        holder.unref()
        gnet.create_server().listen(holder.address()['port'], '127.0.0.1')
        gnet.run()
        print('run returned')
    """
    proc = run_python(tmp_path, source, timeout=30)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.decode().strip() == "run returned"
    assert "listen EADDRINUSE: address already in use 127.0.0.1:" in proc.stderr.decode()
