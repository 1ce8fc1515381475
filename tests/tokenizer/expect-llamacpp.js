#!/usr/bin/env node
// expect-llamacpp.js DIR GGUF CORPUS.jsonl: the ids llama.cpp gives for
// every text of the corpus with the tokenizer of the GGUF file, through
// the npm package node-llama-cpp in DIR/llamacpp (vocabulary only), as
// JSON lines {"special": 0|1, "name": "...", "text": "...", "ids": [...]}:
// tokenize(text, specialTokens) with specialTokens false (0) and true (1);
// no BOS.
'use strict';
const fs = require('fs');
const path = require('path');

const [dir, gguf, corpus] = process.argv.slice(2);
if (!corpus) {
  process.stderr.write('usage: expect-llamacpp.js DIR GGUF CORPUS.jsonl\n');
  process.exit(64);
}
const valid = (t) => Buffer.from(t, 'utf8').toString('utf8') === t;
const cases = fs.readFileSync(corpus, 'utf8').split('\n').filter((l) => l !== '')
  .map((l) => JSON.parse(l)).filter((c) => valid(c.text));

(async () => {
  const entry = require.resolve('node-llama-cpp', { paths: [path.resolve(dir, 'llamacpp')] });
  const { getLlama } = await import(entry);
  const llama = await getLlama({ gpu: false, logLevel: 'error', build: 'never' });
  const model = await llama.loadModel({ modelPath: path.resolve(gguf), vocabOnly: true });
  const lines = [];
  for (const special of [0, 1])
    for (const c of cases) {
      const ids = Array.from(model.tokenize(c.text, special === 1));
      lines.push(JSON.stringify({ special, name: c.name, text: c.text, ids }));
    }
  process.stdout.write(lines.join('\n') + '\n');
  await model.dispose();
  await llama.dispose();
})().catch((e) => {
  process.stderr.write(`expect-llamacpp: ${e.message}\n`);
  process.exit(1);
});
