-- SPDX-License-Identifier: Apache-2.0
-- Capability records produced by the protocol parsers and probes, and their wire JSON shape.
--
-- A capability is {kind=, name=, description=, properties={...}}. `properties` holds the JSON
-- fields of the kind exactly as the catalog API exposes them (reference section 4, names and
-- casing kept; new fields are only ever added), so the wire object is properties + kind.
local M = {}

-- kind -> discoverable (searchable through /capabilities).
M.KINDS = {
  ["a2a.skill"] = true,
  ["a2a.interface"] = false,
  ["a2a.security_scheme"] = false,
  ["a2a.security_requirement"] = false,
  ["a2a.extension"] = false,
  ["a2a.signature"] = false,
  ["mcp.tool"] = true,
  ["mcp.resource"] = true,
  ["mcp.prompt"] = true,
}

-- new(kind, name, description, properties) -> capability. Raises on an unknown kind (a bug).
function M.new(kind, name, description, properties)
  if M.KINDS[kind] == nil then
    error("unknown capability kind: " .. tostring(kind), 2)
  end
  return { kind = kind, name = name, description = description, properties = properties or {} }
end

-- to_json(cap) -> the wire object: a shallow copy of properties plus `kind`.
function M.to_json(cap)
  local out = {}
  for k, v in pairs(cap.properties) do
    out[k] = v
  end
  out.kind = cap.kind
  return out
end

return M
