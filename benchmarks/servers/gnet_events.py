"""gnet, Node style: the socket piped into itself. argv: PORT [UNIX_PATH]"""

from _gnet_common import quiet_error, serve


def on_connection(sock):
    sock.on('error', quiet_error)
    sock.pipe(sock)


serve(on_connection)
