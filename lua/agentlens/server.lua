-- SPDX-License-Identifier: Apache-2.0
-- Dispatch: validates the route table when a generation loads, then resolves the caller, runs
-- the policy and the handler.
local http_errors = require "agentlens.lib.http_errors"
local log = require "agentlens.log"
local principal = require "agentlens.auth.principal"
local policy = require "agentlens.policy"

local M = {}

local METHODS = { GET = true, POST = true, PUT = true, PATCH = true, DELETE = true }

local routes -- validated entries, in route table order (the C router uses the same indices)

local function check_route(i, r)
  local where = ("agentlens.app: routes[%d]"):format(i)
  if type(r) ~= "table" then
    error(where .. ": expected a table", 0)
  end
  if not METHODS[r.method] then
    error(("%s: method %q is not one of GET, POST, PUT, PATCH, DELETE"):format(where, tostring(r.method)), 0)
  end
  if type(r.path) ~= "string" or not r.path:match("^/api/") then
    error(("%s: path must be a string starting with /api/ (got %s)"):format(where, tostring(r.path)), 0)
  end
  where = ("%s (%s %s)"):format(where, r.method, r.path)
  if type(r.handler) ~= "function" then
    error(where .. ": handler must be a function, got " .. type(r.handler), 0)
  end
  local ok, why = policy.valid_permission(r.permission)
  if not ok then
    error(where .. ": " .. why, 0)
  end
  return { method = r.method, path = r.path, permission = r.permission, handler = r.handler }
end

-- Validates agentlens.app and the operator policy rules; returns {method, path} per route for
-- the C router.
function M.init()
  local app = require "agentlens.app"
  if type(app) ~= "table" or type(app.routes) ~= "table" then
    error("agentlens.app must return a table with a 'routes' list", 0)
  end
  local n = 0
  for _ in pairs(app.routes) do
    n = n + 1
  end
  if n ~= #app.routes then
    error("agentlens.app: routes must be a list without holes", 0)
  end
  routes = {}
  local list = {}
  for i, r in ipairs(app.routes) do
    routes[i] = check_route(i, r)
    list[i] = { method = r.method, path = r.path }
  end
  policy.init()
  return list
end

-- Called by the C core for every matched /api request: returns status, body[, headers].
-- req.principal is the caller (nil when anonymous); public routes ignore a bad token.
function M.dispatch(index, req)
  local route = routes[index]
  local who, problem, why, code = principal.resolve(req)
  if who then
    req.principal = who
  elseif problem == "unavailable" then
    if route.permission ~= "public" then
      return http_errors.db_failure(why, code)
    end
    problem = "missing"
  elseif problem == "invalid" then
    log.debug("token rejected", { reason = why })
  end
  local status, body, headers = policy.authorize(route, req, who, problem)
  if status then
    return status, body, headers
  end
  return route.handler(req)
end

return M
