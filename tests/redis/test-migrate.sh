#!/usr/bin/env bash
# test-migrate.sh — moving a store between backends with `export` and
# `import` (docs/operations.md): LMDB → Redis → a fresh LMDB directory,
# each step compared byte for byte with the first export. The entries cover
# every scope, several sandboxes including _global, default and explicit
# TTLs and "never", metadata, content types, binary and empty values, a
# 300 KiB value, UTF-8 keys and versions above 1. `check` passes on each
# store; a bad import into Redis changes nothing; quotas apply to imports
# on Redis as on LMDB; re-importing is idempotent.
. "$(dirname "$0")/lib.sh"

redis_start "$TMP/redis" || fail "redis-server did not start"
REDIS=$REDIS_URL
L1="$TMP/lmdb1"
L2="$TMP/lmdb2"

# on_lmdb DIR ARGS... / on_redis ARGS...: the CLI on one backend.
on_lmdb() { local d=$1; shift; BACKEND=lmdb CLI_DIR=$d akv "$@"; }
on_redis() { BACKEND=$REDIS CLI_DIR="$TMP/cli" akv "$@"; }
# put_l SANDBOX SCOPE KEY FILE [FLAGS]: a write into the first LMDB store.
put_l() {
    local sb=$1 scope=$2 key=$3 file=$4
    shift 4
    on_lmdb "$L1" --sandbox "$sb" put "$scope" "$key" "$file" "$@"
    [ "$RC" -eq 0 ] || fail "put $sb/$scope/$key: exit $RC"
}

# ---- fill the LMDB store -----------------------------------------------------

t "fill an LMDB store: every scope, several sandboxes, TTLs, metadata, binary"
mkdir -p "$TMP/in"
printf '# System rules\nBe brief.\n' >"$TMP/in/rules.md"
printf '{"k":[1,2,3]}' >"$TMP/in/data.json"
printf 'plain text\n' >"$TMP/in/note.txt"
"$PY" -c 'import sys; sys.stdout.buffer.write(bytes(range(256)) * 4)' >"$TMP/in/all-bytes.bin"
: >"$TMP/in/empty"
head -c 307200 /dev/urandom >"$TMP/in/big.bin"
printf 'first' >"$TMP/in/v1"
printf 'second, longer' >"$TMP/in/v2"
printf 'third' >"$TMP/in/v3"

put_l _global system rules "$TMP/in/rules.md"
put_l _global instructions style "$TMP/in/rules.md" --meta '{"description":"house style","tokens":9}'
put_l default instructions style "$TMP/in/note.txt"
put_l default project summary "$TMP/in/rules.md" --ttl 72h
put_l default project config.json "$TMP/in/data.json" --ttl never
put_l default task plan "$TMP/in/note.txt" --meta '{"step":3,"tags":["a","b"],"nested":{"x":null}}'
put_l default task counter "$TMP/in/v1"
put_l default task counter "$TMP/in/v2"
put_l default task counter "$TMP/in/v3" --ttl 45m
put_l default artifacts bin/all-bytes "$TMP/in/all-bytes.bin" --type application/x-custom
put_l default artifacts bin/empty "$TMP/in/empty" --ttl 7d
put_l default artifacts big/blob "$TMP/in/big.bin"
put_l sb-1 artifacts 'reports/größe ✓.md' "$TMP/in/rules.md" --ttl 1h
put_l sb-1 task 'a/b/c/d' "$TMP/in/data.json" --type application/json --meta '{}'
put_l sb_2 project summary "$TMP/in/note.txt" --ttl 100
for i in $(seq -w 1 30); do
    printf 'entry %s' "$i" >"$TMP/in/e$i"
    put_l sb_2 task "many/$i" "$TMP/in/e$i"
done
N_ENTRIES=$((13 + 30))
pass

t "export from LMDB (every sandbox)"
on_lmdb "$L1" export --all-sandboxes
expect_rc 0
cp "$OUT" "$TMP/e1.jsonl"
[ "$(wc -l <"$TMP/e1.jsonl")" -eq "$N_ENTRIES" ] || fail "expected $N_ENTRIES lines, got $(wc -l <"$TMP/e1.jsonl")"
pass
json_check "d['version'] == 3 and d['expires_at'] is not None" <(grep '"key":"counter"' "$TMP/e1.jsonl")

# ---- LMDB → Redis --------------------------------------------------------------

t "import into Redis"
on_redis --json import "$TMP/e1.jsonl"
expect_rc 0
json_check "d['imported'] == $N_ENTRIES and sum(n['entries'] for n in d['namespaces']) == $N_ENTRIES and all(n['status'] == 'written' for n in d['namespaces'])" "$OUT"
pass

t "export from Redis is byte-identical to the LMDB export"
on_redis export --all-sandboxes
expect_rc 0
cp "$OUT" "$TMP/e2.jsonl"
cmp -s "$TMP/e1.jsonl" "$TMP/e2.jsonl" ||
    fail "exports differ: $(diff <(cut -c1-200 "$TMP/e1.jsonl") <(cut -c1-200 "$TMP/e2.jsonl") | head -n 8)"
pass

t "per-sandbox and per-scope exports agree too"
for args in "export" "export task" "--sandbox sb-1 export" "--sandbox _global export system"; do
    on_lmdb "$L1" $args
    cp "$OUT" "$TMP/part-l"
    on_redis $args
    expect_rc 0
    cmp -s "$TMP/part-l" "$OUT" || fail "'$args' differs between LMDB and Redis"
    pass
done

t "values read back from Redis are the original bytes"
on_redis get artifacts bin/all-bytes
expect_rc 0
cmp -s "$OUT" "$TMP/in/all-bytes.bin" || fail "binary value differs"
pass
on_redis get artifacts big/blob
cmp -s "$OUT" "$TMP/in/big.bin" || fail "300 KiB value differs"
pass
on_redis get artifacts bin/empty
expect_rc 0
[ ! -s "$OUT" ] || fail "the empty value is not empty"
pass
on_redis --sandbox sb-1 get artifacts 'reports/größe ✓.md'
cmp -s "$OUT" "$TMP/in/rules.md" || fail "UTF-8 key's value differs"
pass

t "metadata, type and version survive in Redis; overlay still falls back to _global"
on_redis get task counter --meta
json_check "d['version'] == 3 and d['size'] == 5" "$OUT"
on_redis get artifacts bin/all-bytes --meta
json_check "d['content_type'] == 'application/x-custom' and d['expires_at'] is not None" "$OUT"
on_redis get task plan --meta
json_check "d['metadata'] == {'step': 3, 'tags': ['a', 'b'], 'nested': {'x': None}}" "$OUT"
on_redis --sandbox sb_2 get system rules --meta
json_check "d['origin'] == '_global' and d['expires_at'] is None" "$OUT"

t "stats on Redis count the imported entries and bytes like LMDB"
on_lmdb "$L1" --sandbox sb_2 --json stats task
cp "$OUT" "$TMP/stats-l"
on_redis --sandbox sb_2 --json stats task
expect_rc 0
"$PY" - "$TMP/stats-l" "$OUT" <<'EOF' || fail "stats differ"
import json, sys
a, b = (json.load(open(p))["task"] for p in sys.argv[1:3])
keys = ("entries", "bytes", "quota", "expired")
if [a[k] for k in keys] != [b[k] for k in keys] or b["entries"] != 30:
    print("  lmdb:", a, "\n  redis:", b, file=sys.stderr)
    sys.exit(1)
EOF
pass

t "check passes on LMDB and on Redis"
on_lmdb "$L1" --json check
expect_rc 0
json_check "d['checked'] == $N_ENTRIES and d['failed'] == 0" "$OUT"
on_redis --json check
expect_rc 0
json_check "d['checked'] == $N_ENTRIES and d['failed'] == 0" "$OUT"

t "importing the same export again changes nothing"
on_redis import "$TMP/e1.jsonl"
expect_rc 0
on_redis export --all-sandboxes
cmp -s "$OUT" "$TMP/e1.jsonl" || fail "a second import changed the export"
pass

t "backup is for the embedded store: on Redis it points to export, creates nothing"
on_redis backup "$TMP/bk"
expect_rc 2
grep -q '^agentkv: invalid_argument: .*export' "$ERR" || fail "expected a message naming export"
pass
[ ! -e "$TMP/bk" ] || fail "backup created $TMP/bk"
pass

# ---- Redis → a fresh LMDB ------------------------------------------------------

t "Redis → a fresh LMDB directory: the export is byte-identical again"
on_redis export --all-sandboxes >/dev/null
cp "$OUT" "$TMP/e2b.jsonl"
on_lmdb "$L2" import "$TMP/e2b.jsonl"
expect_rc 0
on_lmdb "$L2" export --all-sandboxes
expect_rc 0
cmp -s "$OUT" "$TMP/e1.jsonl" || fail "LMDB → Redis → LMDB changed the export"
pass
on_lmdb "$L2" --json check
expect_rc 0
json_check "d['checked'] == $N_ENTRIES and d['failed'] == 0" "$OUT"

# ---- imports that must fail whole -------------------------------------------------

t "a bad line makes a Redis import change nothing"
{
    grep '"sandbox":"sb_2","scope":"project"' "$TMP/e1.jsonl" | sed 's/"sb_2"/"new-sb"/g'
    grep '"key":"plan"' "$TMP/e1.jsonl" | sed 's/"value":"[^"]*"/"value":"bm90IHRoZSBvcmlnaW5hbA=="/'
} >"$TMP/bad.jsonl"
[ "$(wc -l <"$TMP/bad.jsonl")" -eq 2 ] || fail "test set-up: expected 2 lines"
on_redis import "$TMP/bad.jsonl"
expect_rc 2
grep -q '^agentkv: invalid_argument: import line 2' "$ERR" || fail "expected the message to name line 2"
pass
on_redis export --all-sandboxes
cmp -s "$OUT" "$TMP/e1.jsonl" || fail "the failed import changed Redis"
pass

t "a Redis import over a namespace's quota fails whole (exit 3)"
printf '[scope.task]\nquota = 200\n' >"$TMP/small.ini"
on_redis --config "$TMP/small.ini" --sandbox sb_2 export task
cp "$OUT" "$TMP/sb2-task.jsonl"
sed 's/"sandbox":"sb_2"/"sandbox":"sb_3"/; s/"origin":"sb_2"/"origin":"sb_3"/' "$TMP/sb2-task.jsonl" >"$TMP/sb3-task.jsonl"
on_redis --config "$TMP/small.ini" import "$TMP/sb3-task.jsonl"
expect_rc 3
grep -q '^agentkv: quota_exceeded: ' "$ERR" || fail "expected quota_exceeded"
pass
on_redis --sandbox sb_3 ls task --json
expect_rc 0
[ ! -s "$OUT" ] || fail "entries of the failed import are visible: $(head -n 2 "$OUT")"
pass
t "the same import within the default quota succeeds"
on_redis import "$TMP/sb3-task.jsonl"
expect_rc 0
on_redis --sandbox sb_3 export task
[ "$(wc -l <"$OUT")" -eq 30 ] || fail "expected 30 entries in sb_3"
pass

finish
