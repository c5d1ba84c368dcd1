"""gnet, straight-line: a blocking recv/sendall loop in the connection's own
greenlet. argv: PORT [UNIX_PATH]"""

from _gnet_common import quiet_error, serve


def handle(sock):
    sock.on('error', quiet_error)
    try:
        while data := sock.recv(65536):
            sock.sendall(data)
    except OSError:  # connrate's RST close; gnet has already destroyed the socket
        pass


serve(handle)
