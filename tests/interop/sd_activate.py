"""Running programs under the real systemd-socket-activate, for the tests (not a test module).

``SocketActivate`` starts ``systemd-socket-activate -l ... PROGRAM``, waits
(bounded) for its "Listening on ADDRESS as FD." lines, and kills it at
``close()``.  A TCP ``-l`` needs a fixed port: ``free_port()`` finds one by
binding port 0, and ``start_activated`` retries with another when the tool
loses the race for it.
"""

from __future__ import annotations

import os
import select
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Sequence

TIMEOUT = 15.0


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class SocketActivate:
    """One ``systemd-socket-activate`` run; its program inherits stdout and stderr pipes."""

    def __init__(
        self, tool: str, listens: Sequence[str], program: Sequence[str], options: Sequence[str] = ()
    ) -> None:
        args = [tool]
        for address in listens:
            args += ["-l", address]
        self.proc = subprocess.Popen(
            [*args, *options, *program],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        self.stderr = b""
        self.stdout = b""

    def wait_listening(self, count: int) -> bool:
        """Whether the tool said it listens on ``count`` addresses (False: it gave up)."""
        deadline = time.monotonic() + TIMEOUT
        while self.stderr.count(b"Listening on ") < count:
            if not self._read_stderr(deadline):
                return False
        return True

    def wait_stderr(self, text: bytes) -> bytes:
        """Everything on stderr up to ``text`` (fails if the tool ends or stays silent first)."""
        deadline = time.monotonic() + TIMEOUT
        while text not in self.stderr:
            if not self._read_stderr(deadline):
                raise EOFError(f"stderr ended before {text!r}: {self.stderr!r}")
        return self.stderr

    def _read_stderr(self, deadline: float) -> bool:
        assert self.proc.stderr is not None
        remaining = deadline - time.monotonic()
        ready, _, _ = select.select([self.proc.stderr], [], [], max(0.0, remaining))
        if not ready:
            raise TimeoutError(f"systemd-socket-activate said nothing in time: {self.stderr!r}")
        chunk = os.read(self.proc.stderr.fileno(), 65536)
        self.stderr += chunk
        return bool(chunk)

    def read_line(self, timeout: float = TIMEOUT) -> bytes:
        """One line of the program's stdout."""
        assert self.proc.stdout is not None
        deadline = time.monotonic() + timeout
        while b"\n" not in self.stdout:
            ready, _, _ = select.select(
                [self.proc.stdout], [], [], max(0.0, deadline - time.monotonic())
            )
            if not ready:
                raise TimeoutError(f"no line on stdout; stderr so far: {self.stderr!r}")
            chunk = os.read(self.proc.stdout.fileno(), 65536)
            if not chunk:
                raise EOFError(f"stdout ended; stderr: {self.stderr!r}")
            self.stdout += chunk
        line, self.stdout = self.stdout.split(b"\n", 1)
        return line

    def signal(self, signum: int) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signum)

    def wait(self, timeout: float = TIMEOUT) -> tuple[int, bytes, bytes]:
        """Exit status, rest of stdout, rest of stderr."""
        out, err = self.proc.communicate(timeout=timeout)
        return self.proc.returncode, self.stdout + out, self.stderr + err

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
        self.proc.communicate(timeout=TIMEOUT)  # reaps it and closes the pipes


def start_activated(
    tool: str,
    make_listens: Callable[[], Sequence[str]],
    program: Sequence[str],
    options: Sequence[str] = (),
) -> tuple[SocketActivate, Sequence[str]]:
    """Start the tool on fresh addresses (retrying a port lost to a race); returns them too."""
    for _attempt in range(5):
        listens = make_listens()
        run = SocketActivate(tool, listens, program, options)
        if run.wait_listening(len(listens)):
            return run, listens
        run.close()
    raise RuntimeError("systemd-socket-activate could not listen")
