"""Reading an X.509 certificate (DER) into the fields Node reports.

Two readers produce the same :class:`Fields`: :func:`read_with_cryptography`
(the ``cryptography`` package, the optional ``tls`` extra) and
:func:`read_der` (a small DER reader of the standard library only, used when
``cryptography`` is missing).  Both keep what Node's certificate object
needs and nothing else; :mod:`gnet.tls.certs` turns a :class:`Fields` into
Node's object.  Neither checks a signature: verification is
:mod:`gnet.tls.verify`'s job.

A general name is kept as ``(kind, value)``: ``('DNS', str)``,
``('email', str)``, ``('URI', str)``, ``('IP', bytes)`` (the raw octets),
``('DirName', [(key, value), ...])``, ``('RID', oid)``, or
``('othername'|'X400Name'|'EdiPartyName', None)``.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from typing import Any

__all__ = ["Fields", "read_der", "read_with_cryptography", "have_cryptography", "name_key"]

GeneralName = tuple[str, Any]
NameEntries = list[tuple[str, str]]


@dataclass
class Fields:
    """The parts of one certificate that Node's certificate object shows."""

    subject: NameEntries
    issuer: NameEntries
    subject_der: bytes
    issuer_der: bytes
    serial: int
    not_before: datetime.datetime
    not_after: datetime.datetime
    alt_names: list[GeneralName] | None = None
    info_access: list[tuple[str, GeneralName]] | None = None
    basic_ca: bool | None = None  # None: no basicConstraints extension
    path_length: int | None = None
    key_usage_cert_sign: bool | None = None  # None: no keyUsage extension
    ext_key_usage: list[str] | None = None
    # ('rsa', modulus, exponent, bits) or ('ec', curve OID, point, bits) or None
    public_key: tuple[Any, ...] | None = None
    spki_der: bytes = b""
    extras: dict[str, Any] = field(default_factory=dict)


# OpenSSL's short names (OBJ_nid2sn) for name attributes; Node uses them as
# keys and falls back to the dotted OID.
_NAME_KEYS = {
    "2.5.4.3": "CN",
    "2.5.4.4": "SN",
    "2.5.4.5": "serialNumber",
    "2.5.4.6": "C",
    "2.5.4.7": "L",
    "2.5.4.8": "ST",
    "2.5.4.9": "street",
    "2.5.4.10": "O",
    "2.5.4.11": "OU",
    "2.5.4.12": "title",
    "2.5.4.13": "description",
    "2.5.4.15": "businessCategory",
    "2.5.4.17": "postalCode",
    "2.5.4.41": "name",
    "2.5.4.42": "GN",
    "2.5.4.43": "initials",
    "2.5.4.44": "generationQualifier",
    "2.5.4.45": "x500UniqueIdentifier",
    "2.5.4.46": "dnQualifier",
    "2.5.4.65": "pseudonym",
    "2.5.4.97": "organizationIdentifier",
    "0.9.2342.19200300.100.1.1": "UID",
    "0.9.2342.19200300.100.1.25": "DC",
    "1.2.840.113549.1.9.1": "emailAddress",
    "1.2.840.113549.1.9.2": "unstructuredName",
    "1.3.6.1.4.1.311.60.2.1.1": "jurisdictionL",
    "1.3.6.1.4.1.311.60.2.1.2": "jurisdictionST",
    "1.3.6.1.4.1.311.60.2.1.3": "jurisdictionC",
}

# EC curves: OID -> (OpenSSL short name, NIST name or None, order bits).
CURVES = {
    "1.2.840.10045.3.1.7": ("prime256v1", "P-256", 256),
    "1.3.132.0.34": ("secp384r1", "P-384", 384),
    "1.3.132.0.35": ("secp521r1", "P-521", 521),
    "1.3.132.0.33": ("secp224r1", "P-224", 224),
    "1.2.840.10045.3.1.1": ("prime192v1", "P-192", 192),
    "1.3.132.0.10": ("secp256k1", None, 256),
    "1.3.36.3.3.2.8.1.1.7": ("brainpoolP256r1", None, 256),
    "1.3.36.3.3.2.8.1.1.11": ("brainpoolP384r1", None, 384),
    "1.3.36.3.3.2.8.1.1.13": ("brainpoolP512r1", None, 512),
}

# OpenSSL's long names (i2t_ASN1_OBJECT) for the access methods Node prints.
ACCESS_METHODS = {"1.3.6.1.5.5.7.48.1": "OCSP", "1.3.6.1.5.5.7.48.2": "CA Issuers"}

_RSA = "1.2.840.113549.1.1.1"
_EC = "1.2.840.10045.2.1"
_EXT_SAN = "2.5.29.17"
_EXT_BASIC = "2.5.29.19"
_EXT_KEY_USAGE = "2.5.29.15"
_EXT_EKU = "2.5.29.37"
_EXT_AIA = "1.3.6.1.5.5.7.1.1"


def name_key(oid: str) -> str:
    """Node's key for a name attribute: OpenSSL's short name, else the dotted OID."""
    return _NAME_KEYS.get(oid, oid)


def have_cryptography() -> bool:
    """Whether the optional ``cryptography`` package can be imported."""
    try:
        import cryptography.x509  # noqa: F401
    except ImportError:
        return False
    return True


# --------------------------------------------------------------------------
# The standard-library reader: just enough DER for a certificate


class _DER:
    """One TLV at ``data[begin:end]``: ``tag``, and the content ``data[start:end]``."""

    __slots__ = ("data", "tag", "begin", "start", "end")

    def __init__(self, data: bytes, pos: int = 0) -> None:
        self.data = data
        self.begin = pos
        if pos + 2 > len(data):
            raise ValueError("truncated DER")
        self.tag = data[pos]
        length = data[pos + 1]
        pos += 2
        if length & 0x80:
            count = length & 0x7F
            if count == 0 or count > 4 or pos + count > len(data):
                raise ValueError("bad DER length")
            length = int.from_bytes(data[pos : pos + count], "big")
            pos += count
        self.start = pos
        self.end = pos + length
        if self.end > len(data):
            raise ValueError("truncated DER")

    @property
    def content(self) -> bytes:
        return self.data[self.start : self.end]

    @property
    def raw(self) -> bytes:
        """The whole TLV, tag and length included."""
        return self.data[self.begin : self.end]

    def children(self) -> list[_DER]:
        out = []
        pos = self.start
        while pos < self.end:
            child = _DER(self.data, pos)
            out.append(child)
            pos = child.end
        return out


def _oid(content: bytes) -> str:
    if not content:
        raise ValueError("empty OID")
    first = content[0]
    parts = [min(first // 40, 2), first - 40 * min(first // 40, 2)]
    value = 0
    for byte in content[1:]:
        value = (value << 7) | (byte & 0x7F)
        if not byte & 0x80:
            parts.append(value)
            value = 0
    return ".".join(map(str, parts))


def _string(node: _DER) -> str:
    """ASN1_STRING_to_UTF8: the value of a directory string as text."""
    raw = node.content
    if node.tag == 0x1E:  # BMPString
        return raw.decode("utf-16-be", "replace")
    if node.tag == 0x1C:  # UniversalString
        return raw.decode("utf-32-be", "replace")
    if node.tag == 0x0C:  # UTF8String
        return raw.decode("utf-8", "replace")
    # Printable, IA5, Visible, Numeric, T61 (OpenSSL reads T61 as Latin-1)
    return raw.decode("latin-1")


def _name(node: _DER) -> NameEntries:
    entries = []
    for rdn in node.children():
        for attribute in rdn.children():
            oid_node, value = attribute.children()[:2]
            entries.append((name_key(_oid(oid_node.content)), _string(value)))
    return entries


def _time(node: _DER) -> datetime.datetime:
    text = node.content.decode("ascii")
    if node.tag == 0x17:  # UTCTime: YYMMDDHHMMSSZ
        year = int(text[:2])
        year += 2000 if year < 50 else 1900
        rest = text[2:]
    else:  # GeneralizedTime: YYYYMMDDHHMMSS[.fff]Z
        year = int(text[:4])
        rest = text[4:]
    rest = rest.rstrip("Z").split(".")[0]
    month, day, hour, minute = (int(rest[i : i + 2]) for i in (0, 2, 4, 6))
    second = int(rest[8:10]) if len(rest) >= 10 else 0
    return datetime.datetime(year, month, day, hour, minute, second, tzinfo=datetime.timezone.utc)


def _int(content: bytes) -> int:
    return int.from_bytes(content, "big", signed=True)


def _general_name(node: _DER) -> GeneralName:
    kind = node.tag & 0x1F
    if kind == 1:
        return ("email", node.content.decode("latin-1"))
    if kind == 2:
        return ("DNS", node.content.decode("latin-1"))
    if kind == 6:
        return ("URI", node.content.decode("latin-1"))
    if kind == 7:
        return ("IP", node.content)
    if kind == 4:
        return ("DirName", _name(node.children()[0]))
    if kind == 8:
        return ("RID", _oid(node.content))
    if kind == 3:
        return ("X400Name", None)
    if kind == 5:
        return ("EdiPartyName", None)
    return ("othername", None)


def _apply_extension(fields: Fields, oid: str, value: _DER) -> None:
    if oid == _EXT_SAN:
        fields.alt_names = [_general_name(n) for n in value.children()]
    elif oid == _EXT_BASIC:
        parts = value.children()
        fields.basic_ca = bool(parts and parts[0].tag == 0x01 and parts[0].content != b"\x00")
        for part in parts:
            if part.tag == 0x02:
                fields.path_length = _int(part.content)
    elif oid == _EXT_KEY_USAGE:
        bits = value.content
        fields.key_usage_cert_sign = len(bits) > 1 and bool(bits[1] & 0x04)
    elif oid == _EXT_EKU:
        fields.ext_key_usage = [_oid(n.content) for n in value.children()]
    elif oid == _EXT_AIA:
        fields.info_access = []
        for description in value.children():
            method, location = description.children()[:2]
            fields.info_access.append((_oid(method.content), _general_name(location)))


def _public_key(spki: _DER) -> tuple[Any, ...] | None:
    algorithm, key_bits = spki.children()[:2]
    algorithm_parts = algorithm.children()
    key_oid = _oid(algorithm_parts[0].content)
    bits = key_bits.content[1:]  # drop the unused-bits count
    if key_oid == _RSA:
        modulus, exponent = (_int(n.content) for n in _DER(bits).children()[:2])
        return ("rsa", modulus, exponent, modulus.bit_length())
    if key_oid == _EC and len(algorithm_parts) > 1 and algorithm_parts[1].tag == 0x06:
        curve = _oid(algorithm_parts[1].content)
        size = CURVES[curve][2] if curve in CURVES else 0
        return ("ec", curve, bits, size)
    return None


def read_der(der: bytes) -> Fields:
    """The fields of a DER certificate, with the standard library only.

    Raises ``ValueError`` for something that is not a DER certificate.
    """
    try:
        certificate = _DER(der)
        tbs = certificate.children()[0]
        parts = tbs.children()
        if parts[0].tag == 0xA0:  # [0] EXPLICIT version
            parts = parts[1:]
        serial, _signature, issuer, validity, subject, spki = parts[:6]
        not_before, not_after = validity.children()[:2]
        fields = Fields(
            subject=_name(subject),
            issuer=_name(issuer),
            subject_der=subject.raw,
            issuer_der=issuer.raw,
            serial=_int(serial.content),
            not_before=_time(not_before),
            not_after=_time(not_after),
            public_key=_public_key(spki),
            spki_der=spki.raw,
        )
        for part in parts[6:]:
            if part.tag != 0xA3:  # [3] EXPLICIT extensions
                continue
            for extension in part.children()[0].children():
                items = extension.children()
                oid = _oid(items[0].content)
                _apply_extension(fields, oid, _DER(items[-1].content))
    except (IndexError, ValueError, UnicodeDecodeError) as exc:
        raise ValueError(f"not a DER X.509 certificate: {exc}") from None
    return fields


# --------------------------------------------------------------------------
# The cryptography reader


def _crypto_name(name: Any) -> NameEntries:
    return [(name_key(attr.oid.dotted_string), str(attr.value)) for attr in name]


def _crypto_general_name(general: Any) -> GeneralName:
    from cryptography import x509

    if isinstance(general, x509.DNSName):
        return ("DNS", general.value)
    if isinstance(general, x509.RFC822Name):
        return ("email", general.value)
    if isinstance(general, x509.UniformResourceIdentifier):
        return ("URI", general.value)
    if isinstance(general, x509.IPAddress):
        value = general.value
        if hasattr(value, "packed"):
            return ("IP", value.packed)
        return ("IP", value.network_address.packed + value.netmask.packed)
    if isinstance(general, x509.DirectoryName):
        return ("DirName", _crypto_name(general.value))
    if isinstance(general, x509.RegisteredID):
        return ("RID", general.value.dotted_string)
    return ("othername", None)


def read_with_cryptography(der: bytes) -> Fields:
    """The fields of a DER certificate, read by the ``cryptography`` package.

    Raises ``ValueError`` for something that is not a DER certificate and
    ``ImportError`` when ``cryptography`` is not installed.
    """
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec, rsa

    cert = x509.load_der_x509_certificate(der)
    spki = cert.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    fields = Fields(
        subject=_crypto_name(cert.subject),
        issuer=_crypto_name(cert.issuer),
        subject_der=cert.subject.public_bytes(),
        issuer_der=cert.issuer.public_bytes(),
        serial=cert.serial_number,
        not_before=cert.not_valid_before_utc,
        not_after=cert.not_valid_after_utc,
        spki_der=spki,
    )
    key = cert.public_key()
    if isinstance(key, rsa.RSAPublicKey):
        numbers = key.public_numbers()
        fields.public_key = ("rsa", numbers.n, numbers.e, key.key_size)
    elif isinstance(key, ec.EllipticCurvePublicKey):
        # The point exactly as the certificate carries it, as Node shows it.
        point = _DER(spki).children()[1].content[1:]
        curve_oid = _curve_oid(key.curve.name)
        fields.public_key = ("ec", curve_oid, point, key.curve.key_size)
    for extension in cert.extensions:
        value = extension.value
        if isinstance(value, x509.SubjectAlternativeName):
            fields.alt_names = [_crypto_general_name(g) for g in value]
        elif isinstance(value, x509.BasicConstraints):
            fields.basic_ca = value.ca
            fields.path_length = value.path_length
        elif isinstance(value, x509.KeyUsage):
            fields.key_usage_cert_sign = value.key_cert_sign
        elif isinstance(value, x509.ExtendedKeyUsage):
            fields.ext_key_usage = [oid.dotted_string for oid in value]
        elif isinstance(value, x509.AuthorityInformationAccess):
            fields.info_access = [
                (d.access_method.dotted_string, _crypto_general_name(d.access_location))
                for d in value
            ]
    return fields


_CRYPTOGRAPHY_CURVES = {
    "secp256r1": "1.2.840.10045.3.1.7",
    "secp384r1": "1.3.132.0.34",
    "secp521r1": "1.3.132.0.35",
    "secp224r1": "1.3.132.0.33",
    "secp192r1": "1.2.840.10045.3.1.1",
    "secp256k1": "1.3.132.0.10",
    "brainpoolP256r1": "1.3.36.3.3.2.8.1.1.7",
    "brainpoolP384r1": "1.3.36.3.3.2.8.1.1.11",
    "brainpoolP512r1": "1.3.36.3.3.2.8.1.1.13",
}


def _curve_oid(name: str) -> str:
    return _CRYPTOGRAPHY_CURVES.get(name, name)
