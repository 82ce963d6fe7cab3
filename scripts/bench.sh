#!/usr/bin/env bash
# The benchmark suite of issue 6 in one command: builds, then runs M1–M5 against a fresh accord
# server (embedded SQLite store, REST rate limits off) and the naive baseline on free loopback
# ports, and prints the M1–M5 table with accord/baseline ratios. JSON per run, summary.md, the
# SVG charts and the servers' logs stay in the output directory.
#
#   scripts/bench.sh                 full run: N = 1000 and 10 000, release build;
#                                    ≤ 10 min after the build (+ ~3 min the first time for the
#                                    10 000-user set-up, cached in target/bench-cache)
#   scripts/bench.sh --smoke         tiny N, about a second per step, debug build by default;
#                                    exits non-zero if a session never got READY, a message was
#                                    lost or leaked, or a server/loadgen failed (no timing checks)
#   scripts/bench.sh --docs          also copy summary.md and the charts into docs/bench/
#
# Options: --profile debug|release, --sessions "N1 N2 ..." (session counts; the largest also
#          gets the zlib-stream M1 run), --source-ips K, --out-dir DIR, --no-baseline, --no-m4,
#          --no-zlib, --fresh-setup (ignore the set-up cache), --docs, --server-threads K|auto
#          (tokio worker threads per runtime of accord and the baseline alike in the fan-out
#          scenarios; default 1, so on a 2-core machine the load generator has the other core —
#          accord's connections runtime is the busy one, its main runtime mostly waits; auto =
#          one per core; M4 always has one per core); the *.json in --out-dir are replaced
#
# Scenarios (each a loadgen run, see src/bin/loadgen/main.rs):
#   accord-nN / baseline-nN   N sessions (half cannot view the channel): M5 connection storm,
#                             M1 RSS per idle session (fresh server process, baseline RSS taken
#                             after a warm-up session, heartbeats running), M2 rate ramp to the
#                             maximum deliveries/s, M3 latency at 50 % and 80 % of it
#   accord-zlib-nN            the same sessions with compress=zlib-stream: M1, M5 and a short
#                             fixed-rate delivery check
#   accord-m4                 M4: REST message-create rate search, p99 ≤ 50 ms, no sessions
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

SMOKE=0
PROFILE=""
NS=""
SOURCE_IPS=8
OUT_DIR=""
BASELINE=1
M4=1
ZLIB=1
FRESH=0
DOCS=0
SERVER_THREADS=1
while [[ $# -gt 0 ]]; do
  case "$1" in
    --smoke) SMOKE=1 ;;
    --profile) PROFILE="$2"; shift ;;
    --sessions) NS="$2"; shift ;;
    --source-ips) SOURCE_IPS="$2"; shift ;;
    --out-dir) OUT_DIR="$2"; shift ;;
    --no-baseline) BASELINE=0 ;;
    --no-m4) M4=0 ;;
    --no-zlib) ZLIB=0 ;;
    --fresh-setup) FRESH=1 ;;
    --docs) DOCS=1 ;;
    --server-threads) SERVER_THREADS="$2"; shift ;;
    -h|--help) awk 'NR > 1 && !/^#/ { exit } NR > 1 { print }' "$0"; exit 0 ;;
    *) echo "bench.sh: unknown option $1" >&2; exit 2 ;;
  esac
  shift
done

if [[ $SMOKE == 1 ]]; then
  PROFILE="${PROFILE:-debug}"; NS="${NS:-20}"
  HEARTBEAT_MS=1000   # heartbeats and ACKs are exercised even in a few seconds
  STEP_TIMEOUT=180
  # Ramp from 20 msg/s (10 viewers × 20 = 200 deliveries/s), two 1-s steps, 1-s M3 points.
  RAMP=(--ramp-start-deliveries 200 --ramp-step-secs 1 --ramp-max-steps 2 --m3-secs 1
        --drain 10 --idle-secs 0.5)
  M4_ARGS=(--m4-start-rate 20 --m4-step-secs 1 --m4-max-steps 2 --m4-p99-ms 1000 --posters 2
           --m4-authors 4)
  ZLIB_LOAD=(--rate 20 --duration 1 --drain 10 --idle-secs 0.5)
  STRICT=(--smoke)
  SUMMARY_STRICT=(--strict)
else
  PROFILE="${PROFILE:-release}"; NS="${NS:-1000 10000}"
  HEARTBEAT_MS=41250
  STEP_TIMEOUT=300
  # Each ramp: 3-s steps ×1.6 from 40 000 offered deliveries/s, no new step after 60 s; then
  # 8 s at 50 % and 8 s at 80 % of the maximum.
  RAMP=(--ramp-start-deliveries 40000 --ramp-step-secs 3 --ramp-factor 1.6 --ramp-max-steps 12
        --ramp-budget-secs 60 --m3-secs 8 --drain 5 --idle-secs 5 --connect-concurrency 1000)
  M4_ARGS=(--m4-start-rate 500 --m4-step-secs 3 --m4-max-steps 8 --m4-budget-secs 50
           --posters 16 --m4-authors 16)
  ZLIB_LOAD=(--duration 3 --drain 5 --idle-secs 5 --connect-concurrency 1000)
  STRICT=()
  SUMMARY_STRICT=()
fi
case "$PROFILE" in
  release) BUILD_FLAGS=(--release); BIN="$ROOT/target/release" ;;
  debug|dev) BUILD_FLAGS=(); BIN="$ROOT/target/debug" ;;
  *) echo "bench.sh: --profile must be debug or release" >&2; exit 2 ;;
esac
read -r -a NS_LIST <<<"$NS"
MAX_N=0
for n in "${NS_LIST[@]}"; do
  [[ $n =~ ^[0-9]+$ && $n -gt 0 ]] || { echo "bench.sh: bad --sessions value $n" >&2; exit 2; }
  (( n > MAX_N )) && MAX_N=$n
done

# The servers' worker threads (TOKIO_WORKER_THREADS, which every runtime of both servers reads:
# accord's two, the baseline's one; the load generator sizes its own runtime and is not
# affected).
SERVER_ENV=()
if [[ $SERVER_THREADS != auto ]]; then SERVER_ENV=(TOKIO_WORKER_THREADS="$SERVER_THREADS"); fi

step() { printf '\n==> [%s] %s\n' "$(date -u +%H:%M:%S)" "$*" >&2; }
SUITE_START=$SECONDS

step "cargo build ${BUILD_FLAGS[*]:-} (accord, loadgen, naive_baseline)"
cargo build --quiet "${BUILD_FLAGS[@]}" --bin accord --bin loadgen --bin naive_baseline
BUILT=$SECONDS

# Every session is a socket; take the hard limit (20 000 here: ≤ 19 000 sessions per loadgen).
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

WORK="$(mktemp -d -t accord-bench-XXXXXX)"
KEEP_WORK=0
if [[ -z "$OUT_DIR" ]]; then OUT_DIR="$WORK/results"; fi
mkdir -p "$OUT_DIR"
rm -f "$OUT_DIR"/*.json
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
  step "loadgen $name"
  if ! timeout "$STEP_TIMEOUT" "$BIN/loadgen" --label "$name" --source-ips "$SOURCE_IPS" \
      --out "$OUT_DIR/$name.json" "${STRICT[@]}" "$@" >"$OUT_DIR/$name.txt" \
      2> >(tee "$OUT_DIR/$name.log" >&2); then
    echo "bench.sh: scenario $name FAILED (output in $OUT_DIR/$name.txt, .log)" >&2
    FAILED=1
  fi
}

# --- accord -----------------------------------------------------------------------------------
PORT="$(free_port)"
ACCORD_PID=""
# Rate limits off: the load generator posts far above Discord's per-route limits.
# start_accord [VAR=value ...]: the environment given goes to the server only.
start_accord() {
  env -u ACCORD_LISTEN -u ACCORD_DATA_DIR -u ACCORD_PUBLIC_URL -u ACCORD_BUS -u ACCORD_STORE \
    "$@" "$BIN/accord" --listen "127.0.0.1:$PORT" --data-dir "$WORK/accord-data" \
    --heartbeat-interval-ms "$HEARTBEAT_MS" --rate-limit-global 0 --rate-limit-route 0 \
    --log warn >>"$OUT_DIR/accord.log" 2>&1 &
  ACCORD_PID=$!
  PIDS+=("$ACCORD_PID")
}
stop_accord() {
  if [[ -n "$ACCORD_PID" ]]; then
    if ! kill -0 "$ACCORD_PID" 2>/dev/null; then
      echo "bench.sh: accord exited during the run (log: $OUT_DIR/accord.log)" >&2
      FAILED=1
    fi
    kill "$ACCORD_PID" 2>/dev/null || true
    wait "$ACCORD_PID" 2>/dev/null || true
    ACCORD_PID=""
  fi
}

# Set-up (users, guild, channels, the hidden role) through REST, cached per user count: argon2
# makes registering 10 000 users the slowest part of the suite. The cache is a copy of the data
# dir plus the state file; the server always runs on a copy, so runs never grow it.
CACHE="$ROOT/target/bench-cache/$PROFILE-users-$MAX_N"
SETUP_ID="$CACHE/data"   # what the state file is matched against (--server-data-dir)
COMMON=(--base "http://127.0.0.1:$PORT" --state "$WORK/state.json"
        --server-data-dir "$SETUP_ID" --hidden-fraction 0.5)
setup() {
  rm -rf "$WORK/accord-data" "$WORK/state.json"
  if [[ $1 == cached ]]; then
    cp -a "$CACHE/data" "$WORK/accord-data"
    cp "$CACHE/state.json" "$WORK/state.json"
  fi
  start_accord "${SERVER_ENV[@]}"
  timeout 900 "$BIN/loadgen" "${COMMON[@]}" --setup-only --users "$MAX_N" \
    2> >(tee "$OUT_DIR/setup.log" >&2)
  local rc=$?
  stop_accord
  return $rc
}
step "set-up: $MAX_N users (cache: $CACHE)"
if [[ $FRESH == 0 && -f "$CACHE/state.json" && -d "$CACHE/data" ]] && setup cached; then
  :
elif setup fresh; then
  rm -rf "$CACHE"; mkdir -p "$CACHE"
  cp -a "$WORK/accord-data" "$CACHE/data"
  cp "$WORK/state.json" "$CACHE/state.json"
else
  echo "bench.sh: set-up FAILED (log: $OUT_DIR/accord.log, $OUT_DIR/setup.log)" >&2
  KEEP_WORK=1
  exit 1
fi
if ! cmp -s "$WORK/state.json" "$CACHE/state.json"; then
  # The cached state did not fit this server (set-up redone on the copy): refresh the cache.
  rm -rf "$CACHE"; mkdir -p "$CACHE"
  cp -a "$WORK/accord-data" "$CACHE/data"
  cp "$WORK/state.json" "$CACHE/state.json"
fi
FAILED=0   # a server that failed on a stale cache was replaced by the fresh set-up
SETUP_DONE=$SECONDS

# Each scenario on a fresh server process on the set-up's data: memory per session (M1) is
# only meaningful in a process that has not served other sessions or registrations before.
for n in "${NS_LIST[@]}"; do
  start_accord "${SERVER_ENV[@]}"
  run_loadgen "accord-n$n" "${COMMON[@]}" --server-pid "$ACCORD_PID" --sessions "$n" --ramp \
    "${RAMP[@]}"
  stop_accord
done
if [[ $ZLIB == 1 ]]; then
  if [[ $SMOKE == 0 ]]; then
    # ~10 000 deliveries/s (N/2 viewers): a delivery check, not a throughput figure.
    ZLIB_LOAD+=(--rate "$(awk -v n="$MAX_N" 'BEGIN { r = 20000 / n; if (r < 1) r = 1; printf "%.2f", r }')")
  fi
  start_accord "${SERVER_ENV[@]}"
  run_loadgen "accord-zlib-n$MAX_N" "${COMMON[@]}" --server-pid "$ACCORD_PID" \
    --sessions "$MAX_N" --zlib "${ZLIB_LOAD[@]}"
  stop_accord
fi
if [[ $M4 == 1 ]]; then
  # REST creates spread over requests, so M4's server has one worker per core: the fan-out
  # scenarios' single worker is for one task fanning out to thousands of sockets (so no
  # SERVER_ENV here).
  start_accord
  run_loadgen accord-m4 "${COMMON[@]}" --sessions "$MAX_N" --rest-search "${M4_ARGS[@]}"
  stop_accord
fi

# --- naive baseline ---------------------------------------------------------------------------
if [[ $BASELINE == 1 ]]; then
  for n in "${NS_LIST[@]}"; do
    HTTP_PORT="$(free_port)"; GW_PORT="$(free_port)"
    env "${SERVER_ENV[@]}" "$BIN/naive_baseline" --listen "127.0.0.1:$HTTP_PORT" --gateway-listen "127.0.0.1:$GW_PORT" \
      --heartbeat-interval-ms "$HEARTBEAT_MS" >>"$OUT_DIR/naive_baseline.log" 2>&1 &
    BASE_PID=$!
    PIDS+=("$BASE_PID")
    run_loadgen "baseline-n$n" --baseline --base "http://127.0.0.1:$HTTP_PORT" \
      --gateway-url "ws://127.0.0.1:$GW_PORT" --server-pid "$BASE_PID" --hidden-fraction 0.5 \
      --sessions "$n" --ramp "${RAMP[@]}"
    if ! kill -0 "$BASE_PID" 2>/dev/null; then
      echo "bench.sh: naive_baseline exited during the run" >&2
      FAILED=1
    fi
    kill "$BASE_PID" 2>/dev/null || true
    wait "$BASE_PID" 2>/dev/null || true
  done
fi

# --- comparison -------------------------------------------------------------------------------
step "summary ($PROFILE build; build $((BUILT - SUITE_START)) s, set-up $((SETUP_DONE - BUILT)) s, scenarios $((SECONDS - SETUP_DONE)) s; results in $OUT_DIR)"
DOCS_ARGS=()
if [[ $DOCS == 1 ]]; then DOCS_ARGS=(--docs-dir "$ROOT/docs/bench"); fi
if ! "$BIN/loadgen" summary --dir "$OUT_DIR" "${DOCS_ARGS[@]}" "${SUMMARY_STRICT[@]}"; then
  FAILED=1
fi

if [[ $FAILED != 0 ]]; then
  KEEP_WORK=1
  echo "bench.sh: at least one scenario failed (logs and JSON in $OUT_DIR)" >&2
  exit 1
fi
