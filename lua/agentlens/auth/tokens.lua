-- SPDX-License-Identifier: Apache-2.0
-- Access tokens (JWT HS256, signed in C) and the session cookie that carries them.
local config = require "agentlens.config"
local crypto = require "agentlens.crypto"
local json = require "agentlens.json"
local time = require "agentlens.time"

local M = {}

M.COOKIE = "agentlens_token"

-- issue(s) -> token, exp (seconds) | nil, message.
-- s = {user_id, username, role_id, permissions (list), session_id, session_expires (seconds)}.
-- A token lives auth.session_duration, never beyond the end of its session. The permissions
-- claim is informational (for old clients and scripts): requests resolve them from the database.
function M.issue(s)
  local now = math.floor(time.now())
  local exp = now + math.floor(config.get("auth.session_duration") / 1000)
  local limit = math.floor(s.session_expires)
  if exp > limit then
    exp = limit
  end
  if exp <= now then
    return nil, "the session has reached its maximum lifetime; log in again"
  end
  local permissions = {}
  for i, p in ipairs(s.permissions) do
    permissions[i] = p
  end
  local jti, err = crypto.random_hex(16)
  if not jti then
    return nil, err
  end
  local token
  token, err = crypto.jwt_sign({
    sub = s.user_id,
    sid = s.session_id,
    iat = now,
    nbf = now,
    exp = exp,
    jti = jti,
    user_id = s.user_id,
    username = s.username,
    role_id = s.role_id,
    permissions = json.array(permissions),
  })
  if not token then
    return nil, err
  end
  return token, exp
end

local function attributes()
  return "; Path=/; HttpOnly; SameSite=Strict" .. (config.get("auth.cookie_secure") and "; Secure" or "")
end

-- Set-Cookie value carrying token: a session cookie (no Max-Age), HttpOnly, SameSite=Strict,
-- Secure unless auth.cookie_secure is off (plain-HTTP development).
function M.cookie(token)
  return M.COOKIE .. "=" .. token .. attributes()
end

-- Set-Cookie value that makes the browser drop the cookie.
function M.clear_cookie()
  return M.COOKIE .. "=" .. attributes() .. "; Max-Age=0"
end

return M
