#!/usr/bin/env bash
# test-powerloss.sh — power loss under `agentkv serve`: every PUT the
# server answered before a power cut is there after it. cli-powerloss does
# this for a library writer; here the writes take the server's path: PUTs
# from many connections at once, sent by the event loops as flights and
# gathered into group commits by the committer thread.
#
# The server runs with the I/O tracer (tests/helpers/iotrace) recording
# its writes and syncs of data.mdb; the client (akv-writer --http, one
# thread per connection) runs with the same trace file and records each
# answered PUT as an acknowledgement. Both append to one trace, so it
# holds, in order, what the server wrote and synced and when each answer
# had arrived. tests/helpers/powerloss.py cuts the power after every event
# and checks every data file a cut could leave (docs/testing.md, "Crashes
# and power loss"). The same run with fsync and fdatasync made to do
# nothing (IOTRACE_DROP_SYNC=1) must lose an answered PUT. Both without
# the write log (store.write_log), then both with it (the server's
# default), its files data.log and data2.log traced beside data.mdb and
# made small (store.write_log_size), so that the log moves on to its
# second file during the trace.
. "$(dirname "$0")/lib.sh"

WRITER=${AKV_TEST_HELPERS:?}/akv-writer
TRACER=$AKV_TEST_HELPERS/akv-iotrace.so
PUTS=${AKV_POWERLOSS_PUTS:-60}
CONNS=8
[ -x "$WRITER" ] && [ -f "$TRACER" ] || fail "akv-writer and akv-iotrace.so must be built"
ASAN_PRELOAD="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0"
REAL_AGENTKV=$AGENTKV

# traced_run NAME [VAR=VALUE...]: a copy of the base store served with the
# tracer (and the VARs) writing NAME.trace, and $PUTS PUTs sent to it over
# $CONNS connections; the client's acknowledgements go to NAME.acks.
traced_run() {
    local name=$1
    shift
    cp -a "$TMP/base" "$TMP/$name"
    {
        echo '#!/bin/sh'
        printf 'exec env IOTRACE_FILE=%q LD_PRELOAD=%q ASAN_OPTIONS=%q' \
            "$TMP/$name.trace" "$TRACER" "$ASAN_PRELOAD"
        printf ' %q' "$@" "$REAL_AGENTKV"
        echo ' "$@"'
    } >"$TMP/$name.agentkv"
    chmod +x "$TMP/$name.agentkv"
    STORE="$TMP/$name" AGENTKV="$TMP/$name.agentkv" start_server --access-log off
    IOTRACE_FILE="$TMP/$name.trace" IOTRACE_ACKS=1 LD_PRELOAD="$TRACER" \
        ASAN_OPTIONS="$ASAN_PRELOAD" \
        "$WRITER" --http "$PORT" "$ADMIN" pl "$PUTS" "$CONNS" \
        >"$TMP/$name.acks" 2>"$ERR" </dev/null ||
        fail "the client failed: $(cat "$ERR")"
    stop_server
    [ "$(grep -c '^ok ' "$TMP/$name.acks")" = "$PUTS" ] ||
        fail "$(grep -c '^ok ' "$TMP/$name.acks") of $PUTS PUTs answered"
}

# cuts NAME [--expect-loss]: every cut of NAME's trace, checked; the
# report in $OUT.
cuts() {
    local name=$1
    shift
    "$PY" "$AKV_SOURCE_DIR/tests/helpers/powerloss.py" \
        --base "$TMP/base" --trace "$TMP/$name.trace" --acks "$TMP/$name.acks" \
        --work "$TMP/$name.cuts" --verify "$WRITER --verify-stream" \
        --seed "$PUTS" "$@" >"$OUT" 2>&1
}

t "a store with its admin token, stopped: the starting point"
start_server --access-log off
stop_server
mv "$STORE" "$TMP/base"
pass

# First without the write log (on by default for the server).
printf '[store]\nwrite_log = false\n' >"$TMP/direct.ini"
DIRECT=(AGENTKV_CONFIG="$TMP/direct.ini")

t "the server, traced, answers $PUTS PUTs from $CONNS connections at once"
traced_run synced "${DIRECT[@]}"
pass

t "after a power cut at any point, every answered PUT is intact"
cuts synced || fail "a store left by a power cut lost or damaged an answered PUT: $(cat "$OUT")"
grep -q ", 0 failed$" "$OUT" || fail "powerloss.py reported no summary: $(cat "$OUT")"
cat "$OUT"
pass

t "the server committed PUTs in groups (several answered after one sync)"
most=$(sed -n 's/.*(at most \([0-9]*\) after one sync).*/\1/p' "$OUT")
[ "${most:-0}" -gt 1 ] || fail "no sync covered more than one answered PUT: $(cat "$OUT")"
pass

t "with syncs that do nothing, a power cut loses answered PUTs (the checks can fail)"
traced_run unsynced "${DIRECT[@]}" IOTRACE_DROP_SYNC=1
cuts unsynced --expect-loss || fail "no store lost a PUT although nothing was synced: $(cat "$OUT")"
cat "$OUT"
pass

printf '[store]\nwrite_log = true\nwrite_log_size = 4KiB\n' >"$TMP/write-log.ini"
LOG_FILES=data.mdb,data.log,data2.log
LOGGED=(AGENTKV_CONFIG="$TMP/write-log.ini" "IOTRACE_NAME=$LOG_FILES")

t "with the write log, after a power cut at any point, every answered PUT is intact"
traced_run logged "${LOGGED[@]}"
cuts logged --files "$LOG_FILES" ||
    fail "a store left by a power cut lost or damaged an answered PUT: $(cat "$OUT")"
grep -q ", 0 failed$" "$OUT" || fail "powerloss.py reported no summary: $(cat "$OUT")"
cat "$OUT"
most=$(sed -n 's/.*(at most \([0-9]*\) after one sync).*/\1/p' "$OUT")
[ "${most:-0}" -gt 1 ] || fail "no sync of the log covered more than one answered PUT: $(cat "$OUT")"
grep -Eq " data2.log [1-9]" "$OUT" || fail "the log never moved on to data2.log: $(cat "$OUT")"
pass

t "with the write log and syncs that do nothing, a power cut loses answered PUTs"
traced_run logged-unsynced "${LOGGED[@]}" IOTRACE_DROP_SYNC=1
cuts logged-unsynced --files "$LOG_FILES" --expect-loss ||
    fail "no store lost a PUT although nothing was synced: $(cat "$OUT")"
cat "$OUT"
pass

finish
