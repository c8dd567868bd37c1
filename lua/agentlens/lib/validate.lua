-- SPDX-License-Identifier: Apache-2.0
-- Document validation helpers shared by the protocol parsers: JSON kinds, field paths, bounded
-- error/warning collection and the ValidationResult shape.
--
-- Field paths: keys joined with ".", array indices 0-based in brackets as in the JSON document
-- (`skills[2].id`), map keys that are not identifier-like quoted (`securitySchemes["my key"]`).
-- The document root is the empty path; problems with the document itself use the field "json".
local json = require "agentlens.json"

local M = {}

M.MAX_DOCUMENT_BYTES = 1024 * 1024 -- one limit for pasted, uploaded and imported documents
M.MAX_ERRORS = 100 -- further errors are counted, not listed
M.MAX_WARNINGS = 100

local OBJECT_MT = getmetatable(json.object())

-- kind(v) -> "string" | "number" | "boolean" | "object" | "array" | "null" | "empty" | nil.
-- "empty" is an unmarked empty Lua table: a decoded `{}` or a Lua-built `{}`, accepted where an
-- object or an array is expected (json.decode marks arrays, so a decoded `[]` is "array").
function M.kind(v)
  local t = type(v)
  if t == "table" then
    if json.is_array(v) then
      return "array"
    end
    if getmetatable(v) == OBJECT_MT then
      return "object"
    end
    if next(v) == nil then
      return "empty"
    end
    local n = #v
    if n > 0 then
      local count = 0
      for _ in pairs(v) do
        count = count + 1
      end
      if count == n then
        return "array"
      end
    end
    return "object"
  elseif v == json.null then
    return "null"
  elseif t == "nil" then
    return nil
  end
  return t
end

function M.is_object(v)
  local k = M.kind(v)
  return k == "object" or k == "empty"
end

function M.is_array(v)
  local k = M.kind(v)
  return k == "array" or k == "empty"
end

-- present(v): a JSON null counts as absent (ProtoJSON and OpenAPI both read it that way).
function M.present(v)
  return v ~= nil and v ~= json.null
end

-- key(base, name) -> path of member `name` of the object at `base`.
function M.key(base, name)
  name = tostring(name)
  local part
  if name:match("^[%a_$][%w_$%-]*$") then
    part = name
  else
    return base .. "[" .. json.encode(name) .. "]"
  end
  if base == "" then
    return part
  end
  return base .. "." .. part
end

-- index(base, i) -> path of the Lua element i (1-based) of the array at `base`, 0-based.
function M.index(base, i)
  return base .. "[" .. (i - 1) .. "]"
end

-- sorted_keys(t) -> string keys of t in byte order (deterministic reports and output).
function M.sorted_keys(t)
  local keys = {}
  for k in pairs(t) do
    if type(k) == "string" then
      keys[#keys + 1] = k
    end
  end
  table.sort(keys)
  return keys
end

-- URL shape check, no network: "scheme://host[...]" with no whitespace or control characters.
-- Returns scheme, host or nil, reason.
function M.parse_url(s)
  if type(s) ~= "string" or s == "" then
    return nil, "is empty"
  end
  if s:find("[%s%c]") then
    return nil, "contains whitespace or control characters"
  end
  local scheme, rest = s:match("^([%a][%w+.%-]*)://(.*)$")
  if not scheme then
    return nil, "is not an absolute URL (scheme://host)"
  end
  local authority = rest:match("^([^/?#]*)")
  local host = authority:gsub("^.*@", "")
  host = host:match("^(%[[%x:.]+%])") or host:gsub(":%d*$", "")
  if host == "" then
    return nil, "has no host"
  end
  return scheme:lower(), host
end

-- is_http_url(s) -> true | nil, reason: an absolute http(s) URL with a host.
function M.is_http_url(s)
  local scheme, host = M.parse_url(s)
  if not scheme then
    return nil, host
  end
  if scheme ~= "http" and scheme ~= "https" then
    return nil, "must use http or https, not " .. scheme
  end
  return true
end

-- strings(list) -> json.array of the string members of list (copied so the result encodes as []).
function M.strings(list)
  local out = json.array()
  if type(list) == "table" then
    for _, v in ipairs(list) do
      if type(v) == "string" then
        out[#out + 1] = v
      end
    end
  end
  return out
end

-- ---- report --------------------------------------------------------------------------------

local Report = {}
Report.__index = Report

-- new() -> report collecting errors and warnings as {field=, message=} (bounded).
function M.report()
  return setmetatable({
    errors = json.array(),
    warnings = json.array(),
    dropped_errors = 0,
    dropped_warnings = 0,
  }, Report)
end

function Report:error(field, message)
  if #self.errors < M.MAX_ERRORS then
    self.errors[#self.errors + 1] = { field = field, message = message }
  else
    self.dropped_errors = self.dropped_errors + 1
  end
end

function Report:warn(field, message)
  if #self.warnings < M.MAX_WARNINGS then
    self.warnings[#self.warnings + 1] = { field = field, message = message }
  else
    self.dropped_warnings = self.dropped_warnings + 1
  end
end

function Report:ok()
  return #self.errors == 0
end

-- type_error(path, expected, v): "<path> must be <a/an> <expected>, got <kind>".
function Report:type_error(path, expected, v)
  local article = expected:match("^[aeiou]") and "an " or "a "
  self:error(path, path .. " must be " .. article .. expected .. ", got " .. (M.kind(v) or "nothing"))
end

local KIND_OK = {
  string = { string = true },
  number = { number = true },
  boolean = { boolean = true },
  object = { object = true, empty = true },
  array = { array = true, empty = true },
}

-- get(obj, name, path, expected, opts) -> value | nil. opts: required (bool), max_len (strings),
-- max_items (arrays), non_empty (strings). Records "<path> is required" or a type error; returns
-- nil unless the value is present and of the expected kind.
function Report:get(obj, name, path, expected, opts)
  opts = opts or {}
  local v = obj[name]
  if not M.present(v) then
    if opts.required then
      self:error(path, path .. " is required")
    end
    return nil
  end
  if not KIND_OK[expected][M.kind(v)] then
    self:type_error(path, expected, v)
    return nil
  end
  if expected == "string" then
    if opts.non_empty and v == "" then
      self:error(path, path .. " must not be empty")
      return nil
    end
    local max = opts.max_len
    if max and #v > max then
      self:error(path, path .. " must be at most " .. max .. " characters")
      return nil
    end
  elseif expected == "array" then
    local max = opts.max_items
    if max and #v > max then
      self:error(path, path .. " must have at most " .. max .. " items, got " .. #v)
      return nil
    end
  end
  return v
end

-- string_list(obj, name, path, opts) -> json.array of strings | nil. Every member must be a string
-- (at most opts.max_len characters); opts as for get.
function Report:string_list(obj, name, path, opts)
  local list = self:get(obj, name, path, "array", opts)
  if not list then
    return nil
  end
  local out = json.array()
  for i, v in ipairs(list) do
    local p = M.index(path, i)
    if type(v) ~= "string" then
      self:type_error(p, "string", v)
    elseif opts and opts.max_len and #v > opts.max_len then
      self:error(p, p .. " must be at most " .. opts.max_len .. " characters")
    else
      out[#out + 1] = v
    end
  end
  return out
end

-- url(obj, name, path, opts) -> string | nil. Like get(..., "string") plus a URL shape check;
-- opts.strict turns a malformed URL into an error (endpoints), otherwise a warning.
function Report:url(obj, name, path, opts)
  opts = opts or {}
  local s = self:get(obj, name, path, "string", { required = opts.required, max_len = opts.max_len or 2048 })
  if not s then
    return nil
  end
  local ok, why = M.is_http_url(s)
  if not ok then
    if opts.allow_authority and not s:find("[%s%c/]") and s:match("^[%w.%-%[%]:]+:%d+$") then
      return s -- gRPC "host:port"
    end
    if opts.strict then
      self:error(path, path .. " " .. why)
      return nil
    end
    self:warn(path, path .. " " .. why)
  end
  return s
end

-- result(report, spec_version, preview) -> ValidationResult (reference 5.7):
-- {valid, spec_version, errors=[{field,message}], warnings=[{field,message}], preview (valid only)}.
function Report:result(spec_version, preview, extra)
  if self.dropped_errors > 0 then
    self.errors[#self.errors + 1] = { field = "json", message = self.dropped_errors .. " more errors not listed" }
  end
  if self.dropped_warnings > 0 then
    self.warnings[#self.warnings + 1] = { field = "json",
      message = self.dropped_warnings .. " more warnings not listed" }
  end
  local valid = #self.errors == 0
  local res = {
    valid = valid,
    spec_version = spec_version or "",
    errors = self.errors,
    warnings = self.warnings,
    preview = valid and preview or nil,
  }
  for k, v in pairs(extra or {}) do
    res[k] = v
  end
  return res
end

-- document(doc) -> table | nil, message. Accepts a decoded table or JSON text (at most
-- MAX_DOCUMENT_BYTES); the message is for the field "json".
function M.document(doc)
  if type(doc) == "string" then
    if #doc > M.MAX_DOCUMENT_BYTES then
      return nil, "document is larger than " .. M.MAX_DOCUMENT_BYTES .. " bytes"
    end
    local value, err = json.decode(doc)
    if value == nil then
      err = tostring(err)
      return nil, err:match("^invalid JSON") and err or "invalid JSON: " .. err
    end
    doc = value
  end
  if not M.is_object(doc) then
    return nil, "document must be a JSON object, got " .. (M.kind(doc) or "nothing")
  end
  return doc
end

return M
