#!/usr/bin/env node
// synthetic.js: write to stdout a small byte-level BPE tokenizer.json that
// the tests make their cases of: the bytes are ids 0 to 255, "hello" is
// made by merges (259), "abc" is a token that no merge makes (260), "ſa"
// is made by merges (271), "[X]" is an added token (300), "<S>" a special
// one (301); the split is cl100k_base's.
'use strict';

const bs = [];
for (let b = 0x21; b <= 0x7e; b++) bs.push(b);
for (let b = 0xa1; b <= 0xac; b++) bs.push(b);
for (let b = 0xae; b <= 0xff; b++) bs.push(b);
const ch = {};
let n = 0;
for (let b = 0; b < 256; b++)
  ch[b] = bs.includes(b) ? String.fromCodePoint(b) : String.fromCodePoint(256 + n++);
const vocab = {};
for (let b = 0; b < 256; b++) vocab[ch[b]] = b;
// "ſ" is the bytes C5 BF, written as the characters of those bytes.
const longS = ch[0xc5] + ch[0xbf];
Object.assign(vocab, { he: 256, ll: 257, hell: 258, hello: 259, abc: 260,
  [longS]: 270, [longS + 'a']: 271 });
const regex = String.raw`(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+`;
const added = (id, content, special) => ({ id, content, single_word: false,
  lstrip: false, rstrip: false, normalized: false, special });
process.stdout.write(JSON.stringify({
  version: '1.0', truncation: null, padding: null,
  added_tokens: [added(300, '[X]', false), added(301, '<S>', true)],
  normalizer: null,
  pre_tokenizer: { type: 'Sequence', pretokenizers: [
    { type: 'Split', pattern: { Regex: regex }, behavior: 'Isolated', invert: false },
    { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: false }] },
  post_processor: null,
  decoder: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: true, use_regex: true },
  model: { type: 'BPE', dropout: null, unk_token: null, continuing_subword_prefix: null,
    end_of_word_suffix: null, fuse_unk: false, byte_fallback: false, ignore_merges: true,
    vocab,
    merges: [['h', 'e'], ['l', 'l'], ['he', 'll'], ['hell', 'o'],
      [ch[0xc5], ch[0xbf]], [longS, 'a']] } }));
