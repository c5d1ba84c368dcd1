"""A WSGI app and a raw-TCP gnet service, deployed side by side with gunicorn.

Two gunicorn commands, one module (run them from examples/, or add
``--pythonpath examples``)::

    gunicorn -k gevent -w 2 -b 127.0.0.1:8127 gunicorn_side_by_side:app
    GREET_URL=http://127.0.0.1:8127 \\
        gunicorn -k gnet.gunicorn.Worker -w 2 -b 127.0.0.1:8126 gunicorn_side_by_side:handle

The first is any WSGI app under gunicorn's gevent worker (``GET /greet?name=x``
answers ``hello, x``).  The second serves the gnet connection listener
``handle`` in two processes: each line a client sends is a name, and the
handler asks the WSGI app for the greeting with the blocking stdlib client
``urllib.request`` (cooperative: the gnet worker monkey-patches, as gunicorn's
gevent worker does) before writing it back::

    $ python -m gnet cat 127.0.0.1 8126
    alice
    hello, alice

Each has its own arbiter, so each is reloaded (HUP), resized (TTIN/TTOU)
and stopped (TERM drains) on its own; under systemd they are two units.
"""

from __future__ import annotations

import os
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterable
from typing import Any

import gnet

GREET_URL = os.environ.get("GREET_URL", "http://127.0.0.1:8127")


def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    """The WSGI app: ``/greet?name=x`` -> ``hello, x`` (and which process answered)."""
    if environ.get("PATH_INFO") != "/greet":
        start_response("404 Not Found", [("Content-Type", "text/plain")])
        return [b"not found\n"]
    query = urllib.parse.parse_qs(environ.get("QUERY_STRING", ""))
    name = query.get("name", ["world"])[0]
    body = f"hello, {name}\n".encode()
    start_response(
        "200 OK",
        [("Content-Type", "text/plain; charset=utf-8"), ("Content-Length", str(len(body)))],
    )
    return [body]


def handle(sock: gnet.Socket) -> None:
    """The gnet service, straight-line: a name per line in, a greeting per line out."""
    sock.set_encoding("utf8")
    with sock:
        while True:
            line = sock.readline(limit=1024)
            if not line:  # the client ended its side
                return
            query = urllib.parse.urlencode({"name": line.strip()})
            with urllib.request.urlopen(f"{GREET_URL}/greet?{query}", timeout=10) as resp:
                sock.sendall(resp.read().decode())
