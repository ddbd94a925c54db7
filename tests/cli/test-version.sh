#!/usr/bin/env bash
# test-version.sh — `agentkv --version` and `-V` (as in git, curl and
# redis-cli) print what `agentkv version` prints, with global flags before
# them and --json; after a command they are that command's unknown flag.
. "$(dirname "$0")/lib.sh"

run "$AGENTKV" version
expect_ok
cp "$OUT" "$TMP/version"
grep -qE '^agentkv [0-9]+\.[0-9]+\.[0-9]+ \(backend lmdb\)$' "$TMP/version" ||
    fail "unexpected version line: $(cat "$TMP/version")"
pass

t "--version and -V print the version"
for flag in --version -V; do
    run "$AGENTKV" $flag
    expect_ok
    expect_out_file "$TMP/version"
    run "$AGENTKV" --dir "$TMP/never-created" $flag
    expect_ok
    expect_out_file "$TMP/version"
    [ ! -e "$TMP/never-created" ] || fail "$flag created the store directory"
    pass
done

t "--version --json is the version command's JSON"
run "$AGENTKV" --version --json
expect_ok
json_check 'd["name"] == "agentkv" and d["backend"] == "lmdb" and d["version"]'

t "after a command, -V is an unknown flag"
run "$AGENTKV" put -V
expect_error invalid_argument 2

finish
