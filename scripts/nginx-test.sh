#!/usr/bin/env bash
# Scaling out behind nginx: runs deploy/nginx.conf (its ports changed) with
# Debian's nginx-light as a non-daemon on loopback, with its prefix, logs
# and temp files under target/nginx-test/, in front of two JSON echo servers
# (--trust-proxy 127.0.0.1 --keepalive 30 --trace), and checks:
#   1. every reply comes back through the proxy: 1,000 connections x 1
#      command and 1,000 x 5, each client reading its replies, then closing
#      (scripts/ws_load.py --mode wait; 0 lost allowed);
#   2. both backends served connections;
#   3. the backends' log lines and --trace show the client's address from
#      X-Forwarded-For (the clients connect from 127.0.0.2), a forged
#      X-Forwarded-For is not believed, and one sent straight to a backend
#      is ignored;
#   4. one backend killed: new connections are all served by the other.
# With --close-at-once it also runs, after check 1:
#   1b. clients that send their commands and their Close in one write
#      (1,000 x 1 and 1,000 x 5): every reply must still come back (0 lost).
#      It fails while the server sends its Close before the replies its
#      writer thread still holds; scripts/test.sh leaves it out until then.
#
# Usage: scripts/nginx-test.sh [--close-at-once]
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

die() { echo "nginx-test: FAILED: $*" >&2; exit 1; }
say() { echo "nginx-test: $*"; }

close_at_once=false
case "${1:-}" in
    "") ;;
    --close-at-once) close_at_once=true ;;
    *) die "unknown argument $1 (usage: scripts/nginx-test.sh [--close-at-once])" ;;
esac

scripts/setup-apt.sh nginx nginx-light || die "no nginx (see the message above)"
scripts/setup-venv.sh >/dev/null || die "no Python venv (scripts/setup-venv.sh)"
python=.venv/bin/python
cargo build --release --quiet --bin plainws
server=target/release/plainws

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
port_a="$(free_port)"; port_b="$(free_port)"; port_proxy="$(free_port)"
work="$PWD/target/nginx-test"
rm -rf "$work"
mkdir -p "$work/logs" "$work/temp"

pid_a=""; pid_b=""; pid_nginx=""
stop() {
    local pid="$1"
    if [[ -n "$pid" ]]; then
        kill "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    fi
}
cleanup() {
    stop "$pid_nginx"
    stop "$pid_a"
    stop "$pid_b"
}
trap cleanup EXIT

wait_port() {
    local port="$1" pid="$2" log="$3"
    for _ in $(seq 100); do
        if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then return 0; fi
        kill -0 "$pid" 2>/dev/null || die "a process exited at start: $(tail -n 20 "$log")"
        sleep 0.1
    done
    die "nothing listens on $port"
}

"$server" --addr "127.0.0.1:$port_a" --trust-proxy 127.0.0.1 --keepalive 30 --trace \
    >"$work/backend-a.log" 2>&1 &
pid_a=$!
"$server" --addr "127.0.0.1:$port_b" --trust-proxy 127.0.0.1 --keepalive 30 --trace \
    >"$work/backend-b.log" 2>&1 &
pid_b=$!
wait_port "$port_a" "$pid_a" "$work/backend-a.log"
wait_port "$port_b" "$pid_b" "$work/backend-b.log"

# deploy/nginx.conf with this run's ports.
sed -e "s/127\.0\.0\.1:1241/127.0.0.1:$port_a/" \
    -e "s/127\.0\.0\.1:1242/127.0.0.1:$port_b/" \
    -e "s/listen 127\.0\.0\.1:8080;/listen 127.0.0.1:$port_proxy;/" \
    deploy/nginx.conf >"$work/nginx.conf"
grep -q "127.0.0.1:$port_a " "$work/nginx.conf" && grep -q "127.0.0.1:$port_b " "$work/nginx.conf" \
    && grep -q "listen 127.0.0.1:$port_proxy;" "$work/nginx.conf" \
    || die "deploy/nginx.conf no longer has the ports this script replaces (1241, 1242, 8080)"
nginx -t -q -p "$work" -c "$work/nginx.conf" -g 'daemon off;' 2>"$work/nginx-t.log" \
    || die "nginx -t refuses the configuration: $(cat "$work/nginx-t.log")"
nginx -p "$work" -c "$work/nginx.conf" -g 'daemon off;' >"$work/nginx.out" 2>&1 &
pid_nginx=$!
wait_port "$port_proxy" "$pid_nginx" "$work/logs/error.log"
url="ws://127.0.0.1:$port_proxy/echo"
say "nginx on 127.0.0.1:$port_proxy in front of JSON echo servers on $port_a and $port_b"

load() {
    say "  $python scripts/ws_load.py $url $*"
    "$python" scripts/ws_load.py "$url" --source-ip 127.0.0.2 "$@" | sed 's/^/nginx-test:   /'
    return "${PIPESTATUS[0]}"
}

say "check 1: every reply through the proxy, clients reading their replies before closing"
load --connections 1000 --commands 1 --mode wait || die "replies lost through the proxy (1000 x 1)"
load --connections 1000 --commands 5 --mode wait || die "replies lost through the proxy (1000 x 5)"
say "check 1 passed"

if $close_at_once; then
    say "check 1b (--close-at-once): clients that send their commands and Close in one write get every reply"
    ok=true
    load --connections 1000 --commands 1 --mode close-at-once || ok=false
    load --connections 1000 --commands 5 --mode close-at-once || ok=false
    $ok || die "check 1b: replies lost when clients send and close at once (counts above)"
    say "check 1b passed"
fi

opened() { grep -c " open$" "$1" || true; }
say "check 2: both backends served connections"
opens_a="$(opened "$work/backend-a.log")"; opens_b="$(opened "$work/backend-b.log")"
say "  backend a: $opens_a connections, backend b: $opens_b"
[[ "$opens_a" -gt 0 && "$opens_b" -gt 0 ]] || die "one backend got no connection"
say "check 2 passed"

say "check 3: the log and --trace show the client's forwarded address"
logs=("$work/backend-a.log" "$work/backend-b.log")
line="$(grep -h -m 1 -E "^127\.0\.0\.2 via 127\.0\.0\.1:[0-9]+ open$" "${logs[@]}" | head -n 1 || true)"
[[ -n "$line" ]] || die "no log line '127.0.0.2 via 127.0.0.1:PORT open'"
say "  log:   $line"
line="$(grep -h -m 1 -E "^\[plainws-conn-[0-9]+ 127\.0\.0\.2 via 127\.0\.0\.1:[0-9]+\] <- fin=1 rsv=000 op=TEXT" "${logs[@]}" | head -n 1 || true)"
[[ -n "$line" ]] || die "no --trace line for a frame from 127.0.0.2 via 127.0.0.1"
say "  trace: $line"
line="$(grep -h -m 1 -E "^\[plainws-conn-[0-9]+-writer 127\.0\.0\.2 via 127\.0\.0\.1:[0-9]+\] -> fin=1" "${logs[@]}" | head -n 1 || true)"
[[ -n "$line" ]] || die "no --trace line for a frame to 127.0.0.2 from the writer thread"
say "  trace: $line"
# A client's own X-Forwarded-For is kept by nginx on the left of the list;
# the backend believes only what nginx added.
load --connections 4 --commands 1 --mode wait --header "X-Forwarded-For: 203.0.113.66" \
    || die "connections with a forged X-Forwarded-For failed"
! grep -q "^203\.0\.113\.66" "${logs[@]}" || die "a forged X-Forwarded-For reached the log"
# Straight to a backend, not through the trusted proxy: the header is ignored.
say "  $python scripts/ws_load.py ws://127.0.0.1:$port_b/echo (straight to a backend, forged header)"
"$python" scripts/ws_load.py "ws://127.0.0.1:$port_b/echo" --source-ip 127.0.0.2 \
    --connections 1 --commands 1 --mode wait --header "X-Forwarded-For: 203.0.113.77" \
    | sed 's/^/nginx-test:   /'
[[ "${PIPESTATUS[0]}" -eq 0 ]] || die "a connection straight to a backend failed"
grep -q -E "^127\.0\.0\.2:[0-9]+ open$" "$work/backend-b.log" \
    || die "a direct connection from 127.0.0.2 is not logged as 127.0.0.2:PORT"
! grep -q "203\.0\.113\.77" "$work/backend-b.log" || die "an untrusted peer's X-Forwarded-For was believed"
say "  forged addresses ignored, through the proxy and straight to a backend"
say "check 3 passed"

say "check 4: backend a killed: new connections are served by backend b"
kill -KILL "$pid_a"; wait "$pid_a" 2>/dev/null || true; pid_a=""
before="$(opened "$work/backend-b.log")"
load --connections 200 --commands 1 --mode wait || die "connections failed after a backend died"
after="$(opened "$work/backend-b.log")"
say "  backend b opened $((after - before)) connections"
[[ $((after - before)) -ge 200 ]] || die "backend b did not serve the 200 new connections"
say "check 4 passed"
say "passed"
