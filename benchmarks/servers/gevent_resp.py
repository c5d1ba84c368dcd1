"""RESP, raw gevent: StreamServer, `makefile('rb')` for reading, one
`sendall()` per reply; the baseline. argv: PORT [UNIX_PATH]"""

from _common import BACKLOG, announce, parse_argv
from _resp import NODELAY, execute, read_command
from gevent import socket
from gevent.server import StreamServer


def handle(sock, _address):
    if NODELAY and sock.family != socket.AF_UNIX:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    try:
        with sock.makefile('rb') as rfile:
            while (args := read_command(rfile)) is not None:
                sock.sendall(execute(args))
    except (OSError, ValueError):  # a reset, or the client left mid-command
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
