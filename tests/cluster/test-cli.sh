#!/usr/bin/env bash
# test-cli.sh — the real binary on a real Redis Cluster (3 masters, 3
# replicas, cluster.sh), given the address of one node: cluster mode is
# detected from the node; 20 sandboxes are written and their namespaces
# spread over all three masters (the slot of each namespace's hash tag);
# get, ls, stats, export of every sandbox, check and prune work across the
# nodes; a database number other than 0 is invalid_argument (exit 2) and
# nothing sends SELECT; a list of seed nodes whose first is down still
# opens the store; two servers given two different nodes share the data;
# an import that spans sandboxes is written one namespace at a time (each
# namespace in its own slot), reported per namespace, never a cross-slot
# script; a namespace over its quota is reported as failed, those before
# it written, none after it.
. "$(dirname "$0")/../redis/lib.sh"
. "$(dirname "$0")/cluster.sh"
# lib.sh's EXIT trap (servers, $TMP) plus the cluster's.
trap 'cleanup; cluster_stop' EXIT

cluster_start "$TMP/cluster" || fail "the cluster did not start"
BACKEND=$CLUSTER_URL
P=("${CLUSTER_PORTS[@]}")

t "20 sandboxes written through one node"
for i in $(seq 1 20); do
    printf 'value %s' "$i" >"$TMP/v$i"
    akv --sandbox "sb$i" put task "k$i" "$TMP/v$i"
    expect_rc 0
done
pass

t "their namespaces are spread over the three masters"
for m in $(cluster_masters); do
    n=$(redis-cli -p "$m" --scan --pattern 'akv:{*}:v' | wc -l)
    [ "$n" -gt 0 ] || fail "master $m holds no namespace"
done
# No store-wide registry key any more.
[ "$(redis-cli -c -p "${P[0]}" exists akv:ns)" = 0 ] || fail "akv:ns exists"
pass

t "get and ls of every sandbox through another node"
BACKEND="redis://127.0.0.1:${P[3]}"
for i in $(seq 1 20); do
    akv --sandbox "sb$i" get task "k$i"
    expect_rc 0
    [ "$(cat "$OUT")" = "value $i" ] || fail "sb$i: got $(cat "$OUT")"
done
akv --sandbox sb7 ls task
expect_rc 0
grep -q '^k7 ' "$OUT" || fail "ls: $(cat "$OUT")"
pass

t "stats, export of all sandboxes, check, prune visit every node"
akv --sandbox sb5 --json stats
expect_rc 0
# Entries are the sandbox's; hits are the whole store's (the 20 reads
# above, from counter shards on several masters).
json_check "d['task']['entries'] == 1 and d['task']['hits'] == 20" "$OUT"
akv export --all-sandboxes
expect_rc 0
[ "$(wc -l <"$OUT")" -eq 20 ] || fail "export: $(wc -l <"$OUT") lines"
akv check
expect_rc 0
grep -q 'checked 20 entries, 0 failed' "$OUT" || fail "check: $(cat "$OUT")"
akv prune --all-sandboxes
expect_rc 0
pass

t "an import that spans sandboxes writes each one and says so"
"$PY" "$(dirname "$0")/../helpers/import-lines.py" "$TMP/two.jsonl" \
    imp-a:20 imp-b:20 imp-c:3000 imp-d:20 || fail "writing the import file"
head -n 2 "$TMP/two.jsonl" >"$TMP/ab.jsonl"
# The two namespaces hash to two different slots ({3:imp-a}, {3:imp-b}):
# one script over both would be CROSSSLOT.
[ "$(redis-cli -p "${P[0]}" cluster keyslot '{3:imp-a}')" != \
  "$(redis-cli -p "${P[0]}" cluster keyslot '{3:imp-b}')" ] || fail "same slot"
crossslot() {
    for p in $(cluster_masters); do
        redis-cli -p "$p" info errorstats |
            sed -n 's/^errorstat_CROSSSLOT:count=\([0-9]*\).*/\1/p'
    done | awk '{ n += $1 } END { print n + 0 }'
}
before=$(crossslot)
akv import "$TMP/ab.jsonl"
expect_rc 0
grep -qx 'imported 2 entries (imp-a/task: 1, imp-b/task: 1)' "$ERR" ||
    fail "report: $(cat "$ERR")"
for sb in imp-a imp-b; do
    akv --sandbox "$sb" get task x
    expect_rc 0
    grep -q "^value of $sb" "$OUT" || fail "$sb: got $(cat "$OUT")"
done
[ "$(crossslot)" = "$before" ] || fail "a CROSSSLOT reply"
pass

t "a namespace that fails is reported, those before it written, none after"
printf '[scope.task]\nquota = 2KiB\n' >"$TMP/q.ini"
akv --config "$TMP/q.ini" --json import "$TMP/two.jsonl"
expect_rc 3
grep -q 'quota_exceeded: import of imp-c/task failed: .*2 of 4 namespaces written' "$ERR" ||
    fail "message: $(cat "$ERR")"
json_check "[(n['sandbox'], n['status']) for n in d['namespaces']] == [('imp-a', 'written'), ('imp-b', 'written'), ('imp-c', 'failed'), ('imp-d', 'not_tried')] and d['imported'] == 2 and d['namespaces'][2]['error']['code'] == 'quota_exceeded'" "$OUT"
for sb in imp-c imp-d; do
    akv --sandbox "$sb" get task x
    expect_rc 1
done
pass

t "a database other than 0 on a cluster is invalid_argument"
BACKEND="$CLUSTER_URL/1"
akv --sandbox sb1 get task k1
expect_rc 2
grep -q 'invalid_argument: .*Redis Cluster.*database 0' "$ERR" ||
    fail "message: $(cat "$ERR")"
pass

t "a seed list whose first node is down opens the store"
DEAD=$(redis_free_port)
BACKEND="redis://127.0.0.1:$DEAD,127.0.0.1:${P[1]},127.0.0.1:${P[2]}"
akv --sandbox sb3 get task k3
expect_rc 0
[ "$(cat "$OUT")" = "value 3" ] || fail "got $(cat "$OUT")"
pass

t "two servers on two different nodes share the data"
ADMIN=$(new_token admin)
BACKEND="redis://127.0.0.1:${P[0]}"
start_server A
BACKEND="redis://127.0.0.1:${P[4]}"
start_server B
on A; req GET /readyz; expect_status 200
on B; req GET /readyz; expect_status 200
for i in $(seq 1 10); do
    on A
    areq PUT "/v1/sandboxes/web$i/kv/task/note" --data-binary "from A $i"
    expect_status 201
done
for i in $(seq 1 10); do
    on B
    areq GET "/v1/sandboxes/web$i/kv/task/note"
    expect_status 200
    [ "$(cat "$BODY")" = "from A $i" ] || fail "B read $(cat "$BODY")"
done
pass

t "no SELECT reached any master"
# (Replicas do count SELECT: their masters' replication stream has it.)
for p in $(cluster_masters); do
    n=$(redis-cli -p "$p" info commandstats | grep -c '^cmdstat_select:')
    [ "$n" = 0 ] || fail "node $p saw SELECT"
done
pass

stop_server A
stop_server B
finish
