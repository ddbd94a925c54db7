#!/usr/bin/env node
// gen-corpus.cjs — deterministic inputs for the tokenizer's exactness test
// and benchmark, generated rather than committed because they are large.
//
//   node gen-corpus.cjs mix BYTES OUT     a Markdown/code mix of exactly BYTES
//                                        bytes: prose, lists, tables, code in
//                                        C, Python, JavaScript, Rust, Go and
//                                        shell, JSON, numbers, URLs
//   node gen-corpus.cjs codepoints OUT   every Unicode scalar value of planes
//                                        0 to 3 and 14 (a sample of the rest),
//                                        each in a small context that
//                                        exercises the letter/number/mark/
//                                        space classes
//
// The same arguments always give the same bytes (a seeded xorshift PRNG, no
// clock, no locale), so a mismatch found once can be reproduced.
"use strict";
const fs = require("fs");

function prng(seed) {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13; x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5; x >>>= 0;
    return x / 4294967296;
  };
}

const WORDS = (
  "the of and to in is that for it as was with be by on not he this are or " +
  "his from at which but have an they you were her she there been one all " +
  "would their we him has when who will more no if out so said what up its " +
  "about into than them can only other new some could time these two may " +
  "then do first any my now such like our over man me even most made after " +
  "also did many before must through back years where much your way well " +
  "down should because each just those people how too little state good " +
  "very make world still own see men work long get here between both life " +
  "being under never day same another know while last might us great old " +
  "year off come since against go came right used take three cache agent " +
  "token prompt instruction sandbox scope version metadata checksum store " +
  "request response server client network latency throughput benchmark " +
  "encoding decoder buffer allocation pointer function variable parameter " +
  "configuration deployment repository documentation specification " +
  "internationalization misunderstanding counterproductive"
).split(" ");
const NAMES = ["Alice", "Bob", "Carol", "Dmitri", "Émilie", "José", "Zoë",
  "Ōtani", "Søren", "François"];
const CONTRACT = ["don't", "it's", "we're", "they've", "I'm", "you'll",
  "she'd", "IT'S", "We'RE", "THEY'VE", "I'M", "YOU'LL", "SHE'D", "o'clock"];

function generateMix(bytes) {
  const rnd = prng(0x5eed1234);
  const pick = (a) => a[Math.floor(rnd() * a.length)];
  const int = (n) => Math.floor(rnd() * n);
  const sentence = () => {
    const n = 6 + int(18);
    const w = [];
    for (let i = 0; i < n; i++) {
      const r = rnd();
      if (r < 0.04) w.push(pick(NAMES));
      else if (r < 0.08) w.push(pick(CONTRACT));
      else if (r < 0.11) w.push(String(int(100000)));
      else if (r < 0.13) w.push("`" + pick(WORDS) + "_" + pick(WORDS) + "()`");
      else w.push(pick(WORDS));
    }
    let s = w.join(" ");
    s = s[0].toUpperCase() + s.slice(1);
    return s + pick([".", ".", ".", "?", "!", ":", ";"]);
  };
  const ident = () => pick(WORDS) + "_" + pick(WORDS);
  const Ident = () => { const s = pick(WORDS); return s[0].toUpperCase() + s.slice(1) + pick(WORDS); };
  const blocks = [
    () => "#".repeat(1 + int(3)) + " " + sentence().replace(/[.?!:;]$/, "") + "\n\n",
    () => { let p = ""; for (let i = 0, n = 2 + int(5); i < n; i++) p += sentence() + " "; return p.trim() + "\n\n"; },
    () => { let l = ""; for (let i = 0, n = 2 + int(5); i < n; i++) l += (rnd() < 0.5 ? "- " : `${i + 1}. `) + sentence() + "\n"; return l + "\n"; },
    () => `| ${ident()} | ${ident()} | count |\n|---|---|---:|\n` +
      Array.from({ length: 3 + int(4) }, () => `| ${pick(WORDS)} | ${pick(WORDS)} | ${int(1e6)} |`).join("\n") + "\n\n",
    () => "```c\n" + `static int ${ident()}(const char *${pick(WORDS)}, size_t len)\n{\n` +
      `    if (len > ${int(4096)}) {\n        return AKV_EINVAL;\n    }\n` +
      `    for (size_t i = 0; i < len; i++)\n        sum += (unsigned char)${pick(WORDS)}[i] * ${int(997)}u;\n` +
      `    return ${ident()}(sum & 0x${int(65536).toString(16)});\n}\n` + "```\n\n",
    () => "```python\n" + `def ${ident()}(${pick(WORDS)}: list[int], *, limit: int = ${int(100)}) -> dict:\n` +
      `    """${sentence()}"""\n    result = {}\n    for i, x in enumerate(${pick(WORDS)}):\n` +
      `        if x % ${2 + int(9)} == 0 and i < limit:\n            result[f"{i:04d}"] = x ** 2\n    return result\n` + "```\n\n",
    () => "```js\n" + `export async function ${Ident()}(${pick(WORDS)}, opts = {}) {\n` +
      `  const res = await fetch(\`/v1/sandboxes/\${opts.sandbox ?? "default"}/${pick(WORDS)}\`);\n` +
      `  if (!res.ok) throw new Error(\`HTTP \${res.status}: ${sentence()}\`);\n` +
      `  return (await res.json()).items.filter((x) => x.${pick(WORDS)} !== null);\n}\n` + "```\n\n",
    () => "```rust\n" + `impl ${Ident()} {\n    pub fn ${ident()}(&mut self, key: &[u8]) -> Result<Option<u64>, Error> {\n` +
      `        let h = self.${pick(WORDS)}.get(key).copied().unwrap_or(${int(1000)});\n` +
      `        Ok(Some(h.wrapping_mul(0x9E37_79B9_7F4A_7C15)))\n    }\n}\n` + "```\n\n",
    () => "```go\n" + `func (s *${Ident()}) ${Ident()}(ctx context.Context, n int) ([]string, error) {\n` +
      `\tout := make([]string, 0, n)\n\tfor i := 0; i < n; i++ {\n\t\tout = append(out, fmt.Sprintf("%s-%03d", "${pick(WORDS)}", i))\n\t}\n\treturn out, nil\n}\n` + "```\n\n",
    () => "```sh\n" + `$ agentkv put task ${pick(WORDS)}/${pick(WORDS)}.md ./${pick(WORDS)}.md --ttl ${1 + int(72)}h\n` +
      `$ curl -sS -H "Authorization: Bearer $TOKEN" http://127.0.0.1:8420/v1/${pick(WORDS)} | jq '.items[] | .key'\n` + "```\n\n",
    () => "```json\n" + JSON.stringify({
      sandbox: "sb" + int(100), scope: pick(["task", "project", "artifacts"]),
      key: `${pick(WORDS)}/${pick(WORDS)}.md`, size: int(1e6), version: 1 + int(9),
      sha256: Array.from({ length: 64 }, () => "0123456789abcdef"[int(16)]).join(""),
      metadata: { tags: [pick(WORDS), pick(WORDS)], score: Math.round(rnd() * 1e4) / 100 },
    }, null, 2) + "\n```\n\n",
    () => `See <https://example.com/${pick(WORDS)}/${int(10000)}?q=${pick(WORDS)}&page=${int(50)}> and ` +
      `[${pick(WORDS)}](../docs/${pick(WORDS)}.md#${pick(WORDS)}). ${sentence()}\n\n`,
    () => "> " + sentence() + " " + sentence() + "\n\n",
  ];
  const weights = [3, 10, 4, 1, 2, 2, 2, 1, 1, 1, 1, 1, 1];
  const total = weights.reduce((a, b) => a + b, 0);
  const parts = [];
  let size = 0;
  while (size < bytes) {
    let r = rnd() * total, i = 0;
    while (r >= weights[i]) r -= weights[i++];
    const b = blocks[i]();
    parts.push(b);
    size += Buffer.byteLength(b);
  }
  let buf = Buffer.from(parts.join(""));
  buf = buf.subarray(0, bytes);
  // Do not end inside a multi-byte character: trim to the last whole one
  // and pad with ASCII to the exact size.
  let end = buf.length;
  while (end > 0 && (buf[end - 1] & 0xc0) === 0x80) end--;
  if (end > 0 && buf[end - 1] >= 0xc0) end--;
  return Buffer.concat([buf.subarray(0, end), Buffer.alloc(bytes - end, 0x0a)]);
}

function generateCodepoints() {
  const contexts = [["a", "b"], [" ", "x"], ["A", "a"], ["1", "23"], ["'", "s"],
    ["", "\n"], [" ", " "], ["x'", "ll"], ["\t", "1"], ["Ab", "'D"]];
  const parts = [];
  for (let cp = 0; cp <= 0x10ffff; cp++) {
    if (cp >= 0xd800 && cp <= 0xdfff) continue;
    // Planes 4 to 13 and 15 to 16 hold no assigned character but private
    // use (which no class changes); a sample of them is enough.
    if (cp >= 0x40000 && !(cp >= 0xe0000 && cp <= 0xe0fff) && cp % 251 !== 0) continue;
    const c = String.fromCodePoint(cp);
    const [l, r] = contexts[cp % contexts.length];
    parts.push(l + c + r + " ");
  }
  return Buffer.from(parts.join(""));
}

function main() {
  const [mode, a, b] = process.argv.slice(2);
  if (mode === "mix" && a && b) {
    const n = Number(a);
    if (!Number.isInteger(n) || n < 1) throw new Error("BYTES must be a positive integer");
    fs.writeFileSync(b, generateMix(n));
  } else if (mode === "codepoints" && a) {
    fs.writeFileSync(a, generateCodepoints());
  } else {
    console.error("usage: gen-corpus.cjs mix BYTES OUT | codepoints OUT");
    process.exit(2);
  }
}

main();
