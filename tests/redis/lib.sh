# lib.sh — shared helpers for the Redis backend's end-to-end tests (sourced
# by tests/redis/test-*.sh). The store's own semantics are covered by the
# unit suite run against Redis (with-redis.sh); these scripts drive the real
# binary: several servers on one redis-server, Redis going away and coming
# back, and moving data between backends.
#
# Each script gets a temporary directory ($TMP) and a private redis-server
# (redis.sh: `redis_start DIR [PORT]` sets REDIS_URL, REDIS_PORT,
# REDIS_PID). On exit — pass or fail — every server it started is killed,
# a stopped (SIGSTOP) redis-server is continued and stopped, and $TMP is
# removed.
#
#   start_server NAME [ARGS...]   `agentkv --backend $BACKEND serve` on a
#                                 free loopback port with its own --dir
#                                 ($TMP/NAME) and the shared tokens file
#                                 $TOKENS; waits for "listening on" and sets
#                                 SURL[NAME], SPID[NAME]; `on NAME` points
#                                 the request helpers at it
#   stop_server NAME              SIGTERM; the server must exit 0
#   req METHOD PATH [CURL ARGS]   status in $STATUS, headers in $HDRS, body
#                                 in $BODY; areq/treq add a bearer token
#   akv ARGS...                   the CLI on the Redis backend: output in
#                                 $OUT/$ERR, exit status in $RC, seconds
#                                 taken in $ELAPSED (runs under `timeout`,
#                                 so a hang is exit 124, not a stuck test)
#
# The first failed expectation prints the case, the last request or
# command, and the servers' logs, and exits non-zero.

set -u

RLIB_HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# The HTTP tests' helpers: $TMP, req/areq/treq, header, expect_*,
# json_check, t, pass, finish. What differs here (several servers, Redis,
# the CLI on it) is defined below and replaces theirs.
. "$RLIB_HERE/../http/lib.sh"
. "$RLIB_HERE/redis.sh"

TOKENS="$TMP/tokens"
RC=0
ELAPSED=0
URL=""
BACKEND=""
declare -A SURL=() SPID=()

cleanup() {
    local n
    for n in "${!SPID[@]}"; do
        if [ -n "${SPID[$n]}" ] && kill -0 "${SPID[$n]}" 2>/dev/null; then
            kill -KILL "${SPID[$n]}" 2>/dev/null
            wait "${SPID[$n]}" 2>/dev/null
        fi
    done
    redis_kill
    rm -rf "$TMP"
}

fail() {
    {
        echo "FAIL [$CASE]: $*"
        echo "  last: $LAST"
        echo "  status/exit: ${STATUS:-} / $RC"
        echo "  headers:"
        sed 's/^/    | /' "$HDRS" 2>/dev/null | head -n 20
        echo "  body (first 800 bytes):"
        head -c 800 "$BODY" 2>/dev/null | sed 's/^/    | /'
        echo
        echo "  stdout / stderr of the last command:"
        head -c 800 "$OUT" 2>/dev/null | sed 's/^/    | /'
        head -c 800 "$ERR" 2>/dev/null | sed 's/^/    ! /'
        local n
        for n in "${!SPID[@]}"; do
            echo "  server $n log (last 12 lines):"
            tail -n 12 "$TMP/$n.log" 2>/dev/null | sed 's/^/    | /'
        done
        echo "$PASSED passed, 1 failed"
    } >&2
    exit 1
}

# now_ms: wall clock in milliseconds (for "answered within" checks).
now_ms() { date +%s%3N; }

# ---- tokens ----------------------------------------------------------------

# new_token ROLE [PATTERN]: creates a token in $TOKENS (no store is
# opened), echoes it.
new_token() {
    local role=$1 pattern=${2:-}
    local args=(--dir "$TMP/tokdir" token create --role "$role" --tokens "$TOKENS")
    [ -n "$pattern" ] && args=(--sandbox "$pattern" "${args[@]}")
    "$AGENTKV" "${args[@]}" 2>"$ERR" || fail "token create --role $role failed: $(cat "$ERR")"
}

# ---- servers ---------------------------------------------------------------

# start_server NAME [ARGS...]: serve on $BACKEND with --dir $TMP/NAME and
# --tokens $TOKENS; no start-up seed (tests begin with an empty store).
start_server() {
    local name=$1
    shift
    local log="$TMP/$name.log"
    : >"$log"
    "$AGENTKV" --backend "$BACKEND" --dir "$TMP/$name" serve \
        --listen 127.0.0.1:0 --no-seed --tokens "$TOKENS" "$@" \
        </dev/null >>"$TMP/$name.out" 2>>"$log" &
    SPID[$name]=$!
    local i
    for i in $(seq 1 200); do
        grep -q "listening on http" "$log" && break
        if ! kill -0 "${SPID[$name]}" 2>/dev/null; then
            wait "${SPID[$name]}"
            RC=$?
            SPID[$name]=""
            fail "server $name exited at start-up (exit $RC)"
        fi
        sleep 0.05
    done
    SURL[$name]=$(sed -n 's/.*listening on \(http:[^ ]*\).*/\1/p' "$log" | head -n 1)
    [ -n "${SURL[$name]}" ] || fail "server $name did not report its address"
    URL=${SURL[$name]}
}

# on NAME: later requests go to server NAME.
on() { URL=${SURL[$1]}; }

stop_server() {
    local name=$1 rc
    [ -n "${SPID[$name]:-}" ] || return 0
    kill -TERM "${SPID[$name]}"
    wait "${SPID[$name]}"
    rc=$?
    SPID[$name]=""
    [ "$rc" -eq 0 ] || fail "server $name exited with $rc after SIGTERM"
}

# hup NAME: SIGHUP, and wait until the server logs the reload of N tokens.
hup() {
    local name=$1 n=$2 log="$TMP/$1.log" i before
    before=$(grep -c "SIGHUP: reloaded" "$log")
    kill -HUP "${SPID[$name]}"
    for i in $(seq 1 100); do
        [ "$(grep -c "SIGHUP: reloaded" "$log")" -gt "$before" ] && break
        sleep 0.05
    done
    tail -n 5 "$log" | grep -q "SIGHUP: reloaded $n tokens" ||
        fail "server $name did not log reloading $n tokens"
}

# ---- requests --------------------------------------------------------------

# wait_status STATUS PATH SECONDS [CURL ARGS]: polls (every 0.1 s) until a
# request answers STATUS; fails after SECONDS.
wait_status() {
    local want=$1 path=$2 secs=$3 i
    shift 3
    for i in $(seq 1 $((secs * 10))); do
        req GET "$path" --max-time 5 "$@"
        [ "$STATUS" = "$want" ] && { pass; return 0; }
        sleep 0.1
    done
    fail "GET $path did not answer $want within ${secs}s"
}

# ---- CLI -------------------------------------------------------------------

# akv ARGS...: the CLI with --backend $BACKEND and --dir ${CLI_DIR:-$TMP/cli},
# at most 20 s (exit 124 when it hangs).
akv() {
    LAST="agentkv --backend $BACKEND $*"
    STATUS=""
    local t0
    t0=$(now_ms)
    timeout -k 2 20 "$AGENTKV" --backend "$BACKEND" --dir "${CLI_DIR:-$TMP/cli}" \
        "$@" >"$OUT" 2>"$ERR" </dev/null
    RC=$?
    ELAPSED=$(( $(now_ms) - t0 ))
}

# akv_in INPUT ARGS...: the same, with stdin from file INPUT.
akv_in() {
    local input=$1
    shift
    LAST="agentkv --backend $BACKEND $* <$input"
    STATUS=""
    local t0
    t0=$(now_ms)
    timeout -k 2 20 "$AGENTKV" --backend "$BACKEND" --dir "${CLI_DIR:-$TMP/cli}" \
        "$@" >"$OUT" 2>"$ERR" <"$input"
    RC=$?
    ELAPSED=$(( $(now_ms) - t0 ))
}

expect_rc() {
    [ "$RC" -eq "$1" ] || fail "expected exit $1, got $RC"
    pass
}
