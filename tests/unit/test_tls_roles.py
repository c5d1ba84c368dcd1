"""The per-side options: Node's rules for requestCert, rejectUnauthorized,
ALPNProtocols, servername and checkServerIdentity, and ALPN selection."""

from __future__ import annotations

import pytest

from gnet.errors import NodeError
from gnet.tls import (
    ClientRole,
    ServerRole,
    check_server_identity,
    client_role,
    select_alpn,
    server_role,
)
from gnet.tls.roles import identity_host, sni_servername


def test_server_defaults_and_nodes_strictness() -> None:
    assert server_role() == ServerRole(request_cert=False, reject_unauthorized=True)
    # Node: requestCert only when exactly true, rejectUnauthorized unless exactly false.
    assert server_role({"requestCert": 1, "rejectUnauthorized": 0}) == ServerRole(False, True)
    assert server_role({"request_cert": True, "reject_unauthorized": False}) == ServerRole(
        True, False
    )


def test_alpn_in_every_form_node_takes() -> None:
    assert server_role({"ALPNProtocols": ["h2", b"http/1.1"]}).alpn_protocols == ("h2", "http/1.1")
    assert server_role({"alpn_protocols": b"\x02h2\x08http/1.1"}).alpn_protocols == (
        "h2",
        "http/1.1",
    )
    for bad, code in (
        (5, "ERR_INVALID_ARG_TYPE"),
        (["x" * 256], "ERR_OUT_OF_RANGE"),
        ([5], "ERR_INVALID_ARG_TYPE"),
        (b"\x05h2", "ERR_INVALID_ARG_VALUE"),
        ([""], "ERR_INVALID_ARG_VALUE"),
    ):
        with pytest.raises(NodeError) as raised:
            server_role({"ALPNProtocols": bad})
        assert raised.value.code == code, bad


def test_sni_callback_must_be_a_function() -> None:
    with pytest.raises(NodeError) as raised:
        server_role({"SNICallback": "nope"})
    assert raised.value.code == "ERR_INVALID_ARG_TYPE"
    assert str(raised.value).startswith(
        'The "options.SNICallback" property must be of type function'
    )


def test_client_role_and_connection() -> None:
    role, connection = client_role({"servername": "example.org", "ALPNProtocols": ["h2"]})
    assert role == ClientRole(reject_unauthorized=True, alpn_protocols=("h2",))
    assert connection.servername == "example.org"
    assert connection.check_server_identity is check_server_identity
    role, connection = client_role({"rejectUnauthorized": False, "checkServerIdentity": print})
    assert not role.reject_unauthorized and connection.check_server_identity is print
    for options in ({"servername": 5}, {"checkServerIdentity": 5}):
        with pytest.raises(NodeError) as raised:
            client_role(options)
        assert raised.value.code == "ERR_INVALID_ARG_TYPE"


def test_select_alpn_prefers_the_servers_order() -> None:
    assert select_alpn(["h2", "http/1.1"], ["http/1.1", "h2"]) == "h2"
    assert select_alpn(["h2"], ["http/1.1"]) is None


def test_names_a_client_sends_and_checks() -> None:
    assert sni_servername("a.example", "b.example") == "a.example"
    assert sni_servername(None, "b.example") == "b.example"
    assert sni_servername(None, "127.0.0.1") is None
    assert sni_servername(None, "::1") is None
    assert identity_host(None, "127.0.0.1") == "127.0.0.1"
    assert identity_host(None, None) == "localhost"
    assert identity_host("a.example", "b.example") == "a.example"
