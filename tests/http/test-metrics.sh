#!/usr/bin/env bash
# test-metrics.sh — /metrics in the Prometheus text format with the names of
# SPEC.md §4, checked by a small validator (tests/http/promcheck.py), its
# counters following the requests made, and the access log: one line per
# request in text and JSON.
. "$(dirname "$0")/lib.sh"

SPEC_METRICS="agentkv_requests_total agentkv_request_duration_seconds
agentkv_hits_total agentkv_misses_total agentkv_entries agentkv_bytes
agentkv_expired_total agentkv_quota_rejections_total
agentkv_integrity_failures_total agentkv_instruction_fetches_total"

# metric NAME{LABELS}: the sample's value from $BODY, or "absent".
metric() {
    local line
    line=$(grep -F "$1 " "$BODY" | head -n 1)
    [ -n "$line" ] && echo "${line##* }" || echo absent
}

t "the validator rejects broken expositions (it can fail)"
printf '# HELP x a\n# TYPE x counter\nx{a="1"} 1\nx{a="1"} 2\ny 3\n' >"$TMP/bad.prom"
! "$PY" "$HERE/promcheck.py" "$TMP/bad.prom" >"$OUT" 2>&1 || fail "accepted a repeated series"
grep -q "repeated series" "$OUT" && grep -q "y has no HELP/TYPE" "$OUT" || fail "validator output: $(cat "$OUT")"
pass
printf '# HELP h a\n# TYPE h histogram\nh_bucket{le="1"} 5\nh_bucket{le="+Inf"} 4\nh_sum 1\nh_count 4\n' >"$TMP/bad.prom"
! "$PY" "$HERE/promcheck.py" "$TMP/bad.prom" >"$OUT" 2>&1 || fail "accepted non-cumulative buckets"
pass

start_server --access-log "$TMP/access.log"
KV=/v1/sandboxes/m1/kv

t "/metrics on a fresh server is valid and declares every SPEC metric"
areq GET /metrics
expect_status 200
expect_header Content-Type 'text/plain; version=0.0.4; charset=utf-8'
"$PY" "$HERE/promcheck.py" "$BODY" $SPEC_METRICS >"$OUT" 2>&1 || fail "$(cat "$OUT")"
pass

t "counters follow requests: hits, misses, requests by route pattern and status"
areq PUT $KV/task/a --data-binary 'alpha'
areq PUT $KV/task/b --data-binary 'beta'
areq PUT $KV/artifacts/c --data-binary 'gamma!'
areq GET $KV/task/a
areq GET $KV/task/a
areq GET $KV/task/missing
areq GET $KV/artifacts/nope
areq GET /metrics
"$PY" "$HERE/promcheck.py" "$BODY" $SPEC_METRICS >"$OUT" 2>&1 || fail "$(cat "$OUT")"
pass
[ "$(metric 'agentkv_hits_total{scope="task"}')" = 2 ] || fail "hits task: $(metric 'agentkv_hits_total{scope="task"}')"
pass
[ "$(metric 'agentkv_misses_total{scope="task"}')" = 1 ] || fail "misses task"
pass
[ "$(metric 'agentkv_misses_total{scope="artifacts"}')" = 1 ] || fail "misses artifacts"
pass
[ "$(metric 'agentkv_requests_total{method="PUT",route="/v1/sandboxes/{sandbox}/kv/{scope}/{key}",status="201"}')" = 3 ] || fail "PUT 201 count"
pass
[ "$(metric 'agentkv_requests_total{method="GET",route="/v1/sandboxes/{sandbox}/kv/{scope}/{key}",status="404"}')" = 2 ] || fail "GET 404 count"
pass
[ "$(metric 'agentkv_request_duration_seconds_count{method="GET",route="/v1/sandboxes/{sandbox}/kv/{scope}/{key}"}')" = 4 ] || fail "histogram count"
pass

t "entries and bytes gauges count the whole store"
# Stored bytes: key + record header (88) + content type (curl's
# application/x-www-form-urlencoded, 33; the CLI's default
# application/octet-stream, 24) + value.
[ "$(metric 'agentkv_entries{scope="task"}')" = 2 ] || fail "entries task: $(metric 'agentkv_entries{scope="task"}')"
pass
[ "$(metric 'agentkv_bytes{scope="task"}')" = $((1 + 88 + 33 + 5 + 1 + 88 + 33 + 4)) ] || fail "bytes task"
pass
[ "$(metric 'agentkv_bytes{scope="artifacts"}')" = $((1 + 88 + 33 + 6)) ] || fail "bytes artifacts"
pass

t "a sandbox only the CLI wrote, which no request named, is counted too"
printf '12345678' | "$AGENTKV" --dir "$STORE" --sandbox cli-only put task k - ||
    fail "CLI put failed"
printf 'abc' | "$AGENTKV" --dir "$STORE" --sandbox cli-only put project k - ||
    fail "CLI put failed"
areq GET /metrics
expect_status 200
[ "$(metric 'agentkv_entries{scope="task"}')" = 3 ] || fail "entries task: $(metric 'agentkv_entries{scope="task"}')"
pass
[ "$(metric 'agentkv_bytes{scope="task"}')" = $((253 + 1 + 88 + 24 + 8)) ] || fail "bytes task: $(metric 'agentkv_bytes{scope="task"}')"
pass
[ "$(metric 'agentkv_bytes{scope="project"}')" = $((1 + 88 + 24 + 3)) ] || fail "bytes project: $(metric 'agentkv_bytes{scope="project"}')"
pass

t "reading an instruction set counts agentkv_instruction_fetches_total{name}"
areq PUT /v1/sandboxes/_global/kv/instructions/style --data-binary 'Write tersely.'
areq GET $KV/instructions/style
expect_status 200
areq GET $KV/instructions/style
areq GET /metrics
[ "$(metric 'agentkv_instruction_fetches_total{name="style"}')" = 2 ] || fail "fetches: $(metric 'agentkv_instruction_fetches_total{name="style"}')"
pass
"$PY" "$HERE/promcheck.py" "$BODY" $SPEC_METRICS >"$OUT" 2>&1 || fail "$(cat "$OUT")"
pass

t "an unmatched route is counted under route=\"unmatched\""
req GET /nope
areq GET /metrics
[ "$(metric 'agentkv_requests_total{method="GET",route="unmatched",status="404"}')" = 1 ] || fail "unmatched count"
pass

t "prune requests add what they remove to agentkv_expired_total"
[ "$(metric 'agentkv_expired_total{scope="task"}')" = 0 ] || fail "expired before"
pass
# An already-expired entry, written by the CLI (import keeps expires_at).
"$PY" - >"$TMP/expired.jsonl" <<'EOF2'
import base64, hashlib, json
v = b"old"
print(json.dumps({"sandbox": "m1", "scope": "task", "key": "old", "origin": "m1",
    "size": 3, "content_type": "text/plain", "sha256": hashlib.sha256(v).hexdigest(),
    "version": 1, "created_at": "2020-01-01T00:00:00.000Z",
    "updated_at": "2020-01-01T00:00:00.000Z", "expires_at": "2020-01-02T00:00:00.000Z",
    "metadata": {}, "value": base64.b64encode(v).decode()}))
EOF2
"$AGENTKV" --dir "$STORE" import "$TMP/expired.jsonl" 2>"$ERR" || fail "import: $(cat "$ERR")"
areq POST /v1/sandboxes/m1/prune
json_check "d['pruned']['task'] == 1"
areq GET /metrics
[ "$(metric 'agentkv_expired_total{scope="task"}')" = 1 ] || fail "expired after prune: $(metric 'agentkv_expired_total{scope="task"}')"
pass

t "the access log has one text line per request"
stop_server
LINES=$(wc -l <"$TMP/access.log")
[ "$LINES" -eq 18 ] || fail "expected 18 access-log lines, got $LINES: $(cat "$TMP/access.log")"
pass
grep -Eq '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3}Z 127\.0\.0\.1:[0-9]+ PUT /v1/sandboxes/m1/kv/task/a 201 [0-9]+ [0-9]+\.[0-9]{6}$' "$TMP/access.log" || fail "text line format: $(head -n 2 "$TMP/access.log")"
pass
grep -Eq ' GET /nope 404 [0-9]+ ' "$TMP/access.log" || fail "no line for /nope"
pass

t "--log-format json writes one JSON object per request"
start_server --access-log "$TMP/access.json" --log-format json
req GET /healthz
raw "b'GARBAGE\r\n\r\n'" --expect-closed
stop_server
"$PY" - "$TMP/access.json" <<'EOF' || fail "JSON access log: $(cat "$TMP/access.json")"
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1])]
assert len(lines) == 2, lines
for l in lines:
    assert set(l) == {"time", "remote", "method", "path", "status", "bytes", "duration"}, l
    assert isinstance(l["duration"], float) and l["time"].endswith("Z")
assert lines[0]["method"] == "GET" and lines[0]["path"] == "/healthz" and lines[0]["status"] == 200 and lines[0]["bytes"] == 15
assert lines[1]["status"] == 400 and lines[1]["method"] == "-"
EOF
pass
grep -q '"level":"info","message":"listening on' "$SERVER_LOG" || fail "server events are not JSON with --log-format json"
pass

t "request duration runs from the first byte of the request (as docs/http.md and the HELP say)"
# The head arrives in two parts 2.5 s apart: the time between counts, so
# the /healthz histogram's sum is at least 1 s (a lower bound only, with
# 1.5 s of room for a busy server that reads the first byte late).
start_server
raw "b'G'" --then "b'ET /healthz HTTP/1.1\\r\\nHost: x\\r\\nConnection: close\\r\\n\\r\\n'" --timeout 2.5
expect_status 200
areq GET /metrics
grep -q "^# HELP agentkv_request_duration_seconds Time from a request's first byte to its response being handed to the socket" "$BODY" ||
    fail "HELP of agentkv_request_duration_seconds: $(grep '^# HELP agentkv_request_duration_seconds ' "$BODY")"
pass
sum=$(metric 'agentkv_request_duration_seconds_sum{method="GET",route="/healthz"}')
awk -v s="$sum" 'BEGIN { exit !(s + 0 >= 1.0) }' || fail "GET /healthz duration sum $sum, expected at least 1 s"
pass
stop_server

finish
