#!/usr/bin/env bash
# test-openapi.sh — docs/openapi.yaml passes Redocly CLI's lint with no
# error and no warning (redocly.yaml: the recommended rules, as errors; the
# few waivers are in .redocly.lint-ignore.yaml with their reasons). The
# lint runs with telemetry and the update check off and no remote ruleset,
# so it works offline; where strace is installed, the test also checks
# that the lint opens no network connection.
set -u
. "$(dirname "$0")/npm.sh"

export REDOCLY_TELEMETRY=off REDOCLY_SUPPRESS_UPDATE_NOTICE=true
redocly="$CONTRACTS/node_modules/.bin/redocly"
spec="$AKV_SOURCE_DIR/docs/openapi.yaml"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/agentkv-openapi.XXXXXX") || exit 2
trap 'rm -rf "$tmp"' EXIT

passed=0
lint=("$redocly" lint --config "$CONTRACTS/redocly.yaml" --format stylish "$spec")
if command -v strace >/dev/null 2>&1; then
    strace -f -qq -e trace=connect -o "$tmp/trace" "${lint[@]}" >"$tmp/out" 2>&1
    rc=$?
else
    echo "strace is not installed: not checking that the lint stays offline"
    "${lint[@]}" >"$tmp/out" 2>&1
    rc=$?
fi
cat "$tmp/out"
if [ "$rc" -ne 0 ]; then
    echo "FAIL: redocly lint exited $rc on docs/openapi.yaml"
    echo "0 passed, 1 failed"
    exit 1
fi
passed=$((passed + 1))
# "Woohoo! Your API description is valid." comes only with no problem at
# all; the exit status alone would let warnings through.
if ! grep -q 'Your API description is valid' "$tmp/out"; then
    echo "FAIL: redocly lint reported problems"
    echo "$passed passed, 1 failed"
    exit 1
fi
passed=$((passed + 1))
if [ -f "$tmp/trace" ]; then
    if grep -E 'AF_INET6?' "$tmp/trace" >"$tmp/net"; then
        echo "FAIL: the lint opened network connections:"
        head -5 "$tmp/net"
        echo "$passed passed, 1 failed"
        exit 1
    fi
    passed=$((passed + 1))
fi
echo "$passed passed, 0 failed"
