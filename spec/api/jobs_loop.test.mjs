// SPDX-License-Identifier: Apache-2.0
// Long-running background jobs (loop = true) against the real binary: each on a thread of its
// own next to the periodic scheduler, a silent agentlens.httpc.stream ended with "stopped" by a
// reload and by shutdown, ctx.sleep / ctx.should_stop, restart after a failure, enabled = false.
import assert from 'node:assert/strict';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { luaTreeWithTestRoutes } from '../support/lua_tree.mjs';
import { eventually, sqlCli, startServer } from '../support/server.mjs';

const JOBS = `
local db = require "agentlens.db"
local time = require "agentlens.time"
local httpc = require "agentlens.httpc"
local TAG = "v1"
local function rec(job, event, round)
  assert(db.exec("CREATE TABLE IF NOT EXISTS spec_loop (job TEXT, tag TEXT, event TEXT, round INTEGER, at DOUBLE PRECISION)"))
  assert(db.exec("INSERT INTO spec_loop (job, tag, event, round, at) VALUES (?, ?, ?, ?, ?)", job, TAG, event, round, time.now()))
end
return {
  { name = "spec_tick", interval_ms = 200, run = function(ctx) rec("tick", "run", ctx.round) end },
  { name = "spec_watch", loop = true, run = function(ctx)
      rec("watch", "start", ctx.round)
      local _, _, code = httpc.stream({ url = os.getenv("SPEC_SILENT_URL"), ssrf_guard = false,
        on_data = function() end })
      rec("watch", "end:" .. tostring(code) .. ":" .. tostring(ctx.should_stop()), ctx.round)
    end },
  { name = "spec_sleeper", loop = true, run = function(ctx)
      rec("sleeper", "start", ctx.round)
      while ctx.sleep(0.1) do end
      rec("sleeper", "stop", ctx.round)
    end },
  { name = "spec_crash", loop = true, run = function(ctx)
      rec("crash", "start", ctx.round)
      error("deliberate loop failure")
    end },
  { name = "spec_off", loop = true, enabled = function() return false end, run = function(ctx)
      rec("off", "start", ctx.round)
    end },
}
`;

function rows(server) {
  let out;
  try {
    out = sqlCli(server, 'SELECT job, tag, event, round, at FROM spec_loop ORDER BY at');
  } catch (e) {
    if (/spec_loop/.test(e.message)) return [];
    throw e;
  }
  return out ? out.split('\n').map((line) => {
    const [job, tag, event, round, at] = line.split('|');
    return { job, tag, event, round: Number(round), at: Number(at) };
  }) : [];
}

describe('long-running jobs', () => {
  let server;
  let tree;
  let jobsFile;
  let silent;
  const held = new Set();

  before(async () => {
    // Answers the headers, then never sends a byte.
    silent = http.createServer((req, res) => {
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.flushHeaders();
      held.add(res);
    });
    await new Promise((resolve) => silent.listen(0, '127.0.0.1', resolve));
    tree = luaTreeWithTestRoutes();
    jobsFile = path.join(tree.dir, 'agentlens', 'jobs.lua');
    writeFileSync(jobsFile, JOBS);
    // a handler that tries httpc.stream (not allowed there)
    writeFileSync(tree.app, readFileSync(tree.app, 'utf8').replace('routes = {', `routes = {
    { method = "GET", path = "/api/test/stream", permission = "public", handler = function()
        local ok, err = pcall(require("agentlens.httpc").stream, { url = "http://127.0.0.1:1/", on_data = function() end })
        return 200, { ok = ok, error = tostring(err) }
      end },`));
    server = await startServer({
      args: ['--lua-dir', tree.dir],
      env: { SPEC_SILENT_URL: `http://127.0.0.1:${silent.address().port}/watch` },
    });
  });

  after(async () => {
    await server?.stop();
    for (const r of held) r.destroy();
    silent?.close();
    if (tree) rmSync(tree.dir, { recursive: true, force: true });
  });

  it('runs loop jobs on their own threads while the periodic jobs keep their schedule', async () => {
    await eventually(() => rows(server).some((r) => r.job === 'watch' && r.event === 'start'), { timeoutMs: 5000 });
    const since = Date.now() / 1000;
    // the watch hangs on a silent connection: the periodic job still runs every 200 ms
    const ticks = await eventually(() => {
      const t = rows(server).filter((r) => r.job === 'tick' && r.at > since);
      return t.length >= 5 && t;
    }, { timeoutMs: 4000 });
    for (let i = 1; i < ticks.length; i++) assert.ok(ticks[i].at - ticks[i - 1].at < 1.5, 'ticks kept coming');
    assert.ok(rows(server).some((r) => r.job === 'sleeper' && r.event === 'start'));
    assert.ok(!rows(server).some((r) => r.job === 'watch' && r.event.startsWith('end')), 'the watch is still open');
  });

  it('refuses httpc.stream inside a request handler', async () => {
    const r = await server.fetch('/api/test/stream');
    assert.equal(r.status, 200);
    const body = await r.json();
    assert.equal(body.ok, false);
    assert.match(body.error, /httpc\.stream: not allowed inside a request handler/);
  });

  it('never starts a loop job whose enabled function returns false', () => {
    assert.ok(!rows(server).some((r) => r.job === 'off'));
  });

  it('restarts a loop job that raised, after a pause that grows', async () => {
    const starts = await eventually(() => {
      const s = rows(server).filter((r) => r.job === 'crash');
      return s.length >= 3 && s;
    }, { timeoutMs: 8000 });
    assert.deepEqual(starts.slice(0, 3).map((r) => r.round), [1, 2, 3]);
    const gap1 = starts[1].at - starts[0].at;
    const gap2 = starts[2].at - starts[1].at;
    assert.ok(gap1 >= 0.9 && gap1 < 2.5, `first pause ${gap1} s`);
    assert.ok(gap2 >= 1.8 && gap2 < 4, `second pause ${gap2} s`);
    const failure = server.logs.find((l) => l.msg === 'job failed' && l.job === 'spec_crash');
    assert.match(failure.error, /deliberate loop failure/);
  });

  it('ends a silent stream with "stopped" on a reload and runs the new code at once', async () => {
    const t0 = Date.now() / 1000;
    writeFileSync(jobsFile, readFileSync(jobsFile, 'utf8').replace('local TAG = "v1"', 'local TAG = "v2"'));
    const ended = await eventually(() => rows(server).find((r) => r.job === 'watch' && r.event.startsWith('end')),
      { timeoutMs: 5000 });
    assert.equal(ended.event, 'end:stopped:true');
    assert.equal(ended.tag, 'v1');
    const restarted = await eventually(() => rows(server).find((r) => r.job === 'watch' && r.tag === 'v2' && r.event === 'start'),
      { timeoutMs: 5000 });
    assert.ok(restarted.at - t0 < 4, `restarted ${restarted.at - t0} s after the edit`);
    const sleeper = rows(server).filter((r) => r.job === 'sleeper').map((r) => `${r.tag}:${r.event}`);
    await eventually(() => rows(server).some((r) => r.job === 'sleeper' && r.tag === 'v2' && r.event === 'start'), { timeoutMs: 5000 });
    assert.ok(sleeper.includes('v1:stop') || rows(server).some((r) => r.job === 'sleeper' && r.tag === 'v1' && r.event === 'stop'));
  });

  it('stops promptly on SIGTERM with a stream open on a silent connection', async () => {
    await eventually(() => silent && held.size >= 2, { timeoutMs: 5000 }); // the v2 watch is connected
    const t0 = Date.now();
    const exit = await server.stop();
    const ms = Date.now() - t0;
    server = null;
    assert.equal(exit.code, 0);
    assert.ok(ms < 3000, `stopped in ${ms} ms`);
  });
});

const LEADER_LOCK = "locktype = 'advisory' AND objid = 1853049442"
  + ' AND database = (SELECT oid FROM pg_database WHERE datname = current_database())';

const LEADER_JOBS = `
local db = require "agentlens.db"
local time = require "agentlens.time"
local PROCESS = os.getenv("SPEC_JOB_PROCESS") or "?"
local function rec(event, round)
  assert(db.exec("CREATE TABLE IF NOT EXISTS spec_loop (job TEXT, tag TEXT, event TEXT, round INTEGER, at DOUBLE PRECISION)"))
  assert(db.exec("INSERT INTO spec_loop (job, tag, event, round, at) VALUES (?, ?, ?, ?, ?)", "leader", PROCESS, event, round, time.now()))
end
return {
  { name = "spec_leader_loop", loop = true, run = function(ctx)
      rec("start", ctx.round)
      while ctx.sleep(0.1) do end
      rec("stop", ctx.round)
    end },
}
`;

describe('long-running jobs and leader election', { skip: process.env.AGENTLENS_DB_DIALECT !== 'postgres' && 'PostgreSQL only' }, () => {
  const servers = [];
  let tree;
  after(async () => {
    for (const s of servers) await s.stop('SIGKILL');
    if (tree) rmSync(tree.dir, { recursive: true, force: true });
  });

  it('runs a loop job on the leader only, stops it with the leadership and moves it on fail-over', async () => {
    tree = luaTreeWithTestRoutes();
    writeFileSync(path.join(tree.dir, 'agentlens', 'jobs.lua'), LEADER_JOBS);
    const args = ['--lua-dir', tree.dir, '--jobs-leader-check-interval', '1s'];
    const a = await startServer({ args, env: { SPEC_JOB_PROCESS: 'A' } });
    servers.push(a);
    await eventually(() => rows(a).some((r) => r.tag === 'A' && r.event === 'start'), { timeoutMs: 5000 });
    const b = await startServer({ args, env: { SPEC_JOB_PROCESS: 'B', AGENTLENS_DB_POSTGRES_DBNAME: a.env.AGENTLENS_DB_POSTGRES_DBNAME } });
    servers.push(b);
    await b.waitForLog((e) => e.msg === 'background jobs started');
    await new Promise((r) => setTimeout(r, 2500)); // more than two leader checks of B
    assert.ok(!rows(a).some((r) => r.tag === 'B'), 'the follower ran no loop');

    // A loses its lock (its session ends): its loop stops; A or B takes the lead and starts it again.
    const before = rows(a).length;
    sqlCli(a, `SELECT pg_terminate_backend(pid) FROM pg_locks WHERE ${LEADER_LOCK}`);
    await eventually(() => rows(a).some((r) => r.tag === 'A' && r.event === 'stop'), { timeoutMs: 5000 });
    await eventually(() => rows(a).slice(before).some((r) => r.event === 'start'), { timeoutMs: 5000 });

    // The leader dies: the other replica starts the loop.
    const leader = rows(a).filter((r) => r.event === 'start').pop().tag;
    const other = leader === 'A' ? b : a;
    (leader === 'A' ? a : b).proc.kill('SIGKILL');
    const otherTag = leader === 'A' ? 'B' : 'A';
    const killedAt = Date.now() / 1000;
    const started = await eventually(() => rows(other).find((r) => r.tag === otherTag && r.event === 'start' && r.at > killedAt),
      { timeoutMs: 5000 });
    assert.ok(started.at - killedAt < 3.5, `took over after ${started.at - killedAt} s`);
  });
});
