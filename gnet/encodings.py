"""Node's Buffer encodings for a byte stream.

:func:`encoder` turns ``write()``'s strings into bytes and :func:`decoder`
turns received bytes into text incrementally, so a character split between
two reads is never corrupted (Node's ``StringDecoder``).  Names are Node's,
case-insensitive: utf8/utf-8, ascii, latin1/binary, base64, base64url, hex,
ucs2/utf16le; anything else is ``ERR_UNKNOWN_ENCODING``.
"""

from __future__ import annotations

import base64
import binascii
import codecs
from collections.abc import Callable
from typing import Any

from .errors import make_error

__all__ = ["normalize_encoding", "encoder", "decoder"]

# Node's encoding names (case-insensitive) -> gnet's canonical name.
_ENCODINGS = {
    "utf8": "utf8",
    "utf-8": "utf8",
    "ascii": "ascii",
    "latin1": "latin1",
    "binary": "latin1",
    "base64": "base64",
    "base64url": "base64url",
    "hex": "hex",
    "ucs2": "utf16le",
    "ucs-2": "utf16le",
    "utf16le": "utf16le",
    "utf-16le": "utf16le",
}


def normalize_encoding(encoding: Any) -> str:
    """Node's name for ``encoding``, or ``ERR_UNKNOWN_ENCODING``."""
    name = _ENCODINGS.get(str(encoding).lower()) if isinstance(encoding, str) else None
    if name is None:
        raise make_error("ERR_UNKNOWN_ENCODING", encoding)
    return name


def _latin1(text: str) -> bytes:
    try:
        return text.encode("latin-1")
    except UnicodeEncodeError:  # Node keeps the low byte of each code unit
        return bytes(ord(c) & 0xFF for c in text)


def _hex(text: str) -> bytes:
    # Node decodes up to the first invalid pair and drops the rest.
    out = bytearray()
    for i in range(0, len(text) - 1, 2):
        try:
            out.append(int(text[i : i + 2], 16))
        except ValueError:
            break
    return bytes(out)


def _b64(text: str, url: bool) -> bytes:
    cleaned = "".join(text.split()).rstrip("=")
    cleaned = cleaned.replace("-", "+").replace("_", "/") if url or "-" in cleaned else cleaned
    try:
        return base64.b64decode(cleaned + "=" * (-len(cleaned) % 4))
    except (binascii.Error, ValueError):
        return base64.b64decode(cleaned[: len(cleaned) // 4 * 4] or b"")


_ENCODERS: dict[str, Callable[[str], bytes]] = {
    "utf8": lambda s: s.encode("utf-8", "surrogatepass"),
    "ascii": _latin1,
    "latin1": _latin1,
    "hex": _hex,
    "base64": lambda s: _b64(s, False),
    "base64url": lambda s: _b64(s, True),
    "utf16le": lambda s: s.encode("utf-16-le", "surrogatepass"),
}


def encoder(encoding: str | None) -> Callable[[str], bytes]:
    """``str -> bytes`` for ``write(data, encoding)``; ``None`` means utf8."""
    return _ENCODERS[normalize_encoding(encoding) if encoding is not None else "utf8"]


class _Base64Decoder:
    """Node's StringDecoder for base64: only whole 3-byte groups are emitted."""

    __slots__ = ("_rest", "_url")

    def __init__(self, url: bool) -> None:
        self._rest = b""
        self._url = url

    def __call__(self, data: bytes, final: bool = False) -> str:
        data = self._rest + data
        cut = len(data) if final else len(data) - len(data) % 3
        self._rest = data[cut:]
        if self._url:
            return base64.urlsafe_b64encode(data[:cut]).decode("ascii").rstrip("=")
        return base64.b64encode(data[:cut]).decode("ascii")


_ASCII = bytes(range(128)) * 2


def decoder(encoding: str) -> Callable[..., str]:
    """An incremental ``decode(data, final=False) -> str`` for ``set_encoding``."""
    name = normalize_encoding(encoding)
    if name == "utf8":
        return codecs.getincrementaldecoder("utf-8")("replace").decode
    if name == "utf16le":
        return codecs.getincrementaldecoder("utf-16-le")("replace").decode
    if name == "latin1":
        return lambda data, final=False: data.decode("latin-1")
    if name == "ascii":  # Node clears the high bit
        return lambda data, final=False: data.translate(_ASCII).decode("ascii")
    if name == "hex":
        return lambda data, final=False: data.hex()
    return _Base64Decoder(url=name == "base64url")
