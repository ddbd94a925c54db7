#!/usr/bin/env bash
# test-openapi.sh — the server's route table (`agentkv serve --routes`) and
# the paths of docs/openapi.yaml name the same (method, path) pairs, both
# ways, and docs/http.md mentions every route. The YAML is read with a small
# line-based reader of the `paths:` block (two-space path keys, four-space
# method keys), so no YAML library is needed.
. "$(dirname "$0")/lib.sh"

SRC=${AKV_SOURCE_DIR:-$(cd "$HERE/../.." && pwd)}
SPEC="$SRC/docs/openapi.yaml"
DOC="$SRC/docs/http.md"

t "serve --routes prints the route table without opening a store"
"$AGENTKV" --dir "$TMP/none" serve --routes >"$OUT" 2>"$ERR" || fail "serve --routes failed: $(cat "$ERR")"
[ -s "$OUT" ] && [ ! -e "$TMP/none" ] || fail "no table, or a store was created"
pass
awk '{print $1, $2}' "$OUT" | sort >"$TMP/server.routes"

t "docs/openapi.yaml is an OpenAPI 3.1 document with a paths block"
[ -f "$SPEC" ] || fail "no $SPEC"
head -n 1 "$SPEC" | grep -q '^openapi: 3\.1\.' || fail "not OpenAPI 3.1: $(head -n 1 "$SPEC")"
pass
awk '
    /^paths:[[:space:]]*$/ { inpaths = 1; next }
    inpaths && /^[^[:space:]#]/ { inpaths = 0 }
    inpaths && /^  \/[^[:space:]]*:[[:space:]]*$/ {
        path = $1; sub(/:$/, "", path); next
    }
    inpaths && path != "" && /^    (get|put|post|delete|head|patch|options):/ {
        m = $1; sub(/:.*$/, "", m); print toupper(m), path
    }
' "$SPEC" | sort >"$TMP/openapi.routes"
[ -s "$TMP/openapi.routes" ] || fail "no operations found under paths:"
pass

t "every route the server answers is in docs/openapi.yaml"
MISSING=$(comm -23 "$TMP/server.routes" "$TMP/openapi.routes")
[ -z "$MISSING" ] || fail "routes missing from docs/openapi.yaml: $MISSING"
pass

t "every operation of docs/openapi.yaml is a route of the server"
EXTRA=$(comm -13 "$TMP/server.routes" "$TMP/openapi.routes")
[ -z "$EXTRA" ] || fail "docs/openapi.yaml has operations the server lacks: $EXTRA"
pass

t "docs/http.md documents every route"
while read -r method path; do
    grep -qF "$method $path" "$DOC" || fail "docs/http.md does not mention '$method $path'"
done <"$TMP/server.routes"
pass

finish
