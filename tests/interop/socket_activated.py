"""A program for systemd-socket-activate in the tests (not a test module).

Prints one JSON line describing what ``gnet.systemd.listen_fds()`` found and
which ``LISTEN_*`` variables are left, then serves each listening socket with
its own gnet server until it has had one connection: the connection gets
the socket's name and a newline.  Odd sockets listen through the record
itself, even ones through ``{'fd': n}``, so both forms are used.
"""

from __future__ import annotations

import json
import os

import gnet
from gnet import systemd


def main() -> None:
    records = systemd.listen_fds()
    print(
        json.dumps(
            {
                "records": [
                    {
                        "fd": r.fd,
                        "name": r.name,
                        "family": r.family.name if r.family is not None else None,
                        "type": r.type.name if r.type is not None else None,
                        "listening": r.listening,
                        "address": r.address,
                        "inheritable": os.get_inheritable(r.fd),
                    }
                    for r in records
                ],
                "env": {
                    k: os.environ.get(k) for k in ("LISTEN_PID", "LISTEN_FDS", "LISTEN_FDNAMES")
                },
            }
        ),
        flush=True,
    )
    for index, record in enumerate(r for r in records if r.is_stream_listener):
        server = gnet.create_server()

        def on_connection(
            sock: gnet.Socket, server: gnet.Server = server, name: str = record.name
        ) -> None:
            sock.end(f"{name}\n")
            server.close()

        server.on("connection", on_connection)
        server.listen(record if index % 2 == 0 else {"fd": record.fd})
    gnet.run()


if __name__ == "__main__":
    main()
