// SPDX-License-Identifier: Apache-2.0
// Test support: start the real agentlens binary on a free port and talk to it over HTTP.
import { spawn, spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const BIN = process.env.AGENTLENS_BIN || path.join(ROOT, 'build', 'agentlens');

export function tempDir(prefix = 'agentlens-test-') {
  return mkdtempSync(path.join(tmpdir(), prefix));
}

// A writable copy of the shipped Lua tree, for tests that edit modules (hot reload).
export function copyLuaTree() {
  const dir = tempDir('agentlens-lua-');
  cpSync(path.join(ROOT, 'lua'), dir, { recursive: true });
  return dir;
}

// Runs the binary to completion (CLI commands): {status, stdout, stderr}.
export function runCli(args, { env = {}, timeout = 20000 } = {}) {
  const r = spawnSync(BIN, args, { env: { ...cleanEnv(), ...env }, encoding: 'utf8', timeout });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr, signal: r.signal };
}

// The dialect under test: ctest runs each API spec once on SQLite and once on PostgreSQL
// (with-pg-env.sh exports AGENTLENS_DB_* and PG_TEST_DIR for the latter).
export const DIALECT = process.env.AGENTLENS_DB_DIALECT === 'postgres' ? 'postgres' : 'sqlite';
export const PG_SH = path.join(ROOT, 'spec', 'support', 'pg.sh');

function cleanEnv() {
  const env = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (!k.startsWith('AGENTLENS_') || (DIALECT === 'postgres' && k.startsWith('AGENTLENS_DB_'))) env[k] = v;
  }
  return env;
}

// A fresh, empty database for one server: a new PostgreSQL database on the test server, or
// nothing to do on SQLite (each server gets its own data directory). Returns env overrides.
export function freshDatabaseEnv() {
  if (DIALECT !== 'postgres') return {};
  const name = `t_api_${Math.random().toString(16).slice(2, 12)}`;
  const r = spawnSync(PG_SH, ['createdb', process.env.PG_TEST_DIR, name], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`pg.sh createdb failed: ${r.stderr}`);
  return { AGENTLENS_DB_POSTGRES_DBNAME: name };
}

// Runs SQL against the database a server uses (sqlite3 or psql CLI); returns stdout.
export function sqlCli(server, sql) {
  const r = DIALECT === 'postgres'
    ? spawnSync('psql', ['-X', '-A', '-t', '-v', 'ON_ERROR_STOP=1', '-d', server.env.AGENTLENS_DB_POSTGRES_DBNAME, '-c', sql],
      { encoding: 'utf8', env: process.env })
    : spawnSync('sqlite3', [path.join(server.data, 'agentlens.db'), sql], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`SQL failed (${sql}): ${r.stderr}`);
  return r.stdout.trim();
}

// Starts `agentlens serve` on port 0 and resolves once it logged "listening".
export async function startServer({ args = [], env = {}, dataDir, timeoutMs = 15000, waitReady = true } = {}) {
  const data = dataDir || tempDir();
  const fullEnv = { ...cleanEnv(), ...freshDatabaseEnv(), ...env };
  const proc = spawn(BIN, ['serve', '--port', '0', '--bind', '127.0.0.1', '--data-dir', data,
    '--log-format', 'json', '--log-level', 'debug', ...args], {
    env: fullEnv, stdio: ['ignore', 'pipe', 'pipe'],
  });
  const server = { proc, data, env: fullEnv, logs: [], stdout: '', exited: null, port: 0 };
  let pending = '';
  const waiters = [];
  proc.stdout.on('data', (d) => { server.stdout += d; });
  proc.stderr.on('data', (d) => {
    pending += d;
    let nl;
    while ((nl = pending.indexOf('\n')) >= 0) {
      const line = pending.slice(0, nl);
      pending = pending.slice(nl + 1);
      let entry;
      try { entry = JSON.parse(line); } catch { entry = { msg: line, unparsed: true }; }
      server.logs.push(entry);
      for (const w of [...waiters]) if (w.pred(entry)) { waiters.splice(waiters.indexOf(w), 1); w.resolve(entry); }
    }
  });
  server.exit = new Promise((resolve) => proc.on('exit', (code, signal) => {
    server.exited = { code, signal };
    for (const w of waiters.splice(0)) w.reject(new Error(`agentlens exited (${code ?? signal}) while waiting for a log line`));
    resolve(server.exited);
  }));
  // Resolves with the first log entry (past or future) matching pred.
  server.waitForLog = (pred, ms = 10000) => {
    const seen = server.logs.find(pred);
    if (seen) return Promise.resolve(seen);
    if (server.exited) return Promise.reject(new Error('agentlens is not running'));
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        const i = waiters.indexOf(w);
        if (i >= 0) { waiters.splice(i, 1); reject(new Error(`no matching log line within ${ms} ms; logs:\n${server.logs.map((l) => JSON.stringify(l)).join('\n')}`)); }
      }, ms);
      const w = {
        pred,
        resolve: (v) => { clearTimeout(timer); resolve(v); },
        reject: (e) => { clearTimeout(timer); reject(e); },
      };
      waiters.push(w);
    });
  };
  const listening = await server.waitForLog((e) => e.msg === 'listening', timeoutMs);
  server.port = listening.port;
  server.url = `http://127.0.0.1:${server.port}`;
  server.fetch = (p, init) => fetch(server.url + p, init);
  if (waitReady) await server.waitForLog((e) => e.msg === 'database ready; AgentLens is serving', timeoutMs);
  server.stop = async (signal = 'SIGTERM') => {
    if (!server.exited) proc.kill(signal);
    const r = await server.exit;
    if (!dataDir) rmSync(data, { recursive: true, force: true });
    return r;
  };
  return server;
}

// Sends raw bytes over TCP and returns the raw response text (for requests fetch would
// normalise, such as "/../" paths).
export function rawRequest(port, text, { timeoutMs = 5000 } = {}) {
  return new Promise((resolve, reject) => {
    const sock = net.connect(port, '127.0.0.1');
    let out = '';
    sock.setTimeout(timeoutMs, () => { sock.destroy(); resolve(out); });
    sock.on('connect', () => sock.write(text));
    sock.on('data', (d) => { out += d; });
    sock.on('end', () => resolve(out));
    sock.on('error', (e) => (out ? resolve(out) : reject(e)));
  });
}

export function statusOf(raw) {
  const m = /^HTTP\/1\.[01] (\d{3})/.exec(raw);
  return m ? Number(m[1]) : 0;
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// Polls fn until it returns a truthy value or the time runs out.
export async function eventually(fn, { timeoutMs = 5000, intervalMs = 50 } = {}) {
  const deadline = Date.now() + timeoutMs;
  let last;
  while (Date.now() < deadline) {
    try { last = await fn(); if (last) return last; } catch (e) { last = e; }
    await sleep(intervalMs);
  }
  throw new Error(`condition not met within ${timeoutMs} ms (last: ${last instanceof Error ? last.message : JSON.stringify(last)})`);
}
