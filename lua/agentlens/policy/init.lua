-- SPDX-License-Identifier: Apache-2.0
-- Who may use a route: operator rules from scripts first (first match wins), then the built-in
-- RBAC from the route's permission ("public", "authenticated" or "resource:action").
local http = require "agentlens.http"
local rules_mod = require "agentlens.policy.rules"

local M = {}

local rules, sources = {}, {}

-- "public", "authenticated" or "<resource>:<action>" in lower case.
function M.valid_permission(p)
  if p == "public" or p == "authenticated" then
    return true
  end
  if type(p) == "string" and p:match("^[a-z_]+:[a-z_]+$") then
    return true
  end
  return false, ("permission must be \"public\", \"authenticated\" or \"resource:action\", got %s"):format(
    type(p) == "string" and ("%q"):format(p) or type(p))
end

-- Loads and validates the operator rules of the generation's scripts (policy rules, and the
-- shape of discovery rules: agentlens.discovery.rules); raises on a bad shape.
function M.init()
  local scripts = require "agentlens.scripts"
  rules, sources = rules_mod.load(scripts)
  require("agentlens.discovery.rules").validate(scripts)
end

-- What a rule's `when` sees; a fresh copy per request, so a script cannot change the
-- principal other requests share.
local function context(route, req, principal)
  local user
  if principal then
    local permissions = {}
    for p in pairs(principal.permissions) do
      permissions[p] = true
    end
    user = {
      id = principal.id,
      username = principal.username,
      role = principal.role,
      role_id = principal.role_id,
      permissions = permissions,
    }
  end
  return {
    route = { method = route.method, path = route.path, permission = route.permission },
    user = user,
    request = {
      method = req.method,
      path = req.path,
      peer = req.peer,
      header = function(name)
        local headers = req.headers
        return type(headers) == "table" and type(name) == "string" and headers[name:lower()] or nil
      end,
    },
  }
end

local function unauthorized(message, bearer_error)
  local challenge = 'Bearer realm="agentlens"' .. (bearer_error and (', error="%s"'):format(bearer_error) or "")
  local status, body = http.error(401, message)
  return status, body, { ["WWW-Authenticate"] = challenge }
end

-- authorize(route, req, principal, problem) -> nothing when the request may proceed, else
-- status, body[, headers]. problem is why there is no principal: "missing" or "invalid".
function M.authorize(route, req, principal, problem)
  if #rules > 0 then
    local rule, err = rules_mod.evaluate(rules, sources, context(route, req, principal))
    if err then
      return http.error(403, "access denied: a policy rule failed")
    end
    if rule then
      if rule.decision == "allow" then
        return
      end
      return http.error(rule.status, rule.message)
    end
  end
  if route.permission == "public" then
    return
  end
  if not principal then
    if problem == "invalid" then
      return unauthorized("invalid or expired token", "invalid_token")
    end
    return unauthorized("authentication required")
  end
  if route.permission == "authenticated" or principal.permissions[route.permission] then
    return
  end
  return http.error(403, "insufficient permissions")
end

return M
