"""RESP, gnet Node style: `on('data')` feeding an incremental parser, one
`write()` per reply. argv: PORT [UNIX_PATH]"""

from _gnet_common import quiet_error, serve
from _resp import NODELAY, execute


class Parser:
    """Commands out of a byte stream that arrives in arbitrary pieces."""

    def __init__(self):
        self.buf = b''
        self.pos = 0

    def feed(self, data):
        """Every command completed by `data`, as argument lists."""
        buf = self.buf[self.pos:] + data if self.pos < len(self.buf) else data
        pos, end = 0, len(buf)
        commands = []
        while True:
            start = pos
            eol = buf.find(b'\r\n', pos)
            if eol < 0:
                break
            count = int(buf[pos + 1:eol])
            pos = eol + 2
            args = []
            for _ in range(count):
                eol = buf.find(b'\r\n', pos)
                if eol < 0:
                    break
                size = int(buf[pos + 1:eol])
                if eol + 2 + size + 2 > end:
                    break
                args.append(buf[eol + 2:eol + 2 + size])
                pos = eol + 2 + size + 2
            if len(args) < count:
                pos = start
                break
            commands.append(args)
        self.buf, self.pos = buf, pos
        return commands


def on_connection(sock):
    sock.on('error', quiet_error)
    if NODELAY:
        sock.set_no_delay(True)
    parser = Parser()

    def on_data(data):
        for args in parser.feed(data):
            sock.write(execute(args))

    sock.on('data', on_data)


serve(on_connection)
