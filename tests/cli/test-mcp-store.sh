#!/usr/bin/env bash
# test-mcp-store.sh — `agentkv mcp` says on stderr which store it serves:
# an MCP client starts it in a directory of the client's choosing, where the
# default ./.agentkv is created empty. The line gives the absolute path,
# whether the store was created or already existed, and the sandbox; stdout
# carries protocol messages only.
. "$(dirname "$0")/lib.sh"
if [ -n "${AGENTKV_BACKEND:-}" ]; then
    echo "SKIP: the store line names a directory only for the embedded store"
    exit 77
fi

mkdir -p "$TMP/client-cwd"
cd "$TMP/client-cwd" || fail "cd"
CWD=$(pwd -P)

t "a fresh default store is named, absolute, as created and empty"
run "$AGENTKV" mcp
expect_rc 0
expect_out_empty
[ "$(wc -l <"$ERR")" -eq 1 ] || fail "expected one line on stderr"
pass
expect_err_contains "agentkv mcp: store $CWD/.agentkv (created, empty), sandbox default; pass --dir"

t "the second start names the same store as existing"
run "$AGENTKV" --sandbox proj mcp
expect_rc 0
expect_err_contains "agentkv mcp: store $CWD/.agentkv (existing), sandbox proj"

t "a relative --dir is shown absolute"
"$AGENTKV" --dir "$TMP/elsewhere" put task k - <<<"v" || fail "put"
run "$AGENTKV" --dir ../elsewhere mcp
expect_rc 0
expect_err_contains "agentkv mcp: store $(cd "$TMP/elsewhere" && pwd -P) (existing), sandbox default"

finish
