"""TLS echo, gnet Node style: gnet.tls.create_server(options, lambda s: s.pipe(s)).
tls.py reports it as skipped until gnet.tls.create_server exists. argv: PORT"""

from _gnet_common import quiet_error, serve
from _tls import CERT, KEY, pem

import gnet.tls

OPTIONS = {'key': pem(KEY), 'cert': pem(CERT)}


def on_connection(sock):
    sock.on('error', quiet_error)
    sock.pipe(sock)


def create_server(listener):
    server = gnet.tls.create_server(OPTIONS, listener)
    # (err, tls_socket) as in Node; the handshake load's RST close mid-handshake is expected
    server.on('tlsClientError', lambda _err, _tls_socket: None)
    return server


serve(on_connection, create_server)
