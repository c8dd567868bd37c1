-- SPDX-License-Identifier: Apache-2.0
-- Which protocol a pasted, uploaded or fetched document describes, and validation/parsing by the
-- detected (or given) protocol, so /catalog/validate no longer assumes A2A (reference 15 item 21).
--
--   detect.protocol(doc[, url]) -> "a2a" | "mcp" | nil, reason
--   detect.validate(doc[, protocol]) -> ValidationResult (with `protocol`)
--   detect.parse(doc[, protocol])    -> entry, ValidationResult | nil, ValidationResult
local V = require "agentlens.lib.validate"
local a2a = require "agentlens.protocols.a2a"
local mcp = require "agentlens.protocols.mcp"

local M = {}

M.PARSERS = { a2a = a2a, mcp = mcp }

-- Signals: {field, weight, test}. Strong (2) fields belong to one protocol only; weak (1) ones
-- corroborate. Document fields win over the URL, which is only a fallback.
local function has(name)
  return function(doc)
    return V.present(doc[name])
  end
end

local A2A_SIGNALS = {
  { "supportedInterfaces", 2, has("supportedInterfaces") },
  { "skills", 2, has("skills") },
  { "defaultInputModes", 2, has("defaultInputModes") },
  { "defaultOutputModes", 2, has("defaultOutputModes") },
  { "preferredTransport", 2, has("preferredTransport") },
  { "additionalInterfaces", 2, has("additionalInterfaces") },
  { "securitySchemes", 1, has("securitySchemes") },
  { "protocolVersion (Major.Minor)", 1, function(doc)
    return type(doc.protocolVersion) == "string" and doc.protocolVersion:match("^%d+%.%d+") ~= nil
      and not doc.protocolVersion:match("^%d%d%d%d%-")
  end },
  { "url + capabilities", 1, function(doc)
    return V.present(doc.url) and V.is_object(doc.capabilities)
  end },
}

local MCP_SIGNALS = {
  { "tools", 2, has("tools") },
  { "resources", 2, has("resources") },
  { "prompts", 2, has("prompts") },
  { "serverInfo", 2, has("serverInfo") },
  { "remotes", 2, has("remotes") },
  { "packages", 2, has("packages") },
  { "$schema (server.json)", 2, function(doc)
    return type(doc["$schema"]) == "string" and doc["$schema"]:find("modelcontextprotocol", 1, true) ~= nil
  end },
  { "server (registry response)", 2, function(doc)
    return not V.present(doc.name) and V.is_object(doc.server) and type(doc.server.name) == "string"
  end },
  { "protocolVersion (date)", 1, function(doc)
    return type(doc.protocolVersion) == "string" and doc.protocolVersion:match("^%d%d%d%d%-%d%d%-%d%d$") ~= nil
  end },
}

local function score(doc, signals)
  local total, names = 0, {}
  for _, s in ipairs(signals) do
    if s[3](doc) then
      total = total + s[2]
      names[#names + 1] = s[1]
    end
  end
  return total, names
end

-- protocol(doc[, url]) -> "a2a" | "mcp" | nil, reason. doc: decoded table or JSON text; url: where
-- it came from (used only when the document has no protocol fields).
function M.protocol(doc, url)
  local d, err = V.document(doc)
  if not d then
    return nil, err
  end
  local sa, na = score(d, A2A_SIGNALS)
  local sm, nm = score(d, MCP_SIGNALS)
  if sa > sm then
    return "a2a", "A2A agent card fields: " .. table.concat(na, ", ")
  elseif sm > sa then
    return "mcp", "MCP server fields: " .. table.concat(nm, ", ")
  elseif sa > 0 then
    return nil, "ambiguous: A2A fields (" .. table.concat(na, ", ") .. ") and MCP fields ("
      .. table.concat(nm, ", ") .. ")"
  end
  if type(url) == "string" then
    if url:find("/.well-known/agent", 1, true) then
      return "a2a", "URL is an A2A well-known card path"
    elseif url:find("/mcp", 1, true) then
      return "mcp", "URL path contains /mcp"
    end
  end
  return nil, "no A2A (skills, supportedInterfaces, url) or MCP (tools, serverInfo, remotes) fields"
end

-- prepare(doc, protocol) -> parser, decoded doc | nil, ValidationResult (the document is decoded
-- once, then handed to the parser as a table).
local function prepare(doc, protocol)
  local r = V.report()
  local d, err = V.document(doc)
  if not d then
    r:error("json", err)
    return nil, r:result("", nil, { protocol = protocol or "" })
  end
  if protocol == nil then
    local reason
    protocol, reason = M.protocol(d)
    if not protocol then
      r:error("protocol", "could not detect protocol: " .. reason .. "; specify the protocol")
      return nil, r:result("", nil, { protocol = "" })
    end
  elseif not M.PARSERS[protocol] then
    r:error("protocol", "unsupported protocol: " .. tostring(protocol))
    return nil, r:result("", nil, { protocol = tostring(protocol) })
  end
  return M.PARSERS[protocol], d
end

-- validate(doc[, protocol]) -> ValidationResult of the given or detected protocol; an invalid
-- result with an error on the field "protocol" when it is unknown or cannot be detected.
function M.validate(doc, protocol)
  local parser, d = prepare(doc, protocol)
  if not parser then
    return d
  end
  return parser.validate(d)
end

-- parse(doc[, protocol]) -> entry, ValidationResult | nil, ValidationResult.
function M.parse(doc, protocol)
  local parser, d = prepare(doc, protocol)
  if not parser then
    return nil, d
  end
  return parser.parse(d)
end

return M
