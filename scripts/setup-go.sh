#!/usr/bin/env bash
# Builds the seed's Go program (bench/go-seed, the server the project's
# article describes) offline, with Debian's Go and Debian's golang.org/x/net:
# installs golang-go and golang-golang-x-net-dev with apt-get where they are
# missing (scripts/setup-apt.sh), then builds in GOPATH mode against
# /usr/share/gocode, so no module is downloaded.
# Prints the binary's path on the last line of stdout.
#
# Usage: scripts/setup-go.sh
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

die() { echo "setup-go: error: $*" >&2; exit 1; }

scripts/setup-apt.sh go golang-go golang-golang-x-net-dev \
    || die "no Go toolchain (see the message above)"
gopath=/usr/share/gocode
[[ -d "$gopath/src/golang.org/x/net/websocket" ]] \
    || die "$gopath/src/golang.org/x/net/websocket is missing (Debian package golang-golang-x-net-dev)"

out="$PWD/target/go-seed"
mkdir -p "$out"
# GOPATH mode (GO111MODULE=off) ignores bench/go-seed/go.mod and finds
# golang.org/x/net in Debian's GOPATH; GOPROXY=off makes sure nothing is
# fetched.
(cd bench/go-seed && GO111MODULE=off GOPATH="$gopath" GOPROXY=off GOFLAGS= \
    GOCACHE="$out/cache" go build -o "$out/go-seed" .) \
    || die "go build of bench/go-seed failed"
echo "$out/go-seed"
