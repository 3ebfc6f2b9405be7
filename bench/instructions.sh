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
# the same for every tokio server. An instruction count does not drift
# (repeated runs agree within 0.5%), so it shows the user-space difference
# between two servers that the timed benchmark cannot resolve. It is a
# diagnostic, not a speed: it ignores the kernel, caches and branch
# prediction, and callgrind runs every thread on one core, many times
# slower. Needs valgrind
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
    -h | --help) sed -n '2,/^set -e/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    -*) echo "instructions.sh: unknown option $1" >&2; exit 2 ;;
    *) servers+=("$1"); shift ;;
    esac
done
[ ${#servers[@]} -gt 0 ] ||
    servers=(plainws-tokio fastwebsockets tokio-websockets tokio-tungstenite)
command -v valgrind >/dev/null ||
    { echo "instructions.sh: valgrind not found (apt-get install valgrind)" >&2; exit 2; }

if [ "$build" = 1 ]; then
    cargo build --release -q -p plainws-bench --bins
fi
target_dir=$(cargo metadata --format-version 1 --no-deps |
    sed -n 's/.*"target_directory":"\([^"]*\)".*/\1/p')
bin_dir="$target_dir/release"
for server in "${servers[@]}"; do
    [ -x "$bin_dir/ws-$server" ] ||
        { echo "instructions.sh: no server $bin_dir/ws-$server" >&2; exit 2; }
done
work=$(mktemp -d)
server_pid=
cleanup() {
    [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT

# One run of ws-$1 for $2 seconds on port $3: sets `msgs` (echoed) and `ir`
# (instructions, start-up included). Runs in this shell, so that the EXIT
# trap stops the server if the script is interrupted.
measure() {
    local bin=$1 secs=$2 addr=127.0.0.1:$3 out=$work/cg.out
    valgrind --tool=callgrind --callgrind-out-file="$out" \
        "$bin_dir/ws-$bin" "$addr" >"$work/vg.log" 2>&1 &
    server_pid=$!
    # callgrind starts slowly: wait until the server listens.
    for _ in $(seq 1 300); do
        (exec 3<>"/dev/tcp/${addr%:*}/${addr#*:}") 2>/dev/null && break
        sleep 0.1
    done
    msgs=$("$bin_dir/loadgen" many "$addr" --secs "$secs" 2>&1 |
        sed -n 's/^many: \([0-9]*\) msgs.*/\1/p' | tail -1) || true
    # SIGTERM: the tokio servers do not stop on SIGINT under valgrind.
    kill -TERM "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
    server_pid=
    ir=$(sed -n 's/^summary: \([0-9]*\)/\1/p' "$out" 2>/dev/null)
    if [ -z "$msgs" ] || [ -z "$ir" ]; then
        echo "instructions.sh: ws-$bin: no result; valgrind said:" >&2
        tail -5 "$work/vg.log" >&2
        exit 1
    fi
}

echo "| server | instructions per message (user space) |"
echo "|---|---:|"
port=9190
for server in "${servers[@]}"; do
    measure "$server" "$short" $((port += 1))
    m1=$msgs i1=$ir
    measure "$server" "$long" $((port += 1))
    m2=$msgs i2=$ir
    if [ "$m2" -le "$m1" ]; then
        echo "instructions.sh: ws-$server echoed no more in ${long}s than in ${short}s" >&2
        exit 1
    fi
    echo "| $server | $(( (i2 - i1) / (m2 - m1) )) |"
done
