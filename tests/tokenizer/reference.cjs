#!/usr/bin/env node
// reference.cjs — the other half of the tokenizer's exactness test: token
// ids from the npm "tiktoken" package (WASM build of OpenAI's tiktoken), the
// reference agentkv must equal.
//
//   node reference.cjs ENCODING FILE...
//       prints "ID ID ...<TAB>FILE" per file, like `agentkv tokens --ids`
//   node reference.cjs --check AGENTKV_OUTPUT ENCODING FILE...
//       compares the output of `agentkv tokens --ids --encoding ENCODING
//       FILE...` with tiktoken's ids for the same files, id by id; prints
//       each file's first mismatch with context and a summary line; exits 1
//       on any mismatch
//
// Each file is read as bytes and decoded as UTF-8 by Node (the WHATWG
// decoder: every maximal ill-formed subsequence becomes U+FFFD, and a
// leading BOM is kept), then encoded with encode_ordinary(): this is what
// tiktoken produces for those bytes read as text (docs/tokenizer.md).
// tiktoken is found in $AKV_NPM_DIR/node_modules, default build/npm.
"use strict";
const fs = require("fs");
const path = require("path");

const npmDir = process.env.AKV_NPM_DIR ||
  path.join(__dirname, "..", "..", "build", "npm");
const { get_encoding } = require(path.join(npmDir, "node_modules", "tiktoken"));

function referenceIds(enc, file) {
  return enc.encode_ordinary(fs.readFileSync(file).toString("utf8"));
}

function parseOurs(text, files) {
  // One line per file: ids, a tab, the file name. Split on the last tab of
  // each line, in the order of the files given.
  const lines = text.split("\n");
  if (lines[lines.length - 1] === "") lines.pop();
  if (lines.length !== files.length)
    throw new Error(`agentkv printed ${lines.length} lines for ${files.length} files`);
  return lines.map((line, i) => {
    const tab = line.lastIndexOf("\t");
    const name = line.slice(tab + 1);
    if (tab < 0 || name !== files[i])
      throw new Error(`line ${i + 1} is not for ${files[i]}`);
    const ids = line.slice(0, tab);
    return ids === "" ? [] : ids.split(" ").map(Number);
  });
}

function main() {
  let args = process.argv.slice(2);
  let check = null;
  if (args[0] === "--check") {
    check = args[1];
    args = args.slice(2);
  }
  const [encoding, ...files] = args;
  if (!encoding || files.length === 0) {
    console.error("usage: reference.cjs [--check AGENTKV_OUTPUT] ENCODING FILE...");
    process.exit(2);
  }
  const enc = get_encoding(encoding);
  if (check === null) {
    for (const f of files)
      process.stdout.write(Array.from(referenceIds(enc, f)).join(" ") + "\t" + f + "\n");
    return;
  }
  const ours = parseOurs(fs.readFileSync(check, "latin1"), files);
  let compared = 0, mismatched = 0;
  const show = (ids) => JSON.stringify(Buffer.from(enc.decode(Uint32Array.from(ids))).toString("utf8"));
  files.forEach((f, i) => {
    const ref = referenceIds(enc, f);
    const got = ours[i];
    const n = Math.max(ref.length, got.length);
    let k = 0;
    while (k < n && ref[k] === got[k]) k++;
    compared += Math.min(ref.length, got.length);
    if (k === n) return;
    mismatched++;
    const from = Math.max(0, k - 3);
    console.log(`MISMATCH ${encoding} ${f}: at id #${k} of ${ref.length} (agentkv gave ${got.length})`);
    console.log(`  tiktoken: ${Array.from(ref.slice(from, k + 6)).join(" ")}  ${show(Array.from(ref.slice(from, k + 6)))}`);
    console.log(`  agentkv:  ${got.slice(from, k + 6).join(" ")}  ${show(got.slice(from, k + 6).filter((x) => x < 300000))}`);
  });
  console.log(`${encoding}: ${files.length} files, ${compared} ids compared, ${mismatched} files mismatched`);
  enc.free();
  process.exit(mismatched ? 1 : 0);
}

main();
