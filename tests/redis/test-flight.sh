#!/usr/bin/env bash
# test-flight.sh — a server's event loop sends the PUTs of a turn to Redis
# and does not wait for the answers (src/server/dispatch.c, struct
# put_flight): it goes on serving while Redis works on them. With a batch
# of PUTs in flight:
#   - the loop still answers (/healthz on a one-loop server, while Redis is
#     frozen with the batch unread in its socket);
#   - when the connection to Redis is lost (Redis killed), every PUT of the
#     batch, and every PUT that waited behind it, is answered 503
#     unavailable with a message: none is acknowledged, none is applied,
#     none hangs;
#   - the same server serves again once Redis is back, every acknowledged
#     write still there.
# A flight that times out (Redis frozen past ?timeout=) is covered by
# test-failure.sh.
. "$(dirname "$0")/lib.sh"

command -v ss >/dev/null || fail "ss (iproute2) is needed (make deps)"
redis_start "$TMP/redis" || fail "redis-server did not start"
ADMIN=$(new_token admin)
# A long timeout: here the flight must end by the lost connection.
BACKEND="$REDIS_URL?timeout=60s"
start_server S --threads 1

t "a PUT before: acknowledged"
printf 'written before' >"$TMP/before"
areq PUT /v1/sandboxes/fl/kv/task/before --data-binary @"$TMP/before"
expect_status 201

kill -STOP "$REDIS_PID"

# 12 concurrent PUTs: the first of them go to Redis as a batch and stay
# unread in its socket; the others wait behind that flight.
"$PY" - "${URL#http://}" "$ADMIN" >"$TMP/puts.out" 2>&1 <<'EOF' &
import http.client, json, sys, threading
host, port = sys.argv[1].split(":")
token = sys.argv[2]
out, lock = [], threading.Lock()

def put(i):
    try:
        c = http.client.HTTPConnection(host, int(port), timeout=120)
        c.request("PUT", "/v1/sandboxes/fl/kv/task/k%d" % i, body=b"value %d" % i,
                  headers={"Authorization": "Bearer " + token})
        r = c.getresponse()
        body = r.read()
        try:
            err = json.loads(body)["error"]
            what = "%s %s" % (err["code"], err["message"])
        except Exception:
            what = "no error body: %r" % body[:80]
        line = "%d %d %s" % (i, r.status, what)
    except Exception as e:
        line = "%d exception %r" % (i, e)
    with lock:
        out.append(line)

ts = [threading.Thread(target=put, args=(i,)) for i in range(12)]
for t in ts: t.start()
for t in ts: t.join()
print("\n".join(sorted(out)))
EOF
PUTS=$!

t "a batch of PUTs reaches the frozen Redis (bytes unread in its socket)"
LAST="ss: Recv-Q of Redis' connections"
inflight=0
for i in $(seq 1 400); do
    q=$(ss -Htn state established "( sport = :$REDIS_PORT )" | awk '{ s += $1 } END { print s + 0 }')
    [ "$q" -gt 0 ] && { inflight=1; break; }
    sleep 0.05
done
[ "$inflight" = 1 ] || fail "no PUT reached Redis' socket"
pass

t "the one loop serves while the batch is in flight"
req GET /healthz
expect_status 200
kill -0 "$PUTS" 2>/dev/null || fail "the PUTs were answered while Redis was frozen: $(cat "$TMP/puts.out")"
pass

t "Redis killed with the batch in flight: every PUT 503 unavailable, none hangs"
redis_kill
LAST="12 concurrent PUTs"
wait "$PUTS" || fail "the PUT client failed: $(cat "$TMP/puts.out")"
[ "$(grep -c '^[0-9]* 503 unavailable writing entry: ' "$TMP/puts.out")" -eq 12 ] ||
    fail "expected 12 × '503 unavailable writing entry: …': $(cat "$TMP/puts.out")"
pass
! grep -q ' 20[01] ' "$TMP/puts.out" || fail "a PUT was acknowledged: $(cat "$TMP/puts.out")"
pass

t "Redis back: the server serves again; none of the 12 was applied"
redis_start "$TMP/redis" "$REDIS_PORT" || fail "redis-server did not restart"
wait_status 200 /readyz 15
for i in $(seq 0 11); do
    areq GET "/v1/sandboxes/fl/kv/task/k$i"
    expect_error 404 not_found
done
areq GET /v1/sandboxes/fl/kv/task/before
expect_status 200
expect_body_file "$TMP/before"

t "and writes again"
printf 'written after' >"$TMP/after"
areq PUT /v1/sandboxes/fl/kv/task/k0 --data-binary @"$TMP/after"
expect_status 201
areq GET /v1/sandboxes/fl/kv/task/k0
expect_status 200
expect_body_file "$TMP/after"
kill -0 "${SPID[S]}" 2>/dev/null || fail "the server died"
pass
stop_server S
finish
