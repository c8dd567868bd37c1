-- SPDX-License-Identifier: Apache-2.0
-- RBAC policy: decides whether a request may use a route, from the route's permission.
-- Accounts and roles are not in this build yet: only public routes are open.
local M = {}

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

-- Returns nothing when the request may proceed, else status, body.
function M.authorize(route, _req)
  if route.permission == "public" then
    return
  end
  return 401, { error = "authentication required" }
end

return M
