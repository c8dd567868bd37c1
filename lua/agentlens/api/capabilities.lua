-- SPDX-License-Identifier: Apache-2.0
-- Capability search (reference 5.9): GET /capabilities {total, items} over discoverable kinds of
-- registered/active/degraded entries (registered too: a search must not depend on the prober
-- having run, reference 15 item 43), GET /capabilities/{kind::name} with the agents offering it.
local http = require "agentlens.http"
local json = require "agentlens.json"
local catalog = require "agentlens.store.catalog"
local capability = require "agentlens.protocols.capability"
local http_errors = require "agentlens.lib.http_errors"
local paging = require "agentlens.lib.paging"
local view = require "agentlens.catalog.view"

local M = {}

-- API sort names (reference 5.9) -> store sort names.
local SORTS = { name_asc = "name", agentName_asc = "agent_name" }

local function discoverable()
  local names = {}
  for k, d in pairs(capability.KINDS) do
    if d then
      names[#names + 1] = k
    end
  end
  table.sort(names)
  return table.concat(names, ", ")
end

local function bad_param(name, why)
  return http.error(400, ("invalid query parameter %q: %s"):format(name, why), { { field = name, message = why } })
end

local function list_of(v)
  local out = json.array()
  if type(v) == "table" then
    for i, x in ipairs(v) do
      out[i] = x
    end
  end
  return out
end

local function or_null(v)
  if v == nil then
    return json.null
  end
  return v
end

-- item(row) -> the /capabilities item of reference 5.9.
function M.item(r)
  local p = type(r.properties) == "table" and r.properties or {}
  return {
    kind = r.kind,
    name = r.name,
    description = r.description or "",
    tags = list_of(p.tags),
    input_modes = list_of(p.inputModes),
    output_modes = list_of(p.outputModes),
    agent_id = r.agent_id,
    agent_name = r.agent_name,
    protocol = r.protocol,
    status = r.state,
    health_state = r.state,
    spec_version = r.spec_version or "",
    provider_org = or_null(r.provider_org),
    provider_url = or_null(r.provider_url),
    latency_ms = or_null(r.latency_ms),
  }
end

function M.list(req)
  local query = req.query or {}
  local limit, offset, status, body = paging.parse(query)
  if not limit then
    return status, body
  end
  local f = { limit = limit, offset = offset }
  if query.kind ~= nil then
    if not capability.KINDS[query.kind] then
      return bad_param("kind", "must be one of: " .. discoverable())
    end
    f.kind = query.kind
  end
  if query.sort ~= nil then
    f.sort = SORTS[query.sort]
    if not f.sort then
      return bad_param("sort", "must be one of: name_asc, agentName_asc")
    end
  end
  if query.q ~= nil and query.q ~= "" then
    if #query.q > 200 then
      return bad_param("q", "must be at most 200 characters")
    end
    f.q = query.q
  end
  local rows, total, code = catalog.capabilities(f)
  if not rows then
    return http_errors.db_failure(total, code)
  end
  local items = json.array()
  for i, r in ipairs(rows) do
    items[i] = M.item(r)
  end
  return 200, { total = total, items = items }, paging.total_header(total)
end

-- key = "kind::name" (URL-decoded by the router), split at the first "::".
function M.get(req)
  local key = req.params.key or ""
  local kind, name = key:match("^(.-)::(.+)$")
  if not kind or kind == "" then
    return http.error(400, "capability key must be <kind>::<name>")
  end
  if capability.KINDS[kind] == nil then
    return http.error(404, "capability not found")
  end
  local found, err, code = catalog.capability(kind, name)
  if found == nil and err ~= nil then
    return http_errors.db_failure(err, code)
  end
  if not found then
    return http.error(404, "capability not found")
  end
  local agents = json.array()
  for i, a in ipairs(found.agents or {}) do
    agents[i] = {
      id = a.id,
      display_name = a.display_name,
      protocol = a.protocol,
      provider = or_null(view.provider(a.provider)),
      health = view.health(a),
      spec_version = a.spec_version or "",
      status = a.state,
      capability_snippet = view.capability(a.capability),
    }
  end
  return 200, { capability = found.capability, agents = agents }
end

return M
