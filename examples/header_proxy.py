"""A tiny CONNECT proxy: a header read in straight-line code, then pipe() both ways.

    python examples/header_proxy.py [PORT]      (default 8128; 0 picks a free port)

A client sends one line, ``CONNECT host:port``, and gets ``OK`` once the
proxy is connected to that target (``ERR <reason>`` and the end of the
connection otherwise).  From then on the bytes flow both ways untouched,
with backpressure, and each side's end (FIN) is passed on to the other.

It shows the two styles working on one stream: the header is read with the
blocking ``readline()``; anything the client sent right behind the header
(which ``readline()`` may already have read from the kernel) is delivered
first once the socket flows into ``pipe()``, so nothing is lost or reordered.
"""

from __future__ import annotations

import sys

import gnet

MAX_HEADER = 1024


def parse_target(line: bytes) -> tuple[str, int]:
    """``CONNECT host:port`` -> (host, port); ValueError if it is anything else."""
    verb, _, target = line.decode("ascii", "replace").strip().partition(" ")
    host, sep, port_text = target.strip().rpartition(":")
    if verb.upper() != "CONNECT" or not sep or not host or not port_text.isdigit():
        raise ValueError("expected 'CONNECT host:port'")
    port = int(port_text)
    if not 0 < port < 65536:
        raise ValueError(f"bad port {port}")
    return host.strip("[]"), port  # [::1]:80 -> ::1


def handle(client: gnet.Socket) -> None:
    try:
        line = client.readline(limit=MAX_HEADER, timeout=10)
        host, port = parse_target(line)
    except (ValueError, TimeoutError) as exc:  # LimitOverrunError is a ValueError
        client.end(f"ERR {exc}\n")
        client.resume()  # drop the rest, so the client's FIN closes the socket
        return
    except OSError:
        client.destroy()
        return
    try:
        target = gnet.open_connection(port, host, timeout=10, allow_half_open=True)
    except Exception as exc:  # any connect failure is reported to the client
        client.end(f"ERR {exc}\n")
        client.resume()
        return
    print(f"{client.remote_address}:{client.remote_port} -> {host}:{port}", flush=True)
    client.write(b"OK\n")
    # A failure on either side tears down the other; each end() is passed on.
    for a, b in ((client, target), (target, client)):
        a.on("error", lambda err, other=b: other.destroy())
        a.on("close", lambda had_error, other=b: other.destroy() if had_error else None)
    client.pipe(target)
    target.pipe(client)


def main(argv: list[str]) -> None:
    port = int(argv[1]) if len(argv) > 1 else 8128
    # Half-open on both sides: a client's FIN must not cut the target's reply short.
    server = gnet.create_server({"allow_half_open": True}, handle)
    server.on("error", lambda err: sys.exit(f"header proxy: {err}"))
    server.listen(
        port,
        "127.0.0.1",
        lambda: print(
            f"header proxy listening on 127.0.0.1:{server.address()['port']}", flush=True
        ),
    )
    gnet.run()


if __name__ == "__main__":
    main(sys.argv)
