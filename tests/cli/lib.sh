# lib.sh — shared helpers for the CLI tests (sourced by tests/cli/test-*.sh).
#
# Each test script gets its own temporary directory ($TMP, removed on exit)
# and a store directory inside it ($STORE). Commands are run with `run` (or
# `akv`, which adds --dir $STORE); their stdout, stderr and exit status land
# in $TMP/out, $TMP/err and $RC, and the expect_* helpers check them. The
# first failed expectation prints what was expected and what came, and
# exits non-zero. `finish` prints the "N passed, 0 failed" line.

set -u

if [ -z "${AGENTKV:-}" ] || [ ! -x "$AGENTKV" ]; then
    echo "AGENTKV must name the agentkv binary (got '${AGENTKV:-}')" >&2
    exit 2
fi
# The system interpreter, as in tests/http/lib.sh: a version-manager shim
# in PATH costs a tree of processes per start, and these tests start
# Python often.
PY=python3
[ -x /usr/bin/python3 ] && PY=/usr/bin/python3

TMP=$(mktemp -d "${TMPDIR:-/tmp}/agentkv-cli.XXXXXX") || exit 2
trap 'rm -rf "$TMP"' EXIT
STORE="$TMP/store"
OUT="$TMP/out"
ERR="$TMP/err"
PASSED=0
CASE="(no case)"
RC=0

# Keep the environment from leaking into the tests.
unset AGENTKV_DIR AGENTKV_BACKEND AGENTKV_SANDBOX

# t DESCRIPTION: names the behaviour the next expectations check.
t() { CASE="$*"; }

fail() {
    {
        echo "FAIL [$CASE]: $*"
        echo "  command: ${LAST_CMD:-}"
        echo "  exit status: $RC"
        echo "  stdout (first 20 lines):"
        head -n 20 "$OUT" 2>/dev/null | cut -c1-300 | sed 's/^/    | /'
        echo "  stderr:"
        head -n 20 "$ERR" 2>/dev/null | cut -c1-300 | sed 's/^/    | /'
        echo "$PASSED passed, 1 failed"
    } >&2
    exit 1
}

pass() { PASSED=$((PASSED + 1)); }

# run CMD...: runs CMD with stdin from /dev/null.
run() {
    LAST_CMD="$*"
    "$@" >"$OUT" 2>"$ERR" </dev/null
    RC=$?
}

# run_in FILE CMD...: runs CMD with stdin from FILE.
run_in() {
    local input=$1
    shift
    LAST_CMD="$* < $input"
    "$@" >"$OUT" 2>"$ERR" <"$input"
    RC=$?
}

# akv ARGS...: agentkv on the test's store.
akv() { run "$AGENTKV" --dir "$STORE" "$@"; }
akv_in() {
    local input=$1
    shift
    run_in "$input" "$AGENTKV" --dir "$STORE" "$@"
}

expect_rc() {
    [ "$RC" -eq "$1" ] || fail "expected exit status $1, got $RC"
    pass
}

# expect_ok: exit 0 and nothing on stderr.
expect_ok() {
    [ "$RC" -eq 0 ] || fail "expected success (exit 0), got $RC"
    [ ! -s "$ERR" ] || fail "expected an empty stderr on success"
    pass
}

# expect_out TEXT: stdout is exactly TEXT (plus the final newline that
# command substitution strips).
expect_out() {
    local got
    got=$(cat "$OUT")
    [ "$got" = "$1" ] || fail "expected stdout '$1', got '$got'"
    pass
}

expect_out_empty() {
    [ ! -s "$OUT" ] || fail "expected an empty stdout"
    pass
}

expect_out_contains() {
    grep -qF -- "$1" "$OUT" || fail "expected stdout to contain '$1'"
    pass
}

expect_out_file() {
    cmp -s "$OUT" "$1" || fail "expected stdout to equal the bytes of $1"
    pass
}

expect_err_contains() {
    grep -qF -- "$1" "$ERR" || fail "expected stderr to contain '$1'"
    pass
}

# expect_error CODE EXIT: exactly one stderr line "agentkv: CODE: <message>"
# with a non-empty message, exit status EXIT and nothing on stdout.
expect_error() {
    local code=$1 status=$2 lines first
    [ "$RC" -eq "$status" ] ||
        fail "expected exit status $status ($code), got $RC"
    lines=$(wc -l <"$ERR")
    [ "$lines" -eq 1 ] || fail "expected exactly one line on stderr, got $lines"
    first=$(head -n 1 "$ERR")
    case "$first" in
    "agentkv: $code: "?*) ;;
    *) fail "expected stderr 'agentkv: $code: <message>', got '$first'" ;;
    esac
    [ ! -s "$OUT" ] || fail "expected nothing on stdout for an error"
    pass
}

# json_check PYTHON_EXPR: evaluates the expression with `d` bound to the
# JSON document on stdout (or `lines`, a list of documents for JSON Lines);
# fails unless it is true.
json_check() {
    "$PY" - "$1" "$OUT" <<'EOF' || fail "JSON check failed: $1"
import json, sys
expr, path = sys.argv[1], sys.argv[2]
text = open(path, encoding="utf-8").read()
lines = [json.loads(l) for l in text.splitlines() if l.strip()]
d = lines[0] if len(lines) == 1 else None
ok = eval("(" + expr + "\n)", {"d": d, "lines": lines, "json": json})
if not ok:
    print("  JSON was:", text[:600], file=sys.stderr)
    sys.exit(1)
EOF
    pass
}

# snapshot NAME: saves `export --all-sandboxes` of $STORE as $TMP/NAME.snap.
snapshot() {
    "$AGENTKV" --dir "$STORE" export --all-sandboxes >"$TMP/$1.snap" 2>/dev/null ||
        fail "export for snapshot $1 failed"
}

# expect_unchanged NAME: the store exports the same as at snapshot NAME.
expect_unchanged() {
    "$AGENTKV" --dir "$STORE" export --all-sandboxes >"$TMP/now.snap" 2>/dev/null ||
        fail "export after the command failed"
    cmp -s "$TMP/$1.snap" "$TMP/now.snap" ||
        fail "the store changed (export differs from snapshot $1)"
    pass
}

finish() {
    echo "$PASSED passed, 0 failed"
    exit 0
}

# roundtrip FILE [SPLIT FLAGS...]: `prompt split`, seed into a sandbox of
# its own (nothing else is visible there: _global stays empty in $STORE),
# build inline, compare bytes with FILE (test-split*.sh).
NRT=0
roundtrip() {
    local file=$1
    shift
    # Under the sanitizers, without LeakSanitizer's check at exit: it costs
    # each process about 35 ms, a quarter of test-split-forms' time, and
    # these three commands are leak-checked in cli-split, cli-seed and
    # cli-prompt.
    local ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0"
    export ASAN_OPTIONS
    NRT=$((NRT + 1))
    local out="$TMP/rt/$NRT" sb="rt$NRT"
    run "$AGENTKV" prompt split "$file" --out "$out" "$@"
    [ "$RC" -eq 0 ] || fail "split of $(basename "$file") $* failed"
    run "$AGENTKV" --dir "$STORE" --sandbox "$sb" seed "$out/instructions"
    [ "$RC" -eq 0 ] || fail "seed of the split of $(basename "$file") failed"
    run "$AGENTKV" --dir "$STORE" --sandbox "$sb" prompt build --mode inline \
        --base "$out/core.md"
    [ "$RC" -eq 0 ] || fail "inline build of $(basename "$file") failed"
    cmp -s "$OUT" "$file" ||
        fail "$(basename "$file") $*: inline build differs from the original"
    pass
}
