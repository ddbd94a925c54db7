#!/usr/bin/env bash
# Crash safety: writers are killed with SIGKILL at random moments, many
# times, while they write. Afterwards every write that had been reported as
# done is present with exactly its value, `agentkv check` finds nothing
# corrupt, and the store still takes writes. Two kinds of writer:
#   - akv-writer (tests/helpers), a tight loop of akv_put that prints
#     "ok KEY" after each acknowledged write;
#   - a shell loop of `agentkv put` commands that prints "ok KEY" after each
#     command exits 0 — SIGKILL lands on the CLI process mid-write.
# Both kinds run twice: as configured by default, and with the write log
# (store.write_log) in the config, where the library writer's acknowledged
# writes may be in data.log alone when the kill lands: the next opener
# must replay them. There the log's files are made small
# (store.write_log_size) and the writer lists its entries every 25 writes
# (which has data.mdb take all of the log), so that the files take turns
# and are started over while it runs. (The CLI's put ignores the setting,
# which is serve's: its rounds then open the store beside the log the
# writer left.)
set -u
AGENTKV=${AGENTKV:?path of the agentkv binary}
WRITER=${AKV_TEST_HELPERS:?}/akv-writer
ROUNDS=${AKV_CRASH_ROUNDS:-20}
dir=$(mktemp -d)
trap 'kill -9 $(jobs -p) 2>/dev/null; rm -rf "$dir"' EXIT
store=$dir/store
pass=0 fail=0
die() { echo "FAIL: $*"; echo "$pass passed, 1 failed"; exit 1; }

# Random delay of 20–300 ms, so kills land at many different points.
pause() { sleep "0.$(printf '%03d' $((20 + RANDOM % 280)))"; }

# Waits until no process holds the store's lock (its first byte of
# counters, /proc/locks by inode): an agentkv killed under a killed shell
# may still be exiting when the shell is reaped, and a writer with the
# write log would then start without it (it logs only with the store to
# itself).
wait_unlocked() {
    [ -e "$store/counters" ] || return 0
    local inode i
    inode=$(stat -c %i "$store/counters")
    for i in $(seq 1 200); do
        grep -q ":$inode " /proc/locks || return 0
        sleep 0.05
    done
    die "a killed process still holds the store's lock after 10 s"
}

printf '[store]\nwrite_log = true\nwrite_log_size = 16KiB\n' >"$dir/write-log.ini"
modes="default write-log"
[ -n "${AGENTKV_BACKEND:-}" ] && modes=default # the embedded store's own
for mode in $modes; do
    if [ "$mode" = write-log ]; then
        export AGENTKV_CONFIG="$dir/write-log.ini" AKV_WRITER_LIST_EVERY=25 m=w
    else
        m=""
    fi
    # Round kind 1: the library writer.
    for r in $(seq 1 "$ROUNDS"); do
        "$WRITER" "$store" "lib$m$r" 100000 >"$dir/lib$m$r.log" 2>"$dir/lib$m$r.err" &
        pid=$!
        pause
        kill -9 "$pid" 2>/dev/null
        wait "$pid" 2>/dev/null
        # Replaying the rounds before is worth a line of information.
        if grep -qv ': info: ' "$dir/lib$m$r.err"; then die "writer round $r ($mode) failed: $(cat "$dir/lib$m$r.err")"; fi
    done

    # Round kind 2: the CLI, killed mid-command.
    for r in $(seq 1 $((ROUNDS / 2 + 1))); do
        (
            i=0
            while :; do
                key="cli$m$r/$i"
                "$WRITER" --value "$key" >"$dir/val.$r"
                "$AGENTKV" --dir "$store" --sandbox crash put task "$key" "$dir/val.$r" || exit 1
                echo "ok $key"
                i=$((i + 1))
            done
        ) >"$dir/cli$m$r.log" 2>"$dir/cli$m$r.err" &
        pid=$!
        pause
        # Kill the loop and the process it runs. The loop is stopped first:
        # between killing its child and killing it, it could otherwise go
        # on, put a value file its killed writer left empty, and say "ok".
        kill -STOP "$pid" 2>/dev/null
        pkill -9 -P "$pid" 2>/dev/null
        kill -9 "$pid" 2>/dev/null
        wait "$pid" 2>/dev/null
        wait_unlocked
    done
done
unset AGENTKV_CONFIG AKV_WRITER_LIST_EVERY
[ -n "${AGENTKV_BACKEND:-}" ] || [ -e "$store/data.log" ] ||
    die "the write-log rounds left no data.log: the write log was not used"

# Every acknowledged write is present and intact: all of them through the
# library in one process, and the CLI writers' ones through `agentkv get`.
acked=$(cat "$dir"/lib*.log "$dir"/cli*.log | grep -c '^ok ')
[ "$acked" -gt 0 ] || die "no write was acknowledged; the test proved nothing"
checked=$(cat "$dir"/lib*.log "$dir"/cli*.log | "$WRITER" --verify "$store") ||
    die "$checked"
[ "$checked" = "$acked" ] || die "verified $checked of $acked writes"
while read -r _ key; do
    "$WRITER" --value "$key" >"$dir/want"
    "$AGENTKV" --dir "$store" --sandbox crash get task "$key" >"$dir/got" ||
        die "acknowledged write $key is missing (exit $?)"
    cmp -s "$dir/want" "$dir/got" ||
        die "acknowledged write $key has the wrong value: $(wc -c <"$dir/got") bytes, $(head -c 80 "$dir/got" | od -An -c | tr -s ' \n' ' '), where $(wc -c <"$dir/want") bytes, $(head -c 80 "$dir/want" | od -An -c | tr -s ' \n' ' ') were acknowledged"
done < <(cat "$dir"/cli*.log | grep '^ok ')
pass=$((pass + 1))
echo "ok - $acked acknowledged writes survived $ROUNDS + $((ROUNDS / 2 + 1)) SIGKILLs in each mode ($modes)"

"$AGENTKV" --dir "$store" check >"$dir/check.out" 2>&1 ||
    die "agentkv check after crashes exited $?: $(cat "$dir/check.out")"
pass=$((pass + 1))
echo "ok - agentkv check finds the store intact"

printf 'after' | "$AGENTKV" --dir "$store" --sandbox crash put task after/crash - ||
    die "store does not take writes after the crashes"
[ "$("$AGENTKV" --dir "$store" --sandbox crash get task after/crash)" = after ] ||
    die "write after the crashes reads back wrong"
pass=$((pass + 1))
echo "ok - the store takes and serves writes after the crashes"
echo "$pass passed, $fail failed"
