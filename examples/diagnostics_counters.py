"""A diagnostics subscriber that keeps counters, with a small demo.

    python examples/diagnostics_counters.py [PORT]      (default 0: any free port)

gnet publishes lifecycle events through ``zope.event`` (see
``gnet.diagnostics``).  :class:`Counters` is a subscriber that counts them:
connections accepted and closed, bytes in and out of the accepted
connections, connections that ended with an error, client connects that
failed, and exceptions that escaped a listener.  Install it with
``zope.event.subscribers.append(counters)`` (or ``with counters.installed():``)
in any gnet program.

The demo runs an echo server whose ``'data'`` listener raises on a line
``boom``, talks to it from the same process (three echo clients, one
``boom`` client, and one connect to the port after the server closed), then
prints the counters, one ``name: value`` per line.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterator
from contextlib import contextmanager

import gevent
import zope.event
from gevent.event import Event

import gnet
from gnet import diagnostics

TIMEOUT = 5.0  # seconds, for every wait of the demo


class Counters:
    """A ``zope.event`` subscriber counting gnet's diagnostics events.

    Bytes are those of the connections a server accepted (a client socket of
    the same process would otherwise count the same bytes a second time).
    """

    FIELDS = (
        "listening",
        "accepted",
        "closed",
        "bytes_in",
        "bytes_out",
        "errors",
        "client_connects",
        "client_failures",
        "listener_exceptions",
    )

    def __init__(self) -> None:
        for name in self.FIELDS:
            setattr(self, name, 0)
        self.changed = Event()  # set on each counted event, for code that waits on a count

    def __call__(self, event: object) -> None:
        if isinstance(event, diagnostics.ServerListening):
            self.listening += 1
        elif isinstance(event, diagnostics.ConnectionAccepted):
            self.accepted += 1
        elif isinstance(event, diagnostics.ConnectionClosed):
            if event.socket.server is None:
                return  # a client socket: its bytes are the server side's, mirrored
            self.closed += 1
            self.bytes_in += event.bytes_read
            self.bytes_out += event.bytes_written
            if event.error is not None:
                self.errors += 1
        elif isinstance(event, diagnostics.ClientConnected):
            self.client_connects += 1
        elif isinstance(event, diagnostics.ClientConnectFailed):
            self.client_failures += 1
        elif isinstance(event, diagnostics.ListenerException):
            self.listener_exceptions += 1
        else:
            return
        self.changed.set()

    def snapshot(self) -> dict[str, int]:
        return {name: getattr(self, name) for name in self.FIELDS}

    def wait_until_all_closed(self, timeout: float) -> None:
        """Block until every accepted connection has closed (TimeoutError after ``timeout``)."""
        with gevent.Timeout(timeout, TimeoutError(f"connections still open after {timeout} s")):
            while self.closed < self.accepted:
                self.changed.clear()
                if self.closed < self.accepted:
                    self.changed.wait()

    @contextmanager
    def installed(self) -> Iterator[Counters]:
        """Subscribe for the duration of a ``with`` block."""
        zope.event.subscribers.append(self)
        try:
            yield self
        finally:
            zope.event.subscribers.remove(self)


# ----------------------------------------------------------------------
# the demo


def on_connection(sock: gnet.Socket) -> None:
    def on_data(chunk: bytes) -> None:
        if b"boom" in chunk:
            raise RuntimeError("boom: the handler failed")  # logged; ends this connection only
        sock.write(chunk)

    sock.on("data", on_data)
    sock.on("error", lambda err: None)  # a peer going away is routine


def echo(port: int, payload: bytes) -> None:
    with gnet.open_connection(port, "127.0.0.1", timeout=TIMEOUT) as sock:
        sock.sendall(payload, timeout=TIMEOUT)
        assert sock.recv_exactly(len(payload), timeout=TIMEOUT) == payload


def main(argv: list[str]) -> None:
    logging.basicConfig(level=logging.CRITICAL)  # the demo's 'boom' is expected: keep it quiet
    port = int(argv[1]) if len(argv) > 1 else 0
    counters = Counters()
    with counters.installed():
        server = gnet.create_server(on_connection)
        server.listen(port, "127.0.0.1")
        gnet.once(server, "listening", timeout=TIMEOUT)
        port = server.address()["port"]  # type: ignore[index]
        print(f"listening on 127.0.0.1:{port}", flush=True)

        for i in range(3):
            echo(port, f"hello {i}\n".encode())

        bad = gnet.open_connection(port, "127.0.0.1", timeout=TIMEOUT)
        bad.on("error", lambda err: None)
        bad.write(b"boom\n")
        try:
            while bad.recv(timeout=TIMEOUT):  # until the server drops the connection
                pass
        except ConnectionResetError:
            pass
        bad.destroy()

        counters.wait_until_all_closed(TIMEOUT)
        server.shutdown(timeout=TIMEOUT)

        try:  # the port is closed now: a failed connect
            gnet.open_connection(port, "127.0.0.1", timeout=TIMEOUT)
        except ConnectionRefusedError:
            pass

    for name, value in counters.snapshot().items():
        print(f"{name}: {value}", flush=True)


if __name__ == "__main__":
    main(sys.argv)
