#!/usr/bin/env bash
# plainws's tokio driver behind axum (examples/axum, its own workspace and
# lock file, so axum and hyper never enter plainws's dependencies): a real
# client (Python websockets, permessage-deflate) and headless Chromium talk
# to the route the example upgrades to plainws over hyper's upgraded
# connection.
#
# Usage: scripts/axum-test.sh
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

die() { echo "axum-test: FAILED: $*" >&2; exit 1; }

manifest=examples/axum/Cargo.toml
cargo fmt --manifest-path "$manifest" -- --check
cargo clippy --manifest-path "$manifest" --release -- -D warnings
cargo build --manifest-path "$manifest" --release --quiet
server=examples/axum/target/release/plainws-axum

port="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
work="$(mktemp -d)"
server_pid=""
cleanup() {
    if [[ -n "$server_pid" ]]; then
        kill "$server_pid" 2>/dev/null || true
        wait "$server_pid" 2>/dev/null || true
    fi
    rm -rf "$work"
}
trap cleanup EXIT

"$server" "127.0.0.1:$port" >"$work/server.log" 2>&1 &
server_pid=$!
for _ in $(seq 50); do
    if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then break; fi
    kill -0 "$server_pid" 2>/dev/null || die "the server exited: $(cat "$work/server.log")"
    sleep 0.1
done

echo "axum-test: Python websockets against ws://127.0.0.1:$port/ws"
PORT="$port" .venv/bin/python - <<'PY' || die "the Python client"
import asyncio, json, os
from websockets.asyncio.client import connect

async def main():
    url = f"ws://127.0.0.1:{os.environ['PORT']}/ws"
    async with connect(url) as ws:
        names = [e.name for e in ws.protocol.extensions]
        assert names == ["permessage-deflate"], names
        # Pipelined: 200 commands, then every reply in order.
        for i in range(200):
            await ws.send(json.dumps({"cmd": f"hello {i}"}))
        for i in range(200):
            reply = json.loads(await ws.recv())
            assert reply == {"cmd": f"Thanks for your message: hello {i}"}, reply
        await ws.ping(b"are you there")
    print("axum-test: 200 replies in order, permessage-deflate, a clean close")

asyncio.run(main())
PY

browser="$(scripts/setup-browser.sh | tail -n 1)" || die "no Chromium (see the message above)"
url="http://127.0.0.1:$port/?auto=from-chromium"
want='<title>Thanks for your message: from-chromium</title>'
for attempt in 1 2 3; do
    echo "axum-test: $browser loads $url (attempt $attempt)"
    timeout 60 "$browser" --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
        --disable-background-networking --disable-component-update --disable-sync \
        --user-data-dir="$work/profile-$attempt" --virtual-time-budget=5000 \
        --dump-dom "$url" >"$work/dom.html" 2>"$work/chromium.log" || true
    if grep -qF "$want" "$work/dom.html" &&
        grep -qF '<span id="extensions">permessage-deflate' "$work/dom.html"; then
        echo "axum-test: Chromium shows the reply, over permessage-deflate"
        echo "axum-test: passed"
        exit 0
    fi
done
echo "--- DOM ---" >&2; cat "$work/dom.html" >&2
echo "--- server log ---" >&2; cat "$work/server.log" >&2
die "Chromium did not show the reply"
