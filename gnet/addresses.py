# mypy: disable-error-code="empty-body"
"""A socket's two ends: Node's ``address()``, ``remoteAddress``/``Port``/``Family``
and ``localAddress``/``Port``/``Family``.

A mixin of :class:`gnet.socket.Socket` (which declares the state it uses).
The remote end is looked up once and kept, so it survives the close (NODE-NET
I3): an accepted socket has it from ``accept()`` without a system call (so a
log line names the peer of a connection that reset before anyone asked), a
PROXY header replaces it with the real client, a client asks the transport
once connected.  The local end is read from the transport each time.
"""

from __future__ import annotations

import socket as _pysocket
from typing import TYPE_CHECKING, Any

from ._aliases import with_camel_aliases
from .state import Phase

if TYPE_CHECKING:
    from .transport import Transport

__all__ = ["Addresses"]

_OPEN = Phase.OPEN


def addr_dict(addr: Any, family: int) -> dict[str, Any]:
    """``{'address', 'family', 'port'}`` of a socket address tuple; ``{}`` for UNIX."""
    if family in (_pysocket.AF_INET, _pysocket.AF_INET6) and isinstance(addr, tuple):
        name = "IPv6" if family == _pysocket.AF_INET6 else "IPv4"
        return {"address": addr[0], "family": name, "port": addr[1]}
    return {}


@with_camel_aliases
class Addresses:
    """The address properties of :class:`~gnet.socket.Socket`."""

    if not TYPE_CHECKING:
        # Slots of its own would clash with Socket's layout; hidden from mypy,
        # which would otherwise refuse assignments to the Socket's slots here.
        __slots__ = ()
    else:
        _transport: Transport | None
        _family: int
        _phase: Phase
        _remote: dict[str, Any] | None
        _peer_addr: Any

    def address(self) -> dict[str, Any]:
        """The local end as ``{'address', 'family', 'port'}``; ``{}`` without a handle or for UNIX."""
        transport = self._transport
        if transport is None:
            return {}
        try:
            return addr_dict(transport.getsockname(), self._family)
        except OSError:
            return {}

    def _remote_info(self) -> dict[str, Any]:
        if self._remote is None:
            addr = self._peer_addr  # accept()'s: known without a system call, even after close
            if addr is None and self._transport is not None and self._phase is _OPEN:
                try:
                    addr = self._transport.getpeername()
                except OSError:
                    return {}
            self._remote = None if addr is None else addr_dict(addr, self._family)
        return self._remote or {}

    @property
    def remote_address(self) -> str | None:
        return self._remote_info().get("address")

    @property
    def remote_port(self) -> int | None:
        return self._remote_info().get("port")

    @property
    def remote_family(self) -> str | None:
        return self._remote_info().get("family")

    @property
    def local_address(self) -> str | None:
        return self.address().get("address")

    @property
    def local_port(self) -> int | None:
        return self.address().get("port")

    @property
    def local_family(self) -> str | None:
        return self.address().get("family")
