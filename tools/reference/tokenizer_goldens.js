#!/usr/bin/env node
// Golden ids from Hugging Face's own tokenizers library (the npm `tokenizers`
// package, its Rust core behind a Node binding) for every line of a corpus.
//
//   node tools/reference/tokenizer_goldens.js TOKENIZER_JSON CORPUS_JSONL OUTPUT_JSONL
//
// A corpus line is {"text": ...} or {"hex": ...}; hex bytes are decoded the
// way any JS caller would (Buffer.toString: each invalid UTF-8 subpart
// becomes U+FFFD) before HF sees them. Each output line repeats the input
// field and adds: ids (no special tokens added), ids_special (the
// post-processor's specials added), decoded and decoded_skip (decode with
// skip_special_tokens false / true); see below for omitted defaults.
'use strict';
const fs = require('fs');
const path = require('path');

const root = path.resolve(__dirname, '..', '..');
const { Tokenizer } = require(path.join(root, '.cache', 'npm', 'node_modules', 'tokenizers'));

async function main() {
  const [tokenizerPath, corpusPath, outputPath] = process.argv.slice(2);
  if (!outputPath) {
    console.error('usage: tokenizer_goldens.js TOKENIZER_JSON CORPUS_JSONL OUTPUT_JSONL');
    process.exit(2);
  }
  const tokenizer = Tokenizer.fromFile(tokenizerPath);
  const lines = fs.readFileSync(corpusPath, 'utf8').split('\n').filter((l) => l.trim() !== '');
  const out = [];
  for (const line of lines) {
    const entry = JSON.parse(line);
    const text = entry.hex !== undefined ? Buffer.from(entry.hex, 'hex').toString('utf8') : entry.text;
    const plain = await tokenizer.encode(text, null, { addSpecialTokens: false });
    const special = await tokenizer.encode(text, null, { addSpecialTokens: true });
    const ids = plain.getIds();
    const golden = entry.hex !== undefined ? { hex: entry.hex } : { text: entry.text };
    golden.ids = ids;
    // Fields equal to what they default to are left out (smaller goldens):
    // ids_special defaults to ids, decoded to text, decoded_skip to decoded.
    const idsSpecial = special.getIds();
    if (JSON.stringify(idsSpecial) !== JSON.stringify(ids)) golden.ids_special = idsSpecial;
    const decoded = await tokenizer.decode(ids, false);
    if (decoded !== text) golden.decoded = decoded;
    const decodedSkip = await tokenizer.decode(ids, true);
    if (decodedSkip !== decoded) golden.decoded_skip = decodedSkip;
    out.push(JSON.stringify(golden));
  }
  fs.writeFileSync(outputPath, out.join('\n') + '\n');
  console.error(`wrote ${out.length} lines to ${outputPath}`);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
