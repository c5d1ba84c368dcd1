"""gnet.tls: Node's ``tls`` module on gnet.

* :func:`create_server` / :class:`Server`: a :class:`gnet.Server` whose
  connections are TLS (``'secureConnection'``, ``'tlsClientError'``,
  ``handshake_timeout``, ``add_context``, ``set_secure_context``).
* :func:`connect`: Node's ``tls.connect`` (``'secureConnect'``), also over
  an existing socket (``socket=``: STARTTLS).
* :class:`TLSSocket`: a :class:`gnet.Socket` over TLS, with Node's members
  (``authorized``, ``get_peer_certificate()``, ``get_cipher()``, ...);
  ``TLSSocket(socket, options)`` upgrades a connection, either side.
* :func:`start_tls` (also ``gnet.Socket.start_tls``): STARTTLS in
  straight-line code, blocking until the handshake is done.
* :func:`create_secure_context` / :class:`SecureContext`, :class:`SNIContexts`,
  :func:`check_server_identity`, the certificate objects
  (:func:`certificate_from_der`, :func:`peer_certificate`),
  :func:`handshake_verdict`, :func:`parse_client_hello`,
  ``DEFAULT_MIN_VERSION`` and the other defaults, :func:`get_ciphers`,
  ``root_certificates``.

TLS runs as a transport under gnet's one stream
(:mod:`gnet.tls.transport`: an ``ssl.SSLObject`` over two ``MemoryBIO``\\ s),
so everything a plain socket does works the same over TLS.  Errors carry
Node's codes (:mod:`gnet.errors`'s TLS classes;
:func:`gnet.tls.errors.from_ssl_error`).

``import gnet`` does not import this package, and this package imports
``ssl`` only when it is used (importing ``ssl`` before
``gevent.monkey.patch_all()`` warns).
"""

from __future__ import annotations

from typing import Any

from .._aliases import add_module_aliases
from .certs import Certificate, certificate_from_der, peer_certificate
from .client import connect
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
from .server import Server, TLSServer, create_server
from .sni import SNIContexts
from .socket import TLSSocket
from .upgrade import start_tls
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
    "Server",
    "ServerRole",
    "TLSServer",
    "TLSSocket",
    "TrustStore",
    "certificate_from_der",
    "check_server_identity",
    "client_role",
    "connect",
    "create_secure_context",
    "create_server",
    "get_ciphers",
    "handshake_verdict",
    "parse_client_hello",
    "peer_certificate",
    "root_certificates",
    "select_alpn",
    "server_role",
    "start_tls",
    "verify_peer",
]
__all__ += add_module_aliases(
    globals(),
    [
        "certificate_from_der",
        "check_server_identity",
        "client_role",
        "create_secure_context",
        "create_server",
        "get_ciphers",
        "handshake_verdict",
        "parse_client_hello",
        "peer_certificate",
        "select_alpn",
        "server_role",
        "start_tls",
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
