# Test service: a MongoDB-compatible server (SecantusDB, from PyPI) for the Mongo store's tests.
#
# Source it (`source scripts/mongo-service.sh`), from an interactive shell or from a bash script
# running with `set -euo pipefail`. It
#   1. makes the venv .test-services/venv with SecantusDB (once; reused afterwards),
#   2. starts `secantusd-py` as a separate process (it is GPL: we only talk to it over the wire)
#      on a free port with a fresh temporary storage directory,
#   3. waits until it accepts connections and exports ACCORD_TEST_MONGODB_URI,
#   4. defines `stop_mongo_service` and registers it on EXIT (chaining an existing EXIT trap).
#
# SecantusDB advertises itself as the primary of a one-node replica set named "secantus";
# naming that set in the URI lets the driver run multi-document transactions.

_accord_mongo_main() {
    local root venv port storage log pid waited
    root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
    venv="$root/.test-services/venv"

    if [[ -n "${ACCORD_MONGO_SERVICE_PID:-}" ]] && kill -0 "$ACCORD_MONGO_SERVICE_PID" 2>/dev/null; then
        echo "mongo-service: already running (pid $ACCORD_MONGO_SERVICE_PID): $ACCORD_TEST_MONGODB_URI" >&2
        return 0
    fi

    if [[ ! -x "$venv/bin/secantusd-py" ]]; then
        echo "mongo-service: installing SecantusDB into $venv (about 25 s, once)" >&2
        mkdir -p "$root/.test-services"
        python3 -m venv "$venv"
        "$venv/bin/pip" install --quiet --disable-pip-version-check 'SecantusDB==0.7.0b3' >&2
    fi

    port="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')"
    storage="$(mktemp -d "${TMPDIR:-/tmp}/accord-secantus.XXXXXX")"
    log="$storage.log"
    "$venv/bin/secantusd-py" --host 127.0.0.1 --port "$port" --storage-path "$storage" \
        --log-level WARNING >"$log" 2>&1 &
    pid=$!

    waited=0
    until python3 -c "import socket, sys; socket.create_connection(('127.0.0.1', $port), 0.5).close()" 2>/dev/null; do
        if ! kill -0 "$pid" 2>/dev/null; then
            echo "mongo-service: secantusd-py exited; its log ($log):" >&2
            cat "$log" >&2
            return 1
        fi
        if ((waited >= 300)); then
            echo "mongo-service: secantusd-py did not accept connections within 30 s; log: $log" >&2
            kill "$pid" 2>/dev/null || true
            return 1
        fi
        sleep 0.1
        waited=$((waited + 1))
    done

    export ACCORD_MONGO_SERVICE_PID="$pid"
    export ACCORD_MONGO_SERVICE_STORAGE="$storage"
    export ACCORD_TEST_MONGODB_URI="mongodb://127.0.0.1:$port/?replicaSet=secantus"
    echo "mongo-service: SecantusDB pid $pid at $ACCORD_TEST_MONGODB_URI" >&2
}

# Stops the server this script started and removes its storage.
stop_mongo_service() {
    if [[ -n "${ACCORD_MONGO_SERVICE_PID:-}" ]]; then
        kill "$ACCORD_MONGO_SERVICE_PID" 2>/dev/null || true
        wait "$ACCORD_MONGO_SERVICE_PID" 2>/dev/null || true
        rm -rf "${ACCORD_MONGO_SERVICE_STORAGE:-}" "${ACCORD_MONGO_SERVICE_STORAGE:-}.log"
        unset ACCORD_MONGO_SERVICE_PID ACCORD_MONGO_SERVICE_STORAGE ACCORD_TEST_MONGODB_URI
    fi
}

if _accord_mongo_main; then
    # Chain with whatever EXIT trap the sourcing script already has.
    _accord_mongo_prev_trap="$(trap -p EXIT | sed -E "s/^trap -- '(.*)' EXIT$/\1/")"
    if [[ -n "$_accord_mongo_prev_trap" && "$_accord_mongo_prev_trap" != *stop_mongo_service* ]]; then
        # shellcheck disable=SC2064
        trap "stop_mongo_service; $_accord_mongo_prev_trap" EXIT
    elif [[ -z "$_accord_mongo_prev_trap" ]]; then
        trap stop_mongo_service EXIT
    fi
    unset _accord_mongo_prev_trap
else
    echo "mongo-service: failed to start SecantusDB" >&2
    false
fi
