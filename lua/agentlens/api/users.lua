-- SPDX-License-Identifier: Apache-2.0
-- User accounts (administration). Self-service lives in agentlens.api.auth.
local crypto = require "agentlens.crypto"
local db = require "agentlens.db"
local http = require "agentlens.http"
local json = require "agentlens.json"
local log = require "agentlens.log"
local time = require "agentlens.time"
local admins = require "agentlens.auth.admins"
local http_errors = require "agentlens.lib.http_errors"
local paging = require "agentlens.lib.paging"
local passwords = require "agentlens.auth.passwords"
local principal = require "agentlens.auth.principal"
local request_body = require "agentlens.lib.request_body"
local roles = require "agentlens.store.roles"
local sessions = require "agentlens.store.sessions"
local users = require "agentlens.store.users"

local M = {}

-- The JSON form of a user row (with its role_* columns). Never the password hash, the failure
-- count or the lock time; is_locked says whether logins are refused right now.
function M.view(u)
  local perms = type(u.role_permissions) == "string" and json.decode(u.role_permissions)
  local list = json.array()
  for i, p in ipairs(type(perms) == "table" and perms or {}) do
    list[i] = p
  end
  local locked = u.locked_until and time.parse_rfc3339(u.locked_until)
  return {
    id = u.id,
    username = u.username,
    email = u.email,
    display_name = u.display_name,
    role_id = u.role_id,
    role = {
      id = u.role_id,
      name = u.role_name,
      description = u.role_description,
      permissions = list,
      is_system = u.role_is_system,
      created_at = u.role_created_at,
      updated_at = u.role_updated_at,
    },
    is_active = u.is_active,
    is_locked = locked ~= nil and locked > time.now(),
    last_login = u.last_login or json.null,
    created_at = u.created_at,
    updated_at = u.updated_at,
  }
end

M.USERNAME = {
  name = "username", required = true, min = 3, max = 64, pattern = "^[%w._-]+$",
  pattern_message = "may contain only letters, digits, '.', '_' and '-'",
}
M.EMAIL = { name = "email", trim = true, max = 254, pattern = "^[^%s@]+@[^%s@]+$",
  pattern_message = "must be an e-mail address" }
M.DISPLAY_NAME = { name = "display_name", trim = true, max = 100 }

local CREATE = {
  fields = {
    M.USERNAME, M.EMAIL, M.DISPLAY_NAME,
    { name = "password", required = true, secret = true, max = 1000 },
    { name = "role_id", required = true },
    { name = "is_active", type = "boolean" },
  },
}
local UPDATE = { fields = { M.EMAIL, M.DISPLAY_NAME, { name = "role_id" }, { name = "is_active", type = "boolean" } } }

-- Sentinels a transaction returns to roll back with an HTTP answer.
local LAST_ADMIN_UPDATE = { 409,
  "cannot disable or demote the last active administrator: another active user must hold every permission first" }
local LAST_ADMIN_DELETE = { 409, "cannot delete the last active administrator" }

local function failure(err, code, what)
  if type(err) == "table" then
    return http.error(err[1], err[2])
  end
  return http_errors.db_failure(err, code, what)
end

-- load(id) -> row | nil, status, body (404)
function M.load(id)
  local u, err, code = users.get(id)
  if u == nil then
    return nil, http_errors.db_failure(err, code)
  end
  if not u then
    return nil, http.error(404, "user not found")
  end
  return u
end

-- The user as the API shows it now. -> 200, view | status, body
local function answer(id, status)
  local u, s, body = M.load(id)
  if not u then
    return s, body
  end
  return status or 200, M.view(u)
end

-- role_exists(id) -> true | nil, status, body
local function role_exists(id)
  local r, err, code = roles.get(id)
  if r == nil then
    return nil, http_errors.db_failure(err, code)
  end
  if not r then
    return nil, http.error(400, "role not found", { { field = "role_id", message = "role not found" } })
  end
  return true
end

function M.list(req)
  return paging.respond(req, users, M.view)
end

function M.get(req)
  return answer(req.params.id)
end

function M.create(req)
  local v, status, err_body = request_body.parse(req, CREATE)
  if not v then
    return status, err_body
  end
  local ok
  ok, status, err_body = role_exists(v.role_id)
  if not ok then
    return status, err_body
  end
  local weak = passwords.problem(v.password)
  if weak then
    return http.error(400, weak, { { field = "password", message = weak } })
  end
  local existing, err, code = users.by_username(v.username)
  if existing == nil then
    return http_errors.db_failure(err, code)
  end
  if existing then
    return http.error(409, "username already exists")
  end
  local hash
  hash, err = crypto.password_hash(v.password) -- on the work pool: never inside db.tx
  if not hash then
    return http.error(400, err, { { field = "password", message = err } })
  end
  local id = crypto.uuid()
  ok, err, code = users.insert({
    id = id, username = v.username, email = v.email, display_name = v.display_name, password_hash = hash,
    role_id = v.role_id, is_active = v.is_active, now = time.rfc3339(time.now()),
  })
  if not ok then
    if code == "unique" then
      return http.error(409, "username already exists")
    end
    if code == "foreign_key" then
      return http.error(400, "role not found")
    end
    return http_errors.db_failure(err, code)
  end
  principal.changed()
  log.info("user created", { user_id = id, username = v.username, by = req.principal and req.principal.username })
  return answer(id, 201)
end

-- Applies a partial change, refusing to lose the last administrator; a deactivation ends the
-- user's sessions. Shared with PUT /auth/me (which passes only email and display_name).
-- -> status, body
function M.apply_update(id, v)
  if v.role_id then
    local ok, status, body = role_exists(v.role_id)
    if not ok then
      return status, body
    end
  end
  local now = time.rfc3339(time.now())
  local ok, err, code = db.tx(function()
    local u, e, c = users.get(id)
    if not u then
      return nil, e or { 404, "user not found" }, c
    end
    local leaves_admins = (v.is_active == false and u.is_active) or (v.role_id and v.role_id ~= u.role_id)
    if leaves_admins then
      local others, is_admin, c2 = admins.others(id)
      if not others then
        return nil, is_admin, c2
      end
      if is_admin and others == 0 then
        local target_admin = false
        if v.is_active ~= false then -- a role change only: is the new role an admin role?
          local ids
          ids, e, c = admins.role_ids()
          if not ids then
            return nil, e, c
          end
          for _, rid in ipairs(ids) do
            target_admin = target_admin or rid == v.role_id
          end
        end
        if not target_admin then
          return nil, LAST_ADMIN_UPDATE
        end
      end
    end
    local n
    n, e, c = users.update(id, v, now)
    if not n then
      return nil, e, c
    end
    if v.is_active == false and u.is_active then
      n, e, c = sessions.revoke_all_for_user(id, now)
      if not n then
        return nil, e, c
      end
    end
    return true
  end)
  if not ok then
    if code == "foreign_key" then
      return http.error(400, "role not found")
    end
    return failure(err, code)
  end
  principal.changed()
  return answer(id)
end

function M.update(req)
  local v, status, err_body = request_body.parse(req, UPDATE)
  if not v then
    return status, err_body
  end
  return M.apply_update(req.params.id, v)
end

function M.delete(req)
  local id = req.params.id
  if req.principal and req.principal.id == id then
    return http.error(400, "cannot delete your own account")
  end
  local ok, err, code = db.tx(function()
    local u, e, c = users.get(id)
    if not u then
      return nil, e or { 404, "user not found" }, c
    end
    if u.is_active then
      local others, is_admin, c2 = admins.others(id)
      if not others then
        return nil, is_admin, c2
      end
      if is_admin and others == 0 then
        return nil, LAST_ADMIN_DELETE
      end
    end
    local n
    n, e, c = users.delete(id)
    if not n then
      return nil, e, c
    end
    return true
  end)
  if not ok then
    return failure(err, code)
  end
  principal.changed()
  log.info("user deleted", { user_id = id, by = req.principal and req.principal.username })
  return 204
end

-- Clears a lockout (failure count and lock time); enabling and disabling is is_active.
function M.unlock(req)
  local u, status, body = M.load(req.params.id)
  if not u then
    return status, body
  end
  local n, err, code = users.unlock(u.id, time.rfc3339(time.now()))
  if not n then
    return http_errors.db_failure(err, code)
  end
  principal.changed()
  return answer(u.id)
end

return M
