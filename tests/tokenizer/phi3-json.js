#!/usr/bin/env node
// phi3-json.js MISTRAL.json: write to stdout a tokenizer.json laid out as
// Phi-3's and Phi-3.5's are (Llama 2's SentencePiece-style BPE, 32,000
// tokens, then Phi-3's added tokens), made of Mistral 7B's, which has the
// same layout: </s> is an added token that is not special and strips the
// spaces on its right, and ids 32000 to 32010 are Phi-3's special tokens,
// all but <|endoftext|> stripping the spaces on their right, as Phi-3's
// tokenizer_config.json has them.  Nothing of Phi-3's vocabulary is in it.
'use strict';
const fs = require('fs');

const src = process.argv[2];
if (!src) {
  process.stderr.write('usage: phi3-json.js MISTRAL.json\n');
  process.exit(64);
}
const tj = JSON.parse(fs.readFileSync(src, 'utf8'));
const token = (id, content, special, rstrip) => ({ id, content, single_word: false,
  lstrip: false, rstrip, normalized: false, special });
tj.added_tokens = tj.added_tokens.map((a) => (a.content === '</s>' ? token(a.id, a.content, false, true) : a));
const phi3 = ['<|endoftext|>', '<|assistant|>', '<|placeholder1|>', '<|placeholder2|>',
  '<|placeholder3|>', '<|placeholder4|>', '<|system|>', '<|end|>', '<|placeholder5|>',
  '<|placeholder6|>', '<|user|>'];
phi3.forEach((t, i) => tj.added_tokens.push(token(32000 + i, t, true, t !== '<|endoftext|>')));
process.stdout.write(JSON.stringify(tj));
