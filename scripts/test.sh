#!/usr/bin/env bash
# Runs every test plainws has, on a fresh machine: it installs what the
# tests need (a Python venv with kosoku and websockets; tinyproxy and
# microsocks) and fails, saying
# what is missing, when it cannot. `.ci/run` calls exactly this.
#
#   scripts/test.sh
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

step() { printf '\n==> %s\n' "$*"; }

step "Python venv (kosoku, websockets)"
scripts/setup-venv.sh

step "proxy servers for the proxy tests (tinyproxy, microsocks)"
scripts/setup-proxies.sh

step "format, lints and docs"
cargo fmt --all -- --check
cargo clippy --all-targets -- -D warnings
cargo clippy --all-targets --features tokio -- -D warnings
RUSTDOCFLAGS="-D warnings" cargo doc --no-deps --quiet --features tokio

step "unit and integration tests (default features)"
cargo test

step "tests without the json feature"
cargo test --no-default-features --features std --lib --tests

step "the tokio driver (feature tokio): cancel safety, control frames, backpressure, close without loss"
cargo test --features tokio --test tokio_driver --test tokio_json_server --test tokio_proxy
cargo test --features tokio --doc

step "the sans-I/O core alone: no_std + alloc, for a bare-metal target"
scripts/nostd-build.sh

step "wss:// with rustls: the adapters and tests of docs/tls.md (examples/tls)"
# Its own workspace and lock file: rustls is never built by the main crate.
cargo fmt --manifest-path examples/tls/Cargo.toml -- --check
cargo clippy --manifest-path examples/tls/Cargo.toml --all-targets -- -D warnings
cargo test --manifest-path examples/tls/Cargo.toml

step "the tokio driver behind axum (examples/axum): Python websockets and headless Chromium"
# Its own workspace and lock file: axum and hyper never enter plainws's tree.
scripts/axum-test.sh

step "the Autobahn harness's verdict, on synthetic reports"
python3 scripts/test_autobahn.py

step "Autobahn TestSuite, plainws as server (cases 1-13, permessage-deflate included)"
cargo build --release --example echo_server
python3 scripts/autobahn.py server \
    --cmd "target/release/examples/echo_server 127.0.0.1:9001" \
    --port 9001 --report-dir target/autobahn/server --parallelism 2

step "Autobahn TestSuite, the event-loop driver (examples/mio_echo.rs) as server (cases 1-13)"
cargo build --release --example mio_echo
# permessage-deflate through the core's ServerHandshake, as the blocking server.
python3 scripts/autobahn.py server \
    --cmd "target/release/examples/mio_echo 127.0.0.1:9002 --compression" \
    --port 9002 --report-dir target/autobahn/mio --parallelism 2

step "Autobahn TestSuite, the tokio driver (examples/tokio_echo.rs) as server (cases 1-13)"
cargo build --release --features tokio --example tokio_echo --example tokio_autobahn_client
python3 scripts/autobahn.py server \
    --cmd "target/release/examples/tokio_echo 127.0.0.1:9003" \
    --port 9003 --report-dir target/autobahn/tokio-server --parallelism 2

step "Autobahn TestSuite, the tokio driver as client (cases 1-13)"
python3 scripts/autobahn.py client \
    --cmd "target/release/examples/tokio_autobahn_client {url} plainws-tokio 2" \
    --port 9004 --report-dir target/autobahn/tokio-client

step "the command-line client against the seed's Go server"
scripts/cli-test.sh

step "scaling out: two JSON echo servers behind nginx (clients that send and close at once lose nothing)"
scripts/nginx-test.sh --close-at-once

step "client suites: Autobahn as client, headless Chromium"
scripts/test-client.sh

step "smoke fuzz of every cargo-fuzz target (nightly, 10 s each)"
FUZZ_SMOKE_SECONDS=10 scripts/fuzz-smoke.sh

echo
echo "scripts/test.sh: all suites passed"
