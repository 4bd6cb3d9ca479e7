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

command -v apt-get >/dev/null 2>&1 || fail "chromium is not installed, and there is no apt-get to install it with"

# Root runs apt-get as is; anyone else needs sudo.
if [ "$(id -u)" -eq 0 ]; then
  as_root=()
elif command -v sudo >/dev/null 2>&1; then
  as_root=(sudo)
else
  fail "chromium is not installed, and installing it needs root (or sudo, which is missing)"
fi

echo "ensure-chromium: installing Debian's chromium with apt-get" >&2
${as_root[@]+"${as_root[@]}"} apt-get update || fail "'apt-get update' failed"
${as_root[@]+"${as_root[@]}"} env DEBIAN_FRONTEND=noninteractive apt-get install -y chromium fonts-liberation || fail "'apt-get install chromium' failed"
command -v chromium >/dev/null 2>&1 || fail "apt-get installed chromium, but \`command -v chromium\` still finds nothing"
echo "ensure-chromium: $(chromium --version 2>/dev/null || echo chromium) installed" >&2
