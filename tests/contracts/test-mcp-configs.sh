#!/usr/bin/env bash
# test-mcp-configs.sh — runs mcp-configs.mjs (the MCP client configurations
# of docs/mcp.md, run as written against the real binary) with Node's test
# runner.
set -u
if [ -z "${AGENTKV:-}" ] || [ ! -x "$AGENTKV" ]; then
    echo "AGENTKV must name the agentkv binary (got '${AGENTKV:-}')" >&2
    exit 2
fi
: "${AKV_SOURCE_DIR:?AKV_SOURCE_DIR must name the source tree}"
command -v node >/dev/null || { echo "node is not installed (make deps)" >&2; exit 1; }
cd "$AKV_SOURCE_DIR/tests/contracts" && exec node --test ./mcp-configs.mjs
