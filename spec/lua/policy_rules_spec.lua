-- SPDX-License-Identifier: Apache-2.0
-- Operator policy rules: shape validation at load, first match wins, fail closed, and the
-- built-in RBAC behind them.
local policy = require "agentlens.policy"
local rules = require "agentlens.policy.rules"

local HERE = debug.getinfo(1, "S").source:sub(2) -- this file, as a script's chunk name

local function script(name, exports)
  return { name = name, file = HERE, exports = exports }
end

local function with_scripts(list, fn)
  package.loaded["agentlens.scripts"] = list
  local ok, err = pcall(function()
    policy.init()
    fn()
  end)
  package.loaded["agentlens.scripts"] = nil
  policy.init()
  if not ok then
    error(err, 0)
  end
end

local route = { method = "GET", path = "/api/v1/users", permission = "users:read" }
local viewer = { id = "u1", username = "v", role = "viewer", role_id = "role-viewer",
  permissions = { ["users:read"] = true } }
local req = { method = "GET", path = "/api/v1/users", headers = { ["x-team"] = "blue" } }

describe("agentlens.policy.rules", function()
  local function load_error(exports)
    local ok, err = pcall(rules.load, { script("s", exports) })
    assert.is_false(ok)
    return err
  end

  it("accepts well-formed rules and scripts without rules", function()
    local list = rules.load({
      script("a", {}),
      script("b", { rules = {
        { name = "r", when = function() end, decision = "deny", status = 404, message = "no" },
      } }),
    })
    assert.equal(1, #list)
    assert.equal(404, list[1].status)
  end)

  it("names the file, the index and the problem of a bad rule", function()
    local when = function() end
    assert.matches(HERE .. ': rules[1] ("x"): unknown field "decison"',
      load_error({ rules = { { name = "x", when = when, decison = "allow" } } }), 1, true)
    assert.matches('decision must be "allow" or "deny"', load_error({ rules = { { name = "x", when = when } } }), 1,
      true)
    assert.matches("when must be a function", load_error({ rules = { { name = "x", decision = "deny" } } }), 1, true)
    assert.matches("name must be a non-empty string", load_error({ rules = { { when = when, decision = "deny" } } }),
      1, true)
    assert.matches("status applies only to deny rules",
      load_error({ rules = { { name = "x", when = when, decision = "allow", status = 403 } } }), 1, true)
    assert.matches("status must be an HTTP error status",
      load_error({ rules = { { name = "x", when = when, decision = "deny", status = 200 } } }), 1, true)
    assert.matches("rules must be a list", load_error({ rules = "all" }), 1, true)
    assert.matches("rules[2]: expected a table", load_error({ rules = { { name = "x", when = when,
      decision = "deny" }, 5 } }), 1, true)
  end)
end)

describe("agentlens.policy.authorize", function()
  it("without rules: public, authenticated and permission routes", function()
    assert.is_nil(policy.authorize({ permission = "public" }, req, nil, "missing"))
    local status, body, headers = policy.authorize(route, req, nil, "missing")
    assert.equal(401, status)
    assert.equal("authentication required", body.error)
    assert.equal('Bearer realm="agentlens"', headers["WWW-Authenticate"])
    status, body = policy.authorize(route, req, nil, "invalid")
    assert.equal(401, status)
    assert.equal("invalid or expired token", body.error)
    assert.is_nil(policy.authorize(route, req, viewer))
    assert.is_nil(policy.authorize({ permission = "authenticated" }, req, viewer))
    status, body = policy.authorize({ permission = "users:write" }, req, viewer)
    assert.equal(403, status)
    assert.equal("insufficient permissions", body.error)
  end)

  it("the first matching rule decides, across scripts in order; no match falls back to RBAC", function()
    local seen
    with_scripts({
      script("10-first", { rules = {
        { name = "skip", when = function(ctx) seen = ctx; return false end, decision = "deny" },
        { name = "blue team", when = function(ctx) return ctx.request.header("X-Team") == "blue" end,
          decision = "deny", status = 451, message = "not for the blue team" },
      } }),
      script("20-second", { rules = { { name = "everyone", when = function() return true end, decision = "allow" } } }),
    }, function()
      local status, body = policy.authorize(route, req, viewer)
      assert.equal(451, status)
      assert.equal("not for the blue team", body.error)
      assert.same({ method = "GET", path = "/api/v1/users", permission = "users:read" }, seen.route)
      assert.equal("viewer", seen.user.role)
      assert.is_true(seen.user.permissions["users:read"])
      seen.user.permissions["users:write"] = true -- a script cannot widen the shared principal
      assert.is_nil(viewer.permissions["users:write"])
      -- another request: the later script's allow wins, even without a principal
      assert.is_nil(policy.authorize({ permission = "users:delete" }, { headers = {} }, nil, "missing"))
    end)
    with_scripts({ script("s", { rules = { { name = "never", when = function() return false end,
      decision = "allow" } } }) }, function()
      assert.equal(401, (policy.authorize(route, req, nil, "missing")))
    end)
  end)

  it("fails closed when a rule raises, yields or loops", function()
    local loop = function()
      while true do
        pcall(function()
          while true do
          end
        end)
      end
    end
    jit.off(loop, true) -- scripts run interpreted (the sandbox turns the JIT off for them)
    for _, when in ipairs({
      function(ctx) return ctx.user.username == "x" end, -- ctx.user is nil: raises
      function() coroutine.yield() end,
      loop,
    }) do
      with_scripts({ script("s", { rules = { { name = "bad", when = when, decision = "allow" } } }) }, function()
        local status, body = policy.authorize({ permission = "public" }, req, nil, "missing")
        assert.equal(403, status)
        assert.equal("access denied: a policy rule failed", body.error)
      end)
    end
  end)
end)
