-- SPDX-License-Identifier: Apache-2.0
-- Who is calling: token (Bearer header or cookie) -> verified claims -> session, user and role
-- from the database, cached per worker while the "auth" epoch is unchanged (every change to
-- users, roles or sessions bumps it) and for at most auth.cache_ttl.
local config = require "agentlens.config"
local crypto = require "agentlens.crypto"
local json = require "agentlens.json"
local log = require "agentlens.log"
local shared = require "agentlens.shared"
local time = require "agentlens.time"
local sessions = require "agentlens.store.sessions"
local tokens = require "agentlens.auth.tokens"

local M = {}

local EPOCH = "auth"
local MAX_ENTRIES = 10000

local cache, entries = {}, 0
local verified, nverified = {}, 0 -- token text -> claims, for tokens this worker verified

-- Call after any committed change to users, roles or sessions: every worker reloads.
function M.changed()
  shared.bump(EPOCH)
end

-- token(req) -> token | nil. A Bearer header wins over the cookie; another Authorization
-- scheme is ignored.
local function token_of(req)
  local headers = req.headers
  local authz = type(headers) == "table" and headers.authorization
  if authz then
    local t = authz:match("^[Bb][Ee][Aa][Rr][Ee][Rr]%s+(%S+)%s*$")
    if t then
      return t
    end
  end
  local cookies = req.cookies
  local c = type(cookies) == "table" and cookies[tokens.COOKIE]
  if c and c ~= "" then
    return c
  end
  return nil
end

local function permission_set(text)
  local list = type(text) == "string" and json.decode(text)
  local set = {}
  for _, p in ipairs(type(list) == "table" and list or {}) do
    set[p] = true
  end
  return set
end

-- Builds the principal of a session row, or nil, why when the row does not allow access.
local function from_row(row, now)
  if row.revoked_at ~= nil then
    return nil, "session revoked"
  end
  local expires = time.parse_rfc3339(row.expires_at)
  if not expires or expires <= now then
    return nil, "session expired"
  end
  if not row.is_active then
    return nil, "user disabled"
  end
  return {
    id = row.user_id,
    username = row.username,
    role_id = row.role_id,
    role = row.role_name,
    permissions = permission_set(row.permissions),
    session_id = row.session_id,
    session_expires = expires,
  }
end

local function ttl()
  return config.get("auth.cache_ttl") / 1000
end

-- resolve(req) -> principal, claims | nil, problem[, message, db_code].
-- problem: "missing" (no token), "invalid" (bad, expired or revoked token, or the account is
-- gone or disabled) or "unavailable" (the database failed; message and code say why).
-- The principal is shared by the worker's requests: read it, never change it.
function M.resolve(req)
  local token = token_of(req)
  if not token then
    return nil, "missing"
  end
  local now = time.now()
  -- Verifying HS256 costs tens of microseconds; a token this worker verified before is only
  -- re-checked for its time window (revocation is the session check below, every request).
  local claims, why = verified[token]
  if not claims or claims.exp <= now or (claims.nbf or 0) > now then
    claims, why = crypto.jwt_verify(token)
    if not claims then
      verified[token] = nil
      return nil, "invalid", why
    end
    if nverified >= MAX_ENTRIES then
      verified, nverified = {}, 0
    end
    verified[token], nverified = claims, nverified + 1
  end
  local sid, sub = claims.sid, claims.sub
  if type(sid) ~= "string" or type(sub) ~= "string" then
    return nil, "invalid", "token names no session"
  end
  local epoch = shared.get(EPOCH)
  local mono = time.monotonic()
  local hit = cache[sid]
  local p
  if hit and hit.epoch == epoch and mono - hit.at < ttl() then
    p = hit.principal
  else
    local row, err, code = sessions.principal(sid)
    if row == nil then
      return nil, "unavailable", err, code
    end
    if not row then
      return nil, "invalid", "unknown session"
    end
    p, why = from_row(row, now)
    if hit then
      cache[sid], entries = nil, entries - 1
    end
    if not p then
      return nil, "invalid", why
    end
    if entries >= MAX_ENTRIES then -- many sessions on this worker: start afresh
      cache, entries = {}, 0
    end
    cache[sid], entries = { principal = p, epoch = epoch, at = mono }, entries + 1
  end
  if p.id ~= sub then
    log.warn("token subject does not match its session", { session_id = sid })
    return nil, "invalid", "token subject does not match its session"
  end
  if p.session_expires <= now then
    return nil, "invalid", "session expired"
  end
  return p, claims
end

return M
