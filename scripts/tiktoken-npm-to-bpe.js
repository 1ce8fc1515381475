#!/usr/bin/env node
// Convert the rank tables shipped in the npm package `tiktoken`
// (encoders/<name>.json) into standard .tiktoken files.
//
// encoders/<name>.json is an object whose "bpe_ranks" string holds one or
// more lines of the form
//     <tag> <first-rank> <b64> <b64> ...
// The first field is a tag that is ignored; the tokens of a line have the
// consecutive ranks first-rank, first-rank+1, ...  A .tiktoken file has one
// line per token, "<b64> <rank>\n", in rank order.
//
// usage: tiktoken-npm-to-bpe.js PACKAGE_DIR OUT_DIR NAME...
'use strict';
const fs = require('fs');
const path = require('path');

function convert(pkgDir, name) {
  const file = path.join(pkgDir, 'encoders', name + '.json');
  const j = JSON.parse(fs.readFileSync(file, 'utf8'));
  if (typeof j.bpe_ranks !== 'string')
    throw new Error(file + ': no "bpe_ranks" string');
  const entries = [];
  for (const line of j.bpe_ranks.split('\n')) {
    if (line === '') continue;
    const f = line.split(' ');
    if (f.length < 2 || !/^[0-9]+$/.test(f[1]))
      throw new Error(file + ': bad rank line starting ' + JSON.stringify(line.slice(0, 40)));
    const first = Number(f[1]);
    for (let i = 2; i < f.length; i++) {
      if (!/^[A-Za-z0-9+/]+={0,2}$/.test(f[i]))
        throw new Error(file + ': bad base64 token ' + JSON.stringify(f[i]));
      entries.push([first + i - 2, f[i]]);
    }
  }
  entries.sort((a, b) => a[0] - b[0]);
  for (let i = 1; i < entries.length; i++)
    if (entries[i][0] === entries[i - 1][0])
      throw new Error(file + ': rank ' + entries[i][0] + ' given twice');
  return entries.map(([r, b]) => b + ' ' + r + '\n').join('');
}

function main(argv) {
  if (argv.length < 3) {
    process.stderr.write('usage: tiktoken-npm-to-bpe.js PACKAGE_DIR OUT_DIR NAME...\n');
    process.exit(64);
  }
  const [pkgDir, outDir, ...names] = argv;
  for (const name of names) {
    const text = convert(pkgDir, name);
    const out = path.join(outDir, name + '.tiktoken');
    const tmp = out + '.tmp' + process.pid;
    fs.writeFileSync(tmp, text);
    fs.renameSync(tmp, out);
  }
}

main(process.argv.slice(2));
