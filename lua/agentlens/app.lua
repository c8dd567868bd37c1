-- SPDX-License-Identifier: Apache-2.0
-- The route table: method, path pattern ({name} parameters), permission, handler.
-- Permissions are "public", "authenticated" or "<resource>:<action>"; the policy decides.
local system = require "agentlens.api.system"

return {
  routes = {
    { method = "GET", path = "/api/v1/version", permission = "public", handler = system.version },
    { method = "GET", path = "/api/v1/system/lua", permission = "settings:read", handler = system.lua_status },
    { method = "POST", path = "/api/v1/system/reload", permission = "settings:write", handler = system.reload },
  },
}
