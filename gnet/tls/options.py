"""The options of gnet.tls's servers, sockets and ``connect``: split from the net
options, checked, and turned into what a handshake needs.

Node's TLS calls take one options object holding ``net`` options (``port``,
``allowHalfOpen``, ...), ``tls.createSecureContext`` options (``key``,
``cert``, ``ca``, ...) and the per-side ones (``requestCert``,
``servername``, ...).  :func:`split_options` separates them (keyword
arguments are checked against every name the call knows, as elsewhere in
gnet); :func:`server_side` and :func:`client_side` check the TLS part and
return frozen values.

``secure_context`` may be a :class:`gnet.tls.SecureContext` or, beyond
Node, a Python ``ssl.SSLContext``: a context made elsewhere is used as it
is (its own verify mode, ALPN and SNI callback; Python's checks decide in
the handshake).

Client contexts made from options are cached (keyed by the options that
make them), so repeated ``connect()`` calls with the same ``ca`` do not
load certificates again; Node builds one per call.
"""

from __future__ import annotations

import dataclasses
import weakref
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .._aliases import normalize_options
from ..errors import make_error
from ..options import ConnectOptions, ServerOptions, check_keywords
from .context import SecureContext, create_secure_context
from .identity import check_server_identity
from .roles import ClientRole, ServerRole, alpn_protocols, option
from .verify import TrustStore

if TYPE_CHECKING:
    import ssl

__all__ = [
    "CONTEXT_KEYS",
    "ServerSide",
    "ClientSide",
    "split_options",
    "server_side",
    "client_side",
    "server_ssl_context",
    "trust_store_of",
    "local_certificate",
]

DEFAULT_HANDSHAKE_TIMEOUT = 120000.0  # ms, Node's

# tls.createSecureContext's options (snake_case).
CONTEXT_KEYS = frozenset(
    (
        "key", "cert", "ca", "passphrase", "pfx", "ciphers", "min_version", "max_version",
        "secure_protocol", "secure_options", "honor_cipher_order", "ecdh_curve", "dhparam",
        "session_timeout", "session_id_context", "crl", "sigalgs", "ticket_keys",
        "private_key_engine", "private_key_identifier", "client_cert_engine",
    )
)  # fmt: skip
_SIDE_KEYS = frozenset(
    (
        "secure_context", "request_cert", "reject_unauthorized", "alpn_protocols",
        "ALPNProtocols", "sni_callback", "SNICallback", "handshake_timeout", "servername",
        "check_server_identity", "session", "socket", "is_server", "server", "min_dhsize",
        "enable_trace", "psk_callback", "psk_identity_hint", "alpn_callback", "ALPNCallback",
        "request_ocsp", "requestOCSP",
    )
)  # fmt: skip
TLS_KEYS = CONTEXT_KEYS | _SIDE_KEYS
# Node options Python's ssl cannot honour: an error rather than a silent change.
_UNSUPPORTED = (
    ("ticket_keys", "ticketKeys"),
    ("enable_trace", "enableTrace"),
    ("psk_callback", "pskCallback"),
    ("psk_identity_hint", "pskIdentityHint"),
    ("alpn_callback", "ALPNCallback"),
    ("request_ocsp", "requestOCSP"),
    ("crl", "crl"),
    ("sigalgs", "sigalgs"),
    ("private_key_engine", "privateKeyEngine"),
    ("private_key_identifier", "privateKeyIdentifier"),
    ("client_cert_engine", "clientCertEngine"),
)
_NET_SERVER_KEYS = frozenset(f.name for f in dataclasses.fields(ServerOptions))
_NET_CONNECT_KEYS = frozenset(f.name for f in dataclasses.fields(ConnectOptions)) | {
    "port", "host", "path", "callback", "connect_listener"
}  # fmt: skip


def split_options(
    options: Any, kwargs: Mapping[str, Any], function: str, server: bool
) -> dict[str, Any]:
    """``options`` (a dict or None) with ``kwargs`` merged in, snake_case; an
    unknown keyword raises ``ERR_GNET_UNEXPECTED_KEYWORD``."""
    if options is not None and not isinstance(options, Mapping):
        raise make_error("ERR_INVALID_ARG_TYPE", "options", "of type object", options)
    opts = normalize_options(options)
    allowed = (_NET_SERVER_KEYS if server else _NET_CONNECT_KEYS) | TLS_KEYS
    opts.update(check_keywords(function, kwargs, allowed))
    for snake, node in _UNSUPPORTED:
        value = option(opts, snake, node)
        if value is not None and value is not False:
            raise make_error("ERR_GNET_TLS_UNSUPPORTED", f"options.{node}")
    return opts


def _secure_context(opts: Mapping[str, Any]) -> SecureContext | ssl.SSLContext:
    given = opts.get("secure_context")
    if given is None:
        return create_secure_context(opts)
    import ssl

    if not isinstance(given, (SecureContext, ssl.SSLContext)):
        raise make_error("ERR_TLS_INVALID_CONTEXT", "context")
    return given


def server_ssl_context(context: SecureContext | ssl.SSLContext, role: ServerRole) -> ssl.SSLContext:
    """The server-side ``SSLContext`` a connection uses (renegotiation refused, as
    Node limits it and gnet does not provide it)."""
    if isinstance(context, SecureContext):
        ssl_context = context.server_context(role)
        _no_renegotiation(ssl_context)
        return ssl_context
    return context


_prepared: weakref.WeakSet[Any] = weakref.WeakSet()


def _no_renegotiation(ssl_context: ssl.SSLContext) -> None:
    if ssl_context in _prepared:  # its options property builds an enum: once per context
        return
    import ssl

    flag = getattr(ssl, "OP_NO_RENEGOTIATION", 0)
    if flag:
        ssl_context.options |= flag
    _prepared.add(ssl_context)


_stores: dict[int, tuple[Any, TrustStore]] = {}


def trust_store_of(context: SecureContext | ssl.SSLContext | None) -> TrustStore:
    """The certificates ``context`` trusts (for a detailed peer certificate's chain,
    and the verdict where Node's verify callback is missing)."""
    if not isinstance(context, SecureContext):
        return TrustStore.system()
    cached = _stores.get(id(context))
    if cached is None or cached[0] is not context:
        if len(_stores) > 256:
            _stores.clear()
        cached = _stores[id(context)] = (context, TrustStore.of(context))
    return cached[1]


def local_certificate(context: SecureContext | ssl.SSLContext | None) -> bytes | None:
    """The DER of the certificate a connection made with ``context`` presents, when known."""
    if isinstance(context, SecureContext):
        certificates = context.certificates
        return certificates[0] if certificates else None
    return None


# --------------------------------------------------------------------------
# servers


@dataclass(frozen=True)
class ServerSide:
    """A TLS server's connections: the context, Node's per-socket options and the
    handshake timeout (ms; 0: none)."""

    context: SecureContext | ssl.SSLContext
    role: ServerRole
    sni_callback: Callable[..., Any] | None
    handshake_timeout: float


def server_side(opts: Mapping[str, Any], handshake_timeout: bool = True) -> ServerSide:
    """The server side of snake_case ``opts``; ``handshake_timeout``: Node's
    default of 120 s applies (a tls.Server's sockets), else none unless given."""
    callback = option(opts, "sni_callback", "SNICallback")
    if callback is not None and not callable(callback):
        raise make_error("ERR_INVALID_ARG_TYPE", "options.SNICallback", "of type function", callback)
    timeout = opts.get("handshake_timeout")
    if timeout is not None and (isinstance(timeout, bool) or not isinstance(timeout, (int, float))):
        raise make_error("ERR_INVALID_ARG_TYPE", "options.handshakeTimeout", "of type number", timeout)
    if not timeout:  # Node: options.handshakeTimeout || 120000
        timeout = DEFAULT_HANDSHAKE_TIMEOUT if handshake_timeout else 0.0
    role = ServerRole(
        request_cert=opts.get("request_cert") is True,
        reject_unauthorized=opts.get("reject_unauthorized") is not False,
        alpn_protocols=alpn_protocols(option(opts, "alpn_protocols", "ALPNProtocols")),
    )
    return ServerSide(_secure_context(opts), role, callback, max(0.0, float(timeout)))


# --------------------------------------------------------------------------
# clients


@dataclass(frozen=True)
class ClientSide:
    """A TLS client connection: its context, Node's ``rejectUnauthorized``, the
    ``servername`` given (None: the host, unless an IP), ``checkServerIdentity``
    and a ``session`` to resume."""

    context: SecureContext | ssl.SSLContext
    ssl_context: ssl.SSLContext
    reject_unauthorized: bool
    servername: str | None
    check_server_identity: Callable[[str, Any], Any]
    session: Any


_client_contexts: OrderedDict[Any, SecureContext] = OrderedDict()
_CACHE_SIZE = 64


def _frozen(value: Any) -> Any:
    if isinstance(value, (list, tuple)):
        return tuple(_frozen(v) for v in value)
    if isinstance(value, Mapping):
        return tuple(sorted((str(k), _frozen(v)) for k, v in value.items()))
    if isinstance(value, (bytearray, memoryview)):
        return bytes(value)
    hash(value)
    return value


def _cached_context(opts: Mapping[str, Any]) -> SecureContext:
    try:
        key = tuple((k, _frozen(opts[k])) for k in sorted(CONTEXT_KEYS) if k in opts)
    except TypeError:  # an unhashable value: no caching, Node's behaviour
        return create_secure_context(opts)
    context = _client_contexts.get(key)
    if context is None:
        context = create_secure_context(opts)
        _client_contexts[key] = context
        if len(_client_contexts) > _CACHE_SIZE:
            _client_contexts.popitem(last=False)
    else:
        _client_contexts.move_to_end(key)
    return context


def client_side(opts: Mapping[str, Any]) -> ClientSide:
    """The client side of snake_case ``opts`` (Node's tls.connect options)."""
    servername = opts.get("servername")
    if servername is not None and not isinstance(servername, str):
        raise make_error("ERR_INVALID_ARG_TYPE", "options.servername", "of type string", servername)
    check = opts.get("check_server_identity")
    if check is None:
        check = check_server_identity
    elif not callable(check):
        raise make_error(
            "ERR_INVALID_ARG_TYPE", "options.checkServerIdentity", "of type function", check
        )
    session = opts.get("session")
    if session is not None:
        import ssl

        if not isinstance(session, ssl.SSLSession):
            raise make_error("ERR_INVALID_ARG_TYPE", "options.session", "an ssl.SSLSession", session)
    reject = opts.get("reject_unauthorized") is not False
    given = opts.get("secure_context")
    context: SecureContext | ssl.SSLContext
    if given is None:
        context = _cached_context(opts)
    else:
        context = _secure_context(opts)
    if isinstance(context, SecureContext):
        role = ClientRole(
            reject_unauthorized=reject,
            alpn_protocols=alpn_protocols(option(opts, "alpn_protocols", "ALPNProtocols")),
        )
        ssl_context = context.client_context(role)
        _no_renegotiation(ssl_context)
    else:
        ssl_context = context
    return ClientSide(context, ssl_context, reject, servername or None, check, session)
