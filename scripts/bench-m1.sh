#!/usr/bin/env bash
# M1 alone, several times: idle memory per identified session of a fresh release server on the
# bench set-up's data, as scripts/bench.sh measures it (server RSS 5 s after the last READY minus
# RSS before the first IDENTIFY, over N), without the fan-out ramp. M1 moves between runs by a few
# tenths of a KiB (allocator fragmentation after the connection storm), so compare medians.
#
#   scripts/bench-m1.sh [--runs K] [--sessions N]      (defaults: 3 runs, N = 10 000)
#
# Needs the set-up cache of a previous scripts/bench.sh run with N sessions
# (target/bench-cache/release-users-N); builds the release binaries if needed.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
RUNS=3; N=10000
while [[ $# -gt 0 ]]; do
  case "$1" in
    --runs) RUNS="$2"; shift ;;
    --sessions) N="$2"; shift ;;
    -h|--help) awk 'NR > 1 && !/^#/ { exit } NR > 1 { print }' "$0"; exit 0 ;;
    *) echo "bench-m1.sh: unknown option $1" >&2; exit 2 ;;
  esac
  shift
done
CACHE="$ROOT/target/bench-cache/release-users-$N"
if [[ ! -f "$CACHE/state.json" ]]; then
  echo "bench-m1.sh: no set-up cache in $CACHE: run scripts/bench.sh --sessions $N once first" >&2
  exit 1
fi
cargo build --quiet --release --bin accord --bin loadgen
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
WORK="$(mktemp -d -t accord-m1-XXXXXX)"
SERVER=""
cleanup() { [[ -n "$SERVER" ]] && kill "$SERVER" 2>/dev/null; rm -rf "$WORK"; }
trap cleanup EXIT
for run in $(seq 1 "$RUNS"); do
  rm -rf "$WORK/data" && cp -a "$CACHE/data" "$WORK/data" && cp "$CACHE/state.json" "$WORK/state.json"
  PORT="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()')"
  "$ROOT/target/release/accord" --listen "127.0.0.1:$PORT" --data-dir "$WORK/data" \
    --heartbeat-interval-ms 41250 --rate-limit-global 0 --rate-limit-route 0 --log warn \
    >>"$WORK/accord.log" 2>&1 &
  SERVER=$!
  "$ROOT/target/release/loadgen" --label "m1-run$run" --base "http://127.0.0.1:$PORT" \
    --state "$WORK/state.json" --server-data-dir "$CACHE/data" --hidden-fraction 0.5 \
    --server-pid "$SERVER" --sessions "$N" --rate 2 --duration 1 --drain 5 --idle-secs 5 \
    --connect-concurrency 1000 --out "$WORK/run$run.json" >"$WORK/run$run.txt" 2>"$WORK/run$run.log"
  kill "$SERVER"; wait "$SERVER" 2>/dev/null || true; SERVER=""
  python3 -c "import json,sys; r=json.load(open(sys.argv[1]))['server_rss_kib']; print(f\"run $run: {r['per_session_kib']:.2f} KiB per session (RSS {r['before_identify']} -> {r['after_ready']} KiB)\")" "$WORK/run$run.json"
done
python3 - "$WORK"/run*.json <<'PY'
import json, statistics, sys
values = [json.load(open(path))["server_rss_kib"]["per_session_kib"] for path in sys.argv[1:]]
print(f"M1 median of {len(values)}: {statistics.median(values):.2f} KiB per idle session "
      f"(min {min(values):.2f}, max {max(values):.2f})")
PY
