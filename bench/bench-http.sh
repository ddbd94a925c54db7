#!/usr/bin/env bash
# bench-http.sh — agentkv serve against redis-server, in one run on the same
# machine, at 50 connections, keep-alive, no pipelining, 1 KiB values:
#
#   agentkv GET /v1/sandboxes/b/kv/task/k (bearer token, SHA-256 verified)
#       vs redis-benchmark GET
#   agentkv PUT of the same key (acknowledged = committed and fsync'ed)
#       vs redis-benchmark SET with appendonly yes, appendfsync always
#   p99 latency of agentkv GET, and the server's RSS after the run.
#
# HTTP load comes from wrk (Lua scripts add the token and the PUT body),
# Redis load from redis-benchmark; each uses two client threads. Prints
# each figure and the ratios agentkv/Redis.
#
# Usage: bench/bench-http.sh [AGENTKV_BINARY]
#   BENCH_SECONDS=10   duration of each wrk run (redis-benchmark runs for
#                      about as long: its request count is sized from a
#                      short calibration)
#   BENCH_CONNS=50     connections
#   BENCH_ACCESS_LOG=file|off   agentkv access log (default: a file)
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BENCH_NAME=bench-http
. "$ROOT/bench/lib.sh"
AGENTKV=${1:-${AGENTKV:-$ROOT/build/agentkv}}
SECONDS_RUN=${BENCH_SECONDS:-10}
CONNS=${BENCH_CONNS:-50}
ACCESS=${BENCH_ACCESS_LOG:-file}

for tool in wrk redis-server redis-benchmark curl; do
    command -v "$tool" >/dev/null || { echo "bench-http: $tool is missing (make deps)" >&2; exit 2; }
done
[ -x "$AGENTKV" ] || { echo "bench-http: no agentkv binary at $AGENTKV (make)" >&2; exit 2; }

TMP=$(mktemp -d "${TMPDIR:-/tmp}/agentkv-bench-http.XXXXXX")
AKV_PID="" REDIS_PID=""
cleanup() {
    [ -n "$AKV_PID" ] && kill "$AKV_PID" 2>/dev/null && wait "$AKV_PID" 2>/dev/null
    [ -n "$REDIS_PID" ] && kill "$REDIS_PID" 2>/dev/null && wait "$REDIS_PID" 2>/dev/null
    rm -rf "$TMP"
}
trap cleanup EXIT


# ---- servers -----------------------------------------------------------------

REDIS_PORT=$(free_port)
mkdir -p "$TMP/redis"
redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --dir "$TMP/redis" \
    --appendonly yes --appendfsync always --save '' --daemonize no \
    >"$TMP/redis.log" 2>&1 &
REDIS_PID=$!

LOG_ARG=(--access-log "$TMP/access.log")
[ "$ACCESS" = off ] && LOG_ARG=(--access-log off)
"$AGENTKV" --dir "$TMP/store" serve --listen 127.0.0.1:0 "${LOG_ARG[@]}" \
    >"$TMP/serve.out" 2>"$TMP/serve.err" &
AKV_PID=$!
for _ in $(seq 1 100); do
    grep -q "listening on" "$TMP/serve.err" 2>/dev/null && break
    sleep 0.1
done
URL=$(sed -n 's/.*listening on \(http:[^ ]*\).*/\1/p' "$TMP/serve.err")
TOKEN=$(sed -n 's/.*admin token: \(akv_[A-Za-z0-9_-]*\).*/\1/p' "$TMP/serve.err")
[ -n "$URL" ] && [ -n "$TOKEN" ] || { echo "bench-http: the server did not start" >&2; cat "$TMP/serve.err" >&2; exit 1; }
for _ in $(seq 1 50); do
    redis-cli -p "$REDIS_PORT" ping >/dev/null 2>&1 && break
    sleep 0.1
done

KEY_PATH=/v1/sandboxes/b/kv/task/k
head -c 1024 /dev/urandom | base64 -w0 | head -c 1024 >"$TMP/value"
code=$(curl -s -o /dev/null -w '%{http_code}' -X PUT -H "Authorization: Bearer $TOKEN" \
    --data-binary @"$TMP/value" "$URL$KEY_PATH")
[ "$code" = 201 ] || { echo "bench-http: seeding PUT answered $code" >&2; exit 1; }

wrk_scripts

# ---- runs --------------------------------------------------------------------

echo "bench-http: $CONNS connections, keep-alive, no pipelining, 1 KiB values, ${SECONDS_RUN}s per run"
echo "bench-http: agentkv $URL ($(grep -o '[0-9]* threads' "$TMP/serve.err" | head -n 1)), redis-server $(redis-server --version | sed -n 's/.*v=\([^ ]*\).*/\1/p') on 127.0.0.1:$REDIS_PORT (appendfsync always)"
echo "bench-http: load average before: $(cut -d' ' -f1-3 /proc/loadavg)"

# Redis SET first: it also stores the 1 KiB value that GET then reads.
read -r REDIS_SET REDIS_SET_P99 <<<"$(redis_run set)"
read -r REDIS_GET REDIS_GET_P99 <<<"$(redis_run get)"
read -r AKV_GET AKV_GET_P99 AKV_GET_BAD <<<"$(wrk_run "$TMP/get.lua" "$URL")"
read -r AKV_PUT AKV_PUT_P99 AKV_PUT_BAD <<<"$(wrk_run "$TMP/put.lua" "$URL")"
RSS_KB=$(awk '/^VmRSS:/ {print $2}' "/proc/$AKV_PID/status")

# The value is still there and intact after the PUT run.
code=$(curl -s -o "$TMP/back" -w '%{http_code}' -H "Authorization: Bearer $TOKEN" "$URL$KEY_PATH")
[ "$code" = 200 ] && cmp -s "$TMP/back" "$TMP/value" || { echo "bench-http: value check failed ($code)" >&2; exit 1; }
[ "$AKV_GET_BAD" = 0 ] && [ "$AKV_PUT_BAD" = 0 ] || { echo "bench-http: non-2xx answers: GET $AKV_GET_BAD, PUT $AKV_PUT_BAD" >&2; exit 1; }

echo
printf '%-44s %10s req/s\n' "agentkv GET (token, SHA-256 verified)" "$AKV_GET"
printf '%-44s %10s req/s\n' "redis GET" "$REDIS_GET"
printf '%-44s %10s\n' "ratio GET agentkv/redis (target >= 1.0)" "$(ratio "$AKV_GET" "$REDIS_GET")"
printf '%-44s %10s req/s\n' "agentkv PUT (durable)" "$AKV_PUT"
printf '%-44s %10s req/s\n' "redis SET (appendfsync always)" "$REDIS_SET"
printf '%-44s %10s\n' "ratio PUT agentkv/redis (target >= 1.0)" "$(ratio "$AKV_PUT" "$REDIS_SET")"
printf '%-44s %10s ms\n' "agentkv GET p99 (target <= 2 ms)" "$AKV_GET_P99"
printf '%-44s %10s ms\n' "redis GET p99 (same run, for comparison)" "$REDIS_GET_P99"
printf '%-44s %10s ms\n' "agentkv PUT p99" "$AKV_PUT_P99"
printf '%-44s %10s ms\n' "redis SET p99" "$REDIS_SET_P99"
printf '%-44s %10s MiB\n' "agentkv server RSS after the run (<= 64)" "$(python3 -c "print('%.1f' % ($RSS_KB / 1024))")"
echo "bench-http: load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
