"""gnet.tls: Node's ``tls`` module on gnet (foundation; sockets to come).

What exists now is everything of Node's ``tls`` that does not need a
connection:

* :func:`create_secure_context` / :class:`SecureContext`: Node's options
  (``key``, ``cert``, ``ca``, ``passphrase``, ``pfx``, ``ciphers``,
  ``min_version``/``max_version``, ...) validated with Node's error codes
  and loaded into ``ssl.SSLContext`` objects, one per side and role
  (:class:`ServerRole`, :class:`ClientRole`: ``request_cert``,
  ``reject_unauthorized``, ``alpn_protocols``).
* :class:`SNIContexts`: a server's ``add_context`` table with Node's
  wildcards and its ``SNICallback``.
* :func:`check_server_identity`: Node's ``tls.checkServerIdentity``.
* :func:`certificate_from_der` / :func:`peer_certificate`: Node's
  certificate object (``getPeerCertificate(detailed)``) from DER.
* :func:`handshake_verdict`: Node's ``authorized``/``authorizationError``
  after a handshake (OpenSSL's verdict, through Node's own "always
  continue" verify callback, or :func:`verify_peer` / :class:`TrustStore`
  where that callback cannot be installed), and the name check.
* :func:`parse_client_hello`: the SNI name and ALPN list of a ClientHello
  read off the wire, so a server can refuse an ALPN mismatch as Node does
  and answer an SNICallback that takes its time.
* ``DEFAULT_MIN_VERSION``, ``DEFAULT_MAX_VERSION``, ``DEFAULT_CIPHERS``,
  ``DEFAULT_ECDH_CURVE``, :func:`get_ciphers`, ``root_certificates``.
* Errors: the classes (``TLSError``, ``TLSCertificateError``,
  ``TLSHandshakeTimeoutError``) and codes are in :mod:`gnet.errors`;
  :func:`gnet.tls.errors.from_ssl_error` translates Python's ``ssl``
  exceptions into them.

The plan, on the core's pluggable transport: a TLS transport (an
``ssl.SSLObject`` over two ``MemoryBIO``\\ s under the same stream a plain
socket uses), then ``TLSSocket`` (both sides, Node's ``'secure'``,
``start_tls`` for STARTTLS), ``Server``/``create_server``
(``'secureConnection'``, ``'tlsClientError'``, ``handshake_timeout``) and
``connect`` (``'secureConnect'``), all built from the pieces above.

``import gnet`` does not import this package, and this package imports
``ssl`` only when it is used (importing ``ssl`` before
``gevent.monkey.patch_all()`` warns).
"""

from __future__ import annotations

from typing import Any

from .._aliases import add_module_aliases
from .certs import Certificate, certificate_from_der, peer_certificate
from .context import (
    DEFAULT_CIPHERS,
    DEFAULT_ECDH_CURVE,
    DEFAULT_MAX_VERSION,
    DEFAULT_MIN_VERSION,
    SecureContext,
    create_secure_context,
    get_ciphers,
)
from .hello import ClientHello, parse_client_hello
from .identity import check_server_identity
from .roles import ClientRole, ServerRole, client_role, select_alpn, server_role
from .sni import SNIContexts
from .verify import TrustStore, handshake_verdict, verify_peer

__all__ = [
    "DEFAULT_CIPHERS",
    "DEFAULT_ECDH_CURVE",
    "DEFAULT_MAX_VERSION",
    "DEFAULT_MIN_VERSION",
    "Certificate",
    "ClientHello",
    "ClientRole",
    "SNIContexts",
    "SecureContext",
    "ServerRole",
    "TrustStore",
    "certificate_from_der",
    "check_server_identity",
    "client_role",
    "create_secure_context",
    "get_ciphers",
    "handshake_verdict",
    "parse_client_hello",
    "peer_certificate",
    "root_certificates",
    "select_alpn",
    "server_role",
    "verify_peer",
]
__all__ += add_module_aliases(
    globals(),
    [
        "certificate_from_der",
        "check_server_identity",
        "client_role",
        "create_secure_context",
        "get_ciphers",
        "handshake_verdict",
        "parse_client_hello",
        "peer_certificate",
        "select_alpn",
        "server_role",
        "verify_peer",
    ],
)
__all__ += ["rootCertificates"]


def __getattr__(name: str) -> Any:
    # Node's tls.rootCertificates: read from the system store on first use.
    if name in ("root_certificates", "rootCertificates"):
        import ssl

        pems = tuple(ssl.DER_cert_to_PEM_cert(der) for der in TrustStore.system().certificates)
        globals()["root_certificates"] = globals()["rootCertificates"] = pems
        return pems
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
