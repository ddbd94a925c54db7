#!/usr/bin/env bash
# run-each.sh PROGRAM... — runs each program in turn (the conformance
# suite's unit-test binaries, under with-cluster.sh: one cluster for all of
# them), prints one line per program and the output of those that failed;
# exits 1 if any failed.
set -u
failed=0
for prog in "$@"; do
    log=$(mktemp) || exit 2
    if "$prog" >"$log" 2>&1; then
        echo "ok   $(basename "$prog")"
    else
        echo "FAIL $(basename "$prog")"
        sed 's/^/    | /' "$log"
        failed=1
    fi
    rm -f "$log"
done
exit $failed
