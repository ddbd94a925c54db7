#!/usr/bin/env bash
# test-export.sh — export, import and backup: JSON Lines on stdout, a
# lossless round trip (export → import into a new store → export again is
# byte-identical), scope and sandbox selection, an invalid import changes
# nothing, an import is written and reported one namespace at a time, and a
# hot backup that exports the same as its source.
. "$(dirname "$0")/lib.sh"

printf '# Title\n\nbody\n' >"$TMP/doc.md"
head -c 70000 /dev/urandom >"$TMP/random.bin"
: >"$TMP/empty"

akv put task notes/a "$TMP/doc.md" --meta '{"author":"ci","tags":["x","y"]}'
expect_ok
akv put task notes/a "$TMP/doc.md" --ttl 7d --meta '{"author":"ci","tags":["x","y"]}'
expect_ok
akv put artifacts bin/r "$TMP/random.bin" --type application/x-thing
expect_ok
akv put project empty "$TMP/empty" --ttl never
expect_ok
akv --sandbox sb2 put task "héllo/wörld" "$TMP/doc.md"
expect_ok
akv --sandbox _global put instructions style "$TMP/doc.md"
expect_ok

t "export writes one JSON object per entry of the sandbox, with the value"
akv export
expect_ok
json_check 'len(lines) == 3 and all(l["sandbox"] == "default" and "value" in l for l in lines)
  and {l["key"]: l["version"] for l in lines} == {"notes/a": 2, "bin/r": 1, "empty": 1}'
json_check '[l for l in lines if l["key"] == "empty"][0]["value"] == ""
  and [l for l in lines if l["key"] == "notes/a"][0]["metadata"] == {"author": "ci", "tags": ["x", "y"]}'

t "export SCOPE exports one scope"
akv export task
expect_ok
json_check 'len(lines) == 1 and lines[0]["key"] == "notes/a"'

t "export --all-sandboxes includes every sandbox and _global"
akv export --all-sandboxes
expect_ok
cp "$OUT" "$TMP/first.jsonl"
json_check 'sorted(l["sandbox"] for l in lines) == ["_global", "default", "default", "default", "sb2"]'

t "import into a new store, then export again: byte-identical"
run "$AGENTKV" --dir "$TMP/copy" import "$TMP/first.jsonl"
expect_rc 0
expect_out_empty
expect_err_contains "imported 5 entries"
run "$AGENTKV" --dir "$TMP/copy" export --all-sandboxes
expect_ok
expect_out_file "$TMP/first.jsonl"

t "the imported values are served byte for byte"
run "$AGENTKV" --dir "$TMP/copy" get artifacts bin/r
expect_ok
expect_out_file "$TMP/random.bin"
run "$AGENTKV" --dir "$TMP/copy" --sandbox sb2 get task "héllo/wörld"
expect_out_file "$TMP/doc.md"

t "import from stdin, with '-' and without an argument; --json count"
run_in "$TMP/first.jsonl" "$AGENTKV" --dir "$TMP/copy2" import -
expect_rc 0
expect_err_contains "imported 5 entries"
run_in "$TMP/first.jsonl" "$AGENTKV" --dir "$TMP/copy3" --json import
expect_ok
json_check 'd["imported"] == 5 and sorted((n["sandbox"], n["scope"], n["entries"], n["status"]) for n in d["namespaces"]) == [("_global", "instructions", 1, "written"), ("default", "artifacts", 1, "written"), ("default", "project", 1, "written"), ("default", "task", 1, "written"), ("sb2", "task", 1, "written")]'
run "$AGENTKV" --dir "$TMP/copy3" export --all-sandboxes
expect_out_file "$TMP/first.jsonl"

t "re-importing over existing entries replaces them exactly"
run "$AGENTKV" --dir "$TMP/copy" import "$TMP/first.jsonl"
expect_rc 0
run "$AGENTKV" --dir "$TMP/copy" export --all-sandboxes
expect_out_file "$TMP/first.jsonl"

t "import of an empty file imports nothing"
akv import "$TMP/empty"
expect_rc 0
expect_err_contains "imported 0 entries"

snapshot before

t "a bad line anywhere makes the whole import fail and change nothing"
{ head -n 2 "$TMP/first.jsonl" | sed 's/"default"/"sb9"/g'; echo 'not json'; } >"$TMP/bad1.jsonl"
akv import "$TMP/bad1.jsonl"
expect_error invalid_argument 2
expect_err_contains "line 3"
expect_unchanged before

t "an import is written one namespace at a time; a failure says which were"
"$PY" "$(dirname "$0")/../helpers/import-lines.py" "$TMP/three.jsonl" \
    imp-a:20 imp-b:3000 imp-c:20 || fail "writing the import file"
printf '[scope.task]\nquota = 2KiB\n' >"$TMP/q.ini"
run "$AGENTKV" --dir "$TMP/ns1" --config "$TMP/q.ini" import "$TMP/three.jsonl"
expect_rc 3
expect_err_contains "imported 1 entries (imp-a/task: 1); not written: imp-b/task (failed), imp-c/task"
expect_err_contains "agentkv: quota_exceeded: import of imp-b/task failed: task quota of sandbox imp-b"
expect_err_contains "1 of 3 namespaces written (1 entries), the others not"
run "$AGENTKV" --dir "$TMP/ns1" --sandbox imp-a get task x
expect_rc 0
for sb in imp-b imp-c; do
    run "$AGENTKV" --dir "$TMP/ns1" --sandbox "$sb" get task x
    expect_rc 1
done
run "$AGENTKV" --dir "$TMP/ns2" --config "$TMP/q.ini" --json import "$TMP/three.jsonl"
expect_rc 3
json_check 'd["imported"] == 1 and [(n["sandbox"], n["entries"], n["status"]) for n in d["namespaces"]] == [("imp-a", 1, "written"), ("imp-b", 1, "failed"), ("imp-c", 1, "not_tried")] and d["namespaces"][1]["error"]["code"] == "quota_exceeded"'
# Without the quota every namespace is written, and reported.
run "$AGENTKV" --dir "$TMP/ns3" import "$TMP/three.jsonl"
expect_rc 0
expect_err_contains "imported 3 entries (imp-a/task: 1, imp-b/task: 1, imp-c/task: 1)"

t "a value whose sha256 does not match is refused"
"$PY" - "$TMP/first.jsonl" "$TMP/bad2.jsonl" <<'EOF' || fail "could not build bad2"
import base64, json, sys
out = open(sys.argv[2], "w")
for line in open(sys.argv[1]):
    d = json.loads(line)
    d["sandbox"] = d["origin"] = "sb9"
    if d["key"] == "notes/a":
        d["value"] = base64.b64encode(b"tampered").decode()
        d["size"] = 8
    out.write(json.dumps(d) + "\n")
EOF
akv import "$TMP/bad2.jsonl"
expect_error invalid_argument 2
expect_unchanged before

t "invalid keys, scopes and sandboxes in an import are refused"
for change in '"key": "../x"' '"key": "a//b"' '"scope": "Task"' '"sandbox": "a b", "origin": "a b"'; do
    "$PY" - "$TMP/first.jsonl" "$TMP/bad3.jsonl" "$change" <<'EOF' || fail "could not build bad3"
import json, sys
out = open(sys.argv[2], "w")
change = json.loads("{" + sys.argv[3] + "}")
for i, line in enumerate(open(sys.argv[1])):
    d = json.loads(line)
    d["sandbox"] = d["origin"] = "sb9"
    if i == 1:
        d.update(change)
    out.write(json.dumps(d) + "\n")
EOF
    akv import "$TMP/bad3.jsonl"
    expect_error invalid_argument 2
    expect_unchanged before
done

t "import of a file that does not exist"
akv import "$TMP/no-such.jsonl"
expect_error invalid_argument 2
expect_unchanged before

t "backup makes a copy that exports the same"
akv backup "$TMP/bk"
expect_ok
expect_out_empty
run "$AGENTKV" --dir "$TMP/bk" export --all-sandboxes
expect_ok
expect_out_file "$TMP/before.snap"
run "$AGENTKV" --dir "$TMP/bk" check
expect_ok

t "backup --json"
akv --json backup "$TMP/bk2"
expect_ok
json_check "d == {'backup': '$TMP/bk2'}"

t "backup refuses a directory that already holds a store"
akv backup "$TMP/bk"
[ "$RC" -ne 0 ] || fail "backup over an existing store succeeded"
pass
[ "$(wc -l <"$ERR")" -eq 1 ] || fail "expected one error line"
pass
run "$AGENTKV" --dir "$TMP/bk" export --all-sandboxes
expect_out_file "$TMP/before.snap"

t "no progress bar when stdout and stderr are not terminals"
akv export --all-sandboxes
expect_ok
akv check
expect_ok
akv import "$TMP/first.jsonl"
expect_rc 0
expect_out_empty
[ "$(wc -l <"$ERR")" = 1 ] && grep -qx 'imported 5 entries (.*/.*: [0-9]*)' "$ERR" ||
    fail "expected only the count on stderr: $(cat "$ERR")"
pass

t "a progress bar on a terminal, erased at the end"
if command -v script >/dev/null 2>&1; then
    LAST_CMD="script -qc 'agentkv check' /dev/null"
    script -qec "'$AGENTKV' --dir '$STORE' check" /dev/null >"$OUT" 2>"$ERR" </dev/null
    RC=$?
    expect_rc 0
    grep -q 'checking \[#*\] 100%' "$OUT" || fail "expected a full progress bar"
    pass
    grep -q "$(printf '\r\033\\[Kchecked ')" "$OUT" ||
        fail "expected the bar to be erased before the summary"
    pass
else
    pass # no pseudo-terminal available
fi

finish
