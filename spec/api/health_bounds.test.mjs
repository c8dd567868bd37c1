// SPDX-License-Identifier: Apache-2.0
// Hostile agents cost a bounded amount of memory and time: a 50 MB body (announced by
// Content-Length, or chunked and only counted as it arrives), garbage, a server that
// never answers and one that drips a byte at a time, probed through `agentlens run` with the
// A2A health probe, the MCP client (probe and ping) and a whole concurrent health sweep over all
// of them. The script reports its own peak RSS (VmHWM) before and after.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { BIN, tempDir } from '../support/server.mjs';

// Under AddressSanitizer freed blocks wait in a quarantine (256 MB by default), so every capped
// response buffer would count towards the peak RSS measured here; without it the measure is the
// process's own, as in a release build.
const SANITIZER_QUARANTINE_OFF = process.env.ASAN_OPTIONS
  ? { ASAN_OPTIONS: `${process.env.ASAN_OPTIONS}:quarantine_size_mb=0:thread_local_quarantine_size_kb=0` } : {};

const SCRIPT = `
local json = require "agentlens.json"
local time = require "agentlens.time"
local probe = require "agentlens.health.probe"
local client = require "agentlens.protocols.mcp_client"
local run = require "agentlens.health.run"
local catalog = require "agentlens.store.catalog"
local db = require "agentlens.db"
local function hwm()
  local f = assert(io.open("/proc/self/status"))
  local s = f:read("*a")
  f:close()
  return tonumber(s:match("VmHWM:%s*(%d+)"))
end
local spec = json.decode(arg[1])
collectgarbage()
local out = { base_kb = hwm(), results = {} }
for _, c in ipairs(spec.cases) do
  local t0 = time.monotonic()
  local r
  if c.kind == "a2a" then
    r = probe.probe({ protocol = "a2a", endpoint = c.url }, { ssrf_guard = false, timeout_ms = spec.timeout_ms })
  elseif c.kind == "mcp_probe" then
    r = client.probe(c.url, { timeout_ms = spec.timeout_ms })
  else
    r = client.ping(c.url, { timeout_ms = spec.timeout_ms })
  end
  out.results[#out.results + 1] = { name = c.name, kind = c.kind, ok = r.ok, reason = r.reason,
    ms = (time.monotonic() - t0) * 1000 }
  collectgarbage()
end
-- one sweep over entries at every hostile path, both protocols
local ids = {}
for _, c in ipairs(spec.cases) do
  if c.kind ~= "mcp_ping" then
    local id = assert(catalog.insert { protocol = c.kind == "a2a" and "a2a" or "mcp", endpoint = c.url,
      display_name = c.name .. " " .. c.kind, source = "push" })
    ids[id] = c.name .. "/" .. c.kind
  end
end
assert(db.exec("INSERT INTO settings (key, value, updated_at) VALUES ('health.check_timeout', ?, ?)",
  tostring(math.ceil(spec.timeout_ms / 1000)), time.rfc3339()))
local t0 = time.monotonic()
local s = run.sweep { budget_ms = 60000, concurrency = 8 }
out.sweep = { probed = s.probed, ms = (time.monotonic() - t0) * 1000, reasons = {} }
for id, name in pairs(ids) do
  local e = assert(catalog.get(id))
  out.sweep.reasons[name] = e.health.last_error
end
collectgarbage()
out.peak_kb = hwm()
io.write(json.encode(out), "\\n")
`;

const BIG = 50 * 1024 * 1024;
const servers = [];
const sockets = new Set();
let work;
let base;

function hostile(req, res) {
  const kind = req.url.split('/')[1];
  if (kind === 'hang') return; // never answers
  if (kind === 'drip') {
    res.writeHead(200, { 'Content-Type': 'application/json' });
    const t = setInterval(() => res.write('{'), 200);
    res.on('close', () => clearInterval(t));
    return;
  }
  if (kind === 'garbage') {
    res.writeHead(200, { 'Content-Type': 'application/json' });
    res.end(randomBytes(64 * 1024));
    return;
  }
  if (kind === 'big' || kind === 'chunked') {
    // big: announced by Content-Length; chunked: only counted as it arrives
    res.writeHead(200, kind === 'big' ? { 'Content-Type': 'application/json', 'Content-Length': String(BIG) }
      : { 'Content-Type': 'application/json' });
    const chunk = Buffer.alloc(1024 * 1024, 'a');
    chunk.write('{"name":"');
    let sent = 0;
    const pump = () => {
      while (sent < BIG) {
        sent += chunk.length;
        if (!res.write(chunk)) { res.once('drain', pump); return; }
      }
      res.end();
    };
    res.on('close', () => { sent = BIG; });
    pump();
    return;
  }
  res.writeHead(404);
  res.end();
}

function runLua(arg) {
  return new Promise((resolve) => {
    const proc = spawn(BIN, ['run', path.join(work, 'bounds.lua'), arg], {
      env: { ...process.env, ...SANITIZER_QUARANTINE_OFF, AGENTLENS_DATA_DIR: path.join(work, 'data'),
        AGENTLENS_LOG_LEVEL: 'warn' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    proc.stdout.on('data', (d) => { stdout += d; });
    proc.stderr.on('data', (d) => { stderr += d; });
    const timer = setTimeout(() => proc.kill('SIGKILL'), 120000);
    proc.on('exit', (status, signal) => {
      clearTimeout(timer);
      let out = null;
      try { out = JSON.parse(stdout.trim().split('\n').pop()); } catch { /* asserted below */ }
      resolve({ status, signal, stdout, stderr, out });
    });
  });
}

before(async () => {
  work = tempDir('agentlens-health-bounds-');
  mkdirSync(path.join(work, 'data'));
  writeFileSync(path.join(work, 'bounds.lua'), SCRIPT);
  const srv = http.createServer(hostile);
  srv.on('connection', (s) => { sockets.add(s); s.on('close', () => sockets.delete(s)); });
  await new Promise((resolve) => srv.listen(0, '127.0.0.1', resolve));
  servers.push(srv);
  base = `http://127.0.0.1:${srv.address().port}`;
});

after(() => {
  for (const s of sockets) s.destroy();
  for (const s of servers) s.close();
  if (work) rmSync(work, { recursive: true, force: true });
});

describe('hostile agents cost bounded memory and time', () => {
  it('50 MB body, garbage, silence, drip: named failures within the timeout, no 50 MB in memory', async () => {
    const timeoutMs = 1500;
    const cases = [];
    for (const name of ['big', 'chunked', 'garbage', 'hang', 'drip']) {
      cases.push({ name, kind: 'a2a', url: `${base}/${name}/a2a` });
      cases.push({ name, kind: 'mcp_probe', url: `${base}/${name}/mcp` });
      cases.push({ name, kind: 'mcp_ping', url: `${base}/${name}/mcp` });
    }
    const r = await runLua(JSON.stringify({ cases, timeout_ms: timeoutMs }));
    assert.equal(r.status, 0, `agentlens run failed (${r.status ?? r.signal}):\n${r.stderr}`);
    assert.ok(r.out, `no JSON result line:\n${r.stdout}\n${r.stderr}`);
    const byCase = Object.fromEntries(r.out.results.map((x) => [`${x.name}/${x.kind}`, x]));
    const want = {
      'big/a2a': 'too large',
      'big/mcp_probe': 'too large',
      'big/mcp_ping': 'too large',
      'chunked/a2a': 'too large',
      'chunked/mcp_probe': 'too large',
      'chunked/mcp_ping': 'too large',
      'garbage/a2a': 'invalid card',
      'garbage/mcp_probe': 'invalid response',
      'garbage/mcp_ping': 'invalid response',
      'hang/a2a': 'timeout',
      'hang/mcp_probe': 'timeout',
      'hang/mcp_ping': 'timeout',
      'drip/a2a': 'timeout',
      'drip/mcp_probe': 'timeout',
      'drip/mcp_ping': 'timeout',
    };
    for (const [key, reason] of Object.entries(want)) {
      const x = byCase[key];
      assert.equal(x.ok, false, key);
      assert.equal(x.reason, reason, `${key}: ${JSON.stringify(x)}`);
      // generous: the machine is shared; the bound is the timeout, not the body
      assert.ok(x.ms < timeoutMs + 2500, `${key} took ${Math.round(x.ms)} ms`);
    }
    // the sweep: every hostile entry probed concurrently, each with its failure, in about one
    // timeout (waves of the slow ones overlap), far below probing them one after the other
    assert.equal(r.out.sweep.probed, 10, JSON.stringify(r.out.sweep));
    for (const name of ['big', 'chunked', 'garbage', 'hang', 'drip']) {
      assert.equal(r.out.sweep.reasons[`${name}/a2a`], want[`${name}/a2a`], JSON.stringify(r.out.sweep));
      assert.equal(r.out.sweep.reasons[`${name}/mcp_probe`], want[`${name}/mcp_probe`], JSON.stringify(r.out.sweep));
    }
    assert.ok(r.out.sweep.ms < 2 * timeoutMs + 3000, `sweep took ${Math.round(r.out.sweep.ms)} ms`);
    const grownMiB = (r.out.peak_kb - r.out.base_kb) / 1024;
    if (process.env.HEALTH_BOUNDS_VERBOSE) console.log(JSON.stringify(r.out));
    assert.ok(grownMiB < 24, `peak RSS grew by ${grownMiB.toFixed(1)} MiB (base ${r.out.base_kb} KiB)`);
  });
});
