"""Node's Buffer encodings for a byte stream.

:func:`encoder` turns ``write()``'s strings into bytes and :func:`decoder`
turns received bytes into text incrementally, so a character split between
two reads is never corrupted (Node's ``StringDecoder``).  Names are Node's,
case-insensitive: utf8/utf-8, ascii, latin1/binary, base64, base64url, hex,
ucs2/utf16le; anything else is ``ERR_UNKNOWN_ENCODING``.
"""

from __future__ import annotations

import base64
import codecs
import re
from collections.abc import Callable
from typing import Any

from .errors import make_error

__all__ = ["normalize_encoding", "encoder", "decoder"]

# Node's encoding names (case-insensitive) -> gnet's canonical name.
_ENCODINGS = {
    "": "utf8",  # Node: Buffer.from(s, '') and write(s, '') are utf8
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


_NOT_BASE64 = re.compile("[^A-Za-z0-9+/]")
_URL_SAFE = str.maketrans("-_", "+/")


def _b64(text: str) -> bytes:
    # Node's decoder takes both alphabets, skips every other character
    # (whitespace, '*', ...), stops at the first '=' and drops a last lone
    # character (6 bits make no byte).
    cleaned = _NOT_BASE64.sub("", text.partition("=")[0].translate(_URL_SAFE))
    if len(cleaned) % 4 == 1:
        cleaned = cleaned[:-1]
    return base64.b64decode(cleaned + "=" * (-len(cleaned) % 4))


def _utf8(text: str) -> bytes:
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError:
        # A lone surrogate: Node writes U+FFFD for it (a JavaScript string is
        # UTF-16), and a pair of them as the character they make.
        utf16 = text.encode("utf-16-le", "surrogatepass")
        return utf16.decode("utf-16-le", "replace").encode("utf-8")


_ENCODERS: dict[str, Callable[[str], bytes]] = {
    "utf8": _utf8,
    "ascii": _latin1,
    "latin1": _latin1,
    "hex": _hex,
    "base64": _b64,
    "base64url": _b64,
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


class _Utf16Decoder:
    """Node's StringDecoder for utf16le: code units as they are (a lone
    surrogate is kept, as a JavaScript string keeps it), a pair split between
    reads held back until its second half comes, an odd last byte dropped."""

    __slots__ = ("_rest",)

    def __init__(self) -> None:
        self._rest = b""

    def __call__(self, data: bytes, final: bool = False) -> str:
        data = self._rest + data
        cut = len(data) - len(data) % 2
        if not final and cut >= 2 and 0xD8 <= data[cut - 1] <= 0xDB:
            cut -= 2  # a high surrogate: its low half may be in the next read
        self._rest = b"" if final else data[cut:]
        return data[:cut].decode("utf-16-le", "surrogatepass")


_ASCII = bytes(range(128)) * 2


def decoder(encoding: str) -> Callable[..., str]:
    """An incremental ``decode(data, final=False) -> str`` for ``set_encoding``."""
    name = normalize_encoding(encoding)
    if name == "utf8":
        return codecs.getincrementaldecoder("utf-8")("replace").decode
    if name == "utf16le":
        return _Utf16Decoder()
    if name == "latin1":
        return lambda data, final=False: data.decode("latin-1")
    if name == "ascii":  # Node clears the high bit
        return lambda data, final=False: data.translate(_ASCII).decode("ascii")
    if name == "hex":
        return lambda data, final=False: data.hex()
    return _Base64Decoder(url=name == "base64url")
