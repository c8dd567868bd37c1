-- SPDX-License-Identifier: Apache-2.0
-- The route table: method, path pattern ({name} parameters), permission, handler.
-- Permissions are "public", "authenticated" or "<resource>:<action>"; the policy decides.
local auth = require "agentlens.api.auth"
local roles = require "agentlens.api.roles"
local settings = require "agentlens.api.settings"
local system = require "agentlens.api.system"
local users = require "agentlens.api.users"

return {
  routes = {
    { method = "GET", path = "/api/v1/version", permission = "public", handler = system.version },

    { method = "POST", path = "/api/v1/auth/login", permission = "public", handler = auth.login },
    { method = "POST", path = "/api/v1/auth/logout", permission = "public", handler = auth.logout },
    { method = "POST", path = "/api/v1/auth/refresh", permission = "authenticated", handler = auth.refresh },
    { method = "GET", path = "/api/v1/auth/me", permission = "authenticated", handler = auth.me },
    { method = "PUT", path = "/api/v1/auth/me", permission = "authenticated", handler = auth.update_me },
    { method = "PUT", path = "/api/v1/auth/password", permission = "authenticated", handler = auth.change_password },
    { method = "GET", path = "/api/v1/permissions", permission = "authenticated", handler = roles.permissions },

    { method = "GET", path = "/api/v1/users", permission = "users:read", handler = users.list },
    { method = "POST", path = "/api/v1/users", permission = "users:write", handler = users.create },
    { method = "GET", path = "/api/v1/users/{id}", permission = "users:read", handler = users.get },
    { method = "PUT", path = "/api/v1/users/{id}", permission = "users:write", handler = users.update },
    { method = "DELETE", path = "/api/v1/users/{id}", permission = "users:delete", handler = users.delete },
    { method = "POST", path = "/api/v1/users/{id}/unlock", permission = "users:write", handler = users.unlock },

    { method = "GET", path = "/api/v1/roles", permission = "roles:read", handler = roles.list },
    { method = "POST", path = "/api/v1/roles", permission = "roles:write", handler = roles.create },
    { method = "GET", path = "/api/v1/roles/{id}", permission = "roles:read", handler = roles.get },
    { method = "PUT", path = "/api/v1/roles/{id}", permission = "roles:write", handler = roles.update },
    { method = "DELETE", path = "/api/v1/roles/{id}", permission = "roles:write", handler = roles.delete },

    { method = "GET", path = "/api/v1/settings", permission = "settings:read", handler = settings.list },
    { method = "PUT", path = "/api/v1/settings", permission = "settings:write", handler = settings.update },
    { method = "GET", path = "/api/v1/settings/{category}", permission = "settings:read", handler = settings.category },

    { method = "GET", path = "/api/v1/system", permission = "settings:write", handler = system.status },
    { method = "POST", path = "/api/v1/system/reload", permission = "settings:write", handler = system.reload },
  },
}
