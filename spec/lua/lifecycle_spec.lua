-- SPDX-License-Identifier: Apache-2.0
-- Health lifecycle (agentlens.health.lifecycle): every transition, thresholds, latency, auth
-- required, the bounded history and its uptime/latency helpers; plus agentlens.health.probe and
-- agentlens.discovery.a2a_fetch against a fake transport (no network, no sleeping, injected
-- times). The real HTTP paths are covered by spec/api/health_probe.test.mjs.
local json = require "agentlens.json"
local lifecycle = require "agentlens.health.lifecycle"
local probe = require "agentlens.health.probe"
local a2a_fetch = require "agentlens.discovery.a2a_fetch"

local CFG = { degraded_latency = 1500, failure_threshold = 3 }
local OK = { ok = true, latency_ms = 120, at = 1000 }
local SLOW = { ok = true, latency_ms = 1501, at = 1000 }
local EDGE = { ok = true, latency_ms = 1500, at = 1000 }
local DOWN = { ok = false, reason = "connection refused", latency_ms = 1, at = 1000 }
local TIMEOUT = { ok = false, reason = "timeout", at = 1000 }
local E503 = { ok = false, reason = "HTTP 503", status = 503, at = 1000 }
local INVALID = { ok = false, reason = "invalid card", status = 200, at = 1000 }
local AUTH = { ok = false, reason = "auth required", status = 401, latency_ms = 8, at = 1000 }
local LIMITED = { ok = false, reason = "rate limited", status = 429, at = 1000 }
local SKIPPED = { ok = false, skipped = true, reason = "probe unavailable", at = 1000 }

local function step(state, n, result, cfg)
  return { lifecycle.next_state(state, n, result, cfg or CFG) }
end

describe("health lifecycle: next_state", function()
  it("never changes a deprecated entry, whatever the result", function()
    for _, r in ipairs { OK, SLOW, DOWN, TIMEOUT, E503, INVALID, AUTH, LIMITED, SKIPPED } do
      assert.are.same({ "deprecated", 7, "deprecated" }, step("deprecated", 7, r))
    end
  end)

  it("a success makes any other state active and resets the counter", function()
    for _, s in ipairs { "registered", "active", "degraded", "offline" } do
      assert.are.same({ "active", 0, "ok" }, step(s, 5, OK))
    end
    assert.are.same({ "active", 0, "ok" }, step(nil, nil, OK)) -- nil state counts as registered
  end)

  it("a success slower than degraded_latency is degraded; equal to it is not", function()
    for _, s in ipairs { "registered", "active", "degraded", "offline" } do
      assert.are.same({ "degraded", 0, "slow" }, step(s, 2, SLOW))
    end
    assert.are.same({ "active", 0, "ok" }, step("degraded", 0, EDGE))
    assert.are.same({ "degraded", 0, "slow" }, step("active", 0, OK, { degraded_latency = 100, failure_threshold = 3 }))
  end)

  it("failures below the threshold keep the state (active stays active) and count", function()
    assert.are.same({ "active", 1, "below threshold" }, step("active", 0, DOWN))
    assert.are.same({ "active", 2, "below threshold" }, step("active", 1, TIMEOUT))
    assert.are.same({ "registered", 1, "below threshold" }, step("registered", 0, E503))
    assert.are.same({ "degraded", 2, "below threshold" }, step("degraded", 1, DOWN))
    assert.are.same({ "active", 1, "below threshold" }, step("active", 0, INVALID))
  end)

  it("reaching the threshold makes active, degraded and registered entries offline", function()
    assert.are.same({ "offline", 3, "threshold reached" }, step("active", 2, DOWN))
    assert.are.same({ "offline", 3, "threshold reached" }, step("degraded", 2, TIMEOUT))
    assert.are.same({ "offline", 3, "threshold reached" }, step("registered", 2, E503))
    assert.are.same({ "offline", 10, "threshold reached" }, step("offline", 9, DOWN))
    local nf = { ok = false, reason = "not an A2A agent", status = 404 }
    assert.are.same({ "offline", 3, "threshold reached" }, step("active", 2, nf))
  end)

  it("a partial failure (answers, but wrongly) past the threshold is degraded, not offline", function()
    assert.are.same({ "degraded", 3, "partial failure" }, step("active", 2, INVALID))
    assert.are.same({ "degraded", 4, "partial failure" }, step("offline", 3, INVALID))
    for _, reason in ipairs { "protocol error", "invalid response", "unsupported protocol version" } do
      assert.are.same({ "degraded", 3, "partial failure" }, step("registered", 2, { ok = false, reason = reason }))
    end
  end)

  it("walks active -> offline after exactly failure_threshold failures, then back on success", function()
    for threshold = 1, 5 do
      local cfg = { degraded_latency = 1500, failure_threshold = threshold }
      local state, n = "active", 0
      for i = 1, threshold do
        state, n = lifecycle.next_state(state, n, DOWN, cfg)
        assert.are.equal(i, n)
        local want = i < threshold and "active" or "offline"
        assert.are.equal(want, state, ("threshold %d, failure %d"):format(threshold, i))
      end
      state, n = lifecycle.next_state(state, n, OK, cfg)
      assert.are.same({ "active", 0 }, { state, n })
    end
  end)

  it("auth required is reachable: never offline, counter reset, registered/offline become active", function()
    assert.are.same({ "active", 0, "auth required" }, step("registered", 0, AUTH))
    assert.are.same({ "active", 0, "auth required" }, step("offline", 6, AUTH))
    assert.are.same({ "active", 0, "auth required" }, step("active", 2, AUTH))
    assert.are.same({ "degraded", 0, "auth required" }, step("degraded", 2, AUTH))
    local forbidden = { ok = false, reason = "forbidden", status = 403 }
    assert.are.same({ "active", 0, "auth required" }, step("offline", 3, forbidden))
    local state, n = "active", 0
    for _ = 1, 20 do
      state, n = lifecycle.next_state(state, n, AUTH, CFG)
    end
    assert.are.same({ "active", 0 }, { state, n })
  end)

  it("rate limited keeps the state and resets the counter; a skipped probe changes nothing", function()
    assert.are.same({ "active", 0, "rate limited" }, step("active", 2, LIMITED))
    assert.are.same({ "offline", 0, "rate limited" }, step("offline", 4, LIMITED))
    assert.are.same({ "active", 2, "skipped" }, step("active", 2, SKIPPED))
    assert.are.same({ "registered", 0, "skipped" }, step("registered", 0, SKIPPED))
  end)

  it("uses the defaults without cfg, and config() reads the settings", function()
    assert.are.same({ "active", 2, "below threshold" }, { lifecycle.next_state("active", 1, DOWN) })
    assert.are.same({ "offline", 3, "threshold reached" }, { lifecycle.next_state("active", 2, DOWN) })
    local cfg = lifecycle.config()
    assert.are.equal("number", type(cfg.degraded_latency))
    assert.are.equal("number", type(cfg.failure_threshold))
  end)
end)

describe("health lifecycle: history", function()
  local function result(i, ok, latency)
    return { ok = ok, reason = (not ok) and "timeout" or nil, latency_ms = latency, at = 1000 + i,
      status = ok and 200 or nil, detail = "not kept" }
  end

  it("keeps compact records and at most max (default 100), dropping the oldest", function()
    local h = {}
    for i = 1, 250 do
      h = lifecycle.record(h, result(i, i % 2 == 0, i))
      assert.is_true(#h <= 100)
    end
    assert.are.equal(100, #h)
    assert.are.equal(1151, h[1].at)
    assert.are.equal(1250, h[100].at)
    assert.is_nil(h[1].detail)
    assert.are.same({ at = 1250, ok = true, latency_ms = 250, status = 200 }, h[100])
    local small = {}
    for i = 1, 7 do
      lifecycle.record(small, result(i, true, 1), 5)
    end
    assert.are.equal(5, #small)
    assert.are.equal(1003, small[1].at)
    assert.are.same({}, lifecycle.record({}, SKIPPED)) -- no probe, no record
    assert.are.equal(1, #lifecycle.record(nil, OK))
  end)

  it("uptime counts ok and reachable outcomes over all or recent records", function()
    assert.is_nil(lifecycle.uptime({}))
    assert.is_nil(lifecycle.uptime(nil))
    local h = {}
    for i = 1, 10 do
      lifecycle.record(h, result(i, i <= 7, 10)) -- 7 ok, 3 timeouts
    end
    assert.are.same({ 0.7, 7, 10 }, { lifecycle.uptime(h) })
    lifecycle.record(h, { ok = false, reason = "auth required", at = 1011 })
    lifecycle.record(h, { ok = false, reason = "rate limited", at = 1012 })
    assert.are.same({ 9 / 12, 9, 12 }, { lifecycle.uptime(h) })
    -- since = 1008: records 8..12 -> 8, 9, 10 time out; 11, 12 reachable
    assert.are.same({ 2 / 5, 2, 5 }, { lifecycle.uptime(h, 1008) })
    assert.is_nil(lifecycle.uptime(h, 5000))
  end)

  it("latency_series lists the ok probes, oldest first", function()
    local h = {}
    lifecycle.record(h, { ok = true, latency_ms = 10, at = 1 })
    lifecycle.record(h, { ok = false, reason = "timeout", latency_ms = 5000, at = 2 })
    lifecycle.record(h, { ok = true, latency_ms = 30, at = 3 })
    lifecycle.record(h, { ok = false, reason = "auth required", latency_ms = 4, at = 4 })
    assert.are.same({ { at = 1, latency_ms = 10 }, { at = 3, latency_ms = 30 } }, lifecycle.latency_series(h))
    assert.are.same({ { at = 3, latency_ms = 30 } }, lifecycle.latency_series(h, 3))
    -- the history survives a JSON round trip (it is stored as JSON)
    assert.are.same(lifecycle.latency_series(h), lifecycle.latency_series(json.decode(json.encode(h))))
  end)
end)

-- ---- a2a_fetch and probe against a fake transport --------------------------------------------

local CARD = {
  name = "fake",
  description = "A fake agent",
  supportedInterfaces = { { url = "https://agent.example/a2a", protocolBinding = "JSONRPC", protocolVersion = "1.0" } },
  version = "1.0.0",
  capabilities = {},
  defaultInputModes = { "text/plain" },
  defaultOutputModes = { "text/plain" },
  skills = { { id = "s", name = "S", description = "d", tags = { "t" } } },
}

-- fake(routes): a request function answering from routes[url] = {status, body, headers} or
-- {error, code}; records the requests it saw.
local function fake(routes)
  local seen = {}
  local function request(req)
    seen[#seen + 1] = req
    local r = routes[req.url]
    if not r then
      return { status = 404, headers = { ["content-type"] = "application/json" }, body = "{}", url = req.url,
        duration_ms = 3 }
    end
    if r.code then
      return nil, r.code .. ": " .. (r.error or "failed"), r.code
    end
    return { status = r.status or 200, headers = r.headers or { ["content-type"] = "application/json" },
      body = r.body or "", url = req.url, duration_ms = r.duration_ms or 12.4 }
  end
  return request, seen
end

describe("a2a_fetch.fetch_card (fake transport)", function()
  local BASE = "https://agent.example"

  it("fetches agent-card.json with A2A-Version, Accept, size cap and timeout", function()
    local body = json.encode(CARD)
    local request, seen = fake { [BASE .. "/.well-known/agent-card.json"] = { body = body } }
    local r = a2a_fetch.fetch_card(BASE .. "/", { request = request, timeout_ms = 1234 })
    assert.is_true(r.ok, r.detail)
    assert.are.equal("fake", r.card.name)
    assert.are.equal(body, r.raw)
    assert.are.equal("application/json", r.content_type)
    assert.are.equal(BASE .. "/.well-known/agent-card.json", r.url)
    assert.are.equal(12, r.latency_ms)
    assert.is_true(r.validation.valid)
    assert.are.equal(1, #seen)
    assert.are.equal("1.0", seen[1].headers["A2A-Version"])
    assert.are.equal("application/json", seen[1].headers.Accept)
    assert.are.equal(1024 * 1024, seen[1].max_bytes)
    assert.are.equal(1234, seen[1].timeout_ms)
    assert.is_true(seen[1].ssrf_guard)
  end)

  it("falls back to agent.json on 404, then to the origin root for a base with a path", function()
    local request, seen = fake { [BASE .. "/.well-known/agent.json"] = { body = json.encode(CARD) } }
    local r = a2a_fetch.fetch_card(BASE .. "/api/a2a/x", { request = request })
    assert.is_true(r.ok, r.detail)
    assert.are.equal(BASE .. "/.well-known/agent.json", r.url)
    assert.are.same({
      BASE .. "/api/a2a/x/.well-known/agent-card.json", BASE .. "/api/a2a/x/.well-known/agent.json",
      BASE .. "/.well-known/agent-card.json", BASE .. "/.well-known/agent.json",
    }, { seen[1].url, seen[2].url, seen[3].url, seen[4].url })
  end)

  it("uses an explicit card URL or card path as the only candidate", function()
    assert.are.same({ BASE .. "/cards/me.json" }, a2a_fetch.candidates(BASE .. "/cards/me.json"))
    assert.are.same({ BASE .. "/custom/card" }, a2a_fetch.candidates(BASE, "/custom/card"))
    assert.are.same({ BASE .. "/svc/custom" }, a2a_fetch.candidates(BASE .. "/svc/", "custom"))
    assert.are.same({ "https://other.example/c.json" }, a2a_fetch.candidates(BASE, "https://other.example/c.json"))
    assert.is_nil(a2a_fetch.candidates("ftp://x/"))
    local r = a2a_fetch.fetch_card("not a url", { request = fake {} })
    assert.are.same({ false, "bad url" }, { r.ok, r.reason })
  end)

  it("maps failures to reasons", function()
    local function reason(route, opts)
      local routes = { [BASE .. "/.well-known/agent-card.json"] = route }
      local r = a2a_fetch.fetch_card(BASE, setmetatable({ request = fake(routes) }, { __index = opts }))
      assert.is_false(r.ok)
      return r
    end
    assert.are.equal("HTTP 503", reason({ status = 503, body = "down" }).reason)
    assert.are.equal(503, reason({ status = 503 }).status)
    assert.are.equal("timeout", reason({ code = "timeout" }).reason)
    assert.are.equal("connection refused", reason({ code = "connection refused" }).reason)
    assert.are.equal("dns", reason({ code = "dns" }).reason)
    assert.are.equal("too large", reason({ code = "too large" }).reason)
    assert.are.equal("refused", reason({ code = "refused" }).reason)
    assert.are.equal("error", reason({ code = "weird" }).reason)
    assert.are.equal("rate limited", reason({ status = 429 }).reason)
    local www = 'Bearer resource_metadata="https://agent.example/prm"'
    local auth = reason({ status = 401, headers = { ["www-authenticate"] = www } })
    assert.are.equal("auth required", auth.reason)
    assert.are.equal("https://agent.example/prm", auth.resource_metadata)
    assert.are.equal("auth required", reason({ status = 403 }).reason)
    local garbage = reason({ body = '{"this is": not json' })
    assert.are.equal("invalid card", garbage.reason)
    assert.matches("not valid JSON", garbage.detail)
    assert.are.equal("invalid card", reason({ body = "[1, 2]" }).reason)
    local html = reason({ body = "<html></html>", headers = { ["content-type"] = "text/html" } })
    assert.are.equal("not an A2A agent", html.reason)
    local invalid = reason({ body = json.encode { name = "x" } })
    assert.are.equal("invalid card", invalid.reason)
    assert.is_false(invalid.validation.valid)
    assert.is_true(#invalid.validation.errors > 0)
    assert.matches("description", invalid.detail)
    local none = a2a_fetch.fetch_card(BASE, { request = fake {} })
    assert.are.same({ false, "not an A2A agent", 404 }, { none.ok, none.reason, none.status })
  end)

  it("sends If-None-Match with an etag and treats 304 as ok", function()
    local request, seen = fake { [BASE .. "/.well-known/agent-card.json"] = { status = 304 } }
    local r = a2a_fetch.fetch_card(BASE, { request = request, etag = '"abc"' })
    assert.are.same({ true, true, 304 }, { r.ok, r.not_modified, r.status })
    assert.are.equal('"abc"', seen[1].headers["If-None-Match"])
  end)
end)

describe("health probe (fake transport)", function()
  local BASE = "https://agent.example"
  local routes = { [BASE .. "/.well-known/agent-card.json"] = { body = json.encode(CARD), duration_ms = 42 } }

  it("probes an A2A entry through its card, with the injected time", function()
    local r = probe.probe({ protocol = "a2a", endpoint = BASE },
      { request = fake(routes), now = 1234.5, timeout_ms = 100 })
    assert.are.same({ ok = true, latency_ms = 42, at = 1234.5, status = 200, protocol = "a2a",
      url = BASE .. "/.well-known/agent-card.json" }, r)
    assert.are.same({ "active", 0, "ok" }, { lifecycle.next_state("registered", 0, r, CFG) })
  end)

  it("uses the entry's card URL or card path when it has one", function()
    local request, seen = fake { [BASE .. "/x/card.json"] = { body = json.encode(CARD) } }
    local entry = { protocol = "a2a", endpoint = BASE .. "/a2a", metadata = { card_url = BASE .. "/x/card.json" } }
    local r = probe.probe(entry, { request = request, now = 1 })
    assert.is_true(r.ok, r.reason)
    assert.are.equal(BASE .. "/x/card.json", seen[1].url)
    request, seen = fake { [BASE .. "/a2a/c"] = { body = json.encode(CARD) } }
    entry = { protocol = "a2a", endpoint = BASE .. "/a2a", metadata = { card_path = "/c" } }
    r = probe.probe(entry, { request = request, now = 1 })
    assert.is_true(r.ok, r.reason)
    assert.are.same({ BASE .. "/a2a/c" }, { seen[1].url })
  end)

  it("reports failures with reason, status and latency", function()
    local request = fake { [BASE .. "/.well-known/agent-card.json"] = { status = 503, duration_ms = 7 } }
    local r = probe.probe({ protocol = "a2a", endpoint = BASE }, { request = request, now = 5 })
    assert.are.same({ false, "HTTP 503", 503, 7, 5 }, { r.ok, r.reason, r.status, r.latency_ms, r.at })
    r = probe.probe({ protocol = "a2a", endpoint = "" }, { now = 5 })
    assert.are.same({ false, "no probeable endpoint" }, { r.ok, r.reason })
    assert.are.equal("number", type(r.latency_ms))
  end)

  it("probes MCP through mcp_client.ping, and skips when no client is available", function()
    local calls = {}
    local client = {
      ping = function(url, opts)
        calls[#calls + 1] = { url, opts.timeout_ms, opts.ssrf_guard }
        return { ok = true, latency_ms = 9.6, status = 200 }
      end,
    }
    probe.set_mcp_client(client)
    local r = probe.probe({ protocol = "mcp", endpoint = "https://mcp.example/mcp" }, { now = 9, timeout_ms = 300 })
    assert.are.same({ ok = true, latency_ms = 10, status = 200, at = 9, protocol = "mcp" }, r)
    assert.are.same({ { "https://mcp.example/mcp", 300, true } }, calls) -- the guard is on by default
    probe.probe({ protocol = "mcp", endpoint = "https://mcp.example/mcp" }, { now = 9, ssrf_guard = false })
    assert.is_false(calls[2][3])

    probe.set_mcp_client { ping = function()
      return { ok = false, transport = "sse", reason = "legacy transport not supported for listing", latency_ms = 5 }
    end }
    r = probe.probe({ protocol = "mcp", endpoint = "https://mcp.example/sse" }, { now = 9 })
    assert.are.same({ true, nil, 5 }, { r.ok, r.reason, r.latency_ms })

    probe.set_mcp_client { ping = function() return { ok = false, reason = "not an MCP server", status = 200 } end }
    r = probe.probe({ protocol = "mcp", endpoint = "https://mcp.example/mcp" }, { now = 9 })
    assert.are.same({ false, "not an MCP server" }, { r.ok, r.reason })

    probe.set_mcp_client { probe = function() error("boom") end }
    r = probe.probe({ protocol = "mcp", endpoint = "https://mcp.example/mcp" }, { now = 9 })
    assert.are.equal("probe error", r.reason)
    assert.matches("boom", r.detail)

    probe.set_mcp_client(false)
    r = probe.probe({ protocol = "mcp", endpoint = "https://mcp.example/mcp" }, { now = 9 })
    assert.are.same({ false, true, "probe unavailable" }, { r.ok, r.skipped, r.reason })
    assert.are.same({ "active", 1, "skipped" }, { lifecycle.next_state("active", 1, r, CFG) })
    probe.set_mcp_client(nil)

    r = probe.probe({ protocol = "smtp", endpoint = "x" }, { now = 9 })
    assert.is_true(r.skipped)
  end)
end)
