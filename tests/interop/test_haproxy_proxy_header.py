"""gnet's PROXY protocol against a real HAProxy, both directions.

* HAProxy ``send-proxy`` / ``send-proxy-v2`` (with ``proxy-v2-options crc32c,
  unique-id``) in front of a plain listening socket: the header it sends
  parses, names the test client's real source port, and the client's bytes
  follow it untouched.
* ``build_v1``/``build_v2`` (with CRC32C) sent to HAProxy's ``accept-proxy``:
  HAProxy accepts our header and relays the addresses we put in it (seen in
  the v2 header it sends on to the backend); a header with a broken
  checksum makes it drop the connection.
* A gnet server with ``proxy_protocol`` behind HAProxy ``send-proxy`` /
  ``send-proxy-v2``: the handler sees the test client's real address and
  port; with HAProxy outside ``proxy_trusted`` the connection is dropped.
* ``gnet proxy --send-proxy v2`` in front of HAProxy's ``accept-proxy``.

Each HAProxy runs in the foreground (``-db``) on a free port and is killed at
teardown; every wait is bounded.
"""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import gevent
import gevent.socket
import pytest

import gnet
from gnet.proxy_protocol import ProxyHeader, ProxyParser, build_v1, build_v2
from support import PipeReader, port_of, recv_exactly, require_tool, wait_until

TIMEOUT = 10.0


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def is_listening(port: int) -> bool:
    """Whether something listens on 127.0.0.1:``port`` (read from /proc: a probe
    connection would reach the backend through HAProxy and confuse the test)."""
    wanted = f"0100007F:{port:04X}"
    with open("/proc/net/tcp") as table:
        return any(
            fields[1] == wanted and fields[3] == "0A"  # 0A: LISTEN
            for fields in (line.split() for line in table.readlines()[1:])
        )


def wait_listening(port: int, proc: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + TIMEOUT
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"haproxy exited with {proc.returncode}")
        if is_listening(port):
            return
        time.sleep(0.02)
    raise TimeoutError(f"haproxy never listened on {port}")


@pytest.fixture
def haproxy(tmp_path: Path) -> Iterator[Callable[[str, str], int]]:
    """``haproxy(frontend_bind_options, server_line_options)``: the frontend's port.

    The backend is ``backend_port`` filled in by the caller's listening socket.
    """
    exe = require_tool("haproxy")
    procs: list[subprocess.Popen[bytes]] = []

    def start(bind_options: str, server: str) -> int:
        for _attempt in range(5):
            port = free_port()
            config = tmp_path / "haproxy.cfg"
            config.write_text(
                "global\n  maxconn 64\n"
                "defaults\n  mode tcp\n  timeout connect 5s\n  timeout client 10s\n"
                "  timeout server 10s\n"
                f"frontend fe\n  bind 127.0.0.1:{port} {bind_options}\n"
                "  unique-id-format %{+X}o\\ %ci:%cp\n  default_backend be\n"
                f"backend be\n  server s1 {server}\n"
            )
            proc = subprocess.Popen(
                [exe, "-db", "-f", str(config)],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            procs.append(proc)
            try:
                wait_listening(port, proc)
            except RuntimeError:
                continue  # the port was taken meanwhile: another one
            return port
        pytest.fail("haproxy would not start")

    yield start
    for proc in procs:
        if proc.poll() is None:
            proc.kill()
        proc.wait(TIMEOUT)


@pytest.fixture
def backend() -> Iterator[socket.socket]:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(8)
    sock.settimeout(TIMEOUT)
    yield sock
    sock.close()


def read_header(conn: socket.socket, want_after: int) -> tuple[ProxyHeader, bytes]:
    """Parse the header off ``conn``, then read until ``want_after`` bytes of data follow it."""
    parser = ProxyParser()
    result = None
    while not isinstance(result, ProxyHeader):
        chunk = conn.recv(4096)
        assert chunk, "the connection ended inside the PROXY header"
        result = parser.feed(chunk)
    rest = parser.remainder
    while len(rest) < want_after:
        chunk = conn.recv(4096)
        assert chunk
        rest += chunk
    return result, rest


@pytest.mark.parametrize("send", ["send-proxy", "send-proxy-v2 proxy-v2-options crc32c,unique-id"])
def test_haproxy_header_names_the_real_client(
    haproxy: Callable[[str, str], int], backend: socket.socket, send: str
) -> None:
    port = haproxy("", f"127.0.0.1:{backend.getsockname()[1]} {send}")
    with socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT) as client:
        client.sendall(b"hello after the header")
        conn, _ = backend.accept()
        with conn:
            conn.settimeout(TIMEOUT)
            header, rest = read_header(conn, len(b"hello after the header"))
        client_port = client.getsockname()[1]
    assert header.version == (2 if "v2" in send else 1)
    assert (header.source_address, header.source_port) == ("127.0.0.1", client_port)
    assert (header.destination_address, header.destination_port) == ("127.0.0.1", port)
    assert rest == b"hello after the header"
    if header.version == 2:
        assert header.crc32c is not None  # present, and verified by the parser
        assert header.unique_id == f"7F000001:{client_port:04X}".encode()


@pytest.mark.parametrize(
    "make_header",
    [
        lambda: build_v1(("203.0.113.7", 4242), ("198.51.100.1", 443)),
        lambda: build_v2(("203.0.113.7", 4242), ("198.51.100.1", 443), crc=True),
        lambda: build_v2(("2001:db8::7", 4242), ("2001:db8::1", 443), tlvs=[(0xE0, b"x")]),
    ],
)
def test_haproxy_accepts_our_header_and_relays_its_addresses(
    haproxy: Callable[[str, str], int], backend: socket.socket, make_header: Callable[[], bytes]
) -> None:
    sent = make_header()
    port = haproxy("accept-proxy", f"127.0.0.1:{backend.getsockname()[1]} send-proxy-v2")
    with socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT) as client:
        client.sendall(sent + b"payload")
        conn, _ = backend.accept()
        with conn:
            conn.settimeout(TIMEOUT)
            relayed, rest = read_header(conn, len(b"payload"))
    ours = ProxyParser().feed(sent)
    assert isinstance(ours, ProxyHeader)
    assert (relayed.source_address, relayed.source_port) == (ours.source_address, 4242)
    assert (relayed.destination_address, relayed.destination_port) == (
        ours.destination_address,
        443,
    )
    assert rest == b"payload"


def test_haproxy_drops_a_header_with_a_bad_checksum(
    haproxy: Callable[[str, str], int], backend: socket.socket
) -> None:
    good = build_v2(("203.0.113.7", 4242), ("198.51.100.1", 443), crc=True)
    bad = good[:-1] + bytes([good[-1] ^ 0xFF])
    port = haproxy("accept-proxy", f"127.0.0.1:{backend.getsockname()[1]} send-proxy-v2")
    with socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT) as client:
        client.sendall(bad + b"payload")
        try:
            assert client.recv(100) == b""  # HAProxy closes without relaying
        except ConnectionResetError:
            pass
    backend.settimeout(0.5)
    with pytest.raises(TimeoutError):
        backend.accept()[0].close()


# ---------------------------------------------------------------------------
# gnet servers with proxy_protocol behind HAProxy, and gnet proxy --send-proxy into it


@pytest.mark.parametrize(("send", "mode"), [("send-proxy", "v1"), ("send-proxy-v2", "v2")])
def test_gnet_server_behind_haproxy_sees_the_client_s_real_port(
    haproxy: Callable[[str, str], int], server_factory: Callable[..., gnet.Server], send: str, mode: str
) -> None:
    seen: list[tuple[object, object, object]] = []

    def handler(sock: gnet.Socket) -> None:
        seen.append((sock.remote_address, sock.remote_port, sock.proxy))
        sock.pipe(sock)

    server = server_factory(handler, proxy_protocol=mode, proxy_trusted="127.0.0.1")
    port = haproxy("", f"127.0.0.1:{port_of(server)} {send}")
    with gevent.socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT) as client:
        client.sendall(b"through haproxy")
        assert recv_exactly(client, 15) == b"through haproxy"
        client_port = client.getsockname()[1]
    ((address, remote_port, header),) = seen
    assert (address, remote_port) == ("127.0.0.1", client_port)
    assert isinstance(header, ProxyHeader) and header.version == int(mode[1])
    assert header.destination_port == port


def test_gnet_server_drops_haproxy_when_it_is_not_trusted(
    haproxy: Callable[[str, str], int], server_factory: Callable[..., gnet.Server]
) -> None:
    server = server_factory(lambda sock: sock.pipe(sock), proxy_protocol="v2", proxy_trusted="10.0.0.0/8")
    drops: list[object] = []
    server.on("drop", drops.append)
    port = haproxy("", f"127.0.0.1:{port_of(server)} send-proxy-v2")
    with gevent.socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT) as client:
        client.sendall(b"x")
        try:
            assert client.recv(100) == b""
        except ConnectionResetError:
            pass
    # HAProxy may retry a backend connection that failed early (its default
    # `retries 3`), so the server can drop it more than once: every time as untrusted.
    wait_until(lambda: drops, message="no 'drop'")
    assert {d["reason"] for d in drops} == {"proxy_untrusted"}  # type: ignore[index]


def test_gnet_proxy_send_proxy_v2_into_haproxy_accept_proxy(
    haproxy: Callable[[str, str], int],
) -> None:
    # client -> gnet proxy --send-proxy v2 -> HAProxy accept-proxy -> backend:
    # HAProxy takes our header and relays the test client's address onward.
    backend = gevent.socket.socket()
    backend.bind(("127.0.0.1", 0))
    backend.listen(4)
    try:
        port = haproxy("accept-proxy", f"127.0.0.1:{backend.getsockname()[1]} send-proxy-v2")
        proc = subprocess.Popen(
            [sys.executable, "-m", "gnet", "proxy", "0", str(port), "--send-proxy", "v2"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        try:
            out = PipeReader(proc.stdout)
            line = out.expect(r"^listening on ", TIMEOUT).string
            proxy_port = int(line.split(",")[0].rsplit(":", 1)[1])
            with gevent.socket.create_connection(("127.0.0.1", proxy_port), timeout=TIMEOUT) as client:
                client.sendall(b"payload")
                with gevent.Timeout(TIMEOUT):
                    conn, _ = backend.accept()
                with conn:
                    conn.settimeout(TIMEOUT)
                    relayed, rest = read_header(conn, len(b"payload"))
                client_port = client.getsockname()[1]
        finally:
            proc.terminate()
            proc.communicate(timeout=TIMEOUT)
    finally:
        backend.close()
    assert (relayed.source_address, relayed.source_port) == ("127.0.0.1", client_port)
    assert (relayed.destination_address, relayed.destination_port) == ("127.0.0.1", proxy_port)
    assert rest == b"payload"
