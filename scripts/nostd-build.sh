#!/usr/bin/env bash
# Builds the sans-I/O core alone, with no `std`, for a bare-metal target:
# proof that the protocol needs no operating system.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
target=thumbv7em-none-eabihf
if ! rustup target list --installed 2>/dev/null | grep -qx "$target"; then
    echo "nostd-build: installing the $target standard library with rustup"
    if ! rustup target add "$target"; then
        echo "nostd-build: FAILED: 'rustup target add $target' did not work, so the no_std build cannot run" >&2
        exit 1
    fi
fi
cargo build --lib --no-default-features --target "$target"
echo "nostd-build: the core builds for $target without std"
