"""A client for examples/echo_server.py: sends a few lines and prints the echo.

    python examples/echo_client.py [PORT | PATH] [MESSAGE ...]
"""

import sys

import gnet


def main(argv: list[str]) -> None:
    target = argv[1] if len(argv) > 1 else "8124"
    messages = argv[2:] or ["hello from gnet"]
    sock = gnet.open_connection(int(target), "127.0.0.1") if target.isdigit() else gnet.open_connection(path=target)
    with sock:
        print(sock.readline().decode().rstrip())  # the server's greeting
        for message in messages:
            sock.sendall(message.encode() + b"\n")
            print(sock.readline().decode().rstrip())


if __name__ == "__main__":
    main(sys.argv)
