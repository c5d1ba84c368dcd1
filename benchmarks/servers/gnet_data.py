"""gnet, Node style: each 'data' chunk written back, without backpressure.
argv: PORT [UNIX_PATH]"""

from _gnet_common import quiet_error, serve


def on_connection(sock):
    sock.on('error', quiet_error)
    sock.on('data', sock.write)


serve(on_connection)
