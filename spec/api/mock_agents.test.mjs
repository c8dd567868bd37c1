// SPDX-License-Identifier: Apache-2.0
// The mock agents of the demo (examples/mock-agents/): the A2A agent's card passes AgentLens's own
// validator, its JSON-RPC endpoint and modes behave as protocols.md says; the MCP server speaks
// Streamable HTTP (handshake, sessions, pagination, JSON and SSE replies), the stateless
// revision and the legacy HTTP+SSE transport, and /_control switches modes and simulates drift.
// Each mock runs as a child process on a port of its own choosing (PORT=0).
import assert from 'node:assert/strict';
import { rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { controlReply as controlMock, startMock, stopMocks } from '../support/mock_agents.mjs';
import { runCli, tempDir } from '../support/server.mjs';

const dirs = [];
after(() => {
  stopMocks();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

// Runs a protocol validator of AgentLens on a document: {valid, errors, warnings, ...}.
function agentlensValidate(module, doc) {
  const dir = tempDir('agentlens-mocks-');
  dirs.push(dir);
  const docFile = path.join(dir, 'doc.json');
  const script = path.join(dir, 'validate.lua');
  writeFileSync(docFile, JSON.stringify(doc));
  writeFileSync(script, [
    'local json = require("agentlens.json")',
    'local f = assert(io.open(arg[1], "rb")); local text = f:read("a"); f:close()',
    `print(json.encode(require("agentlens.protocols.${module}").validate(json.decode(text))))`,
    '',
  ].join('\n'));
  const r = runCli(['run', script, docFile]);
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout);
}

// ---- A2A --------------------------------------------------------------------------------------

describe('mock A2A agent', () => {
  let a2a;
  before(async () => { a2a = await startMock('a2a-agent.mjs', { env: { NAME: 'spec-agent' } }); });

  const rpc = (body, headers = { 'A2A-Version': '1.0' }, query = '') => fetch(`${a2a.base}/a2a${query}`, {
    method: 'POST', headers: { 'Content-Type': 'application/json', ...headers }, body: typeof body === 'string' ? body : JSON.stringify(body),
  });

  it('serves an A2A 1.0 card that AgentLens validates without errors or warnings', async () => {
    const r = await fetch(`${a2a.base}/.well-known/agent-card.json`);
    assert.equal(r.status, 200);
    assert.match(r.headers.get('content-type'), /^application\/json/);
    assert.match(r.headers.get('cache-control'), /max-age=\d+/);
    const card = await r.json();
    assert.equal(card.name, 'spec-agent');
    assert.deepEqual(card.supportedInterfaces, [{ url: `${a2a.base}/a2a`, protocolBinding: 'JSONRPC', protocolVersion: '1.0' }]);
    assert.equal(card.securitySchemes.bearer.httpAuthSecurityScheme.scheme, 'Bearer');
    assert.ok(card.skills.length >= 2);
    const result = agentlensValidate('a2a', card);
    assert.equal(result.valid, true, JSON.stringify(result.errors));
    assert.deepEqual(result.errors, []);
    assert.deepEqual(result.warnings, []);
    assert.equal(result.spec_version, '1.0');
    assert.equal(result.preview.endpoint, `${a2a.base}/a2a`);
    assert.deepEqual(result.preview.security_schemes, ['bearer']);

    const again = await fetch(`${a2a.base}/.well-known/agent-card.json`, { headers: { 'If-None-Match': r.headers.get('etag') } });
    assert.equal(again.status, 304);
  });

  it('serves the legacy agent.json only with --legacy (or legacy via /_control)', async () => {
    assert.equal((await fetch(`${a2a.base}/.well-known/agent.json`)).status, 404);
    assert.equal((await controlMock(a2a.base, { legacy: true })).status, 200);
    assert.equal((await fetch(`${a2a.base}/.well-known/agent.json`)).status, 200);
    await controlMock(a2a.base, { legacy: false });
    assert.equal((await fetch(`${a2a.base}/.well-known/agent.json`)).status, 404);

    const flagged = await startMock('a2a-agent.mjs', { args: ['--legacy', '--name', 'flag-agent', '--public-url', 'https://agents.example.com/x/'] });
    const legacy = await (await fetch(`${flagged.base}/.well-known/agent.json`)).json();
    assert.equal(legacy.name, 'flag-agent');
    assert.equal(legacy.supportedInterfaces[0].url, 'https://agents.example.com/x/a2a');
    flagged.proc.kill();
  });

  it('answers JSON-RPC and requires A2A-Version 1.0 (missing means 0.3 → -32009)', async () => {
    const getTask = { jsonrpc: '2.0', id: 'g1', method: 'GetTask', params: { id: 'no-such-task' } };
    const missing = await (await rpc(getTask, {})).json();
    assert.equal(missing.id, 'g1');
    assert.equal(missing.error.code, -32009);
    assert.equal(missing.error.data[0].reason, 'VERSION_NOT_SUPPORTED');
    assert.equal((await (await rpc(getTask, { 'A2A-Version': '0.3' })).json()).error.code, -32009);

    const found = await (await rpc(getTask)).json();
    assert.equal(found.error.code, -32001);
    assert.deepEqual(found.error.data[0], { '@type': 'type.googleapis.com/google.rpc.ErrorInfo', reason: 'TASK_NOT_FOUND', domain: 'a2a-protocol.org' });
    assert.equal((await (await rpc(getTask, {}, '?A2A-Version=1.0')).json()).error.code, -32001);

    const sent = await (await rpc({ jsonrpc: '2.0', id: 2, method: 'SendMessage',
      params: { message: { messageId: 'm1', role: 'ROLE_USER', parts: [{ text: 'hi' }] } } })).json();
    assert.equal(sent.result.message.parts[0].text, 'echo: hi');
    assert.deepEqual((await (await rpc({ jsonrpc: '2.0', id: 3, method: 'ListTasks' })).json()).result.tasks, []);
    assert.equal((await (await rpc({ jsonrpc: '2.0', id: 4, method: 'tasks/get', params: { id: 'x' } })).json()).error.code, -32601);
    assert.equal((await (await rpc({ jsonrpc: '2.0', id: 5, method: 'GetExtendedAgentCard' })).json()).error.code, -32004);
    assert.equal((await (await rpc('{oops')).json()).error.code, -32700);
    assert.equal((await (await rpc({ id: 6, method: 'GetTask' })).json()).error.code, -32600);
    assert.equal((await fetch(`${a2a.base}/a2a`)).status, 405);
  });

  it('switches modes at run time via /_control', async () => {
    const card = `${a2a.base}/.well-known/agent-card.json`;
    assert.equal((await controlMock(a2a.base, { mode: 'fail' })).body.mode, 'fail');
    assert.equal((await fetch(card)).status, 503);
    assert.equal((await rpc({ jsonrpc: '2.0', id: 1, method: 'ListTasks' })).status, 503);

    await controlMock(a2a.base, { mode: 'garbage' });
    const g = await fetch(card);
    assert.equal(g.status, 200);
    await assert.rejects(g.json(), SyntaxError);

    await controlMock(a2a.base, { mode: 'auth' });
    const denied = await fetch(card);
    assert.equal(denied.status, 401);
    const m = /^Bearer resource_metadata="([^"]+)"$/.exec(denied.headers.get('www-authenticate'));
    assert.ok(m, denied.headers.get('www-authenticate'));
    const prm = await (await fetch(m[1])).json();
    assert.equal(prm.resource, `${a2a.base}/a2a`);

    await controlMock(a2a.base, { mode: 'slow', delay_ms: 250 });
    const t0 = Date.now();
    assert.equal((await fetch(card)).status, 200);
    assert.ok(Date.now() - t0 >= 240, `slow answered after ${Date.now() - t0} ms`);

    assert.equal((await controlMock(a2a.base, { mode: 'sideways' })).status, 400);
    assert.equal((await controlMock(a2a.base, { delay_ms: -1 })).status, 400);
    const back = await controlMock(a2a.base, { mode: 'normal' });
    assert.equal(back.body.mode, 'normal');
    assert.equal((await fetch(card)).status, 200);
  });

  it('takes its start-up mode from MODE and rejects an unknown one', async () => {
    const failing = await startMock('a2a-agent.mjs', { env: { MODE: 'fail' } });
    assert.equal((await fetch(`${failing.base}/.well-known/agent-card.json`)).status, 503);
    assert.equal((await fetch(`${failing.base}/healthz`)).status, 200);
    failing.proc.kill();
    await assert.rejects(startMock('a2a-agent.mjs', { env: { MODE: 'bogus' } }), /exited 2: .*MODE must be one of/);
  });
});

// ---- MCP --------------------------------------------------------------------------------------

const ACCEPT = 'application/json, text/event-stream';

// Parses an SSE body (WHATWG): events split on blank lines, data lines joined with \n.
function parseSse(text) {
  const events = [];
  for (const block of text.split(/\r?\n\r?\n/)) {
    const ev = { event: 'message', data: [], id: undefined };
    let any = false;
    for (const line of block.split(/\r?\n/)) {
      if (!line || line.startsWith(':')) continue;
      const i = line.indexOf(':');
      const field = i < 0 ? line : line.slice(0, i);
      let value = i < 0 ? '' : line.slice(i + 1);
      if (value.startsWith(' ')) value = value.slice(1);
      any = true;
      if (field === 'data') ev.data.push(value);
      else if (field === 'event') ev.event = value;
      else if (field === 'id') ev.id = value;
    }
    if (any) events.push({ ...ev, data: ev.data.join('\n') });
  }
  return events;
}

// One MCP POST: {status, headers, body (JSON-RPC message or null), sse (bool)}.
async function mcpPost(base, msg, { session, version, headers = {}, query = '' } = {}) {
  const h = { 'Content-Type': 'application/json', Accept: ACCEPT, ...headers };
  if (session) h['Mcp-Session-Id'] = session;
  if (version) h['MCP-Protocol-Version'] = version;
  const r = await fetch(`${base}/mcp${query}`, { method: 'POST', headers: h, body: JSON.stringify(msg) });
  const text = await r.text();
  const ct = r.headers.get('content-type') || '';
  let body = null;
  if (ct.startsWith('text/event-stream')) {
    const found = parseSse(text).filter((e) => e.data).map((e) => JSON.parse(e.data))
      .find((m) => m.id === msg.id && ('result' in m || 'error' in m));
    body = found || null;
  } else if (text) {
    body = JSON.parse(text);
  }
  return { status: r.status, headers: r.headers, body, text, sse: ct.startsWith('text/event-stream') };
}

const initMsg = (version, id = 1) => ({ jsonrpc: '2.0', id, method: 'initialize',
  params: { protocolVersion: version, capabilities: {}, clientInfo: { name: 'spec', version: '0.0.1' } } });

async function handshake(base, version = '2025-06-18', query = '') {
  const init = await mcpPost(base, initMsg(version), { query });
  assert.equal(init.status, 200, init.text);
  const session = init.headers.get('mcp-session-id');
  assert.match(session, /^[\x21-\x7e]+$/);
  const note = await mcpPost(base, { jsonrpc: '2.0', method: 'notifications/initialized' }, { session, version: init.body.result.protocolVersion });
  assert.equal(note.status, 202);
  assert.equal(note.text, '');
  return { session, version: init.body.result.protocolVersion, init };
}

async function listAll(base, method, key, s, query = '') {
  const items = [];
  const cursors = [];
  let cursor;
  for (let pageNo = 0; pageNo < 20; pageNo++) {
    const msg = { jsonrpc: '2.0', id: `${method}-${pageNo}`, method, params: cursor ? { cursor } : {} };
    const r = await mcpPost(base, msg, { session: s.session, version: s.version, query });
    assert.equal(r.status, 200, r.text);
    assert.ok(r.body.result, JSON.stringify(r.body));
    items.push(...r.body.result[key]);
    cursor = r.body.result.nextCursor;
    if (!cursor) return { items, pages: pageNo + 1 };
    cursors.push(cursor);
  }
  throw new Error(`${method}: no end of pagination`);
}

describe('mock MCP server', () => {
  let mcp;
  before(async () => { mcp = await startMock('mcp-server.mjs', { env: { NAME: 'spec-mcp' } }); });

  it('does the full handshake and lists tools over several pages', async () => {
    const s = await handshake(mcp.base, '2025-06-18');
    const { result } = s.init.body;
    assert.equal(result.protocolVersion, '2025-06-18');
    assert.equal(s.init.headers.get('content-type'), 'application/json');
    assert.deepEqual(Object.keys(result.capabilities).sort(), ['prompts', 'resources', 'tools']);
    assert.equal(result.serverInfo.name, 'spec-mcp');
    assert.equal(typeof result.serverInfo.title, 'string');
    assert.equal(result.serverInfo.version, '1.0.0');

    const tools = await listAll(mcp.base, 'tools/list', 'tools', s);
    assert.equal(tools.pages, 3);
    assert.deepEqual(tools.items.map((t) => t.name), ['echo', 'add', 'get_time', 'weather', 'delete_note']);
    for (const t of tools.items) assert.equal(t.inputSchema.type, 'object');
    assert.equal((await listAll(mcp.base, 'resources/list', 'resources', s)).items.length, 3);
    assert.equal((await listAll(mcp.base, 'prompts/list', 'prompts', s)).items.length, 2);

    const ping = await mcpPost(mcp.base, { jsonrpc: '2.0', id: 'p', method: 'ping' }, s);
    assert.deepEqual(ping.body, { jsonrpc: '2.0', id: 'p', result: {} });
    const call = await mcpPost(mcp.base, { jsonrpc: '2.0', id: 'c', method: 'tools/call', params: { name: 'add', arguments: { a: 2, b: 3 } } }, s);
    assert.equal(call.body.result.content[0].text, '5');
    const badCursor = await mcpPost(mcp.base, { jsonrpc: '2.0', id: 'b', method: 'tools/list', params: { cursor: 'nope' } }, s);
    assert.equal(badCursor.body.error.code, -32602);
    const unknown = await mcpPost(mcp.base, { jsonrpc: '2.0', id: 'u', method: 'nope/nothing' }, s);
    assert.equal(unknown.body.error.code, -32601);

    const del = await fetch(`${mcp.base}/mcp`, { method: 'DELETE', headers: { 'Mcp-Session-Id': s.session } });
    assert.equal(del.status, 200);
    const gone = await mcpPost(mcp.base, { jsonrpc: '2.0', id: 'x', method: 'ping' }, s);
    assert.equal(gone.status, 404);
  });

  it('negotiates the protocol version', async () => {
    for (const v of ['2025-03-26', '2025-06-18', '2025-11-25']) {
      const r = await mcpPost(mcp.base, initMsg(v));
      assert.equal(r.body.result.protocolVersion, v);
    }
    const old = await mcpPost(mcp.base, initMsg('2025-03-26'));
    assert.equal(old.body.result.serverInfo.title, undefined, 'no title before 2025-06-18');
    const future = await mcpPost(mcp.base, initMsg('2099-01-01'));
    assert.equal(future.body.result.protocolVersion, '2025-11-25');
    const bad = await mcpPost(mcp.base, { jsonrpc: '2.0', id: 1, method: 'initialize', params: {} });
    assert.equal(bad.body.error.code, -32602);
  });

  it('rejects requests without a session, with an unknown session or a bad version header', async () => {
    const list = { jsonrpc: '2.0', id: 7, method: 'tools/list' };
    const missing = await mcpPost(mcp.base, list);
    assert.equal(missing.status, 400);
    assert.equal(missing.body.error.code, -32600);
    assert.equal((await mcpPost(mcp.base, list, { session: 'no-such-session' })).status, 404);
    const s = await handshake(mcp.base);
    assert.equal((await mcpPost(mcp.base, list, { session: s.session, version: '1999-01-01' })).status, 400);
    assert.equal((await mcpPost(mcp.base, list, { session: s.session, headers: { Accept: 'application/json' } })).status, 406);
    assert.equal((await mcpPost(mcp.base, list, { session: s.session, headers: { 'Content-Type': 'text/plain' } })).status, 415);
    assert.equal((await mcpPost(mcp.base, list, { session: s.session, headers: { Origin: 'https://evil.example' } })).status, 403);
    assert.equal((await fetch(`${mcp.base}/mcp`, { headers: { Accept: 'text/event-stream' } })).status, 405);
    assert.equal((await fetch(`${mcp.base}/mcp`, { method: 'DELETE' })).status, 400);
  });

  it('replies as SSE with ?sse=1, with SSE=1 and after /_control {sse: true}', async () => {
    const s = await handshake(mcp.base, '2025-11-25', '?sse=1');
    assert.equal(s.init.sse, true);
    assert.equal(s.init.body.result.protocolVersion, '2025-11-25');
    const events = parseSse(s.init.text);
    assert.equal(events[0].data, '', 'priming event first (2025-11-25)');
    assert.ok(events[0].id);
    const tools = await listAll(mcp.base, 'tools/list', 'tools', s, '?sse=1');
    assert.equal(tools.items.length, 5);

    await controlMock(mcp.base, { sse: true });
    const viaControl = await mcpPost(mcp.base, { jsonrpc: '2.0', id: 'p', method: 'ping' }, s);
    assert.equal(viaControl.sse, true);
    assert.deepEqual(viaControl.body.result, {});
    await controlMock(mcp.base, { sse: false });
    assert.equal((await mcpPost(mcp.base, { jsonrpc: '2.0', id: 'p', method: 'ping' }, s)).sse, false);

    const sseServer = await startMock('mcp-server.mjs', { env: { SSE: '1', PAGE_SIZE: '10' } });
    const s2 = await handshake(sseServer.base, '2025-03-26');
    assert.equal(s2.init.sse, true);
    assert.equal(parseSse(s2.init.text).length, 1, 'no priming event before 2025-11-25');
    assert.equal((await listAll(sseServer.base, 'tools/list', 'tools', s2)).pages, 1);
    sseServer.proc.kill();
  });

  it('simulates tool drift via /_control', async () => {
    const s = await handshake(mcp.base);
    const drift = await controlMock(mcp.base, { tools: [{ name: 'echo', description: 'changed' }, { name: 'brand_new' }, { name: 'third' }] });
    assert.equal(drift.status, 200);
    assert.deepEqual(drift.body.tools, ['echo', 'brand_new', 'third']);
    const after1 = await listAll(mcp.base, 'tools/list', 'tools', s);
    assert.equal(after1.pages, 2);
    assert.deepEqual(after1.items.map((t) => [t.name, t.description, t.inputSchema.type]),
      [['echo', 'changed', 'object'], ['brand_new', undefined, 'object'], ['third', undefined, 'object']]);
    assert.equal((await controlMock(mcp.base, { tools: [{ description: 'nameless' }] })).status, 400);
    assert.equal((await controlMock(mcp.base, { tools: 'echo' })).status, 400);
    await controlMock(mcp.base, { reset: true });
    assert.equal((await listAll(mcp.base, 'tools/list', 'tools', s)).items.length, 5);
  });

  it('switches modes at run time via /_control', async () => {
    await controlMock(mcp.base, { mode: 'fail' });
    assert.equal((await mcpPost(mcp.base, initMsg('2025-06-18'))).status, 503);
    await controlMock(mcp.base, { mode: 'auth' });
    const denied = await mcpPost(mcp.base, initMsg('2025-06-18'));
    assert.equal(denied.status, 401);
    const m = /^Bearer resource_metadata="([^"]+)"$/.exec(denied.headers.get('www-authenticate'));
    assert.ok(m);
    assert.equal(new URL(m[1]).pathname, '/.well-known/oauth-protected-resource/mcp');
    assert.equal((await (await fetch(m[1])).json()).resource, `${mcp.base}/mcp`);
    await controlMock(mcp.base, { mode: 'garbage' });
    await assert.rejects(mcpPost(mcp.base, initMsg('2025-06-18')), SyntaxError);
    await controlMock(mcp.base, { mode: 'slow', delay_ms: 200 });
    const t0 = Date.now();
    assert.equal((await mcpPost(mcp.base, initMsg('2025-06-18'))).status, 200);
    assert.ok(Date.now() - t0 >= 190);
    await controlMock(mcp.base, { mode: 'normal' });
    assert.equal((await mcpPost(mcp.base, initMsg('2025-06-18'))).status, 200);
  });

  it('answers the stateless revision (2026-07-28) with server/discover', async () => {
    const meta = { 'io.modelcontextprotocol/protocolVersion': '2026-07-28', 'io.modelcontextprotocol/clientCapabilities': {} };
    const post = (method, params = {}, headers = {}) => mcpPost(mcp.base, { jsonrpc: '2.0', id: method, method, params: { _meta: meta, ...params } },
      { version: '2026-07-28', headers: { 'Mcp-Method': method, ...headers } });
    const d = await post('server/discover');
    assert.equal(d.status, 200);
    assert.equal(d.headers.get('mcp-session-id'), null);
    assert.equal(d.body.result.resultType, 'complete');
    assert.ok(d.body.result.supportedVersions.includes('2026-07-28'));
    assert.equal(d.body.result._meta['io.modelcontextprotocol/serverInfo'].name, 'spec-mcp');
    const tools = await post('tools/list');
    assert.equal(tools.body.result.tools.length, 2);
    assert.equal(typeof tools.body.result.ttlMs, 'number');
    assert.equal(tools.body.result.cacheScope, 'public');
    const mismatch = await post('tools/list', {}, { 'Mcp-Method': 'prompts/list' });
    assert.equal(mismatch.status, 400);
    assert.equal(mismatch.body.error.code, -32020);
    const ping = await post('ping');
    assert.equal(ping.status, 404);
    assert.equal(ping.body.error.code, -32601);
  });

  it('speaks the legacy HTTP+SSE transport at /sse + /messages', async () => {
    const ac = new AbortController();
    const r = await fetch(`${mcp.base}/sse`, { headers: { Accept: 'text/event-stream' }, signal: ac.signal });
    assert.equal(r.status, 200);
    const reader = r.body.getReader();
    const dec = new TextDecoder();
    let buf = '';
    const nextEvent = async () => {
      for (;;) {
        const i = buf.indexOf('\n\n');
        if (i >= 0) {
          const ev = parseSse(buf.slice(0, i + 2))[0];
          buf = buf.slice(i + 2);
          return ev;
        }
        const { value, done } = await reader.read();
        if (done) throw new Error('stream ended');
        buf += dec.decode(value, { stream: true });
      }
    };
    const endpoint = await nextEvent();
    assert.equal(endpoint.event, 'endpoint');
    const postUrl = new URL(endpoint.data, `${mcp.base}/sse`).href;
    const ack = await fetch(postUrl, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(initMsg('2024-11-05', 9)) });
    assert.equal(ack.status, 202);
    const reply = await nextEvent();
    assert.equal(reply.event, 'message');
    const msg = JSON.parse(reply.data);
    assert.equal(msg.id, 9);
    assert.equal(msg.result.protocolVersion, '2024-11-05');
    ac.abort();
  });

  it('serves a server.json that AgentLens validates', async () => {
    const doc = await (await fetch(`${mcp.base}/.well-known/mcp/server.json`)).json();
    const result = agentlensValidate('mcp', doc);
    assert.equal(result.valid, true, JSON.stringify(result.errors));
    assert.deepEqual(result.errors, []);
    assert.equal(result.preview.endpoint, `${mcp.base}/mcp`);
    assert.equal(result.preview.transport, 'streamable-http');
  });
});
