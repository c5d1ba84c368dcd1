"""RESP, gnet straight-line over `sock.makefile('rb')` for reading, one
`sendall()` per reply. argv: PORT [UNIX_PATH]"""

from _gnet_common import quiet_error, serve
from _resp import NODELAY, execute, read_command


def handle(sock):
    sock.on('error', quiet_error)
    if NODELAY:
        sock.set_no_delay(True)
    try:
        with sock, sock.makefile('rb') as rfile:
            while (args := read_command(rfile)) is not None:
                sock.sendall(execute(args))
    except (OSError, ValueError):  # a reset, or the client left mid-command
        pass


serve(handle)
