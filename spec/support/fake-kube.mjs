// SPDX-License-Identifier: Apache-2.0
// A fake Kubernetes API server for the Services discovery tests and benchmark (Node, no deps).
//
// Serves GET /api/v1/services and /api/v1/namespaces/{ns}/services:
//   - lists with resourceVersion, limit and continue tokens (which expire on compaction: 410);
//   - watches (?watch=1) streaming JSON lines: ADDED/MODIFIED/DELETED events after the given
//     resourceVersion (all current Services as ADDED when it is absent or "0"), BOOKMARKs every
//     bookmarkMs when allowWatchBookmarks=true, ended after timeoutSeconds; a resourceVersion
//     older than the last compaction is answered 410, as an ERROR event (goneMode "event", what
//     real API servers do) or as the HTTP status (goneMode "status");
//   - bearer tokens (token option; rotateToken() makes the old one fail with 401) and/or client
//     certificates (tls.ca with requestCert: an authorized client certificate is accepted).
// Control, in process: addService, updateService, deleteService, compact, dropWatches,
// rotateToken, forbidden = true (403 for everything: no RBAC), and counters (lists, watches,
// requests by token). Standalone:
//   node spec/support/fake-kube.mjs [--port N] [--control-port N] [--token T] [--bookmark-ms N]
// prints one JSON line {"event":"listening","port":N,"controlPort":M} and takes control requests
// on the control port (plain HTTP, loopback): POST /services (a Service body or {bulk: [...]}),
// PUT /services/{ns}/{name} (annotations/labels to merge), DELETE /services/{ns}/{name},
// POST /compact, POST /drop, POST /rotate {token}, GET /stats.
import http from 'node:http';
import https from 'node:https';
import { pathToFileURL } from 'node:url';

function status(code, reason, message) {
  return { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, code };
}

export class FakeKube {
  constructor({ token = null, tls = null, bookmarkMs = 1000, goneMode = 'event', host = '127.0.0.1' } = {}) {
    this.token = token;
    this.tls = tls;
    this.bookmarkMs = bookmarkMs;
    this.goneMode = goneMode;
    this.host = host;
    this.rv = 100;
    this.compactedRv = 0;
    this.services = new Map(); // "ns/name" -> Service
    this.events = []; // {rv, type, object}
    this.watchers = new Set(); // {res, ns, timer}
    this.sockets = new Set();
    this.stats = { lists: 0, watches: 0, unauthorized: 0, tokens: {}, gone: 0, requests: 0 };
    this.nextIp = 1;
  }

  // ---- control ------------------------------------------------------------------------------

  #emit(type, object) {
    this.events.push({ rv: this.rv, type, object });
    if (this.events.length > 100000) this.events.splice(0, this.events.length - 100000);
    const line = `${JSON.stringify({ type, object })}\n`;
    for (const w of this.watchers) {
      if (!w.ns || w.ns === object.metadata.namespace) w.res.write(line);
    }
  }

  // spec: {namespace, name, annotations, labels, ports, clusterIP}
  addService({ namespace = 'default', name, annotations = {}, labels = {}, ports, clusterIP } = {}) {
    const key = `${namespace}/${name}`;
    if (this.services.has(key)) throw new Error(`service ${key} exists`);
    this.rv += 1;
    const n = this.nextIp++;
    const svc = {
      kind: 'Service',
      apiVersion: 'v1',
      metadata: {
        name, namespace, uid: `uid-${key}-${this.rv}`, resourceVersion: String(this.rv),
        creationTimestamp: new Date().toISOString(), annotations: { ...annotations }, labels: { ...labels },
      },
      spec: {
        type: 'ClusterIP',
        clusterIP: clusterIP ?? `127.1.${(n >> 8) & 255}.${n & 255}`,
        ports: ports ?? [{ name: 'http', port: 80, protocol: 'TCP', targetPort: 8080 }],
      },
      status: { loadBalancer: {} },
    };
    this.services.set(key, svc);
    this.#emit('ADDED', svc);
    return svc;
  }

  // change: {annotations (merged; a null value removes the key), labels, ports}
  updateService(namespace, name, change = {}) {
    const key = `${namespace}/${name}`;
    const old = this.services.get(key);
    if (!old) throw new Error(`no service ${key}`);
    this.rv += 1;
    const svc = structuredClone(old);
    svc.metadata.resourceVersion = String(this.rv);
    for (const field of ['annotations', 'labels']) {
      for (const [k, v] of Object.entries(change[field] ?? {})) {
        if (v === null) delete svc.metadata[field][k];
        else svc.metadata[field][k] = v;
      }
    }
    if (change.ports) svc.spec.ports = change.ports;
    this.services.set(key, svc);
    this.#emit('MODIFIED', svc);
    return svc;
  }

  deleteService(namespace, name) {
    const key = `${namespace}/${name}`;
    const old = this.services.get(key);
    if (!old) throw new Error(`no service ${key}`);
    this.services.delete(key);
    this.rv += 1;
    const svc = structuredClone(old);
    svc.metadata.resourceVersion = String(this.rv);
    this.#emit('DELETED', svc);
    return svc;
  }

  // Forgets history: watches and continue tokens from before now get 410 Gone.
  compact() {
    this.compactedRv = this.rv;
    this.events = [];
  }

  // Ends every open watch abruptly (the socket is destroyed mid-stream).
  dropWatches() {
    for (const w of this.watchers) {
      clearInterval(w.timer);
      clearTimeout(w.end);
      w.res.socket?.destroy();
    }
    this.watchers.clear();
  }

  rotateToken(token) {
    this.token = token;
  }

  // ---- serving ------------------------------------------------------------------------------

  #authorized(req) {
    const auth = req.headers.authorization ?? '';
    const m = auth.match(/^Bearer (.+)$/);
    if (m) this.stats.tokens[m[1]] = (this.stats.tokens[m[1]] ?? 0) + 1;
    if (this.tls?.ca && req.socket.authorized) return true;
    if (this.token === null && !this.tls?.ca) return true;
    return this.token !== null && m && m[1] === this.token;
  }

  #send(res, code, body) {
    const data = JSON.stringify(body);
    res.writeHead(code, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(data) });
    res.end(data);
  }

  #handle(req, res) {
    this.stats.requests += 1;
    const url = new URL(req.url, 'http://x');
    const m = url.pathname.match(/^\/api\/v1\/(?:namespaces\/([^/]+)\/)?services\/?$/);
    if (!m) return this.#send(res, 404, status(404, 'NotFound', `no route ${url.pathname}`));
    if (req.method !== 'GET') return this.#send(res, 405, status(405, 'MethodNotAllowed', 'GET only'));
    if (!this.#authorized(req)) {
      this.stats.unauthorized += 1;
      return this.#send(res, 401, status(401, 'Unauthorized', 'Unauthorized'));
    }
    if (this.forbidden) { // an account without RBAC on services
      this.stats.forbidden = (this.stats.forbidden ?? 0) + 1;
      return this.#send(res, 403, status(403, 'Forbidden',
        'services is forbidden: User "system:serviceaccount:agentlens:agentlens" cannot list resource "services"'));
    }
    const ns = m[1] ? decodeURIComponent(m[1]) : null;
    const q = url.searchParams;
    if (q.get('watch') === '1' || q.get('watch') === 'true') return this.#watch(req, res, ns, q);
    return this.#list(res, ns, q);
  }

  #list(res, ns, q) {
    this.stats.lists += 1;
    const limit = Number(q.get('limit') ?? 0);
    let snapshotRv = this.rv;
    let after = '';
    const cont = q.get('continue');
    if (cont) {
      let token;
      try { token = JSON.parse(Buffer.from(cont, 'base64').toString('utf8')); } catch { token = null; }
      if (!token) return this.#send(res, 400, status(400, 'BadRequest', 'invalid continue token'));
      if (token.rv <= this.compactedRv) {
        this.stats.gone += 1;
        return this.#send(res, 410, status(410, 'Expired', 'The provided continue parameter is too old'));
      }
      snapshotRv = token.rv;
      after = token.after;
    }
    const keys = [...this.services.keys()].filter((k) => (!ns || k.startsWith(`${ns}/`)) && k > after).sort();
    const page = limit > 0 ? keys.slice(0, limit) : keys;
    const more = limit > 0 && keys.length > limit;
    const metadata = { resourceVersion: String(snapshotRv) };
    if (more) {
      metadata.continue = Buffer.from(JSON.stringify({ rv: snapshotRv, after: page.at(-1) })).toString('base64');
      metadata.remainingItemCount = keys.length - limit;
    }
    this.#send(res, 200, { kind: 'ServiceList', apiVersion: 'v1', metadata, items: page.map((k) => this.services.get(k)) });
  }

  #watch(req, res, ns, q) {
    this.stats.watches += 1;
    const rvParam = q.get('resourceVersion');
    const from = rvParam ? Number(rvParam) : 0;
    if (from > 0 && from < this.compactedRv) {
      this.stats.gone += 1;
      const st = status(410, 'Expired', `too old resource version: ${from} (${this.compactedRv})`);
      if (this.goneMode === 'status') return this.#send(res, 410, st);
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.end(`${JSON.stringify({ type: 'ERROR', object: st })}\n`);
      return undefined;
    }
    res.writeHead(200, { 'Content-Type': 'application/json', 'Transfer-Encoding': 'chunked' });
    res.flushHeaders();
    const inNs = (o) => !ns || o.metadata.namespace === ns;
    if (from === 0) {
      for (const svc of this.services.values()) if (inNs(svc)) res.write(`${JSON.stringify({ type: 'ADDED', object: svc })}\n`);
    } else {
      for (const e of this.events) {
        if (e.rv > from && inNs(e.object)) res.write(`${JSON.stringify({ type: e.type, object: e.object })}\n`);
      }
    }
    const w = { res, ns };
    if (q.get('allowWatchBookmarks') === 'true' && this.bookmarkMs > 0) {
      w.timer = setInterval(() => {
        const bookmark = { kind: 'Service', apiVersion: 'v1', metadata: { resourceVersion: String(this.rv) } };
        res.write(`${JSON.stringify({ type: 'BOOKMARK', object: bookmark })}\n`);
      }, this.bookmarkMs);
    }
    const timeout = Number(q.get('timeoutSeconds') ?? 0);
    if (timeout > 0) {
      w.end = setTimeout(() => {
        clearInterval(w.timer);
        this.watchers.delete(w);
        res.end();
      }, timeout * 1000);
    }
    this.watchers.add(w);
    const done = () => {
      clearInterval(w.timer);
      clearTimeout(w.end);
      this.watchers.delete(w);
    };
    res.on('close', done);
    res.on('error', done);
    return undefined;
  }

  async start(port = 0) {
    const handler = (req, res) => this.#handle(req, res);
    this.server = this.tls
      ? https.createServer({ key: this.tls.key, cert: this.tls.cert, ca: this.tls.ca, requestCert: !!this.tls.ca,
        rejectUnauthorized: false }, handler)
      : http.createServer(handler);
    this.server.on('connection', (s) => { this.sockets.add(s); s.on('close', () => this.sockets.delete(s)); });
    this.server.on('secureConnection', (s) => { this.sockets.add(s); s.on('close', () => this.sockets.delete(s)); });
    await new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, this.host, resolve);
    });
    this.port = this.server.address().port;
    this.url = `${this.tls ? 'https' : 'http'}://${this.host}:${this.port}`;
    return this;
  }

  async stop() {
    this.dropWatches();
    for (const s of this.sockets) s.destroy();
    await new Promise((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}

// ---- standalone -----------------------------------------------------------------------------

function readBody(req) {
  return new Promise((resolve) => {
    let data = '';
    req.on('data', (d) => { data += d; });
    req.on('end', () => {
      try { resolve(data ? JSON.parse(data) : {}); } catch { resolve(null); }
    });
  });
}

async function main() {
  const args = process.argv.slice(2);
  const opt = (name, def) => {
    const i = args.indexOf(`--${name}`);
    return i >= 0 ? args[i + 1] : def;
  };
  const kube = new FakeKube({ token: opt('token', null), bookmarkMs: Number(opt('bookmark-ms', 1000)),
    goneMode: opt('gone-mode', 'event') });
  await kube.start(Number(opt('port', 0)));
  const control = http.createServer(async (req, res) => {
    const send = (code, body) => {
      res.writeHead(code, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    try {
      const url = new URL(req.url, 'http://x');
      const m = url.pathname.match(/^\/services\/([^/]+)\/([^/]+)$/);
      if (req.method === 'POST' && url.pathname === '/services') {
        const body = await readBody(req);
        if (!body) return send(400, { error: 'bad JSON' });
        const list = Array.isArray(body.bulk) ? body.bulk : [body];
        for (const s of list) kube.addService(s);
        return send(201, { added: list.length, rv: kube.rv });
      }
      if (req.method === 'PUT' && m) {
        const body = await readBody(req);
        if (!body) return send(400, { error: 'bad JSON' });
        return send(200, kube.updateService(decodeURIComponent(m[1]), decodeURIComponent(m[2]), body));
      }
      if (req.method === 'DELETE' && m) return send(200, kube.deleteService(decodeURIComponent(m[1]), decodeURIComponent(m[2])));
      if (req.method === 'POST' && url.pathname === '/compact') { kube.compact(); return send(200, { rv: kube.rv }); }
      if (req.method === 'POST' && url.pathname === '/drop') { kube.dropWatches(); return send(200, {}); }
      if (req.method === 'POST' && url.pathname === '/rotate') {
        const body = await readBody(req);
        kube.rotateToken(body?.token ?? null);
        return send(200, {});
      }
      if (req.method === 'GET' && url.pathname === '/stats') return send(200, { ...kube.stats, rv: kube.rv, watchers: kube.watchers.size });
      return send(404, { error: 'not found' });
    } catch (e) {
      return send(409, { error: String(e.message ?? e) });
    }
  });
  await new Promise((resolve) => control.listen(Number(opt('control-port', 0)), '127.0.0.1', resolve));
  process.stdout.write(`${JSON.stringify({ event: 'listening', port: kube.port, controlPort: control.address().port })}\n`);
  const quit = async () => {
    control.close();
    await kube.stop();
    process.exit(0);
  };
  process.on('SIGTERM', quit);
  process.on('SIGINT', quit);
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) main();
