"""A client's ``proxy_header``: written first once connected, before anything queued.

Checked against a plain socket (the exact bytes on the wire) and against a
gnet server with ``proxy_protocol`` (the server sees the address the client
claims).
"""

from __future__ import annotations

import socket
from collections.abc import Callable, Iterator
from typing import Any

import gevent.socket
import pytest

import gnet
from gnet.proxy_protocol import ProxyParser, build_v1, build_v2
from support import TIMEOUT, port_of, raises_code, recv_exactly

HEADER = build_v2(("198.51.100.9", 6000), ("192.0.2.1", 443), crc=True)


@pytest.fixture
def listener() -> Iterator[socket.socket]:
    sock = gevent.socket.socket()  # cooperative: gnet connects while the test accepts
    sock.bind(("127.0.0.1", 0))
    sock.listen(4)
    sock.settimeout(TIMEOUT)
    yield sock
    sock.close()


def accepted(listener: socket.socket) -> socket.socket:
    conn, _ = listener.accept()
    conn.settimeout(TIMEOUT)
    return conn


@pytest.mark.parametrize(
    ("option", "expected"),
    [
        (HEADER, HEADER),
        (bytearray(HEADER), HEADER),
        (
            {"version": 1, "source": ("10.0.0.9", 1234), "destination": ("10.0.0.1", 80)},
            build_v1(("10.0.0.9", 1234), ("10.0.0.1", 80)),
        ),
        (
            {"version": "v2", "source": ("::1", 1), "destination": ("::2", 2), "crc": True},
            build_v2(("::1", 1), ("::2", 2), crc=True),
        ),
        ({"version": 2, "command": "LOCAL"}, build_v2(None, None, command="LOCAL")),
    ],
)
def test_header_first__then_what_was_written_while_connecting(
    track: Callable[[Any], Any], listener: socket.socket, option: Any, expected: bytes
) -> None:
    port = listener.getsockname()[1]
    client: gnet.Socket = track(gnet.connect({"port": port, "host": "127.0.0.1", "proxy_header": option}))
    client.write(b"queued while connecting")
    gnet.once(client, "connect", timeout=TIMEOUT)
    with accepted(listener) as conn:
        wanted = len(expected) + len(b"queued while connecting")
        assert recv_exactly(conn, wanted) == expected + b"queued while connecting"
    # The header is the proxy's, not the application's bytes.
    assert client.bytes_written == len(b"queued while connecting")


def test_a_gnet_server_sees_the_claimed_client(
    track: Callable[[Any], Any],
) -> None:
    seen: list[tuple[Any, Any]] = []
    server: gnet.Server = track(
        gnet.create_server(
            {"proxy_protocol": "auto"},
            lambda sock: (seen.append((sock.remote_address, sock.remote_port)), sock.pipe(sock)),
        )
    )
    server.listen(0, "127.0.0.1")
    port = port_of(server)
    for header in (HEADER, {"version": 1, "source": ("10.9.8.7", 65535), "destination": ("10.0.0.1", 1)}):
        with gnet.open_connection(port, "127.0.0.1", proxy_header=header, timeout=TIMEOUT) as client:
            client.sendall(b"ping")
            assert client.recv_exactly(4, timeout=TIMEOUT) == b"ping"
    assert seen == [("198.51.100.9", 6000), ("10.9.8.7", 65535)]


def test_the_header_parses_as_sent(listener: socket.socket, track: Callable[[Any], Any]) -> None:
    port = listener.getsockname()[1]
    track(gnet.connect(port, "127.0.0.1", proxy_header={"source": ("192.0.2.5", 7), "destination": ("192.0.2.6", 8)}))
    with accepted(listener) as conn:
        parser = ProxyParser("v2")
        result = parser.feed(conn.recv(4096))
    assert (result.source_address, result.source_port) == ("192.0.2.5", 7)  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("value", "code"),
    [
        (b"not a header", "ERR_INVALID_ARG_VALUE"),
        (HEADER + b"x", "ERR_INVALID_ARG_VALUE"),  # more than one header
        (HEADER[:-3], "ERR_INVALID_ARG_VALUE"),  # less than one
        ("PROXY UNKNOWN\r\n", "ERR_INVALID_ARG_TYPE"),  # text, not bytes
        ({"version": 3}, "ERR_INVALID_ARG_VALUE"),
        ({"version": 1, "source": ("10.0.0.1", 1), "destination": ("::1", 2)}, "ERR_INVALID_ARG_VALUE"),
        ({"version": 2, "sauce": ("10.0.0.1", 1)}, "ERR_INVALID_ARG_VALUE"),
        ({"version": 1, "source": ("nope", 1), "destination": ("10.0.0.1", 2)}, "ERR_INVALID_IP_ADDRESS"),
    ],
)
def test_bad_header_option__raises_at_once(value: Any, code: str) -> None:
    raises_code(Exception, code, lambda: gnet.connect({"port": 1, "host": "127.0.0.1", "proxy_header": value}))


def test_header_sent_on_a_unix_socket(sock_path: str, track: Callable[[Any], Any]) -> None:
    listener = gevent.socket.socket(socket.AF_UNIX)
    listener.bind(sock_path)
    listener.listen(1)
    listener.settimeout(TIMEOUT)
    try:
        track(gnet.connect({"path": sock_path, "proxy_header": HEADER}))
        conn, _ = listener.accept()
        with conn:
            conn.settimeout(TIMEOUT)
            assert recv_exactly(conn, len(HEADER)) == HEADER
    finally:
        listener.close()
