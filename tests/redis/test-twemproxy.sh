#!/usr/bin/env bash
# test-twemproxy.sh — agentkv behind twemproxy (Debian's nutcracker), the
# proxy that shards by hash tag over plain Redis servers and forwards
# single-key commands only: here three redis-servers behind one
# nutcracker with hash_tag "{}". agentkv cannot run through it (it needs
# INFO, EVAL over a namespace's keys, SCAN of every node and WAIT, which
# the proxy does not pass on), so it must refuse at open with an error that
# names the proxy limitation — never what it once did: an import spanning
# two sandboxes reported as done (exit 0) with one entry gone, written on
# the wrong shard by a script routed by its first key. The same import is
# then written through the servers themselves, one namespace at a time.
. "$(dirname "$0")/lib.sh"

command -v nutcracker >/dev/null ||
    { echo "nutcracker (twemproxy) is needed (make deps)" >&2; exit 2; }

declare -a SHARD_PORTS=() SHARD_PIDS=()
PROXY_PID=""
stop_all() {
    local p
    [ -n "$PROXY_PID" ] && { kill -TERM "$PROXY_PID"; wait "$PROXY_PID"; } 2>/dev/null
    for p in "${SHARD_PIDS[@]}"; do kill -TERM "$p"; wait "$p"; done 2>/dev/null
}
trap 'stop_all; cleanup' EXIT

for i in 1 2 3; do
    port=$(redis_free_port)
    mkdir -p "$TMP/shard$i"
    redis-server --port "$port" --bind 127.0.0.1 --dir "$TMP/shard$i" \
        --appendonly yes --appendfsync always --save '' --daemonize no \
        --logfile "$TMP/shard$i/redis.log" </dev/null >/dev/null 2>&1 &
    SHARD_PIDS+=($!)
    SHARD_PORTS+=("$port")
done
PROXY_PORT=$(redis_free_port)
cat >"$TMP/nutcracker.yml" <<EOF
agentkv:
  listen: 127.0.0.1:$PROXY_PORT
  hash: murmur
  hash_tag: "{}"
  distribution: ketama
  redis: true
  auto_eject_hosts: false
  servers:
   - 127.0.0.1:${SHARD_PORTS[0]}:1 s1
   - 127.0.0.1:${SHARD_PORTS[1]}:1 s2
   - 127.0.0.1:${SHARD_PORTS[2]}:1 s3
EOF
# -s: its stats port, free too (the default 22222 may be taken).
nutcracker -c "$TMP/nutcracker.yml" -o "$TMP/nutcracker.log" \
    -s "$(redis_free_port)" </dev/null \
    >/dev/null 2>&1 &
PROXY_PID=$!
for i in $(seq 1 200); do
    up=1
    for p in "${SHARD_PORTS[@]}" "$PROXY_PORT"; do
        redis-cli -p "$p" ping 2>/dev/null | grep -q PONG || up=0
    done
    [ "$up" = 1 ] && break
    sleep 0.05
done
[ "$up" = 1 ] || { echo "the shards or the proxy did not start" >&2; exit 2; }

# Keys on every shard, read below the proxy.
shard_keys() {
    local p
    for p in "${SHARD_PORTS[@]}"; do redis-cli -p "$p" --scan --pattern "$1"; done
}

# The shard that holds KEY, written through the proxy.
shard_of() {
    local p
    redis-cli -p "$PROXY_PORT" set "$1" x >/dev/null
    for p in "${SHARD_PORTS[@]}"; do
        [ "$(redis-cli -p "$p" exists "$1")" = 1 ] && echo "$p"
    done
    redis-cli -p "$PROXY_PORT" del "$1" >/dev/null
}

t "the proxy shards by hash tag: two sandboxes on two shards"
SB_A=imp-a
SB_B=""
for c in b c d e f g h i j k l m n o p; do
    if [ "$(shard_of "probe:{3:imp-$c}:v")" != "$(shard_of "probe:{3:$SB_A}:v")" ]; then
        SB_B=imp-$c
        break
    fi
done
[ -n "$SB_B" ] || fail "every sandbox's keys on one shard"
pass

"$PY" "$(dirname "$0")/../helpers/import-lines.py" "$TMP/two.jsonl" \
    "$SB_A" "$SB_B" || fail "writing the import file"

t "an import spanning two sandboxes through the proxy is refused, naming it"
BACKEND="redis://127.0.0.1:$PROXY_PORT"
akv import "$TMP/two.jsonl"
expect_rc 2
grep -q 'invalid_argument: .*refuses INFO.*twemproxy (nutcracker)' "$ERR" ||
    fail "message: $(cat "$ERR")"
grep -q 'imported' "$ERR" && fail "an import reported as done"
[ -z "$(shard_keys 'akv:*')" ] || fail "keys written: $(shard_keys 'akv:*')"
pass

t "every operation is refused alike, never served from one shard"
printf 'v' >"$TMP/v"
akv --sandbox "$SB_A" put task x "$TMP/v"
expect_rc 2
grep -q 'refuses INFO' "$ERR" || fail "message: $(cat "$ERR")"
akv --sandbox "$SB_A" get task x
expect_rc 2
akv stats --all-sandboxes
expect_rc 2
[ -z "$(shard_keys 'akv:*')" ] || fail "keys written: $(shard_keys 'akv:*')"
pass

t "a server through the proxy is not ready, and says why"
start_server P
req GET /readyz
expect_status 503
grep -q 'refuses INFO' "$BODY" "$TMP/P.log" || fail "no reason given"
stop_server P
pass

t "through a shard itself, the same import writes both sandboxes"
BACKEND="redis://127.0.0.1:${SHARD_PORTS[0]}"
akv import "$TMP/two.jsonl"
expect_rc 0
grep -qx "imported 2 entries ($SB_A/task: 1, $SB_B/task: 1)" "$ERR" ||
    fail "report: $(cat "$ERR")"
for sb in "$SB_A" "$SB_B"; do
    akv --sandbox "$sb" get task x
    expect_rc 0
    [ "$(cat "$OUT")" = "value of $sb" ] || fail "$sb: got $(cat "$OUT")"
done
pass

finish
