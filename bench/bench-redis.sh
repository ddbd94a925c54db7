#!/usr/bin/env bash
# bench-redis.sh — what the Redis backend costs, in one run on the same
# machine, at 50 connections, keep-alive, no pipelining, 1 KiB values:
#
#   agentkv serve --backend redis://…   GET and PUT /v1/sandboxes/b/kv/task/k
#   agentkv serve (embedded LMDB)       the same requests
#   redis-benchmark                     GET and SET straight to the same
#                                       redis-server
#
# The redis-server runs with appendonly yes and appendfsync always, so that
# every figure is "acknowledged = durable": an agentkv PUT on Redis is
# answered after Redis has fsync'ed its append-only file, an agentkv PUT on
# LMDB after the commit is synced, a redis-benchmark SET after the fsync.
# HTTP load comes from wrk (Lua scripts add the token and the PUT body),
# Redis load from redis-benchmark; each uses two client threads. Prints
# each rate, p99 latency, and the ratios. Target: agentkv GET on the Redis
# backend >= 0.5 x redis-benchmark GET (each agentkv GET is an HTTP request
# plus a Redis round trip and a SHA-256 check of the value).
#
# Usage: bench/bench-redis.sh [--cluster] [AGENTKV_BINARY]
#   --cluster          on a 3-master + 3-replica Redis Cluster instead:
#                      agentkv through one and through two servers against
#                      redis-benchmark --cluster (see cluster_bench below)
#   BENCH_SECONDS=5    duration of each wrk run (redis-benchmark runs for
#                      about as long: its request count is sized from a
#                      short calibration)
#   BENCH_ROUNDS=3     rounds of all six runs, interleaved; each figure is
#                      the median over the rounds
#   BENCH_CONNS=50     connections
#   BENCH_ACCESS_LOG=file|off   agentkv access log (default: a file)
#   BENCH_THREADS=N    --threads for both servers (default: the server's
#                      own: one event thread per core on LMDB, one per
#                      two cores on Redis, where a loop waits one round
#                      trip per turn for the turn's reads and writes).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BENCH_NAME=bench-redis
. "$ROOT/bench/lib.sh"
CLUSTER=0
[ "${1:-}" = --cluster ] && { CLUSTER=1; shift; }
AGENTKV=${1:-${AGENTKV:-$ROOT/build/agentkv}}
SECONDS_RUN=${BENCH_SECONDS:-5}
ROUNDS=${BENCH_ROUNDS:-3}
CONNS=${BENCH_CONNS:-50}
ACCESS=${BENCH_ACCESS_LOG:-file}
THREADS=()
[ -n "${BENCH_THREADS:-}" ] && THREADS=(--threads "$BENCH_THREADS")

for tool in wrk redis-server redis-cli redis-benchmark curl python3; do
    command -v "$tool" >/dev/null || { echo "bench-redis: $tool is missing (make deps)" >&2; exit 2; }
done
[ -x "$AGENTKV" ] || { echo "bench-redis: no agentkv binary at $AGENTKV (make)" >&2; exit 2; }

TMP=$(mktemp -d "${TMPDIR:-/tmp}/agentkv-bench-redis.XXXXXX")
PIDS=()
cleanup() {
    local p
    for p in "${PIDS[@]}"; do
        kill "$p" 2>/dev/null && wait "$p" 2>/dev/null
    done
    rm -rf "$TMP"
}
trap cleanup EXIT

# median "RPS P99 [BAD];…" → "RPS P99 BAD": the run of the median RPS, with
# BAD summed over the rounds.
median() {
    python3 -c '
import sys
runs = [r.split() for r in sys.argv[1].split(";") if r.strip()]
runs.sort(key=lambda r: float(r[0]))
m = runs[len(runs) // 2]
print(m[0], m[1], sum(int(r[2]) for r in runs if len(r) > 2))' "$1"
}


# start NAME DIR BACKEND ACCESS_LOG: serves in the background (server_url
# "$TMP/NAME.err" waits for it to listen).
start() {
    local name=$1 dir=$2 backend=$3 log=$4
    "$AGENTKV" --backend "$backend" --dir "$dir" serve --listen 127.0.0.1:0 \
        --no-seed --tokens "$TMP/tokens" --access-log "$log" ${THREADS[@]+"${THREADS[@]}"} \
        >"$TMP/$name.out" 2>"$TMP/$name.err" &
    PIDS+=($!)
    eval "${name}_PID=$!"
}

# ---- cluster mode --------------------------------------------------------------
#
# bench-redis.sh --cluster: a Redis Cluster of 3 masters and 3 replicas
# (tests/cluster/cluster.sh: appendonly yes, appendfsync always on every
# node), and in the same run, interleaved:
#
#   redis-benchmark --cluster        SET and GET, random keys over all slots
#   agentkv through one server       GET and PUT, 64 sandboxes (namespaces
#                                    spread over the three masters)
#   agentkv through two servers      the same, the connections split
#                                    between two servers given two
#                                    different nodes (two wrk at once)
#
# Each agentkv write is acknowledged once its master has it on disk (no
# WAIT: ?wait=1 adds a replica round trip per write). Every process shares
# this machine's cores, so the ratios, not the rates, carry over; see
# docs/operations.md (Redis Cluster, sizing).
cluster_bench() {
    . "$ROOT/tests/cluster/cluster.sh"
    trap 'cleanup; cluster_stop' EXIT
    cluster_start "$TMP/cluster" >/dev/null ||
        { echo "bench-redis: the cluster did not start" >&2; exit 1; }
    TOKEN=$("$AGENTKV" --dir "$TMP/tok" token create --role admin --tokens "$TMP/tokens" 2>/dev/null)
    local p=("${CLUSTER_PORTS[@]}")
    start A "$TMP/a" "redis://127.0.0.1:${p[0]}" "$TMP/access-a.log"
    start B "$TMP/b" "redis://127.0.0.1:${p[1]}" "$TMP/access-b.log"
    URL_A=$(server_url "$TMP/A.err")
    URL_B=$(server_url "$TMP/B.err")
    [ -n "$URL_A" ] && [ -n "$URL_B" ] && [ -n "$TOKEN" ] || {
        echo "bench-redis: a server did not start" >&2
        cat "$TMP/A.err" "$TMP/B.err" >&2
        exit 1
    }
    KEY_PATH=/v1/sandboxes/s0/kv/task/k
    head -c 1024 /dev/urandom | base64 -w0 | head -c 1024 >"$TMP/value"
    local i code
    for i in $(seq 0 63); do
        code=$(curl -s -o /dev/null -w '%{http_code}' -X PUT -H "Authorization: Bearer $TOKEN" \
            --data-binary @"$TMP/value" "$URL_A/v1/sandboxes/s$i/kv/task/k")
        [ "$code" = 201 ] || { echo "bench-redis: seeding PUT answered $code" >&2; exit 1; }
    done
    # Which masters hold the 64 namespaces.
    local spread=""
    for i in $(cluster_masters); do
        spread+=" $(redis-cli -p "$i" --scan --pattern 'akv:{3:s*}:v' | wc -l)"
    done
    for m in GET PUT; do
        cat >"$TMP/c-$m.lua" <<EOF
wrk.method = "$m"
wrk.headers["Authorization"] = "Bearer $TOKEN"
wrk.headers["Content-Type"] = "application/octet-stream"
local body = $([ "$m" = PUT ] && echo "\"$(cat "$TMP/value")\"" || echo nil)
request = function()
    return wrk.format(nil, "/v1/sandboxes/s" .. math.random(0, 63) .. "/kv/task/k", nil, body)
end
EOF
    done
    REDIS_PORT=${p[0]}
    echo "bench-redis --cluster: 3 masters + 3 replicas (appendfsync always), $CONNS connections, 1 KiB values, ${SECONDS_RUN}s per run, median of $ROUNDS rounds"
    echo "bench-redis --cluster: agentkv servers on nodes ${p[0]} and ${p[1]} ($(grep -o '[0-9]* threads' "$TMP/A.err" | head -n 1) each); the 64 sandboxes' namespaces per master:$spread"
    echo "bench-redis --cluster: load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
    # two_run SCRIPT: two wrk at once, half the connections each, one per
    # server → "SUM_RPS MAX_P99 BAD".
    two_run() {
        local half=$((CONNS / 2))
        wrk -t1 -c"$half" -d"${SECONDS_RUN}s" --latency -s "$1" "$URL_A$KEY_PATH" >"$TMP/wrk-a.out" 2>&1 &
        local w=$!
        wrk -t1 -c"$((CONNS - half))" -d"${SECONDS_RUN}s" --latency -s "$1" "$URL_B$KEY_PATH" >"$TMP/wrk-b.out" 2>&1
        wait "$w"
        python3 - "$TMP/wrk-a.out" "$TMP/wrk-b.out" <<'EOF'
import re, sys
rps = p99 = bad = 0
for f in sys.argv[1:]:
    t = open(f).read()
    rps += float(re.search(r"Requests/sec:\s+([0-9.]+)", t).group(1))
    m = re.search(r"^\s+99%\s+([0-9.]+)(us|ms|s)\s*$", t, re.M)
    p99 = max(p99, float(m.group(1)) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[m.group(2)])
    b = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", t)
    bad += int(b.group(1)) if b else 0
print("%.0f %.3f %d" % (rps, p99, bad))
EOF
    }
    # redis-benchmark --cluster over random keys (all slots, all masters).
    cluster_redis_run() {
        redis-benchmark --cluster -p "$REDIS_PORT" -c "$CONNS" --threads 2 -n "$1" -r 100000 \
            -d 1024 -t "$2" --csv 2>/dev/null |
            python3 -c '
import csv, sys
rows = list(csv.reader(l for l in sys.stdin if l.startswith(chr(34))))
col = dict(zip(rows[0], rows[1]))  # after the cluster preamble
print("%.0f %s" % (float(col["rps"]), col.get("p99_latency_ms", "?")))'
    }
    local n
    n=$(cluster_redis_run 20000 set | python3 -c 'import sys; print(max(20000, int(float(sys.stdin.read().split()[0]) * '"$SECONDS_RUN"')))')
    declare -A ALL
    local round
    for round in $(seq 1 "$ROUNDS"); do
        ALL[RSET]+="$(cluster_redis_run "$n" set);"
        ALL[RGET]+="$(cluster_redis_run "$n" get);"
        ALL[A_GET]+="$(wrk_run "$TMP/c-GET.lua" "$URL_A");"
        ALL[A_PUT]+="$(wrk_run "$TMP/c-PUT.lua" "$URL_A");"
        ALL[AB_GET]+="$(two_run "$TMP/c-GET.lua");"
        ALL[AB_PUT]+="$(two_run "$TMP/c-PUT.lua");"
        echo "bench-redis --cluster: round $round done, load average $(cut -d' ' -f1-3 /proc/loadavg)"
    done
    local k rps p99 bad
    declare -A RPS P99 BAD
    for k in RSET RGET A_GET A_PUT AB_GET AB_PUT; do
        read -r rps p99 bad <<<"$(median "${ALL[$k]}")"
        RPS[$k]=$rps P99[$k]=$p99 BAD[$k]=${bad:-0}
    done
    for k in A_GET A_PUT AB_GET AB_PUT; do
        [ "${BAD[$k]}" = 0 ] || { echo "bench-redis: $k had ${BAD[$k]} non-2xx answers" >&2; exit 1; }
    done
    echo
    printf '%-48s %10s req/s  p99 %7s ms\n' "agentkv GET, one server" "${RPS[A_GET]}" "${P99[A_GET]}"
    printf '%-48s %10s req/s  p99 %7s ms\n' "agentkv GET, two servers" "${RPS[AB_GET]}" "${P99[AB_GET]}"
    printf '%-48s %10s req/s  p99 %7s ms\n' "redis-benchmark --cluster GET" "${RPS[RGET]}" "${P99[RGET]}"
    printf '%-48s %10s req/s  p99 %7s ms\n' "agentkv PUT, one server (durable)" "${RPS[A_PUT]}" "${P99[A_PUT]}"
    printf '%-48s %10s req/s  p99 %7s ms\n' "agentkv PUT, two servers (durable)" "${RPS[AB_PUT]}" "${P99[AB_PUT]}"
    printf '%-48s %10s req/s  p99 %7s ms\n' "redis-benchmark --cluster SET" "${RPS[RSET]}" "${P99[RSET]}"
    echo
    printf '%-48s %10s\n' "ratio GET one server / redis --cluster" "$(ratio "${RPS[A_GET]}" "${RPS[RGET]}")"
    printf '%-48s %10s\n' "ratio GET two servers / redis --cluster" "$(ratio "${RPS[AB_GET]}" "${RPS[RGET]}")"
    printf '%-48s %10s\n' "ratio PUT one server / redis --cluster SET" "$(ratio "${RPS[A_PUT]}" "${RPS[RSET]}")"
    printf '%-48s %10s\n' "ratio PUT two servers / redis --cluster SET" "$(ratio "${RPS[AB_PUT]}" "${RPS[RSET]}")"
    printf '%-48s %10s\n' "ratio two servers / one server, GET" "$(ratio "${RPS[AB_GET]}" "${RPS[A_GET]}")"
    printf '%-48s %10s\n' "ratio two servers / one server, PUT" "$(ratio "${RPS[AB_PUT]}" "${RPS[A_PUT]}")"
    echo "bench-redis --cluster: load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
    exit 0
}

[ "$CLUSTER" = 1 ] && cluster_bench


# ---- servers -----------------------------------------------------------------

REDIS_PORT=$(free_port)
mkdir -p "$TMP/redis"
redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --dir "$TMP/redis" \
    --appendonly yes --appendfsync always --save '' --daemonize no \
    --maxmemory-policy noeviction >"$TMP/redis.log" 2>&1 &
PIDS+=($!)
for _ in $(seq 1 100); do
    redis-cli -p "$REDIS_PORT" ping 2>/dev/null | grep -q PONG && break
    sleep 0.05
done
redis-cli -p "$REDIS_PORT" ping 2>/dev/null | grep -q PONG ||
    { echo "bench-redis: redis-server did not start" >&2; cat "$TMP/redis.log" >&2; exit 1; }
BACKEND="redis://127.0.0.1:$REDIS_PORT/0"

# One admin token, one tokens file for both servers.
TOKEN=$("$AGENTKV" --dir "$TMP/tok" token create --role admin --tokens "$TMP/tokens" 2>/dev/null)

LOG_R="$TMP/access-redis.log" LOG_L="$TMP/access-lmdb.log"
[ "$ACCESS" = off ] && LOG_R=off && LOG_L=off
start R "$TMP/rdir" "$BACKEND" "$LOG_R"
start L "$TMP/store" lmdb "$LOG_L"
URL_R=$(server_url "$TMP/R.err")
URL_L=$(server_url "$TMP/L.err")
[ -n "$URL_R" ] && [ -n "$URL_L" ] && [ -n "$TOKEN" ] || {
    echo "bench-redis: a server did not start" >&2
    cat "$TMP/R.err" "$TMP/L.err" >&2
    exit 1
}

KEY_PATH=/v1/sandboxes/b/kv/task/k
head -c 1024 /dev/urandom | base64 -w0 | head -c 1024 >"$TMP/value"
for u in "$URL_R" "$URL_L"; do
    code=$(curl -s -o /dev/null -w '%{http_code}' -X PUT -H "Authorization: Bearer $TOKEN" \
        --data-binary @"$TMP/value" "$u$KEY_PATH")
    [ "$code" = 201 ] || { echo "bench-redis: seeding PUT to $u answered $code" >&2; exit 1; }
done

wrk_scripts

# ---- runs --------------------------------------------------------------------

echo "bench-redis: $CONNS connections, keep-alive, no pipelining, 1 KiB values, ${SECONDS_RUN}s per run, median of $ROUNDS rounds"
echo "bench-redis: redis-server $(redis-server --version | sed -n 's/.*v=\([^ ]*\).*/\1/p') on 127.0.0.1:$REDIS_PORT (appendonly yes, appendfsync always)"
echo "bench-redis: agentkv on Redis $URL_R ($(grep -o '[0-9]* threads' "$TMP/R.err" | head -n 1)), on LMDB $URL_L ($(grep -o '[0-9]* threads' "$TMP/L.err" | head -n 1))"
echo "bench-redis: load average before: $(cut -d' ' -f1-3 /proc/loadavg)"

# Rounds interleave the six runs and each figure is the median over the
# rounds (its p99 is the one of the median run): on a shared machine a
# single run of either side can be off by a third.
declare -A ALL
for round in $(seq 1 "$ROUNDS"); do
    ALL[REDIS_SET]+="$(redis_run set);"
    ALL[REDIS_GET]+="$(redis_run get);"
    ALL[R_GET]+="$(wrk_run "$TMP/get.lua" "$URL_R");"
    ALL[R_PUT]+="$(wrk_run "$TMP/put.lua" "$URL_R");"
    ALL[L_GET]+="$(wrk_run "$TMP/get.lua" "$URL_L");"
    ALL[L_PUT]+="$(wrk_run "$TMP/put.lua" "$URL_L");"
done
read -r REDIS_SET REDIS_SET_P99 _ <<<"$(median "${ALL[REDIS_SET]}")"
read -r REDIS_GET REDIS_GET_P99 _ <<<"$(median "${ALL[REDIS_GET]}")"
read -r R_GET R_GET_P99 R_GET_BAD <<<"$(median "${ALL[R_GET]}")"
read -r R_PUT R_PUT_P99 R_PUT_BAD <<<"$(median "${ALL[R_PUT]}")"
read -r L_GET L_GET_P99 L_GET_BAD <<<"$(median "${ALL[L_GET]}")"
read -r L_PUT L_PUT_P99 L_PUT_BAD <<<"$(median "${ALL[L_PUT]}")"
RSS_R=$(awk '/^VmRSS:/ {print $2}' "/proc/$R_PID/status")

# The value is still there and intact after the PUT runs, on both backends.
for u in "$URL_R" "$URL_L"; do
    code=$(curl -s -o "$TMP/back" -w '%{http_code}' -H "Authorization: Bearer $TOKEN" "$u$KEY_PATH")
    [ "$code" = 200 ] && cmp -s "$TMP/back" "$TMP/value" ||
        { echo "bench-redis: value check on $u failed ($code)" >&2; exit 1; }
done
for bad in "$R_GET_BAD" "$R_PUT_BAD" "$L_GET_BAD" "$L_PUT_BAD"; do
    [ "$bad" = 0 ] || {
        echo "bench-redis: non-2xx answers: redis GET $R_GET_BAD PUT $R_PUT_BAD, lmdb GET $L_GET_BAD PUT $L_PUT_BAD" >&2
        exit 1
    }
done

echo
printf '%-48s %10s req/s  p99 %7s ms\n' "agentkv GET, Redis backend" "$R_GET" "$R_GET_P99"
printf '%-48s %10s req/s  p99 %7s ms\n' "agentkv GET, LMDB backend" "$L_GET" "$L_GET_P99"
printf '%-48s %10s req/s  p99 %7s ms\n' "redis-benchmark GET" "$REDIS_GET" "$REDIS_GET_P99"
printf '%-48s %10s req/s  p99 %7s ms\n' "agentkv PUT, Redis backend (durable)" "$R_PUT" "$R_PUT_P99"
printf '%-48s %10s req/s  p99 %7s ms\n' "agentkv PUT, LMDB backend (durable)" "$L_PUT" "$L_PUT_P99"
printf '%-48s %10s req/s  p99 %7s ms\n' "redis-benchmark SET (appendfsync always)" "$REDIS_SET" "$REDIS_SET_P99"
echo
printf '%-48s %10s\n' "ratio GET agentkv-on-Redis / redis (>= 0.5)" "$(ratio "$R_GET" "$REDIS_GET")"
printf '%-48s %10s\n' "ratio PUT agentkv-on-Redis / redis SET" "$(ratio "$R_PUT" "$REDIS_SET")"
printf '%-48s %10s\n' "ratio GET agentkv-on-Redis / agentkv-on-LMDB" "$(ratio "$R_GET" "$L_GET")"
printf '%-48s %10s\n' "ratio PUT agentkv-on-Redis / agentkv-on-LMDB" "$(ratio "$R_PUT" "$L_PUT")"
printf '%-48s %10s\n' "ratio GET agentkv-on-LMDB / redis" "$(ratio "$L_GET" "$REDIS_GET")"
printf '%-48s %10s MiB\n' "agentkv (Redis backend) RSS after the run" "$(python3 -c "print('%.1f' % ($RSS_R / 1024))")"
echo "bench-redis: load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
