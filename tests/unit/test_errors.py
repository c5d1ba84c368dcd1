"""gnet.errors: Node's errors as Python exceptions (pure, no sockets).

``make_error`` (the one table of ``ERR_*`` codes: class and message),
``describe_value`` (how a received value is shown), ``system_error`` and
``from_oserror`` (Node-shaped system errors), ``aggregate_error`` (Happy
Eyeballs).  Node's messages quoted here were produced by Node v20.20 with
``node -e`` (``new net.Socket().setTimeout('100')`` and the like); where
gnet shows a value Python's way (``True``, ``None``) the test says so.
"""

from __future__ import annotations

import errno
import socket
from typing import Any

import pytest

import gnet
from gnet.errors import (
    NODE_ERRORS,
    AbortError,
    AggregateError,
    Error,
    IncompleteReadError,
    LimitOverrunError,
    NodeError,
    NodeSystemError,
    aggregate_error,
    describe_value,
    from_oserror,
    make_error,
    system_error,
)

# ----------------------------------------------------------------------
# make_error: the table

# Arguments for the codes whose message takes some (Node's ``new codes[code](...)``).
ARGS: dict[str, tuple[Any, ...]] = {
    "ERR_INVALID_ARG_TYPE": ("msecs", "of type number", "100"),
    "ERR_INVALID_ARG_VALUE": ("hints", 42),
    "ERR_MISSING_ARGS": ("options", "port", "path"),
    "ERR_INVALID_IP_ADDRESS": ("foobar",),
    "ERR_INVALID_FD_TYPE": ("FILE",),
    "ERR_UNKNOWN_ENCODING": ("utf16",),
    "ERR_SOCKET_BAD_PORT": ("Port", 65536),
    "ERR_OUT_OF_RANGE": ("msecs", "a non-negative finite number", -1),
    "ERR_INVALID_ADDRESS_FAMILY": (100, "localhost", 0),
    "ERR_STREAM_DESTROYED": ("write",),
    "ERR_STREAM_ALREADY_FINISHED": ("end",),
    "ERR_IP_BLOCKED": ("127.0.0.1",),
    "ERR_GNET_CONCURRENT_IO": ("a read",),
    "ERR_GNET_FLOWING": ("recv",),
    "ERR_GNET_UNEXPECTED_KEYWORD": ("connect", "timout"),
    "ERR_GNET_PROXY_PROTOCOL": ("wrong signature",),
    # TLS (gnet.tls)
    "ERR_TLS_CERT_ALTNAME_INVALID": ("Host: a.com. is not cert's CN: b.com", "a.com", {}),
    "ERR_TLS_INVALID_PROTOCOL_VERSION": ("TLSv1.4", "minimum"),
    "ERR_TLS_PROTOCOL_VERSION_CONFLICT": ("TLSv1.2", "TLSv1_2_method"),
    "ERR_TLS_INVALID_PROTOCOL_METHOD": ("Unknown method: nope",),
    "ERR_TLS_INVALID_CONTEXT": ("context",),
    "ERR_TLS_DH_PARAM_SIZE": (1024,),
    "ERR_CRYPTO_OPERATION_FAILED": ("Failed to set ECDH curve",),
    "ERR_GNET_TLS_UNSUPPORTED": ("options.sessionTimeout",),
    "ERR_GNET_TLS_NEEDS_CRYPTOGRAPHY": ("options.pfx",),
}

# Node's TypeErrors are TypeErrors, its RangeErrors ValueErrors, the rest gnet.Error.
TYPE_ERRORS = {
    "ERR_INVALID_ARG_TYPE",
    "ERR_INVALID_ARG_VALUE",
    "ERR_MISSING_ARGS",
    "ERR_INVALID_IP_ADDRESS",
    "ERR_INVALID_FD_TYPE",
    "ERR_INVALID_HANDLE_TYPE",
    "ERR_STREAM_NULL_VALUES",
    "ERR_UNKNOWN_ENCODING",
    "ERR_GNET_UNEXPECTED_KEYWORD",
    "ERR_TLS_INVALID_PROTOCOL_VERSION",
    "ERR_TLS_PROTOCOL_VERSION_CONFLICT",
    "ERR_TLS_INVALID_PROTOCOL_METHOD",
    "ERR_TLS_INVALID_CONTEXT",
}
RANGE_ERRORS = {"ERR_SOCKET_BAD_PORT", "ERR_OUT_OF_RANGE", "ERR_INVALID_ADDRESS_FAMILY"}
# ValueErrors that are not Node RangeErrors: a rejected certificate is one to
# Python (ssl.SSLCertVerificationError), and so is Node's SyntaxError for a
# malformed subjectaltname string.
VALUE_ERRORS = {"ERR_TLS_CERT_ALTNAME_INVALID", "ERR_TLS_CERT_ALTNAME_FORMAT"}


@pytest.mark.parametrize("code", sorted(NODE_ERRORS))
def test_make_error_class_and_code(code: str) -> None:
    err = make_error(code, *ARGS.get(code, ()))
    assert isinstance(err, NodeError)
    assert err.code == code
    assert str(err) and str(err) == err.args[0]
    if code in TYPE_ERRORS:
        assert isinstance(err, TypeError) and not isinstance(err, ValueError)
    elif code in RANGE_ERRORS | VALUE_ERRORS:
        assert isinstance(err, ValueError) and not isinstance(err, TypeError)
    else:
        assert isinstance(err, Error) and not isinstance(err, (TypeError, ValueError))
    # re-exported, so user code catches it without importing gnet.errors
    assert getattr(gnet, type(err).__name__) is type(err)


def test_every_code_in_the_table_is_covered_here() -> None:
    no_args = {code for code in NODE_ERRORS if code not in ARGS}
    for code in no_args:
        make_error(code)  # each takes no argument
    assert TYPE_ERRORS | RANGE_ERRORS | VALUE_ERRORS <= set(NODE_ERRORS)


@pytest.mark.parametrize(
    ("code", "args", "message"),
    [
        # Node v20, word for word
        (
            "ERR_INVALID_ARG_TYPE",
            ("msecs", "of type number", "100"),
            "The \"msecs\" argument must be of type number. Received type string ('100')",
        ),
        (
            "ERR_INVALID_ARG_TYPE",
            ("msecs", "of type number", "a" * 40),
            'The "msecs" argument must be of type number. '
            "Received type string ('aaaaaaaaaaaaaaaaaaaaaaaaa...')",
        ),
        (
            "ERR_INVALID_ARG_TYPE",
            ("callback", "of type function", 5),
            'The "callback" argument must be of type function. Received type number (5)',
        ),
        (
            "ERR_INVALID_ARG_TYPE",
            ("options.port", "of type number", 1.5),
            'The "options.port" property must be of type number. Received type number (1.5)',
        ),
        (
            "ERR_OUT_OF_RANGE",
            ("msecs", "a non-negative finite number", -1),
            'The value of "msecs" is out of range. It must be a non-negative finite number. '
            "Received -1",
        ),
        (
            "ERR_MISSING_ARGS",
            ("options", "port", "path"),
            'The "options" or "port" or "path" argument must be specified',
        ),
        (
            "ERR_SOCKET_BAD_PORT",
            ("Port", 65536),
            "Port should be >= 0 and < 65536. Received type number (65536).",
        ),
        ("ERR_INVALID_ARG_VALUE", ("hints", 42), "The argument 'hints' is invalid. Received 42"),
        ("ERR_UNHANDLED_ERROR", ("x",), "Unhandled error. ('x')"),
        ("ERR_UNHANDLED_ERROR", (), "Unhandled error."),
        ("ERR_STREAM_NULL_VALUES", (), "May not write null values to stream"),
        ("ERR_STREAM_DESTROYED", ("write",), "Cannot call write after a stream was destroyed"),
        (
            "ERR_INVALID_ADDRESS_FAMILY",
            (100, "localhost", 0),
            "Invalid address family: 100 localhost:0",
        ),
        ("ERR_IP_BLOCKED", ("10.0.0.1",), "IP(10.0.0.1) is blocked by net.BlockList"),
        ("ERR_UNKNOWN_ENCODING", ("utf16",), "Unknown encoding: utf16"),
    ],
)
def test_make_error_messages(code: str, args: tuple[Any, ...], message: str) -> None:
    assert str(make_error(code, *args)) == message


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        ("100", "type string ('100')"),
        (5, "type number (5)"),
        (1.5, "type number (1.5)"),
        (True, "type boolean (True)"),  # Node: (true); gnet shows Python's repr
        (None, "None"),  # Node: null
        (ValueError(), "an instance of ValueError"),  # Node: an instance of Object
        ({}, "an instance of dict"),
    ],
)
def test_describe_value(value: Any, shown: str) -> None:
    assert describe_value(value) == shown


def test_describe_value_of_a_function() -> None:
    def on_data() -> None:
        pass

    assert describe_value(on_data) == "function on_data"  # Node: function on_data


def test_gnet_error_classes() -> None:
    incomplete = IncompleteReadError(b"abc", 10)
    assert isinstance(incomplete, EOFError) and incomplete.code == "ERR_GNET_INCOMPLETE_READ"
    assert (incomplete.partial, incomplete.expected) == (b"abc", 10)
    assert str(incomplete) == "3 bytes read on a total of 10 expected"  # asyncio's wording
    assert str(IncompleteReadError("ab", None)) == "2 bytes read on a total of separator not found"
    overrun = LimitOverrunError("separator not found within limit", 70000)
    assert isinstance(overrun, ValueError) and overrun.code == "ERR_GNET_LIMIT_OVERRUN"
    assert overrun.consumed == 70000
    abort = make_error("ABORT_ERR")
    assert isinstance(abort, AbortError) and abort.code == "ABORT_ERR"
    assert str(abort) == "The operation was aborted"


# ----------------------------------------------------------------------
# system errors


def test_system_error_of_a_connect() -> None:
    err = system_error(errno.ECONNREFUSED, "connect", "127.0.0.1", 8124)
    assert isinstance(err, ConnectionRefusedError) and isinstance(err, NodeSystemError)
    assert err.errno == errno.ECONNREFUSED  # Python's, positive (Node's is negative)
    assert (err.code, err.syscall, err.address, err.port) == (
        "ECONNREFUSED",
        "connect",
        "127.0.0.1",
        8124,
    )
    assert str(err) == err.message == "connect ECONNREFUSED 127.0.0.1:8124"


def test_system_error_from_a_code_name() -> None:
    err = system_error("EPIPE", "write")
    assert isinstance(err, BrokenPipeError)
    assert err.errno == errno.EPIPE
    assert str(err) == "write EPIPE"
    assert (err.address, err.port, err.hostname) == (None, None, None)  # Node: undefined


def test_system_error_of_an_unknown_code() -> None:
    err = system_error("EFOO", "read")
    assert type(err).__mro__[1:3] == (NodeSystemError, OSError)
    assert (err.code, str(err)) == ("EFOO", "read EFOO")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        # Node v20's listen errors, with libuv's description
        (
            (errno.EADDRINUSE, "listen", "127.0.0.1", 8124),
            "listen EADDRINUSE: address already in use 127.0.0.1:8124",
        ),
        (
            (errno.EADDRINUSE, "listen", "/tmp/gnet.sock", -1),
            "listen EADDRINUSE: address already in use /tmp/gnet.sock",
        ),
        (
            (errno.EADDRNOTAVAIL, "listen", "1.1.1.1", 1),
            "listen EADDRNOTAVAIL: address not available 1.1.1.1:1",
        ),
        (
            (errno.EACCES, "listen", "/blah/fadfa", -1),
            "listen EACCES: permission denied /blah/fadfa",
        ),
        ((errno.EINVAL, "listen"), "listen EINVAL: invalid argument"),
        ((errno.ENOSPC, "listen"), "listen ENOSPC: no space left on device"),  # strerror's
    ],
)
def test_system_error_with_a_description(args: tuple[Any, ...], message: str) -> None:
    err = system_error(*args, description=True)
    assert str(err) == message
    assert err.port == (args[3] if len(args) > 3 else None)


def test_system_error_with_the_local_address() -> None:
    # Node: connect ECONNREFUSED 127.0.0.1:1 - Local (127.0.0.1:5000), with
    # localAddress and localPort (gnet: also local_address and local_port).
    err: Any = system_error(
        errno.ECONNREFUSED, "connect", "127.0.0.1", 1, local=("127.0.0.1", 5000)
    )
    assert str(err) == "connect ECONNREFUSED 127.0.0.1:1 - Local (127.0.0.1:5000)"
    assert (err.localAddress, err.localPort) == ("127.0.0.1", 5000)
    assert (err.local_address, err.local_port) == ("127.0.0.1", 5000)


@pytest.mark.parametrize(
    ("gai", "code"),
    [
        (socket.EAI_NONAME, "ENOTFOUND"),
        (socket.EAI_AGAIN, "EAI_AGAIN"),
        (socket.EAI_FAIL, "EAI_FAIL"),
    ],
)
def test_system_error_of_a_lookup(gai: int, code: str) -> None:
    # Node: getaddrinfo ENOTFOUND no-such-host.invalid, with hostname; no address, no port.
    err = system_error(gai, "getaddrinfo", hostname="no-such-host.invalid")
    assert isinstance(err, socket.gaierror)
    assert (err.code, err.syscall, err.hostname) == (code, "getaddrinfo", "no-such-host.invalid")
    assert str(err) == f"getaddrinfo {code} no-such-host.invalid"
    assert (err.address, err.port) == (None, None)


def test_system_error_with_a_given_message() -> None:
    err = system_error(errno.ECONNRESET, "read", message="read ECONNRESET (as Node says it)")
    assert str(err) == "read ECONNRESET (as Node says it)"
    assert err.code == "ECONNRESET"


# ----------------------------------------------------------------------
# from_oserror: the I/O boundary


def test_from_oserror_of_a_read_or_write() -> None:
    # Node: a reset peer is 'read ECONNRESET' with no address or port.
    first = from_oserror(ConnectionResetError(errno.ECONNRESET, "Connection reset by peer"), "read")
    second = from_oserror(OSError(errno.ECONNRESET, "reset"), "read")
    for err in (first, second):
        assert isinstance(err, ConnectionResetError) and isinstance(err, NodeSystemError)
        assert (err.code, err.syscall, str(err)) == ("ECONNRESET", "read", "read ECONNRESET")
        assert (err.address, err.port) == (None, None)
    assert first is not second and type(first) is type(second)
    pipe = from_oserror(BrokenPipeError(errno.EPIPE, "Broken pipe"), "write")
    assert isinstance(pipe, BrokenPipeError) and str(pipe) == "write EPIPE"


def test_from_oserror_with_an_address() -> None:
    err = from_oserror(OSError(errno.ECONNREFUSED, "refused"), "connect", "::1", 80)
    assert isinstance(err, ConnectionRefusedError)
    assert str(err) == "connect ECONNREFUSED ::1:80"
    assert (err.address, err.port) == ("::1", 80)  # type: ignore[attr-defined]


def test_from_oserror_of_a_lookup() -> None:
    err = from_oserror(socket.gaierror(socket.EAI_NONAME, "unknown"), "connect", "nope.invalid")
    assert isinstance(err, socket.gaierror)
    assert (err.code, err.hostname) == ("ENOTFOUND", "nope.invalid")  # type: ignore[attr-defined]
    assert str(err) == "getaddrinfo ENOTFOUND nope.invalid"


def test_from_oserror_of_a_timeout() -> None:
    err = from_oserror(TimeoutError("timed out"), "connect", "192.0.2.1", 80)
    assert isinstance(err, TimeoutError) and isinstance(err, NodeSystemError)
    assert err.code == "ETIMEDOUT"  # type: ignore[attr-defined]
    assert str(err) == "connect ETIMEDOUT 192.0.2.1:80"


def test_from_oserror_leaves_the_rest_as_it_is() -> None:
    node_error = make_error("ERR_SOCKET_CLOSED")
    system = system_error(errno.EPIPE, "write")
    other = ValueError("not an OSError")
    no_errno = OSError("no errno")
    for exc in (node_error, system, other, no_errno):
        assert from_oserror(exc, "read") is exc


# ----------------------------------------------------------------------
# aggregate_error: every Happy Eyeballs attempt failed


def test_aggregate_error_of_refused_attempts() -> None:
    errors = [
        system_error(errno.ECONNREFUSED, "connect", "::1", 80),
        system_error(errno.ECONNREFUSED, "connect", "127.0.0.1", 80),
    ]
    err: Any = aggregate_error(errors)
    assert isinstance(err, AggregateError) and isinstance(err, gnet.AggregateError)
    # gnet's difference (README): also of the first attempt's class ...
    assert isinstance(err, ConnectionRefusedError)
    assert err.errors == errors and err.errors is not errors
    assert err.code == "ECONNREFUSED"  # Node: the first error's code
    assert (err.errno, err.syscall, err.address, err.port) == (
        errno.ECONNREFUSED,
        "connect",
        "::1",
        80,
    )
    # ... and a message naming every attempt (Node's is empty).
    assert str(err) == "connect ECONNREFUSED ::1:80; connect ECONNREFUSED 127.0.0.1:80"
    assert type(aggregate_error(errors[::-1])) is type(err)  # one class per first class


def test_aggregate_error_of_other_errors() -> None:
    first = make_error("ERR_INVALID_IP_ADDRESS", "foobar")
    err: Any = aggregate_error([first, system_error(errno.ETIMEDOUT, "connect", "::1", 80)])
    assert isinstance(err, AggregateError) and isinstance(err, TypeError)
    assert err.code == "ERR_INVALID_IP_ADDRESS"
    assert str(err) == "Invalid IP address: foobar; connect ETIMEDOUT ::1:80"
    assert len(err.errors) == 2
