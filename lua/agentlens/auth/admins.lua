-- SPDX-License-Identifier: Apache-2.0
-- The administrators: active users whose role grants every permission. Changes that would
-- leave none (demotion, deactivation, deletion, trimming a role) are refused.
local permissions = require "agentlens.auth.permissions"
local roles = require "agentlens.store.roles"
local users = require "agentlens.store.users"

local M = {}

-- role_ids([except_role_id]) -> ids of the roles granting every permission | nil, message, code
function M.role_ids(except_role_id)
  local all, err, code = roles.all()
  if not all then
    return nil, err, code
  end
  local ids = {}
  for _, r in ipairs(all) do
    if r.id ~= except_role_id and permissions.is_admin_set(permissions.set(r.permissions)) then
      ids[#ids + 1] = r.id
    end
  end
  return ids
end

-- active_ids([except_role_id]) -> ids of the active administrators (outside except_role_id) |
-- nil, message, code. Call inside the transaction that makes the change: on PostgreSQL the
-- rows stay locked until it ends.
function M.active_ids(except_role_id)
  local ids, err, code = M.role_ids(except_role_id)
  if not ids then
    return nil, err, code
  end
  return users.active_ids_with_roles(ids)
end

-- others(user_id) -> number of active administrators other than user_id, and whether user_id
-- is one | nil, message, code
function M.others(user_id)
  local ids, err, code = M.active_ids()
  if not ids then
    return nil, err, code
  end
  local is_admin = false
  for _, id in ipairs(ids) do
    if id == user_id then
      is_admin = true
    end
  end
  return #ids - (is_admin and 1 or 0), is_admin
end

return M
