#!/usr/bin/env bash
# admin-token.sh AGENTKV DIR — prints an admin token of the store in DIR
# that the tokens file still lists, for `make run`: the one saved in
# DIR/admin-token (by the server's first start, or by an earlier run of
# this script), else a new one labelled "make run", saved there with mode
# 0600. So `make run` shows the same token on every run instead of minting
# another. Prints nothing, and exits 0, when DIR has no tokens file yet: the
# server's first start creates and prints the token then.
set -euo pipefail
agentkv=$1
dir=$2
tokens="$dir/tokens"
saved="$dir/admin-token"
[ -f "$tokens" ] || exit 0
if [ -s "$saved" ]; then
    tok=$(head -n 1 "$saved")
    hash=$(printf '%s' "$tok" | sha256sum | cut -d' ' -f1)
    # Still listed (not revoked) and still an admin token?
    if grep -q "^[0-9a-f]* $hash admin " "$tokens"; then
        printf '%s\n' "$tok"
        exit 0
    fi
fi
tok=$("$agentkv" --dir "$dir" token create --role admin --label "make run" 2>/dev/null)
(umask 077 && printf '%s\n' "$tok" >"$saved.tmp" && mv "$saved.tmp" "$saved")
printf '%s\n' "$tok"
