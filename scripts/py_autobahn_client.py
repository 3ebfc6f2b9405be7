#!/usr/bin/env python3
"""Reference Autobahn test client built on the Python `websockets` package.

Speaks the Autobahn fuzzingserver client protocol against BASE_URL (e.g.
ws://127.0.0.1:9002, as served by `kosoku -m fuzzingserver`):

  1. BASE_URL/getCaseCount              -> one text message with the case count N
  2. BASE_URL/runCase?case=I&agent=A    for I = 1..N: echo every message back
                                           (text as text, binary as binary)
                                           until the server closes
  3. BASE_URL/updateReports?agent=A     -> tells the server the run is over

Used to self-test scripts/autobahn.py's client mode and as a known-good peer.

Usage:  .venv/bin/python scripts/py_autobahn_client.py BASE_URL [AGENT]
Exit status 0 when steps 1-3 completed (whatever the case verdicts), 1 otherwise.
"""

import asyncio
import os
import sys

# See py_echo_server.py: 9.3.1/9.4.1 send 65536 fragments, websockets' default
# DoS limit is 4096.  Must be set before websockets is imported.
os.environ.setdefault("WEBSOCKETS_MAX_FRAGMENTS", str(1 << 20))

import websockets  # noqa: E402
from websockets.asyncio.client import connect  # noqa: E402
from websockets.exceptions import ConnectionClosed, WebSocketException  # noqa: E402

# Options shared by every connection: no compression (cases 1-10 only), no
# message size limit (9.x sends up to 16 MiB), no keepalive pings (they would
# appear among the case's events), short close timeout.
OPTS = dict(compression=None, max_size=None, ping_interval=None, close_timeout=2, open_timeout=10)

# Upper bound for one case; the slowest Autobahn cases (9.x) allow 100 s.
CASE_TIMEOUT = 150


async def echo_case(url: str) -> None:
    async with connect(url, **OPTS) as ws:
        try:
            async for message in ws:
                await ws.send(message)
        except ConnectionClosed:
            pass  # the fuzzer fails connections on purpose


async def main(base: str, agent: str) -> int:
    base = base.rstrip("/")
    async with connect(f"{base}/getCaseCount", **OPTS) as ws:
        count = int(await ws.recv())
    print(f"py_autobahn_client: {count} cases, agent {agent!r}", file=sys.stderr, flush=True)

    for i in range(1, count + 1):
        url = f"{base}/runCase?case={i}&agent={agent}"
        try:
            await asyncio.wait_for(echo_case(url), CASE_TIMEOUT)
        except (OSError, WebSocketException, asyncio.TimeoutError) as exc:
            # Report and carry on: the verdict is the server's to give.
            print(f"py_autobahn_client: case {i}: {type(exc).__name__}: {exc}",
                  file=sys.stderr, flush=True)

    # The fuzzingserver completes the upgrade then drops the TCP connection
    # without a close frame, so a failing close handshake here is expected.
    try:
        async with connect(f"{base}/updateReports?agent={agent}", **OPTS):
            pass
    except (ConnectionClosed, OSError):
        pass
    print("py_autobahn_client: done", file=sys.stderr, flush=True)
    return 0


if __name__ == "__main__":
    if len(sys.argv) not in (2, 3):
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    agent = sys.argv[2] if len(sys.argv) == 3 else f"python-websockets-{websockets.__version__}"
    try:
        sys.exit(asyncio.run(main(sys.argv[1], agent)))
    except (OSError, WebSocketException, ValueError) as exc:
        print(f"py_autobahn_client: error: {type(exc).__name__}: {exc}", file=sys.stderr)
        sys.exit(1)
