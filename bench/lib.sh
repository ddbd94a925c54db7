# lib.sh — helpers shared by the HTTP benchmarks (sourced by
# bench/bench-http.sh, bench/bench-redis.sh, bench/put-distinct.sh and
# bench/server-cpu.sh).
# The caller sets TMP, CONNS, SECONDS_RUN, KEY_PATH, REDIS_PORT and TOKEN
# (those its helpers use), and BENCH_NAME for messages.

# server_url ERR: the URL of an `agentkv serve` whose standard error goes
# to the file ERR, once its "listening on" line is there (waits up to 10
# s); empty if it never came.
server_url() {
    for _ in $(seq 1 100); do
        grep -q "listening on" "$1" 2>/dev/null && break
        sleep 0.1
    done
    sed -n 's/.*listening on \(http:[^ ]*\).*/\1/p' "$1"
}

# admin_token ERR: the admin token that server printed when it started.
admin_token() {
    sed -n 's/.*admin token: \(akv_[A-Za-z0-9_-]*\).*/\1/p' "$1"
}

free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# wrk_run SCRIPT URL → "RPS P99_MS NON2XX": wrk with two threads against
# URL$KEY_PATH for SECONDS_RUN seconds.
wrk_run() {
    wrk -t2 -c"$CONNS" -d"${SECONDS_RUN}s" --latency -s "$1" "$2$KEY_PATH" >"$TMP/wrk.out" 2>&1
    python3 - "$TMP/wrk.out" "$BENCH_NAME" <<'EOF'
import re, sys
t = open(sys.argv[1]).read()
rps = float(re.search(r"Requests/sec:\s+([0-9.]+)", t).group(1))
m = re.search(r"^\s+99%\s+([0-9.]+)(us|ms|s)\s*$", t, re.M)
p99 = float(m.group(1)) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[m.group(2)]
bad = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", t)
err = re.search(r"Socket errors:.*", t)
print("%.0f %.3f %s" % (rps, p99, bad.group(1) if bad else 0))
if err:
    print(sys.argv[2] + ": wrk: " + err.group(0), file=sys.stderr)
EOF
}

# redis_run TEST [ARGS...] → "RPS P99_MS": redis-benchmark with two
# threads (and ARGS, e.g. -r 100000 for distinct keys), sized by a short
# calibration to run about SECONDS_RUN seconds.
redis_run() {
    local n t=$1
    shift
    n=$(redis-benchmark -p "$REDIS_PORT" -c "$CONNS" --threads 2 -n 20000 -d 1024 -t "$t" "$@" --csv 2>/dev/null |
        python3 -c 'import csv,sys; r=list(csv.reader(sys.stdin)); print(int(float(r[1][1]) * '"$SECONDS_RUN"'))')
    [ "$n" -ge 20000 ] || n=20000
    redis-benchmark -p "$REDIS_PORT" -c "$CONNS" --threads 2 -n "$n" -d 1024 -t "$t" "$@" --csv 2>/dev/null |
        python3 -c '
import csv, sys
rows = list(csv.reader(sys.stdin))
col = dict(zip(rows[0], rows[1]))
print("%.0f %s" % (float(col["rps"]), col.get("p99_latency_ms", "?")))'
}

# wrk_scripts: $TMP/get.lua and $TMP/put.lua, requests with the bearer
# $TOKEN; the PUT body is $TMP/value.
wrk_scripts() {
    cat >"$TMP/get.lua" <<EOF
wrk.method = "GET"
wrk.headers["Authorization"] = "Bearer $TOKEN"
EOF
    cat >"$TMP/put.lua" <<EOF
wrk.method = "PUT"
wrk.headers["Authorization"] = "Bearer $TOKEN"
wrk.headers["Content-Type"] = "application/octet-stream"
wrk.body = "$(cat "$TMP/value")"
EOF
    # Distinct keys: each PUT names one of 100,000 keys at random, as
    # redis-benchmark -r 100000 does.
    cat "$TMP/put.lua" - >"$TMP/put-distinct.lua" <<EOF
request = function()
  return wrk.format(nil, "${KEY_PATH%/*}/r" .. math.random(0, 99999))
end
EOF
}

ratio() { python3 -c "print('%.2f' % ($1 / $2))"; }

# wait_quiet: low load means a 1-minute load average below 2 before the
# run. Waits for it, up to BENCH_QUIET_WAIT seconds (default 120; after a
# build or another benchmark it takes a minute or two), and says so on
# stderr when it does not come.
wait_quiet() {
    local waited=0 limit=${BENCH_QUIET_WAIT:-120}
    while awk '{ exit !($1 >= 2) }' /proc/loadavg && [ "$waited" -lt "$limit" ]; do
        sleep 5
        waited=$((waited + 5))
    done
    if awk '{ exit !($1 >= 2) }' /proc/loadavg; then
        echo "$BENCH_NAME: the load average is $(cut -d' ' -f1 /proc/loadavg) after ${waited}s: these are not low-load figures" >&2
    elif [ "$waited" -gt 0 ]; then
        echo "$BENCH_NAME: waited ${waited}s for the load average to fall below 2" >&2
    fi
}

# start_busy: a CPU-bound job on every core (the "high load" regime of
# docs/performance.md), their PIDs in BUSY; the caller kills them.
start_busy() {
    BUSY=()
    for _ in $(seq 1 "$(nproc)"); do
        bash -c 'while :; do :; done' &
        BUSY+=($!)
    done
}
