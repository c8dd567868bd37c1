#!/usr/bin/env node
// SPDX-License-Identifier: Apache-2.0
// A real MCP server from the ecosystem, for spec/api/mcp_client.test.mjs: the official TypeScript
// SDK's McpServer behind its StreamableHTTPServerTransport (stateful: one transport per
// Mcp-Session-Id; replies as SSE, the SDK default), two tools, one resource, one prompt.
//
//   npm ci --prefix spec/support/mcp-sdk && PORT=0 node spec/support/mcp-sdk/server.mjs
//
// POST/GET/DELETE /mcp; prints one JSON line {"event":"listening","port":N}.
import { randomUUID } from 'node:crypto';
import http from 'node:http';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { isInitializeRequest } from '@modelcontextprotocol/sdk/types.js';
import { z } from 'zod';

function buildServer() {
  const server = new McpServer({ name: 'sdk-example-server', title: 'SDK example server', version: '0.1.0' });
  server.registerTool('add', {
    title: 'Add', description: 'Adds two numbers.', inputSchema: { a: z.number(), b: z.number() },
  }, async ({ a, b }) => ({ content: [{ type: 'text', text: String(a + b) }] }));
  server.registerTool('echo', {
    title: 'Echo', description: 'Echoes a message.', inputSchema: { message: z.string() },
  }, async ({ message }) => ({ content: [{ type: 'text', text: message }] }));
  server.registerResource('readme', 'docs://readme', { title: 'Read me', mimeType: 'text/plain' },
    async (uri) => ({ contents: [{ uri: uri.href, text: 'hello' }] }));
  server.registerPrompt('review', { title: 'Review', description: 'Review some code.', argsSchema: { code: z.string() } },
    ({ code }) => ({ messages: [{ role: 'user', content: { type: 'text', text: `Review:\n${code}` } }] }));
  return server;
}

const transports = new Map(); // session id -> transport

async function readJson(req) {
  const chunks = [];
  for await (const c of req) chunks.push(c);
  const text = Buffer.concat(chunks).toString('utf8');
  try { return JSON.parse(text); } catch { return undefined; }
}

const rpcError = (res, status, code, message) => {
  res.writeHead(status, { 'Content-Type': 'application/json' });
  res.end(JSON.stringify({ jsonrpc: '2.0', error: { code, message }, id: null }));
};

const httpServer = http.createServer(async (req, res) => {
  try {
    const url = new URL(req.url, 'http://sdk');
    if (url.pathname !== '/mcp') return rpcError(res, 404, -32000, 'Not found');
    const sid = req.headers['mcp-session-id'];
    if (req.method === 'POST') {
      const body = await readJson(req);
      let transport = sid ? transports.get(sid) : undefined;
      if (!transport) {
        if (sid || !isInitializeRequest(body)) return rpcError(res, sid ? 404 : 400, -32000, 'Bad Request: No valid session ID provided');
        transport = new StreamableHTTPServerTransport({
          sessionIdGenerator: () => randomUUID(),
          onsessioninitialized: (id) => { transports.set(id, transport); },
        });
        transport.onclose = () => { if (transport.sessionId) transports.delete(transport.sessionId); };
        await buildServer().connect(transport);
      }
      return await transport.handleRequest(req, res, body);
    }
    if (req.method === 'GET' || req.method === 'DELETE') {
      const transport = sid && transports.get(sid);
      if (!transport) return rpcError(res, sid ? 404 : 400, -32000, 'Bad Request: No valid session ID provided');
      return await transport.handleRequest(req, res);
    }
    return rpcError(res, 405, -32000, 'Method not allowed');
  } catch (e) {
    if (!res.headersSent) rpcError(res, 500, -32603, String(e?.message || e));
    return undefined;
  }
});

httpServer.listen(Number(process.env.PORT ?? 9003), process.env.HOST || '127.0.0.1', () => {
  process.stdout.write(`${JSON.stringify({ event: 'listening', server: 'mcp-sdk', port: httpServer.address().port })}\n`);
});
for (const sig of ['SIGTERM', 'SIGINT']) process.on(sig, () => { httpServer.closeAllConnections(); httpServer.close(() => process.exit(0)); });
