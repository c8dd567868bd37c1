// SPDX-License-Identifier: Apache-2.0
// The health options of the configuration (AGENTLENS_HEALTH_CHECK_*) are the start-up defaults
// of the runtime settings: GET /api/v1/settings shows them as defaults and values, the sweep
// uses them (its "health sweep finished" log names the concurrency), the first sweep runs at
// start-up (not after one interval), and a value stored through the settings API wins, until
// it is reset with null. ctest runs this file once on SQLite and once on PostgreSQL.
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { ADMIN_PASSWORD, ADMIN_USER, api, loginOk, show, startAuthServer } from '../support/auth.mjs';
import { DIALECT, runCli } from '../support/server.mjs';

const servers = [];
after(async () => { for (const s of servers) await s.stop(); });

async function settingsByKey(server, token) {
  const r = await api(server, 'GET', '/api/v1/settings', { token });
  assert.equal(r.status, 200, show(r));
  return Object.fromEntries(r.body.map((x) => [x.key, x]));
}

const sweepLog = (pred = () => true) => (e) => e.msg === 'health sweep finished' && pred(e);

describe(`health options as settings defaults on ${DIALECT}`, () => {
  it('env values are the defaults; the first sweep runs at start-up with them', async () => {
    const server = await startAuthServer({
      env: {
        AGENTLENS_HEALTH_CHECK_INTERVAL: '1h',
        AGENTLENS_HEALTH_CHECK_TIMEOUT: '2500ms',
        AGENTLENS_HEALTH_CHECK_CONCURRENCY: '7',
        AGENTLENS_HEALTH_CHECK_DEGRADED_LATENCY: '2s',
        AGENTLENS_HEALTH_CHECK_FAILURE_THRESHOLD: '4',
        AGENTLENS_HEALTH_CHECK_ENABLED: 'true',
      },
    });
    servers.push(server);
    // interval 1 h: a sweep seen now is the start-up one
    const first = await server.waitForLog(sweepLog(), 20000);
    assert.equal(first.concurrency, 7, JSON.stringify(first));
    const token = await loginOk(server, ADMIN_USER, ADMIN_PASSWORD);
    const s = await settingsByKey(server, token);
    const want = {
      'health.check_interval': 3600,
      'health.check_timeout': 3, // whole seconds, rounded up
      'health.check_concurrency': 7,
      'health.degraded_latency': 2000,
      'health.failure_threshold': 4,
      'health.check_enabled': true,
    };
    for (const [key, v] of Object.entries(want)) {
      assert.equal(s[key].default, v, `${key} default: ${JSON.stringify(s[key])}`);
      assert.equal(s[key].value, v, `${key} value: ${JSON.stringify(s[key])}`);
    }
    assert.equal(s['health.check_concurrency'].min, 1);
    assert.equal(s['health.check_concurrency'].max, 256);

    // a stored value wins over the env default; null goes back to it
    let r = await api(server, 'PUT', '/api/v1/settings', { token, body: { 'health.failure_threshold': 9 } });
    assert.equal(r.status, 200, show(r));
    let after1 = await settingsByKey(server, token);
    assert.equal(after1['health.failure_threshold'].value, 9);
    assert.equal(after1['health.failure_threshold'].default, 4);
    r = await api(server, 'PUT', '/api/v1/settings', { token, body: { 'health.failure_threshold': null } });
    assert.equal(r.status, 200, show(r));
    after1 = await settingsByKey(server, token);
    assert.equal(after1['health.failure_threshold'].value, 4);
  });

  it('the sweep uses a stored concurrency over the env default', async () => {
    const server = await startAuthServer({
      env: { AGENTLENS_HEALTH_CHECK_INTERVAL: '5s', AGENTLENS_HEALTH_CHECK_CONCURRENCY: '5' },
    });
    servers.push(server);
    const first = await server.waitForLog(sweepLog(), 20000);
    assert.equal(first.concurrency, 5);
    const token = await loginOk(server, ADMIN_USER, ADMIN_PASSWORD);
    const r = await api(server, 'PUT', '/api/v1/settings', { token, body: { 'health.check_concurrency': 3 } });
    assert.equal(r.status, 200, show(r));
    const later = await server.waitForLog(sweepLog((e) => e.concurrency === 3), 30000);
    assert.equal(later.concurrency, 3);
  });

  it('an option out of range is refused with a message naming it', () => {
    const r = runCli(['check-config'], { env: { AGENTLENS_HEALTH_CHECK_CONCURRENCY: '0' } });
    assert.notEqual(r.status, 0);
    assert.match(`${r.stdout}${r.stderr}`, /AGENTLENS_HEALTH_CHECK_CONCURRENCY/);
    const ok = runCli(['check-config'], { env: { AGENTLENS_HEALTH_CHECK_INTERVAL: '45s' } });
    assert.equal(ok.status, 0, ok.stderr);
    assert.match(ok.stdout, /health\.check_interval\s+45s/);
  });
});
