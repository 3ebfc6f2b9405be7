#!/usr/bin/env bash
# A short smoke fuzz of every cargo-fuzz target in fuzz/ (16 s each,
# about 2.5 minutes in all plus the first build), from the committed seed corpus. Fails
# if any target finds a crash; the reproducer is left in
# fuzz/artifacts/<target>/.
#
#   scripts/fuzz-smoke.sh              # every target
#   scripts/fuzz-smoke.sh mask utf8    # some of them
#   FUZZ_SMOKE_SECONDS=60 scripts/fuzz-smoke.sh
#
# cargo-fuzz needs a nightly toolchain (for -Zsanitizer and the coverage
# instrumentation). Without one this script prints that the smoke fuzz is
# SKIPPED and why, and exits 0: that is its only skip. The committed
# corpus is replayed on stable either way by `cargo test`
# (tests/fuzz_corpus.rs). cargo-fuzz itself is installed when missing.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

seconds="${FUZZ_SMOKE_SECONDS:-16}"

if ! rustup toolchain list 2>/dev/null | grep -q '^nightly'; then
    echo "scripts/fuzz-smoke.sh: SKIPPED: no nightly Rust toolchain" \
        "(\`rustup toolchain list\` shows none), and cargo-fuzz needs nightly." \
        "Install one with \`rustup toolchain install nightly\` to run it." \
        "The seed corpus is still replayed on stable by \`cargo test\`."
    exit 0
fi

if ! cargo fuzz --version >/dev/null 2>&1; then
    echo "==> installing cargo-fuzz"
    cargo install cargo-fuzz --locked
fi

cd fuzz
if [ "$#" -gt 0 ]; then
    targets=("$@")
else
    mapfile -t targets < <(cargo +nightly fuzz list)
fi

echo "==> building ${#targets[@]} fuzz targets"
cargo +nightly fuzz build

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

failed=()
for target in "${targets[@]}"; do
    mkdir -p "$work/$target"
    log="$work/$target.log"
    # New inputs go to the scratch directory; the committed corpus is read only.
    if cargo +nightly fuzz run "$target" "$work/$target" "corpus/$target" -- \
        -max_total_time="$seconds" -timeout=10 -print_final_stats=1 >"$log" 2>&1; then
        runs="$(grep -E '^stat::number_of_executed_units' "$log" | awk '{print $2}')"
        cov="$(grep -E '(DONE|pulse|NEW|REDUCE) +cov:' "$log" | tail -n 1 |
            sed -E 's/.*(cov: [0-9]+ ft: [0-9]+).*/\1/')"
        echo "ok   $target: ${runs:-?} runs in ${seconds}s, ${cov:-no coverage line}"
    else
        echo "FAIL $target: the fuzzer found a crash (reproducer in fuzz/artifacts/$target/)"
        grep -E 'panicked|ERROR|SUMMARY|Test unit written' "$log" | head -n 10 || true
        tail -n 30 "$log"
        failed+=("$target")
    fi
done

if [ "${#failed[@]}" -gt 0 ]; then
    echo "scripts/fuzz-smoke.sh: crashes in: ${failed[*]}"
    exit 1
fi
echo "scripts/fuzz-smoke.sh: ${#targets[@]} targets, no crash"
