"""Starts a gnet echo server (TCP, and a UNIX socket when asked) for the
gnet_* scripts; importing gnet fails here while gnet is incomplete, and
echo.py then reports the server as skipped."""

from _common import announce, parse_argv

import gnet


def quiet_error(_err):
    # connrate closes its TCP connections with RST: an expected ECONNRESET, not a crash
    # worth a logged traceback (the Node server ignores it the same way).
    pass


def serve(on_connection, create_server=None):
    """Listens with `create_server(on_connection)` (default gnet.create_server)."""
    create_server = create_server or gnet.create_server
    port, path = parse_argv()
    servers = [create_server(on_connection)]
    if path:
        servers.append(create_server(on_connection))
    waiting = len(servers)

    def on_listening():
        nonlocal waiting
        waiting -= 1
        if waiting == 0:
            announce(servers[0].address()['port'])

    servers[0].listen(port, '127.0.0.1', on_listening)
    if path:
        servers[1].listen(path, on_listening)
    gnet.run()
