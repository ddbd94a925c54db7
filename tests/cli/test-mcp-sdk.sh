#!/usr/bin/env bash
# test-mcp-sdk.sh — runs the MCP tests of tests/mcp/*.test.mjs: the official
# clients @modelcontextprotocol/sdk 1.x (2024-10-07 … 2025-11-25) and
# @modelcontextprotocol/client 2.x (2026-07-28), pinned in
# tests/mcp/package-lock.json, against the real binary over stdio and
# streamable HTTP, and raw JSON-RPC input over stdio and HTTP. `make deps` installs the SDK (npm ci in tests/mcp); when
# it is missing, this script installs it the same way. The negotiated
# protocol versions are printed in the output ("negotiated …").
set -u

if [ -z "${AGENTKV:-}" ] || [ ! -x "$AGENTKV" ]; then
    echo "AGENTKV must name the agentkv binary (got '${AGENTKV:-}')" >&2
    exit 2
fi
dir="${AKV_SOURCE_DIR:?AKV_SOURCE_DIR must name the source tree}/tests/mcp"
command -v node >/dev/null || { echo "node is not installed (make deps)" >&2; exit 1; }

if [ ! -f "$dir/node_modules/@modelcontextprotocol/sdk/package.json" ] ||
   [ ! -f "$dir/node_modules/@modelcontextprotocol/client/package.json" ]; then
    echo "test-mcp-sdk: installing the MCP SDK (npm ci in tests/mcp)"
    (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error) || {
        echo "npm ci failed in $dir" >&2
        exit 1
    }
fi

cd "$dir" && exec node --test ./*.test.mjs
