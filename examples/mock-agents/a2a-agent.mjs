#!/usr/bin/env node
// SPDX-License-Identifier: Apache-2.0
// Mock A2A 1.0 agent for AgentLens demos and tests (Node.js built-ins only).
//
//   GET  /.well-known/agent-card.json   A2A 1.0 agent card (ETag, Cache-Control, If-None-Match → 304)
//   GET  /.well-known/agent.json        the same card, only with --legacy / LEGACY=1 (404 otherwise)
//   POST /a2a                           JSON-RPC 2.0 binding (A2A-Version: 1.0 required)
//   GET  /.well-known/oauth-protected-resource   RFC 9728 metadata (named by mode "auth")
//   GET|POST /_control                  run-time behaviour {mode, delay_ms, legacy}
//   GET  /healthz                       always 200 (container health)
//
// Options (flag, then env, then default): --port PORT (9001), --host HOST (0.0.0.0),
// --name NAME|AGENT_NAME (mock-a2a-agent), --public-url PUBLIC_URL (default: from the request's Host header),
// --mode MODE (normal|slow|fail|garbage|auth), --delay-ms DELAY_MS (1000, used by "slow"),
// --legacy LEGACY (also serve /.well-known/agent.json).
import { createHash, randomUUID } from 'node:crypto';
import { realpathSync } from 'node:fs';
import http from 'node:http';
import { pathToFileURL } from 'node:url';
import { applyMode, behaviour, control, hostOf, listen, options, readBody, send } from './common.mjs';

const SPEC = {
  port: { env: ['PORT'], flag: 'port', def: '9001', int: true },
  host: { env: ['HOST'], flag: 'host', def: '0.0.0.0' },
  name: { env: ['NAME', 'AGENT_NAME'], flag: 'name', def: 'mock-a2a-agent' },
  public_url: { env: ['PUBLIC_URL'], flag: 'public-url', def: '' },
  mode: { env: ['MODE'], flag: 'mode', def: 'normal' },
  delay_ms: { env: ['DELAY_MS'], flag: 'delay-ms', def: '1000', int: true },
  legacy: { env: ['LEGACY'], flag: 'legacy', def: false, bool: true },
};

export const SUPPORTED_VERSIONS = ['1.0'];

export function agentCard(name, base) {
  return {
    name,
    description: `Mock A2A agent "${name}" for AgentLens demos and tests: echoes messages and knows no tasks.`,
    supportedInterfaces: [{ url: `${base}/a2a`, protocolBinding: 'JSONRPC', protocolVersion: '1.0' }],
    provider: { organization: 'AgentLens examples', url: 'https://github.com/pawelharacz/agentlens' },
    version: '1.0.0',
    documentationUrl: `${base}/docs`,
    capabilities: { streaming: false, pushNotifications: false, extendedAgentCard: false },
    securitySchemes: {
      bearer: { httpAuthSecurityScheme: { scheme: 'Bearer', bearerFormat: 'JWT', description: 'Any bearer token (mock).' } },
    },
    securityRequirements: [{ schemes: { bearer: { list: [] } } }],
    defaultInputModes: ['text/plain'],
    defaultOutputModes: ['text/plain', 'application/json'],
    skills: [
      {
        id: 'echo',
        name: 'Echo',
        description: 'Replies with the text it was sent.',
        tags: ['demo', 'echo'],
        examples: ['hello agent'],
        inputModes: ['text/plain'],
        outputModes: ['text/plain'],
      },
      {
        id: 'weather-lookup',
        name: 'Weather lookup',
        description: 'Pretends to look up the weather for a city.',
        tags: ['demo', 'weather'],
        examples: ['What is the weather in Warsaw?'],
      },
    ],
  };
}

// A2A 1.0 JSON-RPC errors carry a google.rpc.ErrorInfo entry in error.data.
function a2aError(id, code, message, reason, metadata) {
  const info = { '@type': 'type.googleapis.com/google.rpc.ErrorInfo', reason, domain: 'a2a-protocol.org' };
  if (metadata) info.metadata = metadata;
  return { jsonrpc: '2.0', id, error: { code, message, data: [info] } };
}
const rpcError = (id, code, message) => ({ jsonrpc: '2.0', id, error: { code, message } });

function textOf(message) {
  const parts = Array.isArray(message?.parts) ? message.parts : [];
  return parts.map((p) => (typeof p?.text === 'string' ? p.text : '')).join('');
}

function handleRpc(msg, version) {
  if (msg === null || typeof msg !== 'object' || Array.isArray(msg) || msg.jsonrpc !== '2.0' ||
      typeof msg.method !== 'string' || !('id' in msg) ||
      !(typeof msg.id === 'string' || Number.isInteger(msg.id))) {
    return rpcError(msg && (typeof msg.id === 'string' || Number.isInteger(msg.id)) ? msg.id : null, -32600, 'Invalid Request');
  }
  const { id, method } = msg;
  const params = msg.params ?? {};
  if (!SUPPORTED_VERSIONS.includes(version)) {
    return a2aError(id, -32009, `A2A version "${version}" is not supported (supported: ${SUPPORTED_VERSIONS.join(', ')})`,
      'VERSION_NOT_SUPPORTED', { supportedVersions: SUPPORTED_VERSIONS.join(',') });
  }
  if (typeof params !== 'object' || Array.isArray(params)) return rpcError(id, -32602, 'params must be an object');
  switch (method) {
    case 'GetTask':
      if (typeof params.id !== 'string' || !params.id) return rpcError(id, -32602, 'params.id is required');
      return a2aError(id, -32001, `task ${params.id} not found`, 'TASK_NOT_FOUND');
    case 'CancelTask':
    case 'SubscribeToTask':
      return a2aError(id, -32001, `task ${params.id} not found`, 'TASK_NOT_FOUND');
    case 'ListTasks':
      return { jsonrpc: '2.0', id, result: { tasks: [], nextPageToken: '', pageSize: 0, totalSize: 0 } };
    case 'SendMessage': {
      const m = params.message;
      if (!m || typeof m !== 'object' || !Array.isArray(m.parts)) return rpcError(id, -32602, 'params.message with parts is required');
      return {
        jsonrpc: '2.0', id,
        result: { message: { messageId: randomUUID(), contextId: m.contextId || randomUUID(), role: 'ROLE_AGENT',
          parts: [{ text: `echo: ${textOf(m)}` }] } },
      };
    }
    case 'GetExtendedAgentCard':
    case 'SendStreamingMessage':
    case 'CreateTaskPushNotificationConfig':
    case 'GetTaskPushNotificationConfig':
    case 'ListTaskPushNotificationConfigs':
    case 'DeleteTaskPushNotificationConfig':
      return a2aError(id, -32004, `${method} is not supported by this agent`, 'UNSUPPORTED_OPERATION');
    default:
      return rpcError(id, -32601, `Method not found: ${method}`);
  }
}

export function createAgent(opts) {
  const state = behaviour(opts);
  state.legacy = opts.legacy;
  let server;
  // Without PUBLIC_URL, URLs follow the Host the client used (e.g. http://a2a-agent:9001 on compose).
  const base = (req) => (opts.public_url || `http://${hostOf(req) || `localhost:${server.address().port}`}`).replace(/\/+$/, '');
  const prmUrl = (req) => `${base(req)}/.well-known/oauth-protected-resource`;

  server = http.createServer(async (req, res) => {
    try {
      const url = new URL(req.url, 'http://mock');
      const p = url.pathname;
      if (p === '/healthz') return send(res, 200, { status: 'ok' });
      if (p === '/_control') {
        return control(req, res, state, (b, check) => {
          if (check) return b.legacy !== undefined && typeof b.legacy !== 'boolean' ? 'legacy must be a boolean' : null;
          if (b.legacy !== undefined) state.legacy = b.legacy;
          return null;
        });
      }
      if (p === '/.well-known/oauth-protected-resource') {
        return send(res, 200, { resource: `${base(req)}/a2a`, authorization_servers: [`${base(req)}/auth`],
          bearer_methods_supported: ['header'], scopes_supported: [] });
      }
      const isCard = p === '/.well-known/agent-card.json' || (p === '/.well-known/agent.json' && state.legacy);
      if (!isCard && p !== '/a2a') return send(res, 404, { error: 'not found' });
      if (isCard && req.method !== 'GET' && req.method !== 'HEAD') return send(res, 405, { error: 'method not allowed' }, { Allow: 'GET, HEAD' });
      if (await applyMode(state, res, prmUrl(req), req)) return undefined;

      if (isCard) {
        const body = JSON.stringify(agentCard(opts.name, base(req)), null, 2);
        const etag = `"${createHash('sha256').update(body).digest('hex').slice(0, 32)}"`;
        const headers = { 'Content-Type': 'application/json', 'Cache-Control': 'max-age=60', ETag: etag };
        if ((req.headers['if-none-match'] || '').split(',').map((s) => s.trim()).includes(etag)) {
          res.writeHead(304, headers);
          return res.end();
        }
        if (req.method === 'HEAD') {
          res.writeHead(200, { ...headers, 'Content-Length': Buffer.byteLength(body) });
          return res.end();
        }
        return send(res, 200, body, headers);
      }

      // POST /a2a: JSON-RPC binding.
      if (req.method !== 'POST') return send(res, 405, rpcError(null, -32600, 'use POST for JSON-RPC'), { Allow: 'POST' });
      const ct = (req.headers['content-type'] || '').split(';')[0].trim().toLowerCase();
      if (ct !== 'application/json' && ct !== 'application/a2a+json') {
        return send(res, 415, a2aError(null, -32005, `content type "${ct}" is not supported`, 'CONTENT_TYPE_NOT_SUPPORTED'));
      }
      const text = await readBody(req);
      let msg;
      try { msg = JSON.parse(text); } catch { return send(res, 200, rpcError(null, -32700, 'Parse error')); }
      // A2A-Version: header or query parameter; empty or missing means 0.3 (1.0 §3.6).
      const version = (req.headers['a2a-version'] || url.searchParams.get('A2A-Version') || '').trim() || '0.3';
      return send(res, 200, handleRpc(msg, version));
    } catch (e) {
      if (!res.headersSent) send(res, e.status || 500, { error: String(e.message || e) });
      return undefined;
    }
  });
  return { server, state };
}

if (process.argv[1] && import.meta.url === pathToFileURL(realpathSync(process.argv[1])).href) {
  let opts;
  try { opts = options(SPEC); } catch (e) { process.stderr.write(`a2a-agent: ${e.message}\n`); process.exit(2); }
  listen(createAgent(opts).server, opts, 'a2a-agent');
}
