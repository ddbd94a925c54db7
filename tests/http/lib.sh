# lib.sh — shared helpers for the HTTP tests (sourced by tests/http/test-*.sh).
#
# Each script gets a temporary directory ($TMP, removed on exit, servers
# stopped) and a store directory ($STORE). `start_server [ARGS...]` runs
# `agentkv serve --listen 127.0.0.1:0` on it and waits for the "listening
# on" line, which gives $URL and $PORT; on a first run the admin token is in
# $ADMIN. Requests go through curl:
#
#   req METHOD PATH [CURL ARGS...]    status in $STATUS, headers in $HDRS,
#                                     body in $BODY (files)
#   areq ... / treq TOKEN ...          the same with the admin token / TOKEN
#   raw PYTHON-BYTES-EXPR [OPTS]       sends raw bytes (tests/http/rawhttp.py),
#                                     the whole response in $BODY
#
# and the expect_* helpers check them. The first failed expectation prints
# the case, the request, status, headers and body, and exits non-zero.

set -u

if [ -z "${AGENTKV:-}" ] || [ ! -x "$AGENTKV" ]; then
    echo "AGENTKV must name the agentkv binary (got '${AGENTKV:-}')" >&2
    exit 2
fi
command -v curl >/dev/null || { echo "curl is needed (make deps)" >&2; exit 2; }
# The system interpreter: a version-manager shim in PATH can cost seconds
# per start, and the tests start Python often.
PY=python3
[ -x /usr/bin/python3 ] && PY=/usr/bin/python3

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
TMP=$(mktemp -d "${TMPDIR:-/tmp}/agentkv-http.XXXXXX") || exit 2
STORE="$TMP/store"
HDRS="$TMP/hdrs"
BODY="$TMP/body"
OUT="$TMP/out"
ERR="$TMP/err"
SERVER_LOG="$TMP/server.log"
SERVER_PID=""
PASSED=0
CASE="(no case)"
LAST=""
STATUS=""
unset AGENTKV_DIR AGENTKV_BACKEND AGENTKV_SANDBOX
# The conformance run (tests/redis/with-redis.sh) puts the store in Redis.
[ -n "${AKV_TEST_BACKEND:-}" ] && export AGENTKV_BACKEND=$AKV_TEST_BACKEND

cleanup() {
    if [ -n "$SERVER_PID" ] && kill -0 "$SERVER_PID" 2>/dev/null; then
        kill -KILL "$SERVER_PID" 2>/dev/null
        wait "$SERVER_PID" 2>/dev/null
    fi
    rm -rf "$TMP"
}
trap cleanup EXIT

t() { CASE="$*"; }
pass() { PASSED=$((PASSED + 1)); }

fail() {
    {
        echo "FAIL [$CASE]: $*"
        echo "  request: $LAST"
        echo "  status: $STATUS"
        echo "  headers:"
        sed 's/^/    | /' "$HDRS" 2>/dev/null | head -n 30
        echo "  body (first 1200 bytes):"
        head -c 1200 "$BODY" 2>/dev/null | sed 's/^/    | /'
        echo
        echo "  server log (last 15 lines):"
        tail -n 15 "$SERVER_LOG" 2>/dev/null | sed 's/^/    | /'
        echo "$PASSED passed, 1 failed"
    } >&2
    exit 1
}

finish() {
    echo "$PASSED passed, 0 failed"
    exit 0
}

# ---- server ----------------------------------------------------------------

# start_server [ARGS...]: starts the server on a free loopback port. The
# start-up seed of _global is off (--no-seed) unless SERVE_SEED=1, so that
# tests begin with an empty store.
start_server() {
    : >"$SERVER_LOG"
    local seed=--no-seed
    [ "${SERVE_SEED:-0}" = 1 ] && seed=
    "$AGENTKV" --dir "$STORE" serve --listen 127.0.0.1:0 $seed "$@" \
        </dev/null >>"$TMP/server.out" 2>>"$SERVER_LOG" &
    SERVER_PID=$!
    local i
    for i in $(seq 1 200); do
        if grep -q "listening on http" "$SERVER_LOG"; then
            break
        fi
        if ! kill -0 "$SERVER_PID" 2>/dev/null; then
            SERVER_PID=""
            fail "the server exited at start-up"
        fi
        sleep 0.05
    done
    URL=$(sed -n 's/.*listening on \(http:[^ ]*\).*/\1/p' "$SERVER_LOG" | head -n 1)
    [ -n "$URL" ] || fail "the server did not report its address"
    PORT=${URL##*:}
    local tok
    tok=$(sed -n 's/.*admin token: \(akv_[A-Za-z0-9_-]*\).*/\1/p' "$SERVER_LOG" | head -n 1)
    [ -z "$tok" ] || ADMIN=$tok
}

# stop_server: SIGTERM, and the server must exit 0.
stop_server() {
    [ -n "$SERVER_PID" ] || return 0
    kill -TERM "$SERVER_PID"
    wait "$SERVER_PID"
    local rc=$?
    SERVER_PID=""
    [ "$rc" -eq 0 ] || fail "the server exited with $rc after SIGTERM"
}

# ---- requests --------------------------------------------------------------

# req METHOD PATH [CURL ARGS...]
req() {
    local method=$1 path=$2
    shift 2
    LAST="$method $path $*"
    : >"$HDRS"
    : >"$BODY"
    STATUS=$(curl -s --path-as-is -X "$method" -D "$HDRS" -o "$BODY" \
        -w '%{http_code}' --max-time 20 "$@" "$URL$path")
    [ -n "$STATUS" ] || STATUS=000
}
areq() { req "$1" "$2" -H "Authorization: Bearer $ADMIN" "${@:3}"; }
# treq TOKEN METHOD PATH [CURL ARGS...]
treq() { req "$2" "$3" -H "Authorization: Bearer $1" "${@:4}"; }
# HEAD needs curl's -I so that it does not wait for a body.
ahead() {
    LAST="HEAD $1"
    : >"$BODY"
    STATUS=$(curl -s --path-as-is -I -D "$HDRS" -o /dev/null -w '%{http_code}' \
        -H "Authorization: Bearer $ADMIN" --max-time 20 "${@:2}" "$URL$1")
}

# raw PY_EXPR [rawhttp.py options]: the expression evaluates to the bytes
# to send (b'...'); the response goes to $BODY and its status to $STATUS.
raw() {
    local expr=$1
    shift
    LAST="raw $expr $*"
    : >"$HDRS"
    "$PY" "$HERE/rawhttp.py" --port "$PORT" --send "$expr" "$@" >"$BODY" ||
        fail "rawhttp.py failed"
    STATUS=$(head -n 1 "$BODY" | sed -n 's/^HTTP\/1\.[01] \([0-9][0-9][0-9]\).*/\1/p')
    [ -n "$STATUS" ] || STATUS=000
    # Headers of the (first) response, for expect_header.
    sed -n '2,/^\r*$/p' "$BODY" >"$HDRS"
}

# ---- expectations ----------------------------------------------------------

expect_status() {
    [ "$STATUS" = "$1" ] || fail "expected status $1, got $STATUS"
    pass
}

# expect_header NAME VALUE: the header is present with exactly VALUE.
expect_header() {
    local got
    got=$(grep -i "^$1:" "$HDRS" | head -n 1 | sed 's/^[^:]*: *//; s/\r$//')
    [ "$got" = "$2" ] || fail "expected header $1: '$2', got '$got'"
    pass
}

expect_header_match() {
    local got
    got=$(grep -i "^$1:" "$HDRS" | head -n 1 | sed 's/^[^:]*: *//; s/\r$//')
    [[ "$got" =~ $2 ]] || fail "expected header $1 to match /$2/, got '$got'"
    pass
}

expect_no_header() {
    ! grep -qi "^$1:" "$HDRS" || fail "expected no $1 header"
    pass
}

header() {
    grep -i "^$1:" "$HDRS" | head -n 1 | sed 's/^[^:]*: *//; s/\r$//'
}

expect_body() {
    local got
    got=$(cat "$BODY")
    [ "$got" = "$1" ] || fail "expected body '$1', got '$got'"
    pass
}

expect_body_file() {
    cmp -s "$BODY" "$1" || fail "expected the body to equal the bytes of $1"
    pass
}

expect_body_empty() {
    [ ! -s "$BODY" ] || fail "expected an empty body"
    pass
}

# json_check PYTHON_EXPR [FILE]: `d` is the JSON body (or FILE's JSON);
# fails unless EXPR is true.
json_check() {
    "$PY" - "$1" "${2:-$BODY}" <<'EOF' || fail "JSON check failed: $1"
import json, sys
expr, path = sys.argv[1], sys.argv[2]
text = open(path, "rb").read().decode("utf-8", "replace")
body = text.split("\r\n\r\n", 1)[1] if text.startswith("HTTP/") else text
d = json.loads(body)
if not eval("(" + expr + "\n)", {"d": d, "json": json}):
    print("  JSON was:", body[:800], file=sys.stderr)
    sys.exit(1)
EOF
    pass
}

# expect_error STATUS CODE: the status, a JSON content type and the error
# body of SPEC.md §2 with that code and a non-empty message (checked with a
# regular expression on the compact form the server writes, which is
# faster than starting Python for every case).
expect_error() {
    expect_status "$1"
    expect_header_match Content-Type '^application/json'
    local body re
    body=$(cat "$BODY")
    case "$body" in HTTP/*) body=${body#*$'\r\n\r\n'} ;; esac
    re='^\{"error":\{"code":"'"$2"'","message":"([^"\\]|\\.)+"(,"[a-z_]+":("[^"]*"|[0-9]+))*\}\}$'
    [[ "$body" =~ $re ]] || fail "expected the JSON error body with code $2"
    pass
}

# absent SANDBOX SCOPE KEY: the CLI does not find the entry.
absent() {
    "$AGENTKV" --dir "$STORE" --sandbox "$1" get "$2" "$3" >/dev/null 2>"$ERR"
    local rc=$?
    [ "$rc" -eq 1 ] || fail "expected $1/$2/$3 to be absent (get exit $rc)"
    pass
}
