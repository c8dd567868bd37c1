-- SPDX-License-Identifier: Apache-2.0
-- settings.get on the configured dialect: defaults, typed values, the per-worker cache and its
-- invalidation through the shared "settings" counter.
local settings = require "agentlens.settings"
local store = require "agentlens.store.settings"

describe("agentlens.settings", function()
  local function write(key, value)
    assert(store.write({ { key = key, value = value, category = "ui", description = "spec" } },
      "2026-01-01T00:00:00.000Z"))
  end

  after_each(function()
    write("ui.items_per_page", nil)
    write("ui.theme", nil)
    settings.changed()
  end)

  it("returns typed values, and defaults for keys never set", function()
    write("ui.items_per_page", nil)
    settings.changed()
    assert.equal(25, settings.get("ui.items_per_page"))
    write("ui.items_per_page", "75")
    settings.changed()
    assert.equal(75, settings.get("ui.items_per_page"))
    assert.is_true(settings.get("health.check_enabled"))
  end)

  it("keeps its cache until the shared counter moves", function()
    settings.changed()
    assert.equal("system", settings.get("ui.theme"))
    write("ui.theme", "dark")
    assert.equal("system", settings.get("ui.theme"), "cached")
    settings.changed()
    assert.equal("dark", settings.get("ui.theme"))
  end)

  it("falls back to the default for a stored value that is not valid", function()
    write("ui.items_per_page", "many")
    settings.changed()
    assert.equal(25, settings.get("ui.items_per_page"))
  end)

  it("raises for a key that is not in the schema", function()
    assert.has_error(function()
      settings.get("no.such.key")
    end, 'settings.get: unknown setting "no.such.key"')
  end)
end)
