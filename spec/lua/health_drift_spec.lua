-- SPDX-License-Identifier: Apache-2.0
-- agentlens.health.drift on the configured dialect (migration 0008): tool hashes in every input
-- form, added / removed / changed tools with the changed fields, the snapshot that records one
-- change once, the first listing of an entry without tools, observe() against the stored MCP
-- capabilities, and the bounded history.
local db = require "agentlens.db"
local drift = require "agentlens.health.drift"
local catalog = require "agentlens.store.catalog"
local mcp = require "agentlens.protocols.mcp"

local clean = require("catalog_db").clean

local n = 0
local function add_entry(tools)
  n = n + 1
  local caps = {}
  for i, t in ipairs(tools or {}) do
    caps[i] = mcp.tool_capability(t)
  end
  return assert(catalog.insert { protocol = "mcp", endpoint = ("http://10.1.0.%d:3000/mcp"):format(n),
    display_name = "MCP " .. n, source = "push", capabilities = caps })
end

local ECHO = { name = "echo", description = "Echoes text", inputSchema = { type = "object",
  properties = { text = { type = "string" } } } }
local ADD = { name = "add", description = "Adds numbers", inputSchema = { type = "object" } }
local TIME = { name = "time", description = "Current time" }

local function names(list)
  local out = {}
  for i, x in ipairs(list) do
    out[i] = x.name
  end
  return out
end

describe("tool drift", function()
  before_each(clean)
  after_each(clean)

  it("hashes a raw MCP tool and its stored capability alike; any described field changes it", function()
    local k1, n1, h1 = drift.hash(ECHO)
    local k2, n2, h2 = drift.hash(mcp.tool_capability(ECHO))
    assert.are.same({ "mcp.tool", "echo" }, { k1, n1 })
    assert.are.same({ k1, n1, h1 }, { k2, n2, h2 })
    assert.matches("^%x+$", h1)
    assert.are.equal(16, #h1)
    local _, _, h3 = drift.hash { name = "echo", description = "Echoes text!", inputSchema = ECHO.inputSchema }
    assert.are_not.equal(h1, h3)
    -- an empty input schema is the same as none
    local _, _, ha = drift.hash { name = "t", inputSchema = {} }
    local _, _, hb = drift.hash { name = "t" }
    assert.are.equal(ha, hb)
    assert.is_nil(drift.hash { kind = "mcp.resource", name = "r" })
    assert.is_nil(drift.hash { description = "no name" })
  end)

  it("records added, removed and changed tools once, with the changed fields", function()
    local id = add_entry { ECHO, ADD }
    local old = assert(catalog.get(id)).capabilities
    local new = { { name = "echo", description = "Echoes text", inputSchema = { type = "object",
      properties = { text = { type = "string" }, loud = { type = "boolean" } } } }, TIME }
    local r = assert(drift.record(id, old, new, { source = "probe" }))
    assert.are.same({ "time" }, names(r.added))
    assert.are.same({ "add" }, names(r.removed))
    assert.are.same({ "echo" }, names(r.changed))
    assert.are.same({ "input_schema" }, r.changed[1].fields)
    assert.are_not.equal(r.changed[1].before, r.changed[1].after)
    assert.are.equal(2, r.tools_before)
    assert.are.equal(2, r.tools_after)
    assert.are.equal("probe", r.source)

    -- the same change seen again (e.g. by discovery sync with the stale catalog as "old"): not
    -- recorded twice
    assert.is_false(drift.record(id, old, new))
    local list = assert(drift.list(id))
    assert.are.equal(1, #list)
    assert.are.same({ "time" }, names(list[1].added))
    assert.are.same({ "input_schema" }, list[1].changed[1].fields)
    assert.matches("^%d%d%d%d%-%d%d%-%d%dT", list[1].at)

    -- a later change against the snapshot
    local r2 = assert(drift.record(id, old, { TIME }))
    assert.are.same({ "echo" }, names(r2.removed))
    assert.are.equal(1, r2.tools_after)
    assert.are.equal(2, #assert(drift.list(id)))
  end)

  it("the first listing of an entry registered without tools is a baseline, not drift", function()
    local id = add_entry {}
    assert.is_false(drift.observe(id, { ECHO }))
    assert.are.equal(0, #assert(drift.list(id)))
    local r = assert(drift.observe(id, { ECHO, ADD }))
    assert.are.same({ "add" }, names(r.added))
  end)

  it("observe compares a listing with the stored MCP tools", function()
    local id = add_entry { ECHO }
    assert.is_false(drift.observe(id, { ECHO }))
    local r = assert(drift.observe(id, { { name = "echo", description = "Now different" } }))
    assert.are.same({ "echo" }, names(r.changed))
    table.sort(r.changed[1].fields)
    assert.are.same({ "description", "input_schema" }, r.changed[1].fields)
  end)

  it("keeps the newest HISTORY_MAX records; records go with their entry", function()
    local saved = drift.HISTORY_MAX
    drift.HISTORY_MAX = 3
    local ok, err = pcall(function()
      local id = add_entry { ECHO }
      for i = 1, 5 do
        local rec, rerr = drift.record(id, { ECHO }, { ECHO, { name = "t" .. i } })
        assert(rec, rerr)
      end
      local list = assert(drift.list(id))
      assert.are.equal(3, #list)
      assert.are.same({ "t5" }, names(list[1].added))
      assert(catalog.delete(id))
      local left = assert(db.query("SELECT COUNT(*) AS n FROM catalog_tool_drift"))[1].n
      assert.are.equal(0, tonumber(left))
    end)
    drift.HISTORY_MAX = saved
    assert(ok, err)
  end)

  it("refuses a missing entry id", function()
    local r, err, code = drift.record(nil, {}, {})
    assert.is_nil(r)
    assert.matches("entry_id", err)
    assert.are.equal("invalid", code)
  end)
end)
