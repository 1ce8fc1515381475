#!/usr/bin/env node
// compact.js EXPECT.jsonl: the expected ids as TSV lines
// "case<TAB>encoding<TAB>special<TAB>id id ...", leaving out the lines with
// special 1 whose ids equal those with special 0 (most texts have no
// special-token text). The C test reads this.
'use strict';
const fs = require('fs');
const lines = fs.readFileSync(process.argv[2], 'utf8').split('\n').filter((l) => l !== '');
const ord = new Map();
const out = [];
for (const l of lines) {
  const r = JSON.parse(l);
  const key = r.case + '\t' + r.enc;
  const ids = r.ids.join(' ');
  if (r.special === 0) ord.set(key, ids);
  else if (ord.get(key) === ids) continue;
  out.push(key + '\t' + r.special + '\t' + ids);
}
process.stdout.write(out.join('\n') + '\n');
