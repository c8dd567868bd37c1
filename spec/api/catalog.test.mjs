// SPDX-License-Identifier: Apache-2.0
// The catalog API through the real binary (reference 5.4-5.9): push create, register, validate,
// import (SSRF guard), detail, delete, raw card with ETag, lifecycle, list filters and paging,
// capabilities, stats, and read-only access for viewers.
// ctest runs this file once on SQLite and once on PostgreSQL (DIALECT).
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  ADMIN_PASSWORD, ADMIN_USER, api, createUser, loginOk, show, startAuthServer, uniqueName,
} from '../support/auth.mjs';
import { DIALECT, ROOT } from '../support/server.mjs';

const CARDS = path.join(ROOT, 'spec', 'fixtures', 'cards');
const cardText = (name) => readFileSync(path.join(CARDS, name), 'utf8');
const card = (name) => JSON.parse(cardText(name));

function expect(r, status, error, what = '') {
  const label = `${what}${what ? ': ' : ''}${show(r)}`;
  assert.equal(r.status, status, label);
  if (error !== undefined) assert.equal(r.body?.error, error, label);
}

// A2A 0.3 card at a unique endpoint.
function travelCard(endpoint, name = 'Travel Desk') {
  const c = card('a2a/v0.3-travel-desk.json');
  c.url = endpoint;
  c.name = name;
  delete c.additionalInterfaces;
  return c;
}

// A local HTTP server: routes path -> (req, res).
async function localServer(routes) {
  const srv = http.createServer((req, res) => {
    const h = routes[req.url];
    if (!h) { res.writeHead(404); res.end('not found'); return; }
    h(req, res, srv);
  });
  await new Promise((resolve) => srv.listen(0, '127.0.0.1', resolve));
  srv.base = `http://127.0.0.1:${srv.address().port}`;
  return srv;
}

describe(`catalog on ${DIALECT}`, () => {
  let server;
  let token;
  const post = (p, body, extra = {}) => api(server, 'POST', p, { token, body, ...extra });
  const get = (p, extra = {}) => api(server, 'GET', p, { token, ...extra });
  const create = async (fields) => {
    const r = await post('/api/v1/catalog', { protocol: 'a2a', ...fields });
    expect(r, 201, undefined, 'create');
    return r.body;
  };

  before(async () => {
    server = await startAuthServer();
    token = await loginOk(server, ADMIN_USER, ADMIN_PASSWORD);
  });
  after(async () => { if (server) await server.stop(); });

  describe('push create, detail, delete', () => {
    it('creates a minimal entry (201, registered, push), reads it and deletes it', async () => {
      const endpoint = `https://${uniqueName('push-')}.example.com/a2a`;
      const r = await post('/api/v1/catalog', { display_name: 'Pushed', protocol: 'a2a', endpoint, description: 'd', version: '1.0.0' });
      expect(r, 201);
      const e = r.body;
      assert.match(e.id, /\S/);
      assert.equal(e.display_name, 'Pushed');
      assert.equal(e.description, 'd');
      assert.equal(e.protocol, 'a2a');
      assert.equal(e.endpoint, endpoint);
      assert.equal(e.version, '1.0.0');
      assert.equal(e.status, 'registered');
      assert.equal(e.source, 'push');
      assert.equal(e.capabilities, undefined, 'no capabilities');
      assert.deepEqual(e.health, {
        state: 'registered', lastProbedAt: null, lastSuccessAt: null, latencyMs: 0, consecutiveFailures: 0, lastError: '',
      });
      const g = await get(`/api/v1/catalog/${e.id}`);
      expect(g, 200);
      assert.equal(g.body.id, e.id);
      assert.equal(g.body.endpoint, endpoint);

      expect(await post('/api/v1/catalog', { display_name: 'Again', protocol: 'a2a', endpoint }), 409,
        'an entry with this endpoint already exists');

      const d = await api(server, 'DELETE', `/api/v1/catalog/${e.id}`, { token });
      expect(d, 204);
      expect(await get(`/api/v1/catalog/${e.id}`), 404, 'catalog entry not found');
      expect(await api(server, 'DELETE', `/api/v1/catalog/${e.id}`, { token }), 404, 'catalog entry not found');
      expect(await get(`/api/v1/catalog/${e.id}/card`), 404, 'catalog entry not found');
    });

    it('400 messages of the reference for missing or invalid fields', async () => {
      expect(await post('/api/v1/catalog', { protocol: 'a2a', endpoint: 'https://x.example.com' }), 400, 'display_name is required');
      expect(await post('/api/v1/catalog', { protocol: 'a2a', display_name: 'x' }), 400, 'endpoint is required');
      expect(await post('/api/v1/catalog', { protocol: 'grpc', display_name: 'x', endpoint: 'https://x.example.com' }), 400,
        'protocol must be one of: a2a, mcp, a2ui');
      expect(await post('/api/v1/catalog', { protocol: 'a2a', display_name: 'x', endpoint: 'not a url' }), 400);
      expect(await post('/api/v1/catalog', 'not json'), 400);
      expect(await post('/api/v1/catalog', { protocol: 'a2a', display_name: 'x', endpoint: 'https://y.example.com', bogus: 1 }), 400);
    });

    it('404 for unknown ids on every entry route', async () => {
      const id = '00000000-0000-4000-8000-00000000abcd';
      expect(await get(`/api/v1/catalog/${id}`), 404, 'catalog entry not found');
      expect(await api(server, 'DELETE', `/api/v1/catalog/${id}`, { token }), 404, 'catalog entry not found');
      expect(await get(`/api/v1/catalog/${id}/card`), 404, 'catalog entry not found');
      expect(await api(server, 'PATCH', `/api/v1/catalog/${id}/lifecycle`, { token, body: { state: 'deprecated' } }), 404,
        'catalog entry not found');
    });
  });

  describe('register, validate, raw card', () => {
    it('registers an A2A 1.0 card: capabilities, description, auth summary, raw card with ETag and 304', async () => {
      const text = cardText('a2a/v1.0-translation-agent.json');
      const r = await post('/api/v1/catalog/register', text);
      expect(r, 201);
      const e = r.body;
      assert.equal(e.protocol, 'a2a');
      assert.equal(e.spec_version, '1.0');
      assert.equal(e.status, 'registered', 'reference 15 item 20: registered, not unknown');
      assert.equal(e.source, 'push');
      assert.equal(e.display_name, 'Translation Agent');
      assert.equal(e.description, 'Multi-language translation with glossary support.', 'the card description is copied');
      assert.equal(e.endpoint, 'https://translate.example.com/a2a/v1');
      assert.equal(e.version, '3.0.0');
      const skills = e.capabilities.filter((c) => c.kind === 'a2a.skill').map((c) => c.name).sort();
      assert.deepEqual(skills, ['Manage glossary', 'Translate Text']);
      const translate = e.capabilities.find((c) => c.kind === 'a2a.skill' && c.name === 'Translate Text');
      assert.deepEqual(translate.tags, ['translation', 'nlp']);
      assert.ok(e.auth_summary, `auth_summary: ${JSON.stringify(e)}`);
      assert.ok(e.auth_summary.types.includes('http:Bearer'));
      assert.ok(e.security_detail.security_schemes.length >= 1, 'security_detail on the detail response');
      assert.ok(e.categories.includes('nlp'));

      const detail = await get(`/api/v1/catalog/${e.id}`);
      assert.ok(detail.body.security_detail, 'detail has security_detail');
      const listed = await get(`/api/v1/catalog?q=${encodeURIComponent('Translation Agent')}`);
      expect(listed, 200);
      const item = listed.body.find((x) => x.id === e.id);
      assert.ok(item, show(listed));
      assert.equal(item.security_detail, undefined, 'reference 15 item 24: not on lists');
      assert.ok(item.capabilities_count >= 2, JSON.stringify(item));
      assert.deepEqual(item.capabilities, detail.body.capabilities, 'list items carry the capabilities (reference 5.6)');
      assert.deepEqual(item.auth_summary, detail.body.auth_summary, 'and the auth summary');

      const c = await get(`/api/v1/catalog/${e.id}/card`);
      expect(c, 200);
      assert.equal(c.text, text, 'the stored bytes are the request bytes');
      assert.match(c.headers.get('content-type'), /^application\/json/);
      const etag = c.headers.get('etag');
      assert.match(etag, /^(W\/)?".+"$/);
      const again = await get(`/api/v1/catalog/${e.id}/card`, { headers: { 'If-None-Match': etag } });
      assert.equal(again.status, 304, show(again));
      const other = await get(`/api/v1/catalog/${e.id}/card`, { headers: { 'If-None-Match': '"nope"' } });
      assert.equal(other.status, 200);

      expect(await post('/api/v1/catalog/register', text), 409, 'an entry with this endpoint already exists');

      // cascade: delete, then the same card registers again
      expect(await api(server, 'DELETE', `/api/v1/catalog/${e.id}`, { token }), 204);
      const re = await post('/api/v1/catalog/register', text);
      expect(re, 201, undefined, 're-register after delete');
      assert.notEqual(re.body.id, e.id);
      assert.equal(re.body.capabilities.filter((x) => x.kind === 'a2a.skill').length, 2);
    });

    it('registers an A2A 0.3 card and an MCP server.json; a push entry has no raw card', async () => {
      const a = await post('/api/v1/catalog/register', cardText('a2a/v0.3-travel-desk.json'));
      expect(a, 201);
      assert.equal(a.body.spec_version, '0.3');
      assert.equal(a.body.endpoint, 'https://travel.example.com/a2a/jsonrpc');
      assert.equal(a.body.capabilities.filter((c) => c.kind === 'a2a.skill').length, 3);
      assert.equal(a.body.provider?.organization !== undefined, true, JSON.stringify(a.body.provider));

      const m = await post('/api/v1/catalog/register', cardText('mcp/server.json'));
      expect(m, 201);
      assert.equal(m.body.protocol, 'mcp');
      assert.equal(m.body.description, 'Current conditions and forecasts for any city.');
      assert.match(m.body.endpoint, /^https:\/\/weather\.example\.com\//);

      const t = await post('/api/v1/catalog/register', cardText('mcp/combined.json'));
      expect(t, 201);
      assert.deepEqual(t.body.capabilities.filter((c) => c.kind === 'mcp.tool').map((c) => c.name), ['forecast']);

      const p = await create({ display_name: 'No card', endpoint: `https://${uniqueName('nocard-')}.example.com` });
      expect(await get(`/api/v1/catalog/${p.id}/card`), 404, 'no raw card stored');
    });

    it('422 with field paths for an invalid card; 400 for an empty body or bad JSON', async () => {
      const r = await post('/api/v1/catalog/register', cardText('a2a/invalid/skill-missing-id.json'));
      expect(r, 422);
      assert.equal(r.body.valid, false);
      assert.ok(r.body.errors.some((x) => x.field === 'skills[3].id'), JSON.stringify(r.body.errors));
      assert.ok(Array.isArray(r.body.warnings));
      expect(await post('/api/v1/catalog/register', ''), 400, 'request body is empty');
      const bad = await post('/api/v1/catalog/register', '{"name": ');
      expect(bad, 400);
      assert.match(bad.body.error, /invalid JSON/);
    });

    it('oversized raw card (> 256 KiB) is refused with 413', async () => {
      const c = travelCard(`https://${uniqueName('big-')}.example.com/a2a`);
      c.description = 'x'.repeat(300 * 1024);
      const r = await post('/api/v1/catalog/register', c);
      expect(r, 413);
      assert.match(r.body.error, /larger than 262144 bytes/);
    });

    it('validate is a dry run: 200 for A2A and MCP, 422 when invalid, no entry created', async () => {
      const before = await get('/api/v1/catalog?limit=1');
      const total = before.headers.get('x-total-count');
      const ok = await post('/api/v1/catalog/validate', cardText('a2a/v1.0-translation-agent.json'));
      expect(ok, 200);
      assert.equal(ok.body.valid, true);
      assert.equal(ok.body.spec_version, '1.0');
      assert.equal(ok.body.preview.display_name, 'Translation Agent');
      const mcp = await post('/api/v1/catalog/validate', cardText('mcp/server.json'));
      expect(mcp, 200, undefined, 'MCP is detected, not validated as A2A');
      assert.equal(mcp.body.protocol, 'mcp');
      const bad = await post('/api/v1/catalog/validate', cardText('a2a/invalid/skill-missing-id.json'));
      expect(bad, 422);
      assert.ok(bad.body.errors.some((x) => x.field === 'skills[3].id'));
      const garbage = await post('/api/v1/catalog/validate', '[1,2]');
      expect(garbage, 422);
      const after = await get('/api/v1/catalog?limit=1');
      assert.equal(after.headers.get('x-total-count'), total, 'nothing was stored');
    });
  });

  describe('lifecycle', () => {
    it('deprecate and un-deprecate; other states are 400', async () => {
      const e = await create({ display_name: 'Lifecycle', endpoint: `https://${uniqueName('life-')}.example.com` });
      const patch = (body) => api(server, 'PATCH', `/api/v1/catalog/${e.id}/lifecycle`, { token, body });
      // warm the per-worker response caches: a write must still be visible to the next read
      for (let i = 0; i < 4; i += 1) assert.equal((await get(`/api/v1/catalog/${e.id}`)).body.status, 'registered');
      const d = await patch({ state: 'deprecated' });
      expect(d, 200);
      assert.equal(d.body.status, 'deprecated');
      assert.equal((await get(`/api/v1/catalog/${e.id}`)).body.status, 'deprecated');
      const a = await patch({ state: 'active' });
      expect(a, 200);
      assert.equal(a.body.status, 'active');
      expect(await patch({ state: 'registered' }), 400, 'state must be one of: deprecated, active');
      expect(await patch({}), 400, 'state must be one of: deprecated, active');
    });
  });

  describe('list', () => {
    const tag = uniqueName('lst');
    const ids = {};
    before(async () => {
      ids.a = (await create({ display_name: `${tag} Alpha`, endpoint: `https://${tag}-a.example.com` })).id;
      ids.b = (await create({ display_name: `${tag} Beta`, endpoint: `https://${tag}-b.example.com`, protocol: 'mcp' })).id;
      ids.c = (await create({ display_name: `${tag} Gamma`, endpoint: `https://${tag}-c.example.com` })).id;
      const r = await api(server, 'PATCH', `/api/v1/catalog/${ids.c}/lifecycle`, { token, body: { state: 'deprecated' } });
      expect(r, 200);
    });
    const names = (r) => r.body.map((e) => e.display_name);

    it('filters by q, protocol, state, status and source; bare array with X-Total-Count', async () => {
      const all = await get(`/api/v1/catalog?q=${tag}&sort=displayName_asc`);
      expect(all, 200);
      assert.ok(Array.isArray(all.body));
      assert.deepEqual(names(all), [`${tag} Alpha`, `${tag} Beta`, `${tag} Gamma`]);
      assert.equal(all.headers.get('x-total-count'), '3');
      assert.deepEqual(names(await get(`/api/v1/catalog?q=${tag}&protocol=mcp`)), [`${tag} Beta`]);
      assert.deepEqual(names(await get(`/api/v1/catalog?q=${tag}&state=deprecated`)), [`${tag} Gamma`]);
      assert.deepEqual(names(await get(`/api/v1/catalog?q=${tag}&state=registered,deprecated&sort=displayName_asc`)),
        [`${tag} Alpha`, `${tag} Beta`, `${tag} Gamma`]);
      assert.deepEqual(names(await get(`/api/v1/catalog?q=${tag}&status=registered&sort=displayName_asc`)),
        [`${tag} Alpha`, `${tag} Beta`]);
      assert.equal((await get(`/api/v1/catalog?q=${tag}&source=push`)).body.length, 3);
      assert.equal((await get(`/api/v1/catalog?q=${tag}&source=k8s`)).body.length, 0);
      for (const sort of ['lastSuccessAt_desc', 'createdAt_desc']) {
        const r = await get(`/api/v1/catalog?q=${tag}&sort=${sort}`);
        expect(r, 200, undefined, sort);
        assert.equal(r.body.length, 3);
      }
    });

    it('filters by team (provider, substring) and categories (every one must match)', async () => {
      const org = uniqueName('Org');
      const c = travelCard(`https://${uniqueName('team-')}.example.com/a2a`, `${tag} Teamed`);
      c.provider = { organization: org, url: 'https://org.example.com' };
      const r = await post('/api/v1/catalog/register', c);
      expect(r, 201);
      assert.equal(r.body.provider.organization, org);
      const byTeam = await get(`/api/v1/catalog?team=${encodeURIComponent(org.slice(1).toLowerCase())}`);
      expect(byTeam, 200);
      assert.deepEqual(byTeam.body.map((e) => e.id), [r.body.id]);
      assert.deepEqual((await get(`/api/v1/catalog?q=${tag}&categories=travel,booking`)).body.map((e) => e.id), [r.body.id]);
      assert.deepEqual((await get(`/api/v1/catalog?q=${tag}&categories=travel,no-such-category`)).body, []);
      expect(await api(server, 'DELETE', `/api/v1/catalog/${r.body.id}`, { token }), 204);
    });

    it('pages with limit and offset; the total stays', async () => {
      const p1 = await get(`/api/v1/catalog?q=${tag}&sort=displayName_asc&limit=2`);
      assert.deepEqual(names(p1), [`${tag} Alpha`, `${tag} Beta`]);
      assert.equal(p1.headers.get('x-total-count'), '3');
      const p2 = await get(`/api/v1/catalog?q=${tag}&sort=displayName_asc&limit=2&offset=2`);
      assert.deepEqual(names(p2), [`${tag} Gamma`]);
      assert.equal(p2.headers.get('x-total-count'), '3');
    });

    it('a page of 50 entries carries every entry\'s capabilities and auth summary (batch-loaded)', async () => {
      const page = uniqueName('pg');
      const want = new Map();
      for (let start = 0; start < 52; start += 13) {
        await Promise.all(Array.from({ length: 13 }, async (_, k) => {
          const i = start + k;
          const c = travelCard(`https://${page}-${i}.example.com/a2a`, `${page} ${String(i).padStart(2, '0')}`);
          c.skills = c.skills.slice(0, 1 + (i % 3)).map((sk, j) => ({ ...sk, id: `s${i}-${j}`, name: `Skill ${i}.${j}` }));
          if (i % 2 === 1) {
            delete c.securitySchemes;
            delete c.security;
            for (const sk of c.skills) delete sk.security;
          }
          const r = await post('/api/v1/catalog/register', c);
          expect(r, 201, undefined, `register ${i}`);
          want.set(r.body.id, { i, detail: r.body });
        }));
      }
      const r = await get(`/api/v1/catalog?q=${page}&sort=displayName_asc&limit=50`);
      expect(r, 200);
      assert.equal(r.headers.get('x-total-count'), '52');
      assert.equal(r.body.length, 50);
      for (const [n, item] of r.body.entries()) {
        const w = want.get(item.id);
        assert.ok(w, `unknown item ${item.id}`);
        assert.equal(w.i, n, 'sorted by display name');
        const skills = item.capabilities.filter((c) => c.kind === 'a2a.skill').map((c) => c.name);
        assert.deepEqual(skills, Array.from({ length: 1 + (n % 3) }, (_, j) => `Skill ${n}.${j}`), item.display_name);
        assert.deepEqual(item.capabilities, w.detail.capabilities, `${item.display_name}: same as the detail`);
        assert.equal(item.capabilities_count, item.capabilities.length);
        assert.equal(item.security_detail, undefined);
        if (n % 2 === 0) {
          assert.deepEqual(item.auth_summary, w.detail.auth_summary);
          assert.ok(item.auth_summary.types.includes('oauth2'), JSON.stringify(item.auth_summary));
        } else {
          assert.equal(item.auth_summary, undefined, item.display_name);
        }
      }
      const rest = await get(`/api/v1/catalog?q=${page}&sort=displayName_asc&limit=50&offset=50`);
      assert.deepEqual(rest.body.map((e) => e.display_name), [`${page} 50`, `${page} 51`]);
      for (const id of want.keys()) expect(await api(server, 'DELETE', `/api/v1/catalog/${id}`, { token }), 204);
    });

    it('400 naming the parameter for invalid values', async () => {
      for (const [qs, param] of [['protocol=grpc', 'protocol'], ['state=bogus', 'state'], ['state=active,nope', 'state'],
        ['status=unknown', 'status'], ['source=web', 'source'], ['sort=name', 'sort'], ['limit=0', 'limit'],
        ['limit=501', 'limit'], ['limit=x', 'limit'], ['offset=-1', 'offset']]) {
        const r = await get(`/api/v1/catalog?${qs}`);
        expect(r, 400, undefined, qs);
        assert.ok(r.body.error.includes(param), `${qs}: ${show(r)}`);
      }
    });

    it('a write is visible to the next read immediately (response caches)', async () => {
      const first = await get(`/api/v1/catalog?q=${tag}`);
      for (let i = 0; i < 4; i += 1) {
        const again = await get(`/api/v1/catalog?q=${tag}`);
        assert.deepEqual(again.body, first.body, 'repeated reads answer the same');
        assert.equal(again.headers.get('x-total-count'), first.headers.get('x-total-count'));
        assert.match(again.headers.get('content-type'), /^application\/json/);
      }
      const before = Number(first.headers.get('x-total-count'));
      const e = await create({ display_name: `${tag} Delta`, endpoint: `https://${tag}-d.example.com` });
      assert.equal(Number((await get(`/api/v1/catalog?q=${tag}`)).headers.get('x-total-count')), before + 1);
      for (let i = 0; i < 4; i += 1) expect(await get(`/api/v1/catalog/${e.id}`), 200);
      expect(await api(server, 'DELETE', `/api/v1/catalog/${e.id}`, { token }), 204);
      assert.equal(Number((await get(`/api/v1/catalog?q=${tag}`)).headers.get('x-total-count')), before);
      for (let i = 0; i < 4; i += 1) expect(await get(`/api/v1/catalog/${e.id}`), 404, 'catalog entry not found');
    });

    it('a state or health change is in the next answer of every cached list and detail', async () => {
      const live = uniqueName('live');
      // 127.0.0.1:1 refuses connections: a probe fails at once (probes are not SSRF-guarded)
      const e = await create({ display_name: `${live} Probed`, endpoint: `http://127.0.0.1:1/${live}` });
      const other = await create({ display_name: `${live} Other`, endpoint: `https://${live}-o.example.com` });
      const queries = [`q=${live}`, `q=${live}&sort=displayName_asc`, `q=${live}&state=registered`,
        `q=${live}&status=deprecated`, `q=${live}&sort=lastSuccessAt_desc`];
      const item = (r) => r.body.find((x) => x.id === e.id);
      // warm every worker's caches
      for (let i = 0; i < 4; i += 1) {
        for (const qs of queries) expect(await get(`/api/v1/catalog?${qs}`), 200, undefined, qs);
        expect(await get(`/api/v1/catalog/${e.id}`), 200);
      }
      const probed = await post(`/api/v1/catalog/${e.id}/probe`, {});
      expect(probed, 200, undefined, 'probe');
      assert.equal(probed.body.consecutiveFailures, 1);
      for (let i = 0; i < 4; i += 1) {
        for (const qs of queries.slice(0, 3)) {
          const h = item(await get(`/api/v1/catalog?${qs}`)).health;
          assert.equal(h.consecutiveFailures, 1, qs);
          assert.equal(h.lastProbedAt, probed.body.lastProbedAt, qs);
          assert.equal(h.lastError, probed.body.lastError, qs);
        }
        assert.equal((await get(`/api/v1/catalog/${e.id}`)).body.health.consecutiveFailures, 1);
      }
      expect(await api(server, 'PATCH', `/api/v1/catalog/${e.id}/lifecycle`, { token, body: { state: 'deprecated' } }), 200);
      for (let i = 0; i < 4; i += 1) {
        const all = await get(`/api/v1/catalog?q=${live}&sort=displayName_asc`);
        assert.deepEqual(all.body.map((x) => [x.id, x.status]), [[other.id, 'registered'], [e.id, 'deprecated']]);
        assert.equal(item(await get(`/api/v1/catalog?q=${live}`)).status, 'deprecated');
        const registered = await get(`/api/v1/catalog?q=${live}&state=registered`);
        assert.deepEqual(registered.body.map((x) => x.id), [other.id]);
        assert.equal(registered.headers.get('x-total-count'), '1');
        const deprecated = await get(`/api/v1/catalog?q=${live}&status=deprecated`);
        assert.deepEqual(deprecated.body.map((x) => x.id), [e.id]);
        assert.equal((await get(`/api/v1/catalog/${e.id}`)).body.status, 'deprecated');
      }
      for (const id of [e.id, other.id]) expect(await api(server, 'DELETE', `/api/v1/catalog/${id}`, { token }), 204);
    });
  });

  describe('capabilities and stats', () => {
    it('lists capabilities and shows one with its agents; deprecated entries are not listed', async () => {
      const endpoint = `https://${uniqueName('cap-')}.example.com/a2a`;
      const skillName = uniqueName('Capskill ');
      const c = travelCard(endpoint, 'Cap Agent');
      c.skills[0].name = skillName;
      const r = await post('/api/v1/catalog/register', c);
      expect(r, 201);
      const registered = await get(`/api/v1/capabilities?q=${encodeURIComponent(skillName)}`);
      assert.equal(registered.body.total, 1, `reference 15 item 43: registered entries are searchable: ${show(registered)}`);
      assert.equal(registered.body.items[0].status, 'registered');
      expect(await api(server, 'PATCH', `/api/v1/catalog/${r.body.id}/lifecycle`, { token, body: { state: 'deprecated' } }), 200);
      const none = await get(`/api/v1/capabilities?q=${encodeURIComponent(skillName)}`);
      expect(none, 200);
      assert.equal(none.body.total, 0, 'deprecated entries are not searchable');
      expect(await api(server, 'PATCH', `/api/v1/catalog/${r.body.id}/lifecycle`, { token, body: { state: 'active' } }), 200);
      const list = await get(`/api/v1/capabilities?q=${encodeURIComponent(skillName)}&kind=a2a.skill`);
      expect(list, 200);
      assert.equal(list.body.total, 1, show(list));
      assert.equal(list.body.items[0].name, skillName);
      assert.equal(list.body.items[0].kind, 'a2a.skill');
      assert.equal(list.body.items[0].agent_id, r.body.id);
      assert.equal(list.body.items[0].status, 'active');
      assert.deepEqual(list.body.items[0].tags, ['travel', 'flights']);
      assert.equal(list.body.items[0].health_state, 'active');
      assert.equal(list.body.items[0].latency_ms, null, 'never probed');
      assert.equal(list.body.items[0].provider_org, 'Example Travel GmbH');
      assert.equal(list.body.items[0].provider_url, 'https://travel.example.com');
      assert.equal(list.body.items[0].agent_name, 'Cap Agent');
      assert.equal(list.headers.get('x-total-count'), '1');
      const key = encodeURIComponent(`a2a.skill::${skillName}`);
      const one = await get(`/api/v1/capabilities/${key}`);
      expect(one, 200);
      assert.equal(one.body.capability.name, skillName);
      const agent = one.body.agents.find((a) => a.id === r.body.id);
      assert.ok(agent, show(one));
      assert.equal(agent.display_name, 'Cap Agent');
      assert.equal(agent.protocol, 'a2a');
      assert.equal(agent.status, 'active');
      assert.equal(agent.spec_version, '0.3');
      assert.equal(agent.provider.organization, 'Example Travel GmbH');
      assert.deepEqual(agent.health, {
        state: 'active', lastProbedAt: null, lastSuccessAt: null, latencyMs: 0, consecutiveFailures: 0, lastError: '',
      });
      const snippet = r.body.capabilities.find((x) => x.kind === 'a2a.skill' && x.name === skillName);
      assert.deepEqual(agent.capability_snippet, snippet, 'the capability JSON of that entry');

      // sort=agentName_asc: by agent display name, then capability name; name_asc is the default
      const sortTag = uniqueName('Srt');
      const mk = async (agent, skills) => {
        const sc = travelCard(`https://${uniqueName('srt-')}.example.com/a2a`, agent);
        sc.skills = skills.map((n, j) => ({ ...sc.skills[0], id: `k${j}`, name: `${sortTag} ${n}` }));
        const x = await post('/api/v1/catalog/register', sc);
        expect(x, 201);
        return x.body.id;
      };
      await mk('Zulu Agent', ['a', 'c']);
      await mk('Alpha Agent', ['b', 'd']);
      const pairs = (x) => x.body.items.map((i) => `${i.agent_name}/${i.name.slice(sortTag.length + 1)}`);
      const byName = await get(`/api/v1/capabilities?q=${sortTag}`);
      expect(byName, 200);
      assert.deepEqual(pairs(byName), ['Zulu Agent/a', 'Alpha Agent/b', 'Zulu Agent/c', 'Alpha Agent/d']);
      assert.deepEqual(pairs(await get(`/api/v1/capabilities?q=${sortTag}&sort=name_asc`)), pairs(byName));
      const byAgent = await get(`/api/v1/capabilities?q=${sortTag}&sort=agentName_asc`);
      expect(byAgent, 200);
      assert.deepEqual(pairs(byAgent), ['Alpha Agent/b', 'Alpha Agent/d', 'Zulu Agent/a', 'Zulu Agent/c']);
      expect(await get('/api/v1/capabilities?sort=bogus'), 400);
      expect(await get('/api/v1/capabilities?kind=a2a.interface'), 400);
      expect(await get('/api/v1/capabilities?limit=0'), 400);
      expect(await get('/api/v1/capabilities/no-separator'), 400);
      expect(await get(`/api/v1/capabilities/${encodeURIComponent('a2a.skill::no such skill here')}`), 404, 'capability not found');
    });

    it('stats count entries by status, source and protocol', async () => {
      const s1 = await get('/api/v1/stats');
      expect(s1, 200);
      assert.equal(typeof s1.body.total, 'number');
      await create({ display_name: 'Stats', endpoint: `https://${uniqueName('stats-')}.example.com`, protocol: 'mcp' });
      const s2 = await get('/api/v1/stats');
      assert.equal(s2.body.total, s1.body.total + 1);
      assert.equal(s2.body.by_status.registered, (s1.body.by_status.registered || 0) + 1);
      assert.equal(s2.body.by_source.push, (s1.body.by_source.push || 0) + 1);
      const list = await get('/api/v1/catalog?limit=1');
      assert.equal(Number(list.headers.get('x-total-count')), s2.body.total);
    });
  });

  describe('import', () => {
    let cards;
    const served = {};
    before(async () => {
      cards = await localServer({
        '/.well-known/agent-card.json': (req, res) => {
          served.headers = req.headers;
          res.writeHead(200, { 'Content-Type': 'application/json' });
          res.end(JSON.stringify(travelCard(served.endpoint, 'Imported Agent')));
        },
        '/mcp/server.json': (req, res) => {
          res.writeHead(200, { 'Content-Type': 'application/json' });
          const c = card('mcp/combined.json');
          c.remotes[0].url = served.mcpEndpoint;
          res.end(JSON.stringify(c));
        },
        '/redirect': (req, res) => {
          res.writeHead(302, { Location: `http://[::1]:${cards.address().port}/.well-known/agent-card.json` });
          res.end();
        },
        '/html': (req, res) => { res.writeHead(200, { 'Content-Type': 'text/html' }); res.end('<html></html>'); },
      });
    });
    after(() => cards && cards.close());

    it('refuses loopback by default (400) and validates the body', async () => {
      const r = await post('/api/v1/catalog/import', { url: `${cards.base}/.well-known/agent-card.json` });
      expect(r, 400);
      assert.match(r.body.error, /refused/);
      expect(await post('/api/v1/catalog/import', {}), 400, 'url is required');
      expect(await post('/api/v1/catalog/import', { url: 'ftp://example.com/card.json' }), 400);
      expect(await post('/api/v1/catalog/import', { url: 'https://example.com/x', protocol: 'a2ui' }), 400);
    });

    it('imports when the operator allows 127.0.0.0/8; redirects to refused addresses are refused', async () => {
      const allowed = await startAuthServer({ env: { AGENTLENS_IMPORT_ALLOWED_NETWORKS: '127.0.0.0/8' } });
      try {
        const t = await loginOk(allowed, ADMIN_USER, ADMIN_PASSWORD);
        served.endpoint = `https://${uniqueName('imp-')}.example.com/a2a`;
        const r = await api(allowed, 'POST', '/api/v1/catalog/import', { token: t, body: { url: `${cards.base}/.well-known/agent-card.json` } });
        expect(r, 201);
        assert.equal(r.body.display_name, 'Imported Agent');
        assert.equal(r.body.endpoint, served.endpoint);
        assert.equal(r.body.status, 'registered');
        assert.equal(r.body.source, 'push');
        assert.match(served.headers['user-agent'], /^AgentLens\//);
        assert.equal(served.headers.accept, 'application/json');
        const c = await api(allowed, 'GET', `/api/v1/catalog/${r.body.id}/card`, { token: t });
        expect(c, 200);
        assert.equal(JSON.parse(c.text).name, 'Imported Agent');
        expect(await api(allowed, 'POST', '/api/v1/catalog/import', { token: t, body: { url: `${cards.base}/.well-known/agent-card.json` } }),
          409, 'an entry with this endpoint already exists');

        served.mcpEndpoint = `https://${uniqueName('impmcp-')}.example.com/mcp`;
        const m = await api(allowed, 'POST', '/api/v1/catalog/import', { token: t, body: { url: `${cards.base}/mcp/server.json` } });
        expect(m, 201);
        assert.equal(m.body.protocol, 'mcp');

        const redirected = await api(allowed, 'POST', '/api/v1/catalog/import', { token: t, body: { url: `${cards.base}/redirect` } });
        expect(redirected, 400, undefined, 'redirect to ::1');
        assert.match(redirected.body.error, /refused/);
        const missing = await api(allowed, 'POST', '/api/v1/catalog/import', { token: t, body: { url: `${cards.base}/missing` } });
        expect(missing, 502);
        assert.match(missing.body.error, /^could not fetch card from url: /);
        const html = await api(allowed, 'POST', '/api/v1/catalog/import', { token: t, body: { url: `${cards.base}/html` } });
        expect(html, 502);
        assert.match(html.body.error, /^could not fetch card from url: /);
      } finally {
        await allowed.stop();
      }
    });
  });

  describe('permissions', () => {
    it('a viewer reads the catalog but gets 403 on writes', async () => {
      const u = await createUser(server, token, { role_id: 'role-viewer' });
      const vt = await loginOk(server, u.username, u.password);
      const e = await create({ display_name: 'Viewer target', endpoint: `https://${uniqueName('viewer-')}.example.com` });
      expect(await api(server, 'GET', '/api/v1/catalog', { token: vt }), 200);
      expect(await api(server, 'GET', `/api/v1/catalog/${e.id}`, { token: vt }), 200);
      expect(await api(server, 'GET', '/api/v1/stats', { token: vt }), 200);
      expect(await api(server, 'GET', '/api/v1/capabilities', { token: vt }), 200);
      const forbidden = [
        ['POST', '/api/v1/catalog', { display_name: 'x', protocol: 'a2a', endpoint: 'https://v.example.com' }],
        ['POST', '/api/v1/catalog/register', card('a2a/v0.3-travel-desk.json')],
        ['POST', '/api/v1/catalog/validate', card('a2a/v0.3-travel-desk.json')],
        ['POST', '/api/v1/catalog/import', { url: 'https://example.com/card.json' }],
        ['PATCH', `/api/v1/catalog/${e.id}/lifecycle`, { state: 'deprecated' }],
        ['DELETE', `/api/v1/catalog/${e.id}`, undefined],
      ];
      for (const [method, p, body] of forbidden) {
        expect(await api(server, method, p, { token: vt, body }), 403, 'insufficient permissions', `${method} ${p}`);
      }
      expect(await get(`/api/v1/catalog/${e.id}`), 200, undefined, 'still there');
    });
  });
});
