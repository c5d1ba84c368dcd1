"""What the Python echo servers here share: their argv and the readiness line.

argv: PORT [UNIX_PATH]. PORT 0 lets the kernel choose; the server then prints
`LISTENING <port>` once every listener accepts, which is what echo.py waits for.
"""

import sys

BACKLOG = 511  # Node's default; a smaller one drops SYNs when the C=1000 sweep connects


def parse_argv():
    port = int(sys.argv[1])
    path = sys.argv[2] if len(sys.argv) > 2 else None
    return port, path


def announce(port):
    print(f'LISTENING {port}', flush=True)
