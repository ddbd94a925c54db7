#!/usr/bin/env bash
# run-each.sh PROGRAM... — runs each program in turn (the conformance
# suite's unit-test binaries, under with-cluster.sh: one cluster for all of
# them), prints one line per program with its seconds and the output of
# those that failed; exits 1 if any failed.
set -u
failed=0
for prog in "$@"; do
    log=$(mktemp) || exit 2
    start=$EPOCHREALTIME
    "$prog" >"$log" 2>&1
    rc=$?
    secs=$(awk -v a="$start" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }')
    if [ "$rc" = 0 ]; then
        echo "ok   $(basename "$prog") (${secs} s)"
    else
        echo "FAIL $(basename "$prog") (${secs} s)"
        sed 's/^/    | /' "$log"
        failed=1
    fi
    rm -f "$log"
done
exit $failed
