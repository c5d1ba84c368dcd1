"""gnet, straight-line line echo whose handler lets a readline timeout escape,
for log_flood.py. argv: PORT TIMEOUT_S LOG (LOG: a logging level name; 'off':
logging.disable(), nothing formatted at all)

A client that sends nothing makes its handler's `readline(timeout=TIMEOUT_S)`
raise TimeoutError, which ends that connection and is logged by gnet. Log
records go to stderr, one per line, stamped with their `created` time.
"""

import logging
import sys

from _common import BACKLOG, announce

import gnet

port, timeout, level = int(sys.argv[1]), float(sys.argv[2]), sys.argv[3]
if level == 'off':
    logging.disable(logging.CRITICAL)
else:
    logging.basicConfig(
        stream=sys.stderr, level=getattr(logging, level), format='%(created).6f %(name)s %(levelname)s %(message)s'
    )


def handle(sock):
    sock.on('error', lambda err: None)
    while line := sock.readline(timeout=timeout):  # a slow client's TimeoutError escapes: gnet logs it
        sock.write(line)


server = gnet.create_server(handle)
server.listen(port, '127.0.0.1', BACKLOG, lambda: announce(server.address()['port']))
gnet.run()
