#!/usr/bin/env node
// models.js PACKAGE_DIR: for every model of the npm package tiktoken
// unpacked in PACKAGE_DIR (its model_to_encoding.json), then every name on
// standard input (one a line), the name and the encoding that the
// package's own encoding_for_model gives it, "-" for none, as TSV lines.
'use strict';
const fs = require('fs');
const path = require('path');

const pkg = process.argv[2];
const { encoding_for_model } = require(path.resolve(pkg));
const table = JSON.parse(fs.readFileSync(path.join(pkg, 'model_to_encoding.json'), 'utf8'));
const extra = fs.readFileSync(0, 'utf8').split('\n').filter((l) => l !== '');
const out = [];
for (const name of [...Object.keys(table), ...extra]) {
  let enc = '-';
  try {
    const e = encoding_for_model(name);
    enc = e.name;
    e.free();
  } catch (err) {
    if (!/Invalid model/.test(String(err))) throw err;
  }
  out.push(name + '\t' + enc);
}
process.stdout.write(out.join('\n') + '\n');
