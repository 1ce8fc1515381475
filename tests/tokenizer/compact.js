#!/usr/bin/env node
// compact.js EXPECT.jsonl: the expected ids as TSV lines
// "case<TAB>encoding<TAB>special<TAB>id id ...", leaving out the lines with
// special 1 whose ids equal those with special 0 (most texts have no
// special-token text), and the lines of an encoding that tiktoken builds
// on another's ranks (below) whose ids equal the other's for the same case
// and special (given earlier in EXPECT.jsonl). The C test reads this.
'use strict';
const fs = require('fs');
const base = { gpt2: 'r50k_base', o200k_harmony: 'o200k_base' };
const lines = fs.readFileSync(process.argv[2], 'utf8').split('\n').filter((l) => l !== '');
const all = new Map();
const out = [];
for (const l of lines) {
  const r = JSON.parse(l);
  const key = r.case + '\t' + r.enc;
  const ids = r.ids.join(' ');
  all.set(key + '\t' + r.special, ids);
  if (base[r.enc] !== undefined &&
      all.get(r.case + '\t' + base[r.enc] + '\t' + r.special) === ids) continue;
  if (r.special === 1 && all.get(key + '\t0') === ids) continue;
  out.push(key + '\t' + r.special + '\t' + ids);
}
process.stdout.write(out.join('\n') + '\n');
