-- SPDX-License-Identifier: Apache-2.0
-- Pure account helpers: password policy and generator, paging, request body checks, the
-- settings schema.
local json = require "agentlens.json"
local paging = require "agentlens.lib.paging"
local passwords = require "agentlens.auth.passwords"
local permissions = require "agentlens.auth.permissions"
local request_body = require "agentlens.lib.request_body"
local schema = require "agentlens.settings.schema"

describe("agentlens.auth.passwords", function()
  it("accepts a password with 10+ characters, upper, lower, digit and symbol", function()
    assert.is_nil(passwords.problem("Abcdefgh1!"))
    assert.is_nil(passwords.problem("Пароль-Abc1")) -- non-ASCII counts as a symbol
  end)

  it("names exactly what is missing", function()
    assert.equal("password must contain an upper-case letter and a digit", passwords.problem("abcdefghij!"))
    assert.equal("password must contain at least 10 characters", passwords.problem("Ab1!efgh"))
    assert.equal("password must contain a lower-case letter", passwords.problem("ABCDEFGH1!X"))
    assert.equal("password must contain a symbol", passwords.problem("Abcdefghij1"))
    assert.equal("password must contain at least 10 characters, an upper-case letter, a digit and a symbol",
      passwords.problem("abc"))
    assert.equal("password is required", passwords.problem(""))
    assert.equal("password must be at most 72 bytes long", passwords.problem("Aa1!" .. ("x"):rep(69)))
  end)

  it("generates 20-character passwords of every class from the allowed alphabet", function()
    local seen = {}
    for _ = 1, 200 do
      local pw = passwords.generate()
      assert.equal(20, #pw)
      assert.is_nil(passwords.problem(pw))
      assert.truthy(pw:find("[!@#$%%^&*()]"), pw)
      assert.is_nil(pw:find("[^%w!@#$%%^&*()]"), pw)
      assert.is_nil(seen[pw])
      seen[pw] = true
    end
  end)
end)

describe("agentlens.auth.permissions", function()
  it("knows the 13 permissions of the reference, and which sets are administrators'", function()
    assert.equal(13, #permissions.LIST)
    assert.is_true(permissions.is_known("service_accounts:revoke"))
    assert.is_false(permissions.is_known("catalog:frobnicate"))
    local all = {}
    for i, p in ipairs(permissions.LIST) do
      all[i] = p.name
    end
    assert.is_true(permissions.is_admin_set(permissions.set(all)))
    table.remove(all)
    assert.is_false(permissions.is_admin_set(permissions.set(all)))
  end)
end)

describe("agentlens.lib.paging", function()
  it("defaults to 50 from 0 and accepts the limits", function()
    assert.same({ 50, 0 }, { paging.parse({}) })
    assert.same({ 1, 0 }, { paging.parse({ limit = "1" }) })
    assert.same({ 500, 7 }, { paging.parse({ limit = "500", offset = "7" }) })
  end)

  for _, case in ipairs({
    { { limit = "0" }, "limit" }, { { limit = "501" }, "limit" }, { { limit = "abc" }, "limit" },
    { { limit = "1.5" }, "limit" }, { { limit = "" }, "limit" }, { { offset = "-1" }, "offset" },
    { { offset = "x" }, "offset" }, { { offset = "99999999999999" }, "offset" },
  }) do
    it(("refuses %s=%q with 400 naming the parameter"):format(next(case[1]), select(2, next(case[1]))), function()
      local limit, offset, status, body = paging.parse(case[1])
      assert.is_nil(limit)
      assert.is_nil(offset)
      assert.equal(400, status)
      assert.matches('invalid query parameter "' .. case[2] .. '"', body.error, 1, true)
      assert.equal(case[2], body.details[1].field)
    end)
  end
end)

describe("agentlens.lib.request_body", function()
  local spec = {
    fields = {
      { name = "username", required = true, min = 3, max = 8, pattern = "^[%w._-]+$", pattern_message = "is odd" },
      { name = "email", trim = true, max = 20 },
      { name = "active", type = "boolean" },
      { name = "perms", type = "string_list" },
    },
  }

  it("returns the values it knows, trimmed", function()
    local v = request_body.check({ username = "bob", email = "  b@x.y ", active = false,
      perms = json.decode('["a"]') }, spec)
    assert.same({ username = "bob", email = "b@x.y", active = false, perms = { "a" } }, v)
  end)

  it("collects every problem, unknown fields included", function()
    local v, status, body = request_body.check({ username = "b!", active = "yes", perms = { 1 }, role = "x" }, spec)
    assert.is_nil(v)
    assert.equal(400, status)
    local fields = {}
    for _, d in ipairs(body.details) do
      fields[#fields + 1] = d.field
    end
    assert.same({ "role", "username", "active", "perms" }, fields)
    assert.matches('unknown field "role"', body.error, 1, true)
    assert.matches("username must be at least 3 characters", body.error, 1, true)
  end)

  it("treats null as absent and reports required fields", function()
    local v, status, body = request_body.check({ username = json.null }, spec)
    assert.is_nil(v)
    assert.equal(400, status)
    assert.equal("username is required", body.error)
  end)
end)

describe("agentlens.settings.schema", function()
  local function def(key)
    return schema.BY_KEY[key]
  end

  it("declares every key with a category, type and a valid default", function()
    assert.is_true(#schema.DEFS >= 11)
    for _, d in ipairs(schema.DEFS) do
      assert.truthy(schema.CATEGORIES[d.category])
      assert.truthy(d.description ~= "")
      assert.equal(d.default, (schema.coerce(d, d.default)))
    end
  end)

  it("accepts typed values and strings that parse", function()
    assert.equal(25, schema.coerce(def("ui.items_per_page"), 25))
    assert.equal(50, schema.coerce(def("ui.items_per_page"), "50"))
    assert.equal(false, schema.coerce(def("health.check_enabled"), "false"))
    assert.equal(300, schema.coerce(def("health.check_interval"), "5m"))
    assert.equal(2000, schema.coerce(def("health.degraded_latency"), "2s"))
    assert.equal("dark", schema.coerce(def("ui.theme"), "dark"))
  end)

  it("refuses wrong types and values out of range with a reason", function()
    local function why(key, v)
      return select(2, schema.coerce(def(key), v))
    end
    assert.equal("must be an integer from 5 to 500", why("ui.items_per_page", 4))
    assert.equal("must be an integer from 5 to 500", why("ui.items_per_page", 25.5))
    assert.equal("must be true or false", why("app.registration_enabled", "yes"))
    assert.equal("must be one of light, dark, system", why("ui.theme", "pink"))
    assert.equal("must have 1 to 100 characters", why("app.name", ""))
    assert.equal("must be a string", why("app.name", 5))
    assert.matches("5 to 86400 seconds", why("health.check_interval", "2s"), 1, true)
  end)

  it("round-trips stored text", function()
    for _, d in ipairs(schema.DEFS) do
      assert.equal(d.default, schema.decode(d, schema.encode(d, d.default)))
    end
  end)
end)
