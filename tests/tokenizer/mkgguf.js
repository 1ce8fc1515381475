#!/usr/bin/env node
// mkgguf.js DIR: write the small GGUF files the tests read into DIR:
// metadata only, from vocabularies made up here. gpt2.gguf (v3) has a
// byte-level BPE tokenizer (tokens, merges, pre), llama.gguf (v2) a
// SentencePiece one (scores, token types, add_space_prefix, an
// alignment), types.gguf a key of every value type and an array of each,
// tensor.gguf one tensor after its metadata. test-gguf.c checks what it
// reads back against the values written here.
// mkgguf.js --from TOKENIZER.JSON PRE OUT [FLAGS]: the GGUF that
// llama.cpp's converter makes of a byte-level BPE tokenizer.json (see
// below).
// mkgguf.js --spm TOKENIZER.JSON OUT [--no-scores] [FLAGS]: the GGUF
// of model llama that it makes of a SentencePiece-style one (see below),
// without its scores if asked.
// FLAGS: --name NAME, its general.name; --user TEXT (again for more), the
// added token TEXT user-defined (4) whatever the converter would make it
// (as older converters and some models' files have it); --u32 KEY=N, one
// more key of type u32 (tokenizer.ggml.fim_pre_token_id=N, say).
'use strict';

const fs = require('fs');
const path = require('path');

const TYPES = {
  u8: 0, i8: 1, u16: 2, i16: 3, u32: 4, i32: 5, f32: 6, bool: 7,
  string: 8, array: 9, u64: 10, i64: 11, f64: 12,
};

function u32(v) {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(v);
  return b;
}

function u64(v) {
  const b = Buffer.alloc(8);
  b.writeBigUInt64LE(BigInt(v));
  return b;
}

function string(s) {
  const b = Buffer.from(s, 'utf8');
  return Buffer.concat([u64(b.length), b]);
}

// A value of type t; an array's v is { of, items }.
function value(t, v) {
  const b = Buffer.alloc(8);
  switch (t) {
    case 'u8': b.writeUInt8(v); return b.subarray(0, 1);
    case 'i8': b.writeInt8(v); return b.subarray(0, 1);
    case 'u16': b.writeUInt16LE(v); return b.subarray(0, 2);
    case 'i16': b.writeInt16LE(v); return b.subarray(0, 2);
    case 'u32': b.writeUInt32LE(v); return b.subarray(0, 4);
    case 'i32': b.writeInt32LE(v); return b.subarray(0, 4);
    case 'f32': b.writeFloatLE(v); return b.subarray(0, 4);
    case 'bool': b.writeUInt8(v ? 1 : 0); return b.subarray(0, 1);
    case 'u64': b.writeBigUInt64LE(BigInt(v)); return b;
    case 'i64': b.writeBigInt64LE(BigInt(v)); return b;
    case 'f64': b.writeDoubleLE(v); return b;
    case 'string': return string(v);
    case 'array':
      return Buffer.concat([u32(TYPES[v.of]), u64(v.items.length),
        ...v.items.map((x) => value(v.of, x))]);
    default: throw new Error(`unknown type ${t}`);
  }
}

// A file: header, then [key, type, value] triples, then what follows.
function gguf(version, kvs, tensors = 0, tail = Buffer.alloc(0)) {
  const parts = [Buffer.from('GGUF'), u32(version), u64(tensors),
    u64(kvs.length)];
  for (const [k, t, v] of kvs)
    parts.push(string(k), u32(TYPES[t]), value(t, v));
  parts.push(tail);
  return Buffer.concat(parts);
}

const arr = (of, items) => ({ of, items });

// Keys out of order on purpose: lookups must not depend on it.
const gpt2 = gguf(3, [
  ['tokenizer.ggml.tokens', 'array', arr('string',
    ['a', 'b', 'c', 'ab', 'abc', '\u0120', '\u0120a', '<|end|>'])],
  ['general.architecture', 'string', 'gpt2'],
  ['tokenizer.ggml.model', 'string', 'gpt2'],
  ['tokenizer.ggml.pre', 'string', 'default'],
  ['tokenizer.ggml.merges', 'array', arr('string',
    ['a b', 'ab c', '\u0120 a'])],
  ['tokenizer.ggml.token_type', 'array', arr('i32',
    [1, 1, 1, 1, 1, 1, 1, 3])],
  ['tokenizer.ggml.bos_token_id', 'u32', 7],
  ['tokenizer.ggml.eos_token_id', 'u32', 7],
  ['general.name', 'string', 'Tiny BPE'],
]);

const llama = gguf(2, [
  ['general.architecture', 'string', 'llama'],
  ['general.alignment', 'u32', 64],
  ['llama.context_length', 'u64', 4096],
  ['tokenizer.ggml.model', 'string', 'llama'],
  ['tokenizer.ggml.tokens', 'array', arr('string',
    ['<unk>', '<s>', '</s>', '<0x0A>', '\u2581', '\u2581a', 'b', '\u2581ab'])],
  ['tokenizer.ggml.scores', 'array', arr('f32',
    [0, 0, 0, 0, -1.5, -2.25, -3, -0.5])],
  ['tokenizer.ggml.token_type', 'array', arr('i32',
    [2, 3, 3, 6, 1, 1, 1, 1])],
  ['tokenizer.ggml.add_space_prefix', 'bool', false],
  ['tokenizer.ggml.add_bos_token', 'bool', true],
  ['tokenizer.ggml.unknown_token_id', 'u32', 0],
]);

const types = gguf(3, [
  ['t.u8', 'u8', 200],
  ['t.i8', 'i8', -100],
  ['t.u16', 'u16', 60000],
  ['t.i16', 'i16', -30000],
  ['t.u32', 'u32', 4000000000],
  ['t.i32', 'i32', -2000000000],
  ['t.f32', 'f32', 0.5],
  ['t.bool', 'bool', true],
  ['t.string', 'string', 'h\u00e9llo'],
  ['t.u64', 'u64', 1099511627776n],
  ['t.i64', 'i64', -1099511627776n],
  ['t.f64', 'f64', 0.25],
  ['t.small_u64', 'u64', 7],
  ['t.small_i64', 'i64', -7],
  ['a.u8', 'array', arr('u8', [1, 255])],
  ['a.i8', 'array', arr('i8', [-128, 127])],
  ['a.u16', 'array', arr('u16', [65535])],
  ['a.i16', 'array', arr('i16', [-32768, 32767])],
  ['a.u32', 'array', arr('u32', [4294967295])],
  ['a.i32', 'array', arr('i32', [-2147483648, 2147483647, 0])],
  ['a.f32', 'array', arr('f32', [1.5, -0.125])],
  ['a.bool', 'array', arr('bool', [true, false, true])],
  ['a.string', 'array', arr('string', ['', 'x', 'h\u00e9'])],
  ['a.u64', 'array', arr('u64', [5, 6])],
  ['a.i64', 'array', arr('i64', [-5])],
  ['a.f64', 'array', arr('f64', [2.5])],
  ['a.empty', 'array', arr('u32', [])],
  ['a.nested', 'array', arr('array', [arr('u8', [1, 2]), arr('u8', [3])])],
]);

// One f32 tensor of 4 elements: its info, padding to 32, its data.
function withTensor() {
  const info = Buffer.concat([string('w'), u32(1), u64(4), u32(0), u64(0)]);
  const head = gguf(3, [['general.architecture', 'string', 'llama']], 1,
    info);
  const pad = Buffer.alloc((32 - (head.length % 32)) % 32);
  const data = Buffer.alloc(16);
  [1, 2, 3, 4].forEach((x, i) => data.writeFloatLE(x, 4 * i));
  return Buffer.concat([head, pad, data]);
}

// The GGUF file llama.cpp's convert_hf_to_gguf.py writes for the
// byte-level BPE tokenizer.json text, metadata only: the tokens by id
// (a hole is [PADi], unused), token types (added tokens: control if
// special or looking special, else user-defined), the merges as "A B",
// and the pre-tokenizer name pre.
function fromTokenizerJson(text, pre, { name, user = [], u32s = [] } = {}) {
  const tj = JSON.parse(text);
  const byId = new Map();
  for (const [t, id] of Object.entries(tj.model.vocab)) byId.set(id, t);
  const added = new Map();
  for (const a of tj.added_tokens || []) {
    byId.set(a.id, a.content);
    added.set(a.id, a);
  }
  let n = 0;
  for (const id of byId.keys()) if (id >= n) n = id + 1;
  const looksSpecial = (t) => ['<pad>', '<mask>'].includes(t) ||
    (t.startsWith('<|') && t.endsWith('|>'));
  const tokens = [];
  const types = [];
  for (let i = 0; i < n; i++) {
    if (!byId.has(i)) {
      tokens.push(`[PAD${i}]`);
      types.push(5);
    } else if (added.has(i)) {
      tokens.push(byId.get(i));
      types.push(!user.includes(byId.get(i)) &&
        (added.get(i).special || looksSpecial(byId.get(i))) ? 3 : 4);
    } else {
      tokens.push(byId.get(i));
      types.push(1);
    }
  }
  const merges = tj.model.merges.map((m) => (Array.isArray(m) ? m.join(' ') : m));
  return gguf(3, [
    ['general.architecture', 'string', 'llama'],
    ['general.name', 'string', name || 'from tokenizer.json'],
    ['tokenizer.ggml.model', 'string', 'gpt2'],
    ['tokenizer.ggml.pre', 'string', pre],
    ['tokenizer.ggml.tokens', 'array', arr('string', tokens)],
    ['tokenizer.ggml.token_type', 'array', arr('i32', types)],
    ['tokenizer.ggml.merges', 'array', arr('string', merges)],
    ...u32s,
  ]);
}

// The GGUF file of model llama that llama.cpp's convert_hf_to_gguf.py
// writes for a SentencePiece BPE model, metadata only, from the
// tokenizer.json text made of it: the pieces by id, each normal one
// scored as SentencePiece scores a BPE model's pieces (minus its id: the
// later a piece, the later it merges), the others 0; token types: byte
// tokens <0xNN> 6, the unknown token 2, special added tokens control (3),
// other added ones user-defined (4), the rest normal (1); add_space_prefix
// when the normalizer prepends ▁ (Llama 2, Mistral; not Gemma).
function spmFromTokenizerJson(text, noScores, { name, user = [], u32s = [] } = {}) {
  const tj = JSON.parse(text);
  const byId = new Map();
  for (const [t, id] of Object.entries(tj.model.vocab)) byId.set(id, t);
  const added = new Map();
  for (const a of tj.added_tokens || []) {
    if (!byId.has(a.id)) byId.set(a.id, a.content);
    added.set(a.id, a);
  }
  let n = 0;
  for (const id of byId.keys()) if (id >= n) n = id + 1;
  const tokens = [];
  const scores = [];
  const types = [];
  for (let i = 0; i < n; i++) {
    const t = byId.has(i) ? byId.get(i) : `[PAD${i}]`;
    let type = 1;
    if (!byId.has(i)) type = 5;
    else if (t === tj.model.unk_token) type = 2;
    else if (/^<0x[0-9A-F]{2}>$/.test(t)) type = 6;
    else if (added.has(i)) type = added.get(i).special && !user.includes(t) ? 3 : 4;
    tokens.push(t);
    types.push(type);
    scores.push(type === 1 ? -i : 0);
  }
  const prepend = JSON.stringify(tj.normalizer || {}).includes('"Prepend"') ||
    (tj.pre_tokenizer && tj.pre_tokenizer.type === 'Metaspace' &&
     tj.pre_tokenizer.prepend_scheme !== 'never');
  return gguf(3, [
    ['general.architecture', 'string', 'llama'],
    ['general.name', 'string', name || 'from tokenizer.json'],
    ['llama.context_length', 'u32', 4096],
    ['llama.embedding_length', 'u32', 64],
    ['llama.block_count', 'u32', 1],
    ['llama.feed_forward_length', 'u32', 128],
    ['llama.attention.head_count', 'u32', 1],
    ['llama.attention.layer_norm_rms_epsilon', 'f32', 1e-5],
    ['tokenizer.ggml.model', 'string', 'llama'],
    ['tokenizer.ggml.pre', 'string', 'default'],
    ['tokenizer.ggml.tokens', 'array', arr('string', tokens)],
    ...(noScores ? [] : [['tokenizer.ggml.scores', 'array', arr('f32', scores)]]),
    ['tokenizer.ggml.token_type', 'array', arr('i32', types)],
    ['tokenizer.ggml.add_space_prefix', 'bool', prepend],
    ['tokenizer.ggml.add_bos_token', 'bool', true],
    ...u32s,
  ]);
}

// The FLAGS after the operands: { name, user, u32s, noScores }, or null.
function flags(list) {
  const f = { user: [], u32s: [], noScores: false };
  for (let i = 0; i < list.length; i++) {
    if (list[i] === '--no-scores') f.noScores = true;
    else if (list[i] === '--name' && i + 1 < list.length) f.name = list[++i];
    else if (list[i] === '--user' && i + 1 < list.length) f.user.push(list[++i]);
    else if (list[i] === '--u32' && /^[^=]+=\d+$/.test(list[i + 1] || '')) {
      const [k, v] = list[++i].split('=');
      f.u32s.push([k, 'u32', Number(v)]);
    } else return null;
  }
  return f;
}

const dir = process.argv[2];
if (dir === '--spm') {
  const [, , , src, out, ...rest] = process.argv;
  const f = flags(rest);
  if (!out || !f) {
    process.stderr.write('usage: mkgguf.js --spm TOKENIZER.JSON OUT [--no-scores] [FLAGS]\n');
    process.exit(64);
  }
  fs.writeFileSync(out, spmFromTokenizerJson(fs.readFileSync(src, 'utf8'), f.noScores, f));
  process.exit(0);
}
if (dir === '--from') {
  const [, , , src, pre, out, ...rest] = process.argv;
  const f = flags(rest);
  if (!out || !f || f.noScores) {
    process.stderr.write('usage: mkgguf.js --from TOKENIZER.JSON PRE OUT [FLAGS]\n');
    process.exit(64);
  }
  fs.writeFileSync(out, fromTokenizerJson(fs.readFileSync(src, 'utf8'), pre, f));
  process.exit(0);
}
if (!dir) {
  process.stderr.write('usage: mkgguf.js DIR | --from TOKENIZER.JSON PRE OUT\n');
  process.exit(64);
}
fs.mkdirSync(dir, { recursive: true });
fs.writeFileSync(path.join(dir, 'gpt2.gguf'), gpt2);
fs.writeFileSync(path.join(dir, 'llama.gguf'), llama);
fs.writeFileSync(path.join(dir, 'types.gguf'), types);
fs.writeFileSync(path.join(dir, 'tensor.gguf'), withTensor());
