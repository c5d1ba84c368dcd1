"""gnet.systemd in-process: the LISTEN_* rules, notify() and the watchdog.

notify() is checked against a NOTIFY_SOCKET this test binds itself (a UNIX
datagram socket under tmp_path, or an abstract one), read back with gevent's
cooperative socket so the hub (which runs the watchdog's timer) keeps going.
The run under the real systemd-socket-activate is in
tests/interop/test_systemd_socket_activate.py.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import gevent.socket
import pytest

from gnet import errors, systemd

TIMEOUT = 5.0


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    for name in (
        "LISTEN_PID",
        "LISTEN_FDS",
        "LISTEN_FDNAMES",
        "NOTIFY_SOCKET",
        "WATCHDOG_USEC",
        "WATCHDOG_PID",
    ):
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


@pytest.fixture
def notify_socket(clean_env: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[gevent.socket.socket]:
    """A bound datagram socket; NOTIFY_SOCKET names it."""
    sock = gevent.socket.socket(gevent.socket.AF_UNIX, gevent.socket.SOCK_DGRAM)
    path = str(tmp_path / "notify")
    sock.bind(path)
    sock.settimeout(TIMEOUT)
    clean_env.setenv("NOTIFY_SOCKET", path)
    yield sock
    sock.close()


# ---------------------------------------------------------------------------
# listen_fds


def test_no_variables_no_fds(clean_env: pytest.MonkeyPatch) -> None:
    assert systemd.listen_fds() == []


def test_fds_meant_for_another_process_are_left_alone_and_the_variables_go(
    clean_env: pytest.MonkeyPatch,
) -> None:
    clean_env.setenv("LISTEN_PID", str(os.getpid() + 1))
    clean_env.setenv("LISTEN_FDS", "2")
    clean_env.setenv("LISTEN_FDNAMES", "a:b")
    assert systemd.listen_fds() == []
    assert not {"LISTEN_PID", "LISTEN_FDS", "LISTEN_FDNAMES"} & set(os.environ)


def test_unset_environment_false_keeps_the_variables(clean_env: pytest.MonkeyPatch) -> None:
    clean_env.setenv("LISTEN_PID", str(os.getpid()))
    clean_env.setenv("LISTEN_FDS", "0")
    assert systemd.listen_fds(unset_environment=False) == []
    assert os.environ["LISTEN_FDS"] == "0"


@pytest.mark.parametrize(
    ("pid", "fds"),
    [("self", "two"), ("self", "-1"), ("self", "１"), ("0", "1"), ("x", "1"), ("self", "")],
)
def test_malformed_variables_raise(clean_env: pytest.MonkeyPatch, pid: str, fds: str) -> None:
    clean_env.setenv("LISTEN_PID", str(os.getpid()) if pid == "self" else pid)
    clean_env.setenv("LISTEN_FDS", fds)
    with pytest.raises(ValueError) as info:
        systemd.listen_fds()
    assert getattr(info.value, "code", None) == "ERR_OUT_OF_RANGE"
    assert "LISTEN_FDS" not in os.environ


# A child arranges fds 3, 4, 5 itself (a listening TCP socket, a pipe, a
# connected pair's end) and then asks listen_fds() with two names for three fds.
CHILD = r"""
import fcntl, json, os, socket
from gnet import systemd
listener = socket.socket(); listener.bind(("127.0.0.1", 0)); listener.listen()
r, w = os.pipe()
left, right = socket.socketpair()
high = [fcntl.fcntl(x, fcntl.F_DUPFD, 100) for x in (listener.fileno(), r, left.fileno())]
for target, fd in zip((3, 4, 5), high):
    os.dup2(fd, target)
os.environ.update(LISTEN_PID=str(os.getpid()), LISTEN_FDS="3", LISTEN_FDNAMES="web:")
records = systemd.listen_fds()
print(json.dumps([[r.fd, r.name, r.family and r.family.name, r.type and r.type.name,
                   r.listening, r.is_stream_listener, r.fileno()] for r in records]))
"""


def test_records_describe_each_descriptor() -> None:
    out = subprocess.run(
        [sys.executable, "-c", CHILD], capture_output=True, text=True, timeout=30, check=True
    ).stdout
    assert json.loads(out) == [
        [3, "web", "AF_INET", "SOCK_STREAM", True, True, 3],
        [4, "unknown", None, None, False, False, 4],  # a pipe: not a socket
        [5, "unknown", "AF_UNIX", "SOCK_STREAM", False, False, 5],  # connected, not listening
    ]


def test_an_fd_that_is_not_open_is_an_error() -> None:
    code = (
        "import os\nfrom gnet import systemd\n"
        "os.environ.update(LISTEN_PID=str(os.getpid()), LISTEN_FDS='90')\n"
        "try:\n    systemd.listen_fds()\nexcept ValueError as e:\n    print(e.code)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=30
    ).stdout
    assert out.strip() == "ERR_OUT_OF_RANGE"


# ---------------------------------------------------------------------------
# notify


def test_notify_without_systemd_is_false(clean_env: pytest.MonkeyPatch) -> None:
    assert systemd.notify(ready=True) is False


def test_notify_sends_fields_then_keywords(notify_socket: gevent.socket.socket) -> None:
    assert systemd.notify(
        "MAINPID=42", ready=True, status="listening on 127.0.0.1:8124", stopping=False
    )
    assert notify_socket.recv(4096) == b"MAINPID=42\nREADY=1\nSTATUS=listening on 127.0.0.1:8124"
    assert systemd.notify(stopping=True, extend_timeout_usec=7_000_000, status=None)
    assert notify_socket.recv(4096) == b"STOPPING=1\nEXTEND_TIMEOUT_USEC=7000000"


def test_reloading_carries_monotonic_usec(notify_socket: gevent.socket.socket) -> None:
    before = time.clock_gettime_ns(time.CLOCK_MONOTONIC) // 1000
    assert systemd.notify(reloading=True)
    first, second = notify_socket.recv(4096).split(b"\n")
    after = time.clock_gettime_ns(time.CLOCK_MONOTONIC) // 1000
    assert first == b"RELOADING=1"
    name, _, value = second.partition(b"=")
    assert name == b"MONOTONIC_USEC" and before <= int(value) <= after


def test_abstract_notify_socket(clean_env: pytest.MonkeyPatch) -> None:
    name = f"gnet-test-{os.getpid()}-{time.monotonic_ns()}"
    with gevent.socket.socket(gevent.socket.AF_UNIX, gevent.socket.SOCK_DGRAM) as sock:
        sock.bind("\0" + name)
        sock.settimeout(TIMEOUT)
        clean_env.setenv("NOTIFY_SOCKET", "@" + name)
        assert systemd.notify("WATCHDOG=1")
        assert sock.recv(100) == b"WATCHDOG=1"


@pytest.mark.parametrize("target", ["missing", "file", "vsock:2:1234", "relative/path"])
def test_an_unreachable_notify_socket_is_false_not_an_exception(
    clean_env: pytest.MonkeyPatch, tmp_path: Path, target: str
) -> None:
    if target == "missing":
        target = str(tmp_path / "nobody-listens")
    elif target == "file":
        (tmp_path / "plain").write_text("")
        target = str(tmp_path / "plain")
    clean_env.setenv("NOTIFY_SOCKET", target)
    assert systemd.notify(ready=True) is False


@pytest.mark.parametrize(
    ("args", "kwargs"),
    [((), {"status": "two\nlines"}), (("READY",), {}), (("A=1\nB=2",), {}), ((), {"bad key": 1})],
)
def test_bad_fields_raise_even_without_systemd(
    clean_env: pytest.MonkeyPatch, args: tuple[str, ...], kwargs: dict[str, object]
) -> None:
    with pytest.raises(errors.NodeError) as info:
        systemd.notify(*args, **kwargs)
    assert info.value.code == "ERR_INVALID_ARG_VALUE"


# ---------------------------------------------------------------------------
# the watchdog


def test_watchdog_interval_rules(clean_env: pytest.MonkeyPatch) -> None:
    assert systemd.watchdog_interval() is None
    clean_env.setenv("WATCHDOG_USEC", "3000000")
    assert systemd.watchdog_interval() == 3.0
    clean_env.setenv("WATCHDOG_PID", str(os.getpid()))
    assert systemd.watchdog_interval() == 3.0
    clean_env.setenv("WATCHDOG_PID", str(os.getpid() + 1))
    assert systemd.watchdog_interval() is None
    assert systemd.Watchdog().start() is False
    clean_env.delenv("WATCHDOG_PID")
    clean_env.setenv("WATCHDOG_USEC", "soon")
    with pytest.raises(ValueError):
        systemd.watchdog_interval()


def test_watchdog_pings_at_half_the_interval_until_stopped(
    notify_socket: gevent.socket.socket, clean_env: pytest.MonkeyPatch
) -> None:
    clean_env.setenv("WATCHDOG_USEC", "100000")  # 0.1 s: a ping every 0.05 s
    watchdog = systemd.Watchdog()
    assert watchdog.interval == 0.1
    started = time.monotonic()
    with watchdog:
        assert watchdog.running
        for _ in range(4):
            assert notify_socket.recv(100) == b"WATCHDOG=1"
        elapsed = time.monotonic() - started
    assert not watchdog.running
    assert elapsed >= 0.1  # the first ping at start, three more 0.05 s apart
    notify_socket.settimeout(0.3)  # six intervals: a running timer would have pinged
    with pytest.raises(TimeoutError):
        while True:
            notify_socket.recv(100)  # drain what was sent before stop()


def test_watchdog_without_watchdog_usec_stays_off(clean_env: pytest.MonkeyPatch) -> None:
    watchdog = systemd.Watchdog()
    assert watchdog.start() is False and not watchdog.running
    watchdog.stop()  # harmless


def test_camel_case_aliases() -> None:
    assert systemd.listenFds is systemd.listen_fds  # type: ignore[attr-defined]
    assert systemd.watchdogInterval is systemd.watchdog_interval  # type: ignore[attr-defined]
