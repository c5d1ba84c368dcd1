"""TLS echo, gnet straight-line: a blocking recv/sendall loop on the TLS socket.
tls.py reports it as skipped until gnet.tls.create_server exists. argv: PORT"""

from _gnet_common import quiet_error, serve
from _tls import CERT, KEY, pem

import gnet.tls

OPTIONS = {'key': pem(KEY), 'cert': pem(CERT)}


def handle(sock):
    sock.on('error', quiet_error)
    try:
        while data := sock.recv(65536):
            sock.sendall(data)
    except OSError:  # the handshake load's RST close
        pass


def create_server(listener):
    server = gnet.tls.create_server(OPTIONS, listener)
    # (err, tls_socket) as in Node; the handshake load's RST close mid-handshake is expected
    server.on('tlsClientError', lambda _err, _tls_socket: None)
    return server


serve(handle, create_server)
