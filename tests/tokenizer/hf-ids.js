#!/usr/bin/env node
// hf-ids.js DIR TOKENIZER.JSON < TEXTS.jsonl: for each line {"text": ...},
// the ids Hugging Face's tokenizers (the npm package in DIR/node) gives
// with the tokenizer.json file, as a JSON array a line:
// encode(text, null, {addSpecialTokens: false}).
'use strict';
const fs = require('fs');
const path = require('path');

const [dir, file] = process.argv.slice(2);
if (!file) {
  process.stderr.write('usage: hf-ids.js DIR TOKENIZER.JSON <TEXTS.jsonl\n');
  process.exit(64);
}
const { Tokenizer } = require(path.resolve(dir, 'node/node_modules/tokenizers'));

(async () => {
  const tk = Tokenizer.fromString(fs.readFileSync(file, 'utf8'));
  const out = [];
  for (const line of fs.readFileSync(0, 'utf8').split('\n')) {
    if (line === '') continue;
    const enc = await tk.encode(JSON.parse(line).text, null, { addSpecialTokens: false });
    out.push(JSON.stringify(enc.getIds()));
  }
  process.stdout.write(out.join('\n') + '\n');
})().catch((e) => {
  process.stderr.write(`hf-ids: ${e.message}\n`);
  process.exit(1);
});
