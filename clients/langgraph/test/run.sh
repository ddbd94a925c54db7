#!/usr/bin/env bash
# run.sh [node|validation] — builds the TypeScript client and this package
# with the pinned tsc (package-lock.json files, installed by `make deps`),
# then runs either the node:test suite (ctest: clients-langgraph) or
# LangGraph's checkpointer validation suite under vitest (ctest:
# clients-langgraph-validation), each against a real `agentkv serve`
# ($AGENTKV) started by clients/typescript/test/server.mjs.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v node >/dev/null || { echo "node is not installed (make deps)" >&2; exit 1; }
for d in . ../typescript; do
    if [ ! -x "$d/node_modules/.bin/tsc" ]; then
        echo "clients/${d#../}/node_modules is missing: run make deps" >&2
        exit 1
    fi
done
(cd ../typescript && node_modules/.bin/tsc -p .)
rm -rf dist
node_modules/.bin/tsc -p .
case "${1:-node}" in
    node) exec node --test test/*.test.mjs ;;
    validation) exec node_modules/.bin/vitest run --reporter=verbose ;;
    *) echo "usage: run.sh [node|validation]" >&2; exit 2 ;;
esac
