"""Shared fixtures: servers on port 0, UNIX paths under tmp_path, and the leak check.

Every test runs under ``no_leaks`` (autouse): it fails a test that leaves
file descriptors or live greenlets behind.  Sockets close asynchronously,
so it waits (by yielding to the hub, bounded) for them to settle first.

The tests are grouped by what they exercise: ``unit/`` (pure logic, no
sockets), ``net/`` (gnet over real sockets), ``interop/`` (real Node and
netcat), ``api/`` (the contract, the CLI, the examples, diagnostics).
Plain helpers are in ``support.py``.
"""

from __future__ import annotations

import gc
import socket
from collections.abc import Callable, Iterator
from typing import Any

import gevent
import pytest

import gnet
from gnet import actor as gnet_actor
from support import (
    TIMEOUT,
    Served,
    describe_fd,
    fill_backlog,
    live_greenlets,
    open_fds,
    wait_until,
)


@pytest.fixture(autouse=True)
def no_leaks(request: pytest.FixtureRequest) -> Iterator[None]:
    """Fail the test if it leaks file descriptors, greenlets, or references that keep
    ``gnet.run()`` blocking (a server or socket never closed)."""
    gevent.sleep(0)  # the hub and its loop's own descriptors exist before the baseline
    before_fds = open_fds()
    before_greenlets = set(map(id, live_greenlets()))
    before_refs = gnet_actor._refs.count

    def leaks() -> tuple[set[int], list[Any], int]:
        leaked = [g for g in live_greenlets() if id(g) not in before_greenlets]
        return open_fds() - before_fds, leaked, gnet_actor._refs.count - before_refs

    def describe() -> str:
        fds, greenlets, refs = leaks()
        details = {fd: describe_fd(fd) for fd in fds}
        return (
            f"leaked file descriptors {details}, greenlets {greenlets!r}, "
            f"{refs} references holding gnet.run()"
        )

    yield
    if request.node.get_closest_marker("allow_leaks"):
        return

    def settled() -> bool:
        fds, greenlets, refs = leaks()
        return not fds and not greenlets and refs <= 0

    # gc.get_objects() is not cheap: poll every 10 ms
    wait_until(settled, timeout=2.0, message=describe, interval=0.01)


@pytest.fixture
def server_factory() -> Iterator[Callable[..., gnet.Server]]:
    """``server_factory(listener, **options)``: a gnet server listening on 127.0.0.1:0.

    Every server made is closed (and its connections destroyed) at teardown.
    """
    servers: list[gnet.Server] = []

    def make(listener: Any = None, *, path: str | None = None, **options: Any) -> gnet.Server:
        server = gnet.create_server(options, listener)
        if path is not None:
            server.listen(path)
        else:
            server.listen(0, "127.0.0.1")
        servers.append(server)
        return server

    yield make
    for server in servers:
        for conn in list(server._sockets):
            conn.destroy()
        if server.listening:
            server.close()


@pytest.fixture
def listen() -> Iterator[Callable[..., gnet.Server]]:
    """``listen(listener, *listen_args, **server_options)``: a listening server.

    For hosts other than 127.0.0.1 (``'localhost'``, ``'::1'``, no host,
    UNIX paths).  Waits for ``'listening'``; every server and every
    connection it accepted is closed at teardown.
    """
    made: list[tuple[gnet.Server, list[gnet.Socket]]] = []

    def make(listener: Any = None, *args: Any, **options: Any) -> gnet.Server:
        server = gnet.create_server(options, listener)
        conns: list[gnet.Socket] = []
        server.on("connection", conns.append)
        made.append((server, conns))
        server.listen(*args)
        gnet.once(server, "listening", timeout=TIMEOUT)
        return server

    yield make
    for server, conns in made:
        # also those accepted whose 'connection' has not been emitted yet
        for conn in conns + list(server._sockets):
            conn.destroy()
        if server.listening:
            server.close()


@pytest.fixture
def serve(server_factory: Callable[..., gnet.Server]) -> Callable[..., Served]:
    """``serve(handler, **options)``: a server on 127.0.0.1:0 running ``handler(sock)``.

    The first connection's handler result (or exception) lands in
    ``served.result``; a handler that raises has its socket destroyed.
    """

    def start(handler: Callable[[gnet.Socket], Any], **options: Any) -> Served:
        served: Served

        def on_connection(sock: gnet.Socket) -> None:
            first = not served.sock.ready()
            if first:
                served.sock.set(sock)
                sock.on("close", lambda had_error: served.closed.set())
            try:
                value = handler(sock)
            except BaseException as exc:
                if first:
                    served.result.set_exception(exc)
                sock.destroy()
            else:
                if first:
                    served.result.set(value)

        served = Served(server_factory(on_connection, **options))
        return served

    return start


@pytest.fixture
def track() -> Iterator[Callable[[Any], Any]]:
    """``track(obj)`` returns ``obj`` and cleans it up at teardown, even after a failure.

    A gnet Socket is destroyed; a gnet Server has its connections destroyed
    and is closed if listening; anything else (a stdlib socket) is closed.
    """
    objects: list[Any] = []

    def add(obj: Any) -> Any:
        objects.append(obj)
        return obj

    yield add
    for obj in reversed(objects):
        if isinstance(obj, gnet.Server):
            for conn in list(obj._sockets):
                conn.destroy()
            if obj.listening:
                obj.close()
        elif isinstance(obj, gnet.Socket):
            obj.destroy()
        else:
            obj.close()


@pytest.fixture
def sock_path(tmp_path: Any) -> str:
    """A UNIX socket path in this test's tmp_path."""
    return str(tmp_path / "gnet.sock")


@pytest.fixture
def stalled_port() -> Iterator[int]:
    """A port whose connects hang: a listener that never accepts, its backlog full
    (the kernel then drops new SYNs), as a black-holed address would."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(0)
    port = listener.getsockname()[1]
    fillers = fill_backlog(port)
    yield port
    for filler in fillers:
        filler.close()
    listener.close()


@pytest.fixture
def default_max_listeners() -> Iterator[None]:
    """Restores EventEmitter.default_max_listeners, which a test may change, at teardown."""
    saved = gnet.EventEmitter.default_max_listeners
    yield
    gnet.EventEmitter.default_max_listeners = saved


@pytest.fixture(params=["tcp", "unix"])
def transport(request: pytest.FixtureRequest) -> str:
    """Each interop test runs over TCP and over a UNIX socket."""
    return str(request.param)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "allow_leaks: skip the fd/greenlet leak check")


def pytest_collection_finish(session: pytest.Session) -> None:
    # What collection made (modules, hypothesis, parameters) lives all session:
    # moving it out of the collector's generations keeps live_greenlets(),
    # which no_leaks runs twice per test, from walking it again and again.
    # Objects the tests create are tracked as usual.
    gc.collect()
    gc.freeze()
