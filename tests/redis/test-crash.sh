#!/usr/bin/env bash
# Crash safety on the Redis backend: while a writer (tests/helpers/akv-writer)
# stores entries as fast as it can, redis-server itself is killed with
# SIGKILL at a random moment and restarted from its append-only file, many
# times. Every write the writer had reported as acknowledged must be there
# afterwards with exactly its value (verified through the library, SHA-256
# included), the writer must have stopped with `unavailable` rather than
# hang or crash, `agentkv check` finds nothing corrupt, and the namespace's
# quota usage still matches its entries.
#
# This is the durability promise of docs/operations.md: with appendonly yes
# and appendfsync always (tests/redis/redis.sh), Redis answers a write only
# after it is on disk, and agentkv acknowledges only after Redis answered.
set -u
AGENTKV=${AGENTKV:?path of the agentkv binary}
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
WRITER=${AKV_TEST_HELPERS:-$(dirname "$AGENTKV")/tests}/akv-writer
ROUNDS=${AKV_CRASH_ROUNDS:-8}
. "$HERE/redis.sh"
dir=$(mktemp -d "${TMPDIR:-/tmp}/agentkv-redis-crash.XXXXXX")
trap 'kill -9 $(jobs -p) 2>/dev/null; redis_stop; rm -rf "$dir"' EXIT
pass=0
die() { echo "FAIL: $*"; echo "$pass passed, 1 failed"; exit 1; }
pause() { sleep "0.$(printf '%03d' $((50 + RANDOM % 300)))"; }

redis_start "$dir/redis" || die "redis-server did not start"
port=$REDIS_PORT
export AGENTKV_BACKEND="redis://127.0.0.1:$port/0?timeout=2s"

for r in $(seq 1 "$ROUNDS"); do
    "$WRITER" "$dir/unused" "w$r" 100000 >"$dir/w$r.log" 2>"$dir/w$r.err" &
    pid=$!
    pause
    redis_kill
    # The writer must notice and stop on its own, with `unavailable`.
    for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.05; done
    kill -0 "$pid" 2>/dev/null && die "round $r: the writer hangs after redis-server died"
    wait "$pid"
    rc=$?
    [ "$rc" -ne 0 ] || die "round $r: the writer finished 100000 writes before the kill"
    grep -q "redis at 127.0.0.1:$port" "$dir/w$r.err" ||
        die "round $r: the writer failed without naming Redis: $(cat "$dir/w$r.err")"
    redis_start "$dir/redis" "$port" || die "round $r: redis-server did not restart"
done

acked=$(cat "$dir"/w*.log | grep -c '^ok ')
[ "$acked" -gt 0 ] || die "no write was acknowledged; the test proved nothing"
checked=$(cat "$dir"/w*.log | "$WRITER" --verify "$dir/unused") || die "$checked"
[ "$checked" = "$acked" ] || die "verified $checked of $acked acknowledged writes"
pass=$((pass + 1))
echo "ok - $acked acknowledged writes survived $ROUNDS SIGKILLs of redis-server"

"$AGENTKV" check >"$dir/check.out" 2>&1 ||
    die "agentkv check after the crashes exited $?: $(cat "$dir/check.out")"
pass=$((pass + 1))
echo "ok - agentkv check finds the store intact"

# Usage counters and entries moved together in every script, so the bytes
# counted for quota equal the stored bytes of the entries, which `stats`
# sums from the records themselves (key + record, expired ones included).
want=$("$AGENTKV" --sandbox crash --json stats task |
    /usr/bin/python3 -c 'import json,sys; t = json.load(sys.stdin)["task"]; print(t["bytes"] + t["expired_bytes"])')
got=$(redis-cli -p "$port" hget 'akv:{3:crash}:u' bytes)
[ "$want" = "$got" ] || die "usage counter says $got bytes, the entries hold $want"
pass=$((pass + 1))
echo "ok - quota usage matches the entries after the crashes ($got bytes)"
echo "$pass passed, 0 failed"
