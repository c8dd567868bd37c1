// SPDX-License-Identifier: Apache-2.0
// Health probes over real HTTP: agentlens.discovery.a2a_fetch.fetch_card and
// agentlens.health.probe.probe run through `agentlens run` against the mock A2A agent
// (examples/mock-agents, PORT=0), switched between its modes with POST /_control, and the
// outcome fed through agentlens.health.lifecycle.next_state. MCP probes run only once
// lua/agentlens/protocols/mcp_client.lua exists.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { control, startMock, stopMocks } from '../support/mock_agents.mjs';
import { BIN, ROOT, tempDir } from '../support/server.mjs';

// arg[1] = {fn = "fetch" | "probe", url, entry, opts, state, failures, no_mcp}; prints one JSON line.
const SCRIPT = `
local json = require "agentlens.json"
local time = require "agentlens.time"
local a2a_fetch = require "agentlens.discovery.a2a_fetch"
local probe = require "agentlens.health.probe"
local lifecycle = require "agentlens.health.lifecycle"
local spec = json.decode(arg[1])
if spec.no_mcp then probe.set_mcp_client(false) end -- as before mcp_client.lua existed
local t0 = time.monotonic()
local r
if spec.fn == "fetch" then
  r = a2a_fetch.fetch_card(spec.url, spec.opts)
  if r.raw then r.raw_bytes = #r.raw; r.raw = nil end
  if r.card then r.card_name = r.card.name; r.card = nil end
  if r.validation then r.valid = r.validation.valid; r.validation = nil end
else
  r = probe.probe(spec.entry, spec.opts)
  local state, failures, rule = lifecycle.next_state(spec.state or "registered", spec.failures or 0, r,
    { degraded_latency = 1500, failure_threshold = 3 })
  r.next = { state = state, failures = failures, rule = rule }
end
r.elapsed_ms = (time.monotonic() - t0) * 1000
io.write(json.encode(r), "\\n")
`;

const servers = [];
let work;
let script;
let agent; // mock A2A agent base URL
let legacyAgent; // mock started with --legacy
let legacyOnly; // proxy in front of legacyAgent answering 404 for agent-card.json
let closedPort;
const proxied = []; // headers of the requests the legacy-only proxy saw

function listen(handler) {
  return new Promise((resolve) => {
    const srv = http.createServer(handler);
    servers.push(srv);
    srv.listen(0, '127.0.0.1', () => resolve(srv));
  });
}

function runLua(spec) {
  return new Promise((resolve) => {
    const env = {};
    for (const [k, v] of Object.entries(process.env)) {
      if (!k.startsWith('AGENTLENS_') || k === 'AGENTLENS_BIN') env[k] = v;
    }
    const proc = spawn(BIN, ['run', script, JSON.stringify(spec)], {
      env: { ...env, AGENTLENS_DATA_DIR: path.join(work, 'data'), AGENTLENS_LOG_FORMAT: 'json' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    proc.stdout.on('data', (d) => { stdout += d; });
    proc.stderr.on('data', (d) => { stderr += d; });
    const timer = setTimeout(() => proc.kill('SIGKILL'), 60000);
    proc.on('close', (status) => {
      clearTimeout(timer);
      let out = null;
      try { out = JSON.parse(stdout.trim().split('\n').pop()); } catch { /* asserted below */ }
      resolve({ status, stdout, stderr, out });
    });
  });
}

async function lua(spec) {
  const r = await runLua(spec);
  assert.equal(r.status, 0, `agentlens run failed:\n${r.stderr}`);
  assert.ok(r.out, `no JSON line:\n${r.stdout}\n${r.stderr}`);
  return r.out;
}

// Local servers are loopback: the SSRF guard is turned off for these probes.
const fetchCard = (url, opts = {}) => lua({ fn: 'fetch', url, opts: { ssrf_guard: false, timeout_ms: 3000, ...opts } });
const probeA2a = (endpoint, extra = {}) => lua({
  fn: 'probe', entry: { protocol: 'a2a', endpoint }, opts: { ssrf_guard: false, timeout_ms: 3000, now: 1700000000 }, ...extra,
});

before(async () => {
  work = tempDir('agentlens-health-');
  mkdirSync(path.join(work, 'data'));
  script = path.join(work, 'probe.lua');
  writeFileSync(script, SCRIPT);
  agent = (await startMock('a2a-agent.mjs')).base;
  legacyAgent = (await startMock('a2a-agent.mjs', { args: ['--legacy'] })).base;
  // Only /.well-known/agent.json (a 0.2-era server): agent-card.json answers 404.
  const proxy = await listen(async (req, res) => {
    proxied.push({ path: req.url, headers: req.headers });
    if (req.url !== '/.well-known/agent.json') {
      res.writeHead(404, { 'Content-Type': 'application/json' });
      return res.end('{"error":"not found"}');
    }
    const up = await fetch(`${legacyAgent}${req.url}`, { headers: { Accept: 'application/json' } });
    res.writeHead(up.status, { 'Content-Type': up.headers.get('content-type') || 'application/json' });
    return res.end(Buffer.from(await up.arrayBuffer()));
  });
  legacyOnly = `http://127.0.0.1:${proxy.address().port}`;
  const gone = await listen(() => {});
  closedPort = gone.address().port;
  await new Promise((r) => gone.close(r));
});

after(() => {
  stopMocks();
  for (const s of servers) { s.closeAllConnections?.(); s.close(); }
  if (work) rmSync(work, { recursive: true, force: true });
});

describe('a2a_fetch.fetch_card against the mock agent', () => {
  it('normal: fetches and validates agent-card.json, with latency', async () => {
    await control(agent, { mode: 'normal' });
    const r = await fetchCard(agent);
    assert.equal(r.ok, true, JSON.stringify(r));
    assert.equal(r.card_name, 'mock-a2a-agent');
    assert.equal(r.valid, true);
    assert.equal(r.url, `${agent}/.well-known/agent-card.json`);
    assert.equal(r.status, 200);
    assert.match(r.content_type, /^application\/json/);
    assert.ok(r.raw_bytes > 100);
    assert.ok(typeof r.latency_ms === 'number' && r.latency_ms >= 0 && r.latency_ms < 3000, String(r.latency_ms));
    assert.ok(r.etag);
  });

  it('sends If-None-Match with a stored ETag; a 304 counts as ok', async () => {
    const first = await fetchCard(agent);
    const again = await fetchCard(agent, { etag: first.etag });
    assert.equal(again.ok, true);
    assert.equal(again.not_modified, true);
    assert.equal(again.status, 304);
  });

  it('falls back to /.well-known/agent.json when agent-card.json is 404 (legacy only)', async () => {
    const r = await fetchCard(legacyOnly);
    assert.equal(r.ok, true, JSON.stringify(r));
    assert.equal(r.url, `${legacyOnly}/.well-known/agent.json`);
    assert.equal(r.card_name, 'mock-a2a-agent');
    const seen = proxied.slice(-2);
    assert.deepEqual(seen.map((p) => p.path), ['/.well-known/agent-card.json', '/.well-known/agent.json']);
    for (const p of seen) {
      assert.equal(p.headers['a2a-version'], '1.0');
      assert.equal(p.headers.accept, 'application/json');
    }
  });

  it('an explicit card URL is fetched as is', async () => {
    const r = await fetchCard(`${legacyAgent}/.well-known/agent.json`);
    assert.equal(r.ok, true, JSON.stringify(r));
    assert.equal(r.url, `${legacyAgent}/.well-known/agent.json`);
  });

  it('garbage: invalid card', async () => {
    await control(agent, { mode: 'garbage' });
    try {
      const r = await fetchCard(agent);
      assert.equal(r.ok, false);
      assert.equal(r.reason, 'invalid card');
      assert.match(r.detail, /not valid JSON/);
    } finally {
      await control(agent, { mode: 'normal' });
    }
  });

  it('no card anywhere: not an A2A agent', async () => {
    const r = await fetchCard(`${agent}/a2a/nothing`, { card_path: '/missing.txt' });
    assert.equal(r.ok, false);
    assert.equal(r.reason, 'not an A2A agent');
    assert.equal(r.status, 404);
  });
});

describe('health probe (A2A) against the mock agent, with the lifecycle step', () => {
  it('normal → ok with latency → active', async () => {
    await control(agent, { mode: 'normal' });
    const r = await probeA2a(agent);
    assert.equal(r.ok, true, JSON.stringify(r));
    assert.equal(r.reason, undefined);
    assert.equal(r.status, 200);
    assert.equal(r.at, 1700000000);
    assert.equal(r.protocol, 'a2a');
    assert.ok(typeof r.latency_ms === 'number' && r.latency_ms >= 0 && r.latency_ms < 3000);
    assert.deepEqual(r.next, { state: 'active', failures: 0, rule: 'ok' });
  });

  it('the RPC URL as endpoint finds the card at the origin root', async () => {
    const r = await probeA2a(`${agent}/a2a`);
    assert.equal(r.ok, true, JSON.stringify(r));
    assert.equal(r.url, `${agent}/.well-known/agent-card.json`);
  });

  it('legacy only → the fallback path is probed', async () => {
    const r = await probeA2a(legacyOnly);
    assert.equal(r.ok, true, JSON.stringify(r));
    assert.equal(r.url, `${legacyOnly}/.well-known/agent.json`);
  });

  it('fail → HTTP 503, counted; offline at the threshold', async () => {
    await control(agent, { mode: 'fail' });
    try {
      const r = await probeA2a(agent, { state: 'active', failures: 0 });
      assert.equal(r.ok, false);
      assert.equal(r.reason, 'HTTP 503');
      assert.equal(r.status, 503);
      assert.deepEqual(r.next, { state: 'active', failures: 1, rule: 'below threshold' });
      const third = await probeA2a(agent, { state: 'active', failures: 2 });
      assert.deepEqual(third.next, { state: 'offline', failures: 3, rule: 'threshold reached' });
    } finally {
      await control(agent, { mode: 'normal' });
    }
  });

  it('garbage → invalid card (degraded past the threshold, not offline)', async () => {
    await control(agent, { mode: 'garbage' });
    try {
      const r = await probeA2a(agent, { state: 'active', failures: 2 });
      assert.equal(r.reason, 'invalid card');
      assert.deepEqual(r.next, { state: 'degraded', failures: 3, rule: 'partial failure' });
    } finally {
      await control(agent, { mode: 'normal' });
    }
  });

  it('auth → auth required with the resource_metadata URL, never offline', async () => {
    await control(agent, { mode: 'auth' });
    try {
      const r = await probeA2a(agent, { state: 'registered', failures: 0 });
      assert.equal(r.ok, false);
      assert.equal(r.reason, 'auth required');
      assert.equal(r.status, 401);
      assert.equal(r.resource_metadata, `${agent}/.well-known/oauth-protected-resource`);
      assert.deepEqual(r.next, { state: 'active', failures: 0, rule: 'auth required' });
      const fromOffline = await probeA2a(agent, { state: 'offline', failures: 5 });
      assert.equal(fromOffline.next.state, 'active');
    } finally {
      await control(agent, { mode: 'normal' });
    }
  });

  it('slow with a short timeout → timeout, within the deadline', async () => {
    await control(agent, { mode: 'slow', delay_ms: 3000 });
    try {
      const r = await lua({
        fn: 'probe', entry: { protocol: 'a2a', endpoint: agent },
        opts: { ssrf_guard: false, timeout_ms: 300, now: 1 }, state: 'active', failures: 0,
      });
      assert.equal(r.ok, false);
      assert.equal(r.reason, 'timeout');
      assert.ok(r.elapsed_ms < 2500, String(r.elapsed_ms));
      assert.deepEqual(r.next, { state: 'active', failures: 1, rule: 'below threshold' });
    } finally {
      await control(agent, { mode: 'normal', delay_ms: 1000 });
    }
  });

  it('slow but answering above degraded_latency → ok, degraded', async () => {
    await control(agent, { mode: 'slow', delay_ms: 1700 });
    try {
      const r = await probeA2a(agent, { state: 'active', failures: 0 });
      assert.equal(r.ok, true, JSON.stringify(r));
      assert.ok(r.latency_ms > 1500, String(r.latency_ms));
      assert.deepEqual(r.next, { state: 'degraded', failures: 0, rule: 'slow' });
    } finally {
      await control(agent, { mode: 'normal', delay_ms: 1000 });
    }
  });

  it('closed port → connection refused', async () => {
    const r = await probeA2a(`http://127.0.0.1:${closedPort}`, { state: 'degraded', failures: 2 });
    assert.equal(r.ok, false);
    assert.equal(r.reason, 'connection refused');
    assert.deepEqual(r.next, { state: 'offline', failures: 3, rule: 'threshold reached' });
  });

  it('the SSRF guard stays on by default (loopback refused)', async () => {
    const r = await lua({ fn: 'probe', entry: { protocol: 'a2a', endpoint: agent }, opts: { timeout_ms: 3000, now: 1 } });
    assert.equal(r.ok, false);
    assert.equal(r.reason, 'refused');
  });
});

describe('health probe (MCP)', () => {
  const hasClient = existsSync(path.join(ROOT, 'lua', 'agentlens', 'protocols', 'mcp_client.lua'));

  it('without an MCP client the probe is skipped and changes nothing', async () => {
    const r = await lua({
      fn: 'probe', entry: { protocol: 'mcp', endpoint: 'http://127.0.0.1:1/mcp' }, opts: { now: 1 }, state: 'active', failures: 1,
      no_mcp: true,
    });
    assert.equal(r.skipped, true);
    assert.equal(r.reason, 'probe unavailable');
    assert.deepEqual(r.next, { state: 'active', failures: 1, rule: 'skipped' });
  });

  it('probes the mock MCP server through mcp_client: ok, auth required, HTTP 503, SSRF guard on',
    { skip: !hasClient && 'mcp_client.lua does not exist yet' }, async () => {
      const mcp = (await startMock('mcp-server.mjs')).base;
      const probeMcp = (extra = {}, opts = {}) => lua({
        fn: 'probe', entry: { protocol: 'mcp', endpoint: `${mcp}/mcp` },
        opts: { ssrf_guard: false, timeout_ms: 3000, now: 1, ...opts }, ...extra,
      });
      const r = await probeMcp();
      assert.equal(r.ok, true, JSON.stringify(r));
      assert.equal(r.protocol, 'mcp');
      assert.ok(typeof r.latency_ms === 'number' && r.latency_ms >= 0);
      assert.deepEqual(r.next, { state: 'active', failures: 0, rule: 'ok' });

      await control(mcp, { mode: 'auth' });
      const auth = await probeMcp({ state: 'offline', failures: 4 });
      assert.equal(auth.reason, 'auth required', JSON.stringify(auth));
      assert.deepEqual(auth.next, { state: 'active', failures: 0, rule: 'auth required' });

      await control(mcp, { mode: 'fail' });
      const down = await probeMcp({ state: 'active', failures: 2 });
      assert.equal(down.reason, 'HTTP 503', JSON.stringify(down));
      assert.deepEqual(down.next, { state: 'offline', failures: 3, rule: 'threshold reached' });

      await control(mcp, { mode: 'normal' });
      const guarded = await probeMcp({}, { ssrf_guard: undefined });
      assert.equal(guarded.ok, false);
      assert.equal(guarded.reason, 'refused', JSON.stringify(guarded));
    });
});
