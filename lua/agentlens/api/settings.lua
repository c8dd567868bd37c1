-- SPDX-License-Identifier: Apache-2.0
-- Runtime settings over the API: every known key with its type, limits, default and current
-- value; typed, validated writes of several keys at once.
local http = require "agentlens.http"
local json = require "agentlens.json"
local log = require "agentlens.log"
local time = require "agentlens.time"
local http_errors = require "agentlens.lib.http_errors"
local request_body = require "agentlens.lib.request_body"
local roles = require "agentlens.store.roles"
local schema = require "agentlens.settings.schema"
local settings = require "agentlens.settings"
local store = require "agentlens.store.settings"

local M = {}

local function item(def, row)
  local value, updated_at = def.default, json.null
  if row then
    local v = schema.decode(def, row.value)
    if v ~= nil then
      value, updated_at = v, row.updated_at
    end
  end
  local allowed
  if def.allowed then
    allowed = json.array()
    for i, a in ipairs(def.allowed) do
      allowed[i] = a
    end
  end
  return {
    key = def.key,
    value = value,
    category = def.category,
    description = def.description,
    type = def.type,
    default = def.default,
    allowed = allowed,
    min = def.min,
    max = def.max,
    min_length = def.min_length,
    max_length = def.max_length,
    unit = def.unit,
    updated_at = updated_at,
  }
end

-- -> 200, [item] for the known keys in category (all when nil) | status, body
local function answer(category)
  local rows, err, code = store.all()
  if not rows then
    return http_errors.db_failure(err, code)
  end
  local by_key = {}
  for _, row in ipairs(rows) do
    by_key[row.key] = row
  end
  local out = json.array()
  for _, def in ipairs(schema.DEFS) do
    if category == nil or def.category == category then
      out[#out + 1] = item(def, by_key[def.key])
    end
  end
  return 200, out
end

-- GET /settings: every known key (defaults for the unset ones): how clients learn which exist.
function M.list(_req)
  return answer(nil)
end

-- GET /settings/{category}
function M.category(req)
  local category = req.params.category
  if not schema.CATEGORIES[category] then
    local names = {}
    for name in pairs(schema.CATEGORIES) do
      names[#names + 1] = name
    end
    table.sort(names)
    return http.error(404, ("settings category not found (known: %s)"):format(table.concat(names, ", ")))
  end
  return answer(category)
end

-- PUT /settings {key: value, ...}: every key is validated before anything is written; then all
-- are written in one transaction. null resets a key to its default.
function M.update(req)
  local body, status, err_body = request_body.object(req)
  if not body then
    return status, err_body
  end
  local keys = {}
  for k in pairs(body) do
    keys[#keys + 1] = tostring(k)
  end
  table.sort(keys)
  local unknown, problems, changes = {}, {}, {}
  for _, k in ipairs(keys) do
    local def, v = schema.BY_KEY[k], body[k]
    if not def then
      unknown[#unknown + 1] = k
      problems[#problems + 1] = { field = k, message = "unknown setting" }
    elseif v == json.null then
      changes[#changes + 1] = { key = k }
    else
      local typed, why = schema.coerce(def, v)
      if typed ~= nil and def.role then
        local r, err, code = roles.by_name(typed)
        if r == nil then
          return http_errors.db_failure(err, code)
        end
        if not r then
          typed, why = nil, ("must name an existing role (%q does not exist)"):format(typed)
        end
      end
      if typed == nil then
        problems[#problems + 1] = { field = k, message = why }
      else
        changes[#changes + 1] = { key = k, value = schema.encode(def, typed), category = def.category,
          description = def.description }
      end
    end
  end
  if #unknown > 0 then
    return http.error(400, "unknown settings: " .. table.concat(unknown, ", ") ..
      " (GET /api/v1/settings lists the known keys)", problems)
  end
  if #problems > 0 then
    local parts = {}
    for i, p in ipairs(problems) do
      parts[i] = p.field .. " " .. p.message
    end
    return http.error(400, "invalid settings: " .. table.concat(parts, "; "), problems)
  end
  if #changes > 0 then
    local ok, err, code = store.write(changes, time.rfc3339(time.now()))
    if not ok then
      return http_errors.db_failure(err, code)
    end
    settings.changed()
    local written = {}
    for i, c in ipairs(changes) do
      written[i] = c.key
    end
    log.info("settings updated", { keys = table.concat(written, ","),
      by = req.principal and req.principal.username })
  end
  return 200, { message = "settings updated" }
end

return M
