"""TLS as a transport: an ``ssl.SSLObject`` over two ``MemoryBIO``\\ s over a socket.

:class:`TLSTransport` keeps the interface :mod:`gnet.transport` describes,
so the stream a plain socket uses (its shared receive buffer, its write
queue, backpressure, half-close, the blocking helpers) runs over TLS
unchanged.  The socket underneath stays a :class:`~gnet.transport.SocketTransport`,
owned by this transport: the descriptor, its watchers and its options.

* ``recv_into(view)`` decrypts into ``view``: what OpenSSL holds first,
  then records read from the socket (one raw read at a time, into a
  per-thread buffer of its own, then into the incoming BIO in slices).  It returns
  short only when no complete record is buffered and the socket was drained
  (a short raw read, or EAGAIN), so a short read still means "wait for the
  descriptor".  When it fills ``view`` with more records still buffered, it
  feeds a read event to the read watcher: the stream may choose to wait
  before reading on, and no descriptor event would come for bytes that are
  already here.
* ``send(data)`` encrypts up to :data:`MAX_PLAIN` bytes into the outgoing
  BIO and hands the ciphertext to the kernel; what the kernel does not take
  is held (``pending``) and sent first next time (``flush()``), and while
  any is held ``send`` takes nothing (``BlockingIOError``), so the stream
  queues plaintext and ``writable_length`` counts both.
* ``shutdown_write()`` sends close_notify, then FIN once it is out; reading
  continues.  A peer's close_notify, and a peer's FIN without one, are the
  end of the stream (``0``), as Node ends a TLS socket on either.
* The outgoing BIO is drained after every OpenSSL call, so whatever OpenSSL
  writes on its own (session tickets, a key update, an alert) goes out.
* Memory: a ``MemoryBIO``'s buffer grows to the most it ever held and never
  shrinks, so ciphertext goes in and comes out a record at a time: after a
  bulk transfer a connection keeps ~45 KiB of BIO buffers, not the ~130 KiB
  whole 64 KiB reads and writes would leave (asyncio's sslproto's problem).

The wire bytes are counted on ``shell``, the plain socket this connection
was accepted or opened as (Node's raw socket in ``'connection'``), when
there is one.  Errors from OpenSSL are raised already translated
(:func:`gnet.tls.errors.from_ssl_error`): ``OSError`` subclasses, which the
stream's read and write paths turn into ``'error'``.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any

import gevent

from .errors import from_ssl_error

if TYPE_CHECKING:
    import ssl

    from ..socket import Socket
    from ..transport import SocketTransport
    from .socket import TLSSocket

__all__ = ["TLSTransport", "ShellTransport", "MAX_PLAIN", "RAW_SIZE"]

#: Plaintext encrypted per ``send`` (four full records): bounds the
#: ciphertext a transport holds while the kernel buffer is full.
MAX_PLAIN = 65536
#: Bytes per read from the socket.
RAW_SIZE = 65536
# The most a TLS record takes on the wire (TLS 1.2 allows 2 KiB of expansion),
# and the slices ciphertext goes into the incoming BIO in.
_RECORD = 5 + (1 << 14) + 2048
_SLICE = 4096
# Plaintext per SSL_write: one record, so the outgoing BIO holds one at most.
_RECORD_PLAIN = 1 << 14
_EV_READ = 1


class _RawBuffer(threading.local):
    """One buffer per thread (per hub) for ciphertext read off the socket: it is
    copied into the incoming BIO at once, so every connection shares it."""

    def __init__(self) -> None:
        self.view = memoryview(bytearray(RAW_SIZE))


_raw_buffer = _RawBuffer()
_ssl_errors: Any = None


def _load_ssl() -> Any:
    """The ssl names the hot paths catch (imported on first use: not by ``import gnet``)."""
    global _ssl_errors
    if _ssl_errors is None:
        import ssl

        _ssl_errors = ssl
    return _ssl_errors


class _OverRaw:
    """What both transports here pass straight to the socket under them: options, addresses, descriptor."""

    __slots__ = ()
    raw: SocketTransport

    def reset(self) -> None:
        self.raw.reset()

    def set_no_delay(self, on: bool) -> None:
        self.raw.set_no_delay(on)

    def set_keep_alive(self, enable: bool, initial_delay_ms: float) -> None:
        self.raw.set_keep_alive(enable, initial_delay_ms)

    def getsockname(self) -> Any:
        return self.raw.getsockname()

    def getpeername(self) -> Any:
        return self.raw.getpeername()

    def fileno(self) -> int:
        return self.raw.fileno()


class TLSTransport(_OverRaw):
    """TLS over ``raw`` (see the module docstring).

    Made before the handshake with the socket alone; :meth:`attach` gives it
    the ``SSLObject`` once the handshake driver has made one.
    """

    __slots__ = (
        "raw", "sslobj", "_ssl", "_in", "_out_bio", "_out", "pending", "_view",
        "_shell", "_stash", "_on_writable", "_fin", "_ended", "_full", "_deferred", "_left", "family",
        "_ssl_mod",
    )  # fmt: skip

    def __init__(self, raw: SocketTransport, shell: Socket | None = None) -> None:
        ssl_mod = _load_ssl()
        self._ssl_mod = ssl_mod
        self.raw = raw
        self.family = raw.family
        self.sslobj: ssl.SSLObject | None = None
        self._ssl: Any = None  # the C object under sslobj: the hot calls skip its Python wrapper
        self._in: ssl.MemoryBIO = ssl_mod.MemoryBIO()
        self._out_bio: ssl.MemoryBIO = ssl_mod.MemoryBIO()
        self._out: Any = None  # ciphertext the kernel has not taken yet
        self.pending = 0
        self._view = _raw_buffer.view
        self._shell = shell
        self._stash: bytes = b""  # plaintext set aside by shutdown_write, returned first
        self._on_writable: Any = None  # the stream's flush, for ciphertext OpenSSL writes on its own
        self._fin = False  # FIN owed once the held ciphertext (close_notify) is out
        self._ended = False  # the peer's close_notify or FIN has been read
        self._full = False  # the last recv_into filled its view (OpenSSL may hold more)
        self._deferred: bytes | None = None  # the handshake's last flight, to go with the next record
        self._left: memoryview | None = None  # ciphertext read but not yet fed to OpenSSL

    def __repr__(self) -> str:
        return f"<TLSTransport fd={self.raw.fileno()}>"

    @property
    def incoming(self) -> ssl.MemoryBIO:
        """The BIO OpenSSL reads ciphertext from."""
        return self._in

    @property
    def outgoing(self) -> ssl.MemoryBIO:
        """The BIO OpenSSL writes ciphertext to."""
        return self._out_bio

    def attach(self, sslobj: ssl.SSLObject) -> None:
        """Use ``sslobj`` (made with this transport's BIOs) from now on."""
        self.sslobj = sslobj
        self._ssl = sslobj._sslobj  # type: ignore[attr-defined]

    def set_flusher(self, on_writable: Any) -> None:
        """``on_writable()`` flushes the owner's queue and this transport's ciphertext
        (the stream's write-watcher callback)."""
        self._on_writable = on_writable

    # -- raw I/O, for the handshake and below ---------------------------------

    def recv_raw(self) -> bytes:
        """One read from the socket, of at most a record (a handshake's BIO must
        not grow with the data a peer sends right after it): the ciphertext
        (``b''`` at EOF), counted on the shell; ``BlockingIOError`` when there
        is none now."""
        view = self._view
        n = self.raw.recv_into(view, _RECORD)
        shell = self._shell
        if shell is not None and n:
            shell.bytes_read += n
        return view[:n].tobytes()

    def send_out(self) -> bool:
        """Hand the kernel the ciphertext OpenSSL wrote; True when none is held."""
        data = self._out_bio.read()
        if self._deferred is not None:
            data = self._deferred + data
            self._deferred = None
        if data:
            if self._out:
                self._out = bytes(self._out) + data
            else:
                self._out = data
        if not self._out:
            return True
        return self._send_held()

    def _send_held(self) -> bool:
        out = self._out
        try:
            sent = self.raw.send(out)
        except BlockingIOError:
            sent = 0
        except InterruptedError:
            sent = 0
        shell = self._shell
        if shell is not None and sent:
            shell._bytes_written += sent
        if sent == len(out):
            self._out = None
            self.pending = 0
            return True
        self._out = memoryview(out)[sent:]
        self.pending = len(self._out)
        return False

    def send_alert(self, record: bytes) -> None:
        """Send a plaintext alert record (a refusal before any SSLObject exists); best effort."""
        self._out_bio.write(record)
        try:
            self.send_out()
        except OSError:
            pass

    def defer_out(self) -> None:
        """Hold what OpenSSL wrote last in the handshake (a server's session
        tickets, a client's Finished) and send it with the first record
        written, or on the hub's next round if none is: two small sends in a
        row would have Nagle's algorithm hold the second until the peer's
        delayed ACK (40 ms)."""
        data = self._out_bio.read()
        if data:
            self._deferred = data
            self.pending = len(data)  # the handshake left nothing else held
            gevent.get_hub().loop.run_callback(self._send_deferred)

    def _send_deferred(self) -> None:
        # In the hub: nothing was written meanwhile.
        data = self._deferred
        if data is None or self._ssl is None:
            return
        self._deferred = None
        self._out = bytes(self._out) + data if self._out else data
        try:
            done = self._send_held()
        except OSError:
            return  # the next read or write reports the connection's failure
        if not done and self._on_writable is not None:
            watcher = self.raw.write_watcher()
            if not watcher.active:
                watcher.start(self._on_writable)

    # -- the transport interface -----------------------------------------------

    def recv_into(self, view: Any, nbytes: int = 0, flags: int = 0) -> int:
        """Decrypt into ``view`` (see the module docstring for when it returns short)."""
        ssl_obj = self._ssl
        incoming = self._in
        size = len(view)
        got = 0
        drained = False  # a raw read in this call came back short: the kernel had no more
        # OpenSSL may hold the rest of a record only after a read that filled
        # its view; else a record read short was read whole.
        held = self._full
        left = self._left  # ciphertext read off the socket, not yet in the BIO
        starved = False  # OpenSSL wants more than the BIO holds
        if self._stash:
            got = self._take_stash(view)
            if got == size:
                return got
        while True:
            if left is not None and (starved or incoming.pending < _RECORD):
                # Into the BIO a slice at a time: a BIO's buffer grows to the
                # most it ever held and never shrinks, so this bounds what a
                # connection keeps after a burst (a whole raw read: 64 KiB).
                incoming.write(left[:_SLICE])
                left = left[_SLICE:] if len(left) > _SLICE else None
                starved = False
                continue
            if held or incoming.pending:
                held = False
                try:
                    n = ssl_obj.read(size - got, view[got:] if got else view)
                except self._ssl_mod.SSLWantReadError:
                    if left is not None:
                        starved = True
                        continue
                    n = -1  # only part of a record is here
                except (self._ssl_mod.SSLZeroReturnError, self._ssl_mod.SSLEOFError):
                    n = 0
                except self._ssl_mod.SSLError as exc:
                    self._flush_after_read()
                    raise from_ssl_error(exc) from None
                if n > 0:
                    got += n
                    if got == size:
                        break
                    continue
                if n == 0:
                    # The peer's close_notify (_ssl's read returns 0 for it
                    # until this side has sent its own, then raises).
                    self._ended = True
                    break
            if drained or self._ended:
                break
            try:
                r = self.raw.recv_into(self._view)
            except BlockingIOError:
                break
            except InterruptedError:
                continue
            if r == 0:
                # The peer's FIN, with or without a close_notify before it:
                # the end of the stream either way, as in Node.
                self._ended = True
                break
            shell = self._shell
            if shell is not None:
                shell.bytes_read += r
            if r <= _SLICE:  # the usual small message: straight in
                incoming.write(self._view[:r])
                drained = True
            else:
                left = self._view[:r]
                drained = r < RAW_SIZE
        if left is not None:
            left = memoryview(left.tobytes())  # the shared buffer is the next read's
        self._left = left
        if self._out_bio.pending:
            self._flush_after_read()
        self._full = full = got == size
        if full:
            if left is not None or incoming.pending or ssl_obj.pending():
                self._more_buffered()
            return got
        if got:
            if self._ended:
                self._more_buffered()  # come back for the end, which no descriptor event may announce
            return got
        if self._ended:
            return 0
        raise BlockingIOError

    def _take_stash(self, view: Any) -> int:
        stash = self._stash
        n = min(len(view), len(stash))
        view[:n] = stash[:n]
        self._stash = stash[n:]
        return n

    def _more_buffered(self) -> None:
        # A full view with complete records still in the BIO: make the read
        # watcher fire, as the descriptor would if the bytes were still in
        # the kernel (the stream waits on it after a burst of full reads).
        try:
            self.raw.read_watcher().feed(_EV_READ, _ignore)
        except Exception:  # a loop without feed (libuv): the next readable event reads them
            pass

    def _flush_after_read(self) -> None:
        """OpenSSL wrote while reading (a key update, a ticket, an alert): send it,
        and have the stream flush what the kernel does not take now."""
        try:
            done = self.send_out()
        except OSError:
            return  # the read path reports the connection's failure
        if not done and self._on_writable is not None:
            watcher = self.raw.write_watcher()
            if not watcher.active:
                watcher.start(self._on_writable)

    def send(self, data: Any, flags: int = 0) -> int:
        """Encrypt up to :data:`MAX_PLAIN` bytes of ``data`` and send them; how many
        plaintext bytes were taken.  ``BlockingIOError`` while ciphertext is held."""
        if self._out is not None and not self._send_held():
            raise BlockingIOError
        ssl_obj = self._ssl
        out_bio = self._out_bio
        size = len(data)
        try:
            if size <= _RECORD_PLAIN:
                n: int = ssl_obj.write(data)
                out: Any = out_bio.read()
                if self._deferred is not None:  # nothing else is held then
                    out = self._deferred + out
                    self._deferred = None
                    self.pending = 0
            else:
                # One record per SSL_write, read out at once: the outgoing
                # BIO's buffer (which never shrinks) holds one record at most.
                view = memoryview(data)
                n = min(size, MAX_PLAIN)
                records = [self._deferred] if self._deferred is not None else []
                self._deferred = None
                self.pending = 0
                for pos in range(0, n, _RECORD_PLAIN):
                    ssl_obj.write(view[pos : pos + _RECORD_PLAIN])
                    records.append(out_bio.read())
                out = b"".join(records)
        except self._ssl_mod.SSLError as exc:
            raise from_ssl_error(exc) from None
        try:
            sent = self.raw.send(out)
        except (BlockingIOError, InterruptedError):
            sent = 0
        shell = self._shell
        if shell is not None:
            shell._bytes_written += sent
        if sent != len(out):
            self._out = memoryview(out)[sent:]
            self.pending = len(out) - sent
        return n

    def sendmsg(self, buffers: list[Any], *args: Any) -> int:
        """``send`` of the buffers joined (up to :data:`MAX_PLAIN` bytes): one set of records."""
        parts = []
        total = 0
        for buf in buffers:
            parts.append(buf)
            total += len(buf)
            if total >= MAX_PLAIN:
                break
        return self.send(b"".join(parts))

    def flush(self) -> bool:
        """One attempt to send the held ciphertext; True once none is left (and the
        FIN owed after a close_notify is sent)."""
        if self._deferred is not None:
            data, self._deferred = self._deferred, None
            self._out = bytes(self._out) + data if self._out else data
            self.pending = len(self._out)
        if self._out is not None and not self._send_held():
            return False
        if self._fin:
            self._fin = False
            self.raw.shutdown_write()
        return True

    def read_watcher(self) -> Any:
        return self.raw.read_watcher()

    def write_watcher(self) -> Any:
        return self.raw.write_watcher()

    def stop_write_watcher(self) -> None:
        self.raw.stop_write_watcher()

    def shutdown_write(self) -> None:
        """close_notify, then FIN once it is out; reading continues."""
        ssl = self._ssl_mod
        ssl_obj = self._ssl
        if ssl_obj is not None:
            # Python's unwrap() calls SSL_shutdown twice, and the second call
            # fails the connection if it meets application data (OpenSSL's
            # "application data after close notify"): what is buffered is
            # set aside, and given back to the reader afterwards.
            plain = []
            while ssl_obj.pending():
                plain.append(ssl_obj.read(ssl_obj.pending()))
            if plain:
                self._stash += b"".join(plain)
            records = self._in.read() if self._in.pending else b""
            try:
                ssl_obj.shutdown()
            except ssl.SSLWantReadError:
                pass  # sent; the peer's close_notify is still to come
            except ssl.SSLError:
                pass  # the TLS session is broken already: FIN alone
            if records:
                self._in.write(records)
        if self.send_out():
            self.raw.shutdown_write()
            return
        self._fin = True
        watcher = self.raw.write_watcher()
        if not watcher.active:
            watcher.start(self._finish_shutdown)

    def _finish_shutdown(self) -> None:
        # In the hub: the close_notify that did not fit in the kernel buffer.
        try:
            done = self.flush()
        except OSError:
            done = True
        if done:
            self.raw.stop_write_watcher()

    def close(self) -> None:
        """Close the socket and let go of the TLS state (and of the owner, so
        nothing here needs the garbage collector to be freed)."""
        self.raw.close()
        self._out = None
        self.pending = 0
        self._on_writable = None
        self._shell = None
        self.sslobj = self._ssl = None


class ShellTransport(_OverRaw):
    """The transport of a plain socket whose connection a TLS socket took over.

    Node's raw socket under a TLSSocket: it keeps its addresses and options
    (the socket's), its counters (the TLS transport counts the wire bytes on
    it), and reads nothing more (its bytes are the TLS socket's: a read
    waits until the connection closes).  Until the handshake starts
    (:meth:`seal`), what it had queued is still written out; after, a
    write fails (plaintext would corrupt the TLS stream).  ``end()`` on it
    ends the TLS socket (close_notify, then FIN), ``destroy()`` destroys it.
    """

    __slots__ = ("raw", "owner", "pending", "family", "sealed")

    def __init__(self, raw: SocketTransport, owner: TLSSocket) -> None:
        self.raw = raw
        self.owner: TLSSocket | None = owner
        self.pending = 0
        self.family = raw.family
        self.sealed = False

    def seal(self) -> None:
        """The handshake starts: from now on the connection carries only TLS."""
        self.sealed = True

    def recv_into(self, view: Any, nbytes: int = 0, flags: int = 0) -> int:
        raise BlockingIOError

    def send(self, data: Any, flags: int = 0) -> int:
        if not self.sealed:
            return int(self.raw.send(data))
        from ..errors import make_error

        raise make_error("ERR_SOCKET_CLOSED")

    def sendmsg(self, buffers: list[Any], *args: Any) -> int:
        if not self.sealed:
            return int(self.raw.sendmsg(buffers))
        return self.send(b"")

    def flush(self) -> bool:
        return True

    def read_watcher(self) -> Any:
        return None  # nothing to wait for but the connection's end

    def write_watcher(self) -> Any:
        return self.raw.write_watcher()

    def stop_write_watcher(self) -> None:
        self.raw.stop_write_watcher()

    def shutdown_write(self) -> None:
        owner = self.owner
        if owner is not None:
            owner.end()

    def close(self) -> None:
        owner, self.owner = self.owner, None
        if owner is not None:
            owner.destroy()


def _ignore(*args: Any) -> None:
    """The callback a fed read event carries until the stream starts the watcher."""
