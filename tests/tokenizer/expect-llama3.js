#!/usr/bin/env node
// expect-llama3.js LLAMA3.tiktoken CORPUS.jsonl: the ids that the official
// npm tiktoken (OpenAI's Rust core) gives with Llama 3's ranks, cl100k's
// pattern and Llama 3's special tokens, as Meta's reference tokenizer is
// built, for each case, as the lines of expect.js.
'use strict';
const fs = require('fs');
const { Tiktoken } = require('tiktoken');
const registry = require('tiktoken/registry.json');

const [ranksFile, corpus] = process.argv.slice(2);
// Llama 3's special tokens, 128000 on, as the C table lists them.
const table = fs.readFileSync(require('path').join(__dirname, '../../lib/llama3_special.h'), 'utf8');
const special = {};
for (const m of table.matchAll(/\{ ("[^"]*"), (\d+) \}/g)) special[JSON.parse(m[1])] = Number(m[2]);
const enc = new Tiktoken(fs.readFileSync(ranksFile, 'utf8'), special, registry.cl100k_base.pat_str);
const lines = fs.readFileSync(corpus, 'utf8').split('\n').filter((l) => l !== '');
const out = [];
lines.forEach((l, i) => {
  const text = JSON.parse(l).text;
  out.push(JSON.stringify({ case: i, enc: 'llama3', special: 0, ids: Array.from(enc.encode_ordinary(text)) }));
  out.push(JSON.stringify({ case: i, enc: 'llama3', special: 1, ids: Array.from(enc.encode(text, 'all')) }));
});
enc.free();
process.stdout.write(out.join('\n') + '\n');
