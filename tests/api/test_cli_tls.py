"""The ``gnet`` commands over TLS: ``echo --tls-cert/--tls-key``, ``cat --tls``,
and ``proxy`` terminating and originating TLS, as real processes."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from test_cli import GREETING, listening, one_line, run_gnet
from tls_support import write_certs


@pytest.fixture
def files(tmp_path: Path) -> dict[str, str]:
    paths = write_certs(tmp_path)
    out = {name: str(p) for name, p in paths.items()}
    out.update({f"{name}.key": str(p.with_suffix(".key")) for name, p in paths.items()})
    return out


def tls_echo(files: dict[str, str], *extra: str) -> tuple[str, ...]:
    return ("echo", "0", "--tls-cert", files["server"], "--tls-key", files["server.key"], *extra)


def test_echo_and_cat_over_tls(files: dict[str, str]) -> None:
    payload = os.urandom(200_000)
    with listening(*tls_echo(files)) as server:
        result = run_gnet(
            "cat", "--tls", "--ca", files["ca"], "localhost", str(server.port), input=payload
        )
        server.stop()
    assert result.returncode == 0, result.stderr
    assert result.stdout == GREETING + payload


def test_cat_rejects_an_untrusted_server_unless_insecure(files: dict[str, str]) -> None:
    with listening(*tls_echo(files)) as server:
        rejected = run_gnet("cat", "--tls", "127.0.0.1", str(server.port), input=b"x")
        insecure = run_gnet("cat", "--tls", "--insecure", "127.0.0.1", str(server.port), input=b"x")
        server.stop()
    assert rejected.returncode == 1
    assert "UNABLE_TO_VERIFY_LEAF_SIGNATURE" in one_line(rejected.stderr)
    assert insecure.returncode == 0
    assert insecure.stdout == GREETING + b"x"
    assert "not authorized: UNABLE_TO_VERIFY_LEAF_SIGNATURE" in insecure.stderr.decode()


def test_cat_checks_the_servers_name(files: dict[str, str]) -> None:
    with listening(*tls_echo(files)) as server:
        result = run_gnet(
            "cat", "--tls", "--ca", files["ca"], "--servername", "other.example",
            "127.0.0.1", str(server.port), input=b"x",
        )  # fmt: skip
        server.stop()
    assert result.returncode == 1
    assert "ERR_TLS_CERT_ALTNAME_INVALID" in one_line(result.stderr)


def test_echo_asks_for_client_certificates_with_tls_ca(files: dict[str, str]) -> None:
    with listening(*tls_echo(files, "--tls-ca", files["ca"])) as server:
        result = run_gnet("cat", "--tls", "--ca", files["ca"], "localhost", str(server.port))
        server.wait_logged("TLS handshake failed")
        out, err = server.stop()
    assert result.returncode != 0 or result.stdout == b""
    assert "ERR_SSL_PEER_DID_NOT_RETURN_A_CERTIFICATE" in err


def test_proxy_terminates_and_originates_tls(files: dict[str, str]) -> None:
    payload = os.urandom(300_000)
    with listening(*tls_echo(files)) as tls_echo_server, listening(
        # plain in, TLS out (origination)
        "proxy", "0", f"localhost:{tls_echo_server.port}", "--tls", "--ca", files["ca"]
    ) as originating, listening(
        # TLS in (termination), plain out
        "proxy", "0", f"127.0.0.1:{originating.port}",
        "--tls-cert", files["server"], "--tls-key", files["server.key"],
    ) as terminating:  # fmt: skip
        result = run_gnet(
            "cat", "--tls", "--ca", files["ca"], "localhost", str(terminating.port), input=payload
        )
        out, err = terminating.stop()
        originating.stop()
        tls_echo_server.stop()
    assert result.returncode == 0, result.stderr
    assert result.stdout == GREETING + payload
    assert f"{len(payload)} bytes up, {len(GREETING) + len(payload)} bytes down" in out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["echo", "0", "--tls-cert", "c.pem"], "--tls-cert and --tls-key go together"),
        (["cat", "--ca", "ca.pem", "localhost", "1"], "--ca, --insecure and --servername need --tls"),
        (["echo", "0", "--tls-cert", "/nonexistent.pem", "--tls-key", "/nonexistent.key"], "--tls-cert /nonexistent.pem"),
    ],
)
def test_tls_usage_errors_are_one_line(args: list[str], message: str) -> None:
    result = run_gnet(*args)
    assert result.returncode != 0
    assert message in one_line(result.stderr)
