"""The baseline: gevent's StreamServer with a recv/sendall loop, the cost floor
gnet is built on. argv: PORT [UNIX_PATH]"""

from _common import BACKLOG, announce, parse_argv
from gevent import socket
from gevent.server import StreamServer


def handle(sock, _address):
    try:
        while data := sock.recv(65536):
            sock.sendall(data)
    except OSError:  # connrate's RST close
        pass


port, path = parse_argv()
tcp = StreamServer(('127.0.0.1', port), handle, backlog=BACKLOG)
tcp.start()
if path:
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(path)
    listener.listen(BACKLOG)
    StreamServer(listener, handle).start()
announce(tcp.server_port)
tcp.serve_forever()
