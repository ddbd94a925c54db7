#!/usr/bin/env bash
# test-damaged.sh — one damaged record among good ones, through the CLI.
# Damage is done below agentkv: a byte flipped in data.mdb where a marker
# of the record sits (its metadata, or its value). Each command must report
# that one entry as integrity_error (exit 5) and serve the others: `check`
# names it; `get` and `get --meta` refuse it; `ls` (table and --json) and
# `export` list or export every other entry, warn about the damaged one on
# stderr and exit 5; the export of the rest imports cleanly elsewhere.
# Last, a data.mdb cut short: refused at open with a message.
. "$(dirname "$0")/lib.sh"

# flip MARKER: flips one bit of the first byte of MARKER in data.mdb,
# wherever it is (LMDB's copy-on-write leaves stale copies in free pages).
flip() {
    "$PY" - "$STORE/data.mdb" "$1" <<'EOF' || fail "could not damage data.mdb"
import sys
path, marker = sys.argv[1], sys.argv[2].encode()
data = bytearray(open(path, "rb").read())
i = data.find(marker)
if i < 0:
    sys.exit("marker not found in data.mdb")
while i >= 0:
    data[i] ^= 0x01
    i = data.find(marker, i + 1)
open(path, "r+b").write(data)
EOF
    pass
}

printf 'first value' >"$TMP/v1"
printf 'middle value' >"$TMP/v2"
printf 'last value' >"$TMP/v3"
akv put task a-good "$TMP/v1" --meta '{"note":"fine-1"}'
expect_ok
akv put task bad "$TMP/v2" --meta '{"note":"METADATA-MARKER-4f1c"}'
expect_ok
akv put task z-good "$TMP/v3" --meta '{"note":"fine-3"}'
expect_ok
flip "METADATA-MARKER-4f1c"

t "check finds the entry whose metadata is damaged, and exits 5"
akv check
expect_rc 5
expect_out_contains "default/task/bad"
expect_out_contains "checked 3 entries, 1 failed"
expect_err_contains "agentkv: integrity_error: "

t "get and get --meta of the damaged entry are integrity_error (exit 5)"
akv get task bad --meta
expect_error integrity_error 5
akv get task bad
expect_error integrity_error 5

t "the other entries are served, metadata included"
akv get task a-good --meta
expect_ok
json_check 'd["key"] == "a-good" and d["metadata"] == {"note": "fine-1"}'
akv get task z-good
expect_ok
expect_out "last value"

t "ls --json lists the others, warns about the damaged one, exits 5"
akv --json ls task
expect_rc 5
json_check '[l["key"] for l in lines] == ["a-good", "z-good"]'
expect_err_contains "warning: integrity error: default/task/bad"
expect_err_contains "agentkv: integrity_error: 1 damaged entry skipped"

t "ls as a table does the same"
akv ls task
expect_rc 5
expect_out_contains "a-good"
expect_out_contains "z-good"
grep -q "^bad " "$OUT" && fail "the damaged entry was listed"
pass

t "export writes the others, names the damaged one on stderr, exits 5"
akv export
expect_rc 5
cp "$OUT" "$TMP/rest.jsonl"
json_check '[l["key"] for l in lines] == ["a-good", "z-good"]'
expect_err_contains "warning: integrity error: default/task/bad"
expect_err_contains "agentkv: integrity_error: 1 damaged entry skipped (first: default/task/bad), 2 exported"

t "what was exported imports cleanly into another store"
run "$AGENTKV" --dir "$TMP/other" import "$TMP/rest.jsonl"
expect_rc 0
expect_err_contains "imported 2 entries"
run "$AGENTKV" --dir "$TMP/other" check
expect_ok

t "writing the entry again repairs it: every command is clean again"
akv put task bad "$TMP/v2" --meta '{"note":"repaired"}'
expect_ok
akv check
expect_ok
akv --json ls task
expect_ok
json_check '[l["key"] for l in lines] == ["a-good", "bad", "z-good"]'

t "a damaged value: ls cannot see it (it reads no values), the rest do"
printf 'VALUE-MARKER-9d2e' >"$TMP/v4"
akv put task val "$TMP/v4"
expect_ok
flip "VALUE-MARKER-9d2e"
akv get task val
expect_error integrity_error 5
akv --json ls task
expect_ok
akv export
expect_rc 5
json_check '"val" not in [l["key"] for l in lines] and len(lines) == 3'
expect_err_contains "default/task/val fails its SHA-256"
akv check
expect_rc 5
expect_out_contains "default/task/val"

t "a data.mdb cut short is refused with a message, not SIGBUS, and left as it was"
# Values of 3 KB take an overflow page each, at the end of the file; then
# half of the file gone: LMDB would map it and fault past its end at the
# first read.
head -c 3000 /dev/zero | tr '\0' x >"$TMP/big"
for i in 1 2 3 4; do
    akv put task "big-$i" "$TMP/big"
    expect_ok
done
size=$(stat -c %s "$STORE/data.mdb")
[ "$size" -ge 32768 ] || fail "data.mdb is only $size bytes"
pass
truncate -s $((size / 2)) "$STORE/data.mdb"
sum=$(sha256sum <"$STORE/data.mdb")
for cmd in "ls task" "get task big-1" "check"; do
    akv $cmd
    expect_error unavailable 6
    expect_err_contains "data.mdb is $((size / 2)) bytes"
    expect_err_contains "cut short"
done
[ "$(sha256sum <"$STORE/data.mdb")" = "$sum" ] || fail "the refused data.mdb was changed"
pass

finish
