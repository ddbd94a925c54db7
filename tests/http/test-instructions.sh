#!/usr/bin/env bash
# test-instructions.sh — the instruction routes: POST /v1/seed (admin only,
# idempotent, ?force), GET /v1/sandboxes/{sb}/instructions (the catalog as
# JSON, overlay of the sandbox over _global), and GET
# /v1/sandboxes/{sb}/prompt: the same bytes as `agentkv prompt build`, with
# X-Agentkv-Tokens and X-Agentkv-Baseline-Tokens equal to what `agentkv
# tokens` counts for the prompt and for its inline build, the three modes,
# ?budget with the shortened/left-out headers, and the errors; GET
# /v1/sandboxes/{sb}/search as `agentkv search --json`, and its errors.
. "$(dirname "$0")/lib.sh"

akv() { "$AGENTKV" --dir "$STORE" "$@" >"$OUT" 2>"$ERR"; RC=$?; LAST="agentkv $*"; }
tokens_of() { "$AGENTKV" tokens "$1" | cut -f1; }

n=$(ls "$AKV_SOURCE_DIR"/instructions/*.md | grep -vic '/readme.md$')

start_server
[ -n "${ADMIN:-}" ] || fail "no admin token printed"
pass
akv --sandbox 'team-*' token create --role agent --label instructions
[ "$RC" -eq 0 ] || fail "token create failed: $(cat "$ERR")"
AGENT=$(cat "$OUT")
kill -HUP "$SERVER_PID"
# The agent token is usable once the server has reloaded the tokens file.
for i in $(seq 1 100); do grep -q "SIGHUP: reloaded 2 tokens" "$SERVER_LOG" && break; sleep 0.05; done
grep -q "SIGHUP: reloaded 2 tokens" "$SERVER_LOG" || fail "the tokens file was not reloaded"

t "POST /v1/seed loads the bundled sets into _global"
areq POST /v1/seed
expect_status 200
json_body_check() {
    "$PY" -c 'import json,sys; d=json.load(open(sys.argv[1])); sys.exit(0 if eval(sys.argv[2]) else 1)' \
        "$BODY" "$1" || fail "JSON check failed: $1"
    pass
}
json_body_check "d['sandbox'] == '_global' and d['added'] == $n and len(d['items']) == $n"

t "a second seed changes nothing; ?force=true rewrites every set"
areq POST /v1/seed
expect_status 200
json_body_check "d['unchanged'] == $n and d['added'] == 0 and d['updated'] == 0"
areq POST '/v1/seed?force=true'
expect_status 200
json_body_check "d['updated'] == $n and all(i['version'] == 2 for i in d['items'])"
areq POST '/v1/seed?force=perhaps'
expect_status 400

t "POST /v1/seed needs an admin token"
treq "$AGENT" POST /v1/seed
expect_status 403
req POST /v1/seed
expect_status 401

t "the catalog route lists what the sandbox sees, sorted"
printf '# Team notes\nKeep it short.\n' >"$TMP/notes.md"
akv --sandbox team-a put instructions aaa_team "$TMP/notes.md" \
    --meta '{"description":"Team conventions."}'
[ "$RC" -eq 0 ] || fail "put failed: $(cat "$ERR")"
treq "$AGENT" GET /v1/sandboxes/team-a/instructions
expect_status 200
expect_header Content-Type application/json
json_body_check "d['sandbox'] == 'team-a' and [i['name'] for i in d['items']] == sorted(i['name'] for i in d['items']) and len(d['items']) == $n + 1"
json_body_check "d['items'][0]['name'] == 'aaa_team' and d['items'][0]['origin'] == 'team-a' and d['items'][0]['description'] == 'Team conventions.' and d['items'][0]['tokens'] > 0 and len(d['items'][0]['sha256']) == 64"
json_body_check "all(set(i) >= {'name','description','version','tokens','sha256'} for i in d['items'])"
treq "$AGENT" GET /v1/sandboxes/other/instructions
expect_status 403

t "the prompt route returns what prompt build prints, with token headers"
treq "$AGENT" GET /v1/sandboxes/team-a/prompt
expect_status 200
expect_header_match Content-Type '^text/markdown'
akv --sandbox team-a prompt build
cp "$OUT" "$TMP/cli.out"
expect_body_file "$TMP/cli.out"
cp "$BODY" "$TMP/ref.out"
expect_header X-Agentkv-Tokens "$(tokens_of "$TMP/ref.out")"
akv --sandbox team-a prompt build --mode inline
cp "$OUT" "$TMP/inline.out"
expect_header X-Agentkv-Baseline-Tokens "$(tokens_of "$TMP/inline.out")"
expect_no_header X-Agentkv-Descriptions-Shortened

t "the catalog is byte-identical across requests"
treq "$AGENT" GET /v1/sandboxes/team-a/prompt
expect_body_file "$TMP/ref.out"

t "inline and hybrid modes"
treq "$AGENT" GET '/v1/sandboxes/team-a/prompt?mode=inline'
expect_status 200
expect_body_file "$TMP/inline.out"
expect_header X-Agentkv-Tokens "$(header X-Agentkv-Baseline-Tokens)"
treq "$AGENT" GET '/v1/sandboxes/team-a/prompt?inline=research,aaa_team'
expect_status 200
akv --sandbox team-a prompt build --inline research,aaa_team
cp "$OUT" "$TMP/hybrid.out"
expect_body_file "$TMP/hybrid.out"
expect_header X-Agentkv-Tokens "$(tokens_of "$TMP/hybrid.out")"

t "?budget keeps the catalog within the budget and says what it cut"
full=$(tokens_of "$TMP/ref.out")
b=$((full - 40))
treq "$AGENT" GET "/v1/sandboxes/team-a/prompt?budget=$b"
expect_status 200
[ "$(header X-Agentkv-Tokens)" -le "$b" ] || fail "over the budget"
pass
[ "$(tokens_of "$BODY")" = "$(header X-Agentkv-Tokens)" ] || fail "header differs from the count"
pass
expect_header_match X-Agentkv-Descriptions-Shortened '^[0-9]+$'
expect_header_match X-Agentkv-Sets-Left-Out '^[0-9]+$'
[ $(($(header X-Agentkv-Descriptions-Shortened) + $(header X-Agentkv-Sets-Left-Out))) -gt 0 ] ||
    fail "nothing shortened under a tighter budget"
pass

t "?budget=5 fits too: the catalog is cut to 5 tokens at most"
treq "$AGENT" GET '/v1/sandboxes/team-a/prompt?budget=5'
expect_status 200
[ "$(tokens_of "$BODY")" -le 5 ] || fail "over a budget of 5"
pass
expect_header_match X-Agentkv-Sets-Left-Out '^[1-9][0-9]*$'

t "GET .../search ranks the sets the sandbox sees, as agentkv search --json"
treq "$AGENT" GET '/v1/sandboxes/team-a/search?q=team%20conventions&limit=3'
expect_status 200
expect_header Content-Type application/json
json_body_check "d['items'][0]['name'] == 'aaa_team' and d['items'][0]['origin'] == 'team-a' and len(d['items']) <= 3"
akv --sandbox team-a search "team conventions" --limit 3 --json
printf '%s\n' "$(cat "$BODY")" | cmp -s - "$OUT" || fail "route and CLI differ: $(cat "$BODY") vs $(cat "$OUT")"
pass
treq "$AGENT" GET '/v1/sandboxes/team-a/search?q=slides'
expect_status 200
json_body_check "any(i['name'] == 'presentation' and i['origin'] == '_global' for i in d['items'])"
treq "$AGENT" GET '/v1/sandboxes/team-a/search?q=nothingmatcheshere&scope=project'
expect_status 200
json_body_check "d['scope'] == 'project' and d['items'] == []"

t "search errors: missing, empty, too long or non-UTF-8 query, bad limit or scope, other sandbox"
for q in '' 'q=' 'q=%20-%20' "q=$(printf 'a%.0s' $(seq 1 1025))" 'q=%ff%fe' 'q=x&limit=0' \
    'q=x&limit=101' 'q=x&limit=ten' 'q=x&scope=nowhere' 'q=x&colour=blue' 'q=x&q=y'; do
    treq "$AGENT" GET "/v1/sandboxes/team-a/search?$q"
    expect_status 400
done
treq "$AGENT" GET '/v1/sandboxes/other/search?q=x'
expect_status 403
req GET '/v1/sandboxes/team-a/search?q=x'
expect_status 401

t "the prompt route counts runs; with fetches recorded it gives the expected figures"
treq "$AGENT" GET /v1/sandboxes/team-b/prompt
expect_status 200
[ -z "$(header X-Agentkv-Runs)" ] || fail "expected figures before any run was recorded"
pass
for i in 1 2 3; do treq "$AGENT" GET /v1/sandboxes/team-b/prompt; done
printf '%s\n' '{"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"t","version":"0"}}}' \
    '{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"get_instruction","arguments":{"name":"research"}}}' \
    '{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"get_instruction","arguments":{"name":"research"}}}' |
    "$AGENTKV" --dir "$STORE" --sandbox team-b mcp >"$TMP/mcp.out" 2>/dev/null || fail "agentkv mcp failed"
treq "$AGENT" GET '/v1/sandboxes/team-b/prompt?cached_input_ratio=0.1&cache_write_premium=0.25'
expect_status 200
expect_header X-Agentkv-Runs 4
expect_header X-Agentkv-Fetches 2
expect_header_match X-Agentkv-Expected-Tokens '^[0-9]+\.[0-9]$'
expect_header_match X-Agentkv-Expected-Cost-Percent '^[0-9]+\.[0-9]$'
akv --sandbox team-b prompt build --report --runs 4 --cached-input-ratio 0.1 --cache-write-premium 0.25 --json
exp=$("$PY" -c 'import json,sys; print("%.1f" % json.loads(open(sys.argv[1]).read())["expected_tokens"])' "$ERR")
expect_header X-Agentkv-Expected-Tokens "$exp"
treq "$AGENT" GET '/v1/sandboxes/team-b/prompt?cached_input_ratio=lots'
expect_status 400
treq "$AGENT" GET '/v1/sandboxes/team-b/prompt?cached_input_ratio=2'
expect_status 400
treq "$AGENT" GET '/v1/sandboxes/team-b/prompt?cache_write_premium=0.2'
expect_status 400

t "prompt errors"
treq "$AGENT" GET '/v1/sandboxes/team-a/prompt?mode=everything'
expect_status 400
treq "$AGENT" GET '/v1/sandboxes/team-a/prompt?inline=nope'
expect_status 404
treq "$AGENT" GET '/v1/sandboxes/team-a/prompt?mode=inline&budget=100'
expect_status 400
treq "$AGENT" GET '/v1/sandboxes/team-a/prompt?colour=blue'
expect_status 400
treq "$AGENT" GET '/v1/sandboxes/team-a/prompt?base_key=missing'
expect_status 404
treq "$AGENT" GET /v1/sandboxes/other/prompt
expect_status 403

t "?base_key builds from a base in scope system"
printf 'Base for the team.\n{{agentkv:catalog}}\nEnd.\n' >"$TMP/base.md"
areq PUT /v1/sandboxes/team-a/kv/system/base --data-binary @"$TMP/base.md"
expect_status 201
treq "$AGENT" GET '/v1/sandboxes/team-a/prompt?base_key=base'
expect_status 200
akv --sandbox team-a prompt build --base "$TMP/base.md"
cp "$OUT" "$TMP/based.out"
expect_body_file "$TMP/based.out"

stop_server

# Start-up seed (SPEC.md §5): without --no-seed the server seeds _global by
# itself, from --seed DIR or the bundled sets, on a thread of its own.
# Polled with a bounded loop: the seed runs while requests are served.
wait_catalog() { # COUNT
    local i
    for i in $(seq 1 100); do
        areq GET /v1/sandboxes/_global/instructions
        [ "$STATUS" = 200 ] && "$PY" -c 'import json,sys; sys.exit(0 if len(json.load(open(sys.argv[1]))["items"]) == int(sys.argv[2]) else 1)' "$BODY" "$1" && return 0
        sleep 0.1
    done
    return 1
}

t "serve seeds the bundled sets into _global at start-up"
STORE="$TMP/store-seeded"
SERVE_SEED=1 start_server
wait_catalog "$n" || fail "_global never got the $n bundled sets"
grep -q "seeded _global" "$SERVER_LOG" || fail "the start-up seed was not logged"
pass
stop_server

t "serve --seed DIR seeds that directory instead"
mkdir -p "$TMP/own"
printf -- '---\nname: own-set\ndescription: Load when testing.\n---\n# Own\nBody.\n' >"$TMP/own/own-set.md"
STORE="$TMP/store-own"
SERVE_SEED=1 start_server --seed "$TMP/own"
wait_catalog 1 || fail "_global never got own-set"
grep -q '"own-set"' "$BODY" || fail "catalog lacks own-set: $(cat "$BODY")"
pass
stop_server

t "a failed start-up seed is logged and the server still serves"
STORE="$TMP/store-bad"
SERVE_SEED=1 start_server --seed "$TMP/does-not-exist"
for i in $(seq 1 100); do grep -q "start-up seed of _global failed" "$SERVER_LOG" && break; sleep 0.1; done
grep -q "start-up seed of _global failed" "$SERVER_LOG" || fail "the failed seed was not logged"
req GET /healthz
expect_status 200
stop_server
finish
