#!/usr/bin/env bash
# test-crud.sh — put/get/del/ls round trips through the real binary: values
# from a file, from stdin and from '-', binary and empty values, --json
# metadata, content-type guessing, metadata, TTL, compare-and-swap, listing
# (table, JSON Lines, prefix, limit, paging past one page), sandboxes and
# the overlay, stats, prune and clear, and where global flags may appear.
. "$(dirname "$0")/lib.sh"

printf 'hello world\n' >"$TMP/hello.txt"
head -c 4096 /dev/urandom >"$TMP/random.bin"
: >"$TMP/empty"

t "put from a file is quiet, get returns the same bytes"
akv put task notes/a "$TMP/hello.txt"
expect_ok
expect_out_empty
akv get task notes/a
expect_ok
expect_out_file "$TMP/hello.txt"

t "put from stdin without a FILE argument"
akv_in "$TMP/random.bin" put artifacts bin/stdin
expect_ok
akv get artifacts bin/stdin
expect_ok
expect_out_file "$TMP/random.bin"

t "put from stdin with '-'"
akv_in "$TMP/hello.txt" put project dash -
expect_ok
akv get project dash
expect_out_file "$TMP/hello.txt"

t "an empty value"
akv put task empty "$TMP/empty"
expect_ok
akv get task empty
expect_ok
expect_out_empty

t "put --json prints the entry metadata"
sha=$(sha256sum "$TMP/random.bin" | cut -d' ' -f1)
akv --json put artifacts bin/file "$TMP/random.bin"
expect_ok
json_check 'd["sandbox"] == "default" and d["origin"] == "default" and d["scope"] == "artifacts" and d["key"] == "bin/file"
  and d["size"] == 4096 and d["sha256"] == "'"$sha"'" and d["version"] == 1
  and d["content_type"] == "application/octet-stream" and d["expires_at"] is not None
  and d["created_at"].endswith("Z") and d["updated_at"] == d["created_at"]'

t "an overwrite bumps the version and keeps created_at"
created=$("$PY" -c 'import json,sys; print(json.load(open(sys.argv[1]))["created_at"])' "$OUT")
akv put artifacts bin/file "$TMP/hello.txt" --json
expect_ok
json_check "d['version'] == 2 and d['created_at'] == '$created' and d['size'] == 12"

t "get --meta and get --json print the metadata instead of the value"
akv get artifacts bin/file --meta
expect_ok
json_check 'd["key"] == "bin/file" and d["version"] == 2 and d["size"] == 12'
akv --json get artifacts bin/file
expect_ok
json_check 'd["key"] == "bin/file" and d["version"] == 2'

t "content type is guessed from the file name"
for file in doc.md doc.markdown data.json notes.txt UPPER.MD archive.tar.gz noext; do
    printf '{}' >"$TMP/$file"
    akv put task "guess/$file" "$TMP/$file"
    expect_ok
done
akv ls task --prefix guess/ --json
json_check '{l["key"]: l["content_type"] for l in lines} == {
  "guess/doc.md": "text/markdown", "guess/doc.markdown": "text/markdown",
  "guess/data.json": "application/json", "guess/notes.txt": "text/plain",
  "guess/UPPER.MD": "text/markdown",
  "guess/archive.tar.gz": "application/octet-stream",
  "guess/noext": "application/octet-stream"}'

t "stdin has no name to guess from"
akv_in "$TMP/hello.txt" put task guess/stdin --json
json_check 'd["content_type"] == "application/octet-stream"'

t "--type overrides the guess"
akv put task typed "$TMP/doc.md" --type text/x-custom --json
expect_ok
json_check 'd["content_type"] == "text/x-custom"'

t "--meta is stored and returned"
akv put task withmeta "$TMP/hello.txt" --meta '{"author":"ci","n":[1,2]}'
expect_ok
akv get task withmeta --meta
json_check 'd["metadata"] == {"author": "ci", "n": [1, 2]}'

t "--ttl never gives expires_at null; --ttl 2h about two hours"
akv put task forever "$TMP/hello.txt" --ttl never --json
json_check 'd["expires_at"] is None'
akv put task twohours "$TMP/hello.txt" --ttl=2h --json
json_check 'abs((__import__("datetime").datetime.fromisoformat(d["expires_at"].replace("Z","+00:00")) - __import__("datetime").datetime.fromisoformat(d["updated_at"].replace("Z","+00:00"))).total_seconds() - 7200) < 1'
akv put system forever "$TMP/hello.txt" --json
json_check 'd["expires_at"] is None'

t "--create writes a new key, then refuses an existing one"
akv put task created "$TMP/hello.txt" --create
expect_ok
akv put task created "$TMP/random.bin" --create
expect_error precondition_failed 4
akv get task created
expect_out_file "$TMP/hello.txt"

t "--if-match with the current sha256 writes"
cur=$(sha256sum "$TMP/hello.txt" | cut -d' ' -f1)
akv put task created "$TMP/random.bin" --if-match "$cur" --json
expect_ok
json_check "d['version'] == 2 and d['sha256'] == '$sha'"

t "--if-match with a stale sha256 is refused and changes nothing"
akv put task created "$TMP/hello.txt" --if-match "$cur"
expect_error precondition_failed 4
akv get task created
expect_out_file "$TMP/random.bin"

t "del removes the entry; a second del is not_found"
akv del task created
expect_ok
expect_out_empty
akv get task created
expect_error not_found 1
akv del task created
expect_error not_found 1
akv --json del task empty
expect_ok
json_check 'd == {"deleted": 1}'

t "get of a key that never existed is not_found (exit 1)"
akv get task never/was
expect_error not_found 1

t "ls prints a table with a header and one row per entry"
akv ls task
expect_ok
head -n 1 "$OUT" | grep -qE '^KEY +SIZE +VERSION +UPDATED +EXPIRES +ORIGIN$' ||
    fail "expected the ls header line"
pass
grep -qE '^notes/a +12 B +1 ' "$OUT" || fail "expected a row for notes/a"
pass
grep -qE '^forever .* never +default$' "$OUT" || fail "expected 'never' for forever"
pass

t "ls --json prints one metadata object per line, in key order"
akv --json ls task
expect_ok
json_check '[l["key"] for l in lines] == sorted(l["key"] for l in lines) and len(lines) >= 10
  and all(l["scope"] == "task" and "value" not in l for l in lines)'

t "ls --prefix"
akv ls task --prefix guess/ --json
expect_ok
json_check 'len(lines) == 8 and all(l["key"].startswith("guess/") for l in lines)'

t "ls --limit"
akv ls task --prefix guess/ --limit 3 --json
json_check '[l["key"] for l in lines] == ["guess/UPPER.MD", "guess/archive.tar.gz", "guess/data.json"]'

t "ls of an empty scope prints only the header"
akv ls instructions
expect_ok
[ "$(wc -l <"$OUT")" -eq 1 ] || fail "expected only the header"
pass

t "ls pages through more than one library page"
"$PY" - "$TMP/many.jsonl" <<'EOF'
import base64, hashlib, json, sys
with open(sys.argv[1], "w") as f:
    for i in range(2500):
        v = ("value %d\n" % i).encode()
        f.write(json.dumps({
            "sandbox": "pages", "scope": "artifacts", "key": "k/%05d" % i,
            "origin": "pages", "size": len(v),
            "content_type": "text/plain",
            "sha256": hashlib.sha256(v).hexdigest(), "version": 1,
            "created_at": "2026-01-01T00:00:00.000Z",
            "updated_at": "2026-01-01T00:00:00.000Z",
            "expires_at": None, "metadata": {},
            "value": base64.b64encode(v).decode()}) + "\n")
EOF
akv import "$TMP/many.jsonl"
expect_rc 0
akv --sandbox pages ls artifacts --json
expect_ok
json_check 'len(lines) == 2500 and [l["key"] for l in lines] == ["k/%05d" % i for i in range(2500)]'
akv --sandbox pages ls artifacts
expect_ok
[ "$(wc -l <"$OUT")" -eq 2501 ] || fail "expected 2500 rows and a header"
pass
[ "$(grep -c '^KEY ' "$OUT")" -eq 1 ] || fail "expected the header once"
pass
akv --sandbox pages ls artifacts --limit 1200 --json
json_check 'len(lines) == 1200 and lines[-1]["key"] == "k/01199"'

t "sandboxes are separate"
akv --sandbox sb1 put task shared "$TMP/hello.txt"
expect_ok
akv --sandbox sb2 get task shared
expect_error not_found 1
AGENTKV_SANDBOX=sb1 run "$AGENTKV" --dir "$STORE" get task shared
expect_ok
expect_out_file "$TMP/hello.txt"

t "overlay: a sandbox reads _global's instructions, and its own win"
akv --sandbox _global put instructions style "$TMP/hello.txt"
expect_ok
akv --sandbox sb1 get instructions style
expect_out_file "$TMP/hello.txt"
akv --sandbox sb1 ls instructions
grep -qE '^style .* _global$' "$OUT" || fail "expected origin _global"
pass
akv --sandbox sb1 put instructions style "$TMP/random.bin"
akv --sandbox sb1 get instructions style
expect_out_file "$TMP/random.bin"
akv --sandbox sb1 --json ls instructions
json_check 'len(lines) == 1 and lines[0]["origin"] == "sb1"'

t "stats shows every scope; --json is keyed by scope"
akv stats
expect_ok
for s in system instructions project task artifacts; do
    grep -qE "^$s " "$OUT" || fail "expected a stats row for $s"
    pass
done
akv stats --json
expect_ok
json_check 'sorted(d) == sorted(["system","instructions","project","task","artifacts"])
  and d["task"]["entries"] >= 10 and d["task"]["quota"] == 100*1024*1024 and d["task"]["default_ttl"] == 86400
  and all(k in d["task"] for k in ("bytes","used_percent","expired","hits","misses"))'
akv stats task --json
json_check 'list(d) == ["task"]'

t "stats --json rounds used_percent to 3 decimals and prints it as such"
printf '[scope.task]\nquota = 3000000\n' >"$TMP/small-quota.ini"
akv --config "$TMP/small-quota.ini" stats task --json
expect_ok
json_check 'd["task"]["quota"] == 3000000
  and d["task"]["used_percent"] == round(100 * d["task"]["bytes"] / 3000000, 3)'
grep -qE '"used_percent":[0-9]+(\.[0-9]{1,3})?,' "$OUT" ||
    fail "used_percent printed with more than 3 decimals: $(cat "$OUT")"
pass

t "prune with nothing expired prints zero counts"
akv prune --json
expect_ok
json_check 'd == {"pruned": {"system":0,"instructions":0,"project":0,"task":0,"artifacts":0}}'
akv prune task
expect_ok
expect_out_contains "task"
akv prune --all-sandboxes task --json
json_check 'd == {"pruned": {"task": 0}}'

t "clear --yes deletes every entry of the scope in the sandbox only"
akv --sandbox sb1 put task other "$TMP/hello.txt"
akv --sandbox sb1 clear task --yes
expect_ok
expect_out "deleted 2 entries"
akv --sandbox sb1 --json ls task
expect_out_empty
akv get task notes/a
expect_ok
akv --sandbox sb1 --json clear task --yes
json_check 'd == {"deleted": 0}'

t "global flags after the command and in --flag=value form"
run "$AGENTKV" get task notes/a --dir="$STORE"
expect_ok
expect_out_file "$TMP/hello.txt"
run "$AGENTKV" get --sandbox=default task notes/a --dir "$STORE"
expect_ok
expect_out_file "$TMP/hello.txt"

t "AGENTKV_DIR selects the store"
AGENTKV_DIR="$STORE" run "$AGENTKV" get task notes/a
expect_ok
expect_out_file "$TMP/hello.txt"

t "--dir defaults to ./.agentkv"
(cd "$TMP" && run "$AGENTKV" put task here "$TMP/hello.txt" && [ "$RC" -eq 0 ] &&
    [ -d "$TMP/.agentkv" ]) || fail "expected ./.agentkv to be created"
pass

t "-- ends flags, so a key may start with a dash"
akv put task -- --dashed "$TMP/hello.txt"
expect_ok
akv get task -- --dashed
expect_out_file "$TMP/hello.txt"

t "UTF-8 keys"
akv put task "notes/héllo/日本" "$TMP/hello.txt"
expect_ok
akv get task "notes/héllo/日本"
expect_out_file "$TMP/hello.txt"

t "check on a healthy store"
akv check
expect_ok
expect_out_contains "checked "
expect_out_contains ", 0 failed"
akv check --json
json_check 'd["failed"] == 0 and d["checked"] > 2500 and d["bad"] == []'

finish
