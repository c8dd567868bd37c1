-- SPDX-License-Identifier: Apache-2.0
-- Roles (named permission sets) and the list of known permissions.
local crypto = require "agentlens.crypto"
local db = require "agentlens.db"
local http = require "agentlens.http"
local json = require "agentlens.json"
local time = require "agentlens.time"
local admins = require "agentlens.auth.admins"
local http_errors = require "agentlens.lib.http_errors"
local paging = require "agentlens.lib.paging"
local permissions = require "agentlens.auth.permissions"
local principal = require "agentlens.auth.principal"
local request_body = require "agentlens.lib.request_body"
local roles = require "agentlens.store.roles"
local settings = require "agentlens.settings"

local M = {}

-- The JSON form of a role row (permissions as a list).
function M.view(r)
  local list = {}
  for i, p in ipairs(r.permissions) do
    list[i] = p
  end
  return {
    id = r.id,
    name = r.name,
    description = r.description,
    permissions = json.array(list),
    is_system = r.is_system,
    created_at = r.created_at,
    updated_at = r.updated_at,
  }
end

local NAME = { name = "name", required = true, trim = true, max = 64 }
local CREATE = {
  fields = { NAME, { name = "description", max = 500 }, { name = "permissions", type = "string_list" } },
}
local UPDATE = {
  fields = {
    { name = "name", trim = true, max = 64 },
    { name = "description", max = 500 },
    { name = "permissions", type = "string_list" },
  },
}

-- Unknown permissions are refused; duplicates are dropped. -> list | nil, status, body
local function checked_permissions(list)
  local out, seen, unknown = {}, {}, {}
  for _, p in ipairs(list or {}) do
    if not permissions.is_known(p) then
      unknown[#unknown + 1] = p
    elseif not seen[p] then
      seen[p] = true
      out[#out + 1] = p
    end
  end
  if #unknown > 0 then
    local details = {}
    for i, p in ipairs(unknown) do
      details[i] = { field = "permissions", message = ("unknown permission %q"):format(p) }
    end
    return nil, http.error(400, "unknown permissions: " .. table.concat(unknown, ", ") ..
      " (GET /api/v1/permissions lists the known ones)", details)
  end
  return out
end

-- Sentinels a transaction returns to roll back with an HTTP answer.
local LAST_ADMIN = { 409, "cannot remove permissions from this role: it is held by the last active administrators" }

local function failure(err, code, what)
  if type(err) == "table" then
    return http.error(err[1], err[2])
  end
  return http_errors.db_failure(err, code, what)
end

local function load(id)
  local r, err, code = roles.get(id)
  if r == nil then
    return nil, http_errors.db_failure(err, code)
  end
  if not r then
    return nil, http.error(404, "role not found")
  end
  return r
end

function M.list(req)
  return paging.respond(req, roles, M.view)
end

function M.get(req)
  local r, status, body = load(req.params.id)
  if not r then
    return status, body
  end
  return 200, M.view(r)
end

function M.create(req)
  local v, status, err_body = request_body.parse(req, CREATE)
  if not v then
    return status, err_body
  end
  local perms
  perms, status, err_body = checked_permissions(v.permissions)
  if not perms then
    return status, err_body
  end
  local now = time.rfc3339(time.now())
  local role = { id = crypto.uuid(), name = v.name, description = v.description or "", permissions = perms,
    is_system = false, created_at = now }
  local ok, err, code = roles.insert(role)
  if not ok then
    if code == "unique" then
      return http.error(409, "role name already exists")
    end
    return http_errors.db_failure(err, code)
  end
  principal.changed()
  role.updated_at = now
  return 201, M.view(role)
end

function M.update(req)
  local v, status, err_body = request_body.parse(req, UPDATE)
  if not v then
    return status, err_body
  end
  if v.name == "" then
    return http.error(400, "name is required", { { field = "name", message = "name is required" } })
  end
  local r
  r, status, err_body = load(req.params.id)
  if not r then
    return status, err_body
  end
  if r.is_system then
    return http.error(400, "system roles cannot be changed")
  end
  if v.permissions then
    v.permissions, status, err_body = checked_permissions(v.permissions)
    if not v.permissions then
      return status, err_body
    end
  end
  if v.name and v.name ~= r.name and settings.get("app.default_role") == r.name then
    return http.error(409, "role is the default role for new users (setting app.default_role); change that first")
  end
  local now = time.rfc3339(time.now())
  local ok, err, code = db.tx(function()
    local was_admin = permissions.is_admin_set(permissions.set(r.permissions))
    if v.permissions and was_admin and not permissions.is_admin_set(permissions.set(v.permissions)) then
      local others, e, c = admins.active_ids(r.id)
      if not others then
        return nil, e, c
      end
      local holders
      holders, e, c = roles.users_count(r.id)
      if not holders then
        return nil, e, c
      end
      if #others == 0 and holders > 0 then
        return nil, LAST_ADMIN
      end
    end
    local n, e, c = roles.update(r.id, v, now)
    if not n then
      return nil, e, c
    end
    return true
  end)
  if not ok then
    if code == "unique" then
      return http.error(409, "role name already exists")
    end
    return failure(err, code)
  end
  principal.changed()
  r, status, err_body = load(r.id)
  if not r then
    return status, err_body
  end
  return 200, M.view(r)
end

function M.delete(req)
  local r, status, body = load(req.params.id)
  if not r then
    return status, body
  end
  if r.is_system then
    return http.error(400, "cannot delete system role")
  end
  if settings.get("app.default_role") == r.name then
    return http.error(409, "role is the default role for new users (setting app.default_role); change that first")
  end
  local n, err, code = roles.users_count(r.id)
  if n and n > 0 then
    return http.error(409, ("role is in use by %d user%s"):format(n, n == 1 and "" or "s"))
  end
  if n then
    n, err, code = roles.delete(r.id)
  end
  if not n then
    if code == "foreign_key" then -- a user took the role meanwhile
      return http.error(409, "role is in use")
    end
    return http_errors.db_failure(err, code)
  end
  principal.changed()
  return 204
end

-- GET /api/v1/permissions: what a role can grant.
function M.permissions(_req)
  local out = json.array()
  for i, p in ipairs(permissions.LIST) do
    out[i] = { name = p.name, description = p.description }
  end
  return 200, out
end

return M
