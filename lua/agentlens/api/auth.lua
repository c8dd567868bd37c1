-- SPDX-License-Identifier: Apache-2.0
-- Login, logout, token refresh and self-service (profile, password).
local config = require "agentlens.config"
local crypto = require "agentlens.crypto"
local db = require "agentlens.db"
local http = require "agentlens.http"
local log = require "agentlens.log"
local time = require "agentlens.time"
local http_errors = require "agentlens.lib.http_errors"
local passwords = require "agentlens.auth.passwords"
local principal = require "agentlens.auth.principal"
local request_body = require "agentlens.lib.request_body"
local sessions = require "agentlens.store.sessions"
local tokens = require "agentlens.auth.tokens"
local users = require "agentlens.store.users"
local users_api = require "agentlens.api.users"

local M = {}

local LOCK_SECONDS = 15 * 60

local function cookie_header(token)
  return { ["Set-Cookie"] = token and tokens.cookie(token) or tokens.clear_cookie() }
end

local function sorted_permissions(set)
  local list = {}
  for p in pairs(set) do
    list[#list + 1] = p
  end
  table.sort(list)
  return list
end

local function login_failed(username, reason, status, message)
  log.info("login refused", { username = username:sub(1, 64), reason = reason })
  return http.error(status, message)
end

-- POST /auth/login {username, password}. The password is checked first, for every request and
-- in constant time (a dummy hash for unknown users); only a caller who knows the password
-- learns that the account is disabled (403) or locked (423). A wrong password counts towards
-- the lockout (5 failures lock for 15 minutes), also while locked.
function M.login(req)
  local body, status, err_body = request_body.object(req)
  if not body then
    return status, err_body
  end
  local username, password = body.username, body.password
  if type(username) ~= "string" or username == "" or type(password) ~= "string" or password == "" then
    return http.error(400, "username and password are required")
  end
  local u, err, code = users.by_username(username)
  if u == nil then
    return http_errors.db_failure(err, code)
  end
  local right = crypto.password_verify(password, u and u.password_hash or nil)
  if not u then
    return login_failed(username, "invalid_credentials", 401, "invalid credentials")
  end
  local now = time.now()
  local now_text = time.rfc3339(now)
  if not right then
    local r
    r, err, code = users.record_failure(u.id, now_text, time.rfc3339(now + LOCK_SECONDS))
    if r == nil then
      return http_errors.db_failure(err, code)
    end
    principal.changed()
    if r and r.locked_until and r.failed_attempts == users.MAX_FAILED_ATTEMPTS then
      log.warn("account locked after repeated login failures", { user_id = u.id, username = u.username })
    end
    return login_failed(username, "invalid_credentials", 401, "invalid credentials")
  end
  if not u.is_active then
    return login_failed(username, "account_disabled", 403, "account is disabled")
  end
  local locked_until = u.locked_until and time.parse_rfc3339(u.locked_until)
  if locked_until and locked_until > now then
    return login_failed(username, "account_locked", 423, "account is locked, try again later")
  end
  local session = {
    id = crypto.uuid(),
    user_id = u.id,
    now = now_text,
    expires = now + config.get("auth.session_max_lifetime") / 1000,
  }
  session.expires_at = time.rfc3339(session.expires)
  local ok
  ok, err, code = db.tx(function()
    local n, e, c = users.record_login(u.id, now_text)
    if n then
      n, e, c = sessions.create(session)
    end
    if not n then
      return nil, e, c
    end
    return true
  end)
  if not ok then
    return http_errors.db_failure(err, code)
  end
  principal.changed()
  local dropped = sessions.delete_expired(now_text)
  if not dropped then
    log.debug("could not delete expired sessions")
  end
  local perms = users_api.view(u).role.permissions
  local token
  token, err = tokens.issue({
    user_id = u.id, username = u.username, role_id = u.role_id, permissions = perms,
    session_id = session.id, session_expires = time.parse_rfc3339(session.expires_at),
  })
  if not token then
    error("cannot issue a token: " .. tostring(err))
  end
  log.info("login", { user_id = u.id, username = u.username })
  u.last_login, u.failed_attempts, u.locked_until = now_text, 0, nil
  return 200, { token = token, user = users_api.view(u) }, cookie_header(token)
end

-- POST /auth/logout: ends the session of the presented token (if it is valid) and clears the
-- cookie; answers 200 in any case.
function M.logout(req)
  local p = req.principal
  if p then
    local n, err, code = sessions.revoke(p.session_id, time.rfc3339(time.now()))
    if not n then
      return http_errors.db_failure(err, code)
    end
    principal.changed()
    log.info("logout", { user_id = p.id, username = p.username })
  end
  return 200, { message = "logged out" }, cookie_header(nil)
end

-- POST /auth/refresh: a new token in the same session, never beyond its absolute lifetime.
function M.refresh(req)
  local p = req.principal
  local now = time.now()
  if p.session_expires - now < 1 then
    return http.error(401, "the session has reached its maximum lifetime; log in again")
  end
  local token, err = tokens.issue({
    user_id = p.id, username = p.username, role_id = p.role_id, permissions = sorted_permissions(p.permissions),
    session_id = p.session_id, session_expires = p.session_expires,
  })
  if not token then
    error("cannot issue a token: " .. tostring(err))
  end
  local n, db_err, code = sessions.touch(p.session_id, time.rfc3339(now))
  if not n then
    return http_errors.db_failure(db_err, code)
  end
  return 200, { token = token }, cookie_header(token)
end

-- GET /auth/me
function M.me(req)
  local u, status, body = users_api.load(req.principal.id)
  if not u then
    return status, body
  end
  return 200, users_api.view(u)
end

local PROFILE = { fields = { users_api.EMAIL, users_api.DISPLAY_NAME } }

-- PUT /auth/me {email, display_name}: self-service profile (role and activation stay with
-- the administrators).
function M.update_me(req)
  local v, status, err_body = request_body.parse(req, PROFILE)
  if not v then
    return status, err_body
  end
  return users_api.apply_update(req.principal.id, v)
end

local CHANGE_PASSWORD = {
  fields = { { name = "current_password", required = true, secret = true, max = 1000 },
    { name = "new_password", required = true, secret = true, max = 1000 } },
}

-- PUT /auth/password {current_password, new_password}: on success every session of the user
-- ends, this one included; the client logs in again with the new password.
function M.change_password(req)
  local v, status, err_body = request_body.parse(req, CHANGE_PASSWORD)
  if not v then
    return status, err_body
  end
  local weak = passwords.problem(v.new_password)
  if weak then
    return http.error(400, weak, { { field = "new_password", message = weak } })
  end
  local u
  u, status, err_body = users_api.load(req.principal.id)
  if not u then
    return status, err_body
  end
  if not crypto.password_verify(v.current_password, u.password_hash) then
    return http.error(401, "current password is incorrect")
  end
  if v.new_password == v.current_password then
    return http.error(400, "the new password must differ from the current one")
  end
  local hash, err = crypto.password_hash(v.new_password) -- on the work pool: never inside db.tx
  if not hash then
    return http.error(400, err, { { field = "new_password", message = err } })
  end
  local now = time.rfc3339(time.now())
  local ok, code
  ok, err, code = db.tx(function()
    local n, e, c = users.set_password(u.id, hash, now)
    if n then
      n, e, c = sessions.revoke_all_for_user(u.id, now)
    end
    if not n then
      return nil, e, c
    end
    return true
  end)
  if not ok then
    return http_errors.db_failure(err, code)
  end
  principal.changed()
  log.info("password changed; sessions ended", { user_id = u.id, username = u.username })
  return 200, { message = "password changed" }, cookie_header(nil)
end

return M
