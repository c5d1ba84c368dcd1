"""Servers on UNIX socket paths: the socket file, its mode, abstract names, path errors
(test-net-server-listen-path.js, NODE-NET J1-J5).

Listeners run in gnet's greenlets, where a failing ``assert`` would only be
logged; so listeners record what they see and the test body asserts.
Each test names where its rule comes from: the Node test it ports
(test/parallel/... unless said otherwise), a NODE-NET.md rule, or API.md.
Node v20 is the baseline; expected values Node's tests do not spell out
were checked against v20 with small scripts.
"""

from __future__ import annotations

import errno
import os
import re
import socket
import stat
from collections.abc import Callable
from typing import Any

import pytest

import gnet
from support import (
    TIMEOUT,
    Collector,
    abstract_name,
    give_a_chance,
    raises_code,
)

# ----------------------------------------------------------------------
# the socket file


PATH_FORMS: dict[str, Callable[[gnet.Server, str, Callable[..., Any]], Any]] = {
    "listen(path)": lambda s, p, cb: s.listen(p).on("listening", cb),
    "listen({path})": lambda s, p, cb: s.listen({"path": p}).on("listening", cb),
    "listen(path, cb)": lambda s, p, cb: s.listen(p, cb),
    "listen({path}, cb)": lambda s, p, cb: s.listen({"path": p}, cb),
}


@pytest.mark.parametrize("form", list(PATH_FORMS))
def test_server_listen_path__forms(track: Any, sock_path: str, form: str) -> None:
    # test-net-server-listen-path.js: every call form listens on the path.
    server: gnet.Server = track(gnet.create_server())
    listening = Collector()
    PATH_FORMS[form](server, sock_path, listening)
    listening.wait(1)
    assert server.address() == sock_path
    assert stat.S_ISSOCK(os.stat(sock_path).st_mode)
    server.close()
    gnet.once(server, "close", timeout=TIMEOUT)


@pytest.mark.parametrize(
    ("options", "mode"),
    [
        ({}, 0o700),
        ({"readable_all": True}, 0o744),
        ({"writable_all": True}, 0o722),
        ({"readable_all": True, "writable_all": True}, 0o766),
        ({"readableAll": True, "writableAll": True}, 0o766),
    ],
    ids=["none", "readable_all", "writable_all", "both", "camelCase"],
)
def test_server_listen_path__readable_all_writable_all_chmod(
    track: Any, sock_path: str, options: dict[str, Any], mode: int
) -> None:
    # "Test pipe chmod": readableAll/writableAll chmod the socket file for
    # all users (NODE-NET J2).  Under umask 077 each flag is visible on its
    # own; the modes are what Node v20 produces.
    old_umask = os.umask(0o077)
    try:
        server: gnet.Server = track(gnet.create_server())
        listening = Collector()
        server.listen({"path": sock_path, **options}, listening)
    finally:
        os.umask(old_umask)
    listening.wait(1)
    assert stat.S_IMODE(os.stat(sock_path).st_mode) == mode


def test_server_listen_path__socket_file_removed_on_close(track: Any, sock_path: str) -> None:
    # API.md / NODE-NET J1: close() removes the socket file the server created.
    server: gnet.Server = track(gnet.create_server())
    server.listen(sock_path)
    gnet.once(server, "listening", timeout=TIMEOUT)
    assert os.path.exists(sock_path)
    server.close()
    gnet.once(server, "close", timeout=TIMEOUT)
    assert not os.path.exists(sock_path)


def test_server_listen_path__can_listen_again_after_close(track: Any, sock_path: str) -> None:
    # test-net-server-listen-path.js (NODE-NET J1):
    # Because close() unlinked the file, the same path can be used again.
    server: gnet.Server = track(gnet.create_server())
    server.listen(sock_path)
    gnet.once(server, "listening", timeout=TIMEOUT)
    server.close()
    gnet.once(server, "close", timeout=TIMEOUT)
    again: gnet.Server = track(gnet.create_server())
    listening, errors = Collector(), Collector()
    again.on("error", errors)
    again.listen(sock_path, listening)
    listening.wait(1)
    assert errors.calls == []


def test_server_listen_path__handle_path_not_unlinked(track: Any, sock_path: str) -> None:
    # NODE-NET J1: a server given a handle (listen(handle)) does not unlink the
    # handle's path when it closes.
    raw: socket.socket = track(socket.socket(socket.AF_UNIX, socket.SOCK_STREAM))
    raw.bind(sock_path)
    raw.listen(8)
    server: gnet.Server = track(gnet.create_server(lambda conn: conn.resume().end(b"ok")))
    listening = Collector()
    server.listen(raw, listening)
    listening.wait(1)
    assert server.address() == sock_path
    peer: gnet.Socket = track(gnet.open_connection(path=sock_path, timeout=TIMEOUT))
    assert peer.recv_exactly(2, timeout=TIMEOUT) == b"ok"
    peer.destroy()
    server.close()
    gnet.once(server, "close", timeout=TIMEOUT)
    assert os.path.exists(sock_path)


def test_server_address__unix_none_after_close(track: Any, sock_path: str) -> None:
    # API.md: None when not listening (Node v20 still returned the path).
    server: gnet.Server = track(gnet.create_server())
    server.listen(sock_path)
    gnet.once(server, "listening", timeout=TIMEOUT)
    server.close()
    gnet.once(server, "close", timeout=TIMEOUT)
    assert server.address() is None


# ----------------------------------------------------------------------
# errors


def test_server_listen_path__eaddrinuse_on_a_used_path(track: Any, sock_path: str) -> None:
    # test-net-server-listen-path.js:
    # "Test should emit 'error' events when listening fails": a second server
    # on a path in use gets EADDRINUSE with Node's message prefix; its
    # callback is never called; the first server keeps its file and works.
    server1: gnet.Server = track(gnet.create_server())
    server1.listen({"path": sock_path})
    gnet.once(server1, "listening", timeout=TIMEOUT)
    server2: gnet.Server = track(gnet.create_server())
    listening, errors = Collector(), Collector()
    server2.listen({"path": sock_path, "writable_all": True}, listening)
    server2.on("error", errors)
    errors.wait(1)
    err = errors.firsts[0]
    assert err.code == "EADDRINUSE"
    assert re.match(r"^listen EADDRINUSE: address already in use", str(err))
    assert str(err) == f"listen EADDRINUSE: address already in use {sock_path}"
    assert isinstance(err, OSError) and err.errno == errno.EADDRINUSE
    assert err.syscall == "listen"
    assert err.address == sock_path
    assert err.port == -1
    give_a_chance()  # for a listen callback that must not come
    assert listening.calls == []
    assert server2.listening is False
    assert stat.S_ISSOCK(os.stat(sock_path).st_mode)
    peer: gnet.Socket = track(gnet.open_connection(path=sock_path, timeout=TIMEOUT))
    assert peer.remote_address is None  # NODE-NET J5


def test_server_listen_path__eaddrinuse_on_a_stale_file(track: Any, sock_path: str) -> None:
    # NODE-NET J1: any existing file at the path gives EADDRINUSE; Node never
    # unlinks before binding.
    with open(sock_path, "w") as f:
        f.write("not a socket")
    server: gnet.Server = track(gnet.create_server())
    errors = Collector()
    server.on("error", errors)
    server.listen(sock_path)
    errors.wait(1)
    assert errors.firsts[0].code == "EADDRINUSE"
    with open(sock_path) as f:
        assert f.read() == "not a socket"


def test_better_error_messages_listen_path__error_has_address(track: Any) -> None:
    # test-net-better-error-messages-listen-path.js:
    # listen on a path in a missing directory: 'error' with e.address === path;
    # neither the connection listener nor the listen callback is called.
    fp = "/blah/fadfa"
    connections, listening, errors = Collector(), Collector(), Collector()
    server: gnet.Server = track(gnet.create_server(connections))
    server.listen(fp, listening)
    server.on("error", errors)
    errors.wait(1)
    err = errors.firsts[0]
    assert err.address == fp
    assert err.syscall == "listen"
    give_a_chance()  # for a listen callback that must not come
    assert listening.calls == [] and connections.calls == []
    assert server.listening is False


def test_better_error_messages_listen_path__code_is_eacces(track: Any) -> None:
    # Node v20 (libuv) reports a missing directory on listen(path) as EACCES,
    # "listen EACCES: permission denied /blah/fadfa", port -1.
    fp = "/blah/fadfa"
    server: gnet.Server = track(gnet.create_server())
    errors = Collector()
    server.on("error", errors)
    server.listen(fp)
    errors.wait(1)
    err = errors.firsts[0]
    assert err.code == "EACCES"
    assert str(err) == f"listen EACCES: permission denied {fp}"
    assert err.port == -1


# ----------------------------------------------------------------------
# abstract names


def test_server_listen_path__abstract_socket(track: Any) -> None:
    # NODE-NET J4: a path starting with '\0' is a Linux abstract socket:
    # address() returns it, clients can connect, there is no file.
    name = abstract_name()
    server: gnet.Server = track(gnet.create_server(lambda conn: conn.end(b"hi")))
    listening = Collector()
    server.listen(name, listening)
    listening.wait(1)
    assert server.address() == name
    assert not os.path.exists(name[1:])
    peer: gnet.Socket = track(gnet.open_connection(path=name, timeout=TIMEOUT))
    assert peer.recv_exactly(2, timeout=TIMEOUT) == b"hi"


def test_server_listen_path__abstract_socket_eaddrinuse(track: Any) -> None:
    # Node v20: a second server on a used abstract name gets EADDRINUSE with
    # the name in the message.
    name = abstract_name()
    server1: gnet.Server = track(gnet.create_server())
    server1.listen(name)
    gnet.once(server1, "listening", timeout=TIMEOUT)
    server2: gnet.Server = track(gnet.create_server())
    errors = Collector()
    server2.on("error", errors)
    server2.listen(name)
    errors.wait(1)
    err = errors.firsts[0]
    assert err.code == "EADDRINUSE"
    assert str(err) == f"listen EADDRINUSE: address already in use {name}"


def test_server_listen_path__abstract_socket_freed_on_close(track: Any) -> None:
    # NODE-NET J4:
    # Nothing to unlink: once closed, the abstract name can be listened on again.
    name = abstract_name()
    server: gnet.Server = track(gnet.create_server())
    server.listen(name)
    gnet.once(server, "listening", timeout=TIMEOUT)
    server.close()
    gnet.once(server, "close", timeout=TIMEOUT)
    again: gnet.Server = track(gnet.create_server())
    listening = Collector()
    again.listen(name, listening)
    listening.wait(1)


@pytest.mark.parametrize("flag", ["readable_all", "writable_all", "readableAll"])
def test_server_listen_path__abstract_socket_rejects_chmod(track: Any, flag: str) -> None:
    # NODE-NET J2: readableAll/writableAll with an abstract path throw
    # ERR_INVALID_ARG_VALUE (Node's message, typo included).
    server: gnet.Server = track(gnet.create_server())
    err = raises_code(
        TypeError,
        "ERR_INVALID_ARG_VALUE",
        lambda: server.listen({"path": abstract_name(), flag: True}),
    )
    assert re.match(
        r"^The argument 'options' can not set readableAll or writableAllt to true "
        r"when path is abstract unix socket\. Received .+$",
        str(err),
    ), str(err)
    assert server.listening is False
