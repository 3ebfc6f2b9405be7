#!/usr/bin/env python3
"""The Python `websockets` side of tests/interop_python.rs.

  client URL   Connects to a plainws server running the interop handler and
               checks, asserting each: text, binary, empty and 1 MiB messages
               echoed; fragmented messages both ways; pings both ways; a close
               with code and reason from each side.  Prints "ok" and exits 0,
               or prints what differed and exits 1.

  server       Listens on 127.0.0.1 (a free port), prints "listening PORT",
               and serves the same commands for the plainws client: echo, and
                   "fragments-please" -> "frag" "ment" "ed" as three frames
                   "ping-me"          -> a Ping b"py-ping", then "pong: py-ping"
                                         once its Pong came back
                   "close-me"         -> close 4001 "bye from python"
               After each connection it prints "closed CODE REASON" with the
               close code and reason it received.  Runs until killed.

  MODE (after the URL, or alone after `server`; default none) sets the
  Python side's permessage-deflate: none, default, no-context (both
  no_context_takeover), bits-9 (both max_window_bits=9), client-bits-10.
  The client also checks that the extension was negotiated or not.

Needs the `websockets` package: run scripts/setup-venv.sh and use .venv/bin/python.
"""

import asyncio
import os
import sys

from websockets.asyncio.client import connect
from websockets.asyncio.server import serve
from websockets.exceptions import ConnectionClosed

OPTS = dict(compression=None, max_size=None, ping_interval=None, close_timeout=2)

# permessage-deflate settings of the Python side (RFC 7692 §7.1), by name.
DEFLATE = {
    "none": None,
    "default": {},
    "no-context": dict(server_no_context_takeover=True, client_no_context_takeover=True),
    "bits-9": dict(server_max_window_bits=9, client_max_window_bits=9),
    "client-bits-10": dict(client_max_window_bits=10),
}


def options(mode: str, side: str) -> dict:
    """websockets' options with permessage-deflate as `mode` says."""
    from websockets.extensions.permessage_deflate import (
        ClientPerMessageDeflateFactory,
        ServerPerMessageDeflateFactory,
    )

    params = DEFLATE[mode]
    if params is None:
        return dict(OPTS)
    factory = ClientPerMessageDeflateFactory if side == "client" else ServerPerMessageDeflateFactory
    return dict(OPTS, extensions=[factory(**params)])
TIMEOUT = 5


class Mismatch(Exception):
    pass


def check(what, got, want):
    if got != want:
        shown_got, shown_want = repr(got)[:80], repr(want)[:80]
        raise Mismatch(f"{what}: got {shown_got}, want {shown_want}")


async def recv(ws):
    return await asyncio.wait_for(ws.recv(), TIMEOUT)


async def client(url: str, mode: str) -> None:
    async with connect(url, **options(mode, "client")) as ws:
        negotiated = [e.name for e in ws.protocol.extensions]
        check("extensions in use", negotiated, [] if mode == "none" else ["permessage-deflate"])
        big_binary = os.urandom(1 << 20)
        big_text = "é" * (1 << 19)  # 1 MiB of UTF-8
        for message in ["hello", b"\x00\x01\xfe\xff", "", b"", big_binary, big_text]:
            await ws.send(message)
            check(f"echo of a {type(message).__name__} of {len(message)}", await recv(ws), message)

        await ws.send(["frag", "ment", "ed"])  # a text message in three frames
        check("echo of a fragmented text", await recv(ws), "fragmented")
        await ws.send([b"\x01", b"", b"\x02\x03"])
        check("echo of a fragmented binary", await recv(ws), b"\x01\x02\x03")

        await ws.send("fragments-please")
        check("fragmented message from plainws", await recv(ws), "fragmented")

        pong = await ws.ping(b"py-ping")
        await asyncio.wait_for(pong, TIMEOUT)  # plainws answered the Ping

        await ws.send("ping-me")
        check("after plainws's Ping", await recv(ws), "pong: plainws-ping")

        await asyncio.wait_for(ws.close(4000, "bye from python"), TIMEOUT)
        check("close code echoed by plainws", ws.close_code, 4000)

    async with connect(url, **options(mode, "client")) as ws:
        await ws.send("close-me")
        try:
            got = await recv(ws)
            raise Mismatch(f"expected plainws to close, got a message {got!r}")
        except ConnectionClosed as closed:
            check("close code from plainws", closed.rcvd and closed.rcvd.code, 4001)
            check("close reason from plainws", closed.rcvd and closed.rcvd.reason, "bye from plainws")


async def handler(ws) -> None:
    try:
        async for message in ws:
            if message == "fragments-please":
                await ws.send(["frag", "ment", "ed"])
            elif message == "ping-me":
                pong = await ws.ping(b"py-ping")
                await asyncio.wait_for(pong, TIMEOUT)
                await ws.send("pong: py-ping")
            elif message == "close-me":
                await ws.close(4001, "bye from python")
            else:
                await ws.send(message)
    except ConnectionClosed:
        pass
    await ws.wait_closed()
    print(f"closed {ws.close_code} {ws.close_reason}", flush=True)


async def server(mode: str) -> None:
    async with serve(handler, "127.0.0.1", 0, **options(mode, "server")) as running:
        port = running.sockets[0].getsockname()[1]
        print(f"listening {port}", flush=True)
        await asyncio.Future()


def main(argv: list[str]) -> int:
    mode = argv[2] if argv[:1] == ["client"] and len(argv) == 3 else "none"
    if argv[:1] == ["server"] and len(argv) == 2:
        mode = argv[1]
    if mode not in DEFLATE:
        print(f"unknown permessage-deflate mode {mode!r}: one of {list(DEFLATE)}", file=sys.stderr)
        return 2
    if argv[:1] == ["client"] and len(argv) in (2, 3):
        try:
            asyncio.run(client(argv[1], mode))
        except (Mismatch, ConnectionClosed, asyncio.TimeoutError, OSError) as e:
            print(f"py_interop client: FAILED: {type(e).__name__}: {e}", flush=True)
            return 1
        print("ok", flush=True)
        return 0
    if argv[:1] == ["server"] and len(argv) in (1, 2):
        asyncio.run(server(mode))
        return 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
