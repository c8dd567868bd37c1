-- SPDX-License-Identifier: Apache-2.0
-- Operator discovery rules (agentlens.discovery.rules): the shape of `discovery` in scripts,
-- script sources, filters and transforms with failures contained, the example script, and the
-- static-sources round (agentlens.discovery.static) with a fake transport.
local db = require "agentlens.db"
local rules = require "agentlens.discovery.rules"
local static = require "agentlens.discovery.static"
local catalog = require "agentlens.store.catalog"
local fixtures = require "card_fixtures"

local HERE = debug.getinfo(1, "S").source:sub(2) -- this file, as a script's chunk name

local function script(exports, file)
  return { name = "s", file = file or HERE, exports = exports }
end

local function use(list)
  rules.use((rules.load(list)))
end

local item = { key = "k8s/payments/billing", source = "k8s", name = "billing", protocol = "a2a",
  url = "http://billing.payments.svc", tags = {}, labels = {}, namespace = "payments" }

local function entry()
  return { protocol = "a2a", endpoint = "http://billing.payments.svc/a2a", display_name = "Billing",
    description = "", version = "1", provider = { organization = "Acme" }, categories = { "x" }, metadata = {} }
end

describe("agentlens.discovery.rules", function()
  after_each(function()
    rules.use(nil)
  end)

  it("loads well-formed scripts and reports the others without raising", function()
    local loaded, problems = rules.load({
      script({}),
      script({ rules = {} }),
      script({ discovery = { filter = function() return true end } }),
      script({ discovery = "nope" }, "bad1.lua"),
      script({ discovery = { filter = 3 } }, "bad2.lua"),
      script({ discovery = { colour = function() end } }, "bad3.lua"),
    })
    assert.equal(1, #loaded.list)
    assert.is_true(loaded.chunks["@" .. HERE])
    assert.equal(3, #problems)
    assert.same({ "bad1.lua", "bad2.lua", "bad3.lua" }, { problems[1].file, problems[2].file, problems[3].file })
    assert.matches("discovery must be a table", problems[1].message)
    assert.matches("discovery.filter must be a function", problems[2].message)
    assert.matches('unknown field "colour"', problems[3].message)
  end)

  it("validate raises for the first script of the wrong shape, naming its file", function()
    rules.validate({ script({}), script({ discovery = { filter = function() end } }) })
    local ok, err = pcall(rules.validate, { script({ discovery = { filter = 3 } }, "bad.lua") })
    assert.is_false(ok)
    assert.equal("bad.lua: discovery.filter must be a function, got number", err)
  end)

  it("keeps an item only when every filter keeps it; a failing filter is skipped", function()
    local seen
    use({
      script({ discovery = { filter = function(it)
        seen = it
        it.labels.changed = "yes" -- a copy: the caller's item is untouched
        return true
      end } }),
      script({ discovery = { filter = function() error("broken") end } }),
      script({ discovery = { filter = function(it) return it.namespace ~= "sandbox" end } }, "ns.lua"),
    })
    assert.is_true(rules.filter(item))
    assert.equal("billing", seen.name)
    assert.is_nil(item.labels.changed)
    local keep, by = rules.filter({ key = "k", labels = {}, namespace = "sandbox", tags = {} })
    assert.is_false(keep)
    assert.equal("ns.lua", by)
  end)

  it("stops a filter that loops", function()
    local function loop()
      while true do
      end
    end
    jit.off(loop, true) -- scripts run interpreted (the sandbox turns the JIT off for them)
    use({ script({ discovery = { filter = loop } }) })
    assert.is_true(rules.filter(item)) -- skipped, not hung
  end)

  it("applies transforms in order, in place or by return value; bad results are skipped", function()
    use({
      script({ discovery = { transform = function(e, it)
        e.team = it.namespace
        e.categories[#e.categories + 1] = "from-rule"
      end } }),
      script({ discovery = { transform = function(e)
        local copy = {}
        for k, v in pairs(e) do
          copy[k] = v
        end
        copy.display_name = e.display_name .. " (prod)"
        copy.metadata = { owner = "ops" }
        return copy
      end } }),
      script({ discovery = { transform = function(e) e.display_name = "" end } }),
      script({ discovery = { transform = function() return 42 end } }),
      script({ discovery = { transform = function() error("kaput") end } }),
      script({ discovery = { transform = function(e) e.endpoint = "http://evil" end } }),
    })
    local e = rules.transform(entry(), item)
    assert.equal("Billing (prod)", e.display_name)
    assert.equal("payments", e.provider.team)
    assert.equal("Acme", e.provider.organization)
    assert.same({ "x", "from-rule" }, e.categories)
    assert.same({ owner = "ops" }, e.metadata)
    assert.equal("http://billing.payments.svc/a2a", e.endpoint)
  end)

  it("collects script sources and refuses bad ones", function()
    use({
      script({ discovery = { sources = function()
        return {
          { name = "billing", type = "mcp", url = "http://billing:8080/mcp", labels = { team = "b" }, tags = { "t" } },
          { name = "bad name", type = "a2a", url = "http://x" },
          { name = "x", type = "grpc", url = "http://x" },
          { name = "y", type = "a2a", url = "ftp://y" },
          { name = "z", type = "a2a", url = "http://z", colour = "red" },
        }
      end } }, "src.lua"),
      script({ discovery = { sources = function() error("no sources today") end } }),
      script({ discovery = { sources = function() return "nope" end } }),
    })
    local list = rules.sources()
    assert.equal(1, #list)
    assert.same({ name = "billing", protocol = "mcp", url = "http://billing:8080/mcp", labels = { team = "b" },
      tags = { "t" }, headers = {}, script = "src.lua" }, list[1])
  end)

  it("the example script sets the team from a label or the namespace and drops ignored items", function()
    local file = "examples/scripts/team-from-namespace.lua"
    local chunk = assert(loadfile(file))
    use({ script(chunk(), file) })
    local e = rules.transform(entry(), item)
    assert.equal("Payments", e.provider.team)
    local labelled = { key = "k", labels = { team = "Search" }, namespace = "payments", tags = {} }
    assert.equal("Search", rules.transform(entry(), labelled).provider.team)
    local other = { key = "k", labels = {}, namespace = "elsewhere", tags = {} }
    assert.is_nil(rules.transform(entry(), other).provider.team)
    assert.is_true(rules.filter(item))
    assert.is_false(rules.filter({ key = "k", labels = { ["agentlens.io/ignore"] = "true" }, tags = {} }))
  end)
end)

describe("agentlens.discovery.static on " .. db.dialect(), function()
  local card = fixtures.text("a2a/v1.0-translation-agent.json")
  local fetched
  local function many(reqs)
    local out = {}
    for i, r in ipairs(reqs) do
      fetched[#fetched + 1] = r.url
      local host = r.url:match("^http://([^/:]+)")
      if r.url:match("agent%-card%.json$") then
        out[i] = { status = 200, headers = { ["content-type"] = "application/json" }, url = r.url,
          body = card:gsub("translate%.example%.com", host) }
      else
        out[i] = { status = 404, headers = {}, body = "", url = r.url }
      end
    end
    return out
  end
  local clean = require("catalog_db").clean
  before_each(function()
    clean()
    static.reset()
    fetched = {}
    rules.use({ list = {}, chunks = {} })
  end)
  after_each(function()
    clean()
    rules.use(nil)
  end)

  local sources = {
    { name = "a", type = "a2a", url = "http://a.example", headers = {}, tags = {} },
    { name = "b", type = "a2a", url = "http://b.example", headers = { ["X-Api-Key"] = "k" }, tags = { "t" },
      interval_ms = 5000 },
  }

  it("syncs every source at once, then each at its own interval, and retires removed ones", function()
    local r = static.round({ now = 100, config_sources = sources, request_many = many })
    assert.same({ synced = 2, failed = 0, gone = 0, deleted = 0 }, r)
    assert.truthy(catalog.discovered("config", "config/a"))
    assert.truthy(catalog.discovered("config", "config/b"))
    -- discovery.interval is 60 s by default: only b (5 s) is due at 106
    fetched = {}
    r = static.round({ now = 106, config_sources = sources, request_many = many })
    assert.equal(1, r.synced)
    assert.same({ "http://b.example/.well-known/agent-card.json" }, fetched)
    r = static.round({ now = 161, config_sources = sources, request_many = many })
    assert.equal(2, r.synced)
    -- a removed from the configuration: gone at once
    r = static.round({ now = 162, config_sources = { sources[2] }, request_many = many })
    assert.equal(1, r.gone)
    assert.equal("offline", assert(catalog.discovered("config", "config/a")).state)
    assert.equal("registered", assert(catalog.discovered("config", "config/b")).state)
  end)

  it("adds script sources; a configured name wins over a script's", function()
    use({ script({ discovery = { sources = function()
      return { { name = "c", type = "a2a", url = "http://c.example" }, { name = "a", type = "a2a", url = "http://x" } }
    end } }) })
    local items = static.items({ config_sources = sources })
    assert.same({ "config/a", "config/b", "config/c" }, { items[1].key, items[2].key, items[3].key })
    assert.equal(3, #items)
    assert.equal("http://a.example", items[1].url)
  end)

  it("gives the headers of a source by key, for probes", function()
    use({ script({ discovery = { sources = function()
      return { { name = "c", type = "a2a", url = "http://c.example", headers = { ["X-Key"] = "s" } } }
    end } }) })
    assert.same({ ["X-Key"] = "s" }, static.headers_by_key()["config/c"])
    assert.is_nil(static.headers_by_key()["config/none"])
  end)
end)
