#!/usr/bin/env bash
# One command for the end-to-end benchmark: builds the servers, the load
# generator and (when Go is installed) the Go seed in release mode, then runs
# every workload against every server in alternating rounds and prints a
# markdown table of medians.
#
#   bench/run.sh            # full run, a few minutes
#   bench/run.sh --quick    # ~1 min smoke run
#   bench/run.sh --help     # all options (rounds, seconds, servers, ...)
#
# Servers listen on 127.0.0.1:9101-9108 only. bench-all kills every server it
# starts when it exits, and the kernel kills them if bench-all dies
# (PR_SET_PDEATHSIG); the trap below covers the build steps.
set -euo pipefail
cd "$(dirname "$0")"

trap 'echo "run.sh: interrupted" >&2; exit 130' INT TERM

cargo build --release --bins
# plainws is measured with the code users get: the README's threaded server
# (examples/readme_server.rs) and the JSON echo server as shipped, both with
# the default Config; then the Server-type and mio examples, labelled.
cargo build --release -p plainws --bin plainws \
    --example readme_server --example echo_server --example mio_echo
target_dir=$(cargo metadata --format-version 1 --no-deps |
    sed -n 's/.*"target_directory":"\([^"]*\)".*/\1/p')
bin_dir="$target_dir/release"

# The Go seed: Debian's golang-go + golang-golang-x-net-dev build it offline.
rm -f "$bin_dir/go-seed"
gopath_pkg=/usr/share/gocode/src/golang.org/x/net/websocket
if ! command -v go >/dev/null; then
    echo "run.sh: Go not found: skipping the Go seed" \
        "(apt-get install golang-go golang-golang-x-net-dev)" >&2
elif [ -d "$gopath_pkg" ]; then
    GO111MODULE=off GOPATH=/usr/share/gocode GOCACHE="$target_dir/go-build" \
        go build -o "$bin_dir/go-seed" ./go-seed
elif ! (cd go-seed && GOFLAGS=-mod=mod GOCACHE="$target_dir/go-build" \
    go build -o "$bin_dir/go-seed" .); then
    echo "run.sh: cannot build the Go seed (golang.org/x/net missing):" \
        "skipping it (apt-get install golang-golang-x-net-dev)" >&2
fi

exec "$bin_dir/bench-all" "$@"
