"""The Python examples of README.md and docs/ run, and print what they say.

Each fenced ``python`` block is a program. It runs in a fresh interpreter
(some patch the standard library first, as a program would), must exit 0,
and each line that calls ``print()`` and ends in a comment must print that
comment, in order (``...`` in the comment matches anything). Two tags mark
blocks that are not programs that end by themselves:

- ``python server``: a server on port 8124 that runs until it is stopped.
  It runs on a free port instead; the test connects, sends a line and
  half-closes, and the reply must greet (``hello``) and carry the line back.
- ``python client``: a client of the echo server on port 8124. The test
  starts ``python -m gnet echo`` on a free port for it.

Any other tag on a ``python`` block fails, so no example is skipped unseen.
"""

from __future__ import annotations

import io
import os
import re
import signal
import socket
import subprocess
import sys
import time
import tokenize
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]
TIMEOUT = 30.0
NODE_PORT = re.compile(r"\b8124\b")
FENCE = re.compile(r"^(`{3,})(.*)$")


@dataclass(frozen=True)
class Block:
    page: Path
    line: int
    tag: str
    source: str

    @property
    def id(self) -> str:
        return f"{self.page.relative_to(ROOT)}:{self.line}"


def python_blocks(page: Path) -> Iterator[Block]:
    lines = page.read_text(encoding="utf-8").splitlines()
    i = 0
    while i < len(lines):
        opening = FENCE.match(lines[i])
        if not opening:
            i += 1
            continue
        fence, info = opening.groups()
        end = i + 1
        while end < len(lines) and lines[end].strip() != fence:
            end += 1
        words = info.split()
        if words and words[0] == "python":
            tag = " ".join(words[1:])
            yield Block(page, i + 1, tag, "\n".join(lines[i + 1 : end]) + "\n")
        i = end + 1


BLOCKS = [block for page in PAGES for block in python_blocks(page)]


def expected_prints(source: str) -> list[re.Pattern[str]]:
    """The comment of each line that calls print(), as a pattern for one output line."""
    names: dict[int, set[str]] = {}
    comments: dict[int, str] = {}
    for token in tokenize.generate_tokens(io.StringIO(source).readline):
        if token.type == tokenize.NAME:
            names.setdefault(token.start[0], set()).add(token.string)
        elif token.type == tokenize.COMMENT:
            comments[token.start[0]] = token.string[1:].strip()
    return [
        re.compile(".*".join(map(re.escape, comment.split("..."))))
        for line, comment in sorted(comments.items())
        if "print" in names.get(line, ())
    ]


def check_output(block: Block, stdout: str) -> None:
    lines = iter(stdout.splitlines())
    for pattern in expected_prints(block.source):
        if not any(pattern.fullmatch(line.rstrip()) for line in lines):
            pytest.fail(f"{block.id}: no output line {pattern.pattern!r} in order in:\n{stdout}")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def environment() -> dict[str, str]:
    return dict(os.environ, PYTHONPATH=str(ROOT), PYTHONUNBUFFERED="1")


def run_program(block: Block, source: str, tmp_path: Path) -> None:
    script = tmp_path / "example.py"
    script.write_text(source, encoding="utf-8")
    proc = subprocess.run(
        [sys.executable, str(script)],
        capture_output=True,
        timeout=TIMEOUT,
        cwd=tmp_path,
        env=environment(),
        check=False,
    )
    stdout, stderr = proc.stdout.decode(), proc.stderr.decode()
    assert proc.returncode == 0, f"{block.id} exited {proc.returncode}:\n{stdout}\n{stderr}"
    check_output(block, stdout)


def stop(proc: subprocess.Popen[bytes]) -> str:
    """End a background process; its output so far."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    assert proc.stdout is not None
    output = proc.stdout.read().decode(errors="replace")
    proc.stdout.close()
    return output


def connect_when_listening(proc: subprocess.Popen[bytes], port: int) -> socket.socket:
    deadline = time.monotonic() + TIMEOUT
    while True:
        try:
            return socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT)
        except ConnectionRefusedError:
            if proc.poll() is not None or time.monotonic() > deadline:
                raise
            time.sleep(0.05)


def recv_all(sock: socket.socket) -> bytes:
    chunks = []
    while chunk := sock.recv(65536):
        chunks.append(chunk)
    return b"".join(chunks)


def start(args: list[str], tmp_path: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        args,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        cwd=tmp_path,
        env=environment(),
    )


def test_the_pages_have_examples() -> None:
    tags = {block.tag for block in BLOCKS}
    assert {"", "server", "client"} <= tags, tags
    assert any(block.page.name == "README.md" for block in BLOCKS)


@pytest.mark.parametrize("block", BLOCKS, ids=[block.id for block in BLOCKS])
def test_example(block: Block, tmp_path: Path) -> None:
    if block.tag == "":
        run_program(block, block.source, tmp_path)
        return
    port = free_port()
    source = NODE_PORT.sub(str(port), block.source)
    if block.tag == "server":
        script = tmp_path / "server.py"
        script.write_text(source, encoding="utf-8")
        server = start([sys.executable, str(script)], tmp_path)
        try:
            with connect_when_listening(server, port) as sock:
                sock.sendall(b"world\n")
                sock.shutdown(socket.SHUT_WR)
                reply = recv_all(sock)
        finally:
            output = stop(server)
        assert reply.startswith(b"hello") and b"world\n" in reply, (reply, output)
    elif block.tag == "client":
        echo = start([sys.executable, "-m", "gnet", "echo", str(port)], tmp_path)
        try:
            connect_when_listening(echo, port).close()
            run_program(block, source, tmp_path)
        finally:
            stop(echo)
    else:
        pytest.fail(f"{block.id}: unknown tag 'python {block.tag}' (use server, client or none)")
