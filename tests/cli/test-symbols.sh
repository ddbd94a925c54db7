#!/usr/bin/env bash
# test-symbols.sh — libagentkv.so exports its public API and nothing else.
#
# The library is built with hidden visibility; include/*.h marks each public
# function AKV_API. This lists the dynamic symbols the shared library
# defines (nm -D --defined-only) and checks both directions: every exported
# symbol starts with akv_ and is declared AKV_API in include/*.h, and every
# AKV_API declaration is exported (an embedder linking the .so finds it).

. "$(dirname "$0")/lib.sh"

LIB=${AKV_SHARED_LIB:-}
if [ -z "$LIB" ] || [ ! -f "$LIB" ]; then
    echo "AKV_SHARED_LIB must name libagentkv.so (got '$LIB')" >&2
    exit 2
fi
if ! command -v nm >/dev/null 2>&1; then
    echo "SKIP: nm (binutils) is not installed"
    exit 77
fi

# Names declared AKV_API in the public headers (a declaration may wrap,
# also between its return type and its name).
perl -0777 -ne 'print "$1\n" while /^AKV_API\b[^;(]*?\b(akv_[a-z0-9_]*)\(/mg' \
    "$AKV_SOURCE_DIR"/include/*.h | sort -u >"$TMP/declared"
nm -D --defined-only "$LIB" | awk '{ print $NF }' | sed 's/@.*//' |
    sort -u >"$TMP/exported"

t "the public headers declare the API with AKV_API"
[ "$(wc -l <"$TMP/declared")" -ge 50 ] ||
    fail "only $(wc -l <"$TMP/declared") AKV_API declarations found"
pass

t "every exported symbol starts with akv_"
bad=$(grep -v '^akv_' "$TMP/exported" | head -20)
[ -z "$bad" ] || fail "exported without the akv_ prefix: $(echo $bad)"
pass

t "every exported symbol is declared AKV_API in include/"
bad=$(comm -23 "$TMP/exported" "$TMP/declared" | head -20)
[ -z "$bad" ] || fail "exported but not declared in include/: $(echo $bad)"
pass

t "every function the public headers declare is marked AKV_API"
# A declaration starts at column 0 with a type and names an akv_ function;
# one without AKV_API would be hidden from embedders.
bad=$(grep -hE '^[a-z][a-z0-9_ ]*[ *]akv_[a-z0-9_]*\(' "$AKV_SOURCE_DIR"/include/*.h |
    grep -vE '^(typedef|static|return) ' | head -20)
[ -z "$bad" ] || fail "declared without AKV_API: $bad"
pass

t "every AKV_API declaration is exported"
bad=$(comm -13 "$TMP/exported" "$TMP/declared" | head -20)
[ -z "$bad" ] || fail "declared AKV_API but not exported: $(echo $bad)"
pass

echo "libagentkv.so exports $(wc -l <"$TMP/exported") symbols"
finish
