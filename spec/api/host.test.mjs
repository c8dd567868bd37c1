// SPDX-License-Identifier: Apache-2.0
// The HTTP host over real HTTP: health, errors, limits, assets, Lua handlers, reload, shutdown.
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import { after, before, describe, it } from 'node:test';
import { gunzipSync } from 'node:zlib';
import { luaTreeWithTestRoutes } from '../support/lua_tree.mjs';
import { eventually, rawRequest, sleep, startServer, statusOf } from '../support/server.mjs';

describe('host', () => {
  let server;
  let tree;
  before(async () => {
    tree = luaTreeWithTestRoutes();
    server = await startServer({ args: ['--lua-dir', tree.dir, '--http-max-body-size', '2KiB'] });
  });
  after(async () => {
    await server?.stop();
    rmSync(tree.dir, { recursive: true, force: true });
  });

  it('answers /healthz and /readyz', async () => {
    const h = await server.fetch('/healthz');
    assert.equal(h.status, 200);
    assert.equal(await h.text(), '{"status":"ok"}');
    assert.equal(h.headers.get('content-type'), 'application/json');
    const r = await server.fetch('/readyz');
    assert.equal(r.status, 200);
    assert.deepEqual(await r.json(), { status: 'ok' });
    const post = await server.fetch('/healthz', { method: 'POST' });
    assert.equal(post.status, 405);
    assert.equal(post.headers.get('allow'), 'GET, HEAD');
  });

  it('serves a Lua route with JSON', async () => {
    const r = await server.fetch('/api/v1/version');
    assert.equal(r.status, 200);
    assert.equal(r.headers.get('content-type'), 'application/json');
    assert.equal(r.headers.get('cache-control'), 'no-store');
    assert.match((await r.json()).version, /^\d+\.\d+\.\d+/);
  });

  it('404 JSON for unknown /api paths, with the request id', async () => {
    for (const p of ['/api/nope', '/api', '/api/v1/version/extra', '/api/v1/']) {
      const r = await server.fetch(p);
      assert.equal(r.status, 404, p);
      const body = await r.json();
      assert.equal(body.error, 'not found');
      assert.equal(body.request_id, r.headers.get('x-request-id'));
    }
  });

  it('405 with Allow for a wrong method', async () => {
    const r = await server.fetch('/api/v1/version', { method: 'DELETE' });
    assert.equal(r.status, 405);
    assert.equal(r.headers.get('allow'), 'GET, HEAD');
    assert.equal((await r.json()).error, 'method not allowed');
  });

  it('passes method, path params, query, headers, cookies and JSON body to handlers', async () => {
    const r = await server.fetch('/api/test/echo/abc/items/42?x=1&y=two', {
      method: 'POST',
      headers: { 'X-Test': 'hdr', Cookie: 'c1=v1; c2=v2', 'Content-Type': 'application/json' },
      body: JSON.stringify({ a: [1, 2, { b: null }], url: 'http://x/y' }),
    });
    assert.equal(r.status, 200);
    const text = await r.text();
    assert.ok(text.includes('"url":"http://x/y"'), 'slashes are not escaped');
    assert.ok(text.includes('"empty":[]'), 'empty arrays stay arrays');
    const body = JSON.parse(text);
    assert.equal(body.method, 'POST');
    assert.equal(body.path, '/api/test/echo/abc/items/42');
    assert.deepEqual(body.params, { id: 'abc', item: '42' });
    assert.deepEqual(body.query, { x: '1', y: 'two' });
    assert.equal(body.header, 'hdr');
    assert.equal(body.cookie, 'v1');
    assert.deepEqual(body.json, { a: [1, 2, { b: null }], url: 'http://x/y' });
    assert.equal(body.json_error, null);
  });

  it('reports malformed JSON bodies to the handler', async () => {
    const r = await server.fetch('/api/test/echo/a/items/b', { method: 'POST', body: '{"a": tru' });
    const body = await r.json();
    assert.equal(body.json, null);
    assert.match(body.json_error, /^request body is not valid JSON: .*line 1/);
  });

  it('string bodies and handler headers', async () => {
    const r = await server.fetch('/api/test/text');
    assert.equal(r.status, 201);
    assert.equal(r.headers.get('content-type'), 'text/plain; charset=utf-8');
    assert.equal(r.headers.get('x-extra'), 'yes');
    assert.equal(await r.text(), 'plain text');
  });

  it('413 for bodies over the limit (Content-Length and chunked)', async () => {
    const big = 'x'.repeat(4096);
    const r = await server.fetch('/api/test/echo/a/items/b', { method: 'POST', body: big });
    assert.equal(r.status, 413);
    assert.equal((await r.json()).error, 'request body too large');
    const chunk = 'x'.repeat(1500);
    const raw = await rawRequest(server.port,
      'POST /api/test/echo/a/items/b HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n' +
      `${(1500).toString(16)}\r\n${chunk}\r\n${(1500).toString(16)}\r\n${chunk}\r\n0\r\n\r\n`);
    assert.equal(statusOf(raw), 413, raw.slice(0, 200));
    const ok = await server.fetch('/api/test/echo/a/items/b', { method: 'POST', body: '{"small":true}' });
    assert.equal(ok.status, 200);
  });

  it('handler errors become 500 JSON with the request id; the server keeps serving', async () => {
    const r = await server.fetch('/api/test/fail', { headers: { 'X-Request-Id': 'test-fail-1' } });
    assert.equal(r.status, 500);
    assert.deepEqual(await r.json(), { error: 'internal server error', request_id: 'test-fail-1' });
    const log = await server.waitForLog((e) => e.msg === 'lua handler failed' && e.request_id === 'test-fail-1');
    assert.match(log.error, /deliberate failure in a test handler/);
    assert.match(log.error, /stack traceback/);
    assert.match(log.error, /testing\.lua:\d+/);
    const bad = await server.fetch('/api/test/bad-status');
    assert.equal(bad.status, 500);
    const again = await server.fetch('/api/v1/version');
    assert.equal(again.status, 200);
  });

  it('logs every request with id, method, path, status and duration', async () => {
    await server.fetch('/api/v1/version', { headers: { 'X-Request-Id': 'log-check-1' } });
    const e = await server.waitForLog((l) => l.msg === 'request' && l.request_id === 'log-check-1');
    assert.equal(e.method, 'GET');
    assert.equal(e.path, '/api/v1/version');
    assert.equal(e.status, 200);
    assert.equal(typeof e.duration_ms, 'number');
    assert.equal(e.level, 'info');
    assert.match(e.time, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
  });

  it('replaces an unusable X-Request-Id with a generated one', async () => {
    const r = await server.fetch('/healthz', { headers: { 'X-Request-Id': 'bad id with spaces' } });
    assert.match(r.headers.get('x-request-id'), /^[0-9a-f]{16}$/);
  });

  it('bcrypt runs off the HTTP workers: other requests are answered while hashes are computed', async () => {
    const started = Date.now();
    const hashes = [1, 2, 3, 4].map(() => server.fetch('/api/test/hash', { method: 'POST' }));
    const latencies = [];
    for (let i = 0; i < 20; i++) {
      const t = Date.now();
      assert.equal((await server.fetch('/api/v1/version')).status, 200);
      latencies.push(Date.now() - t);
      await sleep(20);
    }
    const results = await Promise.all(hashes);
    for (const r of results) {
      assert.equal(r.status, 200);
      assert.deepEqual(await r.json(), { hash_prefix: '$2b$12$', ok: true, wrong: false, unknown: false });
    }
    assert.ok(Date.now() - started > 600, 'four cost-12 hashes plus verifies take a while');
    latencies.sort((a, b) => a - b);
    assert.ok(latencies[latencies.length - 2] < 150, `reads stayed fast while hashing: ${latencies}`);
  });

  describe('static assets', () => {
    // One GET without fetch's automatic decompression: {status, headers, body (Buffer)}.
    function rawGet(p, headers = {}, method = 'GET') {
      return new Promise((resolve, reject) => {
        const req = http.request({ host: '127.0.0.1', port: server.port, path: p, method, headers }, (res) => {
          const chunks = [];
          res.on('data', (c) => chunks.push(c));
          res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks) }));
        });
        req.on('error', reject);
        req.end();
      });
    }
    // The first file under assets/ that index.html references (the embedded build's own: the
    // SPA's hashed bundle, or the fallback page's stylesheet).
    async function firstAsset() {
      const html = (await rawGet('/')).body.toString('utf8');
      const m = /(?:src|href)="(\/assets\/[^"]+\.(?:js|css))"/.exec(html);
      assert.ok(m, `index.html references no /assets/ file:\n${html}`);
      return m[1];
    }

    it('serves index.html at / with no-cache and security headers', async () => {
      const r = await server.fetch('/');
      assert.equal(r.status, 200);
      assert.equal(r.headers.get('content-type'), 'text/html; charset=utf-8');
      assert.equal(r.headers.get('cache-control'), 'no-cache');
      assert.match(r.headers.get('content-security-policy'), /default-src 'self'/);
      assert.match(await r.text(), /<title>AgentLens<\/title>/);
    });

    it('falls back to index.html for client-side routes, not for missing files', async () => {
      const r = await server.fetch('/catalog/some-id');
      assert.equal(r.status, 200);
      assert.equal(r.headers.get('cache-control'), 'no-cache');
      assert.match(await r.text(), /<title>AgentLens<\/title>/);
      assert.equal((await server.fetch('/assets/missing-abc123.js')).status, 404);
      assert.equal((await server.fetch('/nothing.png')).status, 404);
    });

    it('hashed assets are immutable; ETag and 304', async () => {
      const asset = await firstAsset();
      const r = await server.fetch(asset);
      assert.equal(r.status, 200);
      assert.match(r.headers.get('content-type'), /^(text\/css|text\/javascript); charset=utf-8$/);
      assert.equal(r.headers.get('cache-control'), 'public, max-age=31536000, immutable');
      const etag = r.headers.get('etag');
      assert.match(etag, /^"[0-9a-f]{16}"$/);
      const again = await server.fetch(asset, { headers: { 'If-None-Match': etag } });
      assert.equal(again.status, 304);
    });

    it('sends the precompressed variant when the client accepts gzip', async () => {
      for (const p of ['/', '/catalog/some-id', await firstAsset()]) {
        const plain = await rawGet(p);
        const gz = await rawGet(p, { 'Accept-Encoding': 'gzip, deflate, br' });
        assert.equal(plain.status, 200, p);
        assert.equal(gz.status, 200, p);
        assert.equal(plain.headers['content-encoding'], undefined, `${p}: identity without Accept-Encoding`);
        assert.equal(gz.headers['content-encoding'], 'gzip', p);
        for (const r of [plain, gz]) assert.equal(r.headers.vary, 'Accept-Encoding', p);
        assert.equal(gz.headers['content-type'], plain.headers['content-type'], p);
        assert.equal(gz.headers['cache-control'], plain.headers['cache-control'], p);
        assert.ok(gz.body.length < plain.body.length, `${p}: ${gz.body.length} >= ${plain.body.length} bytes`);
        assert.deepEqual(gunzipSync(gz.body), plain.body, `${p}: the variant holds the same bytes`);
        // Each representation has its own validator, and 304 works for both.
        assert.notEqual(gz.headers.etag, plain.headers.etag, p);
        const cached = await rawGet(p, { 'Accept-Encoding': 'gzip', 'If-None-Match': gz.headers.etag });
        assert.equal(cached.status, 304, p);
        assert.equal(cached.headers.vary, 'Accept-Encoding', p);
        const head = await rawGet(p, { 'Accept-Encoding': 'gzip' }, 'HEAD');
        assert.equal(head.status, 200, p);
        assert.equal(head.headers['content-encoding'], 'gzip', p);
        assert.equal(head.body.length, 0, p);
      }
    });

    it('honours q-values and never serves a variant by its own name', async () => {
      for (const [ae, want] of [['gzip;q=0', undefined], ['*', 'gzip'], ['*;q=0.5, gzip;q=0', undefined],
        ['identity', undefined], ['br;q=1, GZIP;q=0.001', 'gzip'], ['x-gzip', 'gzip'], ['deflate, *;q=0', undefined]]) {
        const r = await rawGet('/', { 'Accept-Encoding': ae });
        assert.equal(r.status, 200, ae);
        assert.equal(r.headers['content-encoding'], want, `Accept-Encoding: ${ae}`);
      }
      const asset = await firstAsset();
      assert.equal((await rawGet(`${asset}.gz`)).status, 404);
      assert.equal((await rawGet('/index.html.gz')).status, 404);
    });

    it('refuses path traversal', async () => {
      for (const p of ['/../../etc/passwd', '/assets/../../etc/passwd', '/%2e%2e/%2e%2e/etc/passwd',
        '/assets/..%2f..%2fetc%2fpasswd', '/..\\..\\etc\\passwd', '//etc/passwd', '/./index.html']) {
        const raw = await rawRequest(server.port, `GET ${p} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`);
        assert.ok(!raw.includes('root:'), `${p} leaked a file`);
        assert.ok([400, 404].includes(statusOf(raw)), `${p} -> ${statusOf(raw)}`);
      }
    });

    it('405 for writes to asset paths', async () => {
      const r = await server.fetch('/index.html', { method: 'POST', body: 'x' });
      assert.equal(r.status, 405);
      assert.equal(r.headers.get('allow'), 'GET, HEAD');
    });
  });

  describe('hot reload', () => {
    it('an edited handler answers differently without a restart', async () => {
      assert.deepEqual(await (await server.fetch('/api/test/answer')).json(), { answer: 1 });
      const src = readFileSync(tree.testModule, 'utf8');
      writeFileSync(tree.testModule, src.replace('{ answer = 1 }', '{ answer = 2 }'));
      await eventually(async () => (await (await server.fetch('/api/test/answer')).json()).answer === 2);
      // A syntax error: logged with file and line, the previous generation keeps serving.
      writeFileSync(tree.testModule, src.replace('{ answer = 1 }', '{ answer = 3 ').replace('function M.fail', 'function M.fail('));
      const failure = await server.waitForLog((e) => e.msg?.startsWith('lua reload failed'));
      assert.match(failure.error, /testing\.lua:\d+:/);
      for (let i = 0; i < 5; i++) assert.equal((await (await server.fetch('/api/test/answer')).json()).answer, 2);
      // A broken route table is refused the same way.
      const app = readFileSync(tree.app, 'utf8');
      writeFileSync(tree.testModule, src.replace('{ answer = 1 }', '{ answer = 4 }'));
      writeFileSync(tree.app, app.replace('path = "/api/v1/version"', 'path = "/api/v1/{broken"'));
      await server.waitForLog((e) => e.msg?.startsWith('lua reload failed') && /malformed parameter/.test(e.error));
      assert.equal((await (await server.fetch('/api/test/answer')).json()).answer, 2);
      writeFileSync(tree.app, app);
      await eventually(async () => (await (await server.fetch('/api/test/answer')).json()).answer === 4);
    });

    it('SIGHUP publishes a new generation', async () => {
      const before = server.logs.filter((e) => e.msg === 'lua generation published').length;
      server.proc.kill('SIGHUP');
      await eventually(() => server.logs.filter((e) => e.msg === 'lua generation published').length > before);
      assert.equal((await server.fetch('/api/v1/version')).status, 200);
    });
  });
});

describe('graceful shutdown', () => {
  it('SIGTERM drains in-flight requests, refuses new ones and exits 0', async () => {
    const tree = luaTreeWithTestRoutes();
    const server = await startServer({ args: ['--lua-dir', tree.dir] });
    try {
      const slow = server.fetch('/api/test/slow?ms=1000');
      await sleep(200);
      server.proc.kill('SIGTERM');
      const r = await slow;
      assert.equal(r.status, 200);
      assert.deepEqual(await r.json(), { slept_ms: 1000 });
      const exit = await server.exit;
      assert.deepEqual(exit, { code: 0, signal: null });
      await assert.rejects(server.fetch('/healthz'));
      assert.ok(server.logs.some((e) => e.msg === 'stopped'));
    } finally {
      await server.stop();
      rmSync(tree.dir, { recursive: true, force: true });
    }
  });
});

describe('connection limits', () => {
  // Resolves with the milliseconds until the server closed a socket that sent `text`.
  function closedAfter(port, text, timeoutMs = 8000) {
    return new Promise((resolve, reject) => {
      const started = Date.now();
      const sock = net.connect(port, '127.0.0.1', () => sock.write(text));
      const timer = setTimeout(() => { sock.destroy(); reject(new Error('the server kept the connection open')); }, timeoutMs);
      sock.on('data', () => {});
      sock.on('error', () => {});
      sock.on('close', () => { clearTimeout(timer); resolve(Date.now() - started); });
    });
  }

  it('closes a connection whose request head stalls past http.header_timeout', async () => {
    const server = await startServer({ args: ['--http-header-timeout', '1s', '--http-idle-timeout', '30s'] });
    try {
      const ms = await closedAfter(server.port, 'GET /healthz HTTP/1.1\r\nHost: x\r\n');
      assert.ok(ms >= 900 && ms < 4000, `closed after ${ms} ms`);
      assert.equal((await server.fetch('/healthz')).status, 200);
    } finally {
      await server.stop();
    }
  });

  it('holds connections beyond http.max_connections until a slot frees', async () => {
    const server = await startServer({ args: ['--http-max-connections', '2', '--http-workers', '1'] });
    const held = [];
    let third;
    try {
      for (let i = 0; i < 2; i++) {
        held.push(await new Promise((resolve) => { const s = net.connect(server.port, '127.0.0.1', () => resolve(s)); }));
      }
      await sleep(100);
      let answer = '';
      third = net.connect(server.port, '127.0.0.1', () => third.write('GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n'));
      third.on('data', (d) => { answer += d; });
      third.on('error', () => {});
      await sleep(1000);
      assert.equal(answer, '', 'no answer while both slots are taken');
      for (const s of held) s.destroy();
      await eventually(() => statusOf(answer) === 200, { timeoutMs: 5000 });
    } finally {
      for (const s of held) s.destroy();
      third?.destroy();
      await server.stop();
    }
  });
});
