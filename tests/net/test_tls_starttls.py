"""STARTTLS: a plain connection upgraded to TLS, in both styles and on both sides.

The peer nobody here wrote for the upgraded end is Python's ssl driven over
MemoryBIOs (tls_wire.BioSocket), sending its ClientHello in the same packet
as its STARTTLS command: the server's plain socket has those bytes buffered
already when it upgrades, and they must reach the handshake.
"""

from __future__ import annotations

import hashlib
import ssl
from collections.abc import Callable
from typing import Any

import gevent
import gevent.socket
import pytest
from gevent.event import AsyncResult
from greenlet import getcurrent
from tls_support import client_options, server_options, tls_certs
from tls_wire import BioEnd, BioSocket

import gnet
import gnet.tls as tls
from support import TIMEOUT, Collector, payload, port_of, wait_until

T = TIMEOUT


def stdlib_client_context() -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.load_verify_locations(cadata=tls_certs().ca.cert.decode())
    return context


def read_line(sock: Any, buffered: bytes = b"") -> tuple[bytes, bytes]:
    """A line from a raw socket, and whatever came after it in the same reads."""
    data = buffered
    while b"\n" not in data:
        chunk = sock.recv(65536)
        assert chunk, "the server closed"
        data += chunk
    line, _, rest = data.partition(b"\n")
    return line + b"\n", rest


def starttls_client(port: int, track: Any, plain_first: int = 0) -> tuple[BioSocket, bytes]:
    """Connect, read the greeting, send STARTTLS and the ClientHello in one packet,
    read the answer (and ``plain_first`` plain bytes), then finish the handshake."""
    sock = track(gevent.socket.create_connection(("127.0.0.1", port), timeout=T))
    greeting, rest = read_line(sock)
    assert greeting == b"220 ready\r\n"
    first = BioEnd(stdlib_client_context(), False, "localhost")
    first.step()
    hello = first.outgoing.read()
    sock.sendall(b"STARTTLS\r\n" + hello)  # one packet: the command and the ClientHello
    answer, rest = read_line(sock, rest)
    assert answer == b"220 go ahead\r\n"
    while len(rest) < plain_first:
        rest += sock.recv(65536)
    plain, rest = rest[:plain_first], rest[plain_first:]
    conn = BioSocket.__new__(BioSocket)
    conn.sock, conn.incoming, conn.outgoing, conn.obj = sock, first.incoming, first.outgoing, first.obj
    if rest:
        conn.incoming.write(rest)
    conn.handshake()
    return conn, plain


@pytest.fixture
def plain_server(track: Any) -> Callable[..., gnet.Server]:
    def make(listener: Any, **options: Any) -> gnet.Server:
        server = track(gnet.create_server(options, listener))
        server.listen(0, "127.0.0.1")
        gnet.once(server, "listening", timeout=T)
        return server

    return make


@pytest.fixture
def secure_context() -> tls.SecureContext:
    return tls.create_secure_context(server_options())


# --------------------------------------------------------------------------
# the server side


def test_start_tls_in_a_straight_line_server(plain_server: Any, secure_context: Any, track: Any) -> None:
    result: AsyncResult = AsyncResult()

    def handle(sock: gnet.Socket) -> None:
        with sock:
            sock.sendall(b"220 ready\r\n")
            assert sock.readline(timeout=T) == b"STARTTLS\r\n"
            assert sock.readable_length > 0  # the ClientHello came with the command
            sock.sendall(b"220 go ahead\r\n")
            secure = sock.start_tls(secure_context, server_side=True, timeout=T)
            with secure:
                line = secure.readline(timeout=T)
                secure.sendall(b"tls: " + line)
                result.set((line, secure.get_protocol(), secure.servername, getcurrent()))

    server = plain_server(handle)
    conn, _ = starttls_client(port_of(server), track)
    conn.sendall(b"hello\n")
    assert conn.recv() == b"tls: hello\n"
    line, protocol, servername, _ = result.get(timeout=T)
    assert (line, protocol, servername) == (b"hello\n", "TLSv1.3", "localhost")
    assert conn.recv_all() == b""  # close_notify, then the end


def test_start_tls_in_a_node_style_server(plain_server: Any, secure_context: Any, track: Any) -> None:
    secured: AsyncResult = AsyncResult()

    def on_connection(sock: gnet.Socket) -> None:
        buffered = b""

        def on_data(chunk: bytes) -> None:
            nonlocal buffered
            buffered += chunk
            if b"\r\n" not in buffered:
                return
            command, _, rest = buffered.partition(b"\r\n")
            assert command == b"STARTTLS"
            sock.pause()
            sock.remove_listener("data", on_data)
            sock.unshift(rest)
            sock.write(b"220 go ahead\r\n")
            secure = tls.TLSSocket(sock, {"is_server": True, "secure_context": secure_context})
            secure.on("secure", lambda: secured.set(secure))
            secure.on("data", lambda data: secure.write(b"tls: " + data))
            secure.on("end", secure.end)

        sock.write(b"220 ready\r\n")
        sock.on("data", on_data)

    server = plain_server(on_connection)
    conn, _ = starttls_client(port_of(server), track)
    secure = secured.get(timeout=T)
    assert secure.encrypted and secure.get_protocol() == "TLSv1.3"
    conn.sendall(b"hello")
    assert conn.recv() == b"tls: hello"
    conn.close_notify()
    assert conn.recv_all() == b""


def test_queued_plain_writes_go_out_before_the_handshake(
    plain_server: Any, secure_context: Any, track: Any
) -> None:
    big = payload(3 * 1024 * 1024)

    def handle(sock: gnet.Socket) -> None:
        sock.sendall(b"220 ready\r\n")
        assert sock.readline(timeout=T) == b"STARTTLS\r\n"
        sock.write(b"220 go ahead\r\n")
        sock.write(big)  # more than the kernel takes at once: still queued at the upgrade
        secure = sock.start_tls(secure_context, server_side=True, timeout=T)
        secure.sendall(b"secret")
        secure.end()

    server = plain_server(handle)
    conn, plain = starttls_client(port_of(server), track, plain_first=len(big))
    assert hashlib.sha256(plain).digest() == hashlib.sha256(big).digest()
    assert conn.recv_all() == b"secret"


def test_start_tls_times_out(plain_server: Any, secure_context: Any, track: Any) -> None:
    raised: AsyncResult = AsyncResult()

    def handle(sock: gnet.Socket) -> None:
        try:
            sock.start_tls(secure_context, server_side=True, timeout=0.1)
        except BaseException as exc:
            raised.set(exc)
            raise

    server = plain_server(handle)
    client = track(gevent.socket.create_connection(("127.0.0.1", port_of(server)), timeout=T))
    err = raised.get(timeout=T)
    assert isinstance(err, TimeoutError) and err.code == "ERR_TLS_HANDSHAKE_TIMEOUT"
    assert client.recv(100) == b""  # the connection is gone
    wait_until(lambda: server.connections == 0)


def test_start_tls_refuses_a_flowing_or_closed_socket(plain_server: Any, secure_context: Any) -> None:
    raised: list[Any] = []

    def handle(sock: gnet.Socket) -> None:
        sock.resume()
        try:
            sock.start_tls(secure_context, server_side=True)
        except gnet.Error as exc:
            raised.append(exc.code)
        sock.pause()
        sock.destroy()
        try:
            sock.start_tls(secure_context, server_side=True)
        except gnet.Error as exc:
            raised.append(exc.code)

    server = plain_server(handle)
    with gnet.open_connection(port_of(server), "127.0.0.1", timeout=T):
        wait_until(lambda: len(raised) == 2)
    assert raised == ["ERR_GNET_FLOWING", "ERR_SOCKET_CLOSED"]


# --------------------------------------------------------------------------
# the client side, against a gnet server that upgrades


def starttls_server(plain_server: Any, secure_context: Any) -> gnet.Server:
    def handle(sock: gnet.Socket) -> None:
        with sock:
            sock.sendall(b"220 ready\r\n")
            assert sock.readline(timeout=T) == b"STARTTLS\r\n"
            sock.sendall(b"220 go ahead\r\n")
            with sock.start_tls(secure_context, server_side=True, timeout=T) as secure:
                for line in iter(lambda: secure.readline(timeout=T), b""):
                    secure.sendall(b"tls: " + line)

    return plain_server(handle)  # type: ignore[no-any-return]


def test_a_client_upgrades_from_another_greenlet(plain_server: Any, secure_context: Any) -> None:
    server = starttls_server(plain_server, secure_context)
    plain = gnet.open_connection(port_of(server), "127.0.0.1", timeout=T)
    assert plain.readline(timeout=T) == b"220 ready\r\n"
    plain.sendall(b"STARTTLS\r\n")
    assert plain.readline(timeout=T) == b"220 go ahead\r\n"
    secure = plain.start_tls(client_options(), server_hostname="localhost", timeout=T)
    with secure:
        assert (secure.authorized, secure.servername) == (True, "localhost")
        secure.sendall(b"one\n")
        assert secure.readline(timeout=T) == b"tls: one\n"
    wait_until(lambda: plain.destroyed and secure.destroyed)
    assert plain.bytes_read > secure.bytes_read > 0  # the wire, and the plaintext


def test_a_client_upgrades_in_its_own_greenlet(plain_server: Any, secure_context: Any) -> None:
    server = starttls_server(plain_server, secure_context)
    result: AsyncResult = AsyncResult()
    closes = Collector()

    def talk(plain: gnet.Socket) -> None:
        me = getcurrent()
        plain.readline(timeout=T)
        plain.sendall(b"STARTTLS\r\n")
        plain.readline(timeout=T)
        secure = plain.start_tls(client_options(servername="localhost"), timeout=T)
        secure.on("close", lambda *_: closes(getcurrent() is me))
        plain.on("close", lambda *_: closes(getcurrent() is me))
        secure.sendall(b"two\n")
        result.set(secure.readline(timeout=T))
        secure.end()

    plain = gnet.connect(port_of(server), "127.0.0.1")
    plain.on("connect", lambda: talk(plain))
    assert result.get(timeout=T) == b"tls: two\n"
    closes.wait(2)
    assert closes.firsts == [True, True]  # both closed in the connection's greenlet


def test_tls_connect_over_a_socket_node_style(plain_server: Any, secure_context: Any) -> None:
    server = starttls_server(plain_server, secure_context)
    answer: AsyncResult = AsyncResult()
    plain = gnet.connect(port_of(server), "127.0.0.1")
    lines = b""

    def on_data(chunk: bytes) -> None:
        nonlocal lines
        lines += chunk
        if lines == b"220 ready\r\n":
            plain.write(b"STARTTLS\r\n")
        elif lines == b"220 ready\r\n220 go ahead\r\n":
            plain.remove_listener("data", on_data)
            plain.pause()
            secure = tls.connect({"socket": plain, "servername": "localhost", **client_options()})
            secure.on("secureConnect", lambda: secure.write(b"three\n"))
            secure.on("data", lambda data: (answer.set(data), secure.end()))
            secure.on("error", answer.set_exception)

    plain.on("data", on_data)
    assert answer.get(timeout=T) == b"tls: three\n"


def test_tls_connect_over_a_socket_still_connecting(tls_echo_server: Any) -> None:
    plain = gnet.connect(port_of(tls_echo_server), "127.0.0.1")
    assert plain.connecting
    secure = tls.connect(socket=plain, servername="localhost", **client_options())
    got: AsyncResult = AsyncResult()
    secure.on("secureConnect", lambda: secure.end(b"four"))
    secure.on("data", got.set)
    secure.on("error", got.set_exception)
    assert got.get(timeout=T) == b"four"
    wait_until(lambda: plain.destroyed)


def test_a_failed_upgrade_raises_the_handshakes_error(tls_echo_server: Any) -> None:
    plain = gnet.open_connection(port_of(tls_echo_server), "127.0.0.1", timeout=T)
    errors = Collector()
    with pytest.raises(ssl.SSLCertVerificationError) as info:
        secure = plain.start_tls({}, server_hostname="localhost", timeout=T)  # the system's CAs
        secure.on("error", errors)
    assert info.value.code == "UNABLE_TO_VERIFY_LEAF_SIGNATURE"  # type: ignore[attr-defined]
    wait_until(lambda: plain.destroyed)
    assert not errors


@pytest.fixture
def tls_echo_server(track: Any) -> tls.Server:
    server = track(tls.create_server(server_options(), lambda s: s.pipe(s)))
    server.listen(0, "127.0.0.1")
    gnet.once(server, "listening", timeout=T)
    return server  # type: ignore[no-any-return]
