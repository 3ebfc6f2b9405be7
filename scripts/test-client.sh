#!/usr/bin/env bash
# The client-side suites that need more than `cargo test`: the Autobahn
# TestSuite with plainws as the client (cases 1-13, against kosoku's
# fuzzingserver), then headless Chromium against the JSON echo server.
# The Rust interop tests with Python's websockets run under `cargo test`.
#
#   scripts/test-client.sh
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

step() { printf '\n==> %s\n' "$*"; }

step "Python venv (kosoku, websockets)"
scripts/setup-venv.sh

step "Autobahn TestSuite, plainws as client (cases 1-13, permessage-deflate included)"
cargo build --release --example autobahn_client
python3 scripts/autobahn.py client \
    --cmd "target/release/examples/autobahn_client {url} plainws 2" \
    --port 9002 --report-dir target/autobahn/client

step "headless Chromium against the JSON echo server"
scripts/browser-test.sh

echo
echo "scripts/test-client.sh: all client suites passed"
