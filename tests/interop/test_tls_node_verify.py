"""authorized / authorizationError: gnet's verdicts against node's, case by case.

For each certificate a node server presents, a node client with
``rejectUnauthorized: false`` reports Node's ``authorizationError``; a gnet
client (a gnet client context over a real socket) must get the same from
``handshake_verdict`` (OpenSSL's own verdict), and ``verify_peer`` (the
cryptography fallback) the same from the server's chain.  Then the other
way round: a node server with ``requestCert`` judges node clients' and a
gnet server gnet's.
"""

from __future__ import annotations

import socket
import ssl
from collections.abc import Iterator
from pathlib import Path

import pytest
from tls_support import Pair, custom_chain, tls_certs
from tls_wire import PEER_TIMEOUT, BioSocket, Peer, connect_tls, node_tls

from gnet.tls import ServerRole, TrustStore, create_secure_context, handshake_verdict, verify_peer
from support import require_tool


@pytest.fixture
def node() -> str:
    return require_tool("node")


@pytest.fixture
def peers() -> Iterator[list[Peer]]:
    started: list[Peer] = []
    yield started
    for peer in started:
        peer.close()


def chain_der(pem: bytes) -> list[bytes]:
    blocks = pem.split(b"-----END CERTIFICATE-----\n")
    return [
        ssl.PEM_cert_to_DER_cert((b + b"-----END CERTIFICATE-----\n").decode())
        for b in blocks
        if b.strip()
    ]


def material(name: str) -> tuple[Pair, bytes]:
    if name.startswith("custom:"):
        return custom_chain(name[len("custom:") :])
    return getattr(tls_certs(), name), tls_certs().ca.cert


def write(tmp_path: Path, stem: str, pair: Pair) -> tuple[str, str]:
    cert, key = tmp_path / f"{stem}.pem", tmp_path / f"{stem}.key"
    cert.write_bytes(pair.cert)
    key.write_bytes(pair.key)
    return str(cert), str(key)


@pytest.mark.parametrize(
    "name",
    [
        "server",
        "chained",
        "wrong_host",
        "expired",
        "not_yet_valid",
        "untrusted",
        "untrusted_chain",
        "expired_untrusted",
        "self_signed",
        "custom:client_only",
        "custom:leaf_as_issuer",
        "custom:too_deep",
    ],
)
def test_a_servers_certificate(node: str, peers: list[Peer], tmp_path: Path, name: str) -> None:
    pair, ca = material(name)
    cert, key = write(tmp_path, "server", pair)
    ca_path = tmp_path / "ca.pem"
    ca_path.write_bytes(ca)

    def server() -> int:
        peer = node_tls(node, "server", {"cert": cert, "key": key, "mode": "none"})
        peers.append(peer)
        port = peer.until("listening")["port"]
        assert isinstance(port, int)
        return port

    client = node_tls(
        node,
        "client",
        server(),
        {
            "ca": str(ca_path),
            "servername": "localhost",
            "rejectUnauthorized": False,
            "mode": "none",
        },
    )
    peers.append(client)
    node_says = client.until("secure")["authorizationError"]

    store = TrustStore(chain_der(ca))
    secure = create_secure_context({"ca": ca})
    conn = connect_tls(server(), secure.client_context())
    try:
        authorized, error = handshake_verdict(conn.obj, store, "localhost")
    finally:
        conn.sock.close()
    assert getattr(error, "code", None) == node_says
    assert authorized is (node_says is None)
    _, fallback_error = verify_peer(chain_der(pair.cert), store, "localhost")
    assert getattr(fallback_error, "code", None) == node_says


@pytest.mark.parametrize("name", [None, "client", "untrusted_client", "expired", "self_signed"])
def test_a_clients_certificate(
    node: str, peers: list[Peer], tmp_path: Path, name: str | None
) -> None:
    certs = tls_certs()
    server_cert, server_key = write(tmp_path, "server", certs.server)
    ca_path = tmp_path / "ca.pem"
    ca_path.write_bytes(certs.ca.cert)
    client_options: dict[str, object] = {
        "ca": str(ca_path),
        "servername": "localhost",
        "mode": "none",
    }
    if name is not None:
        cert, key = write(tmp_path, "client", getattr(certs, name))
        client_options.update(cert=cert, key=key)

    node_server = node_tls(
        node,
        "server",
        {
            "cert": server_cert,
            "key": server_key,
            "ca": str(ca_path),
            "requestCert": True,
            "rejectUnauthorized": False,
            "mode": "none",
        },
    )
    peers.append(node_server)
    peers.append(node_tls(node, "client", node_server.until("listening")["port"], client_options))
    node_says = node_server.until("secure")["authorizationError"]

    secure = create_secure_context(
        {"cert": certs.server.cert, "key": certs.server.key, "ca": certs.ca.cert}
    )
    context = secure.server_context(ServerRole(request_cert=True, reject_unauthorized=False))
    with socket.create_server(("127.0.0.1", 0)) as listener:
        listener.settimeout(PEER_TIMEOUT)
        peers.append(node_tls(node, "client", listener.getsockname()[1], client_options))
        sock, _ = listener.accept()
        with sock:
            sock.settimeout(PEER_TIMEOUT)
            conn = BioSocket(sock, context, True)
            conn.handshake()
            authorized, error = handshake_verdict(conn.obj, TrustStore.of(secure))
    assert getattr(error, "code", None) == node_says
    assert authorized is (node_says is None)
