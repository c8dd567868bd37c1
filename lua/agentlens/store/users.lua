-- SPDX-License-Identifier: Apache-2.0
-- SQL for users. Rows include the user's role (role_* columns). Failures return nil, message,
-- code (see agentlens.db).
local db = require "agentlens.db"

local M = {}

-- Lockout rule, applied atomically in SQL so that parallel wrong passwords all count.
M.MAX_FAILED_ATTEMPTS = 5

local SELECT = [[
SELECT u.id, u.username, u.email, u.display_name, u.password_hash, u.role_id, u.is_active,
       u.last_login, u.failed_attempts, u.locked_until, u.created_at, u.updated_at,
       r.name AS role_name, r.description AS role_description, r.permissions AS role_permissions,
       r.is_system AS role_is_system, r.created_at AS role_created_at, r.updated_at AS role_updated_at
FROM users u JOIN roles r ON r.id = u.role_id
]]

local function one(rows, err, code)
  if not rows then
    return nil, err, code
  end
  return rows[1] or false
end

function M.count()
  local rows, err, code = db.query("SELECT count(*) AS n FROM users")
  if not rows then
    return nil, err, code
  end
  return rows[1].n
end

function M.list(limit, offset)
  return db.query(SELECT .. "ORDER BY u.username LIMIT ? OFFSET ?", limit, offset)
end

-- get(id) -> row | false | nil, message, code
function M.get(id)
  return one(db.query(SELECT .. "WHERE u.id = ?", id))
end

-- by_username(name) -> row | false | nil, message, code
function M.by_username(username)
  return one(db.query(SELECT .. "WHERE u.username = ?", username))
end

-- insert(u): id, username, email, display_name, password_hash, role_id, is_active, now.
function M.insert(u)
  return db.exec([[INSERT INTO users (id, username, email, display_name, password_hash, role_id, is_active,
    failed_attempts, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, 0, ?, ?)]], u.id, u.username, u.email or "",
    u.display_name or "", u.password_hash, u.role_id, u.is_active ~= false, u.now, u.now)
end

-- update(id, fields, now): fields may hold email, display_name, role_id, is_active.
function M.update(id, fields, now)
  local sets, args = {}, {}
  for _, col in ipairs({ "email", "display_name", "role_id", "is_active" }) do
    if fields[col] ~= nil then
      sets[#sets + 1] = col .. " = ?"
      args[#args + 1] = fields[col]
    end
  end
  sets[#sets + 1] = "updated_at = ?"
  args[#args + 1] = now
  args[#args + 1] = id
  return db.exec("UPDATE users SET " .. table.concat(sets, ", ") .. " WHERE id = ?", unpack(args))
end

function M.set_password(id, hash, now)
  return db.exec("UPDATE users SET password_hash = ?, updated_at = ? WHERE id = ?", hash, now, id)
end

function M.delete(id)
  return db.exec("DELETE FROM users WHERE id = ?", id)
end

-- A wrong password: counts the failure and locks the account on the fifth. A lock that has
-- expired starts the count again; a wrong password during a lock counts but does not extend
-- it. -> {failed_attempts, locked_until} | false (no such user) | nil, message, code
function M.record_failure(id, now, lock_until)
  local n, rows_or_err, code = db.exec([[
UPDATE users SET
  failed_attempts = CASE WHEN locked_until IS NOT NULL AND locked_until <= ? THEN 1 ELSE failed_attempts + 1 END,
  locked_until = CASE
    WHEN locked_until IS NOT NULL AND locked_until > ? THEN locked_until
    WHEN locked_until IS NOT NULL THEN NULL
    WHEN failed_attempts + 1 >= ? THEN ?
    ELSE NULL END,
  updated_at = ?
WHERE id = ?
RETURNING failed_attempts, locked_until]], now, now, M.MAX_FAILED_ATTEMPTS, lock_until, now, id)
  if not n then
    return nil, rows_or_err, code
  end
  return rows_or_err and rows_or_err[1] or false
end

-- A successful login: clears the failure count and any lock, records the time.
function M.record_login(id, now)
  return db.exec([[UPDATE users SET failed_attempts = 0, locked_until = NULL, last_login = ?, updated_at = ?
    WHERE id = ?]], now, now, id)
end

function M.unlock(id, now)
  return db.exec("UPDATE users SET failed_attempts = 0, locked_until = NULL, updated_at = ? WHERE id = ?", now, id)
end

-- Ids of the active users holding one of role_ids. Inside a transaction on PostgreSQL the rows
-- are locked, so two concurrent demotions cannot both see the other administrator (SQLite
-- transactions already exclude each other).
function M.active_ids_with_roles(role_ids)
  if #role_ids == 0 then
    return {}
  end
  local marks = ("?, "):rep(#role_ids - 1) .. "?"
  local sql = "SELECT id FROM users WHERE is_active = ? AND role_id IN (" .. marks .. ") ORDER BY id"
  if db.dialect() == "postgres" then
    sql = sql .. " FOR UPDATE"
  end
  local rows, err, code = db.query(sql, true, unpack(role_ids))
  if not rows then
    return nil, err, code
  end
  local ids = {}
  for i, r in ipairs(rows) do
    ids[i] = r.id
  end
  return ids
end

return M
