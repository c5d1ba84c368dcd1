"""The stream runs over any transport that keeps gnet.transport's interface.

Two transports written here, over a real socket pair (so the descriptor's
readiness drives the waits as it does for TCP): one that transforms the
bytes both ways (as TLS does), one that takes more than the kernel does and
holds it (as TLS holds ciphertext: ``pending`` and ``flush()``).  The
socket's events, backpressure, half-close and destroy must behave exactly
as over a plain socket, with no change to the stream.
"""

from __future__ import annotations

import socket
from typing import Any

import gevent
import pytest
from gevent.event import AsyncResult, Event

import gnet
from gnet.transport import SocketTransport
from support import run_python

T = 5.0


def _xor(data: bytes | memoryview) -> bytes:
    return bytes(b ^ 0x5A for b in bytes(data))


class XorTransport(SocketTransport):
    """Every byte XORed with 0x5A on the wire: a stand-in for a transforming transport."""

    __slots__ = ()

    def recv_into(self, view: Any, nbytes: int = 0, flags: int = 0) -> int:
        n = super().recv_into(view)
        view[:n] = _xor(view[:n])
        return n

    def send(self, data: Any, flags: int = 0) -> int:
        return super().send(_xor(data))

    def sendmsg(self, buffers: Any, *args: Any) -> int:
        return self.send(b"".join(bytes(b) for b in buffers))


class HoldingTransport(SocketTransport):
    """Takes everything written and hands the kernel what it takes: ``pending``
    bytes stay held, as a TLS transport holds ciphertext."""

    __slots__ = ("held",)

    def send(self, data: Any, flags: int = 0) -> int:
        if not hasattr(self, "held"):
            self.held = bytearray()
        if self.held and not self.flush():
            raise BlockingIOError
        self.held += bytes(data)
        self.pending = len(self.held)
        self.flush()
        return len(data)

    def sendmsg(self, buffers: Any, *args: Any) -> int:
        return self.send(b"".join(bytes(b) for b in buffers))

    def flush(self) -> bool:
        while getattr(self, "held", None):
            try:
                sent = super().send(self.held)
            except BlockingIOError:
                return False
            del self.held[:sent]
            self.pending = len(self.held)
        return True


def _over(transport_class: type[SocketTransport], **options: Any) -> tuple[gnet.Socket, socket.socket]:
    """A gnet Socket over ``transport_class`` on one end of a socket pair; the other end raw."""
    ours, theirs = socket.socketpair()
    sock = gnet.Socket(options or None)
    sock._open(transport_class(fileno=ours.detach()))
    sock._wake()
    theirs.setblocking(False)
    return sock, theirs


def _recv_all(raw: socket.socket, size: int) -> bytes:
    out = b""
    with gevent.Timeout(T):
        while len(out) < size:
            gevent.socket.wait_read(raw.fileno())
            out += raw.recv(65536)
    return out


@pytest.fixture
def pair(track: Any) -> Any:
    made: list[socket.socket] = []

    def make(transport_class: type[SocketTransport], **options: Any) -> tuple[gnet.Socket, socket.socket]:
        sock, raw = _over(transport_class, **options)
        track(sock)
        made.append(raw)
        return sock, raw

    yield make
    for raw in made:
        raw.close()


def test_data_and_writes_pass_through_a_transforming_transport(pair: Any) -> None:
    sock, raw = pair(XorTransport)
    got = AsyncResult()
    sock.on("data", got.set)
    raw.send(_xor(b"hello"))
    assert got.get(timeout=T) == b"hello"
    done = AsyncResult()
    assert sock.write(b"world", lambda err: done.set(err)) is True
    assert done.get(timeout=T) is None
    assert _xor(_recv_all(raw, 5)) == b"world"
    assert sock.bytes_read == 5 and sock.bytes_written == 5


def test_blocking_helpers_over_a_transforming_transport(pair: Any) -> None:
    sock, raw = pair(XorTransport)
    raw.send(_xor(b"line one\nrest"))
    assert sock.readline(timeout=T) == b"line one\n"
    assert sock.recv_exactly(4, timeout=T) == b"rest"
    sock.sendall(b"reply")
    assert _xor(_recv_all(raw, 5)) == b"reply"


def test_half_close_over_a_transforming_transport(pair: Any) -> None:
    sock, raw = pair(XorTransport, allow_half_open=True)
    ended, closed = Event(), AsyncResult()
    sock.on("end", ended.set)
    sock.on("close", closed.set)
    sock.resume()
    raw.shutdown(socket.SHUT_WR)
    assert ended.wait(T)
    assert sock.writable  # allow_half_open: our side stays open
    sock.end(b"bye")
    assert _xor(_recv_all(raw, 3)) == b"bye"
    assert closed.get(timeout=T) is False


def test_held_bytes_count_in_writable_length_and_drain_waits_for_them(pair: Any) -> None:
    # The peer reads nothing, so the kernel buffers fill and the transport holds the rest.
    sock, raw = pair(HoldingTransport, high_water_mark=1024)
    transport = sock._transport
    chunk = b"x" * 65536
    while sock.write(chunk):
        pass
    assert transport.pending > 0  # the transport, not the stream's queue, holds bytes
    assert sock.writable_length >= transport.pending
    drained = Event()
    sock.on("drain", drained.set)
    received = 0
    with gevent.Timeout(T):
        while not drained.is_set():
            gevent.socket.wait_read(raw.fileno(), timeout=T)
            received += len(raw.recv(1 << 20))
    assert transport.pending == 0 and sock.writable_length == 0
    assert received <= sock.bytes_written


def test_end_sends_fin_only_after_held_bytes_are_out(pair: Any) -> None:
    sock, raw = pair(HoldingTransport)
    payload = b"y" * (4 << 20)  # more than the socket pair's buffers hold
    finished = Event()
    sock.end(payload, lambda err: finished.set())
    data = bytearray()
    with gevent.Timeout(T):
        while True:
            gevent.socket.wait_read(raw.fileno(), timeout=T)
            part = raw.recv(1 << 20)
            if not part:
                break  # FIN: it must come after every byte
            data += part
    assert bytes(data) == payload
    assert finished.wait(T)


def test_sendall_returns_once_held_bytes_are_handed_to_the_kernel(pair: Any) -> None:
    sock, raw = pair(HoldingTransport)
    payload = b"z" * (4 << 20)
    reader = gevent.spawn(_recv_all, raw, len(payload))
    sock.sendall(payload, timeout=T)
    assert sock._transport.pending == 0
    assert reader.get(timeout=T) == payload


def test_close_under_another_watcher_of_the_descriptor_neither_aborts_nor_leaks(
    tmp_path: Any,
) -> None:
    # A helper waiting outside the socket's greenlet watches the descriptor
    # with a watcher of its own.  Closing the transport under it used to
    # leave that watcher active on a closed descriptor, and libev aborted
    # the whole process at its next epoll_ctl (EBADF): seen in CI as a
    # docs example dying with SIGABRT.  Run in a subprocess, so an abort
    # fails this test rather than the suite.
    proc = run_python(
        tmp_path,
        """
        import os, socket
        import gevent
        from gnet.transport import SocketTransport

        for _ in range(20):
            mine, peer = socket.socketpair()
            transport = SocketTransport(socket.AF_UNIX, socket.SOCK_STREAM, 0, mine.detach())
            fd = transport.fileno()
            loop = gevent.get_hub().loop
            transport.read_watcher().start(lambda: None)  # the socket's own, as when parked
            other = loop.io(fd, 1)  # a foreign waiter's, closed when it fires (as Actor._wait does)
            other.start(lambda: other.close())
            transport.close()
            gevent.sleep(0.01)  # the loop turns: every changed descriptor goes to epoll_ctl
            gevent.sleep(0.01)
            assert not other.active
            try:
                os.fstat(fd)
            except OSError:
                pass  # released
            else:
                raise AssertionError(f"descriptor {fd} still open after the close")
            peer.close()
        print("ok")
        """,
    )
    assert proc.returncode == 0, proc.stderr.decode()[-2000:]
    assert proc.stdout.decode().strip() == "ok"
