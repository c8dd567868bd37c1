-- SPDX-License-Identifier: Apache-2.0
-- JSON request bodies: decode an object and check its fields against a small field spec.
local http = require "agentlens.http"
local json = require "agentlens.json"

local M = {}

-- object(req) -> table | nil, status, body (400 for a missing, malformed or non-object body).
function M.object(req)
  local body, err = req:json()
  if body == nil then
    return nil, http.error(400, err)
  end
  if type(body) ~= "table" or json.is_array(body) then
    return nil, http.error(400, "request body must be a JSON object")
  end
  return body
end

local function length(s)
  local _, n = s:gsub("[^\128-\191]", "") -- UTF-8 code points: bytes that are not continuations
  return n
end

local function check_string(name, v, f)
  if type(v) ~= "string" then
    return name .. " must be a string"
  end
  if f.trim then
    v = v:match("^%s*(.-)%s*$")
  end
  if f.required and v == "" then
    return name .. " is required"
  end
  if not f.secret and v:find("%c") then
    return name .. " must not contain control characters"
  end
  if f.max and length(v) > f.max then
    return ("%s must be at most %d characters"):format(name, f.max)
  end
  if f.min and length(v) < f.min then
    return ("%s must be at least %d characters"):format(name, f.min)
  end
  if f.pattern and v ~= "" and not v:find(f.pattern) then
    return name .. " " .. f.pattern_message
  end
  return nil, v
end

-- check(body, spec) -> values | nil, status, body.
-- spec = { fields = { {name, type = "string"|"boolean"|"string_list", required, min, max,
-- pattern, pattern_message, trim, secret (passwords: control characters allowed)}, ... } }.
-- Fields absent or null are left out of values; fields not in the spec are refused (a typo must
-- not be ignored silently). min and max count characters.
function M.check(body, spec)
  local values, problems = {}, {}
  local allowed = {}
  for _, f in ipairs(spec.fields) do
    allowed[f.name] = true
  end
  local unknown = {}
  for k in pairs(body) do
    if not allowed[k] then
      unknown[#unknown + 1] = tostring(k)
    end
  end
  table.sort(unknown)
  for _, k in ipairs(unknown) do
    local names = {}
    for _, f in ipairs(spec.fields) do
      names[#names + 1] = f.name
    end
    problems[#problems + 1] = { field = k, message = ("unknown field %q (allowed: %s)"):format(k,
      table.concat(names, ", ")) }
  end
  for _, f in ipairs(spec.fields) do
    local v = body[f.name]
    local why
    if v == nil or v == json.null then
      if f.required then
        why = f.name .. " is required"
      end
    elseif f.type == "boolean" then
      if type(v) ~= "boolean" then
        why = f.name .. " must be true or false"
      else
        values[f.name] = v
      end
    elseif f.type == "string_list" then
      if type(v) ~= "table" or (next(v) ~= nil and not json.is_array(v)) then
        why = f.name .. " must be an array of strings"
      else
        for _, item in ipairs(v) do
          if type(item) ~= "string" then
            why = f.name .. " must be an array of strings"
            break
          end
        end
        values[f.name] = v
      end
    else
      why, values[f.name] = check_string(f.name, v, f)
    end
    if why then
      problems[#problems + 1] = { field = f.name, message = why }
    end
  end
  if #problems > 0 then
    local messages = {}
    for i, p in ipairs(problems) do
      messages[i] = p.message
    end
    return nil, http.error(400, table.concat(messages, "; "), problems)
  end
  return values
end

-- parse(req, spec) -> checked values | nil, status, body: object(req), then check(body, spec).
function M.parse(req, spec)
  local body, status, err_body = M.object(req)
  if not body then
    return nil, status, err_body
  end
  return M.check(body, spec)
end

return M
