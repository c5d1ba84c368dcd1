"""gnet.tls against node's own answers: checkServerIdentity, createSecureContext,
and the certificate object of a live TLS socket (getPeerCertificate(true)).

The unit tests hold node's answers; these ask node again, so a change on
either side shows.
"""

from __future__ import annotations

import json
import ssl
from pathlib import Path
from typing import Any

import pytest
from gevent import subprocess
from tls_support import (
    CONTEXT_CASES,
    IDENTITY_CASES,
    odd_certificate,
    resolve_for_gnet,
    resolve_for_node,
    tls_certs,
    write_certs,
)
from tls_wire import PEER_TIMEOUT, node_tls

from gnet.errors import NodeError
from gnet.tls import TrustStore, check_server_identity, create_secure_context, peer_certificate
from support import require_tool

ORACLE = Path(__file__).parent.parent / "node" / "tls_oracle.js"


def ask_node(command: str, cases: list[Any]) -> list[dict[str, Any]]:
    node = require_tool("node")
    proc = subprocess.Popen(
        [node, str(ORACLE), command],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    out, err = proc.communicate(json.dumps(cases).encode(), timeout=PEER_TIMEOUT)
    assert proc.returncode == 0, err.decode()
    answers: list[dict[str, Any]] = json.loads(out)
    return answers


def test_check_server_identity_as_node() -> None:
    answers = ask_node("identity", [{"host": h, "cert": c} for h, c in IDENTITY_CASES])
    for (host, cert), node in zip(IDENTITY_CASES, answers, strict=True):
        try:
            error = check_server_identity(host, cert)
        except NodeError as exc:
            assert node.get("threw", {}).get("code") == exc.code, host
            assert node["threw"]["message"] == str(exc)
            continue
        if error is None:
            assert node == {"valid": True}, (host, cert)
        else:
            mine = {
                "valid": False,
                "code": error.code,
                "message": str(error),
                "reason": error.reason,
            }
            mine["host"] = error.host
            assert mine == node, (host, cert)


# Where gnet differs on purpose: Node's pfx errors have no code.
NO_NODE_CODE = {"pfx, wrong passphrase", "pfx garbage"}


def test_create_secure_context_as_node(tmp_path: Path) -> None:
    answers = ask_node(
        "context", [resolve_for_node(options, tmp_path) for _, options in CONTEXT_CASES]
    )
    for (label, options), node in zip(CONTEXT_CASES, answers, strict=True):
        try:
            create_secure_context(resolve_for_gnet(options))  # type: ignore[arg-type]
            mine: dict[str, Any] = {"ok": True}
        except NodeError as exc:
            mine = {"code": exc.code, "message": str(exc)}
        expected = (
            {"ok": True}
            if node.get("ok")
            else {"code": node.get("code"), "message": node["message"]}
        )
        if label in NO_NODE_CODE:
            expected["code"] = mine.get("code")
        assert mine == expected, label


def as_json(cert: dict[str, Any], seen: tuple[int, ...] = ()) -> dict[str, Any]:
    """A gnet certificate object as tls_peer.js prints Node's: bytes as hex,
    a self-signed root's circular issuerCertificate as "self"."""
    out: dict[str, Any] = {}
    for key, value in cert.items():
        if isinstance(value, bytes):
            out[key] = value.hex()
        elif key == "issuerCertificate":
            out[key] = "self" if value is cert else as_json(value, (*seen, id(cert)))
        else:
            out[key] = value
    return out


def chain_der(pem: bytes) -> list[bytes]:
    blocks = pem.split(b"-----END CERTIFICATE-----\n")
    return [
        ssl.PEM_cert_to_DER_cert((b + b"-----END CERTIFICATE-----\n").decode())
        for b in blocks
        if b.strip()
    ]


@pytest.mark.parametrize("use_cryptography", [True, False], ids=["cryptography", "stdlib"])
@pytest.mark.parametrize("name", ["server", "server_rsa", "chained", "odd"])
def test_peer_certificate_as_node(tmp_path: Path, name: str, use_cryptography: bool) -> None:
    node = require_tool("node")
    paths = write_certs(tmp_path)
    pair = odd_certificate() if name == "odd" else getattr(tls_certs(), name)
    cert_path, key_path = tmp_path / "peer.pem", tmp_path / "peer.key"
    cert_path.write_bytes(pair.cert)
    key_path.write_bytes(pair.key)
    server = node_tls(
        node, "server", {"cert": str(cert_path), "key": str(key_path), "mode": "none"}
    )
    client = None
    try:
        port = server.until("listening")["port"]
        client = node_tls(
            node,
            "client",
            port,
            {
                "ca": str(paths["ca"]),
                "rejectUnauthorized": False,
                "checkHost": False,
                "fullPeer": True,
                "mode": "none",
            },
        )
        seen = client.until("secure")["peerDetailed"]
    finally:
        server.close()
        if client is not None:
            client.close()
    store = TrustStore(chain_der(tls_certs().ca.cert))
    mine = peer_certificate(
        chain_der(pair.cert), True, find_issuer=store.find_issuer, use_cryptography=use_cryptography
    )
    assert as_json(mine) == seen
    assert list(as_json(mine)) == list(seen)  # Node's key order too


def test_dhparam_made_by_openssl(tmp_path: Path) -> None:
    openssl = require_tool("openssl")
    path = tmp_path / "dh.pem"
    subprocess.run(
        [
            openssl,
            "genpkey",
            "-genparam",
            "-algorithm",
            "DH",
            "-pkeyopt",
            "dh_param:ffdhe2048",
            "-out",
            str(path),
        ],
        check=True,
        timeout=PEER_TIMEOUT,
        capture_output=True,
    )
    [node] = ask_node("context", [{"dhparam": {"file": str(path)}}])
    assert node == {"ok": True}
    create_secure_context({"dhparam": path.read_bytes()})
    # Node silently drops parameters it cannot read; gnet says so.
    with pytest.raises(NodeError) as raised:
        create_secure_context({"dhparam": "garbage"})
    assert raised.value.code == "ERR_OSSL_PEM_NO_START_LINE"
