// SPDX-License-Identifier: Apache-2.0
// agentlens.protocols.mcp_client through `agentlens run`: probe and ping against the mock MCP
// server (examples/mock-agents/mcp-server.mjs: JSON and SSE replies, pagination, tool drift, the
// fail/garbage/auth/slow modes, the legacy HTTP+SSE transport (/sse and the legacy mode), the
// stateless server/discover revision), a recording proxy (the headers and messages the probe
// sends), a plain HTML server, a closed port, silent and misbehaving legacy event streams, and a
// real server built with the official MCP TypeScript SDK
// (spec/support/mcp-sdk, installed with `npm ci` when node_modules is missing).
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { control as controlMock, startMock, stopMocks } from '../support/mock_agents.mjs';
import { BIN, ROOT, tempDir } from '../support/server.mjs';

// The Lua side: arg[1] = {url, opts, ping}; prints one JSON line with the result.
const SCRIPT = `
local json = require "agentlens.json"
local client = require "agentlens.protocols.mcp_client"
local spec = json.decode(arg[1])
local fn = spec.ping and client.ping or client.probe
io.write(json.encode(fn(spec.url, spec.opts)), "\\n")
`;

const SDK_DIR = path.join(ROOT, 'spec', 'support', 'mcp-sdk');
const children = [];
const servers = [];
let work;
let script;
let luaDirEnv = {};
let mock; // the mock MCP server's port
let html;
let proxy;
let closedPort;
const proxyLog = [];
let proxyInitializeNotFound = false;

// ---- processes and servers ---------------------------------------------------------------------

// Spawns `node file` with env (the MCP SDK server); resolves with the first JSON line's port.
function startNode(file, env) {
  return new Promise((resolve, reject) => {
    const proc = spawn(process.execPath, [file], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    children.push(proc);
    let out = '';
    let err = '';
    const timer = setTimeout(() => reject(new Error(`${file} did not start:\n${out}\n${err}`)), 15000);
    proc.stderr.on('data', (d) => { err += d; });
    proc.stdout.on('data', (d) => {
      out += d;
      const line = out.split('\n').find((l) => l.includes('"port"'));
      if (line) {
        clearTimeout(timer);
        resolve(JSON.parse(line).port);
      }
    });
    proc.on('exit', (code) => { clearTimeout(timer); reject(new Error(`${file} exited ${code}:\n${err}`)); });
  });
}

function listen(handler) {
  return new Promise((resolve, reject) => {
    const srv = http.createServer(handler);
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => { servers.push(srv); resolve(srv.address().port); });
  });
}

const readBody = async (req) => { const c = []; for await (const x of req) c.push(x); return Buffer.concat(c).toString('utf8'); };

// Forwards /mcp to the mock, recording each request; optionally answers `initialize` like a
// stateless-only (2026-07-28) server: HTTP 404 + JSON-RPC -32601.
async function proxyHandler(req, res) {
  const body = req.method === 'POST' ? await readBody(req) : '';
  let msg = null;
  try { msg = JSON.parse(body); } catch { /* recorded as is */ }
  proxyLog.push({ method: req.method, headers: req.headers, msg });
  if (proxyInitializeNotFound && msg?.method === 'initialize') {
    res.writeHead(404, { 'Content-Type': 'application/json' });
    return res.end(JSON.stringify({ jsonrpc: '2.0', id: msg.id, error: { code: -32601, message: 'Method not found: initialize' } }));
  }
  const headers = {};
  for (const [k, v] of Object.entries(req.headers)) if (!['host', 'content-length', 'connection'].includes(k)) headers[k] = v;
  const r = await fetch(`http://127.0.0.1:${mock}/mcp`, { method: req.method, headers, body: req.method === 'POST' ? body : undefined });
  const out = Buffer.from(await r.arrayBuffer());
  const h = { 'Content-Type': r.headers.get('content-type') || 'application/octet-stream' };
  if (r.headers.get('mcp-session-id')) h['Mcp-Session-Id'] = r.headers.get('mcp-session-id');
  res.writeHead(r.status, h);
  return res.end(out);
}

// ---- running Lua ---------------------------------------------------------------------------------

function baseEnv() {
  const env = {};
  const pg = process.env.AGENTLENS_DB_DIALECT === 'postgres';
  for (const [k, v] of Object.entries(process.env)) {
    if (!k.startsWith('AGENTLENS_') || (pg && k.startsWith('AGENTLENS_DB_'))) env[k] = v;
  }
  return env;
}

function runLua(args) {
  return new Promise((resolve) => {
    const proc = spawn(BIN, ['run', script, ...args], {
      env: { ...baseEnv(), AGENTLENS_DATA_DIR: path.join(work, 'data'), AGENTLENS_LOG_FORMAT: 'json', ...luaDirEnv },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    proc.stdout.on('data', (d) => { stdout += d; });
    proc.stderr.on('data', (d) => { stderr += d; });
    const timer = setTimeout(() => proc.kill('SIGKILL'), 60000);
    proc.on('close', (status, signal) => {
      clearTimeout(timer);
      let out = null;
      try { out = JSON.parse(stdout.trim().split('\n').pop()); } catch { /* asserted below */ }
      resolve({ status, signal, stdout, stderr, out });
    });
  });
}

async function probe(url, opts = {}, ping = false) {
  const r = await runLua([JSON.stringify({ url, opts, ping })]);
  assert.equal(r.status, 0, `agentlens run failed (${r.status ?? r.signal}):\n${r.stderr}`);
  assert.ok(r.out, `no JSON result line:\n${r.stdout}\n${r.stderr}`);
  return r.out;
}

const mcpUrl = (p = '/mcp') => `http://127.0.0.1:${mock}${p}`;
const control = (body) => controlMock(mcpUrl(''), body);
const names = (list) => list.map((t) => t.name);

before(async () => {
  work = tempDir('agentlens-mcp-client-');
  mkdirSync(path.join(work, 'data'));
  script = path.join(work, 'probe.lua');
  writeFileSync(script, SCRIPT);
  // `run` loads the whole shipped Lua tree first; when it is mid-change elsewhere and fails to
  // load, use a minimal tree with the modules the probe needs (copied from lua/ on disk).
  const check = path.join(work, 'check.lua');
  writeFileSync(check, 'io.write("ok\\n")\n');
  const shipped = spawnSync(BIN, ['run', check], { env: { ...baseEnv(), AGENTLENS_DATA_DIR: path.join(work, 'data') }, encoding: 'utf8' });
  if (shipped.status !== 0) {
    const dir = path.join(work, 'lua', 'agentlens');
    mkdirSync(dir, { recursive: true });
    for (const sub of ['protocols', 'lib']) cpSync(path.join(ROOT, 'lua', 'agentlens', sub), path.join(dir, sub), { recursive: true });
    writeFileSync(path.join(dir, 'server.lua'), 'return { init = function() return {} end, dispatch = function() return 404 end }\n');
    writeFileSync(path.join(dir, 'startup.lua'), 'return { run = function() return true end }\n');
    luaDirEnv = { AGENTLENS_LUA_DIR: path.join(work, 'lua') };
  }
  mock = (await startMock('mcp-server.mjs', { env: { PAGE_SIZE: '2' } })).port;
  html = await listen((req, res) => {
    res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' });
    res.end('<!doctype html><html><body><h1>Welcome</h1></body></html>');
  });
  proxy = await listen((req, res) => proxyHandler(req, res).catch((e) => { res.writeHead(502); res.end(String(e)); }));
  closedPort = await listen(() => {});
  const srv = servers.pop();
  await new Promise((r) => srv.close(r));
});

after(() => {
  for (const s of servers) { s.closeAllConnections(); s.close(); }
  for (const c of children) c.kill('SIGTERM');
  stopMocks('SIGTERM');
  if (work) rmSync(work, { recursive: true, force: true });
});

// ---- Streamable HTTP against the mock ------------------------------------------------------------

describe('mcp_client.probe: Streamable HTTP (mock server)', () => {
  it('JSON replies: identity, capabilities and every page of tools, resources and prompts', async () => {
    const r = await probe(mcpUrl());
    assert.equal(r.ok, true, JSON.stringify(r));
    assert.equal(r.transport, 'streamable-http');
    assert.equal(r.protocol_version, '2025-11-25');
    assert.equal(r.server_info.name, 'mock-mcp-server');
    assert.equal(r.server_info.title, 'Mock MCP server (mock-mcp-server)');
    assert.equal(r.server_info.version, '1.0.0');
    assert.deepEqual(Object.keys(r.capabilities).sort(), ['prompts', 'resources', 'tools']);
    // page size 2: 5 tools in 3 pages, 3 resources in 2 pages
    assert.deepEqual(names(r.tools), ['echo', 'add', 'get_time', 'weather', 'delete_note']);
    assert.deepEqual(names(r.resources), ['readme', 'todo', 'status']);
    assert.deepEqual(names(r.prompts), ['summarize', 'greet']);
    assert.equal(r.capabilities_list.length, 10);
    const echo = r.capabilities_list.find((c) => c.kind === 'mcp.tool' && c.name === 'echo');
    assert.deepEqual(echo.properties.input_schema.required, ['text']);
    assert.equal(r.capabilities_list.filter((c) => c.kind === 'mcp.resource').length, 3);
    assert.equal(r.capabilities_list.filter((c) => c.kind === 'mcp.prompt').length, 2);
    assert.match(r.session_id, /^[0-9a-f-]{36}$/);
    assert.ok(r.latency_ms >= 0 && r.latency_ms < 5000);
    assert.deepEqual(r.warnings, []);
  });

  it('SSE replies (text/event-stream with a priming event) give the same listing', async () => {
    await control({ sse: true });
    try {
      const r = await probe(mcpUrl());
      assert.equal(r.ok, true, JSON.stringify(r));
      assert.equal(r.transport, 'streamable-http');
      assert.equal(r.tools.length, 5);
      assert.equal(r.resources.length, 3);
      assert.equal(r.prompts.length, 2);
    } finally {
      await control({ sse: false });
    }
    const viaQuery = await probe(mcpUrl('/mcp?sse=1'));
    assert.equal(viaQuery.ok, true);
    assert.equal(viaQuery.tools.length, 5);
  });

  it('sends the headers and messages the specification requires', async () => {
    proxyLog.length = 0;
    const r = await probe(`http://127.0.0.1:${proxy}/mcp`, { headers: { Authorization: 'Bearer t0k', Accept: 'text/html' } });
    assert.equal(r.ok, true, JSON.stringify(r));
    const posts = proxyLog.filter((e) => e.method === 'POST');
    for (const p of posts) {
      assert.equal(p.headers.accept, 'application/json, text/event-stream');
      assert.equal(p.headers['content-type'], 'application/json');
      assert.equal(p.headers.authorization, 'Bearer t0k');
      assert.equal(p.headers.origin, undefined);
      assert.equal(p.msg.jsonrpc, '2.0');
    }
    const [init, initialized, ...rest] = posts;
    assert.equal(init.msg.method, 'initialize');
    assert.equal(init.headers['mcp-session-id'], undefined);
    assert.equal(init.headers['mcp-protocol-version'], undefined);
    assert.equal(init.msg.params.protocolVersion, '2025-11-25');
    assert.deepEqual(init.msg.params.capabilities, {});
    assert.equal(init.msg.params.clientInfo.name, 'agentlens');
    assert.equal(initialized.msg.method, 'notifications/initialized');
    assert.equal('id' in initialized.msg, false);
    for (const p of [initialized, ...rest]) {
      assert.equal(p.headers['mcp-session-id'], r.session_id);
      assert.equal(p.headers['mcp-protocol-version'], '2025-11-25');
    }
    assert.deepEqual(rest.map((p) => p.msg.method),
      ['tools/list', 'tools/list', 'tools/list', 'resources/list', 'resources/list', 'prompts/list']);
    assert.equal(rest[0].msg.params?.cursor, undefined);
    assert.equal(typeof rest[1].msg.params.cursor, 'string');
    const ids = [init, ...rest].map((p) => p.msg.id);
    assert.ok(ids.every(Number.isInteger));
    assert.equal(new Set(ids).size, ids.length);
  });

  it('max_pages caps the pagination and says so', async () => {
    const r = await probe(mcpUrl(), { max_pages: 2 });
    assert.equal(r.ok, true);
    assert.deepEqual(names(r.tools), ['echo', 'add', 'get_time', 'weather']);
    assert.ok(r.warnings.some((w) => /tools\/list: stopped after 2 pages/.test(w)), JSON.stringify(r.warnings));
  });

  it('tool drift: a replaced tool list shows up in the next probe', async () => {
    await control({ tools: [{ name: 'alpha' }, { name: 'beta', description: 'B' }, { name: 'gamma' }] });
    try {
      const r = await probe(mcpUrl());
      assert.equal(r.ok, true);
      assert.deepEqual(names(r.tools), ['alpha', 'beta', 'gamma']);
      assert.deepEqual(r.capabilities_list.filter((c) => c.kind === 'mcp.tool').map((c) => c.name), ['alpha', 'beta', 'gamma']);
    } finally {
      await control({ reset: true });
    }
    assert.equal((await probe(mcpUrl())).tools.length, 5);
  });
});

describe('mcp_client.probe: failures', () => {
  it('mode fail → "HTTP 503"', async () => {
    await control({ mode: 'fail' });
    try {
      const r = await probe(mcpUrl());
      assert.equal(r.ok, false);
      assert.equal(r.reason, 'HTTP 503');
      assert.equal(r.status, 503);
    } finally {
      await control({ mode: 'normal' });
    }
  });

  it('mode garbage (invalid JSON) → "invalid response"', async () => {
    await control({ mode: 'garbage' });
    try {
      const r = await probe(mcpUrl());
      assert.equal(r.ok, false);
      assert.equal(r.reason, 'invalid response');
      assert.equal(r.status, 200);
    } finally {
      await control({ mode: 'normal' });
    }
  });

  it('mode auth → "auth required" with the resource metadata URL from WWW-Authenticate', async () => {
    await control({ mode: 'auth' });
    try {
      const r = await probe(mcpUrl());
      assert.equal(r.ok, false);
      assert.equal(r.reason, 'auth required');
      assert.equal(r.status, 401);
      assert.equal(r.resource_metadata, `http://127.0.0.1:${mock}/.well-known/oauth-protected-resource/mcp`);
      const p = await probe(mcpUrl(), {}, true);
      assert.equal(p.ok, false);
      assert.equal(p.reason, 'auth required');
    } finally {
      await control({ mode: 'normal' });
    }
  });

  it('mode slow beyond timeout_ms → "timeout", within the deadline', async () => {
    await control({ mode: 'slow', delay_ms: 3000 });
    try {
      const t0 = Date.now();
      const r = await probe(mcpUrl(), { timeout_ms: 700 });
      assert.equal(r.ok, false);
      assert.equal(r.reason, 'timeout');
      assert.ok(r.latency_ms < 2000, String(r.latency_ms));
      assert.ok(Date.now() - t0 < 2900);
    } finally {
      await control({ mode: 'normal' });
    }
  });

  it('a plain HTML web server → "not an MCP server"', async () => {
    const r = await probe(`http://127.0.0.1:${html}/`);
    assert.equal(r.ok, false);
    assert.equal(r.reason, 'not an MCP server');
    assert.equal(r.status, 200);
  });

  it('a path the mock does not serve (404 on POST and GET) → "not an MCP server"', async () => {
    const r = await probe(mcpUrl('/nothing'));
    assert.equal(r.ok, false);
    assert.equal(r.reason, 'not an MCP server');
    assert.equal(r.status, 404);
  });

  it('a closed port → "connection refused"', async () => {
    const r = await probe(`http://127.0.0.1:${closedPort}/mcp`);
    assert.equal(r.ok, false);
    assert.equal(r.reason, 'connection refused');
    const p = await probe(`http://127.0.0.1:${closedPort}/mcp`, {}, true);
    assert.equal(p.ok, false);
    assert.equal(p.reason, 'connection refused');
  });

  it('the SSRF guard applies when the caller asks for it', async () => {
    const r = await probe(mcpUrl(), { ssrf_guard: true });
    assert.equal(r.ok, false);
    assert.equal(r.reason, 'refused');
  });

  it('bad input never raises', async () => {
    assert.equal((await probe('ftp://x/')).reason, 'bad url');
    const r = await probe(mcpUrl(), { headers: { 'bad header': 'x', Good: 'a\r\nb' }, timeout_ms: 'soon', max_pages: -3 });
    assert.equal(r.ok, true, JSON.stringify(r));
  });
});

describe('mcp_client.probe: other transports and eras', () => {
  it('the legacy HTTP+SSE transport (2024-11-05): GET stream, endpoint event, POSTs, paginated lists', async () => {
    const r = await probe(mcpUrl('/sse'));
    assert.equal(r.ok, true, JSON.stringify(r));
    assert.equal(r.transport, 'sse');
    assert.equal(r.protocol_version, '2024-11-05');
    assert.equal(r.server_info.name, 'mock-mcp-server');
    assert.match(r.message_url, new RegExp(`^http://127\\.0\\.0\\.1:${mock}/messages\\?sessionId=`));
    // PAGE_SIZE=2: tools come in 3 pages, resources in 2
    assert.deepEqual(names(r.tools), ['echo', 'add', 'get_time', 'weather', 'delete_note']);
    assert.equal(r.resources.length, 3);
    assert.equal(r.prompts.length, 2);
    assert.ok(r.capabilities_list.some((c) => c.kind === 'mcp.tool' && c.name === 'echo'));
    const p = await probe(mcpUrl('/sse'), {}, true);
    assert.deepEqual([p.ok, p.transport, p.protocol_version], [true, 'sse', '2024-11-05'], JSON.stringify(p));
  });

  it('a legacy-only server on the MCP URL itself (mock legacy mode): POST 405, then the event stream', async () => {
    await control({ legacy: true });
    try {
      const r = await probe(mcpUrl());
      assert.equal(r.ok, true, JSON.stringify(r));
      assert.equal(r.transport, 'sse');
      assert.equal(r.tools.length, 5);
      const p = await probe(mcpUrl(), {}, true);
      assert.equal(p.ok, true, JSON.stringify(p));
      assert.equal(p.transport, 'sse');
    } finally {
      await control({ legacy: false });
    }
  });

  it('legacy HTTP+SSE failures are bounded and named', async () => {
    // GET opens an event stream; what follows depends on the path
    const port = await listen(async (req, res) => {
      const u = new URL(req.url, 'http://x');
      if (req.method === 'POST' && u.pathname.startsWith('/msg')) {
        await readBody(req);
        if (u.pathname === '/msg500') { res.writeHead(500); res.end('boom'); return; }
        res.writeHead(202); res.end(); // accepted, never answered on the stream
        return;
      }
      if (req.method !== 'GET') { res.writeHead(405, { Allow: 'GET' }); res.end(); return; }
      res.writeHead(200, { 'Content-Type': 'text/event-stream' });
      if (u.pathname === '/silent') return; // never sends anything
      const target = { '/foreign': 'http://example.com/msg', '/fail': '/msg500', '/mute': '/msg' }[u.pathname];
      res.write(`event: endpoint\ndata: ${target}\n\n`);
    });
    const base = `http://127.0.0.1:${port}`;
    let t0 = Date.now();
    const silent = await probe(`${base}/silent`, { timeout_ms: 800 });
    assert.equal(silent.ok, false);
    assert.equal(silent.reason, 'not an MCP server', JSON.stringify(silent));
    assert.ok(Date.now() - t0 < 4000, `silent stream took ${Date.now() - t0} ms`);
    const foreign = await probe(`${base}/foreign`, { timeout_ms: 2000 });
    assert.equal(foreign.reason, 'invalid response', JSON.stringify(foreign));
    assert.match(foreign.detail, /another origin/);
    assert.equal(foreign.transport, 'sse');
    const fail = await probe(`${base}/fail`, { timeout_ms: 2000 });
    assert.equal(fail.reason, 'HTTP 500', JSON.stringify(fail));
    t0 = Date.now();
    const mute = await probe(`${base}/mute`, { timeout_ms: 800 });
    assert.equal(mute.reason, 'timeout', JSON.stringify(mute));
    assert.equal(mute.transport, 'sse');
    assert.ok(Date.now() - t0 < 4000, `mute server took ${Date.now() - t0} ms`);
  });

  it('modern = true: server/discover (2026-07-28, stateless) and paginated lists with _meta', async () => {
    const r = await probe(mcpUrl(), { modern: true });
    assert.equal(r.ok, true, JSON.stringify(r));
    assert.equal(r.transport, 'stateless');
    assert.equal(r.protocol_version, '2026-07-28');
    assert.equal(r.server_info.name, 'mock-mcp-server');
    assert.equal(r.session_id, undefined);
    assert.equal(r.ttl_ms, 60000);
    assert.ok(r.supported_versions.includes('2026-07-28'));
    assert.equal(r.tools.length, 5);
    assert.equal(r.resources.length, 3);
  });

  it('initialize answered 404 + -32601 → server/discover (stateless-only server)', async () => {
    proxyLog.length = 0;
    proxyInitializeNotFound = true;
    try {
      const r = await probe(`http://127.0.0.1:${proxy}/mcp`);
      assert.equal(r.ok, true, JSON.stringify(r));
      assert.equal(r.transport, 'stateless');
      assert.equal(r.tools.length, 5);
      const discover = proxyLog.find((e) => e.msg?.method === 'server/discover');
      assert.equal(discover.headers['mcp-protocol-version'], '2026-07-28');
      assert.equal(discover.headers['mcp-method'], 'server/discover');
      assert.equal(discover.msg.params._meta['io.modelcontextprotocol/protocolVersion'], '2026-07-28');
      const lists = proxyLog.filter((e) => e.msg?.method === 'tools/list');
      assert.equal(lists.length, 3);
      for (const l of lists) assert.equal(l.headers['mcp-method'], 'tools/list');
      const p = await probe(`http://127.0.0.1:${proxy}/mcp`, {}, true);
      assert.equal(p.ok, true);
      assert.equal(p.transport, 'stateless');
    } finally {
      proxyInitializeNotFound = false;
    }
  });
});

describe('mcp_client.ping', () => {
  it('initialize + ping in the session', async () => {
    const r = await probe(mcpUrl(), {}, true);
    assert.equal(r.ok, true, JSON.stringify(r));
    assert.equal(r.transport, 'streamable-http');
    assert.ok(r.latency_ms >= 0);
  });

  it('reports the failure reason', async () => {
    await control({ mode: 'fail' });
    try {
      const r = await probe(mcpUrl(), {}, true);
      assert.equal(r.ok, false);
      assert.equal(r.reason, 'HTTP 503');
    } finally {
      await control({ mode: 'normal' });
    }
  });
});

// ---- a real server from the ecosystem --------------------------------------------------------------

describe('mcp_client.probe: the MCP TypeScript SDK server (McpServer + StreamableHTTPServerTransport)', () => {
  let sdk = null;
  let skip = '';
  before(async () => {
    if (!existsSync(path.join(SDK_DIR, 'node_modules', '@modelcontextprotocol', 'sdk'))) {
      const npm = spawnSync('npm', ['ci', '--prefix', SDK_DIR, '--no-audit', '--no-fund'], { encoding: 'utf8', timeout: 240000 });
      if (npm.status !== 0) skip = `npm ci failed (offline?): ${(npm.stderr || npm.error?.message || '').split('\n').slice(-3).join(' ')}`;
    }
    if (!skip) sdk = await startNode(path.join(SDK_DIR, 'server.mjs'), { PORT: '0', HOST: '127.0.0.1' });
  });

  it('discovers identity, both tools, the resource and the prompt over Streamable HTTP (SSE replies)', async (t) => {
    if (skip) return t.skip(skip);
    const r = await probe(`http://127.0.0.1:${sdk}/mcp`);
    assert.equal(r.ok, true, JSON.stringify(r));
    assert.equal(r.transport, 'streamable-http');
    assert.equal(r.protocol_version, '2025-11-25');
    assert.equal(r.server_info.name, 'sdk-example-server');
    assert.equal(r.server_info.version, '0.1.0');
    assert.match(r.session_id, /^[0-9a-f-]{36}$/);
    assert.deepEqual(names(r.tools).sort(), ['add', 'echo']);
    const add = r.capabilities_list.find((c) => c.kind === 'mcp.tool' && c.name === 'add');
    assert.deepEqual(Object.keys(add.properties.input_schema.properties).sort(), ['a', 'b']);
    assert.deepEqual(names(r.resources), ['readme']);
    assert.deepEqual(names(r.prompts), ['review']);
    assert.deepEqual(r.warnings, []);
    return undefined;
  });

  it('ping: initialize + ping in an SDK session', async (t) => {
    if (skip) return t.skip(skip);
    const r = await probe(`http://127.0.0.1:${sdk}/mcp`, {}, true);
    assert.equal(r.ok, true, JSON.stringify(r));
    return undefined;
  });
});
