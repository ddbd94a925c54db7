#!/usr/bin/env bash
# test-admin-token.sh — the admin token can be found again: a loopback
# server's first start saves it in DIR/admin-token (mode 0600, beside the
# tokens file, which keeps only its hash); `token list` says which token
# that file holds, and says so when there are no tokens at all; `make run`'s
# scripts/admin-token.sh prints the saved token on every run instead of
# minting another, and saves a new one only once the old one is revoked.
. "$(dirname "$0")/lib.sh"
SRC=${AKV_SOURCE_DIR:-$(cd "$HERE/../.." && pwd)}

# run CMD...: stdout, stderr and status in $OUT, $ERR, $RC.
run() {
    "$@" >"$OUT" 2>"$ERR" </dev/null
    RC=$?
}

t "token list on a store without tokens says so"
run "$AGENTKV" --dir "$STORE" token list
expect_ok_stdout_empty() { [ "$RC" -eq 0 ] && [ ! -s "$OUT" ] || fail "expected exit 0, empty stdout"; pass; }
expect_ok_stdout_empty
grep -q "no tokens in $STORE/tokens" "$ERR" || fail "stderr: $(cat "$ERR")"
pass

t "the first start saves the admin token in DIR/admin-token, mode 0600"
start_server
[ -n "${ADMIN:-}" ] || fail "no admin token printed"
pass
[ -f "$STORE/admin-token" ] || fail "no $STORE/admin-token"
pass
[ "$(stat -c %a "$STORE/admin-token")" = 600 ] ||
    fail "admin-token mode $(stat -c %a "$STORE/admin-token")"
pass
[ "$(cat "$STORE/admin-token")" = "$ADMIN" ] || fail "the file holds another token"
pass
grep -q "in plain text in $STORE/admin-token" "$SERVER_LOG" ||
    fail "the log does not say where it is saved: $(cat "$SERVER_LOG")"
pass
areq GET /v1/sandboxes
expect_status 200
stop_server

t "token list points out the saved token"
run "$AGENTKV" --dir "$STORE" token list
[ "$RC" -eq 0 ] || fail "exit $RC"
pass
ID=$(awk 'NR == 2 { print $1 }' "$OUT")
grep -q "token $ID is saved in $STORE/admin-token" "$ERR" || fail "stderr: $(cat "$ERR")"
pass
run "$AGENTKV" --dir "$STORE" --json token list
"$PY" -c 'import json,sys
d=[json.loads(l) for l in open(sys.argv[1])]
assert len(d)==1 and d[0]["saved_in"]==sys.argv[2], d' "$OUT" "$STORE/admin-token" ||
    fail "json: $(cat "$OUT")"
pass

t "make run's helper prints the saved token again, minting nothing"
for i in 1 2 3; do
    tok=$(bash "$SRC/scripts/admin-token.sh" "$AGENTKV" "$STORE") || fail "helper failed"
    [ "$tok" = "$ADMIN" ] || fail "run $i printed another token: $tok"
    pass
done
[ "$(grep -vc '^#' "$STORE/tokens")" -eq 1 ] || fail "tokens were minted: $(cat "$STORE/tokens")"
pass

t "once the saved token is revoked, the helper saves and prints a new one"
"$AGENTKV" --dir "$STORE" token revoke "$ID" 2>/dev/null || fail "revoke"
tok=$(bash "$SRC/scripts/admin-token.sh" "$AGENTKV" "$STORE") || fail "helper failed"
[ -n "$tok" ] && [ "$tok" != "$ADMIN" ] || fail "expected a new token, got '$tok'"
pass
[ "$(cat "$STORE/admin-token")" = "$tok" ] || fail "the new token was not saved"
pass
[ "$(stat -c %a "$STORE/admin-token")" = 600 ] || fail "mode after the helper"
pass
tok2=$(bash "$SRC/scripts/admin-token.sh" "$AGENTKV" "$STORE")
[ "$tok2" = "$tok" ] || fail "the next run minted again"
pass
grep -q ' admin \* make%20run ' "$STORE/tokens" || fail "label: $(cat "$STORE/tokens")"
pass

t "the saved token works against the server"
ADMIN=$tok
start_server
areq GET /v1/sandboxes
expect_status 200
stop_server

finish
