// SPDX-License-Identifier: Apache-2.0
// Tool drift through the real binary: the health sweep lists the tools of an MCP entry (the mock
// MCP server, examples/mock-agents/mcp-server.mjs), the first listing is the baseline, a change
// of tools made through the mock's /_control is recorded at the next sweep and shown by
// GET /api/v1/catalog/{id}/drift (added / removed / changed with hashes and fields), once; a
// legacy HTTP+SSE (2024-11-05) server is listed by the sweep over its event stream; discovery
// sync of a static MCP source records its own drift (source "discovery") through the same hook.
// ctest runs this file once on SQLite and once on PostgreSQL.
import assert from 'node:assert/strict';
import { rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ADMIN_PASSWORD, ADMIN_USER, api, loginOk, show, startAuthServer } from '../support/auth.mjs';
import { control, startMock, stopMocks } from '../support/mock_agents.mjs';
import { DIALECT, eventually, sleep, tempDir } from '../support/server.mjs';

// The base URL of a fresh mock MCP server.
const startMcp = async (env = {}) => (await startMock('mcp-server.mjs', { env })).base;

after(() => stopMocks());

describe(`tool drift on ${DIALECT}`, () => {
  let server;
  let token;
  let mock;
  const call = (method, p, body) => api(server, method, p, { token, body });

  before(async () => {
    mock = await startMcp();
    server = await startAuthServer({ env: { AGENTLENS_HEALTH_CHECK_INTERVAL: '5s' } });
    token = await loginOk(server, ADMIN_USER, ADMIN_PASSWORD);
  });
  after(async () => { if (server) await server.stop(); });

  it('records a change of tools seen by the sweep, once, and shows it on the entry', async () => {
    const created = await call('POST', '/api/v1/catalog', { protocol: 'mcp', display_name: 'Drifting MCP', endpoint: `${mock}/mcp` });
    assert.equal(created.status, 201, show(created));
    const { id } = created.body;

    // the first listing: a baseline (the entry was registered without tools), not drift
    await eventually(async () => {
      const d = await call('GET', `/api/v1/catalog/${id}`);
      return d.body.health.lastProbedAt && d.body.status === 'active';
    }, { timeoutMs: 20000, intervalMs: 250 });
    let d = await call('GET', `/api/v1/catalog/${id}/drift`);
    assert.equal(d.status, 200, show(d));
    assert.deepEqual(d.body, { drift: [] });

    // echo changes its schema, add disappears, translate appears
    await control(mock, {
      tools: [
        { name: 'echo', title: 'Echo', description: 'Returns its input text.', annotations: { readOnlyHint: true, idempotentHint: true },
          inputSchema: { type: 'object', properties: { text: { type: 'string' }, upper: { type: 'boolean' } }, required: ['text'] } },
        { name: 'get_time', title: 'Current time', description: 'Returns the server time (ISO 8601).', inputSchema: { type: 'object', properties: {}, required: [] } },
        { name: 'weather', title: 'Weather', description: 'Pretends to report the weather for a city.', annotations: { openWorldHint: true },
          inputSchema: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] } },
        { name: 'delete_note', title: 'Delete note', description: 'Deletes a note (mock: does nothing).', annotations: { destructiveHint: true },
          inputSchema: { type: 'object', properties: { id: { type: 'string' } }, required: ['id'] } },
        { name: 'translate', description: 'Translates text.', inputSchema: { type: 'object', properties: { text: { type: 'string' } } } },
      ],
    });
    const rec = await eventually(async () => {
      const r = await call('GET', `/api/v1/catalog/${id}/drift`);
      return r.body.drift.length > 0 && r.body.drift[0];
    }, { timeoutMs: 20000, intervalMs: 250 });
    assert.deepEqual(rec.added.map((x) => [x.kind, x.name]), [['mcp.tool', 'translate']], JSON.stringify(rec));
    assert.deepEqual(rec.removed.map((x) => x.name), ['add']);
    assert.deepEqual(rec.changed.map((x) => x.name), ['echo']);
    assert.deepEqual(rec.changed[0].fields, ['input_schema']);
    assert.match(rec.changed[0].before, /^[0-9a-f]{16}$/);
    assert.notEqual(rec.changed[0].before, rec.changed[0].after);
    assert.match(rec.added[0].hash, /^[0-9a-f]{16}$/);
    assert.equal(rec.source, 'probe');
    assert.equal(rec.toolsBefore, 5);
    assert.equal(rec.toolsAfter, 5);
    assert.match(rec.at, /^\d{4}-\d\d-\d\dT/);

    // later sweeps see the same tools: no new record
    const probedAt = (await call('GET', `/api/v1/catalog/${id}`)).body.health.lastProbedAt;
    await eventually(async () => (await call('GET', `/api/v1/catalog/${id}`)).body.health.lastProbedAt !== probedAt,
      { timeoutMs: 20000, intervalMs: 250 });
    await sleep(200);
    d = await call('GET', `/api/v1/catalog/${id}/drift`);
    assert.equal(d.body.drift.length, 1, show(d));
  });

  it('a legacy HTTP+SSE server: the sweep lists its tools over the event stream; the on-demand probe detects it', async () => {
    const legacy = await startMcp({ LEGACY: '1' });
    const created = await call('POST', '/api/v1/catalog', { protocol: 'mcp', display_name: 'Legacy MCP', endpoint: `${legacy}/mcp` });
    assert.equal(created.status, 201, show(created));
    const { id } = created.body;
    await eventually(async () => (await call('GET', `/api/v1/catalog/${id}`)).body.status === 'active',
      { timeoutMs: 20000, intervalMs: 250 });
    // only the event stream lists tools (POST answers 405): a drift record proves the listing
    await control(legacy, { tools: [{ name: 'only_tool', description: 'The one tool left.' }] });
    const rec = await eventually(async () => {
      const r = await call('GET', `/api/v1/catalog/${id}/drift`);
      return r.body.drift.length > 0 && r.body.drift[0];
    }, { timeoutMs: 20000, intervalMs: 250 });
    assert.deepEqual(rec.added.map((x) => x.name), ['only_tool'], JSON.stringify(rec));
    assert.equal(rec.removed.length, 5);
    // POST /probe runs inside a request handler, where streams are not available: detected, up
    const p = await call('POST', `/api/v1/catalog/${id}/probe`);
    assert.equal(p.status, 200, show(p));
    assert.equal(p.body.state, 'active');
  });

  it('404 for an unknown entry; 401 without a token', async () => {
    const r = await call('GET', '/api/v1/catalog/00000000-0000-4000-8000-00000000beef/drift');
    assert.equal(r.status, 404, show(r));
    const anon = await api(server, 'GET', '/api/v1/catalog/00000000-0000-4000-8000-00000000beef/drift');
    assert.equal(anon.status, 401, show(anon));
  });
});

describe(`tool drift seen by discovery on ${DIALECT}`, () => {
  let server;
  let work;
  after(async () => {
    if (server) await server.stop();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it('discovery sync records the change of a static MCP source once and updates its tools', async () => {
    const mock = await startMcp();
    work = tempDir('agentlens-drift-discovery-');
    const file = path.join(work, 'agentlens.yaml');
    writeFileSync(file, `discovery:\n  interval: 2s\nsources:\n  - name: drifting\n    type: mcp\n    url: ${mock}/mcp\n`);
    // health sweeps only at start-up: the change below is seen by discovery
    server = await startAuthServer({ args: ['--config', file], env: { AGENTLENS_HEALTH_CHECK_INTERVAL: '1h' } });
    const token = await loginOk(server, ADMIN_USER, ADMIN_PASSWORD);
    const call = (method, p) => api(server, method, p, { token });
    const entry = await eventually(async () => {
      const r = await call('GET', '/api/v1/catalog?source=config&limit=10');
      return r.body.find((e) => e.endpoint === `${mock}/mcp`);
    }, { timeoutMs: 20000, intervalMs: 200 });
    await control(mock, { tools: [{ name: 'echo', title: 'Echo', description: 'Returns its input text, louder.',
      annotations: { readOnlyHint: true, idempotentHint: true }, inputSchema: { type: 'object', properties: { text: { type: 'string' } }, required: ['text'] } }] });
    const rec = await eventually(async () => {
      const r = await call('GET', `/api/v1/catalog/${entry.id}/drift`);
      return r.body.drift.length > 0 && r.body.drift[0];
    }, { timeoutMs: 20000, intervalMs: 250 });
    assert.equal(rec.source, 'discovery', JSON.stringify(rec));
    assert.deepEqual(rec.changed.map((x) => [x.name, x.fields]), [['echo', ['description']]], JSON.stringify(rec));
    assert.deepEqual(rec.removed.map((x) => x.name).sort(), ['add', 'delete_note', 'get_time', 'weather']);
    assert.deepEqual(rec.added, []);
    const d = await call('GET', `/api/v1/catalog/${entry.id}`);
    assert.deepEqual(d.body.capabilities.filter((c) => c.kind === 'mcp.tool').map((c) => c.name), ['echo']);
    // later rounds see the same tools: still one record
    await sleep(4500);
    const again = await call('GET', `/api/v1/catalog/${entry.id}/drift`);
    assert.equal(again.body.drift.length, 1, show(again));
  });
});
