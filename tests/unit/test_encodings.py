"""Node's Buffer encodings as gnet applies them (pure, no sockets).

``normalize_encoding`` (Node's encoding names), ``encoder`` (what
``write(str, encoding)`` sends) and ``decoder`` (what ``set_encoding`` turns
received bytes into, incrementally, as Node's ``StringDecoder`` does: a
character split between two reads is held back, never corrupted).

The expected values of the odd cases were produced by Node v20.20 with
``node -e``: ``Buffer.from(str, enc).toString('hex')`` for the encoder and
``new StringDecoder(enc)``'s ``write(piece)`` for each piece, then
``end()``, for the decoder; each table says so.
"""

from __future__ import annotations

import base64
from itertools import pairwise

import pytest
from hypothesis import given
from hypothesis import strategies as st

# The one import of the module under test (issue 11 moves the encodings to their own module).
from gnet.encodings import decoder, encoder, normalize_encoding
from support import raises_code

# ----------------------------------------------------------------------
# names


@pytest.mark.parametrize(
    ("name", "canonical"),
    [
        ("utf8", "utf8"),
        ("UTF8", "utf8"),
        ("Utf-8", "utf8"),
        ("ascii", "ascii"),
        ("latin1", "latin1"),
        ("binary", "latin1"),
        ("base64", "base64"),
        ("BASE64URL", "base64url"),
        ("hex", "hex"),
        ("ucs2", "utf16le"),
        ("UCS-2", "utf16le"),
        ("utf16le", "utf16le"),
        ("utf-16le", "utf16le"),
    ],
)
def test_node_encoding_names_in_any_case(name: str, canonical: str) -> None:
    # Node v20: new StringDecoder(name).encoding
    assert normalize_encoding(name) == canonical


@pytest.mark.parametrize("name", ["utf16", "utf-16", "latin-1", "foo", 5, None])
def test_unknown_encoding(name: object) -> None:
    # Node v20: new StringDecoder('utf16') and Buffer.from('x', 'utf16') throw
    # TypeError [ERR_UNKNOWN_ENCODING]: Unknown encoding: utf16 (also for 5).
    err = raises_code(TypeError, "ERR_UNKNOWN_ENCODING", lambda: normalize_encoding(name))
    assert str(err) == f"Unknown encoding: {name}"
    raises_code(TypeError, "ERR_UNKNOWN_ENCODING", lambda: decoder(name))  # type: ignore[arg-type]


def test_encoder_default_is_utf8() -> None:
    assert encoder(None)("é€") == "é€".encode()


def test_encoder_empty_name_is_utf8() -> None:
    # Node v20 treats an empty encoding as utf8 (Buffer.from('é', '') and
    # socket.write('é', '') send c3a9).
    assert encoder("")("é") == b"\xc3\xa9"


# ----------------------------------------------------------------------
# encoder: write(str, encoding)

# (encoding, str, what Node v20's Buffer.from(str, encoding) holds, as hex)
ENCODED = [
    ("utf8", "\U0001f600", "f09f9880"),
    ("utf16le", "Aé€", "4100e900ac20"),
    ("utf16le", "\ud800", "00d8"),  # a lone surrogate is kept as its code unit
    ("latin1", "é€", "e9ac"),  # the low byte of each code unit
    ("latin1", "\u0100\u01ff", "00ff"),
    ("binary", "\u20ac", "ac"),
    ("ascii", "é€", "e9ac"),  # Node's ascii writes as latin1 does
    ("hex", "ABcd", "abcd"),
    ("hex", "abc", "ab"),  # an odd last digit is dropped
    ("hex", "abzz12", "ab"),  # decoding stops at the first invalid pair
    ("hex", "0g12", ""),
    ("hex", "a", ""),
    ("hex", "", ""),
    ("base64", "aGk=", "6869"),
    ("base64", "aGk", "6869"),  # padding is optional
    ("base64", "aG k=\n", "6869"),  # whitespace is skipped
    ("base64", "!!aGk", "6869"),  # so are characters outside the alphabet
    ("base64", "aGk=aGk=", "6869"),  # decoding stops at the padding
    ("base64", "a-_-", "6beffe"),  # base64 accepts the url-safe alphabet too
    ("base64", "aG", "68"),
    ("base64", "a", ""),
    ("base64url", "a+/+", "6beffe"),  # and base64url the standard one
    ("base64url", "aGkx", "686931"),
    ("base64url", "aGk=", "6869"),
]


@pytest.mark.parametrize(("encoding", "text", "hex_"), ENCODED)
def test_encoder_matches_node(encoding: str, text: str, hex_: str) -> None:
    assert encoder(encoding)(text).hex() == hex_


@pytest.mark.parametrize(
    ("encoding", "text", "hex_"),
    [
        # A lone surrogate is written as U+FFFD (EF BF BD), high or low.
        ("utf8", "\ud800", "efbfbd"),
        ("utf8", "a\udc00b", "61efbfbd62"),
        # A pair of surrogates in a Python str is the character they make.
        ("utf8", "\ud83d\ude00", "f09f9880"),
        # The url-safe '_' without a '-' (Node v20 decodes '__8' as ffff).
        ("base64", "__8", "ffff"),
        # An invalid character in the last group is skipped.
        ("base64", "aGk*", "6869"),
        ("base64url", "aGk*", "6869"),
    ],
)
def test_encoder_odd_cases_against_node(encoding: str, text: str, hex_: str) -> None:
    assert encoder(encoding)(text).hex() == hex_


# ----------------------------------------------------------------------
# decoder: set_encoding


def _decode(encoding: str, pieces: list[bytes]) -> list[str]:
    """What each read gives, then what the end of the stream gives (Node's write()s, end())."""
    decode = decoder(encoding)
    return [decode(piece) for piece in pieces] + [decode(b"", True)]


# (encoding, the reads as hex, what Node v20's StringDecoder gives for each, then end())
DECODED = [
    ("utf8", ["e2", "82", "ac"], ["", "", "€", ""]),  # a character split three ways
    ("utf8", ["f09f", "9880"], ["", "\U0001f600", ""]),
    ("utf8", ["e282"], ["", "\ufffd"]),  # cut short by the end: one U+FFFD
    ("utf8", ["ff", "fe41"], ["\ufffd", "\ufffdA", ""]),
    ("utf8", ["f09f98", "41"], ["", "\ufffdA", ""]),
    ("utf8", ["c3"], ["", "\ufffd"]),
    ("utf8", ["eda080"], ["\ufffd\ufffd\ufffd", ""]),  # an encoded surrogate: three
    ("utf16le", ["41", "00", "3dd8", "00de"], ["", "A", "", "\U0001f600", ""]),
    ("base64", ["68", "69", "21", "21"], ["", "", "aGkh", "", "IQ=="]),  # whole groups only
    ("base64", ["6869"], ["", "aGk="]),
    ("base64", ["fbff"], ["", "+/8="]),
    ("base64url", ["fbff", "bf"], ["", "-_-_", ""]),
    ("base64url", ["fb"], ["", "-w"]),  # no padding
    ("hex", ["00ff", "ab"], ["00ff", "ab", ""]),
    ("latin1", ["e9ff"], ["éÿ", ""]),
    ("binary", ["80"], ["\x80", ""]),
    ("ascii", ["e941ff"], ["iA\x7f", ""]),  # Node's ascii clears the high bit
]


@pytest.mark.parametrize(("encoding", "pieces", "expected"), DECODED)
def test_decoder_matches_node(encoding: str, pieces: list[str], expected: list[str]) -> None:
    assert _decode(encoding, [bytes.fromhex(p) for p in pieces]) == expected


@pytest.mark.parametrize(
    ("pieces", "expected"),
    [
        (["410042"], ["A", ""]),  # an odd last byte is dropped at the end
        (["3dd8"], ["", "\ud83d"]),  # a lone high surrogate is kept
        (["3dd8", "4100"], ["", "\ud83dA", ""]),
        (["00dc41"], ["\udc00", ""]),  # a lone low surrogate is kept; the odd byte dropped
    ],
)
def test_decoder_truncated_utf16le_against_node(pieces: list[str], expected: list[str]) -> None:
    assert _decode("utf16le", [bytes.fromhex(p) for p in pieces]) == expected


# ----------------------------------------------------------------------
# properties: however the bytes are split between reads


@st.composite
def split_bytes(draw: st.DrawFn, data: bytes) -> list[bytes]:
    cuts = sorted(draw(st.lists(st.integers(0, len(data)), max_size=10)))
    bounds = [0, *cuts, len(data)]
    return [data[a:b] for a, b in pairwise(bounds)]


@given(st.data(), st.text(max_size=60))
def test_property_utf8_any_split(data: st.DataObject, text: str) -> None:
    pieces = data.draw(split_bytes(text.encode()))
    assert "".join(_decode("utf8", pieces)) == text


@given(st.data(), st.text(max_size=60))
def test_property_utf16le_any_split(data: st.DataObject, text: str) -> None:
    pieces = data.draw(split_bytes(text.encode("utf-16-le")))
    assert "".join(_decode("utf16le", pieces)) == text


@given(st.data(), st.binary(max_size=60))
def test_property_base64_any_split(data: st.DataObject, raw: bytes) -> None:
    pieces = data.draw(split_bytes(raw))
    out = _decode("base64", pieces)
    assert "".join(out) == base64.b64encode(raw).decode()
    assert all(len(chunk) % 4 == 0 for chunk in out[:-1])  # whole groups until the end
    url = _decode("base64url", pieces)
    assert "".join(url) == base64.urlsafe_b64encode(raw).decode().rstrip("=")


@given(st.data(), st.binary(max_size=60))
def test_property_byte_per_character_encodings_any_split(data: st.DataObject, raw: bytes) -> None:
    pieces = data.draw(split_bytes(raw))
    assert "".join(_decode("hex", pieces)) == raw.hex()
    assert "".join(_decode("latin1", pieces)) == raw.decode("latin-1")
    assert "".join(_decode("ascii", pieces)) == bytes(b & 0x7F for b in raw).decode("ascii")


@given(st.text(max_size=60))
def test_property_encode_then_decode(text: str) -> None:
    for encoding in ("utf8", "utf16le"):
        assert "".join(_decode(encoding, [encoder(encoding)(text)])) == text
    raw = text.encode()
    assert encoder("hex")(raw.hex()) == raw
    assert encoder("base64")(base64.b64encode(raw).decode()) == raw
    assert encoder("base64url")(base64.urlsafe_b64encode(raw).decode().rstrip("=")) == raw
    latin = bytes(ord(c) & 0xFF for c in text)
    assert encoder("latin1")(latin.decode("latin-1")) == latin
