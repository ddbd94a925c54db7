#!/usr/bin/env bash
# test-config-file.sh — which config file a command reads (docs/config.md):
# --config, else $AGENTKV_CONFIG, else DIR/config.ini, else
# $XDG_CONFIG_HOME/agentkv/config.ini; a named file must exist, a default
# one is used only when present; and `serve` takes its address and threads
# from [server] listen and threads, the flags winning over the file.
. "$(dirname "$0")/lib.sh"
unset AGENTKV_CONFIG
export XDG_CONFIG_HOME="$TMP/xdg"
mkdir -p "$XDG_CONFIG_HOME/agentkv" "$STORE"

# quota_ini FILE SIZE: a config whose task quota is SIZE.
quota_ini() { printf '[scope.task]\nquota = %s\n' "$2" >"$1"; }
head -c 3000 /dev/zero >"$TMP/3k"

# stats_quota: the task quota the command sees, in bytes.
task_quota() {
    "$AGENTKV" --dir "$STORE" "$@" --json stats task |
        "$PY" -c 'import json,sys; print(json.load(sys.stdin)["task"]["quota"])'
}

t "without any file, the defaults apply"
akv put task k "$TMP/3k"
expect_ok
[ "$(task_quota)" = $((100 * 1024 * 1024)) ] || fail "expected the default quota"
pass

t "the user's XDG config file is read when present"
quota_ini "$XDG_CONFIG_HOME/agentkv/config.ini" 2KiB
[ "$(task_quota)" = 2048 ] || fail "expected quota 2048 from $XDG_CONFIG_HOME"
pass
akv put task big "$TMP/3k"
expect_error quota_exceeded 3

t "DIR/config.ini comes before the XDG file"
quota_ini "$STORE/config.ini" 4KiB
[ "$(task_quota)" = 4096 ] || fail "expected quota 4096 from DIR/config.ini"
pass

t "AGENTKV_CONFIG comes before DIR/config.ini, --config before both"
quota_ini "$TMP/env.ini" 5KiB
quota_ini "$TMP/flag.ini" 6KiB
[ "$(AGENTKV_CONFIG="$TMP/env.ini" task_quota)" = 5120 ] || fail "AGENTKV_CONFIG ignored"
pass
[ "$(AGENTKV_CONFIG="$TMP/env.ini" task_quota --config "$TMP/flag.ini")" = 6144 ] ||
    fail "--config did not win over AGENTKV_CONFIG"
pass
[ "$(AGENTKV_CONFIG= task_quota)" = 4096 ] || fail "an empty AGENTKV_CONFIG must count as unset"
pass

t "a file named by AGENTKV_CONFIG must exist"
AGENTKV_CONFIG="$TMP/missing.ini" run "$AGENTKV" --dir "$STORE" ls task
expect_error unavailable 6

t "a bad line in a default file names that file"
printf '[scope.task]\nttl = soon\n' >"$STORE/config.ini"
akv ls task
expect_error invalid_argument 2
expect_err_contains "$STORE/config.ini:2"
rm "$STORE/config.ini" "$XDG_CONFIG_HOME/agentkv/config.ini"

# serve_start ARGS...: starts serve on $STORE and waits for its
# "listening on" line (in $TMP/serve.log).
SERVE_PID=""
serve_start() {
    : >"$TMP/serve.log"
    "$AGENTKV" --dir "$STORE" serve --no-seed --no-auth "$@" \
        </dev/null >/dev/null 2>"$TMP/serve.log" &
    SERVE_PID=$!
    for _ in $(seq 1 200); do
        grep -q "listening on http" "$TMP/serve.log" && return 0
        kill -0 "$SERVE_PID" 2>/dev/null || fail "serve exited: $(cat "$TMP/serve.log")"
        sleep 0.05
    done
    fail "serve did not report its address"
}
serve_stop() {
    kill -TERM "$SERVE_PID" && wait "$SERVE_PID"
    local rc=$?
    SERVE_PID=""
    [ "$rc" -eq 0 ] || fail "serve exited $rc"
}
trap '[ -z "$SERVE_PID" ] || kill "$SERVE_PID" 2>/dev/null; rm -rf "$TMP"' EXIT

t "serve listens where [server] listen says, with [server] threads"
printf '[server]\nlisten = 127.0.0.1:0\nthreads = 3\n' >"$STORE/config.ini"
serve_start
grep -qE 'listening on http://127\.0\.0\.1:[0-9]+ \(3 threads,' "$TMP/serve.log" ||
    fail "expected 127.0.0.1 and 3 threads: $(cat "$TMP/serve.log")"
pass
URL=$(sed -n 's/.*listening on \(http:[^ ]*\).*/\1/p' "$TMP/serve.log" | head -n 1)
[ "$(curl -s -o /dev/null -w '%{http_code}' "$URL/healthz")" = 200 ] ||
    fail "no answer on $URL/healthz"
pass
serve_stop

t "--listen and --threads win over the file"
printf '[server]\nlisten = 127.0.0.1:1\nthreads = 3\n' >"$STORE/config.ini"
serve_start --listen 127.0.0.1:0 --threads 2
grep -qE 'listening on http://127\.0\.0\.1:[0-9]+ \(2 threads,' "$TMP/serve.log" ||
    fail "expected the flags to win: $(cat "$TMP/serve.log")"
pass
if grep -q '127.0.0.1:1 ' "$TMP/serve.log"; then fail "listened on the file's address"; fi
pass
serve_stop

t "a malformed [server] listen is refused before serving"
printf '[server]\nlisten = nowhere\n' >"$STORE/config.ini"
run "$AGENTKV" --dir "$STORE" serve --no-seed --no-auth
expect_error invalid_argument 2
expect_err_contains "listen must be ADDR:PORT"

finish
