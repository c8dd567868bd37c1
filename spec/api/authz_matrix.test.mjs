// SPDX-License-Identifier: Apache-2.0
// The authorization matrix: every route of the route table (spec/support/routes.lua) x
// {anonymous, viewer, editor, admin, a custom role with catalog:read and settings:read}.
//   public         -> never 401/403
//   authenticated  -> 401 "authentication required" for anonymous, not 401/403 otherwise
//   permission P   -> 401 for anonymous, 403 "insufficient permissions" for a role without P,
//                     not 401/403 for a role with P (role permissions: reference 3.3)
// Path parameters name nothing that exists (404 is fine), bodies are {}. Routes that would end
// the shared sessions (logout, refresh, password change) run on throwaway sessions.
// ctest runs this file once on SQLite and once on PostgreSQL (DIALECT).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  ADMIN_PASSWORD, ADMIN_USER, ALL_PERMISSIONS, ROLE_PERMISSIONS, api, createRole, createUser, loginOk,
  routeTable, show, startAuthServer, uniqueName,
} from '../support/auth.mjs';
import { DIALECT } from '../support/server.mjs';

const CUSTOM_PERMISSIONS = ['catalog:read', 'settings:read'];
const NONEXISTENT_ID = '00000000-0000-4000-8000-0000000dead0';
// Routes run with a fresh session per principal, so that the shared tokens stay valid.
const THROWAWAY = new Set(['POST /api/v1/auth/logout', 'POST /api/v1/auth/refresh', 'PUT /api/v1/auth/password']);

// Permissions the reference (5.3, 5.10, 6.9) gives the account routes; parameters normalised to {}.
const REFERENCE_PERMISSIONS = {
  'POST /api/v1/auth/login': 'public',
  'POST /api/v1/auth/logout': 'public',
  'POST /api/v1/auth/refresh': 'authenticated',
  'GET /api/v1/auth/me': 'authenticated',
  'PUT /api/v1/auth/password': 'authenticated',
  'GET /api/v1/users': 'users:read',
  'POST /api/v1/users': 'users:write',
  'GET /api/v1/users/{}': 'users:read',
  'PUT /api/v1/users/{}': 'users:write',
  'DELETE /api/v1/users/{}': 'users:delete',
  'GET /api/v1/roles': 'roles:read',
  'POST /api/v1/roles': 'roles:write',
  'PUT /api/v1/roles/{}': 'roles:write',
  'DELETE /api/v1/roles/{}': 'roles:write',
  'GET /api/v1/settings': 'settings:read',
  'GET /api/v1/settings/{}': 'settings:read',
  'PUT /api/v1/settings': 'settings:write',
};

let ROUTES = [];
let tableError = null;
try {
  ROUTES = routeTable();
} catch (e) {
  tableError = e;
}

const keyOf = (r) => `${r.method} ${r.path}`;
const concretePath = (p) => p.replace(/\{([^}]+)\}/g, (_, name) => (name === 'category' ? 'no-such-category' : NONEXISTENT_ID));

describe(`authorization matrix on ${DIALECT}`, () => {
  let server;
  // name -> {token (undefined for anonymous), permissions, username, password}
  const principals = {};
  const covered = new Set();

  before(async () => {
    if (tableError) return;
    server = await startAuthServer();
    const adminToken = await loginOk(server, ADMIN_USER, ADMIN_PASSWORD);
    const custom = await createRole(server, adminToken, { name: uniqueName('matrix-custom-'), permissions: CUSTOM_PERMISSIONS });
    assert.ok(custom.id, `the created role has an id: ${JSON.stringify(custom)}`);
    principals.anonymous = { token: undefined, permissions: [] };
    principals.admin = { token: adminToken, permissions: ROLE_PERMISSIONS['role-admin'], username: ADMIN_USER, password: ADMIN_PASSWORD };
    const roles = { viewer: 'role-viewer', editor: 'role-editor', custom: custom.id };
    await Promise.all(Object.entries(roles).map(async ([name, roleId]) => {
      const u = await createUser(server, adminToken, { username: uniqueName(`matrix-${name}-`), role_id: roleId });
      principals[name] = {
        token: await loginOk(server, u.username, u.password),
        permissions: name === 'custom' ? CUSTOM_PERMISSIONS : ROLE_PERMISSIONS[roleId],
        username: u.username,
        password: u.password,
      };
    }));
  });
  after(async () => { if (server) await server.stop(); });

  it('the route table loads and names only known permissions', () => {
    if (tableError) throw tableError;
    assert.ok(ROUTES.length > 0, 'the route table is not empty');
    for (const r of ROUTES) {
      assert.ok(r.permission === 'public' || r.permission === 'authenticated' || ALL_PERMISSIONS.includes(r.permission),
        `${keyOf(r)}: permission ${r.permission} is not public, authenticated or one of reference 6.7`);
    }
    const keys = ROUTES.map(keyOf);
    assert.equal(new Set(keys).size, keys.length, 'no route appears twice');
  });

  it('the account routes carry the permissions of the reference (5.3, 5.10, 6.9)', () => {
    if (tableError) throw tableError;
    const byKey = new Map(ROUTES.map((r) => [`${r.method} ${r.path.replace(/\{[^}]+\}/g, '{}')}`, r.permission]));
    const wrong = [];
    for (const [key, perm] of Object.entries(REFERENCE_PERMISSIONS)) {
      if (!byKey.has(key)) wrong.push(`${key}: missing from the route table`);
      else if (byKey.get(key) !== perm) wrong.push(`${key}: ${byKey.get(key)}, reference says ${perm}`);
    }
    assert.deepEqual(wrong, []);
  });

  for (const route of ROUTES) {
    it(`${keyOf(route)} [${route.permission}]`, async () => {
      const key = keyOf(route);
      const p = concretePath(route.path);
      const body = ['POST', 'PUT', 'PATCH'].includes(route.method) ? {} : undefined;
      const problems = [];
      for (const [name, who] of Object.entries(principals)) {
        let token = who.token;
        if (token && THROWAWAY.has(key)) token = await loginOk(server, who.username, who.password);
        const r = await api(server, route.method, p, { token, body });
        const has = route.permission === 'public'
          || (route.permission === 'authenticated' && name !== 'anonymous')
          || who.permissions.includes(route.permission);
        if (r.status >= 500) {
          problems.push(`${name}: server error ${show(r)}`);
        } else if (route.permission === 'public') {
          if (r.status === 401 || r.status === 403) problems.push(`${name}: public route answered ${show(r)}`);
        } else if (name === 'anonymous') {
          if (r.status !== 401 || r.body?.error !== 'authentication required') {
            problems.push(`anonymous: expected 401 "authentication required", got ${show(r)}`);
          }
        } else if (has) {
          if (r.status === 401 || r.status === 403) problems.push(`${name}: has ${route.permission} but got ${show(r)}`);
        } else if (r.status !== 403 || r.body?.error !== 'insufficient permissions') {
          problems.push(`${name}: lacks ${route.permission}, expected 403 "insufficient permissions", got ${show(r)}`);
        }
      }
      covered.add(key);
      assert.deepEqual(problems, [], `${key} (${route.permission}) as ${p}`);
    });
  }

  it('covered every route of the table, and the shared sessions survived', async () => {
    if (tableError) throw tableError;
    assert.equal(covered.size, ROUTES.length, `checked ${covered.size} of ${ROUTES.length} routes`);
    for (const [name, who] of Object.entries(principals)) {
      if (!who.token) continue;
      const r = await api(server, 'GET', '/api/v1/auth/me', { token: who.token });
      assert.equal(r.status, 200, `${name}'s shared token still works: ${show(r)}`);
    }
  });
});
