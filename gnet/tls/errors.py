"""Python's ``ssl`` exceptions in Node's shape, and OpenSSL's verify codes.

:func:`from_ssl_error` is the one translation of an exception from Python's
``ssl`` (a rejected certificate, an OpenSSL error, the peer vanishing
mid-handshake) into the error Node would give, with Node's ``code``,
``reason`` and ``library``; :data:`X509_VERIFY_CODES` and
:func:`verify_error` name OpenSSL's certificate verification results as
Node does.  The classes and the table of codes are in :mod:`gnet.errors`.
"""

from __future__ import annotations

from ..errors import (
    NodeError,
    NodeSystemError,
    TLSCertificateError,
    TLSError,
    from_oserror,
    system_error,
)

__all__ = ["X509_VERIFY_CODES", "from_ssl_error", "tls_disconnect_error", "verify_error"]


def _ossl_line(packed: int, library: str, reason: str) -> str:
    """OpenSSL 3's error line as Node shows it: ``error:0A00010B:SSL routines::wrong version number``."""
    return f"error:{packed:08X}:{library}::{reason}"


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
    err.errno = exc.errno
    return err
