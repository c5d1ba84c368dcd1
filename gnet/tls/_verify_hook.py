"""Node's "always continue" verify callback, which Python's ssl cannot set.

Node completes every handshake whatever the peer's certificate is (its
``VerifyCallback`` returns 1), then reads OpenSSL's verdict
(``SSL_get_verify_result``: the last error OpenSSL found) and rejects the
connection itself when ``rejectUnauthorized`` says so.  Python's ``ssl``
has no way to set a verify callback: with ``CERT_OPTIONAL``/``CERT_REQUIRED``
the first error aborts the handshake, so

* a server with ``requestCert`` and ``rejectUnauthorized: false`` cannot
  complete a handshake with a client whose certificate fails, and
* the code of a rejected certificate is OpenSSL's *first* error, where Node
  reports the last (a lone leaf from an unknown issuer is
  ``UNABLE_TO_GET_ISSUER_CERT_LOCALLY`` to Python,
  ``UNABLE_TO_VERIFY_LEAF_SIGNATURE`` to Node).

:func:`continue_on_verify_error` installs Node's callback with ``ctypes``
(``SSL_CTX_set_verify`` of the libssl ``_ssl`` is linked against); it also
records, per ``SSLObject``, the last error OpenSSL reported, which
:func:`verify_result` returns after the handshake: Node's ``verifyError``,
from OpenSSL itself, with the whole chain the peer sent on every Python.

This reads the ``SSL_CTX *`` of a CPython ``ssl.SSLContext`` (the first
field after the object header in every CPython 3) and relies on CPython's
``_ssl`` keeping its socket object as the ``SSL``'s app data; it is only
attempted on CPython, and :func:`continue_on_verify_error` reports False
where it cannot be done.
"""

from __future__ import annotations

import ctypes
import sys
import weakref
from typing import Any

__all__ = ["continue_on_verify_error", "verify_result", "is_continuing"]

_SSL_VERIFY_PEER = 1
_SSL_VERIFY_FAIL_IF_NO_PEER_CERT = 2
_VERIFY_CALLBACK = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_int, ctypes.c_void_p)

# SSLObject -> the last X509_V_ERR_* OpenSSL reported in its handshake (0: none).
_results: weakref.WeakKeyDictionary[Any, int] = weakref.WeakKeyDictionary()
# The SSLContexts the callback is installed on.
_contexts: weakref.WeakSet[Any] = weakref.WeakSet()
_libssl: Any = None


def _owner(store_ctx: int) -> Any:
    """The ssl.SSLObject whose handshake is verifying, from OpenSSL's store context."""
    lib = _libssl
    ssl_ptr = lib.X509_STORE_CTX_get_ex_data(store_ctx, lib.SSL_get_ex_data_X509_STORE_CTX_idx())
    socket_ptr = lib.SSL_get_ex_data(ssl_ptr, 0)  # CPython's _ssl._SSLSocket
    if not socket_ptr:
        return None
    return ctypes.cast(socket_ptr, ctypes.py_object).value.owner


def _continue(preverify_ok: int, store_ctx: int) -> int:
    try:
        owner = _owner(store_ctx)
        if owner is not None:
            if preverify_ok:
                _results.setdefault(owner, 0)
            else:
                _results[owner] = _libssl.X509_STORE_CTX_get_error(store_ctx)
    except Exception:  # never let an exception cross into OpenSSL
        pass
    return 1


_always_continue: Any = _VERIFY_CALLBACK(_continue)


def _load() -> Any:
    global _libssl
    if _libssl is None:
        import _ssl

        lib = ctypes.CDLL(_ssl.__file__)
        lib.SSL_CTX_set_verify.argtypes = [ctypes.c_void_p, ctypes.c_int, _VERIFY_CALLBACK]
        lib.SSL_CTX_set_verify.restype = None
        lib.SSL_CTX_get_verify_mode.argtypes = [ctypes.c_void_p]
        lib.SSL_CTX_get_verify_mode.restype = ctypes.c_int
        lib.X509_STORE_CTX_get_ex_data.argtypes = [ctypes.c_void_p, ctypes.c_int]
        lib.X509_STORE_CTX_get_ex_data.restype = ctypes.c_void_p
        lib.SSL_get_ex_data_X509_STORE_CTX_idx.argtypes = []
        lib.SSL_get_ex_data_X509_STORE_CTX_idx.restype = ctypes.c_int
        lib.SSL_get_ex_data.argtypes = [ctypes.c_void_p, ctypes.c_int]
        lib.SSL_get_ex_data.restype = ctypes.c_void_p
        lib.X509_STORE_CTX_get_error.argtypes = [ctypes.c_void_p]
        lib.X509_STORE_CTX_get_error.restype = ctypes.c_int
        _libssl = lib
    return _libssl


def continue_on_verify_error(context: Any, require_certificate: bool = False) -> bool:
    """Make ``context`` (an ``ssl.SSLContext``) verify the peer's certificate
    (a server asks for one) and finish handshakes whatever the verification
    finds, recording the verdict for :func:`verify_result`.

    ``require_certificate``: a server fails the handshake when the client
    sends no certificate at all (OpenSSL's ``SSL_VERIFY_FAIL_IF_NO_PEER_CERT``,
    which Node sets with ``rejectUnauthorized``).  Returns False, changing
    nothing, where this is not possible (not CPython, or libssl's symbols
    are not reachable).
    """
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
    mode = _SSL_VERIFY_PEER | (_SSL_VERIFY_FAIL_IF_NO_PEER_CERT if require_certificate else 0)
    lib.SSL_CTX_set_verify(pointer, mode, _always_continue)
    expected = ssl.CERT_REQUIRED if require_certificate else ssl.CERT_OPTIONAL
    if context.verify_mode != expected:
        return False
    _contexts.add(context)
    return True


def is_continuing(context: Any) -> bool:
    """Whether :func:`continue_on_verify_error` is in effect on ``context``."""
    return context in _contexts


def verify_result(sslobj: Any) -> int | None:
    """OpenSSL's verdict on the peer of ``sslobj`` (made from a context given
    to :func:`continue_on_verify_error`), after its handshake: 0 when the
    chain verified, the last ``X509_V_ERR_*`` OpenSSL found otherwise, None
    when nothing was verified (the peer sent no certificate)."""
    return _results.get(sslobj)
