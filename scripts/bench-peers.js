#!/usr/bin/env node
// bench-peers.js TOOL ENCODING FILE RUNS
//
// Times one npm tokenizer on the contents of FILE and prints one JSON line:
//   {"tool", "encoding", "bytes", "tokens", "best_ms", "load_ms", "runs"}
//
//   TOOL      tiktoken | js-tiktoken | gpt-tokenizer | tiktoken-rs |
//             hf-tokenizers | llama.cpp
//   ENCODING  cl100k_base, o200k_base, ... (whatever the tool supports);
//             for hf-tokenizers a tokenizer.json (Hugging Face's tokenizers,
//             napi: encode(text, null, {addSpecialTokens: false}), the file
//             without its special added tokens), for
//             llama.cpp a GGUF file (node-llama-cpp, the model loaded for
//             its vocabulary only: tokenize(text, false))
//   RUNS      how many timed encode() calls; best_ms is the fastest
//
// load_ms is require() + constructing the encoding + one encode() of a
// one-word string (so that lazy set-up is counted as loading, not as
// encoding).  best_ms is encode(text).length only: the text is read and
// decoded from UTF-8 before timing starts.  gpt-tokenizer keeps a cache of
// merged pieces between calls; it is cleared before every timed run so
// that each run starts as cold as the first.
//
// If WB_BENCH_STOP_MS is set, a run slower than that many milliseconds ends
// the repetition (on quadratic inputs one run already says enough); "runs"
// is how many timed runs were made.
//
// Packages are looked up in WB_BENCH_NPM_DIR (default
// ${TMPDIR:-/tmp}/wb-bench/npm, where bench-tokenizers installs them), then
// in the directories of WB_BENCH_NPM_PATHS (separated by colons), then in
// the usual places.
'use strict';

const fs = require('fs');
const os = require('os');
const path = require('path');

function usage(msg) {
  if (msg) process.stderr.write(`bench-peers: ${msg}\n`);
  process.stderr.write('usage: node bench-peers.js TOOL ENCODING FILE RUNS\n' +
    '  TOOL: tiktoken | js-tiktoken | gpt-tokenizer | tiktoken-rs | hf-tokenizers | llama.cpp\n');
  process.exit(64);
}

const npmDir = process.env.WB_BENCH_NPM_DIR ||
  path.join(os.tmpdir(), 'wb-bench', 'npm');

const npmPaths = [npmDir, ...(process.env.WB_BENCH_NPM_PATHS || '').split(':').filter(Boolean)];

function resolve(name) {
  try {
    return require.resolve(name, { paths: npmPaths });
  } catch (e) {
    return name; // fall back to node's own search (NODE_PATH, global, ...)
  }
}
const load = (name) => require(resolve(name));

// Each loader returns { encode(text) -> array-like, before() } once the
// encoding is ready.
const tools = {
  tiktoken(enc) {
    const e = load('tiktoken').get_encoding(enc);
    return { encode: (s) => e.encode(s), before() {} };
  },
  'js-tiktoken'(enc) {
    const e = load('js-tiktoken').getEncoding(enc);
    return { encode: (s) => e.encode(s), before() {} };
  },
  'gpt-tokenizer'(enc) {
    const m = load(`gpt-tokenizer/encoding/${enc}`);
    return {
      encode: (s) => m.encode(s),
      before() { if (typeof m.clearMergeCache === 'function') m.clearMergeCache(); },
    };
  },
  // The native (napi) binding of the Rust crate tiktoken-rs. The package
  // exports getEncoding(name) -> Encoding { encode(text), decode(ids) };
  // encode returns a Uint32Array.
  'tiktoken-rs'(enc) {
    const e = load('tiktoken-rs-node-linux-x64-gnu').getEncoding(enc);
    return { encode: (s) => e.encode(s), before() {} };
  },
  // Hugging Face's tokenizers (Rust, napi) on a tokenizer.json; encode is
  // asynchronous and its ids come through getIds().  It always splits the
  // special added tokens out, where wb without --allow-special counts their
  // text as ordinary text: they are taken out of the file first, as
  // tests/tokenizer/expect-hf.js does, so that both count the same tokens.
  'hf-tokenizers'(file) {
    const json = JSON.parse(fs.readFileSync(file, 'utf8'));
    json.added_tokens = (json.added_tokens || []).filter((a) => !a.special);
    const t = load('tokenizers').Tokenizer.fromString(JSON.stringify(json));
    return {
      encode: async (s) => (await t.encode(s, null, { addSpecialTokens: false })).getIds(),
      before() {},
    };
  },
  // llama.cpp through node-llama-cpp (an ES module) on a GGUF file.
  async 'llama.cpp'(file) {
    // Its exports hide package.json from require.resolve: look for it.
    const dir = npmPaths.map((d) => path.join(d, 'node_modules', 'node-llama-cpp'))
      .find((d) => fs.existsSync(path.join(d, 'dist', 'index.js')));
    if (!dir) throw new Error(`node-llama-cpp is not in ${npmPaths.join(', ')}`);
    const { getLlama } = await import(require('url').pathToFileURL(
      path.join(dir, 'dist', 'index.js')).href);
    const llama = await getLlama({ gpu: false, build: 'never', logLevel: 'error' });
    const model = await llama.loadModel({ modelPath: path.resolve(file), vocabOnly: true });
    return { encode: (s) => model.tokenize(s, false), before() {} };
  },
};

const [tool, encoding, file, runsArg] = process.argv.slice(2);
if (!tool || !encoding || !file || !runsArg) usage();
if (!Object.prototype.hasOwnProperty.call(tools, tool)) usage(`unknown tool: ${tool}`);
const runs = Number(runsArg);
if (!Number.isInteger(runs) || runs < 1) usage(`RUNS must be a positive integer: ${runsArg}`);
const stopMs = Number(process.env.WB_BENCH_STOP_MS) || Infinity;

const buf = fs.readFileSync(file);
const text = buf.toString('utf8');
const ms = (t0) => Number(process.hrtime.bigint() - t0) / 1e6;

(async () => {
  let t0 = process.hrtime.bigint();
  const tok = await tools[tool](encoding);
  await tok.encode('hello');
  const loadMs = ms(t0);

  let best = Infinity;
  let tokens = -1;
  let done = 0;
  while (done < runs) {
    tok.before();
    t0 = process.hrtime.bigint();
    const n = (await tok.encode(text)).length;
    const t = ms(t0);
    done++;
    if (tokens >= 0 && n !== tokens) {
      process.stderr.write(`bench-peers: ${tool}: count changed between runs (${tokens} then ${n})\n`);
      process.exit(70);
    }
    tokens = n;
    if (t < best) best = t;
    if (t > stopMs) break;
  }

  const r3 = (x) => Math.round(x * 1000) / 1000;
  process.stdout.write(JSON.stringify({
    tool, encoding: path.basename(encoding), bytes: buf.length, tokens, best_ms: r3(best),
    load_ms: r3(loadMs), runs: done,
  }) + '\n');
  process.exit(0);
})().catch((e) => {
  process.stderr.write(`bench-peers: ${tool}: ${e.message}\n`);
  process.exit(70);
});
