"""``server.shutdown(timeout, idle_after=...)``: a drain that lets exchanges finish.

The stages a user relies on (gnet/drain.py): accepting stops at once and
``shutting_down``/``'shutdown'`` say so; a connection that is busy or moving
data is never sent a FIN; one idle for ``idle_after`` is ended; what is left
at the deadline is destroyed; ``'close'`` comes last and shutdown returns
after it, with the number destroyed.
"""

from __future__ import annotations

import os
import socket
import time
from collections.abc import Callable
from typing import Any

import gevent
import gevent.event
import pytest

import gnet
from gnet.drain import _kernel_queued, is_idle
from support import TIMEOUT, dropped, port_of, raw_client, recv_all, recv_exactly


def shutting(server: gnet.Server, *args: Any, **kwargs: Any) -> gevent.Greenlet:
    return gevent.spawn(server.shutdown, *args, **kwargs)


def wait_connections(server: gnet.Server, n: int) -> None:
    with gevent.Timeout(TIMEOUT, AssertionError(f"{server.connections} of {n} connections")):
        while server.connections < n:
            gevent.sleep(0.005)


def test_stage_one__stops_accepting_at_once_flag_and_event_before_close(
    server_factory: Callable[..., gnet.Server],
) -> None:
    server = server_factory(lambda sock: sock.pipe(sock))
    port = port_of(server)
    order: list[Any] = []
    server.on("shutdown", lambda: order.append(("shutdown", server.shutting_down)))
    server.on("close", lambda: order.append(("close", server.shutting_down)))
    with raw_client(port) as busy:
        wait_connections(server, 1)
        assert server.shutting_down is False
        stop = shutting(server, TIMEOUT, idle_after=None)
        gevent.sleep(0)
        assert server.shutting_down is True and not server.listening
        with pytest.raises(ConnectionRefusedError):
            raw_client(port).close()
        assert busy.sendall(b"still served") is None
        assert recv_exactly(busy, 12) == b"still served"
    assert stop.get(timeout=TIMEOUT) == 0
    assert order == [("shutdown", True), ("close", False)]
    assert server.shutting_down is False


def test_a_busy_handler_is_never_ended_however_short_idle_after(
    server_factory: Callable[..., gnet.Server],
) -> None:
    # Mid-request: the handler is working (not reading) for 0.5 s; idle_after
    # is 0.02 s.  The reply arrives whole, then the FIN.
    def handler(sock: gnet.Socket) -> None:
        with sock:
            while line := sock.readline(timeout=TIMEOUT):
                gevent.sleep(0.5)  # a database call, say
                sock.sendall(b"reply to " + line)

    server = server_factory(handler)
    with raw_client(port_of(server)) as client:
        client.sendall(b"request\n")
        wait_connections(server, 1)
        gevent.sleep(0.05)  # the handler has the request and is busy with it
        stop = shutting(server, TIMEOUT, idle_after=0.02)
        assert recv_all(client) == b"reply to request\n"  # reply, then (idle) the FIN
    assert stop.get(timeout=TIMEOUT) == 0


def test_a_client_that_keeps_sending_loses_nothing(
    server_factory: Callable[..., gnet.Server],
) -> None:
    server = server_factory(lambda sock: sock.pipe(sock))
    sent = bytearray()
    with raw_client(port_of(server)) as client:
        stop: gevent.Greenlet | None = None
        received = gevent.spawn(recv_all, client)
        for i in range(80):  # 80 chunks 10 ms apart: 0.8 s of traffic
            chunk = bytes([i]) * 4096
            client.sendall(chunk)
            sent += chunk
            if i == 10:
                stop = shutting(server, TIMEOUT, idle_after=0.3)
            gevent.sleep(0.01)
        client.shutdown(socket.SHUT_WR)  # the client's own end
        assert received.get(timeout=TIMEOUT) == bytes(sent)
    assert stop is not None and stop.get(timeout=TIMEOUT) == 0


@pytest.mark.parametrize("style", ["node", "straight-line"])
def test_an_idle_connection_is_ended_after_idle_after(
    server_factory: Callable[..., gnet.Server], style: str
) -> None:
    def straight(sock: gnet.Socket) -> None:
        with sock:
            while line := sock.readline(timeout=TIMEOUT):
                sock.sendall(line)

    server = server_factory((lambda sock: sock.pipe(sock)) if style == "node" else straight)
    with raw_client(port_of(server)) as client:
        client.sendall(b"one exchange\n")
        assert recv_exactly(client, 13) == b"one exchange\n"
        started = time.monotonic()
        stop = shutting(server, TIMEOUT, idle_after=0.3)
        assert recv_all(client) == b""  # the server's FIN
        ended_after = time.monotonic() - started
    assert stop.get(timeout=TIMEOUT) == 0
    assert 0.3 <= ended_after < TIMEOUT / 2, ended_after


def test_idle_after_none__idle_connections_wait_for_the_deadline(
    server_factory: Callable[..., gnet.Server],
) -> None:
    server = server_factory(lambda sock: sock.pipe(sock))
    with raw_client(port_of(server)) as client:
        wait_connections(server, 1)
        started = time.monotonic()
        assert server.shutdown(0.4, idle_after=None) == 1
        assert time.monotonic() - started >= 0.35
        assert dropped(client)


def test_a_paused_socket_is_not_idle(server_factory: Callable[..., gnet.Server]) -> None:
    conns: list[gnet.Socket] = []
    server = server_factory(lambda sock: (conns.append(sock), sock.pause()))
    with raw_client(port_of(server)) as client:
        wait_connections(server, 1)
        assert server.shutdown(0.3, idle_after=0.02) == 1  # kept to the deadline
        assert dropped(client)


def test_handler_sees_the_flag_between_requests(
    server_factory: Callable[..., gnet.Server],
) -> None:
    # A request loop that stops taking requests once the server shuts down:
    # the request in hand is answered, and the handler closes.
    answered = gevent.event.Event()

    def handler(sock: gnet.Socket) -> None:
        with sock:
            while not sock.server.shutting_down:  # type: ignore[union-attr]
                line = sock.readline(timeout=TIMEOUT)
                if not line:
                    return
                gevent.sleep(0.2)
                sock.sendall(b"done " + line)
                answered.set()

    server = server_factory(handler)
    with raw_client(port_of(server)) as client:
        client.sendall(b"last\n")
        wait_connections(server, 1)
        gevent.sleep(0.05)
        stop = shutting(server, TIMEOUT, idle_after=None)
        assert recv_all(client) == b"done last\n"
    assert stop.get(timeout=TIMEOUT) == 0


def test_node_style_handler_ends_on_the_shutdown_event(
    server_factory: Callable[..., gnet.Server],
) -> None:
    def handler(sock: gnet.Socket) -> None:
        sock.pipe(sock)

    server = server_factory(handler)
    server.on("shutdown", lambda: [conn.end(b"bye\n") for conn in list(server._sockets)])
    with raw_client(port_of(server)) as client:
        wait_connections(server, 1)
        stop = shutting(server, TIMEOUT, idle_after=None)
        assert recv_all(client) == b"bye\n"
    assert stop.get(timeout=TIMEOUT) == 0


def test_two_shutdowns_share_one_drain(server_factory: Callable[..., gnet.Server]) -> None:
    server = server_factory(lambda sock: sock.pipe(sock))
    events: list[str] = []
    server.on("shutdown", lambda: events.append("shutdown"))
    server.on("close", lambda: events.append("close"))
    with raw_client(port_of(server)) as client:
        wait_connections(server, 1)
        first = shutting(server, TIMEOUT, idle_after=None)
        second = shutting(server, 0.2, idle_after=None)  # the tighter deadline wins
        assert second.get(timeout=TIMEOUT) == 1
        assert first.get(timeout=TIMEOUT) == 0
        assert dropped(client)
    assert events == ["shutdown", "close"]


def test_bad_arguments() -> None:
    server = gnet.create_server()
    with pytest.raises(ValueError):
        server.shutdown(-1)
    with pytest.raises(TypeError):
        server.shutdown(1, idle_after="soon")  # type: ignore[arg-type]


def test_is_idle_reads_gnet_s_buffers_and_the_kernel_s(
    server_factory: Callable[..., gnet.Server],
) -> None:
    conns: list[gnet.Socket] = []
    server = server_factory(lambda sock: (conns.append(sock), sock.resume()))
    with raw_client(port_of(server)) as client:
        wait_connections(server, 1)
        with gevent.Timeout(TIMEOUT):
            while not (conns and is_idle(conns[0])):
                gevent.sleep(0.005)
        conns[0].pause()
        assert not is_idle(conns[0])  # paused: nobody waits for input
        client.sendall(b"x")


def test_kernel_queues() -> None:
    a, b = socket.socketpair()
    with a, b:
        assert not _kernel_queued(a.fileno()) and not _kernel_queued(b.fileno())
        a.sendall(b"unread")
        assert _kernel_queued(b.fileno())  # in b's receive queue
        assert _kernel_queued(a.fileno())  # sent, not yet taken by the peer
        b.recv(100)
        assert not _kernel_queued(a.fileno()) and not _kernel_queued(b.fileno())
    r, w = os.pipe()
    os.close(w)
    os.close(r)
    assert _kernel_queued(r) is False  # a closed descriptor: unknown, so "nothing queued"
