#!/usr/bin/env bash
# test-limits.sh — the limits no client can push past (SPEC.md §4
# "Behaviour", docs/operations.md "Limits and full disks"):
#   - MCP sessions are capped per token, and one token's sessions never end
#     another token's live session; a full table refuses with 503.
#   - the soft descriptor limit is raised to the hard one at start;
#   - a flood of idle sockets under a low descriptor limit does not lock an
#     authenticated client out, does not flood the log, and the idle sockets
#     are closed by the header timeout;
#   - the upload budget: bodies that do not fit get 503 with Retry-After
#     before they are read (Content-Length and chunked alike), the others
#     succeed, and the budget is given back on every path.
# Everything talks to 127.0.0.1 only and every wait is bounded.
. "$(dirname "$0")/lib.sh"

# Tokens made before the server starts: one agent token per sandbox.
mktoken() {
    "$AGENTKV" --dir "$STORE" --sandbox "$1" token create --role "$2" \
        2>"$ERR" || fail "token create failed: $(cat "$ERR")"
}
ADMIN=$(mktoken '*' admin)
T1=$(mktoken sb1 agent)
T2=$(mktoken sb2 agent)
T3=$(mktoken sb3 agent)
T4=$(mktoken sb4 agent)

# ---- MCP sessions ------------------------------------------------------------

cat >"$TMP/mcp.ini" <<'EOF'
[server]
mcp_sessions = 128
EOF
start_server --config "$TMP/mcp.ini"

t "4,100 sessions of one token never end another token's live session"
"$PY" - "$PORT" "$T1" "$T2" "$T3" "$T4" <<'EOF' || fail "MCP session limits"
import http.client, json, sys
port, t1, t2, t3, t4 = int(sys.argv[1]), *sys.argv[2:6]
conn = http.client.HTTPConnection("127.0.0.1", port, timeout=20)

def post(token, body, sid=None):
    h = {"Authorization": "Bearer " + token,
         "Content-Type": "application/json",
         "Accept": "application/json, text/event-stream"}
    if sid:
        h["Mcp-Session-Id"] = sid
    conn.request("POST", "/mcp", json.dumps(body), h)
    r = conn.getresponse()
    return r.status, dict((k.lower(), v) for k, v in r.getheaders()), r.read()

INIT = {"jsonrpc": "2.0", "id": 1, "method": "initialize",
        "params": {"protocolVersion": "2025-06-18", "capabilities": {},
                   "clientInfo": {"name": "limits", "version": "0"}}}
PING = {"jsonrpc": "2.0", "id": 2, "method": "ping"}

def init(token):
    st, h, b = post(token, INIT)
    return st, h.get("mcp-session-id"), h, b

st, s1, _, b = init(t1)
assert st == 200 and s1, (st, b)
assert post(t1, PING, s1)[0] == 200

# One agent opens 4,100 sessions: only its own oldest ones end.
mine = []
for i in range(4100):
    st, sid, _, b = init(t2)
    assert st == 200 and sid, (i, st, b)
    mine.append(sid)
st, _, b = post(t1, PING, s1)
assert st == 200, ("the other token's session ended", st, b)
assert post(t2, PING, mine[-1])[0] == 200
assert post(t2, PING, mine[-64])[0] == 200, "the 64 newest stay"
assert post(t2, PING, mine[-65])[0] == 404, "at most 64 per token"
assert post(t2, PING, mine[0])[0] == 404

# Fill the table (128): t1 1 + t2 64 + t3 63.
t3s = []
for i in range(63):
    st, sid, _, b = init(t3)
    assert st == 200, (i, st, b)
    t3s.append(sid)
# A token with nothing to give back is refused, nobody is evicted.
st, sid, h, b = init(t4)
assert st == 503 and sid is None, (st, b)
assert h.get("retry-after") == "1", h
err = json.loads(b)["error"]
assert err["code"] == "unavailable" and "mcp_sessions" in err["message"], err
assert post(t1, PING, s1)[0] == 200
assert post(t2, PING, mine[-64])[0] == 200
assert post(t3, PING, t3s[-1])[0] == 200
# A token that holds sessions makes room from its own.
st, sid, _, b = init(t3)
assert st == 200, (st, b)
assert post(t3, PING, t3s[0])[0] == 404
assert post(t3, PING, sid)[0] == 200
assert post(t1, PING, s1)[0] == 200
# DELETE frees a slot for anyone.
conn.request("DELETE", "/mcp", headers={"Authorization": "Bearer " + t1,
                                        "Mcp-Session-Id": s1})
r = conn.getresponse(); r.read()
assert r.status == 204, r.status
st, sid, _, b = init(t4)
assert st == 200 and sid, (st, b)
EOF
pass
stop_server

# ---- descriptors and connections ---------------------------------------------

# serve under a given ulimit: a wrapper in place of the binary.
REAL=$AGENTKV
limited() {
    cat >"$TMP/limited" <<EOF
#!/usr/bin/env bash
$1
exec "$REAL" "\$@"
EOF
    chmod +x "$TMP/limited"
    AGENTKV=$TMP/limited
}

t "serve raises the soft descriptor limit to the hard one"
limited 'ulimit -S -n 200 && ulimit -H -n 4096 || exit 99'
start_server
AGENTKV=$REAL
soft=$(awk '/^Max open files/ {print $4}' "/proc/$SERVER_PID/limits")
hard=$(awk '/^Max open files/ {print $5}' "/proc/$SERVER_PID/limits")
[ "$soft" = 4096 ] && [ "$hard" = 4096 ] || fail "limits: soft $soft hard $hard"
pass
grep -q "limits: 4096 descriptors, raised from 200" "$SERVER_LOG" || fail "no limits line"
pass
stop_server

# flood.py PORT TOKEN: 400 idle sockets (more than the server has
# descriptors), then an authenticated request must get 200 within 10 tries,
# and every idle socket must be closed by the server (header timeout, or
# room made for newer ones): each EOF is waited for, 60 s at most in all.
cat >"$TMP/flood.py" <<'EOF'
import select, socket, subprocess, sys, time
port, token = int(sys.argv[1]), sys.argv[2]
# More idle sockets than the server has descriptors; none sends a byte.
idle = [socket.create_connection(("127.0.0.1", port)) for _ in range(400)]
ok = False
for attempt in range(10):
    r = subprocess.run(["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}",
                        "--max-time", "3", "-H", "Authorization: Bearer " + token,
                        "http://127.0.0.1:%d/v1/sandboxes/sb1/stats" % port],
                       capture_output=True, text=True)
    if r.stdout == "200":
        ok = True
        break
assert ok, "no 200 in 10 tries: %r" % r.stdout
# Every idle socket is closed by the server (header timeout, or room made
# for newer ones): wait for each EOF, at most 60 s in all.
deadline = time.time() + 60
open_ = set(idle)
while open_ and time.time() < deadline:
    ready, _, _ = select.select(list(open_), [], [], 1.0)
    for s in ready:
        try:
            data = s.recv(1)
        except ConnectionResetError:
            data = b""
        assert data == b"", data
        open_.discard(s)
        s.close()
assert not open_, "%d idle sockets still open" % len(open_)
EOF

flood() {
    "$PY" "$TMP/flood.py" "$PORT" "$T1" || fail "flood"
    pass
    local n
    n=$(grep -c "Too many open files" "$SERVER_LOG")
    [ "$n" -le 4 ] || fail "$n lines of 'Too many open files' in the log"
    pass
}

t "a flood of idle sockets under ulimit -n 256 does not lock a client out"
cat >"$TMP/flood.ini" <<'EOF'
[server]
header_timeout = 1s
EOF
limited 'ulimit -n 256 || exit 99'
start_server --config "$TMP/flood.ini"
AGENTKV=$REAL
flood
stop_server

t "out of descriptors (a cap above the limit), a client still gets in"
cat >"$TMP/flood2.ini" <<'EOF'
[server]
header_timeout = 1s
max_connections = 100000
EOF
limited 'ulimit -n 256 || exit 99'
start_server --config "$TMP/flood2.ini"
AGENTKV=$REAL
grep -q "max_connections 100000 leaves little room" "$SERVER_LOG" || fail "no warning about the cap"
pass
flood
grep -q "accept: Too many open files" "$SERVER_LOG" || fail "the flood never ran the server out of descriptors"
pass

t "a connection that sends half a head is answered 408 after the header timeout"
raw "b'GET /healthz HTTP/1.1\r\nHost: x\r\n'" --expect-closed --timeout 5
expect_error 408 invalid_argument
stop_server

# ---- upload budget -------------------------------------------------------------

cat >"$TMP/budget.ini" <<'EOF'
[store]
max_value_size = 4MiB
[server]
upload_budget = 16MiB
EOF
start_server --config "$TMP/budget.ini"

t "uploads over the budget get 503 with Retry-After before their body; the rest succeed"
"$PY" - "$PORT" "$ADMIN" <<'EOF' || fail "upload budget"
import json, select, socket, sys, time
port, token = int(sys.argv[1]), sys.argv[2]
MB3 = 3 * 1024 * 1024

def head(key, extra):
    return ("PUT /v1/sandboxes/sb/kv/task/%s HTTP/1.1\r\nHost: x\r\n"
            "Authorization: Bearer %s\r\n%s\r\n" % (key, token, extra)).encode()

def response(s, timeout=20):
    """One whole response (head and Content-Length body)."""
    s.settimeout(timeout)
    data = b""
    while True:
        if b"\r\n\r\n" in data:
            h, _, rest = data.partition(b"\r\n\r\n")
            n = [int(l.split(b":")[1]) for l in h.split(b"\r\n")
                 if l.lower().startswith(b"content-length:")]
            if len(rest) >= (n[0] if n else 0):
                return h.decode(), rest
        try:
            c = s.recv(65536)
        except ConnectionResetError:
            c = b""
        assert c, "closed without a response: %r" % data
        data += c

def is_busy(h, body):
    assert h.startswith("HTTP/1.1 503 "), h
    assert "\r\nRetry-After: 1\r\n" in h + "\r\n", h
    err = json.loads(body)["error"]
    assert err["code"] == "unavailable", err
    assert "busy with uploads" in err["message"], err

def held(keys):
    """Sends the heads and a first byte of 3 MiB bodies; returns the
    sockets still uploading and the answers of those refused."""
    socks = []
    for k in keys:
        s = socket.create_connection(("127.0.0.1", port))
        s.sendall(head(k, "Content-Length: %d\r\n" % MB3) + b"x")
        socks.append(s)
    return socks

def refused(socks, want):
    """Waits until want of socks have answered (503); returns the others."""
    left = list(socks)
    got = 0
    deadline = time.time() + 20
    while got < want and time.time() < deadline:
        ready, _, _ = select.select(left, [], [], 1.0)
        for s in ready:
            is_busy(*response(s))
            left.remove(s)
            got += 1
    assert got == want, "%d refused, expected %d" % (got, want)
    return left

def finish(socks):
    """Sends the rest of each body; returns the statuses."""
    out = []
    for s in socks:
        try:
            s.sendall(b"x" * (MB3 - 1))
            h, body = response(s)
            out.append(int(h.split(" ")[1]))
            if out[-1] == 503:
                is_busy(h, body)
        except (BrokenPipeError, ConnectionResetError):
            out.append(503) # refused, and the rest of the body reset it
        s.close()
    return out

def both_fit(keys):
    """Two 3 MiB uploads at once both succeed, once the server has given
    back what earlier requests held (it does right after their response
    is written, or when it sees a disconnect: retried, bounded)."""
    for attempt in range(50):
        st = finish(held(["%s%d" % (k, attempt) for k in keys]))
        if st == [201, 201]:
            return
        assert sorted(st) in ([201, 503], [503, 503]), st
        time.sleep(0.1)
    raise AssertionError("the budget was never given back")

# Three 3 MiB uploads at once under a 16 MiB budget, each charged twice
# (the body and the store's copy): exactly one is refused.
socks = held(["a", "b", "c"])
admitted = refused(socks, 1)
assert len(admitted) == 2

# A chunked upload counts as it grows: refused once it would pass 16 MiB.
s = socket.create_connection(("127.0.0.1", port))
s.sendall(head("chunked", "Transfer-Encoding: chunked\r\n"))
piece = b"%x\r\n" % 65536 + b"c" * 65536 + b"\r\n"
for i in range(MB3 // 65536):
    try:
        s.sendall(piece)
    except (BrokenPipeError, ConnectionResetError):
        break
    if select.select([s], [], [], 0)[0]:
        break
is_busy(*response(s))
s.close()

# The admitted ones finish, then the budget is free again.
assert finish(admitted) == [201, 201]
both_fit(["d", "e"])

# A client that disconnects mid-body gives its share back: afterwards two
# uploads fit again.
s = socket.create_connection(("127.0.0.1", port))
s.sendall(head("gone", "Content-Length: %d\r\n" % MB3) + b"x")
s.close()
both_fit(["f", "g"])

# A chunked upload alone fits.
s = socket.create_connection(("127.0.0.1", port))
s.sendall(head("chunked2", "Transfer-Encoding: chunked\r\n") +
          piece * 16 + b"0\r\n\r\n")
h, _ = response(s)
assert h.startswith("HTTP/1.1 201 "), h
EOF
pass
areq GET /v1/sandboxes/sb/kv/task/chunked2
expect_status 200
[ "$(wc -c <"$BODY")" = 1048576 ] || fail "chunked2 is $(wc -c <"$BODY") bytes"
pass
absent sb task chunked
stop_server

finish
