"""gnet: Node.js's ``net`` module for Python, built on gevent.

Servers and client sockets with Node's events, half-close, backpressure
and timeouts over TCP and UNIX sockets; every connection runs in its own
greenlet, so a handler may also be plain straight-line blocking code.
The contract is Node's ``net`` docs in Python spelling: snake_case names,
each also reachable under Node's camelCase name.
"""

from __future__ import annotations

from . import diagnostics, errors
from ._aliases import add_module_aliases
from .actor import run
from .blocklist import BlockList
from .emitter import EventEmitter
from .errors import (
    AbortError,
    AggregateError,
    Error,
    IncompleteReadError,
    LimitOverrunError,
    NodeError,
    NodeSystemError,
    NodeTypeError,
    NodeValueError,
    TLSCertificateError,
    TLSError,
    TLSHandshakeTimeoutError,
)
from .events import on, once
from .ip import is_ip, is_ipv4, is_ipv6
from .server import Server, create_server
from .socket import Socket, connect, create_connection, open_connection
from .socketaddress import SocketAddress

__version__ = "0.2.0"

__all__ = [
    "AbortError",
    "AggregateError",
    "BlockList",
    "Error",
    "EventEmitter",
    "IncompleteReadError",
    "LimitOverrunError",
    "NodeError",
    "NodeSystemError",
    "NodeTypeError",
    "NodeValueError",
    "Server",
    "Socket",
    "SocketAddress",
    "TLSCertificateError",
    "TLSError",
    "TLSHandshakeTimeoutError",
    "connect",
    "create_connection",
    "create_server",
    "diagnostics",
    "errors",
    "is_ip",
    "is_ipv4",
    "is_ipv6",
    "on",
    "once",
    "open_connection",
    "run",
]
__all__ += add_module_aliases(globals(), __all__)
