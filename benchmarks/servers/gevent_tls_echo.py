"""TLS echo, gevent: StreamServer(..., ssl_context=ctx) with a recv/sendall
loop. argv: PORT [UNIX_PATH]"""

from _common import BACKLOG, announce, parse_argv
from _tls import server_context
from gevent import ssl
from gevent.server import StreamServer


def handle(sock, _address):
    try:
        while data := sock.recv(65536):
            sock.sendall(data)
    except OSError:  # the handshake load's RST close (ssl.SSLError is an OSError too)
        pass


port, _path = parse_argv()
server = StreamServer(('127.0.0.1', port), handle, backlog=BACKLOG, ssl_context=server_context(ssl))
server.start()
announce(server.server_port)
server.serve_forever()
