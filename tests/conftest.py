"""Shared fixtures: servers on port 0, UNIX paths under tmp_path, and the leak check.

Every test runs under ``no_leaks`` (autouse): it fails a test that leaves
file descriptors or live greenlets behind.  Sockets close asynchronously,
so it waits (by yielding to the hub, bounded) for them to settle first.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from typing import Any

import gevent
import pytest
from greenlet import greenlet

import gnet
from gnet import actor as gnet_actor
from support import live_greenlets, open_fds


@pytest.fixture(autouse=True)
def no_leaks(request: pytest.FixtureRequest) -> Iterator[None]:
    """Fail the test if it leaks file descriptors, greenlets, or references that keep
    ``gnet.run()`` blocking (a server or socket never closed)."""
    gevent.sleep(0)  # the hub and its loop's own descriptors exist before the baseline
    before_fds = open_fds()
    before_greenlets = set(map(id, live_greenlets()))
    before_refs = gnet_actor._refs.count
    yield
    if request.node.get_closest_marker("allow_leaks"):
        return
    deadline = 2.0
    leaked_fds: set[int] = set()
    leaked: list[greenlet] = []
    for _ in range(200):
        gevent.sleep(deadline / 200)
        leaked_fds = open_fds() - before_fds
        leaked = [g for g in live_greenlets() if id(g) not in before_greenlets]
        refs = gnet_actor._refs.count - before_refs
        if not leaked_fds and not leaked and refs <= 0:
            return
    details = {fd: _describe_fd(fd) for fd in leaked_fds}
    pytest.fail(
        f"leaked file descriptors {details}, greenlets {leaked!r}, "
        f"{refs} references holding gnet.run()"
    )


def _describe_fd(fd: int) -> str:
    try:
        return os.readlink(f"/proc/self/fd/{fd}")
    except OSError:
        return "?"


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


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "allow_leaks: skip the fd/greenlet leak check")
