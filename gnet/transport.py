"""The transport: what a socket's stream reads from and writes to.

:class:`SocketTransport` is a connected, non-blocking stream socket (TCP or
UNIX), the real ``_socket.socket`` and nothing else: its descriptor and
watchers, send and receive, shutdown, the socket options (no-delay,
keep-alive, linger) and close.  It runs no user code and emits nothing;
:mod:`gnet.socket` (Node's Duplex stream) drives it.

The interface a transport offers the stream, so that another one (TLS: an
``ssl.SSLObject`` over two ``MemoryBIO``\\ s, with a :class:`SocketTransport`
underneath) drops in without touching the stream:

``recv_into(view) -> int``
    One attempt, with a non-blocking socket's semantics: the number of bytes
    put in ``view``, ``0`` at the end of the stream, ``BlockingIOError``
    when nothing can be had now, ``OSError`` on failure.  It returns less
    than ``len(view)`` only when nothing more can come without the
    descriptor becoming readable (for a socket a short read means the kernel
    buffer is empty; a TLS transport must also have no decrypted bytes left),
    which is what lets the stream wait on :meth:`read_watcher` after a short
    read instead of trying once more.
``send(data) -> int``, ``sendmsg(buffers) -> int``
    One attempt each: how many bytes of ``data`` the transport took;
    ``BlockingIOError`` when it takes none now.
``pending`` and ``flush() -> bool``
    Bytes the transport took but has not handed to the kernel yet (a TLS
    transport's ciphertext), and one attempt to hand them over (True once
    none are left).  A socket takes nothing it cannot send: 0 and True.
``read_watcher()``, ``write_watcher()``, ``stop_write_watcher()``
    gevent io watchers for the descriptor, made on first use.
``shutdown_write()``, ``close()``, ``reset()``
    FIN (a TLS transport sends close_notify first); release the descriptor
    (after this turn of the loop when another watcher still has it);
    make ``close()`` send RST instead of FIN.
``set_no_delay(on)``, ``set_keep_alive(enable, initial_delay_ms)``,
``getsockname()``, ``getpeername()``, ``fileno()``, ``family``
    Options and addresses, as a socket has them.

The stream maps the ``OSError``\\ s of ``recv_into``/``send`` to Node's
errors with :func:`gnet.errors.io_error` at its read and write paths.
"""

from __future__ import annotations

import _socket
import errno
import socket as _pysocket
import threading
from typing import Any, Protocol

import gevent

from .errors import io_error

__all__ = ["Transport", "SocketTransport", "recv_buffer", "RECV_SIZE"]

RECV_SIZE = 65536
_SHUT_WR = _pysocket.SHUT_WR
_MAX_KEEPIDLE = 32767
_LINGER_ZERO = b"\x01\x00\x00\x00\x00\x00\x00\x00"  # struct linger {l_onoff=1, l_linger=0}


class _RecvBuffer(threading.local):
    """One receive buffer per thread (per hub), shared by all its sockets: the
    chunk is copied out before anything can switch greenlets, so an idle
    socket holds no read buffer."""

    def __init__(self) -> None:
        self.view = memoryview(bytearray(RECV_SIZE))


#: This thread's shared receive buffer: ``recv_buffer.view`` (each socket keeps a
#: reference to its thread's, as ``_view``, taken when it is made).
recv_buffer = _RecvBuffer()
_socket_new = _socket.socket.__new__
_socket_init = _socket.socket.__init__
_SOCK_STREAM = _pysocket.SOCK_STREAM
_socket_close = _socket.socket.close


class Transport(Protocol):
    """What the stream needs from a transport (see the module docstring)."""

    pending: int

    @property
    def family(self) -> int: ...

    def recv_into(self, view: memoryview) -> int: ...
    def send(self, data: Any) -> int: ...
    def sendmsg(self, buffers: list[Any]) -> int: ...
    def flush(self) -> bool: ...
    def read_watcher(self) -> Any: ...
    def write_watcher(self) -> Any: ...
    def stop_write_watcher(self) -> None: ...
    def shutdown_write(self) -> None: ...
    def close(self) -> None: ...
    def reset(self) -> None: ...
    def set_no_delay(self, on: bool) -> None: ...
    def set_keep_alive(self, enable: bool, initial_delay_ms: float) -> None: ...
    def getsockname(self) -> Any: ...
    def getpeername(self) -> Any: ...
    def fileno(self) -> int: ...


def _close_after_turn(sock: SocketTransport, check: Any) -> None:
    """``close()``'s deferred half: the other watchers of the descriptor have had their turn."""
    check.stop()
    check.close()
    try:
        _socket_close(sock)
    except OSError:
        pass


class SocketTransport(_socket.socket):
    """A connected non-blocking stream socket, as a transport.

    It *is* the ``_socket.socket`` (a subclass with a few slots), so
    ``recv_into``, ``send`` and ``sendmsg`` are the socket's own C methods:
    they are the per-message hot path, and a call through a wrapper or a
    stored bound method costs a few percent of a round trip.  Made with the
    socket's own arguments: ``SocketTransport(family, type, proto, fileno)``.
    """

    __slots__ = ("pending", "_rwatch", "_wwatch")

    def __init__(
        self, family: int = -1, type: int = -1, proto: int = -1, fileno: int | None = None
    ) -> None:
        # Not super() and no *args/**kwargs: this runs once per connection.
        _socket_init(self, family, type, proto, fileno)
        self.setblocking(False)
        # A socket never holds bytes it took.  An instance slot, not a class
        # attribute: write() reads it on every call, and a slot is the fast load.
        self.pending = 0
        self._rwatch: Any = None
        self._wwatch: Any = None

    @classmethod
    def accepted(cls, family: int, fd: int) -> SocketTransport:
        """The transport of a connection ``accept()`` returned as ``fd``: what
        ``cls(family, SOCK_STREAM, 0, fd)`` makes, without the call through the
        type to ``__init__`` (this runs once per accepted connection)."""
        self: SocketTransport = _socket_new(cls)
        _socket_init(self, family, _SOCK_STREAM, 0, fd)
        self.setblocking(False)
        self.pending = 0
        self._rwatch = self._wwatch = None
        return self

    def __repr__(self) -> str:
        return f"<SocketTransport fd={self.fileno()}>"

    def flush(self) -> bool:
        return True

    def read_watcher(self) -> Any:
        watcher = self._rwatch
        if watcher is None:
            self._rwatch = watcher = gevent.get_hub().loop.io(self.fileno(), 1)
        return watcher

    def write_watcher(self) -> Any:
        watcher = self._wwatch
        if watcher is None:
            self._wwatch = watcher = gevent.get_hub().loop.io(self.fileno(), 2)
        return watcher

    def stop_write_watcher(self) -> None:
        """Stop watching for writability (the queue is empty); makes no watcher."""
        if self._wwatch is not None:
            self._wwatch.stop()

    def shutdown_write(self) -> None:
        """FIN; a socket the peer already reset or never connected is not an error."""
        try:
            self.shutdown(_SHUT_WR)
        except OSError as exc:
            if exc.errno != errno.ENOTCONN:
                raise io_error(exc, "shutdown") from None

    def close(self) -> None:
        """Stop the watchers and release the descriptor.

        Another watcher may still be active on the descriptor: a blocking
        helper waiting outside the socket's greenlet watches it with one of
        its own (``Actor._wait``).  libev must never meet an active watcher
        on a closed descriptor (epoll_ctl fails with EBADF and libev aborts
        the process), so, as gevent's sockets do, the loop hears of the
        close first (``closing_fd``: those watchers fire, and their greenlets
        close them), and when there were any the descriptor is released
        after this turn of the loop.
        """
        loop = None
        watcher = self._rwatch
        if watcher is not None:
            loop = watcher.loop
            watcher.close()  # which stops it
        watcher = self._wwatch
        if watcher is not None:
            loop = watcher.loop
            watcher.close()
        self._rwatch = self._wwatch = None
        if loop is None:
            loop = gevent.get_hub().loop
        if loop.closing_fd(self.fileno()):
            check = loop.check()
            check.start(_close_after_turn, self, check)
            return
        try:
            _socket_close(self)
        except OSError:
            pass

    def reset(self) -> None:
        """Make :meth:`close` send RST (SO_LINGER 0): the peer sees ECONNRESET."""
        try:
            self.setsockopt(_pysocket.SOL_SOCKET, _pysocket.SO_LINGER, _LINGER_ZERO)
        except OSError:
            pass

    def set_no_delay(self, on: bool) -> None:
        if self.family != _pysocket.AF_UNIX:
            self.setsockopt(_pysocket.IPPROTO_TCP, _pysocket.TCP_NODELAY, int(on))

    def set_keep_alive(self, enable: bool, initial_delay_ms: float) -> None:
        """``SO_KEEPALIVE``; an initial delay (ms) of a second or more sets ``TCP_KEEPIDLE``."""
        if self.family == _pysocket.AF_UNIX:
            return
        self.setsockopt(_pysocket.SOL_SOCKET, _pysocket.SO_KEEPALIVE, int(enable))
        if enable and initial_delay_ms >= 1000 and hasattr(_pysocket, "TCP_KEEPIDLE"):
            # Linux caps TCP_KEEPIDLE at 32767 s (MAX_TCP_KEEPIDLE); a longer
            # delay (Node takes any number) means "as long as it gets".
            seconds = int(min(initial_delay_ms // 1000, _MAX_KEEPIDLE))
            self.setsockopt(_pysocket.IPPROTO_TCP, _pysocket.TCP_KEEPIDLE, seconds)
