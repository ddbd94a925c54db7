# npm.sh — sourced by the contract tests: makes sure the pinned npm tools of
# tests/contracts/package-lock.json (@redocly/cli, ajv) are installed.
# `make deps` installs them (npm ci, only when the lockfile changed); when
# they are missing, this installs them the same way, which needs the npm
# registry. After that the tests run offline.

CONTRACTS="${AKV_SOURCE_DIR:?AKV_SOURCE_DIR must name the source tree}/tests/contracts"
command -v node >/dev/null || { echo "node is not installed (make deps)" >&2; exit 1; }
if [ ! -f "$CONTRACTS/node_modules/.package-lock.json" ] ||
    [ "$CONTRACTS/package-lock.json" -nt "$CONTRACTS/node_modules/.package-lock.json" ]; then
    echo "installing the contract tools (npm ci in tests/contracts)"
    (cd "$CONTRACTS" && npm ci --no-audit --no-fund --loglevel=error) || {
        echo "npm ci failed in $CONTRACTS" >&2
        exit 1
    }
fi
