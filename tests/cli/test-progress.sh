#!/usr/bin/env bash
# test-progress.sh — progress bars on a terminal (a pseudo-terminal from
# script(1)): `import` of a regular file shows the share of the file read
# (a percentage, in bytes), of a pipe a count of entries; with NO_COLOR set
# or TERM=dumb no escape sequence is written (the bar is redrawn with '\r'
# and spaces), while a normal terminal gets the usual erase sequence.
. "$(dirname "$0")/lib.sh"
if ! command -v script >/dev/null 2>&1; then
    echo "SKIP: script(1) is not installed: no pseudo-terminal to draw on"
    exit 77
fi

# 300 entries: the library reports progress every 64, so the bar is drawn
# several times before the end.
akv put task seed - <<<"a value of some length for the progress test"
expect_rc 0
akv export
"$PY" - "$OUT" "$TMP/dump.jsonl" <<'PY'
import json, sys
line = json.loads(open(sys.argv[1]).read())
with open(sys.argv[2], "w") as f:
    for i in range(300):
        line["key"] = "k%03d" % i
        f.write(json.dumps(line) + "\n")
PY
[ "$(wc -l <"$TMP/dump.jsonl")" -eq 300 ] || fail "no dump"
pass

# on_tty NAME ENV... -- CMD: runs CMD on a pseudo-terminal with ENV set,
# its terminal output (stdout and stderr) in $TMP/NAME.
on_tty() {
    local name=$1
    shift
    local envs=()
    while [ "$1" != "--" ]; do envs+=("$1"); shift; done
    shift
    LAST_CMD="$* (on a terminal, ${envs[*]})"
    env "${envs[@]}" script -qec "$*" /dev/null >"$TMP/$name" 2>&1 </dev/null
    RC=$?
}

t "import of a file shows the share read, in bytes, up to 100%"
on_tty file TERM=xterm -- "'$AGENTKV' --dir '$TMP/s1' import '$TMP/dump.jsonl'"
expect_rc 0
grep -qE 'importing \[[#.]+\] +[0-9]+% [0-9.]+ KiB/[0-9.]+ KiB' "$TMP/file" ||
    fail "expected a percentage of the file's bytes: $(od -c "$TMP/file" | head -5)"
pass
grep -q 'importing \[#*\] 100%' "$TMP/file" || fail "expected the bar to reach 100%"
pass
grep -q "$(printf '\033\\[K')" "$TMP/file" || fail "expected erase sequences on a normal terminal"
pass
grep -q 'imported 300 entries' "$TMP/file" || fail "expected the count"
pass

t "import of a pipe counts entries (no size to compare with)"
on_tty pipe TERM=xterm -- "cat '$TMP/dump.jsonl' | '$AGENTKV' --dir '$TMP/s2' import"
expect_rc 0
grep -q 'importing 64' "$TMP/pipe" || fail "expected an entry count: $(od -c "$TMP/pipe" | head -5)"
pass
if grep -q 'KiB' "$TMP/pipe"; then fail "a pipe has no size to show"; fi
pass

for setting in NO_COLOR=1 TERM=dumb; do
    t "$setting: the bars of import and check carry no escape sequence"
    on_tty plain-import TERM=xterm "$setting" -- "'$AGENTKV' --dir '$TMP/s3-$setting' import '$TMP/dump.jsonl'"
    expect_rc 0
    grep -q 'importing \[#*\] 100%' "$TMP/plain-import" || fail "expected the bar"
    pass
    if grep -q "$(printf '\033')" "$TMP/plain-import"; then
        fail "escape sequence with $setting: $(od -c "$TMP/plain-import" | head -5)"
    fi
    pass
    on_tty plain-check TERM=xterm "$setting" -- "'$AGENTKV' --dir '$TMP/s3-$setting' check"
    expect_rc 0
    grep -q 'checking \[#*\] 100%' "$TMP/plain-check" || fail "expected the bar"
    pass
    if grep -q "$(printf '\033')" "$TMP/plain-check"; then
        fail "escape sequence in check with $setting"
    fi
    pass
    # The bar is erased with spaces before the summary line.
    grep -q "$(printf '\r *\rchecked 300 entries')" "$TMP/plain-check" ||
        fail "expected the bar erased with spaces: $(od -c "$TMP/plain-check" | tail -5)"
    pass
done

finish
