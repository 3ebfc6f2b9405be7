#!/usr/bin/env bash
# A real browser against the plainws JSON echo server: headless Chromium
# loads the server's page with ?auto=hello, the page opens ws://.../echo and
# sends {"cmd":"hello"}, and the DOM it leaves must show the server's reply.
# Then scripts/lab-test.py drives the page's protocol lab over the DevTools
# protocol (masks, length forms, fragments, compression, Close, violations)
# and saves screenshots in target/lab/.
# Installs Chromium where it is missing and it can (scripts/setup-browser.sh);
# fails, saying what is missing, where it cannot.
#
# Usage: scripts/browser-test.sh
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

die() { echo "browser-test: FAILED: $*" >&2; exit 1; }

browser="$(scripts/setup-browser.sh | tail -n 1)" || die "no Chromium (see the message above)"
[[ -x "$browser" ]] || die "setup-browser.sh gave no browser path"

cargo build --release --quiet --bin plainws
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

target/release/plainws --addr "127.0.0.1:$port" >"$work/server.log" 2>&1 &
server_pid=$!
for _ in $(seq 50); do
    if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then break; fi
    kill -0 "$server_pid" 2>/dev/null || die "the server exited: $(cat "$work/server.log")"
    sleep 0.1
done

url="http://127.0.0.1:$port/?auto=hello"
want_title="<title>Thanks for your message: hello</title>"
want_log='&lt; {"cmd":"Thanks for your message: hello"}'
# Chromium offers permessage-deflate; the server accepts it.
want_extensions='<span id="extensions">permessage-deflate'
for attempt in 1 2 3; do
    echo "browser-test: $browser loads $url (attempt $attempt)"
    timeout 60 "$browser" --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
        --disable-background-networking --disable-component-update --disable-sync \
        --user-data-dir="$work/profile-$attempt" --virtual-time-budget=5000 \
        --dump-dom "$url" >"$work/dom.html" 2>"$work/chromium.log" || true
    if grep -qF "$want_title" "$work/dom.html" && grep -qF "$want_log" "$work/dom.html" &&
        grep -qF "$want_extensions" "$work/dom.html"; then
        echo "browser-test: the page shows the reply: Thanks for your message: hello"
        echo "browser-test: and the negotiated extension: $(grep -o '<span id="extensions">[^<]*' "$work/dom.html" | sed 's/.*>//')"
        grep -F "open" "$work/server.log" | head -n 1 | sed 's/^/browser-test: server: /'
        echo "browser-test: the protocol lab (scripts/lab-test.py)"
        # The repo's venv has the DevTools client's websockets (LAB_PYTHON: another).
        python="${LAB_PYTHON:-.venv/bin/python}"
        [[ -x "$python" ]] || scripts/setup-venv.sh >&2
        "$python" scripts/lab-test.py "$browser" || die "the protocol lab"
        echo "browser-test: passed"
        exit 0
    fi
done
echo "--- DOM ---" >&2; cat "$work/dom.html" >&2
echo "--- server log ---" >&2; cat "$work/server.log" >&2
echo "--- chromium log (last 20 lines) ---" >&2; tail -n 20 "$work/chromium.log" >&2
die "the page never showed the server's reply"
