// SPDX-License-Identifier: Apache-2.0
// Test support: a writable Lua tree with extra test routes spliced into the route table.
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { copyLuaTree } from './server.mjs';

// Test handlers: echo, error, slow (busy for ?ms= milliseconds), answer (edited by reload tests).
export const TEST_MODULE = `
local json = require "agentlens.json"
local time = require "agentlens.time"
local db = require "agentlens.db"
local http_errors = require "agentlens.lib.http_errors"
local M = {}
local function ensure_table()
  return db.exec("CREATE TABLE IF NOT EXISTS spec_writes (n BIGINT PRIMARY KEY, note TEXT)")
end
function M.write(req)
  local body = assert(req:json())
  local ok, err, code = ensure_table()
  if ok then ok, err, code = db.exec("INSERT INTO spec_writes (n, note) VALUES (?, ?)", body.n, body.note) end
  if not ok then return http_errors.db_failure(err, code, "write") end
  return 201, { n = body.n }
end
function M.count(_req)
  local ok, err, code = ensure_table()
  local rows
  if ok then rows, err, code = db.query("SELECT count(*) AS c, max(n) AS m FROM spec_writes") end
  if not rows then return http_errors.db_failure(err, code) end
  return 200, { count = rows[1].c, max = rows[1].m or json.null }
end
function M.answer(_req) return 200, { answer = 1 } end
function M.fail(_req) error("deliberate failure in a test handler") end
function M.bad_status(_req) return "ok" end
function M.slow(req)
  local ms = tonumber(req.query.ms) or 500
  local deadline = time.monotonic() + ms / 1000
  while time.monotonic() < deadline do end
  return 200, { slept_ms = ms }
end
function M.echo(req)
  local body, err = req:json()
  return 200, {
    method = req.method, path = req.path, params = req.params, query = req.query,
    header = req:header("X-Test") or json.null, cookie = req:cookie("c1") or json.null,
    json = body or json.null, json_error = err or json.null, empty = json.array(),
  }
end
function M.text(_req) return 201, "plain text", { ["X-Extra"] = "yes" } end
function M.hash(_req)
  local crypto = require "agentlens.crypto"
  local h = assert(crypto.password_hash("Correct-horse-1"))
  return 200, { hash_prefix = h:sub(1, 7), ok = crypto.password_verify("Correct-horse-1", h),
    wrong = crypto.password_verify("wrong", h), unknown = crypto.password_verify("x", nil) }
end
-- POST {seconds = n}: shifts the clock the product sees (lockout and session expiry tests).
function M.clock(req)
  local body = assert(req:json())
  require("agentlens.testing").set_clock_offset(tonumber(body.seconds) or 0)
  return 200, { offset = tonumber(body.seconds) or 0 }
end
return M
`;

const TEST_ROUTES = `
    { method = "GET", path = "/api/test/answer", permission = "public", handler = require("agentlens.api.testing").answer },
    { method = "GET", path = "/api/test/fail", permission = "public", handler = require("agentlens.api.testing").fail },
    { method = "GET", path = "/api/test/bad-status", permission = "public", handler = require("agentlens.api.testing").bad_status },
    { method = "GET", path = "/api/test/slow", permission = "public", handler = require("agentlens.api.testing").slow },
    { method = "POST", path = "/api/test/echo/{id}/items/{item}", permission = "public", handler = require("agentlens.api.testing").echo },
    { method = "GET", path = "/api/test/text", permission = "public", handler = require("agentlens.api.testing").text },
    { method = "POST", path = "/api/test/hash", permission = "public", handler = require("agentlens.api.testing").hash },
    { method = "POST", path = "/api/test/writes", permission = "public", handler = require("agentlens.api.testing").write },
    { method = "GET", path = "/api/test/writes", permission = "public", handler = require("agentlens.api.testing").count },
    { method = "POST", path = "/api/test/clock", permission = "public", handler = require("agentlens.api.testing").clock },
`;

export function luaTreeWithTestRoutes() {
  const dir = copyLuaTree();
  const app = path.join(dir, 'agentlens', 'app.lua');
  const src = readFileSync(app, 'utf8');
  if (!src.includes('routes = {')) throw new Error('app.lua has no "routes = {" to extend');
  writeFileSync(app, src.replace('routes = {', `routes = {${TEST_ROUTES}`));
  writeFileSync(path.join(dir, 'agentlens', 'api', 'testing.lua'), TEST_MODULE);
  return { dir, testModule: path.join(dir, 'agentlens', 'api', 'testing.lua'), app };
}

// Background jobs for spec/api/jobs.test.mjs: spec_writer inserts a row into spec_jobs every
// 300 ms (process from $SPEC_JOB_PROCESS, tag from the TAG line that reload tests edit);
// spec_failing raises every round; spec_setting takes its interval from a runtime setting.
export function testJobsModule({ tag = 'v1', failing = true } = {}) {
  return `
local db = require "agentlens.db"
local time = require "agentlens.time"
local TAG = "${tag}"
local PROCESS = os.getenv("SPEC_JOB_PROCESS") or "default"
local function write(ctx)
  assert(db.exec("CREATE TABLE IF NOT EXISTS spec_jobs (process TEXT NOT NULL, tag TEXT NOT NULL, n INTEGER, at DOUBLE PRECISION)"))
  assert(db.exec("INSERT INTO spec_jobs (process, tag, n, at) VALUES (?, ?, ?, ?)", PROCESS, TAG, ctx.round, time.now()))
end
local jobs = {
  { name = "spec_writer", interval_ms = 300, run = write },
  { name = "spec_setting", interval_setting = "health.check_interval", run = function() end },
}
${failing ? 'jobs[#jobs + 1] = { name = "spec_failing", interval_ms = 300, run = function() error("deliberate job failure") end }' : ''}
return jobs
`;
}

// A writable Lua tree whose agentlens/jobs.lua is testJobsModule(opts).
export function luaTreeWithTestJobs(opts) {
  const tree = luaTreeWithTestRoutes();
  const jobs = path.join(tree.dir, 'agentlens', 'jobs.lua');
  writeFileSync(jobs, testJobsModule(opts));
  return { ...tree, jobs };
}
