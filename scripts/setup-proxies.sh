#!/usr/bin/env bash
# Installs the proxy servers the proxy tests start on loopback ports
# (tests/proxy_servers.rs, tests/cli_proxy.rs, examples/tls/tests/): Debian's
# tinyproxy (HTTP CONNECT) and microsocks (SOCKS5). Does nothing when they
# are there; fails saying what to run when they cannot be installed.
#
#   scripts/setup-proxies.sh
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
scripts/setup-apt.sh tinyproxy tinyproxy
scripts/setup-apt.sh microsocks microsocks
echo "setup-proxies: $(tinyproxy -v 2>&1 | head -n 1), microsocks: ready"
