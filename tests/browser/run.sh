#!/usr/bin/env bash
# run.sh TEST.mjs — runs one browser test of tests/browser/ with node's test
# runner: playwright-core (pinned in package-lock.json) drives Debian's
# chromium against the real binary ($AGENTKV). `make deps` installs both;
# when the npm package is missing, this script installs it the same way.
# A missing browser is a failure that says how to get one, never a skip.
set -u

if [ -z "${AGENTKV:-}" ] || [ ! -x "$AGENTKV" ]; then
    echo "AGENTKV must name the agentkv binary (got '${AGENTKV:-}')" >&2
    exit 2
fi
dir=$(cd "$(dirname "$0")" && pwd)
command -v node >/dev/null || { echo "node is not installed (make deps)" >&2; exit 1; }
browser=${AKV_CHROMIUM:-/usr/bin/chromium}
[ -x "$browser" ] || { echo "no browser at $browser: make deps installs Debian's chromium" >&2; exit 1; }

if [ ! -f "$dir/node_modules/playwright-core/package.json" ]; then
    echo "browser test: installing playwright-core (npm ci in tests/browser)"
    (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error) || {
        echo "npm ci failed in $dir" >&2
        exit 1
    }
fi

cd "$dir" && exec node --test "$@"
