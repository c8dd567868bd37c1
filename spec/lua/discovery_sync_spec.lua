-- SPDX-License-Identifier: Apache-2.0
-- agentlens.discovery.sync and the discovery part of agentlens.store.catalog (upsert, gone
-- marks, sweep) on the configured dialect, with a fake HTTP transport.
local db = require "agentlens.db"
local json = require "agentlens.json"
local catalog = require "agentlens.store.catalog"
local sync = require "agentlens.discovery.sync"
local rules = require "agentlens.discovery.rules"
local fixtures = require "card_fixtures"

local CARD = fixtures.text("a2a/v1.0-translation-agent.json")
local ENDPOINT = "https://translate.example.com/a2a/v1"

local clean = require("catalog_db").clean

-- A transport that serves `card` at every well-known path of agent.example, or fails.
local served
local function transport(req)
  served.requests[#served.requests + 1] = req
  if served.fail then
    return nil, "connection refused", "connection refused"
  end
  if req.url:match("/%.well%-known/agent%-card%.json$") then
    return { status = 200, headers = { ["content-type"] = "application/json" }, body = served.card, url = req.url,
      duration_ms = 3 }
  end
  return { status = 404, headers = {}, body = "", url = req.url, duration_ms = 1 }
end

local function item(over)
  local it = { key = "config/translate", protocol = "a2a", url = "http://agent.example:9001" }
  for k, v in pairs(over or {}) do
    it[k] = v
  end
  return it
end

local function count(sql, ...)
  return assert(db.query(sql, ...))[1].n
end

describe("discovery sync on " .. db.dialect(), function()
  before_each(function()
    clean()
    served = { card = CARD, requests = {} }
    rules.use({ list = {}, chunks = {} })
  end)
  after_each(function()
    clean()
    rules.use(nil)
  end)

  it("inserts an A2A agent from its card, then updates the same entry", function()
    local e, info = sync.upsert("config", item({ headers = { Authorization = "Bearer t0k" }, team = "payments",
      tags = { "demo" } }), { request = transport })
    assert.truthy(e, info)
    assert.equal("inserted", info.action)
    assert.equal("Translation Agent", e.display_name)
    assert.equal(ENDPOINT, e.endpoint)
    assert.equal("config", e.source)
    assert.equal("registered", e.state)
    assert.equal("payments", e.provider.team)
    assert.truthy(e.has_raw_card)
    assert.equal("http://agent.example:9001/.well-known/agent-card.json", e.metadata.card_url)
    assert.truthy(#e.capabilities > 0)
    local tags = {}
    for _, c in ipairs(e.categories) do
      tags[c] = true
    end
    assert.truthy(tags.demo)
    assert.equal("Bearer t0k", served.requests[1].headers.Authorization)
    assert.equal("1.0", served.requests[1].headers["A2A-Version"])

    served.card = CARD:gsub('"Translation Agent"', '"Translation Agent v2"', 1)
    local v0 = catalog.version()
    local e2, info2 = sync.upsert("config", item(), { request = transport })
    assert.equal("updated", info2.action)
    assert.equal(e.id, e2.id)
    assert.equal("Translation Agent v2", e2.display_name)
    assert.is_true(catalog.version() > v0)
    assert.equal(1, count("SELECT count(*) AS n FROM catalog_entries"))
    local found = assert(catalog.list({ q = "v2" }))
    assert.equal(1, #found)
  end)

  it("keeps state and health columns on update", function()
    local e = assert(sync.upsert("config", item(), { request = transport }))
    assert(db.exec("UPDATE catalog_entries SET state = 'active', health_latency_ms = 42 WHERE id = ?", e.id))
    local e2 = assert(sync.upsert("config", item(), { request = transport }))
    assert.equal("active", e2.state)
    assert.equal(42, e2.health.latency_ms)
  end)

  it("inserts a minimal offline entry when the card cannot be fetched, then fills it in", function()
    served.fail = true
    local e, info = sync.upsert("config", item(), { request = transport })
    assert.truthy(e, info)
    assert.equal("inserted", info.action)
    assert.equal("config/translate", e.display_name)
    assert.equal("offline", e.state)
    assert.equal("connection refused", e.health.last_error)
    assert.equal("http://agent.example:9001", e.endpoint)

    -- a second failure leaves it as it is
    local again, info2 = sync.upsert("config", item(), { request = transport })
    assert.equal("unchanged", info2.action)
    assert.equal(e.id, again.id)

    served.fail = false
    local good, info3 = sync.upsert("config", item(), { request = transport })
    assert.equal("updated", info3.action)
    assert.equal(e.id, good.id)
    assert.equal("Translation Agent", good.display_name)
    assert.equal(ENDPOINT, good.endpoint)
    assert.equal("registered", good.state)
  end)

  it("never overwrites a pushed entry with the same endpoint", function()
    local pushed = assert(catalog.insert({ protocol = "a2a", endpoint = ENDPOINT .. "/", display_name = "Pushed",
      source = "push", description = "mine" }))
    local before = assert(catalog.get(pushed))
    local e, info = sync.upsert("config", item(), { request = transport })
    assert.equal("kept", info.action)
    assert.matches("push", info.note)
    assert.equal(pushed, e.id)
    local after = assert(catalog.get(pushed))
    assert.same(before, after)
    assert.equal(1, count("SELECT count(*) AS n FROM catalog_entries"))
  end)

  it("refuses bad items", function()
    local e, err, code = sync.upsert("push", item())
    assert.is_nil(e)
    assert.equal("invalid", code)
    assert.matches("source", err)
    e, err, code = sync.upsert("config", item({ protocol = "grpc" }))
    assert.is_nil(e)
    assert.equal("invalid", code)
    assert.matches("protocol", err)
    e, err, code = sync.upsert("config", item({ url = "ftp://x" }))
    assert.is_nil(e)
    assert.equal("invalid", code)
    assert.matches("url", err)
  end)

  it("marks a gone item offline and deletes it after the grace", function()
    local e = assert(sync.upsert("config", item(), { request = transport }))
    assert(db.exec("UPDATE catalog_entries SET state = 'active' WHERE id = ?", e.id))
    assert.is_true(sync.gone("config", "config/translate"))
    local g = assert(catalog.get(e.id))
    assert.equal("offline", g.state)
    assert.equal(sync.GONE_REASON, g.health.last_error)
    assert.same({}, assert(sync.sweep_removed({ grace_ms = 3600 * 1000 })))
    assert.truthy(catalog.get(e.id))
    local ids = assert(sync.sweep_removed({ grace_ms = 0, now = require("agentlens.time").now() + 1 }))
    assert.same({ e.id }, ids)
    assert.is_nil(catalog.get(e.id))
  end)

  it("an item that comes back before the grace is no longer gone", function()
    local e = assert(sync.upsert("config", item(), { request = transport }))
    assert(sync.gone("config", "config/translate"))
    local back = assert(sync.upsert("config", item(), { request = transport }))
    assert.equal(e.id, back.id)
    assert.equal("registered", back.state)
    assert.same({}, assert(sync.sweep_removed({ grace_ms = 0, now = require("agentlens.time").now() + 1 })))
  end)

  it("retain marks the keys no longer present as gone, and only those", function()
    assert(sync.upsert("config", item(), { request = transport }))
    served.card = CARD:gsub("translate%.example%.com", "other.example.com")
    assert(sync.upsert("config", item({ key = "config/other", url = "http://other.example" }), { request = transport }))
    assert.equal(1, sync.retain("config", { ["config/other"] = true }))
    local gone = assert(catalog.discovered("config", "config/translate"))
    assert.equal("offline", gone.state)
    assert.truthy(gone.gone_at)
    assert.is_nil(assert(catalog.discovered("config", "config/other")).gone_at)
    assert.equal(0, sync.retain("config", { ["config/other"] = true }))
    -- a probe that finds a gone agent up does not keep it in the catalog as active
    local mark = gone.gone_at
    assert(db.exec("UPDATE catalog_entries SET state = 'active' WHERE id = ?", gone.id))
    assert.equal(1, sync.retain("config", { ["config/other"] = true }))
    local again = assert(catalog.discovered("config", "config/translate"))
    assert.equal("offline", again.state)
    assert.equal(mark, again.gone_at)
  end)

  it("applies filters and transforms, and survives rules that fail", function()
    local chunk = "@spec-rules.lua"
    local calls = 0
    rules.use({ chunks = { [chunk] = true }, list = {
      { file = "broken.lua", filter = function()
        error("boom")
      end, transform = function()
        error("kaput")
      end },
      { file = "team.lua", filter = function(it)
        calls = calls + 1
        return it.labels.skip ~= "yes"
      end, transform = function(entry, it)
        entry.team = it.labels.team
        entry.categories[#entry.categories + 1] = "from-rule"
      end },
      { file = "bad-shape.lua", transform = function()
        return { display_name = 42 }
      end },
    } })
    local e = assert(sync.upsert("config", item({ labels = { team = "search" } }), { request = transport }))
    assert.equal(1, calls)
    assert.equal("search", e.provider.team)
    local has = false
    for _, c in ipairs(e.categories) do
      has = has or c == "from-rule"
    end
    assert.is_true(has)
    assert.equal("Translation Agent", e.display_name)

    local none, err, code = sync.upsert("config", item({ labels = { skip = "yes" } }), { request = transport })
    assert.is_nil(none)
    assert.equal("filtered", code)
    assert.matches("team.lua", err)
    assert.equal("offline", assert(catalog.get(e.id)).state)
  end)

  it("upsert_many fetches every item in one concurrent batch", function()
    local waves = 0
    local function many(reqs)
      waves = waves + 1
      local out = {}
      for i, r in ipairs(reqs) do
        local host = r.url:match("^http://([^/:]+)")
        if host == "down.example" then
          out[i] = { error = "connection refused", code = "connection refused" }
        else
          local resp = assert(transport(r))
          if resp.status == 200 then
            resp.body = CARD:gsub("translate%.example%.com", host)
          end
          out[i] = resp
        end
      end
      return out
    end
    local items = {}
    for i = 1, 5 do
      items[i] = item({ key = "config/a" .. i, url = "http://a" .. i .. ".example" })
    end
    items[6] = item({ key = "config/down", url = "http://down.example" })
    items[7] = item({ key = "", url = "http://bad.example" })
    local results = sync.upsert_many("config", items, { request_many = many })
    assert.equal(1, waves)
    for i = 1, 5 do
      assert.equal("inserted", results[i].info.action)
      assert.equal("https://a" .. i .. ".example/a2a/v1", results[i].entry.endpoint)
    end
    assert.equal("offline", results[6].entry.state)
    assert.equal("invalid", results[7].code)
  end)

  it("builds an MCP entry from a probe result", function()
    local it = sync.normalize("k8s", { key = "k8s/tools/files", protocol = "mcp", url = "http://files.tools:8080/mcp",
      namespace = "tools" })
    local e = sync.entry_of(it, { ok = true, mcp = { server_info = { name = "files", version = "2.1.0" },
      protocol_version = "2025-06-18", transport = "streamable-http", capabilities = {},
      tools = json.array({ { name = "read" } }),
      capabilities_list = { { kind = "mcp.tool", name = "read", description = "", properties = {} } } } })
    assert.equal("files", e.display_name)
    assert.equal("http://files.tools:8080/mcp", e.endpoint)
    assert.equal("2025-06-18", e.spec_version)
    assert.equal("tools", e.metadata["kubernetes.namespace"])
    assert.equal("streamable-http", e.metadata.mcp_transport)
    local id, action = assert(catalog.upsert(e))
    assert.equal("inserted", action)
    local stored = assert(catalog.get(id))
    assert.equal("read", stored.capabilities[1].name)
    assert.equal("k8s", stored.source)
  end)
end)
