#!/usr/bin/env bash
# Holds N idle connections (default 10,000) on the plainws echo server and,
# while they are all held, runs the small-message and latency workloads on
# 4 + 1 more connections: the server must keep serving them.
#
#   bench/idle-under-load.sh [N]
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-10000}
cargo build --release -q -p plainws --example echo_server
cargo build --release -q -p plainws-bench --bin loadgen
bin=target/release
addr=127.0.0.1:9301
"$bin/examples/echo_server" "$addr" 2>/dev/null &
server=$!
trap 'kill $server 2>/dev/null; kill $idle 2>/dev/null || true' EXIT
sleep 0.5
"$bin/loadgen" idle "$addr" --idle-conns "$n" --pid "$server" --hold 30 &
idle=$!
# Wait (bounded) until the server runs a thread per held connection.
for _ in $(seq 1 600); do
    threads=$(awk '/^Threads/{print $2}' "/proc/$server/status")
    [ "$threads" -gt "$n" ] && break
    sleep 0.1
done
echo "held: $((threads - 1)) connection threads, $(ls /proc/$server/fd | wc -l) descriptors, $(awk '/^VmRSS/{print $2, $3}' "/proc/$server/status") RSS"
"$bin/loadgen" small "$addr" --secs 3 --pid "$server"
"$bin/loadgen" latency "$addr" --secs 2
threads=$(awk '/^Threads/{print $2}' "/proc/$server/status")
echo "still held after the load: $((threads - 1)) connection threads"
