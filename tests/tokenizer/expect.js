#!/usr/bin/env node
// expect.js CORPUS.jsonl: run the official npm `tiktoken` (WASM build of
// OpenAI's Rust code) on every case of the corpus, for every encoding, and
// print JSON lines {"case": N, "enc": "...", "special": 0|1, "ids": [...]}:
// special 0 is encode_ordinary(text), special 1 is encode(text, "all").
// o200k_harmony, which the npm package lacks, is built as tiktoken's
// Python package defines it: o200k_base's ranks, pattern and special
// tokens, and those of the gpt-oss models.
'use strict';
const fs = require('fs');
const { get_encoding, Tiktoken } = require('tiktoken');

function harmony() {
  const o = require('tiktoken/encoders/o200k_base.json');
  const special = {
    ...o.special_tokens,
    '<|startoftext|>': 199998, '<|endoftext|>': 199999,
    '<|reserved_200000|>': 200000, '<|reserved_200001|>': 200001,
    '<|return|>': 200002, '<|constrain|>': 200003, '<|reserved_200004|>': 200004,
    '<|channel|>': 200005, '<|start|>': 200006, '<|end|>': 200007,
    '<|message|>': 200008, '<|reserved_200009|>': 200009,
    '<|reserved_200010|>': 200010, '<|reserved_200011|>': 200011, '<|call|>': 200012,
  };
  for (let i = 200013; i < 201088; i++) special[`<|reserved_${i}|>`] = i;
  return new Tiktoken(o.bpe_ranks, special, o.pat_str);
}

// EXPECT_ENCODINGS (space-separated) restricts the encodings.
const names = (process.env.EXPECT_ENCODINGS || 'r50k_base p50k_base p50k_edit cl100k_base o200k_base gpt2 o200k_harmony').split(' ').filter(Boolean);
const lines = fs.readFileSync(process.argv[2], 'utf8').split('\n').filter((l) => l !== '');
const texts = lines.map((l) => JSON.parse(l).text);
const out = fs.openSync('/dev/stdout', 'w');
let buf = [];
const flush = () => { fs.writeSync(out, buf.join('')); buf = []; };
for (const name of names) {
  const enc = name === 'o200k_harmony' ? harmony() : get_encoding(name);
  const t0 = Date.now();
  texts.forEach((text, i) => {
    const ord = Array.from(enc.encode_ordinary(text));
    const all = Array.from(enc.encode(text, 'all'));
    buf.push(JSON.stringify({ case: i, enc: name, special: 0, ids: ord }) + '\n');
    buf.push(JSON.stringify({ case: i, enc: name, special: 1, ids: all }) + '\n');
    if (buf.length > 2000) flush();
  });
  flush();
  enc.free();
  process.stderr.write(`expect: ${name}: ${texts.length} cases in ${Date.now() - t0} ms\n`);
}
