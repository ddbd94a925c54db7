#!/usr/bin/env bash
# test-prompt.sh — `agentkv prompt build` against the real binary: the
# catalog (byte-identical across processes, sorted, one line per set with
# name, version, tokens, description and the get_instruction call), the
# three modes, the include and catalog markers, the overlay of the sandbox
# over _global, --base-key, --budget (never exceeded, measured with
# `agentkv tokens`, never failing, and saying what it shortened or left out), --report
# (figures equal to `agentkv tokens` of the outputs, reduction and yearly
# saving), and the errors.
. "$(dirname "$0")/lib.sh"

SETS="$TMP/sets"
mkdir -p "$SETS" "$TMP/over"
mkset() { # NAME DESCRIPTION BODY
    printf -- '---\nname: %s\ndescription: "%s"\n---\n%s' "$1" "$2" "$3" \
        >"$SETS/$1.md"
}
mkset zeta "Load for zeta tasks." $'# Zeta\n\nZeta body.\n'
mkset alpha "Load when the task is about alpha particles, their decay chains, detectors, shielding and the safety rules that apply in a laboratory." $'# Alpha\n\nAlpha body, long enough to matter.\nSecond line.\n'
mkset mid "Load for anything in the middle of the alphabet, such as mu, nu and xi, and for their many relatives." $'# Mid\nNo final newline in this body'
mkset beta-two "Load for beta work." $'# Beta two\n\nBeta.\n'
akv --sandbox _global seed "$SETS"
expect_ok
# The sandbox overrides one set.
printf -- '---\nname: beta-two\ndescription: "Sandbox copy of beta."\n---\n# Beta (sandbox)\n' \
    >"$TMP/over/beta-two.md"
akv --sandbox sb seed "$TMP/over"
expect_ok

build() { akv --sandbox sb prompt build "$@"; }
tokens_of() { "$AGENTKV" tokens "$1" | cut -f1; }

t "reference mode without a base is the catalog alone"
build
expect_ok
cp "$OUT" "$TMP/catalog1"
head -n 1 "$OUT" >"$TMP/first"
[ "$(cat "$TMP/first")" = "## Instruction sets" ] || fail "expected the catalog heading first"
pass
grep '^- ' "$TMP/catalog1" >"$TMP/lines"
[ "$(wc -l <"$TMP/lines")" -eq 4 ] || fail "expected 4 catalog lines"
pass

t "catalog lines are sorted by name and give call, version, tokens and description"
sed 's/^- get_instruction("\([^"]*\)").*/\1/' "$TMP/lines" >"$OUT"
expect_out "$(printf 'alpha\nbeta-two\nmid\nzeta')"
akv --sandbox _global get instructions zeta --meta
ztok=$("$PY" -c 'import json,sys; print(json.load(open(sys.argv[1]))["metadata"]["tokens"])' "$OUT")
grep -qxF -- "- get_instruction(\"zeta\") (v1, $ztok tokens): Load for zeta tasks." "$TMP/lines" ||
    fail "unexpected zeta line: $(grep zeta "$TMP/lines")"
pass

t "the sandbox's own set wins over _global's in the catalog"
grep -qF -- '- get_instruction("beta-two") (v1, ' "$TMP/lines" &&
    grep -qF 'Sandbox copy of beta.' "$TMP/lines" || fail "expected the sandbox's beta-two"
pass

t "the catalog is byte-identical across processes, reads and writes elsewhere"
akv --sandbox sb get instructions zeta
akv --sandbox sb put task unrelated "$TMP/first"
sleep 0.01
build
expect_out_file "$TMP/catalog1"
run env AGENTKV_DIR="$STORE" AGENTKV_SANDBOX=sb "$AGENTKV" prompt build
expect_out_file "$TMP/catalog1"
! grep -q '20[0-9][0-9]-[01][0-9]-' "$TMP/catalog1" || fail "the catalog holds a date"
pass

t "a reseed that changes nothing keeps the catalog bytes; a change shows"
akv --sandbox _global seed "$SETS"
build
expect_out_file "$TMP/catalog1"
printf 'More zeta.\n' >>"$SETS/zeta.md"
akv --sandbox _global seed "$SETS"
build
expect_out_contains '- get_instruction("zeta") (v2, '

# A base with markers.
cat >"$TMP/base.md" <<'EOF'
You are an agent.

{{agentkv:include alpha}}
Between.
  {{agentkv:include mid}}  
{{agentkv:catalog}}
End of base.
EOF

t "reference mode drops include lines and puts the catalog at its marker"
build --base "$TMP/base.md"
expect_ok
cp "$OUT" "$TMP/ref.out"
{
    printf 'You are an agent.\n\nBetween.\n'
    build >/dev/null
    cat "$OUT"
    printf 'End of base.\n'
} >"$TMP/want"
cmp -s "$TMP/ref.out" "$TMP/want" || fail "unexpected reference build: $(cat "$TMP/ref.out")"
pass

t "without a catalog marker the catalog goes at the end after a blank line"
printf 'Base line.\n' >"$TMP/plain.md"
build --base "$TMP/plain.md"
build >/dev/null && cp "$OUT" "$TMP/cat"
build --base "$TMP/plain.md"
{ printf 'Base line.\n\n'; cat "$TMP/cat"; } >"$TMP/want"
expect_out_file "$TMP/want"

t "inline mode: bodies at their markers, the other sets in name order in the tail"
build --base "$TMP/base.md" --mode inline
expect_ok
{
    printf 'You are an agent.\n\n'
    tail -n +5 "$SETS/alpha.md"
    printf 'Between.\n'
    tail -n +5 "$SETS/mid.md"
    printf '\n' # the marker line's own line ending follows a body without one
    printf '# Beta (sandbox)\n\n'
    tail -n +5 "$SETS/zeta.md"
    printf 'End of base.\n'
} >"$TMP/want"
expect_out_file "$TMP/want"
! grep -q 'get_instruction' "$OUT" || fail "inline mode has no catalog"
pass

t "hybrid mode inlines the named sets and catalogs the rest"
build --base "$TMP/base.md" --inline mid,zeta
expect_ok
grep -q '^No final newline in this body' "$OUT" || fail "mid is not inlined"
pass
grep -q '^Zeta body.' "$OUT" || fail "zeta (no marker) is not inlined"
pass
grep '^- get_instruction' "$OUT" | sed 's/^- get_instruction("\([^"]*\)").*/\1/' >"$TMP/names"
[ "$(cat "$TMP/names")" = "$(printf 'alpha\nbeta-two')" ] || fail "catalog should hold alpha and beta-two only"
pass
build --base "$TMP/base.md" --mode hybrid --inline "mid" --inline zeta
cp "$OUT" "$TMP/h2"
build --base "$TMP/base.md" --inline mid,zeta
expect_out_file "$TMP/h2"

t "--base-key takes the base from scope system"
akv --sandbox sb put system base "$TMP/base.md"
build --base-key base --mode inline
cp "$OUT" "$TMP/bk"
build --base "$TMP/base.md" --mode inline
expect_out_file "$TMP/bk"

t "an empty store: the base comes back unchanged"
run "$AGENTKV" --dir "$TMP/empty-store" put task x "$TMP/first"
run "$AGENTKV" --dir "$TMP/empty-store" prompt build --base "$TMP/plain.md"
expect_out_file "$TMP/plain.md"

# ---- budget --------------------------------------------------------------

t "--budget is never exceeded, never fails, and says what it shortened or left out"
build
full=$(tokens_of "$OUT")
cp "$OUT" "$TMP/cat"
seen_short=0 seen_left=0 seen_note=0 seen_prefix=0 prev_listed=4
for b in $((full + 50)) "$full" $((full - 1)) $(seq $((full - 2)) -3 1); do
    build --budget "$b"
    expect_rc 0
    cp "$OUT" "$TMP/b.out"
    got=$(tokens_of "$TMP/b.out")
    [ "$got" -le "$b" ] || fail "budget $b exceeded: $got tokens"
    pass
    # Deterministic: a second build gives the same bytes.
    build --budget "$b"
    cmp -s "$OUT" "$TMP/b.out" || fail "budget $b: two builds differ"
    pass
    listed=$(grep -c '^- get_instruction' "$TMP/b.out" || true)
    # A smaller budget never lists more sets.
    [ "$listed" -le "$prev_listed" ] || fail "budget $b lists more sets ($listed) than a larger one"
    prev_listed=$listed
    if [ "$b" -ge "$full" ]; then
        cmp -s "$TMP/b.out" "$TMP/cat" || fail "a sufficient budget changed the catalog"
        [ ! -s "$ERR" ] || fail "a sufficient budget printed a note"
        pass
        continue
    fi
    # The sets listed are the first by name.
    grep '^- get_instruction' "$TMP/b.out" | sed 's/^- get_instruction("\([^"]*\)").*/\1/' >"$TMP/names"
    printf 'alpha\nbeta-two\nmid\nzeta\n' | head -n "$listed" | cmp -s - "$TMP/names" ||
        fail "budget $b: the listed sets are not the first by name"
    pass
    left=$((4 - listed))
    if [ "$listed" -gt 0 ]; then
        if [ "$left" -eq 0 ]; then
            note=$(grep -E '^\(Budget '"$b"' tokens: [0-9]+ descriptions? shortened; list_instructions has them in full\.\)$' "$TMP/b.out") ||
                fail "budget $b: no statement of what was shortened"
            short=$(sed -E 's/^.*: ([0-9]+) desc.*$/\1/' <<<"$note")
            [ "$(grep -c '…$' "$TMP/b.out")" -eq "$short" ] || fail "budget $b: $short shortened, but a different number of ellipses"
            [ "$short" -gt 0 ] && seen_short=1
        else
            grep -qE '^\(Budget '"$b"' tokens: '"$left"' sets? not listed(, some descriptions shortened)?; find them with search_instructions or `agentkv search`\.\)$' "$TMP/b.out" ||
                fail "budget $b: no statement of the $left sets left out"
            seen_left=1
        fi
        pass
        tail -n 1 "$TMP/b.out" | grep -q '^(Budget ' || fail "budget $b: the note is not the last line"
        pass
    else
        full_note="(Budget $b tokens: 4 sets not listed; find them with search_instructions or \`agentkv search\`.)"
        got_text=$(cat "$TMP/b.out")
        if [ "$got_text" = "$full_note" ]; then
            seen_note=1
        else
            # The longest prefix of the note that fits.
            case "$full_note" in "$got_text"*) ;; *) fail "budget $b: '$got_text' is not a prefix of the note" ;; esac
            n=${#got_text}
            printf '%s' "${full_note:0:$((n + 1))}" >"$TMP/longer"
            [ "$(tokens_of "$TMP/longer")" -gt "$b" ] || fail "budget $b: a longer prefix would fit"
            seen_prefix=1
        fi
        pass
    fi
    grep -qxE "agentkv: note: to fit the budget of $b tokens the catalog \($got tokens\) shortened [0-9]+ descriptions? and left out $left sets?" "$ERR" ||
        fail "budget $b: no matching note on stderr"
    pass
done
[ "$seen_short" = 1 ] && [ "$seen_left" = 1 ] && [ "$seen_note" = 1 ] && [ "$seen_prefix" = 1 ] ||
    fail "expected budgets that shorten, leave out, keep the note alone and cut it (got $seen_short $seen_left $seen_note $seen_prefix)"
pass

t "--budget 1 and 2 give at most that many tokens"
for b in 1 2; do
    build --budget "$b"
    expect_rc 0
    [ "$(tokens_of "$OUT")" -le "$b" ] && [ -s "$OUT" ] || fail "budget $b: $(cat "$OUT")"
    pass
done

# ---- report ----------------------------------------------------------------

t "--report figures equal agentkv tokens of the outputs"
build --base "$TMP/base.md" --mode inline
cp "$OUT" "$TMP/inline.out"
build --base "$TMP/base.md" --report --json --price 2.5 --runs-per-day 1000
expect_rc 0
cp "$OUT" "$TMP/ref2.out"
base_t=$(tokens_of "$TMP/inline.out")
ref_t=$(tokens_of "$TMP/ref2.out")
"$PY" - "$ERR" "$base_t" "$ref_t" <<'EOF' || fail "report does not match agentkv tokens"
import json, sys
r = json.loads(open(sys.argv[1]).read())
base, built = int(sys.argv[2]), int(sys.argv[3])
assert r["baseline_tokens"] == base, (r, base)
assert r["tokens"] == built, (r, built)
assert r["mode"] == "reference" and r["sets"] == 4 and r["inlined"] == 0
assert abs(r["reduction_percent"] - round(100 * (base - built) / base, 1)) < 0.051, r
saving = (base - built) * 1000 * 365 * 2.5 / 1e6
assert abs(r["yearly_saving_usd"] - saving) < 0.006, (r, saving)
EOF
pass

t "--report in text form"
build --base "$TMP/base.md" --report --price 3 --runs-per-day 100
expect_rc 0
expect_err_contains "baseline tokens: $base_t (every set inlined)"
expect_err_contains "built tokens:    $ref_t"
expect_err_contains "reduction:       "
expect_err_contains "yearly saving:   \$"
build --base "$TMP/base.md" --mode inline --report
expect_err_contains "baseline tokens: $base_t"
expect_err_contains "built tokens:    $base_t"
expect_err_contains "reduction:       0.0%"

# ---- errors ------------------------------------------------------------------

t "an unknown marker, naming the line"
printf 'a\n{{agentkv:includ alpha}}\n' >"$TMP/m1.md"
build --base "$TMP/m1.md"
expect_error invalid_argument 2
expect_err_contains "m1.md:2: unknown agentkv marker"

t "an include of a set the sandbox does not see"
printf '{{agentkv:include nope}}\n' >"$TMP/m2.md"
build --base "$TMP/m2.md"
expect_error not_found 1
expect_err_contains "m2.md:1: includes 'nope'"

t "a set included twice, two catalog markers"
printf '{{agentkv:include zeta}}\n{{agentkv:include zeta}}\n' >"$TMP/m3.md"
build --base "$TMP/m3.md" --mode inline
expect_error invalid_argument 2
expect_err_contains "m3.md:2:"
printf '{{agentkv:catalog}}\nx\n{{agentkv:catalog}}\n' >"$TMP/m4.md"
build --base "$TMP/m4.md"
expect_error invalid_argument 2
expect_err_contains "m4.md:3: a second catalog marker (the first is on line 1)"

t "flag combinations that make no sense"
build --mode inline --inline zeta
expect_error invalid_argument 2
build --mode reference --inline zeta
expect_error invalid_argument 2
build --mode inline --budget 100
expect_error invalid_argument 2
build --inline nope
expect_error not_found 1
build --price 3 --runs-per-day 10
expect_error invalid_argument 2
build --report --price 3
expect_error invalid_argument 2
build --report --price abc --runs-per-day 10
expect_error invalid_argument 2
build --base "$TMP/base.md" --base-key base
expect_error invalid_argument 2
build --mode everything
expect_error invalid_argument 2
build --budget 0
expect_error invalid_argument 2
build --out x
expect_error invalid_argument 2
expect_err_contains "not a flag of 'prompt build'"
build --base-key missing
expect_error not_found 1
build --base "$TMP/none.md"
expect_error invalid_argument 2

finish
