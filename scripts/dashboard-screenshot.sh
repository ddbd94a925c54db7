#!/usr/bin/env bash
# dashboard-screenshot.sh [OUT.png] — writes the screenshot of the dashboard
# shown in the README (default docs/dashboard.png): the browser test of
# tests/browser/ fills a temporary store with sample data, signs in as an
# admin and saves the page at 1280x900. Needs `make build` (and `make deps`
# for chromium and playwright-core).
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
out=$(realpath -m "${1:-$root/docs/dashboard.png}")
export AGENTKV=${AGENTKV:-$root/build/agentkv}
export AKV_DASHBOARD_SCREENSHOT=$out
bash "$root/tests/browser/run.sh" "$root/tests/browser/dashboard.test.mjs" >/dev/null
echo "dashboard-screenshot: wrote $out"
