// SPDX-License-Identifier: Apache-2.0
// The registration side of scripts/bench/bench_catalog.sh:
//   node scripts/bench/catalog_register.js URL TOKEN CARD N CONCURRENCY
// POSTs N distinct A2A cards to URL/api/v1/catalog/register with a Bearer TOKEN, CONCURRENCY
// requests in flight on keep-alive connections. Each card is the fixture CARD (an A2A 1.0 card)
// with a unique name, description, interface URLs (the registered endpoint) and skill names.
// Prints one line (latencies in ms, wall time from the first request to the last answer):
//   register n=10000 seconds=12.345 per_s=810.1 p50_ms=8.12 p99_ms=20.50 max_ms=40.10 status_201=10000 other=0 errors=0 first_other=...
"use strict";
const http = require("http");
const fs = require("fs");

const [url, token, cardPath, nArg, concArg] = process.argv.slice(2);
if (!url || !token || !cardPath) {
	console.error("usage: catalog_register.js URL TOKEN CARD [N [CONCURRENCY]]");
	process.exit(2);
}
const n = Number(nArg || 10000);
const conc = Number(concArg || 8);
const base = JSON.parse(fs.readFileSync(cardPath, "utf8"));
const target = new URL("/api/v1/catalog/register", url);
const agent = new http.Agent({ keepAlive: true, maxSockets: conc });

const WORDS = ["invoice", "weather", "translation", "payroll", "kubernetes", "sentiment", "shipping", "compliance"];

function card(i) {
	const c = JSON.parse(JSON.stringify(base));
	const slug = `bench-${String(i).padStart(5, "0")}`;
	const word = WORDS[i % WORDS.length];
	c.name = `${base.name} ${word} ${i}`;
	c.description = `${base.description} Variant ${i} for ${word} workloads.`;
	(c.supportedInterfaces || []).forEach((itf, k) => {
		itf.url = `https://${slug}.register.example.com/a2a/${k}`;
	});
	if (c.url) c.url = `https://${slug}.register.example.com/a2a`;
	(c.skills || []).forEach((s) => {
		s.id = `${s.id}-${i}`;
		s.name = `${s.name} ${word} ${i}`;
	});
	return JSON.stringify(c);
}

const latencies = [];
let next = 0;
let ok = 0;
let other = 0;
let errors = 0;
let firstOther = "";

function post(body) {
	return new Promise((resolve) => {
		const t0 = process.hrtime.bigint();
		const req = http.request(target, {
			method: "POST",
			agent,
			headers: {
				"Content-Type": "application/json",
				"Content-Length": Buffer.byteLength(body),
				Authorization: `Bearer ${token}`,
			},
		}, (res) => {
			const chunks = [];
			res.on("data", (d) => chunks.push(d));
			res.on("end", () => {
				latencies.push(Number(process.hrtime.bigint() - t0) / 1e6);
				if (res.statusCode === 201) ok++;
				else {
					other++;
					if (!firstOther) firstOther = `${res.statusCode} ${Buffer.concat(chunks).toString().slice(0, 200)}`;
				}
				resolve();
			});
		});
		req.on("error", (e) => {
			errors++;
			if (!firstOther) firstOther = `error ${e.message}`;
			resolve();
		});
		req.end(body);
	});
}

async function worker() {
	while (next < n) {
		const i = ++next;
		await post(card(i));
	}
}

(async () => {
	const t0 = process.hrtime.bigint();
	await Promise.all(Array.from({ length: conc }, worker));
	const secs = Number(process.hrtime.bigint() - t0) / 1e9;
	latencies.sort((a, b) => a - b);
	const q = (p) => (latencies.length ? latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))] : 0);
	console.log(`register n=${n} seconds=${secs.toFixed(3)} per_s=${(n / secs).toFixed(1)} p50_ms=${q(0.5).toFixed(2)} ` +
		`p99_ms=${q(0.99).toFixed(2)} max_ms=${(latencies[latencies.length - 1] || 0).toFixed(2)} status_201=${ok} ` +
		`other=${other} errors=${errors}` + (firstOther ? ` first_other=${JSON.stringify(firstOther)}` : ""));
	agent.destroy();
})();
