#!/usr/bin/env bash
# Makes sure a headless-capable Chromium is installed for scripts/browser-test.sh.
# Installs the Debian package `chromium` with apt-get when it is missing and
# this user can (root, or passwordless sudo); otherwise fails saying what to do.
# Prints the browser's path on the last line of stdout.
#
# Usage: scripts/setup-browser.sh
set -euo pipefail

die() { echo "setup-browser: error: $*" >&2; exit 1; }

find_browser() {
    local name
    for name in "${CHROMIUM:-}" chromium chromium-browser google-chrome google-chrome-stable; do
        [[ -n "$name" ]] || continue
        if command -v "$name" >/dev/null 2>&1; then
            command -v "$name"
            return 0
        fi
    done
    return 1
}

if browser="$(find_browser)"; then
    echo "$browser"
    exit 0
fi

command -v apt-get >/dev/null 2>&1 \
    || die "no chromium found and no apt-get to install it: install Chromium (or set CHROMIUM=/path/to/chrome)"
if [[ "$(id -u)" -eq 0 ]]; then
    SUDO=()
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    SUDO=(sudo -n)
else
    die "no chromium found, and installing it needs root: run 'apt-get update && apt-get install -y chromium' as root"
fi

echo "setup-browser: installing chromium with apt-get" >&2
export DEBIAN_FRONTEND=noninteractive
log="$(mktemp)"
trap 'rm -f "$log"' EXIT
"${SUDO[@]}" apt-get update -qq >"$log" 2>&1 \
    || { tail -n 20 "$log" >&2; die "apt-get update failed (is the package mirror reachable?)"; }
"${SUDO[@]}" apt-get install -y -qq --no-install-recommends chromium >"$log" 2>&1 \
    || { tail -n 20 "$log" >&2; die "apt-get install chromium failed"; }
browser="$(find_browser)" || die "chromium installed but not found on PATH"
echo "$browser"
