-- SPDX-License-Identifier: Apache-2.0
-- agentlens.catalog.cache on the configured dialect: the two catalog versions (entries, live),
-- which layer survives which write, and that every answer carries the state and health written
-- last (the live columns are read fresh whenever a body is rebuilt).
local db = require "agentlens.db"
local json = require "agentlens.json"
local catalog = require "agentlens.store.catalog"
local health = require "agentlens.store.health"
local cache = require "agentlens.catalog.cache"

local clean = require("catalog_db").clean

local n = 0
local function add(name, over)
  n = n + 1
  local e = { protocol = "a2a", endpoint = "https://cache" .. n .. ".example.com/a2a", display_name = name,
    description = "caching test agent", source = "push",
    capabilities = { { kind = "a2a.skill", name = "Skill " .. n, description = "does things" } } }
  for k, v in pairs(over or {}) do
    e[k] = v
  end
  return assert(catalog.insert(e))
end

-- list(query, f) -> decoded body, total, raw body
local function list(query, f)
  local key = cache.key({ path = "/api/v1/catalog", query = query })
  local status, body, headers = cache.list(key, f)
  assert.equal(200, status, tostring(body))
  assert.equal("application/json", headers["Content-Type"])
  return json.decode(body), tonumber(headers["X-Total-Count"]), body
end

local function by_id(items)
  local out = {}
  for _, it in ipairs(items) do
    out[it.id] = it
  end
  return out
end

local function stats()
  local s = {}
  for k, v in pairs(cache.stats) do
    s[k] = v
  end
  return s
end

local function delta(before, key)
  return cache.stats[key] - before[key]
end

describe("agentlens.catalog.cache on " .. db.dialect(), function()
  before_each(clean)
  after_each(clean)

  it("keeps two versions: entry writes bump the entries' one, state and health writes the live one", function()
    local e0, l0 = catalog.versions()
    assert.is_number(e0)
    assert.is_number(l0)
    local id = add("Versioned")
    local e1, l1 = catalog.versions()
    assert.is_true(e1 > e0)
    assert.equal(l0, l1)
    assert(catalog.set_state(id, "deprecated", { manual = true }))
    local e2, l2 = catalog.versions()
    assert.equal(e1, e2)
    assert.is_true(l2 > l1)
    assert(health.record(id, { ok = false, reason = "connection refused" }, nil, 1))
    local e3, l3 = catalog.versions()
    assert.equal(e2, e3)
    assert.is_true(l3 > l2)
    assert.equal(e3 + l3, catalog.version())
    assert.is_true(catalog.delete(id))
    assert.is_true((catalog.versions()) > e3)
  end)

  it("says which orders depend on state or health", function()
    assert.is_false(catalog.order_is_live({ q = "x" }))
    assert.is_false(catalog.order_is_live({ sort = "name" }))
    assert.is_false(catalog.order_is_live({ sort = "-created_at", protocol = "a2a" }))
    assert.is_true(catalog.order_is_live({})) -- default sort: last success
    assert.is_true(catalog.order_is_live({ sort = "updated_at" }))
    assert.is_true(catalog.order_is_live({ q = "x", states = { "active" } }))
  end)

  it("answers from the body cache until a write; the answer equals an uncached list", function()
    local a = add("Cached Alpha")
    add("Cached Beta")
    local items, total, raw = list({ q = "cached" }, { q = "cached" })
    assert.equal(2, total)
    assert.equal(2, #items)
    local direct = assert(catalog.list({ q = "cached" }))
    assert.same(json.decode(json.encode(require("agentlens.catalog.view").list(direct))), items)
    local s = stats()
    local _, _, again = list({ q = "cached" }, { q = "cached" })
    assert.equal(raw, again)
    assert.equal(1, delta(s, "body_hits"))
    assert.equal(0, delta(s, "lasting_reads"))
    -- an entry write: everything is rebuilt
    assert(catalog.delete(a))
    items, total = list({ q = "cached" }, { q = "cached" })
    assert.equal(1, total)
    assert.equal("Cached Beta", items[1].display_name)
  end)

  it("a state change is in the next answer; a search keeps its order and the entries' lasting parts", function()
    local ids = { add("Sweep One"), add("Sweep Two"), add("Sweep Three") }
    local items = list({ q = "sweep" }, { q = "sweep" })
    for _, it in ipairs(items) do
      assert.equal("registered", it.status)
    end
    assert(catalog.set_state(ids[2], "deprecated", { manual = true }))
    local s = stats()
    items = list({ q = "sweep" }, { q = "sweep" })
    assert.equal(0, delta(s, "body_hits"))
    assert.equal(1, delta(s, "order_hits"))
    assert.equal(0, delta(s, "lasting_reads"))
    local got = by_id(items)
    assert.equal("deprecated", got[ids[2]].status)
    assert.equal("deprecated", got[ids[2]].health.state)
    assert.equal("registered", got[ids[1]].status)
    assert.equal(3, #items)
    assert.equal("Skill " .. (n - 1), got[ids[2]].capabilities[1].name)
    -- a probe result (health columns only) too
    assert(health.record(ids[1], { ok = true, latency_ms = 42, status = 200 }, "active", 0))
    s = stats()
    got = by_id((list({ q = "sweep" }, { q = "sweep" })))
    assert.equal(1, delta(s, "order_hits"))
    assert.equal(0, delta(s, "lasting_reads"))
    assert.equal("active", got[ids[1]].status)
    assert.equal(42, got[ids[1]].health.latencyMs)
    assert.is_string(got[ids[1]].health.lastSuccessAt)
    assert.equal(got[ids[1]].health.lastProbedAt, got[ids[1]].health.lastSuccessAt)
  end)

  it("an order that depends on state or health is rebuilt after a state or health write", function()
    local a = add("Filtered A")
    add("Filtered B")
    local f = { q = "filtered", states = { "registered" } }
    local query = { q = "filtered", state = "registered" }
    local _, total = list(query, f)
    assert.equal(2, total)
    assert(catalog.set_state(a, "active"))
    local s = stats()
    local items
    items, total = list(query, f)
    assert.equal(0, delta(s, "order_hits"))
    assert.equal(1, total)
    assert.equal("Filtered B", items[1].display_name)
    -- the default sort (last success first) follows a successful probe; its total (no state
    -- filter) is kept
    local b = add("Filtered C")
    list({}, {})
    assert(health.record(b, { ok = true, latency_ms = 5, status = 200 }, "active", 0))
    s = stats()
    items, total = list({}, {})
    assert.equal(b, items[1].id)
    assert.equal(3, total)
    assert.equal(0, delta(s, "order_hits"))
    assert.equal(1, delta(s, "total_hits"))
  end)

  it("details follow every write", function()
    local id = add("Detail")
    local key = cache.key({ path = "/api/v1/catalog/" .. id, query = {} })
    assert.is_nil(cache.get(key))
    cache.put(key, cache.version(), 200, { status = "registered" })
    local s, body = cache.get(key)
    assert.equal(200, s)
    assert.equal('{"status":"registered"}', body)
    assert(catalog.set_state(id, "deprecated", { manual = true }))
    assert.is_nil(cache.get(key))
    cache.put(key, cache.version(), 200, { status = "deprecated" })
    assert.equal(200, (cache.get(key)))
    assert(health.record(id, { ok = false, reason = "timeout" }, nil, 1))
    assert.is_nil(cache.get(key))
  end)

  it("leaves out an entry deleted between the order and the page", function()
    local a = add("Gone Soon")
    add("Stays Here")
    local f = { sort = "name" }
    local _, total = list({ sort = "displayName_asc" }, f)
    assert.equal(2, total)
    -- delete behind the versions' back: the page is read by id and skips the missing row
    assert(db.exec("DELETE FROM catalog_entries WHERE id = ?", a))
    assert(catalog.set_state(assert(catalog.list({}))[1].id, "active")) -- live change: body rebuilt
    local items = list({ sort = "displayName_asc" }, f)
    assert.equal(1, #items)
    assert.equal("Stays Here", items[1].display_name)
  end)
end)
