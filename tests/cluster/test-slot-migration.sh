#!/usr/bin/env bash
# test-slot-migration.sh — reads and writes keep working while the slot of
# a namespace moves between masters, the way `redis-cli --cluster reshard`
# moves it: CLUSTER SETSLOT IMPORTING on the target, MIGRATING on the
# source, MIGRATE of the slot's keys, CLUSTER SETSLOT NODE. While some of
# the namespace's keys have moved and others not, its scripts get TRYAGAIN
# (retried with backoff); once all have moved, the source answers ASK
# (ASKING, then the command on the target); at the end MOVED (a new map).
# Every write is acknowledged and every entry is read back, on both sides
# of each step.
. "$(dirname "$0")/../redis/lib.sh"
. "$(dirname "$0")/cluster.sh"
trap 'cleanup; cluster_stop' EXIT

cluster_start "$TMP/cluster" || fail "the cluster did not start"
BACKEND=$CLUSTER_URL
P0=${CLUSTER_PORTS[0]}
SB=mig
TAG="{3:$SB}" # the task scope's namespace of sandbox $SB
SLOT=$(redis-cli -p "$P0" cluster keyslot "$TAG")

# The master that owns $SLOT, and another master.
owner() {
    local p
    for p in $(cluster_masters); do
        redis-cli -p "$p" cluster countkeysinslot "$SLOT" >/dev/null
        redis-cli -p "$p" cluster nodes | awk -v me=myself -v s="$SLOT" '
            $3 ~ me { for (i = 9; i <= NF; i++) { split($i, r, "-");
                if (r[2] == "") r[2] = r[1];
                if (s + 0 >= r[1] + 0 && s + 0 <= r[2] + 0) found = 1 } }
            END { exit !found }' && echo "$p"
    done
}
SRC=$(owner)
[ -n "$SRC" ] || fail "no owner of slot $SLOT"
DST=$(cluster_masters | grep -vx "$SRC" | head -n 1)
SRC_ID=$(redis-cli -p "$SRC" cluster myid)
DST_ID=$(redis-cli -p "$DST" cluster myid)
keys_at() { redis-cli -p "$1" cluster getkeysinslot "$SLOT" 100; }
errors_at() { # PORT ERROR: how many ERROR replies the node gave
    redis-cli -p "$1" info errorstats |
        sed -n "s/^errorstat_$2:count=\([0-9]*\).*/\1/p" | awk '{ n += $1 } END { print n + 0 }'
}
put() { # KEY VALUE
    printf '%s' "$2" >"$TMP/val"
    akv --sandbox "$SB" put task "$1" "$TMP/val"
    expect_rc 0
}
get_all() { # N: k1..kN read back
    local i
    for i in $(seq 1 "$1"); do
        akv --sandbox "$SB" get task "k$i"
        expect_rc 0
        [ "$(cat "$OUT")" = "value $i" ] || fail "k$i: got $(cat "$OUT")"
    done
}

t "a namespace's entries, all in one slot of one master"
for i in 1 2 3 4 5; do put "k$i" "value $i"; done
[ "$(keys_at "$SRC" | wc -l)" -ge 3 ] || fail "keys in slot: $(keys_at "$SRC")"
pass

t "slot marked MIGRATING/IMPORTING, nothing moved: served by the source"
redis-cli -p "$DST" cluster setslot "$SLOT" importing "$SRC_ID" | grep -q OK ||
    fail "IMPORTING refused"
redis-cli -p "$SRC" cluster setslot "$SLOT" migrating "$DST_ID" | grep -q OK ||
    fail "MIGRATING refused"
get_all 5
put k6 "value 6"
pass

t "half the keys moved: a write gets TRYAGAIN, retried until the rest moves"
mapfile -t KEYS < <(keys_at "$SRC")
redis-cli -p "$SRC" migrate 127.0.0.1 "$DST" "" 0 5000 keys "${KEYS[0]}" |
    grep -q OK || fail "MIGRATE of ${KEYS[0]} failed"
tryagain=$(errors_at "$SRC" TRYAGAIN)
printf 'value 7' >"$TMP/v7"
( timeout -k 2 30 "$AGENTKV" --backend "$BACKEND" --dir "$TMP/cli" \
    --sandbox "$SB" put task k7 "$TMP/v7" >"$TMP/bg.out" 2>"$TMP/bg.err";
  echo $? >"$TMP/bg.rc" ) &
BG=$!
# Until the writer has met TRYAGAIN at least once (it retries meanwhile).
for i in $(seq 1 200); do
    [ "$(errors_at "$SRC" TRYAGAIN)" -gt "$tryagain" ] && break
    [ -s "$TMP/bg.rc" ] && break
    sleep 0.05
done
[ "$(errors_at "$SRC" TRYAGAIN)" -gt "$tryagain" ] ||
    fail "the source never answered TRYAGAIN (writer: $(cat "$TMP/bg.err"))"
redis-cli -p "$SRC" migrate 127.0.0.1 "$DST" "" 0 5000 keys "${KEYS[@]:1}" |
    grep -q OK || fail "MIGRATE of the rest failed"
wait "$BG"
[ "$(cat "$TMP/bg.rc")" = 0 ] || fail "the write failed: $(cat "$TMP/bg.err")"
[ -z "$(keys_at "$SRC")" ] || fail "keys left on the source"
pass

t "all keys moved, slot still MIGRATING: reads and writes follow ASK"
ask=$(errors_at "$SRC" ASK)
get_all 7
put k8 "value 8"
put k1 "value 1"
akv --sandbox "$SB" ls task
expect_rc 0
[ "$(grep -c '^k[0-9] ' "$OUT")" = 8 ] || fail "ls: $(cat "$OUT")"
[ "$(errors_at "$SRC" ASK)" -gt "$ask" ] || fail "no ASK from the source"
[ "$(keys_at "$DST" | wc -l)" -ge 3 ] || fail "not on the target"
pass

t "slot handed over (SETSLOT NODE): MOVED, a new map, everything there"
for p in $(cluster_masters); do
    redis-cli -p "$p" cluster setslot "$SLOT" node "$DST_ID" >/dev/null
done
[ "$(owner)" = "$DST" ] || fail "owner is $(owner), expected $DST"
get_all 8
put k9 "value 9"
get_all 9
akv check
expect_rc 0
grep -q 'checked 9 entries, 0 failed' "$OUT" || fail "check: $(cat "$OUT")"
pass

finish
