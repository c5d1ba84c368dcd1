"""Node's certificate object, built from DER.

:func:`certificate_from_der` gives what Node's
``tlsSocket.getPeerCertificate()`` / ``getCertificate()`` return for one
certificate, and :func:`peer_certificate` the ``detailed`` form with its
``issuerCertificate`` chain.  A :class:`Certificate` is a ``dict`` with
Node's keys (``subject``, ``issuer``, ``subjectaltname``, ``infoAccess``,
``ca``, the key's ``modulus``/``bits``/``exponent``/``pubkey`` or
``bits``/``pubkey``/``asn1Curve``/``nistCurve``, ``valid_from``,
``valid_to``, ``fingerprint``, ``fingerprint256``, ``fingerprint512``,
``ext_key_usage``, ``serialNumber``, ``raw``, ``issuerCertificate``) in
Node's order and format; ``pubkey`` and ``raw`` are ``bytes``.  Its keys
are also attributes, each also under its snake_case name
(``cert.serial_number``).

The fields are read by ``cryptography`` when it is installed and by a small
standard-library DER reader otherwise (:mod:`gnet.tls._x509`); both give
the same object for the certificates the tests cover.
"""

from __future__ import annotations

import datetime
import hashlib
import socket
from collections.abc import Callable, Sequence
from typing import Any

from ._x509 import (
    ACCESS_METHODS,
    CURVES,
    Fields,
    GeneralName,
    NameEntries,
    have_cryptography,
    read_der,
    read_with_cryptography,
)

__all__ = ["Certificate", "certificate_from_der", "peer_certificate", "read_fields"]

_SNAKE_KEYS = {
    "serial_number": "serialNumber",
    "issuer_certificate": "issuerCertificate",
    "info_access": "infoAccess",
    "asn1_curve": "asn1Curve",
    "nist_curve": "nistCurve",
}


class Certificate(dict[str, Any]):
    """Node's certificate object: a dict with Node's keys, also readable as attributes.

    ``cert['serialNumber']``, ``cert.serialNumber`` and ``cert.serial_number``
    are the same value; an absent optional field (``subjectaltname``,
    ``infoAccess``, ``ext_key_usage``, ``issuerCertificate``) is a missing
    key, as it is undefined in Node.  ``issuerCertificate`` of a
    self-signed root is the root itself, as in Node.
    """

    def __getattr__(self, name: str) -> Any:
        try:
            return self[_SNAKE_KEYS.get(name, name)]
        except KeyError:
            raise AttributeError(name) from None

    def __repr__(self) -> str:
        subject = self.get("subject")
        return f"<Certificate subject={subject!r} serialNumber={self.get('serialNumber')!r}>"


def read_fields(der: bytes, *, use_cryptography: bool | None = None) -> Fields:
    """The certificate's fields; ``use_cryptography=None`` uses it when installed."""
    if use_cryptography is None:
        use_cryptography = have_cryptography()
    if use_cryptography:
        return read_with_cryptography(der)
    return read_der(der)


# --------------------------------------------------------------------------
# Node's formats


def _name_object(entries: NameEntries) -> dict[str, Any]:
    """Node's subject/issuer object: repeated keys collect into a list."""
    out: dict[str, Any] = {}
    for key, value in entries:
        if key not in out:
            out[key] = value
        elif isinstance(out[key], list):
            out[key].append(value)
        else:
            out[key] = [out[key], value]
    return out


_MONTHS = "Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec".split()


def node_date(moment: datetime.datetime) -> str:
    """OpenSSL's ASN1_TIME_print, as Node shows ``valid_from``: ``Jan  1 00:00:00 2030 GMT``."""
    moment = moment.astimezone(datetime.timezone.utc)
    return (
        f"{_MONTHS[moment.month - 1]} {moment.day:2d} "
        f"{moment.hour:02d}:{moment.minute:02d}:{moment.second:02d} {moment.year} GMT"
    )


def _colon_hex(digest: bytes) -> str:
    return ":".join(f"{b:02X}" for b in digest)


def _serial_hex(serial: int) -> str:
    """OpenSSL's BN_bn2hex: upper-case, two digits per byte."""
    if serial == 0:
        return "0"
    sign = "-" if serial < 0 else ""
    magnitude = abs(serial)
    return sign + magnitude.to_bytes((magnitude.bit_length() + 7) // 8, "big").hex().upper()


def _safe(text: str, utf8: bool) -> bool:
    """Node's IsSafeAltName: may the value be printed without quoting?"""
    for ch in text:
        if ch in "\"\\,'":
            return False
        code = ord(ch)
        if utf8:
            if code < 0x20 or code == 0x7F:
                return False
        elif code < 0x20 or code > 0x7E:
            return False
    return True


def _alt_value(text: str, utf8: bool) -> str:
    """Node's PrintAltName: the value as is, or JSON-quoted with commas escaped."""
    if _safe(text, utf8):
        return text
    out = ['"']
    data = text.encode("utf-8") if utf8 else text.encode("latin-1", "replace")
    for byte in data:
        ch = chr(byte)
        if ch == "\\":
            out.append("\\\\")
        elif ch == '"':
            out.append('\\"')
        elif (0x20 <= byte <= 0x7E and ch != ",") or (utf8 and byte & 0x80):
            out.append(ch)
        else:
            out.append(f"\\u00{byte:02x}")
    out.append('"')
    quoted = "".join(out)
    # UTF-8 bytes were copied one by one above; put the text back together.
    return quoted.encode("latin-1").decode("utf-8", "replace") if utf8 else quoted


_RFC2253_SPECIAL = set(',+"\\<>;')


def _rfc2253(entries: NameEntries) -> str:
    """X509_NAME_print_ex with Node's RFC 2253 flags: last RDN first, ``,``-separated."""
    parts = []
    for key, value in reversed(entries):
        escaped = "".join("\\" + ch if ch in _RFC2253_SPECIAL else ch for ch in value)
        if escaped.startswith(("#", " ")):
            escaped = "\\" + escaped
        if escaped.endswith(" ") and not escaped.endswith("\\ "):
            escaped = escaped[:-1] + "\\ "
        parts.append(f"{key}={escaped}")
    return ",".join(parts)


def _ip_text(raw: bytes) -> str:
    if len(raw) == 4:
        return socket.inet_ntop(socket.AF_INET, raw)
    if len(raw) == 16:
        # Node prints each 16-bit group in upper-case hex, no :: compression.
        return ":".join(f"{int.from_bytes(raw[i : i + 2], 'big'):X}" for i in range(0, 16, 2))
    return "<invalid>"


def _general_name_parts(name: GeneralName) -> tuple[str, str]:
    """(prefix, printed value) as Node's PrintGeneralName writes them."""
    kind, value = name
    if kind == "DNS":
        return "DNS", _alt_value(value, False)
    if kind == "email":
        return "email", _alt_value(value, False)
    if kind == "URI":
        return "URI", _alt_value(value, False)
    if kind == "IP":
        return "IP Address", _ip_text(value)
    if kind == "DirName":
        return "DirName", _alt_value(_rfc2253(value), True)
    if kind == "RID":
        return "Registered ID", str(value)
    return kind, "<unsupported>"


def _alt_names_string(names: list[GeneralName]) -> str:
    return ", ".join("{}:{}".format(*_general_name_parts(name)) for name in names)


def _info_access(entries: list[tuple[str, GeneralName]]) -> dict[str, list[str]]:
    """Node's ``infoAccess``: ``{'OCSP - URI': [...], 'CA Issuers - URI': [...]}``."""
    import json

    out: dict[str, list[str]] = {}
    for method, location in entries:
        prefix, value = _general_name_parts(location)
        if value.startswith('"'):
            value = json.loads(value)
        key = f"{ACCESS_METHODS.get(method, method)} - {prefix}"
        out.setdefault(key, []).append(value)
    return out


def _is_ca(fields: Fields) -> bool:
    """OpenSSL's X509_check_ca(cert) == 1, which is Node's ``ca``."""
    if fields.key_usage_cert_sign is False:
        return False
    return fields.basic_ca is True


def _from_fields(fields: Fields, der: bytes) -> Certificate:
    cert = Certificate()
    cert["subject"] = _name_object(fields.subject)
    cert["issuer"] = _name_object(fields.issuer)
    if fields.alt_names is not None:
        cert["subjectaltname"] = _alt_names_string(fields.alt_names)
    if fields.info_access is not None:
        cert["infoAccess"] = _info_access(fields.info_access)
    cert["ca"] = _is_ca(fields)
    key = fields.public_key
    if key is not None and key[0] == "rsa":
        _, modulus, exponent, bits = key
        cert["modulus"] = f"{modulus:X}"
        cert["bits"] = bits
        cert["exponent"] = f"0x{exponent:x}"
        cert["pubkey"] = fields.spki_der
    elif key is not None and key[0] == "ec":
        _, curve, point, bits = key
        cert["bits"] = bits
        cert["pubkey"] = bytes(point)
        if curve in CURVES:
            short, nist, _ = CURVES[curve]
            cert["asn1Curve"] = short
            if nist is not None:
                cert["nistCurve"] = nist
    cert["valid_from"] = node_date(fields.not_before)
    cert["valid_to"] = node_date(fields.not_after)
    cert["fingerprint"] = _colon_hex(hashlib.sha1(der).digest())
    cert["fingerprint256"] = _colon_hex(hashlib.sha256(der).digest())
    cert["fingerprint512"] = _colon_hex(hashlib.sha512(der).digest())
    if fields.ext_key_usage is not None:
        cert["ext_key_usage"] = list(fields.ext_key_usage)
    cert["serialNumber"] = _serial_hex(fields.serial)
    cert["raw"] = bytes(der)
    return cert


def certificate_from_der(der: bytes, *, use_cryptography: bool | None = None) -> Certificate:
    """Node's certificate object for one DER certificate (no ``issuerCertificate``).

    Raises ``ValueError`` when ``der`` is not a DER certificate.
    """
    return _from_fields(read_fields(der, use_cryptography=use_cryptography), der)


def peer_certificate(
    chain: Sequence[bytes],
    detailed: bool = False,
    *,
    find_issuer: Callable[[bytes], bytes | None] | None = None,
    use_cryptography: bool | None = None,
) -> Certificate:
    """Node's ``getPeerCertificate(detailed)`` from the peer's chain (DER, leaf first).

    An empty chain gives ``{}`` (the peer sent no certificate).  With
    ``detailed``, each certificate's ``issuerCertificate`` is its issuer:
    the next certificate of ``chain`` whose subject is its issuer, else
    what ``find_issuer(issuer_name_der)`` finds (the trust store, as Node
    looks there too); a self-signed certificate is its own issuer; the
    chain stops where no issuer is found.
    """
    if not chain:
        return Certificate()
    parsed = [(read_fields(der, use_cryptography=use_cryptography), der) for der in chain]
    leaf = _from_fields(*parsed[0])
    if not detailed:
        return leaf
    current, current_fields = leaf, parsed[0][0]
    rest = parsed[1:]
    seen = {current_fields.subject_der + bytes(current["raw"])}
    while True:
        if current_fields.issuer_der == current_fields.subject_der:
            current["issuerCertificate"] = current
            return leaf
        match = next((p for p in rest if p[0].subject_der == current_fields.issuer_der), None)
        if match is not None:
            rest.remove(match)
        elif find_issuer is not None:
            found = find_issuer(current_fields.issuer_der)
            if found is not None:
                match = (read_fields(found, use_cryptography=use_cryptography), found)
        if match is None:
            return leaf
        key = match[0].subject_der + match[1]
        if key in seen:  # a loop in a hostile chain
            return leaf
        seen.add(key)
        issuer = _from_fields(*match)
        current["issuerCertificate"] = issuer
        current, current_fields = issuer, match[0]
