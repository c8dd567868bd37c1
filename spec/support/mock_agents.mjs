// SPDX-License-Identifier: Apache-2.0
// The mock agents of examples/mock-agents as child processes of a test: startMock spawns one on
// a port of its own choosing (PORT=0) and resolves once it printed its "listening" JSON line;
// control drives its /_control endpoint. Every mock started is killed by stopMocks (call it in
// `after`) and, as a last resort, when the test process exits.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import path from 'node:path';
import { ROOT } from './server.mjs';

export const MOCKS = path.join(ROOT, 'examples', 'mock-agents');
const START_TIMEOUT_MS = 10000;

const children = [];
process.on('exit', () => stopMocks());

// Starts examples/mock-agents/<script> listening on `host` (default 127.0.0.1), with NAME given
// as --name when `name` is set, extra flags `args` and extra environment `env`. Resolves
// {proc, port, base, name, stop()} (base: http://127.0.0.1:<port>; stop() sends SIGTERM);
// rejects, naming the mock and quoting its stderr, when it exits before listening or does not
// listen within 10 s.
export function startMock(script, { name, args = [], env = {}, host = '127.0.0.1' } = {}) {
  const label = `mock ${script}${name ? ` (${name})` : ''}`;
  return new Promise((resolve, reject) => {
    const proc = spawn(process.execPath, [path.join(MOCKS, script), ...(name ? ['--name', name] : []), ...args], {
      env: { ...process.env, PORT: '0', HOST: host, ...env }, stdio: ['ignore', 'pipe', 'pipe'],
    });
    children.push(proc);
    let out = '';
    let err = '';
    let started = false;
    const timer = setTimeout(() => reject(new Error(`${label} did not start within 10 s: ${err}`)), START_TIMEOUT_MS);
    proc.stderr.on('data', (d) => { err += d; });
    proc.stdout.on('data', (d) => {
      if (started) return;
      out += d;
      const line = out.split('\n').slice(0, -1).find((l) => l.includes('"port"'));
      if (!line) return;
      started = true;
      clearTimeout(timer);
      const { port } = JSON.parse(line);
      resolve({ proc, port, base: `http://127.0.0.1:${port}`, name, stop: () => { if (proc.exitCode === null) proc.kill('SIGTERM'); } });
    });
    proc.on('exit', (code) => { clearTimeout(timer); if (!started) reject(new Error(`${label} exited ${code}: ${err}`)); });
  });
}

// Kills every mock started by this process that is still running.
export function stopMocks(signal = 'SIGKILL') {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill(signal);
}

function controlRequest(base, body) {
  return fetch(`${base}/_control`, {
    method: body ? 'POST' : 'GET', headers: { 'Content-Type': 'application/json' },
    body: body ? JSON.stringify(body) : undefined,
  });
}

// POSTs body to the mock's /_control (GETs it without a body); asserts 200 (the message is the
// reply) and returns the mock's state.
export async function control(base, body) {
  const res = await controlRequest(base, body);
  const text = await res.text();
  assert.equal(res.status, 200, text);
  return JSON.parse(text);
}

// The same request whatever the outcome: {status, body} (the reply parsed as JSON).
export async function controlReply(base, body) {
  const res = await controlRequest(base, body);
  return { status: res.status, body: await res.json() };
}
