// SPDX-License-Identifier: Apache-2.0
// End-to-end harness: the real binary (AGENTLENS_BIN) with the mock agents of examples/mock-agents
// found through static `sources:` (registered through the API when this build has no sources
// yet), and Debian's Chromium driven by playwright-core (no browser download).
//
//   AGENTLENS_BIN            the binary (default build/agentlens)
//   AGENTLENS_CHROMIUM       the browser (default /usr/bin/chromium)
//   AGENTLENS_E2E_ARTIFACTS  where screenshots go (default build/e2e-artifacts)
//   AGENTLENS_E2E_HEADED=1   show the browser (needs a display)
//   AGENTLENS_E2E_DISCOVERY=api  register the mocks through the API instead of sources:
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { chromium } from 'playwright-core';
import { ADMIN_PASSWORD, JWT_SECRET, api, loginOk, show } from '../support/auth.mjs';
import { control, startMock } from '../support/mock_agents.mjs';
import { ROOT, eventually, runCli, startServer, tempDir } from '../support/server.mjs';

export { ADMIN_PASSWORD, api, control, loginOk, show, startMock };
export const ARTIFACTS = path.resolve(process.env.AGENTLENS_E2E_ARTIFACTS || path.join(ROOT, 'build', 'e2e-artifacts'));
export const CHROMIUM = process.env.AGENTLENS_CHROMIUM || '/usr/bin/chromium';

// The launch flags of reference/toolchain.md; playwright adds a fresh profile directory.
const CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-background-networking',
  '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-dev-shm-usage'];

function sourcesYaml(a2a, mcp) {
  return `# Written by spec/e2e/harness.mjs.
sources:
  - name: ${a2a.name}
    type: a2a
    url: ${a2a.base}
    team: e2e
    tags: [e2e, a2a]
  - name: ${mcp.name}
    type: mcp
    url: ${mcp.base}/mcp
    team: e2e
    tags: [e2e, mcp]
`;
}

// The whole stack: mocks, then AgentLens discovering them. Resolves {server, a2a, mcp, token,
// discovery: 'sources' | 'api', stop()} once both mocks are in the catalog.
export async function startStack({ args = [], env = {} } = {}) {
  const a2a = await startMock('a2a-agent.mjs', { name: 'e2e-weather-agent' });
  const mcp = await startMock('mcp-server.mjs', { name: 'e2e-files-server' });
  const data = tempDir('agentlens-e2e-');
  const config = path.join(data, 'agentlens.yaml');
  writeFileSync(config, sourcesYaml(a2a, mcp));
  // AGENTLENS_E2E_DISCOVERY=api registers the mocks through the API even when the build knows
  // sources: (to tell a discovery problem from a UI problem).
  let discovery = process.env.AGENTLENS_E2E_DISCOVERY === 'api' ? 'api' : 'sources';
  const check = runCli(['check-config', '--config', config, '--data-dir', data]);
  if (discovery === 'api') {
    writeFileSync(config, '# Written by spec/e2e/harness.mjs: mocks registered through the API.\n{}\n');
  } else if (check.status !== 0) {
    if (!/unknown key "sources"/.test(check.stderr)) throw new Error(`check-config failed: ${check.stderr}`);
    writeFileSync(config, '# Written by spec/e2e/harness.mjs: this build has no sources: yet.\n{}\n');
    discovery = 'api';
  }
  const server = await startServer({
    dataDir: data,
    args: ['--config', config, '--cookie-secure=false', ...args],
    env: {
      AGENTLENS_ADMIN_PASSWORD: ADMIN_PASSWORD,
      AGENTLENS_JWT_SECRET: JWT_SECRET,
      // The mocks listen on loopback: URL import and probes may reach them.
      AGENTLENS_IMPORT_ALLOWED_NETWORKS: '127.0.0.0/8',
      ...env,
    },
  });
  const token = await loginOk(server, 'admin', ADMIN_PASSWORD);
  if (discovery === 'api') {
    for (const [mock, url, protocol] of [[a2a, `${a2a.base}/.well-known/agent-card.json`, 'a2a'],
      [mcp, `${mcp.base}/.well-known/mcp/server.json`, 'mcp']]) {
      const r = await api(server, 'POST', '/api/v1/catalog/import', { token, body: { url, protocol } });
      if (r.status !== 201) throw new Error(`registering ${mock.name} through the API failed: ${show(r)}`);
    }
  }
  // Discovery runs in the background: wait until both entries are listed.
  let listed = [];
  const entries = await eventually(async () => {
    const r = await api(server, 'GET', '/api/v1/catalog?limit=100', { token });
    listed = Array.isArray(r.body) ? r.body : (r.body && r.body.items) || [];
    const found = [a2a, mcp].map((m) => listed.find((e) => (e.endpoint || '').startsWith(m.base)));
    return found.every(Boolean) && found;
  }, { timeoutMs: 60000, intervalMs: 250 }).catch((e) => {
    const seen = listed.map((x) => `${x.display_name} ${x.endpoint} ${x.status}`).join('; ') || 'nothing';
    throw new Error(`the mock agents did not reach the catalog (discovery: ${discovery}; listed: ${seen}): ${e.message}`);
  });
  a2a.entry = entries[0];
  mcp.entry = entries[1];
  return {
    server, a2a, mcp, token, discovery, data,
    async stop() {
      try {
        await server.stop();
      } finally {
        a2a.stop();
        mcp.stop();
        rmSync(data, { recursive: true, force: true });
      }
    },
  };
}

// A headless Chromium (or headed with AGENTLENS_E2E_HEADED=1).
export async function launchBrowser() {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`Chromium not found at ${CHROMIUM}: install it (scripts/deps.sh test) or set AGENTLENS_CHROMIUM`);
  }
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: process.env.AGENTLENS_E2E_HEADED !== '1',
    args: CHROMIUM_ARGS,
  });
}

// A fresh context (own cookies) on the server; every page error fails loudly in the log.
export async function newPage(browser, server, { colorScheme = 'light', viewport = { width: 1360, height: 900 } } = {}) {
  const context = await browser.newContext({ baseURL: server.url, viewport, colorScheme });
  context.setDefaultTimeout(15000);
  context.setDefaultNavigationTimeout(20000);
  const page = await context.newPage();
  page.pageErrors = [];
  page.on('pageerror', (e) => { page.pageErrors.push(e); process.stderr.write(`page error: ${e.stack || e}\n`); });
  // What the served Content-Security-Policy blocked (the console is where Chromium reports it).
  page.cspViolations = [];
  page.on('console', (m) => { if (/Content Security Policy/i.test(m.text())) page.cspViolations.push(m.text()); });
  return page;
}

// Saves a full-page screenshot under ARTIFACTS and prints its path.
export async function screenshot(page, name) {
  mkdirSync(ARTIFACTS, { recursive: true });
  const file = path.join(ARTIFACTS, `${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
  process.stdout.write(`# screenshot: ${file}\n`);
  return file;
}

// Logs in through the login page; resolves once the page left /login.
export async function loginUI(page, username, password) {
  if (!/\/login/.test(page.url())) await page.goto('/login');
  await page.getByLabel('Username').fill(username);
  await page.getByLabel('Password', { exact: true }).fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL((u) => !u.pathname.startsWith('/login'));
}

// Wraps a test body: on failure, a screenshot of the page as it was (failed-<title>.png), then
// the error as it was.
export function withScreenshot(getPage, title, fn) {
  return async (t) => {
    try {
      await fn(t);
    } catch (e) {
      const page = getPage();
      if (page && !page.isClosed()) {
        const slug = title.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '').slice(0, 60);
        await screenshot(page, `failed-${slug}`).catch(() => {});
        process.stdout.write(`# failed on ${page.url()}\n`);
      }
      throw e;
    }
  };
}

// axe-core (spec/e2e/package-lock.json) on the current page: the violations of impact serious or
// critical, as "impact id: selector (help)" lines. It is evaluated through the DevTools
// protocol, which the page's Content-Security-Policy does not restrict.
let axeSource;
export async function accessibilityViolations(page) {
  axeSource ??= readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');
  await page.evaluate(axeSource);
  const found = await page.evaluate(async () => {
    const r = await window.axe.run(document, { resultTypes: ['violations'] });
    return r.violations.map((v) => ({ impact: v.impact, id: v.id, help: v.help, targets: v.nodes.map((n) => String(n.target)) }));
  });
  return found.filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.impact} ${v.id}: ${v.targets.slice(0, 3).join(', ')} (${v.help})`);
}
