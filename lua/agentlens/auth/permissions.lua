-- SPDX-License-Identifier: Apache-2.0
-- The permissions a role can grant ("resource:action"), with what each allows.
local M = {}

-- In the order the API lists them; role-admin holds all of them.
M.LIST = {
  { name = "catalog:read", description = "List and read catalog entries and their capabilities" },
  { name = "catalog:write", description = "Register, import and change catalog entries" },
  { name = "catalog:delete", description = "Delete catalog entries" },
  { name = "users:read", description = "List and read user accounts" },
  { name = "users:write", description = "Create, change and unlock user accounts" },
  { name = "users:delete", description = "Delete user accounts" },
  { name = "roles:read", description = "List and read roles" },
  { name = "roles:write", description = "Create, change and delete custom roles" },
  { name = "settings:read", description = "Read runtime settings" },
  { name = "settings:write", description = "Change runtime settings; reload the Lua modules" },
  { name = "service_accounts:read", description = "List and read service accounts" },
  { name = "service_accounts:write", description = "Create service accounts and rotate their secrets" },
  { name = "service_accounts:revoke", description = "Revoke service-account credentials" },
}

local known = {}
for _, p in ipairs(M.LIST) do
  known[p.name] = true
end

function M.is_known(name)
  return known[name] == true
end

-- set(list) -> {name = true}
function M.set(list)
  local s = {}
  for _, name in ipairs(list) do
    s[name] = true
  end
  return s
end

-- Whether the permission set (a table name -> true) holds every known permission: the users
-- holding such a role are the administrators that must never all disappear.
function M.is_admin_set(set)
  for _, p in ipairs(M.LIST) do
    if not set[p.name] then
      return false
    end
  end
  return true
end

return M
