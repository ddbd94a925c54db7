#!/usr/bin/env node
// bench-tokens.cjs — the npm tiktoken (WASM) side of bench/bench-tokens.sh.
//
//   node bench-tokens.cjs ENCODING FILE REPS AGENTKV_IDS
//
// Loads the encoding (timed), encodes FILE (read as UTF-8 text) REPS times
// with encode_ordinary(), keeps the best of three rounds, and checks that
// the ids equal those agentkv printed (AGENTKV_IDS: the output of
// `agentkv tokens --ids FILE`). Prints one JSON line:
//   {"load_ms":..,"mb_per_s":..,"tokens":..,"identical":true}
"use strict";
const fs = require("fs");
const path = require("path");

const npmDir = process.env.AKV_NPM_DIR || path.join(__dirname, "..", "build", "npm");
const { get_encoding } = require(path.join(npmDir, "node_modules", "tiktoken"));

const [encoding, file, repsArg, oursFile] = process.argv.slice(2);
const reps = Number(repsArg) || 16;
const buf = fs.readFileSync(file);
const text = buf.toString("utf8");

let t = process.hrtime.bigint();
const enc = get_encoding(encoding);
const loadMs = Number(process.hrtime.bigint() - t) / 1e6;

let ids = enc.encode_ordinary(text); // warm-up
let best = Infinity;
for (let round = 0; round < 3; round++) {
  t = process.hrtime.bigint();
  for (let i = 0; i < reps; i++) ids = enc.encode_ordinary(text);
  best = Math.min(best, Number(process.hrtime.bigint() - t) / 1e9);
}

const line = fs.readFileSync(oursFile, "utf8").trim();
const ours = line.split("\t")[0].split(" ").map(Number);
let identical = ours.length === ids.length;
for (let i = 0; identical && i < ids.length; i++) identical = ours[i] === ids[i];

console.log(JSON.stringify({
  load_ms: Math.round(loadMs * 10) / 10,
  mb_per_s: Math.round((buf.length * reps) / best / 1e6 * 100) / 100,
  tokens: ids.length,
  identical,
}));
enc.free();
