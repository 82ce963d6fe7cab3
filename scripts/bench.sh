#!/usr/bin/env bash
# Fan-out benchmark in one command (issue 6): builds, starts a fresh accord server and the
# naive baseline on free loopback ports, runs the loadgen scenarios against both and prints a
# comparison table. Results (JSON per scenario) and server logs stay in the output directory.
#
#   scripts/bench.sh                 full run, release build (≤ 10 min after the build)
#   scripts/bench.sh --smoke         tiny N, a few seconds per scenario, debug build by default;
#                                    exits non-zero if a session never got READY, a message was
#                                    lost or leaked, or a server/loadgen failed (no timing checks)
#
# Options: --profile debug|release, --sessions N, --rate MSGS_PER_S, --duration SECS,
#          --source-ips K, --out-dir DIR, --no-baseline
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

SMOKE=0
PROFILE=""
SESSIONS=""
RATE=""
DURATION=""
SOURCE_IPS=4
OUT_DIR=""
BASELINE=1
while [[ $# -gt 0 ]]; do
  case "$1" in
    --smoke) SMOKE=1 ;;
    --profile) PROFILE="$2"; shift ;;
    --sessions) SESSIONS="$2"; shift ;;
    --rate) RATE="$2"; shift ;;
    --duration) DURATION="$2"; shift ;;
    --source-ips) SOURCE_IPS="$2"; shift ;;
    --out-dir) OUT_DIR="$2"; shift ;;
    --no-baseline) BASELINE=0 ;;
    -h|--help) sed -n '2,14p' "$0"; exit 0 ;;
    *) echo "bench.sh: unknown option $1" >&2; exit 2 ;;
  esac
  shift
done

if [[ $SMOKE == 1 ]]; then
  PROFILE="${PROFILE:-debug}"; SESSIONS="${SESSIONS:-20}"; RATE="${RATE:-20}"; DURATION="${DURATION:-3}"
  HEARTBEAT_MS=1000   # heartbeats and ACKs are exercised even in a few seconds
  DRAIN=10
  STEP_TIMEOUT=180
  STRICT=(--smoke)
else
  PROFILE="${PROFILE:-release}"; SESSIONS="${SESSIONS:-2000}"; RATE="${RATE:-100}"; DURATION="${DURATION:-20}"
  HEARTBEAT_MS=41250
  DRAIN=20
  STEP_TIMEOUT=420
  STRICT=()
fi
case "$PROFILE" in
  release) BUILD_FLAGS=(--release); BIN="$ROOT/target/release" ;;
  debug|dev) BUILD_FLAGS=(); BIN="$ROOT/target/debug" ;;
  *) echo "bench.sh: --profile must be debug or release" >&2; exit 2 ;;
esac

step() { printf '\n==> %s\n' "$*" >&2; }

step "cargo build ${BUILD_FLAGS[*]:-} (accord, loadgen, naive_baseline)"
cargo build --quiet "${BUILD_FLAGS[@]}" --bin accord --bin loadgen --bin naive_baseline

# Every session is a socket; take the hard limit (20 000 here: ≤ 19 000 sessions per loadgen).
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

WORK="$(mktemp -d -t accord-bench-XXXXXX)"
KEEP_WORK=0
if [[ -z "$OUT_DIR" ]]; then OUT_DIR="$WORK/results"; fi
mkdir -p "$OUT_DIR"
PIDS=()
cleanup() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
  rm -rf "$WORK/accord-data"
  # Without --out-dir the results live in $WORK: kept only when something failed.
  if [[ $KEEP_WORK == 0 ]]; then rm -rf "$WORK"; fi
}
trap cleanup EXIT

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

FAILED=0
# run_loadgen NAME ARGS... : one scenario, bounded in time, JSON in $OUT_DIR/NAME.json
run_loadgen() {
  local name="$1"; shift
  step "loadgen $name: $SESSIONS sessions, $RATE msg/s for $DURATION s"
  if ! timeout "$STEP_TIMEOUT" "$BIN/loadgen" --label "$name" --sessions "$SESSIONS" \
      --rate "$RATE" --duration "$DURATION" --source-ips "$SOURCE_IPS" \
      --out "$OUT_DIR/$name.json" "${STRICT[@]}" "$@"; then
    echo "bench.sh: scenario $name FAILED (server logs in $OUT_DIR)" >&2
    FAILED=1
  fi
}

# --- accord -----------------------------------------------------------------------------------
PORT="$(free_port)"
# Rate limits off: the load generator is one caller posting far above Discord's limits.
start_accord() {
  env -u ACCORD_LISTEN -u ACCORD_DATA_DIR -u ACCORD_PUBLIC_URL -u ACCORD_BUS -u ACCORD_STORE \
    "$BIN/accord" --listen "127.0.0.1:$PORT" --data-dir "$WORK/accord-data" \
    --heartbeat-interval-ms "$HEARTBEAT_MS" --rate-limit-global 0 --rate-limit-route 0 \
    --log warn >>"$OUT_DIR/accord.log" 2>&1 &
  ACCORD_PID=$!
  PIDS+=("$ACCORD_PID")
}
start_accord
COMMON=(--base "http://127.0.0.1:$PORT" --state "$WORK/state.json"
        --server-data-dir "$WORK/accord-data")
# Set-up first, then a fresh server process on the same data: registration's argon2 buffers stay
# in the allocator, so measuring memory per session (M1) needs a process that never hashed.
step "loadgen set-up: $SESSIONS users"
if ! timeout "$STEP_TIMEOUT" "$BIN/loadgen" "${COMMON[@]}" --setup-only --users "$SESSIONS" \
    --hidden-fraction 0.5; then
  echo "bench.sh: set-up FAILED (log: $OUT_DIR/accord.log)" >&2
  exit 1
fi
kill "$ACCORD_PID"; wait "$ACCORD_PID" 2>/dev/null || true
start_accord
COMMON+=(--server-pid "$ACCORD_PID" --drain "$DRAIN")
run_loadgen accord-fanout "${COMMON[@]}" --hidden-fraction 0.5
run_loadgen accord-fanout-zlib "${COMMON[@]}" --hidden-fraction 0.5 --zlib
if ! kill -0 "$ACCORD_PID" 2>/dev/null; then
  echo "bench.sh: accord exited during the run (log: $OUT_DIR/accord.log)" >&2
  FAILED=1
fi
kill "$ACCORD_PID" 2>/dev/null || true

# --- naive baseline ---------------------------------------------------------------------------
if [[ $BASELINE == 1 ]]; then
  HTTP_PORT="$(free_port)"; GW_PORT="$(free_port)"
  "$BIN/naive_baseline" --listen "127.0.0.1:$HTTP_PORT" --gateway-listen "127.0.0.1:$GW_PORT" \
    --heartbeat-interval-ms "$HEARTBEAT_MS" >"$OUT_DIR/naive_baseline.log" 2>&1 &
  BASE_PID=$!
  PIDS+=("$BASE_PID")
  run_loadgen baseline-fanout --baseline --base "http://127.0.0.1:$HTTP_PORT" \
    --gateway-url "ws://127.0.0.1:$GW_PORT" --server-pid "$BASE_PID" --drain "$DRAIN"
  kill "$BASE_PID" 2>/dev/null || true
fi

# --- comparison -------------------------------------------------------------------------------
step "summary ($PROFILE build; JSON in $OUT_DIR)"
python3 - "$OUT_DIR" <<'EOF'
import json, os, sys
out = sys.argv[1]
runs = []
for name in ("accord-fanout", "accord-fanout-zlib", "baseline-fanout"):
    path = os.path.join(out, name + ".json")
    if os.path.exists(path):
        with open(path) as f:
            runs.append((name, json.load(f)))
def g(d, *keys):
    for k in keys:
        d = d.get(k) if isinstance(d, dict) else None
    return d
def fmt(v):
    if v is None: return "-"
    if isinstance(v, float): return f"{v:,.1f}" if abs(v) >= 100 else f"{v:.2f}"
    return str(v)
rows = [
    ("sessions (hidden)", lambda r: f"{r['sessions']} ({r['hidden_sessions']})"),
    ("set-up s (users)", lambda r: f"{fmt(g(r,'setup','total_secs'))} ({fmt(g(r,'setup','users'))})"),
    ("register users/s", lambda r: fmt(g(r,'setup','register','per_sec'))),
    ("M5 READY/s", lambda r: fmt(g(r,'identify','sessions_per_sec'))),
    ("M5 p99 to READY ms", lambda r: fmt(g(r,'identify','to_ready','p99_ms'))),
    ("M1 RSS KiB/session", lambda r: fmt(g(r,'server_rss_kib','per_session_kib'))),
    ("M4 achieved msg/s", lambda r: fmt(g(r,'load','achieved_rate'))),
    ("M4 REST p50/p99 ms", lambda r: f"{fmt(g(r,'load','rest_create','p50_ms'))} / {fmt(g(r,'load','rest_create','p99_ms'))}"),
    ("M2 deliveries/s", lambda r: fmt(g(r,'load','deliveries_per_sec'))),
    ("M3 first p50/p99/p99.9", lambda r: " / ".join(fmt(g(r,'latency','first_recipient',k)) for k in ('p50_ms','p99_ms','p999_ms'))),
    ("M3 last p50/p99/p99.9", lambda r: " / ".join(fmt(g(r,'latency','last_recipient',k)) for k in ('p50_ms','p99_ms','p999_ms'))),
    ("missing / leaked / seq gaps", lambda r: f"{g(r,'loss','missing_deliveries')} / {g(r,'loss','hidden_deliveries')} / {g(r,'loss','seq_gaps')}"),
]
w0 = max(len(r[0]) for r in rows)
cells = [[f(r) for _, r in runs] for _, f in rows]
widths = [max([len(n)] + [len(c[i]) for c in cells]) for i, (n, _) in enumerate(runs)]
print(" " * w0 + "  " + "  ".join(n.rjust(widths[i]) for i, (n, _) in enumerate(runs)))
for (label, _), cs in zip(rows, cells):
    print(label.ljust(w0) + "  " + "  ".join(c.rjust(widths[i]) for i, c in enumerate(cs)))
EOF

if [[ $FAILED != 0 ]]; then
  KEEP_WORK=1
  echo "bench.sh: at least one scenario failed (logs and JSON in $OUT_DIR)" >&2
  exit 1
fi
