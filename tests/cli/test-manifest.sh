#!/usr/bin/env bash
# test-manifest.sh — the manifest of a split and builds limited to it:
# `prompt split` writes DIR/manifest.json (the sets in section order, the
# original's bytes, SHA-256 and tokens); in a store whose _global holds the
# bundled default sets, the inline build of the core is the original byte
# for byte only with --manifest (without it the defaults are inlined too);
# --only limits a build to named sets; --report's baseline is the original
# prompt with a manifest; and bad manifests are clear errors.
. "$(dirname "$0")/lib.sh"

SRC="${AKV_SOURCE_DIR:?}"
cp "$SRC/docs/examples/support-agent.md" "$TMP/prompt.md"
cd "$TMP" || fail "cd $TMP"

t "split writes a manifest of its sets and of the original"
akv prompt split prompt.md --out sp --keep 1
expect_ok
[ -f sp/manifest.json ] || fail "no sp/manifest.json"
pass
run "$AGENTKV" tokens prompt.md
ptok=$(cut -f1 "$OUT")
cp sp/manifest.json "$TMP/m.json"
OUT="$TMP/m.json"
json_check 'd["manifest"] == 1 and d["source"] == "prompt.md" and d["encoding"] == "o200k_base"'
json_check "d['tokens'] == $ptok and d['bytes'] == $(wc -c <prompt.md)"
json_check "d['sha256'] == '$(sha256sum prompt.md | cut -d' ' -f1)'"
# The sets in the order of their sections in the prompt.
grep -o '{{agentkv:include [a-z0-9_-]*}}' sp/core.md | sed 's/{{agentkv:include \(.*\)}}/\1/' >"$TMP/order"
"$PY" -c 'import json,sys; print("\n".join(json.load(open(sys.argv[1]))["sets"]))' sp/manifest.json >"$TMP/msets"
cmp -s "$TMP/order" "$TMP/msets" || fail "manifest sets differ from the core's markers"
pass

t "beside the default sets in _global, only --manifest rebuilds the original"
akv seed --global
expect_ok
akv --sandbox sup seed sp/instructions
expect_ok
akv --sandbox sup prompt build --mode inline --base sp/core.md
expect_ok
cmp -s "$OUT" prompt.md && fail "without a manifest the defaults should be inlined too"
pass
akv --sandbox sup prompt build --mode inline --base sp/core.md --manifest sp/manifest.json
expect_ok
cmp -s "$OUT" prompt.md || fail "the inline build with --manifest differs from prompt.md"
pass

t "--only: the same with the names listed"
akv --sandbox sup prompt build --mode inline --base sp/core.md --only "$(paste -sd, "$TMP/msets")"
expect_ok
cmp -s "$OUT" prompt.md || fail "--only with every set differs from prompt.md"
pass
akv --sandbox sup prompt build --only refund-rules,billing-questions
expect_ok
[ "$(grep -c '^- get_instruction' "$OUT")" = 2 ] || fail "catalog: $(cat "$OUT")"
pass
akv --sandbox sup prompt build --only refund-rules,presentation --json
expect_ok
[ "$(grep -c '^- get_instruction' "$OUT")" = 2 ] || fail "a _global set can be named"
pass

t "--report measures against the original prompt with a manifest"
akv --sandbox sup prompt build --base sp/core.md --manifest sp/manifest.json --report
expect_rc 0
grep -qxF "baseline tokens: $ptok (the original prompt, from the manifest)" "$ERR" || fail "report: $(cat "$ERR")"
pass
grep -q '(15 sets' "$ERR" && fail "the defaults were counted"
pass
akv --sandbox sup prompt build --base sp/core.md --report
grep -q "baseline tokens: $ptok " "$ERR" && fail "without a manifest the baseline should include the defaults"
pass

t "bad manifests and names are errors"
akv --sandbox sup prompt build --manifest nowhere.json
expect_error not_found 1
for bad in 'not json' '[]' '{"manifest":2}' \
    '{"manifest":1,"source":"x","bytes":1,"sha256":"00","encoding":"o200k_base","tokens":1,"sets":["a"]}' \
    "{\"manifest\":1,\"source\":\"x\",\"bytes\":1,\"sha256\":\"$(printf '0%.0s' $(seq 64))\",\"encoding\":\"o200k_base\",\"tokens\":1,\"sets\":[]}" \
    "{\"manifest\":1,\"source\":\"x\",\"bytes\":1,\"sha256\":\"$(printf '0%.0s' $(seq 64))\",\"encoding\":\"o200k_base\",\"tokens\":1,\"sets\":[\"Bad Name\"]}" \
    "{\"manifest\":1,\"source\":\"x\",\"bytes\":1,\"sha256\":\"$(printf '0%.0s' $(seq 64))\",\"encoding\":\"o200k_base\",\"tokens\":1,\"sets\":[\"a\",\"a\"]}" \
    "{\"manifest\":1,\"source\":\"x\",\"bytes\":1,\"sha256\":\"$(printf '0%.0s' $(seq 64))\",\"encoding\":\"cl100k_base\",\"tokens\":1,\"sets\":[\"a\"]}" \
    "{\"manifest\":1,\"source\":\"x\",\"bytes\":-1,\"sha256\":\"$(printf '0%.0s' $(seq 64))\",\"encoding\":\"o200k_base\",\"tokens\":1,\"sets\":[\"a\"]}"; do
    printf '%s' "$bad" >"$TMP/bad.json"
    akv --sandbox sup prompt build --manifest "$TMP/bad.json"
    expect_error invalid_argument 2
done
head -c 1100000 /dev/zero | tr '\0' ' ' >"$TMP/big.json"
akv --sandbox sup prompt build --manifest "$TMP/big.json"
expect_error invalid_argument 2
expect_err_contains "larger than 1 MiB"
printf '\xff\xfe\x00garbage' >"$TMP/bin.json"
akv --sandbox sup prompt build --manifest "$TMP/bin.json"
expect_error invalid_argument 2
akv --sandbox sup prompt build --only refund-rules,nope
expect_error not_found 1
akv --sandbox sup prompt build --only refund-rules --manifest sp/manifest.json
expect_error invalid_argument 2
# A marker for a set outside the list.
akv --sandbox sup prompt build --base sp/core.md --only refund-rules
expect_error not_found 1
expect_err_contains "among those the build is limited to"

t "bad pricing and usage flags are errors"
for args in "--report --cached-input-ratio 2" "--report --cached-input-ratio x" \
    "--report --runs 0" "--report --runs -3" "--report --cache-write-premium 0.2" \
    "--report --cached-input-ratio 0.1 --cache-write-premium -1" "--runs 5" \
    "--report --fetch-overhead lots"; do
    # shellcheck disable=SC2086
    akv --sandbox sup prompt build $args
    expect_error invalid_argument 2
done
akv --sandbox sup prompt advise --budget 5
expect_error invalid_argument 2
akv --sandbox sup prompt advise extra
expect_error invalid_argument 2
akv --sandbox sup prompt advise --only nope
expect_error not_found 1
akv --sandbox sup prompt advise --json
expect_ok
json_check 'd["runs"] == 0 and d["inline"] == [] and all(s["advice"] == "catalog" for s in d["sets"])'

finish
