#!/usr/bin/env bash
# Power loss: every write acknowledged before a power cut is still there
# after it, whatever the cut left of the writes not yet synced. A writer
# (akv-writer, one akv_put after another, each reported on stdout) runs on
# the embedded store with an I/O tracer preloaded (tests/helpers/iotrace),
# which records the writes and syncs of data.mdb and the acknowledgements,
# in order. tests/helpers/powerloss.py then cuts the power after every
# event of that trace, builds the data files the cut could leave (pages not
# yet synced all lost, all kept, and drawn at random) and checks each:
# every acknowledged write present and intact, and every entry of the
# store sound (akv-writer --verify-stream: akv_get of each acknowledged
# write, which checks its SHA-256, then akv_check over the whole store).
# cli-crash kills processes, whose writes the kernel still holds; this
# test drops what only the kernel held.
#
# The same run with fsync and fdatasync made to do nothing
# (IOTRACE_DROP_SYNC=1, a disk that acknowledges flushes it never makes)
# must lose acknowledged writes: that shows the checks can fail.
#
# Then both again with the write log (store.write_log), tracing its files
# data.log and data2.log beside data.mdb: each write acknowledged once in
# the log, the whole log applied to data.mdb when the writer closes the
# store, the files emptied. The log's files are made small
# (store.write_log_size) and the writer lists its entries every few writes
# (which has data.mdb take all of the log), so that the files take turns
# and are started over, rewriting their earlier records, during the trace.
. "$(dirname "$0")/lib.sh"

WRITER=${AKV_TEST_HELPERS:?}/akv-writer
TRACER=$AKV_TEST_HELPERS/akv-iotrace.so
PUTS=${AKV_POWERLOSS_PUTS:-30}
[ -x "$WRITER" ] && [ -f "$TRACER" ] || { echo "akv-writer and akv-iotrace.so must be built" >&2; exit 2; }

# traced_run NAME [ENV...]: NAME's store is a copy of $TMP/base; the writer
# puts $PUTS entries into it under the tracer.
traced_run() {
    local name=$1
    shift
    cp -a "$TMP/base" "$TMP/$name"
    LAST_CMD="akv-writer under iotrace ($name)"
    env "$@" IOTRACE_FILE="$TMP/$name.trace" IOTRACE_ACKS=1 LD_PRELOAD="$TRACER" \
        ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0" \
        "$WRITER" "$TMP/$name" pl "$PUTS" >"$TMP/$name.acks" 2>"$ERR" </dev/null
    RC=$?
    [ "$RC" = 0 ] || fail "the traced writer failed"
    [ "$(grep -c '^ok ' "$TMP/$name.acks")" = "$PUTS" ] || fail "the writer acknowledged $(grep -c '^ok ' "$TMP/$name.acks") of $PUTS writes"
}

# cuts NAME [--expect-loss]: every cut of NAME's trace, checked.
cuts() {
    local name=$1
    shift
    run "$PY" "$AKV_SOURCE_DIR/tests/helpers/powerloss.py" \
        --base "$TMP/base" --trace "$TMP/$name.trace" --acks "$TMP/$name.acks" \
        --work "$TMP/$name.cuts" --verify "$WRITER --verify-stream" \
        --seed "$PUTS" "$@"
}

t "a store with entries in it, synced, is the starting point"
run "$WRITER" "$TMP/base" seed 10
[ "$RC" = 0 ] || fail "the writer could not fill the store"
run "$WRITER" --verify "$TMP/base" <"$OUT"
[ "$RC" = 0 ] || fail "the starting store does not hold its entries"
pass

t "the tracer sees the writes, syncs and acknowledgements of a writer"
traced_run synced
[ -s "$TMP/synced.trace" ] || fail "the trace is empty"
pass

t "after a power cut at any point, every acknowledged write is intact"
cuts synced
[ "$RC" = 0 ] || fail "a store left by a power cut lost or damaged an acknowledged write"
grep -q ", 0 failed$" "$OUT" || fail "powerloss.py reported no summary"
cat "$OUT"
pass

t "the store a cut left takes writes again"
cut_store="$TMP/synced.cuts/store" # the last store checked: the last cut's
printf 'after the cut' >"$TMP/value"
run "$AGENTKV" --dir "$cut_store" --sandbox crash put task after-cut "$TMP/value"
[ "$RC" = 0 ] || fail "put into the store a cut left failed"
run "$AGENTKV" --dir "$cut_store" --sandbox crash get task after-cut
[ "$RC" = 0 ] && [ "$(cat "$OUT")" = "after the cut" ] || fail "the write after the cut did not read back"
pass

t "with syncs that do nothing, power cuts lose acknowledged writes (the checks can fail)"
traced_run unsynced IOTRACE_DROP_SYNC=1
cuts unsynced --expect-loss
[ "$RC" = 0 ] || fail "no store lost a write although nothing was synced"
cat "$OUT"
pass

printf '[store]\nwrite_log = true\nwrite_log_size = 4KiB\n' >"$TMP/write-log.ini"
LOG_FILES=data.mdb,data.log,data2.log
LOGGED=(AGENTKV_CONFIG="$TMP/write-log.ini" "IOTRACE_NAME=$LOG_FILES"
    AKV_WRITER_LIST_EVERY=7)

t "with the write log, after a power cut at any point, every acknowledged write is intact"
traced_run logged "${LOGGED[@]}"
cuts logged --files "$LOG_FILES"
[ "$RC" = 0 ] || fail "a store left by a power cut lost or damaged an acknowledged write"
grep -q ", 0 failed$" "$OUT" || fail "powerloss.py reported no summary"
cat "$OUT"
for f in data.log data2.log; do
    grep -Eq " $f [1-9][0-9]* \([1-9][0-9]* inside the file\)" "$OUT" ||
        fail "the trace has no write to $f that rewrote earlier records: the files did not take turns"
done
pass

t "with the write log and syncs that do nothing, power cuts lose acknowledged writes"
traced_run logged-unsynced "${LOGGED[@]}" IOTRACE_DROP_SYNC=1
cuts logged-unsynced --files "$LOG_FILES" --expect-loss
[ "$RC" = 0 ] || fail "no store lost a write although nothing was synced"
cat "$OUT"
pass

t "hostile traces are refused with a clear error"
head -c 10 "$TMP/synced.trace" >"$TMP/short.trace"
cp "$TMP/synced.acks" "$TMP/short.acks"
cuts short
[ "$RC" != 0 ] && grep -q "ends inside a record" "$ERR" || fail "a cut-off trace was not refused"
head -n 3 "$TMP/synced.acks" >"$TMP/few.acks"
cp "$TMP/synced.trace" "$TMP/few.trace"
cuts few
[ "$RC" != 0 ] && grep -q "acknowledgements in the trace" "$ERR" || fail "acknowledgements and output that disagree were not refused"
pass

finish
