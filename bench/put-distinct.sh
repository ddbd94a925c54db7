#!/usr/bin/env bash
# put-distinct.sh — durable PUTs of 100,000 distinct keys against several
# builds of `agentkv serve` (or the same build under several settings),
# interleaved, with what each costs the disk: the measurement behind the
# log designs of docs/performance.md ("Store writes", "HTTP").
#
# Each run starts a fresh server on an empty store, fills it for
# FILL_SECONDS with wrk (bench-http's distinct-key script: 1 KiB values,
# 50 connections), then measures RUN_SECONDS and prints: PUT/s; the disk's
# completed writes and cache flushes a second, and its writes and KiB per
# PUT (/proc/diskstats of the store's disk, which other work on it
# counts too); the share of the CPUs busy (/proc/stat); data.mdb's size in
# MiB at the end.
#
# Usage: bench/put-distinct.sh VARIANT [VARIANT ...]
#   VARIANT  an agentkv binary, optionally after VAR=VALUE words that go
#            into its environment: 'APPLY_MS=500 /tmp/x/build/agentkv'
#   ROUNDS=2         rounds; each runs every variant once, in order
#   FILL_SECONDS=8   RUN_SECONDS=6   CONNS=50
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BENCH_NAME=put-distinct
. "$ROOT/bench/lib.sh"
ROUNDS=${ROUNDS:-2}
FILL=${FILL_SECONDS:-8}
SECONDS_RUN=${RUN_SECONDS:-6}
CONNS=${CONNS:-50}
[ $# -ge 1 ] || { sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//' >&2; exit 2; }
command -v wrk >/dev/null || { echo "put-distinct: wrk is missing (make deps)" >&2; exit 2; }
for v in "$@"; do
    bin=${v##* }
    [ -x "$bin" ] || { echo "put-distinct: no agentkv binary at $bin" >&2; exit 2; }
done

TMP=$(mktemp -d "${TMPDIR:-/tmp}/agentkv-put-distinct.XXXXXX")
AKV_PID=""
cleanup() {
    [ -n "$AKV_PID" ] && kill "$AKV_PID" 2>/dev/null && wait "$AKV_PID" 2>/dev/null
    rm -rf "$TMP"
}
trap cleanup EXIT
KEY_PATH=/v1/sandboxes/b/kv/task/k
head -c 1024 /dev/urandom | base64 -w0 | head -c 1024 >"$TMP/value"

# The whole disk holding the store: /proc/diskstats counts per device.
disk=$(df --output=source "$TMP" | tail -n 1)
disk=${disk#/dev/}
[ -e "/sys/class/block/$disk/partition" ] &&
    disk=$(basename "$(dirname "$(readlink -f "/sys/class/block/$disk")")")
diskstats() { # → completed writes, sectors written, completed flushes
    awk -v d="$disk" '$3 == d { print $8, $10, ($19 == "" ? 0 : $19) }' /proc/diskstats
}
cpustat() { # → busy ticks, all ticks
    awk '/^cpu / { b = $2 + $3 + $4 + $7 + $8 + $9; print b, b + $5 + $6 }' /proc/stat
}

# run VARIANT: one line of figures.
run() {
    local words store="$TMP/store"
    read -r -a words <<<"$1"
    local bin=${words[-1]}
    unset 'words[-1]'
    rm -rf "$store"
    env ${words[@]+"${words[@]}"} "$bin" --dir "$store" serve \
        --listen 127.0.0.1:0 --access-log off >"$TMP/serve.out" 2>"$TMP/serve.err" &
    AKV_PID=$!
    local url
    url=$(server_url "$TMP/serve.err")
    TOKEN=$(admin_token "$TMP/serve.err")
    if [ -z "$url" ] || [ -z "$TOKEN" ]; then
        echo "put-distinct: $bin did not start" >&2
        cat "$TMP/serve.err" >&2
        exit 1
    fi
    wrk_scripts
    local keep=$SECONDS_RUN
    SECONDS_RUN=$FILL
    wrk_run "$TMP/put-distinct.lua" "$url" >/dev/null
    SECONDS_RUN=$keep
    local d0 d1 c0 c1 rps bad
    read -r -a d0 <<<"$(diskstats)"
    read -r -a c0 <<<"$(cpustat)"
    read -r rps _ bad <<<"$(wrk_run "$TMP/put-distinct.lua" "$url")"
    read -r -a d1 <<<"$(diskstats)"
    read -r -a c1 <<<"$(cpustat)"
    [ "$bad" = 0 ] || { echo "put-distinct: $bad non-2xx answers from $1" >&2; exit 1; }
    local mib
    mib=$(du -m "$store/data.mdb" | cut -f1)
    kill "$AKV_PID"
    wait "$AKV_PID" 2>/dev/null || true
    AKV_PID=""
    python3 -c '
import sys
rps, secs, w, sec, f, cb, ct = (float(x) for x in sys.argv[1:8])
puts = rps * secs
print("%9.0f %10.0f %9.0f %8.2f %8.1f %6.0f%% %8s  %s" % (
    rps, w / secs, f / secs, w / puts, sec / 2 / puts, 100 * cb / ct,
    sys.argv[8], sys.argv[9]))
' "$rps" "$SECONDS_RUN" "$((d1[0] - d0[0]))" "$((d1[1] - d0[1]))" \
        "$((d1[2] - d0[2]))" "$((c1[0] - c0[0]))" "$((c1[1] - c0[1]))" \
        "$mib" "$1"
}

echo "put-distinct: $CONNS connections, 1 KiB values, 100,000 keys; ${FILL}s fill, then ${SECONDS_RUN}s measured; disk $disk; load average $(cut -d' ' -f1-3 /proc/loadavg)"
printf '%9s %10s %9s %8s %8s %7s %8s  %s\n' "PUT/s" "writes/s" "flushes/s" "wr/PUT" "KiB/PUT" "CPU" "MiB" "variant"
for _ in $(seq 1 "$ROUNDS"); do
    for v in "$@"; do
        run "$v"
    done
done
echo "put-distinct: load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
