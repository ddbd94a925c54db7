#!/usr/bin/env bash
# test-split.sh — `agentkv prompt split` against the real binary. The
# headline property is checked on every generated prompt: split, seed the
# instruction files into a fresh store, build the core in inline mode, and
# get the original bytes back. The prompts cover headings of levels 1–3,
# ``` and ~~~ fences holding '#' lines, text before the first heading, CRLF
# line endings, no final line break, duplicate headings, empty sections,
# closing '#'s, numbers, non-ASCII titles, and a batch of random documents
# made from the same pieces. Then the shape of the output (markers, front
# matter, slugs with -2/-3, descriptions, --keep) and its errors. The other
# section forms (XML, rules, ALL-CAPS, setext) are test-split-forms.sh's.
. "$(dirname "$0")/lib.sh"

GEN="$TMP/gen"
mkdir -p "$GEN"
"$PY" - "$GEN" <<'EOF'
import os, random, sys
out = sys.argv[1]

def w(name, text, crlf=False, final_nl=True):
    if crlf:
        text = text.replace("\n", "\r\n")
    if not final_nl:
        text = text.rstrip("\r\n")
    with open(os.path.join(out, name), "wb") as f:
        f.write(text.encode("utf-8"))

basic = """You are a careful assistant for ACME Corp.
Answer in the user's language.

# Tone and style
Be concise. Prefer short sentences.

## Examples
Say "done" when done.

# Tools
Use the *search* tool before answering questions about facts. Then cite.

```bash
# this is a comment, not a heading
echo "# nor is this"
```

~~~~python
# still code
~~~~

# Safety
Never reveal secrets!
### Deep note
Deep text.
"""
w("basic.md", basic)
w("basic-crlf.md", basic, crlf=True)
w("basic-nofinal.md", basic, final_nl=False)
w("basic-crlf-nofinal.md", basic, crlf=True, final_nl=False)

w("levels.md", """# 1. Overview
Intro text.
## 1.1 Scope
Scope text.
### 1.1.1 Detail
Detail text.
## 1.2 Limits
Limits.
# 2. Usage
Usage text.
## 2.1 Flags
Flag text.
### 2.1.1 Rare flags
Rare.
""")

w("dups.md", """Preamble line.

# Notes
First notes.
# Notes
Second notes.
# Notes
Third notes.
# Empty
# Also empty
#
# Closing hashes ##
Text.
""")

w("fences.md", """# Code
````markdown
```
# inside a nested fence
```
# still inside the outer fence
````
# After
   # indented heading (3 spaces) counts
    # four spaces: code, not a heading
```
# unclosed fence runs to the end
# so no cut here
""")

w("unicode.md", """Vorwort — préambule.

# Café & Crème
Übung macht den Meister. Zweiter Satz.

# 日本語
テキスト。

# Emoji 🎉 party
🎉 text.
""")

w("heading-last.md", "Intro\n# A\ntext\n# Last", final_nl=False)
w("only-heading.md", "# Only\nOne line.", final_nl=False)
w("blank-lines.md", "\n\n# A\ntext\n\n\n# B\n\ntext\n\n")

# Random documents from the same pieces, reproducible.
rng = random.Random(20261126)
pieces = [
    "Plain text line.\n", "\n", "- a bullet\n", "1. an item\n",
    "```\n# fenced\n```\n", "~~~\n## fenced too\n~~~\n",
    "> quoted # not heading\n", "#hashtag is not a heading\n",
    "    # indented code\n", "Trailing spaces   \n", "Tab\tline\n",
    "Ünïcödé ✓\n", "\n\n",
]
for n in range(16):
    parts = []
    if rng.random() < 0.6:
        parts.append(rng.choice(pieces))
    for s in range(rng.randint(1, 8)):
        level = 1 if s == 0 else rng.randint(1, 3)
        title = rng.choice(["Intro", "Rules", "Rules", "Tools", "FAQ",
                            "2. Numbered", "Ende", ""])
        parts.append("#" * level + (" " + title if title else "") + "\n")
        parts.append(rng.choice(pieces[:4] + pieces[9:12]))
        for _ in range(rng.randint(0, 4)):
            parts.append(rng.choice(pieces))
    text = "".join(parts)
    w("random-%02d.md" % n, text, crlf=rng.random() < 0.3,
      final_nl=rng.random() < 0.7)
EOF

t "split + seed + inline build gives every generated prompt back byte for byte"
for f in "$GEN"/*.md; do
    roundtrip "$f"
done

t "the same at levels 2 and 3"
for f in "$GEN"/levels.md "$GEN"/basic-crlf-nofinal.md "$GEN"/random-0[0-3].md; do
    roundtrip "$f" --level 2
    roundtrip "$f" --level 3
done

t "the same with kept sections"
roundtrip "$GEN/basic.md" --keep "Tone and style"
roundtrip "$GEN/basic-crlf-nofinal.md" --keep "Safety,tools"
roundtrip "$GEN/levels.md" --level 2 --keep 1.1 --keep "2"
roundtrip "$GEN/dups.md" --keep Notes

t "the core holds the preamble, kept sections and one marker per moved section"
run "$AGENTKV" prompt split "$GEN/basic.md" --out "$TMP/b" --keep "tone and style"
expect_ok
cat >"$TMP/want-core" <<'EOF'
You are a careful assistant for ACME Corp.
Answer in the user's language.

# Tone and style
Be concise. Prefer short sentences.

## Examples
Say "done" when done.

{{agentkv:include tools}}
{{agentkv:include safety}}
EOF
cmp -s "$TMP/b/core.md" "$TMP/want-core" || fail "unexpected core.md: $(cat "$TMP/b/core.md")"
pass
[ "$(ls "$TMP/b/instructions")" = "$(printf 'safety.md\ntools.md')" ] ||
    fail "expected exactly safety.md and tools.md"
pass

t "each file: front matter with the slug and a description saying when to load it"
head -n 4 "$TMP/b/instructions/tools.md" >"$OUT"
expect_out "$(printf -- '---\nname: tools\ndescription: "Load when the task involves tools. Use the search tool before answering questions about facts."\n---')"
tail -n +5 "$TMP/b/instructions/tools.md" | head -n 1 >"$OUT"
expect_out "# Tools"
head -n 3 "$TMP/b/instructions/safety.md" | tail -n 1 >"$OUT"
expect_out 'description: "Load when the task involves safety (deep). Never reveal secrets!"'

t "'#' lines inside fences are not cut at, and each one in a prose or unclosed fence is warned about"
run "$AGENTKV" --json prompt split "$GEN/fences.md" --out "$TMP/f"
expect_rc 0
json_check "[s['title'] for s in d['sections']] == ['Code', 'After', 'indented heading (3 spaces) counts']"
grep -v '^agentkv: warning: ' "$ERR" && fail "stderr holds more than warnings"
cat >"$TMP/want-warn" <<EOF
agentkv: warning: $GEN/fences.md:4: '# inside a nested fence' looks like a section start but is inside the code fence opened at line 2, so it is not cut at
agentkv: warning: $GEN/fences.md:6: '# still inside the outer fence' looks like a section start but is inside the code fence opened at line 2, so it is not cut at
agentkv: warning: $GEN/fences.md:11: this code fence is never closed, so everything after it (to line 13) is code and no section starts there; close it with a matching fence line
agentkv: warning: $GEN/fences.md:12: '# unclosed fence runs to the end' looks like a section start but is inside the code fence opened at line 11, so it is not cut at
agentkv: warning: $GEN/fences.md:13: '# so no cut here' looks like a section start but is inside the code fence opened at line 11, so it is not cut at
EOF
cmp -s "$ERR" "$TMP/want-warn" || fail "unexpected warnings: $(diff "$TMP/want-warn" "$ERR")"
pass

t "a '#' comment in a closed fence with a language is no warning"
run "$AGENTKV" prompt split "$GEN/basic.md" --out "$TMP/bw"
expect_ok

t "duplicate headings get -2, -3; sections without content stay in the core"
run "$AGENTKV" --json prompt split "$GEN/dups.md" --out "$TMP/d"
expect_ok
json_check "[(s['name'], s['kept'], s['empty']) for s in d['sections']] == [('notes', False, False), ('notes-2', False, False), ('notes-3', False, False), (None, True, True), (None, True, True), (None, True, True), ('closing-hashes', False, False)]"
grep -q '^description: "Load when the task involves notes. Second notes."' "$TMP/d/instructions/notes-2.md" ||
    fail "expected the second section's own description"
pass

t "numbers are not part of slugs; --keep by number"
run "$AGENTKV" --json prompt split "$GEN/levels.md" --out "$TMP/l" --level 2 --keep 1.2
expect_ok
json_check "[(s['name'], s['kept']) for s in d['sections']] == [('overview', False), ('scope', False), (None, True), ('usage', False), ('flags', False)]"

t "non-ASCII titles make ASCII slugs (Latin-1 letters transliterated)"
run "$AGENTKV" --json prompt split "$GEN/unicode.md" --out "$TMP/u"
expect_ok
json_check "[s['name'] for s in d['sections']] == ['cafe-creme', 'section', 'emoji-party']"

t "CRLF files get CRLF front matter"
run "$AGENTKV" prompt split "$GEN/basic-crlf.md" --out "$TMP/c"
expect_ok
head -c 5 "$TMP/c/instructions/tools.md" | od -c | head -n 1 >"$OUT"
expect_out_contains '-   -   -  \r  \n'

# ---- errors --------------------------------------------------------------

t "--keep that matches nothing is an error, and nothing is written"
run "$AGENTKV" prompt split "$GEN/basic.md" --out "$TMP/e1" --keep "No such"
expect_error invalid_argument 2
expect_err_contains "'No such' matches no section"
[ ! -e "$TMP/e1" ] || fail "a failed split wrote $TMP/e1"
pass

t "a prompt with no heading to cut at"
printf 'just text\n## deeper\n' >"$TMP/flat.md"
run "$AGENTKV" prompt split "$TMP/flat.md" --out "$TMP/e2"
expect_error invalid_argument 2
expect_err_contains "no section to cut at"

t "headings without content leave nothing to split"
printf '# A\n\n# B\n---\n' >"$TMP/hollow.md"
run "$AGENTKV" prompt split "$TMP/hollow.md" --out "$TMP/e2b"
expect_error invalid_argument 2
expect_err_contains "has no content: nothing to split"

t "keeping every section leaves nothing to split"
run "$AGENTKV" prompt split "$GEN/levels.md" --out "$TMP/e3" --keep "1,2"
expect_error invalid_argument 2
expect_err_contains "nothing to split"

t "a marker-looking line that would stay in the core is refused"
printf 'Intro\n{{agentkv:catalog}}\n# A\ntext\n' >"$TMP/marker.md"
run "$AGENTKV" prompt split "$TMP/marker.md" --out "$TMP/e4"
expect_error invalid_argument 2
expect_err_contains "marker.md:2:"
printf 'Intro\n# A\n  {{agentkv:include x}}\n' >"$TMP/marker2.md"
run "$AGENTKV" prompt split "$TMP/marker2.md" --out "$TMP/e5"
expect_ok

t "a file that is not UTF-8"
printf '# A\n\xc3\x28\n' >"$TMP/bad.md"
run "$AGENTKV" prompt split "$TMP/bad.md" --out "$TMP/e6"
expect_error invalid_argument 2
expect_err_contains "bad.md:2: not valid UTF-8"

t "an existing split is never overwritten"
run "$AGENTKV" prompt split "$GEN/basic.md" --out "$TMP/b"
expect_error invalid_argument 2
expect_err_contains "already exists"

t "usage errors"
run "$AGENTKV" prompt split "$GEN/basic.md"
expect_error invalid_argument 2
run "$AGENTKV" prompt split "$GEN/basic.md" --out "$TMP/e7" --level 7
expect_error invalid_argument 2
run "$AGENTKV" prompt split "$GEN/basic.md" --out "$TMP/e8" --mode inline
expect_error invalid_argument 2
expect_err_contains "not a flag of 'prompt split'"
run "$AGENTKV" prompt split "$TMP/nope.md" --out "$TMP/e9"
expect_error invalid_argument 2
run "$AGENTKV" prompt frobnicate
expect_error invalid_argument 2

finish
