#!/usr/bin/env bash
# test-help.sh — the generated help: `agentkv help`, `help CMD`, `CMD --help`
# and `-h` succeed, list every command, and document every flag each command
# accepts; unknown commands and flags are invalid_argument (exit 2) with a
# hint to run help.
. "$(dirname "$0")/lib.sh"

# Every command with the flags SPEC.md §3 and the docs promise for it.
declare -A FLAGS=(
    [put]="--ttl --type --meta --if-match --create"
    [get]="--meta"
    [del]=""
    [ls]="--prefix --limit --expired"
    [stats]=""
    [prune]="--all-sandboxes"
    [clear]="--yes"
    [check]=""
    [export]="--all-sandboxes"
    [import]=""
    [backup]=""
    [version]=""
    [help]=""
)
GLOBAL="--dir --backend --sandbox --config --json --help"

t "agentkv help lists every command and global flag"
run "$AGENTKV" help
expect_ok
for cmd in "${!FLAGS[@]}"; do
    grep -qE "^  $cmd( |\$)" "$OUT" || fail "help does not list '$cmd'"
    pass
done
for flag in $GLOBAL; do expect_out_contains "$flag"; done
expect_out_contains "Exit codes"
cp "$OUT" "$TMP/overview"

t "--help and -h without a command print the overview"
run "$AGENTKV" --help
expect_ok
expect_out_file "$TMP/overview"
run "$AGENTKV" -h
expect_ok
expect_out_file "$TMP/overview"

for cmd in "${!FLAGS[@]}"; do
    t "$cmd --help documents its flags"
    run "$AGENTKV" "$cmd" --help
    expect_ok
    expect_out_contains "usage: agentkv $cmd"
    for flag in ${FLAGS[$cmd]} $GLOBAL; do expect_out_contains "$flag"; done
    cp "$OUT" "$TMP/cmd-help"

    t "help $cmd is the same text as $cmd --help"
    run "$AGENTKV" help "$cmd"
    expect_ok
    expect_out_file "$TMP/cmd-help"

    t "$cmd -h is the same text as $cmd --help"
    run "$AGENTKV" "$cmd" -h
    expect_ok
    expect_out_file "$TMP/cmd-help"

    t "$cmd rejects an unknown flag with a hint to run help"
    run "$AGENTKV" --dir "$STORE" "$cmd" --no-such-flag
    expect_error invalid_argument 2
    expect_err_contains "--no-such-flag"
    expect_err_contains "agentkv help $cmd"
done

t "--help works with the other arguments present"
run "$AGENTKV" put task k --ttl 1h --help
expect_ok
expect_out_contains "usage: agentkv put"

t "help does not open a store"
run "$AGENTKV" --dir "$TMP/never-created" help put
expect_ok
[ ! -e "$TMP/never-created" ] || fail "help created the store directory"
pass

t "unknown command"
run "$AGENTKV" frobnicate
expect_error invalid_argument 2
expect_err_contains "unknown command 'frobnicate'"
expect_err_contains "agentkv help"

t "help for an unknown command"
run "$AGENTKV" help frobnicate
expect_error invalid_argument 2
expect_err_contains "frobnicate"

t "unknown global flag before the command"
run "$AGENTKV" --frobnicate version
expect_error invalid_argument 2
expect_err_contains "agentkv help"

t "unknown short flag"
run "$AGENTKV" version -x
expect_error invalid_argument 2

t "no command at all"
run "$AGENTKV"
expect_error invalid_argument 2
expect_err_contains "agentkv help"

t "a flag that needs a value, given none"
run "$AGENTKV" --dir "$STORE" put task k --ttl
expect_error invalid_argument 2
expect_err_contains "--ttl"

t "a boolean flag given a value"
run "$AGENTKV" --dir "$STORE" put task k --create=yes
expect_error invalid_argument 2

t "too many arguments"
run "$AGENTKV" --dir "$STORE" get task k extra
expect_error invalid_argument 2
expect_err_contains "usage: agentkv get SCOPE KEY"

t "too few arguments"
run "$AGENTKV" --dir "$STORE" get task
expect_error invalid_argument 2

t "version prints the backend without opening a store"
run "$AGENTKV" --dir "$TMP/never-created" version
expect_ok
expect_out "agentkv 0.1.0 (backend lmdb)"
[ ! -e "$TMP/never-created" ] || fail "version created the store directory"
pass

t "version shows the scheme of a backend URL, not its credentials"
AGENTKV_BACKEND="redis://:secret@db.example:6379/2" run "$AGENTKV" version
expect_ok
expect_out "agentkv 0.1.0 (backend redis)"

t "version --json"
run "$AGENTKV" version --json
expect_ok
json_check 'd == {"name": "agentkv", "version": "0.1.0", "backend": "lmdb"}'

finish
