"""Reading a PROXY header in a straight-line handler, with today's public API.

Until servers take ``proxy_protocol=`` (phase 2 of issue 14), a handler can
parse the header itself: ``recv()`` into a ProxyParser, ``unshift()`` what
follows the header, then read the application's data as usual.  This shows
that nothing after the header is lost, however the bytes arrive, and that a
bad header ends only that connection.
"""

from __future__ import annotations

import socket
from collections.abc import Callable

import gevent
import gevent.socket
import pytest

import gnet
from gnet.proxy_protocol import ProxyHeader, ProxyParser, ProxyProtocolError, build_v2
from support import port_of

TIMEOUT = 5.0


def read_proxy_header(sock: gnet.Socket, timeout: float = TIMEOUT) -> ProxyHeader:
    """The documented pattern (README, Deployment): the header, the rest back in the buffer."""
    parser = ProxyParser()
    with gevent.Timeout(timeout):
        while True:
            chunk = sock.recv(256)
            if not chunk:
                return parser.feed_eof()  # raises: the peer ended inside the header
            result = parser.feed(chunk)  # type: ignore[arg-type]
            if isinstance(result, ProxyHeader):
                if parser.remainder:
                    sock.unshift(parser.remainder)
                return result


def start(server_factory: Callable[..., gnet.Server], seen: list[object]) -> int:
    def handle(sock: gnet.Socket) -> None:
        with sock:
            try:
                header = read_proxy_header(sock)
            except ProxyProtocolError as err:
                seen.append(err)
                return
            seen.append(header)
            line = sock.readline()
            sock.sendall(
                b"%s:%d said %s" % (header.source_address.encode(), header.source_port, line)
            )  # type: ignore[union-attr]

    return port_of(server_factory(handle))


def client_exchange(port: int, pieces: list[bytes]) -> bytes:
    with gevent.socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT) as client:
        for piece in pieces:
            client.sendall(piece)
            gevent.sleep(0)  # separate segments where the kernel allows
        client.shutdown(socket.SHUT_WR)
        data = b""
        while chunk := client.recv(4096):
            data += chunk
        return data


HEADER = build_v2(("203.0.113.9", 5555), ("198.51.100.1", 443), crc=True)


@pytest.mark.parametrize(
    "pieces",
    [
        [HEADER + b"hi\n"],  # header and data in one segment
        [HEADER[:5], HEADER[5:20], HEADER[20:] + b"h", b"i\n"],  # trickled
    ],
)
def test_header_then_data(server_factory: Callable[..., gnet.Server], pieces: list[bytes]) -> None:
    seen: list[object] = []
    port = start(server_factory, seen)
    assert client_exchange(port, pieces) == b"203.0.113.9:5555 said hi\n"
    (header,) = seen
    assert isinstance(header, ProxyHeader) and header.crc32c is not None


def test_a_bad_header_ends_only_that_connection(server_factory: Callable[..., gnet.Server]) -> None:
    seen: list[object] = []
    port = start(server_factory, seen)
    assert client_exchange(port, [b"GET / HTTP/1.1\r\n\r\n"]) == b""
    assert client_exchange(port, [b"PROXY TCP4 1.2.3.4"]) == b""  # ended inside the header
    assert client_exchange(port, [HEADER + b"again\n"]) == b"203.0.113.9:5555 said again\n"
    assert [getattr(e, "reason", None) for e in seen[:2]] == ["signature", "truncated"]
