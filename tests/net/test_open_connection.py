"""gnet.open_connection(): connect and block until connected (API.md "Straight-line helpers")."""

from __future__ import annotations

import errno
import time
from collections.abc import Callable
from typing import Any

import gevent
import pytest

import gnet
from support import (
    Served,
    blocking_client,
    closed_port,
    recv_all,
    run_python,
)


def test_open_connection_returns_a_connected_socket(serve: Callable[..., Served]) -> None:
    served = serve(lambda sock: None)
    with blocking_client(served.port) as c:
        assert not c.connecting
        assert not c.pending
        assert c.ready_state == "open"
        assert c.remote_address == "127.0.0.1"
        assert c.remote_port == served.port
        assert isinstance(c.local_port, int)


def test_open_connection_leaves_no_listeners_of_its_own(serve: Callable[..., Served]) -> None:
    # The socket is the caller's: a leftover 'error' listener would swallow
    # its later errors (no "unhandled 'error'", no raise from gnet.once).
    served = serve(lambda sock: None)
    with blocking_client(served.port) as c:
        assert c.event_names() == []


def test_open_connection_options_and_aliases(serve: Callable[..., Served]) -> None:
    served = serve(lambda sock: sock.end(b"x"))
    c = gnet.open_connection(port=served.port, host="127.0.0.1", allow_half_open=True)
    try:
        assert c.allow_half_open
        assert c.recv_exactly(1) == b"x"
        assert c.recv() == b""
        assert c.writable  # half-open: still writable after the peer's end
    finally:
        c.destroy()


def test_open_connection_refused() -> None:
    port = closed_port()
    with pytest.raises(ConnectionRefusedError) as info:
        gnet.open_connection(port, "127.0.0.1", timeout=5)
    err = info.value
    assert err.code == "ECONNREFUSED"
    assert err.errno == errno.ECONNREFUSED
    assert err.syscall == "connect"
    assert err.address == "127.0.0.1"
    assert err.port == port


@pytest.mark.allow_leaks  # gevent's resolver starts its thread pool, which lives on by design
def test_open_connection_host_name(serve: Callable[..., Served]) -> None:
    served = serve(lambda sock: sock.end(b"by name"))
    c = gnet.open_connection(served.port, "localhost", timeout=5)
    try:
        assert recv_all(c) == b"by name"
    finally:
        c.destroy()


def test_open_connection_host_name_in_a_fresh_process(tmp_path: Any) -> None:
    # Nothing but gnet imported: gnet must not rely on its user importing gevent.socket.
    source = """
        import gnet
        server = gnet.create_server(lambda sock: sock.end(b"fresh"))
        server.listen(0, "127.0.0.1")
        c = gnet.open_connection(server.address()["port"], "localhost", timeout=5)
        print(b"".join(c).decode())
        c.destroy()
        server.close()
    """
    proc = run_python(tmp_path, source, timeout=30)
    assert proc.returncode == 0, proc.stderr.decode()[-2000:]
    assert proc.stdout.decode().strip() == "fresh"


def test_open_connection_unix(server_factory: Callable[..., gnet.Server], sock_path: str) -> None:
    server_factory(lambda sock: sock.end(b"unix"), path=sock_path)
    c = gnet.open_connection(path=sock_path, timeout=5)
    try:
        assert recv_all(c) == b"unix"
    finally:
        c.destroy()


def test_open_connection_timeout() -> None:
    answers: list[gevent.Greenlet] = []

    def slow_lookup(host: str, options: dict[str, Any], callback: Callable[..., Any]) -> None:
        # Answers only after the timeout below, so the connect is still pending then.
        answers.append(
            gevent.spawn_later(0.5, callback, None, [{"address": "127.0.0.1", "family": 4}])
        )

    t0 = time.monotonic()
    with pytest.raises(TimeoutError):
        gnet.open_connection(9, "slow.example", timeout=0.1, lookup=slow_lookup)
    assert time.monotonic() - t0 < 0.45
    gevent.joinall(answers, timeout=5)
