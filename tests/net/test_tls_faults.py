"""A TLS server against peers that misbehave during the handshake: silence,
trickling, plain HTTP, garbage, resets, and hundreds of stalled handshakes
while a good client is served.  Each failure costs its own connection only,
is reported as 'tlsClientError' with Node's code, and leaks nothing.
"""

from __future__ import annotations

import functools
import socket
import ssl
from collections.abc import Callable
from typing import Any

import gevent
import gevent.socket
import pytest
from gevent.event import AsyncResult
from tls_support import client_options, server_options
from tls_wire import BioEnd

import gnet
import gnet.tls as tls
from support import TIMEOUT, Collector, port_of, reset, wait_until

T = TIMEOUT


@pytest.fixture
def tls_server(track: Any) -> Callable[..., tls.Server]:
    def make(listener: Any = None, **options: Any) -> tls.Server:
        server = track(tls.create_server(server_options(**options), listener))
        server.listen(0, "127.0.0.1")
        gnet.once(server, "listening", timeout=T)
        return server

    return make


@pytest.fixture
def raw(track: Any) -> Callable[[int], Any]:
    """``raw(port)``: a plain TCP client (gevent's socket; closed at teardown)."""

    def make(port: int) -> Any:
        sock = track(gevent.socket.create_connection(("127.0.0.1", port), timeout=T))
        return sock

    return make


def echo(sock: gnet.Socket) -> None:
    sock.pipe(sock)


def good_client_echoes(port: int) -> bytes:
    """A complete TLS echo through the server; returns what came back."""
    with tls.connect(port, "localhost", client_options()) as sock:
        sock.sendall(b"still serving\n")
        return sock.readline(timeout=T)


@functools.lru_cache(maxsize=1)
def client_hello() -> bytes:
    """A real ClientHello, as a TLS client's first flight."""
    end = BioEnd(ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT), False, "localhost")
    end.step()
    return end.outgoing.read()


def test_a_client_that_never_sends_a_client_hello_times_out(tls_server: Any, raw: Any) -> None:
    errors = Collector()
    server = tls_server(echo, handshake_timeout=100)
    server.on("tlsClientError", errors)
    silent = raw(port_of(server))
    # Nothing else waits meanwhile: another client is served.
    assert good_client_echoes(port_of(server)) == b"still serving\n"
    err, sock = errors.wait(1)[0]
    assert err.code == "ERR_TLS_HANDSHAKE_TIMEOUT"
    assert isinstance(err, TimeoutError)
    assert isinstance(sock, tls.TLSSocket)
    # Destroyed (Node v20 leaves it open): the client sees the connection end.
    assert silent.recv(100) == b""
    wait_until(lambda: server.connections == 0)


def test_the_deadline_covers_the_whole_handshake(tls_server: Any, raw: Any) -> None:
    errors = Collector()
    server = tls_server(echo, handshake_timeout=300)
    server.on("tlsClientError", errors)
    trickler = raw(port_of(server))
    hello = client_hello()

    def trickle() -> None:
        # One byte per 20 ms: each byte would restart an idle timer.
        for byte in hello:
            try:
                trickler.send(bytes([byte]))
            except OSError:
                return
            gevent.sleep(0.02)

    g = gevent.spawn(trickle)
    try:
        err, _ = errors.wait(1)[0]
        assert err.code == "ERR_TLS_HANDSHAKE_TIMEOUT"
        assert not g.ready()  # the hello was not even all sent
    finally:
        g.kill()


@pytest.mark.parametrize(
    ("garbage", "code"),
    [
        (b"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n", "ERR_SSL_HTTP_REQUEST"),
        (b"\x16\x03\x01\x00\x05hello" + b"\x00" * 64, None),
        (bytes(range(256)) * 4, None),
    ],
)
def test_garbage_instead_of_a_client_hello(
    tls_server: Any, raw: Any, garbage: bytes, code: str | None
) -> None:
    errors = Collector()
    server = tls_server(echo)
    server.on("tlsClientError", errors)
    sock = raw(port_of(server))
    sock.sendall(garbage)
    err, _ = errors.wait(1)[0]
    assert isinstance(err, ssl.SSLError)
    if code is not None:
        assert err.code == code
    else:
        assert err.code.startswith("ERR_SSL_")
    try:
        assert sock.recv(4096)[:1] in (b"\x15", b"")  # an alert, or the end
    except ConnectionResetError:
        pass
    assert good_client_echoes(port_of(server)) == b"still serving\n"


def test_a_reset_in_the_middle_of_the_handshake(tls_server: Any, raw: Any) -> None:
    errors = Collector()
    server = tls_server(echo)
    server.on("tlsClientError", errors)
    sock = raw(port_of(server))
    sock.sendall(client_hello()[:20])
    reset(sock)
    err, _ = errors.wait(1)[0]
    assert err.code == "ECONNRESET"
    assert isinstance(err, ConnectionResetError)
    assert good_client_echoes(port_of(server)) == b"still serving\n"


def test_a_client_that_hangs_up_in_the_middle_of_the_handshake(tls_server: Any, raw: Any) -> None:
    errors = Collector()
    server = tls_server(echo)
    server.on("tlsClientError", errors)
    sock = raw(port_of(server))
    sock.sendall(client_hello())
    sock.shutdown(socket.SHUT_WR)
    err, _ = errors.wait(1)[0]
    assert (err.code, str(err)) == ("ECONNRESET", "socket hang up")


def test_a_client_whose_server_hangs_up_mid_handshake(track: Any) -> None:
    listener = track(gevent.socket.socket())
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    sock = track(tls.connect(listener.getsockname()[1], "localhost", client_options()))
    failed: AsyncResult = AsyncResult()
    sock.on("error", failed.set)
    conn, _ = listener.accept()
    conn.recv(4096)
    conn.close()
    err = failed.get(timeout=T)
    assert err.code == "ECONNRESET"
    assert "before secure TLS connection was established" in str(err)


def test_500_stalled_handshakes_while_a_good_client_is_served(tls_server: Any, track: Any) -> None:
    errors = Collector()
    secured = Collector()
    server = tls_server(echo, handshake_timeout=60_000)
    server.on("tlsClientError", errors)
    server.on("secureConnection", secured)
    port = port_of(server)
    stalled = [track(gevent.socket.create_connection(("127.0.0.1", port), timeout=T)) for _ in range(500)]
    for sock in stalled[::2]:
        sock.sendall(client_hello()[:30])  # half of them started a ClientHello
    wait_until(lambda: server.connections == 500)
    assert good_client_echoes(port) == b"still serving\n"
    assert len(secured) == 1 and len(errors) == 0
    assert server.connections >= 500  # all still waiting, none holding up the others
    for sock in stalled:
        sock.close()
    wait_until(lambda: server.connections == 0, timeout=10)
    assert all(err.code == "ECONNRESET" for err, _ in errors.calls)


def test_a_tls_client_error_listener_that_raises_costs_one_connection(tls_server: Any, raw: Any) -> None:
    server = tls_server(echo, handshake_timeout=50)

    def boom(err: BaseException, sock: Any) -> None:
        raise RuntimeError("listener bug")

    server.on("tlsClientError", boom)
    raw(port_of(server))
    wait_until(lambda: server.connections == 0)
    assert good_client_echoes(port_of(server)) == b"still serving\n"
