"""Interop with Node itself: a Node ``net`` client against a gnet server, and a gnet
client against a Node server (tests/node/peer.js), moving a few MB both ways with
half-close over TCP and UNIX sockets; byte counts and SHA-256 digests must match
on both ends.

Node is required: missing, these tests skip locally and fail under CI=true.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest

import gnet
from support import (
    PROC_TIMEOUT,
    Counter,
    listen_and_wait,
    node_argv,
    read_json_line,
    send_all,
    spawn,
)

HOST = "127.0.0.1"


CLIENT_SIZE = 3 * 1024 * 1024  # what each client uploads


SERVER_SIZE = 2 * 1024 * 1024  # what a "count" server sends back of its own


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def serve_count(conn: gnet.Socket, payload: bytes) -> None:
    """An allowHalfOpen "count" server: sends ``payload``; ends after that and the peer's FIN."""
    state = {"sent": False, "peer_ended": False}

    def maybe_end(key: str) -> None:
        state[key] = True
        if state["sent"] and state["peer_ended"]:
            conn.end()

    conn.on("end", lambda: maybe_end("peer_ended"))
    send_all(conn, payload, lambda: maybe_end("sent"))


@pytest.mark.parametrize("mode", ["echo", "count"])
def test_node_client_against_gnet_server(mode: str, transport: str, tmp_path: Path) -> None:
    """A Node client uploads 3 MB and end()s; a gnet server echoes it, or counts and sends 2 MB."""
    server_payload = os.urandom(SERVER_SIZE) if mode == "count" else b""
    counters: list[Counter] = []
    echoed: list[bytes] = []

    def on_connection(conn: gnet.Socket) -> None:
        counter = Counter(conn, server_payload)
        counters.append(counter)
        if mode == "echo":
            conn.on("data", echoed.append)
            conn.pipe(conn)
        else:
            serve_count(conn, server_payload)

    server = gnet.create_server({"allow_half_open": mode == "count"}, on_connection)
    try:
        target = listen_and_wait(
            server, str(tmp_path / "gnet.sock") if transport == "unix" else None
        )
        with spawn(node_argv("peer.js", "client", mode, target, str(CLIENT_SIZE))) as proc:
            report = read_json_line(proc, "client report")
            assert proc.wait(timeout=PROC_TIMEOUT) == 0
        assert len(counters) == 1
        counter = counters[0]
        counter.wait()
    finally:
        for conn in list(server._sockets):
            conn.destroy()
        server.close()

    # What Node sent, gnet received (and echoed back, in echo mode).
    assert report["sent"] == CLIENT_SIZE
    assert counter.received == CLIENT_SIZE
    assert counter.digest.hexdigest() == report["sent_sha256"]
    expected_back = b"".join(echoed) if mode == "echo" else server_payload
    assert report["received"] == len(expected_back)
    assert report["received_sha256"] == sha(expected_back)
    assert report["had_error"] is False
    assert report["events"][:2] == ["connect", "ready"]
    assert report["events"][-1] == "close:false"
    assert {"finish", "end"} <= set(report["events"])
    # The gnet side: data, both halves closed, a clean close.
    assert counter.events[0] == "data"
    assert counter.events[-1] == "close:false"
    assert {"end", "finish"} <= set(counter.events)
    assert "error" not in " ".join(counter.events)


@pytest.mark.parametrize("mode", ["echo", "count"])
def test_gnet_client_against_node_server(mode: str, transport: str, tmp_path: Path) -> None:
    """A gnet client uploads 3 MB and end()s; a Node server echoes it, or counts and sends 2 MB."""
    payload = os.urandom(CLIENT_SIZE)
    args = ["server", mode]
    if transport == "unix":
        args.append(str(tmp_path / "node.sock"))
    args.append(str(SERVER_SIZE))
    sock: gnet.Socket | None = None
    with spawn(node_argv("peer.js", *args)) as proc:
        try:
            where = read_json_line(proc, "listening address")
            options = (
                {"path": where["path"]}
                if "path" in where
                else {"port": where["port"], "host": HOST}
            )
            sock = client = gnet.connect(options)
            counter = Counter(client, payload)
            client.on("connect", lambda: send_all(client, payload, client.end))
            counter.wait()
            report = read_json_line(proc, "server report")
            assert proc.wait(timeout=PROC_TIMEOUT) == 0
        finally:
            if sock is not None:
                sock.destroy()

    assert report["received"] == CLIENT_SIZE
    assert report["received_sha256"] == sha(payload)
    expected = CLIENT_SIZE if mode == "echo" else SERVER_SIZE
    assert report["sent"] == expected
    assert counter.received == expected
    assert counter.digest.hexdigest() == report["sent_sha256"]
    assert report["had_error"] is False
    assert report["events"][-1] == "close:false"
    assert {"end", "finish"} <= set(report["events"])
    assert counter.events[:2] == ["connect", "ready"]
    assert counter.events[-1] == "close:false"
    assert {"finish", "end"} <= set(counter.events)
    assert "error" not in " ".join(counter.events)
