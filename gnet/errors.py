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
from typing import Any, cast

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
# TLS (gnet.tls).  Everything TLS-specific lives in this block: the error
# classes, the table entries, OpenSSL's verify codes, and the one
# translation of Python's ``ssl`` exceptions.  ``ssl`` is imported lazily
# here too: importing it before ``gevent.monkey.patch_all()`` warns, and
# ``import gnet`` must not do that.

__all__ += [
    "TLSError",
    "TLSCertificateError",
    "TLSHandshakeTimeoutError",
    "X509_VERIFY_CODES",
    "from_ssl_error",
    "verify_error",
    "altname_error",
    "tls_disconnect_error",
    "tls_error",
]

_ssl_backed: dict[type[BaseException], type[BaseException]] = {}


class TLSError(Error):
    """A TLS failure with Node's ``code`` (``ERR_SSL_*``, ``ERR_OSSL_*``).

    Every instance is also an :class:`ssl.SSLError` (the class is combined
    with it on first use, so importing gnet does not import ``ssl``).
    ``reason`` and ``library`` are Node's (OpenSSL's texts: ``'wrong
    version number'``, ``'SSL routines'``), not Python's mnemonics.
    """

    _ssl_base = "SSLError"
    reason: str | None = None
    library: str | None = None

    def __new__(cls, *args: Any, **kwargs: Any) -> TLSError:
        concrete = _ssl_backed.get(cls)
        if concrete is None:
            import ssl

            base = getattr(ssl, cls._ssl_base)
            concrete = type(cls.__name__, (cls, base), {"__module__": cls.__module__})
            _ssl_backed[cls] = concrete
        # ssl.SSLError's __new__ is OSError's; one argument, so it sets no
        # errno/strerror from the (message, code) pair.
        self = OSError.__new__(concrete, args[0] if args else "")
        return cast(TLSError, self)


class TLSCertificateError(TLSError):
    """A certificate the peer presented was rejected (Node's X509 codes such as
    ``CERT_HAS_EXPIRED``, or ``ERR_TLS_CERT_ALTNAME_INVALID``).

    Also an :class:`ssl.SSLCertVerificationError`; ``verify_code`` and
    ``verify_message`` are OpenSSL's number and text where there is one.
    ``ERR_TLS_CERT_ALTNAME_INVALID`` has Node's ``reason``, ``host`` and
    ``cert``.
    """

    _ssl_base = "SSLCertVerificationError"
    verify_code: int | None = None
    verify_message: str | None = None
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
        # gnet's own: a Node feature Python's ssl module cannot provide.
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

# OpenSSL's X509_V_ERR_* numbers -> (Node's code, OpenSSL's text).  Node
# names the codes below (src/crypto/crypto_common.cc, X509ErrorCode) and
# calls every other one UNSPECIFIED; the texts are X509_verify_cert_error_string's.
X509_VERIFY_CODES: dict[int, tuple[str, str]] = {
    2: ("UNABLE_TO_GET_ISSUER_CERT", "unable to get issuer certificate"),
    3: ("UNABLE_TO_GET_CRL", "unable to get certificate CRL"),
    4: ("UNABLE_TO_DECRYPT_CERT_SIGNATURE", "unable to decrypt certificate's signature"),
    5: ("UNABLE_TO_DECRYPT_CRL_SIGNATURE", "unable to decrypt CRL's signature"),
    6: ("UNABLE_TO_DECODE_ISSUER_PUBLIC_KEY", "unable to decode issuer public key"),
    7: ("CERT_SIGNATURE_FAILURE", "certificate signature failure"),
    8: ("CRL_SIGNATURE_FAILURE", "CRL signature failure"),
    9: ("CERT_NOT_YET_VALID", "certificate is not yet valid"),
    10: ("CERT_HAS_EXPIRED", "certificate has expired"),
    11: ("CRL_NOT_YET_VALID", "CRL is not yet valid"),
    12: ("CRL_HAS_EXPIRED", "CRL has expired"),
    13: ("ERROR_IN_CERT_NOT_BEFORE_FIELD", "format error in certificate's notBefore field"),
    14: ("ERROR_IN_CERT_NOT_AFTER_FIELD", "format error in certificate's notAfter field"),
    15: ("ERROR_IN_CRL_LAST_UPDATE_FIELD", "format error in CRL's lastUpdate field"),
    16: ("ERROR_IN_CRL_NEXT_UPDATE_FIELD", "format error in CRL's nextUpdate field"),
    17: ("OUT_OF_MEM", "out of memory"),
    18: ("DEPTH_ZERO_SELF_SIGNED_CERT", "self-signed certificate"),
    19: ("SELF_SIGNED_CERT_IN_CHAIN", "self-signed certificate in certificate chain"),
    20: ("UNABLE_TO_GET_ISSUER_CERT_LOCALLY", "unable to get local issuer certificate"),
    21: ("UNABLE_TO_VERIFY_LEAF_SIGNATURE", "unable to verify the first certificate"),
    22: ("CERT_CHAIN_TOO_LONG", "certificate chain too long"),
    23: ("CERT_REVOKED", "certificate revoked"),
    25: ("PATH_LENGTH_EXCEEDED", "path length constraint exceeded"),
    26: ("INVALID_PURPOSE", "unsuitable certificate purpose"),
    27: ("CERT_UNTRUSTED", "certificate not trusted"),
    28: ("CERT_REJECTED", "certificate rejected"),
    62: ("HOSTNAME_MISMATCH", "hostname mismatch"),
    79: ("INVALID_CA", "invalid CA certificate"),
}
_X509_BY_CODE = {code: (num, text) for num, (code, text) in X509_VERIFY_CODES.items()}


def verify_error(code: int | str, message: str | None = None) -> TLSCertificateError:
    """The error for a failed certificate verification, as Node reports it.

    ``code`` is OpenSSL's ``X509_V_ERR_*`` number (what
    ``ssl.SSLCertVerificationError.verify_code`` holds) or Node's name
    (``'CERT_HAS_EXPIRED'``); numbers Node does not name become
    ``UNSPECIFIED``.  ``message`` overrides OpenSSL's text (for a code
    gnet found without OpenSSL).
    """
    if isinstance(code, int):
        name, text = X509_VERIFY_CODES.get(code, ("UNSPECIFIED", message or ""))
        number: int | None = code
    else:
        name = code
        number, text = _X509_BY_CODE.get(code, (None, ""))
    text = message or text or "unspecified certificate verification error"
    err = TLSCertificateError(text, name)
    err.verify_code = number
    err.verify_message = text
    return err


def altname_error(reason: str, host: str, cert: Any) -> TLSCertificateError:
    """Node's ``ERR_TLS_CERT_ALTNAME_INVALID`` with its ``reason``, ``host`` and ``cert``."""
    err = make_error("ERR_TLS_CERT_ALTNAME_INVALID", reason, host, cert)
    assert isinstance(err, TLSCertificateError)
    err.reason = reason
    err.host = host
    err.cert = cert
    err.verify_message = str(err)
    return err


def tls_disconnect_error(server_side: bool) -> NodeSystemError:
    """The peer closed or reset the connection before the TLS handshake ended.

    Node's ECONNRESET: the server's ``'tlsClientError'`` says ``socket hang
    up``; the client's error says the socket disconnected before the secure
    connection was established.
    """
    message = (
        "socket hang up"
        if server_side
        else "Client network socket disconnected before secure TLS connection was established"
    )
    return system_error("ECONNRESET", None, message=message)


# OpenSSL's library texts (ERR_lib_error_string), by Python's mnemonic.
_OSSL_LIBRARIES = {
    "SYS": (2, "system library"),
    "BN": (3, "bignum routines"),
    "RSA": (4, "rsa routines"),
    "DH": (5, "Diffie-Hellman routines"),
    "EVP": (6, "digital envelope routines"),
    "BUF": (7, "memory buffer routines"),
    "OBJ": (8, "object identifier routines"),
    "PEM": (9, "PEM routines"),
    "DSA": (10, "dsa routines"),
    "X509": (11, "x509 certificate routines"),
    "ASN1": (13, "asn1 encoding routines"),
    "CONF": (14, "configuration file routines"),
    "CRYPTO": (15, "common libcrypto routines"),
    "EC": (16, "elliptic curve routines"),
    "SSL": (20, "SSL routines"),
    "BIO": (32, "BIO routines"),
    "PKCS7": (33, "PKCS7 routines"),
    "X509V3": (34, "X509 V3 routines"),
    "PKCS12": (35, "PKCS12 routines"),
    "RAND": (36, "random number generator"),
    "PROV": (57, "Provider routines"),
    "OSSL_ENCODER": (59, "ENCODER routines"),
    "OSSL_DECODER": (60, "DECODER routines"),
}
# Node's ERR_OSSL_<LIB>_ prefixes (src/crypto/crypto_util.cc): other
# libraries (PROV, OSSL_DECODER, ...) give ERR_OSSL_<REASON>, and SSL gives
# ERR_SSL_<REASON>.
_NODE_OSSL_LIBS = frozenset(
    "SYS BN RSA DH EVP BUF OBJ PEM DSA X509 ASN1 CONF CRYPTO EC SSL BIO PKCS7 X509V3 "
    "PKCS12 RAND DSO ENGINE OCSP UI COMP ECDSA ECDH OSSL_STORE FIPS CMS TS HMAC CT "
    "ASYNC KDF SM2 USER".split()
)


def _ssl_reason_text(exc: BaseException) -> str | None:
    """OpenSSL's reason text from Python's message ``[LIB: MNEMONIC] text (_ssl.c:N)``."""
    message = str(exc)
    start = message.find("] ")
    if start < 0:
        return None
    text = message[start + 2 :]
    end = text.rfind(" (_ssl.c:")
    return text[:end] if end >= 0 else text


# OpenSSL 3's reason numbers for the errors TLS connections and contexts
# meet most, for Pythons (3.13+) whose _ssl no longer exports its table.
_REASON_NUMBERS = {
    ("SSL", "WRONG_VERSION_NUMBER"): 267,
    ("SSL", "HTTP_REQUEST"): 156,
    ("SSL", "UNSUPPORTED_PROTOCOL"): 258,
    ("SSL", "PEER_DID_NOT_RETURN_A_CERTIFICATE"): 199,
    ("SSL", "TLSV1_ALERT_PROTOCOL_VERSION"): 1070,
    ("SSL", "TLSV13_ALERT_CERTIFICATE_REQUIRED"): 1116,
    ("SSL", "NO_SHARED_CIPHER"): 193,
    ("SSL", "SSLV3_ALERT_HANDSHAKE_FAILURE"): 1040,
    ("SSL", "SSLV3_ALERT_BAD_CERTIFICATE"): 1042,
    ("SSL", "TLSV1_ALERT_UNKNOWN_CA"): 1048,
    ("SSL", "TLSV1_ALERT_INTERNAL_ERROR"): 1080,
    ("SSL", "TLSV1_UNRECOGNIZED_NAME"): 1112,
    ("SSL", "TLSV1_ALERT_NO_APPLICATION_PROTOCOL"): 1120,
    ("SSL", "NO_APPLICATION_PROTOCOL"): 235,
    ("SSL", "CERTIFICATE_VERIFY_FAILED"): 134,
    ("SSL", "UNEXPECTED_EOF_WHILE_READING"): 294,
    ("SSL", "RECORD_LENGTH_MISMATCH"): 213,
    ("SSL", "PACKET_LENGTH_TOO_LONG"): 198,
    ("SSL", "DECRYPTION_FAILED_OR_BAD_RECORD_MAC"): 281,
    ("SSL", "NO_CIPHER_MATCH"): 185,
    ("X509", "KEY_VALUES_MISMATCH"): 116,
}


def _packed_code(library: str | None, mnemonic: str | None) -> int | None:
    """OpenSSL's packed error code (what Node shows as ``error:0A00010B``)."""
    if library is None or mnemonic is None:
        return None
    import _ssl

    lib = _OSSL_LIBRARIES.get(library, (None, ""))[0]
    if lib is None:
        return None
    table = getattr(_ssl, "err_codes_to_names", None)
    if table is None:
        reason = _REASON_NUMBERS.get((library, mnemonic))
        return None if reason is None else (lib << 23) | reason
    for (lib_num, reason_num), name in table.items():
        if lib_num == lib and name == mnemonic:
            return int((lib_num << 23) | reason_num)
    return None


def from_ssl_error(
    exc: BaseException, *, server_side: bool = False, context: bool = False
) -> BaseException:
    """Translate an exception from Python's ``ssl`` into Node's shape.

    * A rejected certificate (:class:`ssl.SSLCertVerificationError`) becomes
      a :class:`TLSCertificateError` with Node's X509 code
      (``CERT_HAS_EXPIRED``, ``DEPTH_ZERO_SELF_SIGNED_CERT``, ...).
    * The peer vanishing mid-handshake (``SSLEOFError``,
      ``SSLZeroReturnError``) becomes ECONNRESET as
      :func:`tls_disconnect_error` (``server_side`` picks Node's message);
      an ``SSLSyscallError`` or plain ``OSError`` goes through
      :func:`from_oserror`.
    * Any other :class:`ssl.SSLError` becomes a :class:`TLSError` whose code
      Node would give: ``ERR_SSL_<REASON>`` for a TLS socket's errors
      (``ERR_SSL_WRONG_VERSION_NUMBER``), and with ``context=True`` (an
      error while building a context) ``ERR_OSSL_<LIB>_<REASON>`` or
      ``ERR_SSL_<REASON>`` as Node's createSecureContext does.

    A Node-shaped error passes through unchanged; anything else is returned
    as it is.
    """
    import ssl

    if isinstance(exc, (NodeError, NodeSystemError)):
        return exc
    if isinstance(exc, ssl.SSLCertVerificationError):
        number = exc.verify_code if isinstance(exc.verify_code, int) else 0
        return verify_error(number, exc.verify_message or None)
    if isinstance(exc, (ssl.SSLEOFError, ssl.SSLZeroReturnError)):
        return tls_disconnect_error(server_side)
    if isinstance(exc, ssl.SSLSyscallError):
        return from_oserror(exc, "read")
    if not isinstance(exc, ssl.SSLError):
        return from_oserror(exc, "read") if isinstance(exc, OSError) else exc
    library = getattr(exc, "library", None)
    mnemonic = getattr(exc, "reason", None)
    # Python's table lacks some of OpenSSL's names ("[SSL] tlsv1 alert no
    # application protocol"): the text is what Node's code is made from.
    reason = _ssl_reason_text(exc)
    if reason is None:
        reason = mnemonic.lower().replace("_", " ") if mnemonic else str(exc)
    node_reason = reason.upper().replace(" ", "_")
    if not context or library == "SSL":
        code = f"ERR_SSL_{node_reason}"
    elif library in _NODE_OSSL_LIBS:
        code = f"ERR_OSSL_{library}_{node_reason}"
    else:
        code = f"ERR_OSSL_{node_reason}"
    lib_text = _OSSL_LIBRARIES.get(library or "", (None, library))[1]
    packed = _packed_code(library, mnemonic)
    message = _ossl_line(packed, lib_text or "", reason) if packed is not None else str(exc)
    err = TLSError(message, code)
    err.reason = reason
    err.library = lib_text
    err.errno = exc.errno  # type: ignore[attr-defined]
    return err


def tls_error(code: str) -> TLSError:
    """A gnet-detected OpenSSL failure (``ERR_SSL_NO_APPLICATION_PROTOCOL``,
    ``ERR_OSSL_BAD_DECRYPT``, ...) with Node's ``reason`` and ``library``."""
    err = make_error(code)
    assert isinstance(err, TLSError)
    err.reason, err.library = _TLS_REASONS[code]
    return err

