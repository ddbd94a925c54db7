#!/usr/bin/env bash
# test-failure.sh — the Redis backend when Redis is not there, goes away,
# comes back, or stops answering (SPEC.md §2: `unavailable`, HTTP 503, CLI
# exit 6):
#   - Redis down: CLI commands exit 6 at once, naming the address (never the
#     password); `serve` starts anyway, /healthz 200, /readyz and data
#     routes 503, and it becomes ready by itself when Redis starts;
#   - Redis stopped (SIGTERM) or killed (SIGKILL) while a server runs: 503
#     meanwhile, then the same server process serves again with every
#     acknowledged write still there (append-only file, fsync always);
#   - Redis frozen (SIGSTOP): commands time out (`?timeout=300ms`, default
#     2 s) and answer unavailable instead of hanging; after SIGCONT the
#     replies that arrive late are never handed to a later request;
#   - the server neither crashes nor hangs nor mixes up answers when Redis
#     is killed and restarted under concurrent load;
#   - Redis at maxmemory (noeviction): writes are unavailable, reads go on,
#     from running servers and from new processes alike;
#   - a value altered inside Redis is never served (integrity_error);
#   - a wrong password is unavailable and never echoed; the ACL rule of
#     docs/operations.md is enough for every command; a database holding
#     another store format is refused and left alone.
# Every CLI call runs under `timeout`, every request under curl --max-time:
# a hang fails the test, it cannot block it.
. "$(dirname "$0")/lib.sh"

ADMIN=$(new_token admin)

# ---- Redis down from the start ---------------------------------------------

PORT=$(redis_free_port)
BACKEND="redis://127.0.0.1:$PORT/0"

t "CLI put with Redis down: unavailable, exit 6, one line naming the address"
printf 'v' >"$TMP/v"
akv put task k "$TMP/v"
expect_rc 6
[ "$(wc -l <"$ERR")" -eq 1 ] && grep -q "^agentkv: unavailable: .*127\.0\.0\.1:$PORT" "$ERR" ||
    fail "expected one 'agentkv: unavailable: …127.0.0.1:$PORT…' line"
pass
[ "$ELAPSED" -lt 5000 ] || fail "a refused connection took ${ELAPSED} ms"
pass

t "CLI get, ls, stats, export with Redis down: exit 6"
for cmd in "get task k" "ls task" "stats" "export"; do
    akv $cmd
    expect_rc 6
    grep -q "^agentkv: unavailable: .*127\.0\.0\.1:$PORT" "$ERR" || fail "$cmd: message"
    pass
done

t "the password of the URL is never printed"
BACKEND="redis://:s3cr3t-pw@127.0.0.1:$PORT/0"
akv get task k
expect_rc 6
! grep -q s3cr3t-pw "$ERR" || fail "the password is in the message"
pass
BACKEND="redis://127.0.0.1:$PORT/0"

t "a malformed URL is invalid_argument (exit 2), not unavailable"
for bad in "redis://127.0.0.1:notaport/0" "redis://127.0.0.1:$PORT/x" \
    "redis://127.0.0.1:$PORT/0?timeout=soon"; do
    BACKEND=$bad
    akv get task k
    expect_rc 2
    grep -q '^agentkv: invalid_argument: ' "$ERR" || fail "$bad: message"
    pass
done
BACKEND="redis://127.0.0.1:$PORT/0"

t "serve with Redis down starts: /healthz 200, /readyz and data routes 503"
start_server S
req GET /healthz
expect_status 200
req GET /readyz
expect_error 503 unavailable
areq GET /v1/sandboxes/s/kv/task/k
expect_error 503 unavailable
areq PUT /v1/sandboxes/s/kv/task/k --data-binary v
expect_error 503 unavailable
areq GET /v1/sandboxes/s/kv/task
expect_error 503 unavailable
areq GET /v1/sandboxes/s/stats
expect_error 503 unavailable

t "when Redis starts, the same server becomes ready and serves"
redis_start "$TMP/redis" "$PORT" || fail "redis-server did not start on port $PORT"
wait_status 200 /readyz 15
head -c 3000 /dev/urandom >"$TMP/a"
areq PUT /v1/sandboxes/s/kv/task/a --data-binary @"$TMP/a"
expect_status 201
areq GET /v1/sandboxes/s/kv/task/a
expect_status 200
expect_body_file "$TMP/a"

# ---- Redis stopped and restarted under a running server --------------------

t "Redis stopped: the server answers 503, the CLI exits 6"
printf 'acknowledged before a clean stop' >"$TMP/b"
areq PUT /v1/sandboxes/s/kv/project/b --data-binary @"$TMP/b"
expect_status 201
redis_stop
wait_status 503 /readyz 10
areq GET /v1/sandboxes/s/kv/project/b
expect_error 503 unavailable
akv --sandbox s get project b
expect_rc 6

t "Redis restarted on the same port: the same server serves the data again"
redis_start "$TMP/redis" "$PORT" || fail "redis-server did not restart"
wait_status 200 /readyz 15
areq GET /v1/sandboxes/s/kv/project/b
expect_status 200
expect_body_file "$TMP/b"
areq GET /v1/sandboxes/s/kv/task/a
expect_status 200
expect_body_file "$TMP/a"
akv --sandbox s get project b
expect_rc 0
cmp -s "$OUT" "$TMP/b" || fail "the CLI read other bytes"
pass

t "Redis killed (SIGKILL) right after an acknowledged write: the write survives"
head -c 5000 /dev/urandom >"$TMP/c"
areq PUT '/v1/sandboxes/s/kv/artifacts/c?ttl=7d' --data-binary @"$TMP/c" -H 'Content-Type: image/x-test'
expect_status 201
redis_kill
areq GET /v1/sandboxes/s/kv/artifacts/c
expect_error 503 unavailable
redis_start "$TMP/redis" "$PORT" || fail "redis-server did not restart after SIGKILL"
wait_status 200 /readyz 15
areq GET /v1/sandboxes/s/kv/artifacts/c
expect_status 200
expect_body_file "$TMP/c"
expect_header Content-Type image/x-test
expect_header X-Agentkv-Version 1

t "Redis killed and restarted under load: no crash, no hang, no mixed-up answer"
# Eight clients, each writing then reading its own key for 3 s on one
# keep-alive connection; Redis is killed after 1 s and restarted 0.5 s
# later. Every answer must be a well-formed success or 503, and a read
# right after an acknowledged write of one's own key returns that write.
"$PY" - "$URL" "$ADMIN" 3 >"$TMP/load.out" 2>&1 <<'PYEOF' &
import http.client, sys, threading, time, urllib.parse
url, tok, secs = sys.argv[1], sys.argv[2], float(sys.argv[3])
host = urllib.parse.urlparse(url)
H = {"Authorization": "Bearer " + tok}
errors, counts, lock = [], {}, threading.Lock()
def note(k):
    with lock:
        counts[k] = counts.get(k, 0) + 1
def client(t):
    c = http.client.HTTPConnection(host.hostname, host.port, timeout=10)
    path = "/v1/sandboxes/load/kv/task/k%d" % t
    deadline, n, acked = time.time() + secs, 0, False
    try:
        while time.time() < deadline:
            n += 1
            body = b"client %d write %d" % (t, n)
            c.request("PUT", path, body=body, headers=H)
            r = c.getresponse(); r.read()
            note("PUT %d" % r.status)
            if r.status not in (200, 201, 503):
                errors.append("PUT %s: %d" % (path, r.status)); return
            ok = r.status in (200, 201)
            acked = acked or ok
            c.request("GET", path, headers=H)
            r = c.getresponse(); got = r.read()
            note("GET %d" % r.status)
            if r.status == 200 and ok and got != body:
                errors.append("GET %s after write %d returned %r" % (path, n, got[:60])); return
            if r.status not in (200, 503) and not (r.status == 404 and not acked):
                errors.append("GET %s: %d" % (path, r.status)); return
    except Exception as e:
        errors.append("client %d: %r" % (t, e))
ts = [threading.Thread(target=client, args=(i,)) for i in range(8)]
for x in ts: x.start()
for x in ts: x.join()
print(sorted(counts.items()))
for e in errors: print(e)
sys.exit(1 if errors else 0)
PYEOF
LOAD_PID=$!
sleep 1
redis_kill
sleep 0.5
redis_start "$TMP/redis" "$PORT" || fail "redis-server did not restart under load"
wait "$LOAD_PID"
RC=$?
LAST="load during a Redis kill: $(head -c 600 "$TMP/load.out")"
[ "$RC" -eq 0 ] || fail "the load clients saw errors"
pass
grep -q "'PUT 503'" "$TMP/load.out" || fail "the kill did not show (no 503 during the load)"
pass
kill -0 "${SPID[S]}" 2>/dev/null || fail "the server died"
pass
wait_status 200 /readyz 15
areq GET /v1/sandboxes/s/kv/artifacts/c
expect_status 200
expect_body_file "$TMP/c"

stop_server S

# ---- Redis frozen: command timeouts ----------------------------------------

BACKEND="redis://127.0.0.1:$PORT/0?timeout=300ms"
start_server T
printf 'value of a' >"$TMP/va"
printf 'value of b, which is longer' >"$TMP/vb"
areq PUT /v1/sandboxes/f/kv/task/a --data-binary @"$TMP/va"
expect_status 201
areq PUT /v1/sandboxes/f/kv/task/b --data-binary @"$TMP/vb"
expect_status 201

kill -STOP "$REDIS_PID"

t "Redis frozen: CLI with ?timeout=300ms exits 6 well within the default 2 s"
akv --sandbox f get task a
expect_rc 6
grep -q '^agentkv: unavailable: ' "$ERR" || fail "expected an unavailable message"
pass
[ "$ELAPSED" -lt 1800 ] || fail "took ${ELAPSED} ms with a 300 ms timeout"
pass

t "Redis frozen: CLI with the default timeout gives up after about 2 s"
BACKEND="redis://127.0.0.1:$PORT/0"
akv --sandbox f put task z "$TMP/va"
expect_rc 6
[ "$ELAPSED" -ge 1500 ] && [ "$ELAPSED" -lt 10000 ] ||
    fail "took ${ELAPSED} ms; expected about the 2 s default"
pass
BACKEND="redis://127.0.0.1:$PORT/0?timeout=300ms"

t "Redis frozen: the server answers 503 within a few seconds, /healthz stays 200"
for path in /v1/sandboxes/f/kv/task/a /v1/sandboxes/f/kv/task/b /v1/sandboxes/f/kv/task; do
    t0=$(now_ms)
    areq GET "$path"
    took=$(( $(now_ms) - t0 ))
    expect_error 503 unavailable
    [ "$took" -lt 5000 ] || fail "GET $path took $took ms"
    pass
done
areq PUT /v1/sandboxes/f/kv/task/c --data-binary 'written while frozen'
expect_error 503 unavailable
req GET /readyz
expect_error 503 unavailable
req GET /healthz
expect_status 200

t "Redis frozen: concurrent requests all answer 503, none hangs"
cfg="$TMP/frozen.cfg"
: >"$cfg"
for i in $(seq 1 8); do
    k=a; [ $((i % 2)) -eq 0 ] && k=b
    printf 'url = "%s/v1/sandboxes/f/kv/task/%s"\noutput = "/dev/null"\n' "$URL" "$k" >>"$cfg"
done
LAST="8 parallel GETs while frozen"
curl -s --no-progress-meter -Z --parallel-immediate --max-time 10 \
    -H "Authorization: Bearer $ADMIN" -w '%{http_code}\n' -K "$cfg" >"$TMP/frozen.status"
[ "$(grep -c '^503$' "$TMP/frozen.status")" -eq 8 ] ||
    fail "expected 8 × 503: $(sort "$TMP/frozen.status" | uniq -c)"
pass

kill -CONT "$REDIS_PID"

t "Redis continued: the server serves again, each key its own bytes"
wait_status 200 /readyz 15
for i in 1 2 3 4 5 6; do
    areq GET /v1/sandboxes/f/kv/task/b
    expect_status 200
    expect_body_file "$TMP/vb"
    areq GET /v1/sandboxes/f/kv/task/a
    expect_status 200
    expect_body_file "$TMP/va"
done
areq GET /v1/sandboxes/f/kv/task/b
expect_header ETag "\"$(sha256sum "$TMP/vb" | cut -d' ' -f1)\""
akv --sandbox f get task b
expect_rc 0
cmp -s "$OUT" "$TMP/vb" || fail "the CLI read other bytes"
pass

t "the write that timed out is whole or absent, never torn"
# The PUT was sent before Redis froze its replies, so it may have been
# applied after SIGCONT: an unavailable write is of unknown outcome. It
# must not be half applied.
areq GET /v1/sandboxes/f/kv/task/c
case "$STATUS" in
200) expect_body 'written while frozen'; expect_header X-Agentkv-Version 1 ;;
404) expect_error 404 not_found ;;
*) fail "expected 200 or 404" ;;
esac
akv check
expect_rc 0

# ---- Redis full, bytes altered in Redis ----------------------------------------

t "Redis at maxmemory (noeviction): writes are unavailable naming maxmemory, reads go on"
BACKEND="redis://127.0.0.1:$PORT/0?timeout=2s"
used=$(redis-cli -p "$PORT" info memory | sed -n 's/^used_memory:\([0-9]*\).*/\1/p')
[ -n "$used" ] || fail "no used_memory from redis"
redis-cli -p "$PORT" config set maxmemory $((used + 300000)) >/dev/null
head -c 2000000 /dev/urandom >"$TMP/2m"
akv --sandbox f put task big "$TMP/2m"
expect_rc 6
grep -q '^agentkv: unavailable: .*maxmemory' "$ERR" || fail "expected a message naming maxmemory"
pass
areq PUT /v1/sandboxes/f/kv/task/big --data-binary @"$TMP/2m"
expect_error 503 unavailable
areq GET /v1/sandboxes/f/kv/task/a
expect_status 200
expect_body_file "$TMP/va"
# A new process opens new connections: reading must not need a write.
akv --sandbox f get task a
expect_rc 0
cmp -s "$OUT" "$TMP/va" || fail "the CLI read other bytes"
pass
akv --sandbox f get task big
expect_rc 1
redis-cli -p "$PORT" config set maxmemory 0 >/dev/null
akv --sandbox f put task big "$TMP/2m"
expect_rc 0

t "a value altered inside Redis is never served: get exit 5, HTTP 500, check exit 5"
# Flips the last byte of the stored record of f/task/b, that is of its
# value (key layout: the comment at the top of src/lib/backend-redis.c).
flip='local b = redis.call("HGET", KEYS[1], ARGV[1])
if not b then return 0 end
local n = #b
redis.call("HSET", KEYS[1], ARGV[1], string.sub(b, 1, n - 1) .. string.char((string.byte(b, n) + 1) % 256))
return 1'
[ "$(redis-cli -p "$PORT" eval "$flip" 1 'akv:{3:f}:v' b)" = 1 ] ||
    fail "test set-up: no record f/task/b where the key layout says"
pass
akv --sandbox f get task b
expect_rc 5
[ ! -s "$OUT" ] || fail "altered bytes were printed"
pass
areq GET /v1/sandboxes/f/kv/task/b
expect_error 500 integrity_error
akv check
expect_rc 5
grep -qx 'f/task/b' "$OUT" || fail "check does not name f/task/b"
pass
akv --sandbox f del task b
expect_rc 0
akv check
expect_rc 0

# ---- authentication ----------------------------------------------------------

t "a Redis that requires a password: wrong or missing password is exit 6, not echoed"
redis-cli -p "$PORT" config set requirepass 'pw-ok-1' >/dev/null || fail "config set requirepass"
BACKEND="redis://127.0.0.1:$PORT/0?timeout=300ms"
akv --sandbox f get task a
expect_rc 6
BACKEND="redis://:wrong-pw-2@127.0.0.1:$PORT/0?timeout=300ms"
akv --sandbox f get task a
expect_rc 6
! grep -q wrong-pw-2 "$ERR" || fail "the password is in the message"
pass
t "the right password in the URL works"
BACKEND="redis://:pw-ok-1@127.0.0.1:$PORT/0?timeout=300ms"
akv --sandbox f get task a
expect_rc 0
cmp -s "$OUT" "$TMP/va" || fail "read other bytes"
pass
redis-cli -p "$PORT" -a 'pw-ok-1' --no-auth-warning config set requirepass '' >/dev/null

t "an ACL user with the commands of docs/operations.md and keys akv:* is enough"
# The same rule as the documentation's; if the backend starts using another
# command, this fails and the documentation must change with it.
redis-cli -p "$PORT" ACL SETUSER agentkv on '>pw-acl-3' resetkeys '~akv:*' \
    resetchannels -@all +select +get +set +setnx +hincrby +hgetall +zadd \
    +zrangebylex +eval +evalsha +hget +hset +hdel +hmget +hlen +hvals +zrem \
    +zrangebyscore +del +scan >/dev/null || fail "ACL SETUSER"
BACKEND="redis://agentkv:pw-acl-3@127.0.0.1:$PORT/2?timeout=2s"
printf 'acl' >"$TMP/acl"
for cmd in "put task k $TMP/acl" "get task k" "ls task" "stats" "export --all-sandboxes" \
    "check" "prune --all-sandboxes" "del task k" "--sandbox _global seed"; do
    akv $cmd
    [ "$RC" -eq 0 ] || fail "'$cmd' as the ACL user: exit $RC"
    pass
done

t "a database that holds another store format is unavailable, not overwritten"
redis-cli -p "$PORT" -n 3 set akv:format 9 >/dev/null
BACKEND="redis://127.0.0.1:$PORT/3?timeout=2s"
akv put task k "$TMP/acl"
expect_rc 6
grep -q '^agentkv: unavailable: .*format' "$ERR" || fail "expected a message about the format"
pass
[ "$(redis-cli -p "$PORT" -n 3 dbsize)" = 1 ] && [ "$(redis-cli -p "$PORT" -n 3 get akv:format)" = 9 ] ||
    fail "the foreign database was changed"
pass

stop_server T
finish
