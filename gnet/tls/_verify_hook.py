"""Node's "always continue" verify callback, for the one case Python's ssl cannot do.

A Node server with ``requestCert: true, rejectUnauthorized: false`` asks
for a client certificate, completes the handshake whatever the certificate
is, and reports the verdict in ``authorized``/``authorizationError``.
OpenSSL does that when the verify callback returns 1 (Node's
``VerifyCallback`` always does).  Python's ``ssl`` has no way to set a
verify callback: with ``CERT_OPTIONAL`` a client certificate that fails
verification aborts the handshake.  :func:`continue_on_verify_error`
installs such a callback with ``ctypes`` (``SSL_CTX_set_verify`` from the
libssl that ``_ssl`` is linked against); gnet then verifies the
certificate itself after the handshake (:func:`gnet.tls.verify.verify_peer`).

This reads the ``SSL_CTX *`` of a CPython ``ssl.SSLContext`` (the first
field after the object header, in every CPython since 3.x); it is only
attempted on CPython, and ``ssl.SSLContext.verify_mode`` reading back
what was set is checked before it is relied on.
"""

from __future__ import annotations

import ctypes
import sys
from typing import Any

__all__ = ["continue_on_verify_error"]

_SSL_VERIFY_PEER = 1
_VERIFY_CALLBACK = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_int, ctypes.c_void_p)


def _continue(preverify_ok: int, store_ctx: int) -> int:
    return 1


_always_continue: Any = _VERIFY_CALLBACK(_continue)


_libssl: Any = None


def _load() -> Any:
    global _libssl
    if _libssl is None:
        import _ssl

        lib = ctypes.CDLL(_ssl.__file__)
        lib.SSL_CTX_set_verify.argtypes = [ctypes.c_void_p, ctypes.c_int, _VERIFY_CALLBACK]
        lib.SSL_CTX_set_verify.restype = None
        lib.SSL_CTX_get_verify_mode.argtypes = [ctypes.c_void_p]
        lib.SSL_CTX_get_verify_mode.restype = ctypes.c_int
        _libssl = lib
    return _libssl


def continue_on_verify_error(context: Any) -> bool:
    """Make ``context`` (an ``ssl.SSLContext``) request a peer certificate
    (``CERT_OPTIONAL``) and finish handshakes whatever its verification
    gives.  Returns False, changing nothing, where this is not possible
    (not CPython, or libssl's symbols are not reachable)."""
    import ssl

    if sys.implementation.name != "cpython" or not isinstance(context, ssl.SSLContext):
        return False
    try:
        lib = _load()
    except (OSError, AttributeError):
        return False
    context.verify_mode = ssl.CERT_OPTIONAL
    pointer = ctypes.c_void_p.from_address(id(context) + object.__basicsize__).value
    if not pointer or lib.SSL_CTX_get_verify_mode(pointer) != _SSL_VERIFY_PEER:
        return False
    lib.SSL_CTX_set_verify(pointer, _SSL_VERIFY_PEER, _always_continue)
    return context.verify_mode == ssl.CERT_OPTIONAL
