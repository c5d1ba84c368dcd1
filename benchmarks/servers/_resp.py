"""The RESP subset every resp_* server speaks, and what they share.

Requests are arrays of bulk strings (``*N\\r\\n`` then N times ``$len\\r\\n``
bytes ``\\r\\n``); replies are simple strings, bulk strings or errors:

    PING          -> +PONG
    SET key value -> +OK
    GET key       -> $len value, or $-1 when the key is not set

One table for the whole server, as in Redis. argv and the readiness line are
the echo servers' (`_common.py`). With BENCH_NODELAY=1 in the environment a
server turns Nagle off on every connection; by default it does not, as a
newcomer's server would not.
"""

import os

STORE: dict[bytes, bytes] = {}
NODELAY = os.environ.get('BENCH_NODELAY') == '1'


def execute(args):
    """The reply to one command, as bytes."""
    command = args[0].upper()
    if command == b'PING' and len(args) == 1:
        return b'+PONG\r\n'
    if command == b'SET' and len(args) == 3:
        STORE[args[1]] = args[2]
        return b'+OK\r\n'
    if command == b'GET' and len(args) == 2:
        value = STORE.get(args[1])
        return b'$-1\r\n' if value is None else b'$%d\r\n%s\r\n' % (len(value), value)
    return b'-ERR unknown command\r\n'


def read_command(rfile):
    """One command's arguments from a buffered binary file; None at the end of the stream."""
    line = rfile.readline()
    if not line:
        return None
    args = []
    for _ in range(int(line[1:])):
        size = int(rfile.readline()[1:])
        args.append(rfile.read(size + 2)[:-2])
    return args
