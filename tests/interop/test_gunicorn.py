"""gnet.gunicorn.Worker under the real gunicorn arbiter.

Each test starts ``python -m gunicorn -k gnet.gunicorn.Worker`` on port 0 or
a UNIX path with an application from tests/interop/gunicorn_apps.py, follows
its log on stderr (a reader thread), finds its workers in
/proc/<master>/task/<master>/children, and talks to it with blocking stdlib
sockets.  Every wait has a deadline; the master and its workers are killed
at teardown whatever happened.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from support import IN_CI

TIMEOUT = 20.0
APPS = str(Path(__file__).parent)

try:
    import gunicorn
except ImportError:
    if IN_CI:  # CI installs every tool the tests drive
        raise
    pytest.skip("the gunicorn package (gnet[gunicorn]) is not installed", allow_module_level=True)

GUNICORN_MAJOR = int(gunicorn.__version__.split(".")[0])


class Gunicorn:
    """A running gunicorn master; its log lines accumulate in ``lines``."""

    def __init__(self, tmp_path: Path, *args: str, app: str = "gunicorn_apps:serve") -> None:
        env = dict(os.environ, XDG_RUNTIME_DIR=str(tmp_path))  # its control socket goes there
        self.proc = subprocess.Popen(
            [
                sys.executable, "-m", "gunicorn", "-k", "gnet.gunicorn.Worker",
                "--pythonpath", APPS, "--graceful-timeout", "10", *args, app,
            ],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            env=env,
            cwd=tmp_path,
        )  # fmt: skip
        self.lines: list[str] = []
        self._changed = threading.Condition()
        self._reader = threading.Thread(target=self._read_log, daemon=True)
        self._reader.start()
        try:
            self.address: str | tuple[str, int] = self._listening_address()
        except BaseException:  # a master that never listened still holds a pipe and a pid
            self.close()
            raise

    def _read_log(self) -> None:
        assert self.proc.stderr is not None
        for raw in self.proc.stderr:
            with self._changed:
                self.lines.append(raw.decode(errors="replace").rstrip("\n"))
                self._changed.notify_all()
        with self._changed:
            self.lines.append("<EOF>")
            self._changed.notify_all()

    def wait_until(
        self, check: Callable[[], object], what: str, timeout: float = TIMEOUT
    ) -> object:
        """The first truthy ``check()``, re-checked at each log line (and every 0.1 s).

        Fails at the deadline, or at once when the master has closed its log.
        """
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                result = check()
                if result:
                    return result
                remaining = deadline - time.monotonic()
                if remaining <= 0 or self.lines[-1:] == ["<EOF>"]:  # or the master is gone
                    log = "\n".join(self.lines[-40:])
                    raise AssertionError(f"timed out waiting for {what}; log:\n{log}")
                self._changed.wait(min(remaining, 0.1))

    def find(self, pattern: str) -> list[re.Match[str]]:
        regex = re.compile(pattern)
        return [m for m in map(regex.search, self.lines) if m]

    def _listening_address(self) -> str | tuple[str, int]:
        # With --reuse-port the master binds nothing: the workers say where they serve.
        match = self.wait_until(
            lambda: self.find(r"(?:Listening at:|gnet worker \d+ serving) (\S+)"),
            "the listening address",
        )
        assert isinstance(match, list)
        where = match[0].group(1)
        if where.startswith("unix:"):
            return where[len("unix:") :]
        host, port = where.removeprefix("http://").rsplit(":", 1)
        return (host, int(port))

    def children(self) -> set[int]:
        try:
            with open(f"/proc/{self.proc.pid}/task/{self.proc.pid}/children") as f:
                return {int(pid) for pid in f.read().split()}
        except FileNotFoundError:
            return set()

    def serving(self) -> set[int]:
        """Workers that said they serve and are still the master's children."""
        ready = {int(m.group(1)) for m in self.find(r"gnet worker (\d+) serving")}
        return ready & self.children()

    def wait_workers(self, count: int, exclude: set[int] = frozenset()) -> set[int]:  # type: ignore[assignment]
        """Wait until exactly ``count`` workers serve (none of them in ``exclude``)."""

        def check() -> set[int] | None:
            workers = self.serving()
            live = self.children()
            if len(workers) == count == len(live) and not workers & exclude:
                return workers
            return None

        result = self.wait_until(check, f"{count} serving workers")
        assert isinstance(result, set)
        return result

    def signal(self, signum: int) -> None:
        os.kill(self.proc.pid, signum)

    def wait_exit(self) -> int:
        return self.proc.wait(TIMEOUT)

    def close(self) -> None:
        workers = self.children()
        if self.proc.poll() is None:
            self.proc.kill()
        for pid in workers:  # a SIGKILLed master cannot stop its workers
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        self.proc.wait(TIMEOUT)
        self._reader.join(TIMEOUT)
        assert self.proc.stderr is not None
        self.proc.stderr.close()


@pytest.fixture
def gunicorn(tmp_path: Path) -> Iterator[Callable[..., Gunicorn]]:
    started: list[Gunicorn] = []

    def start(*args: str, app: str = "gunicorn_apps:serve") -> Gunicorn:
        run = Gunicorn(tmp_path, *args, app=app)
        started.append(run)
        return run

    yield start
    for run in started:
        run.close()


class Client:
    """A blocking line-oriented client of ``gunicorn_apps.serve``."""

    def __init__(self, address: str | tuple[str, int]) -> None:
        family = socket.AF_UNIX if isinstance(address, str) else socket.AF_INET
        self.sock = socket.socket(family, socket.SOCK_STREAM)
        self.sock.settimeout(TIMEOUT)
        self.buffer = b""
        try:
            self.sock.connect(address)
        except BaseException:
            self.sock.close()
            raise

    def ask(self, line: str) -> str:
        self.sock.sendall(line.encode() + b"\n")
        while b"\n" not in self.buffer:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionError(f"closed after {self.buffer!r}")
            self.buffer += chunk
        reply, self.buffer = self.buffer.split(b"\n", 1)
        return reply.decode()

    def recv_exactly(self, n: int) -> bytes:
        while len(self.buffer) < n:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionError(f"closed after {len(self.buffer)} of {n} bytes")
            self.buffer += chunk
        data, self.buffer = self.buffer[:n], self.buffer[n:]
        return data

    def close(self) -> None:
        self.sock.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def pid_of_one_connection(address: str | tuple[str, int]) -> int:
    with Client(address) as client:
        return int(client.ask("pid"))


class ClientLoop:
    """Connections one after another from a thread, each asking ``pid``, until stopped."""

    def __init__(self, address: str | tuple[str, int]) -> None:
        self.address = address
        self.pids: list[int] = []
        self.errors: list[BaseException] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.pids.append(pid_of_one_connection(self.address))
            except (OSError, ValueError) as exc:
                self.errors.append(exc)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(TIMEOUT)


# ---------------------------------------------------------------------------


def test_two_workers_serve_200_clients_at_once(gunicorn: Callable[..., Gunicorn]) -> None:
    run = gunicorn("-w", "2", "-b", "127.0.0.1:0")
    workers = run.wait_workers(2)
    clients = [Client(run.address) for _ in range(200)]  # all connected before any asks
    try:
        pids = {int(client.ask("pid")) for client in clients}
        assert [client.ask(f"echo {n}") for n, client in enumerate(clients)] == [
            str(n) for n in range(200)
        ]
    finally:
        for client in clients:
            client.close()
    assert pids <= workers
    run.signal(signal.SIGTERM)
    assert run.wait_exit() == 0


def test_unix_bind_and_a_node_style_listener(
    gunicorn: Callable[..., Gunicorn], tmp_path: Path
) -> None:
    path = str(tmp_path / "g.sock")
    run = gunicorn("-w", "1", "-b", f"unix:{path}", app="gunicorn_apps:node_echo")
    run.wait_workers(1)
    assert run.address == path
    with Client(path) as client:
        assert client.recv_exactly(7) == b"hello\r\n"
        assert client.ask("piped") == "piped"


def test_hup_reload_refuses_and_cuts_nothing(gunicorn: Callable[..., Gunicorn]) -> None:
    run = gunicorn("-w", "2", "-b", "127.0.0.1:0")
    old = run.wait_workers(2)
    in_flight = Client(run.address)  # held open on an old worker across the reload
    try:
        old_pid = int(in_flight.ask("pid"))
        loop = ClientLoop(run.address)
        try:
            run.wait_until(lambda: len(loop.pids) >= 20, "traffic before the reload")
            run.signal(signal.SIGHUP)
            run.wait_until(lambda: len(run.serving() - old) == 2, "two new workers")
            assert in_flight.ask("echo still here") == "still here"  # the old worker drains it
            assert int(in_flight.ask("pid")) == old_pid
        finally:
            in_flight.close()
        new = run.wait_workers(2, exclude=old)
        count = len(loop.pids)
        run.wait_until(lambda: len(loop.pids) >= count + 20, "traffic after the reload")
        loop.stop()
    finally:
        in_flight.close()
    assert loop.errors == []
    assert set(loop.pids) <= old | new and set(loop.pids) & new
    assert run.find(f"Worker exiting \\(pid: {old_pid}\\)")


def test_ttin_adds_a_worker_and_ttou_drains_one(gunicorn: Callable[..., Gunicorn]) -> None:
    run = gunicorn("-w", "2", "-b", "127.0.0.1:0")
    first = run.wait_workers(2)
    run.signal(signal.SIGTTIN)
    three = run.wait_workers(3)
    assert first < three
    run.signal(signal.SIGTTOU)  # the oldest worker gets TERM and drains
    two = run.wait_workers(2)
    assert two < three
    assert pid_of_one_connection(run.address) in two


def test_term_lets_a_long_transfer_finish(gunicorn: Callable[..., Gunicorn]) -> None:
    run = gunicorn("-w", "1", "-b", "127.0.0.1:0")
    (worker,) = run.wait_workers(1)
    chunks, size = 40, 256 * 1024  # 10 MiB, each chunk asked for by the client
    with Client(run.address) as client:
        client.sock.sendall(f"stream {chunks} {size}\n".encode())
        received = [client.recv_exactly(size)]
        run.signal(signal.SIGTERM)  # mid-transfer: the master closes, the worker drains
        run.wait_until(
            lambda: run.find(rf"\[{worker}\] \[INFO\] Draining 1 connection"), "the drain"
        )
        for _ in range(1, chunks):
            client.sock.sendall(b"next\n")
            received.append(client.recv_exactly(size))
        assert [chunk == bytes([i % 256]) * size for i, chunk in enumerate(received)] == [
            True
        ] * chunks
        client.sock.shutdown(socket.SHUT_WR)
        assert client.sock.recv(1) == b""  # the handler ended: the worker lets go
    assert run.wait_exit() == 0
    assert not run.find("graceful timeout")


def test_quit_stops_at_once(gunicorn: Callable[..., Gunicorn]) -> None:
    run = gunicorn("-w", "1", "-b", "127.0.0.1:0")
    run.wait_workers(1)
    with Client(run.address) as client:
        assert client.ask("echo open")
        started = time.monotonic()
        run.signal(signal.SIGQUIT)
        try:
            assert client.sock.recv(1) == b""  # cut, not drained for 10 s
        except ConnectionResetError:
            pass
    assert run.wait_exit() == 0
    assert time.monotonic() - started < 5


def test_a_killed_worker_is_replaced_and_the_other_keeps_serving(
    gunicorn: Callable[..., Gunicorn],
) -> None:
    run = gunicorn("-w", "2", "-b", "127.0.0.1:0")
    victim, survivor = sorted(run.wait_workers(2))
    os.kill(victim, signal.SIGKILL)
    run.wait_until(lambda: victim not in run.children(), "the master to reap the killed worker")
    pids = [pid_of_one_connection(run.address) for _ in range(30)]
    assert victim not in pids and survivor in pids
    workers = run.wait_workers(2, exclude={victim})  # the master started a replacement
    assert survivor in workers


def test_max_requests_recycles_the_worker_by_connections(gunicorn: Callable[..., Gunicorn]) -> None:
    run = gunicorn("-w", "1", "-b", "127.0.0.1:0", "--max-requests", "3")
    run.wait_workers(1)
    pids = [pid_of_one_connection(run.address) for _ in range(9)]
    # The third connection retires its worker; one that races in before the
    # worker stops accepting is still served, so a worker serves 3 or 4.
    assert pids[0] == pids[1] == pids[2] and len(set(pids)) >= 3, pids


def test_reuse_port_gives_each_worker_its_own_socket(gunicorn: Callable[..., Gunicorn]) -> None:
    port = _free_port()
    run = gunicorn("-w", "2", "-b", f"127.0.0.1:{port}", "--reuse-port")
    workers = run.wait_workers(2)
    seen = {pid_of_one_connection(("127.0.0.1", port)) for _ in range(40)}
    assert seen <= workers and seen


def test_tls_settings_are_refused(gunicorn: Callable[..., Gunicorn], tmp_path: Path) -> None:
    (tmp_path / "cert.pem").write_text("not used")
    proc = subprocess.run(
        [
            sys.executable, "-m", "gunicorn", "-k", "gnet.gunicorn.Worker", "--pythonpath", APPS,
            "-b", "127.0.0.1:0", "--certfile", str(tmp_path / "cert.pem"),
            "--keyfile", str(tmp_path / "cert.pem"), "gunicorn_apps:serve",
        ],
        capture_output=True, text=True, timeout=TIMEOUT, cwd=tmp_path,
        env=dict(os.environ, XDG_RUNTIME_DIR=str(tmp_path)),
    )  # fmt: skip
    assert proc.returncode != 0
    assert "gnet.gunicorn.Worker serves plain TCP" in proc.stderr


@pytest.mark.parametrize(
    ("allow", "served"), [("127.0.0.1,::1", True), ("10.0.0.1", False), ("*", True)]
)
def test_proxy_protocol_options_read_the_header_before_the_handler(
    gunicorn: Callable[..., Gunicorn], allow: str, served: bool
) -> None:
    from gnet.proxy_protocol import build_v2

    # gunicorn 24 made --proxy-protocol take a version; before it, a flag meaning "auto".
    mode = ["--proxy-protocol", "v2"] if GUNICORN_MAJOR >= 24 else ["--proxy-protocol"]
    run = gunicorn("-w", "1", "-b", "127.0.0.1:0", *mode, "--proxy-allow-from", allow)
    run.wait_workers(1)
    with Client(run.address) as client:
        client.sock.sendall(build_v2(("203.0.113.5", 5000), ("192.0.2.1", 80)))
        if served:
            assert client.ask("peer") == "203.0.113.5:5000"
        else:  # gunicorn's --proxy-allow-from: the balancer is not trusted
            with pytest.raises(ConnectionError):
                client.ask("peer")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])
