"""Helpers shared by every test module, each defined once.

Fixtures live in ``conftest.py``; plain functions and markers live here and
are imported as ``from support import port_of`` (``tests/`` is on
``sys.path`` through pytest's ``pythonpath`` setting).
"""

from __future__ import annotations

import gc
import os
import shutil
import socket
from typing import Any

import gevent
import pytest
from greenlet import getcurrent, greenlet

__all__ = [
    "HAS_IPV6",
    "IN_CI",
    "live_greenlets",
    "needs_ipv6",
    "open_fds",
    "port_of",
    "require_tool",
]

# CI installs every tool the tests drive; there a missing tool is a failure,
# not a skip (DEVELOPERS.md: "Under CI=true a test that needs such a tool fails").
IN_CI = os.environ.get("CI", "").lower() == "true"


def require_tool(name: str) -> str:
    """The path of command ``name``; skips the test when it is missing, fails in CI."""
    path = shutil.which(name)
    if path is None:
        if IN_CI:
            pytest.fail(f"{name} is not installed, and CI must have it (.ci/run installs it)")
        pytest.skip(f"{name} not installed")
    return path


def open_fds() -> set[int]:
    """This process's open file descriptors."""
    return {int(fd) for fd in os.listdir("/proc/self/fd")}


def _root(g: greenlet) -> greenlet:
    while g.parent is not None:
        g = g.parent
    return g


def live_greenlets() -> list[greenlet]:
    """This thread's live greenlets but the hub (other threads' hubs, such as
    gevent's resolver pool workers, come and go on their own schedule)."""
    hub = gevent.get_hub()
    main = _root(getcurrent())
    return [
        g
        for g in gc.get_objects()
        if isinstance(g, greenlet) and g and g is not hub and g is not main and _root(g) is main
    ]


def _can_bind_ipv6_loopback() -> bool:
    try:
        with socket.socket(socket.AF_INET6, socket.SOCK_STREAM) as probe:
            probe.bind(("::1", 0))
        return True
    except OSError:
        return False


HAS_IPV6 = _can_bind_ipv6_loopback()
needs_ipv6 = pytest.mark.skipif(not HAS_IPV6, reason="no IPv6 loopback (::1) on this machine")


def port_of(server: Any) -> int:
    """The TCP port a listening gnet server is bound to."""
    address = server.address()
    assert isinstance(address, dict)
    return int(address["port"])
