#!/usr/bin/env bash
# server-cpu.sh — what a request costs `agentkv serve` on the embedded
# store, in CPU, for several builds in one run: the A/B measurement behind
# the "what it bought" figures of docs/performance.md ("HTTP").
#
# Each run starts a fresh server (its default threads and settings, access
# log off) on an empty store, loads it for 2 s with wrk to warm it, then
# for SECONDS_RUN s more, and reads the CPU time of all its threads, user
# and system, from /proc/PID/stat. The load is bench-http's: 50
# connections, 1 KiB values, GET of one key, PUT of one key, or PUT of
# 100,000 distinct keys. ROUNDS rounds run every build once, the order
# reversed every other round. Prints each run (requests a second, p99,
# user and system µs per request), then per build the medians with
# min–max, and the load average before and after. CPU per request moves
# far less with the machine's other load than requests a second do.
#
# Usage: bench/server-cpu.sh KIND BUILD [BUILD ...]
#   KIND   get | put | put-distinct
#   BUILD  an agentkv binary, or NAME=BINARY to name it in the output
#   ROUNDS=5  SECONDS_RUN=4  CONNS=50
#   BENCH_LOAD=1          a CPU-bound job on every core during the runs
#   BENCH_QUIET_WAIT=120  without BENCH_LOAD, seconds to wait at most for
#                         the 1-minute load average to fall below 2
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BENCH_NAME=server-cpu
. "$ROOT/bench/lib.sh"
ROUNDS=${ROUNDS:-5}
SECONDS_RUN=${SECONDS_RUN:-4}
CONNS=${CONNS:-50}
KEY_PATH=/v1/sandboxes/b/kv/task/k
usage() { sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//' >&2; exit 2; }
[ $# -ge 2 ] || usage
KIND=$1
shift
case $KIND in get | put | put-distinct) ;; *) usage ;; esac
command -v wrk >/dev/null || { echo "server-cpu: wrk is missing (make deps)" >&2; exit 2; }
NAMES=() BINS=()
for b in "$@"; do
    if [[ $b == *=* ]]; then NAMES+=("${b%%=*}") BINS+=("${b#*=}"); else NAMES+=("$b") BINS+=("$b"); fi
    [ -x "${BINS[-1]}" ] || { echo "server-cpu: no agentkv binary at ${BINS[-1]}" >&2; exit 2; }
done

TMP=$(mktemp -d "${TMPDIR:-/tmp}/agentkv-server-cpu.XXXXXX")
AKV_PID="" BUSY=()
cleanup() {
    [ -z "$AKV_PID" ] || { kill "$AKV_PID" && wait "$AKV_PID"; } 2>/dev/null || true
    [ ${#BUSY[@]} = 0 ] || kill "${BUSY[@]}" 2>/dev/null || true
    rm -rf "$TMP"
}
trap cleanup EXIT
if [ "${BENCH_LOAD:-0}" != 1 ]; then wait_quiet; else start_busy; fi
head -c 1024 /dev/urandom | base64 -w0 | head -c 1024 >"$TMP/value"
HZ=$(getconf CLK_TCK)

# cpu_ticks: user and system clock ticks of the server so far.
cpu_ticks() { awk '{ print $14, $15 }' "/proc/$AKV_PID/stat"; }

# one_run BINARY → "RPS P99_MS USER_US SYS_US" per request.
one_run() {
    rm -rf "$TMP/store"
    "$1" --dir "$TMP/store" serve --listen 127.0.0.1:0 --access-log off \
        2>"$TMP/serve.err" &
    AKV_PID=$!
    URL=$(server_url "$TMP/serve.err")
    [ -n "$URL" ] || { echo "server-cpu: $1 did not start: $(tail -n 3 "$TMP/serve.err")" >&2; exit 1; }
    TOKEN=$(admin_token "$TMP/serve.err")
    wrk_scripts
    curl -fsS -o /dev/null -X PUT -H "Authorization: Bearer $TOKEN" \
        --data-binary @"$TMP/value" "$URL$KEY_PATH"
    SECONDS_RUN=2 wrk_run "$TMP/$KIND.lua" "$URL" >/dev/null
    local before after
    before=$(cpu_ticks)
    read -r rps p99 bad <<<"$(wrk_run "$TMP/$KIND.lua" "$URL")"
    after=$(cpu_ticks)
    [ "$bad" = 0 ] || { echo "server-cpu: $bad non-2xx answers" >&2; exit 1; }
    local n
    n=$(awk '/requests in/ { print $1 }' "$TMP/wrk.out")
    kill "$AKV_PID" && wait "$AKV_PID" 2>/dev/null || true
    AKV_PID=""
    set -- $before $after
    awk -v r="$rps" -v p="$p99" -v u=$(($3 - $1)) -v s=$(($4 - $2)) -v hz="$HZ" -v n="$n" \
        'BEGIN { printf "%s %s %.2f %.2f\n", r, p, u / hz * 1e6 / n, s / hz * 1e6 / n }'
}

echo "server-cpu: $KIND, $CONNS connections, ${SECONDS_RUN}s per run after 2s of warm-up, $ROUNDS rounds${BUSY:+, a busy loop on each of $(nproc) cores}"
LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
echo "server-cpu: load average before: $LOAD_BEFORE"
: >"$TMP/runs"
order=($(seq 0 $((${#BINS[@]} - 1))))
for r in $(seq 1 "$ROUNDS"); do
    if [ $((r % 2)) = 0 ]; then idx=($(printf '%s\n' "${order[@]}" | tac)); else idx=("${order[@]}"); fi
    for i in "${idx[@]}"; do
        line=$(one_run "${BINS[$i]}")
        echo "$r ${NAMES[$i]} $line" | tee -a "$TMP/runs"
    done
done
echo "server-cpu: load average before: $LOAD_BEFORE; after: $(cut -d' ' -f1-3 /proc/loadavg)"
python3 - "$TMP/runs" "${NAMES[@]}" <<'EOF'
import statistics, sys
runs = [l.split() for l in open(sys.argv[1])]
print("%-24s %26s %22s %22s" % ("build", "requests/s", "user µs/request", "system µs/request"))
for name in sys.argv[2:]:
    rows = [r for r in runs if r[1] == name]
    cols = []
    for k, fmt in ((2, "%.0f"), (4, "%.2f"), (5, "%.2f")):
        v = [float(r[k]) for r in rows]
        cols.append((fmt + " (" + fmt + "–" + fmt + ")") % (statistics.median(v), min(v), max(v)))
    print("%-24s %26s %22s %22s" % (name, *cols))
EOF
