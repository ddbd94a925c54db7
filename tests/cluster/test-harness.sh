#!/usr/bin/env bash
# test-harness.sh — the cluster the other cluster tests run on
# (tests/cluster/cluster.sh) is what it claims to be: six real redis-server
# nodes in cluster mode, three masters each with one replica, all 16384
# slots served; a key written through one node is routed by the cluster
# (redis-cli -c follows MOVED); after kill -9 of a master its replica takes
# over the master's slots and the cluster is whole again; cluster_stop
# leaves no node behind.
set -u
. "$(dirname "$0")/cluster.sh"

TMP=$(mktemp -d "${TMPDIR:-/tmp}/agentkv-cluster.XXXXXX") || exit 2
trap 'cluster_stop; [ -n "${KEEP:-}" ] || rm -rf "$TMP"' EXIT
CASE="(no case)"
PASSED=0
t() { CASE="$*"; }
pass() { PASSED=$((PASSED + 1)); }
fail() {
    echo "FAIL [$CASE]: $*" >&2
    local p
    for p in "${CLUSTER_PORTS[@]}"; do
        echo "--- node $p" >&2
        redis-cli -p "$p" cluster nodes 2>&1 | sed 's/^/    | /' >&2
    done
    exit 1
}

t "six nodes start and form one cluster"
cluster_start "$TMP/cluster" || fail "cluster_start failed"
[ "${#CLUSTER_PORTS[@]}" -eq 6 ] || fail "expected 6 ports, got ${#CLUSTER_PORTS[*]}"
pass

t "three masters, three replicas, every slot assigned"
P=${CLUSTER_PORTS[0]}
[ "$(cluster_masters | wc -l)" -eq 3 ] || fail "masters: $(cluster_masters | tr '\n' ' ')"
N=$(redis-cli -p "$P" cluster nodes | grep -cE '[ ,]slave ')
[ "$N" -eq 3 ] || fail "expected 3 replicas, got $N"
[ "$(cluster_info_field "$P" cluster_slots_ok)" = 16384 ] ||
    fail "slots ok: $(cluster_info_field "$P" cluster_slots_ok)"
[ "$(cluster_info_field "$P" cluster_size)" = 3 ] || fail "cluster_size"
[[ "$CLUSTER_SEEDS" == *,*,*,*,*,* ]] || fail "seeds: $CLUSTER_SEEDS"
pass

t "keys in three slots are stored on their owners, reachable from any node"
for k in alpha beta gamma '{tag}x' '{tag}y'; do
    [ "$(redis-cli -c -p "$P" set "$k" "v-$k")" = OK ] || fail "set $k"
done
for p in "${CLUSTER_PORTS[@]}"; do
    for k in alpha beta gamma '{tag}x'; do
        [ "$(redis-cli -c -p "$p" get "$k")" = "v-$k" ] || fail "get $k via $p"
    done
done
# Without -c a node that does not own the slot answers MOVED.
MOVED=0
for p in $(cluster_masters); do
    redis-cli -p "$p" get alpha | grep -q '^MOVED' && MOVED=$((MOVED + 1))
done
[ "$MOVED" -eq 2 ] || fail "expected MOVED from 2 of 3 masters, got $MOVED"
pass

t "kill -9 of a master: its replica is promoted, the data is still there"
SLOT=$(redis-cli -p "$P" cluster keyslot alpha)
OWNER=""
for p in $(cluster_masters); do
    redis-cli -p "$p" get alpha | grep -q '^v-alpha$' && OWNER=$p
done
[ -n "$OWNER" ] || fail "no master owns alpha (slot $SLOT)"
cluster_kill "$OWNER"
PROMOTED=0
for i in $(seq 1 300); do
    M=$(cluster_masters | wc -l)
    if [ "$M" -eq 3 ] && cluster_wait_ok 1; then PROMOTED=1; break; fi
    sleep 0.1
done
[ "$PROMOTED" = 1 ] || fail "no replica took over from $OWNER"
for p in "${CLUSTER_PORTS[@]}"; do
    [ "$p" = "$OWNER" ] && continue
    [ "$(redis-cli -c -p "$p" get alpha)" = v-alpha ] || fail "alpha lost (via $p)"
done
pass

t "cluster_stop leaves no node running"
PIDS=()
for p in "${CLUSTER_PORTS[@]}"; do
    [ -n "${CLUSTER_PIDS[$p]}" ] && PIDS+=("${CLUSTER_PIDS[$p]}")
done
cluster_stop
for pid in "${PIDS[@]}"; do
    kill -0 "$pid" 2>/dev/null && fail "node pid $pid still running"
done
pass

echo "$PASSED passed, 0 failed"
