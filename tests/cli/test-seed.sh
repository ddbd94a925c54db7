#!/usr/bin/env bash
# test-seed.sh — `agentkv seed` against the real binary: the bundled sets,
# front matter and the Agent Skills layout, what is stored (the whole file,
# content type, metadata with a token count equal to `agentkv tokens`; a
# skill folder's supporting files under NAME/PATH), the Agent Skills name
# rule (underscore names refused), upgrading a store seeded with the old
# underscore names of the default sets, idempotence
# by SHA-256, versions that grow on change, --force, --prune in the
# sandbox's own namespace only, --json, the progress bar, and every kind of
# bad input: a clear one-line error naming the file (and line) and a store
# that exports exactly as before.
. "$(dirname "$0")/lib.sh"

SETS="$TMP/sets"
mkdir -p "$SETS/pdf-forms"
cat >"$SETS/alpha.md" <<'EOF'
---
name: alpha
description: "Use for alpha work: the \"first\" set."
version: 3
---
# Alpha

Alpha instructions.
EOF
printf '# Beta\n\nNo front matter: the name comes from the file name.\n' \
    >"$SETS/beta.md"
cat >"$SETS/pdf-forms/SKILL.md" <<'EOF'
---
name: pdf-forms
description: Fill PDF forms.
---
# PDF forms

Read the form first.
EOF
printf 'This file describes the directory and is skipped.\n' >"$SETS/README.md"
printf 'not markdown\n' >"$SETS/notes.txt"

# json_field NAME FIELD: FIELD of item NAME in a `seed --json` report.
item() {
    "$PY" -c 'import json,sys; d=json.load(open(sys.argv[1]))
print(next(i[sys.argv[3]] for i in d["items"] if i["name"]==sys.argv[2]))' \
        "$OUT" "$1" "$2"
}

t "the bundled default sets seed into _global from the source tree"
n=$(ls "$AKV_SOURCE_DIR"/instructions/*.md | grep -vic '/readme.md$')
[ "$n" -ge 1 ] || fail "no bundled sets in $AKV_SOURCE_DIR/instructions"
pass
akv seed --global
expect_ok
expect_out "added $n, updated 0, unchanged 0, removed 0"
akv --sandbox _global ls instructions --json
json_check "len(lines) == $n and all(l['origin'] == '_global' and l['content_type'] == 'text/markdown' for l in lines)"
akv seed --global
expect_out "added 0, updated 0, unchanged $n, removed 0"

t "a directory of files and skills: names, bodies, metadata"
akv --sandbox s1 seed "$SETS"
expect_ok
expect_out "added 3, updated 0, unchanged 0, removed 0"
akv --sandbox s1 get instructions alpha
expect_out_file "$SETS/alpha.md"
akv --sandbox s1 get instructions beta
expect_out_file "$SETS/beta.md"
akv --sandbox s1 get instructions pdf-forms --meta
json_check "d['metadata']['source'] == 'pdf-forms/SKILL.md' and d['metadata']['description'] == 'Fill PDF forms.' and d['metadata']['declared_version'] is None"
akv --sandbox s1 get instructions alpha --meta
json_check "d['version'] == 1 and d['content_type'] == 'text/markdown' and d['metadata']['description'] == 'Use for alpha work: the \"first\" set.' and d['metadata']['declared_version'] == '3' and d['metadata']['source'] == 'alpha.md'"
tokens=$("$PY" -c 'import json,sys; print(json.load(open(sys.argv[1]))["metadata"]["tokens"])' "$OUT")
run "$AGENTKV" tokens "$SETS/alpha.md"
expect_out "$(printf '%s\t%s' "$tokens" "$SETS/alpha.md")"
akv --sandbox s1 get instructions README
expect_error not_found 1
akv --sandbox s1 get instructions notes
expect_error not_found 1

t "a second seed changes nothing: all unchanged, versions unchanged"
snapshot s1
akv --sandbox s1 --json seed "$SETS"
expect_ok
json_check "(d['added'], d['updated'], d['unchanged'], d['removed']) == (0, 0, 3, 0) and all(i['action'] == 'unchanged' and i['version'] == 1 for i in d['items'])"
expect_unchanged s1

t "a changed body is rewritten and its version grows; the others stay"
printf '\nMore alpha.\n' >>"$SETS/alpha.md"
akv --sandbox s1 --json seed "$SETS"
json_check "(d['added'], d['updated'], d['unchanged'], d['removed']) == (0, 1, 2, 0)"
[ "$(item alpha action)" = updated ] && [ "$(item alpha version)" = 2 ] &&
    [ "$(item beta version)" = 1 ] || fail "expected alpha at version 2 only"
pass

t "a changed description alone is an update too"
sed -i 's/^description: Fill PDF forms\./description: Fill and check PDF forms./' \
    "$SETS/pdf-forms/SKILL.md"
akv --sandbox s1 seed "$SETS"
expect_out "added 0, updated 1, unchanged 2, removed 0"
akv --sandbox s1 get instructions pdf-forms --meta
json_check "d['version'] == 2 and d['metadata']['description'] == 'Fill and check PDF forms.'"

t "--force rewrites every set"
akv --sandbox s1 --json seed "$SETS" --force
json_check "(d['added'], d['updated'], d['unchanged']) == (0, 3, 0) and {i['name']: i['version'] for i in d['items']} == {'alpha': 3, 'beta': 2, 'pdf-forms': 3}"

t "a removed file stays in the store without --prune"
rm "$SETS/beta.md"
akv --sandbox s1 seed "$SETS"
expect_out "added 0, updated 0, unchanged 2, removed 0"
akv --sandbox s1 get instructions beta
expect_ok

t "--prune removes seeded sets whose file is gone, and nothing else"
printf 'by hand\n' >"$TMP/hand.md"
akv --sandbox s1 put instructions by_hand "$TMP/hand.md"
expect_ok
akv --sandbox s1 seed "$SETS" --prune
expect_ok
expect_out "added 0, updated 0, unchanged 2, removed 1"
akv --sandbox s1 get instructions beta
expect_error not_found 1
akv --sandbox s1 get instructions by_hand
expect_out_file "$TMP/hand.md"

t "--prune works in the sandbox's own namespace, never in _global"
mkdir -p "$TMP/one"
printf '# One\n' >"$TMP/one/one.md"
akv --sandbox s1 seed "$TMP/one" --prune
expect_out "added 1, updated 0, unchanged 0, removed 2"
akv --sandbox _global ls instructions --json
json_check "len(lines) == $n"
akv --sandbox s1 ls instructions --json
json_check "sorted((l['key'], l['origin']) for l in lines if l['origin'] == 's1') == [('by_hand', 's1'), ('one', 's1')]"

t "a directory given with a trailing slash seeds the same sets"
akv --sandbox s1 seed "$TMP/one/"
expect_out "added 0, updated 0, unchanged 1, removed 0"

t "a skill folder's supporting files are stored under NAME/PATH, byte for byte"
SK="$TMP/skills"
mkdir -p "$SK/forms/references" "$SK/forms/scripts/lib" "$SK/forms/.git"
printf -- '---\nname: forms\ndescription: Fill forms.\n---\n# Forms\n\nSee references/fields.md.\n' \
    >"$SK/forms/SKILL.md"
printf '# Fields\n' >"$SK/forms/references/fields.md"
printf '#!/bin/sh\necho fill\n' >"$SK/forms/scripts/lib/fill.sh"
printf '\x89PNG\r\n\x1a\n\x00\xff' >"$SK/forms/logo.png"
printf 'ignored\n' >"$SK/forms/.git/HEAD"
akv --sandbox s5 --json seed "$SK"
expect_ok
json_check "(d['added'], d['updated'], d['unchanged'], d['removed']) == (4, 0, 0, 0) and [(i['name'], i['source']) for i in d['items']] == [('forms', 'forms/SKILL.md'), ('forms/logo.png', 'forms/logo.png'), ('forms/references/fields.md', 'forms/references/fields.md'), ('forms/scripts/lib/fill.sh', 'forms/scripts/lib/fill.sh')]"
for f in SKILL.md references/fields.md scripts/lib/fill.sh logo.png; do
    key=forms/$f
    [ "$f" = SKILL.md ] && key=forms
    akv --sandbox s5 get instructions "$key"
    expect_out_file "$SK/forms/$f"
done
akv --sandbox s5 get instructions forms/references/fields.md --meta
json_check "d['content_type'] == 'text/markdown' and d['metadata'] == {'source': 'forms/references/fields.md'}"
akv --sandbox s5 get instructions forms/scripts/lib/fill.sh --meta
json_check "d['content_type'] == 'text/plain'"
akv --sandbox s5 get instructions forms/logo.png --meta
json_check "d['content_type'] == 'application/octet-stream'"
akv --sandbox s5 get instructions forms/.git/HEAD
expect_error not_found 1

t "supporting files are not instruction sets: not in the catalog"
akv --sandbox s5 prompt build
expect_ok
grep -q 'get_instruction("forms")' "$OUT" && ! grep -q 'forms/' "$OUT" ||
    fail "expected forms alone in the catalog: $(cat "$OUT")"
pass

t "a supporting file gone from a seeded folder is removed with it; unchanged files stay"
snapshot s5
akv --sandbox s5 seed "$SK"
expect_out "added 0, updated 0, unchanged 4, removed 0"
expect_unchanged s5
rm "$SK/forms/logo.png"
printf '# Fields, v2\n' >"$SK/forms/references/fields.md"
akv --sandbox s5 --json seed "$SK"
json_check "(d['added'], d['updated'], d['unchanged'], d['removed']) == (0, 1, 2, 1) and [i['name'] for i in d['items'] if i['action'] == 'removed'] == ['forms/logo.png']"
akv --sandbox s5 get instructions forms/logo.png
expect_error not_found 1
akv --sandbox s5 get instructions forms/references/fields.md
expect_out_file "$SK/forms/references/fields.md"

t "--prune removes a gone skill's supporting files too"
mkdir -p "$TMP/other"
printf '# Other\n' >"$TMP/other/other.md"
akv --sandbox s5 --json seed "$TMP/other" --prune
json_check "(d['added'], d['removed']) == (1, 3) and sorted(i['name'] for i in d['items'] if i['action'] == 'removed') == ['forms', 'forms/references/fields.md', 'forms/scripts/lib/fill.sh']"

t "upgrade: a store seeded with document_creation keeps it until --prune"
# The defaults were once named document_creation and web_development; a
# store seeded then holds them in _global with their seed metadata.
U="$TMP/upgrade"
for old in document_creation web_development; do
    "$AGENTKV" --dir "$U" --sandbox _global put instructions "$old" \
        "$AKV_SOURCE_DIR/instructions/research.md" \
        --meta "{\"description\":\"old\",\"declared_version\":\"1\",\"source\":\"$old.md\",\"tokens\":1}" \
        >/dev/null || fail "cannot write the old $old"
done
run "$AGENTKV" --dir "$U" seed --global
expect_out "added $n, updated 0, unchanged 0, removed 0"
run "$AGENTKV" --dir "$U" --sandbox _global get instructions document_creation
expect_out_file "$AKV_SOURCE_DIR/instructions/research.md"
run "$AGENTKV" --dir "$U" --sandbox _global get instructions document-creation
expect_out_file "$AKV_SOURCE_DIR/instructions/document-creation.md"
run "$AGENTKV" --dir "$U" --json seed --global --prune
json_check "d['removed'] == 2 and sorted(i['name'] for i in d['items'] if i['action'] == 'removed') == ['document_creation', 'web_development']"

# ---- bad input: one clear error, and nothing half-seeded ----------------

# bad DIR CODE EXIT TEXT...: seeding DIR fails with CODE/EXIT, the message
# contains every TEXT, and the store is unchanged.
bad() {
    local dir=$1 code=$2 status=$3
    shift 3
    snapshot bad
    akv --sandbox s2 seed "$dir"
    expect_error "$code" "$status"
    for text in "$@"; do
        expect_err_contains "$text"
    done
    expect_unchanged bad
}

# good files next to each bad one: they must not be written either.
mkcase() {
    rm -rf "$TMP/case"
    mkdir -p "$TMP/case"
    printf '# Good\n' >"$TMP/case/good1.md"
    printf -- '---\nname: good2\n---\n# Good 2\n' >"$TMP/case/good2.md"
}

t "front matter without its closing ---"
mkcase
printf -- '---\nname: broken\ndescription: x\n# Body\n' >"$TMP/case/broken.md"
bad "$TMP/case" invalid_argument 2 "case/broken.md:1:" "never closed"

t "a front matter line that is not key: value"
mkcase
printf -- '---\nname: broken\nthis is not a field\n---\n# Body\n' \
    >"$TMP/case/broken.md"
bad "$TMP/case" invalid_argument 2 "case/broken.md:3:" "key: value"

t "a duplicate front matter key"
mkcase
printf -- '---\nname: a\ndescription: x\nname: b\n---\n' >"$TMP/case/broken.md"
bad "$TMP/case" invalid_argument 2 "case/broken.md:4:" "duplicate key 'name'"

t "a name that breaks the rules is rejected, not rewritten"
mkcase
printf -- '---\nname: Bad Name\n---\n# Body\n' >"$TMP/case/broken.md"
bad "$TMP/case" invalid_argument 2 "case/broken.md:2:" "Bad Name"
mkcase
printf '# Body\n' >"$TMP/case/Upper.md"
bad "$TMP/case" invalid_argument 2 "case/Upper.md" "from the file name"
mkcase
long=$(printf 'x%.0s' $(seq 65))
printf -- '---\nname: %s\n---\n' "$long" >"$TMP/case/long.md"
bad "$TMP/case" invalid_argument 2 "case/long.md:2:" "at most 64"

t "an underscore name is refused with its hyphenated spelling, never rewritten"
mkcase
printf -- '---\nname: web_dev\n---\n# Body\n' >"$TMP/case/broken.md"
bad "$TMP/case" invalid_argument 2 "case/broken.md:2:" "'web_dev'" "'_' is not allowed" "'web-dev'"
mkcase
printf '# Body\n' >"$TMP/case/doc_creation.md"
bad "$TMP/case" invalid_argument 2 "case/doc_creation.md" "from the file name" "'doc-creation'"
mkcase
mkdir -p "$TMP/case/pdf_tools"
printf '# Skill\n' >"$TMP/case/pdf_tools/SKILL.md"
bad "$TMP/case" invalid_argument 2 "case/pdf_tools/SKILL.md" "from the folder name"
mkcase
printf -- '---\nname: -dash\n---\n' >"$TMP/case/broken.md"
bad "$TMP/case" invalid_argument 2 "case/broken.md:2:" "'-'"
mkcase
printf -- '---\nname: a--b\n---\n' >"$TMP/case/broken.md"
bad "$TMP/case" invalid_argument 2 "case/broken.md:2:" "'--'"

t "a supporting file that cannot be a key is refused, naming it"
mkcase
mkdir -p "$TMP/case/tool/refs"
printf -- '---\nname: tool\ndescription: d\n---\n' >"$TMP/case/tool/SKILL.md"
printf 'x' >"$TMP/case/tool/refs/back\\slash.md"
bad "$TMP/case" invalid_argument 2 "case/tool/refs/back" "cannot be stored as a key"

t "two files giving the same name"
mkcase
printf -- '---\nname: good1\n---\n# Other\n' >"$TMP/case/other.md"
bad "$TMP/case" invalid_argument 2 "duplicate instruction name 'good1'" \
    "case/good1.md" "case/other.md"
mkcase
mkdir -p "$TMP/case/good1"
printf '# Skill\n' >"$TMP/case/good1/SKILL.md"
bad "$TMP/case" invalid_argument 2 "duplicate instruction name 'good1'" \
    "case/good1/SKILL.md"

t "a file that is not UTF-8, named with its line"
mkcase
printf '# Fine\nfine\n\xff\xfe not text\n' >"$TMP/case/binary.md"
bad "$TMP/case" invalid_argument 2 "case/binary.md:3:" "UTF-8"

t "an empty directory"
mkdir -p "$TMP/empty"
bad "$TMP/empty" invalid_argument 2 "$TMP/empty" "no instruction files"

t "a directory that does not exist"
bad "$TMP/missing" invalid_argument 2 "$TMP/missing" "no such directory"

t "a file instead of a directory"
bad "$SETS/alpha.md" invalid_argument 2 "alpha.md" "not a directory"

t "the failed seeds above wrote nothing into their sandbox"
akv --sandbox s2 ls instructions --json
json_check "all(l['origin'] == '_global' for l in lines)"

# ---- progress bar -------------------------------------------------------

t "no progress bar when not on a terminal"
akv --sandbox s3 seed "$SETS"
expect_ok

t "a progress bar on a terminal, erased before the counts"
if command -v script >/dev/null 2>&1; then
    LAST_CMD="script -qc 'agentkv seed' /dev/null"
    script -qec "'$AGENTKV' --dir '$STORE' --sandbox s4 seed '$SETS'" \
        /dev/null >"$OUT" 2>"$ERR" </dev/null
    RC=$?
    expect_rc 0
    grep -q 'seeding \[#*\] 100% 2/2' "$OUT" || fail "expected a full progress bar"
    pass
    grep -q "$(printf '\r\033\\[Kadded 2')" "$OUT" ||
        fail "expected the bar to be erased before the counts"
    pass
else
    pass # no pseudo-terminal available
fi

finish
