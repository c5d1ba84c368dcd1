"""Reading: flowing and paused modes, read(), bytesRead, 'end' after the data, encodings.

The blocking helpers (recv, readline, ...) are in test_blocking_*.py.

Listeners run in gnet's greenlets, where a failing ``assert`` would only be
logged; so listeners record what they see and the test body asserts.
Each test names where its rule comes from: the Node test it ports
(test/parallel/... unless said otherwise), a NODE-NET.md rule, or API.md.
Node v20 is the baseline; expected values Node's tests do not spell out
were checked against v20 with small scripts.
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from typing import Any

import gevent
import pytest
from gevent.event import AsyncResult

import gnet
from support import (
    TIMEOUT,
    Collector,
    connected_pair,
    give_a_chance,
    listen_local,
    port_of,
    record,
    wait_until,
    waiter,
)

# ----------------------------------------------------------------------
# flowing, paused, and the read buffer's bound


def test_rule_d6__resume_without_data_listener_discards(server_factory: Any, track: Any) -> None:
    # NODE-NET D6 (test-net-bytes-stats.js's "old mode"): resume() with no
    # 'data' listener drains the socket so that 'end' fires.
    srv = server_factory(lambda s: s.end(b"x" * 100_000))
    sock = track(gnet.connect(port_of(srv), "127.0.0.1"))
    closed = waiter(sock, "close")
    ended = waiter(sock, "end")
    assert sock.resume() is sock
    ended.get(timeout=TIMEOUT)
    assert sock.bytes_read == 100_000
    assert sock.readable_length == 0
    assert closed.get(timeout=TIMEOUT) == (False,)


def test_pause_resume_connecting__pause_before_data_listener(listen: Any) -> None:
    # test-net-pause-resume-connecting.js: pause()/resume() before connect
    # decide whether a later 'data' listener gets data (3 of 5 clients do).
    connections: list[gnet.Socket] = []
    finished = Collector()

    def on_connection(conn: gnet.Socket) -> None:
        connections.append(conn)
        conn.on("finish", finished)
        conn.end("This was the year he fell to pieces.")

    server = listen(on_connection, 0, "localhost")
    port = port_of(server)
    got: dict[int, list[bytes]] = {i: [] for i in range(1, 6)}
    clients: dict[int, gnet.Socket] = {}
    sequences = {
        1: ["resume"],
        2: ["pause", "resume"],
        3: ["pause"],
        4: ["resume", "pause", "resume"],
        5: ["resume", "resume", "pause"],
    }
    try:
        for i, calls in sequences.items():
            conn = gnet.create_connection(port, "localhost")
            for call in calls:
                getattr(conn, call)()
            conn.on("data", got[i].append)
            clients[i] = conn
        ends = {i: waiter(clients[i], "end") for i in (1, 2, 4)}
        for i in (1, 2, 4):
            ends[i].get(timeout=TIMEOUT)
        finished.wait(5)  # every server has sent its data and FIN (over loopback: arrived)
        give_a_chance()  # for 'data' the paused ones must not emit
        assert {i: b"".join(v) for i, v in got.items()} == {
            1: b"This was the year he fell to pieces.",
            2: b"This was the year he fell to pieces.",
            3: b"",
            4: b"This was the year he fell to pieces.",
            5: b"",
        }
        assert clients[3].is_paused() and clients[5].is_paused()
        late_ends = {i: waiter(clients[i], "end") for i in (3, 5)}
        for i in (3, 5):  # Node's tear-down: drop the listener and resume
            clients[i].remove_all_listeners("data")
            clients[i].resume()
        for i in (3, 5):
            late_ends[i].get(timeout=TIMEOUT)
    finally:
        for conn in clients.values():
            conn.destroy()
    assert len(connections) == 5


def test_throttle__pause_throttles_and_nothing_is_lost(server_factory: Any, track: Any) -> None:
    # test-net-throttle.js: the server writes until write() returns False and
    # a bit more; the client pauses on each chunk and resumes a little later.
    body = "C" * 1024
    sent: dict[str, Any] = {}

    def on_connection(conn: gnet.Socket) -> None:
        n = 1
        while conn.write(body):
            n += 1
        conn.write(body)
        conn.write(body)
        n += 2
        sent["total"] = n * len(body)
        sent["buffer_size"] = conn.buffer_size
        sent["writable_length"] = conn.writable_length
        conn.end()

    srv = server_factory(on_connection)
    client = track(gnet.create_connection(port_of(srv), "127.0.0.1"))
    client.set_encoding("ascii")
    state = {"received": 0, "pauses": 0, "paused": False}
    unchanged_while_paused: list[bool] = []

    def resume_later(before: int) -> None:
        # Paused "a little", as Node's test does: nothing may arrive meanwhile
        # (the behaviour under test).
        gevent.sleep(0.005)
        unchanged_while_paused.append(state["received"] == before)
        state["paused"] = False
        client.resume()

    def on_data(chunk: str) -> None:
        state["received"] += len(chunk)
        if not state["paused"]:
            client.pause()
            state["pauses"] += 1
            state["paused"] = True
            gevent.spawn(resume_later, state["received"])

    client.on("data", on_data)
    client.on("end", lambda: client.end())
    assert waiter(client, "close").get(timeout=TIMEOUT * 2) == (False,)
    assert state["received"] == sent["total"]
    assert state["pauses"] > 1
    assert all(unchanged_while_paused)
    assert sent["buffer_size"] >= 0
    assert sent["writable_length"] <= sent["total"]


def test_rule_d4__paused_socket_buffers_boundedly(server_factory: Any, track: Any) -> None:
    # NODE-NET D4 (test-net-throttle.js, pummel/test-net-pause.js): a paused
    # socket stops reading from the kernel near its high-water mark, so the
    # sender is pushed back; resuming delivers everything.
    total = 8 * 1024 * 1024
    sender: dict[str, Any] = {}

    def on_connection(s: gnet.Socket) -> None:
        sent = [0]

        def pump() -> None:
            while sent[0] < total:
                sent[0] += 65536
                if not s.write(bytes(65536)):
                    sender["blocked_at"] = sent[0]
                    return
            s.end()

        s.on("drain", pump)
        pump()

    srv = server_factory(on_connection)
    sock = track(gnet.connect(port_of(srv), "127.0.0.1"))
    sock.pause()
    gnet.once(sock, "connect", timeout=TIMEOUT)
    wait_until(lambda: "blocked_at" in sender, message="the sender was never pushed back")
    give_a_chance(0.1)  # for reads the paused socket must not do
    assert sock.readable_length <= sock.readable_high_water_mark + 65536
    assert sock.bytes_read < total
    assert sender["blocked_at"] < total
    received = [0]
    sock.on("data", lambda chunk: received.__setitem__(0, received[0] + len(chunk)))
    ended = waiter(sock, "end")
    sock.resume()
    ended.get(timeout=TIMEOUT)
    assert received[0] == total


def test_rule_d2__end_waits_until_buffered_data_is_consumed(
    server_factory: Any, track: Any
) -> None:
    # NODE-NET D2: with data buffered and nobody reading, the peer's FIN
    # does not produce 'end'; consuming the data does.
    server_finished = AsyncResult()

    def on_connection(s: gnet.Socket) -> None:
        s.on("finish", lambda: server_finished.set(True))
        s.end(b"data")

    srv = server_factory(on_connection)
    sock = track(gnet.connect(port_of(srv), "127.0.0.1"))
    log: list[Any] = []
    record(sock, ["end", "close"], log)
    server_finished.get(timeout=TIMEOUT)
    wait_until(lambda: sock.readable_length == 4)  # the data arrived; the FIN with it
    give_a_chance()  # for an 'end' that must not come
    assert log == []
    assert sock.readable is True
    assert sock.readable_length == 4
    ended = waiter(sock, "end")
    got: list[bytes] = []
    sock.on("data", got.append)
    ended.get(timeout=TIMEOUT)
    assert got == [b"data"]


# ----------------------------------------------------------------------
# read()


def test_socket_read_size_is_nodes_non_blocking_pull(track: Any) -> None:
    # API.md Socket.read(size): Node's non-blocking pull.
    _, client, conn = connected_pair(track)
    client.pause()
    conn.write(b"abcdef")
    wait_until(lambda: client.readable_length == 6)
    assert client.read(10) is None  # not enough buffered, stream still open
    assert client.readable_length == 6
    assert client.read(4) == b"abcd"
    assert client.readable_length == 2
    assert client.read() == b"ef"
    assert client.read() is None  # nothing buffered
    ended = waiter(client, "end")
    conn.end(b"xyz")
    assert wait_until(lambda: client.read(10)) == b"xyz"  # at the end: what is left
    assert ended.get(timeout=TIMEOUT) == ()


def test_socket_read_starts_reading_on_a_socket_paused_before_connect(track: Any) -> None:
    # Node: read() on a paused socket asks the handle for data (_read), even
    # when the socket was paused before it connected.
    server = track(gnet.create_server(lambda conn: conn.end(b"abcdef")))
    port = listen_local(server)
    sock = track(gnet.Socket())
    sock.pause()
    sock.connect(port, "127.0.0.1")
    gnet.once(sock, "connect", timeout=TIMEOUT)
    assert sock.read() is None  # nothing yet; this asks for data
    assert wait_until(lambda: sock.read(10), timeout=2) == b"abcdef"


def test_create_server_pause_on_connect_read_pulls_data(track: Any) -> None:
    # Node: a pause_on_connect socket reads nothing until asked; read() asks.
    accepted = AsyncResult()
    server = track(gnet.create_server({"pause_on_connect": True}, accepted.set))
    port = listen_local(server)
    sock = track(gnet.connect(port, "127.0.0.1"))
    sock.write(b"hello")
    conn = track(accepted.get(timeout=TIMEOUT))
    assert conn.read() is None  # nothing yet; this asks for data
    assert wait_until(lambda: conn.read(5), timeout=2) == b"hello"


# ----------------------------------------------------------------------
# bytesRead


def test_bytes_read__grows_and_survives_close(server_factory: Any, track: Any) -> None:
    # test-net-bytes-read.js (NODE-NET D8/I6)
    big = bytes(1024 * 1024)
    srv = server_factory(lambda s: s.end(big))
    sock = track(gnet.connect(port_of(srv), "127.0.0.1"))
    seen: list[int] = []
    at: dict[str, int] = {}
    sock.on("connect", lambda: sock.on("data", lambda chunk: seen.append(sock.bytes_read)))
    sock.on("end", lambda: at.setdefault("end", sock.bytes_read))
    closed = waiter(sock, "close")
    sock.end()
    assert closed.get(timeout=TIMEOUT) == (False,)
    assert seen == sorted(set(seen))  # strictly increasing
    assert seen[-1] == len(big)
    assert at == {"end": len(big)}
    assert sock.bytes_read == len(big)
    assert sock.bytesRead == len(big)


# ----------------------------------------------------------------------
# setEncoding: str data, decoded incrementally


def test_large_string__utf8_multibyte_split(server_factory: Any, track: Any) -> None:
    # test-net-large-string.js: 40K 'あ' (3 bytes each) read with setEncoding:
    # characters split between reads are never corrupted.
    count = 40 * 1024
    data = "あ" * count
    chunks: list[str] = []
    server_closed = AsyncResult()

    def on_connection(sock: gnet.Socket) -> None:
        sock.set_encoding("UTF-8")
        sock.on("data", chunks.append)
        sock.on("end", lambda: sock.end())
        sock.on("close", server_closed.set)

    srv = server_factory(on_connection)
    client = track(gnet.create_connection(port_of(srv), "127.0.0.1"))
    client.write(data, "UTF-8")
    client.end()
    assert server_closed.get(timeout=TIMEOUT) is False
    assert sum(len(c) for c in chunks) == count
    assert "".join(chunks) == data
    assert all(chunks)  # no empty 'data' for a read holding only part of a character


def test_binary__latin1_round_trip(server_factory: Any, track: Any) -> None:
    # test-net-binary.js: all 256 byte values through a latin1 echo server.
    binary_string = "".join(chr(i) for i in range(255, -1, -1))

    def on_connection(conn: gnet.Socket) -> None:
        conn.set_encoding("latin1")
        conn.on("data", lambda chunk: conn.write(chunk, "latin1"))
        conn.on("end", lambda: conn.end())

    srv = server_factory(on_connection)
    c = track(gnet.create_connection({"port": port_of(srv), "host": "127.0.0.1"}))
    c.set_encoding("latin1")
    recv: list[str] = []
    j = [0]

    def on_data(chunk: str) -> None:
        n = j[0] + len(chunk)
        while j[0] < n and j[0] < 256:
            c.write(chr(j[0]), "latin1")
            j[0] += 1
        if j[0] == 256:
            c.end()
        recv.append(chunk)

    c.on("data", on_data)
    c.on("connect", lambda: c.write(binary_string, "binary"))
    closed = waiter(c, "close")
    assert closed.get(timeout=TIMEOUT) == (False,)
    text = "".join(recv)
    assert len(text) == 2 * 256
    assert text[:256][::-1] == text[256:]
    assert text[256:] == "".join(chr(i) for i in range(256))


def _split_sender(
    pieces: list[bytes], received: Callable[[], int]
) -> Callable[[gnet.Socket], None]:
    """A connection listener sending ``pieces`` as separate segments, then FIN.

    Each piece is sent once the peer has read the one before (``received()``
    is its byte count), so that each arrives in a read of its own.
    """

    def on_connection(sock: gnet.Socket) -> None:
        sock.set_no_delay()

        def send() -> None:
            sent = 0
            for piece in pieces:
                sock.write(piece)
                sent += len(piece)
                wait_until(lambda n=sent: received() >= n)
            sock.end()

        gevent.spawn(send)

    return on_connection


@pytest.mark.parametrize(
    ("encoding", "decode"),
    [
        ("utf8", lambda b: b.decode("utf-8")),
        ("base64", lambda b: base64.b64encode(b).decode()),
        ("hex", lambda b: b.hex()),
        ("latin1", lambda b: b.decode("latin-1")),
        ("utf16le", lambda b: b.decode("utf-16-le")),
    ],
)
def test_set_encoding__incremental_decoding(
    encoding: str, decode: Callable[[bytes], str], server_factory: Any, track: Any
) -> None:
    # NODE-NET D5: setEncoding decodes incrementally (StringDecoder); a
    # character (or base64 group) split between reads is held back.
    payload = "añ€𝄞あ".encode() + b"\x00\x01"
    pieces = [payload[i : i + 1] for i in range(len(payload))]
    if encoding == "utf16le":
        payload = "añ€𝄞あ".encode("utf-16-le")
        pieces = [payload[:3], payload[3:7], payload[7:]]
    srv = server_factory(_split_sender(pieces, lambda: sock.bytes_read))
    sock = track(gnet.connect(port_of(srv), "127.0.0.1"))
    assert sock.set_encoding(encoding) is sock
    chunks: list[Any] = []
    sock.on("data", chunks.append)
    gnet.once(sock, "end", timeout=TIMEOUT)
    assert all(isinstance(c, str) and c for c in chunks)
    assert "".join(chunks) == decode(payload)
    assert "\ufffd" not in "".join(chunks)
    if encoding == "base64":  # only whole 3-byte groups before the end
        assert all(len(c) % 4 == 0 for c in chunks)


def test_set_encoding__read_returns_str(server_factory: Any, track: Any) -> None:
    # NODE-NET D5: read() yields strings too after setEncoding.
    srv = server_factory(lambda s: s.end(b"abc"))
    sock = track(gnet.connect(port_of(srv), "127.0.0.1"))
    sock.set_encoding("hex")
    assert sock.recv(timeout=TIMEOUT) == "616263"


def test_set_encoding__twice_keeps_buffered_text() -> None:
    # Text already decoded stays as it is when set_encoding() is called again
    # (it used to be re-encoded as latin-1, which fails on '€').
    conn = gnet.Socket()
    conn.set_encoding("utf8")
    conn.unshift("€uro")
    conn.set_encoding("utf8")
    assert conn.read() == "€uro"
