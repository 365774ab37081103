#!/usr/bin/env node
// The Hugging Face side of bench/tokenizer_bench.cpp: encodes the same
// documents with the npm `tokenizers` package (Rust core), one at a time,
// and prints {"mb_per_s", "tokens", "seconds"} as JSON.
//
//   RAYON_NUM_THREADS=1 node tools/reference/tokenizer_bench.js TOKENIZER_JSON DOCS_JSONL
'use strict';
const fs = require('fs');
const path = require('path');

const root = path.resolve(__dirname, '..', '..');
const { Tokenizer } = require(path.join(root, '.cache', 'npm', 'node_modules', 'tokenizers'));

async function main() {
  const [tokenizerPath, docsPath] = process.argv.slice(2);
  const tokenizer = Tokenizer.fromFile(tokenizerPath);
  const docs = fs.readFileSync(docsPath, 'utf8').split('\n').filter((l) => l).map((l) => JSON.parse(l).text);
  const bytes = docs.reduce((sum, d) => sum + Buffer.byteLength(d, 'utf8'), 0);
  for (const doc of docs.slice(0, 8)) await tokenizer.encode(doc, null, { addSpecialTokens: false });  // warm-up
  let tokens = 0;
  const start = process.hrtime.bigint();
  for (const doc of docs) tokens += (await tokenizer.encode(doc, null, { addSpecialTokens: false })).getLength();
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  console.log(JSON.stringify({ mb_per_s: bytes / 1e6 / seconds, tokens, seconds }));
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
