#!/usr/bin/env bash
# Holds N idle connections (default 10,000) on the event-loop driver
# (examples/mio_echo.rs, one thread for every connection) and reports its
# RSS per connection, then runs the small-message and latency workloads
# beside them: the one thread must keep serving.
#
#   bench/mio-idle.sh [N]
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-10000}
ulimit -n "$(( n * 2 + 1000 ))" 2>/dev/null || ulimit -n "$(ulimit -Hn)"
cargo build --release -q -p plainws --example mio_echo
cargo build --release -q -p plainws-bench --bin loadgen
bin=target/release
addr=127.0.0.1:9302
"$bin/examples/mio_echo" "$addr" 2>/dev/null &
server=$!
trap 'kill $server 2>/dev/null; kill $idle 2>/dev/null || true' EXIT
sleep 0.5
"$bin/loadgen" idle "$addr" --idle-conns "$n" --pid "$server" --hold 15 &
idle=$!
# Wait (bounded) until the server holds a descriptor per connection.
for _ in $(seq 1 600); do
    fds=$(ls "/proc/$server/fd" | wc -l)
    [ "$fds" -gt "$n" ] && break
    sleep 0.1
done
echo "held: $fds descriptors, $(awk '/^Threads/{print $2}' "/proc/$server/status") thread(s), $(awk '/^VmRSS/{print $2, $3}' "/proc/$server/status") RSS"
"$bin/loadgen" small "$addr" --secs 3 --pid "$server"
"$bin/loadgen" latency "$addr" --secs 2
wait $idle
