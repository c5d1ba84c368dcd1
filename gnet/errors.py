"""Node's errors, as Python exceptions.

Two families, both carrying Node's ``code``:

* **Node errors** (``ERR_*``): one table, :data:`NODE_ERRORS`, maps each code
  that net and streams use to the closest Python built-in (Node's TypeErrors
  are :class:`TypeError`, its RangeErrors :class:`ValueError`, the rest a
  gnet :class:`Error`) and to Node's message.  :func:`make_error` is the only
  way gnet creates one.
* **System errors**: the matching built-in :class:`OSError` subclass
  (``ConnectionRefusedError``, ``BrokenPipeError``, ...) with Node's fields
  ``code``, ``errno`` (Python's, positive), ``syscall``, ``address``,
  ``port`` and a message in Node's form (``connect ECONNREFUSED
  127.0.0.1:8124``).  :func:`system_error` builds one from an errno and
  :func:`from_oserror` translates a caught :class:`OSError` at the I/O
  boundary; nothing else formats them.
"""

from __future__ import annotations

import errno as _errno
import os
import socket as _socket
from collections.abc import Callable, Sequence
from typing import Any

__all__ = [
    "NodeError",
    "Error",
    "NodeTypeError",
    "NodeValueError",
    "NodeSystemError",
    "AggregateError",
    "AbortError",
    "IncompleteReadError",
    "LimitOverrunError",
    "NODE_ERRORS",
    "make_error",
    "system_error",
    "from_oserror",
    "io_error",
    "aggregate_error",
    "describe_value",
]


class NodeError(Exception):
    """Mixin of every gnet error that carries a Node ``code``."""

    code: str = ""

    def __init__(self, message: str = "", code: str | None = None) -> None:
        super().__init__(message)
        if code is not None:
            self.code = code

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""


class Error(NodeError):
    """A Node ``Error`` with an ``ERR_*`` code that is neither a TypeError nor a RangeError."""


class NodeTypeError(NodeError, TypeError):
    """A Node ``TypeError`` (``ERR_INVALID_ARG_TYPE``, ``ERR_INVALID_ARG_VALUE``, ...)."""


class NodeValueError(NodeError, ValueError):
    """A Node ``RangeError`` (``ERR_SOCKET_BAD_PORT``, ``ERR_OUT_OF_RANGE``, ...)."""


class AbortError(Error):
    """Node's ``AbortError`` (code ``ABORT_ERR``): an operation was cancelled."""

    code = "ABORT_ERR"


class IncompleteReadError(NodeError, EOFError):
    """The stream ended before a blocking read got what it asked for.

    ``partial`` holds the bytes (or text) read before the end; ``expected``
    the amount asked for (``None`` for a separator search).
    """

    code = "ERR_GNET_INCOMPLETE_READ"

    def __init__(self, partial: bytes | str, expected: int | None) -> None:
        what = f"{expected} expected" if expected is not None else "separator not found"
        super().__init__(f"{len(partial)} bytes read on a total of {what}")
        self.partial = partial
        self.expected = expected


class LimitOverrunError(NodeError, ValueError):
    """No separator within ``limit`` bytes; the bytes stay buffered.

    ``consumed`` is how many bytes were searched.
    """

    code = "ERR_GNET_LIMIT_OVERRUN"

    def __init__(self, message: str, consumed: int) -> None:
        super().__init__(message)
        self.consumed = consumed


# --------------------------------------------------------------------------
# Node errors: the table


def describe_value(value: Any) -> str:
    """Node's ``determineSpecificType``: how a received value is shown in messages."""
    if value is None:
        return "None"
    if callable(value):
        return f"function {getattr(value, '__name__', repr(value))}"
    if isinstance(value, bool):
        return f"type boolean ({value!r})"
    if isinstance(value, (int, float)):
        return f"type number ({value!r})"
    if isinstance(value, str):
        shown = value if len(value) <= 25 else value[:25] + "..."
        return f"type string ({shown!r})"
    return f"an instance of {type(value).__name__}"


def _invalid_arg_type(name: str, expected: str, actual: Any) -> str:
    kind = "property" if "." in name else "argument"
    return f'The "{name}" {kind} must be {expected}. Received {describe_value(actual)}'


def _invalid_arg_value(name: str, value: Any, reason: str = "is invalid") -> str:
    kind = "property" if "." in name else "argument"
    return f"The {kind} '{name}' {reason}. Received {value!r}"


def _out_of_range(name: str, expected: str, received: Any) -> str:
    return f'The value of "{name}" is out of range. It must be {expected}. Received {received!r}'


def _bad_port(name: str, value: Any, allow_zero: bool = True) -> str:
    op = ">=" if allow_zero else ">"
    return f"{name} should be {op} 0 and < 65536. Received {describe_value(value)}."


def _fixed(message: str) -> Callable[..., str]:
    return lambda *args: message


# code -> (Python base class, message builder).  The builder takes the same
# arguments as Node's ``new codes[code](...)``.
NODE_ERRORS: dict[str, tuple[type[NodeError], Callable[..., str]]] = {
    # Node TypeErrors
    "ERR_INVALID_ARG_TYPE": (NodeTypeError, _invalid_arg_type),
    "ERR_INVALID_ARG_VALUE": (NodeTypeError, _invalid_arg_value),
    "ERR_MISSING_ARGS": (
        NodeTypeError,
        lambda *names: "The " + " or ".join(f'"{n}"' for n in names) + " argument must be specified",
    ),
    "ERR_INVALID_IP_ADDRESS": (NodeTypeError, lambda ip: f"Invalid IP address: {ip}"),
    "ERR_INVALID_FD_TYPE": (NodeTypeError, lambda kind: f"Unsupported fd type: {kind}"),
    "ERR_INVALID_HANDLE_TYPE": (NodeTypeError, _fixed("This handle type cannot be sent")),
    "ERR_STREAM_NULL_VALUES": (NodeTypeError, _fixed("May not write null values to stream")),
    "ERR_UNKNOWN_ENCODING": (NodeTypeError, lambda enc: f"Unknown encoding: {enc}"),
    # Node RangeErrors
    "ERR_SOCKET_BAD_PORT": (NodeValueError, _bad_port),
    "ERR_OUT_OF_RANGE": (NodeValueError, _out_of_range),
    "ERR_INVALID_ADDRESS_FAMILY": (
        NodeValueError,
        lambda family, host, port: f"Invalid address family: {family} {host}:{port}",
    ),
    # Node Errors
    "ERR_SERVER_ALREADY_LISTEN": (
        Error,
        _fixed("Listen method has been called more than once without closing."),
    ),
    "ERR_SERVER_NOT_RUNNING": (Error, _fixed("Server is not running.")),
    "ERR_SOCKET_CLOSED": (Error, _fixed("Socket is closed")),
    "ERR_INVALID_ADDRESS": (Error, _fixed("Invalid socket address")),
    "ERR_SOCKET_CLOSED_BEFORE_CONNECTION": (
        Error,
        _fixed("Socket closed before the connection was established"),
    ),
    "ERR_SOCKET_CONNECTION_TIMEOUT": (Error, _fixed("Socket connection timeout")),
    "ERR_STREAM_WRITE_AFTER_END": (Error, _fixed("write after end")),
    "ERR_STREAM_DESTROYED": (
        Error,
        lambda method: f"Cannot call {method} after a stream was destroyed",
    ),
    "ERR_STREAM_ALREADY_FINISHED": (
        Error,
        lambda method: f"Cannot call {method} after a stream was finished",
    ),
    "ERR_STREAM_PREMATURE_CLOSE": (Error, _fixed("Premature close")),
    "ERR_MULTIPLE_CALLBACK": (Error, _fixed("Callback called multiple times")),
    "ERR_UNHANDLED_ERROR": (
        Error,
        lambda err=None: "Unhandled error." if err is None else f"Unhandled error. ({err!r})",
    ),
    "ERR_IP_BLOCKED": (Error, lambda ip: f"IP({ip}) is blocked by net.BlockList"),
    "ABORT_ERR": (AbortError, _fixed("The operation was aborted")),
    # gnet's own, for the blocking helpers (no Node equivalent)
    "ERR_GNET_CONCURRENT_IO": (
        Error,
        lambda what: f"another greenlet is already blocked in {what} on this socket",
    ),
    "ERR_GNET_UNEXPECTED_KEYWORD": (
        NodeTypeError,
        lambda function, name: f"{function}() got an unexpected keyword argument {name!r}",
    ),
    "ERR_GNET_FLOWING": (
        Error,
        lambda what: f"{what}() cannot be used while the socket is flowing "
        "('data' listeners, resume() or pipe() consume the stream)",
    ),
    # gnet's own, for the PROXY protocol (gnet.proxy_protocol.ProxyProtocolError)
    "ERR_GNET_PROXY_PROTOCOL": (Error, lambda detail: f"invalid PROXY protocol header: {detail}"),
}


def make_error(code: str, *args: Any, **kwargs: Any) -> NodeError:
    """The exception for Node's ``code``, with Node's message; the caller raises or emits it."""
    base, build = NODE_ERRORS[code]
    return base(build(*args, **kwargs), code)


# --------------------------------------------------------------------------
# System errors

# libuv's descriptions, which Node puts in listen errors; glibc's differ.
_UV_DESCRIPTIONS = {
    "EADDRINUSE": "address already in use",
    "EADDRNOTAVAIL": "address not available",
    "EACCES": "permission denied",
    "EINVAL": "invalid argument",
    "ENOTSOCK": "socket operation on non-socket",
    "EBADF": "bad file descriptor",
    "ENOENT": "no such file or directory",
    "ECONNREFUSED": "connection refused",
    "ECONNRESET": "connection reset by peer",
    "EPIPE": "broken pipe",
    "ETIMEDOUT": "connection timed out",
    "EMFILE": "too many open files",
}

# getaddrinfo failures: Node reports EAI_NONAME/EAI_NODATA as ENOTFOUND.
_GAI_CODES = {
    _socket.EAI_NONAME: "ENOTFOUND",
    getattr(_socket, "EAI_NODATA", -5): "ENOTFOUND",
    _socket.EAI_AGAIN: "EAI_AGAIN",
    _socket.EAI_FAIL: "EAI_FAIL",
    _socket.EAI_FAMILY: "EAI_FAMILY",
    _socket.EAI_SERVICE: "EAI_SERVICE",
}


class NodeSystemError(OSError):
    """Mixin of every system error gnet raises or emits.

    Instances are also of the built-in class that matches their errno
    (``isinstance(err, ConnectionRefusedError)``); ``str(err)`` is Node's
    message.
    """

    code: str
    # None where Node leaves the field undefined (a read error has no
    # address; only a getaddrinfo error has a hostname).
    syscall: str | None = None
    address: str | None = None
    port: int | None = None
    hostname: str | None = None

    def __str__(self) -> str:
        return self.message

    @property
    def message(self) -> str:
        return str(getattr(self, "_message", ""))


_system_classes: dict[type[OSError], type[NodeSystemError]] = {}


def _system_class(base: type[OSError]) -> type[NodeSystemError]:
    cls = _system_classes.get(base)
    if cls is None:
        cls = type(base.__name__, (NodeSystemError, base), {"__module__": __name__})
        _system_classes[base] = cls
    return cls


def _code_for(errno_: int, gai: bool) -> str:
    if gai:
        return _GAI_CODES.get(errno_, "EAI_FAIL")
    return _errno.errorcode.get(errno_, f"E{errno_}")


def system_error(
    errno_or_code: int | str,
    syscall: str | None,
    address: str | None = None,
    port: int | None = None,
    *,
    local: tuple[str, int] | None = None,
    hostname: str | None = None,
    description: bool = False,
    message: str | None = None,
) -> NodeSystemError:
    """A Node-shaped system error of the built-in class matching ``errno``.

    ``errno_or_code`` is Python's errno (``errno.ECONNREFUSED``) or a code
    name (``'EPIPE'``).  ``description=True`` adds libuv's text as Node does
    for listen errors (``listen EADDRINUSE: address already in use ...``);
    ``local`` adds ``localAddress``/``localPort`` and Node's ``- Local``
    suffix; ``hostname`` makes it a getaddrinfo error (no address or port).
    """
    gai = hostname is not None and syscall == "getaddrinfo"
    if isinstance(errno_or_code, str):
        code = errno_or_code
        num: int | None = getattr(_errno, code, None)
    else:
        num = errno_or_code
        code = _code_for(num, gai)
    if gai:
        base: type[OSError] = _socket.gaierror
    elif num is not None:
        base = _errno_class(num)
    else:
        base = OSError
    if message is None:
        message = f"{syscall} {code}" if syscall else code
        if description:
            desc = _UV_DESCRIPTIONS.get(code) or (os.strerror(num) if num else "").lower()
            message += f": {desc}"
        if gai:
            message += f" {hostname}"
        elif address is not None and port is not None and port >= 0:
            message += f" {address}:{port}"
        elif address is not None:
            message += f" {address}"
        if local is not None:
            message += f" - Local ({local[0]}:{local[1]})"
    err = _system_class(base)(num if num is not None else 0, message)
    err._message = message  # type: ignore[attr-defined]
    err.code = code
    err.syscall = syscall
    if gai:
        err.hostname = hostname
    else:
        if address is not None:
            err.address = address
        if port is not None:
            err.port = port
    if local is not None:
        err.local_address, err.local_port = local  # type: ignore[attr-defined]
        err.localAddress, err.localPort = local  # type: ignore[attr-defined]
    return err


_io_errors: dict[tuple[int, str], tuple[type[NodeSystemError], str, str]] = {}


def io_error(exc: BaseException, syscall: str) -> BaseException:
    """Translate what a transport's read, write or shutdown raised: the boundary
    of the stream's I/O paths.  A reset peer is the common case, so the
    class and message are built once per (errno, syscall) pair; no address,
    no port (Node sets none on read/write errors)."""
    num = getattr(exc, "errno", None)
    if isinstance(exc, (NodeSystemError, NodeError)) or not isinstance(exc, OSError) or num is None:
        return from_oserror(exc, syscall)
    shape = _io_errors.get((num, syscall))
    if shape is None:
        proto = system_error(num, syscall)
        shape = _io_errors[num, syscall] = (type(proto), proto.code, proto.message)
    cls, code, message = shape
    err = cls(num, message)
    err._message = message  # type: ignore[attr-defined]
    err.code = code
    err.syscall = syscall
    return err


_errno_classes: dict[int, type[OSError]] = {}


def _errno_class(num: int) -> type[OSError]:
    """The built-in OSError subclass Python raises for ``num`` (ECONNREFUSED ->
    ConnectionRefusedError, ...), found once per errno."""
    cls = _errno_classes.get(num)
    if cls is None:
        cls = _errno_classes[num] = type(OSError(num, ""))
    return cls


def from_oserror(
    exc: BaseException,
    syscall: str,
    address: str | None = None,
    port: int | None = None,
    **kwargs: Any,
) -> BaseException:
    """Translate an exception caught at the I/O boundary into Node's shape.

    A Node-shaped error passes through unchanged; a plain :class:`OSError`
    (or ``socket.gaierror``) becomes a :class:`NodeSystemError`; anything
    else is returned as it is.
    """
    if isinstance(exc, (NodeSystemError, NodeError)):
        return exc
    if isinstance(exc, _socket.gaierror):
        return system_error(exc.errno or 0, "getaddrinfo", hostname=address)
    if isinstance(exc, OSError) and exc.errno is not None:
        if address is None and port is None and not kwargs:
            return io_error(exc, syscall)
        return system_error(exc.errno, syscall, address, port, **kwargs)
    if isinstance(exc, TimeoutError):
        return system_error(_errno.ETIMEDOUT, syscall, address, port, **kwargs)
    return exc


class AggregateError(Exception):
    """Node's ``AggregateError``: every Happy Eyeballs attempt failed.

    ``errors`` holds each attempt's error; ``code`` is the first one's.  An
    instance is also of the first error's class, so ``except
    ConnectionRefusedError`` catches "localhost refused on ::1 and on
    127.0.0.1".  Node's message is empty; gnet's names the attempts.
    """

    errors: list[BaseException]


_aggregate_classes: dict[type[BaseException], type[AggregateError]] = {}


def aggregate_error(errors: Sequence[BaseException]) -> AggregateError:
    """The AggregateError for a failed multi-address connect."""
    first = errors[0]
    base = type(first)
    cls = _aggregate_classes.get(base)
    if cls is None:
        cls = type("AggregateError", (AggregateError, base), {"__module__": __name__})
        _aggregate_classes[base] = cls
    message = "; ".join(str(e) for e in errors)
    if isinstance(first, OSError):
        err: AggregateError = cls(first.errno or 0, message)
        err._message = message  # type: ignore[attr-defined]
        for field in ("syscall", "address", "port"):
            setattr(err, field, getattr(first, field, None))
    else:
        err = cls(message)
    err.errors = list(errors)
    err.code = getattr(first, "code", "")  # type: ignore[attr-defined]
    return err


# ==========================================================================
# TLS (gnet.tls): the error classes and the table's TLS section.  Python's
# ssl exceptions are translated by gnet.tls.errors.from_ssl_error, which
# also knows OpenSSL's verify codes.  The ssl classes come from _ssl, the C
# module the ssl module re-exports them from: importing ssl itself before
# gevent.monkey.patch_all() warns, and import gnet must not do that.

import _ssl  # noqa: E402

__all__ += [
    "TLSError",
    "TLSCertificateError",
    "TLSHandshakeTimeoutError",
    "altname_error",
    "tls_error",
]


class TLSError(Error, _ssl.SSLError):
    """A TLS failure with Node's ``code`` (``ERR_SSL_*``, ``ERR_OSSL_*``); an
    :class:`ssl.SSLError`.

    ``reason`` and ``library`` are Node's (OpenSSL's texts: ``'wrong
    version number'``, ``'SSL routines'``), not Python's mnemonics.
    """

    # None until set, as on an SSLError that OpenSSL did not fill in.
    reason: str | None = None  # type: ignore[assignment]
    library: str | None = None  # type: ignore[assignment]


class TLSCertificateError(TLSError, _ssl.SSLCertVerificationError):
    """A certificate the peer presented was rejected (Node's X509 codes such as
    ``CERT_HAS_EXPIRED``, or ``ERR_TLS_CERT_ALTNAME_INVALID``); an
    :class:`ssl.SSLCertVerificationError`.

    ``verify_code`` and ``verify_message`` are OpenSSL's number and text
    where there is one.  ``ERR_TLS_CERT_ALTNAME_INVALID`` has Node's
    ``reason``, ``host`` and ``cert``.
    """

    verify_code: int | None = None  # type: ignore[assignment]
    verify_message: str | None = None  # type: ignore[assignment]
    host: str | None = None
    cert: Any = None


class TLSHandshakeTimeoutError(Error, TimeoutError):
    """Node's ``ERR_TLS_HANDSHAKE_TIMEOUT``; also a :class:`TimeoutError`."""

    code = "ERR_TLS_HANDSHAKE_TIMEOUT"


def _json(value: Any) -> str:
    """Node's ``%j``: JSON for strings and numbers."""
    import json

    try:
        return json.dumps(value)
    except (TypeError, ValueError):
        return repr(value)


def _ossl_line(packed: int, library: str, reason: str) -> str:
    return f"error:{packed:08X}:{library}::{reason}"


NODE_ERRORS.update(
    {
        "ERR_TLS_CERT_ALTNAME_INVALID": (
            TLSCertificateError,
            lambda reason, host=None, cert=None: (
                f"Hostname/IP does not match certificate's altnames: {reason}"
            ),
        ),
        "ERR_TLS_CERT_ALTNAME_FORMAT": (
            NodeValueError,
            _fixed("Invalid subject alternative name string"),
        ),
        "ERR_TLS_HANDSHAKE_TIMEOUT": (TLSHandshakeTimeoutError, _fixed("TLS handshake timeout")),
        "ERR_TLS_INVALID_PROTOCOL_VERSION": (
            NodeTypeError,
            lambda version, which: f"{_json(version)} is not a valid {which} TLS protocol version",
        ),
        "ERR_TLS_PROTOCOL_VERSION_CONFLICT": (
            NodeTypeError,
            lambda version, method: (
                f"TLS protocol version {_json(version)} conflicts with "
                f"secureProtocol {_json(method)}"
            ),
        ),
        "ERR_TLS_INVALID_CONTEXT": (NodeTypeError, lambda name: f"{name} must be a SecureContext"),
        "ERR_TLS_INVALID_STATE": (
            Error,
            _fixed("TLS socket connection must be securely established"),
        ),
        "ERR_TLS_REQUIRED_SERVER_NAME": (
            Error,
            _fixed('"servername" is required parameter for Server.addContext'),
        ),
        "ERR_TLS_SNI_FROM_SERVER": (Error, _fixed("Cannot issue SNI from a TLS server-side socket")),
        "ERR_TLS_DH_PARAM_SIZE": (Error, lambda size: f"DH parameter size {size} is less than 2048"),
        "ERR_CRYPTO_OPERATION_FAILED": (Error, lambda what: what),
        # OpenSSL failures that gnet detects itself (Python's ssl carries on
        # or reports them too vaguely): Node's code, reason, library and the
        # OpenSSL 3 error line Node shows.
        "ERR_SSL_NO_APPLICATION_PROTOCOL": (
            TLSError,
            _fixed(_ossl_line(0x0A0000EB, "SSL routines", "no application protocol")),
        ),
        "ERR_SSL_TLSV1_ALERT_NO_APPLICATION_PROTOCOL": (
            TLSError,
            _fixed(_ossl_line(0x0A000460, "SSL routines", "tlsv1 alert no application protocol")),
        ),
        "ERR_SSL_WRONG_VERSION_NUMBER": (
            TLSError,
            _fixed(_ossl_line(0x0A00010B, "SSL routines", "wrong version number")),
        ),
        "ERR_SSL_NO_CIPHER_MATCH": (
            TLSError,
            _fixed(_ossl_line(0x0A0000B9, "SSL routines", "no cipher match")),
        ),
        "ERR_OSSL_PEM_NO_START_LINE": (
            TLSError,
            _fixed(_ossl_line(0x0480006C, "PEM routines", "no start line")),
        ),
        "ERR_OSSL_PEM_BAD_END_LINE": (
            TLSError,
            _fixed(_ossl_line(0x04800066, "PEM routines", "bad end line")),
        ),
        "ERR_OSSL_BAD_DECRYPT": (
            TLSError,
            _fixed(_ossl_line(0x1C800064, "Provider routines", "bad decrypt")),
        ),
        "ERR_OSSL_UNSUPPORTED": (
            TLSError,
            _fixed(_ossl_line(0x1E08010C, "DECODER routines", "unsupported")),
        ),
        "ERR_TLS_INVALID_PROTOCOL_METHOD": (NodeTypeError, lambda message: message),
        # Node's loadPKCS12 errors have no code; these are OpenSSL's names.
        "ERR_OSSL_PKCS12_MAC_VERIFY_FAILURE": (TLSError, _fixed("mac verify failure")),
        "ERR_OSSL_ASN1_NOT_ENOUGH_DATA": (TLSError, _fixed("not enough data")),
        "ERR_OSSL_PEM_BAD_BASE64_DECODE": (
            TLSError,
            _fixed(_ossl_line(0x04800064, "PEM routines", "bad base64 decode")),
        ),
        "ERR_OSSL_ASN1_WRONG_TAG": (
            TLSError,
            _fixed(_ossl_line(0x068000A8, "asn1 encoding routines", "wrong tag")),
        ),
        # gnet's own: what Python's ssl module cannot provide.
        "ERR_GNET_TLS_UNSUPPORTED": (
            Error,
            lambda what: f"{what} is not supported by Python's ssl module",
        ),
        "ERR_GNET_TLS_NEEDS_CRYPTOGRAPHY": (
            Error,
            lambda what: f"{what} needs the 'cryptography' package (pip install 'gnet[tls]')",
        ),
    }
)

# The reason and library texts of the gnet-detected OpenSSL codes above.
_TLS_REASONS: dict[str, tuple[str, str]] = {
    "ERR_SSL_NO_APPLICATION_PROTOCOL": ("no application protocol", "SSL routines"),
    "ERR_SSL_TLSV1_ALERT_NO_APPLICATION_PROTOCOL": (
        "tlsv1 alert no application protocol",
        "SSL routines",
    ),
    "ERR_SSL_WRONG_VERSION_NUMBER": ("wrong version number", "SSL routines"),
    "ERR_SSL_NO_CIPHER_MATCH": ("no cipher match", "SSL routines"),
    "ERR_OSSL_PEM_NO_START_LINE": ("no start line", "PEM routines"),
    "ERR_OSSL_PEM_BAD_END_LINE": ("bad end line", "PEM routines"),
    "ERR_OSSL_BAD_DECRYPT": ("bad decrypt", "Provider routines"),
    "ERR_OSSL_UNSUPPORTED": ("unsupported", "DECODER routines"),
    "ERR_OSSL_PKCS12_MAC_VERIFY_FAILURE": ("mac verify failure", "PKCS12 routines"),
    "ERR_OSSL_ASN1_NOT_ENOUGH_DATA": ("not enough data", "asn1 encoding routines"),
    "ERR_OSSL_PEM_BAD_BASE64_DECODE": ("bad base64 decode", "PEM routines"),
    "ERR_OSSL_ASN1_WRONG_TAG": ("wrong tag", "asn1 encoding routines"),
}


def altname_error(reason: str, host: str, cert: Any) -> TLSCertificateError:
    """Node's ``ERR_TLS_CERT_ALTNAME_INVALID`` with its ``reason``, ``host`` and ``cert``."""
    err = make_error("ERR_TLS_CERT_ALTNAME_INVALID", reason, host, cert)
    assert isinstance(err, TLSCertificateError)
    err.reason = reason
    err.host = host
    err.cert = cert
    err.verify_message = str(err)
    return err



def tls_error(code: str) -> TLSError:
    """A gnet-detected OpenSSL failure (``ERR_SSL_NO_APPLICATION_PROTOCOL``,
    ``ERR_OSSL_BAD_DECRYPT``, ...) with Node's ``reason`` and ``library``."""
    err = make_error(code)
    assert isinstance(err, TLSError)
    err.reason, err.library = _TLS_REASONS[code]
    return err

