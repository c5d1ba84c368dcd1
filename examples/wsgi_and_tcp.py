"""A WSGI app and a gnet TCP server in one process, under gevent.monkey.patch_all().

    python examples/wsgi_and_tcp.py [TCP_PORT [HTTP_PORT]]   (default 8126 and 8127; 0: free)

The HTTP side is a gevent.pywsgi server with a small WSGI app
(``GET /greet?name=x`` answers ``hello, x``).  The TCP side is gnet: each
line a client sends is a name, and the handler asks the WSGI app for the
greeting with the *blocking* stdlib client ``urllib.request`` before writing
it back.  Thanks to ``patch_all()`` the blocking call only blocks that
connection's greenlet, so both servers keep serving everyone concurrently.

    $ python -m gnet cat 127.0.0.1 8126
    alice
    hello, alice
"""

from __future__ import annotations

from gevent import monkey

monkey.patch_all()  # first, before anything imports socket, ssl, time, ...

import sys  # noqa: E402
import urllib.parse  # noqa: E402
import urllib.request  # noqa: E402
from collections.abc import Callable, Iterable  # noqa: E402
from typing import Any  # noqa: E402

from gevent import pywsgi  # noqa: E402

import gnet  # noqa: E402


def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    """The WSGI app: ``/greet?name=x`` -> ``hello, x``."""
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


def make_handler(base_url: str) -> Callable[[gnet.Socket], None]:
    def handle(sock: gnet.Socket) -> None:
        sock.set_encoding("utf8")
        try:
            with sock:
                while True:
                    line = sock.readline(limit=1024)
                    if not line:  # the client ended its side
                        break
                    query = urllib.parse.urlencode({"name": line.strip()})
                    # A blocking stdlib HTTP client: cooperative thanks to patch_all().
                    with urllib.request.urlopen(f"{base_url}/greet?{query}", timeout=10) as resp:
                        answer = resp.read().decode()
                    sock.sendall(answer)
        except OSError as exc:
            print(f"client error: {exc}", flush=True)

    return handle


def main(argv: list[str]) -> None:
    tcp_port = int(argv[1]) if len(argv) > 1 else 8126
    http_port = int(argv[2]) if len(argv) > 2 else 8127
    web = pywsgi.WSGIServer(("127.0.0.1", http_port), app, log=None)
    web.start()  # serves in the background greenlets; gnet.run() below keeps us alive
    base_url = f"http://127.0.0.1:{web.server_port}"
    print(f"http listening on {base_url}/", flush=True)

    server = gnet.create_server(make_handler(base_url))
    server.on("error", lambda err: sys.exit(f"tcp server: {err}"))
    server.listen(
        tcp_port,
        "127.0.0.1",
        lambda: print(f"tcp listening on 127.0.0.1:{server.address()['port']}", flush=True),
    )
    gnet.run()


if __name__ == "__main__":
    main(sys.argv)
