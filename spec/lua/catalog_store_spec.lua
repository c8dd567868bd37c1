-- SPDX-License-Identifier: Apache-2.0
-- agentlens.store.catalog on the configured dialect (ctest runs this file on SQLite and on
-- PostgreSQL); the tables come from migration 0003.
local db = require "agentlens.db"
local json = require "agentlens.json"
local catalog = require "agentlens.store.catalog"

local pg = db.dialect() == "postgres"

local clean = require("catalog_db").clean

local function count(sql, ...)
  return assert(db.query(sql, ...))[1].n
end

local n = 0
local function entry(over)
  n = n + 1
  local e = { protocol = "a2a", endpoint = "https://agent" .. n .. ".example.com/a2a",
    display_name = "Agent " .. n, source = "push" }
  for k, v in pairs(over or {}) do
    e[k] = v
  end
  return e
end

local function add(over)
  return assert(catalog.insert(entry(over)))
end

local function names(items)
  local out = {}
  for i, it in ipairs(items) do
    out[i] = it.display_name
  end
  return out
end

describe("agentlens.store.catalog on " .. db.dialect(), function()
  before_each(clean)
  after_each(clean)

  it("round-trips an entry with capabilities, provider, metadata and a raw card", function()
    local v0 = catalog.version()
    local id = assert(catalog.insert({
      protocol = "a2a", endpoint = "https://Translate.Example.com:443/a2a/", display_name = "Translation Agent",
      description = "Multi-language translation", version = "3.0.0", spec_version = "1.0",
      provider = { organization = "LangTech", team = "Platform Team", url = "https://langtech.example.com" },
      categories = { "nlp", "text" }, metadata = { ["kubernetes.namespace"] = "agents" }, source = "k8s",
      capabilities = {
        { kind = "a2a.skill", name = "Translate Text", description = "Translates text",
          properties = { tags = { "translation" }, inputModes = { "text" } } },
        { kind = "a2a.security_scheme", properties = { scheme_name = "bearer", type = "http" } },
      },
      raw_card = { data = '{"name":"Translation Agent"}', content_type = "application/json" },
    }))
    assert.is_true(catalog.version() > v0)
    assert.matches("^%x+%-%x+%-%x+%-%x+%-%x+$", id)
    local e = assert(catalog.get(id))
    assert.equal(id, e.id)
    assert.equal("a2a", e.protocol)
    assert.equal("https://Translate.Example.com:443/a2a/", e.endpoint)
    assert.equal("Translation Agent", e.display_name)
    assert.equal("Multi-language translation", e.description)
    assert.equal("3.0.0", e.version)
    assert.equal("1.0", e.spec_version)
    assert.same({ organization = "LangTech", team = "Platform Team", url = "https://langtech.example.com" },
      e.provider)
    assert.same({ "nlp", "text" }, e.categories)
    assert.same({ ["kubernetes.namespace"] = "agents" }, e.metadata)
    assert.equal("k8s", e.source)
    assert.equal("registered", e.state)
    assert.equal("registered", e.health.state)
    assert.equal(0, e.health.consecutive_failures)
    assert.equal("", e.health.last_error)
    assert.is_nil(e.health.last_probed_at)
    assert.matches("^%d%d%d%d%-%d%d%-%d%dT%d%d:%d%d:%d%d%.%d%d%dZ$", e.created_at)
    assert.equal(e.created_at, e.updated_at)
    assert.is_true(e.has_raw_card)
    assert.equal(2, #e.capabilities)
    assert.same({ kind = "a2a.skill", name = "Translate Text", description = "Translates text",
      properties = { tags = { "translation" }, inputModes = { "text" } } }, e.capabilities[1])
    assert.equal("bearer", e.capabilities[2].name)
    assert.equal("", e.capabilities[2].description)
    local raw = assert(catalog.raw_card(id))
    assert.equal('{"name":"Translation Agent"}', raw.data)
    assert.equal("application/json", raw.content_type)
    assert.equal(e.created_at, raw.fetched_at)
    assert.matches("^%x+$", raw.etag)
    -- JSON shapes: empty collections stay arrays/objects
    local bare = catalog.get(add())
    assert.is_nil(bare.provider)
    assert.is_false(bare.has_raw_card)
    assert.equal('{"a":[],"c":[],"m":{}}',
      json.encode({ a = bare.categories, c = bare.capabilities, m = bare.metadata }))
    assert.is_nil(catalog.raw_card(bare.id))
    assert.is_nil(catalog.get("no-such-id"))
  end)

  it("stores hundreds of capabilities and categories (multi-row inserts in chunks) in card order", function()
    local caps, cats = {}, {}
    for i = 1, 250 do
      caps[i] = { kind = "mcp.tool", name = ("tool-%03d"):format(251 - i), description = i % 7 == 0 and "" or nil }
    end
    for i = 1, 120 do
      cats[i] = "cat-" .. i
    end
    local id = add({ protocol = "mcp", capabilities = caps, categories = cats })
    local e = assert(catalog.get(id))
    assert.equal(250, #e.capabilities)
    for i, c in ipairs(e.capabilities) do
      assert.equal(("tool-%03d"):format(251 - i), c.name)
      assert.equal("", c.description)
    end
    assert.equal(120, #e.categories)
    assert.equal(120, count("SELECT count(*) AS n FROM catalog_categories WHERE entry_id = ?", id))
    local items = assert(catalog.list({ categories = { "cat-1", "cat-120" } }))
    assert.equal(1, #items)
    assert.equal(250, items[1].capabilities_count)
  end)

  it("lists a page of up to 500 entries with their capabilities (reads by id in chunks)", function()
    for i = 1, 300 do
      add({ display_name = ("Bulk %03d"):format(i), capabilities = { { kind = "mcp.tool", name = "t" .. i } } })
    end
    local items, total = assert(catalog.list({ sort = "name", limit = 500 }))
    assert.equal(300, total)
    assert.equal(300, #items)
    for i, it in ipairs(items) do
      assert.equal(("Bulk %03d"):format(i), it.display_name)
      assert.equal("t" .. i, it.capabilities[1].name)
    end
    local live = assert(catalog.live(assert(catalog.list_order({ sort = "name", limit = 500 }))))
    local listed = 0
    for _ in pairs(live) do
      listed = listed + 1
    end
    assert.equal(300, listed)
  end)

  it("validates what it stores", function()
    for _, bad in ipairs({ { protocol = "grpc" }, { endpoint = "" }, { display_name = "" }, { source = "web" },
      { state = "unknown" }, { capabilities = { { kind = "a2a.nope", name = "x" } } } }) do
      local id, err, code = catalog.insert(entry(bad))
      assert.is_nil(id)
      assert.is_string(err)
      assert.equal("invalid", code)
    end
    assert.equal(0, count("SELECT count(*) AS n FROM catalog_entries"))
  end)

  it("normalizes endpoints", function()
    local norm = catalog.normalize_endpoint
    assert.equal("https://a.example.com", norm("HTTPS://A.Example.COM:443/"))
    assert.equal("http://a.example.com/X", norm("http://a.example.com:80/X//"))
    assert.equal("http://a.example.com:8080/x?q=1", norm(" http://A.example.com:8080/x/?q=1 "))
    assert.equal("https://[::1]:8443/mcp", norm("https://[::1]:8443/mcp/"))
    assert.equal("https://u@a.example.com/p", norm("https://u@A.EXAMPLE.com/p"))
  end)

  it("refuses the same endpoint twice after normalization (code unique), per protocol", function()
    add({ endpoint = "https://dup.example.com/a2a" })
    local v = catalog.version()
    local id, err, code = catalog.insert(entry({ endpoint = "HTTPS://Dup.Example.com:443/a2a/" }))
    assert.is_nil(id)
    assert.equal("unique", code)
    assert.equal("an entry with this endpoint already exists", err)
    assert.equal(v, catalog.version())
    -- the failed insert left nothing behind
    assert.equal(1, count("SELECT count(*) AS n FROM catalog_entries"))
    assert.equal(0, count("SELECT count(*) AS n FROM catalog_capabilities"))
    -- another protocol on the same endpoint is another entry
    assert(catalog.insert(entry({ endpoint = "https://dup.example.com/a2a", protocol = "mcp" })))
  end)

  it("deletes an entry with everything that belongs to it; the endpoint can be registered again", function()
    local e = entry({ endpoint = "https://gone.example.com/", categories = { "x" },
      capabilities = { { kind = "mcp.tool", name = "search", description = "finds gone things" } },
      raw_card = { data = "{}", content_type = "application/json" } })
    local id = assert(catalog.insert(e))
    local keep = add({ capabilities = { { kind = "mcp.tool", name = "other" } } })
    local v = catalog.version()
    assert.is_true(catalog.delete(id))
    assert.is_true(catalog.version() > v)
    assert.is_false(catalog.delete(id))
    assert.is_nil(catalog.get(id))
    assert.equal(0, count("SELECT count(*) AS n FROM catalog_capabilities WHERE entry_id = ?", id))
    assert.equal(0, count("SELECT count(*) AS n FROM catalog_categories WHERE entry_id = ?", id))
    assert.equal(0, count("SELECT count(*) AS n FROM catalog_raw_cards WHERE entry_id = ?", id))
    assert.equal(1, count("SELECT count(*) AS n FROM catalog_capabilities WHERE entry_id = ?", keep))
    if not pg then
      assert.equal(1, count("SELECT count(*) AS n FROM catalog_fts"))
    end
    local items, total = assert(catalog.list({ q = "gone" }))
    assert.equal(0, total)
    assert.equal(0, #items)
    local again = assert(catalog.insert(e))
    assert.equal(1, select(2, catalog.list({ q = "gone" })))
    assert.equal(1, #catalog.get(again).capabilities)
  end)

  it("refuses raw cards over 256 KiB (too_large) and accepts exactly 256 KiB", function()
    local id, _, code = catalog.insert(entry({ raw_card = { data = ("x"):rep(256 * 1024 + 1),
      content_type = "application/json" } }))
    assert.is_nil(id)
    assert.equal("too_large", code)
    assert.equal(0, count("SELECT count(*) AS n FROM catalog_entries"))
    local bytes = ("\0\255"):rep(128 * 1024)
    id = assert(catalog.insert(entry({ raw_card = { data = bytes, content_type = "application/octet-stream" } })))
    local raw = catalog.raw_card(id)
    assert.equal(bytes, raw.data)
    assert.equal("application/octet-stream", raw.content_type)
  end)

  it("filters and pages with totals", function()
    for i = 1, 7 do
      add({ display_name = ("P%02d"):format(i), protocol = i <= 4 and "mcp" or "a2a",
        source = i % 2 == 0 and "config" or "push" })
    end
    local items, total = assert(catalog.list({ limit = 3, offset = 0, sort = "name" }))
    assert.equal(7, total)
    assert.same({ "P01", "P02", "P03" }, names(items))
    items, total = assert(catalog.list({ limit = 3, offset = 6, sort = "name" }))
    assert.equal(7, total)
    assert.same({ "P07" }, names(items))
    items, total = assert(catalog.list({ limit = 3, offset = 30 }))
    assert.equal(7, total)
    assert.equal("[]", json.encode(items))
    items, total = assert(catalog.list({ protocol = "mcp", source = "config", limit = 10, sort = "name" }))
    assert.equal(2, total)
    assert.same({ "P02", "P04" }, names(items))
    local id = items[1].id
    assert(catalog.set_state(id, "active"))
    items, total = assert(catalog.list({ states = { "active", "offline" }, limit = 10 }))
    assert.equal(1, total)
    assert.equal(id, items[1].id)
    assert.equal("[]", json.encode(items[1].capabilities))
    assert.equal(0, items[1].capabilities_count)
    for _, bad in ipairs({ { limit = 0 }, { limit = 501 }, { limit = 1.5 }, { offset = -1 }, { sort = "bogus" } }) do
      local ok, err, code = catalog.list(bad)
      assert.is_nil(ok)
      assert.is_string(err)
      assert.equal("invalid", code)
    end
  end)

  it("matches every category (AND) and team as a case-insensitive substring", function()
    add({ display_name = "A", categories = { "nlp", "text" },
      provider = { organization = "O", team = "Platform-Core" } })
    add({ display_name = "B", categories = { "nlp" }, provider = { organization = "O", team = "data_team" } })
    add({ display_name = "C", categories = { "text", "vision" } })
    local function q(f)
      f.limit, f.sort = 50, "name"
      local items, total = assert(catalog.list(f))
      assert.equal(#items, total)
      return names(items)
    end
    assert.same({ "A", "B" }, q({ categories = { "nlp" } }))
    assert.same({ "A" }, q({ categories = { "nlp", "text" } }))
    assert.same({ "A" }, q({ categories = { "nlp", "text", "nlp" } }))
    assert.same({}, q({ categories = { "nlp", "vision" } }))
    assert.same({ "A" }, q({ team = "platform" }))
    assert.same({ "A" }, q({ team = "M-C" }))
    assert.same({ "B" }, q({ team = "a_t" }))
    assert.same({}, q({ team = "%" }))
    assert.same({}, q({ team = "_" .. ("_"):rep(30) }))
  end)

  it("counts capabilities per item in one query", function()
    local id = add({ capabilities = { { kind = "mcp.tool", name = "a" }, { kind = "mcp.tool", name = "b" },
      { kind = "mcp.tool", name = "a" } } })
    local items = assert(catalog.list({ limit = 10 }))
    assert.equal(id, items[1].id)
    assert.equal(2, items[1].capabilities_count, "duplicate (kind, name) kept once")
    assert.same({ "a", "b" }, { items[1].capabilities[1].name, items[1].capabilities[2].name })
  end)

  it("loads the capabilities of a whole page with one query (reference 15 item 23)", function()
    local want = {}
    for i = 1, 60 do
      local caps = {}
      for j = 1, i % 4 do
        caps[j] = { kind = "a2a.skill", name = ("skill %d.%d"):format(i, j), description = "d" .. i,
          properties = { tags = { "t" .. i } } }
      end
      if i % 5 == 0 then
        caps[#caps + 1] = { kind = "a2a.security_scheme", properties = { scheme_name = "bearer", type = "http" } }
      end
      want[add({ display_name = ("Paged %02d"):format(i), capabilities = caps })] = caps
    end
    local real, calls = db.query, 0
    db.query = function(...)
      calls = calls + 1
      return real(...)
    end
    local ok, items, total = pcall(catalog.list, { limit = 50, offset = 5, sort = "name" })
    db.query = real
    assert.is_true(ok, tostring(items))
    assert.equal(60, total)
    assert.equal(50, #items)
    assert.equal(4, calls, "count, page ids, page rows and one capabilities query, whatever the page size")
    assert.equal("Paged 06", items[1].display_name)
    for _, it in ipairs(items) do
      local caps = want[it.id]
      assert.equal(#caps, #it.capabilities, it.display_name)
      assert.equal(#caps, it.capabilities_count)
      for j, c in ipairs(caps) do
        assert.equal(c.kind, it.capabilities[j].kind)
        if c.name then
          assert.equal(c.name, it.capabilities[j].name)
          assert.equal(c.description, it.capabilities[j].description)
          assert.same(c.properties, it.capabilities[j].properties)
        else
          assert.equal("bearer", it.capabilities[j].name)
        end
      end
    end
    -- an empty page needs no capabilities query
    calls = 0
    db.query = function(...)
      calls = calls + 1
      return real(...)
    end
    ok, items = pcall(catalog.list, { limit = 10, offset = 100 })
    db.query = real
    assert.is_true(ok, tostring(items))
    assert.equal(0, #items)
    assert.equal(2, calls)
  end)

  it("searches full text, ranking a name match above a tool description match", function()
    add({ display_name = "Weather Forecaster", description = "Predicts things" })
    add({ display_name = "Assistant", protocol = "mcp",
      capabilities = { { kind = "mcp.tool", name = "lookup", description = "current weather for a city" } } })
    add({ display_name = "Unrelated", description = "nothing to see" })
    add({ display_name = "Provided", provider = { organization = "Meteo Corp" } })
    add({ display_name = "Tagged", categories = { "climate" } })
    add({ display_name = "Skilled", capabilities = { { kind = "a2a.skill", name = "Summarize",
      properties = { tags = { "digest" } } } } })
    local items, total = assert(catalog.list({ q = "weather", limit = 10 }))
    assert.equal(2, total)
    assert.same({ "Weather Forecaster", "Assistant" }, names(items))
    assert.equal(1, select(2, catalog.list({ q = "meteo" })))
    assert.equal(1, select(2, catalog.list({ q = "climate" })))
    assert.equal(1, select(2, catalog.list({ q = "summarize" })))
    assert.equal(1, select(2, catalog.list({ q = "digest" })))
    assert.equal(1, select(2, catalog.list({ q = "forec" })), "prefix")
    assert.equal(1, select(2, catalog.list({ q = "WEATHER city" })), "terms are ANDed")
    assert.equal(0, select(2, catalog.list({ q = "weather nothing" })))
    -- an explicit sort wins over relevance
    items = assert(catalog.list({ q = "weather", sort = "-name" }))
    assert.same({ "Weather Forecaster", "Assistant" }, names(items))
    items = assert(catalog.list({ q = "weather", sort = "name" }))
    assert.same({ "Assistant", "Weather Forecaster" }, names(items))
    -- blank q is no q
    assert.equal(6, select(2, catalog.list({ q = "   " })))
  end)

  it("never fails on hostile search text", function()
    add({ display_name = "Ünïcode Agent", description = "straße café" })
    for _, q in ipairs({ '"', "*", ":", "(", ")", "-", "-weather", "NEAR", "NEAR(a b)", "'", "%", "_", "\\",
      "a:b (c", 'x" OR "y', "AND OR NOT", "^", "{col}:x", "a & b | !c", "weather:*", "$1", "?", "??",
      "'; DROP TABLE catalog_entries; --", "😀", "\t\n", "ünï", string.rep("x", 2000) }) do
      local items, total = catalog.list({ q = q })
      assert.is_table(items, "q = " .. q .. ": " .. tostring(total))
      assert.is_number(total)
      local caps, ctotal = catalog.capabilities({ q = q })
      assert.is_table(caps, "q = " .. q .. ": " .. tostring(ctotal))
    end
    assert.equal(1, select(2, catalog.list({ q = "café" })))
    assert.equal(1, select(2, catalog.list({ q = "Ünïcode" })))
    assert.equal(1, count("SELECT count(*) AS n FROM catalog_entries"))
  end)

  it("sorts by name, times and last success", function()
    local a = add({ display_name = "beta" })
    local b = add({ display_name = "Alpha" })
    local c = add({ display_name = "gamma" })
    local function set(id, created, updated, success)
      assert(db.exec([[UPDATE catalog_entries SET created_at = ?, updated_at = ?, health_last_success_at = ?
        WHERE id = ?]], created, updated, success, id))
    end
    set(a, "2026-01-02T00:00:00.000Z", "2026-01-05T00:00:00.000Z", "2026-02-01T00:00:00.000Z")
    set(b, "2026-01-03T00:00:00.000Z", "2026-01-04T00:00:00.000Z", nil)
    set(c, "2026-01-01T00:00:00.000Z", "2026-01-06T00:00:00.000Z", "2026-03-01T00:00:00.000Z")
    local function order(sort)
      return names((assert(catalog.list({ sort = sort, limit = 10 }))))
    end
    assert.same({ "Alpha", "beta", "gamma" }, order("name"))
    assert.same({ "gamma", "beta", "Alpha" }, order("-name"))
    assert.same({ "gamma", "beta", "Alpha" }, order("created_at"))
    assert.same({ "Alpha", "beta", "gamma" }, order("-created_at"))
    assert.same({ "Alpha", "beta", "gamma" }, order("updated_at"))
    assert.same({ "gamma", "beta", "Alpha" }, order("-updated_at"))
    assert.same({ "gamma", "beta", "Alpha" }, order("last_success"))
    assert.same({ "gamma", "beta", "Alpha" }, order(nil))
    assert.same({ "gamma", "beta", "Alpha" }, order("relevance"), "relevance without q is the default")
    local e = catalog.get(c)
    assert.equal("2026-03-01T00:00:00.000Z", e.health.last_success_at)
  end)

  it("lists capabilities of listed states and looks one up", function()
    local a = add({ display_name = "Alpha", spec_version = "1.0",
      provider = { organization = "Org", url = "https://o" },
      capabilities = {
        { kind = "a2a.skill", name = "Translate", description = "Translate text", properties = { tags = { "t" } } },
        { kind = "a2a.security_scheme", name = "bearer" },
      } })
    local b = add({ display_name = "Beta", protocol = "mcp", capabilities = {
      { kind = "mcp.tool", name = "translate", description = "also translates" },
      { kind = "mcp.prompt", name = "greet" } } })
    local c = add({ display_name = "Gamma", capabilities = { { kind = "a2a.skill", name = "Translate" } } })
    assert(catalog.set_state(b, "degraded"))
    assert(catalog.set_state(c, "offline"))
    local items, total = assert(catalog.capabilities({ limit = 10 }))
    assert.equal(3, total, "discoverable kinds of registered/active/degraded entries")
    assert.same({ "greet", "Translate", "translate" }, { items[1].name, items[2].name, items[3].name })
    local t = items[2]
    assert.same({ kind = "a2a.skill", name = "Translate", description = "Translate text",
      properties = { tags = { "t" } }, agent_id = a, agent_name = "Alpha", protocol = "a2a", state = "registered",
      spec_version = "1.0", provider_org = "Org", provider_url = "https://o" }, t)
    assert(db.exec("UPDATE catalog_entries SET health_latency_ms = 42 WHERE id = ?", b))
    items = assert(catalog.capabilities({ kind = "mcp.tool", limit = 10 }))
    assert.equal(42, tonumber(items[1].latency_ms))
    -- agent_name: by agent display name, then capability name
    items = assert(catalog.capabilities({ sort = "agent_name", limit = 10 }))
    local order = {}
    for i, it in ipairs(items) do
      order[i] = it.agent_name .. "/" .. it.name
    end
    assert.same({ "Alpha/Translate", "Beta/greet", "Beta/translate" }, order)
    local bad, _, bad_code = catalog.capabilities({ sort = "bogus" })
    assert.is_nil(bad)
    assert.equal("invalid", bad_code)
    items, total = assert(catalog.capabilities({ kind = "mcp.tool", limit = 10 }))
    assert.equal(1, total)
    assert.equal(b, items[1].agent_id)
    items, total = assert(catalog.capabilities({ q = "TRANSL", limit = 1, offset = 1 }))
    assert.equal(2, total)
    assert.equal("translate", items[1].name)
    assert.equal(0, select(2, catalog.capabilities({ q = "%" })))
    local found = assert(catalog.capability("a2a.skill", "Translate"))
    assert.same({ kind = "a2a.skill", name = "Translate", description = "Translate text" }, found.capability)
    assert.equal(2, #found.agents, "all states")
    local first = found.agents[1]
    assert.same({ id = a, display_name = "Alpha", protocol = "a2a", state = "registered", spec_version = "1.0" },
      { id = first.id, display_name = first.display_name, protocol = first.protocol, state = first.state,
        spec_version = first.spec_version })
    assert.same({ organization = "Org", url = "https://o" }, first.provider)
    assert.equal("registered", first.health.state)
    assert.equal(0, first.health.consecutive_failures)
    assert.same({ kind = "a2a.skill", name = "Translate", description = "Translate text",
      properties = { tags = { "t" } } }, first.capability)
    assert.is_nil(found.agents[2].provider)
    assert.same({}, found.agents[2].capability.properties)
    assert.equal(c, found.agents[2].id)
    assert.is_nil(catalog.capability("a2a.skill", "Nope"))
    assert.is_nil(catalog.capability("mcp.tool", "Translate"))
  end)

  it("counts by state, protocol and source with every key present", function()
    local s = assert(catalog.stats())
    assert.same({ total = 0,
      by_state = { registered = 0, active = 0, degraded = 0, offline = 0, deprecated = 0 },
      by_protocol = { a2a = 0, mcp = 0, a2ui = 0 },
      by_source = { k8s = 0, config = 0, push = 0, upstream = 0 } }, s)
    add()
    add({ protocol = "mcp", source = "k8s" })
    local id = add({ protocol = "a2ui", source = "config" })
    assert(catalog.set_state(id, "active"))
    s = assert(catalog.stats())
    assert.equal(3, s.total)
    assert.same({ registered = 2, active = 1, degraded = 0, offline = 0, deprecated = 0 }, s.by_state)
    assert.same({ a2a = 1, mcp = 1, a2ui = 1 }, s.by_protocol)
    assert.same({ k8s = 1, config = 1, push = 1, upstream = 0 }, s.by_source)
  end)

  it("changes state by rule: deprecated only manually, and a deprecated entry is left alone", function()
    local id = add()
    local v = catalog.version()
    local e = assert(catalog.set_state(id, "active"))
    assert.equal("active", e.state)
    assert.equal("active", e.health.state)
    assert.is_true(catalog.version() > v)
    local ok, _, code = catalog.set_state(id, "deprecated")
    assert.is_nil(ok)
    assert.equal("invalid", code)
    ok, _, code = catalog.set_state(id, "healthy", { manual = true })
    assert.is_nil(ok)
    assert.equal("invalid", code)
    e = assert(catalog.set_state(id, "deprecated", { manual = true }))
    assert.equal("deprecated", e.state)
    -- the prober (not manual) cannot move it
    e = assert(catalog.set_state(id, "offline"))
    assert.equal("deprecated", e.state)
    e = assert(catalog.set_state(id, "active", { manual = true, only_if_not_deprecated = true }))
    assert.equal("deprecated", e.state)
    -- an operator can
    e = assert(catalog.set_state(id, "active", { manual = true }))
    assert.equal("active", e.state)
    e = assert(catalog.set_state(id, "degraded", { only_if_not_deprecated = true }))
    assert.equal("degraded", e.state)
    assert.is_nil(catalog.set_state("no-such-id", "active"))
    assert.is_nil(select(2, catalog.set_state("no-such-id", "active")))
  end)
end)
