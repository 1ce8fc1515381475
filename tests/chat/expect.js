#!/usr/bin/env node
// expect.js DIR CHATS.jsonl MODEL: the tokens that the npm package
// gpt-tokenizer (in DIR/node) counts for each chat completion request of
// CHATS.jsonl with MODEL's countChatCompletionTokens, as JSON lines
// {"name": "...", "tokens": N}.
//
// gpt-tokenizer takes the older shape of a request: a string content, one
// function_call a message, "functions" and a "function_call" choice.  The
// shapes of today's API are written in it first, as wb-count -C reads
// them:
// - content null (with tool_calls) is no content; an array of content
//   parts is the texts of its text parts one after the other;
// - a message's tool_calls of type "function" are function calls: the
//   first is its function_call, and each further one adds what
//   gpt-tokenizer counts for one (its name, its arguments and 3);
// - "tools" of type "function" are more "functions", after those;
// - "tool_choice" is the "function_call" choice ("none", "auto", or
//   {"type": "function", "function": {"name"}}: that name); "required"
//   adds nothing, as "auto".
'use strict';
const fs = require('fs');
const path = require('path');

const [dir, chats, model] = process.argv.slice(2);
const m = require(path.resolve(dir, 'node/node_modules/gpt-tokenizer/cjs/model', `${model}.js`));
if (typeof m.countChatCompletionTokens !== 'function')
  throw new Error(`${model}: gpt-tokenizer has no countChatCompletionTokens for it`);

const CALL_OVERHEAD = 3;  // gpt-tokenizer's FUNCTION_CALL_METADATA_TOKEN_OVERHEAD
const callTokens = (f) => (f.name ? m.countTokens(f.name) : 0) +
  (f.arguments ? m.countTokens(f.arguments) : 0) + CALL_OVERHEAD;

for (const line of fs.readFileSync(chats, 'utf8').split('\n')) {
  if (line === '')
    continue;
  const chat = JSON.parse(line);
  let extra = 0;
  const messages = chat.messages.map((msg) => {
    const out = { role: msg.role };
    if (typeof msg.content === 'string')
      out.content = msg.content;
    else if (Array.isArray(msg.content))
      out.content = msg.content.map((p) => p.text).join('');
    if (msg.name !== undefined)
      out.name = msg.name;
    const calls = [];
    if (msg.function_call)
      calls.push(msg.function_call);
    for (const c of msg.tool_calls || [])
      calls.push(c.function);
    if (calls.length > 0)
      out.function_call = calls[0];
    for (const c of calls.slice(1))
      extra += callTokens(c);
    return out;
  });
  const request = { messages };
  const functions = (chat.functions || []).concat((chat.tools || []).map((t) => t.function));
  if (functions.length > 0)
    request.functions = functions;
  let choice = chat.function_call ?? chat.tool_choice;
  if (choice && typeof choice === 'object' && choice.function)
    choice = { name: choice.function.name };
  if (choice === 'required')
    choice = 'auto';
  if (choice !== undefined)
    request.function_call = choice;
  const tokens = m.countChatCompletionTokens(request) + extra;
  process.stdout.write(JSON.stringify({ name: chat.name, tokens }) + '\n');
}
