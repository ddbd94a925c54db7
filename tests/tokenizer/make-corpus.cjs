#!/usr/bin/env node
// make-corpus.cjs — writes the shipped corpus of the tokenizer's exactness
// test, tests/tokenizer/corpus/*, from the texts below. Run it again after
// changing them (node tests/tokenizer/make-corpus.cjs) and commit the
// result; the test itself compares agentkv's ids with tiktoken's on every
// file in corpus/ plus the large inputs gen-corpus.cjs makes at test time.
//
// Each file aims at one thing the pre-split pattern or the merges must get
// right; invalid-utf8.bin holds bytes that are not UTF-8 at all.
"use strict";
const fs = require("fs");
const path = require("path");

const out = path.join(__dirname, "corpus");
fs.mkdirSync(out, { recursive: true });
const files = {};
const put = (name, data) => { files[name] = Buffer.isBuffer(data) ? data : Buffer.from(data, "utf8"); };

put("prose-en.txt", `The cache keeps what an agent needs close at hand, and nothing more.
When a task starts, the agent asks for its instructions by name; when it ends,
the task's notes expire on their own. Nobody has to remember to clean up.

It's a small idea, but it changes how prompts are written. Instead of pasting
every guideline into every request, you write each one once, give it a short
description, and let the model fetch it when the description says it's needed.
A 40,000-token system prompt becomes a 3,000-token catalog -- a saving of 92.5%.

"Why didn't we do this before?" she asked. "Because we couldn't count tokens
exactly," he said, "and a budget you can't measure isn't a budget at all."
Mr. O'Neil's report (dated 2026-11-26, rev. 3) lists 1,234,567 entries; Dr.
Smith's lists 7.5e-3 errors per 10^6 reads. Prices: $0.15/MTok in, $0.60 out.
`);

put("contractions.txt", [
  "it's don't we're they've I'm you'll she'd",
  "IT'S DON'T WE'RE THEY'VE I'M YOU'LL SHE'D",
  "It'S dOn'T We'Re ThEy'Ve i'M You'Ll sHe'D",
  "'s 't 're 've 'm 'll 'd 'S 'T 'RE 'VE 'M 'LL 'D",
  "'sa 'tx 'rex 've1 'm_ 'll! 'dd ''s '''ll",
  "o'clock rock'n'roll ma'am y'all'd've",
  "long s: it'ſ, IT'ſ, 'ſ, ſ'ſ",
  "curly: it’s don’t we’re — not contractions",
  "digits: 1's 2'd 3'll; space: ' s ' ll",
  "Ʒ'S Σ'll Ω're ǅ'Ve ÉCOLE'S élève's",
  "naïve's café's Zürich's 東京's",
].join("\n") + "\n");

put("markdown.md", `# agentkv — instructions

> **Note:** load an instruction set only when its description matches.

## Table of contents

1. [Install](#install)
2. [Seed](#seed)
   - [Front matter](#front-matter)
   - [Agent Skills layout](#agent-skills-layout)
3. [Build a prompt](#build-a-prompt)

| name | version | tokens | description |
|------|--------:|-------:|-------------|
| presentation | 3 | 1,204 | Slides: structure, visuals, speaker notes |
| research | 1 | 987 | Sources, citations, *uncertainty* |

\`\`\`bash
$ agentkv seed instructions/ --global
seeded 4 sets (4 new, 0 changed), 4,401 tokens
\`\`\`

* * *

Some _emphasis_, some **strong**, some \`inline code\`, a footnote[^1] and a
link to <https://example.com/docs?page=2&lang=en#top>.

[^1]: Footnotes keep their numbering.

- [ ] unchecked
- [x] checked
`);

put("code-c.c", `#include <stdint.h>
#include <string.h>

/* Returns the number of set bits in x (a classic). */
static inline unsigned popcount64(uint64_t x)
{
    x = x - ((x >> 1) & 0x5555555555555555ULL);
    x = (x & 0x3333333333333333ULL) + ((x >> 2) & 0x3333333333333333ULL);
    x = (x + (x >> 4)) & 0x0F0F0F0F0F0F0F0FULL;
    return (unsigned)((x * 0x0101010101010101ULL) >> 56);
}

int main(int argc, char **argv)
{
\tfor (int i = 1; i < argc; ++i) {
\t\tif (!strcmp(argv[i], "--help")) return 0;
\t\tprintf("%d: %s\\n", i, argv[i]);
\t}
\treturn argc > 1 ? 0 : 1;
}
`);

put("code-python.py", `from __future__ import annotations

import asyncio
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Entry:
    key: str
    size: int = 0
    tags: list[str] = field(default_factory=list)

    def __str__(self) -> str:
        return f"{self.key!r} ({self.size:,} bytes)"


async def main(argv: list[str]) -> int:
    entries = [Entry(k, len(k) ** 2) for k in argv if not k.startswith("-")]
    for e in sorted(entries, key=lambda e: (-e.size, e.key)):
        print(e)
    await asyncio.sleep(0.01)
    return 0 if entries else 1

if __name__ == "__main__":
    raise SystemExit(asyncio.run(main(__import__("sys").argv[1:])))
`);

put("code-js.js", `'use strict';
const http = require('node:http');

const server = http.createServer(async (req, res) => {
  const url = new URL(req.url, \`http://\${req.headers.host}\`);
  if (url.pathname === '/v1/health') {
    res.writeHead(200, { 'content-type': 'application/json' });
    return res.end(JSON.stringify({ ok: true, uptime: process.uptime() }));
  }
  res.statusCode = 404;
  res.end();
});

server.listen(8420, '127.0.0.1', () => console.log('listening on :8420'));
// => arrow, ===, !==, ??=, ||=, &&=, ?.[0], **=, >>>=, ...spread
`);

put("code-misc.txt", `// Rust
fn main() -> Result<(), Box<dyn std::error::Error>> {
    let v: Vec<u32> = (0..10).filter(|x| x % 3 == 0).collect();
    println!("{:?} {}", v, v.iter().sum::<u32>());
    Ok(())
}

// Go
func (s *Store) Get(ctx context.Context, key string) ([]byte, error) {
\tif err := ctx.Err(); err != nil {
\t\treturn nil, fmt.Errorf("get %q: %w", key, err)
\t}
\treturn s.m[key], nil
}

-- SQL
SELECT s.id, COUNT(*) AS n FROM sandboxes s LEFT JOIN entries e ON e.sb = s.id
WHERE e.expires_at IS NULL OR e.expires_at > NOW() GROUP BY 1 HAVING n >= 10;

<!-- HTML -->
<div class="card" data-id="42"><p>Hello&nbsp;&amp;&nbsp;welcome!</p></div>

# shell
for f in ./*.md; do printf '%s\\t%s\\n' "$(wc -c <"$f")" "$f"; done 2>&1 | sort -rn
`);

put("json.json", JSON.stringify({
  sandbox: "sb1", scope: "artifacts", key: "reports/q1.md", origin: "sb1",
  size: 1234, content_type: "text/markdown",
  sha256: "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
  version: 3, created_at: "2026-11-26T05:27:20.123Z", updated_at: null,
  metadata: { nested: { deep: [1, 2.5, -3e10, true, false, null, "x\u00e9\u4e2d"] }, escaped: "tab\there\nnewline \"quoted\" \\ back" },
}, null, 2) + "\n" + JSON.stringify({ compact: [{ a: 1 }, { b: [] }, {}], unicode: "\u2603\ud83d\ude00" }) + "\n");

put("cjk.txt", `中文：令牌计数必须与参考实现完全一致，否则预算就没有意义。
日本語：トークン数が一致しなければ、予算は意味を持ちません。ひらがな、カタカナ、漢字。
한국어: 토큰 수가 정확히 일치해야 예산이 의미가 있습니다. 한글 자모 ㄱㄴㄷ ㅏㅑㅓ.
繁體中文：緩存與說明書。全角：ＡＢＣ１２３！？（）「」『』【】、。・ー
混合 mixed テキスト with 한글 and English 和数字 12345 とか。
`);

put("emoji.txt", [
  "Simple: 😀 😂 🥲 👍 🎉 🚀 ❤️ ✨ ☕ ⭐",
  "Skin tones: 👋🏻 👋🏼 👋🏽 👋🏾 👋🏿",
  "ZWJ families: 👨‍👩‍👧‍👦 👩‍❤️‍💋‍👨 🧑‍🤝‍🧑 👨🏽‍💻 🏳️‍🌈 🏴‍☠️ 🐻‍❄️",
  "Flags: 🇺🇸 🇯🇵 🇩🇪 🇧🇷 🏴󠁧󠁢󠁳󠁣󠁴󠁿",
  "Keycaps: 1️⃣ 2️⃣ #️⃣ *️⃣ 🔟",
  "Text vs emoji presentation: ☺ ☺️ ♥ ♥️ ✔ ✔️",
  "Runs:😀😀😀😀😀😀😀😀🎉🎉🎉🎉 no spaces👍👍👍",
  "Mixed: ok👌done, 100💯%, A🅰B🅱",
].join("\n") + "\n");

put("combining.txt", [
  "Precomposed: é ñ ü å ø Å",
  "Decomposed: e\u0301 n\u0303 u\u0308 a\u030a o\u0338 A\u030a",
  "Stacked: a\u0301\u0302\u0303\u0304\u0305\u0306 Z\u0351\u0352\u0353\u0354\u0355\u0356\u0357a\u0358\u0359",
  "Zalgo: H\u0335\u0311\u0352e\u0334\u0300\u0301l\u0337l\u0336o\u0338\u0300",
  "Marks alone: \u0301\u0302 \u0303 x \u20dd \u20e3",
  "Devanagari: नमस्ते दुनिया, हिन्दी में संख्या १२३४५",
  "Thai: สวัสดีครับ ภาษาไทยไม่มีช่องว่างระหว่างคำ",
  "Vietnamese: Tiếng Việt có nhiều dấu: ặ ẫ ổ ữ ỳ",
  "Greek: Καλημέρα κόσμε, ΑΒΓΔ αβγδ ϊΰ",
  "Cyrillic: Съешь же ещё этих мягких французских булок",
  "Letter-like: ǅungla ǈ ǋ ᾈ ʰʲ ᵃᵇ ﬁ ﬂ",
].join("\n") + "\n");

put("rtl.txt", [
  "العربية: مرحبا بالعالم، هذا نص تجريبي لعدّ الرموز.",
  "مع تشكيل: بِسْمِ اللَّهِ الرَّحْمَٰنِ الرَّحِيمِ",
  "أرقام عربية: ٠١٢٣٤٥٦٧٨٩ و 0123456789",
  "עברית: שלום עולם, זהו טקסט לבדיקה.",
  "ניקוד: בְּרֵאשִׁית בָּרָא אֱלֹהִים",
  "Mixed bidi: the word שלום means peace, سلام too.",
  "Marks: \u200f\u200e\u202b\u202c\u2067\u2069 LRM RLM",
  "فارسی: این یک متن آزمایشی است ۱۲۳",
].join("\n") + "\n");

put("whitespace.txt",
  "a" + " ".repeat(1) + "b" + " ".repeat(2) + "c" + " ".repeat(3) + "d" + " ".repeat(17) + "e\n" +
  " ".repeat(300) + "\n" +
  "\n".repeat(40) + "x" + "\n\n\n" +
  "\t\t\t\tindented with tabs\n" +
  "  \t \t mixed \t\n" +
  "windows\r\nline\r\nendings\r\n\r\n\r\n" +
  "old mac\rcarriage\r\r" +
  "nbsp\u00a0\u00a0here, ideographic\u3000\u3000space, thin\u2009space, " +
  "line\u2028sep, para\u2029sep, nel\u0085x, vt\u000bff\u000cend\n" +
  "mongolian vowel separator\u180eis not white space\n" +
  "zero width\u200bspace\u200cnon-joiner\u200djoiner\ufeffbom\n" +
  "trailing spaces   \n   \n" +
  " ".repeat(5000) + "end\n" +
  "\n".repeat(2000) +
  ("  \n").repeat(100) +
  " \r\n \r\n\t\r\n" +
  "last line without newline   ");

put("digits.txt",
  "0 1 12 123 1234 12345 123456 1234567 12345678 123456789 1234567890\n" +
  "3.14159265358979323846264338327950288419716939937510\n" +
  "1,000,000 1_000_000 1e10 1E-10 0x1F 0b1010 0o777 1.5e+308\n" +
  "٠١٢٣٤٥ ۰۱۲۳ ०१२३ ০১২৩ ๐๑๒๓ ０１２３ ①②③ ⅠⅡⅢⅣ ½¼¾ ²³¹\n" +
  "9".repeat(1000) + "\n" +
  "12".repeat(500) + "\n" +
  "2026-11-26T05:27:20.123Z 192.168.0.1 +1 (555) 123-4567\n");

put("symbols.txt",
  "!@#$%^&*()_+-=[]{}|;':\",./<>?`~\n" +
  "→ ← ↑ ↓ ⇒ ∀ ∃ ∈ ∉ ∑ ∏ √ ∞ ≈ ≠ ≤ ≥ ± × ÷ ° ‰ € £ ¥ ₹ ₿ © ® ™ § ¶\n" +
  "/// //// ////////// /* */ -- --- ---------- ==== ****** ~~~~\n" +
  "...... ,,,,,, ;;;; :::: !!!! ???? '''' \"\"\"\" ```` \n" +
  "<|endoftext|> <|endofprompt|> <|fim_prefix|><|fim_middle|><|fim_suffix|>\n" +
  "<|im_start|>system\nYou are helpful.<|im_end|>\n" +
  "path/to/file.md a/b/c// //x x//\n/\n//\n" +
  "-".repeat(500) + "\n" + "=".repeat(333) + "\n" + "#".repeat(64) + " heading\n");

put("long-words.txt",
  "Pneumonoultramicroscopicsilicovolcanoconiosis Donaudampfschifffahrtselektrizitätenhauptbetriebswerkbauunterbeamtengesellschaft\n" +
  "a".repeat(3000) + "\n" +
  "ab".repeat(700) + "\n" +
  "abc".repeat(500) + "X\n" +
  "A".repeat(200) + "b".repeat(200) + "\n" +
  "TheQuickBrownFoxJumpsOverTheLazyDogAndKeepsRunningThroughTheForestUntilNightFallsAndTheStarsAppear\n" +
  "é".repeat(300) + "\n" + "中".repeat(400) + "\n" + "😀".repeat(200) + "\n" +
  Buffer.from(Array.from({ length: 3000 }, (_, i) => (i * 7919) % 251)).toString("base64") + "\n" +
  "https://example.com/" + "very-long-path-segment/".repeat(20) + "?q=" + "x".repeat(200) + "\n");

// Long pieces of random letters take the heap merge (more than 96 bytes
// that are not one token); a seeded generator keeps them the same.
{
  let x = 0x2545f491;
  const rnd = (n) => { x ^= x << 13; x >>>= 0; x ^= x >>> 17; x ^= x << 5; x >>>= 0; return x % n; };
  const alphabets = ["etaoinshrdlucmfwyp", "abcdefghijklmnopqrstuvwxyz", "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdef",
    "αβγδεζηθικλμνξοπρστ", "абвгдежзийклмнопрст", "的一是不了人我在有他这为之大来以个中上们", "아이우에오가나다라마"];
  const lines = [];
  for (let i = 0; i < 60; i++) {
    const a = [...alphabets[i % alphabets.length]];
    const n = 97 + rnd(i < 50 ? 400 : 3000);
    let w = "";
    for (let k = 0; k < n; k++) w += a[rnd(a.length)];
    lines.push((i % 3 === 0 ? " " : "") + w);
  }
  put("long-random.txt", lines.join("\n") + "\n");
}

put("controls.txt", Buffer.concat([
  Buffer.from("nul\u0000inside, bell\u0007, esc\u001b[31mred\u001b[0m, del\u007f, "),
  Buffer.from("c1 controls \u0080\u0081\u009f, bom at start follows:\n"),
  Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from("text after a BOM\n"),
  Buffer.from("\u0000".repeat(50) + "\n"),
  Buffer.from("private use \ue000\uf8ff \u{f0000} \u{10fffd}, noncharacters \ufdd0\ufffe\uffff \u{1fffe}\n"),
  Buffer.from("replacement char itself: \ufffd\ufffd and specials \ufff9\ufffa\ufffb\ufffc\n"),
  Buffer.from("newer letters: \u{1e4d0}\u{1e4d1}x \u{16d70}123 \u{1d2c0}45 \u{10d4a}\u{10d70} \u{2ebf0}\u{31350}\n"),
]));

// Bytes that are not UTF-8: every kind of ill-formed sequence a decoder
// must replace, alone, in runs, at the start and at the very end.
const bad = [];
const B = (...x) => bad.push(Buffer.from(x));
const T = (s) => bad.push(Buffer.from(s, "utf8"));
B(0xff); T(" lone FF, "); B(0xfe, 0xfe); T(" FE FE, ");
B(0x80); T(" lone continuation, "); B(0x80, 0x81, 0xbf); T(" three continuations, ");
B(0xc0, 0x80); T(" overlong NUL, "); B(0xc1, 0xbf); T(" overlong C1, ");
B(0xe0, 0x80, 0x80); T(" overlong E0, "); B(0xf0, 0x80, 0x80, 0x80); T(" overlong F0, ");
B(0xed, 0xa0, 0x80); T(" surrogate D800, "); B(0xed, 0xbf, 0xbf); T(" surrogate DFFF, ");
B(0xed, 0xa0, 0xbd, 0xed, 0xb8, 0x80); T(" surrogate pair (CESU), ");
B(0xf4, 0x90, 0x80, 0x80); T(" above U+10FFFF, "); B(0xf5, 0x80, 0x80, 0x80); T(" F5, ");
B(0xf8, 0x88, 0x80, 0x80, 0x80); T(" five-byte form, "); B(0xfc, 0x84, 0x80, 0x80, 0x80, 0x80); T(" six-byte form, ");
B(0xc3); T(" truncated 2-byte, "); B(0xe2, 0x82); T(" truncated 3-byte, ");
B(0xf0, 0x9f, 0x98); T(" truncated 4-byte, "); B(0xe2, 0x82, 0x41); T(" truncated then A, ");
B(0xf0, 0x9f, 0x41, 0x42); T(" truncated 4 then AB, ");
B(0xe0, 0xa0); B(0xe0, 0xa0, 0x80); T(" truncated then valid, ");
T("valid é then "); B(0xa9); T(" stray continuation after é, ");
B(0x20, 0xff, 0x20, 0xff, 0xff, 0x20); T(" spaces and FF, ");
B(0x61, 0xff, 0x62, 0xc3, 0xa9, 0xff, 0xc3); T(" letters mixed, ");
B(0x27, 0xff, 0x73); T(" apostrophe FF s, "); B(0x31, 0x32, 0xff, 0x33); T(" digits FF digit, ");
B(0xef, 0xbf, 0xbd); T(" a real U+FFFD for comparison, ");
B(...Array.from({ length: 64 }, (_, i) => 0x80 + i)); T(" all continuation bytes\n");
B(...Array.from({ length: 128 }, (_, i) => 0x80 + i)); T("\nevery high byte\n");
const lastBytes = [0xe4, 0xb8]; // ends inside a character
put("invalid-utf8.bin", Buffer.concat([Buffer.from([0xfe, 0x80, 0x41]), ...bad, Buffer.from(lastBytes)]));
put("invalid-only.bin", Buffer.from([0xff, 0xfe, 0xfd, 0xc0, 0xc1, 0xf5, 0xf6, 0xf7, 0x80, 0xbf, 0xed, 0xa0, 0x80]));

put("empty.txt", "");
put("one-byte.txt", "x");
put("newline-only.txt", "\n");
put("space-only.txt", " ");

for (const old of fs.readdirSync(out))
  if (!(old in files) && !old.startsWith(".")) fs.unlinkSync(path.join(out, old));
for (const [name, data] of Object.entries(files))
  fs.writeFileSync(path.join(out, name), data);
console.log(`make-corpus: wrote ${Object.keys(files).length} files to ${out}`);
