#!/usr/bin/env bash
# test-memory.sh — `agentkv memory`: one command of Anthropic's memory tool
# as JSON on stdin or in a file; the result text on stdout, failures as one
# error line carrying the tool's text with the exit code of SPEC.md §2;
# --scope and --json; a hostile path changes nothing.
. "$(dirname "$0")/lib.sh"

mem() { # JSON [ARGS...]
    printf '%s' "$1" >"$TMP/cmd.json"
    akv_in "$TMP/cmd.json" memory "${@:2}"
}

t "create from stdin, then view"
mem '{"command":"create","path":"/memories/todo.md","file_text":"- a\n- b\n"}'
expect_ok
expect_out "File created successfully at: /memories/todo.md"
mem '{"command":"view","path":"/memories/todo.md"}'
expect_ok
expect_out "$(printf 'Here'"'"'s the content of /memories/todo.md with line numbers:\n     1\t- a\n     2\t- b')"

t "the file is the key memories/todo.md of the project scope"
akv get project memories/todo.md
expect_ok
expect_out "$(printf -- '- a\n- b')"

t "a command from a file, and --json"
printf '%s' '{"command":"str_replace","path":"/memories/todo.md","old_str":"- b","new_str":"- c"}' >"$TMP/edit.json"
akv --json memory "$TMP/edit.json"
expect_ok
json_check 'd == {"result": "The memory file has been edited."}'

t "errors carry the tool's text and exit code"
mem '{"command":"view","path":"/memories/none"}'
expect_error not_found 1
expect_err_contains "Error: The path /memories/none does not exist"
mem '{"command":"create","path":"/memories/todo.md","file_text":"x"}'
expect_error precondition_failed 4
expect_err_contains "Error: File /memories/todo.md already exists"
mem '{"command":"create","path":"/memories/../etc/passwd","file_text":"x"}'
expect_error invalid_argument 2
mem 'nonsense'
expect_error invalid_argument 2

t "--scope picks the scope; system is refused"
mem '{"command":"create","path":"/memories/t","file_text":"task"}' --scope task
expect_ok
akv get task memories/t
expect_out task
mem '{"command":"view","path":"/memories"}' --scope system
expect_error forbidden 1
mem '{"command":"view","path":"/memories"}' --scope nope
expect_error invalid_argument 2

t "nothing else was written"
akv ls project
expect_ok
[ "$(grep -c memories/ "$OUT")" = 1 ] || fail "unexpected entries: $(cat "$OUT")"
pass

t "tools --format anthropic --native-memory declares Anthropic's memory tool"
# tools prints indented JSON: read it whole.
tools_check() {
    "$PY" -c 'import json, sys; d = json.load(open(sys.argv[2])); sys.exit(0 if eval(sys.argv[1]) else 1)' "$1" "$OUT" ||
        fail "JSON check failed: $1"
    pass
}
akv tools --format anthropic
expect_ok
tools_check '[t for t in d if t["name"] == "memory"][0]["input_schema"]["required"] == ["command"]'
ntools=$("$PY" -c 'import json, sys; print(len(json.load(open(sys.argv[1]))))' "$OUT")
akv tools --format anthropic --native-memory
expect_ok
tools_check '[t for t in d if t["name"] == "memory"] == [{"type": "memory_20250818", "name": "memory"}] and len(d) == '"$ntools"' and all("input_schema" in t for t in d if t["name"] != "memory")'
akv tools --format openai --native-memory
expect_error invalid_argument 2

finish
