#!/usr/bin/env bash
# Webhook acknowledgement latency at a fixed delivery rate (issue figure: p99 under 20 ms at
# 1,000 deliveries/s), beside the plain ingest API at the same rate, in the same run.
#
#   bash scripts/bench-webhooks.sh [RATE] [SECONDS] [ROUNDS]
#
# Starts `serve` (release build, embedded SQLite, fresh data directory) with a Meta app secret,
# then alternates rounds of signed Meta Page-feed deliveries to /webhooks/meta and API messages
# to /api/v1/messages, each open-loop at RATE per second for SECONDS. Prints every round's
# p50/p95/p99 and the median p99 of each, and their ratio.
set -euo pipefail
cd "$(dirname "$0")/.."
rate="${1:-1000}"; secs="${2:-20}"; rounds="${3:-3}"
cargo build --release -q -p switchboard-cli
bin=target/release/switchboard
work="$(mktemp -d)"
port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
SWITCHBOARD_LOG=warn SWITCHBOARD_DATA_DIR="$work" SWITCHBOARD_LISTEN="127.0.0.1:$port" \
  SWITCHBOARD_ADMIN_KEY=bench SWITCHBOARD_META_APP_SECRET=bench-secret "$bin" serve &
pid=$!
trap 'kill $pid 2>/dev/null || true; rm -rf "$work"' EXIT
for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$port/healthz" >/dev/null && break; sleep 0.1; done

p99() { awk '/^latency/ {print $9}'; }
hook=(); api=()
for r in $(seq 1 "$rounds"); do
  out="$("$bin" simulate --url "http://127.0.0.1:$port" --rate "$rate" --duration "$secs" \
    --concurrency 256 --seed "$r" --meta-secret bench-secret)"
  echo "webhook round $r: $(echo "$out" | grep -E '^(rate|latency|failed)' | tr '\n' ' ')"
  hook+=("$(echo "$out" | p99)")
  out="$("$bin" simulate --url "http://127.0.0.1:$port" --rate "$rate" --duration "$secs" \
    --concurrency 256 --seed "$((r + 100))" --api-key bench)"
  echo "api     round $r: $(echo "$out" | grep -E '^(rate|latency|failed)' | tr '\n' ' ')"
  api+=("$(echo "$out" | p99)")
done
median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
mh="$(median "${hook[@]}")"; ma="$(median "${api[@]}")"
echo "median p99: webhook $mh ms, api $ma ms, ratio webhook/api $(awk -v a="$mh" -v b="$ma" 'BEGIN {printf "%.2f", a/b}')"
