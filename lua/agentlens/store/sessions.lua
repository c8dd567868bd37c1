-- SPDX-License-Identifier: Apache-2.0
-- SQL for sessions (one row per login). Failures return nil, message, code (see agentlens.db).
local db = require "agentlens.db"

local M = {}

-- create(s): id, user_id, now, expires_at.
function M.create(s)
  return db.exec("INSERT INTO sessions (id, user_id, created_at, expires_at, last_seen_at) VALUES (?, ?, ?, ?, ?)",
    s.id, s.user_id, s.now, s.expires_at, s.now)
end

-- What a request's principal is made of, in one query: the session, its user and the user's
-- role. -> row | false (no such session) | nil, message, code
function M.principal(id)
  local rows, err, code = db.query([[
SELECT s.id AS session_id, s.user_id, s.expires_at, s.revoked_at,
       u.username, u.is_active, u.role_id, r.name AS role_name, r.permissions
FROM sessions s JOIN users u ON u.id = s.user_id JOIN roles r ON r.id = u.role_id
WHERE s.id = ?]], id)
  if not rows then
    return nil, err, code
  end
  return rows[1] or false
end

function M.touch(id, now)
  return db.exec("UPDATE sessions SET last_seen_at = ? WHERE id = ?", now, id)
end

function M.revoke(id, now)
  return db.exec("UPDATE sessions SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL", now, id)
end

function M.revoke_all_for_user(user_id, now)
  return db.exec("UPDATE sessions SET revoked_at = ? WHERE user_id = ? AND revoked_at IS NULL", now, user_id)
end

-- Drops sessions past their absolute lifetime (they can never be used again).
function M.delete_expired(now)
  return db.exec("DELETE FROM sessions WHERE expires_at < ?", now)
end

return M
