#!/usr/bin/env bash
# test-auth.sh — tokens and tenancy: `agentkv token create|list|revoke`, the
# tokens file (mode 0600, hashes only), the first-run admin token on
# loopback, refusal to start without tokens on a non-loopback address,
# --no-auth on loopback only, the full 401/403 matrix of roles and
# sandboxes, /metrics access, and SIGHUP picking up created and revoked
# tokens.
. "$(dirname "$0")/lib.sh"

akv() { "$AGENTKV" --dir "$STORE" "$@" >"$OUT" 2>"$ERR"; RC=$?; LAST="agentkv $*"; }

t "a non-loopback address without a tokens file refuses to start"
"$AGENTKV" --dir "$TMP/other" serve --listen 0.0.0.0:0 >"$OUT" 2>"$ERR" </dev/null
RC=$?
[ "$RC" -eq 2 ] || fail "expected exit 2, got $RC"
pass
grep -q "agentkv: invalid_argument: .*non-loopback" "$ERR" || fail "expected the refusal message, got: $(cat "$ERR")"
pass
[ ! -e "$TMP/other/tokens" ] || fail "no tokens file may be created"
pass

t "--no-auth is refused on a non-loopback address"
"$AGENTKV" --dir "$TMP/other" serve --listen 0.0.0.0:0 --no-auth >"$OUT" 2>"$ERR" </dev/null
RC=$?
[ "$RC" -eq 2 ] && grep -q "no-auth" "$ERR" || fail "expected exit 2 naming --no-auth, got $RC: $(cat "$ERR")"
pass

t "first run on loopback creates one admin token and prints it once"
start_server
[ -n "${ADMIN:-}" ] || fail "no admin token printed"
pass
[[ "$ADMIN" =~ ^akv_[A-Za-z0-9_-]{43}$ ]] || fail "token format: $ADMIN"
pass
[ "$(stat -c %a "$STORE/tokens")" = 600 ] || fail "tokens file mode $(stat -c %a "$STORE/tokens")"
pass
! grep -q "$ADMIN" "$STORE/tokens" || fail "the token itself is stored"
pass
HASH=$(printf '%s' "$ADMIN" | sha256sum | cut -d' ' -f1)
grep -q " $HASH admin \* first%20run " "$STORE/tokens" || fail "no line with the token's SHA-256: $(cat "$STORE/tokens")"
pass

t "token create prints the token alone on stdout, details on stderr"
akv --sandbox 'team-*' token create --role agent --label 'ci bot'
[ "$RC" -eq 0 ] || fail "token create exit $RC: $(cat "$ERR")"
[ "$(wc -l <"$OUT")" -eq 1 ] && grep -Eq '^akv_[A-Za-z0-9_-]{43}$' "$OUT" || fail "stdout: $(cat "$OUT")"
pass
grep -q "created agent token [0-9a-f]\{12\} for sandboxes matching 'team-\*'" "$ERR" || fail "stderr: $(cat "$ERR")"
pass
AGENT=$(cat "$OUT")
AGENT_ID=$(sed -n 's/.*agent token \([0-9a-f]*\) .*/\1/p' "$ERR")

t "token list shows id, role, pattern and label, never a token"
akv token list
[ "$RC" -eq 0 ] && grep -q "$AGENT_ID  *agent  *team-\*  *ci bot" "$OUT" || fail "list: $(cat "$OUT")"
pass
! grep -q akv_ "$OUT" || fail "list shows a token"
pass
akv --json token list
[ "$(grep -c '"role"' "$OUT")" = 2 ] || fail "json list: $(cat "$OUT")"
pass

t "a token created while the server runs works only after SIGHUP"
treq "$AGENT" GET /v1/sandboxes/team-a/kv/task/x
expect_error 401 unauthorized
kill -HUP "$SERVER_PID"
for i in $(seq 1 100); do grep -q "SIGHUP: reloaded 2 tokens" "$SERVER_LOG" && break; sleep 0.05; done
grep -q "SIGHUP: reloaded 2 tokens" "$SERVER_LOG" || fail "no reload logged"
pass
treq "$AGENT" GET /v1/sandboxes/team-a/kv/task/x
expect_error 404 not_found

t "no token is 401 with WWW-Authenticate: Bearer"
req GET /v1/sandboxes/team-a/kv/task/x
expect_error 401 unauthorized
expect_header_match WWW-Authenticate '^Bearer'

t "an unknown token is 401"
treq akv_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA GET /v1/sandboxes/team-a/kv/task/x
expect_error 401 unauthorized

t "a malformed Authorization header is 401"
req GET /v1/sandboxes/team-a/kv/task/x -H "Authorization: Basic $ADMIN"
expect_error 401 unauthorized

t "401 comes before any other check (bad key, bad scope)"
req PUT /v1/sandboxes/team-a/kv/nope/%2e%2e --data-binary x
expect_error 401 unauthorized

t "agent token on its own sandbox: write, read, delete"
treq "$AGENT" PUT /v1/sandboxes/team-a/kv/task/x --data-binary 'mine'
expect_status 201
treq "$AGENT" GET /v1/sandboxes/team-a/kv/task/x
expect_status 200
expect_body mine
treq "$AGENT" PUT /v1/sandboxes/team-b/kv/artifacts/y --data-binary 'also mine'
expect_status 201
treq "$AGENT" GET /v1/sandboxes/team-a/kv/task
expect_status 200
treq "$AGENT" GET /v1/sandboxes/team-a/stats
expect_status 200
treq "$AGENT" POST /v1/sandboxes/team-a/prune
expect_status 200
treq "$AGENT" DELETE /v1/sandboxes/team-a/kv/task/x
expect_status 204

t "agent token may write project and instructions of its own sandbox"
treq "$AGENT" PUT /v1/sandboxes/team-a/kv/project/summary --data-binary 's'
expect_status 201
treq "$AGENT" PUT /v1/sandboxes/team-a/kv/instructions/style --data-binary 'i'
expect_status 201

t "agent token writing scope system is 403 forbidden, nothing stored"
treq "$AGENT" PUT /v1/sandboxes/team-a/kv/system/rules --data-binary 'no'
expect_error 403 forbidden
absent team-a system rules
treq "$AGENT" DELETE /v1/sandboxes/team-a/kv/system
expect_error 403 forbidden

t "agent token may read system (the overlay of _global)"
areq PUT /v1/sandboxes/_global/kv/system/rules --data-binary 'global rules'
expect_status 201
treq "$AGENT" GET /v1/sandboxes/team-a/kv/system/rules
expect_status 200
expect_body 'global rules'

t "agent token on another sandbox is 403 forbidden"
treq "$AGENT" GET /v1/sandboxes/other/kv/task/x
expect_error 403 forbidden
treq "$AGENT" PUT /v1/sandboxes/other/kv/task/x --data-binary 'no'
expect_error 403 forbidden
absent other task x
treq "$AGENT" GET /v1/sandboxes/other/stats
expect_error 403 forbidden

t "agent token on _global is 403 forbidden, even with pattern *"
akv --sandbox '*' token create --role agent
STAR=$(cat "$OUT")
kill -HUP "$SERVER_PID"
for i in $(seq 1 100); do grep -q "SIGHUP: reloaded 3 tokens" "$SERVER_LOG" && break; sleep 0.05; done
treq "$STAR" GET /v1/sandboxes/anything/kv/task/x
expect_error 404 not_found
treq "$STAR" GET /v1/sandboxes/_global/kv/system/rules
expect_error 403 forbidden
treq "$STAR" PUT /v1/sandboxes/_global/kv/instructions/x --data-binary 'no'
expect_error 403 forbidden
treq "$AGENT" GET /v1/sandboxes/_global/kv/system/rules
expect_error 403 forbidden

t "agent token on /metrics is 403; no token is 401; admin is 200"
treq "$AGENT" GET /metrics
expect_error 403 forbidden
req GET /metrics
expect_error 401 unauthorized
areq GET /metrics
expect_status 200

t "admin token reaches every sandbox, _global and every scope"
areq PUT /v1/sandboxes/other/kv/system/x --data-binary 'admin'
expect_status 201
areq GET /v1/sandboxes/team-a/kv/task
expect_status 200
areq DELETE /v1/sandboxes/_global/kv/system/rules
expect_status 204

t "health and readiness need no token"
req GET /healthz
expect_status 200
req GET /readyz
expect_status 200

t "a revoked token keeps working until SIGHUP, then is 401"
# All on one keep-alive connection too, which remembers the last token it
# sent (auth.h, struct auth_memo): another token in between, a revocation
# and a reload must each be seen by its next request.
KEEP=$TMP/keepalive
mkfifo "$KEEP.go"
python3 - "$PORT" "$AGENT" "$KEEP.go" >"$KEEP.out" 2>&1 <<'PY' &
import socket, sys
port, token, go = int(sys.argv[1]), sys.argv[2], sys.argv[3]
s = socket.create_connection(("127.0.0.1", port))
f = s.makefile("rb")
def get(tok):
    s.sendall(b"GET /v1/sandboxes/team-a/kv/project/summary HTTP/1.1\r\n"
              b"Host: x\r\nAuthorization: Bearer " + tok.encode() + b"\r\n\r\n")
    status = int(f.readline().split()[1])
    length = 0
    while True:
        line = f.readline()
        if line in (b"\r\n", b""):
            break
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
    f.read(length)
    return status
print("valid", get(token))
print("unknown", get("akv_" + "x" * 43))
print("again", get(token), flush=True)
for step in ("revoked", "reloaded"):
    open(go).read()  # the shell says when the step is done
    print(step, get(token), flush=True)
PY
KEEP_PID=$!
for i in $(seq 1 100); do grep -q '^again' "$KEEP.out" && break; sleep 0.05; done
akv token revoke "$AGENT_ID"
[ "$RC" -eq 0 ] && grep -q "revoked token $AGENT_ID" "$ERR" || fail "revoke: $RC $(cat "$ERR")"
pass
! grep -q "^$AGENT_ID " "$STORE/tokens" || fail "the line is still in the file"
pass
treq "$AGENT" GET /v1/sandboxes/team-a/kv/project/summary
expect_status 200
echo >"$KEEP.go"
for i in $(seq 1 100); do grep -q '^revoked' "$KEEP.out" && break; sleep 0.05; done
kill -HUP "$SERVER_PID"
for i in $(seq 1 100); do grep -q "SIGHUP: reloaded 2 tokens" "$SERVER_LOG" && [ "$(grep -c 'SIGHUP: reloaded' "$SERVER_LOG")" -ge 3 ] && break; sleep 0.05; done
treq "$AGENT" GET /v1/sandboxes/team-a/kv/project/summary
expect_error 401 unauthorized
echo >"$KEEP.go"
wait "$KEEP_PID"
[ "$(tr '\n' ' ' <"$KEEP.out")" = "valid 200 unknown 401 again 200 revoked 200 reloaded 401 " ] ||
    fail "one keep-alive connection: $(cat "$KEEP.out")"
pass

t "revoking an unknown id exits 1 not_found"
akv token revoke 000000000000
[ "$RC" -eq 1 ] && grep -q "agentkv: not_found:" "$ERR" || fail "revoke unknown: $RC $(cat "$ERR")"
pass

t "token create validates role and pattern"
akv token create --role root
[ "$RC" -eq 2 ] || fail "bad role exit $RC"
pass
akv --sandbox 'a b' token create --role agent
[ "$RC" -eq 2 ] || fail "bad pattern exit $RC"
pass

t "a malformed tokens file keeps the old table on SIGHUP"
cp "$STORE/tokens" "$TMP/tokens.good"
echo "garbage line" >>"$STORE/tokens"
kill -HUP "$SERVER_PID"
for i in $(seq 1 100); do grep -q "tokens not reloaded" "$SERVER_LOG" && break; sleep 0.05; done
grep -q "tokens not reloaded.*line" "$SERVER_LOG" || fail "no reload error logged"
pass
areq GET /v1/sandboxes/team-a/kv/task
expect_status 200
cp "$TMP/tokens.good" "$STORE/tokens"

t "the server exits 0 on SIGTERM; a second start prints no token"
stop_server
pass
ADMIN_BEFORE=$ADMIN
start_server
! grep -q "admin token:" "$SERVER_LOG" || fail "a token was printed again"
pass
areq GET /v1/sandboxes/team-a/kv/task
expect_status 200
stop_server

t "--no-auth on loopback serves without tokens"
start_server --no-auth
req PUT /v1/sandboxes/x/kv/system/y --data-binary 'open'
expect_status 201
stop_server

t "--metrics-public serves /metrics without a token"
start_server --metrics-public
req GET /metrics
expect_status 200
req GET /v1/sandboxes/x/kv/system/y
expect_error 401 unauthorized
stop_server
[ "$ADMIN" = "$ADMIN_BEFORE" ] || fail "admin token changed"
pass

finish
