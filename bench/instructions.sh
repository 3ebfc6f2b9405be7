#!/usr/bin/env bash
# User-space instructions per message: runs the `many` workload (500
# connections x 1 in flight, 32 B) against each tokio server under
# valgrind's callgrind, twice (SHORT and LONG seconds), and divides the
# difference in instructions by the difference in messages echoed, so that
# start-up and the 500 handshakes cancel out.
#
#   bench/instructions.sh                       # the four tokio servers
#   bench/instructions.sh plainws-tokio fastwebsockets
#   bench/instructions.sh --short 2 --long 6 --no-build
#
# Why: on a shared VM the wall-clock CPU per message drifts by +-15% for
# minutes at a time, and `many` is ~90% kernel work (loopback TCP) that is
# the same for every tokio server. An instruction count is exact and does
# not drift, so it shows the user-space difference between two servers that
# the timed benchmark cannot resolve. It is a diagnostic, not a speed: it
# ignores the kernel, caches and branch prediction, and callgrind runs every
# thread on one core, many times slower. Needs valgrind
# (apt-get install valgrind).
set -euo pipefail
cd "$(dirname "$0")/.."

short=2
long=6
build=1
servers=()
while [ $# -gt 0 ]; do
    case $1 in
    --short) short=${2:?--short needs a value}; shift 2 ;;
    --long) long=${2:?--long needs a value}; shift 2 ;;
    --no-build) build=0; shift ;;
    -h|--help) sed -n '2,20p' "$0"; exit 0 ;;
    -*) echo "instructions.sh: unknown option $1" >&2; exit 2 ;;
    *) servers+=("$1"); shift ;;
    esac
done
[ ${#servers[@]} -gt 0 ] ||
    servers=(plainws-tokio fastwebsockets tokio-websockets tokio-tungstenite)
command -v valgrind >/dev/null ||
    { echo "instructions.sh: valgrind not found (apt-get install valgrind)" >&2; exit 2; }

if [ "$build" = 1 ]; then
    (cd bench && cargo build --release --bins)
fi
target_dir=$(cargo metadata --format-version 1 --no-deps |
    sed -n 's/.*"target_directory":"\([^"]*\)".*/\1/p')
bin_dir="$target_dir/release"
work=$(mktemp -d)
server_pid=
cleanup() {
    [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT

# One run: prints "messages instructions".
measure() {
    local bin=$1 secs=$2 port=$3 out=$work/cg.out msgs
    valgrind --tool=callgrind --callgrind-out-file="$out" \
        "$bin_dir/ws-$bin" "127.0.0.1:$port" >"$work/vg.log" 2>&1 &
    server_pid=$!
    sleep 3
    msgs=$("$bin_dir/loadgen" many "127.0.0.1:$port" --secs "$secs" 2>&1 |
        sed -n 's/^many: \([0-9]*\) msgs.*/\1/p' | tail -1)
    kill -TERM "$server_pid"
    wait "$server_pid" 2>/dev/null || true
    server_pid=
    local ir
    ir=$(sed -n 's/^summary: \([0-9]*\)/\1/p' "$out")
    if [ -z "$msgs" ] || [ -z "$ir" ]; then
        echo "instructions.sh: ws-$bin: no result (see $work/vg.log)" >&2
        exit 1
    fi
    echo "$msgs $ir"
}

echo "| server | instructions per message (user space) |"
echo "|---|---:|"
port=9190
for server in "${servers[@]}"; do
    read -r m1 i1 < <(measure "$server" "$short" $((port += 1)))
    read -r m2 i2 < <(measure "$server" "$long" $((port += 1)))
    if [ "$m2" -le "$m1" ]; then
        echo "instructions.sh: ws-$server echoed no more in ${long}s than in ${short}s" >&2
        exit 1
    fi
    echo "| $server | $(( (i2 - i1) / (m2 - m1) )) |"
done
