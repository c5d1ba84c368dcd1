"""Node's ``tls.checkServerIdentity``: does a certificate name the host?

A port of Node's rules (lib/tls.js, v20): IP addresses match only IP
subject alternative names; DNS names match ``DNS:`` alternative names, and
the subject's CN only when the certificate has no DNS name at all; a
wildcard is allowed in the first label only, at most one, never as
``*.tld``, never in an IDNA A-label; names with non-printable or non-ASCII
characters never match.  The certificate is Node's certificate object (a
:class:`gnet.tls.Certificate` or any mapping with ``subject`` and
``subjectaltname``).
"""

from __future__ import annotations

import json
import re
import socket
from collections.abc import Mapping
from typing import Any

from .. import is_ip
from ..errors import TLSCertificateError, altname_error, make_error

__all__ = ["check_server_identity"]


def _field(cert: Any, name: str) -> Any:
    if isinstance(cert, Mapping):
        return cert.get(name)
    return getattr(cert, name, None)


def _unfqdn(host: str) -> str:
    return host[:-1] if host.endswith(".") else host


def _split_host(host: str) -> list[str]:
    # Lower-case A-Z only: Node's conversion is not locale- or Unicode-aware.
    return re.sub(r"[A-Z]", lambda m: m.group(0).lower(), _unfqdn(host)).split(".")


_BAD_LABEL = re.compile(r"[^\x21-\x7f]")


def _check(host_parts: list[str], pattern: Any, wildcards: bool) -> bool:
    if not pattern or not isinstance(pattern, str):
        return False
    pattern_parts = _split_host(pattern)
    if len(host_parts) != len(pattern_parts):
        return False
    if "" in pattern_parts:
        return False
    if any(_BAD_LABEL.search(part) for part in pattern_parts):
        return False
    for i in range(len(host_parts) - 1, 0, -1):
        if host_parts[i] != pattern_parts[i]:
            return False
    host_sub = host_parts[0]
    pattern_sub = pattern_parts[0]
    pieces = pattern_sub.split("*")
    # No wildcard, or an A-label (RFC 6125 forbids wildcards in those).
    if len(pieces) == 1 or "xn--" in pattern_sub:
        return host_sub == pattern_sub
    if not wildcards:
        return False
    if len(pieces) > 2:
        return False
    if len(pattern_parts) <= 2:
        return False
    prefix, suffix = pieces
    if len(prefix) + len(suffix) > len(host_sub):
        return False
    return host_sub.startswith(prefix) and host_sub.endswith(suffix)


_JSON_STRING = re.compile(r'^"(?:[^"\\\x00-\x1f]|\\(?:["\\/bfnrt]|u[0-9a-fA-F]{4}))*"')


def _split_escaped_alt_names(alt_names: str) -> list[str]:
    """Split Node's subjectaltname string where names may be JSON-quoted."""
    result: list[str] = []
    token = ""
    offset = 0
    while offset != len(alt_names):
        next_sep = alt_names.find(",", offset)
        next_quote = alt_names.find('"', offset)
        if next_quote != -1 and (next_sep == -1 or next_quote < next_sep):
            token += alt_names[offset:next_quote]
            match = _JSON_STRING.match(alt_names[next_quote:])
            if not match:
                raise make_error("ERR_TLS_CERT_ALTNAME_FORMAT")
            token += json.loads(match.group(0))
            offset = next_quote + len(match.group(0))
        elif next_sep != -1:
            token += alt_names[offset:next_sep]
            result.append(token)
            token = ""
            offset = next_sep + 2
        else:
            token += alt_names[offset:]
            offset = len(alt_names)
    result.append(token)
    return result


def _canonical_ip(text: str) -> str | None:
    """libuv's inet_pton + inet_ntop round trip (Node's ``canonicalizeIP``)."""
    for family in (socket.AF_INET, socket.AF_INET6):
        try:
            return socket.inet_ntop(family, socket.inet_pton(family, text))
        except (OSError, ValueError):
            continue
    return None


def check_server_identity(hostname: Any, cert: Any) -> TLSCertificateError | None:
    """Node's ``tls.checkServerIdentity(hostname, cert)``.

    Returns ``None`` when ``cert`` is valid for ``hostname``, else the
    ``ERR_TLS_CERT_ALTNAME_INVALID`` error (not raised) with Node's
    ``reason``, ``host`` and ``cert``.  Raises ``ERR_TLS_CERT_ALTNAME_FORMAT``
    for a malformed quoted ``subjectaltname``.
    """
    subject = _field(cert, "subject")
    alt_names = _field(cert, "subjectaltname")
    dns_names: list[str] = []
    ips: list[str | None] = []
    hostname = _js_string(hostname)

    if alt_names:
        names = _split_escaped_alt_names(alt_names) if '"' in alt_names else alt_names.split(", ")
        for name in names:
            if name.startswith("DNS:"):
                dns_names.append(name[4:])
            elif name.startswith("IP Address:"):
                ips.append(_canonical_ip(name[11:]))

    valid = False
    reason = "Unknown reason"
    hostname = _unfqdn(hostname)
    cn = _field(subject, "CN") if subject else None

    if is_ip(hostname):
        valid = _canonical_ip(hostname) in ips
        if not valid:
            reason = f"IP: {hostname} is not in the cert's list: " + ", ".join(
                ip or "" for ip in ips
            )
    elif dns_names or cn:
        host_parts = _split_host(hostname)
        if dns_names:
            valid = any(_check(host_parts, name, True) for name in dns_names)
            if not valid:
                reason = f"Host: {hostname}. is not in the cert's altnames: {alt_names}"
        else:
            if isinstance(cn, (list, tuple)):
                valid = any(_check(host_parts, name, True) for name in cn)
            else:
                valid = _check(host_parts, cn, True)
            if not valid:
                reason = f"Host: {hostname}. is not cert's CN: {_js_string(cn)}"
    else:
        reason = "Cert does not contain a DNS name"

    if not valid:
        return altname_error(reason, hostname, cert)
    return None


def _js_string(value: Any) -> str:
    """JavaScript's ``'' + value`` for the values a certificate field holds."""
    if value is None:
        return "undefined"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, tuple)):
        return ",".join("" if v is None else _js_string(v) for v in value)
    return str(value)
