#!/usr/bin/env bash
# test-scaleout.sh — two `agentkv serve` processes sharing one redis-server
# (SPEC.md §8: several servers on one Redis for scale-out): a write through
# one is read through the other with the same bytes, ETag, version and
# expiry; overwrites, compare-and-swap and deletes are seen across servers;
# concurrent writers through both servers get distinct versions and never
# push a namespace over its quota; one tokens file serves both, including
# SIGHUP reloads and revocation, and an agent token is confined to its
# sandbox on either server; listing pages stay exact when consecutive pages
# come from different servers while others write; expired entries (made by
# importing past expiry times, never by waiting) are invisible everywhere,
# do not count against quotas and are pruned for all; stopping one server
# leaves the other serving, and its read counters reach the shared ones.
# The same script runs on a Redis Cluster as cluster-scaleout, the two
# servers then given two different nodes.
. "$(dirname "$0")/lib.sh"

# Under tests/cluster/with-cluster.sh (cluster-scaleout) the same test runs
# on a Redis Cluster: server A on one node, B on another.
if [ -n "${AKV_TEST_CLUSTER:-}" ]; then
    IFS=, read -r -a NODES <<<"$AKV_TEST_CLUSTER"
    BACKEND="redis://${NODES[0]}"
    BACKEND_B="redis://${NODES[1]}"
    REDIS_PORT=${NODES[0]##*:}
    DBSIZE_ALL() {
        local n t=0
        for n in "${NODES[@]}"; do
            t=$((t + $(redis-cli -p "${n##*:}" dbsize)))
        done
        echo "$t"
    }
else
    redis_start "$TMP/redis" || fail "redis-server did not start"
    BACKEND=$REDIS_URL
    BACKEND_B=$REDIS_URL
    DBSIZE_ALL() { redis-cli -p "$REDIS_PORT" dbsize; }
fi

# A small task quota, so that a few concurrent 950-byte writes overflow it.
CFG="$TMP/agentkv.ini"
printf '[scope.task]\nquota = 10KiB\n' >"$CFG"
QUOTA=10240

ADMIN=$(new_token admin)
AGENT_A=$(new_token agent team-a)
[ -n "$ADMIN" ] && [ -n "$AGENT_A" ] || fail "no tokens created"

start_server A --config "$CFG"
BACKEND_A=$BACKEND
BACKEND=$BACKEND_B start_server B --config "$CFG"
[ "${SURL[A]}" != "${SURL[B]}" ] || fail "both servers on one address"

t "both servers are ready on the shared Redis"
on A; req GET /readyz; expect_status 200
on B; req GET /readyz; expect_status 200

# ---- one server writes, the other reads ------------------------------------

t "a write through A is read through B: same bytes, ETag, type, version, expiry"
head -c 4096 /dev/urandom >"$TMP/v1"
SHA1=$(sha256sum "$TMP/v1" | cut -d' ' -f1)
on A
areq PUT '/v1/sandboxes/s1/kv/artifacts/reports/q1.bin?ttl=1h' \
    -H 'Content-Type: application/x-test' -H 'X-Agentkv-Metadata: {"run":7}' \
    --data-binary @"$TMP/v1"
expect_status 201
json_check "d['sha256'] == '$SHA1' and d['version'] == 1 and d['size'] == 4096 and d['expires_at'] is not None"
EXPIRES=$("$PY" -c 'import json,sys; print(json.load(open(sys.argv[1]))["expires_at"])' "$BODY")
on B
areq GET /v1/sandboxes/s1/kv/artifacts/reports/q1.bin
expect_status 200
expect_body_file "$TMP/v1"
expect_header ETag "\"$SHA1\""
expect_header Content-Type application/x-test
expect_header X-Agentkv-Version 1
expect_header X-Agentkv-Expires-At "$EXPIRES"

t "the data lives in Redis, not in the servers' directories"
[ "$(DBSIZE_ALL)" -gt 0 ] || fail "redis holds no key"
pass
[ ! -e "$TMP/A/data.mdb" ] && [ ! -e "$TMP/B/data.mdb" ] || fail "a server opened an embedded store"
pass

t "B's listing and metadata show A's entry with its metadata"
areq GET '/v1/sandboxes/s1/kv/artifacts?prefix=reports/'
expect_status 200
json_check "[i['key'] for i in d['items']] == ['reports/q1.bin'] and d['items'][0]['metadata'] == {'run': 7} and d['items'][0]['sha256'] == '$SHA1'"

t "If-None-Match with A's ETag is 304 on B"
areq GET /v1/sandboxes/s1/kv/artifacts/reports/q1.bin -H "If-None-Match: \"$SHA1\""
expect_status 304

t "an overwrite through B is version 2 on A; a stale If-Match through A is 412"
printf 'second version' >"$TMP/v2"
SHA2=$(sha256sum "$TMP/v2" | cut -d' ' -f1)
areq PUT /v1/sandboxes/s1/kv/artifacts/reports/q1.bin --data-binary @"$TMP/v2"
expect_status 200
json_check "d['version'] == 2 and d['sha256'] == '$SHA2'"
on A
areq GET /v1/sandboxes/s1/kv/artifacts/reports/q1.bin
expect_status 200
expect_body_file "$TMP/v2"
expect_header X-Agentkv-Version 2
areq PUT /v1/sandboxes/s1/kv/artifacts/reports/q1.bin -H "If-Match: \"$SHA1\"" \
    --data-binary 'lost update'
expect_error 412 precondition_failed
on B
areq GET /v1/sandboxes/s1/kv/artifacts/reports/q1.bin
expect_body_file "$TMP/v2"
expect_header X-Agentkv-Version 2

t "If-None-Match: * through B fails on A's existing key"
areq PUT /v1/sandboxes/s1/kv/artifacts/reports/q1.bin -H 'If-None-Match: *' \
    --data-binary 'create only'
expect_error 412 precondition_failed

t "a delete through A is seen by B"
on A
areq DELETE /v1/sandboxes/s1/kv/artifacts/reports/q1.bin
expect_status 204
on B
areq GET /v1/sandboxes/s1/kv/artifacts/reports/q1.bin
expect_error 404 not_found
areq DELETE /v1/sandboxes/s1/kv/artifacts/reports/q1.bin
expect_error 404 not_found

# ---- listing pages and expiry across servers --------------------------------

# entries_jsonl SANDBOX SCOPE PREFIX N SIZE EXPIRES: N entries in export
# format (EXPIRES an RFC 3339 time or null), for `agentkv import`: the way
# to have expired entries without waiting for a TTL.
entries_jsonl() {
    "$PY" - "$@" <<'PYEOF'
import base64, hashlib, json, sys
sb, scope, prefix, n, size, exp = sys.argv[1:7]
exp = None if exp == "null" else exp
for i in range(int(n)):
    v = (b"%s%05d-" % (prefix.encode(), i)) * (int(size) // 8 + 1)
    v = v[: int(size)]
    print(json.dumps({"sandbox": sb, "scope": scope, "key": "%s%03d" % (prefix, i),
        "origin": sb, "size": len(v), "content_type": "application/octet-stream",
        "sha256": hashlib.sha256(v).hexdigest(), "version": 1,
        "created_at": "2026-01-01T00:00:00.000Z", "updated_at": "2026-01-01T00:00:00.000Z",
        "expires_at": exp, "metadata": {}, "value": base64.b64encode(v).decode()},
        separators=(",", ":")))
PYEOF
}

t "paging a 300-key listing alternately through A and B, with writes between pages"
entries_jsonl pg artifacts k/ 300 16 null >"$TMP/pg.jsonl"
akv import "$TMP/pg.jsonl"
expect_rc 0
"$PY" - "${SURL[A]}" "${SURL[B]}" "$ADMIN" <<'PYEOF' || fail "paging across servers lost, repeated or misordered keys"
import json, sys, urllib.parse, urllib.request
a, b, tok = sys.argv[1:4]
def call(base, method, path, data=None):
    r = urllib.request.Request(base + path, data=data, method=method,
                               headers={"Authorization": "Bearer " + tok})
    with urllib.request.urlopen(r, timeout=15) as resp:
        return resp.status, resp.read()
seen, cursor, page = [], None, 0
while True:
    base, other = (a, b) if page % 2 == 0 else (b, a)
    q = "?limit=40" + ("&cursor=" + urllib.parse.quote(cursor, safe="") if cursor else "")
    st, body = call(base, "GET", "/v1/sandboxes/pg/kv/artifacts" + q)
    d = json.loads(body)
    assert st == 200 and len(d["items"]) <= 40, (st, len(d["items"]))
    seen += [i["key"] for i in d["items"]]
    # Writes through the other server between pages, before and after the
    # cursor: neither may disturb the keys that are there throughout.
    st, _ = call(other, "PUT", "/v1/sandboxes/pg/kv/artifacts/n/%03d" % page, b"new")
    assert st == 201, st
    st, _ = call(other, "PUT", "/v1/sandboxes/pg/kv/artifacts/a/%03d" % page, b"new")
    assert st == 201, st
    cursor = d["next_cursor"]
    page += 1
    if cursor is None:
        break
    assert page < 100, "no end of paging"
ks = [k for k in seen if k.startswith("k/")]
ok = ks == ["k/%03d" % i for i in range(300)] and seen == sorted(seen) and len(seen) == len(set(seen))
if not ok:
    print("  pages:", page, "keys:", len(seen), "k/ keys:", len(ks), "first:", seen[:5], file=sys.stderr)
    sys.exit(1)
PYEOF
pass

t "an expired entry imported through the CLI is served by neither server"
entries_jsonl ex task old/ 1 9000 2020-01-02T00:00:00.000Z >"$TMP/ex.jsonl"
akv import "$TMP/ex.jsonl"
expect_rc 0
for n in A B; do
    on $n
    areq GET /v1/sandboxes/ex/kv/task/old/000
    expect_error 404 not_found
    areq GET /v1/sandboxes/ex/kv/task
    json_check "d['items'] == []"
    areq GET '/v1/sandboxes/ex/kv/task?include_expired=true'
    json_check "[i['key'] for i in d['items']] == ['old/000']"
    areq GET '/v1/sandboxes/ex/stats?scope=task'
    # Stored bytes: key (7) + record header (88) + content type (24) + value.
    json_check "d['task']['entries'] == 0 and d['task']['bytes'] == 0 and d['task']['expired'] == 1 and d['task']['expired_bytes'] == 7 + 88 + 24 + 9000"
done

t "an expired entry does not count against a writer (9000 expired + 5000 new, quota 10 KiB)"
on B
head -c 5000 /dev/urandom >"$TMP/v5000"
areq PUT /v1/sandboxes/ex/kv/task/new --data-binary @"$TMP/v5000"
expect_status 201
on A
areq GET '/v1/sandboxes/ex/stats?scope=task'
json_check "d['task']['entries'] == 1 and d['task']['bytes'] == 3 + 88 + 33 + 5000"

t "a prune through A removes what B saw as expired"
entries_jsonl ex2 task old/ 3 100 2020-01-02T00:00:00.000Z >"$TMP/ex2.jsonl"
akv import "$TMP/ex2.jsonl"
expect_rc 0
on B
areq GET '/v1/sandboxes/ex2/kv/task?include_expired=true'
json_check "len(d['items']) == 3"
on A
areq POST '/v1/sandboxes/ex2/prune?scope=task'
expect_status 200
json_check "d['pruned'] == {'task': 3}"
on B
areq GET '/v1/sandboxes/ex2/kv/task?include_expired=true'
json_check "d['items'] == []"

# ---- concurrency across servers --------------------------------------------

# par_put OUTDIR FILE URL... : one curl process, all PUTs in flight at once
# (up to 64), each response body in OUTDIR/N; prints "STATUS N" lines.
par_put() {
    local outdir=$1 file=$2 i=0 u
    shift 2
    mkdir -p "$outdir"
    : >"$outdir.cfg"
    for u in "$@"; do
        i=$((i + 1))
        printf 'url = "%s"\noutput = "%s/%d"\n' "$u" "$outdir" "$i" >>"$outdir.cfg"
    done
    LAST="parallel PUT of $# URLs ($1 …)"
    curl -s --no-progress-meter -Z --parallel-immediate --parallel-max 64 -X PUT --max-time 30 \
        -H "Authorization: Bearer $ADMIN" --data-binary @"$file" \
        -w '%{http_code} %{url_effective}\n' -K "$outdir.cfg"
}

t "concurrent overwrites of one key through both servers get distinct versions"
N=15
urls=()
for i in $(seq 1 $N); do
    urls+=("${SURL[A]}/v1/sandboxes/s2/kv/task/shared" "${SURL[B]}/v1/sandboxes/s2/kv/task/shared")
done
printf 'same key' >"$TMP/small"
par_put "$TMP/cw" "$TMP/small" "${urls[@]}" >"$TMP/cw.status"
[ "$(wc -l <"$TMP/cw.status")" -eq $((2 * N)) ] || fail "expected $((2 * N)) answers: $(cat "$TMP/cw.status")"
pass
[ "$(grep -c '^201 ' "$TMP/cw.status")" -eq 1 ] || fail "expected exactly one 201: $(sort "$TMP/cw.status" | uniq -c)"
pass
[ "$(grep -c '^200 ' "$TMP/cw.status")" -eq $((2 * N - 1)) ] || fail "expected $((2 * N - 1)) 200s: $(sort "$TMP/cw.status" | uniq -c)"
pass
"$PY" - "$TMP/cw" $((2 * N)) <<'EOF' || fail "the acknowledged versions are not 1..$((2 * N))"
import json, os, sys
d, n = sys.argv[1], int(sys.argv[2])
vs = sorted(json.load(open(os.path.join(d, f)))["version"] for f in os.listdir(d))
if vs != list(range(1, n + 1)):
    print("  versions:", vs, file=sys.stderr)
    sys.exit(1)
EOF
pass
on A
areq GET /v1/sandboxes/s2/kv/task/shared
expect_status 200
expect_header X-Agentkv-Version $((2 * N))

t "concurrent writers through both servers never exceed the quota"
N=20
SIZE=950
# What each write stores: key (3) + record header (88) + curl's content type
# application/x-www-form-urlencoded (33) + value.
COST=$((3 + 88 + 33 + SIZE))
head -c $SIZE /dev/urandom >"$TMP/k1000"
urls=()
for i in $(seq -w 1 $N); do
    urls+=("${SURL[A]}/v1/sandboxes/q/kv/task/a$i" "${SURL[B]}/v1/sandboxes/q/kv/task/b$i")
done
par_put "$TMP/qw" "$TMP/k1000" "${urls[@]}" >"$TMP/qw.status"
OK=$(grep -c '^201 ' "$TMP/qw.status")
FULL=$(grep -c '^507 ' "$TMP/qw.status")
[ $((OK + FULL)) -eq $((2 * N)) ] || fail "answers other than 201/507: $(sort "$TMP/qw.status" | cut -d' ' -f1 | uniq -c)"
pass
[ $((OK * COST)) -le $QUOTA ] || fail "$OK writes of $COST bytes acknowledged: over the quota of $QUOTA"
pass
# Distinct keys, nothing deleted: the quota fills exactly.
[ "$OK" -eq $((QUOTA / COST)) ] || fail "expected $((QUOTA / COST)) writes acknowledged, got $OK"
pass
grep '^201 ' "$TMP/qw.status" | sed 's|.*/kv/task/||' | sort >"$TMP/qw.acked"
for n in A B; do
    on $n
    areq GET '/v1/sandboxes/q/stats?scope=task'
    expect_status 200
    json_check "d['task']['entries'] == $OK and d['task']['bytes'] == $((OK * COST)) and d['task']['quota'] == $QUOTA"
    areq GET /v1/sandboxes/q/kv/task
    expect_status 200
    "$PY" -c 'import json,sys; print("\n".join(i["key"] for i in json.load(open(sys.argv[1]))["items"]))' \
        "$BODY" | sort >"$TMP/qw.listed"
    cmp -s "$TMP/qw.acked" "$TMP/qw.listed" ||
        fail "server $n lists other keys than the acknowledged ones: $(diff "$TMP/qw.acked" "$TMP/qw.listed" | head)"
    pass
done
f507=$(grep -l quota_exceeded "$TMP"/qw/* | head -n 1)
[ -n "$f507" ] || fail "no quota_exceeded body among the 507s"
cp "$f507" "$BODY"
json_check "d['error']['code'] == 'quota_exceeded' and d['error']['quota'] == $QUOTA"

t "the namespace fills to the byte and no further, whichever server writes"
REST=$((QUOTA - OK * COST - (4 + 88 + 33))) # the value that fills it
on B
head -c $REST /dev/zero >"$TMP/rest"
areq PUT /v1/sandboxes/q/kv/task/rest --data-binary @"$TMP/rest"
expect_status 201
on A
areq PUT /v1/sandboxes/q/kv/task/one-more --data-binary x
expect_error 507 quota_exceeded
json_check "d['error']['used'] == $QUOTA and d['error']['quota'] == $QUOTA"
areq GET /v1/sandboxes/q/kv/task/one-more
expect_error 404 not_found
t "an overwrite that does not grow fits in a full namespace, on either server"
on A
areq PUT /v1/sandboxes/q/kv/task/rest --data-binary "$(head -c $REST /dev/zero | tr '\0' r)"
expect_status 200
t "a delete through A frees room for a write through B"
areq DELETE /v1/sandboxes/q/kv/task/rest
expect_status 204
on B
areq PUT /v1/sandboxes/q/kv/task/one-more --data-binary x
expect_status 201

# ---- tokens ----------------------------------------------------------------

t "an agent token works on both servers for its own sandbox"
on A
treq "$AGENT_A" PUT /v1/sandboxes/team-a/kv/task/plan --data-binary 'agent plan'
expect_status 201
on B
treq "$AGENT_A" GET /v1/sandboxes/team-a/kv/task/plan
expect_status 200
expect_body 'agent plan'

t "an agent token cannot read or write another sandbox on either server"
on A
areq PUT /v1/sandboxes/team-b/kv/task/secret --data-binary 'not yours'
expect_status 201
for n in A B; do
    on $n
    treq "$AGENT_A" GET /v1/sandboxes/team-b/kv/task/secret
    expect_error 403 forbidden
    treq "$AGENT_A" GET /v1/sandboxes/team-b/kv/task
    expect_error 403 forbidden
    treq "$AGENT_A" PUT /v1/sandboxes/team-b/kv/task/secret --data-binary 'overwrite'
    expect_error 403 forbidden
done
areq GET /v1/sandboxes/team-b/kv/task/secret
expect_body 'not yours'
expect_header X-Agentkv-Version 1

t "a token created while both servers run works on each after its SIGHUP"
AGENT_C=$(new_token agent team-c)
AGENT_C_ID=$(sed -n 's/.*agent token \([0-9a-f]*\) .*/\1/p' "$ERR")
[ -n "$AGENT_C_ID" ] || fail "no token id in: $(cat "$ERR")"
for n in A B; do
    on $n
    treq "$AGENT_C" GET /v1/sandboxes/team-c/kv/task/x
    expect_error 401 unauthorized
done
hup A 3
on A
treq "$AGENT_C" PUT /v1/sandboxes/team-c/kv/task/x --data-binary c
expect_status 201
on B
treq "$AGENT_C" GET /v1/sandboxes/team-c/kv/task/x
expect_error 401 unauthorized
hup B 3
treq "$AGENT_C" GET /v1/sandboxes/team-c/kv/task/x
expect_status 200
expect_body c

t "a revoked token is refused by each server after its SIGHUP"
"$AGENTKV" --dir "$TMP/tokdir" token revoke "$AGENT_C_ID" --tokens "$TOKENS" >"$OUT" 2>"$ERR" ||
    fail "token revoke failed: $(cat "$ERR")"
hup A 2
hup B 2
for n in A B; do
    on $n
    treq "$AGENT_C" GET /v1/sandboxes/team-c/kv/task/x
    expect_error 401 unauthorized
done

# ---- one server goes away ---------------------------------------------------

t "stopping A leaves B serving everything A wrote"
stop_server A
on B
req GET /readyz
expect_status 200
treq "$AGENT_A" GET /v1/sandboxes/team-a/kv/task/plan
expect_status 200
expect_body 'agent plan'
areq GET '/v1/sandboxes/q/stats?scope=task'
json_check "d['task']['entries'] == $((OK + 1)) and d['task']['bytes'] == $((OK * COST + 8 + 88 + 33 + 1))"

t "a restarted A sees what B wrote meanwhile"
areq PUT /v1/sandboxes/s3/kv/project/summary --data-binary 'written while A was down'
expect_status 201
start_server A --config "$CFG"
areq GET /v1/sandboxes/s3/kv/project/summary
expect_status 200
expect_body 'written while A was down'

t "reads counted by A reach the shared counters, at the latest when A stops"
# A restarted just now: none of its task reads are counted yet.
on B
areq GET '/v1/sandboxes/q/stats?scope=task'
read -r HITS0 MISSES0 <<<"$("$PY" -c 'import json,sys; t=json.load(open(sys.argv[1]))["task"]; print(t["hits"], t["misses"])' "$BODY")"
[[ "$HITS0 $MISSES0" =~ ^[0-9]+\ [0-9]+$ ]] || fail "no counters in the stats"
on A
for i in 1 2 3 4 5; do
    areq GET /v1/sandboxes/q/kv/task/one-more
    expect_status 200
done
areq GET /v1/sandboxes/q/kv/task/nope
expect_error 404 not_found
areq GET /v1/sandboxes/q/kv/task/nope2
expect_error 404 not_found
stop_server A
on B
areq GET '/v1/sandboxes/q/stats?scope=task'
json_check "d['task']['hits'] == $HITS0 + 5 and d['task']['misses'] == $MISSES0 + 2"

t "B stops cleanly on SIGTERM"
stop_server B
pass

finish
