"""gnet.proxy_protocol: the PROXY protocol v1/v2 parser and builder, without sockets.

Known-good headers come from HAProxy's spec (doc/proxy-protocol.txt) and from
a real HAProxy 2.6 (``send-proxy-v2`` with ``proxy-v2-options crc32c,unique-id``,
captured once and pasted here).  Every rejection the spec asks for has a case;
hypothesis checks that arbitrary bytes only ever give NeedMore, a header or
ProxyProtocolError, that any split of a valid header parses the same, and that
the parser never consumes past the header.
"""

from __future__ import annotations

import struct

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gnet import errors
from gnet import proxy_protocol as pp
from gnet.proxy_protocol import (
    V2_SIGNATURE,
    Command,
    NeedMore,
    ProxyHeader,
    ProxyParser,
    ProxyProtocolError,
    Tlv,
    TlvType,
    build_ssl_tlv,
    build_v1,
    build_v2,
    parse,
)

# HAProxy 2.6, "server s1 ... send-proxy-v2 proxy-v2-options crc32c,unique-id",
# client 127.0.0.1:41402 -> frontend 127.0.0.1:38425, followed by the client's b"hello".
HAPROXY_V2 = bytes.fromhex(
    "0d0a0d0a000d0a515549540a211100237f0000017f000001a1ba9619"
    "030004fab27fb605000d37463030303030313a41314241"
)


def v2(ver_cmd: int, fam: int, body: bytes, length: int | None = None) -> bytes:
    """A raw v2 header, consistent or not (``length`` overrides the length field)."""
    size = len(body) if length is None else length
    return V2_SIGNATURE + bytes([ver_cmd, fam]) + struct.pack("!H", size) + body


def tlv(kind: int, value: bytes) -> bytes:
    return bytes([kind]) + struct.pack("!H", len(value)) + value


IPV4_BLOCK = bytes([10, 0, 0, 1, 10, 0, 0, 2]) + struct.pack("!HH", 1234, 80)


def rejects(data: bytes, reason: str, **kwargs: object) -> ProxyProtocolError:
    with pytest.raises(ProxyProtocolError) as info:
        parse(data, **kwargs)  # type: ignore[arg-type]
    assert info.value.reason == reason, info.value
    return info.value


# ---------------------------------------------------------------------------
# version 1


def test_v1_spec_example_leaves_the_request_alone() -> None:
    data = b"PROXY TCP4 192.168.0.1 192.168.0.11 56324 443\r\nGET / HTTP/1.1\r\n"
    header = parse(data)
    assert isinstance(header, ProxyHeader)
    assert (header.version, header.command, header.family) == (1, Command.PROXY, "TCP4")
    assert (header.source_address, header.source_port) == ("192.168.0.1", 56324)
    assert (header.destination_address, header.destination_port) == ("192.168.0.11", 443)
    assert data[header.length :] == b"GET / HTTP/1.1\r\n"
    assert header.ip_family == "IPv4"


def test_v1_longest_tcp6_line_is_104_bytes_and_is_accepted() -> None:
    full = ":".join(["ffff"] * 8)
    line = f"PROXY TCP6 {full} {full} 65535 65535\r\n".encode()
    assert len(line) == 104
    header = parse(line)
    assert isinstance(header, ProxyHeader)
    assert header.source_address == full.replace("ffff", "ffff")  # canonical form of all-ones
    assert header.length == 104 and header.ip_family == "IPv6"


def test_v1_tcp6_addresses_come_back_canonical() -> None:
    header = parse(b"PROXY TCP6 2001:DB8:0:0:0:0:0:1 ::1 1 2\r\n")
    assert isinstance(header, ProxyHeader)
    assert (header.source_address, header.destination_address) == ("2001:db8::1", "::1")


@pytest.mark.parametrize(
    "line",
    [
        b"PROXY UNKNOWN\r\n",
        # the spec's worst case: 107 bytes, whatever follows UNKNOWN is ignored
        b"PROXY UNKNOWN " + b"f" * 39 + b" " + b"f" * 39 + b" 65535 65535\r\n",
    ],
)
def test_v1_unknown_means_use_the_real_endpoints(line: bytes) -> None:
    header = parse(line + b"data")
    assert isinstance(header, ProxyHeader)
    assert header.family == "UNKNOWN" and header.source_address is None
    assert header.ip_family is None
    assert header.length == len(line) <= 107


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        (b"PROXY TCP4 1.2.3.4 5.6.7.8 1 2\n", "v1_bad_line"),  # bare LF
        (b"PROXY TCP4 1.2.3.4 5.6.7.8 1 2\rX", "v1_bad_line"),  # bare CR
        (b"PROXY TCP4 1.2.3.4 5.6.7.8 01 2\r\n", "v1_bad_line"),  # leading zero (octal?)
        (b"PROXY TCP4 01.2.3.4 5.6.7.8 1 2\r\n", "v1_bad_line"),
        (b"PROXY TCP4 1.2.3.4 5.6.7.8 1 65536\r\n", "v1_bad_line"),
        (b"PROXY TCP4 1.2.3.256 5.6.7.8 1 2\r\n", "v1_bad_line"),
        (b"PROXY TCP4 1.2.3 5.6.7.8 1 2\r\n", "v1_bad_line"),
        (b"PROXY TCP4 ::1 ::1 1 2\r\n", "v1_bad_line"),  # family mismatch
        (b"PROXY TCP6 1.2.3.4 5.6.7.8 1 2\r\n", "v1_bad_line"),
        (b"PROXY TCP6 fe80::1%eth0 ::1 1 2\r\n", "v1_bad_line"),  # no scope ids
        (b"PROXY TCP4  1.2.3.4 5.6.7.8 1 2\r\n", "v1_bad_line"),  # two spaces
        (b"PROXY TCP4 1.2.3.4 5.6.7.8 1 2 \r\n", "v1_bad_line"),  # trailing space
        (b"PROXY TCP4 1.2.3.4 5.6.7.8 1\r\n", "v1_bad_line"),  # a field missing
        (b"PROXY TCP4 1.2.3.4 5.6.7.8 +1 2\r\n", "v1_bad_line"),
        (b"PROXY TCP4 1.2.3.4 5.6.7.8 \xd9\xa1 2\r\n", "v1_bad_line"),  # not ASCII digits
        (b"PROXY TCP5 1.2.3.4 5.6.7.8 1 2\r\n", "v1_bad_line"),
        (b"PROXY UNKNOWNX\r\n", "v1_bad_line"),
        (b"PROXY \r\n", "v1_bad_line"),
        (b"PROXY TCP4 " + b"1" * 120, "v1_too_long"),
        (b"PROXY UNKNOWN " + b"f" * 92 + b"\r\n", "v1_too_long"),  # CRLF at bytes 107-108
        (b"proxy TCP4 1.2.3.4 5.6.7.8 1 2\r\n", "signature"),
        (b"PROXYTCP4", "signature"),
    ],
)
def test_v1_rejections(line: bytes, reason: str) -> None:
    rejects(line, reason)


def test_v1_too_long_is_reported_at_byte_107_not_later() -> None:
    parser = ProxyParser("v1")
    assert isinstance(parser.feed(b"PROXY UNKNOWN " + b"x" * 92), NeedMore)  # 106 bytes
    with pytest.raises(ProxyProtocolError) as info:
        parser.feed(b"x")
    assert info.value.reason == "v1_too_long"


# ---------------------------------------------------------------------------
# version 2


def test_v2_from_real_haproxy_with_crc32c_and_unique_id() -> None:
    header = parse(HAPROXY_V2 + b"hello")
    assert isinstance(header, ProxyHeader)
    assert (header.version, header.command, header.family) == (2, Command.PROXY, "TCP4")
    assert (header.source_address, header.source_port) == ("127.0.0.1", 41402)
    assert (header.destination_address, header.destination_port) == ("127.0.0.1", 38425)
    assert header.crc32c == 0xFAB27FB6
    assert header.unique_id == b"7F000001:A1BA"
    assert header.length == len(HAPROXY_V2)
    assert [t.type for t in header.tlvs] == [TlvType.CRC32C, TlvType.UNIQUE_ID]


def test_v2_bad_crc_is_rejected() -> None:
    corrupt = bytearray(HAPROXY_V2)
    corrupt[-1] ^= 0x01  # one bit of the unique id
    rejects(bytes(corrupt), "v2_crc")


def test_crc32c_check_value() -> None:
    assert pp.crc32c(b"123456789") == 0xE3069283  # RFC 3720's check value


def test_v2_local_command_from_a_health_check() -> None:
    header = parse(v2(0x20, 0x00, b"") + b"data")
    assert isinstance(header, ProxyHeader)
    assert header.command is Command.LOCAL and header.length == 16
    assert header.source_address is None and header.ip_family is None


def test_v2_local_ignores_the_addresses_it_carries() -> None:
    header = parse(v2(0x20, 0x11, IPV4_BLOCK))
    assert isinstance(header, ProxyHeader)
    assert header.command is Command.LOCAL and header.source_address is None


def test_v2_tcp6_udp_and_unix_families() -> None:
    src, dst = bytes(15) + b"\x01", bytes.fromhex("20010db8") + bytes(11) + b"\x02"
    tcp6 = parse(v2(0x21, 0x21, src + dst + struct.pack("!HH", 5, 6)))
    assert isinstance(tcp6, ProxyHeader)
    assert (tcp6.family, tcp6.source_address, tcp6.destination_address) == (
        "TCP6",
        "::1",
        "2001:db8::2",
    )
    assert (tcp6.source_port, tcp6.destination_port, tcp6.ip_family) == (5, 6, "IPv6")
    udp4 = parse(v2(0x21, 0x12, IPV4_BLOCK))
    assert isinstance(udp4, ProxyHeader) and udp4.family == "UDP4"
    paths = b"/run/a.sock".ljust(108, b"\0") + b"\0abstract".ljust(108, b"\0")
    unix = parse(v2(0x21, 0x31, paths))
    assert isinstance(unix, ProxyHeader)
    assert (unix.family, unix.source_address, unix.destination_address) == (
        "UNIX",
        "/run/a.sock",
        "\0abstract",
    )
    assert unix.source_port is None and unix.ip_family is None


def test_v2_decodes_the_registered_tlvs() -> None:
    ssl = (
        bytes([0x07]) + struct.pack("!I", 0)
        + tlv(0x21, b"TLSv1.3") + tlv(0x22, b"client.example") + tlv(0x23, b"TLS_AES_128_GCM_SHA256")
        + tlv(0x24, b"RSA-SHA256") + tlv(0x25, b"RSA2048")
    )  # fmt: skip
    body = IPV4_BLOCK + b"".join(
        [
            tlv(0x01, b"h2"),
            tlv(0x02, "bücher.example".encode()),
            tlv(0x04, b"\0\0\0"),  # NOOP: padding
            tlv(0x05, b"id-1"),
            tlv(0x20, ssl),
            tlv(0x30, b"blue"),
            tlv(0xEA, b"\x01vpce-08d2bf15fac5001c9"),
            tlv(0xE5, b"custom"),
        ]
    )
    header = parse(v2(0x21, 0x11, body))
    assert isinstance(header, ProxyHeader)
    assert header.alpn == b"h2"
    assert header.authority == "bücher.example"
    assert header.unique_id == b"id-1"
    assert header.netns == "blue"
    assert header.aws_vpce_id == "vpce-08d2bf15fac5001c9"
    assert header.tlv(0xE5) == b"custom" and header.tlv(0xE6) is None
    assert header.tlv(TlvType.NOOP) == b"\0\0\0"
    info = header.ssl
    assert info is not None
    assert (info.ssl, info.cert_in_connection, info.cert_in_session, info.verified) == (
        True,
        True,
        True,
        True,
    )
    assert (info.version, info.cn, info.cipher) == (
        "TLSv1.3",
        "client.example",
        "TLS_AES_128_GCM_SHA256",
    )
    assert (info.sig_alg, info.key_alg) == ("RSA-SHA256", "RSA2048")


def test_v2_ssl_without_a_verified_certificate() -> None:
    header = parse(v2(0x21, 0x11, IPV4_BLOCK + tlv(0x20, b"\x01" + struct.pack("!I", 1))))
    assert isinstance(header, ProxyHeader) and header.ssl is not None
    assert header.ssl.ssl and not header.ssl.cert_in_connection and not header.ssl.verified
    assert header.ssl.version is None


def test_v2_other_aws_subtypes_are_kept_raw_only() -> None:
    header = parse(v2(0x21, 0x11, IPV4_BLOCK + tlv(0xEA, b"\x02other")))
    assert isinstance(header, ProxyHeader)
    assert header.aws_vpce_id is None and header.tlv(0xEA) == b"\x02other"


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (v2(0x11, 0x11, IPV4_BLOCK), "v2_version"),
        (v2(0x31, 0x11, IPV4_BLOCK), "v2_version"),
        (v2(0x22, 0x11, IPV4_BLOCK), "v2_command"),
        (v2(0x2F, 0x11, IPV4_BLOCK), "v2_command"),
        (v2(0x21, 0x41, IPV4_BLOCK), "v2_family"),
        (v2(0x21, 0x13, IPV4_BLOCK), "v2_family"),
        (v2(0x21, 0x10, IPV4_BLOCK), "v2_family"),
        (v2(0x21, 0x11, IPV4_BLOCK[:8]), "v2_address"),  # too short for TCP4
        (v2(0x21, 0x31, b"/a".ljust(108, b"\0")), "v2_address"),  # one UNIX path of two
        (v2(0x21, 0x11, IPV4_BLOCK + b"\x01\x00"), "v2_tlv"),  # TLV header cut
        (v2(0x21, 0x11, IPV4_BLOCK + b"\x01\x00\x05ab"), "v2_tlv"),  # TLV past the end
        (v2(0x21, 0x11, IPV4_BLOCK + tlv(0x03, b"\0\0\0")), "v2_tlv"),  # 3-byte CRC
        (v2(0x21, 0x11, IPV4_BLOCK + tlv(0x02, b"\xff\xfe")), "v2_tlv"),  # not UTF-8
        (v2(0x21, 0x11, IPV4_BLOCK + tlv(0x02, b"a" * 256)), "v2_tlv"),
        (v2(0x21, 0x11, IPV4_BLOCK + tlv(0x05, b"a" * 129)), "v2_tlv"),
        (v2(0x21, 0x11, IPV4_BLOCK + tlv(0x20, b"\x01\0\0")), "v2_tlv"),  # SSL under 5 bytes
        (v2(0x21, 0x11, IPV4_BLOCK + tlv(0x20, b"\x01\0\0\0\0\x21\x00")), "v2_tlv"),  # sub-TLV cut
        (v2(0x21, 0x11, IPV4_BLOCK + tlv(0x30, "ü".encode())), "v2_tlv"),  # NETNS is ASCII
        (V2_SIGNATURE[:11] + b"X" + b"\x21\x11\x00\x0c" + IPV4_BLOCK, "signature"),
    ],
)
def test_v2_rejections(data: bytes, reason: str) -> None:
    rejects(data, reason)


def test_v2_two_crc_tlvs_are_rejected() -> None:
    once = build_v2(("10.0.0.1", 1), ("10.0.0.2", 2), crc=True)
    twice = v2(0x21, 0x11, once[16:] + tlv(0x03, once[-4:]))
    rejects(twice, "v2_tlv")


def test_v2_length_over_the_cap_fails_before_the_body_arrives() -> None:
    parser = ProxyParser()
    head = v2(0x21, 0x11, b"", length=4096)  # 16 + 4096 > 4096
    with pytest.raises(ProxyProtocolError) as info:
        parser.feed(head)
    assert info.value.reason == "v2_too_long"


def test_v2_cap_is_configurable() -> None:
    big = build_v2(("10.0.0.1", 1), ("10.0.0.2", 2), tlvs=[(0xE0, b"x" * 5000)])
    rejects(big, "v2_too_long")
    header = parse(big, max_v2_length=len(big))
    assert isinstance(header, ProxyHeader) and header.tlv(0xE0) == b"x" * 5000
    rejects(big, "v2_too_long", max_v2_length=len(big) - 1)


def test_v2_need_more_says_how_many_bytes() -> None:
    assert parse(HAPROXY_V2[:5]) == NeedMore(1) or parse(HAPROXY_V2[:5]) == NeedMore(11)
    assert parse(HAPROXY_V2[:12], mode="v2") == NeedMore(4)
    assert parse(HAPROXY_V2[:20]) == NeedMore(len(HAPROXY_V2) - 20)


# ---------------------------------------------------------------------------
# modes and the parser object


@pytest.mark.parametrize(
    ("data", "mode"),
    [
        (HAPROXY_V2, "v1"),
        (b"PROXY UNKNOWN\r\n", "v2"),
        (b"GET / HTTP/1.1\r\n", "auto"),
        (b"\x16\x03\x01\x02\x00\x01\x00\x01", "auto"),  # a TLS ClientHello
        (b"SSH-2.0-OpenSSH_9.2\r\n", "auto"),
    ],
)
def test_wrong_signature_for_the_mode(data: bytes, mode: str) -> None:
    rejects(data, "signature", mode=mode)


def test_auto_rejects_on_the_first_wrong_byte() -> None:
    with pytest.raises(ProxyProtocolError):
        ProxyParser().feed(b"G")
    assert parse(b"P") == NeedMore(1) and parse(b"\r") == NeedMore(1)


def test_the_error_carries_the_node_style_code() -> None:
    err = rejects(b"GET /", "signature")
    assert isinstance(err, errors.Error)
    assert err.code == "ERR_GNET_PROXY_PROTOCOL"
    assert str(err).startswith("invalid PROXY protocol header: ")
    assert "ERR_GNET_PROXY_PROTOCOL" in errors.NODE_ERRORS


def test_parser_keeps_the_application_data_after_the_header() -> None:
    parser = ProxyParser()
    assert isinstance(parser.feed(HAPROXY_V2[:30]), NeedMore)
    header = parser.feed(HAPROXY_V2[30:] + b"hello")
    assert isinstance(header, ProxyHeader)
    assert parser.header == header and parser.remainder == b"hello"
    with pytest.raises(errors.Error) as info:
        parser.feed(b"more")
    assert info.value.code == "ERR_STREAM_ALREADY_FINISHED"
    assert parser.feed_eof() == header


@pytest.mark.parametrize("received", [b"", b"PROXY TCP4 1.2", HAPROXY_V2[:20]])
def test_end_of_stream_inside_the_header_is_truncated(received: bytes) -> None:
    parser = ProxyParser()
    if received:
        assert isinstance(parser.feed(received), NeedMore)
    with pytest.raises(ProxyProtocolError) as info:
        parser.feed_eof()
    assert info.value.reason == "truncated"


def test_a_failed_parser_refuses_more_bytes() -> None:
    parser = ProxyParser()
    with pytest.raises(ProxyProtocolError):
        parser.feed(b"nope")
    with pytest.raises(errors.Error) as info:
        parser.feed(b"PROXY UNKNOWN\r\n")
    assert info.value.code == "ERR_STREAM_ALREADY_FINISHED"


@pytest.mark.parametrize(
    ("kwargs", "code"),
    [
        ({"mode": "v3"}, "ERR_INVALID_ARG_VALUE"),
        ({"max_v2_length": 8}, "ERR_OUT_OF_RANGE"),
        ({"max_v2_length": 70000}, "ERR_OUT_OF_RANGE"),
        ({"max_v2_length": "4096"}, "ERR_INVALID_ARG_TYPE"),
    ],
)
def test_bad_parser_options(kwargs: dict[str, object], code: str) -> None:
    with pytest.raises(errors.NodeError) as info:
        ProxyParser(**kwargs)  # type: ignore[arg-type]
    assert info.value.code == code


# ---------------------------------------------------------------------------
# building


def test_build_v1_round_trips() -> None:
    line = build_v1(("192.168.0.1", 56324), ("192.168.0.11", 443))
    assert line == b"PROXY TCP4 192.168.0.1 192.168.0.11 56324 443\r\n"
    assert build_v1(None, None) == b"PROXY UNKNOWN\r\n"
    header = parse(build_v1(("2001:db8::1", 1), ("::1", 65535)))
    assert isinstance(header, ProxyHeader)
    assert (header.family, header.source_address, header.destination_port) == (
        "TCP6",
        "2001:db8::1",
        65535,
    )


def test_build_v2_round_trips_with_tlvs_and_crc() -> None:
    ssl = build_ssl_tlv(
        0x05, 0, version="TLSv1.2", cn="me", cipher="AES", sig_alg="RSA-SHA256", key_alg="RSA2048"
    )
    data = build_v2(
        ("::ffff:10.0.0.1", 40000),
        ("2001:db8::5", 443),
        tlvs=[Tlv(TlvType.ALPN, b"http/1.1"), (TlvType.AUTHORITY, b"example.com"), ssl],
        crc=True,
    )
    header = parse(data)
    assert isinstance(header, ProxyHeader)
    assert header.source_address == "::ffff:10.0.0.1" and header.source_port == 40000
    assert header.alpn == b"http/1.1" and header.authority == "example.com"
    assert header.crc32c is not None and header.ssl is not None
    assert (header.ssl.version, header.ssl.cn, header.ssl.key_alg) == ("TLSv1.2", "me", "RSA2048")
    assert header.length == len(data)


def test_build_v2_local_unix_and_datagram() -> None:
    local = parse(build_v2(None, None, command="LOCAL", tlvs=[(0x05, b"hc")]))
    assert isinstance(local, ProxyHeader)
    assert (local.command, local.family, local.unique_id) == (Command.LOCAL, "UNKNOWN", b"hc")
    unix = parse(build_v2("/run/client", "\0server"))
    assert isinstance(unix, ProxyHeader)
    assert (unix.family, unix.source_address, unix.destination_address) == (
        "UNIX",
        "/run/client",
        "\0server",
    )
    udp = parse(build_v2(("10.0.0.1", 53), ("10.0.0.2", 53), datagram=True))
    assert isinstance(udp, ProxyHeader) and udp.family == "UDP4"
    unspec = parse(build_v2(None, None))
    assert isinstance(unspec, ProxyHeader)
    assert (unspec.command, unspec.family) == (Command.PROXY, "UNKNOWN")


@pytest.mark.parametrize(
    ("build", "code"),
    [
        (lambda: build_v1(("10.0.0.1", 1), ("::1", 2)), "ERR_INVALID_ARG_VALUE"),
        (lambda: build_v1(("10.0.0.1", 1), None), "ERR_MISSING_ARGS"),
        (lambda: build_v1(("10.0.0.1", 70000), ("10.0.0.2", 1)), "ERR_SOCKET_BAD_PORT"),
        (lambda: build_v1(("example.com", 1), ("10.0.0.2", 1)), "ERR_INVALID_IP_ADDRESS"),
        (lambda: build_v1("10.0.0.1", ("10.0.0.2", 1)), "ERR_INVALID_ARG_TYPE"),  # type: ignore[arg-type]
        (lambda: build_v2("/a" * 60, "/b"), "ERR_OUT_OF_RANGE"),
        (lambda: build_v2("/a", ("10.0.0.2", 1)), "ERR_INVALID_ARG_TYPE"),
        (lambda: build_v2(("10.0.0.1", 1), ("10.0.0.2", 1), tlvs=[(256, b"")]), "ERR_OUT_OF_RANGE"),
        (lambda: build_v2(None, None, tlvs=[(0xE0, b"x" * 65535)]), "ERR_OUT_OF_RANGE"),
    ],
)
def test_build_rejects_bad_arguments(build: object, code: str) -> None:
    with pytest.raises(errors.NodeError) as info:
        build()  # type: ignore[operator]
    assert info.value.code == code


def test_camel_case_aliases() -> None:
    assert pp.buildV1 is pp.build_v1 and pp.buildV2 is pp.build_v2  # type: ignore[attr-defined]
    header = parse(
        build_v2(
            ("10.0.0.1", 1), ("10.0.0.2", 2), tlvs=[(0x05, b"id"), build_ssl_tlv(1, sig_alg="RSA")]
        )
    )
    assert isinstance(header, ProxyHeader) and header.ssl is not None
    assert header.ipFamily == "IPv4"  # type: ignore[attr-defined]
    assert header.sourceAddress == "10.0.0.1" and header.destinationPort == 2  # type: ignore[attr-defined]
    assert header.uniqueId == b"id"  # a field with a default: the instance's value, not the default
    assert header.ssl.sigAlg == "RSA" and header.ssl.certInConnection is False  # type: ignore[attr-defined]
    assert ProxyParser.feedEof is ProxyParser.feed_eof  # type: ignore[attr-defined]


# ---------------------------------------------------------------------------
# properties

ipv4 = st.ip_addresses(v=4).map(str)
ipv6 = st.ip_addresses(v=6).map(str)
ports = st.integers(0, 65535)
tlv_items = st.lists(
    st.tuples(st.sampled_from([0x01, 0x04, 0x05, 0xE0, 0xF1]), st.binary(max_size=40)), max_size=4
)


@st.composite
def valid_headers(draw: st.DrawFn) -> bytes:
    family = draw(st.sampled_from(["v4", "v6"]))
    addrs = ipv4 if family == "v4" else ipv6
    src, dst = (draw(addrs), draw(ports)), (draw(addrs), draw(ports))
    if draw(st.booleans()):
        return build_v1(src, dst)
    return build_v2(src, dst, tlvs=draw(tlv_items), crc=draw(st.booleans()))


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=300), st.sampled_from(["v1", "v2", "auto"]))
def test_random_bytes_give_need_more_a_header_or_the_protocol_error(data: bytes, mode: str) -> None:
    for prefix in (b"", b"PROXY ", V2_SIGNATURE + b"\x21"):
        try:
            result = parse(prefix + data, mode)  # type: ignore[arg-type]
        except ProxyProtocolError:
            continue
        assert isinstance(result, (NeedMore, ProxyHeader))
        if isinstance(result, ProxyHeader):
            assert 0 < result.length <= len(prefix + data)


@settings(max_examples=200, deadline=None)
@given(valid_headers(), st.binary(max_size=50), st.data())
def test_any_split_parses_the_same_and_keeps_what_follows(
    header_bytes: bytes, trailer: bytes, data: st.DataObject
) -> None:
    whole = parse(header_bytes + trailer)
    assert isinstance(whole, ProxyHeader)
    assert whole.length == len(header_bytes)  # never consumes past the header
    stream = header_bytes + trailer
    cuts = sorted(data.draw(st.lists(st.integers(0, len(stream)), max_size=8)))
    parser = ProxyParser()
    result: ProxyHeader | NeedMore = NeedMore()
    start = 0
    for cut in [*cuts, len(stream)]:
        if isinstance(result, ProxyHeader):
            break
        result = parser.feed(stream[start:cut])
        start = cut
    assert result == whole
    assert parser.remainder + stream[start:] == trailer


@settings(max_examples=200, deadline=None)
@given(valid_headers(), st.integers(0, 10_000))
def test_every_strict_prefix_of_a_header_needs_more(header_bytes: bytes, seed: int) -> None:
    cut = seed % len(header_bytes)
    assert isinstance(parse(header_bytes[:cut]), NeedMore)
