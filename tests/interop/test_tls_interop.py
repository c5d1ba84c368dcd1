"""gnet.tls against TLS peers nobody here wrote: Node's tls (client and server),
openssl s_client and s_server, and Python's own ssl module (a blocking client).

Node's peer is tests/node/tls_peer.js (one connection, JSON lines out).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import gevent
import pytest
from gevent import subprocess
from gevent.event import AsyncResult
from tls_support import client_options, server_options, tls_certs, write_certs
from tls_wire import PEER_TIMEOUT, Peer, node_tls

import gnet
import gnet.tls as tls
from support import Collector, payload, port_of, require_tool, wait_until

T = PEER_TIMEOUT
FIVE_MB = 5 * 1024 * 1024


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


@pytest.fixture
def tls_server(track: Any) -> Callable[..., tls.Server]:
    def make(listener: Any = None, **options: Any) -> tls.Server:
        server = track(tls.create_server(server_options(**options), listener))
        server.listen(0, "127.0.0.1")
        gnet.once(server, "listening", timeout=T)
        return server

    return make


def count(sock: tls.TLSSocket, size: int) -> AsyncResult:
    """Send ``size`` bytes (honouring backpressure), end, and count what arrives
    until the peer's end; the result, at 'close': (received, its sha256, sent's sha256)."""
    body = payload(size, seed=7)
    received = hashlib.sha256()
    total = [0]
    done: AsyncResult = AsyncResult()
    offset = [0]

    def on_data(chunk: bytes) -> None:
        received.update(chunk)
        total[0] += len(chunk)

    def pump() -> None:
        while offset[0] < len(body):
            piece = body[offset[0] : offset[0] + 65536]
            offset[0] += len(piece)
            if not sock.write(piece):
                sock.once("drain", pump)
                return
        sock.end()

    sock.on("data", on_data)
    sock.on("error", done.set_exception)
    sock.on("close", lambda *_: done.set((total[0], received.hexdigest(), hashlib.sha256(body).hexdigest())))
    pump()
    return done


def node_peer(node: str, peers: list[Peer], *args: object) -> Peer:
    peer = node_tls(node, *args)
    peers.append(peer)
    return peer


# --------------------------------------------------------------------------
# Node's tls


def test_node_client_to_gnet_server_five_megabytes_each_way_with_half_close(
    node: str, files: dict[str, str], peers: list[Peer], tls_server: Any
) -> None:
    result: AsyncResult = AsyncResult()
    server = tls_server(lambda s: result.set(count(s, FIVE_MB)), allow_half_open=True)
    client = node_peer(
        node, peers, "client", port_of(server),
        {"ca": files["ca"], "servername": "localhost", "mode": "count", "size": FIVE_MB},
    )  # fmt: skip
    secure = client.until("secure")
    assert (secure["authorized"], secure["protocol"]) == (True, "TLSv1.3")
    report = client.until("report")
    received, received_sha, sent_sha = result.get(timeout=T).get(timeout=T)
    assert report["received"] == FIVE_MB and report["received_sha256"] == sent_sha
    assert received == FIVE_MB and received_sha == report["sent_sha256"]
    assert report["had_error"] is False and "end" in report["events"]


def test_gnet_client_to_node_server_five_megabytes_each_way_with_half_close(
    node: str, files: dict[str, str], peers: list[Peer], track: Any
) -> None:
    server = node_peer(
        node, peers, "server",
        {"cert": files["server"], "key": files["server.key"], "mode": "count", "size": FIVE_MB},
    )  # fmt: skip
    port = server.until("listening")["port"]
    sock = track(tls.connect(port, "localhost", client_options(allow_half_open=True)))
    done = count(sock, FIVE_MB)
    received, received_sha, sent_sha = done.get(timeout=T)
    report = server.until("report")
    assert sock.authorized is True
    assert received == FIVE_MB and received_sha == report["sent_sha256"]
    assert report["received"] == FIVE_MB and report["received_sha256"] == sent_sha
    assert server.seen[1]["servername"] == "localhost"  # gnet sent the host as SNI


def test_alpn_negotiated_with_node_both_ways(
    node: str, files: dict[str, str], peers: list[Peer], tls_server: Any, track: Any
) -> None:
    served: AsyncResult = AsyncResult()
    server = tls_server(lambda s: (served.set(s), s.pipe(s)), ALPNProtocols=["h2", "http/1.1"])
    client = node_peer(
        node, peers, "client", port_of(server),
        {"ca": files["ca"], "servername": "localhost", "ALPNProtocols": ["http/1.1", "h2"]},
    )  # fmt: skip
    assert client.until("secure")["alpnProtocol"] == "h2"
    assert served.get(timeout=T).alpn_protocol == "h2"
    node_server = node_peer(
        node, peers, "server",
        {"cert": files["server"], "key": files["server.key"], "ALPNProtocols": ["http/1.1"], "mode": "none"},
    )  # fmt: skip
    port = node_server.until("listening")["port"]
    sock = track(tls.connect(port, "localhost", client_options(ALPNProtocols=["h2", "http/1.1"])))
    done: AsyncResult = AsyncResult()
    sock.on("secureConnect", lambda: done.set(sock.alpn_protocol))
    assert done.get(timeout=T) == "http/1.1"
    assert node_server.until("secure")["alpnProtocol"] == "http/1.1"


def test_alpn_mismatch_with_node_fails_with_nodes_codes(
    node: str, files: dict[str, str], peers: list[Peer], tls_server: Any, track: Any
) -> None:
    errors = Collector()
    server = tls_server(lambda s: s.pipe(s), ALPNProtocols=["h2"])
    server.on("tlsClientError", errors)
    client = node_peer(
        node, peers, "client", port_of(server),
        {"ca": files["ca"], "servername": "localhost", "ALPNProtocols": ["http/1.1"]},
    )  # fmt: skip
    assert client.until("error")["code"] == "ERR_SSL_TLSV1_ALERT_NO_APPLICATION_PROTOCOL"
    assert errors.wait(1)[0][0].code == "ERR_SSL_NO_APPLICATION_PROTOCOL"
    # gnet as the client: Node refuses, gnet reports Node's client code.
    node_server = node_peer(
        node, peers, "server",
        {"cert": files["server"], "key": files["server.key"], "ALPNProtocols": ["h2"]},
    )  # fmt: skip
    port = node_server.until("listening")["port"]
    sock = track(tls.connect(port, "localhost", client_options(ALPNProtocols=["http/1.1"])))
    failed: AsyncResult = AsyncResult()
    sock.on("error", failed.set)
    assert failed.get(timeout=T).code == "ERR_SSL_TLSV1_ALERT_NO_APPLICATION_PROTOCOL"
    assert node_server.until("tlsClientError")["code"] == "ERR_SSL_NO_APPLICATION_PROTOCOL"


def test_sni_from_a_node_client_picks_the_context(
    node: str, files: dict[str, str], peers: list[Peer], tls_server: Any
) -> None:
    server = tls_server(lambda s: s.pipe(s))
    server.add_context("wrong.example", server_options("wrong_host"))
    client = node_peer(
        node, peers, "client", port_of(server),
        {"ca": files["ca"], "servername": "wrong.example", "mode": "none"},
    )  # fmt: skip
    secure = client.until("secure")
    assert secure["authorized"] is True
    assert "DNS:wrong.example" in secure["peer"]["subjectaltname"]


def test_mtls_with_a_node_client_accepted_and_rejected(
    node: str, files: dict[str, str], peers: list[Peer], tls_server: Any
) -> None:
    served: AsyncResult = AsyncResult()
    errors = Collector()
    server = tls_server(
        lambda s: (served.set((s.authorized, s.get_peer_certificate()["subject"]["CN"])), s.pipe(s)),
        ca=tls_certs().ca.cert, request_cert=True,
    )  # fmt: skip
    server.on("tlsClientError", errors)
    good = node_peer(
        node, peers, "client", port_of(server),
        {"ca": files["ca"], "servername": "localhost", "cert": files["client"], "key": files["client.key"], "mode": "none"},
    )  # fmt: skip
    assert good.until("secure")["authorized"] is True
    assert served.get(timeout=T) == (True, "client")
    bad = node_peer(
        node, peers, "client", port_of(server),
        {"ca": files["ca"], "servername": "localhost", "cert": files["untrusted_client"], "key": files["untrusted_client.key"], "mode": "none"},
    )  # fmt: skip
    bad.until("report")
    assert errors.wait(1)[0][0].code == "UNABLE_TO_VERIFY_LEAF_SIGNATURE"


@pytest.mark.parametrize("certificate", ["expired", "wrong_host", "untrusted", "chained"])
def test_a_node_server_certificate_judged_as_node_judges_it(
    node: str, files: dict[str, str], peers: list[Peer], track: Any, certificate: str
) -> None:
    options = {"cert": files[certificate], "key": files[f"{certificate}.key"], "mode": "none"}
    node_server = node_peer(node, peers, "server", options)
    port = node_server.until("listening")["port"]
    node_client = node_peer(
        node, peers, "client", port, {"ca": files["ca"], "servername": "localhost", "mode": "none"}
    )
    first = node_client.line()
    expected = first["code"] if first["event"] == "error" else None
    node_server = node_peer(node, peers, "server", options)
    port = node_server.until("listening")["port"]
    sock = track(tls.connect(port, "localhost", client_options()))
    outcome: AsyncResult = AsyncResult()
    sock.on("secureConnect", lambda: outcome.set(None))
    sock.on("error", lambda err: outcome.set(err.code))
    assert outcome.get(timeout=T) == expected


def test_starttls_from_a_node_client_with_the_hello_in_the_commands_packet(
    node: str, files: dict[str, str], peers: list[Peer], track: Any
) -> None:
    context = tls.create_secure_context(server_options())
    result: AsyncResult = AsyncResult()

    def handle(sock: gnet.Socket) -> None:
        line = sock.readline(timeout=T)
        secure = sock.start_tls(context, server_side=True, timeout=T)
        with secure:
            data = secure.recv_exactly(100_000, timeout=T)
            secure.sendall(data)
            result.set((line, secure.get_protocol()))

    server = track(gnet.create_server(handle))
    server.listen(0, "127.0.0.1")
    gnet.once(server, "listening", timeout=T)
    client = node_peer(
        node, peers, "client", port_of(server),
        {"ca": files["ca"], "servername": "localhost", "starttls": "STARTTLS\r\n", "size": 100_000},
    )  # fmt: skip
    assert client.until("secure")["authorized"] is True
    report = client.until("report")
    assert report["received"] == 100_000 and report["received_sha256"] == report["sent_sha256"]
    assert result.get(timeout=T) == (b"STARTTLS\r\n", "TLSv1.3")


# --------------------------------------------------------------------------
# openssl


def test_openssl_s_client_against_a_gnet_server(files: dict[str, str], tls_server: Any) -> None:
    openssl = require_tool("openssl")
    served: AsyncResult = AsyncResult()
    server = tls_server(
        lambda s: (served.set(s), s.pipe(s)),
        ca=tls_certs().ca.cert, request_cert=True, ALPNProtocols=["h2"],
    )  # fmt: skip
    proc = subprocess.Popen(
        [
            openssl, "s_client", "-connect", f"127.0.0.1:{port_of(server)}", "-servername",
            "localhost", "-alpn", "h2", "-CAfile", files["ca"], "-cert", files["client"],
            "-key", files["client.key"], "-verify_return_error", "-quiet",
        ],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )  # fmt: skip
    try:
        proc.stdin.write(b"hello over TLS\n")
        proc.stdin.flush()
        with gevent.Timeout(T, AssertionError("no echo from s_client")):
            assert proc.stdout.readline() == b"hello over TLS\n"  # -quiet ignores stdin's EOF
    finally:
        proc.kill()
        proc.communicate()
        for pipe in (proc.stdin, proc.stdout, proc.stderr):
            pipe.close()
    peer = served.get(timeout=T)
    assert (peer.authorized, peer.alpn_protocol, peer.servername) == (True, "h2", "localhost")


def test_a_gnet_client_against_openssl_s_server(files: dict[str, str], track: Any) -> None:
    openssl = require_tool("openssl")
    proc = subprocess.Popen(
        [
            openssl, "s_server", "-accept", "127.0.0.1:0", "-cert", files["server"], "-key",
            files["server.key"], "-alpn", "h2", "-naccept", "1", "-rev",
        ],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )  # fmt: skip
    try:
        port = 0
        with gevent.Timeout(T, AssertionError("s_server did not start")):
            while not port:
                match = re.match(rb"ACCEPT 127\.0\.0\.1:(\d+)", proc.stdout.readline())
                port = int(match.group(1)) if match else 0
        sock = track(tls.connect(port, "localhost", client_options(ALPNProtocols=["h2"])))
        with sock:
            sock.sendall(b"hello\n")
            assert sock.readline(timeout=T) == b"olleh\n"  # -rev: each line reversed
            assert (sock.authorized, sock.alpn_protocol) == (True, "h2")
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.communicate()
        proc.stdin.close()
        proc.stdout.close()


# --------------------------------------------------------------------------
# Python's ssl, blocking


PYTHON_CLIENT = r"""
import json, socket, ssl, sys
port, ca = int(sys.argv[1]), sys.argv[2]
context = ssl.create_default_context(cafile=ca)
with socket.create_connection(("127.0.0.1", port), timeout=10) as raw:
    with context.wrap_socket(raw, server_hostname="localhost") as sock:
        sock.sendall(b"x" * 100000)
        got = b""
        while len(got) < 100000:
            got += sock.recv(65536)
        version = sock.version()
        sock.unwrap()
print(json.dumps({"received": len(got), "version": version}))
"""


def test_pythons_ssl_blocking_client(files: dict[str, str], tls_server: Any) -> None:
    server = tls_server(lambda s: s.pipe(s))
    proc = subprocess.Popen(
        [sys.executable, "-c", PYTHON_CLIENT, str(port_of(server)), files["ca"]],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, env={**os.environ, "PYTHONWARNINGS": "ignore"},
    )  # fmt: skip
    with gevent.Timeout(T):
        out, err = proc.communicate()
    assert proc.returncode == 0, err.decode()
    assert json.loads(out) == {"received": 100000, "version": "TLSv1.3"}
    wait_until(lambda: server.connections == 0)
