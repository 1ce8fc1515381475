#!/usr/bin/env node
// expect.js CORPUS.jsonl: run the official npm `tiktoken` (WASM build of
// OpenAI's Rust code) on every case of the corpus, for every encoding, and
// print JSON lines {"case": N, "enc": "...", "special": 0|1, "ids": [...]}:
// special 0 is encode_ordinary(text), special 1 is encode(text, "all").
'use strict';
const fs = require('fs');
const { get_encoding } = require('tiktoken');

// EXPECT_ENCODINGS (space-separated) restricts the encodings.
const names = (process.env.EXPECT_ENCODINGS || 'r50k_base p50k_base p50k_edit cl100k_base o200k_base').split(' ').filter(Boolean);
const lines = fs.readFileSync(process.argv[2], 'utf8').split('\n').filter((l) => l !== '');
const texts = lines.map((l) => JSON.parse(l).text);
const out = fs.openSync('/dev/stdout', 'w');
let buf = [];
const flush = () => { fs.writeSync(out, buf.join('')); buf = []; };
for (const name of names) {
  const enc = get_encoding(name);
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
