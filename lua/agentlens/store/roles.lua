-- SPDX-License-Identifier: Apache-2.0
-- SQL for roles. Failures return nil, message, code (see agentlens.db).
local db = require "agentlens.db"
local json = require "agentlens.json"

local M = {}

local COLUMNS = "id, name, description, permissions, is_system, created_at, updated_at"

-- Rows carry permissions decoded into a list.
local function decode(row)
  local list = type(row.permissions) == "string" and json.decode(row.permissions)
  row.permissions = type(list) == "table" and list or {}
  return row
end

local function decode_all(rows)
  for _, row in ipairs(rows) do
    decode(row)
  end
  return rows
end

function M.count()
  local rows, err, code = db.query("SELECT count(*) AS n FROM roles")
  if not rows then
    return nil, err, code
  end
  return rows[1].n
end

function M.list(limit, offset)
  local rows, err, code = db.query("SELECT " .. COLUMNS .. " FROM roles ORDER BY name LIMIT ? OFFSET ?", limit, offset)
  if not rows then
    return nil, err, code
  end
  return decode_all(rows)
end

-- Every role (the administrator check needs them all; there are few).
function M.all()
  local rows, err, code = db.query("SELECT " .. COLUMNS .. " FROM roles ORDER BY name")
  if not rows then
    return nil, err, code
  end
  return decode_all(rows)
end

-- get(id) -> row | false (no such role) | nil, message, code
function M.get(id)
  local rows, err, code = db.query("SELECT " .. COLUMNS .. " FROM roles WHERE id = ?", id)
  if not rows then
    return nil, err, code
  end
  return rows[1] and decode(rows[1]) or false
end

-- by_name(name) -> row | false | nil, message, code
function M.by_name(name)
  local rows, err, code = db.query("SELECT " .. COLUMNS .. " FROM roles WHERE name = ?", name)
  if not rows then
    return nil, err, code
  end
  return rows[1] and decode(rows[1]) or false
end

-- insert(role) with id, name, description, permissions (list), is_system, created_at.
function M.insert(r)
  return db.exec("INSERT INTO roles (" .. COLUMNS .. ") VALUES (?, ?, ?, ?, ?, ?, ?)", r.id, r.name,
    r.description or "", json.encode(json.array(r.permissions)), r.is_system and true or false, r.created_at,
    r.created_at)
end

-- update(id, fields, now): fields may hold name, description, permissions. -> affected rows
function M.update(id, fields, now)
  local sets, args = {}, {}
  for _, col in ipairs({ "name", "description" }) do
    if fields[col] ~= nil then
      sets[#sets + 1] = col .. " = ?"
      args[#args + 1] = fields[col]
    end
  end
  if fields.permissions ~= nil then
    sets[#sets + 1] = "permissions = ?"
    args[#args + 1] = json.encode(json.array(fields.permissions))
  end
  sets[#sets + 1] = "updated_at = ?"
  args[#args + 1] = now
  args[#args + 1] = id
  return db.exec("UPDATE roles SET " .. table.concat(sets, ", ") .. " WHERE id = ?", unpack(args))
end

function M.delete(id)
  return db.exec("DELETE FROM roles WHERE id = ?", id)
end

-- users_count(id) -> number of users holding the role
function M.users_count(id)
  local rows, err, code = db.query("SELECT count(*) AS n FROM users WHERE role_id = ?", id)
  if not rows then
    return nil, err, code
  end
  return rows[1].n
end

return M
