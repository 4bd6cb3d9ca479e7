#!/usr/bin/env bash
# Makes sure Debian's Python 3 (/usr/bin/python3) can `import websockets`, for
# the Python reference client (clients/python) and its tests
# (tests/python). Idempotent: does nothing when the import already works.
# Installs only Debian's `python3-websockets` from the system's apt
# repositories; it never uses pip. It checks /usr/bin/python3 on purpose: a
# `python3` earlier on PATH (pyenv, a venv) does not see Debian's packages.
set -euo pipefail

python=/usr/bin/python3

has_websockets() {
  "$python" -c 'import websockets' >/dev/null 2>&1
}

if [ -x "$python" ] && has_websockets; then
  exit 0
fi

fail() {
  echo "ensure-python-websockets: $1" >&2
  echo "ensure-python-websockets: install Debian's package by hand ('apt-get install python3-websockets'); the Python client tests need \`$python -c 'import websockets'\` to work" >&2
  exit 1
}

# shellcheck source=lib/apt.sh
. "$(dirname "$0")/lib/apt.sh"

echo "ensure-python-websockets: installing Debian's python3-websockets with apt-get" >&2
apt_install "$python cannot import websockets" --no-install-recommends python3 python3-websockets
[ -x "$python" ] || fail "apt-get installed python3, but $python does not exist"
has_websockets || fail "apt-get installed python3-websockets, but \`$python -c 'import websockets'\` still fails"
echo "ensure-python-websockets: websockets $("$python" -c 'import websockets; print(websockets.__version__)' 2>/dev/null || echo '?') installed for $python" >&2
