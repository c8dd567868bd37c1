// SPDX-License-Identifier: Apache-2.0
// Test support for accounts: servers with a known admin password and JWT secret, JSON requests
// with a Bearer token or cookie, login, users and roles, token forging, the route table.
import { createHmac } from 'node:crypto';
import { rmSync } from 'node:fs';
import path from 'node:path';
import { ROOT, runCli, startServer, tempDir } from './server.mjs';

export const ADMIN_USER = 'admin';
export const ADMIN_PASSWORD = 'Adm1n-Pass-Sp3c!';
export const JWT_SECRET = 'spec-secret-0123456789-abcdefghij-KLMNOP'; // 40 characters
export const COOKIE = 'agentlens_token';

// Permissions of the seeded roles (reference 3.3) and the complete permission list (6.7).
export const ALL_PERMISSIONS = [
  'catalog:read', 'catalog:write', 'catalog:delete', 'users:read', 'users:write', 'users:delete',
  'roles:read', 'roles:write', 'settings:read', 'settings:write', 'service_accounts:read',
  'service_accounts:write', 'service_accounts:revoke',
];
export const ROLE_PERMISSIONS = {
  'role-admin': ALL_PERMISSIONS,
  'role-editor': ['catalog:read', 'catalog:write', 'users:read', 'roles:read', 'settings:read'],
  'role-viewer': ['catalog:read', 'users:read', 'roles:read', 'settings:read'],
};

// Starts a server whose first start creates admin/ADMIN_PASSWORD and signs with JWT_SECRET.
// secure: false adds --cookie-secure=false (cookies over plain http).
export function startAuthServer({ args = [], env = {}, secure = false, jwtSecret = JWT_SECRET, ...rest } = {}) {
  const fullEnv = { AGENTLENS_ADMIN_PASSWORD: ADMIN_PASSWORD, ...env };
  if (jwtSecret) fullEnv.AGENTLENS_JWT_SECRET = jwtSecret;
  return startServer({ args: [...(secure ? [] : ['--cookie-secure=false']), ...args], env: fullEnv, ...rest });
}

// One JSON request: {status, body (parsed JSON, else text), headers, ms}. token: Bearer;
// cookie: the agentlens_token cookie value; body: an object (sent as JSON) or a string.
export async function api(server, method, p, { token, cookie, body, headers = {} } = {}) {
  const h = { ...headers };
  if (token) h.Authorization = `Bearer ${token}`;
  if (cookie) h.Cookie = `${COOKIE}=${cookie}`;
  let payload;
  if (body !== undefined) {
    payload = typeof body === 'string' ? body : JSON.stringify(body);
    h['Content-Type'] = 'application/json';
  }
  const t0 = performance.now();
  const r = await fetch(server.url + p, { method, headers: h, body: payload });
  const text = await r.text();
  const ms = performance.now() - t0;
  let parsed = text;
  try { parsed = text ? JSON.parse(text) : null; } catch { /* not JSON */ }
  return { status: r.status, body: parsed, headers: r.headers, ms, text };
}

// A readable description of a response for assertion messages.
export function show(r) {
  const text = typeof r.body === 'string' ? r.body : JSON.stringify(r.body);
  return `${r.status} ${text.length > 300 ? `${text.slice(0, 300)}...` : text}`;
}

export async function login(server, username, password) {
  const r = await api(server, 'POST', '/api/v1/auth/login', { body: { username, password } });
  r.token = r.body && r.body.token;
  r.setCookie = r.headers.get('set-cookie') || '';
  return r;
}

// Logs in and fails the test unless it worked; returns the token.
export async function loginOk(server, username, password) {
  const r = await login(server, username, password);
  if (r.status !== 200 || typeof r.token !== 'string') throw new Error(`login of ${username} failed: ${show(r)}`);
  return r.token;
}

let seq = 0;
export function uniqueName(prefix) {
  seq += 1;
  return `${prefix}${seq}${Math.random().toString(36).slice(2, 7)}`;
}

// Creates a user through the API (admin token); returns the created user object.
export async function createUser(server, adminToken, { username = uniqueName('u'), password = 'Us3r-Pass-Sp3c!', role_id = 'role-viewer', ...more } = {}) {
  const r = await api(server, 'POST', '/api/v1/users', { token: adminToken, body: { username, password, role_id, ...more } });
  if (r.status !== 201) throw new Error(`creating user ${username} failed: ${show(r)}`);
  return { ...r.body, password };
}

export async function createRole(server, adminToken, { name = uniqueName('role'), permissions = [], description = 'spec role' } = {}) {
  const r = await api(server, 'POST', '/api/v1/roles', { token: adminToken, body: { name, description, permissions } });
  if (r.status !== 201) throw new Error(`creating role ${name} failed: ${show(r)}`);
  return r.body;
}

// Shifts the server's clock (needs the test routes of lua_tree.mjs).
export async function setClock(server, seconds) {
  const r = await api(server, 'POST', '/api/test/clock', { body: { seconds } });
  if (r.status !== 200) throw new Error(`setting the clock failed: ${show(r)}`);
}

// ---- JWT ----------------------------------------------------------------------------------

export const b64url = (buf) => Buffer.from(buf).toString('base64url');
export const b64json = (obj) => b64url(JSON.stringify(obj));

export function decodeJwt(token) {
  const [h, p, s] = token.split('.');
  return {
    header: JSON.parse(Buffer.from(h, 'base64url').toString('utf8')),
    payload: JSON.parse(Buffer.from(p, 'base64url').toString('utf8')),
    signature: s,
  };
}

// Signs header.payload with HMAC (alg HS256 -> sha256, HS384, HS512); alg "none" gives an empty
// signature unless signature is given.
export function signJwt(header, payload, secret = JWT_SECRET, { signature } = {}) {
  const input = `${b64json(header)}.${b64json(payload)}`;
  if (signature !== undefined) return `${input}.${signature}`;
  const hash = { HS256: 'sha256', HS384: 'sha384', HS512: 'sha512' }[header.alg];
  if (!hash) return `${input}.`;
  return `${input}.${createHmac(hash, secret).update(input).digest('base64url')}`;
}

// ---- cookies ------------------------------------------------------------------------------

// Parses one Set-Cookie header: {name, value, attrs: {lowercased name: value|true}}.
export function parseSetCookie(header) {
  const [first, ...rest] = header.split(';').map((s) => s.trim());
  const eq = first.indexOf('=');
  const attrs = {};
  for (const a of rest) {
    if (!a) continue;
    const i = a.indexOf('=');
    if (i < 0) attrs[a.toLowerCase()] = true;
    else attrs[a.slice(0, i).toLowerCase()] = a.slice(i + 1);
  }
  return { name: first.slice(0, eq), value: first.slice(eq + 1), attrs };
}

// ---- route table ----------------------------------------------------------------------------

// The route table [{method, path, permission}] from spec/support/routes.lua run by the binary
// (the embedded Lua tree, or luaDir).
export function routeTable({ luaDir } = {}) {
  const data = tempDir('agentlens-routes-');
  try {
    const env = { AGENTLENS_DATA_DIR: data, AGENTLENS_DB_DIALECT: 'sqlite', AGENTLENS_LOG_LEVEL: 'error' };
    if (luaDir) env.AGENTLENS_LUA_DIR = luaDir;
    const r = runCli(['run', path.join(ROOT, 'spec', 'support', 'routes.lua')], { env });
    if (r.status !== 0) throw new Error(`agentlens run spec/support/routes.lua failed (${r.status}): ${r.stderr}`);
    return JSON.parse(r.stdout.trim().split('\n').pop());
  } finally {
    rmSync(data, { recursive: true, force: true });
  }
}

// ---- statistics -----------------------------------------------------------------------------

export function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

// Nearest-rank percentile (p in 0..100).
export function percentile(xs, p) {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))];
}
