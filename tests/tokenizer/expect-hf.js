#!/usr/bin/env node
// expect-hf.js DIR CORPUS.jsonl: the ids that Hugging Face's tokenizers
// (the npm package `tokenizers`, in DIR/node) give for the tokenizer.json
// files DIR/NAME/tokenizer.json (NAME: llama3_1, gptoss, qwen3, deepseek_v3,
// tekken: made by tekken-json.js, mistral, gemma3, phi3: made by
// phi3-json.js),
// as JSON lines
// {"file": NAME, "special": 0|1, "name": "...", "text": "...", "ids": [...]}
// for every text of the corpus that is valid Unicode, and for texts made
// here: runs of one character, the added tokens among words, and the whole
// corpus as one text; where added tokens strip the spaces next to them,
// the added tokens among spaces (strip-texts.js).
// encode(text, null, {addSpecialTokens: false}): no BOS.  special 1: the file as it is, whose special tokens split out;
// special 0: the same file without its special added tokens, so that their
// text is ordinary text, as wb counts without --allow-special.  The ids
// decode to the text, or to its NFC where the file normalizes to NFC
// (unless spaces were stripped).
'use strict';
const fs = require('fs');
const path = require('path');

const [dir, corpus] = process.argv.slice(2);
const { Tokenizer } = require(path.resolve(dir, 'node/node_modules/tokenizers'));
const strips = (tokens) => (tokens.length ? require('./strip-texts.js').texts(tokens) : []);

const valid = (t) => Buffer.from(t, 'utf8').toString('utf8') === t;
const base = fs.readFileSync(corpus, 'utf8').split('\n').filter((l) => l !== '')
  .map((l) => JSON.parse(l)).filter((c) => valid(c.text));

function made(json) {
  const out = [];
  for (const ch of [' ', '-', '=', '\n', '\t', '.', '*', '#', '/', '\u00a0', '\u3000', 'a', '7', '日', '👍'])
    for (let n = 1; n <= 40; n++)
      out.push({ name: `run ${JSON.stringify(ch)} ${n}`, text: `x${ch.repeat(n)}y` });
  // Every added token, or 200 spread over them when there are many.
  const all = json.added_tokens.map((a) => a.content);
  const added = all.length <= 400 ? all
    : Array.from({ length: 200 }, (_, i) => all[Math.floor((i * all.length) / 200)]);
  added.forEach((t, i) => {
    out.push({ name: `added ${i}`, text: `word${t}word ${t} ${t}${t}\n${t.slice(0, -1)} ${t.slice(1)}` });
  });
  out.push({ name: 'added all', text: added.join(' and ') + added.join('') });
  // Where some strip the spaces next to them: every one among spaces.
  if (json.added_tokens.some((a) => a.lstrip || a.rstrip))
    out.push(...strips(json.added_tokens.map((a) => a.content)));
  out.push({ name: 'joined', text: base.map((c) => c.text).join('\n') + added.join('\n') });
  return out;
}

(async () => {
  const lines = [];
  for (const file of ['llama3_1', 'gptoss', 'qwen3', 'deepseek_v3', 'tekken', 'mistral', 'gemma3', 'phi3']) {
    const text = fs.readFileSync(path.join(dir, file, 'tokenizer.json'), 'utf8');
    const json = JSON.parse(text);
    const plain = JSON.parse(text);
    plain.added_tokens = plain.added_tokens.filter((a) => !a.special);
    const tk = [Tokenizer.fromString(JSON.stringify(plain)), Tokenizer.fromString(text)];
    const prepends = JSON.stringify(json.normalizer || {}).includes('"Prepend"');
    const spm = json.model.byte_fallback === true;
    const cases = base.map((c) => ({ name: c.name, text: c.text })).concat(made(json));
    for (const special of [0, 1]) {
      for (const c of cases) {
        const enc = await tk[special].encode(c.text, null, { addSpecialTokens: false });
        // The file without its special tokens may number its other added
        // tokens anew: the ids by their text in the file as it is.
        const ids = enc.getIds().map((id) => tk[1].tokenToId(tk[special].idToToken(id)));
        const want = json.normalizer && json.normalizer.type === 'NFC' ? c.text.normalize('NFC') : c.text;
        // A normalizer that prepends ▁ does so after each special token
        // too, and a ▁ of the text decodes as a space: those texts do not
        // decode back.
        // Nor do the spaces an added token strips.
        const strip = (special ? json : plain).added_tokens.some((a) => a.lstrip || a.rstrip);
        if ((special === 0 || !prepends) && !strip && !(spm && c.text.includes('\u2581')) &&
            (await tk[1].decode(ids, false)) !== want)
          throw new Error(`${file}: ${c.name}: the ids do not decode to the text`);
        lines.push(JSON.stringify({ file, special, name: c.name, text: c.text, ids }));
      }
    }
    process.stderr.write(`expect-hf: ${file}: ${cases.length} texts\n`);
  }
  process.stdout.write(lines.join('\n') + '\n');
})().catch((e) => {
  process.stderr.write(`expect-hf: ${e.message}\n`);
  process.exit(1);
});
