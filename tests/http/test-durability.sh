#!/usr/bin/env bash
# test-durability.sh — a PUT is answered only after its bytes are on disk:
# the server runs under strace, and for every acknowledged PUT the trace
# must show, in this order, the write of a page holding the PUT's value to
# data.mdb, an fdatasync of data.mdb, the write of the meta page through
# LMDB's O_DSYNC descriptor (the commit point), and only then the start of
# the response. Puts sent one at a time and puts sent together (which the
# server gathers into one group commit) are both checked. The crash tests
# (cli-crash) kill the process; this one checks the order of the system
# calls that makes an acknowledged write survive power loss too. Then the
# same with the write log (store.write_log): each acknowledged PUT's value
# written to data.log, and data.log synced, before the answer starts; and
# once the server has stopped, every one of them in data.mdb.
. "$(dirname "$0")/lib.sh"

command -v strace >/dev/null || fail "strace is needed (make deps)"

t "the store and its admin token exist"
start_server --access-log off
stop_server
pass

put() { # I: PUT key k-I with a value only this PUT has
    curl -s -o "$TMP/put-$1" -w '%{http_code}' -X PUT \
        -H "Authorization: Bearer $ADMIN" \
        --data-binary "durable-value-$1-$RANDOM$RANDOM" \
        "$URL/v1/sandboxes/dur/kv/task/k-$1" >"$TMP/code-$1"
}

# traced MODE ID...: a server under strace (MODE lmdb: without the write
# log; log: with it, as by default) takes PUTs of the IDs, the first three
# one at a time and the rest all at once, and stops; the trace must show
# each one durable before its answer.
traced() {
local mode=$1 config=()
shift
local ids=("$@")
config=(--config "$TMP/$mode.ini")
t "the server runs under strace ($mode)"
TRACE="$TMP/trace-$mode"
: >"$SERVER_LOG"
# -qq: no attach/exit lines; -s: whole pages, so a value is seen in them.
# LeakSanitizer cannot run under ptrace: in the sanitizer build the traced
# server does without it (every other test checks for leaks).
ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0" \
strace -f -qq -s 16384 -o "$TRACE" \
    -e trace=openat,write,writev,pwrite64,pwritev,pwritev2,sendmsg,sendto,fdatasync,fsync \
    -e signal=none \
    "$AGENTKV" --dir "$STORE" "${config[@]}" serve --listen 127.0.0.1:0 --no-seed \
    --access-log off </dev/null >>"$TMP/server.out" 2>>"$SERVER_LOG" &
SERVER_PID=$!
for _ in $(seq 1 400); do
    grep -q "listening on http" "$SERVER_LOG" && break
    kill -0 "$SERVER_PID" 2>/dev/null || { SERVER_PID=""; fail "the server exited at start-up"; }
    sleep 0.05
done
URL=$(sed -n 's/.*listening on \(http:[^ ]*\).*/\1/p' "$SERVER_LOG" | head -n 1)
[ -n "$URL" ] || fail "the server did not report its address"
pass

t "puts one at a time, then $((${#ids[@]} - 3)) at once, are all acknowledged ($mode)"
for i in "${ids[@]:0:3}"; do put "$i"; done
local pids=()
for i in "${ids[@]:3}"; do put "$i" & pids+=($!); done
wait "${pids[@]}"
for i in "${ids[@]}"; do
    [ "$(cat "$TMP/code-$i")" = 201 ] || fail "PUT k-$i answered $(cat "$TMP/code-$i")"
done
pass

t "the server stops and the trace is complete ($mode)"
# SIGTERM to the server itself (strace would detach from it on its own
# SIGTERM); strace exits with the server's status when it is gone.
local serve_pid
serve_pid=$(pgrep -P "$SERVER_PID" -f ' serve ') || fail "no server under strace"
kill -TERM "$serve_pid"
wait "$SERVER_PID" || fail "the server (under strace) exited with $?"
SERVER_PID=""
pass

t "every acknowledged PUT was durable before its answer ($mode)"
"$PY" - "$mode" "$TRACE" "$STORE" "${ids[@]}" <<'EOF' || fail "order of system calls (above)"
import re, sys

mode, trace, store, ids = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:]
data_path, log_path = store + '/data.mdb', store + '/data.log'
log_fd = None
line_re = re.compile(r'^(\d+) +(.*)$')
call_re = re.compile(r'^(\w+)\((\d+)?')
resumed_re = re.compile(r'^<\.\.\. (\w+) resumed>')

data_fd = meta_fd = None
pending = {}          # pid -> (name, text) of an unfinished call
events = []           # (kind, fd, text) in the order strace saw them end
starts = []           # (position, text) of response writes, at their start
for raw in open(trace, encoding='utf-8', errors='replace'):
    m = line_re.match(raw.rstrip('\n'))
    if not m:
        continue
    pid, rest = m.group(1), m.group(2)
    r = resumed_re.match(rest)
    if r:
        name, text = pending.pop(pid, (r.group(1), ''))
        text += rest
    else:
        c = call_re.match(rest)
        if not c:
            continue
        name, text = c.group(1), rest
        if name in ('write', 'writev', 'sendmsg', 'sendto') and 'HTTP/1.1 2' in rest:
            starts.append((len(events), rest))
        if rest.endswith('<unfinished ...>'):
            pending[pid] = (name, rest)
            continue
    if name == 'openat' and '"%s"' % log_path in text:
        log_fd = int(text.rsplit('=', 1)[1].split()[0])
        continue
    if name == 'openat' and '"%s"' % data_path in text:
        fd = int(text.rsplit('=', 1)[1].split()[0])
        if 'O_DSYNC' in text or 'O_SYNC' in text:
            meta_fd = fd
        else:
            data_fd = fd
        continue
    c = call_re.match(text)
    fd = int(c.group(2)) if c and c.group(2) else None
    events.append((name, fd, text))

if mode == 'log':
    if log_fd is None:
        sys.exit('data.log was not opened')
    # The log's order: its value in a write to data.log, then a sync of
    # data.log; data.mdb is brought up to date later, by the applier.
    steps = [(lambda name, fd, text, marker: fd == log_fd and
              name.startswith(('write', 'pwrite')) and marker in text,
              'no write of its value to data.log'),
             (lambda name, fd, text, marker: fd == log_fd and
              name in ('fdatasync', 'fsync'),
              'no sync of data.log after the write of its value')]
elif data_fd is None or meta_fd is None:
    sys.exit('data.mdb was not opened twice (data and O_DSYNC meta): '
             'data %s, meta %s' % (data_fd, meta_fd))
else:
    steps = [(lambda name, fd, text, marker: fd == data_fd and
              name.startswith(('write', 'pwrite')) and marker in text,
              'no write of its value to data.mdb'),
             (lambda name, fd, text, marker: fd == data_fd and
              name in ('fdatasync', 'fsync'),
              'no fdatasync of data.mdb after the write of its value'),
             # The commit point: later copies of its page do not matter.
             (lambda name, fd, text, marker: fd == meta_fd and
              name.startswith('pwrite'),
              'no meta page written through O_DSYNC after the sync')]
bad = 0
for i in ids:
    # strace shows the JSON of a response with its quotes escaped.
    marker, key = 'durable-value-%s-' % i, r'\"key\":\"k-%s\"' % i
    answer = [pos for pos, text in starts if key in text]
    if len(answer) != 1:
        print('k-%s: %d responses found' % (i, len(answer)))
        bad += 1
        continue
    step = 0
    for name, fd, text in events[:answer[0]]:
        if steps[step][0](name, fd, text, marker):
            step += 1
            if step == len(steps):
                break
    if step != len(steps):
        print('k-%s: answered with %s' % (i, steps[step][1]))
        bad += 1
print('%d acknowledged PUTs checked, %d out of order' % (len(ids), bad))
sys.exit(1 if bad else 0)
EOF
pass
}

printf '[store]\nwrite_log = false\n' >"$TMP/lmdb.ini"
printf '[store]\nwrite_log = true\n' >"$TMP/log.ini"
traced lmdb 1 2 3 $(seq 10 33)
traced log 101 102 103 $(seq 110 133)

t "once the server has stopped, data.mdb alone holds every PUT taken with the log"
# data.log set aside: nothing could be replayed from it.
mv "$STORE/data.log" "$TMP/data.log.aside" || fail "no data.log"
"$AGENTKV" --dir "$STORE" --sandbox dur ls task --json >"$TMP/list.json" ||
    fail "ls exited $?"
for i in 101 102 103 $(seq 110 133); do
    grep -q "\"k-$i\"" "$TMP/list.json" || fail "k-$i is missing"
done
pass

finish
