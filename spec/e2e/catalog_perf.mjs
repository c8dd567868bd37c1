// SPDX-License-Identifier: Apache-2.0
// How long the catalog page takes to become usable in headless Chromium (scripts/bench/bench_web.sh
// runs it against a server with a large catalog). One run: a fresh browser context (cold cache,
// the session cookie set), navigation to PATH, and the time from navigation start
// (performance.timeOrigin) until the page shows catalog rows and an enabled search box; then the
// search box must take typed text (else the run fails). The same is measured with a warm cache
// (one context for all runs) and for a reference page.
//
//   node catalog_perf.mjs --url URL --username U --password P [--runs 7] [--path /]
//                         [--reference-url URL] [--write-reference DIR]
//
// --write-reference DIR writes DIR/index.html: the first catalog page as plain HTML (the same
// rows and a search box, no JavaScript), for a static server to serve as --reference-url.
// Prints one line per run ("run kind=spa n=1 ms=412.3 rows=25") and summary lines
// "spa_p50_ms=", "spa_p95_ms=", "ref_p50_ms=", ... that the benchmark reads.
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { launchBrowser } from './harness.mjs';

const { values: opt } = parseArgs({
  options: {
    url: { type: 'string' }, username: { type: 'string', default: 'admin' }, password: { type: 'string' },
    runs: { type: 'string', default: '7' }, path: { type: 'string', default: '/' },
    'reference-url': { type: 'string' }, 'write-reference': { type: 'string' },
  },
});
if (!opt.url || !opt.password) {
  console.error('usage: node catalog_perf.mjs --url URL --username U --password P [--runs N] [--reference-url URL] [--write-reference DIR]');
  process.exit(2);
}
const RUNS = Number(opt.runs);
if (!Number.isInteger(RUNS) || RUNS < 1) throw new Error(`--runs must be a positive integer, not ${opt.runs}`);

async function login() {
  const r = await fetch(`${opt.url}/api/v1/auth/login`, {
    method: 'POST', headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ username: opt.username, password: opt.password }),
  });
  if (r.status !== 200) throw new Error(`login failed: ${r.status} ${await r.text()}`);
  const body = await r.json();
  const cookie = (r.headers.get('set-cookie') || '').split(';')[0];
  const eq = cookie.indexOf('=');
  if (eq < 0) throw new Error('login set no cookie');
  return { token: body.token, cookie: { name: cookie.slice(0, eq), value: cookie.slice(eq + 1) } };
}

const esc = (s) => String(s ?? '').replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' }[c]));

async function writeReference(dir, token) {
  const r = await fetch(`${opt.url}/api/v1/catalog?limit=25`, { headers: { Authorization: `Bearer ${token}` } });
  if (r.status !== 200) throw new Error(`catalog request failed: ${r.status}`);
  const items = await r.json();
  const rows = items.map((e) => `<tr><td><a href="/catalog/${esc(e.id)}">${esc(e.display_name)}</a><div>${esc(e.description)}</div></td>`
    + `<td>${esc(e.protocol)}</td><td>${esc(e.status)}</td><td>${esc(e.provider && (e.provider.organization || e.provider.team))}</td>`
    + `<td>${(e.capabilities || []).length}</td><td>${esc(e.spec_version)}</td><td>${esc(e.auth_summary && e.auth_summary.label)}</td></tr>`).join('\n');
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, 'index.html'), `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>AgentLens reference</title></head>
<body><main><h1>Catalog</h1>
<label>Search <input type="search"></label>
<table><caption>Catalog entries</caption>
<thead><tr><th>Name</th><th>Protocol</th><th>Status</th><th>Provider</th><th>Capabilities</th><th>Spec</th><th>Auth</th></tr></thead>
<tbody>
${rows}
</tbody></table></main></body></html>
`);
  console.log(`reference page: ${path.join(dir, 'index.html')} (${items.length} rows)`);
}

// Runs in the page before its own scripts: notes when rows and an enabled search box are there.
function watchReady() {
  const state = { ready: 0, rows: 0 };
  window.__alPerf = state;
  const check = () => {
    if (state.ready) return;
    const rows = document.querySelectorAll('table tbody tr').length;
    const search = document.querySelector('input[type="search"]');
    if (rows > 0 && search && !search.disabled) {
      state.ready = performance.now();
      state.rows = rows;
      obs.disconnect();
    }
  };
  const obs = new MutationObserver(check);
  obs.observe(document, { subtree: true, childList: true, attributes: true });
}

// kind "spa_warm": one context for every run, so the hashed assets come from the browser's
// cache (a returning user); otherwise a fresh context per run (a first visit).
async function measure(browser, base, kind, cookie) {
  const times = [];
  let shared = null;
  for (let n = 0; n <= RUNS; n++) { // run 0 warms the server and the browser up, and is not counted
    let context = shared;
    if (!context) {
      context = await browser.newContext({ viewport: { width: 1360, height: 900 } });
      if (cookie) await context.addCookies([{ ...cookie, url: base }]);
      if (kind === 'spa_warm') shared = context;
    }
    const page = await context.newPage();
    await page.addInitScript(watchReady);
    await page.goto(base + (kind === 'spa' ? opt.path : '/'), { waitUntil: 'commit' });
    await page.waitForFunction(() => window.__alPerf && window.__alPerf.ready > 0, null, { timeout: 30000 });
    const { ready, rows } = await page.evaluate(() => window.__alPerf);
    // Usable means it takes input: type into the search box and read it back.
    const search = page.locator('input[type="search"]').first();
    await search.pressSequentially('ab');
    const value = await search.inputValue();
    if (value !== 'ab') throw new Error(`${kind} run ${n}: the search box holds "${value}" after typing "ab"`);
    if (shared) await page.close();
    else await context.close();
    if (n > 0) times.push(ready);
    console.log(`run kind=${kind} n=${n}${n ? '' : ' (warm-up)'} ms=${ready.toFixed(1)} rows=${rows}`);
  }
  return times;
}

function percentile(xs, p) {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))];
}

const session = await login();
if (opt['write-reference']) {
  await writeReference(opt['write-reference'], session.token);
  process.exit(0);
}
const browser = await launchBrowser();
try {
  const results = {};
  for (const [kind, base, cookie] of [['spa', opt.url, session.cookie], ['spa_warm', opt.url, session.cookie],
    ['ref', opt['reference-url'], null]]) {
    if (!base) continue;
    results[kind] = await measure(browser, base, kind, cookie);
  }
  for (const [kind, xs] of Object.entries(results)) {
    console.log(`${kind}_p50_ms=${percentile(xs, 50).toFixed(1)}`);
    console.log(`${kind}_p95_ms=${percentile(xs, 95).toFixed(1)}`);
    console.log(`${kind}_max_ms=${Math.max(...xs).toFixed(1)}`);
  }
} finally {
  await browser.close(); // closes a shared context too
}
