"""Node's ``tls.createSecureContext``: keys, certificates, CAs, ciphers and
protocol versions, as Python ``ssl.SSLContext`` objects.

:func:`create_secure_context` validates Node's options (either spelling)
at once, with Node's error codes, and loads them into an ``SSLContext``
(:attr:`SecureContext.context`, server side).  Python's ``ssl`` fixes a
context's side at creation and keeps the verify mode and ALPN on the
context, where Node keeps them per socket, so a SecureContext also builds
contexts for a role (:meth:`SecureContext.server_context`,
:meth:`SecureContext.client_context`, cached per role).

Certificates and keys are given as PEM in memory, as in Node; the standard
library loads them only from files, so they are handed over through an
anonymous memory file (``memfd_create``, read back through
``/proc/self/fd``): key material never touches a disk.

Differences from Node, each an error rather than a silent change:
TLSv1.3 cipher suites other than OpenSSL's default three, a list of ECDH
curves, ``dhparam: 'auto'`` and ``sessionTimeout`` cannot be set through
Python's ``ssl`` (``ERR_GNET_TLS_UNSUPPORTED``); ``pfx`` needs the
``cryptography`` package; a ``ca`` that holds no certificate at all is
``ERR_OSSL_PEM_NO_START_LINE`` (Node ignores it and trusts nothing).
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import os
import re
import tempfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .._aliases import normalize_options, with_camel_aliases
from ..errors import make_error, tls_error
from ._verify_hook import continue_on_verify_error
from .errors import from_ssl_error
from .roles import ClientRole, ServerRole

if TYPE_CHECKING:
    import ssl

__all__ = [
    "DEFAULT_CIPHERS",
    "DEFAULT_ECDH_CURVE",
    "DEFAULT_MAX_VERSION",
    "DEFAULT_MIN_VERSION",
    "SecureContext",
    "create_secure_context",
    "get_ciphers",
]

DEFAULT_MIN_VERSION = "TLSv1.2"
DEFAULT_MAX_VERSION = "TLSv1.3"
DEFAULT_ECDH_CURVE = "auto"
# Node v20's default (crypto.constants.defaultCoreCipherList).
DEFAULT_CIPHERS = (
    "TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256:TLS_AES_128_GCM_SHA256:"
    "ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES256-GCM-SHA384:"
    "ECDHE-ECDSA-AES256-GCM-SHA384:DHE-RSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-SHA256:"
    "DHE-RSA-AES128-SHA256:ECDHE-RSA-AES256-SHA384:DHE-RSA-AES256-SHA384:"
    "ECDHE-RSA-AES256-SHA256:DHE-RSA-AES256-SHA256:HIGH:!aNULL:!eNULL:!EXPORT:!DES:!RC4:"
    "!MD5:!PSK:!SRP:!CAMELLIA"
)
# OpenSSL's TLSv1.3 suites, the only ones Python's ssl can use.
_TLS13_DEFAULT = frozenset(
    ("TLS_AES_256_GCM_SHA384", "TLS_CHACHA20_POLY1305_SHA256", "TLS_AES_128_GCM_SHA256")
)
_VERSIONS = ("TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3")
# secureProtocol: OpenSSL method name -> (min, max).
_METHODS: dict[str, tuple[str, str]] = {}
for _suffix in ("_method", "_client_method", "_server_method"):
    for _prefix, _only in (("TLSv1", "TLSv1"), ("TLSv1_1", "TLSv1.1"), ("TLSv1_2", "TLSv1.2")):
        _METHODS[_prefix + _suffix] = (_only, _only)
    _METHODS["TLS" + _suffix] = ("TLSv1", "TLSv1.3")
    _METHODS["SSLv23" + _suffix] = ("TLSv1", "TLSv1.3")
del _suffix, _prefix, _only
_NIST_CURVES = {"P-256": "prime256v1", "P-384": "secp384r1", "P-521": "secp521r1"}
_KEY_OR_CERT = "of type string or an instance of Buffer, TypedArray, or DataView"


# --------------------------------------------------------------------------
# Validated options


@dataclass(frozen=True)
class _Key:
    pem: bytes
    passphrase: bytes | None


@dataclass(frozen=True)
class _Material:
    """Everything a SecureContext loads into each SSLContext it builds."""

    ca: tuple[bytes, ...] | None  # None: the system's trust store
    certs: tuple[bytes, ...]
    keys: tuple[_Key, ...]
    min_version: str
    max_version: str
    cipher_list: str
    ecdh_curve: str | None
    dhparam: bytes | None
    set_options: int
    clear_options: int


def _truthy(value: Any) -> bool:
    """JavaScript truthiness for option values (an empty Buffer or list is truthy)."""
    if isinstance(value, (bytes, bytearray, memoryview, list, tuple, dict)):
        return True
    return bool(value)


def _pem_input(value: Any, name: str) -> bytes:
    if isinstance(value, str):
        return value.encode("utf-8")
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value)
    raise make_error("ERR_INVALID_ARG_TYPE", name, _KEY_OR_CERT, value)


def _passphrase(value: Any, name: str) -> bytes | None:
    if value is None:
        return None
    if isinstance(value, str):
        return value.encode("utf-8")
    if isinstance(value, (bytes, bytearray)):
        return bytes(value)
    raise make_error("ERR_INVALID_ARG_TYPE", name, "of type string", value)


def _as_list(value: Any) -> list[Any]:
    return list(value) if isinstance(value, (list, tuple)) else [value]


def _version(value: Any, which: str, default: str) -> str:
    if value is None:
        return default
    if value not in _VERSIONS:
        raise make_error("ERR_TLS_INVALID_PROTOCOL_VERSION", value, which)
    return str(value)


def _split_ciphers(ciphers: str) -> tuple[str, str]:
    """Node's processCiphers: (TLSv1.2 cipher list, TLSv1.3 suites)."""
    parts = ciphers.split(":")
    suites = [p for p in parts if p.startswith(("TLS_", "!TLS_"))]
    others = [p for p in parts if p and not p.startswith(("TLS_", "!TLS_"))]
    if not suites and not others:
        raise make_error("ERR_INVALID_ARG_VALUE", "options.ciphers", parts)
    return ":".join(others), ":".join(suites)


def _parse(opts: dict[str, Any]) -> _Material:
    set_options = 0
    clear_options = 0
    import ssl

    method = opts.get("secure_protocol")
    min_version = opts.get("min_version")
    max_version = opts.get("max_version")
    if method:
        for given in (min_version, max_version):
            if given is not None:
                raise make_error("ERR_TLS_PROTOCOL_VERSION_CONFLICT", given, method)
        if method in ("SSLv2_method", "SSLv3_method") or re.fullmatch(
            r"SSLv[23]_(client|server)_method", str(method)
        ):
            raise make_error(
                "ERR_TLS_INVALID_PROTOCOL_METHOD", f"{str(method)[:5]} methods disabled"
            )
        if method not in _METHODS:
            raise make_error("ERR_TLS_INVALID_PROTOCOL_METHOD", f"Unknown method: {method}")
        min_version, max_version = _METHODS[method]
    min_version = _version(min_version, "minimum", DEFAULT_MIN_VERSION)
    max_version = _version(max_version, "maximum", DEFAULT_MAX_VERSION)

    if opts.get("honor_cipher_order"):
        set_options |= ssl.OP_CIPHER_SERVER_PREFERENCE
    else:
        # Python sets it by default; Node's createSecureContext does not.
        clear_options |= ssl.OP_CIPHER_SERVER_PREFERENCE
    secure_options = opts.get("secure_options")
    if secure_options is not None:
        if not isinstance(secure_options, int) or isinstance(secure_options, bool):
            raise make_error(
                "ERR_INVALID_ARG_TYPE", "secureOptions", "of type number", secure_options
            )
        set_options |= secure_options
        clear_options &= ~secure_options

    ciphers = opts.get("ciphers")
    if ciphers is None:
        ciphers = DEFAULT_CIPHERS
    if not isinstance(ciphers, str):
        raise make_error("ERR_INVALID_ARG_TYPE", "options.ciphers", "of type string", ciphers)
    cipher_list, suites = _split_ciphers(ciphers)
    wanted_suites = {s for s in suites.split(":") if s and not s.startswith("!")}
    if suites and wanted_suites != _TLS13_DEFAULT:
        raise make_error("ERR_GNET_TLS_UNSUPPORTED", f"choosing TLSv1.3 cipher suites ({suites})")
    if not cipher_list and _VERSIONS.index(min_version) < 3 <= _VERSIONS.index(max_version):
        min_version = "TLSv1.3"  # as Node: only TLSv1.3 suites given

    curve = opts.get("ecdh_curve")
    if curve is None:
        curve = DEFAULT_ECDH_CURVE
    if not isinstance(curve, str):
        raise make_error("ERR_INVALID_ARG_TYPE", "options.ecdhCurve", "of type string", curve)
    if ":" in curve:
        raise make_error("ERR_GNET_TLS_UNSUPPORTED", f"a list of ECDH curves ({curve!r})")

    dhparam = opts.get("dhparam")
    dh: bytes | None = None
    if dhparam is not None:
        dh = _pem_input(dhparam, "options.dhparam")
        if dh == b"auto":
            raise make_error("ERR_GNET_TLS_UNSUPPORTED", "dhparam: 'auto'")

    timeout = opts.get("session_timeout")
    if timeout is not None:
        if not isinstance(timeout, int) or isinstance(timeout, bool):
            raise make_error(
                "ERR_INVALID_ARG_TYPE", "options.sessionTimeout", "of type number", timeout
            )
        if not 0 <= timeout <= 2**31 - 1:
            raise make_error(
                "ERR_OUT_OF_RANGE", "options.sessionTimeout", ">= 0 && <= 2147483647", timeout
            )
        raise make_error("ERR_GNET_TLS_UNSUPPORTED", "options.sessionTimeout")

    passphrase = _passphrase(opts.get("passphrase"), "options.passphrase")
    ca_value = opts.get("ca")
    ca = None
    if _truthy(ca_value):
        ca = tuple(_pem_input(item, "options.ca") for item in _as_list(ca_value))
    certs: list[bytes] = []
    if _truthy(opts.get("cert")):
        certs = [_pem_input(item, "options.cert") for item in _as_list(opts["cert"])]
    keys: list[_Key] = []
    if _truthy(opts.get("key")):
        for item in _as_list(opts["key"]):
            pem, pass_ = item, passphrase
            if isinstance(item, Mapping) and "pem" in item:
                pem = item["pem"]
                if item.get("passphrase") is not None:
                    pass_ = _passphrase(item["passphrase"], "options.passphrase")
            keys.append(_Key(_pem_input(pem, "options.key"), pass_))
    pfx = opts.get("pfx")
    if pfx is not None:
        for item in _as_list(pfx):
            buf, pass_ = item, passphrase
            if isinstance(item, Mapping):
                buf = item.get("buf")
                if item.get("passphrase") is not None:
                    pass_ = _passphrase(item["passphrase"], "options.passphrase")
            chain, key = _load_pfx(_pem_input(buf, "options.pfx"), pass_)
            certs.append(chain)
            keys.append(_Key(key, None))
    if keys and not certs:
        raise make_error(
            "ERR_INVALID_ARG_VALUE", "options.cert", None, "must be given with options.key"
        )
    if certs and not keys:
        raise make_error(
            "ERR_INVALID_ARG_VALUE", "options.key", None, "must be given with options.cert"
        )
    for blob in (*certs, *(ca or ())):
        pem_certificates(blob)  # Node's PEM errors at once

    return _Material(
        ca=ca,
        certs=tuple(certs),
        keys=tuple(keys),
        min_version=min_version,
        max_version=max_version,
        cipher_list=cipher_list,
        ecdh_curve=None if curve == "auto" else _NIST_CURVES.get(curve, curve),
        dhparam=dh,
        set_options=set_options,
        clear_options=clear_options,
    )


# --------------------------------------------------------------------------
# PEM, checked in Python first: OpenSSL's errors reach Python as "PEM lib"


_PEM_BLOCK = re.compile(rb"-----BEGIN ([A-Z0-9 ]+)-----\r?\n(.*?)-----END \1-----", re.DOTALL)
_CERT_LABELS = (b"CERTIFICATE", b"TRUSTED CERTIFICATE", b"X509 CERTIFICATE")


def pem_certificates(data: bytes) -> list[bytes]:
    """The DER of each certificate in PEM ``data`` (other blocks skipped).

    Raises Node's ``ERR_OSSL_PEM_NO_START_LINE`` (no certificate at all),
    ``ERR_OSSL_PEM_BAD_END_LINE`` (a certificate that does not end) or
    ``ERR_OSSL_PEM_BAD_BASE64_DECODE``.
    """
    ders = []
    for match in _PEM_BLOCK.finditer(data):
        if match.group(1) not in _CERT_LABELS:
            continue
        body = b"".join(line for line in match.group(2).split() if b":" not in line)
        try:
            ders.append(base64.b64decode(body, validate=True))
        except (binascii.Error, ValueError):
            raise tls_error("ERR_OSSL_PEM_BAD_BASE64_DECODE") from None
    if not ders:
        begins = [m.group(1) for m in re.finditer(rb"-----BEGIN ([A-Z0-9 ]+)-----", data)]
        if any(label in _CERT_LABELS for label in begins):
            raise tls_error("ERR_OSSL_PEM_BAD_END_LINE")
        raise tls_error("ERR_OSSL_PEM_NO_START_LINE")
    return ders


def _unreadable(data: bytes) -> bool:
    """Whether a PEM blob holds a certificate whose DER is not a certificate."""
    from .certs import read_fields

    for der in pem_certificates(data):
        try:
            read_fields(der, use_cryptography=False)
        except ValueError:
            return True
    return False


def _key_is_encrypted(pem: bytes) -> bool:
    return b"ENCRYPTED PRIVATE KEY" in pem or b"Proc-Type: 4,ENCRYPTED" in pem


def _load_pfx(data: bytes, passphrase: bytes | None) -> tuple[bytes, bytes]:
    """(certificate chain PEM, unencrypted key PEM) from a PKCS#12 blob."""
    try:
        from cryptography.hazmat.primitives import serialization
        from cryptography.hazmat.primitives.serialization import pkcs12
    except ImportError:
        raise make_error("ERR_GNET_TLS_NEEDS_CRYPTOGRAPHY", "options.pfx") from None
    try:
        key, cert, extra = pkcs12.load_key_and_certificates(data, passphrase)
    except ValueError as exc:
        code = (
            "ERR_OSSL_ASN1_NOT_ENOUGH_DATA"
            if "deserialize" in str(exc)
            else "ERR_OSSL_PKCS12_MAC_VERIFY_FAILURE"
        )
        raise tls_error(code) from None
    if key is None or cert is None:
        raise make_error(
            "ERR_INVALID_ARG_VALUE", "options.pfx", None, "holds no key and certificate"
        )
    chain = b"".join(c.public_bytes(serialization.Encoding.PEM) for c in [cert, *extra])
    key_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    return chain, key_pem


@contextlib.contextmanager
def _memory_file(data: bytes) -> Iterator[str]:
    """A path OpenSSL can read ``data`` from, backed by memory only.

    ``memfd_create`` (Linux); where it is missing, a 0600 temporary file
    that is removed as soon as OpenSSL has read it.
    """
    memfd_create = getattr(os, "memfd_create", None)
    if memfd_create is not None and os.path.isdir("/proc/self/fd"):
        fd = memfd_create("gnet-tls", getattr(os, "MFD_CLOEXEC", 0))
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view) :]
            yield f"/proc/self/fd/{fd}"
        finally:
            os.close(fd)
        return
    fd, path = tempfile.mkstemp(prefix="gnet-tls-")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        yield path
    finally:
        os.unlink(path)


# --------------------------------------------------------------------------
# Building contexts


def _load_pair(context: ssl.SSLContext, chain: bytes, key: _Key) -> None:
    with _memory_file(chain) as cert_path, _memory_file(key.pem) as key_path:
        # A callable, so OpenSSL never prompts on the terminal for a passphrase.
        context.load_cert_chain(cert_path, key_path, password=lambda: key.passphrase or b"")


def _key_error(exc: BaseException, key: _Key) -> BaseException:
    reason = getattr(exc, "reason", None)
    if reason == "KEY_VALUES_MISMATCH":
        return from_ssl_error(exc, context=True)
    if _key_is_encrypted(key.pem):
        return tls_error("ERR_OSSL_BAD_DECRYPT")
    return tls_error("ERR_OSSL_UNSUPPORTED")


def _build(material: _Material, server_side: bool, trust: bool = True) -> ssl.SSLContext:
    """An SSLContext with ``material``; ``trust=False``: without the system's
    trust store when no ``ca`` is given (a server that asks for no client
    certificate needs none, and OpenSSL would search it on every handshake,
    building the chain it sends: a third of a handshake's cost)."""
    import ssl

    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER if server_side else ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False  # gnet checks names as Node does, after the handshake
    context.verify_mode = ssl.CERT_NONE
    context.options = (context.options | material.set_options) & ~material.clear_options
    context.minimum_version = getattr(ssl.TLSVersion, material.min_version.replace(".", "_"))
    context.maximum_version = getattr(ssl.TLSVersion, material.max_version.replace(".", "_"))
    if material.cipher_list:
        try:
            context.set_ciphers(material.cipher_list)
        except ssl.SSLError:
            raise tls_error("ERR_SSL_NO_CIPHER_MATCH") from None
    if material.ecdh_curve is not None:
        try:
            context.set_ecdh_curve(material.ecdh_curve)
        except ValueError:
            raise make_error("ERR_CRYPTO_OPERATION_FAILED", "Failed to set ECDH curve") from None
    if material.dhparam is not None:
        with _memory_file(material.dhparam) as path:
            try:
                context.load_dh_params(path)
            except ssl.SSLError as exc:
                raise from_ssl_error(exc, context=True) from None
    if material.ca is None:
        if trust:
            context.set_default_verify_paths()
    else:
        for blob in material.ca:
            try:
                context.load_verify_locations(cadata=blob.decode("latin-1"))
            except (ssl.SSLError, ValueError):
                raise tls_error("ERR_OSSL_ASN1_WRONG_TAG") from None
    remaining = list(material.keys)
    for chain in material.certs:
        error: BaseException | None = None
        for key in remaining:
            try:
                _load_pair(context, chain, key)
            except ssl.SSLError as exc:
                if _unreadable(chain):
                    raise tls_error("ERR_OSSL_ASN1_WRONG_TAG") from None
                error = _key_error(exc, key)
                continue
            remaining.remove(key)
            error = None
            break
        if error is not None:
            raise error
    if remaining:
        # A key with no certificate of its own (Node: key values mismatch).
        raise make_error(
            "ERR_INVALID_ARG_VALUE", "options.key", None, "has no matching certificate"
        )
    return context


@with_camel_aliases
class SecureContext:
    """Node's ``tls.SecureContext``, made by :func:`create_secure_context`.

    ``context`` is the ``ssl.SSLContext`` (server side) holding the
    certificates, keys, CAs, ciphers and versions, as Node's ``.context``
    holds the native one; it is what an SNI lookup switches a connection
    to.  :meth:`server_context` and :meth:`client_context` build the
    contexts a server or a client connection uses (Python's ssl keeps the
    side, the verify mode and ALPN on the context).
    """

    context: ssl.SSLContext

    def __init__(self, options: Mapping[str, Any] | None = None) -> None:
        if options is not None and not isinstance(options, Mapping):
            raise make_error("ERR_INVALID_ARG_TYPE", "options", "of type object", options)
        self._material = _parse(normalize_options(options))
        self.context = _build(self._material, server_side=True)
        self._servers: dict[ServerRole, ssl.SSLContext] = {}
        self._clients: dict[ClientRole, ssl.SSLContext] = {}

    @property
    def certificates(self) -> list[bytes]:
        """The DER of the first certificate of each chain in ``cert``/``pfx``
        (what Node's ``getCertificate()`` reports on a connection)."""
        return [pem_certificates(chain)[0] for chain in self._material.certs]

    @property
    def ca_certificates(self) -> list[bytes] | None:
        """The DER of each ``ca`` certificate; ``None`` when the system's store is used."""
        if self._material.ca is None:
            return None
        return [der for blob in self._material.ca for der in pem_certificates(blob)]

    def server_context(self, role: ServerRole | None = None) -> ssl.SSLContext:
        """The server-side ``SSLContext`` for ``role`` (built once per role).

        A server that installs its own ``sni_callback`` must have a context
        of its own: :meth:`new_server_context`.  See :meth:`new_server_context`
        for how a client certificate is verified.
        """
        role = role or ServerRole()
        context = self._servers.get(role)
        if context is None:
            context = self._servers[role] = self.new_server_context(role)
        return context

    def new_server_context(self, role: ServerRole | None = None) -> ssl.SSLContext:
        """A new server-side ``SSLContext`` for ``role``, not shared with anyone.

        With ``request_cert`` it asks for a client certificate the way Node
        does: the handshake completes whatever the certificate is (only a
        missing one fails it, with ``reject_unauthorized``) and
        :func:`gnet.tls.handshake_verdict` gives Node's verdict afterwards;
        the caller rejects.  Where Node's verify callback cannot be installed
        (see :mod:`gnet.tls._verify_hook`), ``reject_unauthorized`` makes
        OpenSSL reject in the handshake (``CERT_REQUIRED``), and
        ``request_cert`` without it raises ``ERR_GNET_TLS_UNSUPPORTED``.
        """
        import ssl

        role = role or ServerRole()
        context = _build(self._material, server_side=True, trust=role.request_cert)
        if role.request_cert and not continue_on_verify_error(
            context, require_certificate=role.reject_unauthorized
        ):
            if not role.reject_unauthorized:
                raise make_error(
                    "ERR_GNET_TLS_UNSUPPORTED",
                    "requestCert without rejectUnauthorized on this Python",
                )
            context.verify_mode = ssl.CERT_REQUIRED
        if role.alpn_protocols:
            context.set_alpn_protocols(list(role.alpn_protocols))
        return context

    def client_context(self, role: ClientRole | None = None) -> ssl.SSLContext:
        """The client-side ``SSLContext`` for ``role`` (built once per role).

        As in Node, the handshake completes whatever the server's
        certificate is; :func:`gnet.tls.handshake_verdict` then gives
        ``authorized``/``authorizationError`` (OpenSSL's own verdict, and
        Node's ``checkServerIdentity``), and the caller rejects the
        connection when ``reject_unauthorized``.  Where Node's verify
        callback cannot be installed, ``reject_unauthorized`` makes OpenSSL
        reject in the handshake instead (``CERT_REQUIRED``: OpenSSL's first
        error rather than Node's last) and without it nothing is verified
        in the handshake (:func:`gnet.tls.verify_peer` judges afterwards).
        Host names are never checked here.
        """
        import ssl

        role = role or ClientRole()
        context = self._clients.get(role)
        if context is None:
            context = _build(self._material, server_side=False)
            if not continue_on_verify_error(context):
                context.verify_mode = (
                    ssl.CERT_REQUIRED if role.reject_unauthorized else ssl.CERT_NONE
                )
            if role.alpn_protocols:
                context.set_alpn_protocols(list(role.alpn_protocols))
            self._clients[role] = context
        return context


def create_secure_context(options: Mapping[str, Any] | None = None) -> SecureContext:
    """Node's ``tls.createSecureContext(options)``.

    Options (snake_case or Node's camelCase): ``key``, ``cert``, ``ca``
    (PEM ``str``/``bytes`` or a list; ``cert`` may hold a chain; ``key`` may
    list ``{'pem': ..., 'passphrase': ...}``), ``passphrase``, ``pfx``
    (needs ``cryptography``), ``ciphers``, ``min_version``,
    ``max_version``, ``secure_protocol``, ``secure_options``,
    ``honor_cipher_order``, ``ecdh_curve`` (one curve or ``'auto'``),
    ``dhparam`` (PEM).  Bad options raise at once with Node's codes.
    """
    return SecureContext(options)


def get_ciphers() -> list[str]:
    """Node's ``tls.getCiphers()``: the names of the ciphers OpenSSL supports,
    lower-case and sorted, TLSv1.3 suites included."""
    import ssl

    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.set_ciphers("DEFAULT")
    names = {c["name"].lower() for c in context.get_ciphers()}
    names.update(
        s.lower() for s in (*_TLS13_DEFAULT, "TLS_AES_128_CCM_8_SHA256", "TLS_AES_128_CCM_SHA256")
    )
    return sorted(names)
