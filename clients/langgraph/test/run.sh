#!/usr/bin/env bash
# run.sh [node|validation] — builds the TypeScript client and this package
# with the pinned tsc (package-lock.json files, installed by `make deps`),
# then runs either the node:test suite (ctest: clients-langgraph) or
# LangGraph's checkpointer validation suite under vitest (ctest:
# clients-langgraph-validation), each against a real `agentkv serve`
# ($AGENTKV) started by clients/typescript/test/server.mjs.
set -euo pipefail
cd "$(dirname "$0")/.."
# Node itself comes pinned from the npm registry (the `node` package of
# package-lock.json): the validation suite's vitest needs Node >= 20, more
# than Debian 12's nodejs (18) gives, so every node below is that one.
if [ ! -x node_modules/node/bin/node ]; then
    echo "clients/langgraph/node_modules is missing: run make deps" >&2
    exit 1
fi
export PATH="$PWD/node_modules/node/bin:$PATH"
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
