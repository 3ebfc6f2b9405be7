#!/usr/bin/env bash
# Makes sure a command from a Debian package is installed, for the tests that
# need one (scripts/setup-go.sh, scripts/setup-nginx.sh). Installs the
# packages with apt-get when the command is missing and this user can (root,
# or passwordless sudo); otherwise fails saying what to run.
#
# Usage: scripts/setup-apt.sh COMMAND PACKAGE...
#   e.g. scripts/setup-apt.sh nginx nginx-light
# Exits 0 when COMMAND is on PATH afterwards and every PACKAGE is installed.
set -euo pipefail

die() { echo "setup-apt: error: $*" >&2; exit 1; }

[[ $# -ge 2 ]] || die "usage: scripts/setup-apt.sh COMMAND PACKAGE..."
command_name="$1"
shift

installed() {
    local package
    for package in "$@"; do
        dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" \
            || return 1
    done
    command -v "$command_name" >/dev/null 2>&1
}

if installed "$@"; then
    exit 0
fi

command -v apt-get >/dev/null 2>&1 \
    || die "$command_name is missing and there is no apt-get: install $* by hand"
if [[ "$(id -u)" -eq 0 ]]; then
    SUDO=()
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    SUDO=(sudo -n)
else
    die "$command_name is missing, and installing it needs root: run 'apt-get update && apt-get install -y $*' as root"
fi

echo "setup-apt: installing $* with apt-get" >&2
export DEBIAN_FRONTEND=noninteractive
log="$(mktemp)"
trap 'rm -f "$log"' EXIT
# The package lists may be missing on a fresh machine: update them once when
# the install cannot find a package.
if ! "${SUDO[@]}" apt-get install -y -qq --no-install-recommends "$@" >"$log" 2>&1; then
    "${SUDO[@]}" apt-get update -qq >"$log" 2>&1 \
        || { tail -n 20 "$log" >&2; die "apt-get update failed (is the package mirror reachable?)"; }
    "${SUDO[@]}" apt-get install -y -qq --no-install-recommends "$@" >"$log" 2>&1 \
        || { tail -n 20 "$log" >&2; die "apt-get install $* failed"; }
fi
installed "$@" || die "installed $* but $command_name is still not on PATH"
