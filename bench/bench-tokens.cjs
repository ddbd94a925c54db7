#!/usr/bin/env node
// bench-tokens.cjs — the JavaScript side of bench/bench-tokens.sh: one
// round of one JavaScript tokenizer on one file.
//
//   node bench-tokens.cjs LIBRARY ENCODING FILE REPS [AGENTKV_IDS]
//
// LIBRARY is tiktoken (OpenAI's tiktoken compiled to WASM), js-tiktoken or
// gpt-tokenizer (both pure JavaScript), as pinned by bench/package.json and
// installed in $AKV_BENCH_NPM_DIR/node_modules. The file is read as UTF-8
// text, encoded once (warm-up, and the ids to check), then REPS times,
// timed. Every library is asked for encode_ordinary() semantics: special
// tokens are plain text. With AGENTKV_IDS (the output of `agentkv tokens
// --ids FILE`) the ids must be equal: on the first difference it prints
// where and exits 1. Prints one JSON line: {"mb_per_s":..,
// "mb_per_cpu_s":..,"tokens":..}, the throughput per second of wall clock
// and per second of CPU time (user and system, all of Node's threads).
"use strict";
const fs = require("fs");
const path = require("path");

const npmDir = process.env.AKV_BENCH_NPM_DIR ||
  path.join(__dirname, "..", "build", "bench-npm");
// Resolved from npmDir as a package import, so that "exports" maps apply.
const need = (name) => require(require.resolve(name, { paths: [npmDir] }));

function encoder(library, encoding) {
  if (library === "tiktoken") {
    const enc = need("tiktoken").get_encoding(encoding);
    return (text) => enc.encode_ordinary(text);
  }
  if (library === "js-tiktoken") {
    const { Tiktoken } = need("js-tiktoken/lite");
    const ranks = need(`js-tiktoken/ranks/${encoding}`);
    const enc = new Tiktoken(ranks.default || ranks);
    return (text) => enc.encode(text, [], []);
  }
  if (library === "gpt-tokenizer") {
    const enc = need(`gpt-tokenizer/cjs/encoding/${encoding}`);
    const opts = { disallowedSpecial: new Set() };
    return (text) => enc.encode(text, opts);
  }
  throw new Error(`unknown library ${library}`);
}

function main() {
  const [library, encoding, file, repsArg, oursFile] = process.argv.slice(2);
  const reps = Number(repsArg);
  if (!file || !Number.isInteger(reps) || reps < 1) {
    console.error("usage: bench-tokens.cjs LIBRARY ENCODING FILE REPS [AGENTKV_IDS]");
    process.exit(2);
  }
  const buf = fs.readFileSync(file);
  const text = buf.toString("utf8");
  const encode = encoder(library, encoding);
  const ids = Array.from(encode(text));

  if (oursFile) {
    const line = fs.readFileSync(oursFile, "utf8").replace(/\n$/, "");
    const ours = line === "" ? [] : line.split(" ").map(Number);
    const n = Math.min(ours.length, ids.length);
    let i = 0;
    while (i < n && ours[i] === ids[i]) i++;
    if (i < n || ours.length !== ids.length) {
      console.error(`bench-tokens: MISMATCH ${library} ${encoding} ${file}: ` +
        `first difference at id #${i} (agentkv ${ours.length} ids, ${library} ${ids.length}): ` +
        `agentkv ${ours.slice(i, i + 5).join(" ")} / ${library} ${ids.slice(i, i + 5).join(" ")}`);
      process.exit(1);
    }
  }

  const t = process.hrtime.bigint(), c = process.cpuUsage();
  for (let r = 0; r < reps; r++) encode(text);
  const secs = Number(process.hrtime.bigint() - t) / 1e9;
  const used = process.cpuUsage(c), cpu = (used.user + used.system) / 1e6;
  const rate = (s) => Math.round((buf.length * reps) / s / 1e6 * 1000) / 1000;
  console.log(JSON.stringify({ mb_per_s: rate(secs), mb_per_cpu_s: rate(cpu), tokens: ids.length }));
}

main();
