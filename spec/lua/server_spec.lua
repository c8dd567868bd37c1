-- SPDX-License-Identifier: Apache-2.0
-- The dispatcher's route table validation and the policy's permission rules.
local policy = require "agentlens.policy"

local function with_app(routes, fn)
  package.loaded["agentlens.app"] = { routes = routes }
  package.loaded["agentlens.server"] = nil
  local ok, err = pcall(function()
    return fn(require "agentlens.server")
  end)
  package.loaded["agentlens.app"] = nil
  package.loaded["agentlens.server"] = nil
  if not ok then
    error(err, 0)
  end
end

local function handler()
  return 200, { ok = true }
end

describe("agentlens.server", function()
  it("returns method and path per route, in order", function()
    with_app({
      { method = "GET", path = "/api/a", permission = "public", handler = handler },
      { method = "POST", path = "/api/b/{id}", permission = "catalog:write", handler = handler },
    }, function(server)
      assert.same({ { method = "GET", path = "/api/a" }, { method = "POST", path = "/api/b/{id}" } }, server.init())
    end)
  end)

  it("dispatches public routes to their handler", function()
    with_app({ { method = "GET", path = "/api/a", permission = "public", handler = handler } }, function(server)
      server.init()
      local status, body = server.dispatch(1, {})
      assert.equal(200, status)
      assert.same({ ok = true }, body)
    end)
  end)

  it("refuses protected routes without authentication", function()
    with_app({ { method = "GET", path = "/api/a", permission = "catalog:read", handler = handler } }, function(server)
      server.init()
      local status, body = server.dispatch(1, {})
      assert.equal(401, status)
      assert.same({ error = "authentication required" }, body)
    end)
  end)

  local function route(method, path, permission, h)
    return { method = method, path = path, permission = permission, handler = h }
  end
  local bad = {
    { "method", route("FETCH", "/api/a", "public", handler), "method \"FETCH\"" },
    { "path", route("GET", "/a", "public", handler), "must be a string starting with /api/" },
    { "handler", route("GET", "/api/a", "public", "x"), "handler must be a function" },
    { "permission", route("GET", "/api/a", "Catalog", handler), "permission must be" },
    { "missing permission", { method = "GET", path = "/api/a", handler = handler }, "got nil" },
  }
  for _, case in ipairs(bad) do
    it("rejects a route with a bad " .. case[1], function()
      with_app({ case[2] }, function(server)
        local ok, err = pcall(server.init)
        assert.is_false(ok)
        assert.matches(case[3], err, 1, true)
        assert.matches("routes[1]", err, 1, true)
      end)
    end)
  end

  it("rejects a route list with holes", function()
    with_app({ [1] = { method = "GET", path = "/api/a", permission = "public", handler = handler }, [3] = {} },
      function(server)
        local ok, err = pcall(server.init)
        assert.is_false(ok)
        assert.matches("without holes", err, 1, true)
      end)
  end)
end)

describe("agentlens.policy", function()
  it("accepts public, authenticated and resource:action", function()
    assert.is_true(policy.valid_permission("public"))
    assert.is_true(policy.valid_permission("authenticated"))
    assert.is_true(policy.valid_permission("catalog:read"))
    assert.is_false(policy.valid_permission("catalog"))
    assert.is_false(policy.valid_permission(42))
  end)
end)
