-- SPDX-License-Identifier: Apache-2.0
-- The JSON form of a catalog entry (reference 5.6): entry and agent type flattened, `status` =
-- lifecycle state, `health` in camelCase, `auth_summary` computed from the security schemes and
-- requirements, `security_detail` only on detail responses (reference 15 item 24).
local json = require "agentlens.json"
local capability = require "agentlens.protocols.capability"

local M = {}

local function present(v)
  return v ~= nil and v ~= json.null
end

local function or_null(v)
  if present(v) then
    return v
  end
  return json.null
end

local function non_empty(v)
  if not present(v) then
    return false
  end
  if type(v) == "string" then
    return v ~= ""
  end
  if type(v) == "table" then
    return next(v) ~= nil
  end
  return true
end

-- decoded(v) -> table: the store may hand JSON columns back as text.
local function decoded(v)
  if type(v) == "string" then
    local t = json.decode(v)
    return type(t) == "table" and t or nil
  end
  if type(v) == "table" then
    return v
  end
  return nil
end

-- cap_json(cap) -> the wire capability: properties + kind (+ name/description when absent).
function M.capability(cap)
  local props = decoded(cap.properties) or {}
  local out = capability.to_json({ kind = cap.kind, properties = props })
  if out.name == nil and present(cap.name) and cap.name ~= "" then
    out.name = cap.name
  end
  if out.description == nil and present(cap.description) and cap.description ~= "" then
    out.description = cap.description
  end
  return out
end

local AUTH_LABELS = {
  ["http:Bearer"] = "Bearer JWT",
  ["http:Basic"] = "Basic Auth",
  apiKey = "API Key",
  oauth2 = "OAuth 2.0",
  openIdConnect = "OIDC",
  mutualTls = "mTLS",
  mutualTLS = "mTLS",
}

local function requirement_name(p)
  local parts = {}
  local schemes = type(p.schemes) == "table" and p.schemes or {}
  local names = {}
  for k in pairs(schemes) do
    if type(k) == "string" then
      names[#names + 1] = k
    end
  end
  table.sort(names)
  for _, n in ipairs(names) do
    local scopes = {}
    for _, s in ipairs(type(schemes[n]) == "table" and schemes[n] or {}) do
      scopes[#scopes + 1] = tostring(s)
    end
    table.sort(scopes)
    parts[#parts + 1] = n .. ":" .. table.concat(scopes, ",")
  end
  local name = table.concat(parts, "+")
  if type(p.skill_ref) == "string" and p.skill_ref ~= "" then
    name = "skill:" .. p.skill_ref .. ":" .. name
  end
  return name
end

-- security(caps) -> auth_summary | nil, security_detail | nil
local function security(caps)
  local schemes, reqs = {}, {}
  for _, c in ipairs(caps) do
    if c.kind == "a2a.security_scheme" then
      schemes[#schemes + 1] = c
    elseif c.kind == "a2a.security_requirement" then
      reqs[#reqs + 1] = c
    end
  end
  if #schemes == 0 and #reqs == 0 then
    return nil, nil
  end
  table.sort(schemes, function(a, b)
    return tostring(a.scheme_name or a.name or "") < tostring(b.scheme_name or b.name or "")
  end)
  table.sort(reqs, function(a, b)
    return requirement_name(a) < requirement_name(b)
  end)
  local detail = { security_schemes = json.array(schemes), security_requirements = json.array(reqs) }
  if #schemes == 0 then
    return nil, detail
  end
  local seen, types = {}, {}
  for _, s in ipairs(schemes) do
    local t = type(s.type) == "string" and s.type or nil
    if t == "http" and type(s.http_scheme) == "string" and s.http_scheme ~= "" then
      local hs = s.http_scheme:sub(1, 1):upper() .. s.http_scheme:sub(2):lower()
      t = "http:" .. hs
    end
    if t and not seen[t] then
      seen[t] = true
      types[#types + 1] = t
    end
  end
  table.sort(types)
  local labels = {}
  for i, t in ipairs(types) do
    labels[i] = AUTH_LABELS[t] or t
  end
  local label = table.concat(labels, " + ")
  if #label > 40 then
    label = label:sub(1, 37) .. "..."
  end
  local required = false
  for _, r in ipairs(reqs) do
    if not (type(r.skill_ref) == "string" and r.skill_ref ~= "") then
      required = true
    end
  end
  return { types = json.array(types), label = label, required = required }, detail
end

-- health(e) -> the camelCase health object of reference 5.6 (state mirrors the lifecycle state).
function M.health(e)
  local h = e.health or {}
  return {
    state = e.state,
    lastProbedAt = or_null(h.last_probed_at),
    lastSuccessAt = or_null(h.last_success_at),
    latencyMs = tonumber(h.latency_ms) or 0,
    consecutiveFailures = tonumber(h.consecutive_failures) or 0,
    lastError = present(h.last_error) and h.last_error or "",
  }
end

-- history_item(h) -> {at, ok, reason, latencyMs, status} (absent values are null).
function M.history_item(h)
  return {
    at = or_null(h.at),
    ok = h.ok == true,
    reason = or_null(h.reason),
    latencyMs = or_null(tonumber(h.latency_ms)),
    status = or_null(tonumber(h.status)),
  }
end

-- health_report(e, history) -> {health, history, uptime, latency} for GET /catalog/{id}/health:
-- history oldest first; uptime = {ratio, up, total} over the stored probes (ratio null when
-- there are none; auth required, forbidden and rate limited count as up); latency = the ok
-- probes as {at, latencyMs}, oldest first.
function M.health_report(e, history)
  local lifecycle = require "agentlens.health.lifecycle"
  local items = json.array()
  for i, h in ipairs(history or {}) do
    items[i] = M.history_item(h)
  end
  local ratio, up, total = lifecycle.uptime(history)
  local latency = json.array()
  for i, p in ipairs(lifecycle.latency_series(history)) do
    latency[i] = { at = or_null(p.at), latencyMs = tonumber(p.latency_ms) }
  end
  return {
    health = M.health(e),
    history = items,
    uptime = { ratio = or_null(ratio), up = up or 0, total = total or 0 },
    latency = latency,
  }
end

-- provider(p) -> the provider object, or nil when it names nothing.
function M.provider(p)
  local provider = decoded(p)
  if provider and (non_empty(provider.organization) or non_empty(provider.url) or non_empty(provider.team)) then
    return provider
  end
  return nil
end

-- entry(e, detail) -> the CatalogEntry JSON. detail: include security_detail (lists carry
-- capabilities and auth_summary but not security_detail, reference 15 item 24).
function M.entry(e, detail)
  local caps = json.array()
  for i, c in ipairs(decoded(e.capabilities) or {}) do
    caps[i] = M.capability(c)
  end
  local out = {
    id = e.id,
    display_name = e.display_name or "",
    description = e.description or "",
    status = e.state,
    source = e.source,
    created_at = e.created_at,
    updated_at = e.updated_at,
    has_raw_card = e.has_raw_card and true or false,
    health = M.health(e),
  }
  for _, k in ipairs({ "protocol", "endpoint", "version", "spec_version" }) do
    if non_empty(e[k]) then
      out[k] = e[k]
    end
  end
  out.provider = M.provider(e.provider)
  local categories = decoded(e.categories)
  if categories and #categories > 0 then
    out.categories = json.array(categories)
  end
  local metadata = decoded(e.metadata)
  if metadata and next(metadata) ~= nil then
    out.metadata = json.object(metadata)
  end
  if #caps > 0 then
    out.capabilities = caps
  end
  if e.capabilities_count ~= nil then
    out.capabilities_count = tonumber(e.capabilities_count) or 0
  end
  local summary, sec = security(caps)
  out.auth_summary = summary
  if detail then
    out.security_detail = sec
  end
  return out
end

-- live(l) -> the fields of an entry's JSON that follow its state and health columns (status,
-- health, updated_at); l: an entry, or an item of agentlens.store.catalog.live().
function M.live(l)
  return { status = l.state, health = M.health(l), updated_at = l.updated_at }
end

-- lasting(e) -> the list view of entry e without the fields of live(e): what changes only when
-- the entry itself is written (see agentlens.catalog.cache).
function M.lasting(e)
  local out = M.entry(e, false)
  for k in pairs(M.live(e)) do
    out[k] = nil
  end
  return out
end

-- list(entries) -> json.array of list views (no security_detail).
function M.list(entries)
  local out = json.array()
  for i, e in ipairs(entries) do
    out[i] = M.entry(e, false)
  end
  return out
end

return M
