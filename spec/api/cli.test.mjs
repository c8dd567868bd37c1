// SPDX-License-Identifier: Apache-2.0
// The command line: version, help, config-reference, check-config (sources and precedence,
// invalid values), serve start-up failures, unknown commands and `run`.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { BIN, ROOT, runCli, tempDir } from '../support/server.mjs';

const dirs = [];
after(() => {
  for (const d of dirs) {
    try { chmodSync(d, 0o755); } catch { /* already gone */ }
    rmSync(d, { recursive: true, force: true });
  }
});

function scratch() {
  const dir = tempDir('agentlens-cli-');
  dirs.push(dir);
  return dir;
}

function writeFile(dir, name, text) {
  const file = path.join(dir, name);
  writeFileSync(file, text);
  return file;
}

// The "  key   value" lines check-config prints, as {key: value}.
function effectiveValues(stdout) {
  const values = {};
  for (const m of stdout.matchAll(/^ {2}(\S+) +(.*)$/gm)) values[m[1]] = m[2];
  return values;
}

// Options as the reference table lists them: [{key, env, flag}].
function referenceOptions() {
  const md = readFileSync(path.join(ROOT, 'docs/configuration.md'), 'utf8');
  const rows = [...md.matchAll(/^\| `([^`]+)` \| `(AGENTLENS_[A-Z0-9_]+)` \| `--([a-z0-9-]+)`/gm)];
  return rows.map((m) => ({ key: m[1], env: m[2], flag: m[3] }));
}

const isRoot = process.getuid?.() === 0;

function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

function portIsFree(port) {
  return new Promise((resolve) => {
    const sock = net.connect(port, '127.0.0.1');
    sock.on('connect', () => { sock.destroy(); resolve(false); });
    sock.on('error', () => resolve(true));
  });
}

describe('agentlens version', () => {
  it('prints the version', () => {
    const r = runCli(['version']);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /^agentlens \d+\.\d+\.\d+\S*\n$/);
    const flag = runCli(['--version']);
    assert.equal(flag.status, 0, flag.stderr);
    assert.equal(flag.stdout, r.stdout);
  });
});

describe('agentlens --help', () => {
  it('lists every option flag and environment variable', () => {
    const r = runCli(['--help']);
    assert.equal(r.status, 0, r.stderr);
    const help = r.stdout;
    for (const text of ['--port INT', 'AGENTLENS_HTTP_WORKERS', '--scripts-dir PATH', 'AGENTLENS_SCRIPTS_DIR',
      '--config FILE', '--no-lua-watch', 'check-config', 'config-reference']) {
      assert.ok(help.includes(text), `--help mentions ${text}`);
    }
    const options = referenceOptions();
    assert.ok(options.length >= 10, `parsed ${options.length} options from docs/configuration.md`);
    for (const { key, env, flag } of options) {
      assert.match(help, new RegExp(`^ {2}--${flag}[ [\\n]`, 'm'), `--help lists --${flag} (${key})`);
      assert.ok(help.includes(`      ${env},`), `--help lists ${env} (${key})`);
    }
  });

  it('is the same text for -h, help and after a command', () => {
    const help = runCli(['--help']).stdout;
    for (const args of [['-h'], ['help'], ['serve', '--help'], ['check-config', '--port', '1', '--help']]) {
      const r = runCli(args);
      assert.equal(r.status, 0, args.join(' '));
      assert.equal(r.stdout, help, args.join(' '));
    }
  });
});

describe('agentlens config-reference', () => {
  it('prints docs/configuration.md byte for byte', () => {
    const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('AGENTLENS_')));
    const r = spawnSync(BIN, ['config-reference'], { env, timeout: 20000 });
    assert.equal(r.status, 0, String(r.stderr));
    const doc = readFileSync(path.join(ROOT, 'docs/configuration.md'));
    if (!r.stdout.equals(doc)) {
      assert.equal(r.stdout.toString('utf8'), doc.toString('utf8'),
        'docs/configuration.md is stale: regenerate it with `agentlens config-reference > docs/configuration.md`');
      assert.fail('same text, different bytes');
    }
  });
});

describe('agentlens check-config', () => {
  it('accepts a valid YAML file and prints the effective values', () => {
    const dir = scratch();
    const file = writeFile(dir, 'agentlens.yaml', [
      '# test configuration',
      'port: 9100',
      'bind: 127.0.0.1',
      'log_level: warn',
      'lua:',
      '  watch: false',
      'http:',
      '  workers: 3',
      '  max_body_size: 2MiB',
      '  idle_timeout: 2m',
      '',
    ].join('\n'));
    const r = runCli(['check-config', '--config', file]);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout.split('\n')[0], `configuration is valid: ${file}`);
    const v = effectiveValues(r.stdout);
    assert.equal(v.port, '9100');
    assert.equal(v.bind, '127.0.0.1');
    assert.equal(v.log_level, 'warn');
    assert.equal(v['lua.watch'], 'false');
    assert.equal(v['http.workers'], '3');
    assert.equal(v['http.max_body_size'], '2MiB');
    assert.equal(v['http.idle_timeout'], '2m');
    assert.equal(v['http.max_connections'], '1024', 'defaults fill the rest');
    for (const { key } of referenceOptions()) assert.ok(key in v, `check-config prints ${key}`);
  });

  it('prints the defaults without a file', () => {
    const r = runCli(['check-config']);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout.split('\n')[0], 'configuration is valid (defaults and environment)');
    const v = effectiveValues(r.stdout);
    assert.equal(v.port, '8080');
    assert.equal(v['http.workers'], '0');
    assert.equal(v.log_level, 'info');
  });

  it('applies YAML < environment < flags', () => {
    const dir = scratch();
    const file = writeFile(dir, 'agentlens.yaml', 'port: 9100\nhttp:\n  workers: 3\nlog_level: warn\n');
    const yamlOnly = effectiveValues(runCli(['check-config', '--config', file]).stdout);
    assert.equal(yamlOnly.port, '9100');

    const env = { AGENTLENS_PORT: '9200', AGENTLENS_HTTP_WORKERS: '4' };
    const r = runCli(['check-config', '--config', file], { env });
    assert.equal(r.status, 0, r.stderr);
    const withEnv = effectiveValues(r.stdout);
    assert.equal(withEnv.port, '9200');
    assert.equal(withEnv['http.workers'], '4');
    assert.equal(withEnv.log_level, 'warn', 'YAML still applies where the environment is silent');

    const f = runCli(['check-config', '--config', file, '--port', '9300', '--http-workers=5'], { env });
    assert.equal(f.status, 0, f.stderr);
    const withFlags = effectiveValues(f.stdout);
    assert.equal(withFlags.port, '9300');
    assert.equal(withFlags['http.workers'], '5');
    assert.equal(withFlags.log_level, 'warn');

    // The file can also come from AGENTLENS_CONFIG and --config=FILE.
    const viaEnv = runCli(['check-config'], { env: { AGENTLENS_CONFIG: file } });
    assert.equal(viaEnv.status, 0, viaEnv.stderr);
    assert.equal(effectiveValues(viaEnv.stdout).port, '9100');
    const viaEq = runCli(['check-config', `--config=${file}`]);
    assert.equal(effectiveValues(viaEq.stdout).port, '9100');
  });

  // Exit 2 and a message with the key, the value, where it came from and what is accepted.
  function assertConfigError(r, parts) {
    assert.equal(r.status, 2, `exit status (stderr: ${r.stderr})`);
    assert.equal(r.stdout, '');
    assert.ok(r.stderr.startsWith('agentlens: configuration error: '), r.stderr);
    for (const p of parts) assert.ok(r.stderr.includes(p), `stderr mentions ${p}:\n${r.stderr}`);
  }

  it('refuses an invalid environment value', () => {
    const r = runCli(['check-config'], { env: { AGENTLENS_LOG_LEVEL: 'verbose' } });
    assertConfigError(r, ['log_level', '"verbose"', 'AGENTLENS_LOG_LEVEL', 'one of debug, info, warn, error']);
  });

  it('refuses an invalid YAML value, naming the file and line', () => {
    const dir = scratch();
    const file = writeFile(dir, 'agentlens.yaml', 'port: 9100\nhttp: {workers: -3}\n');
    const r = runCli(['check-config', '--config', file]);
    assertConfigError(r, ['http.workers', '"-3"', `${file} line 2`, 'an integer between 0 and 256']);
  });

  it('refuses an invalid flag value', () => {
    const r = runCli(['check-config', '--http-max-body-size', '12XB']);
    assertConfigError(r, ['http.max_body_size', '"12XB"', '--http-max-body-size', 'a size between 1KiB and 1GiB']);
  });

  it('refuses an unknown YAML key, naming the key and line', () => {
    const dir = scratch();
    const file = writeFile(dir, 'agentlens.yaml', 'port: 9100\nhtp: {workers: 2}\n');
    const r = runCli(['check-config', '--config', file]);
    assertConfigError(r, [`unknown key "htp" in ${file} line 2`]);
  });

  it('refuses an unknown flag and a missing config file', () => {
    assertConfigError(runCli(['check-config', '--prot', '1']), ['unknown flag "--prot"']);
    const missing = path.join(scratch(), 'nope.yaml');
    assertConfigError(runCli(['check-config', '--config', missing]), [`cannot read config file "${missing}"`]);
  });
});

describe('agentlens serve', () => {
  it('exits 2 on an invalid configuration without listening or creating the data dir', async () => {
    const port = await freePort();
    const data = path.join(scratch(), 'data');
    const yaml = writeFile(scratch(), 'bad.yaml', 'http:\n  workers: many\n');
    for (const extra of [['--http-workers', '-1'], ['--config', yaml], ['--log-level', 'loud']]) {
      const r = runCli(['serve', '--port', String(port), '--bind', '127.0.0.1', '--data-dir', data, ...extra],
        { timeout: 10000 });
      assert.equal(r.status, 2, `${extra.join(' ')}: exit status (signal ${r.signal}, stderr ${r.stderr})`);
      assert.match(r.stderr, /^agentlens: configuration error: /);
      assert.ok(!r.stderr.includes('listening'), r.stderr);
      assert.ok(!existsSync(data), 'the data dir was not created');
    }
    assert.ok(await portIsFree(port), 'nothing listens on the port');
  });

  function assertDataDirRefused(data, detail, named = data) {
    const r = runCli(['serve', '--port', '0', '--bind', '127.0.0.1', '--data-dir', data, '--log-format', 'text'],
      { timeout: 10000 });
    assert.equal(r.status, 1, `exit status (signal ${r.signal}, stderr ${r.stderr})`);
    assert.ok(r.stderr.includes('data_dir'), r.stderr);
    assert.ok(r.stderr.includes(named), r.stderr);
    assert.ok(r.stderr.includes(detail), r.stderr);
    assert.ok(!r.stderr.includes('listening'), r.stderr);
  }

  it('exits 1 naming data_dir when the data dir cannot be created (under a regular file)', () => {
    // Fails for root too, unlike permission bits.
    const file = writeFile(scratch(), 'somefile', 'not a directory');
    assertDataDirRefused(path.join(file, 'data'), 'Not a directory');
    assertDataDirRefused(path.join(file, 'a', 'b'), 'Not a directory', path.join(file, 'a'));
  });

  it('exits 1 naming data_dir under a read-only directory', (t) => {
    if (isRoot) {
      t.skip('permission bits do not stop root');
      return;
    }
    const ro = path.join(scratch(), 'ro');
    mkdirSync(ro);
    chmodSync(ro, 0o555);
    assertDataDirRefused(path.join(ro, 'data'), 'Permission denied');
    assertDataDirRefused(ro, 'not writable');
  });

  it('exits 1 for an empty data_dir', () => {
    const r = runCli(['serve', '--port', '0', '--bind', '127.0.0.1', '--data-dir', ''], { timeout: 10000 });
    assert.equal(r.status, 1, r.stderr);
    assert.ok(r.stderr.includes('data_dir'), r.stderr);
  });
});

describe('commands', () => {
  it('exits 2 on an unknown command', () => {
    const r = runCli(['frobnicate', '--port', '1']);
    assert.equal(r.status, 2);
    assert.equal(r.stdout, '');
    assert.ok(r.stderr.includes('unknown command "frobnicate"'), r.stderr);
  });

  it('run executes a Lua script with the agentlens namespaces', () => {
    const dir = scratch();
    const script = writeFile(dir, 'encode.lua', 'print(require("agentlens.json").encode({a = {}}))\n');
    const r = runCli(['run', script]);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, '{"a":{}}\n');
  });

  it('run passes the arguments to the script', () => {
    const dir = scratch();
    const script = writeFile(dir, 'args.lua', 'print(select("#", ...), table.concat({...}, ","), arg[0], arg[2])\n');
    const r = runCli(['run', script, 'one', '--two']);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, `2\tone,--two\t${script}\t--two\n`);
  });

  it('run exits 1 with the error of a failing script', () => {
    const dir = scratch();
    const script = writeFile(dir, 'fail.lua', 'local x = 1\nerror("kaboom")\n');
    const r = runCli(['run', script]);
    assert.equal(r.status, 1);
    assert.ok(r.stderr.includes(`agentlens run: ${script}:2: kaboom`), r.stderr);
    const syntax = runCli(['run', writeFile(dir, 'syntax.lua', 'local = 1\n')]);
    assert.equal(syntax.status, 1);
    assert.ok(syntax.stderr.includes('syntax.lua:1:'), syntax.stderr);
    const missing = runCli(['run', path.join(dir, 'missing.lua')]);
    assert.equal(missing.status, 1);
    assert.ok(missing.stderr.includes('missing.lua'), missing.stderr);
  });

  it('run without a script is a usage error', () => {
    const r = runCli(['run']);
    assert.equal(r.status, 2);
    assert.ok(r.stderr.includes('run: missing script'), r.stderr);
  });
});
