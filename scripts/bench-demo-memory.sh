#!/usr/bin/env bash
# Peak memory of `switchboard demo` after N messages (default one million).
#
#   bash scripts/bench-demo-memory.sh [N]
#
# Starts the demo on a fresh data directory, sends N messages with `simulate` as fast as the
# server answers, waits until the pipeline has processed every stored message, then prints the
# demo process's peak resident set (VmHWM) and current resident set (VmRSS).
set -euo pipefail
cd "$(dirname "$0")/.."
n="${1:-1000000}"
cargo build --release -q
bin=target/release/switchboard
work="$(mktemp -d)"
port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
SWITCHBOARD_LOG=warn "$bin" demo --data-dir "$work/data" --listen "127.0.0.1:$port" >"$work/demo.out" 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null || true; rm -rf "$work"' EXIT
for _ in $(seq 1 100); do grep -q "API key" "$work/demo.out" 2>/dev/null && break; sleep 0.1; done
key="$(awk '/API key/ {print $3}' "$work/demo.out")"
[ -n "$key" ] || { echo "demo did not start:"; cat "$work/demo.out"; exit 1; }

start=$(date +%s)
"$bin" simulate --url "http://127.0.0.1:$port" --rate 0 --duration 36000 --messages "$n" \
  --concurrency 64 --api-key "$key"
metric() { curl -s "http://127.0.0.1:$port/metrics" | awk -v m="$1" '$1 == m {print $2}'; }
while [ "$(metric switchboard_messages_unprocessed)" != "0" ]; do sleep 1; done
end=$(date +%s)
echo "messages stored: $(metric switchboard_messages_stored), processed in $((end - start)) s"
grep -E 'VmHWM|VmRSS' "/proc/$pid/status"
