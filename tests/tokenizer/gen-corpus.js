#!/usr/bin/env node
// gen-corpus.js [--quick|--long]: print the test corpus as JSON lines
// {"name": "...", "text": "..."} on stdout.  Deterministic (fixed seed).
//
// The corpus has hand-written edge cases (contractions, white space,
// numbers, marks, casing, special-token text), multilingual prose and code,
// emoji and ZWJ sequences, long runs, a sweep over code points in contexts
// where a character's class shows in the tokens, and random strings drawn
// from a palette of awkward characters.
'use strict';

const quick = process.argv.includes('--quick');
const cases = [];
const add = (name, text) => cases.push({ name, text });

// --long: only 100 KB runs of one character (slow for the reference).
if (process.argv.includes('--long')) {
  for (const [k, v] of [['a', 'a'], ['space', ' '], ['cjk', '\u4e2d'], ['newline', '\n'],
    ['bang', '!'], ['ideo', '\u3000'], ['digit', '7']])
    process.stdout.write(JSON.stringify({ name: 'long-' + k,
      text: v.repeat(Math.floor(100000 / Buffer.byteLength(v))) }) + '\n');
  process.exit(0);
}

// mulberry32
let seed = 0x5eed1234;
function rnd() {
  seed = (seed + 0x6d2b79f5) | 0;
  let t = seed;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}
const pick = (a) => a[Math.floor(rnd() * a.length)];
const int = (lo, hi) => lo + Math.floor(rnd() * (hi - lo + 1));
const cp = (n) => String.fromCodePoint(n);

// ---------------------------------------------------------------- edge cases
const edge = [
  '', 'a', ' ', '  ', '   ', '\n', '\r', '\r\n', '\n\n', '\t', '\t\t', ' \n', '\n ', ' \n ',
  'hello', ' hello', '  hello', '   hello', 'hello ', 'hello  ', 'hello\n', 'hello \n',
  'hello world', 'Hello, World!', 'a  b', 'a   b', 'a\tb', 'a \tb', 'a\t b', 'a\n\nb', 'a \n b',
  'a\r\nb', 'a\r\n\r\nb', '\r\n\r\n', ' \r\n ', 'x \r \n y', '\n\r', 'a\n \n  \n   b',
  // contractions, all cases, curly and odd ones
  "'s", "'t", "'re", "'ve", "'m", "'ll", "'d", "'S", "'T", "'RE", "'Re", "'rE", "'VE", "'M",
  "'LL", "'Ll", "'lL", "'D", "'x", "'", "''", "'''s", "''s", "'s'", "'ss", "'sa", "'r", "'l",
  "'e", "'v", "'ſ", "x'ſ", "'ſt", "'K", "'\u212A", "'\u0130", "'\u0131",
  "don't", "DON'T", "Don'T", "I'm", "I'M", "we're", "WE'RE", "they've", "you'll", "she'd",
  "it's", "IT'S", "it’s", "it‘s", "don’t", "’s", "’S", "'s's", "rock'n'roll", "o'clock",
  " 's", "  's", "\t's", "\n's", "a 's", "1's", "1'S", "é's", "É'S", "ÉCOLE'S", "école's",
  "HELLO's", "Hello'S", "hello'LL", "x'", "x''", "x'\n", "x'1",
  // numbers
  '1', '12', '123', '1234', '12345', '123456', '1234567', '12345678901234567890',
  '3.14159', '1,000,000', '-42', '+1e10', '0x1F', '2024-01-01', '12:30:45', '½', '¼¾',
  '²³', 'x²', 'Ⅻ', 'ⅫⅫ', '١٢٣٤٥', '१२३४', '๑๒๓', '１２３４', '①②③④', 'a1b2c3', '1a2b3c',
  ' 1', '  1', ' 12345', 'v1.2.3', '$100', '100%', '10k', '4th', '1st2nd3rd',
  // white space, odd kinds
  '\u00a0', 'a\u00a0b', 'a \u00a0b', 'a\u00a0 b', '\u0085', 'a\u0085b', 'a\u0085\u0085b',
  '\u0085\n', '\ufeff', '\ufeffhello', 'a\ufeffb', '\u3000', 'a\u3000b', '\u3000\u3000x',
  'x\u3000\u3000', '\u3000\u3000', '\u2028', 'a\u2028b', '\u2029', '\u200b', 'a\u200bb',
  '\u180e', 'a\u180eb', '\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a',
  '\u202f', '\u205f', '\u1680', '\u000b', '\u000c', 'a\u000bb', 'a\u000c\u000cb',
  ' \u00a0', '\u00a0 ', ' \u3000a', '\u3000 a', '\n\u3000', '\u3000\n', '\u0085 x', 'x \u0085',
  'a \u2028 b', '\t\u00a0\n', '  \u00a0\u00a0  x', '\r\r\r', '\r \r', ' \r\n\r\n ',
  // marks, cased letters
  'e\u0301', '\u0301', '\u0301\u0301', 'a\u0301\u0302b', ' \u0301x', '\u0301x', '\u0301X',
  '\u0301\'S', '\u03011', 'x\u0301\u0301y', 'X\u0301Y', 'नमस्ते', 'हिन्दी', 'ภาษาไทย',
  'HelloWorld', 'helloWorld', 'HTMLParser', 'iPhone', 'ABCdef', 'abcDEF', 'ABC', 'abc',
  'ǅungla', 'ǅ', 'ǈǋ', 'ʰello', 'ʰ', 'aʰb', 'Aʰb', 'ᵃᵇᶜ', 'ÀÉÎõü', 'ΣΊΣΥΦΟΣ', 'Straße',
  'STRASSE', 'İstanbul', 'ıi', 'ﬁnance', 'ǲǳ', 'ꜰᴀᴋᴇ', 'Ⓐⓑ', '𝐀𝐁𝐂𝐚𝐛𝐜', '𝟏𝟐𝟑',
  'McDonald', 'macOS', 'XMLHttpRequest', 'getHTTPResponseCode', 'snake_case_name',
  // Unicode 16.0 vs 17.0: Garay is a letter in 16.0, Sidetic is unassigned
  '\u{10D50}\'s', '\u{10D70}\'s', '\u{10940}\'s', '\u{10D50}\u{10D70}', '\u{10940}\u{10940}',
  'a\u{10D50}b', 'a\u{10940}b', ' \u{10D50}', ' \u{10940}', '1\u{10D40}234', '\u{10D40}\u{10D41}',
  '\u{1CCF0}\u{1CCF1}', '\u{11BC0}\'s', '\u{16D40}\'s', '\u{0378}\'s', '\u{E000}\'s',
  // special-token text
  '<|endoftext|>', 'a<|endoftext|>b', '<|endoftext|', '|endoftext|>', '<|endoftext|>x<|endoftext|>',
  '<|fim_prefix|>def f():<|fim_middle|>pass<|fim_suffix|>', '<|endofprompt|>', '<|startoftext|>',
  '  <|endoftext|>  ', '<|endoftext|><|endoftext|>', '<<|endoftext|>>', '<|<|endoftext|>|>',
  'hello <|endoftext|>', 'hello  <|endoftext|>', 'x\n<|endoftext|>\ny', '<|endoftext|> world',
  "it<|endoftext|>'s", '12<|endoftext|>34', '<|EndOfText|>', '< |endoftext| >', '<|im_start|>',
  '<|fim_prefix|>', '<|fim_middle|>', '<|fim_suffix|>', '<|endofprompt|><|endoftext|>',
  'a  <|endofprompt|>  \n', '\u3000<|endoftext|>\u3000', '<|', '|>', '<', '<|>',
  // punctuation, code, URLs
  '!!!', '...', '?!', ' !!', '  !!', '!\n', '!\n\n', '!\r\n', '!\n/', '!\n//x', '://', 'a/b/c',
  'https://example.com/path/to/page?x=1&y=2#frag', 'C:\\Users\\me\\file.txt', '/usr/bin/env',
  'a/\n/', '/*\n * x\n */', '// comment\n', '#!/bin/sh\n', 'x => x * 2', 'if (a && b) {\n\treturn;\n}',
  'def f(x):\n    return x**2\n', '    indented\n        more\n', '\t\tint x = 0;\n',
  '<div class="a">text</div>', '{"key": [1, 2, 3], "k2": null}', 'SELECT * FROM t WHERE id=1;',
  '$$\\frac{a}{b}$$', '```js\nlet a = 1;\n```', '--help', '==', '===', '!==', '<=>', '->', '=>',
  '@user #tag', 'email@example.com', '¯\\_(ツ)_/¯', '(╯°□°)╯︵ ┻━┻', '…', '——', '«»', '„“',
  // emoji
  '😀', '😀😀', ' 😀', '👍🏽', '👨‍👩‍👧‍👦', '🏳️‍🌈', '🏴‍☠️', '1️⃣', '#️⃣', '🇺🇸🇫🇷', '❤️', '☺️',
  'I ❤️ NY', 'ok👌ok', '🙂\n', '🤖🤖🤖 robots', '👩🏾‍💻', '🧑‍🤝‍🧑', '\u{1F600}\u{FE0F}',
];
edge.forEach((t, i) => add('edge' + i, t));

// White-space characters, each in several contexts.
const wsChars = [0x9, 0xa, 0xb, 0xc, 0xd, 0x20, 0x85, 0xa0, 0x1680, 0x2000, 0x2001, 0x2002,
  0x2003, 0x2004, 0x2005, 0x2006, 0x2007, 0x2008, 0x2009, 0x200a, 0x2028, 0x2029, 0x202f,
  0x205f, 0x3000, 0x180e, 0x200b, 0xfeff, 0x1c, 0x1d, 0x1e, 0x1f];
for (const w of wsChars) {
  const c = cp(w);
  add('ws' + w.toString(16), [c, c + c, 'x' + c, 'x' + c + c, c + 'x', c + c + 'x', 'x' + c + 'y',
    'x' + c + c + 'y', 'x' + c + ' y', 'x ' + c + 'y', c + '\n', '\n' + c, c + "'s", '1' + c + '2',
    c + '!', '!' + c, c + c + c, 'a' + c + c + '!'].join('|'));
  for (const ctx of [c, c + c, 'x' + c, 'x' + c + c, c + '\n' + c, ' ' + c, c + ' '])
    add('wsend' + w.toString(16), ctx);
}

// ------------------------------------------------------------ prose and code
const words = {
  en: 'the quick brown fox jumps over lazy dog and then it rains while we are sitting in a quiet café reading about history science music language'.split(' '),
  de: 'Größe Übermäßig straße Fußgängerübergänge Bücher schön über Käse Mädchen'.split(' '),
  fr: "l'été où j'ai vu l'hôpital près d'ici c'était déjà très français".split(' '),
  es: 'el niño pequeño comió mañana corazón ¿qué? ¡sí! año'.split(' '),
  ru: 'Привет мир это тест русского языка съешь ещё этих мягких французских булок'.split(' '),
  el: 'Καλημέρα κόσμε ΑΘΗΝΑ ελληνικά ψυχή ΣΟΦΊΑ'.split(' '),
  ar: 'مرحبا بالعالم هذا اختبار للغة العربية مَدْرَسَةٌ'.split(' '),
  he: 'שלום עולם זהו מבחן בעברית שָׁלוֹם'.split(' '),
  hi: 'नमस्ते दुनिया यह हिन्दी भाषा का परीक्षण है क्षत्रिय'.split(' '),
  th: 'สวัสดีชาวโลก นี่คือการทดสอบ ภาษาไทย'.split(' '),
  zh: '你好世界 这是一个中文测试 我们今天去北京 漢字 龍'.split(' '),
  ja: 'こんにちは世界 これはテストです カタカナ ﾊﾝｶｸ 東京都'.split(' '),
  ko: '안녕하세요 세계 한국어 테스트입니다 ㅋㅋㅋ'.split(' '),
  vi: 'Tiếng Việt có dấu thanh điệu người đường'.split(' '),
  ka: 'გამარჯობა მსოფლიო ქართული'.split(' '),
  am: 'ሰላም ዓለም አማርኛ'.split(' '),
  ta: 'வணக்கம் உலகம் தமிழ்'.split(' '),
  my: 'မင်္ဂလာပါ ကမ္ဘာ'.split(' '),
  emoji: '😀 😂 🥲 👍🏽 👨‍👩‍👧 🏳️‍🌈 🇯🇵 ✨ 🔥 1️⃣ ❤️‍🔥 🫠'.split(' '),
};
const langs = Object.keys(words);
const seps = [' ', ' ', ' ', ' ', ', ', '. ', '! ', '? ', '\n', '\n\n', '  ', ' - ', '; ', ': ',
  '\t', '\r\n', ' (', ') ', '"', "'", '’', '\u00a0', '\u3000', '。', '、'];
function sentence(lang, n) {
  let s = '';
  for (let i = 0; i < n; i++) {
    let w = pick(words[lang]);
    const r = rnd();
    if (r < 0.1) w = w.toUpperCase();
    else if (r < 0.2) w = w[0].toUpperCase() + w.slice(1);
    else if (r < 0.25) w += pick(["'s", "'S", "'ll", "'LL", "'re", "'d", "’s", "'ve", "'M"]);
    else if (r < 0.3) w = String(int(0, 10 ** int(1, 12)));
    s += w + (i + 1 < n ? pick(seps) : pick(['', '.', '\n', ' ', '!']));
  }
  return s;
}
const nprose = quick ? 100 : 600;
for (let i = 0; i < nprose; i++) {
  const lang = rnd() < 0.3 ? 'en' : pick(langs);
  let t = sentence(lang, int(1, 40));
  if (rnd() < 0.3) t += pick(seps) + sentence(pick(langs), int(1, 20));
  add('prose-' + lang + i, t);
}

const code = [
  `#include <stdio.h>\n\nint main(void)\n{\n\tprintf("hello, world\\n");\n\treturn 0;\n}\n`,
  `def fib(n: int) -> int:\n    """Return the n-th Fibonacci number."""\n    a, b = 0, 1\n    for _ in range(n):\n        a, b = b, a + b\n    return a\n\n\nprint(fib(100))\n`,
  `const x = await fetch("https://api.example.com/v1/items?limit=10", {\n  headers: { 'Content-Type': 'application/json' },\n});\n// TODO: handle errors\n`,
  `fn main() {\n    let v: Vec<u32> = (0..10).map(|x| x * x).collect();\n    println!("{:?}", v);\n}\n`,
  `<!DOCTYPE html>\n<html lang="en">\n  <head><meta charset="utf-8"><title>Test</title></head>\n  <body>\n    <p>Hello&nbsp;world &amp; friends</p>\n  </body>\n</html>\n`,
  `SELECT u.id, COUNT(*) AS n\n  FROM users u\n  JOIN orders o ON o.user_id = u.id\n WHERE o.created_at >= '2024-01-01'\n GROUP BY u.id\nHAVING n > 10;\n`,
  `{\n  "name": "example",\n  "version": "1.0.0",\n  "dependencies": {\n    "left-pad": "^1.3.0"\n  }\n}\n`,
  `#!/bin/bash\nset -euo pipefail\nfor f in *.txt; do\n  wc -l "$f" | awk '{print $1}'\ndone 2>&1 | sort -n\n`,
  `    \n\t\n  \r\n\t  x = [ 1 ,2,  3 ]  ;;  \n\n\n\n    return\n`,
  `diff --git a/x.c b/x.c\n@@ -1,3 +1,4 @@\n-int a;\n+int a = 0;\n+int b;\n`,
  `\\begin{equation}\n  E = mc^2 \\quad \\forall x \\in \\mathbb{R}\n\\end{equation}\n`,
  `| col1 | col2 |\n|------|------|\n| a    | b    |\n\n* item\n  * nested\n1. first\n`,
];
code.forEach((t, i) => add('code' + i, t));
for (let i = 0; i < (quick ? 20 : 100); i++) {
  let t = '';
  for (let j = int(2, 8); j > 0; j--) t += pick(code).slice(int(0, 40), int(41, 200)) + pick(['', '\n', '  ', '\t']);
  add('codemix' + i, t);
}

// ----------------------------------------------------------------- long runs
const runLen = quick ? 2000 : 10000;
const runs = { a: 'a', sp: ' ', nl: '\n', crlf: '\r\n', dig: '7', bang: '!', cjk: '中', ab: 'ab',
  tab: '\t', nbsp: '\u00a0', ideo: '\u3000', mark: '\u0301', emoji: '😀', word: 'hello ',
  Word: 'Hello', upper: 'A', aapos: "a'", spnl: ' \n', zwj: '👨‍👩‍👧' };
for (const [k, v] of Object.entries(runs)) {
  const t = v.repeat(Math.ceil(runLen / v.length));
  add('run-' + k, t);
  add('run-' + k + '-x', t + 'x');
  add('run-x-' + k, 'x ' + t);
}
add('run-spaces-then-word', ' '.repeat(3000) + 'word');
add('run-letters-digits', 'a'.repeat(1000) + '1'.repeat(1000) + 'a'.repeat(1000));

// ------------------------------------------------------ code point sweep
// Each code point in contexts where its class shows: after it "'s" (a
// contraction is split off letters, numbers and spaces, not off others),
// between digits (numbers join a group of three), and between letters.
function sweepPoints() {
  const pts = [];
  const step = (lo, hi, s) => { for (let c = lo; c <= hi; c += s) if (c < 0xd800 || c > 0xdfff) pts.push(c); };
  if (quick) {
    step(0, 0x2fff, 7);
    step(0x10000, 0x1ffff, 61);
  } else {
    step(0, 0xffff, 1);
    step(0x10000, 0x1ffff, 1);
    step(0x20000, 0x3ffff, 13);
    step(0xe0000, 0xe01ff, 1);
    step(0x40000, 0x10ffff, 4099);
  }
  return pts;
}
{
  const pts = sweepPoints();
  const per = 128;
  for (let i = 0; i < pts.length; i += per) {
    let t = '';
    for (const c of pts.slice(i, i + per)) {
      const ch = cp(c);
      t += ch + "'s 1" + ch + '234 a' + ch + 'b\n';
    }
    add('sweep' + pts[i].toString(16), t);
  }
}

// ------------------------------------------------------------ random strings
const palette = [
  ...'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ'.split(''),
  ...'0123456789'.split(''), ...'0123456789'.split(''),
  ...'!"#$%&()*+,-./:;<=>?@[\\]^_`{|}~'.split(''),
  "'", "'", "'", "'", ' ', ' ', ' ', ' ', ' ', ' ', '\n', '\n', '\r', '\t', '\r\n',
  'é', 'É', 'ß', 'ſ', 'ǅ', 'ʰ', 'ª', 'º', 'ı', 'İ', 'K', 'ﬁ', 'Ω', 'ω', 'Ж', 'ж', 'ء', 'ب',
  'ע', '中', '文', 'あ', 'ア', 'ｱ', '한', 'ก', 'ำ', 'क', '्', 'ि', '\u0301', '\u0308', '\u20dd',
  '\u0903', '\u302a', '\u{1D165}', '\u{E0100}', '\ufe0f', '\u200d', '\u200c', '\u200b',
  '\u00a0', '\u0085', '\u3000', '\u2028', '\u2029', '\u2009', '\u202f', '\ufeff', '\u180e',
  '\u000b', '\u000c', '\u001f', '\u0000', '\u007f', '\u00ad',
  '²', '½', 'Ⅻ', '١', '߀', '𝟙', '①', '〇', '㆒', '\u{10D50}', '\u{10D70}', '\u{10D40}',
  '\u{10940}', '\u0378', '\ue000', '\u{F0000}', '\u{10FFFD}', '\ufffd', '\uffff',
  '😀', '👍', '🏽', '👨', '🇺', '🇸', '❤', '✨', '𝐀', '𝐚', '𓀀', '𠀀', '’', '‘', '“', '”', '…',
  '<|endoftext|>', '<|fim_prefix|>', '<|fim_middle|>', '<|fim_suffix|>', '<|endofprompt|>',
  '<|', '|>', "'s", "'S", "'ll", "'LL", "'re", "'Ve", "'d", "'m", "'t", "'ſ",
];
const nrand = quick ? 500 : 4000;
for (let i = 0; i < nrand; i++) {
  let t = '';
  const n = rnd() < 0.9 ? int(1, 40) : int(40, 400);
  // Each string draws from a small sub-palette, so that runs form.
  const sub = Array.from({ length: int(2, 12) }, () => pick(palette));
  for (let j = 0; j < n; j++) t += rnd() < 0.8 ? pick(sub) : pick(palette);
  add('rand' + i, t);
}

for (const c of cases) {
  // Keep every text valid UTF-16 (no lone surrogates): the reference
  // would replace them.
  if (/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/.test(c.text))
    throw new Error(c.name + ': lone surrogate');
  process.stdout.write(JSON.stringify(c) + '\n');
}
process.stderr.write(`gen-corpus: ${cases.length} cases, ` +
  `${cases.reduce((a, c) => a + Buffer.byteLength(c.text), 0)} bytes\n`);
