#!/usr/bin/env bash
# test-failover.sh — kill -9 of a master under load (SPEC.md §8): a server
# on a 3-master + 3-replica cluster, writes waiting for one replica
# (?wait=1), a writer recording every write the server acknowledged; the
# master that holds one sandbox's namespace is killed and its replica is
# promoted by the cluster. The same server (no restart) then serves that
# sandbox's entries again within a few seconds of the promotion; its
# writes are refused (503, naming the missing replica) while the promoted
# master has no replica of its own, and accepted again once the killed
# node is back (it rejoins as the new master's replica). Afterwards every
# acknowledged write is found. A second server that does not wait for
# replicas writes to the sandbox again by itself after the promotion.
# Prints the promotion and recovery times and the acknowledged/found
# counts.
. "$(dirname "$0")/../redis/lib.sh"
. "$(dirname "$0")/cluster.sh"
WRITER=""
trap '[ -n "$WRITER" ] && kill "$WRITER" 2>/dev/null; cleanup; cluster_stop' EXIT

cluster_start "$TMP/cluster" || fail "the cluster did not start"
P=("${CLUSTER_PORTS[@]}")
BACKEND="redis://127.0.0.1:${P[0]},127.0.0.1:${P[1]},127.0.0.1:${P[2]}?wait=1&wait_timeout=500ms&timeout=1s"
ADMIN=$(new_token admin)
start_server A
# A second server on the same cluster that does not wait for replicas:
# how soon after the promotion a write is accepted again.
BACKEND_A=$BACKEND
BACKEND="redis://127.0.0.1:${P[0]},127.0.0.1:${P[1]},127.0.0.1:${P[2]}?timeout=1s"
start_server B
BACKEND=$BACKEND_A
on B
areq PUT /v1/sandboxes/f3/kv/task/b-first --data-binary b-first
expect_status 201
on A

t "the server is ready; writes wait for a replica"
req GET /readyz
expect_status 200
areq PUT /v1/sandboxes/f0/kv/task/first --data-binary first
expect_status 201
pass

# The writer: sandboxes f0..f5, one PUT after the other; each key the
# server acknowledged (201) is appended to $ACKED.
ACKED="$TMP/acked"
STOP="$TMP/stop"
: >"$ACKED"
(
    i=0
    while [ ! -e "$STOP" ]; do
        i=$((i + 1))
        sb=f$((i % 6))
        code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 10 -X PUT \
            -H "Authorization: Bearer $ADMIN" --data-binary "value $i" \
            "$URL/v1/sandboxes/$sb/kv/task/k$i")
        [ "$code" = 201 ] && echo "$sb k$i" >>"$ACKED"
    done
) &
WRITER=$!

t "the writer is under way"
for i in $(seq 1 100); do
    [ "$(wc -l <"$ACKED")" -ge 30 ] && break
    sleep 0.1
done
[ "$(wc -l <"$ACKED")" -ge 30 ] || fail "only $(wc -l <"$ACKED") writes acknowledged"
pass

t "kill -9 of the master that holds sandbox f3's task namespace"
OWNER=""
for m in $(cluster_masters); do
    [ "$(redis-cli -p "$m" exists 'akv:{3:f3}:v')" = 1 ] && OWNER=$m
done
[ -n "$OWNER" ] || fail "no master holds akv:{3:f3}:v"
T_KILL=$(now_ms)
cluster_kill "$OWNER"
pass

t "its replica is promoted"
PROMOTED=0
for i in $(seq 1 300); do
    if [ "$(cluster_masters | wc -l)" -eq 3 ] && cluster_wait_ok 1; then
        PROMOTED=1
        break
    fi
    sleep 0.1
done
[ "$PROMOTED" = 1 ] || fail "no replica took over within 30 s"
T_PROMOTED=$(now_ms)
pass

t "the same server reads f3 again by itself"
F3KEY=$(grep '^f3 ' "$ACKED" | head -n 1 | cut -d' ' -f2)
[ -n "$F3KEY" ] || fail "no write to f3 was acknowledged before the kill"
RECOVERED=0
for i in $(seq 1 300); do
    areq GET "/v1/sandboxes/f3/kv/task/$F3KEY" --max-time 5
    if [ "$STATUS" = 200 ]; then
        RECOVERED=1
        break
    fi
    sleep 0.1
done
T_RECOVERED=$(now_ms)
[ "$RECOVERED" = 1 ] || fail "f3 not readable within 30 s of the promotion (last $STATUS)"
pass

t "a server that does not wait for replicas writes to f3 again by itself"
on B
WROTE=0
for i in $(seq 1 300); do
    areq PUT /v1/sandboxes/f3/kv/task/b-after --data-binary "b-after" --max-time 5
    if [ "$STATUS" = 200 ] || [ "$STATUS" = 201 ]; then
        WROTE=1
        break
    fi
    sleep 0.1
done
T_WROTE=$(now_ms)
[ "$WROTE" = 1 ] || fail "no write to f3 through B within 30 s of the promotion (last $STATUS)"
areq GET /v1/sandboxes/f3/kv/task/b-first
expect_status 200
on A
req GET /readyz
expect_status 200
pass

t "writes to f3 wait for a replica the promoted master does not have yet"
areq PUT /v1/sandboxes/f3/kv/task/during --data-binary during
expect_status 503
grep -q 'replicas confirmed' "$BODY" || fail "message: $(cat "$BODY")"
pass

t "the killed node rejoins as a replica: writes to f3 are accepted again"
cluster_restart "$OWNER"
T_RESTART=$(now_ms)
WRITABLE=0
for i in $(seq 1 300); do
    areq PUT /v1/sandboxes/f3/kv/task/after --data-binary after --max-time 5
    if [ "$STATUS" = 201 ] || [ "$STATUS" = 200 ]; then
        WRITABLE=1
        break
    fi
    sleep 0.1
done
T_WRITABLE=$(now_ms)
[ "$WRITABLE" = 1 ] || fail "no write to f3 accepted within 30 s of the restart (last $STATUS)"
pass

# A few more writes through the new master, then stop the writer.
N0=$(wc -l <"$ACKED")
for i in $(seq 1 100); do
    [ "$(wc -l <"$ACKED")" -ge $((N0 + 20)) ] && break
    sleep 0.1
done
touch "$STOP"
wait "$WRITER"

t "every acknowledged write is found"
ACK=$(wc -l <"$ACKED")
FOUND=0
while read -r sb key; do
    areq GET "/v1/sandboxes/$sb/kv/task/$key"
    if [ "$STATUS" = 200 ] && [ "$(cat "$BODY")" = "value ${key#k}" ]; then
        FOUND=$((FOUND + 1))
    else
        echo "lost: $sb/$key ($STATUS)" >&2
    fi
done <"$ACKED"
[ "$FOUND" -eq "$ACK" ] || fail "$FOUND of $ACK acknowledged writes found"
pass

echo "failover: promotion $((T_PROMOTED - T_KILL)) ms after kill -9;" \
    "the moved namespace served again $((T_RECOVERED - T_PROMOTED)) ms" \
    "after the promotion, written again (wait=0) $((T_WROTE - T_PROMOTED)) ms" \
    "after it; writes (wait=1) again $((T_WRITABLE - T_RESTART))" \
    "ms after the old master restarted; $ACK acknowledged, $FOUND found"
stop_server A
stop_server B
finish
