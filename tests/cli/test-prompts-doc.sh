#!/usr/bin/env bash
# test-prompts-doc.sh — the worked example of docs/prompts.md reproduces:
# its commands, run on docs/examples/support-agent.md with this build, give
# the token counts, reductions and saving the page and the README print
# (split, seed, inline round trip, the reference build's report, hybrid,
# the manifest beside _global's sets, expected figures from fetches made
# through the MCP server, advise, search, budget, the bundled sets). When the tokenizer, the catalog text or the example
# changes, this fails until the figures are updated.
. "$(dirname "$0")/lib.sh"

SRC="${AKV_SOURCE_DIR:?}"
DOC="$SRC/docs/prompts.md"
README="$SRC/README.md"
cp "$SRC/docs/examples/support-agent.md" "$TMP/prompt.md"
cd "$TMP" || fail "cd $TMP"

# doc_has FILE TEXT: TEXT appears verbatim in FILE.
doc_has() { grep -qF -- "$2" "$1" || fail "$(basename "$1") lacks: $2"; pass; }

t "tokens prompt.md prints the count the page shows"
run "$AGENTKV" tokens prompt.md
expect_ok
doc_has "$DOC" "$(cat "$OUT")"

t "the review, the split and lint print what the page shows"
akv prompt split prompt.md --keep 1 --review
expect_ok
[ ! -e support ] || fail "--review wrote files"
for n in 1 2 3 4 $(($(wc -l <"$OUT") - 2)) $(($(wc -l <"$OUT") - 1)) $(wc -l <"$OUT"); do
    doc_has "$DOC" "$(sed -n "${n}p" "$OUT")"
done
akv prompt split prompt.md --out support --keep 1
expect_ok
while IFS= read -r line; do doc_has "$DOC" "$line"; done <"$OUT"
head -n 3 support/instructions/refund-rules.md | tail -n 1 >"$TMP/desc"
doc_has "$DOC" "$(cat "$TMP/desc")"
akv prompt lint support/instructions
expect_ok
doc_has "$DOC" "$(cat "$OUT")"

t "seed and the inline round trip"
akv --sandbox support seed support/instructions
expect_ok
doc_has "$DOC" "$(cat "$OUT")"
akv --sandbox support prompt build --mode inline --base support/core.md
expect_ok
cmp -s "$OUT" prompt.md || fail "inline build differs from prompt.md"
pass

t "the reference build's report is the one on the page"
akv --sandbox support prompt build --base support/core.md --report \
    --price 2.50 --runs-per-day 10000
expect_rc 0
grep -E '^(mode|baseline tokens|built tokens|reduction|yearly saving):' "$ERR" >"$TMP/report"
[ "$(wc -l <"$TMP/report")" = 5 ] || fail "report: $(cat "$ERR")"
while IFS= read -r line; do doc_has "$DOC" "$line"; done <"$TMP/report"
built=$(sed -n 's/^built tokens: *//p' "$TMP/report")
red=$(sed -n 's/^reduction: *//p' "$TMP/report")
doc_has "$DOC" "saves $red;"
# The catalog excerpt on the page: its first, second and last lines.
grep '^- get_instruction(' "$OUT" | sed -n '1p;2p;$p' >"$TMP/excerpt"
[ "$(wc -l <"$TMP/excerpt")" = 3 ] || fail "catalog: $(cat "$OUT")"
while IFS= read -r line; do doc_has "$DOC" "$line"; done <"$TMP/excerpt"
tr '\n' ' ' <"$README" | grep -qF "2,478 to $built tokens, $red" ||
    fail "README does not say '2,478 to $built tokens, $red'"
pass

t "hybrid with escalation-policy inlined"
akv --sandbox support prompt build --base support/core.md --inline escalation-policy --report
expect_rc 0
built=$(sed -n 's/^built tokens: *//p' "$ERR")
red=$(sed -n 's/^reduction: *//p' "$ERR")
tr '\n' ' ' <"$DOC" | grep -qF "$built tokens, $red less" ||
    fail "prompts.md does not say '$built tokens, $red less' for hybrid"
pass

t "beside the default sets in _global, --manifest rebuilds the original"
akv seed --global
expect_ok
akv --sandbox support prompt build --mode inline --base support/core.md --manifest support/manifest.json
expect_ok
cmp -s "$OUT" prompt.md || fail "inline build with --manifest differs from prompt.md"
pass
doc_has "$DOC" "the baseline of \`--report\` is the original prompt ($("$AGENTKV" tokens prompt.md | cut -f1) tokens)"

t "step 6: the recorded runs and fetches give the expected figures on the page"
# 20 prompts built for agents and 27 fetches, through the MCP server.
"$PY" - >calls.jsonl <<'PYEOF'
import json
msgs = [{"jsonrpc": "2.0", "id": 0, "method": "initialize", "params": {
    "protocolVersion": "2025-06-18", "capabilities": {},
    "clientInfo": {"name": "doc", "version": "0"}}}]
msgs += [{"jsonrpc": "2.0", "id": 1 + i, "method": "prompts/get",
          "params": {"name": "system_prompt"}} for i in range(20)]
for name, n in [("escalation-policy", 17), ("refund-rules", 6), ("billing-questions", 4)]:
    msgs += [{"jsonrpc": "2.0", "id": 100, "method": "tools/call", "params": {
        "name": "get_instruction", "arguments": {"name": name}}}] * n
print("\n".join(json.dumps(m) for m in msgs))
PYEOF
"$AGENTKV" --dir "$STORE" --sandbox support mcp <calls.jsonl >"$TMP/mcp.out" 2>/dev/null ||
    fail "agentkv mcp failed"
[ "$(grep -c '"isError":true' "$TMP/mcp.out")" = 0 ] || fail "a fetch failed"
pass
akv --sandbox support prompt build --base support/core.md --manifest support/manifest.json --report
expect_rc 0
grep -E '^(mode|baseline tokens|built tokens|reduction|fetch rates|expected tokens|expected cut|expected cost):' "$ERR" >"$TMP/report"
[ "$(wc -l <"$TMP/report")" = 8 ] || fail "report: $(cat "$ERR")"
while IFS= read -r line; do doc_has "$DOC" "$line"; done <"$TMP/report"
akv --sandbox support prompt build --base support/core.md --manifest support/manifest.json --report \
    --cached-input-ratio 0.1 --cache-write-premium 0.25
expect_rc 0
cost=$(grep '^expected cost:' "$ERR")
tr '\n' ' ' <"$DOC" | tr -s ' ' | grep -qF "$(tr -s ' ' <<<"$cost")" || fail "prompts.md lacks: $cost"
pass

t "step 7: prompt advise as on the page"
akv --sandbox support prompt advise --manifest support/manifest.json
expect_ok
for set in escalation-policy refund-rules; do doc_has "$DOC" "$(grep "^$set " "$OUT")"; done
doc_has "$DOC" "$(tail -n 2 "$OUT" | head -n 1)"
doc_has "$DOC" "$(tail -n 1 "$OUT")"
akv --sandbox support prompt advise --manifest support/manifest.json --cached-input-ratio 0.1
expect_ok
doc_has "$DOC" "advice becomes \`$(tail -n 1 "$OUT" | sed 's/^build with: //')\`"

t "step 8 and the budget example: search and --budget as on the page"
akv --sandbox support search "refund invoice"
expect_ok
while IFS= read -r line; do doc_has "$DOC" "$line"; done <"$OUT"
akv --sandbox support prompt build --manifest support/manifest.json --budget 250
expect_rc 0
[ "$(grep -c '^- get_instruction' "$OUT")" = 7 ] || fail "--budget 250 does not list 7 sets"
pass
tr '\n' ' ' <"$DOC" | tr -s ' ' | grep -qF "$(tail -n 1 "$OUT")" ||
    fail "prompts.md lacks the note: $(tail -n 1 "$OUT")"
pass

t "the bundled sets"
run "$AGENTKV" --dir "$TMP/bundled" seed
expect_ok
run "$AGENTKV" --dir "$TMP/bundled" prompt build --report
expect_rc 0
built=$(sed -n 's/^built tokens: *//p' "$ERR")
red=$(sed -n 's/^reduction: *//p' "$ERR")
tr '\n' ' ' <"$DOC" | grep -qF "$built-token catalog, $red less" ||
    fail "prompts.md does not say '$built-token catalog, $red less'"
pass
tr '\n' ' ' <"$README" | grep -qF "$red for the bundled" ||
    fail "README does not say '$red for the bundled'"
pass

finish
