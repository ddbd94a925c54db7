#!/usr/bin/env bash
# test-tokens.sh — `agentkv tokens` against the real binary.
#
# Exactness: token ids (not just counts) from `agentkv tokens --ids` must
# equal those of the npm tiktoken package, for o200k_base and cl100k_base,
# on the shipped corpus (tests/tokenizer/corpus: prose, Markdown, code, JSON,
# CJK, emoji and ZWJ sequences, combining marks, Arabic/Hebrew, runs of
# spaces, newlines and digits, contractions, invalid UTF-8, ...), on a 1 MiB
# Markdown/code mix, two 1 MiB multilingual mixes (Chinese and Japanese
# characters by real-text frequency, and uniformly), one with letters, marks
# and digits of Unicode 15/16 strewn in, the Markdown mix with one such
# letter inside a word, and every code point of planes 0-3 and 14 in small
# contexts, all generated here (tests/tokenizer/gen-corpus.cjs, fixed
# seeds). Any mismatch fails the test and is shown with its context.
#
# Behaviour: stdin and '-', several files, 1000 files as arguments and
# through xargs, empty input (also "ids":[] in JSON), integers only in JSON,
# special tokens as text, unreadable files, unknown encodings, --json, and
# where the data is found (AGENTKV_TOKENIZER_DIR, a JSON file without its
# compiled table, stale, foreign and damaged tables).
#
# Needs node and the pinned tiktoken package in build/npm, which `make deps`
# installs (scripts/fetch-tokenizers.sh); if it is missing, this test runs
# that script itself (npm registry).
. "$(dirname "$0")/lib.sh"

SRC=${AKV_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
NPM=${AKV_NPM_DIR:-$SRC/build/npm}
TOK="$SRC/tests/tokenizer"
export AKV_NPM_DIR="$NPM"
unset AGENTKV_TOKENIZER_DIR

command -v node >/dev/null 2>&1 || { echo "test-tokens: node is required" >&2; exit 1; }
if [ ! -f "$NPM/node_modules/tiktoken/package.json" ]; then
    bash "$SRC/scripts/fetch-tokenizers.sh" >&2 ||
        { echo "test-tokens: cannot install the tiktoken package" >&2; exit 1; }
fi

tok() { run "$AGENTKV" tokens "$@"; }
tok_in() {
    local input=$1
    shift
    run_in "$input" "$AGENTKV" tokens "$@"
}

printf 'Hello, world!' >"$TMP/hello.txt"
: >"$TMP/empty.txt"

t "stdin: the count alone"
tok_in "$TMP/hello.txt"
expect_ok
expect_out "4"

t "'-' is stdin"
tok_in "$TMP/hello.txt" -
expect_ok
expect_out "4"

t "--ids on stdin: ids alone, space-separated"
tok_in "$TMP/hello.txt" --ids
expect_ok
expect_out "13225 11 2375 0"

t "--encoding cl100k_base"
tok_in "$TMP/hello.txt" --ids --encoding cl100k_base
expect_ok
expect_out "9906 11 1917 0"

t "--encoding=o200k_base is the default"
tok_in "$TMP/hello.txt" --ids --encoding=o200k_base
expect_out "13225 11 2375 0"

t "files: COUNT<TAB>FILE per file, in order"
tok "$TMP/hello.txt" "$TMP/empty.txt" "$TMP/hello.txt"
expect_ok
expect_out "$(printf '4\t%s\n0\t%s\n4\t%s' "$TMP/hello.txt" "$TMP/empty.txt" "$TMP/hello.txt")"

t "--ids with files: IDS<TAB>FILE; an empty file has no ids"
tok --ids "$TMP/hello.txt" "$TMP/empty.txt"
expect_ok
expect_out "$(printf '13225 11 2375 0\t%s\n\t%s' "$TMP/hello.txt" "$TMP/empty.txt")"

t "empty stdin counts 0"
tok_in "$TMP/empty.txt"
expect_out "0"

t "special tokens are counted as text (encode_ordinary)"
printf '<|endoftext|> hi' >"$TMP/special.txt"
tok_in "$TMP/special.txt" --ids
expect_ok
expect_out "27 91 419 1440 919 91 29 5911"

t "invalid UTF-8 counts as U+FFFD"
printf 'a\xffb' >"$TMP/bad.bin"
printf 'a\xef\xbf\xbdb' >"$TMP/fffd.txt"
tok_in "$TMP/fffd.txt" --ids
want=$(cat "$OUT")
tok_in "$TMP/bad.bin" --ids
expect_ok
expect_out "$want"

t "an unreadable file is reported, the others are still counted"
tok "$TMP/hello.txt" "$TMP/missing.txt" "$TMP/empty.txt"
expect_rc 2
expect_err_contains "agentkv: invalid_argument: cannot open"
expect_err_contains "missing.txt"
expect_out "$(printf '4\t%s\n0\t%s' "$TMP/hello.txt" "$TMP/empty.txt")"

t "a directory is not a file"
tok "$TMP"
expect_error invalid_argument 2

t "unknown encoding"
tok_in "$TMP/hello.txt" --encoding p50k_base
expect_error invalid_argument 2
expect_err_contains "unknown encoding"

t "--json: one object per input"
run "$AGENTKV" --json tokens "$TMP/hello.txt" "$TMP/empty.txt"
expect_ok
json_check 'len(lines) == 2 and lines[0]["tokens"] == 4 and lines[0]["encoding"] == "o200k_base" and lines[1]["tokens"] == 0 and lines[1]["file"].endswith("empty.txt")'
run_in "$TMP/hello.txt" "$AGENTKV" --json tokens --ids --encoding cl100k_base
expect_ok
json_check 'd["ids"] == [9906, 11, 1917, 0] and d["tokens"] == 4 and "file" not in d'

t "--json --ids on an empty file: \"ids\":[]"
run "$AGENTKV" --json tokens --ids "$TMP/empty.txt"
expect_ok
json_check 'd["ids"] == [] and d["tokens"] == 0 and d["file"].endswith("empty.txt")'
run_in "$TMP/empty.txt" "$AGENTKV" --json tokens --ids
expect_ok
json_check 'd["ids"] == [] and d["tokens"] == 0'

t "--json: every number printed is an integer (no reals)"
run "$AGENTKV" --json tokens --ids "$TMP/hello.txt" "$TMP/empty.txt" "$TOK/corpus/digits.txt"
expect_ok
"$PY" - "$OUT" <<'EOF2' || fail "the JSON holds a real number"
import json, sys
def real(literal):
    sys.exit("real number in the JSON: " + literal)
for line in open(sys.argv[1]).read().splitlines():
    json.loads(line, parse_float=real)
EOF2
pass

# Many files: as arguments (no limit on their number) and through xargs.
mkdir -p "$TMP/many"
many=()
for i in $(seq 1 1000); do many+=("$TMP/many/f$i.txt"); done
awk -v d="$TMP/many" 'BEGIN { for (i = 1; i <= 1000; i++) {
    f = d "/f" i ".txt"; printf "file %d: %s\n", i, substr("xxxxxxxxxx", 1, i % 7 + 1) >f; close(f) } }'

t "1000 files as arguments: one line each, in order"
run "$AGENTKV" tokens "${many[@]}"
expect_ok
[ "$(wc -l <"$OUT")" -eq 1000 ] || fail "expected 1000 lines, got $(wc -l <"$OUT")"
[ "$(head -n 1 "$OUT" | cut -f2)" = "$TMP/many/f1.txt" ] || fail "first line is not f1"
[ "$(tail -n 1 "$OUT" | cut -f2)" = "$TMP/many/f1000.txt" ] || fail "last line is not f1000"
cp "$OUT" "$TMP/many-args.txt"
pass

t "1000 files through xargs: the same lines"
printf '%s\0' "${many[@]}" | xargs -0 "$AGENTKV" tokens >"$TMP/many-xargs.txt" 2>"$ERR" ||
    fail "xargs agentkv tokens failed: $(cat "$ERR")"
cmp -s "$TMP/many-args.txt" "$TMP/many-xargs.txt" || fail "xargs output differs from the direct one"
pass

t "1000 files: ids equal tiktoken's"
run "$AGENTKV" tokens --ids "${many[@]}"
expect_ok
cp "$OUT" "$TMP/many-ids.txt"
run node "$TOK/reference.cjs" --check "$TMP/many-ids.txt" o200k_base "${many[@]}"
[ "$RC" -eq 0 ] || fail "ids differ from tiktoken's: $(tail -n 3 "$OUT")"
pass

t "--help documents the flags"
tok --help
expect_ok
expect_out_contains "--encoding NAME"
expect_out_contains "--ids"

# long_runs SRC DST: long runs of Chinese, Japanese and Thai letters, pieces
# of hundreds of bytes (the longest-match encoder's): SRC's letters of those
# scripts, with a space every 100 to 999 of them.
long_runs() {
    node -e 'const fs = require("fs"), [src, dst] = process.argv.slice(1);
const run = (fs.readFileSync(src, "utf8")
    .match(/[\u3040-\u30ff\u4e00-\u9fff\u0e00-\u0e7f]+/gu) || []).join("");
const out = [];
for (let i = 0, k = 0; i < run.length; k++) {
    const n = 100 + (k * 337) % 900;
    out.push(run.slice(i, i + n));
    i += n;
}
fs.writeFileSync(dst, out.join(" "));' "$1" "$2" || fail "making long runs of $1 failed"
}

# Where the data comes from. The build tree holds <name>.json and the
# compiled <name>.bin; AGENTKV_TOKENIZER_DIR is tried first.
DATA=""
for d in "$(dirname "$AGENTKV")/share/agentkv/tokenizers" "$SRC/build/share/agentkv/tokenizers"; do
    if [ -f "$d/o200k_base.json" ]; then DATA=$d; break; fi
done
[ -n "$DATA" ] || { echo "test-tokens: no tokenizer data in the build tree (make deps)" >&2; exit 1; }
tok_in "$TOK/corpus/prose-en.txt" --ids
prose_ids=$(cat "$OUT")

t "AGENTKV_TOKENIZER_DIR with only the JSON file (no compiled table)"
mkdir -p "$TMP/jsononly"
cp "$DATA/o200k_base.json" "$TMP/jsononly/"
AGENTKV_TOKENIZER_DIR="$TMP/jsononly" run_in "$TOK/corpus/prose-en.txt" "$AGENTKV" tokens --ids
expect_ok
expect_out "$prose_ids"

t "a table with a foreign header beside its JSON: the JSON is used"
if [ -f "$DATA/o200k_base.bin" ]; then
    cp "$DATA/o200k_base.bin" "$TMP/jsononly/o200k_base.bin"
    printf 'XXXXXXXX' | dd of="$TMP/jsononly/o200k_base.bin" bs=1 seek=0 conv=notrunc 2>/dev/null
    AGENTKV_TOKENIZER_DIR="$TMP/jsononly" run_in "$TOK/corpus/prose-en.txt" "$AGENTKV" tokens --ids
    expect_ok
    expect_out "$prose_ids"

    t "a table made from another JSON: the JSON beside it is used"
    cp "$DATA/cl100k_base.bin" "$TMP/jsononly/o200k_base.bin"
    AGENTKV_TOKENIZER_DIR="$TMP/jsononly" run_in "$TOK/corpus/prose-en.txt" "$AGENTKV" tokens --ids
    expect_ok
    expect_out "$prose_ids"

    t "a table with a foreign header alone is refused (unavailable)"
    mkdir -p "$TMP/binonly"
    cp "$DATA/o200k_base.bin" "$TMP/binonly/o200k_base.bin"
    printf 'XXXXXXXX' | dd of="$TMP/binonly/o200k_base.bin" bs=1 seek=0 conv=notrunc 2>/dev/null
    AGENTKV_TOKENIZER_DIR="$TMP/binonly" run_in "$TOK/corpus/prose-en.txt" "$AGENTKV" tokens
    expect_error unavailable 6
    expect_err_contains "o200k_base.bin"

    t "a truncated table alone is refused as damaged, never read past its end"
    cp "$DATA/o200k_base.bin" "$TMP/binonly/o200k_base.bin"
    truncate -s 3000000 "$TMP/binonly/o200k_base.bin"
    AGENTKV_TOKENIZER_DIR="$TMP/binonly" run_in "$TOK/corpus/prose-en.txt" "$AGENTKV" tokens
    expect_error unavailable 6
    expect_err_contains "damaged"

    t "a table with garbage in its body never crashes"
    cp "$DATA/o200k_base.bin" "$TMP/binonly/o200k_base.bin"
    head -c 4000000 /dev/urandom |
        dd of="$TMP/binonly/o200k_base.bin" bs=1024 seek=1 conv=notrunc 2>/dev/null
    AGENTKV_TOKENIZER_DIR="$TMP/binonly" run_in "$TOK/corpus/long-random.txt" "$AGENTKV" tokens --ids
    [ "$RC" -eq 0 ] || [ "$RC" -eq 6 ] || fail "expected exit 0 or 6 (unavailable)"
    pass

    t "a table with garbage in the longest-match tables never crashes"
    # From lm_tree (header offset 192) to the special tokens (offset 112):
    # the merge trees, the shorter prefixes, the prefix filter and the
    # character table, on long runs of Chinese and Japanese.
    cp "$DATA/o200k_base.bin" "$TMP/binonly/o200k_base.bin"
    lm_from=$(od -An -t u8 -j 192 -N 8 "$TMP/binonly/o200k_base.bin" | tr -d ' ')
    lm_to=$(od -An -t u8 -j 112 -N 8 "$TMP/binonly/o200k_base.bin" | tr -d ' ')
    [ "$lm_from" -gt 0 ] && [ "$lm_to" -gt "$lm_from" ] || fail "no longest-match tables in the header"
    head -c $((lm_to - lm_from)) /dev/urandom |
        dd of="$TMP/binonly/o200k_base.bin" bs=4096 seek="$lm_from" oflag=seek_bytes conv=notrunc 2>/dev/null
    node "$TOK/gen-corpus.cjs" multi 131072 "$TMP/multi-128k.txt" || fail "gen-corpus multi failed"
    long_runs "$TMP/multi-128k.txt" "$TMP/cjk-runs.txt"
    [ "$(wc -c <"$TMP/cjk-runs.txt")" -gt 10000 ] || fail "too few long runs"
    AGENTKV_TOKENIZER_DIR="$TMP/binonly" run_in "$TMP/cjk-runs.txt" "$AGENTKV" tokens --ids
    [ "$RC" -eq 0 ] || [ "$RC" -eq 6 ] || fail "expected exit 0 or 6 (unavailable)"
    pass

    # The character table (header offsets 232: its entries {u32 token, u32
    # checks}, 240: the checks, 248: how many checks), made garbage in two
    # ways that keep it loadable, so that the garbage is used as it is.
    garble_chars() { # FILE WHAT
        "$PY" - "$1" "$2" <<'PY'
import os, random, struct, sys
path, what = sys.argv[1], sys.argv[2]
b = bytearray(open(path, "rb").read())
chars, checks = struct.unpack_from("<QQ", b, 232)
nchecks, = struct.unpack_from("<I", b, 248)
rnd = random.Random(7)
if what == "checks":  # every check: where, length, token and bytes
    b[checks:checks + 16 * nchecks] = rnd.randbytes(16 * nchecks)
else:  # every character's check range; its token stays
    for at in range(chars, checks, 8):
        if struct.unpack_from("<I", b, at)[0] != 0xFFFFFFFF:
            struct.pack_into("<I", b, at + 4, rnd.getrandbits(32))
open(path, "wb").write(b)
PY
    }
    for what in checks ranges; do
        t "a table with garbage in the characters' $what never crashes"
        cp "$DATA/o200k_base.bin" "$TMP/binonly/o200k_base.bin"
        garble_chars "$TMP/binonly/o200k_base.bin" "$what" || fail "cannot garble the table"
        AGENTKV_TOKENIZER_DIR="$TMP/binonly" run_in "$TMP/multi-128k.txt" "$AGENTKV" tokens --ids
        expect_ok
        pass
    done

    t "a table file alone (no JSON) is enough"
    cp "$DATA/o200k_base.bin" "$TMP/binonly/o200k_base.bin"
    AGENTKV_TOKENIZER_DIR="$TMP/binonly" run_in "$TOK/corpus/prose-en.txt" "$AGENTKV" tokens --ids
    expect_ok
    expect_out "$prose_ids"
fi

t "a JSON file that is not tiktoken data is refused"
mkdir -p "$TMP/junk"
echo '{"pat_str": "x", "bpe_ranks": "! 0 YQ=="}' >"$TMP/junk/o200k_base.json"
AGENTKV_TOKENIZER_DIR="$TMP/junk" run_in "$TMP/hello.txt" "$AGENTKV" tokens
expect_error unavailable 6

t "AGENTKV_TOKENIZER_DIR without data: the next directory is used"
mkdir -p "$TMP/nothing"
AGENTKV_TOKENIZER_DIR="$TMP/nothing" run_in "$TMP/hello.txt" "$AGENTKV" tokens
expect_ok
expect_out "4"

# Exactness against tiktoken.
node "$TOK/gen-corpus.cjs" mix 1048576 "$TMP/mix-1MiB.md" || fail "gen-corpus mix failed"
node "$TOK/gen-corpus.cjs" codepoints "$TMP/codepoints.txt" || fail "gen-corpus codepoints failed"
[ "$(wc -c <"$TMP/mix-1MiB.md")" -eq 1048576 ] || fail "the mix is not 1 MiB"
# The multilingual mix (CJK, Arabic, Devanagari, Thai, emoji, mixed
# scripts, code), the same with its Chinese and Japanese characters drawn
# uniformly, the same with a Unicode 15/16 letter, mark or digit every
# 4 KiB, and with a single such letter inside a word in the middle.
node "$TOK/gen-corpus.cjs" multi 1048576 "$TMP/multi-1MiB.txt" || fail "gen-corpus multi failed"
node "$TOK/gen-corpus.cjs" multi-uniform 1048576 "$TMP/multi-uniform.txt" ||
    fail "gen-corpus multi-uniform failed"
node "$TOK/gen-corpus.cjs" rare 1048576 4096 "$TMP/rare.txt" || fail "gen-corpus rare failed"
{
    head -c 524288 "$TMP/mix-1MiB.md"
    printf ' Stra\xc3\x9fe\xe1\xb2\x8anweg '
    tail -c 524288 "$TMP/mix-1MiB.md"
} >"$TMP/one-letter.md"
long_runs "$TMP/multi-1MiB.txt" "$TMP/long-runs.txt"
[ "$(wc -c <"$TMP/long-runs.txt")" -gt 100000 ] || fail "too few long runs"
[ "$(wc -c <"$TMP/multi-1MiB.txt")" -eq 1048576 ] || fail "the multilingual mix is not 1 MiB"
[ "$(wc -c <"$TMP/multi-uniform.txt")" -eq 1048576 ] || fail "the uniform mix is not 1 MiB"
cmp -s "$TMP/multi-1MiB.txt" "$TMP/multi-uniform.txt" && fail "the two multilingual mixes are the same"
files=("$TOK"/corpus/* "$TMP/mix-1MiB.md" "$TMP/codepoints.txt" "$TMP/multi-1MiB.txt"
    "$TMP/multi-uniform.txt" "$TMP/rare.txt" "$TMP/one-letter.md" "$TMP/long-runs.txt")
[ "${#files[@]}" -ge 20 ] || fail "the shipped corpus is missing (${#files[@]} files)"

for enc in o200k_base cl100k_base; do
    t "ids equal tiktoken's ($enc, ${#files[@]} files)"
    run "$AGENTKV" tokens --ids --encoding "$enc" "${files[@]}"
    expect_ok
    cp "$OUT" "$TMP/ours-$enc.txt"
    run node "$TOK/reference.cjs" --check "$TMP/ours-$enc.txt" "$enc" "${files[@]}"
    [ "$RC" -eq 0 ] || fail "ids differ from tiktoken's"
    pass
    echo "exactness: $(tail -n 1 "$OUT")"
done

finish
