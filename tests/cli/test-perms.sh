#!/usr/bin/env bash
# test-perms.sh — the store is private (SPEC.md §3, §4): a store directory
# that agentkv creates is 0700 and every file in it 0600 whatever the umask
# (000, 022, 077, 0277), an existing directory keeps its mode while the
# files agentkv makes in it are 0600, `token create` and `backup` make
# private files too, and `serve` refuses a tokens file that group or others
# may read or write (0644, 0660) while it accepts 0600 and 0400.
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
. "$HERE/lib.sh"

printf 'private value\n' >"$TMP/v"

# expect_mode PATH MODE: stat -c %a of PATH is MODE.
expect_mode() {
    local got
    got=$(stat -c %a "$1" 2>/dev/null)
    [ "$got" = "$2" ] || fail "expected $1 to be mode $2, got '${got:-missing}'"
    pass
}

for mask in 000 022 077 0277; do
    t "umask $mask: a new store directory is 0700 and its files 0600"
    S="$TMP/store-$mask"
    (umask "$mask" && exec "$AGENTKV" --dir "$S" put task k "$TMP/v") \
        >"$OUT" 2>"$ERR" </dev/null
    RC=$?
    LAST_CMD="umask $mask; agentkv --dir $S put task k"
    expect_ok
    expect_mode "$S" 700
    for f in data.mdb lock.mdb counters; do
        expect_mode "$S/$f" 600
    done
    run "$AGENTKV" --dir "$S" get task k
    expect_ok
    expect_out "private value"

    t "umask $mask: token create makes the tokens file 0600 (and its new directory 0700)"
    (umask "$mask" && exec "$AGENTKV" --dir "$TMP/tok-$mask" token create \
        --role admin) >"$OUT" 2>"$ERR" </dev/null
    RC=$?
    expect_rc 0
    expect_mode "$TMP/tok-$mask" 700
    expect_mode "$TMP/tok-$mask/tokens" 600
    expect_mode "$TMP/tok-$mask/tokens.lock" 600

    t "umask $mask: backup makes a 0700 directory with a 0600 data.mdb"
    (umask "$mask" && exec "$AGENTKV" --dir "$S" backup "$TMP/bak-$mask") \
        >"$OUT" 2>"$ERR" </dev/null
    RC=$?
    expect_rc 0
    expect_mode "$TMP/bak-$mask" 700
    expect_mode "$TMP/bak-$mask/data.mdb" 600
done

t "an existing directory keeps its mode; the files made in it are 0600"
mkdir -m 0755 "$TMP/existing"
(umask 000 && exec "$AGENTKV" --dir "$TMP/existing" put task k "$TMP/v") \
    >"$OUT" 2>"$ERR" </dev/null
RC=$?
expect_ok
expect_mode "$TMP/existing" 755
for f in data.mdb lock.mdb counters; do
    expect_mode "$TMP/existing/$f" 600
done

t "token create over a tokens file of mode 0644 leaves it 0600"
chmod 0644 "$TMP/tok-022/tokens"
run "$AGENTKV" --dir "$TMP/tok-022" token create --role agent --sandbox 'sb*'
expect_rc 0
expect_mode "$TMP/tok-022/tokens" 600

# serve_refuses MODE: serve exits 6 at once naming the file and its mode.
SERVE_STORE="$TMP/serve-store"
"$AGENTKV" --dir "$SERVE_STORE" token create --role admin >/dev/null 2>&1 ||
    fail "token create for the serve cases failed"
TOK="$SERVE_STORE/tokens"
serve_refuses() {
    chmod "$1" "$TOK"
    LAST_CMD="chmod $1 tokens; agentkv serve"
    timeout 20 "$AGENTKV" --dir "$SERVE_STORE" serve --listen 127.0.0.1:0 \
        --no-seed >"$OUT" 2>"$ERR" </dev/null
    RC=$?
    expect_error unavailable 6
    expect_err_contains "tokens file $TOK is mode 0$1;"
    expect_err_contains "chmod 600 $TOK"
}
# serve_accepts MODE: serve reaches "listening on", then stops on SIGTERM.
serve_accepts() {
    chmod "$1" "$TOK"
    LAST_CMD="chmod $1 tokens; agentkv serve"
    : >"$ERR"
    "$AGENTKV" --dir "$SERVE_STORE" serve --listen 127.0.0.1:0 --no-seed \
        >"$OUT" 2>"$ERR" </dev/null &
    local pid=$! i up=0
    for i in $(seq 1 200); do
        if grep -q "listening on http" "$ERR"; then
            up=1
            break
        fi
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.05
    done
    kill -TERM "$pid" 2>/dev/null
    wait "$pid"
    RC=$?
    [ "$up" = 1 ] || fail "serve did not start with a tokens file of mode $1"
    expect_rc 0
}

t "serve refuses a tokens file readable by others (0644)"
serve_refuses 644
t "serve refuses a tokens file writable by its group (0660)"
serve_refuses 660
t "serve accepts a tokens file of mode 0600"
serve_accepts 600
t "serve accepts a read-only tokens file (0400)"
serve_accepts 400

t "SIGHUP does not load a tokens file that became readable by others"
chmod 600 "$TOK"
: >"$ERR"
"$AGENTKV" --dir "$SERVE_STORE" serve --listen 127.0.0.1:0 --no-seed \
    >"$OUT" 2>"$ERR" </dev/null &
PID=$!
for i in $(seq 1 200); do
    grep -q "listening on http" "$ERR" && break
    sleep 0.05
done
grep -q "listening on http" "$ERR" || fail "serve did not start"
chmod 644 "$TOK"
kill -HUP "$PID"
for i in $(seq 1 200); do
    grep -q "tokens not reloaded" "$ERR" && break
    sleep 0.05
done
kill -TERM "$PID"
wait "$PID"
RC=$?
expect_rc 0
expect_err_contains "tokens not reloaded, keeping the old ones: tokens file $TOK is mode 0644"

finish
