// SPDX-License-Identifier: Apache-2.0
// Storage through the real binary: readiness, migrations, outages, crash safety, backups.
// ctest runs this file once on SQLite and once on PostgreSQL (DIALECT).
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { luaTreeWithTestRoutes } from '../support/lua_tree.mjs';
import {
  BIN, DIALECT, PG_SH, ROOT, eventually, freshDatabaseEnv, runCli, sleep, sqlCli, startServer, tempDir,
} from '../support/server.mjs';

const pg = DIALECT === 'postgres';
// How many migrations the binary embeds for this dialect (one file each).
const MIGRATIONS = readdirSync(path.join(ROOT, 'migrations', DIALECT)).filter((f) => /^\d{4}_.*\.sql$/.test(f)).length;

describe(`storage on ${DIALECT}`, () => {
  let tree;
  before(() => { tree = luaTreeWithTestRoutes(); });
  after(() => rmSync(tree.dir, { recursive: true, force: true }));

  it('is ready once the database is migrated; writes and reads go through', async () => {
    const server = await startServer({ args: ['--lua-dir', tree.dir] });
    try {
      assert.equal((await server.fetch('/readyz')).status, 200);
      const w = await server.fetch('/api/test/writes', { method: 'POST', body: JSON.stringify({ n: 1, note: 'a' }) });
      assert.equal(w.status, 201);
      const dup = await server.fetch('/api/test/writes', { method: 'POST', body: JSON.stringify({ n: 1 }) });
      assert.equal(dup.status, 409);
      assert.equal((await dup.json()).error, 'write already exists');
      assert.deepEqual(await (await server.fetch('/api/test/writes')).json(), { count: 1, max: 1 });
      assert.equal(sqlCli(server, 'SELECT count(*) FROM schema_migrations WHERE version = 1'), '1');
      assert.ok(server.logs.some((e) => e.msg === 'migration applied' && e.name === 'settings'));
    } finally {
      await server.stop();
    }
  });

  it('refuses to start when an applied migration changed', async () => {
    const first = await startServer();
    sqlCli(first, "UPDATE schema_migrations SET checksum = 'deadbeef' WHERE version = 1");
    const data = first.data;
    const env = first.env;
    first.proc.kill('SIGTERM');
    await first.exit;
    const second = await startServer({ dataDir: data, env, waitReady: false });
    const exit = await second.exit;
    assert.equal(exit.code, 1);
    const log = second.logs.find((e) => e.msg === 'cannot use the database; stopping');
    assert.ok(log, JSON.stringify(second.logs));
    assert.match(log.error, /migration .*0001_settings\.sql was changed after it was applied/);
    rmSync(data, { recursive: true, force: true });
  });

  it('migrate --status lists migrations; migrate applies them once', () => {
    const data = tempDir();
    const env = { ...freshDatabaseEnv(), AGENTLENS_DATA_DIR: data };
    const before = runCli(['migrate', '--status'], { env });
    assert.equal(before.status, 0, before.stderr);
    assert.match(before.stdout, /0001\s+settings\s+pending/);
    assert.match(before.stdout, /0002\s+accounts\s+pending/);
    const run = runCli(['migrate'], { env });
    assert.equal(run.status, 0, run.stderr);
    assert.match(run.stdout, new RegExp(`^${MIGRATIONS} migration\\(s\\) applied`, 'm'));
    assert.match(run.stdout, /0001\s+settings\s+applied\s+\d{4}-/);
    const again = runCli(['migrate'], { env });
    assert.match(again.stdout, /0 migration\(s\) applied/);
    rmSync(data, { recursive: true, force: true });
  });

  it('two processes migrating the same database at once end with one applied copy', async () => {
    const data = tempDir();
    const env = { ...process.env, ...freshDatabaseEnv(), AGENTLENS_DATA_DIR: data, AGENTLENS_LOG_LEVEL: 'warn' };
    if (!pg) for (const k of Object.keys(env)) if (k.startsWith('AGENTLENS_DB_')) delete env[k];
    const runs = await Promise.all([0, 1, 2].map(() => new Promise((resolve) => {
      const p = spawn(BIN, ['migrate'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      p.stdout.on('data', (d) => { out += d; });
      p.stderr.on('data', (d) => { out += d; });
      p.on('close', (code) => resolve({ code, out }));
    })));
    for (const r of runs) assert.equal(r.code, 0, r.out);
    const applied = runs.map((r) => Number(/(\d+) migration\(s\) applied/.exec(r.out)[1]));
    assert.equal(applied.reduce((a, b) => a + b, 0), MIGRATIONS, `every migration applied exactly once: ${applied}`);
    const status = runCli(['migrate', '--status'], { env: { ...env } });
    assert.equal((status.stdout.match(/^0001 /gm) || []).length, 1);
    rmSync(data, { recursive: true, force: true });
  });

  it('agentlens backup: a consistent copy taken under write load (SQLite) or pg_dump advice', async () => {
    if (pg) {
      const r = runCli(['backup', '/tmp/x.db']);
      assert.equal(r.status, 2);
      assert.match(r.stderr, /PostgreSQL; back it up with pg_dump/);
      assert.match(r.stderr, /pg_dump --format=custom/);
      return;
    }
    const server = await startServer({ args: ['--lua-dir', tree.dir, '--log-level', 'info'] });
    const out = path.join(tempDir(), 'backup.db');
    try {
      let n = 0;
      let stop = false;
      const writer = (async () => {
        while (!stop && n < 20000) {
          const r = await server.fetch('/api/test/writes', { method: 'POST', body: JSON.stringify({ n: ++n, note: 'x'.repeat(200) }) });
          assert.equal(r.status, 201);
        }
      })();
      await sleep(300);
      const r = runCli(['backup', out, '--data-dir', server.data]);
      stop = true;
      await writer;
      assert.equal(r.status, 0, r.stderr);
      assert.match(r.stdout, /integrity check: ok/);
      const check = spawnSync('sqlite3', [out, 'PRAGMA integrity_check; SELECT count(*), max(n) FROM spec_writes;'], { encoding: 'utf8' });
      const [integrity, counts] = check.stdout.trim().split('\n');
      assert.equal(integrity, 'ok');
      const [count, max] = counts.split('|').map(Number);
      assert.ok(count > 0, 'the backup holds rows');
      assert.equal(count, max, 'a consistent prefix: no gaps');
    } finally {
      await server.stop();
      rmSync(path.dirname(out), { recursive: true, force: true });
    }
  });

  it('a data directory that cannot be written stops start-up with a clear message', { skip: pg && 'SQLite only' }, async () => {
    const dir = tempDir();
    const blocker = path.join(dir, 'file');
    writeFileSync(blocker, 'not a directory');
    const r = runCli(['serve', '--port', '0', '--data-dir', path.join(blocker, 'data')]);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /data_dir.*(not writable|cannot create)/);
    if (process.getuid() !== 0) {
      const ro = path.join(dir, 'ro');
      spawnSync('mkdir', [ro]);
      chmodSync(ro, 0o555);
      const r2 = runCli(['serve', '--port', '0', '--data-dir', ro]);
      assert.equal(r2.status, 1);
      assert.match(r2.stderr, /not writable/);
    }
    rmSync(dir, { recursive: true, force: true });
  });

  it('kill -9 during a stream of writes loses no acknowledged write', { skip: pg && 'SQLite only' }, async () => {
    const server = await startServer({ args: ['--lua-dir', tree.dir, '--log-level', 'info'] });
    let acked = 0;
    let n = 0;
    const clients = [0, 1, 2, 3].map(() => (async () => {
      for (;;) {
        const mine = ++n;
        let r;
        try {
          r = await server.fetch('/api/test/writes', { method: 'POST', body: JSON.stringify({ n: mine }) });
        } catch { return; }
        if (r.status !== 201) return;
        acked = Math.max(acked, mine);
        server.ackedSet = server.ackedSet || new Set();
        server.ackedSet.add(mine);
      }
    })());
    await sleep(700);
    server.proc.kill('SIGKILL');
    await Promise.all(clients);
    await server.exit;
    const check = spawnSync('sqlite3', [path.join(server.data, 'agentlens.db'), 'PRAGMA integrity_check; SELECT n FROM spec_writes;'], { encoding: 'utf8' });
    const lines = check.stdout.trim().split('\n');
    assert.equal(lines[0], 'ok');
    const stored = new Set(lines.slice(1).map(Number));
    assert.ok(server.ackedSet.size > 50, `enough writes acknowledged (${server.ackedSet.size})`);
    for (const a of server.ackedSet) assert.ok(stored.has(a), `acknowledged write ${a} is in the database`);
    const again = await startServer({ dataDir: server.data, args: ['--lua-dir', tree.dir] });
    try {
      const counts = await (await again.fetch('/api/test/writes')).json();
      assert.ok(counts.count >= server.ackedSet.size);
    } finally {
      await again.stop();
      rmSync(server.data, { recursive: true, force: true });
    }
  });
});

// Outages need a PostgreSQL server of their own to stop and start.
describe('PostgreSQL outages', { skip: !pg && 'PostgreSQL only' }, () => {
  let pgdir;
  let env;
  let tree;
  before(() => {
    tree = luaTreeWithTestRoutes();
    pgdir = tempDir('agentlens-pg-');
    const r = spawnSync(PG_SH, ['start', pgdir], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    const text = spawnSync('bash', ['-c', `. ${pgdir}/env && env | grep ^AGENTLENS_DB_`], { encoding: 'utf8' }).stdout;
    env = Object.fromEntries(text.trim().split('\n').map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]));
  });
  after(() => {
    spawnSync(PG_SH, ['stop', pgdir]);
    rmSync(tree.dir, { recursive: true, force: true });
  });

  it('requests fail cleanly while the server is down and succeed after it returns', async () => {
    const server = await startServer({ args: ['--lua-dir', tree.dir], env });
    try {
      assert.equal((await server.fetch('/api/test/writes', { method: 'POST', body: '{"n":1}' })).status, 201);
      assert.equal(spawnSync(PG_SH, ['pause', pgdir]).status, 0);
      const down = await server.fetch('/api/test/writes', { method: 'POST', body: '{"n":2}' });
      assert.equal(down.status, 503);
      assert.match((await down.json()).error, /database is unavailable/);
      assert.equal((await server.fetch('/healthz')).status, 200);
      const notReady = await eventually(async () => {
        const r = await server.fetch('/readyz');
        return r.status === 503 && r.json();
      }, { timeoutMs: 10000 });
      assert.equal(notReady.status, 'error');
      assert.match(notReady.reason, /database unavailable/);
      assert.equal(spawnSync(PG_SH, ['resume', pgdir]).status, 0);
      await eventually(async () => (await server.fetch('/readyz')).status === 200, { timeoutMs: 15000 });
      await eventually(async () => (await server.fetch('/api/test/writes', { method: 'POST', body: '{"n":3}' })).status === 201, { timeoutMs: 10000 });
      assert.deepEqual(await (await server.fetch('/api/test/writes')).json(), { count: 2, max: 3 });
      assert.equal(server.exited, null, 'AgentLens kept running');
    } finally {
      await server.stop();
    }
  });

  it('start-up with the server down retries, logs why, and proceeds when it comes up', async () => {
    assert.equal(spawnSync(PG_SH, ['pause', pgdir]).status, 0);
    const server = await startServer({ args: ['--lua-dir', tree.dir], env, waitReady: false });
    try {
      const log = await server.waitForLog((e) => e.msg === 'database unavailable at start-up; retrying');
      assert.equal(log.port, Number(env.AGENTLENS_DB_POSTGRES_PORT));
      assert.equal(log.host, env.AGENTLENS_DB_POSTGRES_HOST);
      assert.match(log.error, /cannot connect to PostgreSQL/);
      assert.equal((await server.fetch('/healthz')).status, 200);
      const r = await server.fetch('/readyz');
      assert.equal(r.status, 503);
      assert.match((await r.json()).reason, /database unavailable/);
      assert.equal(spawnSync(PG_SH, ['resume', pgdir]).status, 0);
      await server.waitForLog((e) => e.msg === 'database ready; AgentLens is serving', 20000);
      assert.equal((await server.fetch('/readyz')).status, 200);
      assert.equal((await server.fetch('/api/test/writes', { method: 'POST', body: '{"n":10}' })).status, 201);
    } finally {
      spawnSync(PG_SH, ['resume', pgdir]);
      await server.stop();
    }
  });
});

