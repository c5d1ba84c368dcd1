"""Connection listeners for the gunicorn tests (not a test module).

``serve`` is straight-line: one command per line, answered in order, until
the client ends.  Commands: ``pid`` (the worker's pid), ``echo TEXT``, ``peer`` (the client's
address and port, as the connection reports them),
``stream N K`` (N chunks of K bytes, each sent after the client asks with
``next``: the test controls where in a transfer it sends its signals).
``node_echo`` is Node-style: a greeting, then ``sock.pipe(sock)``.
"""

from __future__ import annotations

import os

import gnet


def serve(sock: gnet.Socket) -> None:
    with sock:
        while True:
            line = sock.readline(limit=1024)
            if not line:
                return
            command, _, arg = line.strip().decode().partition(" ")
            if command == "pid":
                sock.sendall(f"{os.getpid()}\n".encode())
            elif command == "echo":
                sock.sendall(f"{arg}\n".encode())
            elif command == "peer":
                sock.sendall(f"{sock.remote_address}:{sock.remote_port}\n".encode())
            elif command == "stream":
                chunks, size = (int(n) for n in arg.split())
                for index in range(chunks):
                    if index and sock.readline(limit=100) != b"next\n":
                        return
                    sock.sendall(bytes([index % 256]) * size)


def node_echo(sock: gnet.Socket) -> None:
    sock.write(b"hello\r\n")
    sock.pipe(sock)
