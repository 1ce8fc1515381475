#!/usr/bin/env node
// strip-pairs.js FILE.json bpe|spm: write to stdout FILE.json (Llama 3.1's
// or Mistral 7B's tokenizer.json) with the added tokens below put after
// its own (the ones that are not special first, so that their ids stay
// when the special ones are taken out), for the tests of added tokens that
// strip spaces where they meet: one that strips on its right, then spaces
// and a token that starts with a space or strips on its left or is all
// spaces.  As a module: texts() gives [{name, text}], each two of the
// tokens with spaces of some kind (ASCII, Unicode's, none) between them.
'use strict';

// [content, lstrip, rstrip, special]
const tokens = [
  ['<|lr|>', true, true, false],
  ['\u3000<|u|>', false, true, false],
  ['\n\n', false, false, false],
  ['\u2003', false, true, false],
  ['<|r|>', false, true, true],
  [' <|sp|>', false, false, true],
  ['<|l|>', true, false, true],
  [' \t', true, false, true],
];
const spaces = ['', ' ', '  ', '\t', ' \n\n ', '\n\n', '\n\n  ', '\u3000', ' \u3000 ',
  '\u2003', '\u00a0', '\u200b'];

// Tokenizers fails ("bad split") where one that strips on its left ends
// inside the spaces the one before it takes on its right: each text ends
// right after its second token, or with a letter.
function texts() {
  const out = [];
  for (const [a] of tokens)
    for (const s of spaces)
      for (const [b] of tokens)
        out.push({ name: 'pair', text: `x${a}${s}${b}y` }, { name: 'pair at ends', text: ` ${a}${s}${b}` });
  for (const text of ['x<|r|>\n\n  y', 'x<|r|>\n\n  <|l|>y', 'x<|r|>\u2003 \t<|l|> y',
    'x<|lr|>\n\n\u3000 <|r|> \t', ' \t \t', 'x <|sp|> <|sp|>\u3000\u3000<|u|>  <|lr|>  y'])
    out.push({ name: 'chain', text });
  return out;
}

if (require.main === module) {
  const fs = require('fs');
  const [file, kind] = process.argv.slice(2);
  if (!kind || !['bpe', 'spm'].includes(kind)) {
    process.stderr.write('usage: strip-pairs.js FILE.json bpe|spm\n');
    process.exit(64);
  }
  const tj = JSON.parse(fs.readFileSync(file, 'utf8'));
  let id = Math.max(Object.keys(tj.model.vocab).length, ...tj.added_tokens.map((a) => a.id + 1));
  for (const [content, lstrip, rstrip, special] of tokens)
    tj.added_tokens.push({ id: id++, content, single_word: false, lstrip, rstrip,
      normalized: false, special });
  process.stdout.write(JSON.stringify(tj));
}

module.exports = { texts, tokens };
