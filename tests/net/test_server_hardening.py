"""Server items of issue 12: close() never loses a connection the kernel completed;
``max_connections`` and ``get_connections`` check their arguments at once.

Node v20's behaviour (``node tests/node/hardening.js NAME``)::

    close_in_connect_listener
      ["server:connection","client:connect","server:data:hi","client:data:bye",
       "client:end","client:close","server:close","server:close-cb:null",
       "server:conn-close"]
    server_arguments
      ["maxConnections=abc:abc","maxConnections=-1:-1","maxConnections=NaN:NaN",
       "maxConnections=1.5:1.5","maxConnections=null:null",
       "getConnections(5):ERR_INVALID_ARG_TYPE","getConnections(undefined):ERR_INVALID_ARG_TYPE"]

Node takes any ``maxConnections`` and lets JavaScript's comparison decide each
connection (``'abc'``: no limit, ``-1``: every connection dropped); gnet
refuses a bad value when it is set (README, Differences from Node).
"""

from __future__ import annotations

from typing import Any

import pytest

import gnet
from support import TIMEOUT, Collector, listen_and_wait, raises_code


def _served_after_close_in_connect(path: str | None, track: Any) -> tuple[list[str], list[str]]:
    server_log: list[str] = []
    client_log: list[str] = []
    done = Collector()

    def on_connection(conn: gnet.Socket) -> None:
        server_log.append("connection")

        def on_data(data: bytes) -> None:
            server_log.append(f"data:{data.decode()}")
            conn.end("bye")

        conn.on("data", on_data)
        conn.on("close", lambda had_error: server_log.append("conn-close"))

    server: gnet.Server = track(gnet.create_server(on_connection))
    server.on("close", lambda: (server_log.append("close"), done()))
    where = listen_and_wait(server, path)
    client: gnet.Socket = track(
        gnet.connect({"path": where} if path else {"port": where, "host": "127.0.0.1"})
    )

    def on_connect() -> None:
        client_log.append("connect")
        server.close(lambda err: server_log.append(f"close-cb:{err}"))
        client.write("hi")

    client.on("connect", on_connect)
    client.on("data", lambda data: client_log.append(f"data:{data.decode()}"))
    client.on("error", lambda err: client_log.append(f"error:{err.code}"))
    client.on("end", lambda: client_log.append("end"))
    client.on("close", lambda had_error: (client_log.append("close"), done()))
    done.wait(2)
    return server_log, client_log


@pytest.mark.parametrize("unix", [False, True], ids=["tcp", "unix"])
def test_server_close_in_a_clients_connect_listener__serves_that_connection(
    unix: bool, sock_path: str, track: Any
) -> None:
    # issue 12: gnet closed the listening socket with the connection still in
    # the kernel's queue: the client got ECONNRESET, the server no
    # 'connection'.  Node v20 serves it to the end (close_in_connect_listener).
    server_log, client_log = _served_after_close_in_connect(sock_path if unix else None, track)
    assert client_log == ["connect", "data:bye", "end", "close"]
    assert server_log[:2] == ["connection", "data:hi"]
    assert sorted(server_log[2:]) == ["close", "close-cb:None", "conn-close"]


@pytest.mark.parametrize(
    ("value", "exc", "code"),
    [
        ("abc", TypeError, "ERR_INVALID_ARG_TYPE"),
        (True, TypeError, "ERR_INVALID_ARG_TYPE"),
        ([1], TypeError, "ERR_INVALID_ARG_TYPE"),
        (-1, ValueError, "ERR_OUT_OF_RANGE"),
        (float("nan"), ValueError, "ERR_OUT_OF_RANGE"),
    ],
)
def test_max_connections__bad_value_raises_when_set(value: Any, exc: type, code: str) -> None:
    # issue 12: max_connections = 'abc' was taken, then every client was
    # dropped with an ERROR traceback each.  Now the assignment raises, and
    # the limit is unchanged.
    server = gnet.create_server()
    server.max_connections = 3
    err = raises_code(exc, code, lambda: setattr(server, "max_connections", value))
    assert "server.maxConnections" in str(err)
    assert server.max_connections == 3
    raises_code(exc, code, lambda: setattr(server, "maxConnections", value))


@pytest.mark.parametrize("value", [None, 0, 1, 1.5, float("inf")])
def test_max_connections__numbers_and_none_are_taken(value: Any) -> None:
    server = gnet.create_server()
    server.max_connections = value
    assert server.max_connections == value
    assert server.maxConnections == value  # type: ignore[attr-defined]


def test_max_connections__inf_means_no_limit(server_factory: Any, track: Any) -> None:
    accepted = Collector()
    server = server_factory(accepted)
    server.max_connections = float("inf")
    track(gnet.open_connection(server.address()["port"], "127.0.0.1", timeout=TIMEOUT))
    accepted.wait(1)


@pytest.mark.parametrize("callback", [5, None, "cb"])
def test_get_connections__non_callable_raises_at_once(callback: Any) -> None:
    # issue 12: get_connections(5) logged later instead of raising.  Node v20
    # throws ERR_INVALID_ARG_TYPE (server_arguments).
    server = gnet.create_server()
    raises_code(TypeError, "ERR_INVALID_ARG_TYPE", lambda: server.get_connections(callback))
