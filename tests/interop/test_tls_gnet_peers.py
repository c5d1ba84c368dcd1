"""gnet's TLS pieces put together the way the transport will, against node.

A blocking socket stands in for the transport: the server reads the
ClientHello itself (parse_client_hello), refuses an ALPN mismatch with an
alert as Node does, picks the SNI context (SNIContexts.resolve), then runs
an SSLObject over MemoryBIOs fed with the bytes it already read (STARTTLS
included); the client uses a gnet client context and handshake_verdict.
Node's tls_peer.js is the other side.
"""

from __future__ import annotations

import os
import socket
import ssl
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from tls_support import tls_certs, write_certs
from tls_wire import PEER_TIMEOUT, BioSocket, Peer, connect_tls, node_tls

from gnet.errors import TLSError, tls_error
from gnet.tls import (
    ClientRole,
    SecureContext,
    ServerRole,
    SNIContexts,
    TrustStore,
    create_secure_context,
    handshake_verdict,
    parse_client_hello,
    select_alpn,
)
from gnet.tls.errors import from_ssl_error
from gnet.tls.hello import ALERT_NO_APPLICATION_PROTOCOL, alert_record
from support import require_tool


@pytest.fixture
def node() -> str:
    return require_tool("node")


@pytest.fixture
def files(tmp_path: Path) -> dict[str, str]:
    paths = write_certs(tmp_path)
    out = {name: str(p) for name, p in paths.items()}
    out.update({f"{name}.key": str(p.with_suffix(".key")) for name, p in paths.items()})
    return out


@pytest.fixture
def peers() -> Iterator[list[Peer]]:
    started: list[Peer] = []
    yield started
    for peer in started:
        peer.close()


def server_secure() -> SecureContext:
    certs = tls_certs()
    return create_secure_context(
        {"cert": certs.server.cert, "key": certs.server.key, "ca": certs.ca.cert}
    )


def accept_tls(
    listener: socket.socket,
    secure: SecureContext,
    role: ServerRole,
    sni: SNIContexts | None = None,
    command: bytes = b"",
) -> BioSocket:
    """What the TLS transport does with a new connection, in miniature."""
    sock, _ = listener.accept()
    sock.settimeout(PEER_TIMEOUT)
    try:
        buffered = b""
        while command and not buffered.startswith(command):
            buffered += sock.recv(65536)
        buffered = buffered[len(command) :]
        while (hello := parse_client_hello(buffered)) is None:
            buffered += sock.recv(65536)
        if role.alpn_protocols and hello.alpn_protocols is not None:
            if select_alpn(role.alpn_protocols, hello.alpn_protocols) is None:
                sock.sendall(alert_record(ALERT_NO_APPLICATION_PROTOCOL))
                raise tls_error("ERR_SSL_NO_APPLICATION_PROTOCOL")
        context = secure.server_context(role)
        if sni is not None and hello.servername:
            answers: list[tuple[Any, Any]] = []
            sni.resolve(hello.servername, lambda err, chosen: answers.append((err, chosen)))
            err, chosen = answers[0]
            if err is not None:
                raise err
            context = sni.ssl_context_for(chosen) or context
        conn = BioSocket(sock, context, True, initial=buffered)
        conn.handshake()
        return conn
    except BaseException:
        sock.close()
        raise


def listen() -> socket.socket:
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(PEER_TIMEOUT)
    return listener


def test_node_client_to_a_gnet_server_echo_with_half_close(
    node: str, files: dict[str, str], peers: list[Peer]
) -> None:
    size = 1024 * 1024
    role = ServerRole(alpn_protocols=("h2", "http/1.1"))
    with listen() as listener:
        client = node_tls(
            node,
            "client",
            listener.getsockname()[1],
            {
                "ca": files["ca"],
                "servername": "localhost",
                "ALPNProtocols": ["http/1.1", "h2"],
                "size": size,
            },
        )
        peers.append(client)
        conn = accept_tls(listener, server_secure(), role)
        with conn.sock:
            assert conn.obj.selected_alpn_protocol() == "h2"
            data = conn.recv_all()  # to the client's close_notify: its half-close
            conn.sendall(data)  # and the server still writes after it
            conn.close_notify()
    secure = client.until("secure")
    assert (secure["authorized"], secure["alpnProtocol"]) == (True, "h2")
    report = client.until("report")
    assert report["received"] == report["sent"] == size
    assert report["received_sha256"] == report["sent_sha256"]
    assert report["had_error"] is False


def test_gnet_client_to_a_node_server_echo_with_half_close(
    node: str, files: dict[str, str], peers: list[Peer]
) -> None:
    server = node_tls(node, "server", {"cert": files["chained"], "key": files["chained.key"]})
    peers.append(server)
    port = server.until("listening")["port"]
    secure = create_secure_context({"ca": tls_certs().ca.cert})
    conn = connect_tls(port, secure.client_context())  # type: ignore[arg-type]
    with conn.sock:
        assert handshake_verdict(conn.obj, TrustStore.of(secure), "localhost") == (True, None)
        payload = os.urandom(1024 * 1024)
        conn.sendall(payload)
        conn.close_notify()  # Node's 'end' on the other side; it ends in turn
        assert conn.recv_all() == payload
    report = server.until("report")
    assert report["received"] == len(payload)
    assert "end" in report["events"]  # type: ignore[operator]


def test_sni_picks_the_context_before_the_handshake(
    node: str, files: dict[str, str], peers: list[Peer]
) -> None:
    certs = tls_certs()
    sni = SNIContexts()
    sni.add_context("*.example", {"cert": certs.wrong_host.cert, "key": certs.wrong_host.key})
    with listen() as listener:
        client = node_tls(
            node,
            "client",
            listener.getsockname()[1],
            {"ca": files["ca"], "servername": "wrong.example", "mode": "none"},
        )
        peers.append(client)
        conn = accept_tls(listener, server_secure(), ServerRole(), sni)
        with conn.sock:
            assert conn.recv_all() == b""
    secure = client.until("secure")
    assert secure["authorized"] is True
    assert secure["peer"]["subjectaltname"] == "DNS:wrong.example"  # type: ignore[index]


def test_alpn_mismatch_is_refused_as_node_refuses_it(
    node: str, files: dict[str, str], peers: list[Peer]
) -> None:
    with listen() as listener:
        client = node_tls(
            node,
            "client",
            listener.getsockname()[1],
            {"ca": files["ca"], "servername": "localhost", "ALPNProtocols": ["http/1.1"]},
        )
        peers.append(client)
        with pytest.raises(TLSError) as raised:
            accept_tls(listener, server_secure(), ServerRole(alpn_protocols=("h2",)))
    assert raised.value.code == "ERR_SSL_NO_APPLICATION_PROTOCOL"
    error = client.until("error")
    assert error["code"] == "ERR_SSL_TLSV1_ALERT_NO_APPLICATION_PROTOCOL"
    assert error["reason"] == "tlsv1 alert no application protocol"


def test_a_gnet_client_gets_nodes_alpn_alert(
    node: str, files: dict[str, str], peers: list[Peer]
) -> None:
    server = node_tls(
        node,
        "server",
        {"cert": files["server"], "key": files["server.key"], "ALPNProtocols": ["h2"]},
    )
    peers.append(server)
    port = server.until("listening")["port"]
    context = create_secure_context({"ca": tls_certs().ca.cert}).client_context(
        ClientRole(alpn_protocols=("http/1.1",))
    )
    with pytest.raises(ssl.SSLError) as raised:
        connect_tls(port, context)  # type: ignore[arg-type]
    err = from_ssl_error(raised.value)
    assert getattr(err, "code", None) == "ERR_SSL_TLSV1_ALERT_NO_APPLICATION_PROTOCOL"
    assert server.until("tlsClientError")["code"] == "ERR_SSL_NO_APPLICATION_PROTOCOL"


def test_starttls_with_the_hello_already_read(
    node: str, files: dict[str, str], peers: list[Peer]
) -> None:
    # The client sends its ClientHello right behind the command: whatever
    # came with or after the command must go to the handshake.
    with listen() as listener:
        client = node_tls(
            node,
            "client",
            listener.getsockname()[1],
            {
                "ca": files["ca"],
                "servername": "localhost",
                "starttls": "STARTTLS\r\n",
                "size": 1000,
            },
        )
        peers.append(client)
        conn = accept_tls(listener, server_secure(), ServerRole(), command=b"STARTTLS\r\n")
        with conn.sock:
            data = conn.recv_all()
            conn.sendall(data)
            conn.close_notify()
    assert client.until("secure")["authorized"] is True
    report = client.until("report")
    assert report["received"] == report["sent"] == 1000


def test_a_missing_client_certificate(node: str, files: dict[str, str], peers: list[Peer]) -> None:
    with listen() as listener:
        client = node_tls(
            node,
            "client",
            listener.getsockname()[1],
            {"ca": files["ca"], "servername": "localhost"},
        )
        peers.append(client)
        with pytest.raises(ssl.SSLError) as raised:
            accept_tls(listener, server_secure(), ServerRole(request_cert=True))
    err = from_ssl_error(raised.value, server_side=True)
    assert getattr(err, "code", None) == "ERR_SSL_PEER_DID_NOT_RETURN_A_CERTIFICATE"
    assert client.until("error")["code"] == "ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED"
