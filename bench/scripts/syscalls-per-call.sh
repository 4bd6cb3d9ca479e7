#!/usr/bin/env bash
# Syscalls per sequential call, server and client, for one implementation:
# strace -c attached to both processes for the measured calls only (after
# the warm-up, so module loading is not counted).
#
#   bash bench/scripts/syscalls-per-call.sh raw 5000
#   bash bench/scripts/syscalls-per-call.sh wirecall 5000
#
# Prints, per process, the syscalls made per call. Needs strace; the
# packages built (pnpm build).
set -euo pipefail
impl=${1:?implementation: raw, wirecall, socketio, trpc}
calls=${2:-5000}
cd "$(dirname "$0")/.."
export TSX_TSCONFIG_PATH=$PWD/tsconfig.json
out=$(mktemp -d)
port=$((20000 + RANDOM % 10000))
node --import tsx src/probe/seq-calls.ts server "$impl" "$port" >"$out/server.log" 2>&1 &
server=$!
trap 'kill "$server" 2>/dev/null || true; kill $(jobs -p) 2>/dev/null || true' EXIT
for _ in $(seq 1 100); do grep -q listening "$out/server.log" && break; sleep 0.1; done
PROBE_PAUSE_MS=1500 node --import tsx src/probe/seq-calls.ts client "$impl" "$port" "$calls" >"$out/client.log" 2>&1 &
client=$!
for _ in $(seq 1 100); do grep -q '^warm' "$out/client.log" && break; sleep 0.1; done
strace -f -c -p "$server" -o "$out/server.strace" 2>/dev/null &
s1=$!
strace -f -c -p "$client" -o "$out/client.strace" 2>/dev/null &
s2=$!
wait "$client" || true
kill -INT "$s1" 2>/dev/null || true
wait "$s1" "$s2" 2>/dev/null || true
cat "$out/client.log" | grep -v '^warm\|^measuring'
for side in server client; do
  echo "$side, per call:"
  awk -v calls="$calls" '/^ *[0-9.]+ +[0-9.]+ +[0-9]+ +[0-9]+/ { n = ($5 ~ /^[0-9]+$/) ? $6 : $5; printf "  %-14s %6.2f\n", n, $4 / calls }' "$out/$side.strace" | sort -k2 -rn | head -8
done
rm -rf "$out"
