"""The CLI's graceful stop and its PROXY protocol options, as real processes.

The case from issue 14: SIGTERM while clients are still sending echo data
must lose nothing for clients that keep sending until their own end within
the shutdown timeout (before, every client got a FIN at the signal and the
data in flight was lost).
"""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager

import gevent
import pytest

from gnet.proxy_protocol import ProxyParser, build_v2
from support import PipeReader, raw_client, recv_all, recv_exactly

CLI_TIMEOUT = 20.0
GREETING = b"hello\r\n"


class Gnet:
    """``python -m gnet ARGS``; stdout and stderr read as they come."""

    def __init__(self, *args: str) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "gnet", *args],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        self.err = PipeReader(self.proc.stderr)
        self.out = PipeReader(self.proc.stdout, context=lambda: f"stderr {self.err.text!r}")
        line = self.out.expect(r"^listening on ", CLI_TIMEOUT).string
        self.port = int(line.split(",")[0].rsplit(":", 1)[1])

    def wait(self) -> tuple[str, str]:
        out, err = self.proc.communicate(timeout=CLI_TIMEOUT)
        return self.out.rest + out.decode(), self.err.text + err.decode()

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.communicate(timeout=CLI_TIMEOUT)


@contextmanager
def gnet_server(*args: str) -> Iterator[Gnet]:
    process = Gnet(*args)
    try:
        yield process
    finally:
        process.close()


def test_sigterm_loses_nothing_for_clients_that_keep_sending() -> None:
    chunks, size, n_clients = 120, 16384, 4  # 1.9 MiB each, a chunk every 10 ms
    with gnet_server("echo", "0", "--shutdown-timeout", "15") as server:
        clients = [raw_client(server.port, timeout=CLI_TIMEOUT) for _ in range(n_clients)]
        echoed = [0] * n_clients
        signalled = gevent.event.Event()

        def read(i: int) -> bytes:
            got = bytearray(recv_exactly(clients[i], len(GREETING)))
            while chunk := clients[i].recv(1 << 20):
                got += chunk
                echoed[i] = len(got) - len(GREETING)
            return bytes(got)

        def send(i: int) -> bytes:
            sent = bytearray()
            for n in range(chunks):
                chunk = bytes([(n + i) % 256]) * size
                clients[i].sendall(chunk)
                sent += chunk
                gevent.sleep(0.01)
            assert signalled.is_set(), "the signal came after the clients were done"
            clients[i].shutdown(socket.SHUT_WR)  # the client's own end
            return bytes(sent)

        readers = [gevent.spawn(read, i) for i in range(n_clients)]
        senders = [gevent.spawn(send, i) for i in range(n_clients)]
        try:
            with gevent.Timeout(CLI_TIMEOUT):
                while min(echoed) < 20 * size:  # every client is well into its stream
                    gevent.sleep(0.01)
            started = time.monotonic()
            server.proc.send_signal(signal.SIGTERM)
            server.err.wait_for("SIGTERM: shutting down", CLI_TIMEOUT)
            signalled.set()
            # Accepting stops at once, while the clients are still sending.
            with gevent.Timeout(CLI_TIMEOUT):
                while True:
                    try:
                        raw_client(server.port).close()
                    except ConnectionRefusedError:
                        break
                    gevent.sleep(0.01)
            assert not all(s.ready() for s in senders), "the clients were still sending"
            sent = [s.get(timeout=CLI_TIMEOUT) for s in senders]
            got = [r.get(timeout=CLI_TIMEOUT) for r in readers]
        finally:
            gevent.killall(readers + senders)
            for client in clients:
                client.close()
        out, err = server.wait()
        stopped_after = time.monotonic() - started
    assert server.proc.returncode == 0, err
    for i in range(n_clients):
        assert got[i] == GREETING + sent[i], f"client {i}: {len(got[i])} of {len(sent[i]) + 7}"
    assert stopped_after < 15, "it stopped when the last client ended, not at the timeout"
    assert "Traceback" not in err


def test_idle_clients_are_ended_after_idle_after() -> None:
    with gnet_server("echo", "0", "--shutdown-timeout", "15", "--idle-after", "0.2") as server:
        with raw_client(server.port, timeout=CLI_TIMEOUT) as idle:
            assert recv_exactly(idle, len(GREETING)) == GREETING
            started = time.monotonic()
            server.proc.send_signal(signal.SIGTERM)
            assert recv_all(idle) == b""  # ended, with a FIN
            assert time.monotonic() - started < 10
        server.wait()
    assert server.proc.returncode == 0


def test_idle_after_none_waits_for_the_timeout() -> None:
    with gnet_server("echo", "0", "--shutdown-timeout", "0.5", "--idle-after", "none") as server:
        with raw_client(server.port, timeout=CLI_TIMEOUT) as idle:
            assert recv_exactly(idle, len(GREETING)) == GREETING
            server.proc.send_signal(signal.SIGTERM)
            assert recv_all(idle) == b""
        out, err = server.wait()
    assert "destroying 1 connection(s) at the deadline" in err


def test_echo_with_proxy_protocol_logs_the_real_client() -> None:
    header = build_v2(("203.0.113.50", 40000), ("192.0.2.1", 8124))
    with gnet_server(
        "echo", "0", "--proxy-protocol", "v2", "--proxy-trusted", "127.0.0.1, 10.0.0.0/8"
    ) as server:
        with raw_client(server.port, timeout=CLI_TIMEOUT) as client:
            client.sendall(header + b"hi")
            assert recv_exactly(client, len(GREETING) + 2) == GREETING + b"hi"
        server.err.wait_for("client connected (203.0.113.50:40000)", CLI_TIMEOUT)
        with raw_client(server.port, timeout=CLI_TIMEOUT) as bad:
            bad.sendall(b"no header here\r\n")
            assert recv_all(bad) == b""
        server.err.wait_for("proxy_rejected", CLI_TIMEOUT)
        server.proc.send_signal(signal.SIGTERM)
        out, err = server.wait()
    assert server.proc.returncode == 0 and "Traceback" not in err


@pytest.mark.parametrize(
    "args",
    [
        ("--proxy-trusted", "127.0.0.1"),  # without --proxy-protocol
        ("--proxy-protocol", "v2", "--proxy-trusted", "not-an-address"),
        ("--idle-after", "soon"),
    ],
)
def test_bad_options_are_one_line(args: tuple[str, ...]) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "gnet", "echo", "0", *args],
        capture_output=True,
        timeout=CLI_TIMEOUT,
    )
    assert result.returncode != 0
    assert len(result.stderr.decode().strip().splitlines()) == 1, result.stderr


def test_proxy_send_proxy_names_the_client_to_the_target() -> None:
    listener = gevent.socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    target = listener.getsockname()[1]
    try:
        with gnet_server("proxy", "0", str(target), "--send-proxy", "v2") as proxy:
            with raw_client(proxy.port, timeout=CLI_TIMEOUT) as client:
                client.sendall(b"payload")
                with gevent.Timeout(CLI_TIMEOUT):
                    conn, _ = listener.accept()
                with conn:
                    parser = ProxyParser("v2")
                    header = parser.feed(conn.recv(4096))
                    rest = parser.remainder or conn.recv(4096)
                client_port = client.getsockname()[1]
            proxy.proc.send_signal(signal.SIGTERM)
            proxy.wait()
    finally:
        listener.close()
    assert (header.source_address, header.source_port) == ("127.0.0.1", client_port)  # type: ignore[union-attr]
    assert header.destination_port == proxy.port  # type: ignore[union-attr]
    assert rest == b"payload"
