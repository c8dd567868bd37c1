// SPDX-License-Identifier: Apache-2.0
// Shared helpers for the mock agents: options from flags/env, body reading, replies, and the
// run-time behaviour switch (normal|slow|fail|garbage|auth) driven by POST /_control.
// Node.js built-ins only.

export const MODES = ['normal', 'slow', 'fail', 'garbage', 'auth'];

// Options: --name value / --name=value flags win over environment variables, then defaults.
// spec: {key: {env: ['ENV', ...], flag: 'flag-name', def, bool}}
export function options(spec, argv = process.argv.slice(2), env = process.env) {
  const flags = {};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (!a.startsWith('--')) throw new Error(`unexpected argument "${a}"`);
    const eq = a.indexOf('=');
    const name = eq > 0 ? a.slice(2, eq) : a.slice(2);
    const entry = Object.entries(spec).find(([, s]) => s.flag === name);
    if (!entry) throw new Error(`unknown flag "--${name}"`);
    if (eq > 0) flags[entry[0]] = a.slice(eq + 1);
    else if (entry[1].bool) flags[entry[0]] = 'true';
    else if (i + 1 < argv.length) flags[entry[0]] = argv[++i];
    else throw new Error(`flag "--${name}" needs a value`);
  }
  const out = {};
  for (const [key, s] of Object.entries(spec)) {
    let v = flags[key];
    if (v === undefined) for (const e of s.env || []) if (env[e] !== undefined && env[e] !== '') { v = env[e]; break; }
    if (v === undefined) v = s.def;
    if (s.bool) v = v === true || ['1', 'true', 'yes', 'on'].includes(String(v).toLowerCase());
    else if (s.int) {
      const n = Number(v);
      if (!Number.isInteger(n) || n < 0) throw new Error(`${key} must be a non-negative integer, got "${v}"`);
      v = n;
    }
    out[key] = v;
  }
  if (out.mode !== undefined && !MODES.includes(out.mode)) throw new Error(`MODE must be one of ${MODES.join('|')}, got "${out.mode}"`);
  return out;
}

export function readBody(req, limit = 1 << 20) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    let size = 0;
    req.on('data', (c) => {
      size += c.length;
      if (size > limit) { reject(Object.assign(new Error('body too large'), { status: 413 })); req.destroy(); return; }
      chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

export function send(res, status, body, headers = {}) {
  const text = body === undefined ? '' : typeof body === 'string' ? body : JSON.stringify(body);
  const h = { ...headers };
  if (text && !Object.keys(h).some((k) => k.toLowerCase() === 'content-type')) h['Content-Type'] = 'application/json';
  h['Content-Length'] = Buffer.byteLength(text);
  res.writeHead(status, h);
  res.end(text);
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// The run-time state every mock shares: mode, delay, a request counter and an optional header
// every protocol request must carry ("Name: value", set through /_control require_header).
export function behaviour(opts) {
  return { mode: opts.mode, delay_ms: opts.delay_ms, requests: 0, require_header: null };
}

// "Name: value" -> [lower-case name, value] | null
function headerRule(text) {
  const m = /^([!#$%&'*+\-.^_`|~0-9A-Za-z]+):\s*(.*)$/.exec(text);
  return m ? [m[1].toLowerCase(), m[2]] : null;
}

// Applies the current mode to a request on a "protocol" path. Returns true when the mode
// already answered (fail, garbage, auth, or 401 for a missing required header); slow waits and
// then lets the normal handler run.
export async function applyMode(state, res, resourceMetadataUrl, req) {
  state.requests++;
  const rule = state.require_header && headerRule(state.require_header);
  if (rule && req && req.headers[rule[0]] !== rule[1]) {
    send(res, 401, { error: `missing or wrong ${rule[0]} header (mock require_header)` },
      { 'WWW-Authenticate': `Bearer resource_metadata="${resourceMetadataUrl}"` });
    return true;
  }
  switch (state.mode) {
    case 'slow':
      await sleep(state.delay_ms);
      return false;
    case 'fail':
      send(res, 503, { error: 'service unavailable (mock mode "fail")' }, { 'Retry-After': '1' });
      return true;
    case 'garbage':
      send(res, 200, '{"this is": not json', { 'Content-Type': 'application/json' });
      return true;
    case 'auth':
      send(res, 401, { error: 'unauthorized (mock mode "auth")' },
        { 'WWW-Authenticate': `Bearer resource_metadata="${resourceMetadataUrl}"` });
      return true;
    default:
      return false;
  }
}

// POST /_control {mode, delay_ms, ...extra}: validates and applies; GET returns the state.
// extra(body) may apply further keys and return an error string.
export async function control(req, res, state, extra = () => null, view = () => ({})) {
  if (req.method === 'GET') return send(res, 200, { ...state, ...view() });
  if (req.method !== 'POST') return send(res, 405, { error: 'method not allowed' }, { Allow: 'GET, POST' });
  let body;
  try { body = JSON.parse((await readBody(req)) || '{}'); } catch { return send(res, 400, { error: 'invalid JSON' }); }
  if (body === null || typeof body !== 'object' || Array.isArray(body)) return send(res, 400, { error: 'expected a JSON object' });
  if (body.mode !== undefined && !MODES.includes(body.mode)) return send(res, 400, { error: `mode must be one of ${MODES.join('|')}` });
  if (body.delay_ms !== undefined && !(Number.isInteger(body.delay_ms) && body.delay_ms >= 0 && body.delay_ms <= 600000)) {
    return send(res, 400, { error: 'delay_ms must be an integer between 0 and 600000' });
  }
  if (body.require_header !== undefined && body.require_header !== null
    && !(typeof body.require_header === 'string' && headerRule(body.require_header))) {
    return send(res, 400, { error: 'require_header must be "Name: value" or null' });
  }
  const err = extra(body, true);
  if (err) return send(res, 400, { error: err });
  if (body.mode !== undefined) state.mode = body.mode;
  if (body.delay_ms !== undefined) state.delay_ms = body.delay_ms;
  if (body.require_header !== undefined) state.require_header = body.require_header;
  extra(body, false);
  return send(res, 200, { ...state, ...view() });
}

// Listens and prints one JSON line {"event":"listening",...} on stdout (tests read the port).
export function listen(server, opts, name) {
  server.keepAliveTimeout = 5000;
  server.listen(opts.port, opts.host, () => {
    const { port } = server.address();
    process.stdout.write(`${JSON.stringify({ event: 'listening', agent: name, host: opts.host, port })}\n`);
  });
  const stop = () => { server.close(); server.closeAllConnections?.(); process.exit(0); };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

// The request's Host header when it looks like host[:port] (used for URLs without PUBLIC_URL).
export function hostOf(req) {
  const h = req.headers.host || '';
  return /^[A-Za-z0-9.\-:[\]]{1,255}$/.test(h) ? h : '';
}
