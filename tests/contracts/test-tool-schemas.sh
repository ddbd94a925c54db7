#!/usr/bin/env bash
# test-tool-schemas.sh — runs tool-schemas.mjs (Ajv strict on every tool
# schema agentkv publishes) with Node's test runner against the real
# binary named by AGENTKV.
set -u
. "$(dirname "$0")/npm.sh"
if [ -z "${AGENTKV:-}" ] || [ ! -x "$AGENTKV" ]; then
    echo "AGENTKV must name the agentkv binary (got '${AGENTKV:-}')" >&2
    exit 2
fi
cd "$CONTRACTS" && exec node --test ./tool-schemas.mjs
