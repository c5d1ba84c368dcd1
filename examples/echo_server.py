"""The echo server of Node's net docs, in gnet.

    python examples/echo_server.py [PORT | PATH]      (default 8124)

Greets each client with ``hello``, then echoes whatever it sends.  A
numeric argument is a TCP port on 127.0.0.1; anything else is a UNIX
socket path.
"""

import sys

import gnet


def on_connection(sock: gnet.Socket) -> None:
    print("client connected")
    sock.on("end", lambda: print("client disconnected"))
    sock.on("error", lambda err: print(f"client error: {err}"))
    sock.write("hello\r\n")
    sock.pipe(sock)


def main(argv: list[str]) -> None:
    target = argv[1] if len(argv) > 1 else "8124"
    server = gnet.create_server(on_connection)
    server.on("error", lambda err: sys.exit(f"echo server: {err}"))
    if target.isdigit():
        server.listen(int(target), "127.0.0.1", lambda: print(f"server bound on {server.address()}"))
    else:
        server.listen(target, lambda: print(f"server bound on {target}"))
    gnet.run()


if __name__ == "__main__":
    main(sys.argv)
