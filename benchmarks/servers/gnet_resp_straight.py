"""RESP, gnet straight-line with the helpers, as README's "Straight-line style"
teaches: `readline()` for each header, `recv_exactly()` for each argument,
one `sendall()` per reply. argv: PORT [UNIX_PATH]"""

from _gnet_common import quiet_error, serve
from _resp import NODELAY, execute

import gnet


def handle(sock):
    sock.on('error', quiet_error)
    if NODELAY:
        sock.set_no_delay(True)
    try:
        with sock:                                      # end() on return, destroy() on error
            while line := sock.readline():              # b'' at the end of the stream
                args = []
                for _ in range(int(line[1:])):          # *N: N bulk strings follow
                    size = int(sock.readline()[1:])     # $len
                    args.append(sock.recv_exactly(size + 2)[:-2])
                sock.sendall(execute(args))
    except (OSError, ValueError, gnet.IncompleteReadError):  # a reset, or the client left mid-command
        pass


serve(handle)
