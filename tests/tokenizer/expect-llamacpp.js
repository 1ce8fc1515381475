#!/usr/bin/env node
// expect-llamacpp.js DIR NAME GGUF CORPUS.jsonl [TOKENIZER.JSON]: the ids
// that llama.cpp (the
// npm package node-llama-cpp, in DIR/llamacpp) gives for the texts of the
// corpus with the GGUF file, as JSON lines
// {"file": NAME, "special": 0|1, "name": "...", "text": "...", "ids": [...]}
// for every text of the corpus that is valid Unicode and for texts made
// here (runs of one character; given the tokenizer.json the GGUF was made
// of, its added tokens among spaces: strip-texts.js).  tokenize(text,
// special): no BOS
// (add_special off); special 1 parses special tokens (parse_special), as
// wb counts with --allow-special.  The model is loaded for its vocabulary
// only.  It must run from a file: node-llama-cpp does not load under -e.
'use strict';
const fs = require('fs');
const path = require('path');

const [dir, name, gguf, corpus, tokjson] = process.argv.slice(2);
if (!corpus) {
  process.stderr.write('usage: expect-llamacpp.js DIR NAME GGUF CORPUS.jsonl [TOKENIZER.JSON]\n');
  process.exit(64);
}

const valid = (t) => Buffer.from(t, 'utf8').toString('utf8') === t;
const base = fs.readFileSync(corpus, 'utf8').split('\n').filter((l) => l !== '')
  .map((l) => JSON.parse(l)).filter((c) => valid(c.text));
const cases = base.map((c) => ({ name: c.name, text: c.text }));
for (const ch of [' ', '\n', '\t', '.', '\u00a0', 'a', '7', '日', '\u0301'])
  for (const n of [1, 2, 3, 4, 5, 7, 40])
    cases.push({ name: `run ${JSON.stringify(ch)} ${n}`, text: `x${ch.repeat(n)}y` });
if (tokjson)
  cases.push(...require('./strip-texts.js').texts(
    JSON.parse(fs.readFileSync(tokjson, 'utf8')).added_tokens.map((a) => a.content)));

(async () => {
  const url = require('url').pathToFileURL(path.resolve(dir,
    'llamacpp/node_modules/node-llama-cpp/dist/index.js')).href;
  const { getLlama } = await import(url);
  const llama = await getLlama({ gpu: false, build: 'never', logLevel: 'fatal' });
  const model = await llama.loadModel({ modelPath: path.resolve(gguf), vocabOnly: true });
  const lines = [];
  for (const special of [0, 1])
    for (const c of cases) {
      const ids = Array.from(model.tokenize(c.text, special === 1));
      lines.push(JSON.stringify({ file: name, special, name: c.name, text: c.text, ids }));
    }
  await model.dispose();
  await llama.dispose();
  process.stderr.write(`expect-llamacpp: ${name}: ${cases.length} texts\n`);
  process.stdout.write(lines.join('\n') + '\n');
})().catch((e) => {
  process.stderr.write(`expect-llamacpp: ${e.message}\n`);
  process.exit(1);
});
