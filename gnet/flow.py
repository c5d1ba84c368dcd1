"""Stream flow: encodings, the read buffer, and ``pipe()``.

The parts of Node's ``stream`` module that a socket needs, without the
stream machinery itself (which lives in :mod:`gnet.socket`):

* Node's Buffer encodings: :func:`encoder` turns ``write()``'s strings into
  bytes, :func:`decoder` turns received bytes into text incrementally, so a
  character split between two reads is never corrupted (Node's
  ``StringDecoder``).
* :class:`ReadBuffer`: what has been received but not yet consumed, as a
  queue of chunks; a separator search resumes where the last one stopped,
  so a long line costs O(n) however many reads it arrives in.
* :class:`Pipe`: ``src.pipe(dest)`` with backpressure (pause on a ``False``
  write, resume on ``'drain'``).
"""

from __future__ import annotations

import base64
import binascii
import codecs
from collections import deque
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol

from .errors import make_error

if TYPE_CHECKING:
    from .emitter import EventEmitter

__all__ = ["normalize_encoding", "encoder", "decoder", "ReadBuffer", "Pipe"]

Chunk = bytes | str

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


class ReadBuffer:
    """Received, not yet consumed data: a queue of chunks (all bytes or all str).

    :meth:`find` remembers how far it has searched, so repeated searches for
    a separator while data trickles in never rescan.
    """

    __slots__ = ("_chunks", "length", "_scanned", "empty")

    def __init__(self) -> None:
        # Made on the first push: an empty deque is 760 bytes, and most
        # sockets never buffer anything (a flowing socket emits each chunk
        # as it is read).
        self._chunks: deque[Chunk] | None = None
        self.length = 0
        self._scanned = 0  # units from the front known not to start a match
        self.empty: Chunk = b""  # what an empty take() returns

    def __len__(self) -> int:
        return self.length

    def __bool__(self) -> bool:
        return self.length > 0

    def push(self, chunk: Chunk) -> None:
        if self._chunks is None:
            self._chunks = deque()
        self._chunks.append(chunk)
        self.length += len(chunk)

    def unshift(self, chunk: Chunk) -> None:
        """Put ``chunk`` back at the front (it was taken but not used)."""
        if chunk:
            if self._chunks is None:
                self._chunks = deque()
            self._chunks.appendleft(chunk)
            self.length += len(chunk)
            self._scanned = 0

    def popleft(self) -> Chunk:
        """The oldest chunk, whole."""
        chunk = self._chunks.popleft()  # type: ignore[union-attr]
        self.length -= len(chunk)
        self._scanned = max(0, self._scanned - len(chunk))
        return bytes(chunk) if isinstance(chunk, bytearray) else chunk

    def take(self, n: int | None = None) -> Chunk:
        """Up to ``n`` units (all of it when ``n`` is None), joined."""
        chunks = self._chunks
        if not chunks:
            return self.empty
        if n is None or n >= self.length:
            if len(chunks) == 1:
                out = chunks.pop()
                if isinstance(out, bytearray):
                    out = bytes(out)
            else:
                out = chunks[0][:0].join(chunks)  # type: ignore[arg-type]
                chunks.clear()
            self.length = 0
            self._scanned = 0
            return out
        parts: list[Any] = []
        need = n
        while need:
            chunk = chunks[0]
            if len(chunk) <= need:
                parts.append(chunks.popleft())
                need -= len(chunk)
            elif isinstance(chunk, bytearray):
                parts.append(bytes(chunk[:need]))
                del chunk[:need]  # cheap at the front of a bytearray: no copy of the rest
                need = 0
            else:
                parts.append(chunk[:need])
                chunks[0] = chunk[need:]
                need = 0
        self.length -= n
        self._scanned = max(0, self._scanned - n)
        out = parts[0] if len(parts) == 1 else parts[0][:0].join(parts)
        return bytes(out) if isinstance(out, bytearray) else out

    def find(self, sep: Chunk, limit: int | None = None) -> int:
        """Index just past the first ``sep``, or -1; searches only new data.

        With ``limit``, the search stops once ``limit`` units have been
        scanned without a match.
        """
        chunks = self._chunks
        if chunks is None:
            return -1
        if len(chunks) > 1:
            # Searching needs one contiguous chunk.  Bytes accumulate in a
            # bytearray (amortised O(1) per byte), so a long line arriving in
            # many reads is never copied again and again.
            first = chunks.popleft()
            if isinstance(first, str):
                chunks.appendleft(first + "".join(chunks))  # type: ignore[arg-type]
                while len(chunks) > 1:
                    chunks.pop()
            else:
                acc = first if isinstance(first, bytearray) else bytearray(first)
                while chunks:
                    acc += chunks.popleft()  # type: ignore[arg-type]
                chunks.append(acc)  # type: ignore[arg-type]
        if not chunks:
            return -1
        data = chunks[0]
        end = self.length if limit is None else min(self.length, limit + len(sep))
        idx = data.find(sep, self._scanned, end)  # type: ignore[arg-type]
        if idx < 0:
            self._scanned = max(self._scanned, end - len(sep) + 1)
            return -1
        return idx + len(sep)


class _Writable(Protocol):
    def write(self, chunk: Any) -> bool: ...
    def end(self) -> Any: ...


class Pipe:
    """One ``src.pipe(dest)``: forwards ``'data'`` with backpressure.

    Node's rules: ``dest.write()`` returning ``False`` pauses ``src`` until
    ``dest`` emits ``'drain'``; ``src``'s ``'end'`` ends ``dest`` (unless
    ``end=False``); an ``'error'`` or ``'close'`` of ``dest`` unpipes.
    """

    __slots__ = ("src", "dest", "end", "_waiting_drain", "_drain_listener")

    def __init__(self, src: EventEmitter, dest: EventEmitter, end: bool) -> None:
        self.src = src
        self.dest = dest
        self.end = end
        self._waiting_drain = False
        self._drain_listener = False  # added on the first False write, as Node does
        src.on("data", self.on_data)
        src.on("end", self.on_end)
        dest.on("error", self.on_dest_gone)
        dest.on("close", self.on_dest_gone)

    def on_data(self, chunk: Chunk) -> None:
        if self.dest.write(chunk) is False and not self._waiting_drain:  # type: ignore[attr-defined]
            self._waiting_drain = True
            if not self._drain_listener:
                self._drain_listener = True
                self.dest.on("drain", self.on_drain)
            self.src.pause()  # type: ignore[attr-defined]

    def on_drain(self) -> None:
        if self._waiting_drain:
            self._waiting_drain = False
            self.src.resume()  # type: ignore[attr-defined]

    def on_end(self) -> None:
        if self.end:
            self.dest.end()  # type: ignore[attr-defined]
        self.src.unpipe(self.dest)  # type: ignore[attr-defined]

    def on_dest_gone(self, *args: Any) -> None:
        self.src.unpipe(self.dest)  # type: ignore[attr-defined]

    def detach(self) -> None:
        self.src.remove_listener("data", self.on_data)
        self.src.remove_listener("end", self.on_end)
        if self._drain_listener:
            self.dest.remove_listener("drain", self.on_drain)
        self.dest.remove_listener("error", self.on_dest_gone)
        self.dest.remove_listener("close", self.on_dest_gone)
