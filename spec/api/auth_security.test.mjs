// SPDX-License-Identifier: Apache-2.0
// Accounts from the outside: login and cookie, forged tokens, revocation on logout and password
// change, refresh and the absolute session lifetime, lockout, login timing, user and role
// administration (immediate effect, last-admin guards, password policy), and logins not stalling
// reads. Written against the reference (5.1, 5.3, 5.10, 6.1-6.7, 15 items 2-11), not the code.
// ctest runs this file once on SQLite and once on PostgreSQL (DIALECT).
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { rmSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import {
  ADMIN_PASSWORD, ADMIN_USER, COOKIE, JWT_SECRET, api, createRole, createUser, decodeJwt, login, loginOk,
  median, parseSetCookie, percentile, setClock, show, signJwt, startAuthServer, uniqueName,
} from '../support/auth.mjs';
import { luaTreeWithTestRoutes } from '../support/lua_tree.mjs';
import { DIALECT, sleep, tempDir } from '../support/server.mjs';

const INVALID = 'invalid or expired token';
const REQUIRED = 'authentication required';
const FORBIDDEN = 'insufficient permissions';
const BAD_LOGIN = 'invalid credentials';
const LOCKED = 'account is locked, try again later';
const DISABLED = 'account is disabled';
const NEW_PASSWORD = 'N3w-Password-Spec?';

function expect(r, status, error, what = '') {
  assert.equal(r.status, status, `${what}${what ? ': ' : ''}${show(r)}`);
  if (error !== undefined) assert.equal(r.body?.error, error, `${what}${what ? ': ' : ''}${show(r)}`);
}
const me = (server, token) => api(server, 'GET', '/api/v1/auth/me', { token });
function sessionCookie(r) {
  const c = r.headers.getSetCookie().map(parseSetCookie).find((x) => x.name === COOKIE);
  assert.ok(c, `a ${COOKIE} cookie is set: ${JSON.stringify(r.headers.getSetCookie())}`);
  return c;
}
const nowS = () => Math.floor(Date.now() / 1000);
const HIDDEN_USER_FIELDS = ['password_hash', 'failed_attempts', 'locked_until', 'password'];
function assertUserJson(u, what) {
  assert.equal(typeof u, 'object', `${what}: a user object`);
  for (const f of HIDDEN_USER_FIELDS) assert.ok(!(f in u), `${what}: user JSON must not expose ${f}: ${JSON.stringify(u)}`);
}

describe(`auth security on ${DIALECT}`, () => {
  let tree;
  let server; // --cookie-secure=false, known JWT secret, test routes (clock)
  let adminToken;
  let adminId;

  before(async () => {
    tree = luaTreeWithTestRoutes();
    server = await startAuthServer({ args: ['--lua-dir', tree.dir] });
    const r = await login(server, ADMIN_USER, ADMIN_PASSWORD);
    expect(r, 200, undefined, 'the first-start admin logs in with AGENTLENS_ADMIN_PASSWORD');
    adminToken = r.token;
    adminId = r.body.user.id;
  });
  after(async () => {
    if (server) await server.stop();
    rmSync(tree.dir, { recursive: true, force: true });
  });

  describe('login, cookie and token', () => {
    it('login answers {token, user} and sets an HttpOnly SameSite=Strict session cookie, not Secure with --cookie-secure=false', async () => {
      const r = await login(server, ADMIN_USER, ADMIN_PASSWORD);
      expect(r, 200);
      assert.equal(typeof r.body.token, 'string');
      assert.equal(r.body.user.username, ADMIN_USER);
      assert.equal(r.body.user.id, adminId);
      assertUserJson(r.body.user, 'login');
      const c = sessionCookie(r);
      assert.equal(c.value, r.body.token, 'the cookie carries the token');
      assert.equal(c.attrs.path, '/');
      assert.equal(c.attrs.httponly, true, 'HttpOnly');
      assert.equal(String(c.attrs.samesite).toLowerCase(), 'strict', 'SameSite=Strict');
      assert.ok(!('secure' in c.attrs), `no Secure with --cookie-secure=false: ${r.setCookie}`);
      assert.ok(!('max-age' in c.attrs) && !('expires' in c.attrs), `a session cookie (no Max-Age, no Expires): ${r.setCookie}`);
    });

    it('the Bearer header and the cookie both authenticate; /auth/me has the role preloaded', async () => {
      const bearer = await me(server, adminToken);
      expect(bearer, 200);
      assert.equal(bearer.body.username, ADMIN_USER);
      assertUserJson(bearer.body, '/auth/me');
      assert.equal(bearer.body.role?.id, 'role-admin', `role preloaded: ${show(bearer)}`);
      assert.ok(bearer.body.role.permissions.includes('users:write'));
      const cookie = await api(server, 'GET', '/api/v1/auth/me', { cookie: adminToken });
      expect(cookie, 200);
      assert.equal(cookie.body.username, ADMIN_USER);
    });

    it('missing credentials: 401 "authentication required"; a garbage token or cookie: 401 "invalid or expired token"', async () => {
      expect(await me(server), 401, REQUIRED);
      expect(await me(server, 'not-a-jwt'), 401, INVALID, 'garbage Bearer');
      expect(await me(server, 'a.b.c'), 401, INVALID, 'three garbage segments');
      expect(await api(server, 'GET', '/api/v1/auth/me', { cookie: 'not-a-jwt' }), 401, INVALID, 'garbage cookie');
    });

    it('error bodies are {"error": message}, with "details" only as a list', async () => {
      const viewer = await createUser(server, adminToken, { username: uniqueName('shape-') });
      const vt = await loginOk(server, viewer.username, viewer.password);
      const cases = {
        'missing token (401)': await me(server),
        'invalid token (401)': await me(server, 'a.b.c'),
        'insufficient permissions (403)': await api(server, 'POST', '/api/v1/roles', { token: vt, body: {} }),
        'invalid credentials (401)': await login(server, uniqueName('nobody-'), 'Wr0ng-Password!'),
        'password policy (400)': await api(server, 'POST', '/api/v1/users', { token: adminToken, body: { username: uniqueName('p-'), password: 'short', role_id: 'role-viewer' } }),
      };
      const bad = [];
      for (const [what, r] of Object.entries(cases)) {
        const ok = r.status >= 400 && typeof r.body?.error === 'string'
          && Object.keys(r.body).every((k) => k === 'error' || k === 'request_id' || (k === 'details' && Array.isArray(r.body.details)));
        if (!ok) bad.push(`${what}: ${show(r)}`);
      }
      assert.deepEqual(bad, []);
    });

    it('login refuses malformed bodies with 400', async () => {
      expect(await api(server, 'POST', '/api/v1/auth/login', { body: 'not json' }), 400, undefined, 'not JSON');
      expect(await api(server, 'POST', '/api/v1/auth/login', { body: { username: ADMIN_USER } }), 400, undefined, 'no password');
      expect(await api(server, 'POST', '/api/v1/auth/login', { body: { username: '', password: 'x' } }), 400, undefined, 'empty username');
    });

    it('the token is HS256 with sub, sid, iat, nbf, exp (iat + 24h by default) and iss "agentlens"', () => {
      const { header, payload } = decodeJwt(adminToken);
      assert.equal(header.alg, 'HS256');
      assert.equal(payload.sub, adminId);
      assert.equal(typeof payload.sid, 'string');
      assert.ok(payload.sid.length > 0);
      for (const c of ['iat', 'nbf', 'exp']) assert.ok(Number.isInteger(payload[c]), `${c} is an integer: ${JSON.stringify(payload)}`);
      assert.ok(Math.abs(payload.exp - payload.iat - 86400) <= 5, `exp = iat + 24h: ${JSON.stringify(payload)}`);
      assert.ok(payload.nbf <= payload.iat + 1);
      assert.equal(payload.iss, 'agentlens');
    });
  });

  describe('forged tokens', () => {
    it('a token re-signed here with the configured secret is accepted (control for the forgeries)', async () => {
      const { payload } = decodeJwt(adminToken);
      expect(await me(server, signJwt({ alg: 'HS256', typ: 'JWT' }, payload)), 200);
    });

    it('every forgery is refused with 401 "invalid or expired token"', async () => {
      const { payload } = decodeJwt(adminToken);
      const hs256 = { alg: 'HS256', typ: 'JWT' };
      const now = nowS();
      const [h, p, s] = adminToken.split('.');
      const tampered = Buffer.from(JSON.stringify({ ...payload, exp: payload.exp + 3600 })).toString('base64url');
      const noneInput = `${Buffer.from(JSON.stringify({ alg: 'none', typ: 'JWT' })).toString('base64url')}.${p}`;
      const without = (k) => { const c = { ...payload }; delete c[k]; return c; };
      const forgeries = {
        'wrong signature (another secret)': signJwt(hs256, payload, 'another-secret-0123456789-abcdefghijklmno'),
        'payload changed after signing': `${h}.${tampered}.${s}`,
        'signature stripped': `${h}.${p}.`,
        'HS512 with the same secret': signJwt({ alg: 'HS512', typ: 'JWT' }, payload),
        'HS384 with the same secret': signJwt({ alg: 'HS384', typ: 'JWT' }, payload),
        'alg none without a signature': signJwt({ alg: 'none', typ: 'JWT' }, payload),
        'alg none with the original signature': `${noneInput}.${s}`,
        'alg none with a valid HMAC of its input': `${noneInput}.${createHmac('sha256', JWT_SECRET).update(noneInput).digest('base64url')}`,
        expired: signJwt(hs256, { ...payload, iat: now - 7200, nbf: now - 7200, exp: now - 60 }),
        'nbf in the future': signJwt(hs256, { ...payload, nbf: now + 3600 }),
        'wrong issuer': signJwt(hs256, { ...payload, iss: 'not-agentlens' }),
        'no issuer': signJwt(hs256, without('iss')),
        'no exp': signJwt(hs256, without('exp')),
      };
      const accepted = [];
      for (const [name, token] of Object.entries(forgeries)) {
        const r = await me(server, token);
        if (r.status !== 401 || r.body?.error !== INVALID) accepted.push(`${name}: ${show(r)}`);
      }
      assert.deepEqual(accepted, []);
    });
  });

  describe('revocation and refresh', () => {
    it('logout revokes that session (Bearer or cookie) and clears the cookie; other sessions stay valid', async () => {
      const t1 = await loginOk(server, ADMIN_USER, ADMIN_PASSWORD);
      const t2 = await loginOk(server, ADMIN_USER, ADMIN_PASSWORD);
      expect(await me(server, t1), 200);
      const out = await api(server, 'POST', '/api/v1/auth/logout', { token: t1 });
      expect(out, 200);
      assert.deepEqual(out.body, { message: 'logged out' });
      const c = sessionCookie(out);
      assert.ok(Number(c.attrs['max-age']) <= 0 || Date.parse(c.attrs.expires) < Date.now(),
        `logout expires the cookie: ${JSON.stringify(out.headers.getSetCookie())}`);
      expect(await me(server, t1), 401, INVALID, 'the logged-out token');
      expect(await api(server, 'GET', '/api/v1/auth/me', { cookie: t1 }), 401, INVALID, 'the logged-out token as a cookie');
      expect(await api(server, 'POST', '/api/v1/auth/refresh', { token: t1 }), 401, undefined, 'refresh with the logged-out token');
      expect(await me(server, t2), 200, undefined, 'another session of the same user');
      expect(await me(server, adminToken), 200, undefined, 'the shared admin session');
      expect(await api(server, 'POST', '/api/v1/auth/logout', { cookie: t2 }), 200, undefined, 'logout by cookie');
      expect(await me(server, t2), 401, INVALID, 'the session logged out by cookie');
    });

    it('refresh returns a new token in the same session; logging that out revokes the earlier token too', async () => {
      const t = await loginOk(server, ADMIN_USER, ADMIN_PASSWORD);
      await sleep(1100); // a different iat
      const r = await api(server, 'POST', '/api/v1/auth/refresh', { token: t });
      expect(r, 200);
      const fresh = r.body.token;
      assert.equal(typeof fresh, 'string');
      assert.notEqual(fresh, t);
      assert.equal(sessionCookie(r).value, fresh, 'refresh sets the new cookie');
      const a = decodeJwt(t).payload;
      const b = decodeJwt(fresh).payload;
      assert.equal(b.sid, a.sid, 'same session');
      assert.equal(b.sub, a.sub);
      assert.ok(b.exp > a.exp, 'the refreshed token lives longer');
      expect(await me(server, fresh), 200);
      expect(await api(server, 'POST', '/api/v1/auth/logout', { token: fresh }), 200);
      expect(await me(server, fresh), 401, INVALID, 'the refreshed token after logout');
      expect(await me(server, t), 401, INVALID, 'the earlier token of the logged-out session');
      expect(await api(server, 'POST', '/api/v1/auth/refresh', { token: 'garbage' }), 401, INVALID, 'refresh with garbage');
      expect(await api(server, 'POST', '/api/v1/auth/refresh'), 401, REQUIRED, 'refresh without a token');
    });

    it('a password change revokes every earlier token of the user; the policy applies; the new password works', async () => {
      const u = await createUser(server, adminToken, { username: uniqueName('pwchange-') });
      const t1 = await loginOk(server, u.username, u.password);
      const t2 = await loginOk(server, u.username, u.password);
      const put = (token, body) => api(server, 'PUT', '/api/v1/auth/password', { token, body });
      expect(await put(t1, {}), 400, undefined, 'missing fields');
      expect(await put(t1, { current_password: u.password, new_password: 'weak' }), 400, undefined, 'weak new password');
      expect(await put(t1, { current_password: 'Wr0ng-Current!x', new_password: NEW_PASSWORD }), 401, undefined, 'wrong current password');
      expect(await me(server, t1), 200, undefined, 'refused changes leave the session alone');
      const ok = await put(t1, { current_password: u.password, new_password: NEW_PASSWORD });
      expect(ok, 200);
      assert.equal(ok.body.message, 'password changed');
      expect(await me(server, t1), 401, INVALID, 'the token that changed the password');
      expect(await me(server, t2), 401, INVALID, 'another earlier token of the user');
      expect(await me(server, adminToken), 200, undefined, 'other users are not affected');
      expect(await login(server, u.username, u.password), 401, BAD_LOGIN, 'the old password');
      expect(await login(server, u.username, NEW_PASSWORD), 200, undefined, 'the new password');
    });
  });

  describe('lockout and login timing', () => {
    it('5 wrong passwords lock for 15 minutes: 423 only with the right password; after the lock the counter restarts', async () => {
      const u = await createUser(server, adminToken, { username: uniqueName('lock-') });
      try {
        for (let i = 1; i <= 5; i++) expect(await login(server, u.username, 'Wr0ng-Password!'), 401, BAD_LOGIN, `wrong password #${i}`);
        expect(await login(server, u.username, 'Wr0ng-Password!'), 401, BAD_LOGIN, 'locked + wrong password: no hint of the lock');
        expect(await login(server, u.username, u.password), 423, LOCKED, 'locked + right password');
        await setClock(server, 14 * 60);
        expect(await login(server, u.username, u.password), 423, LOCKED, 'still locked after 14 minutes');
        await setClock(server, 16 * 60);
        expect(await login(server, u.username, 'Wr0ng-Password!'), 401, BAD_LOGIN, 'one wrong password after the lock expired');
        expect(await login(server, u.username, u.password), 200, undefined, 'the expired lock does not come back after one more failure');
      } finally {
        await setClock(server, 0);
      }
    });

    it('a successful login resets the failure counter', async () => {
      const u = await createUser(server, adminToken, { username: uniqueName('reset-') });
      for (let i = 1; i <= 4; i++) expect(await login(server, u.username, 'Wr0ng-Password!'), 401, BAD_LOGIN, `first run, wrong #${i}`);
      expect(await login(server, u.username, u.password), 200, undefined, 'success after 4 failures');
      for (let i = 1; i <= 4; i++) expect(await login(server, u.username, 'Wr0ng-Password!'), 401, BAD_LOGIN, `second run, wrong #${i}`);
      expect(await login(server, u.username, u.password), 200, undefined, '4 more failures do not lock: the counter was reset');
    });

    it('unknown user and wrong password: both 401 "invalid credentials" in about the same time (bcrypt either way)', async () => {
      const u = await createUser(server, adminToken, { username: uniqueName('timing-') });
      const unknown = uniqueName('nobody-');
      await login(server, unknown, 'Wr0ng-Password!'); // warm-up
      const known = [];
      const missing = [];
      for (let i = 0; i < 5; i++) {
        const a = await login(server, u.username, 'Wr0ng-Password!');
        expect(a, 401, BAD_LOGIN, 'wrong password');
        known.push(a.ms);
        const b = await login(server, unknown, 'Wr0ng-Password!');
        expect(b, 401, BAD_LOGIN, 'unknown user');
        missing.push(b.ms);
      }
      // The fastest of five interleaved tries is the service time with the least noise from
      // other load on the machine (medians swing under parallel test runs).
      const mk = Math.min(...known);
      const mu = Math.min(...missing);
      const detail = `wrong password ${known.map(Math.round)} ms (fastest ${Math.round(mk)}), unknown user ${missing.map(Math.round)} ms (fastest ${Math.round(mu)})`;
      assert.ok(mk >= 150 && mu >= 150, `both spend bcrypt time (>= 150 ms): ${detail}`);
      assert.ok(Math.max(mk, mu) / Math.min(mk, mu) <= 1.4, `fastest tries within 40% of each other: ${detail}`);
    });

    it('a disabled account: 403 "account is disabled" only with the right password', async () => {
      const u = await createUser(server, adminToken, { username: uniqueName('disabledlogin-') });
      expect(await api(server, 'PUT', `/api/v1/users/${u.id}`, { token: adminToken, body: { is_active: false } }), 200);
      expect(await login(server, u.username, 'Wr0ng-Password!'), 401, BAD_LOGIN, 'disabled + wrong password');
      expect(await login(server, u.username, u.password), 403, DISABLED, 'disabled + right password');
    });
  });

  describe('user administration', () => {
    it('admin creates users; the JSON never shows password hashes or counters', async () => {
      const created = await api(server, 'POST', '/api/v1/users', {
        token: adminToken,
        body: { username: uniqueName('create-'), password: 'Us3r-Pass-Sp3c!', role_id: 'role-editor', email: 'e@example.com', display_name: 'Ed Itor' },
      });
      expect(created, 201);
      const u = created.body;
      assertUserJson(u, 'POST /users');
      assert.equal(u.role_id, 'role-editor');
      assert.equal(u.email, 'e@example.com');
      assert.equal(u.display_name, 'Ed Itor');
      assert.equal(u.is_active, true);
      const one = await api(server, 'GET', `/api/v1/users/${u.id}`, { token: adminToken });
      expect(one, 200);
      assertUserJson(one.body, 'GET /users/{id}');
      const list = await api(server, 'GET', '/api/v1/users', { token: adminToken });
      expect(list, 200);
      assert.ok(Array.isArray(list.body));
      for (const x of list.body) assertUserJson(x, 'GET /users');
      assert.ok(list.body.some((x) => x.id === u.id));
      expect(await api(server, 'POST', '/api/v1/users', { token: adminToken, body: { username: u.username, password: 'An0ther-Pass!x', role_id: 'role-viewer' } }),
        409, 'username already exists', 'duplicate username');
      expect(await api(server, 'POST', '/api/v1/users', { token: adminToken, body: { username: uniqueName('norole-'), password: 'An0ther-Pass!x', role_id: 'role-nope' } }),
        400, 'role not found', 'unknown role');
    });

    it('the password policy: 10+ characters with upper, lower, digit and symbol; the 400 names what is missing', async () => {
      const cases = [
        ['Ab1!efgh', /10|short|length|characters/i, 'too short'],
        ['abcdefgh1!x', /upper/i, 'no upper-case letter'],
        ['ABCDEFGH1!X', /lower/i, 'no lower-case letter'],
        ['Abcdefghij!', /digit|number/i, 'no digit'],
        ['Abcdefghij1', /symbol|special|punctuation/i, 'no symbol'],
      ];
      const problems = [];
      for (const [password, pattern, what] of cases) {
        const r = await api(server, 'POST', '/api/v1/users', { token: adminToken, body: { username: uniqueName('policy-'), password, role_id: 'role-viewer' } });
        if (r.status !== 400 || !pattern.test(String(r.body?.error))) problems.push(`${what} (${password}): expected 400 matching ${pattern}, got ${show(r)}`);
      }
      assert.deepEqual(problems, []);
    });

    it('a role change applies to the very next request of an existing token', async () => {
      const u = await createUser(server, adminToken, { username: uniqueName('promote-'), role_id: 'role-viewer' });
      const t = await loginOk(server, u.username, u.password);
      const setRole = async (roleId) => expect(await api(server, 'PUT', `/api/v1/users/${u.id}`, { token: adminToken, body: { role_id: roleId } }), 200, undefined, `role -> ${roleId}`);
      const rolesWrite = () => api(server, 'POST', '/api/v1/roles', { token: t, body: {} }); // roles:write; {} is refused with 400
      const usersRead = () => api(server, 'GET', '/api/v1/users', { token: t });
      expect(await rolesWrite(), 403, FORBIDDEN, 'viewer: roles:write');
      expect(await usersRead(), 200, undefined, 'viewer: users:read');
      await setRole('role-admin');
      const promoted = await rolesWrite();
      assert.ok(promoted.status !== 401 && promoted.status !== 403, `promoted to admin, the same token has roles:write: ${show(promoted)}`);
      await setRole('role-viewer');
      expect(await rolesWrite(), 403, FORBIDDEN, 'demoted to viewer again');
      const narrow = await createRole(server, adminToken, { name: uniqueName('narrow-'), permissions: ['catalog:read'] });
      await setRole(narrow.id);
      expect(await usersRead(), 403, FORBIDDEN, 'a role without users:read');
      const self = await me(server, t);
      expect(self, 200);
      assert.equal(self.body.role_id, narrow.id, '/auth/me shows the current role');
    });

    it('disabling a user makes their token 401 at once; enabling lets them log in again', async () => {
      const u = await createUser(server, adminToken, { username: uniqueName('disable-') });
      const t = await loginOk(server, u.username, u.password);
      expect(await me(server, t), 200);
      const off = await api(server, 'PUT', `/api/v1/users/${u.id}`, { token: adminToken, body: { is_active: false } });
      expect(off, 200);
      assert.equal(off.body.is_active, false);
      expect(await me(server, t), 401, undefined, 'the disabled user\'s token');
      expect(await api(server, 'POST', '/api/v1/auth/refresh', { token: t }), 401, undefined, 'refresh for a disabled user');
      expect(await login(server, u.username, u.password), 403, DISABLED);
      expect(await api(server, 'PUT', `/api/v1/users/${u.id}`, { token: adminToken, body: { is_active: true } }), 200);
      expect(await me(server, await loginOk(server, u.username, u.password)), 200, undefined, 'enabled again');
    });

    it('deleting a user makes their token 401 at once', async () => {
      const u = await createUser(server, adminToken, { username: uniqueName('delete-') });
      const t = await loginOk(server, u.username, u.password);
      expect(await api(server, 'DELETE', `/api/v1/users/${u.id}`, { token: adminToken }), 204);
      expect(await me(server, t), 401, undefined, 'the deleted user\'s token');
      expect(await api(server, 'GET', `/api/v1/users/${u.id}`, { token: adminToken }), 404);
      expect(await login(server, u.username, u.password), 401, BAD_LOGIN, 'login of a deleted user');
    });

    it('last-admin guards: the only admin cannot be deleted, demoted or disabled; nobody deletes themselves', async () => {
      const managerRole = await createRole(server, adminToken, { name: uniqueName('manager-'), permissions: ['users:read', 'users:write', 'users:delete'] });
      const m = await createUser(server, adminToken, { username: uniqueName('manager-'), role_id: managerRole.id });
      const tm = await loginOk(server, m.username, m.password);
      const put = (token, id, body) => api(server, 'PUT', `/api/v1/users/${id}`, { token, body });
      const del = (token, id) => api(server, 'DELETE', `/api/v1/users/${id}`, { token });
      expect(await del(adminToken, adminId), 400, 'cannot delete your own account', 'admin deletes self');
      expect(await del(tm, m.id), 400, 'cannot delete your own account', 'manager deletes self');
      expect(await del(tm, adminId), 409, undefined, 'delete the last admin');
      expect(await put(tm, adminId, { role_id: 'role-viewer' }), 409, undefined, 'demote the last admin');
      expect(await put(adminToken, adminId, { role_id: 'role-editor' }), 409, undefined, 'the last admin demotes self');
      expect(await put(tm, adminId, { is_active: false }), 409, undefined, 'disable the last admin');
      expect(await put(adminToken, adminId, { is_active: false }), 409, undefined, 'the last admin disables self');
      const still = await me(server, adminToken);
      expect(still, 200, undefined, 'the admin is untouched');
      assert.equal(still.body.role_id, 'role-admin');
      assert.equal(still.body.is_active, true);

      // A second admin is not the last one; a disabled admin does not count as one.
      const second = await createUser(server, adminToken, { username: uniqueName('admin2-'), role_id: 'role-admin' });
      expect(await put(tm, second.id, { is_active: false }), 200, undefined, 'disable a second admin');
      expect(await put(tm, adminId, { role_id: 'role-viewer' }), 409, undefined, 'demote the only active admin (the other is disabled)');
      expect(await del(tm, second.id), 204, undefined, 'delete the second admin');
      expect(await me(server, adminToken), 200);
    });

    it('custom roles: known permission strings only', async () => {
      const bad = await api(server, 'POST', '/api/v1/roles', { token: adminToken, body: { name: uniqueName('bad-'), permissions: ['catalog:read', 'catalog:frobnicate'] } });
      expect(bad, 400, undefined, 'an unknown permission');
      const bad2 = await api(server, 'POST', '/api/v1/roles', { token: adminToken, body: { name: uniqueName('bad-'), permissions: ['everything'] } });
      expect(bad2, 400, undefined, 'a malformed permission');
      const name = uniqueName('reader-');
      const good = await api(server, 'POST', '/api/v1/roles', { token: adminToken, body: { name, permissions: ['catalog:read', 'settings:read'] } });
      expect(good, 201);
      assert.equal(good.body.name, name);
      assert.deepEqual([...good.body.permissions].sort(), ['catalog:read', 'settings:read']);
      expect(await api(server, 'POST', '/api/v1/roles', { token: adminToken, body: { name } }), 409, 'role name already exists', 'duplicate role name');
      expect(await api(server, 'POST', '/api/v1/roles', { token: adminToken, body: { permissions: [] } }), 400, 'name is required');
    });
  });

  describe('reference section 15 (items 7-10)', () => {
    it('15.7: an admin unlocks a locked account', async () => {
      const u = await createUser(server, adminToken, { username: uniqueName('unlock-') });
      for (let i = 1; i <= 5; i++) await login(server, u.username, 'Wr0ng-Password!');
      expect(await login(server, u.username, u.password), 423, LOCKED, 'locked');
      const r = await api(server, 'POST', `/api/v1/users/${u.id}/unlock`, { token: adminToken });
      assert.ok(r.status === 200 || r.status === 204, `unlock: ${show(r)}`);
      expect(await login(server, u.username, u.password), 200, undefined, 'after unlock');
    });

    it('15.8: system roles cannot be edited or deleted; a role in use cannot be deleted', async () => {
      const before = (await api(server, 'GET', '/api/v1/roles', { token: adminToken })).body.find((x) => x.id === 'role-viewer');
      assert.ok(before, 'GET /roles lists role-viewer');
      const edit = await api(server, 'PUT', '/api/v1/roles/role-viewer', { token: adminToken, body: { permissions: ['users:delete'] } });
      assert.ok(edit.status >= 400 && edit.status < 500, `editing a system role is refused: ${show(edit)}`);
      const after = (await api(server, 'GET', '/api/v1/roles', { token: adminToken })).body.find((x) => x.id === 'role-viewer');
      assert.deepEqual([...after.permissions].sort(), [...before.permissions].sort(), 'role-viewer unchanged');
      expect(await api(server, 'DELETE', '/api/v1/roles/role-viewer', { token: adminToken }), 400, 'cannot delete system role');
      const role = await createRole(server, adminToken, { name: uniqueName('inuse-'), permissions: ['catalog:read'] });
      expect(await api(server, 'PUT', `/api/v1/roles/${role.id}`, { token: adminToken, body: { permissions: ['catalog:nope'] } }),
        400, undefined, 'an unknown permission on update');
      const u = await createUser(server, adminToken, { username: uniqueName('inuse-'), role_id: role.id });
      expect(await api(server, 'DELETE', `/api/v1/roles/${role.id}`, { token: adminToken }), 409, undefined, 'a role in use');
      expect(await api(server, 'DELETE', `/api/v1/users/${u.id}`, { token: adminToken }), 204);
      expect(await api(server, 'DELETE', `/api/v1/roles/${role.id}`, { token: adminToken }), 204, undefined, 'no longer in use');
    });

    it('15.9: a viewer updates their own profile but cannot change their own role', async () => {
      const u = await createUser(server, adminToken, { username: uniqueName('self-'), role_id: 'role-viewer' });
      const t = await loginOk(server, u.username, u.password);
      const r = await api(server, 'PUT', '/api/v1/auth/me', { token: t, body: { display_name: 'Self Served' } });
      expect(r, 200);
      assert.equal((await me(server, t)).body.display_name, 'Self Served');
      const esc = await api(server, 'PUT', '/api/v1/auth/me', { token: t, body: { role_id: 'role-admin', is_active: true } });
      assert.ok(esc.status === 200 || esc.status === 400, `role_id in a profile update is ignored or refused: ${show(esc)}`);
      const after = await me(server, t);
      assert.equal(after.body.role_id, 'role-viewer', 'still a viewer');
      expect(await api(server, 'POST', '/api/v1/roles', { token: t, body: {} }), 403, FORBIDDEN, 'still without roles:write');
    });

    it('15.10: running with --cookie-secure=false logs a warning', () => {
      assert.ok(server.logs.some((e) => e.level === 'warn' && /secure|tls|https/i.test(JSON.stringify(e))),
        `a warning about the insecure cookie: ${server.logs.filter((e) => e.level === 'warn').map((e) => JSON.stringify(e)).join('\n')}`);
    });
  });

  describe('concurrency', () => {
    it('8 clients logging in continuously do not stall authenticated reads (p99 of 50 under 200 ms)', async () => {
      const u = await createUser(server, adminToken, { username: uniqueName('storm-') });
      let stop = false;
      const statuses = [];
      const clients = Array.from({ length: 8 }, async () => {
        while (!stop) statuses.push((await login(server, u.username, u.password)).status);
      });
      await sleep(300);
      const latencies = [];
      for (let i = 0; i < 50; i++) {
        const r = await me(server, adminToken);
        expect(r, 200);
        latencies.push(r.ms);
        await sleep(20);
      }
      stop = true;
      await Promise.all(clients);
      assert.ok(statuses.length >= 8, `logins ran meanwhile: ${statuses.length}`);
      assert.deepEqual([...new Set(statuses)], [200], 'every login succeeded');
      const p99 = percentile(latencies, 99);
      assert.ok(p99 < 200, `p99 ${p99.toFixed(1)} ms; median ${median(latencies).toFixed(1)} ms; all ${latencies.map(Math.round)}`);
    });
  });
});

describe(`session lifetime on ${DIALECT} (--session-duration 1m --session-max-lifetime 2m)`, () => {
  let tree;
  let server;
  before(async () => {
    tree = luaTreeWithTestRoutes();
    server = await startAuthServer({ args: ['--lua-dir', tree.dir, '--session-duration', '1m', '--session-max-lifetime', '2m'] });
  });
  after(async () => {
    if (server) {
      await setClock(server, 0).catch(() => {});
      await server.stop();
    }
    rmSync(tree.dir, { recursive: true, force: true });
  });

  it('tokens expire after session_duration; refresh extends them, but never past session_max_lifetime', async () => {
    const t0 = await loginOk(server, ADMIN_USER, ADMIN_PASSWORD);
    const p0 = decodeJwt(t0).payload;
    assert.ok(Math.abs(p0.exp - p0.iat - 60) <= 2, `exp = iat + 1m: ${JSON.stringify(p0)}`);
    const refresh = (token) => api(server, 'POST', '/api/v1/auth/refresh', { token });
    try {
      await setClock(server, 50);
      const r1 = await refresh(t0);
      expect(r1, 200, undefined, 'refresh at +50 s');
      const t1 = r1.body.token;
      assert.equal(decodeJwt(t1).payload.sid, p0.sid);
      await setClock(server, 70);
      expect(await me(server, t0), 401, INVALID, 'the first token at +70 s (expired at +60 s)');
      expect(await refresh(t0), 401, undefined, 'refreshing an expired token');
      expect(await me(server, t1), 200, undefined, 'the refreshed token at +70 s');
      await setClock(server, 100);
      const r2 = await refresh(t1);
      expect(r2, 200, undefined, 'refresh at +100 s');
      const t2 = r2.body.token;
      const p2 = decodeJwt(t2).payload;
      assert.ok(p2.exp <= p0.iat + 120 + 2, `the token issued at +100 s does not outlive the session (login + 2m): ${JSON.stringify(p2)}`);
      await setClock(server, 130);
      expect(await refresh(t2), 401, undefined, 'refresh past session_max_lifetime');
      expect(await me(server, t2), 401, INVALID, 'the session is over past session_max_lifetime');
      expect(await me(server, await loginOk(server, ADMIN_USER, ADMIN_PASSWORD)), 200, undefined, 'a new login starts a new session');
    } finally {
      await setClock(server, 0);
    }
  });
});

describe(`cookie and key defaults on ${DIALECT} (no --cookie-secure=false, no configured JWT secret)`, () => {
  let data;
  let server;
  before(async () => {
    data = tempDir();
    server = await startAuthServer({ secure: true, jwtSecret: null, dataDir: data });
  });
  after(async () => {
    if (server) await server.stop();
    rmSync(data, { recursive: true, force: true });
  });

  it('the session cookie is Secure by default', async () => {
    const r = await login(server, ADMIN_USER, ADMIN_PASSWORD);
    expect(r, 200);
    const c = sessionCookie(r);
    assert.equal(c.attrs.secure, true, `Secure: ${r.setCookie}`);
    assert.equal(c.attrs.httponly, true);
    assert.equal(String(c.attrs.samesite).toLowerCase(), 'strict');
    assert.equal(c.attrs.path, '/');
  });

  it('15.11: without a configured secret, sessions survive a restart (the generated key is persisted)', async () => {
    const token = await loginOk(server, ADMIN_USER, ADMIN_PASSWORD);
    const env = server.env;
    await server.stop();
    server = await startAuthServer({ secure: true, jwtSecret: null, dataDir: data, env });
    expect(await me(server, token), 200, undefined, 'a token from before the restart');
  });
});
