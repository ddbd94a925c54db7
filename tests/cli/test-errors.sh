#!/usr/bin/env bash
# test-errors.sh — failures outside the data itself: a missing, foreign or
# corrupt store directory, bad config files, integrity failures found by
# get and check, and output that cannot be written (closed pipe, full disk).
# None of them may crash the binary; each prints one error line and exits
# with the code of SPEC.md §2.
. "$(dirname "$0")/lib.sh"

printf 'hello\n' >"$TMP/v"

# no_crash: the last command exited normally (not killed by a signal).
no_crash() {
    [ "$RC" -lt 128 ] || fail "the binary died from a signal (status $RC)"
    pass
}

t "read commands on a missing store are unavailable and create nothing"
for cmd in "get task k" "ls task" "stats" "check" "export" "backup $TMP/bk"; do
    # shellcheck disable=SC2086
    run "$AGENTKV" --dir "$TMP/missing" $cmd
    expect_error unavailable 6
    [ ! -e "$TMP/missing" ] || fail "'$cmd' created the store directory"
    pass
done

t "read commands on an empty directory are unavailable"
mkdir "$TMP/emptydir"
run "$AGENTKV" --dir "$TMP/emptydir" get task k
expect_error unavailable 6

t "write commands create a missing store (like mkdir -p)"
run_in "$TMP/v" "$AGENTKV" --dir "$TMP/deep/er/store" put task k
expect_ok
run "$AGENTKV" --dir "$TMP/deep/er/store" get task k
expect_out_file "$TMP/v"

t "--dir pointing at a regular file"
printf 'not a store\n' >"$TMP/regular"
for cmd in "get task k" "put task k $TMP/v" "ls task" "check"; do
    # shellcheck disable=SC2086
    run "$AGENTKV" --dir "$TMP/regular" $cmd
    expect_error unavailable 6
done
[ "$(cat "$TMP/regular")" = "not a store" ] || fail "the regular file changed"
pass

t "a data.mdb full of random bytes"
mkdir "$TMP/corrupt"
head -c 262144 /dev/urandom >"$TMP/corrupt/data.mdb"
cp "$TMP/corrupt/data.mdb" "$TMP/corrupt.orig"
for cmd in "get task k" "put task k $TMP/v" "ls task" "stats" "check" "export" "prune"; do
    # shellcheck disable=SC2086
    run "$AGENTKV" --dir "$TMP/corrupt" $cmd
    no_crash
    expect_error unavailable 6
done
cmp -s "$TMP/corrupt/data.mdb" "$TMP/corrupt.orig" || fail "data.mdb was modified"
pass

t "a data.mdb that is a short foreign file"
mkdir "$TMP/foreign"
printf 'SQLite format 3\0' >"$TMP/foreign/data.mdb"
run "$AGENTKV" --dir "$TMP/foreign" get task k
no_crash
expect_error unavailable 6

t "an unreadable store directory"
if [ "$(id -u)" -ne 0 ]; then
    mkdir "$TMP/locked"
    run_in "$TMP/v" "$AGENTKV" --dir "$TMP/locked" put task k
    chmod 000 "$TMP/locked"
    run "$AGENTKV" --dir "$TMP/locked" get task k
    chmod 700 "$TMP/locked"
    expect_error unavailable 6
else
    pass # root reads everything; nothing to test
fi

t "an unknown backend URL"
run "$AGENTKV" --dir "$STORE" --backend "bogus://x" get task k
no_crash
[ "$RC" -eq 2 ] || [ "$RC" -eq 6 ] || fail "expected exit 2 or 6"
pass
[ "$(wc -l <"$ERR")" -eq 1 ] || fail "expected one line on stderr"
pass

# A store with content for the remaining cases.
akv put task k "$TMP/v"
expect_ok

t "a config file with a bad line names the file and the line"
printf '[store]\nmax_value_size = 1MiB\n\n[scope.task]\nttl = soon\n' >"$TMP/bad.ini"
akv --config "$TMP/bad.ini" get task k
expect_error invalid_argument 2
expect_err_contains "bad.ini:5"

t "a config file with an unknown section"
printf '[scope.nope]\nttl = 1h\n' >"$TMP/bad2.ini"
akv --config "$TMP/bad2.ini" put task k "$TMP/v"
expect_error invalid_argument 2
expect_err_contains "bad2.ini:2"

t "a config file that is not INI"
printf 'just some words\n' >"$TMP/bad3.ini"
akv --config "$TMP/bad3.ini" get task k
expect_error invalid_argument 2
expect_err_contains "bad3.ini:1"

t "a config file that does not exist"
akv --config "$TMP/nope.ini" get task k
expect_error unavailable 6
expect_err_contains "nope.ini"

t "a good config file changes the defaults"
printf '[scope.task]\nttl = never\n' >"$TMP/good.ini"
akv --config "$TMP/good.ini" put task cfg "$TMP/v" --json
expect_ok
json_check 'd["expires_at"] is None'

t "check on a healthy store"
akv check
expect_ok
expect_out "checked 2 entries, 0 failed"

t "integrity: a corrupted value is never served, and check exits 5"
marker="INTEGRITY-MARKER-0123456789abcdef"
printf '%s' "$marker" >"$TMP/marked"
akv --sandbox sbx put artifacts victim/key "$TMP/marked"
expect_ok
"$PY" - "$STORE/data.mdb" "$marker" <<'EOF' || fail "could not corrupt data.mdb"
import sys
path, marker = sys.argv[1], sys.argv[2].encode()
data = bytearray(open(path, "rb").read())
i = data.find(marker)
if i < 0:
    sys.exit("marker not found in data.mdb")
data[i] ^= 0x20
open(path, "r+b").write(data)
EOF
pass
akv --sandbox sbx get artifacts victim/key
no_crash
expect_error integrity_error 5
akv check
[ "$RC" -eq 5 ] || fail "expected check to exit 5"
pass
expect_out_contains "sbx/artifacts/victim/key"
expect_out_contains "checked 3 entries, 1 failed"
[ "$(wc -l <"$ERR")" -eq 1 ] && grep -q '^agentkv: integrity_error: ' "$ERR" ||
    fail "expected one 'agentkv: integrity_error:' line on stderr"
pass
akv check --json
[ "$RC" -eq 5 ] || fail "expected check --json to exit 5"
pass
json_check 'd["checked"] == 3 and d["failed"] == 1 and d["bad"] == [{"sandbox": "sbx", "scope": "artifacts", "key": "victim/key"}]'
akv del task cfg
akv --sandbox sbx put artifacts victim/key "$TMP/v"
expect_ok
akv check
expect_ok

t "a closed pipe on stdout: exit 1 with one message, no signal death"
head -c 1048576 /dev/urandom >"$TMP/1m"
akv put artifacts big "$TMP/1m"
expect_ok
LAST_CMD="agentkv get artifacts big | head -c 10"
"$AGENTKV" --dir "$STORE" get artifacts big 2>"$ERR" | head -c 10 >/dev/null
RC=${PIPESTATUS[0]}
expect_rc 1
grep -q '^agentkv: io_error: ' "$ERR" || fail "expected an io_error line"
pass

t "a full disk on stdout"
if [ -w /dev/full ]; then
    LAST_CMD="agentkv get artifacts big > /dev/full"
    "$AGENTKV" --dir "$STORE" get artifacts big >/dev/full 2>"$ERR"
    RC=$?
    : >"$OUT"
    expect_error io_error 1
    "$AGENTKV" --dir "$STORE" ls task >/dev/full 2>"$ERR"
    RC=$?
    expect_error io_error 1
    "$AGENTKV" --dir "$STORE" export >/dev/full 2>"$ERR"
    RC=$?
    [ "$RC" -ne 0 ] || fail "export to /dev/full succeeded"
    pass
    "$AGENTKV" help >/dev/full 2>"$ERR"
    RC=$?
    expect_error io_error 1
fi

finish
