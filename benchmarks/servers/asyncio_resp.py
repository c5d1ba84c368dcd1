"""RESP, asyncio streams: `readline()`/`readexactly()`, then `write()` and
`await drain()` per reply. asyncio turns Nagle off on every TCP transport
itself, so BENCH_NODELAY changes nothing here. argv: PORT [UNIX_PATH]"""

import asyncio

from _common import BACKLOG, announce, parse_argv
from _resp import execute


async def handle(reader, writer):
    try:
        while line := await reader.readline():
            args = []
            for _ in range(int(line[1:])):
                size = int((await reader.readline())[1:])
                args.append((await reader.readexactly(size + 2))[:-2])
            writer.write(execute(args))
            await writer.drain()
    except (OSError, ValueError, asyncio.IncompleteReadError):
        pass
    finally:
        writer.close()


async def main():
    port, path = parse_argv()
    tcp = await asyncio.start_server(handle, '127.0.0.1', port, backlog=BACKLOG)
    if path:
        await asyncio.start_unix_server(handle, path, backlog=BACKLOG)
    announce(tcp.sockets[0].getsockname()[1])
    await asyncio.Event().wait()  # serve until the runner stops the process


asyncio.run(main())
