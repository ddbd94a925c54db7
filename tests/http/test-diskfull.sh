#!/usr/bin/env bash
# test-diskfull.sh — a full disk never crashes agentkv (SPEC.md §4): the
# store lives on a small ext4 filesystem of its own (a loop device over a
# file in the test's temporary directory; tmpfs where loop devices are not
# available), the test fills it, and checks that the server and the CLI go
# on reading, that writes fail with `unavailable` (503 / exit 6) and a
# message that says the disk is full, that /readyz tells why writes fail,
# and that writes resume by themselves once space is freed. It also opens
# stores whose counters file has no blocks (as older versions made it) and
# creates a store on the full disk: each used to die of SIGBUS.
#
# Needs root (mount); skips with exit 77 and the reason otherwise. The
# mount and the loop device are removed on every exit path.
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
. "$HERE/lib.sh"

# The server without its write log first (on by default); the log's own
# section is at the end.
printf '[store]\nwrite_log = false\n' >"$TMP/direct.ini"

MNT="$TMP/mnt"
IMG="$TMP/fs.img"
LOOPDEV=""
MOUNTED=0

disk_cleanup() {
    if [ -n "$SERVER_PID" ] && kill -0 "$SERVER_PID" 2>/dev/null; then
        kill -KILL "$SERVER_PID" 2>/dev/null
        wait "$SERVER_PID" 2>/dev/null
    fi
    SERVER_PID=""
    if [ "$MOUNTED" = 1 ]; then
        umount "$MNT" 2>/dev/null || umount -l "$MNT" 2>/dev/null
    fi
    [ -n "$LOOPDEV" ] && losetup -d "$LOOPDEV" 2>/dev/null
    cleanup
}
trap disk_cleanup EXIT
trap 'exit 1' INT TERM HUP # so that the EXIT trap unmounts on a signal too

skip() {
    echo "SKIP: $*"
    exit 77
}

[ "$(id -u)" = 0 ] || skip "needs root to mount a small filesystem"
mkdir -p "$MNT"
FSTYPE=ext4
if command -v mkfs.ext4 >/dev/null &&
    truncate -s 16M "$IMG" && mkfs.ext4 -q -F "$IMG" >/dev/null 2>&1 &&
    LOOPDEV=$(losetup --find --show "$IMG" 2>/dev/null) &&
    mount -t ext4 "$LOOPDEV" "$MNT" 2>/dev/null; then
    MOUNTED=1
else
    if [ -n "$LOOPDEV" ]; then
        losetup -d "$LOOPDEV" 2>/dev/null
        LOOPDEV=""
    fi
    FSTYPE=tmpfs
    mount -t tmpfs -o size=16M,mode=0755 tmpfs "$MNT" 2>/dev/null ||
        skip "cannot mount a 16 MiB ext4 loop device nor a tmpfs"
    MOUNTED=1
fi
echo "# store on a 16 MiB $FSTYPE at $MNT"

STORE="$MNT/store"
head -c 262144 /dev/urandom >"$TMP/v256k"
printf 'small value\n' >"$TMP/small"

# CLI runs: stdout in $OUT, stderr in $ERR, status in $RC.
run() {
    LAST="$*"
    "$@" >"$OUT" 2>"$ERR" </dev/null
    RC=$?
}
expect_rc() {
    [ "$RC" = "$1" ] ||
        fail "expected exit $1, got $RC; stderr: $(head -c 400 "$ERR")"
    pass
}
expect_out() {
    [ "$(cat "$OUT")" = "$1" ] ||
        fail "expected stdout '$1', got '$(head -c 200 "$OUT")'"
    pass
}
expect_out_file() {
    cmp -s "$OUT" "$1" || fail "expected stdout to equal the bytes of $1"
    pass
}
# expect_stderr_start TEXT: stderr is one line starting with TEXT.
expect_stderr_start() {
    [ "$(wc -l <"$ERR")" = 1 ] && grep -qF -- "$1" "$ERR" &&
        [ "$(head -c ${#1} "$ERR")" = "$1" ] ||
        fail "expected one stderr line starting '$1', got '$(head -c 400 "$ERR")'"
    pass
}

# fill NAME: writes zeros to $MNT/NAME until the filesystem refuses. Blocks
# freed by a recent rm become usable only once the journal commits, hence
# a sync before each of two passes (the second in blocks of 1 KiB, the
# block size of so small an ext4).
fill() {
    sync
    cat /dev/zero >>"$MNT/$1" 2>/dev/null
    sync
    dd if=/dev/zero bs=1024 >>"$MNT/$1" 2>/dev/null
}

start_server --config "$TMP/direct.ini"
for i in $(seq 1 20); do
    areq PUT "/v1/sandboxes/sb/kv/task/k$i" --data-binary @"$TMP/v256k"
    [ "$STATUS" = 201 ] || fail "PUT k$i before the disk is full: $STATUS"
done
pass
# A second store, made while there is room, whose counters file is later
# replaced by one without blocks (as older versions made it with
# ftruncate), and a 128 KiB gap for the short-write case below.
"$AGENTKV" --dir "$MNT/old" put task a "$TMP/small" >/dev/null 2>&1 ||
    fail "cannot make the second store"
head -c 131072 /dev/zero >"$MNT/gap"
fill filler

t "reads go on while the disk is full (the first read bumps the shared hit counter)"
areq GET /v1/sandboxes/sb/kv/task/k1
expect_status 200
expect_body_file "$TMP/v256k"
areq GET /v1/sandboxes/sb/kv/task/absent
expect_status 404
areq GET "/v1/sandboxes/sb/kv/task?limit=5"
expect_status 200
kill -0 "$SERVER_PID" 2>/dev/null || fail "the server died"
pass

t "a write on the full disk is 503 unavailable and says the disk is full"
areq PUT /v1/sandboxes/sb/kv/task/new --data-binary @"$TMP/v256k"
expect_error 503 unavailable
json_check '"disk full" in d["error"]["message"] and "data.mdb" in d["error"]["message"]'

t "/readyz stays 200 for reads and says why writes fail"
req GET /readyz
expect_status 200
json_check 'd["status"] == "ready" and d["writable"] is False and d["reason"].startswith("disk full")'

t "/metrics shows agentkv_store_writable 0"
areq GET /metrics
expect_status 200
grep -qx 'agentkv_store_writable 0' "$BODY" || fail "expected agentkv_store_writable 0"
pass

t "the CLI reads the full store and its writes exit 6 with 'disk full'"
run "$AGENTKV" --dir "$STORE" --sandbox sb get task k2
expect_rc 0
expect_out_file "$TMP/v256k"
run "$AGENTKV" --dir "$STORE" --sandbox sb put task new "$TMP/v256k"
expect_rc 6
expect_stderr_start "agentkv: unavailable: disk full: "

t "with a little room left, a short write (EIO inside LMDB) still says disk full"
rm -f "$MNT/gap"
areq PUT /v1/sandboxes/sb/kv/task/new --data-binary @"$TMP/v256k"
expect_error 503 unavailable
json_check '"disk full" in d["error"]["message"]'
fill gap2

t "a store whose counters file has no blocks opens and reads on the full disk"
rm -f "$MNT/old/counters"
truncate -s 4096 "$MNT/old/counters"
fill gap3
run "$AGENTKV" --dir "$MNT/old" get task a
expect_rc 0
expect_out "small value"
run "$AGENTKV" --dir "$MNT/old" stats task
expect_rc 0
run "$AGENTKV" --dir "$MNT/old" get task a
expect_rc 0

t "a store whose counters file is missing opens and reads on the full disk"
rm -f "$MNT/old/counters"
fill gap4
run "$AGENTKV" --dir "$MNT/old" get task a
expect_rc 0
expect_out "small value"

t "a store whose lock.mdb has holes (as LMDB alone made it) opens and reads on the full disk"
rm -f "$MNT/old/lock.mdb"
dd if=/dev/zero of="$MNT/old/lock.mdb" bs=4096 count=1 2>/dev/null
truncate -s 65536 "$MNT/old/lock.mdb"
fill gap5
run "$AGENTKV" --dir "$MNT/old" get task a
expect_rc 0
expect_out "small value"

t "creating a store on the full disk fails cleanly with 'disk full'"
run "$AGENTKV" --dir "$MNT/new" put task a "$TMP/small"
expect_rc 6
expect_stderr_start "agentkv: unavailable: disk full: "

t "the server restarts on the full disk and serves reads"
stop_server
start_server --config "$TMP/direct.ini"
areq GET /v1/sandboxes/sb/kv/task/k3
expect_status 200
expect_body_file "$TMP/v256k"
areq PUT /v1/sandboxes/sb/kv/task/new --data-binary @"$TMP/v256k"
expect_error 503 unavailable
req GET /readyz
expect_status 200
json_check 'd["writable"] is False and d["reason"].startswith("disk full")'

t "writes resume without a restart once space is freed"
rm -f "$MNT"/filler "$MNT"/gap*
sync
req GET /readyz
expect_status 200
json_check 'd["writable"] is True and "reason" not in d'
areq GET /metrics
grep -qx 'agentkv_store_writable 1' "$BODY" || fail "expected agentkv_store_writable 1"
pass
areq PUT /v1/sandboxes/sb/kv/task/new --data-binary @"$TMP/v256k"
expect_status 201
areq GET /v1/sandboxes/sb/kv/task/new
expect_status 200
expect_body_file "$TMP/v256k"
run "$AGENTKV" --dir "$STORE" --sandbox sb put task new2 "$TMP/small"
expect_rc 0
kill -0 "$SERVER_PID" 2>/dev/null || fail "the server died"
pass
stop_server

# ---- the same with the write log (store.write_log) -------------------------

t "with the write log, a write on the full disk is 503, says disk full, and changes nothing"
STORE="$MNT/logged"
printf '[store]\nwrite_log = true\n' >"$TMP/write-log.ini"
start_server --config "$TMP/write-log.ini"
for i in 1 2 3; do
    areq PUT "/v1/sandboxes/sb/kv/task/w$i" --data-binary @"$TMP/v256k"
    [ "$STATUS" = 201 ] || fail "PUT w$i before the disk is full: $STATUS"
done
# A listing waits until data.mdb holds the log: nothing is left to apply.
areq GET "/v1/sandboxes/sb/kv/task?limit=5"
expect_status 200
fill filler
areq PUT /v1/sandboxes/sb/kv/task/wnew --data-binary @"$TMP/v256k"
expect_error 503 unavailable
json_check '"disk full" in d["error"]["message"] and "data.log" in d["error"]["message"]'
req GET /readyz
expect_status 200
json_check 'd["writable"] is False and d["reason"].startswith("disk full")'
areq GET /v1/sandboxes/sb/kv/task/wnew
expect_status 404

t "with the write log on the full disk, gets and listings go on"
areq GET /v1/sandboxes/sb/kv/task/w2
expect_status 200
expect_body_file "$TMP/v256k"
areq GET "/v1/sandboxes/sb/kv/task?limit=5"
expect_status 200
json_check '[i["key"] for i in d["items"]] == ["w1", "w2", "w3"]'

t "with the write log, writes resume once space is freed, and outlive the server"
rm -f "$MNT/filler"
sync
areq PUT /v1/sandboxes/sb/kv/task/wnew --data-binary @"$TMP/v256k"
expect_status 201
areq GET /v1/sandboxes/sb/kv/task/wnew
expect_status 200
expect_body_file "$TMP/v256k"
stop_server
run "$AGENTKV" --dir "$STORE" --sandbox sb get task wnew
expect_rc 0
expect_out_file "$TMP/v256k"

finish
