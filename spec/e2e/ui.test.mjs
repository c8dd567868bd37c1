// SPDX-License-Identifier: Apache-2.0
// The web UI end to end: the real binary with the mock agents, Chromium through playwright-core.
// One journey, in order: log in, browse and filter, an entry with its tools, probe, deprecate,
// register by paste (with validation errors) and by URL, delete, a viewer who cannot write,
// a password change, log out. Screenshots of each main page go to AGENTLENS_E2E_ARTIFACTS.
// Locators are roles and accessible names (web/README.md lists them).
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ROOT } from '../support/server.mjs';
import {
  ADMIN_PASSWORD, accessibilityViolations, api, launchBrowser, loginOk, loginUI, newPage, screenshot, show, startMock, startStack, withScreenshot,
} from './harness.mjs';

const CARD = readFileSync(path.join(ROOT, 'spec', 'fixtures', 'cards', 'a2a', 'v1.0-translation-agent.json'), 'utf8');
const CARD_NAME = JSON.parse(CARD).name;
const VIEWER = { username: 'e2e-viewer', password: 'Vi3wer-Pass-e2e!', newPassword: 'N3w-Vi3wer-Pass-e2e!' };
const escape = (s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

describe('web UI', { concurrency: false }, () => {
  let stack;
  let browser;
  let page;
  let extra; // a third mock, imported by URL
  let viewerPassword = VIEWER.password;
  before(async () => {
    stack = await startStack();
    browser = await launchBrowser();
    page = await newPage(browser, stack.server);
    process.stdout.write(`# AgentLens ${stack.server.url}, mocks found through ${stack.discovery}\n`);
  });
  after(async () => {
    await browser?.close();
    extra?.stop();
    await stack?.stop();
  });

  // A test whose failure leaves a screenshot behind.
  const step = (title, fn) => it(title, withScreenshot(() => page, title, fn));
  const catalogTable = () => page.getByRole('table', { name: 'Catalog entries' });
  const entryLink = (name) => catalogTable().getByRole('link', { name, exact: true });

  step('sends a visitor to the login page, shows a wrong password, and comes back after login', async () => {
    await page.goto('/capabilities');
    await page.waitForURL(/\/login/);
    await screenshot(page, 'login');
    await page.getByLabel('Username').fill('admin');
    await page.getByLabel('Password', { exact: true }).fill('not-the-password');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('alert').filter({ hasText: /invalid|incorrect|wrong/i }).waitFor();
    assert.match(page.url(), /\/login/);
    await page.getByLabel('Password', { exact: true }).fill(ADMIN_PASSWORD);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL((u) => u.pathname === '/capabilities');
  });

  step('lists the discovered agents with statistics', async () => {
    await page.goto('/');
    await page.getByRole('heading', { name: 'Catalog', level: 1 }).waitFor();
    await entryLink(stack.a2a.entry.display_name).waitFor();
    await entryLink(stack.mcp.entry.display_name).waitFor();
    const stats = page.getByRole('region', { name: 'Catalog statistics' });
    await stats.getByText('Total').waitFor();
    await screenshot(page, 'catalog');
  });

  step('shows an agent registered elsewhere after a refresh', async () => {
    await page.goto('/');
    await entryLink(stack.a2a.entry.display_name).waitFor();
    const card = readFileSync(path.join(ROOT, 'spec', 'fixtures', 'cards', 'a2a', 'v0.3-travel-desk.json'), 'utf8');
    const r = await api(stack.server, 'POST', '/api/v1/catalog/register', { token: stack.token, body: card });
    assert.equal(r.status, 201, show(r));
    await page.getByRole('button', { name: 'Refresh', exact: true }).click();
    await entryLink(r.body.display_name).waitFor();
  });

  step('renders in the dark theme', async () => {
    const dark = await newPage(browser, stack.server, { colorScheme: 'dark' });
    try {
      await loginUI(dark, 'admin', ADMIN_PASSWORD);
      await dark.getByRole('table', { name: 'Catalog entries' }).waitFor();
      const bg = await dark.evaluate(() => getComputedStyle(document.body).backgroundColor);
      const [r, g, b] = bg.match(/\d+/g).map(Number);
      assert.ok(r + g + b < 3 * 100, `a dark background, not ${bg}`);
      await screenshot(dark, 'catalog-dark');
    } finally {
      await dark.context().close();
    }
  });

  step('folds the navigation behind a Menu button on a narrow screen', async () => {
    const phone = await newPage(browser, stack.server, { viewport: { width: 390, height: 844 } });
    try {
      await loginUI(phone, 'admin', ADMIN_PASSWORD);
      await phone.getByRole('table', { name: 'Catalog entries' }).waitFor();
      const nav = phone.getByRole('navigation', { name: 'Main' });
      const link = nav.getByRole('link', { name: 'Capabilities' });
      assert.equal(await link.isVisible(), false, 'the navigation is folded');
      await phone.getByRole('button', { name: 'Menu' }).click();
      await link.click();
      await phone.getByRole('heading', { name: 'Capabilities', level: 1 }).waitFor();
      await screenshot(phone, 'capabilities-narrow');
    } finally {
      await phone.context().close();
    }
  });

  step('filters by search (with the / shortcut) and protocol; filters live in the URL', async () => {
    await page.goto('/');
    await entryLink(stack.a2a.entry.display_name).waitFor();
    await page.evaluate(() => document.activeElement && document.activeElement.blur());
    await page.keyboard.press('/');
    const search = page.getByRole('searchbox', { name: /Search/ });
    assert.ok(await search.evaluate((el) => el === document.activeElement), '/ focuses the search box');
    await page.keyboard.type(stack.mcp.entry.display_name);
    await page.waitForURL(/[?&]q=/);
    await entryLink(stack.a2a.entry.display_name).waitFor({ state: 'detached' });
    await entryLink(stack.mcp.entry.display_name).waitFor();
    await page.reload();
    await entryLink(stack.mcp.entry.display_name).waitFor();
    assert.equal(await search.inputValue(), stack.mcp.entry.display_name, 'the search survives a reload');
    await page.getByRole('button', { name: 'Clear filters' }).first().click();
    await entryLink(stack.a2a.entry.display_name).waitFor();

    await page.getByLabel('Protocol').selectOption('a2a');
    await page.waitForURL(/[?&]protocol=a2a/);
    await entryLink(stack.mcp.entry.display_name).waitFor({ state: 'detached' });
    await entryLink(stack.a2a.entry.display_name).waitFor();
    await page.getByRole('button', { name: 'Clear filters' }).first().click();
    await page.getByLabel('Search').fill('no-such-agent-anywhere');
    await page.getByText('No agents match the current filters.').waitFor();
    await page.getByRole('button', { name: 'Clear filters' }).first().click();
    await entryLink(stack.mcp.entry.display_name).waitFor();
  });

  step('opens an entry and shows its tools', async (t) => {
    if (stack.discovery !== 'sources') {
      t.skip('the tools of an MCP server come from discovery (sources:), not in this build yet');
      return;
    }
    await page.goto('/');
    await entryLink(stack.mcp.entry.display_name).click();
    await page.waitForURL(new RegExp(`/catalog/${escape(encodeURIComponent(stack.mcp.entry.id))}$`));
    await page.getByRole('heading', { name: stack.mcp.entry.display_name, level: 1 }).waitFor();
    const tools = page.getByRole('region', { name: /^Tools \(\d+\)$/ });
    for (const tool of ['echo', 'add', 'get_time']) await tools.getByText(tool, { exact: true }).first().waitFor();
    await tools.getByText('Input schema').first().click();
    await page.getByLabel('Input schema of echo').getByText('"text"').first().waitFor();
    await screenshot(page, 'entry-mcp');
  });

  step('probes an entry now', async () => {
    await page.goto(`/catalog/${encodeURIComponent(stack.a2a.entry.id)}`);
    await page.getByRole('heading', { name: stack.a2a.entry.display_name, level: 1 }).waitFor();
    const before = await api(stack.server, 'GET', `/api/v1/catalog/${stack.a2a.entry.id}/health`, { token: stack.token });
    await page.getByRole('button', { name: 'Probe now' }).click();
    // The probe answered: the page says so, and the server recorded it.
    await page.getByRole('status').filter({ hasText: /Probe done/ }).first().waitFor();
    const afterProbe = await api(stack.server, 'GET', `/api/v1/catalog/${stack.a2a.entry.id}/health`, { token: stack.token });
    assert.equal(afterProbe.status, 200, show(afterProbe));
    assert.notDeepEqual(afterProbe.body, before.body, 'the probe changed the health record');
    await screenshot(page, 'entry-a2a');
    await page.getByRole('tab', { name: 'Health' }).click();
    await page.getByRole('heading', { name: 'Recent probes' }).waitFor();
    await page.getByRole('table', { name: 'Last probes, newest first' }).getByRole('row').nth(1).waitFor();
    await screenshot(page, 'entry-health');
    await page.getByRole('tab', { name: 'Raw card' }).click();
    await page.getByLabel('Raw card JSON').getByText(stack.a2a.entry.display_name).first().waitFor();
  });

  step('deprecates an entry and takes it back', async () => {
    await page.goto(`/catalog/${encodeURIComponent(stack.a2a.entry.id)}`);
    const actions = page.getByRole('group', { name: 'Entry actions' });
    await actions.getByRole('button', { name: 'Deprecate', exact: true }).click();
    await page.getByRole('status').filter({ hasText: 'Entry deprecated' }).first().waitFor();
    await actions.getByRole('button', { name: 'Un-deprecate' }).waitFor();
    const r = await api(stack.server, 'GET', `/api/v1/catalog/${stack.a2a.entry.id}`, { token: stack.token });
    assert.equal(r.body.status, 'deprecated', show(r));
    await actions.getByRole('button', { name: 'Un-deprecate' }).click();
    await actions.getByRole('button', { name: 'Deprecate', exact: true }).waitFor();
    const back = await api(stack.server, 'GET', `/api/v1/catalog/${stack.a2a.entry.id}`, { token: stack.token });
    assert.notEqual(back.body.status, 'deprecated', show(back));
  });

  step('registers a pasted card, showing validation errors first', async () => {
    await page.goto('/');
    await page.getByRole('button', { name: 'Register agent' }).click();
    const dialog = page.getByRole('dialog', { name: 'Register agent' });
    await dialog.waitFor();
    const text = dialog.getByLabel('Agent card JSON');
    await text.fill('{"name": "half a card", ');
    await dialog.getByText(/Not valid JSON/).waitFor();
    await text.fill(JSON.stringify({ name: 'No endpoint', description: 'x', skills: 'not-a-list' }));
    await dialog.getByText(/Card is invalid/).waitFor();
    await screenshot(page, 'register-invalid');
    await text.fill(CARD);
    await dialog.getByText(/Card is valid/).waitFor();
    await dialog.getByRole('region', { name: 'Card preview' }).waitFor();
    await screenshot(page, 'register-valid');
    await dialog.getByRole('button', { name: 'Register agent' }).click();
    await dialog.waitFor({ state: 'detached' });
    const list = await api(stack.server, 'GET', `/api/v1/catalog?q=${encodeURIComponent(CARD_NAME)}`, { token: stack.token });
    assert.ok(list.body.some((e) => e.display_name === CARD_NAME), show(list));
  });

  step('imports a card from a URL, and shows why a URL is refused', async () => {
    extra = await startMock('a2a-agent.mjs', { name: 'e2e-imported-agent' });
    await page.goto('/');
    await page.getByRole('button', { name: 'Register agent' }).click();
    const dialog = page.getByRole('dialog', { name: 'Register agent' });
    await dialog.getByRole('tab', { name: 'Import from URL' }).click();
    await dialog.getByLabel('Card URL').fill('http://169.254.169.254/latest/meta-data');
    await dialog.getByRole('button', { name: 'Fetch and import' }).click();
    await dialog.getByRole('alert').filter({ hasText: /refused|not allowed|could not/i }).waitFor();
    await dialog.getByLabel('Card URL').fill(`${extra.base}/.well-known/agent-card.json`);
    await dialog.getByRole('button', { name: 'Fetch and import' }).click();
    await dialog.waitFor({ state: 'detached' });
    await page.goto('/?q=e2e-imported-agent');
    await entryLink('e2e-imported-agent').waitFor();
  });

  step('deletes an entry after confirmation', async () => {
    await page.goto(`/?q=${encodeURIComponent(CARD_NAME)}`);
    await entryLink(CARD_NAME).click();
    await page.getByRole('heading', { name: CARD_NAME, level: 1 }).waitFor();
    const id = decodeURIComponent(new URL(page.url()).pathname.split('/').pop());
    await page.getByRole('group', { name: 'Entry actions' }).getByRole('button', { name: 'Delete', exact: true }).click();
    const confirm = page.getByRole('dialog', { name: 'Delete entry' });
    await confirm.waitFor();
    await confirm.getByRole('button', { name: 'Delete', exact: true }).click();
    await page.waitForURL((u) => u.pathname === '/');
    const gone = await api(stack.server, 'GET', `/api/v1/catalog/${id}`, { token: stack.token });
    assert.equal(gone.status, 404, show(gone));
  });

  step('shows the capabilities and system pages', async () => {
    await page.goto('/capabilities');
    await page.getByRole('heading', { name: 'Capabilities', level: 1 }).waitFor();
    await page.getByText('echo', { exact: true }).first().waitFor();
    await screenshot(page, 'capabilities');
    await page.goto('/system');
    await page.getByRole('heading', { name: 'System status', level: 1 }).waitFor();
    await page.getByText(/The last reload succeeded|Last reload/).first().waitFor();
    await screenshot(page, 'system');
  });

  step('creates a viewer in the settings', async () => {
    await page.goto('/settings');
    await page.getByRole('heading', { name: 'Settings', level: 1 }).waitFor();
    await screenshot(page, 'settings');
    await page.getByRole('tab', { name: 'Users' }).click();
    await page.getByRole('button', { name: 'Add user' }).click();
    const dialog = page.getByRole('dialog', { name: 'Add user' });
    await dialog.getByLabel('Username').fill(VIEWER.username);
    await dialog.getByLabel('Password', { exact: true }).fill(VIEWER.password);
    await dialog.getByLabel('Role').selectOption('role-viewer');
    await dialog.getByRole('button', { name: 'Create user' }).click();
    await dialog.waitFor({ state: 'detached' });
    await page.getByRole('table', { name: 'Users' }).getByRole('cell', { name: VIEWER.username, exact: true }).waitFor();
    await screenshot(page, 'settings-users');
  });

  step('main pages have no serious accessibility violations (axe), light and dark', async () => {
    const pages = [
      ['/', () => catalogTable()],
      [`/catalog/${encodeURIComponent(stack.mcp.entry.id)}`, () => page.getByRole('region', { name: /^Tools \(\d+\)$/ })],
      [`/catalog/${encodeURIComponent(stack.a2a.entry.id)}?tab=health`, () => page.getByRole('heading', { name: 'Recent probes' })],
      ['/capabilities', () => page.getByRole('list', { name: 'Capabilities' })],
      ['/settings/users', () => page.getByRole('table', { name: 'Users' })],
      ['/settings/roles', () => page.getByRole('list', { name: 'Roles' })],
      ['/settings/account', () => page.getByLabel('Current password')],
      ['/system', () => page.getByRole('heading', { name: 'System status' })],
    ];
    const problems = [];
    for (const scheme of ['light', 'dark']) {
      await page.emulateMedia({ colorScheme: scheme });
      for (const [p, ready] of pages) {
        await page.goto(p);
        await ready().first().waitFor();
        for (const v of await accessibilityViolations(page)) problems.push(`${scheme} ${p}: ${v}`);
      }
      await page.goto('/');
      await page.getByRole('button', { name: 'Register agent' }).click();
      await page.getByRole('dialog', { name: 'Register agent' }).getByLabel('Agent card JSON').waitFor();
      for (const v of await accessibilityViolations(page)) problems.push(`${scheme} register dialog: ${v}`);
      // Escape closes the dialog and gives the focus back to the button that opened it.
      await page.keyboard.press('Escape');
      await page.getByRole('dialog', { name: 'Register agent' }).waitFor({ state: 'detached' });
      assert.equal(await page.evaluate(() => document.activeElement && document.activeElement.textContent), 'Register agent');
    }
    await page.emulateMedia({ colorScheme: 'light' });
    assert.deepEqual(problems, []);
  });

  step('logs out', async () => {
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.waitForURL(/\/login/);
    await page.goto('/');
    await page.waitForURL(/\/login/);
    const me = await page.request.get('/api/v1/auth/me');
    assert.equal(me.status(), 401, 'the session cookie is gone');
  });

  step('hides and refuses write actions for a viewer', async () => {
    // The settings step creates the viewer through the UI; without it, the API does.
    const users = await api(stack.server, 'GET', '/api/v1/users?limit=100', { token: stack.token });
    const list = Array.isArray(users.body) ? users.body : users.body.items;
    if (!list.some((u) => u.username === VIEWER.username)) {
      const r = await api(stack.server, 'POST', '/api/v1/users', { token: stack.token,
        body: { username: VIEWER.username, password: VIEWER.password, role_id: 'role-viewer' } });
      assert.equal(r.status, 201, show(r));
    }
    await loginUI(page, VIEWER.username, VIEWER.password);
    await page.goto('/');
    await entryLink(stack.a2a.entry.display_name).waitFor();
    assert.equal(await page.getByRole('button', { name: 'Register agent' }).count(), 0, 'no Register button');
    await entryLink(stack.a2a.entry.display_name).click();
    await page.getByRole('heading', { name: stack.a2a.entry.display_name, level: 1 }).waitFor();
    await page.getByRole('tab', { name: 'Overview' }).waitFor();
    for (const name of ['Probe now', 'Deprecate', 'Un-deprecate', 'Delete']) {
      assert.equal(await page.getByRole('button', { name, exact: true }).count(), 0, `no ${name} button for a viewer`);
    }
    await screenshot(page, 'entry-viewer');
    // The server refuses them too, with the viewer's own session.
    const id = stack.a2a.entry.id;
    for (const [method, p, data] of [['POST', `/api/v1/catalog/${id}/probe`], ['DELETE', `/api/v1/catalog/${id}`],
      ['PATCH', `/api/v1/catalog/${id}/lifecycle`, { status: 'deprecated' }], ['POST', '/api/v1/catalog/register', CARD]]) {
      const r = await page.request.fetch(p, { method, data, headers: { 'Content-Type': 'application/json' } });
      assert.equal(r.status(), 403, `${method} ${p} as a viewer: ${r.status()} ${await r.text()}`);
    }
  });

  step('changes the password in My account', async () => {
    await page.goto('/settings');
    await page.getByRole('tab', { name: 'My account' }).click();
    await page.getByLabel('Current password').fill(VIEWER.password);
    await page.getByLabel('New password', { exact: true }).fill(VIEWER.newPassword);
    await page.getByLabel('Confirm new password').fill(VIEWER.newPassword);
    await page.getByRole('button', { name: 'Change password' }).click();
    await page.getByRole('status').filter({ hasText: /Password changed/ }).first().waitFor();
    await screenshot(page, 'settings-account');
    const old = await api(stack.server, 'POST', '/api/v1/auth/login', { body: { username: VIEWER.username, password: VIEWER.password } });
    assert.equal(old.status, 401, show(old));
    await loginOk(stack.server, VIEWER.username, VIEWER.newPassword);
    viewerPassword = VIEWER.newPassword;
  });

  step('logs out and back in with the new password', async () => {
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.waitForURL(/\/login/);
    await loginUI(page, VIEWER.username, viewerPassword);
    await page.getByRole('heading', { name: 'Catalog', level: 1 }).waitFor();
    assert.deepEqual(page.pageErrors.map(String), [], 'no uncaught errors in the page');
    assert.deepEqual(page.cspViolations, [], 'nothing the Content-Security-Policy blocked');
  });
});
