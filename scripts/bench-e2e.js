#!/usr/bin/env node
// The two ends of scripts/bench's end-to-end row, one clock for both (the
// wall clock in microseconds, so that two processes agree).
//
//   bench-e2e.js gen N RATE WORLD READY   N events of about 1 KB on stdout,
//       each stamped "t" when it is written; RATE events/s (0: as fast as
//       the pipe takes them). The generator keeps the pace itself, so a
//       stamp is the time the event is offered to the publisher, not the
//       time it was queued behind a rate limit. After the first event it
//       waits (at most 30 s) until the file READY exists: the first event
//       is through, the publisher connected, and the measure starts.
//   bench-e2e.js recv N READY   reads wb-subscribe's lines until N, stamps
//       each when read, creates READY on the first; prints, for the events
//       after the first, "N_GOT IN_ORDER FIRST_T LAST_RECV P50_US P99_US
//       MAX_US" (IN_ORDER counts the first too).
'use strict';

function now() { // microseconds of wall-clock time
	return Math.round((performance.timeOrigin + performance.now()) * 1000);
}

function gen(n, rate, world, ready) {
	const pad = 'x'.repeat(889);
	const head = '{"type":"WorldDataChanged","world_id":' + JSON.stringify(world) + ',"t":';
	const out = process.stdout;
	let start = now();
	let i = 0;
	const fs = require('fs');
	function wait(deadline) {
		if (fs.existsSync(ready)) {
			start = now();
			step();
		} else if (now() > deadline) {
			process.stderr.write('bench-e2e gen: the first event did not come through in 30 s\n');
			process.exit(69);
		} else
			setTimeout(wait, 1, deadline);
	}
	function step() {
		// every event due by now, at most 256 a write
		const due = i === 0 ? 1 :
			rate > 0 ? Math.min(n, 1 + Math.floor((now() - start) * rate / 1e6) + 1) : n;
		let buf = '';
		let k = 0;
		while (i < due && k < 256) {
			buf += head + now() + ',"pad":"' + pad + '"}\n';
			i++;
			k++;
		}
		const more = buf === '' || out.write(buf);
		if (i >= n) {
			out.end();
			return;
		}
		if (i === 1 && k === 1) {
			wait(now() + 30e6);
			return;
		}
		if (!more)
			out.once('drain', step);
		else if (rate > 0 && i >= due)
			setTimeout(step, 1);
		else
			setImmediate(step);
	}
	out.on('error', (e) => {
		process.stderr.write('bench-e2e gen: ' + e.message + '\n');
		process.exit(74);
	});
	step();
}

function recv(n, ready) {
	const lat = new Float64Array(n);
	let got = 0, inorder = 0, last = 0, first = Infinity, lastRecv = 0, rest = '';
	const re = /"t":(\d+)/, se = /"seq":(\d+)/;
	function line(s) {
		const r = now();
		const t = re.exec(s), q = se.exec(s);
		if (!t || got >= n)
			return;
		const ts = Number(t[1]);
		lat[got++] = r - ts;
		if (got === 1) {
			require('fs').writeFileSync(ready, '');
			if (q && Number(q[1]) === 1) {
				inorder++;
				last++;
			}
			return;
		}
		if (ts < first)
			first = ts;
		lastRecv = r;
		if (q && Number(q[1]) === last + 1) {
			inorder++;
			last++;
		}
	}
	function done() {
		const l = Array.from(lat.subarray(1, got)).sort((a, b) => a - b);
		const pct = (p) => (l.length ? l[Math.min(l.length - 1, Math.floor(p * l.length))] : 0);
		process.stdout.write([Math.max(0, got - 1), inorder, got ? first : 0, lastRecv,
			pct(0.5), pct(0.99), l.length ? l[l.length - 1] : 0].join(' ') + '\n');
		process.exit(0);
	}
	process.stdin.setEncoding('utf8');
	process.stdin.on('data', (d) => {
		const parts = (rest + d).split('\n');
		rest = parts.pop();
		for (const s of parts)
			line(s);
		if (got >= n)
			done();
	});
	process.stdin.on('end', done);
}

const [mode, a, b, c, d] = process.argv.slice(2);
if (mode === 'gen')
	gen(Number(a), Number(b), c, d);
else if (mode === 'recv')
	recv(Number(a), b);
else {
	process.stderr.write('usage: bench-e2e.js gen N RATE WORLD READY | recv N READY\n');
	process.exit(64);
}
