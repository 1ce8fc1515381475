// player.js: examples/player.html in a real headless browser, for
// tests/player.bats. usage: node player.js URL DIR [SECONDS]
//
// Starts chromium ($CHROMIUM, default chromium) on URL with the DevTools
// protocol on a pipe (--remote-debugging-pipe: fds 3 and 4, messages of
// JSON ended by a NUL), writes its PID to DIR/chromium.pid, then every
// 200 ms reads the page's DOM and writes, each atomically:
//   DIR/events  the text of each #events item, one a line
//   DIR/state   {"status":..., "count":..., "dups":...} of the page
// It ends after SECONDS (default 120), on SIGTERM or SIGINT, or when the
// browser dies, closing the browser (and, after 5 s, killing its process
// group). Exit statuses: 0 ended as asked, 1 the browser failed.
"use strict";

const { spawn } = require("node:child_process");
const fs = require("node:fs");
const path = require("node:path");

const [url, dir, secs = "120"] = process.argv.slice(2);
if (!url || !dir) {
  process.stderr.write("usage: node player.js URL DIR [SECONDS]\n");
  process.exit(64);
}
fs.mkdirSync(path.join(dir, "profile"), { recursive: true });

const args = [
  "--headless", "--disable-gpu", "--no-first-run", "--no-default-browser-check",
  "--disable-extensions", "--disable-background-networking", "--disable-sync",
  "--disable-component-update", "--disable-default-apps", "--disable-dev-shm-usage",
  "--disable-background-timer-throttling", "--disable-renderer-backgrounding",
  "--mute-audio", "--password-store=basic", "--remote-debugging-pipe",
  "--user-data-dir=" + path.join(dir, "profile"),
];
// chromium's sandbox refuses to run as root
if (process.getuid() === 0)
  args.push("--no-sandbox");
args.push(url);

const log = fs.openSync(path.join(dir, "chromium.log"), "a");
const browser = spawn(process.env.CHROMIUM || "chromium", args, {
  stdio: ["ignore", log, log, "pipe", "pipe"],
  detached: true, // its own process group, which teardown can end by PID
});
fs.writeFileSync(path.join(dir, "chromium.pid"), browser.pid + "\n");

const toBrowser = browser.stdio[3], fromBrowser = browser.stdio[4];
let nextId = 1, pending = new Map(), inbox = Buffer.alloc(0), ending = false;

function send(method, params = {}, sessionId) {
  const id = nextId++;
  const msg = { id, method, params };
  if (sessionId)
    msg.sessionId = sessionId;
  toBrowser.write(JSON.stringify(msg) + "\0");
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      pending.delete(id);
      reject(new Error(method + ": no answer in 10 s"));
    }, 10000);
    pending.set(id, { resolve, reject, timer });
  });
}

fromBrowser.on("data", (chunk) => {
  inbox = Buffer.concat([inbox, chunk]);
  let end;
  while ((end = inbox.indexOf(0)) >= 0) {
    const msg = JSON.parse(inbox.subarray(0, end).toString("utf8"));
    inbox = inbox.subarray(end + 1);
    const p = pending.get(msg.id);
    if (p === undefined)
      continue; // an event
    pending.delete(msg.id);
    clearTimeout(p.timer);
    if (msg.error)
      p.reject(new Error(JSON.stringify(msg.error)));
    else
      p.resolve(msg.result);
  }
});
fromBrowser.on("error", () => {});
toBrowser.on("error", () => {});

function writeAtomically(name, text) {
  const f = path.join(dir, name);
  fs.writeFileSync(f + ".tmp", text);
  fs.renameSync(f + ".tmp", f);
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

const READ = `JSON.stringify({
  status: document.getElementById("status")?.textContent ?? "",
  count: Number(document.getElementById("count")?.textContent ?? 0),
  dups: Number(document.getElementById("dups")?.textContent ?? 0),
  events: Array.from(document.querySelectorAll("#events li"), (li) => li.textContent),
})`;

async function finish(code) {
  if (ending)
    return;
  ending = true;
  if (browser.exitCode === null && browser.signalCode === null) {
    send("Browser.close").catch(() => {});
    const gone = new Promise((r) => browser.once("exit", r));
    if (await Promise.race([gone.then(() => true), sleep(5000).then(() => false)]) === false) {
      try { process.kill(-browser.pid, "SIGKILL"); } catch (e) { /* gone */ }
    }
  }
  process.exit(code);
}

browser.on("exit", (c, s) => {
  if (!ending) {
    process.stderr.write(`player.js: chromium ended (${s ?? c}), see ${dir}/chromium.log\n`);
    ending = true;
    process.exit(1);
  }
});
process.on("SIGTERM", () => finish(0));
process.on("SIGINT", () => finish(0));
setTimeout(() => finish(0), Number(secs) * 1000);

async function main() {
  let page;
  for (let i = 0; i < 100 && page === undefined; i++) {
    const { targetInfos } = await send("Target.getTargets");
    page = targetInfos.find((t) => t.type === "page");
    if (page === undefined)
      await sleep(100);
  }
  if (page === undefined)
    throw new Error("no page after 10 s");
  const { sessionId } = await send("Target.attachToTarget",
      { targetId: page.targetId, flatten: true });
  while (!ending) {
    const r = await send("Runtime.evaluate", { expression: READ, returnByValue: true }, sessionId);
    if (r.result && typeof r.result.value === "string") {
      const v = JSON.parse(r.result.value);
      writeAtomically("events", v.events.map((e) => e + "\n").join(""));
      writeAtomically("state", JSON.stringify({ status: v.status, count: v.count, dups: v.dups }) + "\n");
    }
    await sleep(200);
  }
}

main().catch((e) => {
  process.stderr.write("player.js: " + e.message + "\n");
  finish(1);
});
