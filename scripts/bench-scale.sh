#!/usr/bin/env bash
# Full-pipeline throughput on PostgreSQL + NATS JetStream with 1, 2 and 4 workers, beside the
# embedded SQLite default, and consumer-lag recovery after a burst (issue figures).
#
#   bash scripts/bench-scale.sh [MESSAGES] [ROUNDS] [BURST_SECS]
#
# Needs PostgreSQL (SWITCHBOARD_BENCH_PG, default postgres://postgres@127.0.0.1:5432) and NATS
# with JetStream (SWITCHBOARD_BENCH_NATS, default nats://127.0.0.1:4222). Each run gets a fresh
# database and stream. A run: `serve` (pipeline off) plus N `worker`s — or one `serve` on
# SQLite with its own pipeline — take MESSAGES from `simulate --rate 0`; throughput is
# MESSAGES divided by the time from the first send until nothing is left unprocessed.
# Lag recovery: with 2 workers, a burst at 3x the measured 2-worker throughput for BURST_SECS,
# then the time from the burst's end until the backlog is zero.
set -euo pipefail
cd "$(dirname "$0")/.."
n="${1:-20000}"; rounds="${2:-3}"; burst_secs="${3:-60}"
pg="${SWITCHBOARD_BENCH_PG:-postgres://postgres@127.0.0.1:5432}"
nats="${SWITCHBOARD_BENCH_NATS:-nats://127.0.0.1:4222}"
cargo build --release -q -p switchboard-cli
bin="$PWD/target/release/switchboard"
work="$(mktemp -d)"
pids=()
cleanup() { for p in "${pids[@]:-}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap 'cleanup; rm -rf "$work"' EXIT
port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
metric() { curl -s "http://127.0.0.1:$1/metrics" | awk -v m="$2" '$1 == m {print $2}'; }
now() { date +%s.%N; }

# start WORKERS DB_URL BUS_URL -> sets $p (serve port)
start() {
  local workers="$1" db="$2" bus="$3"
  p="$(port)"
  local in_serve=false; [ "$workers" = 0 ] && in_serve=true
  SWITCHBOARD_LOG=warn SWITCHBOARD_DATA_DIR="$work/data-$p" SWITCHBOARD_LISTEN="127.0.0.1:$p" \
    SWITCHBOARD_ADMIN_KEY=bench SWITCHBOARD_DATABASE_URL="$db" SWITCHBOARD_BUS_URL="$bus" \
    SWITCHBOARD_PIPELINE_IN_SERVE="$in_serve" "$bin" serve >/dev/null 2>&1 &
  pids+=($!)
  for _ in $(seq 1 200); do curl -sf "http://127.0.0.1:$p/healthz" >/dev/null && break; sleep 0.05; done
  for _ in $(seq 1 "$workers"); do
    SWITCHBOARD_LOG=warn SWITCHBOARD_DATABASE_URL="$db" SWITCHBOARD_BUS_URL="$bus" "$bin" worker >/dev/null 2>&1 &
    pids+=($!)
  done
  sleep 1
}

# drain PORT -> seconds until unprocessed is 0 (polling every 100 ms)
drain() {
  until [ "$(metric "$1" switchboard_messages_unprocessed)" = "0" ]; do sleep 0.1; done
}

run() { # WORKERS -> prints throughput
  local workers="$1" db bus tag
  tag="b$(date +%s%N | tail -c 10)"
  if [ "$workers" = 0 ]; then
    db="sqlite://$work/$tag.db"; bus="memory://"
  else
    psql "$pg/postgres" -qc "CREATE DATABASE $tag" >/dev/null
    db="$pg/$tag"; bus="$nats?stream=$tag"
  fi
  start "$workers" "$db" "$bus"
  local t0 t1
  t0="$(now)"
  "$bin" simulate --url "http://127.0.0.1:$p" --rate 0 --duration 3600 --messages "$n" \
    --concurrency 64 --api-key bench --seed "$RANDOM" >/dev/null
  drain "$p"
  t1="$(now)"
  cleanup; pids=()
  awk -v n="$n" -v a="$t0" -v b="$t1" 'BEGIN {printf "%.0f", n / (b - a)}'
}

median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

declare -A med
for w in 0 1 2 4; do
  rs=()
  for r in $(seq 1 "$rounds"); do rs+=("$(run "$w")"); done
  med[$w]="$(median "${rs[@]}")"
  label="$w workers (PostgreSQL + NATS)"; [ "$w" = 0 ] && label="embedded SQLite"
  echo "$label: ${rs[*]} messages/s; median ${med[$w]}"
done
for w in 1 2 4; do
  echo "ratio $w workers / SQLite: $(awk -v a="${med[$w]}" -v b="${med[0]}" 'BEGIN {printf "%.2f", a / b}')"
done

# Lag recovery with 2 workers.
rate=$(( med[2] * 3 ))
tag="lag$(date +%s%N | tail -c 9)"
psql "$pg/postgres" -qc "CREATE DATABASE $tag" >/dev/null
start 2 "$pg/$tag" "$nats?stream=$tag"
"$bin" simulate --url "http://127.0.0.1:$p" --rate "$rate" --duration "$burst_secs" \
  --concurrency 256 --api-key bench --scenario viral | grep -E '^(sent|accepted|rate|failed)' | tr '\n' ' '
echo
end="$(now)"
peak="$(metric "$p" switchboard_messages_unprocessed)"
drain "$p"
done_at="$(now)"
echo "burst at ${rate}/s (3x the 2-worker median) for ${burst_secs} s: backlog ${peak} at its end, drained $(awk -v a="$end" -v b="$done_at" 'BEGIN {printf "%.1f", b - a}') s later"
