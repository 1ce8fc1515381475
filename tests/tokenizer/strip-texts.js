// strip-texts.js: texts with each of the tokens given among spaces of
// every kind, for the tests of the added tokens that strip the spaces
// next to them: before and after the token, at the start and the end of
// the text, none, runs of them, the characters that are spaces to
// Hugging Face's tokenizers (Unicode's White_Space) or to llama.cpp (the
// C locale's isspace) and some that are not.  A module: texts(TOKENS)
// gives [{name, text}].
'use strict';

const spaces = [' ', '  ', '\t', '\n', '\n\n', '\r\n', '\v', '\f', ' \t\n ', '\u00a0',
  '\u0085', '\u1680', '\u2000', '\u2003', '\u200a', '\u2028', '\u2029', '\u202f',
  '\u205f', '\u3000', '\u001c', '\u001f', '\u200b', '\u180e', '\ufeff', ' \u3000\t'];

function texts(tokens) {
  const out = [];
  tokens.forEach((t, i) => {
    const around = spaces.map((s) => `x${s}${t}${s}y`).join('');
    out.push({ name: `strip ${i}`, text: `${t} hi ${t}\n${t}${t}  ${t}\tz${around} ${t}` });
    out.push({ name: `strip ${i} ends`, text: ` \n${t}\n ` });
  });
  const joined = tokens.join(' \n');
  out.push({ name: 'strip all', text: `${joined}\t${tokens.join('')}  ${tokens.join('\u3000')}\n` });
  return out;
}

module.exports = { texts };
