#!/usr/bin/env bash
# Create (or reuse) the repo-local Python venv used by the conformance tooling:
#   - kosoku:     native runner of the Autobahn TestSuite cases (scripts/autobahn.py)
#   - websockets: reference implementation for scripts/py_echo_server.py and
#                 scripts/py_autobahn_client.py (harness self-test, interop tests)
#
# Idempotent: when .venv already has exactly the pinned versions, pip is not run.
# Usage: scripts/setup-venv.sh        (from anywhere; the venv goes to <repo>/.venv)
set -euo pipefail

# Pinned versions (verified to install from PyPI with Python 3.11).
KOSOKU_VERSION="0.1.0"
WEBSOCKETS_VERSION="17.4"

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${REPO_ROOT}/.venv"
PY="${VENV}/bin/python"

die() { echo "setup-venv: error: $*" >&2; exit 1; }

command -v python3 >/dev/null 2>&1 || die "python3 not found on PATH (need Python >= 3.10)"
python3 -c 'import sys; sys.exit(0 if sys.version_info >= (3, 10) else 1)' \
    || die "python3 is $(python3 -V 2>&1); kosoku needs Python >= 3.10"

# Create the venv if missing (or if a previous attempt left it without a python).
if [[ ! -x "${PY}" ]]; then
    echo "setup-venv: creating ${VENV}"
    python3 -m venv "${VENV}" \
        || die "python3 -m venv failed (on Debian: apt-get install python3-venv)"
fi

# Fast path: both packages already present at the pinned versions.
versions_ok() {
    "${PY}" - "${KOSOKU_VERSION}" "${WEBSOCKETS_VERSION}" <<'PYEOF' >/dev/null 2>&1
import sys
from importlib.metadata import version
want_kosoku, want_ws = sys.argv[1], sys.argv[2]
ok = version("kosoku") == want_kosoku and version("websockets") == want_ws
import kosoku, websockets  # noqa: F401  (importable, not just metadata)
sys.exit(0 if ok else 1)
PYEOF
}

if versions_ok && [[ -x "${VENV}/bin/kosoku" ]]; then
    echo "setup-venv: ${VENV} is up to date (kosoku ${KOSOKU_VERSION}, websockets ${WEBSOCKETS_VERSION})"
    exit 0
fi

echo "setup-venv: installing kosoku==${KOSOKU_VERSION} websockets==${WEBSOCKETS_VERSION}"
"${PY}" -m pip install --quiet --disable-pip-version-check \
    "kosoku==${KOSOKU_VERSION}" "websockets==${WEBSOCKETS_VERSION}" \
    || die "pip install failed (is PyPI reachable?)"

versions_ok || die "packages installed but the version check still fails"
[[ -x "${VENV}/bin/kosoku" ]] || die "${VENV}/bin/kosoku missing after install"
echo "setup-venv: ready: ${VENV}/bin/kosoku"
