#!/usr/bin/env bash
# run.sh — builds the TypeScript client with its pinned tsc (tsc --strict,
# from package-lock.json, installed by `make deps`) and runs its node:test
# suite against a real `agentkv serve` ($AGENTKV). ctest: clients-typescript.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v node >/dev/null || { echo "node is not installed (make deps)" >&2; exit 1; }
if [ ! -x node_modules/.bin/tsc ]; then
    echo "clients/typescript/node_modules is missing: run make deps" >&2
    exit 1
fi
rm -rf dist
node_modules/.bin/tsc -p .
exec node --test test/*.test.mjs
