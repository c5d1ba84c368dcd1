"""``async def`` listeners are refused (issue 12).

gnet calls listeners; calling an ``async def`` only makes a coroutine that
nobody awaits, so the handler silently never ran (a "never awaited" warning,
and a client waiting for its own timeout).  Every way of adding a listener
now raises a ``TypeError`` (``ERR_INVALID_ARG_VALUE``) that says so.  Node
has no such case (an async function is a function there, and it runs).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import pytest

import gnet
from gnet import EventEmitter
from support import raises_code


async def async_handler(*args: Any) -> None:
    pass


async def async_generator(*args: Any) -> Any:
    yield args


class AsyncCallable:
    async def __call__(self, *args: Any) -> None:
        pass

    async def method(self, *args: Any) -> None:
        pass


ASYNC = [
    async_handler,
    async_generator,
    AsyncCallable(),
    AsyncCallable().method,
    functools.partial(async_handler, 1),
]


def adders(emitter: EventEmitter) -> list[Callable[[Any], Any]]:
    return [
        lambda fn: emitter.on("x", fn),
        lambda fn: emitter.add_listener("x", fn),
        lambda fn: emitter.once("x", fn),
        lambda fn: emitter.prepend_listener("x", fn),
        lambda fn: emitter.prepend_once_listener("x", fn),
        lambda fn: emitter.on("x")(fn),  # the decorator form
        lambda fn: emitter.once("x")(fn),
    ]


@pytest.mark.parametrize("fn", ASYNC, ids=lambda fn: type(fn).__name__)
def test_every_way_to_add_a_listener_refuses_an_async_function(fn: Any) -> None:
    emitter = EventEmitter()
    for add in adders(emitter):
        err = raises_code(TypeError, "ERR_INVALID_ARG_VALUE", lambda add=add: add(fn))
        assert "async function" in str(err) and "plain def" in str(err)
    assert emitter.listener_count("x") == 0


def test_create_server_refuses_an_async_connection_listener() -> None:
    # The case: the handler never ran and the client hung.
    err = raises_code(TypeError, "ERR_INVALID_ARG_VALUE", lambda: gnet.create_server(async_handler))
    assert "connectionListener" in str(err)
    raises_code(TypeError, "ERR_INVALID_ARG_VALUE", lambda: gnet.create_server({}, async_handler))


def test_socket_listeners_and_callbacks_refuse_async_functions() -> None:
    sock = gnet.Socket()
    raises_code(TypeError, "ERR_INVALID_ARG_VALUE", lambda: sock.on("data", async_handler))
    raises_code(TypeError, "ERR_INVALID_ARG_VALUE", lambda: sock.set_timeout(10, async_handler))
    raises_code(TypeError, "ERR_INVALID_ARG_VALUE", lambda: sock.write(b"x", async_handler))
    assert sock.writable_length == 0  # refused before anything was queued
    server = gnet.create_server()
    raises_code(TypeError, "ERR_INVALID_ARG_VALUE", lambda: server.close(async_handler))


@pytest.mark.parametrize(
    "fn",
    [lambda *a: None, print, list, functools.partial(print, "x"), AsyncCallable],
    ids=["lambda", "builtin", "type", "partial", "class"],
)
def test_plain_callables_are_taken(fn: Any) -> None:
    emitter = EventEmitter()
    emitter.on("x", fn)
    assert emitter.listener_count("x") == 1
