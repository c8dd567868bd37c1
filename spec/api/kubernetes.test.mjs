// SPDX-License-Identifier: Apache-2.0
// Kubernetes discovery against the real binary, a fake API server (spec/support/fake-kube.mjs)
// and the mock agents (examples/mock-agents): the in-cluster service account over TLS (list at
// start-up, a new Service in the catalog within a second, deletion and annotation removal ->
// offline, 410 Gone -> re-list and reconcile, a dropped watch -> reconnect, token rotation,
// prompt shutdown), a kubeconfig with a token and a namespace restriction, and a kubeconfig
// with a client certificate. Agents are reached through the Services' cluster IPs
// (kubernetes.address = cluster-ip): the fake gives each Service its own 127.1.x.y address and
// the mocks listen on all loopback addresses.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ADMIN_PASSWORD, ADMIN_USER, api, loginOk, show, startAuthServer } from '../support/auth.mjs';
import { FakeKube } from '../support/fake-kube.mjs';
import { startMock, stopMocks } from '../support/mock_agents.mjs';
import { eventually, sleep, tempDir } from '../support/server.mjs';

const dirs = [];
let work;
let tls; // {ca, caKey, server{key,cert}, client{key,cert}} as PEM strings, and file paths
let a2aPort;
let mcpPort;

function makeTls(dir) {
  const ssl = (...args) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
  ssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca.key', '-out', 'ca.crt', '-days', '1',
    '-subj', '/CN=fake-kube-ca');
  writeFileSync(path.join(dir, 'san.ext'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\n');
  ssl('req', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'server.key', '-out', 'server.csr', '-subj', '/CN=kube-apiserver');
  ssl('x509', '-req', '-in', 'server.csr', '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'server.crt',
    '-days', '1', '-extfile', 'san.ext');
  ssl('req', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'client.key', '-out', 'client.csr', '-subj', '/CN=agentlens/O=viewers');
  ssl('x509', '-req', '-in', 'client.csr', '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'client.crt',
    '-days', '1');
  const read = (f) => readFileSync(path.join(dir, f), 'utf8');
  return {
    ca: read('ca.crt'), serverKey: read('server.key'), serverCert: read('server.crt'),
    clientKey: read('client.key'), clientCert: read('client.crt'), caFile: path.join(dir, 'ca.crt'),
  };
}

const a2aService = (name, extra = {}) => ({
  name, namespace: extra.namespace ?? 'agents',
  annotations: { 'agentlens.io/protocol': 'a2a', 'agentlens.io/team': 'payments', 'agentlens.io/tags': 'demo, k8s', ...extra.annotations },
  labels: { app: name, ...extra.labels },
  ports: [{ name: 'http', port: a2aPort, protocol: 'TCP', targetPort: a2aPort }],
});

const mcpService = (name, extra = {}) => ({
  name, namespace: extra.namespace ?? 'agents',
  annotations: { 'agentlens.io/type': 'mcp', 'agentlens.io/port': 'mcp', ...extra.annotations },
  ports: [{ name: 'metrics', port: 9999 }, { name: 'mcp', port: mcpPort, protocol: 'TCP' }],
});

// Entries of source k8s by discovery key.
async function k8sEntries(server, token) {
  const r = await api(server, 'GET', '/api/v1/catalog?source=k8s&limit=500', { token });
  assert.equal(r.status, 200, show(r));
  const byKey = {};
  for (const e of r.body) byKey[e.metadata?.discovery_key] = e;
  return byKey;
}

async function startAgentLens(env) {
  const server = await startAuthServer({
    env: { AGENTLENS_KUBERNETES_ENABLED: 'true', AGENTLENS_KUBERNETES_ADDRESS: 'cluster-ip',
      AGENTLENS_HEALTH_CHECK_ENABLED: 'false', ...env },
  });
  const token = await loginOk(server, ADMIN_USER, ADMIN_PASSWORD);
  return { server, token };
}

before(async () => {
  work = tempDir('agentlens-k8s-');
  dirs.push(work);
  mkdirSync(path.join(work, 'tls'));
  tls = makeTls(path.join(work, 'tls'));
  // on all addresses: the Services' cluster IPs are 127.1.x.y
  const [a2a, mcp] = await Promise.all([startMock('a2a-agent.mjs', { host: '0.0.0.0' }), startMock('mcp-server.mjs', { host: '0.0.0.0' })]);
  [a2aPort, mcpPort] = [a2a.port, mcp.port];
});

after(() => {
  stopMocks();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

describe('kubernetes discovery in a cluster (service account, TLS)', () => {
  let kube;
  let al;
  let sa;

  before(async () => {
    sa = path.join(work, 'serviceaccount');
    mkdirSync(sa);
    writeFileSync(path.join(sa, 'token'), 'token-one\n');
    writeFileSync(path.join(sa, 'ca.crt'), tls.ca);
    writeFileSync(path.join(sa, 'namespace'), 'agentlens\n');
    kube = new FakeKube({ token: 'token-one', tls: { key: tls.serverKey, cert: tls.serverCert }, bookmarkMs: 500 });
    await kube.start();
    kube.addService(a2aService('weather'));
    kube.addService(mcpService('tools'));
    kube.addService({ name: 'plain', namespace: 'agents' }); // not annotated
    kube.addService({ name: 'bad', namespace: 'agents', annotations: { 'agentlens.io/protocol': 'grpc' } });
    for (let i = 0; i < 7; i++) kube.addService(a2aService(`bulk-${i}`, { namespace: 'bulk' }));
    al = await startAgentLens({
      KUBERNETES_SERVICE_HOST: '127.0.0.1', KUBERNETES_SERVICE_PORT: String(kube.port),
      AGENTLENS_KUBERNETES_SERVICE_ACCOUNT_DIR: sa,
    });
  });

  after(async () => {
    await al?.server.stop();
    await kube?.stop();
  });

  it('lists the annotated Services at start-up and maps their annotations', async () => {
    const entries = await eventually(async () => {
      const e = await k8sEntries(al.server, al.token);
      return Object.keys(e).length >= 9 && e;
    }, { timeoutMs: 15000, intervalMs: 200 });
    assert.deepEqual(Object.keys(entries).sort(), [
      'k8s/agents/tools', 'k8s/agents/weather',
      ...[0, 1, 2, 3, 4, 5, 6].map((i) => `k8s/bulk/bulk-${i}`),
    ].sort());
    const weather = entries['k8s/agents/weather'];
    assert.equal(weather.protocol, 'a2a');
    assert.equal(weather.source, 'k8s');
    assert.equal(weather.status, 'registered', JSON.stringify(weather));
    assert.equal(weather.provider?.team, 'payments');
    assert.ok(weather.categories.includes('demo') && weather.categories.includes('k8s'), JSON.stringify(weather.categories));
    assert.equal(weather.metadata['kubernetes.namespace'], 'agents');
    assert.match(weather.metadata.card_url, new RegExp(`^http://127\\.1\\.\\d+\\.\\d+:${a2aPort}/`));
    const tools = entries['k8s/agents/tools'];
    assert.equal(tools.protocol, 'mcp');
    assert.match(tools.endpoint, new RegExp(`^http://127\\.1\\.\\d+\\.\\d+:${mcpPort}/mcp$`));
    assert.equal(tools.status, 'registered', JSON.stringify(tools));
    assert.ok(tools.capabilities_count > 0, JSON.stringify(tools));
    // the list was paginated? (the page size is 500: one page here) - every request carried the token
    assert.ok(kube.stats.tokens['token-one'] >= 2);
    assert.ok(al.server.logs.some((l) => l.msg === 'kubernetes: Service annotations ignored' && l.key === 'k8s/agents/bad'));
  });

  it('puts a new Service in the catalog within a second of the event', async (t) => {
    await al.server.waitForLog((l) => l.msg === 'kubernetes: services listed');
    const times = [];
    for (let i = 0; i < 5; i++) {
      const t0 = Date.now();
      kube.addService(a2aService(`fresh-${i}`));
      await eventually(async () => (await k8sEntries(al.server, al.token))[`k8s/agents/fresh-${i}`], { timeoutMs: 5000, intervalMs: 25 });
      times.push(Date.now() - t0);
    }
    t.diagnostic(`event -> catalog: ${times.join(', ')} ms`);
    const median = [...times].sort((x, y) => x - y)[2];
    assert.ok(median <= 1000, `median ${median} ms (${times.join(', ')})`);
  });

  it('marks a deleted Service offline', async () => {
    kube.deleteService('agents', 'fresh-0');
    const e = await eventually(async () => {
      const x = (await k8sEntries(al.server, al.token))['k8s/agents/fresh-0'];
      return x?.status === 'offline' && x;
    }, { timeoutMs: 5000 });
    assert.equal(e.status, 'offline');
  });

  it('marks a Service offline when its annotation is removed, and back when it returns', async () => {
    kube.updateService('agents', 'fresh-1', { annotations: { 'agentlens.io/protocol': null } });
    await eventually(async () => (await k8sEntries(al.server, al.token))['k8s/agents/fresh-1']?.status === 'offline',
      { timeoutMs: 5000 });
    kube.updateService('agents', 'fresh-1', { annotations: { 'agentlens.io/protocol': 'a2a' } });
    await eventually(async () => (await k8sEntries(al.server, al.token))['k8s/agents/fresh-1']?.status === 'registered',
      { timeoutMs: 5000 });
  });

  it('re-lists after 410 Gone (an ERROR event, then the HTTP status) and reconciles what changed meanwhile', async () => {
    let lists = kube.stats.lists;
    // The watch drops; meanwhile a Service goes and another comes, and the history is compacted
    // past them, so the reconnect from the last resourceVersion is answered 410 (all in one tick:
    // no reconnect can come in between).
    kube.dropWatches();
    kube.deleteService('agents', 'fresh-2');
    kube.addService(a2aService('after-gap'));
    kube.compact();
    await eventually(() => kube.stats.gone >= 1 && kube.stats.lists > lists, { timeoutMs: 8000 });
    const entries = await eventually(async () => {
      const e = await k8sEntries(al.server, al.token);
      return e['k8s/agents/after-gap'] && e['k8s/agents/fresh-2']?.status === 'offline' && e;
    }, { timeoutMs: 8000 });
    assert.equal(entries['k8s/agents/weather'].status, 'registered');
    await al.server.waitForLog((l) => l.msg?.startsWith('kubernetes: resourceVersion too old'));

    lists = kube.stats.lists;
    kube.goneMode = 'status';
    kube.dropWatches();
    kube.addService(a2aService('after-gap-2'));
    kube.compact();
    await eventually(() => kube.stats.gone >= 2 && kube.stats.lists > lists, { timeoutMs: 8000 });
    await eventually(async () => (await k8sEntries(al.server, al.token))['k8s/agents/after-gap-2'], { timeoutMs: 8000 });
    kube.goneMode = 'event';
  });

  it('reconnects a dropped watch and keeps following events', async () => {
    const watches = kube.stats.watches;
    kube.dropWatches();
    kube.addService(a2aService('after-drop'));
    await eventually(async () => (await k8sEntries(al.server, al.token))['k8s/agents/after-drop'], { timeoutMs: 8000 });
    assert.ok(kube.stats.watches > watches);
    assert.ok(al.server.logs.some((l) => l.msg === 'kubernetes: watch ended; reconnecting'));
  });

  it('picks up a rotated service-account token; the old one is refused', async () => {
    const refused = kube.stats.unauthorized;
    kube.rotateToken('token-two');
    kube.dropWatches();
    await eventually(() => kube.stats.unauthorized > refused, { timeoutMs: 8000 });
    writeFileSync(path.join(sa, 'token'), 'token-two\n');
    kube.addService(a2aService('after-rotation'));
    await eventually(async () => (await k8sEntries(al.server, al.token))['k8s/agents/after-rotation'], { timeoutMs: 15000 });
    assert.ok(kube.stats.tokens['token-two'] >= 1);
  });

  it('stops promptly on SIGTERM while the watch is open', async () => {
    await eventually(() => kube.watchers.size > 0, { timeoutMs: 5000 });
    const t0 = Date.now();
    const exit = await al.server.stop();
    const ms = Date.now() - t0;
    al = null;
    assert.equal(exit.code, 0);
    assert.ok(ms < 3000, `stopped in ${ms} ms`);
  });
});

describe('kubernetes discovery through a kubeconfig', () => {
  it('uses the current context with a bearer token, honours kubernetes.namespace and follows list pages', async () => {
    const kube = await new FakeKube({ token: 'kc-token' }).start();
    let al;
    try {
      // 520 Services without the annotation come first in the list order: the annotated one is
      // on the second page of 500
      for (let i = 0; i < 520; i++) kube.addService({ name: `a-plain-${i}`, namespace: 'team-a' });
      kube.addService(a2aService('in-a', { namespace: 'team-a' }));
      kube.addService(a2aService('in-b', { namespace: 'team-b' }));
      const kc = path.join(work, 'kubeconfig-token.yaml');
      writeFileSync(kc, [
        'apiVersion: v1', 'kind: Config', 'current-context: dev',
        'clusters:', '- name: fake', '  cluster:', `    server: ${kube.url}`,
        'contexts:', '- name: dev', '  context:', '    cluster: fake', '    user: dev-user',
        '- name: other', '  context:', '    cluster: nowhere', '    user: nobody',
        'users:', '- name: dev-user', '  user:', '    token: "kc-token"', 'preferences: {}', '',
      ].join('\n'));
      al = await startAgentLens({ KUBECONFIG: kc, AGENTLENS_KUBERNETES_NAMESPACE: 'team-a' });
      await eventually(async () => (await k8sEntries(al.server, al.token))['k8s/team-a/in-a'], { timeoutMs: 15000 });
      kube.addService(a2aService('later-a', { namespace: 'team-a' }));
      kube.addService(a2aService('later-b', { namespace: 'team-b' }));
      await eventually(async () => (await k8sEntries(al.server, al.token))['k8s/team-a/later-a'], { timeoutMs: 5000 });
      await sleep(300);
      const keys = Object.keys(await k8sEntries(al.server, al.token)).sort();
      assert.deepEqual(keys, ['k8s/team-a/in-a', 'k8s/team-a/later-a']);
      assert.equal(kube.stats.unauthorized, 0);
      assert.ok(kube.stats.lists >= 2, `${kube.stats.lists} list requests (pages)`);
    } finally {
      await al?.server.stop();
      await kube.stop();
    }
  });

  it('explains a 403 (no RBAC on services) and recovers once it is granted', async () => {
    const kube = await new FakeKube({ token: 'rbac' }).start();
    let al;
    try {
      kube.forbidden = true;
      kube.addService(a2aService('granted', { namespace: 'rbac' }));
      const kc = path.join(work, 'kubeconfig-rbac.yaml');
      writeFileSync(kc, [
        'current-context: c', 'clusters:', '- name: k', '  cluster:', `    server: ${kube.url}`,
        'contexts:', '- name: c', '  context:', '    cluster: k', '    user: u',
        'users:', '- name: u', '  user:', '    token: rbac', '',
      ].join('\n'));
      al = await startAgentLens({ AGENTLENS_KUBERNETES_KUBECONFIG: kc });
      const warning = await al.server.waitForLog((l) => l.msg === 'kubernetes: cannot list services; retrying', 10000);
      assert.match(warning.error, /HTTP 403: services is forbidden.*needs get, list and watch on services/);
      assert.equal(warning.status, 403);
      kube.forbidden = false;
      await eventually(async () => (await k8sEntries(al.server, al.token))['k8s/rbac/granted'], { timeoutMs: 10000 });
    } finally {
      await al?.server.stop();
      await kube.stop();
    }
  });

  it('honours insecure-skip-tls-verify, with a warning', async () => {
    const kube = await new FakeKube({ token: 't', tls: { key: tls.serverKey, cert: tls.serverCert } }).start();
    let al;
    try {
      kube.addService(a2aService('unverified', { namespace: 'x' }));
      const kc = path.join(work, 'kubeconfig-insecure.yaml');
      writeFileSync(kc, [
        'current-context: c', 'clusters:', '- name: k', '  cluster:', `    server: ${kube.url}`,
        '    insecure-skip-tls-verify: true', 'contexts:', '- name: c', '  context:', '    cluster: k', '    user: u',
        'users:', '- name: u', '  user:', '    token: t', '',
      ].join('\n'));
      al = await startAgentLens({ AGENTLENS_KUBERNETES_KUBECONFIG: kc });
      await eventually(async () => (await k8sEntries(al.server, al.token))['k8s/x/unverified'], { timeoutMs: 15000 });
      const warning = await al.server.waitForLog((l) => l.msg?.includes('insecure-skip-tls-verify'), 1000);
      assert.equal(warning.level, 'warn');
    } finally {
      await al?.server.stop();
      await kube.stop();
    }
  });

  it('authenticates with a client certificate given as -data fields', async () => {
    const kube = await new FakeKube({ tls: { key: tls.serverKey, cert: tls.serverCert, ca: tls.ca } }).start();
    let al;
    try {
      kube.addService(mcpService('cert-tools', { namespace: 'certs' }));
      const b64 = (s) => Buffer.from(s).toString('base64');
      const kc = path.join(work, 'kubeconfig-cert.yaml');
      writeFileSync(kc, [
        'apiVersion: v1', 'kind: Config', "current-context: 'certs'",
        'clusters:', '- cluster:', `    certificate-authority-data: ${b64(tls.ca)}`, `    server: ${kube.url}`, '  name: fake-tls',
        'contexts:', '- context:', '    cluster: fake-tls', '    user: cert-user', '  name: certs',
        'users:', '- name: cert-user', '  user:', `    client-certificate-data: ${b64(tls.clientCert)}`,
        `    client-key-data: ${b64(tls.clientKey)}`, '',
      ].join('\n'));
      al = await startAgentLens({ AGENTLENS_KUBERNETES_KUBECONFIG: kc });
      const e = await eventually(async () => (await k8sEntries(al.server, al.token))['k8s/certs/cert-tools'], { timeoutMs: 15000 });
      assert.equal(e.protocol, 'mcp');
      assert.equal(kube.stats.unauthorized, 0);
      assert.ok(kube.stats.lists >= 1);
    } finally {
      await al?.server.stop();
      await kube.stop();
    }
  });
});
