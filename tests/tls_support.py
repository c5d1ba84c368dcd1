"""Test certificates for the TLS tests, made with trustme (never checked in).

``tls_certs()`` builds one set per test session (key generation is the slow
part) and ``write_certs(directory)`` puts it on disk as PEM files, for the
peers nobody here wrote (node, openssl) that read certificates from files:

* ``ca``: the trusted CA; ``other_ca``: a CA nobody trusts.
* ``server``: for ``localhost``, ``127.0.0.1`` and ``::1``, issued by ``ca``
  (ECDSA P-256, trustme's default); ``server_rsa``: the same names, RSA 2048.
* ``chained``: ``localhost`` issued by ``intermediate`` (a child CA of
  ``ca``); its chain file holds the leaf and the intermediate.
* ``wrong_host``: ``wrong.example`` only; ``expired``: valid until
  yesterday; ``not_yet_valid``: valid from tomorrow (all issued by ``ca``).
* ``untrusted``: ``localhost`` issued by ``other_ca`` (the leaf alone: the
  peer cannot find its issuer); ``untrusted_chain``: the same leaf sent with
  ``other_ca``'s self-signed certificate (a self-signed CA in the chain).
* ``self_signed``: ``other_ca``'s own certificate and key used as a leaf.
* ``client``: a client certificate (``client.example``, CN ``client``)
  issued by ``ca``; ``untrusted_client``: the same from ``other_ca``.

Each entry of :class:`Certs` is a :class:`Pair` of PEM bytes: ``cert`` (the
chain, leaf first) and ``key``.  ``write_certs`` writes ``<name>.pem`` (the
chain) and ``<name>.key`` per pair, plus ``ca.pem`` and ``other_ca.pem``.
"""

from __future__ import annotations

import datetime
import functools
from dataclasses import dataclass, fields
from pathlib import Path

import trustme

__all__ = ["Certs", "Pair", "tls_certs", "write_certs", "SERVER_NAMES"]

SERVER_NAMES = ("localhost", "127.0.0.1", "::1")


@dataclass(frozen=True)
class Pair:
    """A certificate chain (PEM, leaf first) and its private key (PEM)."""

    cert: bytes
    key: bytes

    @property
    def leaf(self) -> bytes:
        """The first certificate of the chain alone."""
        end = b"-----END CERTIFICATE-----\n"
        return self.cert[: self.cert.index(end) + len(end)]


@dataclass(frozen=True)
class Certs:
    ca: Pair
    other_ca: Pair
    intermediate: Pair
    server: Pair
    server_rsa: Pair
    chained: Pair
    wrong_host: Pair
    expired: Pair
    not_yet_valid: Pair
    untrusted: Pair
    untrusted_chain: Pair
    self_signed: Pair
    client: Pair
    untrusted_client: Pair


def _leaf(leaf: trustme.LeafCert) -> Pair:
    chain = b"".join(blob.bytes() for blob in leaf.cert_chain_pems)
    return Pair(chain, leaf.private_key_pem.bytes())


def _ca(ca: trustme.CA) -> Pair:
    return Pair(ca.cert_pem.bytes(), ca.private_key_pem.bytes())


@functools.lru_cache(maxsize=1)
def tls_certs() -> Certs:
    """The session's certificate set (built once)."""
    now = datetime.datetime.now(datetime.timezone.utc)
    day = datetime.timedelta(days=1)
    ca = trustme.CA(organization_name="gnet tests")
    other_ca = trustme.CA(organization_name="gnet untrusted")
    intermediate = ca.create_child_ca()
    untrusted = other_ca.issue_cert("localhost")
    untrusted_leaf = untrusted.cert_chain_pems[0].bytes()
    return Certs(
        ca=_ca(ca),
        other_ca=_ca(other_ca),
        intermediate=_ca(intermediate),
        server=_leaf(ca.issue_cert(*SERVER_NAMES)),
        server_rsa=_leaf(ca.issue_cert(*SERVER_NAMES, key_type=trustme.KeyType.RSA)),
        chained=_leaf(intermediate.issue_cert("localhost")),
        wrong_host=_leaf(ca.issue_cert("wrong.example")),
        expired=_leaf(ca.issue_cert(*SERVER_NAMES, not_before=now - 2 * day, not_after=now - day)),
        not_yet_valid=_leaf(
            ca.issue_cert(*SERVER_NAMES, not_before=now + day, not_after=now + 2 * day)
        ),
        untrusted=Pair(untrusted_leaf, untrusted.private_key_pem.bytes()),
        untrusted_chain=Pair(
            untrusted_leaf + other_ca.cert_pem.bytes(), untrusted.private_key_pem.bytes()
        ),
        self_signed=_ca(other_ca),
        client=_leaf(ca.issue_cert("client.example", common_name="client")),
        untrusted_client=_leaf(other_ca.issue_cert("client.example", common_name="client")),
    )


def write_certs(directory: Path) -> dict[str, Path]:
    """Write every pair as ``<name>.pem`` + ``<name>.key``; returns name -> chain path.

    The key of ``<name>`` is at ``path.with_suffix('.key')``.
    """
    certs = tls_certs()
    paths: dict[str, Path] = {}
    for field in fields(certs):
        pair: Pair = getattr(certs, field.name)
        cert_path = directory / f"{field.name}.pem"
        cert_path.write_bytes(pair.cert)
        key_path = cert_path.with_suffix(".key")
        key_path.write_bytes(pair.key)
        key_path.chmod(0o600)
        paths[field.name] = cert_path
    return paths
