# redis.sh — starts and stops a private redis-server for a test (sourced).
#
#   redis_start DIR     starts redis-server on a free loopback port with its
#                       data (append-only file, fsync always) in DIR; sets
#                       REDIS_PORT, REDIS_PID and REDIS_URL (redis://…/0)
#   redis_stop          stops it (SIGTERM, waits); safe to call twice
#   redis_kill          SIGKILL, no wait for a clean shutdown
#
# The server is the real one from Debian's redis-server package; nothing is
# shared between tests, so they may run in parallel.

command -v redis-server >/dev/null ||
    { echo "redis-server is needed (make deps)" >&2; exit 2; }

REDIS_PID=""

redis_free_port() {
    /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# redis_start DIR [PORT]: PORT reuses an earlier port (a restart).
redis_start() {
    local dir=$1
    mkdir -p "$dir"
    REDIS_PORT=${2:-$(redis_free_port)}
    redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --dir "$dir" \
        --appendonly yes --appendfsync always --save '' --daemonize no \
        --maxmemory-policy noeviction --databases 256 --logfile "$dir/redis.log" \
        </dev/null >/dev/null 2>&1 &
    REDIS_PID=$!
    local i
    for i in $(seq 1 200); do
        if redis-cli -p "$REDIS_PORT" ping 2>/dev/null | grep -q PONG; then
            REDIS_URL="redis://127.0.0.1:$REDIS_PORT/0"
            return 0
        fi
        if ! kill -0 "$REDIS_PID" 2>/dev/null; then
            echo "redis-server exited at start-up:" >&2
            cat "$dir/redis.log" >&2
            REDIS_PID=""
            return 1
        fi
        sleep 0.05
    done
    echo "redis-server did not answer on port $REDIS_PORT" >&2
    return 1
}

redis_stop() {
    [ -n "$REDIS_PID" ] || return 0
    kill -CONT "$REDIS_PID" 2>/dev/null
    kill -TERM "$REDIS_PID" 2>/dev/null
    wait "$REDIS_PID" 2>/dev/null
    REDIS_PID=""
}

redis_kill() {
    [ -n "$REDIS_PID" ] || return 0
    kill -KILL "$REDIS_PID" 2>/dev/null
    wait "$REDIS_PID" 2>/dev/null
    REDIS_PID=""
}
