"""createServer's PROXY protocol options: checked at once, with Node-style codes."""

from __future__ import annotations

from typing import Any

import pytest

import gnet
from gnet.options import DEFAULT_PROXY_TIMEOUT, parse_server_options
from support import raises_code


def test_defaults__off() -> None:
    options = parse_server_options(None, {})
    assert options.proxy_protocol is None and options.proxy_trusted is None
    assert options.proxy_timeout == DEFAULT_PROXY_TIMEOUT == 5000.0
    assert options.proxy_max_header == 4096


@pytest.mark.parametrize("mode", ["v1", "v2", "auto"])
def test_modes_in_either_spelling(mode: str) -> None:
    assert parse_server_options({"proxyProtocol": mode}, {}).proxy_protocol == mode
    assert parse_server_options(None, {"proxy_protocol": mode}).proxy_protocol == mode


def test_trusted_peers_from_strings() -> None:
    options = parse_server_options(
        {"proxy_protocol": "v2", "proxyTrusted": ["10.0.0.0/8", "192.0.2.1", "2001:db8::/32", "::1"]}, {}
    )
    trusted = options.proxy_trusted
    assert trusted is not None
    assert trusted.check("10.1.2.3") and trusted.check("192.0.2.1")
    assert trusted.check("2001:db8::5", "ipv6") and trusted.check("::1", "ipv6")
    assert not trusted.check("192.0.2.2")
    single = parse_server_options({"proxy_protocol": "v1", "proxy_trusted": "127.0.0.1"}, {})
    assert single.proxy_trusted is not None and single.proxy_trusted.check("127.0.0.1")


def test_trusted_block_list_is_used_as_given() -> None:
    peers = gnet.BlockList()
    assert parse_server_options({"proxy_protocol": "v1", "proxy_trusted": peers}, {}).proxy_trusted is peers


@pytest.mark.parametrize(
    ("options", "error", "code"),
    [
        ({"proxy_protocol": "v3"}, TypeError, "ERR_INVALID_ARG_VALUE"),
        ({"proxy_protocol": True}, TypeError, "ERR_INVALID_ARG_VALUE"),
        ({"proxy_trusted": ["127.0.0.1"]}, TypeError, "ERR_INVALID_ARG_VALUE"),  # without the protocol
        ({"proxy_protocol": "v2", "proxy_trusted": 127}, TypeError, "ERR_INVALID_ARG_TYPE"),
        ({"proxy_protocol": "v2", "proxy_trusted": ["10.0.0.0/99"]}, ValueError, "ERR_OUT_OF_RANGE"),
        ({"proxy_protocol": "v2", "proxy_timeout": 0}, ValueError, "ERR_OUT_OF_RANGE"),
        ({"proxy_protocol": "v2", "proxy_timeout": -1}, ValueError, "ERR_OUT_OF_RANGE"),
        ({"proxy_protocol": "v2", "proxy_timeout": "5s"}, TypeError, "ERR_INVALID_ARG_TYPE"),
        ({"proxy_protocol": "v2", "proxy_max_header": 15}, ValueError, "ERR_OUT_OF_RANGE"),
        ({"proxy_protocol": "v2", "proxy_max_header": 70000}, ValueError, "ERR_OUT_OF_RANGE"),
        ({"proxy_protocol": "v2", "proxy_max_header": 1.5}, TypeError, "ERR_INVALID_ARG_TYPE"),
    ],
)
def test_bad_values_raise_at_once(options: dict[str, Any], error: type[BaseException], code: str) -> None:
    raises_code(error, code, lambda: gnet.create_server(options))
