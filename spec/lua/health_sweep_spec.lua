-- SPDX-License-Identifier: Apache-2.0
-- agentlens.health.pool (coroutine tasks over one batched transport) and the concurrent health
-- sweep (agentlens.health.run.sweep) on the configured dialect, with a fake request_many: waves,
-- the concurrency and window limits, the time budget, malformed requests, per-wave writes,
-- lifecycle states, MCP latency counted from the probe's own transfers, and the config-derived
-- defaults of the health settings.
local db = require "agentlens.db"
local json = require "agentlens.json"
local pool = require "agentlens.health.pool"
local run = require "agentlens.health.run"
local catalog = require "agentlens.store.catalog"
local schema = require "agentlens.settings.schema"
local mcp_client = require "agentlens.protocols.mcp_client"

local CARD = json.encode {
  name = "Agent",
  description = "An agent",
  supportedInterfaces = { { url = "https://agent.example/a2a", protocolBinding = "JSONRPC", protocolVersion = "1.0" } },
  version = "1.0.0",
  capabilities = {},
  defaultInputModes = { "text/plain" },
  defaultOutputModes = { "text/plain" },
  skills = { { id = "s", name = "S", description = "d", tags = { "t" } } },
}

-- A fake request_many: answer(req) -> response | {error, code}; records every wave.
local function fake_many(answer)
  local waves = {}
  local function many(reqs, opts)
    waves[#waves + 1] = { size = #reqs, concurrency = opts and opts.concurrency }
    local out = {}
    for i, r in ipairs(reqs) do
      if r.bad then
        error("httpc.request_many: item " .. i .. ": unknown field bad")
      end
      out[i] = answer(r)
    end
    return out
  end
  return many, waves
end

local function ok_body(body, ms)
  return { status = 200, headers = { ["content-type"] = "application/json" }, body = body, duration_ms = ms or 4 }
end

describe("health pool", function()
  it("runs multi-step tasks in waves and returns each task's result", function()
    local many, waves = fake_many(function(r)
      return ok_body(r.url)
    end)
    local tasks, results = {}, {}
    for i = 1, 10 do
      tasks[i] = function(request)
        local a = request { url = "a" .. i }
        local b = request { url = "b" .. i }
        return a.body .. "+" .. b.body
      end
    end
    local stats = pool.run(tasks, { concurrency = 3, window = 4, request_many = many, on_done = function(list)
      for _, d in ipairs(list) do
        results[d.index] = d.result
      end
    end })
    for i = 1, 10 do
      assert.are.equal("a" .. i .. "+b" .. i, results[i])
    end
    assert.are.equal(10, stats.started)
    assert.are.equal(10, stats.finished)
    for _, w in ipairs(waves) do
      assert.is_true(w.size <= 4, "window respected")
      assert.are.equal(3, w.concurrency)
    end
    -- 10 tasks x 2 requests = 20 requests in waves of at most 4: at least 5 waves, and finished
    -- tasks are replaced at once (no half-empty waves before the tail)
    assert.is_true(#waves >= 5 and #waves <= 7, "waves: " .. #waves)
  end)

  it("passes transport failures as nil, message, code and keeps task errors to their task", function()
    local many = fake_many(function(r)
      if r.url == "down" then
        return { error = "connection refused: nope", code = "connection refused" }
      end
      return ok_body("x")
    end)
    local got = {}
    pool.run({
      function(request)
        return { request { url = "down" } }
      end,
      function(request)
        request { url = "up" }
        error("boom")
      end,
      function()
        return "no request at all"
      end,
    }, { request_many = many, on_done = function(list)
      for _, d in ipairs(list) do
        got[d.index] = d
      end
    end })
    assert.are.same({ nil, "connection refused: nope", "connection refused" }, got[1].result)
    assert.matches("boom", got[2].error)
    assert.are.equal("no request at all", got[3].result)
  end)

  it("a malformed request fails only its own task", function()
    local many = fake_many(function()
      return ok_body("fine")
    end)
    local got = {}
    pool.run({
      function(request)
        return (request { url = "x", bad = true }) or "failed"
      end,
      function(request)
        return request({ url = "y" }).body
      end,
    }, { request_many = many, on_done = function(list)
      for _, d in ipairs(list) do
        got[d.index] = d.result
      end
    end })
    assert.are.equal("failed", got[1])
    assert.are.equal("fine", got[2])
  end)

  it("stops starting tasks when should_start says so; started ones finish", function()
    local many = fake_many(function()
      return ok_body("x")
    end)
    local tasks = {}
    for i = 1, 20 do
      tasks[i] = function(request)
        request { url = "u" }
        return i
      end
    end
    local starts = 0
    local stats = pool.run(tasks, { window = 5, request_many = many, should_start = function()
      starts = starts + 1
      return starts <= 7
    end })
    assert.are.equal(7, stats.started)
    assert.are.equal(7, stats.finished)
  end)
end)

describe("MCP client with a batched transport", function()
  it("counts latency and the deadline from its own transfers, not the wait for the batch", function()
    local calls = 0
    local function request(req)
      calls = calls + 1
      local msg = json.decode(req.body)
      if msg.method == "initialize" then
        return { status = 200, duration_ms = 10, headers = { ["content-type"] = "application/json" },
          body = json.encode { jsonrpc = "2.0", id = msg.id, result = { protocolVersion = "2025-06-18",
            capabilities = {}, serverInfo = { name = "s", version = "1" } } } }
      elseif msg.method == "notifications/initialized" then
        return { status = 202, duration_ms = 5, headers = {}, body = "" }
      end
      return { status = 200, duration_ms = 7, headers = { ["content-type"] = "application/json" },
        body = json.encode { jsonrpc = "2.0", id = msg.id, result = {} } }
    end
    local r = mcp_client.ping("http://mcp.example/mcp", { request = request, timeout_ms = 1000 })
    assert.is_true(r.ok, r.detail)
    assert.are.equal(3, calls)
    assert.are.equal(22, r.latency_ms)
  end)

  it("a timed-out transfer spends its whole timeout from the probe's budget", function()
    local seen = {}
    local function request(req)
      seen[#seen + 1] = req.timeout_ms
      return nil, "timeout: no answer", "timeout"
    end
    local r = mcp_client.ping("http://mcp.example/mcp", { request = request, timeout_ms = 800 })
    assert.is_false(r.ok)
    assert.are.equal("timeout", r.reason)
    assert.are.same({ 800 }, seen)
    assert.are.equal(800, r.latency_ms)
  end)
end)

describe("health settings defaults from the configuration", function()
  it("converts milliseconds to whole seconds (rounded up) and clamps to the setting's range", function()
    local interval = schema.BY_KEY["health.check_interval"]
    assert.are.equal(30, schema.config_default(interval, 30000))
    assert.are.equal(8, schema.config_default(interval, 7001))
    assert.are.equal(5, schema.config_default(interval, 1000))
    local latency = schema.BY_KEY["health.degraded_latency"]
    assert.are.equal(1500, schema.config_default(latency, 1500))
    local enabled = schema.BY_KEY["health.check_enabled"]
    assert.is_false(schema.config_default(enabled, false))
    local concurrency = schema.BY_KEY["health.check_concurrency"]
    assert.are.equal(256, schema.config_default(concurrency, 5000))
    assert.are.equal(64, concurrency.builtin_default)
  end)
end)

describe("concurrent health sweep", function()

  local clean = require("catalog_db").clean

  before_each(clean)
  after_each(clean)

  it("probes every entry through batched waves and writes each wave's results", function()
    local ids = {}
    for i = 1, 25 do
      ids[i] = assert(catalog.insert { protocol = "a2a", endpoint = ("http://10.0.0.%d:9000"):format(i),
        display_name = "Agent " .. i, source = "push" })
    end
    local many, waves = fake_many(function(r)
      local n = tonumber(r.url:match("10%.0%.0%.(%d+)"))
      assert.is_false(r.ssrf_guard, "health probes run without the SSRF guard")
      assert.is_true(r.max_bytes <= run.MAX_BYTES)
      if n % 5 == 0 then
        return { error = "connection refused: no", code = "connection refused" }
      elseif n % 7 == 0 then
        return ok_body(CARD, 2500) -- slow
      end
      return ok_body(CARD, 12)
    end)
    local s = run.sweep { request_many = many, concurrency = 3, budget_ms = 60000,
      config = { degraded_latency = 1500, failure_threshold = 1 } }
    assert.are.equal(25, s.probed)
    assert.are.equal(0, s.skipped)
    assert.are.equal(3, s.concurrency)
    assert.is_true(#waves >= 2)
    for _, w in ipairs(waves) do
      assert.are.equal(3, w.concurrency)
    end
    for i, id in ipairs(ids) do
      local e = assert(catalog.get(id))
      local want = (i % 5 == 0) and "offline" or (i % 7 == 0) and "degraded" or "active"
      assert.are.equal(want, e.state, "entry " .. i)
    end
    local n = assert(db.query("SELECT COUNT(*) AS n FROM catalog_probes"))[1].n
    assert.are.equal(25, tonumber(n))
  end)

  it("counts a probe's latency from its own transfers, not the wait for the batch", function()
    local up = assert(catalog.insert { protocol = "a2a", endpoint = "http://10.0.2.1:9000", display_name = "Up",
      source = "push" })
    local down = assert(catalog.insert { protocol = "a2a", endpoint = "http://10.0.2.2:9000", display_name = "Down",
      source = "push" })
    local time = require "agentlens.time"
    local many = fake_many(function(r)
      local t0 = time.monotonic()
      repeat until time.monotonic() - t0 >= 0.03 -- every transfer of the wave takes 30 ms of wall clock
      if r.url:find("10.0.2.2", 1, true) then
        return { error = "timeout: no answer", code = "timeout" }
      end
      return ok_body(CARD, 7)
    end)
    assert.are.equal(2, run.sweep({ request_many = many, budget_ms = 60000 }).probed)
    local function latency(id)
      return tonumber(assert(db.query("SELECT latency_ms FROM catalog_probes WHERE entry_id = ?", id))[1].latency_ms)
    end
    assert.are.equal(7, latency(up))
    assert.are.equal(5000, latency(down), "a timed-out transfer counts its whole timeout")
  end)

  it("leaves deprecated entries out and stops at the time budget", function()
    for i = 1, 6 do
      assert(catalog.insert { protocol = "a2a", endpoint = ("http://10.0.1.%d:9000"):format(i),
        display_name = "B " .. i, source = "push", state = i == 1 and "deprecated" or nil })
    end
    local many = fake_many(function()
      return ok_body(CARD)
    end)
    local s = run.sweep { request_many = many, budget_ms = 60000 }
    assert.are.equal(5, s.probed, "the deprecated entry is not probed")
    local spent = run.sweep { request_many = many, budget_ms = 0 }
    assert.are.equal(0, spent.probed)
    assert.are.equal(5, spent.skipped)
    local calls = 0
    local stopped = run.sweep { request_many = many, budget_ms = 60000, should_stop = function()
      calls = calls + 1
      return calls > 2
    end }
    assert.are.equal(2, stopped.probed)
    assert.are.equal(3, stopped.skipped)
    assert.is_true(stopped.stopped)
  end)
end)
