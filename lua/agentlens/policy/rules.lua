-- SPDX-License-Identifier: Apache-2.0
-- Operator policy rules: scripts in scripts_dir may export
--   rules = { { name = "...", when = function(ctx) ... end, decision = "allow" | "deny",
--               status = 403, message = "..." }, ... }
-- The first rule (scripts in file-name order, rules in list order) whose `when` returns true
-- decides; without a match the built-in RBAC decides. A `when` that raises, yields or runs
-- too long denies (fail closed) and is logged.
local log = require "agentlens.log"

local M = {}

-- Instructions one `when` may run; past it every instruction of the script raises, so a
-- pcall inside the script cannot keep it looping.
local BUDGET = 1000000

local FIELDS = { name = true, description = true, when = true, decision = true, status = true, message = true }

local function check_rule(script, i, rule)
  local function fail(why)
    local label = type(rule) == "table" and type(rule.name) == "string" and (" (%q)"):format(rule.name) or ""
    error(("%s: rules[%d]%s: %s"):format(script.file, i, label, why), 0)
  end
  if type(rule) ~= "table" then
    fail("expected a table, got " .. type(rule))
  end
  for k in pairs(rule) do
    if not FIELDS[k] then
      fail(("unknown field %q (allowed: name, description, when, decision, status, message)"):format(tostring(k)))
    end
  end
  if type(rule.name) ~= "string" or rule.name == "" then
    fail("name must be a non-empty string")
  end
  if rule.description ~= nil and type(rule.description) ~= "string" then
    fail("description must be a string")
  end
  if type(rule.when) ~= "function" then
    fail("when must be a function(ctx) returning true when the rule applies")
  end
  if rule.decision ~= "allow" and rule.decision ~= "deny" then
    fail(("decision must be \"allow\" or \"deny\", got %s"):format(tostring(rule.decision)))
  end
  if rule.status ~= nil then
    if rule.decision ~= "deny" then
      fail("status applies only to deny rules")
    end
    if type(rule.status) ~= "number" or rule.status % 1 ~= 0 or rule.status < 400 or rule.status > 599 then
      fail("status must be an HTTP error status (400 to 599)")
    end
  end
  if rule.message ~= nil then
    if rule.decision ~= "deny" then
      fail("message applies only to deny rules")
    end
    if type(rule.message) ~= "string" or rule.message == "" then
      fail("message must be a non-empty string")
    end
  end
  return {
    name = rule.name,
    script = script.name,
    when = rule.when,
    decision = rule.decision,
    status = rule.status or 403,
    message = rule.message or "insufficient permissions",
  }
end

-- load(scripts) -> compiled rule list, set of script chunk names. Raises with file and index
-- for a rule of the wrong shape, which fails the generation (the previous one keeps serving).
function M.load(scripts)
  local list, sources = {}, {}
  for _, script in ipairs(scripts or {}) do
    local rules = type(script.exports) == "table" and script.exports.rules
    if rules ~= nil then
      if type(rules) ~= "table" then
        error(("%s: rules must be a list of rule tables, got %s"):format(script.file, type(rules)), 0)
      end
      local n = 0
      for _ in pairs(rules) do
        n = n + 1
      end
      if n ~= #rules then
        error(("%s: rules must be a list without holes"):format(script.file), 0)
      end
      for i, rule in ipairs(rules) do
        list[#list + 1] = check_rule(script, i, rule)
      end
      sources["@" .. script.file] = true
    end
  end
  return list, sources
end

-- bounded_call(fn, sources, what, ...) -> true, results... | nil, error. Runs fn(...) of an
-- operator script in a coroutine of its own (so it cannot suspend its caller) under an
-- instruction budget; sources is the set of script chunk names ("@file") the budget applies to.
-- Shared with the discovery rules (agentlens.discovery.rules).
function M.bounded_call(fn, sources, what, ...)
  local co = coroutine.create(fn)
  local spent = false
  local function hook()
    if not spent then
      spent = true
      debug.sethook(co, hook, "", 1)
    end
    local info = debug.getinfo(2, "S")
    if info and sources[info.source] then
      error(what .. " exceeded its instruction budget (endless loop?)", 2)
    end
  end
  debug.sethook(co, hook, "", BUDGET)
  local results = { coroutine.resume(co, ...) }
  debug.sethook(co)
  if not results[1] then
    return nil, tostring(results[2])
  end
  if coroutine.status(co) ~= "dead" then
    return nil, what .. " yielded; rules must decide without waiting"
  end
  return true, unpack(results, 2, table.maxn(results))
end

-- Runs rule.when(ctx) under bounded_call. -> true/false | nil, error
local function run_when(rule, ctx, sources)
  local ok, result = M.bounded_call(rule.when, sources, "policy rule", ctx)
  if not ok then
    return nil, result == "policy rule yielded; rules must decide without waiting"
      and "when() yielded; rules must decide without waiting" or result
  end
  return result and true or false
end

-- evaluate(rules, sources, ctx) -> nil (no rule matched) | rule, error-or-nil.
-- A rule whose `when` failed is returned with the error: the caller denies.
function M.evaluate(rules, sources, ctx)
  for _, rule in ipairs(rules) do
    local matched, err = run_when(rule, ctx, sources)
    if err then
      log.error("policy rule failed; denying the request", { rule = rule.name, script = rule.script, error = err })
      return rule, err
    end
    if matched then
      return rule
    end
  end
  return nil
end

return M
