#!/usr/bin/env bash
# One fixed-rate fan-out run on the set-up scripts/bench.sh cached (N = 10 000 by default, half
# of them unable to view the channel): a fresh accord on a copy of the cached data, the load
# generator posting RATE messages/s for SECS seconds, then its table (deliveries/s, first and
# last recipient latency). For comparing builds or settings at one load without a whole ramp,
# and for profiling that load.
#
#   scripts/bench-fixed.sh RATE SECS [--threads K] [--sessions N] [--perf FILE]
#
#   --threads K   the server's tokio worker threads per runtime (TOKIO_WORKER_THREADS; default:
#                 one per core)
#   --perf FILE   also `perf record -a -g` the whole machine for 8 s, starting 7 s in (the
#                 load phase with the default set-up; perf must be installed)
#
# Needs one `scripts/bench.sh` run first (release build, cache in target/bench-cache).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

if [[ $# -lt 2 ]]; then
  awk 'NR > 1 && !/^#/ { exit } NR > 1 { print }' "$0"; exit 2
fi
RATE="$1"; SECS="$2"; shift 2
THREADS=""; SESSIONS=10000; PERF=""
while [[ $# -gt 0 ]]; do
  case "$1" in
    --threads) THREADS="$2"; shift ;;
    --sessions) SESSIONS="$2"; shift ;;
    --perf) PERF="$2"; shift ;;
    *) echo "bench-fixed.sh: unknown option $1" >&2; exit 2 ;;
  esac
  shift
done

BIN="$ROOT/target/release"
CACHE="$(ls -d "$ROOT"/target/bench-cache/release-users-* 2>/dev/null | sort -t- -k3 -n | tail -1)"
if [[ -z $CACHE || ! -f $CACHE/state.json ]]; then
  echo "bench-fixed.sh: no cached set-up; run scripts/bench.sh once first" >&2; exit 1
fi
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

WORK="$(mktemp -d -t accord-fixed-XXXXXX)"
SERVER_PID=""
cleanup() {
  if [[ -n $SERVER_PID ]]; then kill "$SERVER_PID" 2>/dev/null || true; wait "$SERVER_PID" 2>/dev/null || true; fi
  rm -rf "$WORK/data"
}
trap cleanup EXIT
cp -a "$CACHE/data" "$WORK/data"
cp "$CACHE/state.json" "$WORK/state.json"
PORT="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()')"

SERVER_ENV=()
if [[ -n $THREADS ]]; then SERVER_ENV=(TOKIO_WORKER_THREADS="$THREADS"); fi
env -u ACCORD_LISTEN -u ACCORD_DATA_DIR -u ACCORD_PUBLIC_URL -u ACCORD_BUS -u ACCORD_STORE \
  "${SERVER_ENV[@]}" "$BIN/accord" --listen "127.0.0.1:$PORT" --data-dir "$WORK/data" \
  --rate-limit-global 0 --rate-limit-route 0 --log warn >"$WORK/accord.log" 2>&1 &
SERVER_PID=$!

if [[ -n $PERF ]]; then
  (sleep 7; perf record -a -g -F 499 -o "$PERF" -- sleep 8 >/dev/null 2>&1) &
fi
"$BIN/loadgen" --base "http://127.0.0.1:$PORT" --state "$WORK/state.json" \
  --server-data-dir "$CACHE/data" --hidden-fraction 0.5 --source-ips 8 --server-pid "$SERVER_PID" \
  --sessions "$SESSIONS" --rate "$RATE" --duration "$SECS" --drain 5 --idle-secs 1 \
  --connect-concurrency 1000 --out "$WORK/result.json" 2>"$WORK/loadgen.log"
echo "server pid $SERVER_PID; result and logs in $WORK"
