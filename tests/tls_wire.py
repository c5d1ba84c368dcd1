"""TLS on the wire for the TLS tests: the way gnet's coming transport drives
Python's ssl (an SSLObject over two MemoryBIOs), in memory and over a
blocking socket, and the peers nobody here wrote (node's tls_peer.js).

Certificates and case tables are in ``tls_support``.
"""

from __future__ import annotations

import json
import socket
import ssl
from pathlib import Path

import gevent
from gevent import subprocess

__all__ = [
    "PEER_TIMEOUT",
    "BioEnd",
    "BioSocket",
    "Peer",
    "connect_tls",
    "handshake_in_memory",
    "node_tls",
]


# --------------------------------------------------------------------------
# TLS over MemoryBIOs, the way gnet's coming transport drives ssl: in memory
# (two ends in one process) and over a plain blocking socket (a real peer).


class BioEnd:
    """One end of a TLS connection made with ``context.wrap_bio``.

    ``done`` once its handshake finished; ``error`` the ``ssl`` exception
    that ended it.
    """

    def __init__(
        self, context: ssl.SSLContext, server_side: bool, server_hostname: str | None = None
    ) -> None:
        self.incoming = ssl.MemoryBIO()
        self.outgoing = ssl.MemoryBIO()
        self.obj = context.wrap_bio(
            self.incoming, self.outgoing, server_side=server_side, server_hostname=server_hostname
        )
        self.done = False
        self.error: BaseException | None = None

    def step(self) -> None:
        if self.done or self.error is not None:
            return
        try:
            self.obj.do_handshake()
            self.done = True
        except ssl.SSLWantReadError:
            pass
        except (ssl.SSLError, ValueError) as exc:
            self.error = exc


def _move(source: BioEnd, target: BioEnd) -> int:
    data = source.outgoing.read()
    if data:
        target.incoming.write(data)
    return len(data)


def handshake_in_memory(client: BioEnd, server: BioEnd) -> None:
    """Run both handshakes to their end, passing bytes between the two ends.

    A TLSv1.3 client finishes before the server has seen its certificate;
    when the server then fails, the client learns it from the alert, on
    its next read: that read is done here, so ``client.error`` holds it.
    """
    for _ in range(50):
        client.step()
        server.step()
        moved = _move(client, server) + _move(server, client)
        if not moved and all(e.done or e.error is not None for e in (client, server)):
            break
    if client.done and server.error is not None and client.error is None:
        try:
            client.obj.read(1)
        except (ssl.SSLWantReadError, ssl.SSLZeroReturnError):
            pass
        except ssl.SSLError as exc:
            client.error = exc


class BioSocket:
    """TLS over a blocking socket through an ``SSLObject`` and two MemoryBIOs.

    ``initial`` is what was read from the socket before (a ClientHello
    already looked at, or bytes that came with a STARTTLS command).
    """

    def __init__(
        self,
        sock: socket.socket,
        context: ssl.SSLContext,
        server_side: bool,
        server_hostname: str | None = None,
        initial: bytes = b"",
    ) -> None:
        self.sock = sock
        self.incoming = ssl.MemoryBIO()
        self.outgoing = ssl.MemoryBIO()
        self.obj = context.wrap_bio(
            self.incoming, self.outgoing, server_side=server_side, server_hostname=server_hostname
        )
        if initial:
            self.incoming.write(initial)

    def _flush(self) -> None:
        data = self.outgoing.read()
        if data:
            self.sock.sendall(data)

    def _call(self, method, *args):  # type: ignore[no-untyped-def]
        while True:
            try:
                result = method(*args)
            except ssl.SSLError as exc:
                # A failed handshake leaves its alert in the outgoing BIO:
                # the peer learns why only if it is sent.
                if not isinstance(exc, ssl.SSLWantReadError):
                    self._flush()
                    raise
                self._flush()
                data = self.sock.recv(65536)
                if data:
                    self.incoming.write(data)
                else:
                    self.incoming.write_eof()
                continue
            self._flush()
            return result

    def handshake(self) -> None:
        self._call(self.obj.do_handshake)

    def recv(self, size: int = 65536) -> bytes:
        """Plaintext; ``b""`` at the peer's close_notify."""
        try:
            data: bytes = self._call(self.obj.read, size)
        except ssl.SSLZeroReturnError:
            return b""
        return data

    def recv_all(self) -> bytes:
        chunks = []
        while chunk := self.recv():
            chunks.append(chunk)
        return b"".join(chunks)

    def sendall(self, data: bytes) -> None:
        view = memoryview(data)
        while view:
            view = view[self._call(self.obj.write, view[:65536]) :]

    def close_notify(self) -> None:
        """Send close_notify (TLS's half-close), then FIN."""
        try:
            self.obj.unwrap()
        except ssl.SSLWantReadError:
            pass  # the peer's close_notify has not come yet
        self._flush()
        self.sock.shutdown(socket.SHUT_WR)


# --------------------------------------------------------------------------
# Peers nobody here wrote: node (tests/node/tls_peer.js) and openssl


NODE_DIR = Path(__file__).parent / "node"
PEER_TIMEOUT = 20.0  # seconds, for any one peer process


class Peer:
    """A peer process (gevent subprocess) that prints JSON lines."""

    def __init__(self, argv: list[str]) -> None:
        self.argv = argv
        self.proc = subprocess.Popen(
            argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE
        )
        self.seen: list[dict[str, object]] = []

    def line(self) -> dict[str, object]:
        """The next JSON line (bounded wait)."""
        with gevent.Timeout(PEER_TIMEOUT, AssertionError(f"no output from {self.argv!r}")):
            raw = self.proc.stdout.readline()
        if not raw:
            self.proc.wait()
            err = self.proc.stderr.read().decode(errors="replace")
            raise AssertionError(f"{self.argv!r} ended ({self.proc.returncode}): {err}")
        event: dict[str, object] = json.loads(raw)
        self.seen.append(event)
        return event

    def until(self, event: str) -> dict[str, object]:
        """Read lines up to the first with this ``event``; return it."""
        while True:
            line = self.line()
            if line.get("event") == event:
                return line

    def events(self) -> list[dict[str, object]]:
        """Every line to the end of the output (the process then exits)."""
        while self.seen[-1:] == [] or self.seen[-1].get("event") != "report":
            self.line()
        return self.seen

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        with gevent.Timeout(PEER_TIMEOUT, False):
            self.proc.communicate()
        for pipe in (self.proc.stdin, self.proc.stdout, self.proc.stderr):
            if pipe is not None:
                pipe.close()
        self.proc.wait()


def node_tls(node: str, *args: object) -> Peer:
    """``node tls_peer.js ARGS`` (dict arguments as JSON)."""
    argv = [node, str(NODE_DIR / "tls_peer.js")]
    argv += [json.dumps(a) if isinstance(a, dict) else str(a) for a in args]
    return Peer(argv)


def connect_tls(
    port: int, context: ssl.SSLContext, servername: str | None = "localhost"
) -> BioSocket:
    """A gnet-context client over a blocking socket to 127.0.0.1:``port``, handshaken."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=PEER_TIMEOUT)
    conn = BioSocket(sock, context, False, servername)
    try:
        conn.handshake()
    except BaseException:
        sock.close()
        raise
    return conn
