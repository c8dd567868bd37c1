-- SPDX-License-Identifier: Apache-2.0
-- Operator discovery rules: scripts in the scripts directory (AGENTLENS_SCRIPTS_DIR) may export
--
--   discovery = {
--     description = "...",                       -- optional
--     sources = function() return { {name=, type="a2a"|"mcp", url=, team=, tags=, headers=}, ... } end,
--     filter = function(item) return true end,   -- false: the item is not in the catalog
--     transform = function(entry, item) entry.team = item.labels.team end,
--   }
--
-- Every field is optional. Scripts apply in file-name order: an item is kept only when every
-- filter keeps it; transforms run one after the other on the same entry view. The functions run
-- in the script's sandbox under the instruction budget of the policy rules
-- (agentlens.policy.rules.bounded_call). A function that raises, yields, loops or returns the
-- wrong shape is logged with its file and line and skipped: the item goes on as if that rule did
-- not exist, and discovery never stops for it. A `discovery` value of the wrong shape fails the
-- Lua reload (validate, called by agentlens.policy.init), so the previous rules keep running;
-- load() itself only logs and skips it. The scripts reload with the Lua generation (hot reload).
--
-- The item a rule sees (a copy): {key, source ("k8s" | "config"), name, protocol, url,
-- card_path, team, tags = {...}, labels = {k = v}, annotations = {k = v}, namespace}.
-- The entry view a transform changes (or returns a replacement of): {protocol, endpoint
-- (read-only), display_name, description, version, team, organization, categories = {...},
-- metadata = {k = v}}. docs/discovery.md has the full description and an example.
local log = require "agentlens.log"
local bounded = require("agentlens.policy.rules").bounded_call

local M = {}

local FIELDS = { description = true, sources = true, filter = true, transform = true }
local SOURCE_FIELDS = { name = true, type = true, url = true, card_path = true, team = true, tags = true,
  headers = true, labels = true }

local loaded -- {list = {{file, sources?, filter?, transform?}}, chunks = {["@file"] = true}}

local function deep_copy(v, depth)
  if type(v) ~= "table" then
    return v
  end
  depth = depth or 0
  if depth > 8 then
    return {}
  end
  local out = {}
  for k, x in pairs(v) do
    if type(k) == "string" or type(k) == "number" then
      out[k] = deep_copy(x, depth + 1)
    end
  end
  return out
end

local function is_list_of_strings(t)
  if type(t) ~= "table" then
    return false
  end
  local n = 0
  for _ in pairs(t) do
    n = n + 1
  end
  if n ~= #t then
    return false
  end
  for _, v in ipairs(t) do
    if type(v) ~= "string" then
      return false
    end
  end
  return true
end

local function is_string_map(t)
  if type(t) ~= "table" then
    return false
  end
  for k, v in pairs(t) do
    if type(k) ~= "string" or (type(v) ~= "string" and type(v) ~= "number" and type(v) ~= "boolean") then
      return false
    end
  end
  return true
end

-- check(script) -> rule | nil, message
local function check(script)
  local d = script.exports.discovery
  if type(d) ~= "table" then
    return nil, "discovery must be a table, got " .. type(d)
  end
  for k in pairs(d) do
    if not FIELDS[k] then
      return nil, ("discovery: unknown field %q (allowed: description, sources, filter, transform)"):format(
        tostring(k))
    end
  end
  for _, k in ipairs({ "sources", "filter", "transform" }) do
    if d[k] ~= nil and type(d[k]) ~= "function" then
      return nil, ("discovery.%s must be a function, got %s"):format(k, type(d[k]))
    end
  end
  return { file = script.file, sources = d.sources, filter = d.filter, transform = d.transform }
end

-- load(scripts) -> {list, chunks}, problems (list of {file, message}). Never raises.
function M.load(scripts)
  local list, chunks, problems = {}, {}, {}
  for _, script in ipairs(scripts or {}) do
    if type(script) == "table" and type(script.exports) == "table" and script.exports.discovery ~= nil then
      local rule, why = check(script)
      if rule then
        list[#list + 1] = rule
        chunks["@" .. script.file] = true
      else
        problems[#problems + 1] = { file = script.file, message = why }
        log.error("discovery rules ignored: " .. why, { script = script.file })
      end
    end
  end
  return { list = list, chunks = chunks }, problems
end

-- validate(scripts): raises "<file>: <problem>" for the first script whose `discovery` has the
-- wrong shape. Called when a Lua generation is validated (with the policy rules), so such a
-- script fails the reload -- check-config and the reload error show it -- and the previous
-- rules keep running.
function M.validate(scripts)
  for _, script in ipairs(scripts or {}) do
    if type(script) == "table" and type(script.exports) == "table" and script.exports.discovery ~= nil then
      local _, why = check(script)
      if why then
        error(("%s: %s"):format(script.file, why), 0)
      end
    end
  end
end

-- current() -> the rules of this Lua generation (loaded once per state).
function M.current()
  if not loaded then
    local ok, scripts = pcall(require, "agentlens.scripts")
    loaded = M.load(ok and scripts or {})
  end
  return loaded
end

-- use(rules): replaces the rules of this state (specs; nil: load from the scripts again).
function M.use(rules)
  loaded = rules
end

local function failed(rule, what, err)
  log.error("discovery rule failed; skipped", { script = rule.file, ["function"] = what, error = tostring(err) })
end

-- check_source(s, where) -> item fields | nil, message. where names it in messages.
function M.check_source(s, where)
  if type(s) ~= "table" then
    return nil, where .. ": expected a table, got " .. type(s)
  end
  for k in pairs(s) do
    if not SOURCE_FIELDS[k] then
      return nil, ("%s: unknown field %q"):format(where, tostring(k))
    end
  end
  if type(s.name) ~= "string" or not s.name:match("^[%w][%w._-]*$") or #s.name > 200 then
    return nil, where .. ".name: must be a name of letters, digits, '.', '_' and '-'"
  end
  if s.type ~= "a2a" and s.type ~= "mcp" then
    return nil, ("%s.type: %q is not one of a2a, mcp"):format(where, tostring(s.type))
  end
  if type(s.url) ~= "string" or not s.url:match("^[Hh][Tt][Tt][Pp][Ss]?://[^/%s]+") then
    return nil, where .. ".url: must be an http(s) URL"
  end
  if s.team ~= nil and type(s.team) ~= "string" then
    return nil, where .. ".team: must be a string"
  end
  if s.card_path ~= nil and type(s.card_path) ~= "string" then
    return nil, where .. ".card_path: must be a string"
  end
  if s.tags ~= nil and not is_list_of_strings(s.tags) then
    return nil, where .. ".tags: must be a list of strings"
  end
  if s.headers ~= nil and not is_string_map(s.headers) then
    return nil, where .. ".headers: must be a map of strings"
  end
  if s.labels ~= nil and not is_string_map(s.labels) then
    return nil, where .. ".labels: must be a map of strings"
  end
  local headers = {}
  for k, v in pairs(s.headers or {}) do
    headers[k] = tostring(v)
  end
  return { name = s.name, protocol = s.type, url = s.url, card_path = s.card_path, team = s.team,
    tags = deep_copy(s.tags), headers = headers, labels = deep_copy(s.labels) }
end

-- sources() -> list of {script, name, protocol, url, card_path, team, tags, headers, labels}
-- from every script's sources(); a failing function or a bad source is logged and skipped.
function M.sources()
  local rules, out = M.current(), {}
  for _, rule in ipairs(rules.list) do
    if rule.sources then
      local ok, list = bounded(rule.sources, rules.chunks, "discovery sources()")
      if not ok then
        failed(rule, "sources", list)
      elseif type(list) ~= "table" then
        failed(rule, "sources", "sources() must return a list of sources, got " .. type(list))
      else
        for i, s in ipairs(list) do
          local item, why = M.check_source(s, ("sources()[%d]"):format(i))
          if item then
            item.script = rule.file
            out[#out + 1] = item
          else
            failed(rule, "sources", why)
          end
        end
      end
    end
  end
  return out
end

-- filter(item) -> true (keep) | false, file of the script that dropped it
function M.filter(item)
  local rules = M.current()
  for _, rule in ipairs(rules.list) do
    if rule.filter then
      local ok, keep = bounded(rule.filter, rules.chunks, "discovery filter()", deep_copy(item))
      if not ok then
        failed(rule, "filter", keep)
      elseif keep == false or keep == nil then
        return false, rule.file
      end
    end
  end
  return true
end

-- The view of an entry a transform sees.
local function view_of(e)
  local provider = e.provider or {}
  return { protocol = e.protocol, endpoint = e.endpoint, display_name = e.display_name,
    description = e.description or "", version = e.version or "", team = provider.team,
    organization = provider.organization, categories = deep_copy(e.categories or {}),
    metadata = deep_copy(e.metadata or {}) }
end

-- Applies a transformed view to e; -> true | nil, message (e unchanged).
local function apply(e, v)
  if type(v) ~= "table" then
    return nil, "transform must change its entry argument or return a table, got " .. type(v)
  end
  if type(v.display_name) ~= "string" or not v.display_name:match("%S") then
    return nil, "display_name must be a non-empty string"
  end
  for _, k in ipairs({ "description", "version" }) do
    if type(v[k]) ~= "string" then
      return nil, k .. " must be a string"
    end
  end
  for _, k in ipairs({ "team", "organization" }) do
    if v[k] ~= nil and type(v[k]) ~= "string" then
      return nil, k .. " must be a string or nil"
    end
  end
  if not is_list_of_strings(v.categories) then
    return nil, "categories must be a list of strings"
  end
  if not is_string_map(v.metadata) then
    return nil, "metadata must be a map of strings"
  end
  e.display_name, e.description, e.version = v.display_name, v.description, v.version
  local provider = deep_copy(e.provider or {})
  provider.team, provider.organization = v.team, v.organization
  e.provider = provider
  e.categories = v.categories
  e.metadata = v.metadata
  return true
end

-- transform(e, item) -> e (changed in place by every transform that succeeded)
function M.transform(e, item)
  local rules = M.current()
  for _, rule in ipairs(rules.list) do
    if rule.transform then
      local v = view_of(e)
      local ok, returned = bounded(rule.transform, rules.chunks, "discovery transform()", v, deep_copy(item))
      if not ok then
        failed(rule, "transform", returned)
      else
        local applied, why = apply(e, returned == nil and v or returned)
        if not applied then
          failed(rule, "transform", why)
        end
      end
    end
  end
  return e
end

return M
