// SPDX-License-Identifier: Apache-2.0
// The operator scripts sandbox (--scripts-dir): what a script may and may not do at load time,
// checked with `check-config`, and a broken script on a live server keeping the old generation.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { runCli, startServer, tempDir } from '../support/server.mjs';

const dirs = [];
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

// A fresh scripts directory holding the given files ({name: source}).
function scriptsDir(files) {
  const dir = tempDir('agentlens-scripts-');
  dirs.push(dir);
  for (const [name, source] of Object.entries(files)) writeFileSync(path.join(dir, name), source);
  return dir;
}

// check-config with one script file; the forbidden statement sits on line 3 so that the line
// number in the message is proven, not just present.
function checkScript(statement, { name = 'rule.lua', prelude = 'local a = 1\nlocal b = a + 1\n' } = {}) {
  const dir = scriptsDir({ [name]: prelude + statement + '\n' });
  const started = Date.now();
  const r = runCli(['check-config', '--scripts-dir', dir]);
  return { ...r, file: path.join(dir, name), ms: Date.now() - started };
}

// Refused: exit 1, "file:3: <message>" on stderr, and nothing claims the configuration is valid.
function assertRefused(r, message, line = 3) {
  assert.equal(r.status, 1, `exit status (stderr: ${r.stderr})`);
  assert.ok(r.stderr.includes('Lua modules or scripts are invalid'), r.stderr);
  const where = line === null ? `${r.file}:` : `${r.file}:${line}:`;
  assert.ok(r.stderr.includes(where), `stderr names ${where}:\n${r.stderr}`);
  assert.match(r.stderr, message);
  assert.ok(!r.stdout.includes('configuration is valid'), r.stdout);
}

describe('operator scripts sandbox (check-config)', () => {
  const unknownGlobal = (name) => new RegExp(`:3: unknown global '${name}'`);
  const requireRefused = (name) => new RegExp(`:3: require of '${name}' is not allowed in scripts \\(allowed: agentlens\\.json`);
  const cases = [
    ['io.open', 'local f = io.open("/etc/passwd")', unknownGlobal('io')],
    ['os.execute', 'os.execute("touch /tmp/agentlens-sandbox-escaped")', /:3: attempt to call field 'execute' \(a nil value\)/],
    ['os.getenv', 'local home = os.getenv("HOME")', /:3: attempt to call field 'getenv' \(a nil value\)/],
    ['os.exit', 'os.exit(0)', /:3: attempt to call field 'exit' \(a nil value\)/],
    ['debug.getinfo', 'local i = debug.getinfo(1)', unknownGlobal('debug')],
    ['require "ffi"', 'local ffi = require "ffi"', requireRefused('ffi')],
    ['require "jit"', 'local jit = require "jit"', requireRefused('jit')],
    ['require "io"', 'local io = require "io"', requireRefused('io')],
    ['require "debug"', 'local d = require "debug"', requireRefused('debug')],
    ['load', 'local f = load("return 1")', unknownGlobal('load')],
    ['loadstring', 'local f = loadstring("return 1")', unknownGlobal('loadstring')],
    ['dofile', 'dofile("/etc/hostname")', unknownGlobal('dofile')],
    ['loadfile', 'local f = loadfile("/etc/hostname")', unknownGlobal('loadfile')],
    ['string.dump', 'local s = string.dump(function() end)', /:3: attempt to call field 'dump' \(a nil value\)/],
    ['getfenv', 'local env = getfenv(1)', unknownGlobal('getfenv')],
    ['setfenv', 'setfenv(1, {})', unknownGlobal('setfenv')],
    ['_G', 'local g = _G', unknownGlobal('_G')],
    ['reading an undefined global', 'local v = undefined_thing', unknownGlobal('undefined_thing')],
    ['writing a global', 'x = 1', /:3: global writes are not allowed in scripts \(assignment to 'x'\); use local/],
    ['writing a global function', 'function helper() end', /:3: global writes are not allowed in scripts \(assignment to 'helper'\)/],
    ['rawset(_G, ...)', 'rawset(_G, "x", 1)', unknownGlobal('rawset')],
    ['getmetatable("").__index', 'local s = getmetatable("").__index', unknownGlobal('getmetatable')],
    ['print', 'print("hello")', unknownGlobal('print')],
    ['package', 'local p = package.loaded', unknownGlobal('package')],
    ['collectgarbage', 'collectgarbage("stop")', unknownGlobal('collectgarbage')],
    ['newproxy', 'local u = newproxy(true)', unknownGlobal('newproxy')],
    ['math.randomseed', 'math.randomseed(1)', /:3: attempt to call field 'randomseed' \(a nil value\)/],
    // require returns the module tables the shipped code uses: a script must not replace them.
    ['replacing a function of a module',
      'local json = require "agentlens.json"; json.encode = function() return "x" end',
      /:3: modules are read-only in scripts \(assignment to 'encode'\)/],
  ];
  for (const [what, statement, message] of cases) {
    it(`refuses ${what}`, () => assertRefused(checkScript(statement), message));
  }

  it('refuses a precompiled bytecode file named .lua', (t) => {
    const dir = scriptsDir({ 'source.lua.txt': 'return { rules = {} }\n' });
    const out = path.join(dir, 'compiled.lua');
    const lj = spawnSync('luajit', ['-b', path.join(dir, 'source.lua.txt'), out], { encoding: 'utf8' });
    if (lj.error || lj.status !== 0) {
      t.skip(`luajit -b is not available (${lj.error?.message ?? lj.stderr})`);
      return;
    }
    const r = runCli(['check-config', '--scripts-dir', dir]);
    assert.equal(r.status, 1, r.stderr);
    assert.ok(r.stderr.includes(`${out}: precompiled bytecode is not allowed in scripts`), r.stderr);
  });

  // Budget errors are raised by a hook; a script must not be able to catch them and go on.
  const loops = [
    ['an endless loop', 'while true do end'],
    ['an endless loop in a function', 'local function spin() while true do end end spin()'],
    ['an endless loop that catches the budget error with pcall',
      'while true do pcall(function() while true do end end) end'],
    ['an endless loop in an xpcall handler',
      'while true do xpcall(function() while true do end end, function() while true do end end) end'],
    ['an endless loop in a coroutine resumed forever',
      'local co = coroutine.wrap(function() while true do pcall(function() while true do end end) end end) while true do pcall(co) end'],
  ];
  for (const [what, statement] of loops) {
    it(`refuses ${what} at load time within a few seconds`, () => {
      const r = checkScript(statement);
      assert.equal(r.signal, null, `check-config was killed after ${r.ms} ms (still looping)`);
      assertRefused(r, /:3: script exceeded its instruction budget while loading \(endless loop\?\)/);
      assert.ok(r.ms < 5000, `took ${r.ms} ms`);
    });
  }

  for (const [what, value, type] of [['a number', '42', 'number'], ['a string', '"rules"', 'string'],
    ['a function', 'function() end', 'function'], ['a boolean', 'true', 'boolean']]) {
    it(`refuses a script returning ${what}`, () => {
      const r = checkScript(`return ${value}`);
      assertRefused(r, new RegExp(`: a script must return a table \\(or nothing\\), not a ${type}`), null);
    });
  }

  it('reports a syntax error with file and line', () => {
    assertRefused(checkScript('local = 3'), /:3: .*unexpected symbol|:3: .*expected/);
  });

  it('names the broken script among several', () => {
    const dir = scriptsDir({ 'a_ok.lua': 'return {}\n', 'b_bad.lua': '\n\nlocal v = nope\n', 'c_ok.lua': 'return {}\n' });
    const r = runCli(['check-config', '--scripts-dir', dir]);
    assert.equal(r.status, 1);
    assert.ok(r.stderr.includes(`${path.join(dir, 'b_bad.lua')}:3: unknown global 'nope'`), r.stderr);
    assert.ok(!r.stderr.includes('a_ok.lua:'), r.stderr);
  });

  it('loads a script that uses string, table, math, os.time and agentlens.json', () => {
    const dir = scriptsDir({
      '10_rules.lua': `-- an operator rule file
local json = require "agentlens.json"
local log = require "agentlens.log"
local names = {}
for word in ("alpha beta gamma"):gmatch("%a+") do
  table.insert(names, string.upper(word))
end
table.sort(names, function(x, y) return x > y end)
local now = os.time()
assert(type(now) == "number" and now > 1.6e9, "os.time")
assert(type(os.date("!%Y-%m-%d", now)) == "string" and type(os.clock()) == "number")
assert(math.floor(math.max(2.5, 1)) == 2 and math.huge > 0)
assert(table.concat(names, ",") == "GAMMA,BETA,ALPHA")
assert(json.encode({ list = json.array(), n = 1 }) == '{"list":[],"n":1}' or
       json.encode({ list = json.array(), n = 1 }) == '{"n":1,"list":[]}')
assert(json.decode('{"a":[1,2]}').a[2] == 2)
assert(type(log) == "table")
local ok, err = pcall(error, "caught", 0)
assert(not ok and err == "caught")
local ok2, err2 = xpcall(function() error("boom", 0) end, function(m) return "handled " .. m end)
assert(not ok2 and err2 == "handled boom")
local sum = 0
for i = 1, 100000 do sum = sum + i % 7 end
local co = coroutine.wrap(function() coroutine.yield(1) end)
assert(co() == 1)
assert(bit.band(6, 3) == 2)
return { names = names, started = now, sum = sum, allow = function(_req) return true end }
`,
      '20_empty.lua': '-- returning nothing is allowed\nlocal x = 1\n',
      'README.md': 'not a script: ignored',
      '.hidden.lua': 'this is not Lua and is ignored',
    });
    const r = runCli(['check-config', '--scripts-dir', dir]);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /^configuration is valid/);
    assert.match(r.stdout, new RegExp(`^  scripts_dir +${dir.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`, 'm'));
  });

  it('fails when the scripts directory does not exist', () => {
    const dir = path.join(tempDir(), 'missing');
    dirs.push(path.dirname(dir));
    const r = runCli(['check-config', '--scripts-dir', dir]);
    assert.equal(r.status, 1);
    assert.ok(r.stderr.includes(`scripts_dir ${dir}: No such file or directory`), r.stderr);
  });
});

describe('operator scripts on a live server', () => {
  it('keeps serving through a broken script and publishes the fixed one', async () => {
    const dir = scriptsDir({ 'rules.lua': 'return { rules = { { name = "a", when = function() return false end, decision = "deny" } } }\n' });
    const file = path.join(dir, 'rules.lua');
    const server = await startServer({ args: ['--scripts-dir', dir] });
    try {
      const first = await server.waitForLog((e) => e.msg === 'lua generation published');
      assert.equal(first.scripts, 1);
      assert.equal((await server.fetch('/api/v1/version')).status, 200);

      writeFileSync(file, 'local rules = { { name = "a", when = function() return false end, decision = "deny" } }\nlocal f = io.open("/etc/passwd")\nreturn { rules = rules }\n');
      const failed = await server.waitForLog((e) => typeof e.msg === 'string' && e.msg.startsWith('lua reload failed'));
      assert.equal(failed.level, 'error');
      assert.ok(failed.error.includes(`${file}:2: unknown global 'io'`), failed.error);
      for (let i = 0; i < 3; i++) {
        const r = await server.fetch('/api/v1/version');
        assert.equal(r.status, 200);
        assert.match((await r.json()).version, /^\d+\.\d+\.\d+/);
      }

      writeFileSync(file, 'return { rules = { { name = "a", when = function() return false end, decision = "deny" } } }\n');
      const next = await server.waitForLog((e) => e.msg === 'lua generation published' && e.generation > first.generation);
      assert.equal(next.scripts, 1);
      assert.equal((await server.fetch('/api/v1/version')).status, 200);
      assert.equal(server.exited, null);
    } finally {
      await server.stop();
    }
  });
});
