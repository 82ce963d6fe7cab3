#!/usr/bin/env bash
# What the Redis bus costs (issue 5), measured in one run against the same MongoDB-wire store:
#   local  one node, --bus local: REST posts and gateway sessions on the same node;
#   redis  two nodes, --bus redis: REST posts on node A, every session on node B, so each event
#          crosses Redis (MessagePack envelope, one subscription per guild per node).
# For each: a moderate rate (latency: publish→deliver p50/p99 to the first and last recipient)
# and a rate above what the machine sustains (deliveries/s). Same users, guild and sessions for
# both (one set-up, shared database). Starts SecantusDB and uses/starts Redis itself.
#
#   scripts/bench-bus.sh [--sessions N] [--duration SECS] [--low RATE] [--high RATE]
#                        [--profile release|debug] [--out-dir DIR]
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

SESSIONS=1000
DURATION=15
LOW=50
HIGH=400
PROFILE=release
OUT_DIR=""
while [[ $# -gt 0 ]]; do
  case "$1" in
    --sessions) SESSIONS="$2"; shift ;;
    --duration) DURATION="$2"; shift ;;
    --low) LOW="$2"; shift ;;
    --high) HIGH="$2"; shift ;;
    --profile) PROFILE="$2"; shift ;;
    --out-dir) OUT_DIR="$2"; shift ;;
    -h|--help) sed -n '2,11p' "$0"; exit 0 ;;
    *) echo "bench-bus.sh: unknown option $1" >&2; exit 2 ;;
  esac
  shift
done
case "$PROFILE" in
  release) BUILD_FLAGS=(--release); BIN="$ROOT/target/release" ;;
  debug) BUILD_FLAGS=(); BIN="$ROOT/target/debug" ;;
  *) echo "bench-bus.sh: --profile must be release or debug" >&2; exit 2 ;;
esac
step() { printf '\n==> %s\n' "$*" >&2; }

step "cargo build ${BUILD_FLAGS[*]:-} (accord, loadgen)"
cargo build --quiet "${BUILD_FLAGS[@]}" --bin accord --bin loadgen
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

step "services"
source scripts/redis-service.sh
source scripts/mongo-service.sh

WORK="$(mktemp -d -t accord-bench-bus-XXXXXX)"
OUT_DIR="${OUT_DIR:-$WORK/results}"
mkdir -p "$OUT_DIR"
NAME="benchbus_$$_$RANDOM"
PIDS=()
cleanup() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
}
trap 'cleanup; stop_mongo_service 2>/dev/null || true' EXIT

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}
# start_node ID PORT BUS: a node on the shared database; sets NODE_PID.
start_node() {
  env -u ACCORD_LISTEN -u ACCORD_DATA_DIR -u ACCORD_PUBLIC_URL \
    "$BIN/accord" --listen "127.0.0.1:$2" --data-dir "$WORK/data-$1" --node-id "$1" \
    --store mongodb --mongodb-uri "$ACCORD_TEST_MONGODB_URI" --mongodb-database "$NAME" \
    --bus "$3" --redis-url "$ACCORD_TEST_REDIS_URL" --redis-prefix "$NAME" \
    --rate-limit-global 0 --rate-limit-route 0 --log warn >>"$OUT_DIR/node-$1-$3.log" 2>&1 &
  NODE_PID=$!
  PIDS+=("$NODE_PID")
  for _ in $(seq 1 100); do
    curl -sf "http://127.0.0.1:$2/api/v10/gateway" >/dev/null && return 0
    sleep 0.1
  done
  echo "bench-bus.sh: node $1 did not start (log: $OUT_DIR/node-$1-$3.log)" >&2
  exit 1
}
stop_nodes() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
  PIDS=()
}

PORT_A="$(free_port)"; PORT_B="$(free_port)"
STATE=(--state "$WORK/state.json" --server-data-dir "mongodb:$NAME")

# Joins all go through one invite, whose use count is one document: with many joins in flight
# SecantusDB's write conflicts outlast the store's retry budget (see the issue note).
step "set-up: $SESSIONS users through one node"
start_node 1 "$PORT_A" local
"$BIN/loadgen" --base "http://127.0.0.1:$PORT_A" "${STATE[@]}" --setup-only \
  --users "$SESSIONS" --hidden-fraction 0.5 --setup-concurrency 4
stop_nodes

# run BUS RATE: one scenario; JSON in $OUT_DIR/BUS-RATE.json
run() {
  local bus="$1" rate="$2" gateway
  if [[ $bus == local ]]; then
    start_node 1 "$PORT_A" local
    gateway="ws://127.0.0.1:$PORT_A"
  else
    start_node 1 "$PORT_A" redis
    start_node 2 "$PORT_B" redis
    gateway="ws://127.0.0.1:$PORT_B"
  fi
  step "$bus bus: $SESSIONS sessions on $gateway, $rate msg/s posted to node 1 for $DURATION s"
  timeout 600 "$BIN/loadgen" --base "http://127.0.0.1:$PORT_A" --gateway-url "$gateway" \
    "${STATE[@]}" --sessions "$SESSIONS" --hidden-fraction 0.5 --rate "$rate" \
    --duration "$DURATION" --source-ips 4 --drain 20 --label "$bus-$rate" \
    --out "$OUT_DIR/$bus-$rate.json" || echo "bench-bus.sh: $bus-$rate reported a failure" >&2
  stop_nodes
}
for rate in "$LOW" "$HIGH"; do
  run local "$rate"
  run redis "$rate"
done

step "summary (JSON in $OUT_DIR)"
python3 - "$OUT_DIR" "$LOW" "$HIGH" <<'EOF'
import json, os, sys
out, low, high = sys.argv[1], sys.argv[2], sys.argv[3]
def load(name):
    path = os.path.join(out, name + ".json")
    return json.load(open(path)) if os.path.exists(path) else {}
def g(d, *keys):
    for k in keys:
        d = d.get(k) if isinstance(d, dict) else None
    return d
rows = []
for rate in (low, high):
    for bus in ("local", "redis"):
        r = load(f"{bus}-{rate}")
        rows.append((f"{bus} @ {rate} msg/s", g(r, "load", "achieved_rate"), g(r, "load", "deliveries_per_sec"),
                     g(r, "latency", "first_recipient", "p50_ms"), g(r, "latency", "first_recipient", "p99_ms"),
                     g(r, "latency", "last_recipient", "p50_ms"), g(r, "latency", "last_recipient", "p99_ms"),
                     g(r, "loss", "missing_deliveries"), g(r, "loss", "seq_gaps")))
head = ("scenario", "posted/s", "deliveries/s", "first p50", "first p99", "last p50", "last p99", "missing", "gaps")
def f(v):
    if v is None: return "-"
    return f"{v:,.1f}" if isinstance(v, float) else str(v)
table = [head] + [tuple(f(v) for v in row) for row in rows]
widths = [max(len(r[i]) for r in table) for i in range(len(head))]
for r in table:
    print("  ".join(c.rjust(w) if i else c.ljust(w) for i, (c, w) in enumerate(zip(r, widths))))
for rate in (low, high):
    l, r = load(f"local-{rate}"), load(f"redis-{rate}")
    dl, dr = g(l, "load", "deliveries_per_sec"), g(r, "load", "deliveries_per_sec")
    pl, pr = g(l, "latency", "last_recipient", "p99_ms"), g(r, "latency", "last_recipient", "p99_ms")
    if dl and dr and pl and pr:
        print(f"@ {rate} msg/s: redis/local deliveries/s = {dr / dl:.2f}, last-recipient p99 redis/local = {pr / pl:.2f}")
EOF
