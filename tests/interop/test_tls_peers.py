"""The TLS peer scripts work: tls_peer.js against itself, openssl s_client and s_server.

These are the peers the TLS transport's interop tests will use; here they
prove they do what they report (data both ways with half-close, ALPN,
SNI contexts, mTLS accepted and rejected).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import gevent
import pytest
from gevent import subprocess
from tls_support import tls_certs, write_certs
from tls_wire import PEER_TIMEOUT, Peer, node_tls

from support import require_tool


@pytest.fixture
def node() -> str:
    return require_tool("node")


@pytest.fixture
def files(tmp_path: Path) -> dict[str, str]:
    """name -> chain path; name + '.key' -> key path."""
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


def fingerprint_of(pem: bytes) -> str:
    import ssl

    from gnet.tls import certificate_from_der

    cert = certificate_from_der(ssl.PEM_cert_to_DER_cert(pem.decode()))
    return str(cert["fingerprint256"])


def serve(node: str, peers: list[Peer], options: dict[str, object]) -> tuple[Peer, int]:
    server = node_tls(node, "server", options)
    peers.append(server)
    port = server.until("listening")["port"]
    assert isinstance(port, int)
    return server, port


def test_echo(node: str, files: dict[str, str], peers: list[Peer]) -> None:
    server, port = serve(node, peers, {"cert": files["server"], "key": files["server.key"]})
    client = node_tls(
        node, "client", port, {"ca": files["ca"], "servername": "localhost", "size": 200_000}
    )
    peers.append(client)
    secure = client.until("secure")
    assert secure["authorized"] is True and secure["protocol"] == "TLSv1.3"
    report = client.until("report")
    assert report["received"] == report["sent"] == 200_000
    assert report["received_sha256"] == report["sent_sha256"]
    assert server.until("report")["received"] == 200_000


def test_five_megabytes_each_way_with_half_close(
    node: str, files: dict[str, str], peers: list[Peer]
) -> None:
    size = 5 * 1024 * 1024
    server, port = serve(
        node,
        peers,
        {"cert": files["server"], "key": files["server.key"], "mode": "count", "size": size},
    )
    client = node_tls(
        node,
        "client",
        port,
        {"ca": files["ca"], "servername": "localhost", "mode": "count", "size": size},
    )
    peers.append(client)
    client_report = client.until("report")
    server_report = server.until("report")
    assert client_report["received"] == server_report["received"] == size
    assert client_report["received_sha256"] == server_report["sent_sha256"]
    assert server_report["received_sha256"] == client_report["sent_sha256"]
    for report in (client_report, server_report):
        # Each side ended its writing and still read the other's data to its end.
        assert {"finish", "end", "close"} <= set(report["events"])  # type: ignore[arg-type]
        assert report["had_error"] is False


def test_alpn_and_sni_contexts(node: str, files: dict[str, str], peers: list[Peer]) -> None:
    server, port = serve(
        node,
        peers,
        {
            "cert": files["server"],
            "key": files["server.key"],
            "ALPNProtocols": ["h2", "http/1.1"],
            "contexts": {
                "wrong.example": {"cert": files["wrong_host"], "key": files["wrong_host.key"]}
            },
            "mode": "none",
        },
    )
    client = node_tls(
        node,
        "client",
        port,
        {
            "ca": files["ca"],
            "servername": "wrong.example",
            "ALPNProtocols": ["http/1.1", "h2"],
            "mode": "none",
        },
    )
    peers.append(client)
    secure = client.until("secure")
    assert secure["alpnProtocol"] == "h2"  # the server's preference
    assert secure["peer"]["fingerprint256"] == fingerprint_of(tls_certs().wrong_host.cert)  # type: ignore[index]
    served = server.until("secure")
    assert (served["servername"], served["alpnProtocol"]) == ("wrong.example", "h2")


@pytest.mark.parametrize(
    ("client_cert", "accepted"), [("client", True), ("untrusted_client", False), (None, False)]
)
def test_mtls(
    node: str, files: dict[str, str], peers: list[Peer], client_cert: str | None, accepted: bool
) -> None:
    server, port = serve(
        node,
        peers,
        {
            "cert": files["server"],
            "key": files["server.key"],
            "ca": files["ca"],
            "requestCert": True,
            "rejectUnauthorized": True,
            "mode": "none",
        },
    )
    options: dict[str, object] = {"ca": files["ca"], "servername": "localhost", "mode": "none"}
    if client_cert:
        options.update(cert=files[client_cert], key=files[f"{client_cert}.key"])
    client = node_tls(node, "client", port, options)
    peers.append(client)
    first = server.line()
    if accepted:
        assert first["event"] == "secure"
        assert first["authorized"] is True
        assert first["peer"]["fingerprint256"] == fingerprint_of(tls_certs().client.cert)  # type: ignore[index]
    else:
        assert first["event"] == "tlsClientError"
        events = client.events()
        assert not any(e.get("event") == "report" and e.get("received") for e in events)
    if client_cert is None:
        assert first["code"] == "ERR_SSL_PEER_DID_NOT_RETURN_A_CERTIFICATE"
        error = next(e for e in client.events() if e["event"] == "error")
        assert error["code"] == "ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED"


def echo_through(argv: list[str], line: bytes) -> bytes:
    """Start ``argv``, write ``line``, and return the first line it prints back."""
    proc = subprocess.Popen(
        argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    try:
        proc.stdin.write(line)
        proc.stdin.flush()
        with gevent.Timeout(PEER_TIMEOUT, AssertionError(f"no echo through {argv[:2]}")):
            return bytes(proc.stdout.readline())
    finally:
        proc.kill()
        proc.communicate()
        for pipe in (proc.stdin, proc.stdout, proc.stderr):
            pipe.close()


def test_openssl_s_client_against_the_node_server(
    node: str, files: dict[str, str], peers: list[Peer]
) -> None:
    openssl = require_tool("openssl")
    server, port = serve(
        node,
        peers,
        {
            "cert": files["server"],
            "key": files["server.key"],
            "ca": files["ca"],
            "requestCert": True,
            "ALPNProtocols": ["h2"],
        },
    )
    out = echo_through(
        [
            openssl,
            "s_client",
            "-connect",
            f"127.0.0.1:{port}",
            "-servername",
            "localhost",
            "-alpn",
            "h2",
            "-CAfile",
            files["ca"],
            "-cert",
            files["client"],
            "-key",
            files["client.key"],
            "-verify_return_error",
            "-quiet",
        ],
        b"hello over TLS\n",
    )
    assert out == b"hello over TLS\n"  # echoed back
    secure = server.until("secure")
    assert (secure["authorized"], secure["alpnProtocol"], secure["servername"]) == (
        True,
        "h2",
        "localhost",
    )


def test_node_client_against_openssl_s_server(
    node: str, files: dict[str, str], peers: list[Peer]
) -> None:
    openssl = require_tool("openssl")
    argv = [
        openssl,
        "s_server",
        "-accept",
        "127.0.0.1:0",
        "-cert",
        files["server"],
        "-key",
        files["server.key"],
        "-alpn",
        "h2",
        "-naccept",
        "1",
    ]
    proc = subprocess.Popen(
        argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    try:
        port = 0
        with gevent.Timeout(PEER_TIMEOUT, AssertionError("s_server did not start")):
            while not port:
                match = re.match(rb"ACCEPT 127\.0\.0\.1:(\d+)", proc.stdout.readline())
                port = int(match.group(1)) if match else 0
        client = node_tls(
            node,
            "client",
            port,
            {"ca": files["ca"], "servername": "localhost", "ALPNProtocols": ["h2"], "mode": "none"},
        )
        peers.append(client)
        secure = client.until("secure")
        assert (secure["authorized"], secure["alpnProtocol"], secure["protocol"]) == (
            True,
            "h2",
            "TLSv1.3",
        )
        client.until("report")
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.communicate()
        proc.stdin.close()
        proc.stdout.close()
