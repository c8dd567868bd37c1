// SPDX-License-Identifier: Apache-2.0
// Health checking through the real binary (reference 5.4, 8; 15 items 33-36, 40): the on-demand
// probe (POST /api/v1/catalog/{id}/probe), the history (GET /api/v1/catalog/{id}/health), the
// lifecycle driven by probes of the mock A2A agent (examples/mock-agents, PORT=0, /_control),
// the failure threshold, deprecated entries left alone, the per-entry rate limit, and the
// background "health" job. ctest runs this file once on SQLite and once on PostgreSQL.
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { ADMIN_PASSWORD, ADMIN_USER, api, loginOk, show, startAuthServer } from '../support/auth.mjs';
import { control, startMock, stopMocks } from '../support/mock_agents.mjs';
import { DIALECT, eventually, sleep, tempDir } from '../support/server.mjs';

// The base URL of a fresh mock A2A agent.
const startAgent = async () => (await startMock('a2a-agent.mjs')).base;

function expect(r, status, what = '') {
  assert.equal(r.status, status, `${what}${what ? ': ' : ''}${show(r)}`);
}

after(() => stopMocks());

describe(`health probes on ${DIALECT}`, () => {
  let server;
  let token;
  const mocks = {};
  const call = (method, p, body) => api(server, method, p, { token, body });
  const create = async (endpoint, name) => {
    const r = await call('POST', '/api/v1/catalog', { protocol: 'a2a', display_name: name, endpoint });
    expect(r, 201, 'create');
    return r.body;
  };

  before(async () => {
    // One HTTP worker: the on-demand rate limit is per worker. No background jobs: the probes
    // here are the manual ones only.
    server = await startAuthServer({ args: ['--http-workers', '1', '--no-jobs-enabled'] });
    token = await loginOk(server, ADMIN_USER, ADMIN_PASSWORD);
    [mocks.up, mocks.down, mocks.dep] = await Promise.all([startAgent(), startAgent(), startAgent()]);
  });
  after(async () => { if (server) await server.stop(); });

  it('probes now: active with a latency, then 429 within 5 s; the history lists the probe', async () => {
    const e = await create(mocks.up, 'Up Agent');
    assert.equal(e.status, 'registered');
    const r = await call('POST', `/api/v1/catalog/${e.id}/probe`);
    expect(r, 200, 'probe');
    assert.equal(r.body.state, 'active', show(r));
    assert.equal(r.body.consecutiveFailures, 0);
    assert.equal(r.body.lastError, '');
    assert.ok(Number.isInteger(r.body.latencyMs) && r.body.latencyMs >= 0 && r.body.latencyMs < 5000, show(r));
    assert.match(r.body.lastProbedAt, /^\d{4}-\d\d-\d\dT/);
    assert.match(r.body.lastSuccessAt, /^\d{4}-\d\d-\d\dT/);
    assert.deepEqual(Object.keys(r.body).sort(),
      ['consecutiveFailures', 'lastError', 'lastProbedAt', 'lastSuccessAt', 'latencyMs', 'state']);

    const again = await call('POST', `/api/v1/catalog/${e.id}/probe`);
    expect(again, 429, 'second probe');
    assert.match(again.body.error, /^probe rate limited; try again in [1-5] s$/);

    const detail = await call('GET', `/api/v1/catalog/${e.id}`);
    assert.equal(detail.body.status, 'active');
    assert.equal(detail.body.health.state, 'active');

    const h = await call('GET', `/api/v1/catalog/${e.id}/health`);
    expect(h, 200, 'health');
    assert.equal(h.body.health.state, 'active');
    assert.equal(h.body.history.length, 1);
    const [p] = h.body.history;
    assert.equal(p.ok, true);
    assert.equal(p.reason, null);
    assert.equal(p.status, 200);
    assert.ok(Number.isInteger(p.latencyMs));
    assert.match(p.at, /^\d{4}-\d\d-\d\dT/);
    assert.deepEqual(h.body.uptime, { ratio: 1, up: 1, total: 1 });
    assert.equal(h.body.latency.length, 1);
    assert.equal(h.body.latency[0].latencyMs, p.latencyMs);
  });

  it('a failing agent goes offline after health.failure_threshold probes, with the reason', async () => {
    expect(await call('PUT', '/api/v1/settings', { 'health.failure_threshold': 2 }), 200, 'settings');
    const e = await create(mocks.down, 'Down Agent');
    expect(await call('POST', `/api/v1/catalog/${e.id}/probe`), 200, 'first probe');
    await control(mocks.down, { mode: 'fail' });
    await sleep(5100);
    const first = await call('POST', `/api/v1/catalog/${e.id}/probe`);
    expect(first, 200, 'failing probe 1');
    assert.equal(first.body.state, 'active', 'below the threshold an active entry stays active');
    assert.equal(first.body.consecutiveFailures, 1);
    assert.equal(first.body.lastError, 'HTTP 503');
    await sleep(5100);
    const second = await call('POST', `/api/v1/catalog/${e.id}/probe`);
    expect(second, 200, 'failing probe 2');
    assert.equal(second.body.state, 'offline');
    assert.equal(second.body.consecutiveFailures, 2);
    assert.equal(second.body.lastError, 'HTTP 503');
    assert.equal(second.body.lastSuccessAt, first.body.lastSuccessAt, 'last success kept');

    const h = await call('GET', `/api/v1/catalog/${e.id}/health`);
    assert.deepEqual(h.body.history.map((x) => [x.ok, x.reason, x.status]),
      [[true, null, 200], [false, 'HTTP 503', 503], [false, 'HTTP 503', 503]]);
    assert.equal(h.body.uptime.up, 1);
    assert.equal(h.body.uptime.total, 3);
    const list = await call('GET', '/api/v1/catalog?state=offline');
    assert.ok(list.body.some((x) => x.id === e.id), show(list));
  });

  it('never changes a deprecated entry', async () => {
    const e = await create(mocks.dep, 'Deprecated Agent');
    expect(await call('PATCH', `/api/v1/catalog/${e.id}/lifecycle`, { state: 'deprecated' }), 200, 'deprecate');
    const r = await call('POST', `/api/v1/catalog/${e.id}/probe`);
    expect(r, 200, 'probe');
    assert.equal(r.body.state, 'deprecated');
    assert.equal(r.body.lastProbedAt, null, 'the health columns of a deprecated entry are left alone');
    const detail = await call('GET', `/api/v1/catalog/${e.id}`);
    assert.equal(detail.body.status, 'deprecated');
  });

  it('404 for an unknown entry; 503 when health checking is disabled', async () => {
    expect(await call('POST', '/api/v1/catalog/00000000-0000-4000-8000-00000000beef/probe'), 404);
    expect(await call('GET', '/api/v1/catalog/00000000-0000-4000-8000-00000000beef/health'), 404);
    const e = await create(`${mocks.up}/disabled`, 'Disabled Probe');
    expect(await call('PUT', '/api/v1/settings', { 'health.check_enabled': false }), 200);
    try {
      const r = await call('POST', `/api/v1/catalog/${e.id}/probe`);
      expect(r, 503, 'disabled');
      assert.equal(r.body.error, 'health checking is disabled');
    } finally {
      expect(await call('PUT', '/api/v1/settings', { 'health.check_enabled': null }), 200);
    }
    const h = await call('GET', `/api/v1/catalog/${e.id}/health`);
    expect(h, 200);
    assert.deepEqual(h.body.history, []);
    assert.deepEqual(h.body.uptime, { ratio: null, up: 0, total: 0 });
  });
});

describe(`background health job on ${DIALECT}`, () => {
  let server;
  const data = tempDir('agentlens-health-bg-');
  after(async () => {
    if (server) await server.stop();
    rmSync(data, { recursive: true, force: true });
  });

  it('probes a newly registered entry without a manual call', async () => {
    const agent = await startAgent();
    // The job reads its interval after each round: set 5 s, then restart on the same database
    // so that the rounds are 5 s apart from start-up on.
    const first = await startAuthServer({ dataDir: data });
    let token = await loginOk(first, ADMIN_USER, ADMIN_PASSWORD);
    expect(await api(first, 'PUT', '/api/v1/settings', { token, body: { 'health.check_interval': 5 } }), 200);
    await first.stop();
    const env = DIALECT === 'postgres' ? { AGENTLENS_DB_POSTGRES_DBNAME: first.env.AGENTLENS_DB_POSTGRES_DBNAME } : {};
    server = await startAuthServer({ dataDir: data, env });
    await server.waitForLog((e) => e.msg === 'job finished' && e.job === 'health');
    token = await loginOk(server, ADMIN_USER, ADMIN_PASSWORD);
    const r = await api(server, 'POST', '/api/v1/catalog', { token, body: { protocol: 'a2a', display_name: 'Background', endpoint: agent } });
    expect(r, 201, 'create');
    const probed = await eventually(async () => {
      const d = await api(server, 'GET', `/api/v1/catalog/${r.body.id}`, { token });
      return d.body.health.lastProbedAt && d.body;
    }, { timeoutMs: 8000, intervalMs: 200 }).catch((e) => {
      const jobLogs = server.logs.filter((l) => /job|health|leader/.test(`${l.msg} ${l.job ?? ''}`));
      throw new Error(`${e.message}; job logs:\n${jobLogs.map((l) => JSON.stringify(l)).join('\n')}`);
    });
    assert.equal(probed.status, 'active');
    assert.equal(probed.health.lastError, '');
    const h = await api(server, 'GET', `/api/v1/catalog/${r.body.id}/health`, { token });
    assert.ok(h.body.history.length >= 1);
  });
});
