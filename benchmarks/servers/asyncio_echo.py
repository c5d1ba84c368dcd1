"""asyncio Protocol echo on the default event loop. argv: PORT [UNIX_PATH]"""

import asyncio

from _common import BACKLOG, announce, parse_argv


class Echo(asyncio.Protocol):
    def connection_made(self, transport):
        self.transport = transport

    def data_received(self, data):
        self.transport.write(data)


async def main():
    port, path = parse_argv()
    loop = asyncio.get_running_loop()
    tcp = await loop.create_server(Echo, '127.0.0.1', port, backlog=BACKLOG)
    if path:
        await loop.create_unix_server(Echo, path, backlog=BACKLOG)
    announce(tcp.sockets[0].getsockname()[1])
    await asyncio.Event().wait()  # serve until echo.py stops the process


asyncio.run(main())
