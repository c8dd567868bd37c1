-- SPDX-License-Identifier: Apache-2.0
-- The known runtime settings: type, default, limits and description of each key, and the
-- conversions between API values, stored text and typed Lua values.
local time = require "agentlens.time"

local M = {}

-- type: "string" (min_length/max_length), "boolean", "integer" (min/max, unit) or "enum"
-- (allowed). role = true: the value names an existing role (checked by the API).
M.DEFS = {
  { key = "app.name", category = "general", type = "string", default = "AgentLens", min_length = 1, max_length = 100,
    description = "Product name shown in the web UI" },
  { key = "app.registration_enabled", category = "auth", type = "boolean", default = true,
    description = "Whether new users may register themselves" },
  { key = "app.default_role", category = "auth", type = "string", default = "viewer", min_length = 1,
    max_length = 64, role = true, description = "Name of the role given to newly registered users" },
  { key = "ui.theme", category = "ui", type = "enum", default = "system", allowed = { "light", "dark", "system" },
    description = "Colour theme of the web UI" },
  { key = "ui.items_per_page", category = "ui", type = "integer", default = 25, min = 5, max = 500,
    description = "Rows per page in the web UI's lists" },
  { key = "ui.poll_interval", category = "ui", type = "integer", unit = "seconds", default = 30, min = 5, max = 3600,
    description = "How often the web UI refreshes live views" },
  { key = "health.check_enabled", category = "health", type = "boolean", default = true,
    config = "health.check_enabled", description = "Whether catalog entries are probed for health" },
  { key = "health.check_interval", category = "health", type = "integer", unit = "seconds", default = 30, min = 5,
    max = 86400, config = "health.check_interval", description = "Time between two health probes of an entry" },
  { key = "health.check_timeout", category = "health", type = "integer", unit = "seconds", default = 5, min = 1,
    max = 300, config = "health.check_timeout",
    description = "Longest a health probe may take before it counts as failed" },
  { key = "health.check_concurrency", category = "health", type = "integer", default = 64, min = 1, max = 256,
    config = "health.check_concurrency", description = "Health probes in flight at the same time during a sweep" },
  { key = "health.degraded_latency", category = "health", type = "integer", unit = "milliseconds", default = 1500,
    min = 1, max = 600000, config = "health.check_degraded_latency",
    description = "A healthy answer slower than this marks the entry degraded" },
  { key = "health.failure_threshold", category = "health", type = "integer", default = 3, min = 1, max = 100,
    config = "health.check_failure_threshold",
    description = "Consecutive failed probes before an entry counts as down" },
}

M.BY_KEY = {}
M.CATEGORIES = {}
for _, def in ipairs(M.DEFS) do
  M.BY_KEY[def.key] = def
  M.CATEGORIES[def.category] = true
end

-- config_default(def, value) -> the default a configuration value (agentlens.config: durations
-- in milliseconds) gives the setting: seconds rounded up, clamped to the setting's range.
function M.config_default(def, v)
  if def.type == "boolean" then
    return v == true
  end
  if type(v) ~= "number" then
    return def.default
  end
  if def.unit == "seconds" then
    v = math.ceil(v / 1000)
  end
  v = math.floor(v)
  return math.max(def.min, math.min(def.max, v))
end

-- Settings with `config = <option>` take their default from that configuration option
-- (environment, flag or file), read once when this module loads; a stored value still wins.
-- Without a configuration (specs outside the binary) the built-in defaults stay.
do
  local ok, config = pcall(require, "agentlens.config")
  for _, def in ipairs(M.DEFS) do
    if def.config then
      def.builtin_default = def.default
      if ok and type(config) == "table" then
        local got, v = pcall(config.get, def.config)
        if got then
          def.default = M.config_default(def, v)
        end
      end
    end
  end
end

local function length(s)
  local _, n = s:gsub("[^\128-\191]", "")
  return n
end

-- An integer from a number, a decimal string or, for settings with a unit, a duration string
-- such as "30s" or "5m". -> integer | nil
local function integer_of(def, v)
  if type(v) == "number" then
    return v % 1 == 0 and v or nil
  end
  if type(v) ~= "string" then
    return nil
  end
  if v:match("^%-?%d+$") then
    return tonumber(v)
  end
  if def.unit then
    local ms = time.parse_duration(v)
    if ms then
      local n = def.unit == "seconds" and ms / 1000 or ms
      return n % 1 == 0 and n or nil
    end
  end
  return nil
end

-- coerce(def, value) -> typed value | nil, message. Accepts the JSON type, and strings that
-- parse as it ("true", "25"), which the old web UI sends.
function M.coerce(def, v)
  if def.type == "boolean" then
    if v == true or v == "true" then
      return true
    elseif v == false or v == "false" then
      return false
    end
    return nil, "must be true or false"
  elseif def.type == "integer" then
    local n = integer_of(def, v)
    local range = ("must be an integer from %d to %d%s"):format(def.min, def.max, def.unit and (" " .. def.unit) or "")
    if not n or n < def.min or n > def.max then
      if def.unit and n == nil and type(v) == "string" then
        range = range .. (def.unit == "seconds" and ' (or a duration such as "30s" or "5m")' or
          ' (or a duration such as "1500ms" or "2s")')
      end
      return nil, range
    end
    return n
  elseif def.type == "enum" then
    for _, a in ipairs(def.allowed) do
      if v == a then
        return v
      end
    end
    return nil, "must be one of " .. table.concat(def.allowed, ", ")
  end
  if type(v) ~= "string" then
    return nil, "must be a string"
  end
  if v:find("%c") then
    return nil, "must not contain control characters"
  end
  local n = length(v)
  if n < def.min_length or n > def.max_length then
    return nil, ("must have %d to %d characters"):format(def.min_length, def.max_length)
  end
  return v
end

-- The stored text of a typed value.
function M.encode(def, v)
  if def.type == "boolean" then
    return v and "true" or "false"
  elseif def.type == "integer" then
    return ("%d"):format(v)
  end
  return v
end

-- The typed value of stored text; nil when the text is not valid for the key (edited by hand).
function M.decode(def, text)
  local v = M.coerce(def, text)
  return v
end

return M
