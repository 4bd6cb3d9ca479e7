#!/usr/bin/env bash
# Makes sure Debian's `chromium` is installed, for the browser tests
# (tests/browser, driven by playwright-core). Idempotent: does nothing when
# `chromium` is already on PATH. Installs only from the system's apt
# repositories; it never downloads a browser build of its own.
set -euo pipefail

if command -v chromium >/dev/null 2>&1; then
  exit 0
fi

fail() {
  echo "ensure-chromium: $1" >&2
  echo "ensure-chromium: install Debian's chromium by hand ('apt-get install chromium'); the browser tests need it at \`command -v chromium\`" >&2
  exit 1
}

# shellcheck source=lib/apt.sh
. "$(dirname "$0")/lib/apt.sh"

echo "ensure-chromium: installing Debian's chromium with apt-get" >&2
apt_install "chromium is not installed" chromium fonts-liberation
command -v chromium >/dev/null 2>&1 || fail "apt-get installed chromium, but \`command -v chromium\` still finds nothing"
echo "ensure-chromium: $(chromium --version 2>/dev/null || echo chromium) installed" >&2
