-- SPDX-License-Identifier: Apache-2.0
-- Runtime settings for Lua code: settings.get(key) -> typed value (the default when unset).
-- Cached per worker; a write bumps the shared "settings" counter so every worker reloads, and
-- entries expire after a few seconds for changes made by other replicas.
local log = require "agentlens.log"
local shared = require "agentlens.shared"
local time = require "agentlens.time"
local schema = require "agentlens.settings.schema"
local store = require "agentlens.store.settings"

local M = {}

local EPOCH = "settings"
local TTL = 5 -- seconds

local cache -- {values = {key = typed}, epoch, at}

-- Call after a committed write.
function M.changed()
  shared.bump(EPOCH)
end

local function load()
  local rows, err = store.all()
  if not rows then
    return nil, err
  end
  local values = {}
  for _, row in ipairs(rows) do
    local def = schema.BY_KEY[row.key]
    if def then
      local v = schema.decode(def, row.value)
      if v == nil then
        log.warn("stored setting is not valid; using its default", { key = row.key })
      else
        values[row.key] = v
      end
    end
  end
  return values
end

-- get(key) -> typed value. Raises for a key that is not in the schema (a bug). When the
-- database cannot be read, the last known values (or the defaults) are used.
function M.get(key)
  local def = schema.BY_KEY[key]
  if not def then
    error(("settings.get: unknown setting %q"):format(tostring(key)), 2)
  end
  local epoch, now = shared.get(EPOCH), time.monotonic()
  if not cache or cache.epoch ~= epoch or now - cache.at >= TTL then
    local values, err = load()
    if values then
      cache = { values = values, epoch = epoch, at = now }
    else
      log.warn("cannot read settings; using the last known values", { error = err })
    end
  end
  local v = cache and cache.values[key]
  if v == nil then
    return def.default
  end
  return v
end

return M
