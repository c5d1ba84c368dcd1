"""A line-protocol server written as plain straight-line code.

    python examples/line_server.py [PORT]      (default 8125; 0 picks a free port)

Each client sends one command per line and gets one reply line per command:

    ECHO some text    ->  some text
    ADD 1 2 3.5       ->  6.5
    UPPER some text   ->  SOME TEXT
    QUIT              ->  BYE            (then the server ends the connection)
    anything else     ->  ERR ...

The handler is ordinary blocking code (``readline()``, ``sendall()``) in the
connection's own greenlet: every client is served concurrently without a
callback in sight.  ``with sock:`` ends the connection (flush, then FIN) when
the handler is done, or destroys it if the handler fails.

Try it with ``python -m gnet cat 127.0.0.1 8125``.
"""

from __future__ import annotations

import sys

import gnet

MAX_LINE = 4096


def execute(line: str) -> tuple[str, bool]:
    """The reply to one command line, and whether the session is over."""
    command, _, rest = line.partition(" ")
    command = command.upper()
    if command == "ECHO":
        return rest, False
    if command == "UPPER":
        return rest.upper(), False
    if command == "ADD":
        try:
            numbers = [float(word) for word in rest.split()]
        except ValueError:
            return "ERR ADD takes numbers", False
        total = sum(numbers)
        return (str(int(total)) if total.is_integer() else str(total)), False
    if command == "QUIT":
        return "BYE", True
    return f"ERR unknown command {command!r}", False


def handle(sock: gnet.Socket) -> None:
    sock.set_encoding("utf8")
    peer = f"{sock.remote_address}:{sock.remote_port}"
    print(f"{peer} connected", flush=True)
    try:
        with sock:
            while True:
                try:
                    line = sock.readline(limit=MAX_LINE)
                except gnet.LimitOverrunError:
                    sock.sendall("ERR line too long\n")
                    break
                if not line:  # the client ended its side
                    break
                reply, done = execute(line.strip())
                sock.sendall(reply + "\n")
                if done:
                    # Discard whatever else the client sends, so its FIN is
                    # consumed and the socket closes (Node's resume() idiom).
                    sock.resume()
                    break
    except OSError as exc:  # ECONNRESET and friends: only this client is affected
        print(f"{peer} error: {exc}", flush=True)
    print(f"{peer} done", flush=True)


def main(argv: list[str]) -> None:
    port = int(argv[1]) if len(argv) > 1 else 8125
    server = gnet.create_server(handle)
    server.on("error", lambda err: sys.exit(f"line server: {err}"))
    server.listen(
        port,
        "127.0.0.1",
        lambda: print(f"line server listening on 127.0.0.1:{server.address()['port']}", flush=True),
    )
    gnet.run()


if __name__ == "__main__":
    main(sys.argv)
