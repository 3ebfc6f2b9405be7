#!/usr/bin/env bash
# The command-line client (examples/client.rs) against the seed's own Go
# server (bench/go-seed, built offline by scripts/setup-go.sh), the server
# this project grew from. The Go server refuses upgrades without Origin
# (403), so:
#   1. without --origin the client exits non-zero and says why;
#   2. with --origin, 50 commands piped in give the 50 right replies on
#      stdout, in order, and the client exits 0.
# (tests/cli_client.rs covers the client against plainws's own server.)
#
# Usage: scripts/cli-test.sh
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

die() { echo "cli-test: FAILED: $*" >&2; exit 1; }
say() { echo "cli-test: $*"; }

go_seed="$(scripts/setup-go.sh | tail -n 1)" || die "cannot build the Go seed (see above)"
[[ -x "$go_seed" ]] || die "setup-go.sh gave no binary"
cargo build --quiet --example client
client=target/debug/examples/client

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

"$go_seed" "127.0.0.1:$port" >"$work/go.log" 2>&1 &
server_pid=$!
for _ in $(seq 50); do
    if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then break; fi
    kill -0 "$server_pid" 2>/dev/null || die "the Go server exited: $(cat "$work/go.log")"
    sleep 0.1
done
url="ws://127.0.0.1:$port/echo"
say "Go seed server on $url"

say "check 1: without --origin the Go server answers 403 and the client exits non-zero, saying so"
status=0
echo '{"cmd":"x"}' | "$client" "$url" >"$work/out1" 2>"$work/err1" || status=$?
sed 's/^/cli-test:   stderr: /' "$work/err1"
[[ "$status" -eq 1 ]] || die "exit status $status, expected 1"
grep -q "server refused the upgrade: HTTP/1.1 403 Forbidden" "$work/err1" || die "no 403 on stderr"
grep -q -- "--origin" "$work/err1" || die "stderr does not point at --origin"
[[ ! -s "$work/out1" ]] || die "stdout is not empty: $(cat "$work/out1")"
say "check 1 passed: exit 1, 403 reported"

say "check 2: 50 commands through a pipe with --origin: 50 replies in order, exit 0"
for i in $(seq 1 50); do printf '{"cmd":"command %d"}\n' "$i"; done >"$work/in"
for i in $(seq 1 50); do printf '{"cmd":"Thanks for your message: command %d"}\n' "$i"; done >"$work/want"
status=0
# --wait-replies: the Go server drops the replies still queued for its
# writer when a Close arrives, so the client waits for them before closing.
"$client" --origin "http://127.0.0.1:$port" --wait-replies "$url" \
    <"$work/in" >"$work/out2" 2>"$work/err2" || status=$?
sed 's/^/cli-test:   stderr: /' "$work/err2"
[[ "$status" -eq 0 ]] || die "exit status $status, expected 0"
if ! diff -u "$work/want" "$work/out2" >"$work/diff"; then
    head -n 20 "$work/diff" >&2
    die "the replies differ from the expected 50 (diff above)"
fi
say "check 2 passed: $(wc -l <"$work/out2") replies, all correct and in order, exit 0"
say "passed"
