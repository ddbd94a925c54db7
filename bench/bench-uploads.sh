#!/usr/bin/env bash
# bench-uploads.sh — peak memory of `agentkv serve` under concurrent large
# uploads: UPLOADS (default 16) clients PUT a BODY_MIB (default 50) MiB value
# each at the same time, and the server's VmHWM (peak resident set) is read
# from /proc afterwards, next to its upload_budget. It prints how many
# uploads were stored (201) and how many were refused (503 + Retry-After),
# and the peak RSS against the budget, with the load average before and
# after. A measurement, not a test: it asserts nothing. docs/operations.md
# quotes the median of several rounds, at low and at high load.
#
#   bash bench/bench-uploads.sh [BUDGET]       e.g. 256MiB (the default)
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
AGENTKV=${AGENTKV:-build/agentkv}
UPLOADS=${UPLOADS:-16}
BODY_MIB=${BODY_MIB:-50}
BUDGET=${1:-256MiB}
[ -x "$AGENTKV" ] || { echo "bench-uploads: build first (make)" >&2; exit 1; }

TMP=$(mktemp -d)
SERVER_PID=
cleanup() {
    [ -n "$SERVER_PID" ] && kill "$SERVER_PID" 2>/dev/null && wait "$SERVER_PID" 2>/dev/null
    rm -rf "$TMP"
}
trap cleanup EXIT
. bench/lib.sh

PORT=$(free_port)
cat >"$TMP/config.ini" <<EOF
[scope.task]
quota = 4GiB
[server]
upload_budget = $BUDGET
EOF
"$AGENTKV" --dir "$TMP/store" --config "$TMP/config.ini" serve \
    --listen "127.0.0.1:$PORT" --no-auth --log-format json \
    >"$TMP/server.out" 2>"$TMP/server.log" &
SERVER_PID=$!
for _ in $(seq 1 100); do
    grep -q "listening on http" "$TMP/server.log" && break
    sleep 0.05
done

echo "bench-uploads: load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
python3 - "$PORT" "$UPLOADS" "$BODY_MIB" <<'EOF'
import collections, http.client, sys, threading
port, n, mib = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
body = b"u" * (mib << 20)
start = threading.Barrier(n)
status = collections.Counter()

def upload(i):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=300)
    start.wait()
    try:
        c.request("PUT", "/v1/sandboxes/bench/kv/task/u%d" % i, body)
        status[c.getresponse().status] += 1
    except (BrokenPipeError, ConnectionResetError):
        status["reset"] += 1

ts = [threading.Thread(target=upload, args=(i,)) for i in range(n)]
for t in ts: t.start()
for t in ts: t.join()
print("bench-uploads: %d x %d MiB: %s" % (n, mib, dict(sorted(status.items(), key=str))))
EOF
hwm=$(awk '/^VmHWM/ {print $2}' "/proc/$SERVER_PID/status")
echo "bench-uploads: upload_budget $BUDGET, peak RSS (VmHWM) $((hwm / 1024)) MiB"
echo "bench-uploads: load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
