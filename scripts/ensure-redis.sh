#!/usr/bin/env bash
# Makes sure Debian's `redis-server` is installed at /usr/bin/redis-server,
# for the scale-out tests (packages/redis, tests that use
# tests/helpers/redis-server.ts). Idempotent: does nothing when
# `/usr/bin/redis-server --version` already works. Installs only Debian's
# `redis-server` from the system's apt repositories, without recommends; it
# never downloads or compiles Redis.
#
# The tests start their own redis-server on a free loopback port and stop it
# by PID, so the system service is of no use to them, and one listening on
# 6379 would only be a stray Redis on the machine. The package's postinst
# starts that service (invoke-rc.d, deb-systemd-invoke); both ask
# /usr/sbin/policy-rc.d first, and exit code 101 means "do not start". So
# unless the machine's policy already refuses (Docker images ship one that
# does), a refusing policy-rc.d is put in place for the install and the
# original is put back afterwards. On a machine running systemd the unit is
# also disabled, so that it does not start at the next boot either.
set -euo pipefail

server=/usr/bin/redis-server
policy=/usr/sbin/policy-rc.d

works() {
  "$server" --version >/dev/null 2>&1
}

if [ -x "$server" ] && works; then
  exit 0
fi

fail() {
  echo "ensure-redis: $1" >&2
  echo "ensure-redis: install Debian's package by hand ('apt-get install --no-install-recommends redis-server', then 'systemctl disable --now redis-server' if it started); the Redis tests need \`$server --version\` to work" >&2
  exit 1
}

# shellcheck source=lib/apt.sh
. "$(dirname "$0")/lib/apt.sh"

# Root runs these as is; anyone else through sudo (apt_install checks for sudo itself, and fails first when it is missing).
as_root=()
[ "$(id -u)" -eq 0 ] || as_root=(sudo)
run_as_root() {
  ${as_root[@]+"${as_root[@]}"} "$@"
}

# Whether the machine's policy already refuses to start redis-server (exit 101).
policy_refuses() {
  [ -x "$policy" ] || return 1
  local status=0
  "$policy" redis-server start >/dev/null 2>&1 || status=$?
  [ "$status" -eq 101 ]
}

# Where the machine's own policy-rc.d waits while ours is in place; empty when ours is not.
saved_policy=
restore_policy() {
  [ -n "$saved_policy" ] || return 0
  if [ "$saved_policy" = none ]; then
    run_as_root rm -f "$policy"
  else
    run_as_root mv -f "$saved_policy" "$policy"
  fi
  saved_policy=
}

if command -v apt-get >/dev/null 2>&1 && ! policy_refuses; then
  if [ "$(id -u)" -eq 0 ] || command -v sudo >/dev/null 2>&1; then
    if [ -e "$policy" ]; then
      saved_policy="$policy.ensure-redis.$$"
      run_as_root mv -f "$policy" "$saved_policy" || fail "could not move $policy aside to keep the redis-server service from starting"
    else
      saved_policy=none
    fi
    # Put the machine's policy back however this script ends (a failed install, Ctrl-C).
    trap restore_policy EXIT
    trap 'exit 130' INT TERM
    printf '#!/bin/sh\n# Written by wirecall scripts/ensure-redis.sh for the length of one install: start no service.\nexit 101\n' |
      run_as_root tee "$policy" >/dev/null || fail "could not write $policy to keep the redis-server service from starting"
    run_as_root chmod 755 "$policy"
  fi
fi

echo "ensure-redis: installing Debian's redis-server with apt-get (its service is not started)" >&2
apt_install "$server does not work" --no-install-recommends redis-server
restore_policy
trap - EXIT INT TERM

if [ -d /run/systemd/system ] && command -v systemctl >/dev/null 2>&1; then
  run_as_root systemctl disable --quiet redis-server.service >/dev/null 2>&1 || true
fi

[ -x "$server" ] || fail "apt-get installed redis-server, but $server does not exist"
works || fail "apt-get installed redis-server, but \`$server --version\` still fails"
echo "ensure-redis: $("$server" --version 2>/dev/null || echo redis-server) installed (its service was not started)" >&2
