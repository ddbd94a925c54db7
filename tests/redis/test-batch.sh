#!/usr/bin/env bash
# test-batch.sh — on a remote store the server reads the GETs of one
# event-loop turn together (one akv_get_many, one pipelined Redis round
# trip). Many concurrent keep-alive clients on one event thread, so that
# batches are large, read a mix of keys: present ones with distinct values,
# missing ones, overlay reads that fall through to _global, a damaged
# record, conditional GETs (304) and HEADs, through a token that may read
# only some sandboxes. Every answer must be the one for its own request:
# status, body, ETag, origin — nothing swapped, lost or mixed between the
# requests of a batch.
. "$(dirname "$0")/lib.sh"

redis_start "$TMP/redis" || fail "redis-server did not start"
BACKEND=$REDIS_URL
ADMIN=$(new_token admin)
AGENT=$(new_token agent 'sb*')
[ -n "$ADMIN" ] && [ -n "$AGENT" ] || fail "no tokens created"
start_server S --threads 1

t "fill: 60 task entries over 3 sandboxes, _global instructions, one damaged"
for sb in sb1 sb2 other; do
    for i in $(seq 0 19); do
        printf 'value of %s/k%d %s' "$sb" "$i" "$(head -c $((i * 37)) /dev/zero | tr '\0' x)" >"$TMP/v"
        areq PUT "/v1/sandboxes/$sb/kv/task/k$i" --data-binary @"$TMP/v"
        expect_status 201
    done
done
printf 'global guide' >"$TMP/v"
areq PUT /v1/sandboxes/_global/kv/instructions/guide --data-binary @"$TMP/v"
expect_status 201
printf 'own guide of sb2' >"$TMP/v"
areq PUT /v1/sandboxes/sb2/kv/instructions/guide --data-binary @"$TMP/v"
expect_status 201
printf 'to be damaged' >"$TMP/v"
areq PUT /v1/sandboxes/sb1/kv/task/bad --data-binary @"$TMP/v"
expect_status 201
# Flip the last byte of the stored record: its SHA-256 no longer fits.
"$PY" - "$REDIS_PORT" <<'EOF' || fail "could not damage the record"
import socket, sys
def cmd(s, *args):
    out = b"*%d\r\n" % len(args)
    for a in args:
        out += b"$%d\r\n%s\r\n" % (len(a), a)
    s.sendall(out)
def reply(f):
    line = f.readline()
    if line[:1] == b"$":
        n = int(line[1:])
        data = f.read(n + 2)[:-2]
        return data
    return line
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
f = s.makefile("rb")
cmd(s, b"HGET", b"akv:{3:sb1}:v", b"bad")
rec = reply(f)
rec = rec[:-1] + bytes([rec[-1] ^ 0x20])
cmd(s, b"HSET", b"akv:{3:sb1}:v", b"bad", rec)
print(reply(f))
EOF
pass

t "concurrent mixed reads on one event thread: each answer is its own"
"$PY" - "${SURL[S]#http://}" "$AGENT" "$ADMIN" >"$TMP/mix.out" 2>&1 <<'EOF'
import hashlib, http.client, random, sys, threading
host, port = sys.argv[1].split(":")
agent, admin = sys.argv[2], sys.argv[3]

def value(sb, i):
    return ("value of %s/k%d " % (sb, i)).encode() + b"x" * (i * 37)

# (method, path, token, extra headers) -> expected (status, body or None, origin)
cases = []
for sb in ("sb1", "sb2"):
    for i in range(20):
        v = value(sb, i)
        etag = '"%s"' % hashlib.sha256(v).hexdigest()
        cases.append(("GET", "/v1/sandboxes/%s/kv/task/k%d" % (sb, i), agent, {}, 200, v, sb))
        cases.append(("HEAD", "/v1/sandboxes/%s/kv/task/k%d" % (sb, i), agent, {}, 200, b"", sb))
        cases.append(("GET", "/v1/sandboxes/%s/kv/task/k%d" % (sb, i), agent, {"If-None-Match": etag}, 304, b"", sb))
    cases.append(("GET", "/v1/sandboxes/%s/kv/task/missing" % sb, agent, {}, 404, None, None))
cases.append(("GET", "/v1/sandboxes/sb1/kv/instructions/guide", agent, {}, 200, b"global guide", "_global"))
cases.append(("GET", "/v1/sandboxes/sb2/kv/instructions/guide", agent, {}, 200, b"own guide of sb2", "sb2"))
cases.append(("GET", "/v1/sandboxes/sb1/kv/task/bad", agent, {}, 500, None, None))
cases.append(("GET", "/v1/sandboxes/other/kv/task/k1", agent, {}, 403, None, None))
cases.append(("GET", "/v1/sandboxes/other/kv/task/k3", admin, {}, 200, value("other", 3), "other"))

errors, done = [], [0]
lock = threading.Lock()

def client(seed):
    rnd = random.Random(seed)
    conn = http.client.HTTPConnection(host, int(port), timeout=20)
    for _ in range(150):
        method, path, tok, extra, status, body, origin = rnd.choice(cases)
        headers = {"Authorization": "Bearer " + tok}
        headers.update(extra)
        conn.request(method, path, headers=headers)
        r = conn.getresponse()
        got = r.read()
        bad = None
        if r.status != status:
            bad = "status %d, expected %d" % (r.status, status)
        elif body is not None and got != body:
            bad = "body %r, expected %r" % (got[:60], body[:60])
        elif origin and r.getheader("X-Agentkv-Origin") != origin:
            bad = "origin %s, expected %s" % (r.getheader("X-Agentkv-Origin"), origin)
        elif status == 200 and method == "GET" and r.getheader("ETag") != '"%s"' % hashlib.sha256(body).hexdigest():
            bad = "ETag %s does not fit the body" % r.getheader("ETag")
        elif status >= 400 and b'"error"' not in got:
            bad = "error body %r" % got[:80]
        with lock:
            done[0] += 1
            if bad:
                errors.append("%s %s: %s" % (method, path, bad))
    conn.close()

ts = [threading.Thread(target=client, args=(i,)) for i in range(24)]
for t in ts: t.start()
for t in ts: t.join()
print("requests:", done[0], "wrong answers:", len(errors))
for e in errors[:10]: print(e)
sys.exit(1 if errors or done[0] != 24 * 150 else 0)
EOF
RC=$?
LAST="mixed reads: $(head -c 800 "$TMP/mix.out")"
[ "$RC" -eq 0 ] || fail "wrong answers among concurrent batched reads"
pass
grep -q 'requests: 3600 wrong answers: 0' "$TMP/mix.out" || fail "not every request was answered"
pass

t "the server is still ready and counted the damaged read"
req GET /readyz
expect_status 200
req GET /metrics -H "Authorization: Bearer $ADMIN"
expect_status 200
grep -q '^agentkv_integrity_failures_total [1-9]' "$BODY" || fail "no integrity failure counted"
pass
finish
