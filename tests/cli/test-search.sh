#!/usr/bin/env bash
# test-search.sh — `agentkv search` against the real binary: ranking over
# the seeded instruction sets (the sandbox's copy over _global's), the
# table and --json forms (same order, scores with at most 3 decimals),
# --scope and --limit, byte-identical output across processes, and the
# errors for hostile queries (empty, no word, too long, too many words,
# invalid UTF-8, bad flags), none of which changes the store.
. "$(dirname "$0")/lib.sh"

SETS="$TMP/sets"
mkdir -p "$SETS" "$TMP/over"
mkset() { # NAME DESCRIPTION BODY
    printf -- '---\nname: %s\ndescription: "%s"\n---\n%s' "$1" "$2" "$3" >"$SETS/$1.md"
}
mkset refund-rules "Load before deciding a refund." $'# Refunds\n\nA refund needs the invoice number. Refund within 30 days.\n'
mkset billing-questions "Load for invoices and amounts." $'# Billing\n\nLook up the invoice first. A refund goes to billing.\n'
mkset outage-handling "Load when something is down." $'# Outages\n\nCheck the status page first.\n'
mkset twin-b "Twin." $'same words\n'
mkset twin-a "Twin." $'same words\n'
akv --sandbox _global seed "$SETS"
expect_ok
printf -- '---\nname: outage-handling\ndescription: "Sandbox copy."\n---\nPage the on-call engineer.\n' >"$TMP/over/outage-handling.md"
akv --sandbox sb seed "$TMP/over"
expect_ok

t "search ranks by BM25: name, description and body all count"
akv --sandbox sb search refund
expect_ok
awk 'NR > 1 { print $2 }' "$OUT" >"$TMP/names"
printf 'refund-rules\nbilling-questions\n' | cmp -s - "$TMP/names" || fail "order: $(cat "$OUT")"
pass
head -n 1 "$OUT" | grep -qE '^ *SCORE +NAME +TOKENS +DESCRIPTION$' || fail "header: $(head -n 1 "$OUT")"
pass
cp "$OUT" "$TMP/first"

t "the same store gives the same bytes in another process"
akv --sandbox sb search refund
expect_out_file "$TMP/first"

t "--json: the same order, rounded scores, tokens and origin"
akv --sandbox sb search refund --json
expect_ok
json_check 'd["scope"] == "instructions" and d["matched"] == 2 and d["searched"] == 5 and not d["truncated"]'
json_check '[i["name"] for i in d["items"]] == ["refund-rules", "billing-questions"]'
json_check 'all(i["origin"] == "_global" and i["tokens"] > 0 and i["score"] > 0 for i in d["items"])'
grep -qE '"score":[0-9]+(\.[0-9]{1,3})?[,}]' "$OUT" || fail "score with float noise: $(cat "$OUT")"
pass

t "ties are broken by name"
akv --sandbox sb search "same words" --json
json_check '[i["name"] for i in d["items"]] == ["twin-a", "twin-b"] and d["items"][0]["score"] == d["items"][1]["score"]'

t "the sandbox's own set hides _global's"
akv --sandbox sb search status
expect_ok
[ "$(wc -l <"$OUT")" -le 1 ] || fail "found _global's outage-handling: $(cat "$OUT")"
pass
akv --sandbox sb search on-call --json
json_check 'd["items"][0]["name"] == "outage-handling" and d["items"][0]["origin"] == "sb"'
akv --sandbox other search status --json
json_check 'd["items"][0]["origin"] == "_global"'

t "--limit and --scope"
akv --sandbox sb search "refund invoice status words" --limit 1 --json
json_check 'len(d["items"]) == 1 and d["matched"] >= 3'
echo "The deploy window is Friday." >"$TMP/notes"
akv --sandbox sb put project notes "$TMP/notes"
akv --sandbox sb search deploy --scope project --json
json_check 'd["scope"] == "project" and [i["name"] for i in d["items"]] == ["notes"] and "tokens" not in d["items"][0]'

t "hostile queries are errors that change nothing"
snapshot before
for q in "" "   " "-_-;" "$(printf 'a%.0s' $(seq 1 1025))" "$(printf 'bad\xff')" \
    "$(for i in $(seq 0 32); do printf 'w%d ' "$i"; done)"; do
    akv --sandbox sb search "$q"
    expect_error invalid_argument 2
done
akv --sandbox sb search x --limit 0
expect_error invalid_argument 2
akv --sandbox sb search x --limit 101
expect_error invalid_argument 2
akv --sandbox sb search x --scope nowhere
expect_error invalid_argument 2
akv --sandbox sb search
expect_error invalid_argument 2
expect_unchanged before

t "unicode words and a query at the length limit"
akv --sandbox sb search "東京 café $(printf 'a%.0s' $(seq 1 1000))" --json
expect_ok
json_check 'd["items"] == []'

finish
