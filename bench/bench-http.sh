#!/usr/bin/env bash
# bench-http.sh — agentkv serve against redis-server, in one run on the same
# machine, at 50 connections, keep-alive, no pipelining, 1 KiB values:
#
#   agentkv GET /v1/sandboxes/b/kv/task/k (bearer token, SHA-256 verified)
#       vs redis-benchmark GET
#   agentkv PUT of the same key (acknowledged = committed and fsync'ed)
#       vs redis-benchmark SET with appendonly yes, appendfsync always;
#   the same with 100,000 distinct keys (redis-benchmark -r 100000)
#   p99 latency of agentkv GET, and the server's memory after the run and
#   once idle;
#   the same GET against the HTTP floor (build/bench_http_floor, made by
#   `make bench`): a server that answers every request head with agentkv's
#   own response to it, byte for byte, with as many threads as agentkv's
#   loops. What agentkv adds to HTTP shows in agentkv/floor; floor/Redis is
#   what HTTP alone gets against Redis with these clients, the most that
#   less work per request in agentkv could bring.
#
# HTTP load comes from wrk (Lua scripts add the token and the PUT body),
# Redis load from redis-benchmark; each uses two client threads. Prints
# each figure and the ratios agentkv/Redis.
#
# Usage: bench/bench-http.sh [AGENTKV_BINARY]
#   BENCH_SECONDS=5    duration of each wrk run (redis-benchmark runs for
#                      about as long: its request count is sized from a
#                      short calibration)
#   BENCH_ROUNDS=5     interleaved rounds; medians, min and max are printed
#   BENCH_LOAD=1       a CPU-bound job on every core during the runs
#   BENCH_QUIET_WAIT=120  without BENCH_LOAD, seconds to wait at most for
#                      the 1-minute load average to fall below 2 (the "low
#                      load" regime); 0 does not wait
#   BENCH_CONNS=50     connections
#   BENCH_ACCESS_LOG=file|off   agentkv access log (default: a file)
#   BENCH_THREADS=N    --threads for agentkv (default: the server's own)
#   BENCH_WRITE_LOG=0|1  agentkv without or with the write log
#                      (store.write_log; default: the server's, which is on)
#   BENCH_RESTART=0    one start of each server for all rounds (default:
#                      every server starts afresh for each round)
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BENCH_NAME=bench-http
. "$ROOT/bench/lib.sh"
AGENTKV=${1:-${AGENTKV:-$ROOT/build/agentkv}}
SECONDS_RUN=${BENCH_SECONDS:-5}
ROUNDS=${BENCH_ROUNDS:-5}
CONNS=${BENCH_CONNS:-50}
ACCESS=${BENCH_ACCESS_LOG:-file}

for tool in wrk redis-server redis-benchmark curl; do
    command -v "$tool" >/dev/null || { echo "bench-http: $tool is missing (make deps)" >&2; exit 2; }
done
[ -x "$AGENTKV" ] || { echo "bench-http: no agentkv binary at $AGENTKV (make)" >&2; exit 2; }

TMP=$(mktemp -d "${TMPDIR:-/tmp}/agentkv-bench-http.XXXXXX")
AKV_PID="" REDIS_PID="" FLOOR_PID=""
# stop PID_VARIABLE: ends that server and empties the variable. (The HTTP
# floor dies of the signal, so its wait fails: not an error here.)
stop() {
    local pid=${!1}
    [ -n "$pid" ] || return 0
    { kill "$pid" && wait "$pid"; } 2>/dev/null || true
    printf -v "$1" ''
}
cleanup() {
    stop AKV_PID
    stop FLOOR_PID
    stop REDIS_PID
    rm -rf "$TMP"
}
trap cleanup EXIT


# ---- servers -----------------------------------------------------------------

# Each round starts every server afresh on the data of the rounds before
# (BENCH_RESTART=0 keeps the first start for all rounds): how the threads
# of a server and of the client share the cores settles at a start and then
# holds, and a whole run can otherwise sit in one such draw (the GET p99s
# of five rounds on one start were all 7.9 ms).

REDIS_PORT=$(free_port)
mkdir -p "$TMP/redis"
start_redis() {
    redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --dir "$TMP/redis" \
        --appendonly yes --appendfsync always --save '' --daemonize no \
        >>"$TMP/redis.log" 2>&1 &
    REDIS_PID=$!
    # Up to a minute: a restart reads back the rounds' append-only file.
    for _ in $(seq 1 600); do
        [ "$(redis-cli -p "$REDIS_PORT" ping 2>/dev/null)" = PONG ] && return
        sleep 0.1
    done
    echo "bench-http: redis-server did not start" >&2
    tail -n 5 "$TMP/redis.log" >&2
    exit 1
}

LOG_ARG=(--access-log "$TMP/access.log")
[ "$ACCESS" = off ] && LOG_ARG=(--access-log off)
THREADS=()
[ -n "${BENCH_THREADS:-}" ] && THREADS=(--threads "$BENCH_THREADS")
CONFIG=()
case "${BENCH_WRITE_LOG:-}" in
    0) printf '[store]\nwrite_log = false\n' >"$TMP/write-log.ini" ;;
    1) printf '[store]\nwrite_log = true\n' >"$TMP/write-log.ini" ;;
esac
[ -f "$TMP/write-log.ini" ] && CONFIG=(--config "$TMP/write-log.ini")
start_agentkv() {
    "$AGENTKV" --dir "$TMP/store" ${CONFIG[@]+"${CONFIG[@]}"} serve \
        --listen 127.0.0.1:0 "${LOG_ARG[@]}" \
        ${THREADS[@]+"${THREADS[@]}"} \
        >"$TMP/serve.out" 2>"$TMP/serve.err" &
    AKV_PID=$!
    URL=$(server_url "$TMP/serve.err")
    [ -n "$URL" ] || { echo "bench-http: the server did not start" >&2; cat "$TMP/serve.err" >&2; exit 1; }
}

start_redis
start_agentkv
TOKEN=$(admin_token "$TMP/serve.err") # said at the first start only
[ -n "$TOKEN" ] || { echo "bench-http: the server printed no admin token" >&2; cat "$TMP/serve.err" >&2; exit 1; }

KEY_PATH=/v1/sandboxes/b/kv/task/k
head -c 1024 /dev/urandom | base64 -w0 | head -c 1024 >"$TMP/value"
code=$(curl -s -o /dev/null -w '%{http_code}' -X PUT -H "Authorization: Bearer $TOKEN" \
    --data-binary @"$TMP/value" "$URL$KEY_PATH")
[ "$code" = 201 ] || { echo "bench-http: seeding PUT answered $code" >&2; exit 1; }

wrk_scripts

# The HTTP floor answers with what agentkv answered to the same GET.
FLOOR=$ROOT/build/bench_http_floor
FLOOR_URL=""
start_floor() {
    "$FLOOR" "$TMP/floor.resp" "$LOOPS" 2>"$TMP/floor.err" &
    FLOOR_PID=$!
    FLOOR_URL=$(server_url "$TMP/floor.err")
    [ -n "$FLOOR_URL" ] || { echo "bench-http: the HTTP floor did not start" >&2; cat "$TMP/floor.err" >&2; exit 1; }
}
if [ -x "$FLOOR" ]; then
    curl -s -i -H "Authorization: Bearer $TOKEN" "$URL$KEY_PATH" >"$TMP/floor.resp"
    head -n 1 "$TMP/floor.resp" | grep -q '^HTTP/1.1 200 ' ||
        { echo "bench-http: agentkv's GET to copy for the HTTP floor did not answer 200" >&2; exit 1; }
    LOOPS=$(grep -o '[0-9]* threads' "$TMP/serve.err" | head -n 1 | cut -d' ' -f1)
    start_floor
else
    echo "bench-http: no $FLOOR (make bench builds it): the HTTP floor is left out" >&2
fi

# ---- runs --------------------------------------------------------------------

# Low load: a load average below 2 first (wait_quiet). BENCH_LOAD=1: a
# CPU-bound job on every core for the whole run (start_busy).
BUSY=()
if [ "${BENCH_LOAD:-0}" != 1 ]; then
    wait_quiet
else
    start_busy
    trap 'kill "${BUSY[@]}" 2>/dev/null; cleanup' EXIT
fi

echo "bench-http: $CONNS connections, keep-alive, no pipelining, 1 KiB values, ${SECONDS_RUN}s per run, $ROUNDS interleaved rounds$([ "${BENCH_RESTART:-1}" = 0 ] || echo ", the servers started afresh for each")${BUSY:+, a busy loop on each of $(nproc) cores}"
echo "bench-http: agentkv $URL ($(grep -o '[0-9]* threads' "$TMP/serve.err" | head -n 1)${CONFIG[@]+, write log}), redis-server $(redis-server --version | sed -n 's/.*v=\([^ ]*\).*/\1/p') on 127.0.0.1:$REDIS_PORT (appendfsync always)"
LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
echo "bench-http: load average before: $LOAD_BEFORE"

# One line per round and program: "ROUND NAME RPS P99_MS". Each round runs
# every program once, in the same order, so that a change of machine load
# between rounds touches all of them.
: >"$TMP/rounds"
for r in $(seq 1 "$ROUNDS"); do
    if [ "$r" -gt 1 ] && [ "${BENCH_RESTART:-1}" != 0 ]; then
        stop AKV_PID
        stop REDIS_PID
        start_redis
        start_agentkv
        if [ -n "$FLOOR_URL" ]; then
            stop FLOOR_PID
            start_floor
        fi
    fi
    # Redis SET first: it also stores the 1 KiB value that GET then reads.
    echo "$r redis_set $(redis_run set)" >>"$TMP/rounds"
    echo "$r redis_set_distinct $(redis_run set -r 100000)" >>"$TMP/rounds"
    echo "$r redis_get $(redis_run get)" >>"$TMP/rounds"
    if [ -n "$FLOOR_URL" ]; then
        read -r rps p99 bad <<<"$(wrk_run "$TMP/get.lua" "$FLOOR_URL")"
        echo "$r floor_get $rps $p99" >>"$TMP/rounds"
    fi
    for run in get:get put:put put_distinct:put-distinct; do
        read -r rps p99 bad <<<"$(wrk_run "$TMP/${run#*:}.lua" "$URL")"
        [ "$bad" = 0 ] || { echo "bench-http: $bad non-2xx answers to agentkv ${run%%:*}" >&2; exit 1; }
        echo "$r akv_${run%%:*} $rps $p99" >>"$TMP/rounds"
    done
    echo "bench-http: round $r of $ROUNDS done, load average $(cut -d' ' -f1 /proc/loadavg)" >&2
done
# The server's own memory (RssAnon) apart from the pages of data.mdb it has
# mapped (RssFile), which the kernel can drop: the distinct-key PUTs map
# most of a store of 100,000 values.
# Taken at the end of the last run, and again 2 s later, once the write
# log's applier has had its turn (every 500 ms) and the server is idle.
RSS_KB=$(awk '/^RssAnon:/ {a=$2} /^RssFile:/ {f=$2} END {print a+0, f+0}' "/proc/$AKV_PID/status")
sleep 2
RSS_IDLE_KB=$(awk '/^RssAnon:/ {print $2}' "/proc/$AKV_PID/status")

# The value is still there and intact after the PUT runs.
code=$(curl -s -o "$TMP/back" -w '%{http_code}' -H "Authorization: Bearer $TOKEN" "$URL$KEY_PATH")
[ "$code" = 200 ] && cmp -s "$TMP/back" "$TMP/value" || { echo "bench-http: value check failed ($code)" >&2; exit 1; }

echo
python3 - "$TMP/rounds" $RSS_KB "$RSS_IDLE_KB" <<'EOF'
import statistics, sys
rows = [l.split() for l in open(sys.argv[1])]
rps, p99 = {}, {}
for r, name, a, b in rows:
    rps.setdefault(name, {})[r] = float(a)
    p99.setdefault(name, {})[r] = float(b)
def line(what, col, unit):
    v = sorted(col.values())
    print("%-46s %10.0f %10.0f %10.0f %s" % (what, statistics.median(v), v[0], v[-1], unit)
          if unit == "req/s" else
          "%-46s %10.2f %10.2f %10.2f %s" % (what, statistics.median(v), v[0], v[-1], unit))
print("%-46s %10s %10s %10s" % ("", "median", "min", "max"))
for name, what in [("akv_get", "agentkv GET (token, SHA-256 verified)"),
                   ("redis_get", "redis GET"),
                   ("akv_put", "agentkv PUT, same key (durable)"),
                   ("redis_set", "redis SET, same key (appendfsync always)"),
                   ("akv_put_distinct", "agentkv PUT, 100,000 keys (durable)"),
                   ("redis_set_distinct", "redis SET, 100,000 keys (appendfsync always)")]:
    line(what, rps[name], "req/s")
if "floor_get" in rps:
    line("HTTP floor GET (agentkv's answer, no work)", rps["floor_get"], "req/s")
for name, what in [("akv_get", "agentkv GET p99"), ("redis_get", "redis GET p99"),
                   ("akv_put", "agentkv PUT p99"), ("redis_set", "redis SET p99")]:
    line(what, p99[name], "ms")
if "floor_get" in p99:
    line("HTTP floor GET p99", p99["floor_get"], "ms")
print()
print("%-46s %10s %10s %10s" % ("ratio (median of per-round ratios)", "median", "min", "max"))
def ratio(what, a, b):
    v = sorted(a[r] / b[r] for r in a)
    print("%-46s %10.2f %10.2f %10.2f" % (what, statistics.median(v), v[0], v[-1]))
ratio("GET agentkv/redis (target >= 1.5)", rps["akv_get"], rps["redis_get"])
ratio("GET p99 agentkv/redis (target <= 1.5)", p99["akv_get"], p99["redis_get"])
ratio("PUT same key agentkv/redis (target >= 1.0)", rps["akv_put"], rps["redis_set"])
ratio("PUT 100,000 keys agentkv/redis (target >= 1.0)", rps["akv_put_distinct"], rps["redis_set_distinct"])
if "floor_get" in rps:
    ratio("GET agentkv/HTTP floor", rps["akv_get"], rps["floor_get"])
    ratio("GET p99 agentkv/HTTP floor", p99["akv_get"], p99["floor_get"])
    ratio("GET HTTP floor/redis", rps["floor_get"], rps["redis_get"])
    ratio("GET p99 HTTP floor/redis", p99["floor_get"], p99["redis_get"])
print("%-46s %10.1f MiB (<= 64), and %.1f MiB of mapped store pages" %
      ("agentkv server's own memory after the runs", int(sys.argv[2]) / 1024, int(sys.argv[3]) / 1024))
print("%-46s %10.1f MiB" % ("the same, idle 2 s later", int(sys.argv[4]) / 1024))
EOF
echo "bench-http: load average before: $LOAD_BEFORE; after: $(cut -d' ' -f1-3 /proc/loadavg)"
