// SPDX-License-Identifier: Apache-2.0
// Static discovery through the real binary against the mock agents (examples/mock-agents):
// `sources:` of the configuration synced at start-up (A2A base URL, A2A card URL, MCP endpoint)
// with their headers and bearer tokens, a source removed from the configuration going offline
// and then away after the removal grace, pushed entries never overwritten, invalid source
// configurations refused with the key named, and operator discovery rules (filter, transform,
// script sources) applied, hot-reloaded and surviving broken scripts. ctest runs this file once
// on SQLite and once on PostgreSQL.
import assert from 'node:assert/strict';
import { copyFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ADMIN_PASSWORD, ADMIN_USER, api, loginOk, show, startAuthServer } from '../support/auth.mjs';
import { control, startMock, stopMocks } from '../support/mock_agents.mjs';
import { DIALECT, ROOT, eventually, freshDatabaseEnv, runCli, tempDir } from '../support/server.mjs';

const dirs = [];

// The base URL of a mock agent named `name` (its card's name, or the MCP server's name).
const mockBase = async (kind, name) => (await startMock(`${kind}.mjs`, { name })).base;

function dir() {
  const d = tempDir('agentlens-discovery-');
  dirs.push(d);
  return d;
}

function configFile(text) {
  const file = path.join(dir(), 'agentlens.yaml');
  writeFileSync(file, text);
  return file;
}

async function entries(server, token) {
  const r = await api(server, 'GET', '/api/v1/catalog?source=config&limit=100&sort=displayName_asc', { token });
  assert.equal(r.status, 200, show(r));
  return r.body;
}

const byName = (items, name) => items.find((e) => e.display_name === name);

after(() => {
  stopMocks();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

describe(`static sources on ${DIALECT}`, () => {
  const m = {};
  before(async () => {
    [m.weather, m.cards, m.tools, m.locked, m.described] = await Promise.all([
      mockBase('a2a-agent', 'weather'), mockBase('a2a-agent', 'cards'), mockBase('mcp-server', 'tools'),
      mockBase('a2a-agent', 'locked'), mockBase('mcp-server', 'described'),
    ]);
    await control(m.weather, { require_header: 'Authorization: Bearer w3ather-t0ken' });
    await control(m.cards, { require_header: 'X-Api-Key: c4rds' });
    await control(m.tools, { require_header: 'X-Api-Key: t00ls' });
    await control(m.locked, { require_header: 'X-Api-Key: never-sent' });
  });

  it('syncs every source at start-up (not after an interval), with its headers and bearer token', async () => {
    const file = configFile(`discovery:
  interval: 1h
sources:
  - name: weather
    type: a2a
    url: ${m.weather}
    team: payments
    tags: [demo, forecast]
    auth: {type: bearer, token_env: WEATHER_TOKEN}
  - name: cards
    type: a2a
    url: ${m.cards}/.well-known/agent-card.json
    headers: {X-Api-Key: c4rds}
  - name: tools
    type: mcp
    url: ${m.tools}/mcp
    headers: {X-Api-Key: t00ls}
  - name: locked
    type: a2a
    url: ${m.locked}
  - name: described
    type: mcp
    url: ${m.described}/.well-known/mcp/server.json
`);
    const started = Date.now();
    const server = await startAuthServer({ args: ['--config', file], env: { WEATHER_TOKEN: 'w3ather-t0ken' } });
    try {
      const token = await loginOk(server, ADMIN_USER, ADMIN_PASSWORD);
      const items = await eventually(async () => {
        const list = await entries(server, token);
        return list.length === 5 && list;
      }, { timeoutMs: 20000, intervalMs: 200 });
      assert.ok(Date.now() - started < 30000, 'synced long before the 1 h interval');

      const weather = byName(items, 'weather');
      assert.ok(weather, JSON.stringify(items));
      assert.equal(weather.protocol, 'a2a');
      assert.equal(weather.endpoint, `${m.weather}/a2a`);
      assert.equal(weather.source, 'config');
      assert.notEqual(weather.status, 'offline');
      assert.equal(weather.provider.team, 'payments');
      assert.ok(weather.categories.includes('demo') && weather.categories.includes('forecast'), JSON.stringify(weather));
      assert.equal(weather.metadata.card_url, `${m.weather}/.well-known/agent-card.json`);
      assert.ok(weather.has_raw_card);

      const cards = byName(items, 'cards');
      assert.ok(cards, JSON.stringify(items));
      assert.equal(cards.endpoint, `${m.cards}/a2a`);
      assert.notEqual(cards.status, 'offline');

      const tools = items.find((e) => e.endpoint === `${m.tools}/mcp`);
      assert.ok(tools, JSON.stringify(items));
      assert.equal(tools.endpoint, `${m.tools}/mcp`);
      assert.notEqual(tools.status, 'offline');
      assert.ok(tools.capabilities_count >= 3, JSON.stringify(tools));
      assert.equal(tools.metadata.mcp_transport, 'streamable-http');

      // an MCP url that is a server.json: the endpoint is the remote it names
      const described = items.find((e) => e.endpoint === `${m.described}/mcp`);
      assert.ok(described, JSON.stringify(items));
      assert.equal(described.protocol, 'mcp');
      assert.ok(described.capabilities_count >= 3, JSON.stringify(described));

      // health probes send the source's headers and token too
      for (const e of [weather, cards, tools]) {
        const probed = await api(server, 'POST', `/api/v1/catalog/${e.id}/probe`, { token });
        assert.equal(probed.status, 200, show(probed));
        assert.equal(probed.body.state, 'active', `${e.display_name}: ${show(probed)}`);
        assert.equal(probed.body.lastError, '', `${e.display_name}: ${show(probed)}`); // not "auth required"
        assert.equal(probed.body.consecutiveFailures, 0, `${e.display_name}: ${show(probed)}`);
      }

      // the header it needs is not sent: discovered as a minimal entry with the reason (inserted
      // offline; health probes may move it on, "auth required" is not "down")
      const locked = byName(items, 'config/locked');
      assert.ok(locked, JSON.stringify(items));
      assert.equal(locked.health.lastError, 'auth required');
      assert.equal(locked.has_raw_card, false);
      assert.equal(locked.endpoint, m.locked);
    } finally {
      await server.stop();
    }
  });

  it('re-fetches at the source interval; a changed tool list is updated and recorded as drift', async () => {
    const drifting = await mockBase('mcp-server', 'drifting');
    const file = configFile(`sources:
  - name: drifting
    type: mcp
    url: ${drifting}/mcp
    interval: 1s
`);
    const server = await startAuthServer({ args: ['--config', file] });
    try {
      const token = await loginOk(server, ADMIN_USER, ADMIN_PASSWORD);
      const [entry] = await eventually(async () => {
        const list = await entries(server, token);
        return list.length === 1 && list;
      }, { timeoutMs: 20000, intervalMs: 200 });
      assert.ok(!entry.capabilities.some((c) => c.name === 'brand_new_tool'));
      await control(drifting, { tools: [{ name: 'brand_new_tool', description: 'appeared' }] });
      const updated = await eventually(async () => {
        const r = await api(server, 'GET', `/api/v1/catalog/${entry.id}`, { token });
        return r.body.capabilities.some((c) => c.name === 'brand_new_tool') && r.body;
      }, { timeoutMs: 15000, intervalMs: 200 });
      assert.equal(updated.id, entry.id);
      assert.deepEqual(updated.capabilities.filter((c) => c.kind === 'mcp.tool').map((c) => c.name), ['brand_new_tool']);
      const drift = await eventually(async () => {
        const r = await api(server, 'GET', `/api/v1/catalog/${entry.id}/drift`, { token });
        return r.status === 200 && r.body.drift.find((d) => d.added.some((t) => t.name === 'brand_new_tool'));
      }, { timeoutMs: 15000, intervalMs: 200 });
      assert.ok(drift.removed.length >= 1, JSON.stringify(drift));
    } finally {
      await server.stop();
    }
  });

  it('reads sources again when the configuration file changes; a removed one goes offline, then away', async () => {
    const text = (extra) => `discovery:
  removal_grace: 3s
sources:
  - name: keep
    type: a2a
    url: ${m.cards}
    headers: {X-Api-Key: c4rds}
${extra}`;
    const file = configFile(text(`  - name: drop
    type: mcp
    url: ${m.tools}/mcp
    headers: {X-Api-Key: t00ls}
`));
    const server = await startAuthServer({ args: ['--config', file] });
    try {
      const token = await loginOk(server, ADMIN_USER, ADMIN_PASSWORD);
      assert.equal((await api(server, 'PUT', '/api/v1/settings', { token, body: { 'health.check_enabled': false } })).status, 200);
      const items = await eventually(async () => {
        const list = await entries(server, token);
        return list.length === 2 && list;
      }, { timeoutMs: 20000, intervalMs: 200 });
      const dropId = items.find((e) => e.protocol === 'mcp').id;

      // an invalid file is refused: logged, and the sources stay as they were
      writeFileSync(file, text('  - {name: bad, type: grpc, url: "http://x"}\n'));
      const refused = await server.waitForLog((e) => e.msg === 'configuration file changed but is invalid; the previous sources stay', 15000);
      assert.match(refused.error, /sources\[1\]\.type: "grpc" is not one of a2a, mcp/);
      assert.notEqual((await api(server, 'GET', `/api/v1/catalog/${dropId}`, { token })).body.status, 'offline');

      writeFileSync(file, text(''));
      await server.waitForLog((e) => e.msg === 'configuration file changed: sources read again' && e.sources === 1, 15000);
      const gone = await eventually(async () => {
        const r = await api(server, 'GET', `/api/v1/catalog/${dropId}`, { token });
        return r.status === 200 && r.body.status === 'offline' && r.body;
      }, { timeoutMs: 15000, intervalMs: 100 });
      assert.equal(gone.health.lastError, 'removed from its discovery source');
      await eventually(async () => (await api(server, 'GET', `/api/v1/catalog/${dropId}`, { token })).status === 404,
        { timeoutMs: 30000, intervalMs: 200 });
      assert.deepEqual((await entries(server, token)).map((e) => e.display_name), ['cards']);
    } finally {
      await server.stop();
    }
  });

  it('a source removed from the configuration before a restart goes offline, then away after the grace', async () => {
    const data = dir();
    const db = freshDatabaseEnv();
    const both = configFile(`sources:
  - name: keep
    type: a2a
    url: ${m.cards}
    headers: {X-Api-Key: c4rds}
  - name: drop
    type: mcp
    url: ${m.tools}/mcp
    headers: {X-Api-Key: t00ls}
`);
    let server = await startAuthServer({ args: ['--config', both], dataDir: data, env: db });
    let dropId;
    try {
      const token = await loginOk(server, ADMIN_USER, ADMIN_PASSWORD);
      const items = await eventually(async () => {
        const list = await entries(server, token);
        return list.length === 2 && list;
      }, { timeoutMs: 20000, intervalMs: 200 });
      dropId = items.find((e) => e.protocol === 'mcp').id;
      // probes would find the still-running server up; this test is about the source going away
      assert.equal((await api(server, 'PUT', '/api/v1/settings', { token, body: { 'health.check_enabled': false } })).status, 200);
    } finally {
      await server.stop();
    }

    const one = configFile(`discovery:
  removal_grace: 3s
sources:
  - name: keep
    type: a2a
    url: ${m.cards}
    headers: {X-Api-Key: c4rds}
`);
    server = await startAuthServer({ args: ['--config', one], dataDir: data, env: db });
    try {
      const token = await loginOk(server, ADMIN_USER, ADMIN_PASSWORD);
      const gone = await eventually(async () => {
        const r = await api(server, 'GET', `/api/v1/catalog/${dropId}`, { token });
        return r.status === 200 && r.body.status === 'offline' && r.body;
      }, { timeoutMs: 15000, intervalMs: 100 });
      assert.equal(gone.health.lastError, 'removed from its discovery source');
      const marked = Date.now();
      await eventually(async () => (await api(server, 'GET', `/api/v1/catalog/${dropId}`, { token })).status === 404,
        { timeoutMs: 30000, intervalMs: 200 });
      assert.ok(Date.now() - marked >= 1500, 'kept for about the grace before deletion');
      const left = await entries(server, token);
      assert.deepEqual(left.map((e) => e.display_name), ['cards']);
      assert.notEqual(left[0].status, 'offline');
    } finally {
      await server.stop();
    }
  });
});

describe('invalid source configurations', () => {
  const check = (text, env = {}) => runCli(['check-config', '--config', configFile(text)], { env });

  it('check-config and serve refuse them, naming the key', () => {
    let r = check('sources:\n  - {name: a, type: a2a, url: "http://a"}\n  - {name: b, type: foo, url: "http://b"}\n');
    assert.equal(r.status, 2, r.stderr);
    assert.match(r.stderr, /sources\[1\]\.type: "foo" is not one of a2a, mcp/);

    r = check('sources:\n  - {name: a, type: a2a, url: "http://a", colour: red}\n');
    assert.equal(r.status, 2);
    assert.match(r.stderr, /sources\[0\]\.colour: unknown key/);

    r = check('sources:\n  - {name: a, type: a2a, url: "http://a"}\n  - {name: a, type: mcp, url: "http://b"}\n');
    assert.equal(r.status, 2);
    assert.match(r.stderr, /sources\[1\]\.name: "a" is already the name of sources\[0\]/);

    const tokenText = 'sources:\n  - {name: a, type: a2a, url: "http://a", auth: {type: bearer, token_env: AL_SPEC_TOKEN}}\n';
    r = check(tokenText);
    assert.equal(r.status, 2);
    assert.match(r.stderr, /sources\[0\]\.auth\.token_env: environment variable AL_SPEC_TOKEN is not set/);
    r = check(tokenText, { AL_SPEC_TOKEN: 'x' });
    assert.equal(r.status, 0, r.stderr);

    r = runCli(['serve', '--port', '0', '--data-dir', dir(), '--config',
      configFile('sources:\n  - {name: a, type: a2a}\n')]);
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, /sources\[0\]\.url: is required/);
  });

  it('check-config refuses a discovery script of the wrong shape, naming the file', () => {
    const scripts = dir();
    const file = path.join(scripts, 'rules.lua');
    writeFileSync(file, 'return { discovery = { filter = "yes" } }\n');
    const r = runCli(['check-config', '--scripts-dir', scripts]);
    assert.equal(r.status, 1, r.stderr);
    assert.ok(r.stderr.includes(`${file}: discovery.filter must be a function, got string`), r.stderr);
  });
});

describe(`operator discovery rules on ${DIALECT}`, () => {
  const m = {};
  let server;
  let token;
  let scripts;
  const sourcesScript = (team, extra = '') => `return { discovery = { sources = function()
  return {
    { name = "labelled", type = "a2a", url = "${m.labelled}", labels = { team = "${team}" } },
    { name = "ignored", type = "a2a", url = "${m.ignored}", labels = { ["agentlens.io/ignore"] = "true" } },
    ${extra}
  }
end } }
`;

  before(async () => {
    [m.labelled, m.ignored, m.ticking, m.pushed] = await Promise.all([
      mockBase('a2a-agent', 'labelled'), mockBase('a2a-agent', 'ignored'), mockBase('a2a-agent', 'ticking'),
      mockBase('a2a-agent', 'pushed'),
    ]);
    scripts = dir();
    copyFileSync(path.join(ROOT, 'examples', 'scripts', 'team-from-namespace.lua'),
      path.join(scripts, 'team-from-namespace.lua'));
    writeFileSync(path.join(scripts, 'sources.lua'), sourcesScript('search'));
    writeFileSync(path.join(scripts, 'zz-broken.lua'), `return { discovery = {
  transform = function(entry, item)
    error("this rule is broken")
  end,
} }
`);
    const file = configFile(`sources:
  - name: ticking
    type: a2a
    url: ${m.ticking}
    interval: 1s
`);
    server = await startAuthServer({ args: ['--config', file, '--scripts-dir', scripts] });
    token = await loginOk(server, ADMIN_USER, ADMIN_PASSWORD);
  });
  after(async () => { if (server) await server.stop(); });

  it('applies filters and transforms; a failing rule is logged with file and line and skipped', async () => {
    const items = await eventually(async () => {
      const list = await entries(server, token);
      return list.length === 2 && list;
    }, { timeoutMs: 20000, intervalMs: 200 });
    assert.deepEqual(items.map((e) => e.display_name).sort(), ['labelled', 'ticking']);
    assert.equal(byName(items, 'labelled').provider.team, 'search');
    const failed = await server.waitForLog((e) => e.msg === 'discovery rule failed; skipped');
    assert.equal(failed.script, path.join(scripts, 'zz-broken.lua'));
    assert.ok(failed.error.includes('zz-broken.lua:3: this rule is broken'), failed.error);
  });

  it('hot-reloads the rules', async () => {
    writeFileSync(path.join(scripts, 'sources.lua'), sourcesScript('search-v2'));
    await eventually(async () => {
      const e = byName(await entries(server, token), 'labelled');
      return e && e.provider && e.provider.team === 'search-v2';
    }, { timeoutMs: 20000, intervalMs: 200 });
  });

  it('never overwrites a pushed entry with the same endpoint', async () => {
    const created = await api(server, 'POST', '/api/v1/catalog', {
      token, body: { protocol: 'a2a', display_name: 'Pushed by hand', endpoint: `${m.pushed}/a2a`, description: 'mine' },
    });
    assert.equal(created.status, 201, show(created));
    const before1 = (await api(server, 'GET', `/api/v1/catalog/${created.body.id}`, { token })).body;
    const requestsBefore = (await control(m.pushed)).requests;
    writeFileSync(path.join(scripts, 'sources.lua'), sourcesScript('search-v2',
      `{ name = "pushed", type = "a2a", url = "${m.pushed}" },`));
    await server.waitForLog((e) => e.msg === 'discovery: a pushed entry has this endpoint; left unchanged'
      && e.entry_id === created.body.id, 20000);
    assert.ok((await control(m.pushed)).requests > requestsBefore, 'the card was fetched');
    const after1 = (await api(server, 'GET', `/api/v1/catalog/${created.body.id}`, { token })).body;
    assert.equal(after1.display_name, 'Pushed by hand');
    assert.equal(after1.source, 'push');
    assert.equal(after1.description, 'mine');
    assert.equal(after1.updated_at, before1.updated_at);
    assert.equal((await entries(server, token)).filter((e) => e.endpoint === `${m.pushed}/a2a`).length, 0);
  });

  it('keeps discovering after a script that does not load', async () => {
    const broken = path.join(scripts, 'syntax.lua');
    writeFileSync(broken, 'return { discovery = {\n');
    const failed = await server.waitForLog((e) => typeof e.msg === 'string' && e.msg.startsWith('lua reload failed'), 20000);
    assert.ok(failed.error.includes('syntax.lua'), failed.error);
    const n = (await control(m.ticking)).requests;
    await eventually(async () => (await control(m.ticking)).requests >= n + 2, { timeoutMs: 15000, intervalMs: 250 });
    rmSync(broken);
  });
});
