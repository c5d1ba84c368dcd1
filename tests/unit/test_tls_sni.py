"""SNIContexts: Node's addContext table, its wildcards, and SNICallback.

The patterns follow Node's Server.prototype.addContext regular expression;
handshakes run in memory through the SSLContext.sni_callback bridge.
"""

from __future__ import annotations

from typing import Any

import pytest
from tls_support import tls_certs

from gnet.errors import NodeError
from gnet.tls import SecureContext, SNIContexts, create_secure_context


def secure(name: str) -> SecureContext:
    pair = getattr(tls_certs(), name)
    return create_secure_context({"cert": pair.cert, "key": pair.key})


@pytest.mark.parametrize(
    ("pattern", "name", "matches"),
    [
        ("*.example.com", "a.example.com", True),
        ("*.example.com", "a.b.example.com", False),
        ("*.example.com", "example.com", False),
        ("*.example.com", ".example.com", True),  # '*' may be empty in Node's regexp
        ("*", "localhost", True),
        ("*", "a.b", False),
        ("a*c.example", "abbc.example", True),
        ("a.example", "aXexample", False),  # '.' is literal
        ("example.com", "EXAMPLE.COM", False),  # case-sensitive, as Node
        ("a+b.example", "a+b.example", True),
        ("example.com", "example.com\n", False),
    ],
)
def test_patterns(pattern: str, name: str, matches: bool) -> None:
    table = SNIContexts()
    context = secure("server")
    table.add_context(pattern, context)
    assert (table.lookup(name) is context) is matches


def test_the_last_added_match_wins() -> None:
    table = SNIContexts()
    first, second = secure("server"), secure("wrong_host")
    table.add_context("*.example.com", first)
    table.add_context("a.example.com", second)
    assert table.lookup("a.example.com") is second
    assert table.lookup("b.example.com") is first
    assert table.lookup("other.org") is None


def test_add_context_takes_options_and_needs_a_name() -> None:
    table = SNIContexts()
    pair = tls_certs().wrong_host
    table.addContext("wrong.example", {"cert": pair.cert, "key": pair.key})
    assert isinstance(table.lookup("wrong.example"), SecureContext)
    with pytest.raises(NodeError) as raised:
        table.add_context("", secure("server"))
    assert raised.value.code == "ERR_TLS_REQUIRED_SERVER_NAME"
    with pytest.raises(NodeError) as raised:
        SNIContexts(sni_callback=5)  # type: ignore[arg-type]
    assert raised.value.code == "ERR_INVALID_ARG_TYPE"


def test_resolve_through_the_callback() -> None:
    answers: list[tuple[Any, Any]] = []
    chosen = secure("wrong_host")
    calls: list[Any] = []

    def callback(servername: str, cb: Any) -> None:
        calls.append((servername, cb))

    table = SNIContexts(callback)
    table.add_context("*", secure("server"))  # Node consults the table only without a callback
    table.resolve("x.example", lambda err, ctx: answers.append((err, ctx)))
    assert answers == []  # it may answer later
    calls[0][1](None, chosen)
    assert answers == [(None, chosen)]
    calls[0][1](None, chosen)
    assert answers[1][0].code == "ERR_MULTIPLE_CALLBACK"


def test_resolve_reports_the_callbacks_errors() -> None:
    answers: list[tuple[Any, Any]] = []
    boom = RuntimeError("no context")

    def raising(servername: str, cb: Any) -> None:
        raise boom

    SNIContexts(raising).resolve("x", lambda err, ctx: answers.append((err, ctx)))
    SNIContexts(lambda name, cb: cb(boom)).resolve("x", lambda err, ctx: answers.append((err, ctx)))
    assert answers == [(boom, None), (boom, None)]
