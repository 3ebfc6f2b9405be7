#!/usr/bin/env bash
# System calls per message: runs the small echo workload (4 conns x 16 in
# flight, 32 B binary) against one server under `strace -c -f` and divides
# the server's system calls (every thread, handshakes and closes included)
# by the messages loadgen saw echoed.
#
#   bench/strace-small.sh                      # plainws: the README server, default Config
#   bench/strace-small.sh tungstenite          # tungstenite, `send` per reply (the baseline)
#   bench/strace-small.sh tungstenite-batched  # tungstenite, `write` + one `flush` per batch
#   bench/strace-small.sh --secs 5 plainws-echo_server
#
# Servers: plainws, plainws-echo_server, plainws-mio, tungstenite,
# tungstenite-batched, fastwebsockets. Options: --secs S (default 3),
# --no-build. Needs strace (apt-get install strace). As in bench-all, the
# load generator runs on CPU 0 and the server on CPU 1 (2+ CPUs).
#
# strace stops the server at every system call, so it runs many times
# slower than in bench/run.sh: rates here mean nothing, and the counts are
# indicative (a slower server finds more input waiting per read, so may
# batch more than it would untraced).
set -euo pipefail
cd "$(dirname "$0")/.."

secs=3
build=1
server=plainws
while [ $# -gt 0 ]; do
    case $1 in
    --secs) secs=${2:?--secs needs a value}; shift 2 ;;
    --no-build) build=0; shift ;;
    -h | --help) sed -n '2,/^set -e/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    -*) echo "strace-small.sh: unknown option $1" >&2; exit 2 ;;
    *) server=$1; shift ;;
    esac
done

addr=127.0.0.1:9111
greeting=()
case $server in
plainws) cmd=(examples/readme_server "$addr"); greeting=(--greeting welcome) ;;
plainws-echo_server) cmd=(examples/echo_server "$addr") ;;
plainws-mio) cmd=(examples/mio_echo "$addr") ;;
tungstenite) cmd=(ws-tungstenite "$addr") ;;
tungstenite-batched) cmd=(ws-tungstenite "$addr" --batched) ;;
fastwebsockets) cmd=(ws-fastwebsockets "$addr") ;;
*) echo "strace-small.sh: unknown server $server" >&2; exit 2 ;;
esac

if ! command -v strace >/dev/null; then
    echo "strace-small.sh: strace not found (apt-get install strace)" >&2
    exit 1
fi
if [ "$build" = 1 ]; then
    cargo build --release -q -p plainws --example readme_server --example echo_server \
        --example mio_echo
    cargo build --release -q -p plainws-bench --bins
fi
bin=target/release

server_cpu=() loadgen_cpu=()
if [ "$(nproc)" -ge 2 ]; then
    server_cpu=(taskset -c 1) loadgen_cpu=(taskset -c 0)
fi

out=$(mktemp)
log=$(mktemp)
strace -c -f -o "$out" -- "${server_cpu[@]}" "$bin/${cmd[0]}" "${cmd[@]:1}" 2>"$log" &
tracer=$!
trap 'kill $tracer 2>/dev/null || true; rm -f "$out" "$log"' EXIT
for _ in $(seq 1 100); do
    (exec 3<>"/dev/tcp/${addr%:*}/${addr#*:}") 2>/dev/null && break
    sleep 0.1
done
pid=$(pgrep -P "$tracer")
result=$("${loadgen_cpu[@]}" "$bin/loadgen" small "$addr" --secs "$secs" --pid "$pid" \
    "${greeting[@]}")
kill -TERM "$pid"
wait "$tracer" || true
msgs=$(sed -n 's/^small: \([0-9]*\) msgs.*/\1/p' <<<"$result")
echo "$server (${cmd[*]}), under strace: $result"
echo
cat "$out"
echo
# strace -c columns: % time, seconds, usecs/call, calls, [errors,] syscall.
awk -v msgs="$msgs" -v server="$server" '
    $NF == "total" { total = $4 }
    $1 ~ /^[0-9.]+$/ && $NF != "total" && NF >= 5 { calls[$NF] = $4 }
    END {
        if (msgs == 0) { print "no messages echoed"; exit 1 }
        printf "%s: %d system calls for %d messages = %.3f per message\n",
            server, total, msgs, total / msgs
        for (c in calls) if (calls[c] / msgs >= 0.001)
            printf "  %-16s %.3f/msg\n", c, calls[c] / msgs | "sort -k2 -nr"
    }' "$out"
