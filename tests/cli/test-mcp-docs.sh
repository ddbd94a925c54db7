#!/usr/bin/env bash
# test-mcp-docs.sh — docs/mcp.md's tool reference is exactly what
# `agentkv tools --format markdown` prints (so the document cannot drift
# from the tool table), every tool is documented, and `mcp` and `tools`
# have help pages.
. "$(dirname "$0")/lib.sh"

DOC="${AKV_SOURCE_DIR:?}/docs/mcp.md"

t "docs/mcp.md holds the generated tool reference verbatim"
run "$AGENTKV" tools --format markdown
expect_ok
cp "$OUT" "$TMP/generated.md"
sed -n '/^<!-- BEGIN TOOL REFERENCE -->$/,/^<!-- END TOOL REFERENCE -->$/p' "$DOC" |
    sed '1d;$d' >"$TMP/documented.md"
[ -s "$TMP/documented.md" ] || fail "no tool reference between the markers in $DOC"
pass
diff -u "$TMP/documented.md" "$TMP/generated.md" >"$TMP/diff" ||
    fail "docs/mcp.md's tool reference differs from the table: $(head -c 2000 "$TMP/diff")
regenerate it with: agentkv tools --format markdown"
pass

t "every tool of SPEC.md §7 has a section"
for tool in get_instruction list_instructions put_instruction put_artifact \
    get_artifact list_artifacts delete_artifact put_project_summary \
    get_project_summary kv_put kv_get kv_delete kv_list cache_stats \
    prune_cache; do
    grep -qxF "### \`$tool\`" "$DOC" || fail "docs/mcp.md has no section for $tool"
    pass
done

t "mcp and tools have help pages"
run "$AGENTKV" help mcp
expect_ok
expect_out_contains "usage: agentkv mcp"
run "$AGENTKV" tools --help
expect_ok
expect_out_contains "--format"

t "an unknown format is invalid_argument"
run "$AGENTKV" tools --format yaml
expect_error invalid_argument 2

finish
