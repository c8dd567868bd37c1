// SPDX-License-Identifier: Apache-2.0
// Part of scripts/bench/bench_kubernetes.sh: the time from a watch event to the catalog.
//   node kubernetes_events.mjs CONTROL_URL AGENTLENS_URL TOKEN AGENT_PORT SAMPLES TIMEOUT_MS
// Adds SAMPLES annotated Services one after the other through the fake API server's control
// port (spec/support/fake-kube.mjs) and, for each, polls GET /api/v1/catalog?source=k8s&limit=1
// every 5 ms until X-Total-Count grew by one. Prints "event_ms=<each, comma-separated>",
// "p50_ms=", "p99_ms=", "max_ms=" and "lost=" (Services not seen within TIMEOUT_MS).
const [controlUrl, agentlensUrl, token, agentPort, samplesArg, timeoutArg] = process.argv.slice(2);
const samples = Number(samplesArg);
const timeoutMs = Number(timeoutArg);
if (!controlUrl || !agentlensUrl || !token || !(samples > 0) || !(timeoutMs > 0)) {
  process.stderr.write('usage: kubernetes_events.mjs CONTROL_URL AGENTLENS_URL TOKEN AGENT_PORT SAMPLES TIMEOUT_MS\n');
  process.exit(2);
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function total() {
  const r = await fetch(`${agentlensUrl}/api/v1/catalog?source=k8s&limit=1`, { headers: { Authorization: `Bearer ${token}` } });
  if (r.status !== 200) throw new Error(`catalog answered ${r.status}`);
  await r.arrayBuffer();
  return Number(r.headers.get('x-total-count'));
}

function percentile(xs, p) {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)];
}

const times = [];
let lost = 0;
for (let i = 0; i < samples; i++) {
  const before = await total();
  const svc = {
    namespace: 'bench-events', name: `event-${i}-${Date.now()}`,
    annotations: { 'agentlens.io/protocol': 'a2a' },
    ports: [{ name: 'http', port: Number(agentPort) }],
  };
  const t0 = performance.now();
  const r = await fetch(`${controlUrl}/services`, { method: 'POST', body: JSON.stringify(svc) });
  if (r.status !== 201) throw new Error(`control answered ${r.status}: ${await r.text()}`);
  let seen = false;
  while (performance.now() - t0 < timeoutMs) {
    if ((await total()) > before) {
      seen = true;
      break;
    }
    await sleep(5);
  }
  if (seen) times.push(performance.now() - t0);
  else lost += 1;
}
const fmt = (x) => (x === undefined ? 'nan' : x.toFixed(1));
process.stdout.write(`event_ms=${times.map((t) => t.toFixed(0)).join(',')}\n`);
process.stdout.write(`p50_ms=${fmt(percentile(times, 50))}\np99_ms=${fmt(percentile(times, 99))}\n`);
process.stdout.write(`max_ms=${fmt(Math.max(...times))}\nlost=${lost}\n`);
