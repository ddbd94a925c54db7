#!/usr/bin/env bash
# test-kv.sh — every key-value and maintenance route of SPEC.md §4 against
# the real server: exact statuses, headers (ETag, Last-Modified,
# X-Agentkv-*), JSON bodies, conditional requests (If-Match,
# If-None-Match: *, If-None-Match → 304), HEAD, list paging, clear, stats,
# prune, health and readiness, 404/405 and keep-alive with pipelining.
. "$(dirname "$0")/lib.sh"

start_server
KV=/v1/sandboxes/sb1/kv

t "/healthz answers 200 {\"status\":\"ok\"} without a token"
req GET /healthz
expect_status 200
expect_header Content-Type application/json
expect_body '{"status":"ok"}'

t "/readyz answers 200 when the store answers"
req GET /readyz
expect_status 200
json_check "d == {'status': 'ready', 'writable': True}"

t "PUT of a new key is 201 with the metadata JSON, ETag and version headers"
printf 'Ship the Q1 report.' >"$TMP/v1"
SHA1=$(sha256sum "$TMP/v1" | cut -d' ' -f1)
areq PUT "$KV/artifacts/reports/q1.md?ttl=2h" --data-binary @"$TMP/v1" \
    -H 'Content-Type: text/markdown' -H 'X-Agentkv-Metadata: {"author":"bot","n":1}'
expect_status 201
expect_header Content-Type application/json
expect_header ETag "\"$SHA1\""
expect_header X-Agentkv-Version 1
expect_header X-Agentkv-Origin sb1
expect_header_match X-Agentkv-Expires-At '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]+Z$'
expect_header_match Last-Modified '^[A-Z][a-z]{2}, [0-9]{2} [A-Z][a-z]{2} [0-9]{4} [0-9:]{8} GMT$'
json_check "d['sandbox'] == 'sb1' and d['scope'] == 'artifacts' and d['key'] == 'reports/q1.md' and d['origin'] == 'sb1' and d['size'] == 19 and d['content_type'] == 'text/markdown' and d['sha256'] == '$SHA1' and d['version'] == 1 and d['metadata'] == {'author': 'bot', 'n': 1} and d['expires_at'] is not None"

t "the ttl query parameter sets expires_at two hours after updated_at"
json_check "__import__('datetime').datetime.fromisoformat(d['expires_at'].replace('Z','+00:00')) - __import__('datetime').datetime.fromisoformat(d['updated_at'].replace('Z','+00:00')) == __import__('datetime').timedelta(hours=2)"

t "GET returns the raw value with its content type, ETag and X-Agentkv headers"
areq GET "$KV/artifacts/reports/q1.md"
expect_status 200
expect_body_file "$TMP/v1"
expect_header Content-Type text/markdown
expect_header Content-Length 19
expect_header ETag "\"$SHA1\""
expect_header X-Agentkv-Version 1
expect_header X-Agentkv-Origin sb1
expect_header X-Agentkv-Metadata '{"author":"bot","n":1}'
expect_header_match Date 'GMT$'

t "HEAD has GET's headers and no body"
ahead "$KV/artifacts/reports/q1.md"
expect_status 200
expect_header Content-Length 19
expect_header ETag "\"$SHA1\""
expect_header Content-Type text/markdown

t "PUT over an existing key is 200 and the version grows"
printf 'Ship the Q1 report by Friday.' >"$TMP/v2"
SHA2=$(sha256sum "$TMP/v2" | cut -d' ' -f1)
areq PUT "$KV/artifacts/reports/q1.md" --data-binary @"$TMP/v2" -H 'Content-Type: text/markdown'
expect_status 200
expect_header X-Agentkv-Version 2
json_check "d['version'] == 2 and d['sha256'] == '$SHA2' and d['metadata'] == {}"

t "If-None-Match with the current ETag gives 304 with the ETag and no body"
areq GET "$KV/artifacts/reports/q1.md" -H "If-None-Match: \"$SHA2\""
expect_status 304
expect_header ETag "\"$SHA2\""
expect_body_empty

t "If-None-Match with a stale ETag gives the value"
areq GET "$KV/artifacts/reports/q1.md" -H "If-None-Match: \"$SHA1\""
expect_status 200
expect_body_file "$TMP/v2"

t "If-None-Match: * on GET of an existing key gives 304"
areq GET "$KV/artifacts/reports/q1.md" -H 'If-None-Match: *'
expect_status 304

t "If-None-Match lists and weak tags compare weakly"
areq GET "$KV/artifacts/reports/q1.md" -H "If-None-Match: \"abc\", W/\"$SHA2\""
expect_status 304

t "If-Match with a stale ETag is 412 and changes nothing"
areq PUT "$KV/artifacts/reports/q1.md" --data-binary 'lost update' -H "If-Match: \"$SHA1\""
expect_error 412 precondition_failed
areq GET "$KV/artifacts/reports/q1.md"
expect_body_file "$TMP/v2"

t "If-Match with the current ETag writes"
areq PUT "$KV/artifacts/reports/q1.md" --data-binary @"$TMP/v1" -H "If-Match: \"$SHA2\"" \
    -H 'Content-Type: text/markdown'
expect_status 200
expect_header X-Agentkv-Version 3

t "If-None-Match: * on PUT of an existing key is 412"
areq PUT "$KV/artifacts/reports/q1.md" --data-binary 'x' -H 'If-None-Match: *'
expect_error 412 precondition_failed
areq GET "$KV/artifacts/reports/q1.md"
expect_body_file "$TMP/v1"

t "If-None-Match: * on PUT of a new key creates it (201)"
areq PUT "$KV/task/fresh" --data-binary 'new' -H 'If-None-Match: *'
expect_status 201

t "PUT without Content-Type stores application/octet-stream"
areq PUT "$KV/task/bin" --data-binary 'abc' -H 'Content-Type:'
expect_status 201
json_check "d['content_type'] == 'application/octet-stream'"

t "an empty body stores an empty value"
areq PUT "$KV/task/empty" -H 'Content-Length: 0'
expect_status 201
json_check "d['size'] == 0"
areq GET "$KV/task/empty"
expect_status 200
expect_header Content-Length 0
expect_body_empty

t "a key may hold slashes and percent-encoded bytes, decoded once"
areq PUT "$KV/task/dir/sub%20dir/caf%C3%A9%2Fx" --data-binary 'enc'
expect_status 201
json_check "d['key'] == 'dir/sub dir/café/x'"
areq GET "$KV/task/dir/sub%20dir/caf%C3%A9/x"
expect_status 200
expect_body enc

t "a literal %25 decodes to '%' once (not twice)"
areq PUT "$KV/task/pct%2541" --data-binary 'p'
expect_status 201
json_check "d['key'] == 'pct%41'"

t "GET of a missing key is 404 not_found"
areq GET "$KV/task/missing"
expect_error 404 not_found

t "overlay: system entries of _global show through, X-Agentkv-Origin says where"
areq PUT /v1/sandboxes/_global/kv/system/style --data-binary 'global style'
expect_status 201
areq GET "$KV/system/style"
expect_status 200
expect_body 'global style'
expect_header X-Agentkv-Origin _global

t "list returns items and next_cursor, paged by limit and cursor"
for k in a b c d e; do
    areq PUT "$KV/project/page/$k" --data-binary "$k"
    [ "$STATUS" = 201 ] || fail "setup PUT of page/$k failed"
done
areq GET "$KV/project?prefix=page/&limit=2"
expect_status 200
expect_header Content-Type application/json
json_check "[i['key'] for i in d['items']] == ['page/a', 'page/b'] and d['next_cursor'] is not None"
CURSOR=$("$PY" -c 'import json,sys,urllib.parse; print(urllib.parse.quote(json.load(open(sys.argv[1]))["next_cursor"], safe=""))' "$BODY")
areq GET "$KV/project?prefix=page/&limit=2&cursor=$CURSOR"
json_check "[i['key'] for i in d['items']] == ['page/c', 'page/d']"
areq GET "$KV/project?prefix=page/&limit=10"
json_check "len(d['items']) == 5 and d['next_cursor'] is None and all(set(i) >= {'sandbox','scope','key','origin','size','content_type','sha256','version','created_at','updated_at','expires_at','metadata'} for i in d['items'])"

t "list of an overlay scope merges _global and marks the origin"
areq GET "$KV/system"
json_check "[(i['key'], i['origin']) for i in d['items']] == [('style', '_global')]"

t "an unknown query parameter is 400"
areq GET "$KV/project?limt=2"
expect_error 400 invalid_argument

t "a bad limit is 400"
areq GET "$KV/project?limit=0"
expect_error 400 invalid_argument
areq GET "$KV/project?limit=abc"
expect_error 400 invalid_argument

t "include_expired must be true or false"
areq GET "$KV/project?include_expired=maybe"
expect_error 400 invalid_argument
areq GET "$KV/project?include_expired=true"
expect_status 200

t "DELETE of a key is 204 with no body, then 404"
areq DELETE "$KV/task/fresh"
expect_status 204
expect_body_empty
areq DELETE "$KV/task/fresh"
expect_error 404 not_found

t "DELETE of a scope clears it: 200 {\"deleted\":N}"
areq DELETE "$KV/project"
expect_status 200
json_check "d == {'deleted': 5}"
areq GET "$KV/project"
json_check "d['items'] == []"

t "stats gives every scope, or one with ?scope="
# Stored bytes, what the quota counts: key (13) + record header (88) +
# content type text/markdown (13) + value (19).
areq GET /v1/sandboxes/sb1/stats
expect_status 200
json_check "set(d) == {'system','instructions','project','task','artifacts'} and d['artifacts']['entries'] == 1 and d['artifacts']['bytes'] == 13 + 88 + 13 + 19 and d['task']['quota'] == 100*1024*1024"
areq GET "/v1/sandboxes/sb1/stats?scope=task"
json_check "set(d) == {'task'} and set(d['task']) >= {'entries','bytes','quota','used_percent','expired','expired_bytes','hits','misses','default_ttl'}"

t "stats are the same text over HTTP and from \`agentkv stats --json\`"
# One renderer in the library: the same figures, formatted the same way
# (used_percent is 6.3e-05 exactly here; both print it rounded, 0.0).
# Hits and misses are left out: a Redis store counts them per process.
areq GET "/v1/sandboxes/sb1/stats"
expect_status 200
"$AGENTKV" --dir "$STORE" --sandbox sb1 stats --json >"$TMP/cli-stats" 2>"$ERR" ||
    fail "agentkv stats --json failed: $(cat "$ERR")"
printf '\n' >>"$BODY"
NOHITS='s/"hits":[0-9]*,"misses":[0-9]*,//g'
[ "$(sed "$NOHITS" "$BODY")" = "$(sed "$NOHITS" "$TMP/cli-stats")" ] ||
    fail "HTTP stats $(cat "$BODY") differ from CLI stats $(cat "$TMP/cli-stats")"
pass
areq POST "/v1/sandboxes/sb1/prune?scope=task"
"$AGENTKV" --dir "$STORE" --sandbox sb1 prune task --json >"$TMP/cli-prune" 2>"$ERR" ||
    fail "agentkv prune --json failed: $(cat "$ERR")"
printf '\n' >>"$BODY"
cmp -s "$BODY" "$TMP/cli-prune" || fail "HTTP and CLI prune bodies differ"
pass

t "stats with an unknown scope is 400"
areq GET "/v1/sandboxes/sb1/stats?scope=nope"
expect_error 400 invalid_argument

t "prune answers {\"pruned\":{...}} per scope, or for ?scope="
areq POST /v1/sandboxes/sb1/prune
expect_status 200
json_check "d == {'pruned': {'system': 0, 'instructions': 0, 'project': 0, 'task': 0, 'artifacts': 0}}"
areq POST "/v1/sandboxes/sb1/prune?scope=task"
json_check "d == {'pruned': {'task': 0}}"

t "an unknown route is 404 with a JSON error"
req GET /v2/nothing
expect_error 404 not_found
req GET /nothing
expect_error 404 not_found
# One '/' more or fewer than a route's pattern has (the router passes
# over patterns by their count of '/').
req GET /healthz/
expect_error 404 not_found
areq GET /v1/sandboxes/sb1/kv
expect_error 404 not_found
areq GET /v1/sandboxes/sb1/stats/task
expect_error 404 not_found

t "a known path with a wrong method is 405 with Allow"
areq POST "$KV/task/k"
expect_error 405 invalid_argument
expect_header Allow 'GET, HEAD, PUT, DELETE'
areq PUT "$KV/task"
expect_error 405 invalid_argument
expect_header Allow 'GET, DELETE'
req DELETE /healthz
expect_error 405 invalid_argument
expect_header Allow 'GET, HEAD'

t "keep-alive: two pipelined requests on one connection get two responses"
raw "b'GET /healthz HTTP/1.1\r\nHost: x\r\n\r\nGET /v1/sandboxes/sb1/kv/task/k HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'" --expect-closed
expect_status 200
[ "$(grep -o 'HTTP/1.1 [0-9]' "$BODY" | wc -l)" = 2 ] || fail "expected two responses"
pass
grep -q '}HTTP/1.1 401 ' "$BODY" || fail "expected the second response to be 401"
pass

t "pipelined: PUTs and GETs of one key on one connection answer in order"
# A GET's response waits for the end of its loop turn and a small PUT goes
# to the store in a flight; neither may let the next request of the same
# connection overtake it.
PIPE=$("$PY" - "$ADMIN" <<'PYEOF'
import sys
tok = sys.argv[1]
out = b""
for i in range(20):
    v = b"v%02d" % i
    out += (b"PUT /v1/sandboxes/pipe/kv/task/k HTTP/1.1\r\nHost: x\r\n"
            b"Authorization: Bearer " + tok.encode() + b"\r\n"
            b"Content-Length: 3\r\n\r\n" + v)
    out += (b"GET /v1/sandboxes/pipe/kv/task/k HTTP/1.1\r\nHost: x\r\n"
            b"Authorization: Bearer " + tok.encode() + b"\r\n" +
            (b"Connection: close\r\n" if i == 19 else b"") + b"\r\n")
print(repr(out))
PYEOF
)
raw "$PIPE" --expect-closed
"$PY" - "$BODY" <<'PYEOF' || fail "pipelined answers out of order"
import re, sys
data = open(sys.argv[1], "rb").read()
got = []
while data:
    head, _, rest = data.partition(b"\r\n\r\n")
    status = int(head.split(b" ")[1])
    n = int(re.search(rb"(?im)^content-length: *(\d+)", head).group(1))
    got.append((status, rest[:n]))
    data = rest[n:]
assert len(got) == 40, len(got)
for i in range(20):
    put, get = got[2 * i], got[2 * i + 1]
    assert put[0] == (201 if i == 0 else 200), (i, put)
    assert b'"version":%d' % (i + 1) in put[1], (i, put)
    assert get == (200, b"v%02d" % i), (i, get)
PYEOF
pass

t "HTTP/1.0 without keep-alive closes after the response"
raw "b'GET /healthz HTTP/1.0\r\n\r\n'" --expect-closed
expect_status 200
expect_header Connection close

t "a list page is bounded in bytes: limit=10000 over entries with 63 KiB of metadata"
META=$("$PY" -c 'print("{\"pad\":\"" + "m" * (63 * 1024 - 10) + "\"}")')
for i in $(seq -w 1 70); do
    areq PUT "/v1/sandboxes/big/kv/artifacts/k$i" --data-binary '' -H "X-Agentkv-Metadata: $META"
    [ "$STATUS" = 201 ] || fail "PUT k$i: $STATUS"
done
pass
areq GET '/v1/sandboxes/big/kv/artifacts?limit=10000'
expect_status 200
[ "$(wc -c <"$BODY")" -lt $((4 * 1024 * 1024 + 65536)) ] || fail "page of $(wc -c <"$BODY") bytes"
pass
json_check "0 < len(d['items']) < 70 and d['next_cursor'] == d['items'][-1]['key'] and d['damaged'] == 0"
NEXT=$("$PY" -c 'import json,sys; print(json.load(open(sys.argv[1]))["next_cursor"])' "$BODY")
FIRST=$("$PY" -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["items"]))' "$BODY")
areq GET "/v1/sandboxes/big/kv/artifacts?limit=10000&cursor=$NEXT"
expect_status 200
json_check "len(d['items']) == 70 - $FIRST and d['next_cursor'] is None"

t "SIGTERM: the server exits 0"
stop_server
pass

finish
