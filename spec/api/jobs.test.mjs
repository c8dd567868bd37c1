// SPDX-License-Identifier: Apache-2.0
// Background jobs against the real binary: first run at start-up, intervals, failing jobs,
// hot reload, shutdown, and leader election between two replicas on PostgreSQL.
import assert from 'node:assert/strict';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { luaTreeWithTestJobs } from '../support/lua_tree.mjs';
import { DIALECT, eventually, sleep, sqlCli, startServer } from '../support/server.mjs';

// Rows of spec_jobs as {process, tag, n, at}; [] before the job created the table.
function jobRows(server) {
  let out;
  try {
    out = sqlCli(server, 'SELECT process, tag, n, at FROM spec_jobs ORDER BY at');
  } catch (e) {
    if (/spec_jobs/.test(e.message)) return [];
    throw e;
  }
  return out ? out.split('\n').map((line) => {
    const [process, tag, n, at] = line.split('|');
    return { process, tag, n: Number(n), at: Number(at) };
  }) : [];
}

const logTime = (entry) => Date.parse(entry.time) / 1000;

describe('background jobs', () => {
  let server;
  let tree;
  before(async () => {
    tree = luaTreeWithTestJobs();
    server = await startServer({ args: ['--lua-dir', tree.dir], env: { SPEC_JOB_PROCESS: 'solo' } });
  });
  after(async () => {
    await server?.stop();
    rmSync(tree.dir, { recursive: true, force: true });
  });

  it('runs a job at start-up, then every interval', async () => {
    const started = await server.waitForLog((e) => e.msg === 'background jobs started');
    const first = await eventually(() => jobRows(server)[0], { timeoutMs: 2000 });
    assert.equal(first.process, 'solo');
    assert.equal(first.tag, 'v1');
    assert.equal(first.n, 1);
    // The first round runs right away, not one interval (300 ms) later.
    assert.ok(first.at - logTime(started) < 0.25, `first run ${first.at - logTime(started)} s after start`);
    const rows = await eventually(() => { const r = jobRows(server); return r.length >= 5 && r; }, { timeoutMs: 4000 });
    // Rounds start 300 ms apart; the insert inside a round may come a little late (a busy CI host).
    for (let i = 1; i < rows.length; i++) {
      const gap = rows[i].at - rows[i - 1].at;
      assert.ok(gap > 0.1 && gap < 1.5, `rounds ${gap} s apart, expected about 0.3 s`);
    }
    const mean = (rows.at(-1).at - rows[0].at) / (rows.length - 1);
    assert.ok(mean > 0.25 && mean < 0.8, `rounds ${mean} s apart on average, expected about 0.3 s`);
    assert.deepEqual(rows.map((r) => r.n), rows.map((_, i) => i + 1));
  });

  it('reads an interval from a runtime setting', async () => {
    await server.waitForLog((e) => e.msg === 'job finished' && e.job === 'spec_setting' && e.round === 1);
    assert.ok(!server.logs.some((e) => e.msg === "cannot read the job's interval"));
  });

  it('keeps retrying a failing job and stays healthy', async () => {
    await eventually(() => server.logs.filter((e) => e.msg === 'job failed' && e.job === 'spec_failing').length >= 3,
      { timeoutMs: 3000 });
    const failure = server.logs.find((e) => e.msg === 'job failed');
    assert.match(failure.error, /deliberate job failure/);
    assert.match(failure.error, /stack traceback/);
    assert.equal((await server.fetch('/healthz')).status, 200);
    assert.equal((await server.fetch('/readyz')).status, 200);
    assert.equal((await server.fetch('/api/test/answer')).status, 200);
    const before = jobRows(server).length;
    await eventually(() => jobRows(server).length > before + 1, { timeoutMs: 2000 });
  });

  it('picks up an edited job after a hot reload', async () => {
    const src = readFileSync(tree.jobs, 'utf8');
    writeFileSync(tree.jobs, src.replace('local TAG = "v1"', 'local TAG = "v2"'));
    const row = await eventually(() => jobRows(server).find((r) => r.tag === 'v2'), { timeoutMs: 5000 });
    // The job kept its name, so it kept its schedule and round counter.
    assert.ok(row.n > 1);
    await sleep(700);
    const rows = jobRows(server);
    const lastV1 = rows.filter((r) => r.tag === 'v1').pop();
    assert.ok(rows.filter((r) => r.tag === 'v2').length >= 2);
    assert.ok(rows.filter((r) => r.tag === 'v2').every((r) => r.at > lastV1.at), 'v1 rounds stopped after the reload');
  });

  it('stops promptly on SIGTERM', async () => {
    const t0 = Date.now();
    const exit = await server.stop();
    assert.equal(exit.code, 0);
    assert.ok(Date.now() - t0 < 5000, `stopped in ${Date.now() - t0} ms`);
    assert.ok(server.logs.some((e) => e.msg === 'background jobs stopped'));
    server = null;
  });
});

describe('background jobs disabled', () => {
  it('runs nothing with --no-jobs-enabled', async () => {
    const tree = luaTreeWithTestJobs({ failing: false });
    const server = await startServer({ args: ['--lua-dir', tree.dir, '--no-jobs-enabled'] });
    try {
      await server.waitForLog((e) => e.msg?.startsWith('background jobs are disabled'));
      await sleep(800);
      assert.deepEqual(jobRows(server), []);
    } finally {
      await server.stop();
      rmSync(tree.dir, { recursive: true, force: true });
    }
  });
});

const LEADER_LOCK = "locktype = 'advisory' AND objid = 1853049442"
  + ' AND database = (SELECT oid FROM pg_database WHERE datname = current_database())';

describe('leader election', { skip: DIALECT !== 'postgres' && 'PostgreSQL only' }, () => {
  const servers = [];
  let tree;
  after(async () => {
    for (const s of servers) await s.stop('SIGKILL');
    if (tree) rmSync(tree.dir, { recursive: true, force: true });
  });

  it('runs the jobs on one replica only and fails over when the leader dies', async () => {
    tree = luaTreeWithTestJobs({ failing: false });
    const args = ['--lua-dir', tree.dir, '--jobs-leader-check-interval', '1s'];
    const a = await startServer({ args, env: { SPEC_JOB_PROCESS: 'A' } });
    servers.push(a);
    await a.waitForLog((e) => e.msg?.startsWith('became leader'), 5000);
    const b = await startServer({
      args, env: { SPEC_JOB_PROCESS: 'B', AGENTLENS_DB_POSTGRES_DBNAME: a.env.AGENTLENS_DB_POSTGRES_DBNAME },
    });
    servers.push(b);
    await b.waitForLog((e) => e.msg === 'background jobs started');
    const countA = jobRows(a).filter((r) => r.process === 'A').length;
    await sleep(2500); // more than two leader checks of B
    let rows = jobRows(a);
    assert.equal(rows.filter((r) => r.process === 'B').length, 0, 'the follower ran no job');
    assert.ok(rows.filter((r) => r.process === 'A').length >= countA + 3, 'the leader kept running');
    assert.ok(!b.logs.some((e) => e.msg?.startsWith('became leader')));

    a.proc.kill('SIGKILL');
    await a.exit;
    const killedAt = Date.now() / 1000;
    const firstB = await eventually(() => jobRows(b).find((r) => r.process === 'B'), { timeoutMs: 3000, intervalMs: 100 });
    assert.ok(firstB.at - killedAt < 2.5, `B took over ${firstB.at - killedAt} s after the kill`);
    await b.waitForLog((e) => e.msg?.startsWith('became leader'), 100);
    rows = jobRows(b);
    const lastA = rows.filter((r) => r.process === 'A').pop();
    assert.ok(rows.filter((r) => r.process === 'B').every((r) => r.at > lastA.at), 'never two leaders at once');
  });

  it('loses leadership with its connection and takes it back', async () => {
    const b = servers[1];
    // End the session that holds the leader lock (as a database restart or network cut would).
    // pg_locks is cluster-wide: other suites' servers hold the same key in their own databases.
    sqlCli(b, `SELECT pg_terminate_backend(pid) FROM pg_locks WHERE ${LEADER_LOCK}`);
    await b.waitForLog((e) => e.msg?.startsWith('lost leadership'), 3000);
    const lost = b.logs.find((e) => e.msg?.startsWith('lost leadership'));
    await eventually(() => b.logs.filter((e) => e.msg?.startsWith('became leader')).length >= 2, { timeoutMs: 4000 });
    const regained = b.logs.filter((e) => e.msg?.startsWith('became leader'))[1];
    assert.ok(logTime(regained) >= logTime(lost));
    const held = sqlCli(b, `SELECT count(*) FROM pg_locks WHERE ${LEADER_LOCK} AND granted`);
    assert.equal(held, '1');
    const since = logTime(regained);
    await eventually(() => jobRows(b).some((r) => r.process === 'B' && r.at >= since), { timeoutMs: 2000 });
  });
});
