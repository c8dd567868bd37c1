#!/usr/bin/env node
// SPDX-License-Identifier: Apache-2.0
// Mock MCP server for AgentLens demos and tests (Node.js built-ins only).
//
//   POST   /mcp     Streamable HTTP (legacy era 2025-03-26 / 2025-06-18 / 2025-11-25 with initialize
//                   and Mcp-Session-Id; stateless 2026-07-28 with server/discover when the request
//                   carries MCP-Protocol-Version: 2026-07-28). Replies as JSON, or as SSE with
//                   SSE=1 / --sse / ?sse=1 / POST /_control {"sse": true}.
//   GET    /mcp     405 (no standalone server→client stream), DELETE /mcp ends the session.
//   GET    /sse + POST /messages?sessionId=…   the legacy HTTP+SSE transport (2024-11-05).
//                   LEGACY=1 / --legacy / POST /_control {"legacy": true}: /mcp itself behaves as
//                   a legacy-only server (POST 405, GET opens the event stream).
//   GET    /.well-known/mcp/server.json        registry server.json describing this server.
//   GET    /.well-known/oauth-protected-resource[/mcp]  RFC 9728 metadata (named by mode "auth").
//   GET|POST /_control  {mode, delay_ms, sse, tools, resources, prompts} (tools replace = drift).
//   GET    /healthz  always 200.
//
// Options (flag, then env, then default): --port PORT (9002), --host HOST (0.0.0.0),
// --name NAME|AGENT_NAME (mock-mcp-server), --public-url PUBLIC_URL (default: from the request's Host header),
// --mode MODE (normal|slow|fail|garbage|auth), --delay-ms DELAY_MS (1000), --sse SSE (0),
// --page-size PAGE_SIZE (2), --legacy LEGACY (0).
import { randomUUID } from 'node:crypto';
import { realpathSync } from 'node:fs';
import http from 'node:http';
import { pathToFileURL } from 'node:url';
import { applyMode, behaviour, control, hostOf, listen, options, readBody, send } from './common.mjs';

const SPEC = {
  port: { env: ['PORT'], flag: 'port', def: '9002', int: true },
  host: { env: ['HOST'], flag: 'host', def: '0.0.0.0' },
  name: { env: ['NAME', 'AGENT_NAME'], flag: 'name', def: 'mock-mcp-server' },
  public_url: { env: ['PUBLIC_URL'], flag: 'public-url', def: '' },
  mode: { env: ['MODE'], flag: 'mode', def: 'normal' },
  delay_ms: { env: ['DELAY_MS'], flag: 'delay-ms', def: '1000', int: true },
  sse: { env: ['SSE'], flag: 'sse', def: false, bool: true },
  page_size: { env: ['PAGE_SIZE'], flag: 'page-size', def: '2', int: true },
  legacy: { env: ['LEGACY'], flag: 'legacy', def: false, bool: true },
};

// Newest first; initialize falls back to LEGACY_VERSIONS[0] for an unknown requested version.
export const LEGACY_VERSIONS = ['2025-11-25', '2025-06-18', '2025-03-26'];
export const MODERN_VERSIONS = ['2026-07-28'];
const SERVER_VERSION = '1.0.0';
const MAX_SESSIONS = 1000;

const obj = (properties, required = []) => ({ type: 'object', properties, required });
export const DEFAULT_TOOLS = [
  { name: 'echo', title: 'Echo', description: 'Returns its input text.', inputSchema: obj({ text: { type: 'string' } }, ['text']),
    annotations: { readOnlyHint: true, idempotentHint: true } },
  { name: 'add', title: 'Add numbers', description: 'Adds two numbers.', inputSchema: obj({ a: { type: 'number' }, b: { type: 'number' } }, ['a', 'b']),
    annotations: { readOnlyHint: true } },
  { name: 'get_time', title: 'Current time', description: 'Returns the server time (ISO 8601).', inputSchema: obj({}) },
  { name: 'weather', title: 'Weather', description: 'Pretends to report the weather for a city.', inputSchema: obj({ city: { type: 'string' } }, ['city']),
    annotations: { openWorldHint: true } },
  { name: 'delete_note', title: 'Delete note', description: 'Deletes a note (mock: does nothing).', inputSchema: obj({ id: { type: 'string' } }, ['id']),
    annotations: { destructiveHint: true } },
];
export const DEFAULT_RESOURCES = [
  { uri: 'file:///notes/readme.md', name: 'readme', title: 'Read me', mimeType: 'text/markdown', description: 'Demo note.' },
  { uri: 'file:///notes/todo.txt', name: 'todo', title: 'To do', mimeType: 'text/plain' },
  { uri: 'https://example.com/status.json', name: 'status', mimeType: 'application/json' },
];
export const DEFAULT_PROMPTS = [
  { name: 'summarize', title: 'Summarize', description: 'Summarize a text.', arguments: [{ name: 'text', required: true }] },
  { name: 'greet', title: 'Greet', description: 'Greets someone.', arguments: [{ name: 'who', description: 'Name', required: false }] },
];

const rpcError = (id, code, message, data) => ({ jsonrpc: '2.0', id, error: data === undefined ? { code, message } : { code, message, data } });
const isId = (v) => typeof v === 'string' || Number.isInteger(v);

function validItems(list, what, keyName) {
  if (!Array.isArray(list)) return `${what} must be an array`;
  for (const [i, t] of list.entries()) {
    if (!t || typeof t !== 'object' || typeof t[keyName] !== 'string' || !t[keyName]) return `${what}[${i}].${keyName} is required`;
  }
  return null;
}
const normTool = (t) => ({ ...t, inputSchema: t.inputSchema || { type: 'object' } });

// Opaque cursors: base64url of "<list>:<offset>" so a cursor from one list fails on another.
function page(list, kind, params, size) {
  let start = 0;
  if (params?.cursor !== undefined) {
    const raw = typeof params.cursor === 'string' ? Buffer.from(params.cursor, 'base64url').toString('utf8') : '';
    const m = /^([a-z]+):(\d+)$/.exec(raw);
    if (!m || m[1] !== kind || Number(m[2]) > list.length) return { error: 'Invalid cursor' };
    start = Number(m[2]);
  }
  const n = Math.max(1, size);
  const out = { [kind]: list.slice(start, start + n) };
  if (start + n < list.length) out.nextCursor = Buffer.from(`${kind}:${start + n}`).toString('base64url');
  return { result: out };
}

export function createServer(opts) {
  const state = behaviour(opts);
  state.sse = opts.sse;
  state.legacy = opts.legacy;
  const data = { tools: DEFAULT_TOOLS.map(normTool), resources: [...DEFAULT_RESOURCES], prompts: [...DEFAULT_PROMPTS] };
  const sessions = new Map(); // id -> {protocolVersion, initialized, clientInfo}
  const sseSessions = new Map(); // legacy HTTP+SSE: id -> response stream
  let eventId = 0;
  let server;
  // Without PUBLIC_URL, URLs follow the Host the client used (e.g. http://mcp-server:9002 on compose).
  const base = (req) => (opts.public_url || `http://${hostOf(req) || `localhost:${server.address().port}`}`).replace(/\/+$/, '');
  const prmUrl = (req) => `${base(req)}/.well-known/oauth-protected-resource/mcp`;

  const serverInfo = () => ({ name: opts.name, title: `Mock MCP server (${opts.name})`, version: SERVER_VERSION,
    description: 'Mock MCP server for AgentLens demos and tests.', websiteUrl: 'https://github.com/pawelharacz/agentlens' });
  const capabilities = () => ({ tools: { listChanged: false }, resources: { subscribe: false, listChanged: false }, prompts: { listChanged: false } });

  // Dispatches one JSON-RPC request (has id and method). modern=true: 2026-07-28 result shape.
  function dispatch(msg, session, modern) {
    const { id, method } = msg;
    const params = msg.params ?? {};
    if (typeof params !== 'object' || Array.isArray(params)) return rpcError(id, -32602, 'params must be an object');
    const ok = (result) => ({ jsonrpc: '2.0', id, result: modern ? { resultType: 'complete', ...result } : result });
    const cached = (result) => ok(modern ? { ...result, ttlMs: 60000, cacheScope: 'public' } : result);
    switch (method) {
      case 'initialize': {
        const requested = params.protocolVersion;
        if (typeof requested !== 'string' || !params.clientInfo || typeof params.clientInfo !== 'object') {
          return rpcError(id, -32602, 'initialize needs params.protocolVersion, capabilities and clientInfo');
        }
        const version = session?.fixedVersion || (LEGACY_VERSIONS.includes(requested) ? requested : LEGACY_VERSIONS[0]);
        if (session) { session.protocolVersion = version; session.clientInfo = params.clientInfo; }
        const info = serverInfo();
        if (version < '2025-11-25') { delete info.description; delete info.websiteUrl; }
        if (version < '2025-06-18') delete info.title;
        return ok({ protocolVersion: version, capabilities: capabilities(), serverInfo: info,
          instructions: 'A mock server: tools do nothing useful.' });
      }
      case 'server/discover':
        if (!modern) return rpcError(id, -32601, 'Method not found: server/discover (legacy session)');
        return cached({ supportedVersions: [...MODERN_VERSIONS, ...LEGACY_VERSIONS], capabilities: capabilities(),
          instructions: 'A mock server: tools do nothing useful.', _meta: { 'io.modelcontextprotocol/serverInfo': serverInfo() } });
      case 'ping':
        if (modern) return rpcError(id, -32601, 'Method not found: ping');
        return ok({});
      case 'tools/list':
      case 'resources/list':
      case 'prompts/list': {
        const kind = method.split('/')[0];
        const r = page(data[kind], kind, params, opts.page_size);
        return r.error ? rpcError(id, -32602, r.error) : cached(r.result);
      }
      case 'tools/call': {
        const tool = data.tools.find((t) => t.name === params.name);
        if (!tool) return rpcError(id, -32602, `Unknown tool: ${params.name}`);
        const args = params.arguments || {};
        let text;
        if (tool.name === 'echo') text = String(args.text ?? '');
        else if (tool.name === 'add') text = String(Number(args.a) + Number(args.b));
        else if (tool.name === 'get_time') text = new Date().toISOString();
        else text = `${tool.name} called with ${JSON.stringify(args)}`;
        return ok({ content: [{ type: 'text', text }], isError: false });
      }
      default:
        return rpcError(id, -32601, `Method not found: ${method}`);
    }
  }

  // Writes a JSON-RPC reply as JSON or as a one-response SSE stream (priming event from 2025-11-25).
  function reply(res, status, body, headers, sse, version) {
    if (!sse) return send(res, status, body, headers);
    res.writeHead(status, { ...headers, 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-cache', Connection: 'keep-alive' });
    if (!version || version >= '2025-11-25') res.write(`id: ${++eventId}\ndata: \n\n`);
    res.write(`id: ${++eventId}\nevent: message\ndata: ${JSON.stringify(body)}\n\n`);
    return res.end();
  }

  async function handleMcp(req, res, url) {
    if (state.legacy) {
      // a 2024-11-05 server: no Streamable HTTP; GET opens the legacy event stream
      if (req.method === 'GET') return handleSseOpen(req, res);
      return send(res, 405, { error: 'method not allowed' }, { Allow: 'GET' });
    }
    if (req.method === 'GET') return send(res, 405, { error: 'no standalone SSE stream on this endpoint' }, { Allow: 'POST, DELETE' });
    const sidHeader = req.headers['mcp-session-id'];
    if (req.method === 'DELETE') {
      if (!sidHeader) return send(res, 400, rpcError(null, -32600, 'Bad Request: Mcp-Session-Id header is required'));
      if (!sessions.delete(sidHeader)) return send(res, 404, rpcError(null, -32001, 'Session not found'));
      return send(res, 200, undefined);
    }
    if (req.method !== 'POST') return send(res, 405, { error: 'method not allowed' }, { Allow: 'POST, DELETE' });
    const origin = req.headers.origin;
    if (origin && !/^https?:\/\/(localhost|127\.0\.0\.1|\[::1\])(:\d+)?$/.test(origin)) {
      return send(res, 403, rpcError(null, -32600, `Forbidden: invalid Origin ${origin}`));
    }
    const accept = (req.headers.accept || '').toLowerCase();
    if (!accept.includes('application/json') || !accept.includes('text/event-stream')) {
      return send(res, 406, rpcError(null, -32600, 'Not Acceptable: Accept must list application/json and text/event-stream'));
    }
    const ct = (req.headers['content-type'] || '').split(';')[0].trim().toLowerCase();
    if (ct !== 'application/json') return send(res, 415, rpcError(null, -32600, 'Unsupported Media Type: use application/json'));
    let msg;
    try { msg = JSON.parse(await readBody(req)); } catch { return send(res, 400, rpcError(null, -32700, 'Parse error')); }
    if (Array.isArray(msg)) return send(res, 400, rpcError(null, -32600, 'JSON-RPC batches are not supported'));
    if (!msg || typeof msg !== 'object' || msg.jsonrpc !== '2.0') return send(res, 400, rpcError(null, -32600, 'Invalid Request'));
    const sse = state.sse || url.searchParams.get('sse') === '1';
    const isRequest = typeof msg.method === 'string' && 'id' in msg;
    if (isRequest && !isId(msg.id)) return send(res, 400, rpcError(null, -32600, 'Invalid Request: id must be a string or integer'));
    const pv = req.headers['mcp-protocol-version'];

    // Modern (stateless) era: selected by the version header; no sessions.
    if (pv && MODERN_VERSIONS.includes(pv)) {
      if (!isRequest) return send(res, 202, undefined);
      const meta = msg.params?._meta || {};
      const mv = meta['io.modelcontextprotocol/protocolVersion'];
      if (typeof mv !== 'string' || !meta['io.modelcontextprotocol/clientCapabilities']) {
        return send(res, 400, rpcError(msg.id, -32602, 'params._meta needs io.modelcontextprotocol/protocolVersion and clientCapabilities'));
      }
      if (mv !== pv || req.headers['mcp-method'] !== msg.method) {
        return send(res, 400, rpcError(msg.id, -32020, 'Header mismatch: MCP-Protocol-Version / Mcp-Method must match the body'));
      }
      const out = dispatch(msg, null, true);
      const status = out.error?.code === -32601 ? 404 : 200;
      return reply(res, status, out, {}, sse && status === 200, pv);
    }

    if (isRequest && msg.method === 'initialize') {
      const sid = randomUUID();
      const session = { protocolVersion: null, initialized: false };
      const out = dispatch(msg, session, false);
      if (out.error) return reply(res, 200, out, {}, sse, null);
      if (sessions.size >= MAX_SESSIONS) sessions.delete(sessions.keys().next().value); // oldest first
      sessions.set(sid, session);
      return reply(res, 200, out, { 'Mcp-Session-Id': sid }, sse, session.protocolVersion);
    }
    if (!sidHeader) return send(res, 400, rpcError(isRequest ? msg.id : null, -32600, 'Bad Request: Mcp-Session-Id header is required'));
    const session = sessions.get(sidHeader);
    if (!session) return send(res, 404, rpcError(isRequest ? msg.id : null, -32001, 'Session not found'));
    if (pv !== undefined && !LEGACY_VERSIONS.includes(pv)) {
      return send(res, 400, rpcError(isRequest ? msg.id : null, -32600, `Bad Request: unsupported MCP-Protocol-Version "${pv}"`));
    }
    if (!isRequest) {
      // Notification or client response: accepted without a body.
      if (msg.method === 'notifications/initialized') session.initialized = true;
      return send(res, 202, undefined);
    }
    return reply(res, 200, dispatch(msg, session, false), {}, sse, session.protocolVersion);
  }

  // Legacy HTTP+SSE (2024-11-05): GET /sse keeps a stream open; POST /messages?sessionId=… → 202.
  function handleSseOpen(req, res) {
    if (req.method !== 'GET') return send(res, 405, { error: 'method not allowed' }, { Allow: 'GET' });
    const sid = randomUUID();
    res.writeHead(200, { 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-cache', Connection: 'keep-alive' });
    res.write(`event: endpoint\ndata: /messages?sessionId=${sid}\n\n`);
    sseSessions.set(sid, { res, session: { fixedVersion: '2024-11-05', protocolVersion: null, initialized: false } });
    req.on('close', () => sseSessions.delete(sid));
    return undefined;
  }
  async function handleSseMessage(req, res, url) {
    if (req.method !== 'POST') return send(res, 405, { error: 'method not allowed' }, { Allow: 'POST' });
    const entry = sseSessions.get(url.searchParams.get('sessionId') || '');
    if (!entry) return send(res, 404, { error: 'unknown sessionId' });
    let msg;
    try { msg = JSON.parse(await readBody(req)); } catch { return send(res, 400, { error: 'Parse error' }); }
    send(res, 202, 'Accepted', { 'Content-Type': 'text/plain' });
    if (msg && typeof msg.method === 'string' && isId(msg.id)) {
      const out = dispatch(msg, entry.session, false);
      entry.res.write(`event: message\ndata: ${JSON.stringify(out)}\n\n`);
    }
    return undefined;
  }

  function serverJson(req) {
    return {
      $schema: 'https://static.modelcontextprotocol.io/schemas/2025-12-11/server.schema.json',
      name: `io.github.agentlens/${opts.name.replace(/[^a-zA-Z0-9._-]/g, '-')}`,
      title: `Mock MCP server (${opts.name})`.slice(0, 100),
      description: 'Mock MCP server for AgentLens demos and tests.',
      version: SERVER_VERSION,
      websiteUrl: 'https://github.com/pawelharacz/agentlens',
      remotes: [{ type: 'streamable-http', url: `${base(req)}/mcp` }, { type: 'sse', url: `${base(req)}/sse` }],
    };
  }

  function controlExtra(b, check) {
    if (check) {
      if (b.sse !== undefined && typeof b.sse !== 'boolean') return 'sse must be a boolean';
      if (b.legacy !== undefined && typeof b.legacy !== 'boolean') return 'legacy must be a boolean';
      return (b.tools !== undefined && validItems(b.tools, 'tools', 'name'))
        || (b.resources !== undefined && validItems(b.resources, 'resources', 'uri'))
        || (b.prompts !== undefined && validItems(b.prompts, 'prompts', 'name')) || null;
    }
    if (b.sse !== undefined) state.sse = b.sse;
    if (b.legacy !== undefined) state.legacy = b.legacy;
    if (b.tools !== undefined) data.tools = b.tools.map(normTool);
    if (b.resources !== undefined) data.resources = b.resources;
    if (b.prompts !== undefined) data.prompts = b.prompts;
    if (b.reset === true) { data.tools = DEFAULT_TOOLS.map(normTool); data.resources = [...DEFAULT_RESOURCES]; data.prompts = [...DEFAULT_PROMPTS]; }
    return null;
  }
  const view = () => ({ sessions: sessions.size, tools: data.tools.map((t) => t.name) });

  server = http.createServer(async (req, res) => {
    try {
      const url = new URL(req.url, 'http://mock');
      const p = url.pathname;
      if (p === '/healthz') return send(res, 200, { status: 'ok' });
      if (p === '/_control') return control(req, res, state, controlExtra, view);
      if (p === '/.well-known/oauth-protected-resource' || p === '/.well-known/oauth-protected-resource/mcp') {
        return send(res, 200, { resource: `${base(req)}/mcp`, authorization_servers: [`${base(req)}/auth`],
          bearer_methods_supported: ['header'], scopes_supported: ['mcp:read'] });
      }
      if (p !== '/mcp' && p !== '/sse' && p !== '/messages' && p !== '/.well-known/mcp/server.json') return send(res, 404, { error: 'not found' });
      if (await applyMode(state, res, prmUrl(req), req)) return undefined;
      if (p === '/.well-known/mcp/server.json') return send(res, 200, serverJson(req));
      if (p === '/sse') return handleSseOpen(req, res);
      if (p === '/messages') return await handleSseMessage(req, res, url);
      return await handleMcp(req, res, url);
    } catch (e) {
      if (!res.headersSent) send(res, e.status || 500, { error: String(e.message || e) });
      return undefined;
    }
  });
  return { server, state };
}

if (process.argv[1] && import.meta.url === pathToFileURL(realpathSync(process.argv[1])).href) {
  let opts;
  try { opts = options(SPEC); } catch (e) { process.stderr.write(`mcp-server: ${e.message}\n`); process.exit(2); }
  listen(createServer(opts).server, opts, 'mcp-server');
}
