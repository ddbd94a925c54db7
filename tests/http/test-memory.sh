#!/usr/bin/env bash
# test-memory.sh — POST /v1/sandboxes/{sb}/memory, Anthropic's memory tool
# over HTTP against a real server: each command's result text (text/plain),
# the documented errors as the error object of SPEC.md §2 carrying the
# tool's text (404, 412, 400), a quota-exceeded create (507 with figures),
# ?scope=, agent tokens kept out of the system scope, and concurrent
# str_replace from two clients with no lost update, and files at the size
# limit (exactly max_value_size passes over PUT and over this route, whose
# JSON envelope and escapes take the body past that size; one byte more is
# refused). Runs on LMDB and, as redis-http-memory, on Redis.
. "$(dirname "$0")/lib.sh"

cat >"$TMP/memory.ini" <<'INI'
[scope.artifacts]
quota = 2KiB
INI
start_server --config "$TMP/memory.ini"
[ -n "${ADMIN:-}" ] || fail "no admin token printed"

# mem JSON [QUERY]: one command in sandbox sb1 with the admin token.
mem() { areq POST "/v1/sandboxes/sb1/memory${2:-}" -H 'Content-Type: application/json' --data-binary "$1"; }
expect_text() {
    expect_status 200
    expect_header Content-Type 'text/plain; charset=utf-8'
    grep -qF -- "$1" "$BODY" || fail "expected the text to contain '$1'"
    pass
}
expect_tool_error() { # STATUS CODE TEXT
    expect_error "$1" "$2"
    grep -qF -- "$3" "$BODY" || fail "expected the message to contain '$3'"
    pass
}

t "create, then view the file with line numbers"
mem '{"command":"create","path":"/memories/notes.md","file_text":"first\nsecond\n"}'
expect_text "File created successfully at: /memories/notes.md"
mem '{"command":"view","path":"/memories/notes.md"}'
expect_text "$(printf '     1\tfirst\n     2\tsecond')"

t "the file is the key memories/notes.md of the project scope"
areq GET /v1/sandboxes/sb1/kv/project/memories/notes.md
expect_status 200
expect_body "$(printf 'first\nsecond')"

t "view of /memories lists files with sizes"
mem '{"command":"view","path":"/memories"}'
expect_text "$(printf '13B\t/memories/notes.md')"

t "str_replace, insert, and their errors"
mem '{"command":"str_replace","path":"/memories/notes.md","old_str":"second","new_str":"2nd"}'
expect_text "The memory file has been edited."
mem '{"command":"str_replace","path":"/memories/notes.md","old_str":"nothere","new_str":"x"}'
expect_tool_error 412 precondition_failed "did not appear verbatim in /memories/notes.md"
mem '{"command":"insert","path":"/memories/notes.md","insert_line":1,"insert_text":"1.5\n"}'
expect_text "The file /memories/notes.md has been edited."
mem '{"command":"insert","path":"/memories/notes.md","insert_line":9,"insert_text":"x"}'
expect_tool_error 400 invalid_argument 'Invalid `insert_line` parameter: 9'
areq GET /v1/sandboxes/sb1/kv/project/memories/notes.md
expect_body "$(printf 'first\n1.5\n2nd')"

t "rename is atomic and refuses an existing destination"
mem '{"command":"create","path":"/memories/other.md","file_text":"o"}'
expect_text "created"
mem '{"command":"rename","old_path":"/memories/notes.md","new_path":"/memories/other.md"}'
expect_tool_error 412 precondition_failed "The destination /memories/other.md already exists"
mem '{"command":"rename","old_path":"/memories/notes.md","new_path":"/memories/archive/notes.md"}'
expect_text "Successfully renamed /memories/notes.md to /memories/archive/notes.md"
areq GET /v1/sandboxes/sb1/kv/project/memories/notes.md
expect_error 404 not_found

t "delete, and a missing path is 404 with the tool's text"
mem '{"command":"delete","path":"/memories/archive"}'
expect_text "Successfully deleted /memories/archive"
mem '{"command":"view","path":"/memories/archive/notes.md"}'
expect_tool_error 404 not_found "Error: The path /memories/archive/notes.md does not exist"

t "hostile paths are 400 and write nothing"
for p in '/memories/../x' '/etc/passwd' '/memories/a\u0001b' '/memories//a' '/memoriesx'; do
    mem '{"command":"create","path":"'"$p"'","file_text":"x"}'
    expect_error 400 invalid_argument
done
mem 'not json'
expect_tool_error 400 invalid_argument "must be a JSON object"
areq GET '/v1/sandboxes/sb1/kv/project?prefix=memories/'
json_check '[i["key"] for i in d["items"]] == ["memories/other.md"]'

t "?scope= picks the scope; a create over the quota is 507 with the figures"
mem '{"command":"create","path":"/memories/a","file_text":"small"}' '?scope=artifacts'
expect_text "created"
BIG=$(head -c 3000 /dev/zero | tr '\0' x)
mem '{"command":"create","path":"/memories/big","file_text":"'"$BIG"'"}' '?scope=artifacts'
expect_tool_error 507 quota_exceeded "quota would be exceeded"
json_check 'd["error"]["quota"] == 2048 and d["error"]["scope"] == "artifacts"'
mem '{"command":"view","path":"/memories"}' '?scope=nope'
expect_error 400 invalid_argument

t "agent tokens may not use the system scope; no token is 401"
"$AGENTKV" --dir "$STORE" --sandbox 'sb1' token create --role agent >"$OUT" 2>"$ERR" || fail "token: $(cat "$ERR")"
AGENT=$(cat "$OUT")
kill -HUP "$SERVER_PID"
for i in $(seq 1 100); do grep -q "SIGHUP: reloaded 2 tokens" "$SERVER_LOG" && break; sleep 0.05; done
treq "$AGENT" POST /v1/sandboxes/sb1/memory --data-binary '{"command":"view","path":"/memories"}'
expect_text "/memories/other.md"
treq "$AGENT" POST '/v1/sandboxes/sb1/memory?scope=system' --data-binary '{"command":"view","path":"/memories"}'
expect_error 403 forbidden
treq "$AGENT" POST /v1/sandboxes/sb2/memory --data-binary '{"command":"view","path":"/memories"}'
expect_error 403 forbidden
req POST /v1/sandboxes/sb1/memory --data-binary '{"command":"view","path":"/memories"}'
expect_error 401 unauthorized

t "concurrent str_replace from two clients loses no update"
mem '{"command":"create","path":"/memories/c","file_text":"a=0;\nb=0;\n"}'
expect_text "created"
bump() { # NAME: 40 increments of the NAME counter, each naming the value it read
    local i=0 code
    while [ $i -lt 40 ]; do
        code=$(curl -s -o "$TMP/bump.$1" -w '%{http_code}' -H "Authorization: Bearer $ADMIN" \
            --data-binary "{\"command\":\"str_replace\",\"path\":\"/memories/c\",\"old_str\":\"$1=$i;\",\"new_str\":\"$1=$((i + 1));\"}" \
            "$URL/v1/sandboxes/sb1/memory")
        if [ "$code" = 200 ]; then
            i=$((i + 1))
        elif [ "$code" = 412 ] && grep -q 'kept changing' "$TMP/bump.$1"; then
            : # nothing changed: try again
        else
            echo "$1 at $i: $code $(cat "$TMP/bump.$1")" >"$TMP/bump.$1.failed"
            return 1
        fi
    done
}
bump a & PA=$!
bump b & PB=$!
wait $PA; RA=$?
wait $PB; RB=$?
[ $RA = 0 ] && [ $RB = 0 ] || fail "a client failed: $(cat "$TMP"/bump.*.failed 2>/dev/null)"
areq GET /v1/sandboxes/sb1/kv/project/memories/c
expect_body "$(printf 'a=40;\nb=40;')"

stop_server

# ---- files at the size limit --------------------------------------------------

cat >"$TMP/limit.ini" <<'INI'
[store]
max_value_size = 64KiB
INI
start_server --config "$TMP/limit.ini"
MAX=65536
# body FILE N [PATH]: a create command whose file_text is N bytes, three in
# five of them a newline or a quote, so that JSON escaping takes the body
# past one and a half times N.
body() {
    "$PY" - "$1" "$2" "${3:-/memories/big}" <<'EOF' || fail "writing the body"
import json, sys
n = int(sys.argv[2])
text = ('a\n"\nb' * n)[:n]
with open(sys.argv[1], 'w') as f:
    json.dump({"command": "create", "path": sys.argv[3], "file_text": text}, f)
EOF
}

t "PUT: a value of exactly max_value_size is stored, one byte more is 413"
head -c $MAX /dev/zero | tr '\0' x >"$TMP/max.bin"
areq PUT /v1/sandboxes/sb1/kv/project/max --data-binary @"$TMP/max.bin"
expect_status 201
head -c $((MAX + 1)) /dev/zero | tr '\0' x >"$TMP/over.bin"
areq PUT /v1/sandboxes/sb1/kv/project/over --data-binary @"$TMP/over.bin"
expect_error 413 value_too_large

t "memory create: a file of exactly max_value_size, its body well over it"
body "$TMP/max.json" $MAX
[ "$(stat -c %s "$TMP/max.json")" -gt $((MAX * 3 / 2)) ] || fail "the body is not over the size"
mem @"$TMP/max.json"
expect_text "File created successfully at: /memories/big"
areq GET /v1/sandboxes/sb1/kv/project/memories/big
expect_status 200
[ "$(stat -c %s "$BODY")" = $MAX ] || fail "stored $(stat -c %s "$BODY") bytes"
pass

t "memory create: one byte over max_value_size is value_too_large, nothing written"
body "$TMP/over.json" $((MAX + 1)) /memories/over
mem @"$TMP/over.json"
expect_tool_error 413 value_too_large "max_value_size"
areq GET /v1/sandboxes/sb1/kv/project/memories/over
expect_status 404
pass

t "a body over twice max_value_size plus 64 KiB is refused before it is read"
head -c $((2 * MAX + 65536 + 1)) /dev/zero | tr '\0' ' ' >"$TMP/huge.json"
mem @"$TMP/huge.json"
expect_tool_error 413 value_too_large "over the limit"

stop_server
finish
