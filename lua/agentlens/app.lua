-- SPDX-License-Identifier: Apache-2.0
-- The route table: method, path pattern ({name} parameters), permission, handler.
-- Permissions are "public", "authenticated" or "<resource>:<action>"; the policy decides.
local auth = require "agentlens.api.auth"
local capabilities = require "agentlens.api.capabilities"
local catalog = require "agentlens.api.catalog"
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

    { method = "GET", path = "/api/v1/catalog", permission = "catalog:read", handler = catalog.list },
    { method = "POST", path = "/api/v1/catalog", permission = "catalog:write", handler = catalog.create },
    { method = "POST", path = "/api/v1/catalog/register", permission = "catalog:write", handler = catalog.register },
    { method = "POST", path = "/api/v1/catalog/validate", permission = "catalog:write", handler = catalog.validate },
    { method = "POST", path = "/api/v1/catalog/import", permission = "catalog:write", handler = catalog.import },
    { method = "GET", path = "/api/v1/catalog/{id}", permission = "catalog:read", handler = catalog.get },
    { method = "DELETE", path = "/api/v1/catalog/{id}", permission = "catalog:delete", handler = catalog.delete },
    { method = "GET", path = "/api/v1/catalog/{id}/card", permission = "catalog:read", handler = catalog.card },
    { method = "PATCH", path = "/api/v1/catalog/{id}/lifecycle", permission = "catalog:write",
      handler = catalog.lifecycle },
    { method = "POST", path = "/api/v1/catalog/{id}/probe", permission = "catalog:write", handler = catalog.probe },
    { method = "GET", path = "/api/v1/catalog/{id}/health", permission = "catalog:read", handler = catalog.health },
    { method = "GET", path = "/api/v1/catalog/{id}/drift", permission = "catalog:read", handler = catalog.drift },
    { method = "GET", path = "/api/v1/capabilities", permission = "catalog:read", handler = capabilities.list },
    { method = "GET", path = "/api/v1/capabilities/{key}", permission = "catalog:read", handler = capabilities.get },
    { method = "GET", path = "/api/v1/stats", permission = "catalog:read", handler = catalog.stats },

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
