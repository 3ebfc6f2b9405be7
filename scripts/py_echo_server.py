#!/usr/bin/env python3
"""Reference WebSocket echo server built on the Python `websockets` package.

Echoes every text and binary message back unchanged (text stays text, binary
stays binary). Used to self-test scripts/autobahn.py's server mode and as a
known-good peer for interop tests.

Usage:  .venv/bin/python scripts/py_echo_server.py [HOST] [PORT]
        (defaults 127.0.0.1 9001; runs until SIGINT/SIGTERM)

Needs the `websockets` package: run scripts/setup-venv.sh and use .venv/bin/python.
"""

import asyncio
import os
import signal
import sys

# websockets fails fragmented messages of more than 4096 frames with 1009 "too
# many fragments" (a DoS guard); Autobahn 9.3.1/9.4.1 send 4 MiB in 64-byte
# fragments (65536 frames).  Raise the limit (must be set before the import).
os.environ.setdefault("WEBSOCKETS_MAX_FRAGMENTS", str(1 << 20))

from websockets.asyncio.server import ServerConnection, serve
from websockets.exceptions import ConnectionClosed


async def echo(ws: ServerConnection) -> None:
    try:
        async for message in ws:  # str for text frames, bytes for binary frames
            await ws.send(message)
    except ConnectionClosed:
        pass  # protocol errors / abrupt closes are normal under the fuzzer


async def main(host: str, port: int) -> None:
    stop = asyncio.get_running_loop().create_future()
    for sig in (signal.SIGINT, signal.SIGTERM):
        asyncio.get_running_loop().add_signal_handler(sig, stop.set_result, None)
    async with serve(
        echo,
        host,
        port,
        compression=None,  # no permessage-deflate: we only run cases 1-10
        max_size=None,  # the 9.x cases send messages up to 16 MiB
        ping_interval=None,  # no keepalive pings: they would show up in the cases' events
        close_timeout=5,
    ):
        print(f"py_echo_server: listening on ws://{host}:{port}", file=sys.stderr, flush=True)
        await stop


if __name__ == "__main__":
    host = sys.argv[1] if len(sys.argv) > 1 else "127.0.0.1"
    port = int(sys.argv[2]) if len(sys.argv) > 2 else 9001
    asyncio.run(main(host, port))
