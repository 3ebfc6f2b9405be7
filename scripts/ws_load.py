#!/usr/bin/env python3
"""Many short WebSocket sessions against the JSON echo server, counting
every reply: the load side of scripts/nginx-test.sh.

  ws_load.py URL --connections N --commands M --mode MODE [options]

Each connection sends M commands {"cmd": "<conn>-<i>"} and expects, in order,
{"cmd": "Thanks for your message: <conn>-<i>"} for each.

  --mode wait            send the M commands, read the M replies, then close
                         (1000) and read until the server's Close and EOF.
  --mode close-at-once   send the M commands and a Close (1000) in ONE write,
                         then read until EOF: a server must still answer every
                         command it received before the Close (the commands
                         came first), then close.

It uses the sans-I/O ClientProtocol of Python's `websockets` over plain
asyncio streams, so exactly these bytes go out, in one write when asked.

  --concurrency C        connections open at once (default 100)
  --source-ip IP         connect from this local address (e.g. 127.0.0.2)
  --header 'Name: value' an extra request header (repeatable)
  --timeout SECS         per connection (default 20)

Prints one summary line:
  load: MODE NxM: N connections, S replies expected, R received, L lost, F connections with a problem
followed by up to 5 examples of what went wrong, and exits 0 only when
nothing was lost and no connection failed.

Needs `websockets`: run scripts/setup-venv.sh and use .venv/bin/python.
"""

import argparse
import asyncio
import json
import sys
from collections import Counter

from websockets.client import ClientProtocol
from websockets.frames import Opcode
from websockets.http11 import Response
from websockets.uri import parse_uri


class Failed(Exception):
    pass


async def session(args, conn_id):
    """One connection. Returns (replies received in order, problem or None)."""
    uri = parse_uri(args.url)
    protocol = ClientProtocol(uri, max_size=None)
    local = (args.source_ip, 0) if args.source_ip else None
    reader, writer = await asyncio.open_connection(uri.host, uri.port, local_addr=local)
    want = [f'{{"cmd":"Thanks for your message: {conn_id}-{i}"}}' for i in range(args.commands)]
    got = []
    closed_by_server = None

    def flush():
        data = b"".join(protocol.data_to_send())
        if data:
            writer.write(data)

    async def events():
        data = await reader.read(65536)
        if data:
            protocol.receive_data(data)
        else:
            protocol.receive_eof()
        flush()
        return protocol.events_received(), not data

    try:
        request = protocol.connect()
        for header in args.header:
            name, _, value = header.partition(":")
            request.headers[name.strip()] = value.strip()
        protocol.send_request(request)
        flush()
        # The handshake.
        while True:
            evs, eof = await events()
            response = next((e for e in evs if isinstance(e, Response)), None)
            if response is not None:
                if response.status_code != 101:
                    raise Failed(f"handshake answered {response.status_code}")
                if protocol.handshake_exc is not None:
                    raise Failed(f"handshake: {protocol.handshake_exc}")
                pending = [e for e in evs if not isinstance(e, Response)]
                break
            if eof:
                raise Failed("EOF during the handshake")

        for i in range(args.commands):
            protocol.send_text(json.dumps({"cmd": f"{conn_id}-{i}"}).encode())
        if args.mode == "close-at-once":
            protocol.send_close(1000, "done")
        flush()  # one write: the commands (and the Close)

        sent_close = args.mode == "close-at-once"
        eof = False
        while not eof:
            for event in pending:
                if event.opcode == Opcode.TEXT:
                    got.append(event.data.decode())
                elif event.opcode == Opcode.CLOSE:
                    closed_by_server = event
            pending = []
            if not sent_close and len(got) >= args.commands:
                protocol.send_close(1000, "done")
                flush()
                sent_close = True
            pending, eof = await events()
        for event in pending:
            if event.opcode == Opcode.TEXT:
                got.append(event.data.decode())
            elif event.opcode == Opcode.CLOSE:
                closed_by_server = event
    except (OSError, Failed) as e:
        return got, want, f"{type(e).__name__}: {e}"
    finally:
        writer.close()
    if got != want[: len(got)]:
        return got, want, "replies out of order or wrong"
    if closed_by_server is None:
        return got, want, "no Close frame from the server before EOF"
    return got, want, None


async def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("url")
    parser.add_argument("--connections", type=int, required=True)
    parser.add_argument("--commands", type=int, required=True)
    parser.add_argument("--mode", choices=["wait", "close-at-once"], required=True)
    parser.add_argument("--concurrency", type=int, default=100)
    parser.add_argument("--source-ip")
    parser.add_argument("--header", action="append", default=[])
    parser.add_argument("--timeout", type=float, default=20)
    args = parser.parse_args()

    limit = asyncio.Semaphore(args.concurrency)
    expected = received = failed = 0
    problems = Counter()
    examples = []

    async def one(conn_id):
        nonlocal expected, received, failed
        async with limit:
            try:
                got, want, problem = await asyncio.wait_for(session(args, conn_id), args.timeout)
            except asyncio.TimeoutError:
                got, want, problem = [], [None] * args.commands, f"no end within {args.timeout} s"
        expected += len(want)
        received += min(len(got), len(want))
        if len(got) < len(want) and problem is None:
            problem = f"{len(want) - len(got)} of {len(want)} replies missing"
        if problem is not None:
            failed += 1
            problems[problem.split(":")[0]] += 1
            if len(examples) < 5:
                examples.append(f"connection {conn_id}: {problem} (got {len(got)} of {len(want)})")

    await asyncio.gather(*(one(i) for i in range(args.connections)))
    lost = expected - received
    print(
        f"load: {args.mode} {args.connections}x{args.commands}: {args.connections} connections, "
        f"{expected} replies expected, {received} received, {lost} lost, "
        f"{failed} connections with a problem"
    )
    for example in examples:
        print(f"load:   e.g. {example}")
    if problems:
        print("load:   problems: " + ", ".join(f"{n}× {p}" for p, n in problems.most_common()))
    return 0 if lost == 0 and not problems else 1


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
