// SPDX-License-Identifier: Apache-2.0
// agentlens.httpc through `agentlens run`: the SSRF guard (loopback, a name resolving to it, a
// redirect to a refused address, the operator's allow list), redirect limits, timeouts, the
// response size cap, JSON-only responses and concurrent batches, against local node servers;
// httpc.stream (chunks as they arrive, a clean early end, callback errors, idle timeout, size
// cap, nested requests) and client TLS (CA file, client certificate) against a local HTTPS server.
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { BIN, tempDir } from '../support/server.mjs';

const BIG = 5 * 1024 * 1024;
const MiB = 1024 * 1024;

// The Lua side: decodes a spec from arg[1], runs httpc.request or httpc.request_many, prints
// one JSON line with the outcome, the time it took and the process's peak memory around it.
const SCRIPT = `
local httpc = require "agentlens.httpc"
local json = require "agentlens.json"
local time = require "agentlens.time"
local spec = json.decode(arg[1])
local function peak_kib()
  local f = io.open("/proc/self/status")
  if not f then return json.null end
  local s = f:read("*a")
  f:close()
  return tonumber(s:match("VmHWM:%s*(%d+)")) or json.null
end
-- warm-up (curl and TLS initialisation) so that the peak memory measured below is the request's
if spec.warm_up then httpc.request{ url = "http://127.0.0.1:1/" } end
local out = { peak_before_kib = peak_kib() }
local t0 = time.monotonic()
if spec.many then
  out.results = httpc.request_many(spec.many, spec.options)
else
  local r, msg, code = httpc.request(spec.request)
  out.response, out.error, out.code = r or json.null, msg or json.null, code or json.null
  if r and #r.body > 4096 then r.body = ("<%d bytes>"):format(#r.body) end
end
out.elapsed_ms = (time.monotonic() - t0) * 1000
out.peak_after_kib = peak_kib()
io.write(json.encode(out), "\\n")
`;

// httpc.stream: spec.stream is the request; spec.stop_after ends the stream (on_data returns
// false) after that many chunks; spec.raise_after raises in on_data; spec.nested makes a plain
// httpc.request from inside on_data. Prints the outcome, the chunks' count, bytes and text, and
// the arrival time of each chunk relative to the start.
const STREAM_SCRIPT = `
local httpc = require "agentlens.httpc"
local json = require "agentlens.json"
local time = require "agentlens.time"
local spec = json.decode(arg[1])
local req = spec.stream
local chunks, bytes, text, at, nested = 0, 0, {}, {}, json.null
local t0 = time.monotonic()
req.on_data = function(chunk)
  chunks = chunks + 1
  bytes = bytes + #chunk
  if bytes <= 65536 then text[#text + 1] = chunk end
  at[#at + 1] = (time.monotonic() - t0) * 1000
  if spec.nested and chunks == 1 then
    local r, msg = httpc.request(spec.nested)
    nested = r and r.body or msg
  end
  if spec.raise_after and chunks >= spec.raise_after then error("boom in on_data", 0) end
  if spec.stop_after and chunks >= spec.stop_after then return false end
end
local r, msg, code = httpc.stream(req)
io.write(json.encode({ response = r or json.null, error = msg or json.null, code = code or json.null,
  chunks = chunks, bytes = bytes, text = table.concat(text), at = at, nested = nested,
  elapsed_ms = (time.monotonic() - t0) * 1000 }), "\\n")
`;

const dirs = [];
let work;
let script;
let luaDirEnv = {}; // AGENTLENS_LUA_DIR, only when the shipped tree cannot load (see before())
let fallbackNote = '';

// ---- local HTTP servers ---------------------------------------------------------------------

const hits = [];
let inFlight = 0;
let maxInFlight = 0;
let main; // 127.0.0.1
let other; // 127.0.0.2, the target of the cross-origin redirect
let mainPort;
let otherPort;
const hanging = new Set();

function json(res, status, body, type = 'application/json') {
  const data = JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': type, 'Content-Length': Buffer.byteLength(data) });
  res.end(data);
}

// Sends BIG bytes of JSON-looking data (chunked unless withLength), honouring back-pressure and
// stopping when the client goes away.
function sendBig(res, withLength) {
  const headers = { 'Content-Type': 'application/json' };
  if (withLength) headers['Content-Length'] = BIG;
  res.writeHead(200, headers);
  const chunk = Buffer.alloc(64 * 1024, 0x20);
  let sent = 0;
  const pump = () => {
    while (sent < BIG && !res.destroyed) {
      sent += chunk.length;
      if (!res.write(chunk)) return res.once('drain', pump);
    }
    if (!res.destroyed) res.end();
  };
  res.on('error', () => {});
  pump();
}

function handle(req, res) {
  const url = new URL(req.url, 'http://x');
  const p = url.pathname;
  hits.push({ server: req.socket.localAddress, path: p });
  let m;
  if (p === '/json') return json(res, 200, { ok: true, path: p });
  if (p === '/problem') return json(res, 200, { ok: true }, 'application/problem+json; charset=utf-8');
  if (p === '/text') {
    res.writeHead(200, { 'Content-Type': 'text/html' });
    return res.end('<html><body>not json</body></html>');
  }
  if ((m = p.match(/^\/hop\/(\d+)$/))) {
    const n = Number(m[1]);
    if (n === 0) return json(res, 200, { hops: 'done' });
    res.writeHead(302, { Location: `/hop/${n - 1}` });
    return res.end();
  }
  if (p === '/to-other') {
    res.writeHead(302, { Location: `http://127.0.0.2:${otherPort}/json` });
    return res.end();
  }
  if ((m = p.match(/^\/lines\/(\d+)$/))) { // n lines, 100 ms apart
    const n = Number(m[1]);
    res.writeHead(200, { 'Content-Type': 'application/json' });
    let i = 0;
    const tick = () => {
      if (res.destroyed) return;
      if (i === n) return res.end();
      res.write(`${JSON.stringify({ i })}\n`);
      i += 1;
      setTimeout(tick, 100);
    };
    return tick();
  }
  if (p === '/forever') { // a line every 50 ms until the client goes away
    res.writeHead(200, { 'Content-Type': 'application/json' });
    const timer = setInterval(() => { if (res.destroyed) clearInterval(timer); else res.write('{"tick":1}\n'); }, 50);
    res.on('close', () => clearInterval(timer));
    return undefined;
  }
  if (p === '/one-then-silence') {
    res.writeHead(200, { 'Content-Type': 'application/json' });
    res.write('{"first":true}\n');
    hanging.add(res);
    return undefined;
  }
  if (p === '/gone') return json(res, 410, { kind: 'Status', code: 410 });
  if (p === '/hang') {
    hanging.add(res); // never answered; closed in after()
    return undefined;
  }
  if (p === '/big-chunked') return sendBig(res, false);
  if (p === '/big-length') return sendBig(res, true);
  if ((m = p.match(/^\/item\/(\d+)$/))) {
    const i = Number(m[1]);
    inFlight += 1;
    maxInFlight = Math.max(maxInFlight, inFlight);
    // uneven delays, so that completion order differs from request order
    setTimeout(() => {
      inFlight -= 1;
      json(res, 200, { i });
    }, 40 + ((i * 37) % 7) * 25);
    return undefined;
  }
  return json(res, 404, { error: 'not found' });
}

function listen(host) {
  return new Promise((resolve, reject) => {
    const srv = http.createServer(handle);
    srv.once('error', reject);
    srv.listen(0, host, () => resolve(srv));
  });
}

// ---- running Lua ----------------------------------------------------------------------------

function baseEnv() {
  const env = {};
  const pg = process.env.AGENTLENS_DB_DIALECT === 'postgres';
  for (const [k, v] of Object.entries(process.env)) {
    if (!k.startsWith('AGENTLENS_') || (pg && k.startsWith('AGENTLENS_DB_'))) env[k] = v;
  }
  return env;
}

// Runs `agentlens run <script> <json>` without blocking the event loop (the servers above live
// in this process): {status, stdout, stderr, ms, out (the parsed JSON line or null)}.
function runLua(file, args, env = {}) {
  return new Promise((resolve) => {
    const started = Date.now();
    const proc = spawn(BIN, ['run', file, ...args], {
      env: { ...baseEnv(), AGENTLENS_DATA_DIR: path.join(work, 'data'), AGENTLENS_LOG_FORMAT: 'json', ...luaDirEnv, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    proc.stdout.on('data', (d) => { stdout += d; });
    proc.stderr.on('data', (d) => { stderr += d; });
    const timer = setTimeout(() => proc.kill('SIGKILL'), 60000);
    proc.on('close', (status, signal) => {
      clearTimeout(timer);
      const line = stdout.trim().split('\n').pop();
      let out = null;
      try { out = JSON.parse(line); } catch { /* reported by the caller's assertion */ }
      resolve({ status, signal, stdout, stderr, ms: Date.now() - started, out });
    });
  });
}

async function request(req, env = {}) {
  const r = await runLua(script, [JSON.stringify({ request: req })], env);
  assert.equal(r.status, 0, `agentlens run failed (${r.status ?? r.signal}):\n${r.stderr}`);
  assert.ok(r.out, `no JSON result line:\n${r.stdout}\n${r.stderr}`);
  return r.out;
}

const url = (p, host = '127.0.0.1', port = mainPort) => `http://${host}:${port}${p}`;
const hitsOn = (p) => hits.filter((h) => h.path === p).length;

before(async () => {
  work = tempDir('agentlens-httpc-');
  dirs.push(work);
  mkdirSync(path.join(work, 'data'));
  script = path.join(work, 'fetch.lua');
  writeFileSync(script, SCRIPT);
  main = await listen('127.0.0.1');
  mainPort = main.address().port;
  other = await listen('127.0.0.2');
  otherPort = other.address().port;

  // `run` loads the whole shipped Lua tree first. When that tree is mid-change elsewhere and
  // fails to load, fall back to a minimal tree: agentlens.httpc is C and needs none of it.
  const probe = path.join(work, 'probe.lua');
  writeFileSync(probe, 'io.write("ok\\n")\n');
  const shipped = await runLua(probe, []);
  if (shipped.status !== 0) {
    const dir = path.join(work, 'lua');
    mkdirSync(path.join(dir, 'agentlens'), { recursive: true });
    writeFileSync(path.join(dir, 'agentlens', 'server.lua'),
      'return { init = function() return {} end, dispatch = function() return 404 end }\n');
    writeFileSync(path.join(dir, 'agentlens', 'startup.lua'), 'return { run = function() return true end }\n');
    luaDirEnv = { AGENTLENS_LUA_DIR: dir };
    fallbackNote = `the shipped Lua tree does not load, so these runs use a minimal tree: ${shipped.stderr.split('\n')[0]}`;
  }
});

after(() => {
  for (const res of hanging) res.destroy();
  main?.closeAllConnections();
  other?.closeAllConnections();
  main?.close();
  other?.close();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

// ---- the guard --------------------------------------------------------------------------------

describe('httpc.request: SSRF guard', () => {
  it('refuses loopback by default, before any request reaches the server', async (t) => {
    if (fallbackNote) t.diagnostic(fallbackNote);
    const before = hitsOn('/json');
    const r = await request({ url: url('/json') });
    assert.equal(r.response, null);
    assert.equal(r.code, 'refused');
    assert.equal(r.error, 'refused: address 127.0.0.1 is in a blocked range (loopback)');
    assert.equal(hitsOn('/json'), before);
  });

  it('reaches loopback with ssrf_guard = false', async () => {
    const r = await request({ url: url('/json'), ssrf_guard: false });
    assert.equal(r.code, null, r.error);
    assert.equal(r.response.status, 200);
    assert.deepEqual(JSON.parse(r.response.body), { ok: true, path: '/json' });
    assert.equal(r.response.headers['content-type'], 'application/json');
    assert.equal(r.response.url, url('/json'));
    assert.equal(r.response.redirects, 0);
    assert.ok(r.response.duration_ms > 0 && r.response.duration_ms < 5000, String(r.response.duration_ms));
  });

  it('reaches loopback with the guard on when import.allowed_networks contains it', async () => {
    const r = await request({ url: url('/json') }, { AGENTLENS_IMPORT_ALLOWED_NETWORKS: '127.0.0.0/8' });
    assert.equal(r.code, null, r.error);
    assert.equal(r.response.status, 200);
    assert.equal(JSON.parse(r.response.body).ok, true);
  });

  it('refuses a host name that resolves to loopback (the connected address is checked)', async () => {
    const r = await request({ url: url('/json', 'localhost') });
    assert.equal(r.code, 'refused');
    assert.match(r.error, /^refused: address (127\.0\.0\.1|::1) is in a blocked range \(loopback\)$/);
  });

  it('refuses a redirect from an allowed origin to a blocked address', async () => {
    const env = { AGENTLENS_IMPORT_ALLOWED_NETWORKS: '127.0.0.1/32' };
    const before = hits.filter((h) => h.server === '127.0.0.2').length;
    const r = await request({ url: url('/to-other') }, env);
    assert.equal(r.code, 'refused', r.error);
    assert.equal(r.error, 'refused: address 127.0.0.2 is in a blocked range (loopback)');
    assert.equal(hits.filter((h) => h.server === '127.0.0.2').length, before, 'nothing reached 127.0.0.2');
    // control: with 127.0.0.2 allowed too, the same redirect is followed to the other server
    const ok = await request({ url: url('/to-other') }, { AGENTLENS_IMPORT_ALLOWED_NETWORKS: '127.0.0.1/32, 127.0.0.2' });
    assert.equal(ok.code, null, ok.error);
    assert.equal(ok.response.url, url('/json', '127.0.0.2', otherPort));
    assert.equal(ok.response.redirects, 1);
  });

  it('stops at start-up of the binding on an invalid allow list', async () => {
    const r = await runLua(script, [JSON.stringify({ request: { url: url('/json') } })],
      { AGENTLENS_IMPORT_ALLOWED_NETWORKS: '10.0.0.1/8' });
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, /import\.allowed_networks: entry "10\.0\.0\.1\/8": host bits are set \(did you mean 10\.0\.0\.0\/8\?\)/);
  });
});

// ---- limits -----------------------------------------------------------------------------------

describe('httpc.request: limits and errors', () => {
  it('follows up to max_redirects and refuses one more', async () => {
    const ok = await request({ url: url('/hop/3'), ssrf_guard: false, max_redirects: 3 });
    assert.equal(ok.code, null, ok.error);
    assert.equal(ok.response.redirects, 3);
    assert.equal(ok.response.url, url('/hop/0'));
    const dflt = await request({ url: url('/hop/4'), ssrf_guard: false });
    assert.equal(dflt.code, 'too many redirects'); // default 3
    const zero = await request({ url: url('/hop/1'), ssrf_guard: false, max_redirects: 0 });
    assert.equal(zero.code, 'too many redirects');
    assert.match(zero.error, /^too many redirects: more than 0 redirects/);
  });

  it('times out on a server that never answers, within the timeout plus slack', async () => {
    const r = await request({ url: url('/hang'), ssrf_guard: false, timeout_ms: 500 });
    assert.equal(r.code, 'timeout', r.error);
    assert.match(r.error, /^timeout: no complete response within 500 ms/);
    assert.ok(r.elapsed_ms >= 450 && r.elapsed_ms < 2000, `took ${r.elapsed_ms} ms`);
  });

  for (const variant of ['big-chunked', 'big-length']) {
    it(`stops a 5 MB response at max_bytes = 1 MiB (${variant}), in bounded time and memory`, async () => {
      const r = await runLua(script, [JSON.stringify({
        warm_up: true, request: { url: url(`/${variant}`), ssrf_guard: false, max_bytes: MiB },
      })]).then((x) => x.out);
      assert.equal(r.code, 'too large', r.error);
      assert.equal(r.error, `too large: response larger than ${MiB} bytes`);
      assert.ok(r.elapsed_ms < 3000, `took ${r.elapsed_ms} ms`);
      if (typeof r.peak_before_kib === 'number') {
        const grew = r.peak_after_kib - r.peak_before_kib;
        // about 1 MiB normally, under 4 MiB with AddressSanitizer's quarantine; the whole body
        // would be 5 MiB plus its buffer's growth
        assert.ok(grew < BIG / 1024, `peak memory grew by ${grew} KiB, as much as the whole body`);
      }
    });
  }

  it('refuses a non-JSON response with json_only and accepts application/json and +json', async () => {
    const text = await request({ url: url('/text'), ssrf_guard: false, json_only: true });
    assert.equal(text.code, 'not json');
    assert.match(text.error, /^not json: Content-Type is text\/html, not JSON \(status 200\)$/);
    const plain = await request({ url: url('/text'), ssrf_guard: false });
    assert.equal(plain.response.status, 200);
    const okJson = await request({ url: url('/json'), ssrf_guard: false, json_only: true });
    assert.equal(okJson.response.status, 200);
    const problem = await request({ url: url('/problem'), ssrf_guard: false, json_only: true });
    assert.equal(problem.code, null, problem.error);
  });

  it('reports connection refused, bad URLs and schemes other than http(s)', async () => {
    const closed = await listen('127.0.0.1');
    const port = closed.address().port;
    await new Promise((resolve) => closed.close(resolve));
    const refused = await request({ url: url('/', '127.0.0.1', port), ssrf_guard: false });
    assert.equal(refused.code, 'connection refused');
    for (const bad of ['file:///etc/passwd', 'ftp://example.com/', 'gopher://127.0.0.1/', 'not a url', '']) {
      const r = await request({ url: bad, ssrf_guard: false });
      assert.equal(r.code, 'bad url', `${bad}: ${r.error}`);
    }
  });

  it('POSTs a body with headers', async () => {
    const seen = new Promise((resolve) => {
      main.once('request', (req) => {
        let body = '';
        req.on('data', (d) => { body += d; });
        req.on('end', () => resolve({ method: req.method, body, header: req.headers['x-test'] }));
      });
    });
    const r = await request({
      url: url('/json'), method: 'POST', body: '{"a":1}', ssrf_guard: false,
      headers: { 'Content-Type': 'application/json', 'X-Test': 'yes' },
    });
    assert.equal(r.response.status, 200);
    assert.deepEqual(await seen, { method: 'POST', body: '{"a":1}', header: 'yes' });
  });
});

// ---- batches ----------------------------------------------------------------------------------

describe('httpc.request_many', () => {
  it('runs 20 requests at most 4 at a time and returns the results in order', async () => {
    maxInFlight = 0;
    const many = Array.from({ length: 20 }, (_, i) => ({ url: url(`/item/${i}`), ssrf_guard: false, json_only: true }));
    const r = await runLua(script, [JSON.stringify({ many, options: { concurrency: 4 } })]);
    assert.equal(r.status, 0, r.stderr);
    const { results } = r.out;
    assert.equal(results.length, 20);
    results.forEach((res, i) => {
      assert.equal(res.status, 200, JSON.stringify(res));
      assert.deepEqual(JSON.parse(res.body), { i });
      assert.equal(res.url, url(`/item/${i}`));
    });
    assert.ok(maxInFlight <= 4, `at most 4 in flight, saw ${maxInFlight}`);
    assert.ok(maxInFlight >= 2, `requests ran concurrently (saw ${maxInFlight})`);
  });

  it('reports each failure in its place, with the guard applied per request', async () => {
    const many = [
      { url: url('/json'), ssrf_guard: false },
      { url: url('/json') },
      { url: 'ftp://example.com/' },
      { url: url('/text'), ssrf_guard: false, json_only: true },
      { url: url('/hop/2'), ssrf_guard: false },
    ];
    const r = await runLua(script, [JSON.stringify({ many, options: { concurrency: 2 } })]);
    assert.equal(r.status, 0, r.stderr);
    const [a, b, c, d, e] = r.out.results;
    assert.equal(a.status, 200);
    assert.deepEqual(b, { code: 'refused', error: 'refused: address 127.0.0.1 is in a blocked range (loopback)' });
    assert.equal(c.code, 'bad url');
    assert.equal(d.code, 'not json');
    assert.equal(e.status, 200);
    assert.equal(e.redirects, 2);
  });

  it('returns an empty list for no requests', async () => {
    const r = await runLua(script, [JSON.stringify({ many: [] })]);
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(r.out.results, []);
  });
});

// ---- streams ----------------------------------------------------------------------------------

async function stream(spec, env = {}) {
  const file = path.join(work, 'stream.lua');
  writeFileSync(file, STREAM_SCRIPT);
  const r = await runLua(file, [JSON.stringify(spec)], env);
  assert.equal(r.status, 0, `agentlens run failed (${r.status ?? r.signal}):\n${r.stderr}`);
  assert.ok(r.out, `no JSON result line:\n${r.stdout}\n${r.stderr}`);
  return r.out;
}

describe('httpc.stream', () => {
  it('hands each chunk to on_data as it arrives and returns the response without a body', async () => {
    const r = await stream({ stream: { url: url('/lines/5'), ssrf_guard: false } });
    assert.equal(r.code, null, r.error);
    assert.equal(r.response.status, 200);
    assert.equal(r.response.headers['content-type'], 'application/json');
    assert.equal(r.response.body, undefined);
    assert.equal(r.response.url, url('/lines/5'));
    assert.equal(r.text, [0, 1, 2, 3, 4].map((i) => `{"i":${i}}\n`).join(''));
    assert.equal(r.chunks, 5, 'lines sent 100 ms apart arrive as separate chunks');
    // the first line came long before the last: delivered while the response was still going
    assert.ok(r.at[4] - r.at[0] >= 300, `chunk times ${r.at}`);
  });

  it('ends cleanly when on_data returns false, with the response table', async () => {
    const r = await stream({ stream: { url: url('/forever'), ssrf_guard: false }, stop_after: 3 });
    assert.equal(r.code, null, r.error);
    assert.equal(r.response.status, 200);
    assert.equal(r.chunks, 3);
    assert.ok(r.elapsed_ms < 5000, `took ${r.elapsed_ms} ms`);
  });

  it('returns an error raised in on_data as nil, message, "callback"', async () => {
    const r = await stream({ stream: { url: url('/forever'), ssrf_guard: false }, raise_after: 2 });
    assert.equal(r.response, null);
    assert.equal(r.code, 'callback');
    assert.equal(r.error, 'callback: on_data: boom in on_data');
    assert.equal(r.chunks, 2);
  });

  it('ends with "timeout" when no byte arrives for idle_timeout_ms', async () => {
    const r = await stream({ stream: { url: url('/one-then-silence'), ssrf_guard: false, idle_timeout_ms: 400 } });
    assert.equal(r.code, 'timeout', r.error);
    assert.equal(r.error, 'timeout: no data received for 400 ms');
    assert.equal(r.chunks, 1);
    assert.ok(r.elapsed_ms >= 350 && r.elapsed_ms < 3000, `took ${r.elapsed_ms} ms`);
  });

  it('keeps a stream with steady data alive past idle_timeout_ms; timeout_ms bounds it', async () => {
    const r = await stream({ stream: { url: url('/forever'), ssrf_guard: false, idle_timeout_ms: 300, timeout_ms: 1200 } });
    assert.equal(r.code, 'timeout', r.error);
    assert.match(r.error, /^timeout: no complete response within 1200 ms/);
    assert.ok(r.chunks >= 5, `${r.chunks} chunks`);
  });

  it('ends with "too large" at max_bytes over the whole stream', async () => {
    const r = await stream({ stream: { url: url('/big-chunked'), ssrf_guard: false, max_bytes: MiB } });
    assert.equal(r.code, 'too large', r.error);
    assert.equal(r.error, `too large: stream larger than ${MiB} bytes`);
    assert.ok(r.bytes <= MiB, `${r.bytes} bytes delivered`);
  });

  it('streams a body larger than the request default size cap when no max_bytes is given', async () => {
    const r = await stream({ stream: { url: url('/big-length'), ssrf_guard: false } });
    assert.equal(r.code, null, r.error);
    assert.equal(r.bytes, BIG);
  });

  it('passes on an error status with its body (a watch answering 410 Gone)', async () => {
    const r = await stream({ stream: { url: url('/gone'), ssrf_guard: false } });
    assert.equal(r.code, null, r.error);
    assert.equal(r.response.status, 410);
    assert.deepEqual(JSON.parse(r.text), { kind: 'Status', code: 410 });
  });

  it('applies the SSRF guard like httpc.request', async () => {
    const r = await stream({ stream: { url: url('/forever') } });
    assert.equal(r.code, 'refused');
    assert.equal(r.chunks, 0);
  });

  it('allows a nested httpc.request from inside on_data', async () => {
    const r = await stream({
      stream: { url: url('/lines/3'), ssrf_guard: false },
      nested: { url: url('/json'), ssrf_guard: false },
    });
    assert.equal(r.code, null, r.error);
    assert.deepEqual(JSON.parse(r.nested), { ok: true, path: '/json' });
    assert.equal(r.chunks, 3);
  });

  it('refuses bad arguments with a clear error', async () => {
    const file = path.join(work, 'stream-bad.lua');
    writeFileSync(file, `
local httpc = require "agentlens.httpc"
local cases = {
  { url = "http://127.0.0.1:1/" },
  { url = "http://127.0.0.1:1/", on_data = print, idle_timeout_ms = 0 },
  { url = "http://127.0.0.1:1/", on_data = print, tls = { ca_file = 1 } },
  { url = "http://127.0.0.1:1/", on_data = print, tls = { key_file = "k.pem" } },
  { url = "http://127.0.0.1:1/", on_data = print, tls = { nope = true } },
  { url = "http://127.0.0.1:1/", on_data = print, wat = 1 },
}
for _, c in ipairs(cases) do
  local ok, err = pcall(httpc.stream, c)
  io.write(tostring(ok), " ", tostring(err), "\\n")
end
`);
    const r = await runLua(file, []);
    assert.equal(r.status, 0, r.stderr);
    const lines = r.stdout.trim().split('\n');
    assert.deepEqual(lines, [
      'false httpc.stream: on_data must be a function',
      'false httpc.stream: idle_timeout_ms must be an integer from 1 to 604800000',
      'false httpc.stream: ca_file must be a non-empty file name',
      'false httpc.stream: tls.key_file needs tls.cert_file',
      'false httpc.stream: unknown tls field nope',
      'false httpc.stream: unknown field wat',
    ]);
  });
});

// ---- client TLS ---------------------------------------------------------------------------------

describe('httpc: client TLS (CA file, client certificate)', () => {
  let tlsDir;
  let server;
  let port;
  const seen = [];

  before(async () => {
    tlsDir = path.join(work, 'tls');
    mkdirSync(tlsDir);
    const ssl = (...args) => execFileSync('openssl', args, { cwd: tlsDir, stdio: 'pipe' });
    ssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca.key', '-out', 'ca.crt', '-days', '1',
      '-subj', '/CN=test-ca');
    writeFileSync(path.join(tlsDir, 'san.ext'), 'subjectAltName=IP:127.0.0.1\n');
    ssl('req', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'server.key', '-out', 'server.csr', '-subj', '/CN=127.0.0.1');
    ssl('x509', '-req', '-in', 'server.csr', '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'server.crt',
      '-days', '1', '-extfile', 'san.ext');
    ssl('req', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'client.key', '-out', 'client.csr', '-subj', '/CN=agentlens-client');
    ssl('x509', '-req', '-in', 'client.csr', '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'client.crt',
      '-days', '1');
    const read = (f) => readFileSync(path.join(tlsDir, f));
    server = https.createServer({
      key: read('server.key'), cert: read('server.crt'), ca: read('ca.crt'), requestCert: true, rejectUnauthorized: false,
    }, (req, res) => {
      const peer = req.socket.getPeerCertificate();
      const cn = req.socket.authorized ? peer.subject?.CN : null;
      seen.push(cn);
      if (!cn) return json(res, 401, { error: 'client certificate required' });
      if (req.url === '/watch') {
        res.writeHead(200, { 'Content-Type': 'application/json' });
        res.write(`${JSON.stringify({ cn })}\n`);
        return res.end();
      }
      return json(res, 200, { cn });
    });
    await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = server.address().port;
  });

  after(() => {
    server?.closeAllConnections();
    server?.close();
  });

  const f = (name) => path.join(tlsDir, name);

  it('verifies the server against tls.ca_file and presents the client certificate', async () => {
    const r = await request({
      url: `https://127.0.0.1:${port}/x`, ssrf_guard: false,
      tls: { ca_file: f('ca.crt'), cert_file: f('client.crt'), key_file: f('client.key') },
    });
    assert.equal(r.code, null, r.error);
    assert.equal(r.response.status, 200);
    assert.deepEqual(JSON.parse(r.response.body), { cn: 'agentlens-client' });
  });

  it('streams over TLS with a client certificate', async () => {
    const r = await stream({
      stream: {
        url: `https://127.0.0.1:${port}/watch`, ssrf_guard: false,
        tls: { ca_file: f('ca.crt'), cert_file: f('client.crt'), key_file: f('client.key') },
      },
    });
    assert.equal(r.code, null, r.error);
    assert.deepEqual(JSON.parse(r.text), { cn: 'agentlens-client' });
  });

  it('fails with "tls" when the server is not signed by a trusted CA', async () => {
    const r = await request({ url: `https://127.0.0.1:${port}/x`, ssrf_guard: false });
    assert.equal(r.code, 'tls', r.error);
  });

  it('connects without verification when insecure_skip_verify is set (no client cert: 401)', async () => {
    const r = await request({ url: `https://127.0.0.1:${port}/x`, ssrf_guard: false, tls: { insecure_skip_verify: true } });
    assert.equal(r.code, null, r.error);
    assert.equal(r.response.status, 401);
  });

  it('fails with "tls" on a missing client certificate file', async () => {
    const r = await request({
      url: `https://127.0.0.1:${port}/x`, ssrf_guard: false,
      tls: { ca_file: f('ca.crt'), cert_file: f('missing.crt'), key_file: f('client.key') },
    });
    assert.equal(r.code, 'tls', r.error);
  });
});
