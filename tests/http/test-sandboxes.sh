#!/usr/bin/env bash
# test-sandboxes.sh — GET /v1/sandboxes: the sandboxes a token may see, with
# its role. Admins see every sandbox holding entries, _global included;
# agents only those matching their pattern (never _global), and the one
# sandbox a literal pattern names even while it is empty; no token is 401;
# a sandbox whose entries are deleted drops out; unknown query parameters
# are 400. Runs on LMDB and, as redis-http-sandboxes, on Redis.
. "$(dirname "$0")/lib.sh"

akv() { "$AGENTKV" --dir "$STORE" "$@" >"$OUT" 2>"$ERR"; RC=$?; LAST="agentkv $*"; }
token() { akv "$@" || fail "token create: $(cat "$ERR")"; cat "$OUT"; }

start_server
[ -n "${ADMIN:-}" ] || fail "no admin token printed"
TEAM=$(token --sandbox 'team-*' token create --role agent)
SOLO=$(token --sandbox 'solo' token create --role agent)
kill -HUP "$SERVER_PID"
for i in $(seq 1 100); do grep -q "SIGHUP: reloaded 3 tokens" "$SERVER_LOG" && break; sleep 0.05; done
grep -q "SIGHUP: reloaded 3 tokens" "$SERVER_LOG" || fail "no reload logged"

t "an empty store lists nothing to an admin"
areq GET /v1/sandboxes
expect_status 200
expect_header_match Content-Type '^application/json'
expect_body '{"role":"admin","sandboxes":[]}'

for sb in team-b team-a other _global; do
    areq PUT "/v1/sandboxes/$sb/kv/task/k" --data-binary v
    [ "$STATUS" = 201 ] || fail "PUT in $sb: $STATUS"
done
areq PUT /v1/sandboxes/team-a/kv/artifacts/k --data-binary v

t "an admin sees every sandbox holding entries, each once, in byte order"
areq GET /v1/sandboxes
expect_status 200
expect_body '{"role":"admin","sandboxes":["_global","other","team-a","team-b"]}'

t "an agent sees only the sandboxes matching its pattern, never _global"
treq "$TEAM" GET /v1/sandboxes
expect_status 200
expect_body '{"role":"agent","sandboxes":["team-a","team-b"]}'

t "an agent whose pattern names one sandbox sees it while it is empty"
treq "$SOLO" GET /v1/sandboxes
expect_status 200
expect_body '{"role":"agent","sandboxes":["solo"]}'

t "a sandbox whose entries are all deleted drops out"
areq DELETE /v1/sandboxes/team-b/kv/task/k
expect_status 204
treq "$TEAM" GET /v1/sandboxes
expect_body '{"role":"agent","sandboxes":["team-a"]}'

t "no token, or an unknown one, is 401"
req GET /v1/sandboxes
expect_error 401 unauthorized
treq akv_unknown GET /v1/sandboxes
expect_error 401 unauthorized

t "query parameters are refused, other methods are 405"
areq GET '/v1/sandboxes?prefix=team'
expect_error 400 invalid_argument
areq POST /v1/sandboxes
expect_status 405
expect_header Allow GET

t "the server exits 0 on SIGTERM"
stop_server
pass

finish
