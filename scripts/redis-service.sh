# Source me (bash): makes a Redis available to the Rust tests of the Redis bus.
#   - uses 127.0.0.1:6379 if it answers PING, else starts `redis-server` on a free port (no
#     persistence) in the background and stops it on exit (stop_redis_service);
#   - installs the Debian package redis-server if the binary is missing;
#   - exports ACCORD_TEST_REDIS_URL and ACCORD_TEST_REDIS_SERVER_BIN (the fault tests start a
#     private redis-server of their own that they can restart).
# Usage: source scripts/redis-service.sh && cargo test --test bus_conformance

_redis_ping() { # host port → 0 if it answers +PONG
    if command -v redis-cli >/dev/null 2>&1; then
        [ "$(redis-cli -h "$1" -p "$2" ping 2>/dev/null)" = "PONG" ]
    else
        (
            exec 3<>"/dev/tcp/$1/$2" || exit 1
            printf 'PING\r\n' >&3
            IFS= read -r -t 2 reply <&3 && [ "${reply%$'\r'}" = "+PONG" ]
        ) 2>/dev/null
    fi
}

_redis_server_bin() {
    command -v redis-server 2>/dev/null || { [ -x /usr/bin/redis-server ] && echo /usr/bin/redis-server; }
}

if [ -z "$(_redis_server_bin)" ]; then
    echo "redis-service: installing redis-server (apt-get)" >&2
    if [ "$(id -u)" = 0 ]; then _redis_sudo=""; else _redis_sudo="sudo"; fi
    $_redis_sudo apt-get update -qq >&2 && \
        DEBIAN_FRONTEND=noninteractive $_redis_sudo apt-get install -y -qq redis-server >&2 || {
        echo "redis-service: could not install redis-server" >&2
        return 1 2>/dev/null || exit 1
    }
fi
ACCORD_TEST_REDIS_SERVER_BIN="$(_redis_server_bin)"
export ACCORD_TEST_REDIS_SERVER_BIN

if _redis_ping 127.0.0.1 6379; then
    ACCORD_TEST_REDIS_URL="redis://127.0.0.1:6379"
else
    _redis_port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
    "$ACCORD_TEST_REDIS_SERVER_BIN" --port "$_redis_port" --bind 127.0.0.1 --save '' \
        --appendonly no --daemonize no --loglevel warning >/dev/null 2>&1 &
    REDIS_SERVICE_PID=$!
    stop_redis_service() {
        if [ -n "${REDIS_SERVICE_PID:-}" ]; then
            kill "$REDIS_SERVICE_PID" 2>/dev/null && wait "$REDIS_SERVICE_PID" 2>/dev/null
            REDIS_SERVICE_PID=""
        fi
    }
    # Keep whatever EXIT trap was set before (e.g. by mongo-service.sh).
    _redis_prev_trap="$(trap -p EXIT | sed -E "s/^trap -- '(.*)' EXIT$/\1/")"
    trap "stop_redis_service; ${_redis_prev_trap}" EXIT
    for _ in $(seq 1 100); do
        _redis_ping 127.0.0.1 "$_redis_port" && break
        sleep 0.1
    done
    if ! _redis_ping 127.0.0.1 "$_redis_port"; then
        echo "redis-service: redis-server did not start on port $_redis_port" >&2
        stop_redis_service
        return 1 2>/dev/null || exit 1
    fi
    ACCORD_TEST_REDIS_URL="redis://127.0.0.1:$_redis_port"
fi
export ACCORD_TEST_REDIS_URL
echo "redis-service: ACCORD_TEST_REDIS_URL=$ACCORD_TEST_REDIS_URL" >&2
