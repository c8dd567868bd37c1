// SPDX-License-Identifier: Apache-2.0
// Accounts through the real binary: login, sessions and cookies, users, roles, settings,
// password change, the first-start admin banner, and operator policy rules from scripts.
// ctest runs this file once on SQLite and once on PostgreSQL (DIALECT).
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  ADMIN_PASSWORD, ADMIN_USER, COOKIE, api, createRole, createUser, decodeJwt, login, loginOk, parseSetCookie,
  show, startAuthServer, uniqueName,
} from '../support/auth.mjs';
import { luaTreeWithTestRoutes } from '../support/lua_tree.mjs';
import { DIALECT, ROOT, eventually, sqlCli, startServer, tempDir } from '../support/server.mjs';

function expect(r, status, error, what = '') {
  const label = `${what}${what ? ': ' : ''}${show(r)}`;
  assert.equal(r.status, status, label);
  if (error !== undefined) assert.equal(r.body?.error, error, label);
}
function cookieOf(r) {
  return r.headers.getSetCookie().map(parseSetCookie).find((c) => c.name === COOKIE);
}
const me = (server, token) => api(server, 'GET', '/api/v1/auth/me', { token });
const q = (s) => s.replace(/'/g, "''");
// A time column as RFC 3339 UTC text from the sqlite3 or psql command line.
const utc = (col) => (DIALECT === 'postgres' ? `to_char(${col} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')` : col);

describe(`accounts on ${DIALECT}`, () => {
  let server;
  let adminToken;
  let adminId;

  before(async () => {
    server = await startAuthServer();
    const r = await login(server, ADMIN_USER, ADMIN_PASSWORD);
    expect(r, 200, undefined, 'admin login');
    adminToken = r.token;
    adminId = r.body.user.id;
  });
  after(async () => { if (server) await server.stop(); });

  describe('sessions', () => {
    it('login, me, refresh and logout with a Bearer token; the session is a row in the database', async () => {
      const r = await login(server, ADMIN_USER, ADMIN_PASSWORD);
      expect(r, 200);
      assert.deepEqual(Object.keys(r.body).sort(), ['token', 'user']);
      assert.equal(r.body.user.role.name, 'admin');
      assert.equal(r.body.user.is_locked, false);
      assert.match(r.body.user.last_login, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
      const claims = decodeJwt(r.token).payload;
      assert.equal(claims.sub, adminId);
      assert.equal(claims.user_id, adminId);
      assert.equal(claims.username, ADMIN_USER);
      assert.equal(claims.role_id, 'role-admin');
      assert.equal(claims.permissions.length, 13);
      assert.match(claims.jti, /^[0-9a-f]{32}$/);
      const row = sqlCli(server, `SELECT user_id, revoked_at IS NULL FROM sessions WHERE id = '${q(claims.sid)}'`);
      assert.match(row, new RegExp(`^${adminId}\\|(1|t)$`), `session row: ${row}`);
      const expires = Date.parse(sqlCli(server, `SELECT ${utc('expires_at')} FROM sessions WHERE id = '${q(claims.sid)}'`));
      assert.ok(Math.abs(expires - (claims.iat + 168 * 3600) * 1000) < 5000, 'the session ends 168h after login (auth.session_max_lifetime)');

      expect(await me(server, r.token), 200);
      const refreshed = await api(server, 'POST', '/api/v1/auth/refresh', { token: r.token });
      expect(refreshed, 200);
      assert.equal(decodeJwt(refreshed.body.token).payload.sid, claims.sid);
      expect(await me(server, refreshed.body.token), 200);

      const out = await api(server, 'POST', '/api/v1/auth/logout', { token: r.token });
      expect(out, 200);
      assert.deepEqual(out.body, { message: 'logged out' });
      assert.equal(cookieOf(out).attrs['max-age'], '0');
      assert.equal(cookieOf(out).value, '');
      expect(await me(server, r.token), 401, 'invalid or expired token');
      expect(await me(server, refreshed.body.token), 401, 'invalid or expired token', 'the refreshed token of the same session');
      assert.match(sqlCli(server, `SELECT revoked_at IS NOT NULL FROM sessions WHERE id = '${q(claims.sid)}'`), /^(1|t)$/);
      expect(await me(server, adminToken), 200, undefined, 'other sessions are untouched');
    });

    it('the same round trip with the cookie alone (--cookie-secure=false: no Secure attribute)', async () => {
      const r = await login(server, ADMIN_USER, ADMIN_PASSWORD);
      const c = cookieOf(r);
      assert.equal(c.value, r.token);
      assert.deepEqual(c.attrs, { path: '/', httponly: true, samesite: 'Strict' });
      expect(await api(server, 'GET', '/api/v1/auth/me', { cookie: c.value }), 200);
      const refreshed = await api(server, 'POST', '/api/v1/auth/refresh', { cookie: c.value });
      expect(refreshed, 200);
      const c2 = cookieOf(refreshed);
      assert.equal(c2.value, refreshed.body.token);
      expect(await api(server, 'POST', '/api/v1/auth/logout', { cookie: c2.value }), 200);
      expect(await api(server, 'GET', '/api/v1/auth/me', { cookie: c2.value }), 401, 'invalid or expired token');
    });

    it('error bodies: 401 with a Bearer challenge; logout answers 200 without or with a bad token', async () => {
      const anon = await me(server);
      expect(anon, 401);
      assert.deepEqual(anon.body, { error: 'authentication required' });
      assert.equal(anon.headers.get('www-authenticate'), 'Bearer realm="agentlens"');
      const bad = await me(server, 'x.y.z');
      assert.deepEqual(bad.body, { error: 'invalid or expired token' });
      assert.match(bad.headers.get('www-authenticate'), /error="invalid_token"/);
      for (const token of [undefined, 'garbage']) {
        const out = await api(server, 'POST', '/api/v1/auth/logout', { token });
        expect(out, 200);
        assert.equal(cookieOf(out).attrs['max-age'], '0');
      }
      expect(await api(server, 'POST', '/api/v1/auth/login', { body: [] }), 400);
      expect(await api(server, 'POST', '/api/v1/auth/login', { body: { username: 'admin', password: 5 } }), 400,
        'username and password are required');
    });

    it('parallel wrong passwords all count: the account is locked after them', async () => {
      const u = await createUser(server, adminToken, { username: uniqueName('parallel-') });
      const wrong = await Promise.all(Array.from({ length: 6 }, () => login(server, u.username, 'Wr0ng-Password!')));
      for (const r of wrong) expect(r, 401, 'invalid credentials');
      expect(await login(server, u.username, u.password), 423, 'account is locked, try again later');
      assert.match(sqlCli(server, `SELECT failed_attempts FROM users WHERE id = '${u.id}'`), /^6$/);
      const listed = await api(server, 'GET', `/api/v1/users/${u.id}`, { token: adminToken });
      assert.equal(listed.body.is_locked, true);
      const unlocked = await api(server, 'POST', `/api/v1/users/${u.id}/unlock`, { token: adminToken });
      expect(unlocked, 200);
      assert.equal(unlocked.body.is_locked, false);
      assert.equal(sqlCli(server, `SELECT failed_attempts FROM users WHERE id = '${u.id}'`), '0');
    });
  });

  describe('users', () => {
    it('create, get, update, delete; usernames are validated; unknown fields are refused', async () => {
      const name = uniqueName('crud.');
      const created = await api(server, 'POST', '/api/v1/users', {
        token: adminToken,
        body: { username: name, password: 'Us3r-Pass-Sp3c!', role_id: 'role-editor', email: 'c@example.com', display_name: ' Crud ' },
      });
      expect(created, 201);
      const u = created.body;
      assert.equal(u.username, name);
      assert.equal(u.display_name, 'Crud');
      assert.equal(u.role.id, 'role-editor');
      assert.equal(u.last_login, null);
      assert.ok(!('password_hash' in u) && !('failed_attempts' in u) && !('locked_until' in u));
      assert.match(sqlCli(server, `SELECT password_hash FROM users WHERE id = '${u.id}'`), /^\$2[aby]\$12\$/);

      const got = await api(server, 'GET', `/api/v1/users/${u.id}`, { token: adminToken });
      assert.deepEqual(got.body, u);
      const put = await api(server, 'PUT', `/api/v1/users/${u.id}`, { token: adminToken, body: { email: 'd@example.com', display_name: 'Dee' } });
      expect(put, 200);
      assert.equal(put.body.email, 'd@example.com');
      assert.equal(put.body.display_name, 'Dee');
      assert.equal(put.body.role_id, 'role-editor', 'a partial update leaves the rest');
      expect(await api(server, 'PUT', `/api/v1/users/${u.id}`, { token: adminToken, body: { password: 'X' } }), 400, undefined, 'password via PUT /users');
      expect(await api(server, 'PUT', `/api/v1/users/${u.id}`, { token: adminToken, body: { role_id: 'role-nope' } }), 400, 'role not found');
      expect(await api(server, 'PUT', `/api/v1/users/${u.id}`, { token: adminToken, body: { email: 'not-an-address' } }), 400, 'email must be an e-mail address');

      for (const [username, why] of [['ab', 'at least 3'], ['a'.repeat(65), 'at most 64'], ['bad name', 'may contain only'], ['x/y', 'may contain only']]) {
        const r = await api(server, 'POST', '/api/v1/users', { token: adminToken, body: { username, password: 'Us3r-Pass-Sp3c!', role_id: 'role-viewer' } });
        expect(r, 400, undefined, username);
        assert.match(r.body.error, new RegExp(why), show(r));
        assert.equal(r.body.details[0].field, 'username');
      }
      const missing = await api(server, 'POST', '/api/v1/users', { token: adminToken, body: { username: uniqueName('m') } });
      expect(missing, 400);
      assert.deepEqual(missing.body.details.map((d) => d.field), ['password', 'role_id']);
      const weak = await api(server, 'POST', '/api/v1/users', { token: adminToken, body: { username: uniqueName('w'), password: 'abcdefghij!', role_id: 'role-viewer' } });
      expect(weak, 400, 'password must contain an upper-case letter and a digit');

      expect(await api(server, 'DELETE', `/api/v1/users/${u.id}`, { token: adminToken }), 204);
      expect(await api(server, 'GET', `/api/v1/users/${u.id}`, { token: adminToken }), 404, 'user not found');
      expect(await api(server, 'DELETE', `/api/v1/users/${u.id}`, { token: adminToken }), 404, 'user not found');
      expect(await api(server, 'POST', `/api/v1/users/${u.id}/unlock`, { token: adminToken }), 404, 'user not found');
    });

    it('lists pages with X-Total-Count; bad paging parameters are 400 naming the parameter', async () => {
      for (let i = 0; i < 3; i++) await createUser(server, adminToken, { username: uniqueName('page-') });
      const all = await api(server, 'GET', '/api/v1/users?limit=500', { token: adminToken });
      expect(all, 200);
      const total = Number(all.headers.get('x-total-count'));
      assert.equal(all.body.length, total);
      assert.equal(Number(sqlCli(server, 'SELECT count(*) FROM users')), total);
      const names = all.body.map((u) => u.username);
      assert.deepEqual(names, [...names].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)), 'ordered by username');
      const page = await api(server, 'GET', '/api/v1/users?limit=2&offset=1', { token: adminToken });
      assert.deepEqual(page.body.map((u) => u.username), names.slice(1, 3));
      assert.equal(page.headers.get('x-total-count'), String(total));
      const beyond = await api(server, 'GET', `/api/v1/users?offset=${total}`, { token: adminToken });
      assert.equal(beyond.text, '[]');
      for (const [query, param] of [['limit=0', 'limit'], ['limit=abc', 'limit'], ['limit=501', 'limit'], ['offset=-1', 'offset'], ['offset=1e3', 'offset']]) {
        const r = await api(server, 'GET', `/api/v1/users?${query}`, { token: adminToken });
        expect(r, 400, undefined, query);
        assert.match(r.body.error, new RegExp(`"${param}"`), show(r));
        assert.equal(r.body.details[0].field, param);
      }
    });

    it('disabling a user ends their sessions in the database', async () => {
      const u = await createUser(server, adminToken, { username: uniqueName('off-') });
      const t = await loginOk(server, u.username, u.password);
      expect(await api(server, 'PUT', `/api/v1/users/${u.id}`, { token: adminToken, body: { is_active: false } }), 200);
      assert.equal(sqlCli(server, `SELECT count(*) FROM sessions WHERE user_id = '${u.id}' AND revoked_at IS NULL`), '0');
      expect(await me(server, t), 401, 'invalid or expired token');
    });

    it('self-service profile: PUT /auth/me changes email and display name only', async () => {
      const u = await createUser(server, adminToken, { username: uniqueName('self-') });
      const t = await loginOk(server, u.username, u.password);
      const r = await api(server, 'PUT', '/api/v1/auth/me', { token: t, body: { email: 'me@example.com', display_name: 'Me' } });
      expect(r, 200);
      assert.equal(r.body.email, 'me@example.com');
      assert.equal(r.body.display_name, 'Me');
      const esc = await api(server, 'PUT', '/api/v1/auth/me', { token: t, body: { role_id: 'role-admin' } });
      expect(esc, 400);
      assert.match(esc.body.error, /unknown field "role_id"/);
      assert.equal((await me(server, t)).body.role_id, 'role-viewer');
    });
  });

  describe('password change', () => {
    it('revokes every session of the user, the current one included, and clears the cookie', async () => {
      const u = await createUser(server, adminToken, { username: uniqueName('pw-') });
      const t1 = await loginOk(server, u.username, u.password);
      const t2 = await loginOk(server, u.username, u.password);
      const put = (body) => api(server, 'PUT', '/api/v1/auth/password', { token: t1, body });
      expect(await put({ current_password: u.password, new_password: 'short1!A' }), 400, 'password must contain at least 10 characters');
      expect(await put({ current_password: 'Wr0ng-Current!', new_password: 'N3w-Password-Spec?' }), 401, 'current password is incorrect');
      expect(await put({ current_password: u.password, new_password: u.password }), 400, 'the new password must differ from the current one');
      const ok = await put({ current_password: u.password, new_password: 'N3w-Password-Spec?' });
      expect(ok, 200);
      assert.deepEqual(ok.body, { message: 'password changed' });
      assert.equal(cookieOf(ok).attrs['max-age'], '0');
      assert.equal(sqlCli(server, `SELECT count(*) FROM sessions WHERE user_id = '${u.id}' AND revoked_at IS NULL`), '0');
      expect(await me(server, t1), 401, 'invalid or expired token');
      expect(await me(server, t2), 401, 'invalid or expired token');
      expect(await login(server, u.username, 'N3w-Password-Spec?'), 200);
    });
  });

  describe('roles', () => {
    it('create, get, list, update and delete a custom role; permissions are validated', async () => {
      const perms = await api(server, 'GET', '/api/v1/permissions', { token: adminToken });
      expect(perms, 200);
      assert.equal(perms.body.length, 13);
      for (const p of perms.body) assert.ok(p.name && p.description, JSON.stringify(p));

      const name = uniqueName('ops-');
      const created = await api(server, 'POST', '/api/v1/roles', { token: adminToken, body: { name, description: 'ops', permissions: ['catalog:read', 'catalog:read', 'users:read'] } });
      expect(created, 201);
      const role = created.body;
      assert.deepEqual(role.permissions, ['catalog:read', 'users:read'], 'duplicates dropped');
      assert.equal(role.is_system, false);
      const got = await api(server, 'GET', `/api/v1/roles/${role.id}`, { token: adminToken });
      assert.deepEqual(got.body, role);
      expect(await api(server, 'GET', '/api/v1/roles/no-such-role', { token: adminToken }), 404, 'role not found');

      const list = await api(server, 'GET', '/api/v1/roles?limit=2', { token: adminToken });
      expect(list, 200);
      assert.equal(list.body.length, 2);
      assert.equal(Number(list.headers.get('x-total-count')), Number(sqlCli(server, 'SELECT count(*) FROM roles')));
      expect(await api(server, 'GET', '/api/v1/roles?limit=x', { token: adminToken }), 400);

      const unknown = await api(server, 'PUT', `/api/v1/roles/${role.id}`, { token: adminToken, body: { permissions: ['catalog:read', 'catalog:frob', 'all'] } });
      expect(unknown, 400);
      assert.match(unknown.body.error, /^unknown permissions: catalog:frob, all/);
      const renamed = uniqueName('ops2-');
      const upd = await api(server, 'PUT', `/api/v1/roles/${role.id}`, { token: adminToken, body: { name: renamed, permissions: ['settings:read'] } });
      expect(upd, 200);
      assert.equal(upd.body.name, renamed);
      assert.equal(upd.body.description, 'ops', 'a partial update leaves the rest');
      assert.deepEqual(upd.body.permissions, ['settings:read']);
      expect(await api(server, 'PUT', `/api/v1/roles/${role.id}`, { token: adminToken, body: { name: 'admin' } }), 409, 'role name already exists');
      expect(await api(server, 'POST', '/api/v1/roles', { token: adminToken, body: { name: 'x'.repeat(65) } }), 400, 'name must be at most 64 characters');

      const holder = await createUser(server, adminToken, { username: uniqueName('holder-'), role_id: role.id });
      expect(await api(server, 'DELETE', `/api/v1/roles/${role.id}`, { token: adminToken }), 409, 'role is in use by 1 user');
      expect(await api(server, 'DELETE', `/api/v1/users/${holder.id}`, { token: adminToken }), 204);
      expect(await api(server, 'DELETE', `/api/v1/roles/${role.id}`, { token: adminToken }), 204);
      expect(await api(server, 'GET', `/api/v1/roles/${role.id}`, { token: adminToken }), 404);
    });

    it('system roles cannot be changed or deleted', async () => {
      for (const id of ['role-admin', 'role-editor', 'role-viewer']) {
        expect(await api(server, 'PUT', `/api/v1/roles/${id}`, { token: adminToken, body: { description: 'x' } }), 400, 'system roles cannot be changed', id);
        expect(await api(server, 'DELETE', `/api/v1/roles/${id}`, { token: adminToken }), 400, 'cannot delete system role', id);
      }
      assert.match(sqlCli(server, "SELECT permissions FROM roles WHERE id = 'role-admin'"), /service_accounts:revoke/);
    });
  });

  describe('settings', () => {
    it('GET lists every known key with type, limits, default and value', async () => {
      const r = await api(server, 'GET', '/api/v1/settings', { token: adminToken });
      expect(r, 200);
      const byKey = Object.fromEntries(r.body.map((s) => [s.key, s]));
      for (const key of ['app.name', 'app.registration_enabled', 'app.default_role', 'ui.theme', 'ui.items_per_page', 'ui.poll_interval',
        'health.check_enabled', 'health.check_interval', 'health.check_timeout', 'health.degraded_latency', 'health.failure_threshold']) {
        assert.ok(byKey[key], `${key} is listed`);
        assert.ok(byKey[key].description && byKey[key].category && byKey[key].type, JSON.stringify(byKey[key]));
      }
      assert.deepEqual(byKey['ui.items_per_page'], {
        key: 'ui.items_per_page', value: 25, default: 25, type: 'integer', min: 5, max: 500, category: 'ui',
        description: byKey['ui.items_per_page'].description, updated_at: null,
      });
      assert.deepEqual(byKey['ui.theme'].allowed, ['light', 'dark', 'system']);
      assert.equal(byKey['app.registration_enabled'].value, true);
      assert.equal(byKey['health.check_interval'].unit, 'seconds');
      const health = await api(server, 'GET', '/api/v1/settings/health', { token: adminToken });
      expect(health, 200);
      assert.ok(health.body.length >= 5 && health.body.every((s) => s.category === 'health'));
      expect(await api(server, 'GET', '/api/v1/settings/nope', { token: adminToken }), 404);
    });

    it('PUT validates every key first, then writes them all typed; null restores the default', async () => {
      const put = (body, token = adminToken) => api(server, 'PUT', '/api/v1/settings', { token, body });
      const unknown = await put({ 'ui.theme': 'dark', 'no.such': 1, 'also.not': true });
      expect(unknown, 400);
      assert.match(unknown.body.error, /unknown settings: also\.not, no\.such/);
      const bad = await put({ 'ui.theme': 'pink', 'ui.items_per_page': 4, 'app.default_role': 'ghost', 'app.name': 'Fine' });
      expect(bad, 400);
      assert.deepEqual(bad.body.details.map((d) => d.field), ['app.default_role', 'ui.items_per_page', 'ui.theme']);
      assert.match(bad.body.details[2].message, /light, dark, system/);
      const unchanged = await api(server, 'GET', '/api/v1/settings/general', { token: adminToken });
      assert.equal(unchanged.body.find((s) => s.key === 'app.name').value, 'AgentLens', 'nothing was written');
      expect(await put([1, 2]), 400, 'request body must be a JSON object');

      const ok = await put({ 'ui.theme': 'dark', 'ui.items_per_page': '50', 'health.check_enabled': 'false', 'health.check_interval': '5m', 'app.default_role': 'editor' });
      expect(ok, 200);
      assert.deepEqual(ok.body, { message: 'settings updated' });
      const after = Object.fromEntries((await api(server, 'GET', '/api/v1/settings', { token: adminToken })).body.map((s) => [s.key, s]));
      assert.equal(after['ui.theme'].value, 'dark');
      assert.equal(after['ui.items_per_page'].value, 50);
      assert.equal(after['health.check_enabled'].value, false);
      assert.equal(after['health.check_interval'].value, 300);
      assert.equal(after['app.default_role'].value, 'editor');
      assert.match(after['ui.theme'].updated_at, /^\d{4}-\d\d-\d\dT/);
      assert.equal(sqlCli(server, "SELECT value FROM settings WHERE key = 'ui.items_per_page'"), '50');

      expect(await put({ 'ui.items_per_page': null }), 200);
      const reset = (await api(server, 'GET', '/api/v1/settings/ui', { token: adminToken })).body.find((s) => s.key === 'ui.items_per_page');
      assert.equal(reset.value, 25);
      assert.equal(reset.updated_at, null);

      const viewer = await createUser(server, adminToken, { username: uniqueName('sv-') });
      const vt = await loginOk(server, viewer.username, viewer.password);
      expect(await api(server, 'GET', '/api/v1/settings', { token: vt }), 200);
      expect(await put({ 'ui.theme': 'light' }, vt), 403, 'insufficient permissions');
    });
  });

  it('system status names the generation and the last reload error', async () => {
    const r = await api(server, 'GET', '/api/v1/system', { token: adminToken });
    expect(r, 200);
    assert.equal(typeof r.body.version, 'string');
    assert.ok(r.body.generation && r.body.generation.id >= 1, show(r));
    assert.equal(r.body.last_reload_error, null);
  });
});

describe(`first start on ${DIALECT}`, () => {
  it('without AGENTLENS_ADMIN_PASSWORD: prints the generated password once to stdout, never to the log', async () => {
    const data = tempDir();
    let server = await startServer({ dataDir: data });
    try {
      await eventually(() => server.stdout.includes('CHANGE THIS PASSWORD IMMEDIATELY'));
      const lines = server.stdout.split('\n').filter((l) => l.trim() !== '');
      assert.equal(lines[0], 'INITIAL ADMIN CREDENTIALS');
      assert.equal(lines[lines.length - 1], 'CHANGE THIS PASSWORD IMMEDIATELY');
      assert.ok(lines.includes('Username: admin'), server.stdout);
      const pwLine = lines.find((l) => l.startsWith('Password: '));
      const password = pwLine.slice('Password: '.length);
      assert.equal(password.length, 20);
      assert.match(password, /[A-Z]/);
      assert.match(password, /[a-z]/);
      assert.match(password, /[0-9]/);
      assert.match(password, /[!@#$%^&*()]/);
      assert.ok(!JSON.stringify(server.logs).includes(password), 'the password is not in the log');

      const r = await login(server, 'admin', password);
      expect(r, 200);
      assert.equal(r.body.user.display_name, 'Administrator');
      assert.equal(r.body.user.role_id, 'role-admin');
      assert.equal(cookieOf(r).attrs.secure, true, 'the cookie is Secure by default');

      const env = server.env;
      await server.stop();
      server = await startServer({ dataDir: data, env });
      assert.ok(!server.stdout.includes('INITIAL ADMIN CREDENTIALS'), 'no second banner');
      assert.equal(sqlCli(server, 'SELECT count(*) FROM users'), '1');
    } finally {
      await server.stop();
      rmSync(data, { recursive: true, force: true });
    }
  });

  it('a weak AGENTLENS_ADMIN_PASSWORD stops start-up with a clear message', async () => {
    const server = await startServer({ env: { AGENTLENS_ADMIN_PASSWORD: 'weakpassword' }, waitReady: false });
    try {
      const log = await server.waitForLog((e) => /does not meet the password policy/.test(JSON.stringify(e)));
      assert.match(JSON.stringify(log), /AGENTLENS_ADMIN_PASSWORD.*password must contain an upper-case letter, a digit and a symbol/);
      assert.equal(log.msg, 'start-up tasks failed (agentlens.startup); stopping');
      assert.deepEqual(await server.exit, { code: 1, signal: null });
      assert.ok(!server.stdout.includes('INITIAL ADMIN CREDENTIALS'));
    } finally {
      await server.stop();
    }
  });
});

describe(`operator policy rules on ${DIALECT}`, () => {
  let tree;
  let scripts;
  let server;
  let adminToken;

  const CATALOG_ROUTES = `
    { method = "GET", path = "/api/test/catalog", permission = "catalog:read", handler = require("agentlens.api.testing").answer },
    { method = "DELETE", path = "/api/test/catalog", permission = "catalog:delete", handler = require("agentlens.api.testing").answer },`;

  async function reloadAndWait() {
    const before = (await api(server, 'GET', '/api/v1/system', { token: adminToken })).body;
    expect(await api(server, 'POST', '/api/v1/system/reload', { token: adminToken }), 202);
    return eventually(async () => {
      const now = (await api(server, 'GET', '/api/v1/system', { token: adminToken })).body;
      const changed = now.generation.id !== before.generation.id
        || JSON.stringify(now.last_reload_error) !== JSON.stringify(before.last_reload_error);
      return changed && now;
    }, { timeoutMs: 10000 });
  }

  before(async () => {
    tree = luaTreeWithTestRoutes();
    const src = readFileSync(tree.app, 'utf8');
    writeFileSync(tree.app, src.replace('routes = {', `routes = {${CATALOG_ROUTES}`));
    scripts = tempDir('agentlens-scripts-');
    mkdirSync(scripts, { recursive: true });
    for (const f of ['deny-delete-outside-admins.lua', 'anonymous-catalog-read.lua']) {
      copyFileSync(path.join(ROOT, 'examples', 'scripts', f), path.join(scripts, f));
    }
    // no file watching: reloads happen only when the test asks, so each one is observed alone
    server = await startAuthServer({ args: ['--lua-dir', tree.dir, '--scripts-dir', scripts, '--lua-watch=false'] });
    adminToken = await loginOk(server, ADMIN_USER, ADMIN_PASSWORD);
  });
  after(async () => {
    if (server) await server.stop();
    rmSync(tree.dir, { recursive: true, force: true });
    rmSync(scripts, { recursive: true, force: true });
  });

  it('the shipped examples: anonymous catalog reads; catalog deletes for the admin role only', async () => {
    expect(await api(server, 'GET', '/api/test/catalog'), 200, undefined, 'anonymous read');
    expect(await api(server, 'DELETE', '/api/test/catalog'), 401, 'authentication required', 'anonymous delete');
    expect(await api(server, 'DELETE', '/api/test/catalog', { token: adminToken }), 200, undefined, 'admin delete');
    const deleter = await createRole(server, adminToken, { name: uniqueName('deleter-'), permissions: ['catalog:read', 'catalog:delete'] });
    const u = await createUser(server, adminToken, { username: uniqueName('deleter-'), role_id: deleter.id });
    const t = await loginOk(server, u.username, u.password);
    expect(await api(server, 'DELETE', '/api/test/catalog', { token: t }), 403, 'only administrators may delete catalog entries');
    expect(await api(server, 'GET', '/api/v1/users', { token: t }), 403, 'insufficient permissions', 'other routes: built-in RBAC');
  });

  it('a rule of the wrong shape fails the reload and the previous rules keep serving; a failing rule denies', async () => {
    const bad = path.join(scripts, '00-bad.lua');
    writeFileSync(bad, 'return { rules = { { name = "typo", when = function() return true end, decison = "allow" } } }\n');
    const failed = await reloadAndWait();
    assert.match(failed.last_reload_error.message, /00-bad\.lua: rules\[1\] \("typo"\): unknown field "decison"/);
    expect(await api(server, 'GET', '/api/test/catalog'), 200, undefined, 'the previous rules still serve');

    writeFileSync(bad, `return { rules = {
      { name = "boom", when = function(ctx) return ctx.request.header("x-boom") and ctx.user.id end, decision = "allow" },
      { name = "loop", when = function(ctx) while ctx.request.header("x-loop") do end return false end, decision = "deny" },
    } }\n`);
    const ok = await reloadAndWait();
    assert.equal(ok.last_reload_error, null);
    expect(await api(server, 'GET', '/api/test/catalog', { headers: { 'X-Boom': '1' } }), 403, 'access denied: a policy rule failed');
    const looping = await api(server, 'GET', '/api/test/catalog', { headers: { 'X-Loop': '1' } });
    expect(looping, 403, 'access denied: a policy rule failed', 'an endless loop is stopped');
    assert.ok(looping.ms < 2000, `stopped quickly (${Math.round(looping.ms)} ms)`);
    await server.waitForLog((e) => e.msg === 'policy rule failed; denying the request' && e.rule === 'boom');
    await server.waitForLog((e) => e.msg === 'policy rule failed; denying the request' && /instruction budget/.test(e.error));
    expect(await api(server, 'GET', '/api/test/catalog'), 200, undefined, 'without the headers the rules do not match');
    unlinkSync(bad);
    await reloadAndWait();
  });
});
