#!/usr/bin/env node
// gen-corpus.cjs — deterministic inputs for the tokenizer's exactness test
// and benchmark, generated rather than committed because they are large.
//
//   node gen-corpus.cjs mix BYTES OUT     a Markdown/code mix of exactly BYTES
//                                        bytes: prose, lists, tables, code in
//                                        C, Python, JavaScript, Rust, Go and
//                                        shell, JSON, numbers, URLs
//   node gen-corpus.cjs multi BYTES OUT  a multilingual mix of exactly BYTES
//                                        bytes: Chinese, Japanese, Korean,
//                                        Arabic, Hindi, Thai, Russian, Greek
//                                        and Latin prose (random characters
//                                        for Chinese and Japanese, Zipf-
//                                        distributed words for the others),
//                                        emoji (ZWJ
//                                        sequences, skin tones, flags),
//                                        sentences that mix scripts, and code
//                                        with comments and strings in them
//   node gen-corpus.cjs rare BYTES EVERY OUT
//                                        the multilingual mix of BYTES bytes
//                                        with a letter, mark or digit that
//                                        Unicode 15 or 16 added inserted
//                                        every EVERY bytes (a different one,
//                                        and a different neighbour, each time)
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
  return sized(bytes, blocks, weights, rnd);
}

// Concatenates blocks drawn by weight until there are BYTES bytes, then cuts
// to exactly BYTES without ending inside a character.
function sized(bytes, blocks, weights, rnd) {
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

// Text in several scripts, built from pools of real syllables and words so
// that pieces look like those of real text (long CJK runs, Arabic and
// Devanagari words with their marks, Thai without spaces).
const SCRIPTS = {
  zh: { chars: "的一是不了人我在有他这中大来上国个到说们为子和你地出道也时年得就那要下以生会自着去之过家学对可她里后小么心多天而能好都然没日于起还发成事只作当想看文无开手十用主行方又如前所本见经头面公同三已老从动两长知民样现分将外但身些与高意进把法此实回二理美点月明其种声全工己话儿者向情部正名定女问力机给等几很业最间新什打便位因重被走电四第门相次东政海口使教西再平真听世气信北少关并内加化由却代军产入先山五太水万市眼体别处总才场师书比住员九笑性通目华报立马命张活难神数件安表原车白应路期叫死常提感金何更反合放做系计或司利受光王果亲界及今京务制解各任至清物台象记边共风战干接它许八特觉望直服毛林题建南度统色字请交爱让认算论百吃义科怎元社术结六功指思非流每青管夫连远资队跟带花快条院变联言权往展该领传近留红治决周保达办运武半候七必城父强步完革深区即求品士转量空甚众技轻程告江语英基派满式李息写呢识极令黄德收脸钱党倒未持取设始版双历越史商千片容研像找友孩站广改议形委早房音火际则首单据导影失拿网香似斯专石若兵弟谁校读志飞观争究包组造落视济喜离虽坏兴切", sep: "，。、；：！？" },
  ja: { chars: "あいうえおかきくけこさしすせそたちつてとなにぬねのはひふへほまみむめもやゆよらりるれろわをんがぎぐげござじずぜぞだでどばびぶべぼアイウエオカキクケコサシスセソタチツテトナニヌネノハヒフヘホマミムメモヤユヨラリルレロワヲンガギグゲゴザジズゼゾダデドバビブベボー日本語東京会社時間大学電話情報開発設定確認", sep: "、。！？「」" },
  ko: { words: "안녕하세요 감사합니다 데이터 캐시 토큰 서버 클라이언트 프로그램 개발자 사용자 설정 확인 한국어 문장 테스트 저장소 네트워크 응답 요청 함수 변수 오늘 내일 학교 회사 사람 시간 세계 가족 친구 음식".split(" "), sep: ". " },
  ar: { words: "مرحبا بالعالم هذا نص عربي للاختبار البيانات الذاكرة المؤقتة الخادم العميل البرنامج المطور المستخدم الإعدادات التحقق اللغة الجملة الشبكة الاستجابة الطلب الدالة المتغير اليوم غدا المدرسة الشركة الناس الوقت العالم العائلة الصديق الطعام وَالْكِتَابُ مُحَمَّدٌ ١٢٣ ٤٥٦".split(" "), sep: "، . ؟ ؛" },
  hi: { words: "नमस्ते दुनिया यह हिंदी पाठ परीक्षण के लिए है डेटा कैश सर्वर क्लाइंट प्रोग्राम डेवलपर उपयोगकर्ता सेटिंग्स पुष्टि भाषा वाक्य नेटवर्क प्रतिक्रिया अनुरोध फ़ंक्शन चर आज कल विद्यालय कंपनी लोग समय विश्व परिवार मित्र भोजन क्षत्रिय ज्ञान १२३ ४५६".split(" "), sep: "। , ? !" },
  th: { words: "สวัสดี ครับ ค่ะ ภาษาไทย ข้อความ ทดสอบ ข้อมูล แคช เซิร์ฟเวอร์ ไคลเอนต์ โปรแกรม นักพัฒนา ผู้ใช้ การตั้งค่า ยืนยัน ประโยค เครือข่าย การตอบสนอง คำขอ ฟังก์ชัน ตัวแปร วันนี้ พรุ่งนี้ โรงเรียน บริษัท คน เวลา โลก ครอบครัว เพื่อน อาหาร ๑๒๓".split(" "), sep: " " },
  ru: { words: "привет мир это русский текст для проверки данные кэш сервер клиент программа разработчик пользователь настройки подтверждение язык предложение сеть ответ запрос функция переменная сегодня завтра школа компания люди время семья друг еда Москва".split(" "), sep: ", . ? !" },
  el: { words: "γειά σου κόσμε αυτό είναι ελληνικό κείμενο δεδομένα διακομιστής πελάτης πρόγραμμα χρήστης ρυθμίσεις γλώσσα πρόταση δίκτυο απάντηση αίτημα συνάρτηση μεταβλητή σήμερα αύριο σχολείο εταιρεία άνθρωποι χρόνος Αθήνα".split(" "), sep: ", . ; ·" },
  la: { words: "the cache agent token prompt naïve café résumé Straße Ærø Ångström façade jalapeño Łódź Ελλάδα déjà-vu coöperate über Zürich São Paulo".split(" "), sep: ", . ; !" },
};
const EMOJI = ["😀", "😂", "🥲", "👍", "👍🏽", "👩‍💻", "👨‍👩‍👧‍👦", "🏳️‍🌈", "🇯🇵", "🇫🇷", "🇮🇳",
  "❤️", "✨", "🚀", "🔥", "🎉", "🤖", "🧠", "📦", "✅", "❌", "⚠️", "🙏🏿", "🧑🏻‍🔬", "1️⃣", "©️", "🫠"];

function generateMulti(bytes) {
  const rnd = prng(0x6d756c74);
  const pick = (a) => a[Math.floor(rnd() * a.length)];
  const int = (n) => Math.floor(rnd() * n);
  const keys = Object.keys(SCRIPTS);
  // Each word-based script gets a vocabulary as real text has one: its
  // listed words plus 2,000 made-up ones (two or three fragments of listed
  // words), drawn with Zipf's law, so that frequent words recur and most
  // of the vocabulary is rare.
  const VOCAB = 2000;
  const zipf = [];
  for (let r = 0, t = 0; r < VOCAB; r++) zipf.push(t += 1 / (r + 1));
  const vocab = {};
  for (const k of keys) {
    const words = SCRIPTS[k].words;
    if (!words) continue;
    const v = words.slice();
    while (v.length < VOCAB) {
      let w = "";
      for (let f = 0, nf = 2 + int(2); f < nf; f++) {
        const cps = Array.from(pick(words));
        const at = int(Math.max(1, cps.length - 1));
        w += cps.slice(at, at + 2 + int(3)).join("");
      }
      v.push(w);
    }
    vocab[k] = v;
  }
  const word = (k) => {
    const x = rnd() * zipf[VOCAB - 1];
    let lo = 0, hi = VOCAB - 1;
    while (lo < hi) { const mid = (lo + hi) >> 1; if (zipf[mid] < x) lo = mid + 1; else hi = mid; }
    return vocab[k][lo];
  };
  const run = (k, n) => {
    const s = SCRIPTS[k];
    let out = "";
    if (s.chars) {
      for (let i = 0; i < n * 3; i++) {
        out += s.chars[int(s.chars.length)];
        if (rnd() < 0.08) out += s.sep[int(s.sep.length)];
      }
      return out + s.sep[int(s.sep.length)];
    }
    const seps = s.sep.split(" ").filter((x) => x !== "");
    const w = [];
    for (let i = 0; i < n; i++) w.push(word(k) + (rnd() < 0.1 && seps.length ? pick(seps) : ""));
    return w.join(k === "th" && rnd() < 0.6 ? "" : " ") + (seps.length ? pick(seps) : "");
  };
  const mixed = () => {
    let out = "";
    for (let i = 0, n = 2 + int(5); i < n; i++) {
      const r = rnd();
      if (r < 0.15) out += pick(EMOJI) + (rnd() < 0.5 ? " " : "");
      else if (r < 0.25) out += String(int(100000)) + " ";
      else out += run(pick(keys), 1 + int(4)) + (rnd() < 0.5 ? " " : "");
    }
    return out;
  };
  const blocks = [
    () => run(pick(keys), 8 + int(30)) + "\n\n",
    () => "## " + run(pick(keys), 2 + int(4)) + "\n\n",
    () => { let l = ""; for (let i = 0, n = 2 + int(4); i < n; i++) l += "- " + mixed() + "\n"; return l + "\n"; },
    () => mixed() + "\n\n",
    () => { let e = ""; for (let i = 0, n = 3 + int(12); i < n; i++) e += pick(EMOJI) + (rnd() < 0.3 ? " " : ""); return e + "\n"; },
    () => "```python\n" + `def handle_${pick(["user", "data", "cache"])}(x):\n    # ${run(pick(keys), 3)}\n` +
      `    msg = "${run(pick(keys), 2)} ${pick(EMOJI)}"\n    return {"${run(pick(keys), 1)}": x * ${int(100)}, "msg": msg}\n` + "```\n\n",
    () => "```js\n" + `// ${run(pick(keys), 4)}\nconst label_${int(100)} = \`${run(pick(keys), 2)}: \${value}\`;\n` +
      `console.log("${run(pick(keys), 2)}", ${int(1000)});\n` + "```\n\n",
    () => "| " + Array.from({ length: 3 }, () => run(pick(keys), 1)).join(" | ") + " |\n|---|---|---|\n| " +
      Array.from({ length: 3 }, () => pick(EMOJI) + " " + int(1000)).join(" | ") + " |\n\n",
  ];
  const weights = [8, 1, 3, 4, 1, 2, 2, 1];
  return sized(bytes, blocks, weights, rnd);
}

// Code points added by Unicode 15.0 to 16.0, of each class the patterns
// test: Lu, Ll, Lm, Lo (Kawi, CJK extensions, Garay, Todhri...), M, N.
const NEW_CPS = [0x1c89, 0x1c8a, 0xa7cb, 0xa7dc, 0x10d50, 0x10d70, 0x10d4e,
  0x16d40, 0x1e030, 0x105c0, 0x11f04, 0x13460, 0x2b739, 0x31350, 0x1e4d0,
  0x1e5d0, 0x0897, 0x0cf3, 0x0ece, 0x11f00, 0x1e08f, 0x10d40, 0x116d0,
  0x1ccf0, 0x1e5f1];

function generateRare(bytes, every) {
  const text = generateMulti(bytes).toString("utf8");
  const cps = Array.from(text); // by code point, so none is cut
  const out = [];
  let at = 0, next = every, k = 0;
  for (const c of cps) {
    if (at >= next) {
      out.push(String.fromCodePoint(NEW_CPS[k % NEW_CPS.length]));
      k++;
      next += every;
    }
    out.push(c);
    at += Buffer.byteLength(c);
  }
  return Buffer.from(out.join(""));
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
  if ((mode === "mix" || mode === "multi") && a && b) {
    const n = Number(a);
    if (!Number.isInteger(n) || n < 1) throw new Error("BYTES must be a positive integer");
    fs.writeFileSync(b, (mode === "mix" ? generateMix : generateMulti)(n));
  } else if (mode === "rare" && a && b && process.argv[5]) {
    const n = Number(a), every = Number(b);
    if (!Number.isInteger(n) || n < 1 || !Number.isInteger(every) || every < 1)
      throw new Error("BYTES and EVERY must be positive integers");
    fs.writeFileSync(process.argv[5], generateRare(n, every));
  } else if (mode === "codepoints" && a) {
    fs.writeFileSync(a, generateCodepoints());
  } else {
    console.error("usage: gen-corpus.cjs mix|multi BYTES OUT | rare BYTES EVERY OUT | codepoints OUT");
    process.exit(2);
  }
}

main();
