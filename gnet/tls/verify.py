"""Verifying a peer's certificate after the handshake, with Node's verdicts.

Node completes a handshake whatever the peer's certificate is and then
reports ``authorized``/``authorizationError`` (a client with
``rejectUnauthorized: false``, a server with ``requestCert`` and
``rejectUnauthorized: false``).  Python's ``ssl`` either aborts the
handshake or does not verify at all, so gnet verifies itself afterwards:
:func:`verify_peer` takes the peer's chain (DER, leaf first) and a
:class:`TrustStore` and returns ``(authorized, error)``.

The decision is made twice and both must accept: by ``cryptography``'s
X.509 path validation (``cryptography.x509.verification``, with
OpenSSL's lenient view of extensions rather than the Web PKI profile), and
by a re-enactment of OpenSSL's own checks, in OpenSSL's order, that names
the failure as Node does.  Node's callback lets OpenSSL carry on after an
error, so the error Node reports is the *last* one OpenSSL found (an
expired certificate from an unknown issuer is ``CERT_HAS_EXPIRED``); so is
gnet's.

:func:`handshake_verdict` is what a transport calls after a handshake: it
uses OpenSSL's own verdict where Node's verify callback could be installed
(:mod:`gnet.tls._verify_hook`), which needs neither ``cryptography`` nor
Python 3.13, and :func:`verify_peer` only where it could not.

The peer's chain: ``SSLObject.get_unverified_chain()`` on Python 3.13+.
Older Pythons give only the leaf (``getpeercert(binary_form=True)``): a
peer whose certificate is issued by an intermediate it sends along cannot
be verified unless that intermediate is in the trust store; it is reported
``UNABLE_TO_VERIFY_LEAF_SIGNATURE`` where Node authorizes it, and
``SELF_SIGNED_CERT_IN_CHAIN`` is reported as
``UNABLE_TO_VERIFY_LEAF_SIGNATURE``.  Needs the ``cryptography`` package.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from ..errors import make_error
from ._verify_hook import is_continuing, verify_result
from .certs import peer_certificate, read_fields
from .errors import verify_error
from .identity import check_server_identity

__all__ = ["TrustStore", "verify_peer", "peer_chain", "handshake_verdict"]

# X509_V_ERR_* numbers used below.
_UNABLE_TO_GET_ISSUER_CERT = 2
_CERT_SIGNATURE_FAILURE = 7
_CERT_NOT_YET_VALID = 9
_CERT_HAS_EXPIRED = 10
_DEPTH_ZERO_SELF_SIGNED_CERT = 18
_SELF_SIGNED_CERT_IN_CHAIN = 19
_UNABLE_TO_GET_ISSUER_CERT_LOCALLY = 20
_UNABLE_TO_VERIFY_LEAF_SIGNATURE = 21
_CERT_CHAIN_TOO_LONG = 22
_PATH_LENGTH_EXCEEDED = 25
_INVALID_PURPOSE = 26
_INVALID_CA = 79
_UNSPECIFIED = 1
_MAX_DEPTH = 100  # OpenSSL's default verify depth

_SERVER_AUTH = "1.3.6.1.5.5.7.3.1"
_CLIENT_AUTH = "1.3.6.1.5.5.7.3.2"
_SGC = ("2.16.840.1.113730.4.1", "1.3.6.1.4.1.311.10.3.3")


class TrustStore:
    """Trusted certificates (DER), what a SecureContext's ``ca`` or the system trusts."""

    _system: TrustStore | None = None

    def __init__(self, certificates: Iterable[bytes]) -> None:
        self.certificates = tuple(certificates)
        self._names: dict[bytes, list[bytes]] | None = None

    @classmethod
    def system(cls) -> TrustStore:
        """The system's default trust store (the file OpenSSL loads), read once."""
        if cls._system is None:
            import ssl

            context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
            context.set_default_verify_paths()
            cls._system = cls(context.get_ca_certs(binary_form=True))
        return cls._system

    @classmethod
    def of(cls, secure_context: Any) -> TrustStore:
        """The store a :class:`gnet.tls.SecureContext` verifies against."""
        ders = secure_context.ca_certificates
        return cls.system() if ders is None else cls(ders)

    def find_issuer(self, issuer_name: bytes) -> bytes | None:
        """A trusted certificate whose subject is ``issuer_name`` (DER), if any."""
        if self._names is None:
            names: dict[bytes, list[bytes]] = {}
            for der in self.certificates:
                try:
                    subject = read_fields(der).subject_der
                except ValueError:
                    continue
                names.setdefault(subject, []).append(der)
            self._names = names
        found = self._names.get(issuer_name)
        return found[0] if found else None


def peer_chain(sslobj: Any) -> list[bytes]:
    """The chain a peer sent (DER, leaf first), as far as this Python can tell:
    all of it on 3.13+, the leaf alone before, ``[]`` for no certificate."""

    leaf = sslobj.getpeercert(binary_form=True)
    if not leaf:
        return []
    get_chain = getattr(sslobj, "get_unverified_chain", None)
    if get_chain is None:
        return [leaf]
    chain: list[bytes] = list(get_chain())  # DER, on the Pythons that have it
    # OpenSSL leaves the leaf out of a server's view of the client's chain.
    return chain if chain[:1] == [leaf] else [leaf, *chain]


def verify_peer(
    chain: Sequence[bytes],
    trust_store: TrustStore | Iterable[bytes],
    hostname: str | None = None,
    purpose: str = "server",
    *,
    check_identity: Callable[[str, Any], Any] = check_server_identity,
    now: datetime.datetime | None = None,
) -> tuple[bool, BaseException | None]:
    """Node's verdict on a peer: ``(authorized, error)``.

    ``chain`` is what the peer sent (DER, leaf first; empty when it sent
    nothing); ``purpose`` is ``'server'`` when verifying a server's
    certificate (a client's check) or ``'client'``.  ``error`` carries
    Node's ``code`` (``authorizationError``): an X509 code
    (``UNABLE_TO_VERIFY_LEAF_SIGNATURE``, ``CERT_HAS_EXPIRED``, ...),
    ``UNABLE_TO_GET_ISSUER_CERT`` when the peer sent no certificate, or,
    once the chain is good and ``hostname`` is given, what
    ``check_identity(hostname, cert)`` returns (Node's
    ``checkServerIdentity``: ``ERR_TLS_CERT_ALTNAME_INVALID``).

    Raises ``ERR_GNET_TLS_NEEDS_CRYPTOGRAPHY`` without ``cryptography``.
    """
    try:
        from cryptography import x509
    except ImportError:
        raise make_error(
            "ERR_GNET_TLS_NEEDS_CRYPTOGRAPHY", "verifying a certificate after the handshake"
        ) from None
    if not chain:
        return False, verify_error(_UNABLE_TO_GET_ISSUER_CERT)
    store = trust_store if isinstance(trust_store, TrustStore) else TrustStore(trust_store)
    moment = now or datetime.datetime.now(datetime.timezone.utc)
    try:
        certs = [x509.load_der_x509_certificate(der) for der in chain]
    except ValueError as exc:
        return False, verify_error(_UNSPECIFIED, f"unreadable certificate: {exc}")
    anchors = []
    for der in store.certificates:
        try:
            anchors.append(x509.load_der_x509_certificate(der))
        except ValueError:
            continue
    code = _diagnose(certs, anchors, moment, purpose)
    if code is not None:
        return False, verify_error(code)
    problem = _cryptography_rejects(certs, anchors, moment)
    if problem is not None:
        return False, verify_error(_UNSPECIFIED, problem)
    if hostname is not None:
        cert = peer_certificate(chain, True, find_issuer=store.find_issuer)
        error = check_identity(hostname, cert)
        if error:
            return False, error
    return True, None


def handshake_verdict(
    sslobj: Any,
    trust_store: TrustStore,
    hostname: str | None = None,
    *,
    check_identity: Callable[[str, Any], Any] = check_server_identity,
) -> tuple[bool, BaseException | None]:
    """Node's ``authorized``/``authorizationError`` for a finished handshake.

    ``sslobj`` is the connection's ``ssl.SSLObject``, made from a context of
    :meth:`~gnet.tls.SecureContext.client_context` or
    :meth:`~gnet.tls.SecureContext.server_context`; ``hostname`` (a
    client's: Node's ``servername || host``) is checked with
    ``check_identity`` once the chain is good, unless the session was
    resumed (as Node).  The verdict is OpenSSL's own where Node's verify
    callback is installed; OpenSSL's in-handshake one where it rejected
    already (``CERT_REQUIRED``: reaching here means it passed); else
    :func:`verify_peer`'s.  The caller rejects the connection with
    ``error`` when its ``reject_unauthorized`` says so: with Node's callback
    in place nothing else does.
    """
    import ssl

    purpose = "client" if sslobj.server_side else "server"
    context = sslobj.context
    if sslobj.server_side and context.verify_mode == ssl.CERT_NONE:
        return False, None  # no requestCert: Node reports nothing either
    chain = peer_chain(sslobj)
    if not chain:
        return False, verify_error(_UNABLE_TO_GET_ISSUER_CERT)
    if is_continuing(context):
        code = verify_result(sslobj)
        if code:
            return False, verify_error(code)
        if code is None and not sslobj.session_reused:
            # The callback never ran: the certificate was not verified.
            return False, verify_error(_UNSPECIFIED, "the certificate was not verified")
    elif context.verify_mode != ssl.CERT_REQUIRED and not sslobj.session_reused:
        authorized, error = verify_peer(chain, trust_store, None, purpose)
        if not authorized:
            return False, error
    if hostname is not None and purpose == "server" and not sslobj.session_reused:
        # Node passes getPeerCertificate(true); the built-in check reads
        # only the leaf, so the chain is built for a custom check alone.
        detailed = check_identity is not check_server_identity
        cert = peer_certificate(chain, detailed, find_issuer=trust_store.find_issuer)
        error = check_identity(hostname, cert)
        if error:
            return False, error
    return True, None


# --------------------------------------------------------------------------
# OpenSSL's checks, in OpenSSL's order (x509_vfy.c: build_chain,
# check_extensions, internal_verify), every error recorded.


def _ext(cert: Any, kind: Any) -> Any:
    from cryptography import x509

    try:
        return cert.extensions.get_extension_for_class(kind).value
    except x509.ExtensionNotFound:
        return None


def _signed_by(cert: Any, issuer: Any) -> bool:
    try:
        cert.verify_directly_issued_by(issuer)
    except Exception:  # InvalidSignature, a name mismatch, an unsupported key
        return False
    return True


def _self_signed(cert: Any) -> bool:
    return bool(cert.subject == cert.issuer) and _signed_by(cert, cert)


def _check_ca(cert: Any) -> int:
    """OpenSSL's X509_check_ca: 1 a CA, 0 not; 3 and 4 tolerated old forms."""
    from cryptography import x509

    usage = _ext(cert, x509.KeyUsage)
    if usage is not None and not usage.key_cert_sign:
        return 0
    basic = _ext(cert, x509.BasicConstraints)
    if basic is not None:
        return 1 if basic.ca else 0
    if cert.version == x509.Version.v1 and _self_signed(cert):
        return 3
    return 4 if usage is not None else 0


def _purpose_ok(cert: Any, purpose: str, non_leaf: bool) -> bool:
    """OpenSSL's check_purpose_ssl_server / check_purpose_ssl_client."""
    from cryptography import x509

    eku = _ext(cert, x509.ExtendedKeyUsage)
    if eku is not None:
        oids = {oid.dotted_string for oid in eku}
        wanted = {_SERVER_AUTH, *_SGC} if purpose == "server" else {_CLIENT_AUTH}
        if not oids & wanted:
            return False
    if non_leaf:
        return _check_ca(cert) != 0
    usage = _ext(cert, x509.KeyUsage)
    if usage is None:
        return True
    if usage.digital_signature or usage.key_agreement:
        return True
    return purpose == "server" and bool(usage.key_encipherment)


def _build_chain(certs: list[Any], anchors: list[Any]) -> tuple[list[Any], list[int]]:
    """The path OpenSSL builds (trusted issuers first) and the errors found building it."""
    chain = [certs[0]]
    untrusted = list(certs[1:])
    from_store = 0
    while True:
        current = chain[-1]
        if _self_signed(current):
            if any(current == a for a in anchors):
                return chain, []
            if len(chain) == 1:
                return chain, [_DEPTH_ZERO_SELF_SIGNED_CERT]
            return chain, [_SELF_SIGNED_CERT_IN_CHAIN]
        if len(chain) > _MAX_DEPTH:
            return chain, [_CERT_CHAIN_TOO_LONG]
        candidates = [a for a in anchors if a.subject == current.issuer]
        issuer = next((a for a in candidates if _signed_by(current, a)), None)
        if issuer is None and candidates:
            issuer = candidates[0]
        if issuer is not None:
            from_store += 1
        else:
            candidates = [c for c in untrusted if c.subject == current.issuer]
            issuer = next((c for c in candidates if _signed_by(current, c)), None)
            if issuer is None and candidates:
                issuer = candidates[0]
            if issuer is not None:
                untrusted.remove(issuer)
        if issuer is None:
            if from_store:
                error = _UNABLE_TO_GET_ISSUER_CERT
            elif len(chain) == 1:
                error = _UNABLE_TO_VERIFY_LEAF_SIGNATURE
            else:
                error = _UNABLE_TO_GET_ISSUER_CERT_LOCALLY
            return chain, [error]
        chain.append(issuer)


def _diagnose(
    certs: list[Any], anchors: list[Any], now: datetime.datetime, purpose: str
) -> int | None:
    """The last X509_V_ERR_* OpenSSL would record for this chain, or None."""
    from cryptography import x509

    chain, errors = _build_chain(certs, anchors)
    count = len(chain)
    path_length = 0
    for depth, cert in enumerate(chain):
        if depth > 0:
            ca = _check_ca(cert)
            if ca == 0 or (depth + 1 < count and ca != 1):
                errors.append(_INVALID_CA)
        if not _purpose_ok(cert, purpose, depth > 0):
            errors.append(_INVALID_PURPOSE)
        basic = _ext(cert, x509.BasicConstraints)
        limit = basic.path_length if basic is not None else None
        if depth > 1 and limit is not None and path_length > limit:
            errors.append(_PATH_LENGTH_EXCEEDED)
        if depth > 0 and cert.subject != cert.issuer:
            path_length += 1
    # internal_verify: signatures and validity, from the top down.
    top = chain[-1]
    depth = count - 1
    if top.subject != top.issuer:
        if depth == 0:
            errors.append(_UNABLE_TO_VERIFY_LEAF_SIGNATURE)
        else:
            _check_time(top, now, errors)
            depth -= 1
    while depth >= 0:
        cert = chain[depth]
        issuer = chain[depth + 1] if depth + 1 < count else None
        if issuer is not None and not _signed_by(cert, issuer):
            errors.append(_CERT_SIGNATURE_FAILURE)
        _check_time(cert, now, errors)
        depth -= 1
    return errors[-1] if errors else None


def _check_time(cert: Any, now: datetime.datetime, errors: list[int]) -> None:
    if now < cert.not_valid_before_utc:
        errors.append(_CERT_NOT_YET_VALID)
    elif now > cert.not_valid_after_utc:
        errors.append(_CERT_HAS_EXPIRED)


def _cryptography_rejects(
    certs: list[Any], anchors: list[Any], now: datetime.datetime
) -> str | None:
    """``cryptography``'s path validation: None when it accepts the chain, else why not.

    Extensions (CA flags, key usages, purposes) are judged as OpenSSL
    judges them, in :func:`_diagnose`, not by the Web PKI profile, which refuses certificates OpenSSL and Node accept
    (a critical subjectAltName beside a subject, as trustme makes).
    """
    from cryptography import x509
    from cryptography.x509 import verification as v

    if not anchors:
        return "no trusted certificates"
    ca_policy = v.ExtensionPolicy.permit_all().require_present(
        x509.BasicConstraints, v.Criticality.AGNOSTIC, None
    )
    ee_policy = v.ExtensionPolicy.permit_all()
    builder = (
        v.PolicyBuilder()
        .store(v.Store(anchors))
        .time(now)
        .max_chain_depth(_MAX_DEPTH)
        .extension_policies(ca_policy=ca_policy, ee_policy=ee_policy)
    )
    try:
        builder.build_client_verifier().verify(certs[0], certs[1:])
    except v.VerificationError as exc:
        return str(exc)
    return None
