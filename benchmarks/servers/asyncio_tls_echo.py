"""TLS echo, asyncio: a Protocol on the default event loop with ssl=ctx
(asyncio's sslproto). argv: PORT [UNIX_PATH]"""

import asyncio

from _common import BACKLOG, announce, parse_argv
from _tls import server_context


class Echo(asyncio.Protocol):
    def connection_made(self, transport):
        self.transport = transport

    def data_received(self, data):
        self.transport.write(data)


async def main():
    port, _path = parse_argv()
    loop = asyncio.get_running_loop()
    server = await loop.create_server(Echo, '127.0.0.1', port, backlog=BACKLOG,
                                      ssl=server_context())
    announce(server.sockets[0].getsockname()[1])
    await asyncio.Event().wait()  # serve until the runner stops the process


asyncio.run(main())
