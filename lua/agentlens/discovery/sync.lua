-- SPDX-License-Identifier: Apache-2.0
-- Discovery sync: turns an item found by a discovery source (a Kubernetes Service, a static
-- source of the config or of an operator script) into a catalog entry.
--
--   upsert(source, item[, opts]) -> entry, info | nil, message, code
--     source: "k8s" | "config" (the catalog source column). item: {key (stable external id,
--     "k8s/<ns>/<name>", "config/<name>"), protocol ("a2a" | "mcp"), url (A2A base URL or card
--     URL | MCP endpoint, or a server.json that names it), card_path?, headers? {name = value}
--     sent on the fetch, team?, tags?, labels? {k = v}, annotations?, namespace?, name?}.
--     Runs the operator filters (agentlens.discovery.rules; a dropped item is marked gone and
--     the result is nil, message, "filtered"), fetches the A2A card (well-known fallbacks) or
--     speaks MCP (initialize + lists), runs the transforms, and writes the entry with
--     agentlens.store.catalog.upsert (same protocol + endpoint, or the entry holding the key).
--     info = {action = "inserted" | "updated" | "kept" (a pushed entry has the endpoint: left
--     as it is) | "unchanged" (fetch failed, the entry keeps its last good card), note?, reason?}.
--     A fetch failure for an item not yet in the catalog inserts a minimal entry (display name =
--     key) in state offline with the reason as its last error, so a discovered-but-down agent
--     is visible. Codes: "invalid" (bad item), "filtered", and the store's codes.
--   upsert_many(source, items[, opts]) -> results ({entry, info} | {error, code} per item, in
--     order): the same, with every fetch of the batch running concurrently (discovery.batch).
--   gone(source, key[, reason]) -> true | nil, message
--     The item disappeared: its entry is offline from now on and deleted by sweep_removed after
--     discovery.removal_grace (unless the item comes back first).
--   retain(source, keys) -> number marked gone: every entry of source whose key is not in the
--     set `keys` ({[key] = true}) is gone (a source removed from the config, a re-list); a gone
--     entry that is no longer offline (a health probe found the agent up) is made offline again.
--   sweep_removed([opts]) -> ids deleted | nil, message: entries gone longer than the grace
--     (opts.grace_ms, else the config option discovery.removal_grace).
--
-- opts: timeout_ms (per item, default 10 s), request (a transport with the shape of
-- httpc.request: specs), concurrency (upsert_many), ssrf_guard (default false: sources are
-- operator data, in-cluster addresses are private by nature).
--
-- Tool drift: when an update changes an entry's capabilities and the module
-- agentlens.health.drift exists, drift.record(entry_id, old_capabilities, new_capabilities) is
-- called (its failures are logged, never raised).
local json = require "agentlens.json"
local log = require "agentlens.log"
local time = require "agentlens.time"
local catalog = require "agentlens.store.catalog"
local a2a = require "agentlens.protocols.a2a"
local mcp = require "agentlens.protocols.mcp"
local a2a_fetch = require "agentlens.discovery.a2a_fetch"
local rules = require "agentlens.discovery.rules"
local batch = require "agentlens.discovery.batch"

local M = {}

M.SOURCES = { k8s = true, config = true }
M.DEFAULT_TIMEOUT_MS = 10000
M.DEFAULT_GRACE_MS = 3600 * 1000
M.GONE_REASON = "removed from its discovery source"

local function nonempty(s)
  if type(s) == "string" and s:match("%S") then
    return s
  end
  return nil
end

local function copy(t)
  local out = {}
  for k, v in pairs(type(t) == "table" and t or {}) do
    out[k] = v
  end
  return out
end

-- normalize(source, item) -> item (a copy) | nil, message
function M.normalize(source, item)
  if not M.SOURCES[source] then
    return nil, ("source must be k8s or config, got %s"):format(tostring(source))
  end
  if type(item) ~= "table" then
    return nil, "item must be a table"
  end
  if not nonempty(item.key) then
    return nil, "item.key is required"
  end
  if item.protocol ~= "a2a" and item.protocol ~= "mcp" then
    return nil, ("item.protocol must be a2a or mcp, got %s"):format(tostring(item.protocol))
  end
  if type(item.url) ~= "string" or not a2a_fetch.split(item.url) then
    return nil, "item.url must be an http(s) URL"
  end
  local headers = {}
  for k, v in pairs(type(item.headers) == "table" and item.headers or {}) do
    if type(k) == "string" and (type(v) == "string" or type(v) == "number") then
      headers[k] = tostring(v)
    end
  end
  local tags = {}
  for _, t in ipairs(type(item.tags) == "table" and item.tags or {}) do
    if type(t) == "string" and t ~= "" then
      tags[#tags + 1] = t
    end
  end
  return {
    key = item.key, source = source, protocol = item.protocol, url = item.url:match("^%s*(.-)%s*$"),
    card_path = nonempty(item.card_path), headers = headers, team = nonempty(item.team), tags = tags,
    labels = copy(item.labels), annotations = copy(item.annotations), namespace = nonempty(item.namespace),
    name = nonempty(item.name) or item.key:match("([^/]+)$"),
  }
end

-- ---- fetching -------------------------------------------------------------------------------

local function mcp_client()
  return require "agentlens.protocols.mcp_client"
end

-- An MCP item whose url is a server description (a path ending in ".json", e.g.
-- /.well-known/mcp/server.json) names its endpoint there: -> endpoint | nil, failure outcome
local function mcp_endpoint_of(item, opts, timeout)
  local request = opts.request or require("agentlens.httpc").request
  local headers = copy(item.headers)
  headers.Accept = "application/json"
  local r, err, code = request({ url = item.url, method = "GET", headers = headers, timeout_ms = timeout,
    max_bytes = 1024 * 1024, max_redirects = 3, ssrf_guard = opts.ssrf_guard == true })
  if not r then
    return nil, { ok = false, reason = code or "error", detail = err }
  end
  if r.status == 401 or r.status == 403 then
    return nil, { ok = false, reason = "auth required", detail = "HTTP " .. r.status }
  end
  if r.status < 200 or r.status > 299 then
    return nil, { ok = false, reason = "HTTP " .. r.status }
  end
  local parsed, result = mcp.parse(r.body or "")
  if not parsed or not parsed.endpoint or parsed.endpoint == "" then
    local first = result and result.errors and result.errors[1]
    return nil, { ok = false, reason = "invalid card",
      detail = first and first.message or "the server description names no remote endpoint" }
  end
  return parsed.endpoint
end

-- fetch(item, opts) -> outcome: {ok = true, protocol, ...} | {ok = false, reason, detail, up?}
-- (up: the server answers but cannot be listed, e.g. a legacy HTTP+SSE MCP server). An MCP
-- outcome carries the endpoint it spoke to (item.url, or the remote a server.json names).
function M.fetch(item, opts)
  opts = opts or {}
  local timeout = opts.timeout_ms or M.DEFAULT_TIMEOUT_MS
  if item.protocol == "a2a" then
    local r = a2a_fetch.fetch_card(item.url, { card_path = item.card_path, headers = item.headers,
      timeout_ms = timeout, ssrf_guard = opts.ssrf_guard == true, request = opts.request })
    if not r.ok then
      return { ok = false, reason = r.reason, detail = r.detail }
    end
    local parsed, result = a2a.parse(r.raw)
    if not parsed then
      local first = result and result.errors and result.errors[1]
      return { ok = false, reason = "invalid card", detail = first and first.message or nil }
    end
    return { ok = true, parsed = parsed, raw = r.raw, content_type = r.content_type, card_url = r.url,
      latency_ms = r.latency_ms }
  end
  local endpoint = item.url
  local path = (select(2, a2a_fetch.split(item.url)))
  if path and path:match("%.json$") then
    local found, failure = mcp_endpoint_of(item, opts, timeout)
    if not found then
      return failure
    end
    endpoint = found
  end
  local r = mcp_client().probe(endpoint, { headers = item.headers, timeout_ms = timeout,
    ssrf_guard = opts.ssrf_guard == true, request = opts.request })
  if not r.ok then
    return { ok = false, reason = r.reason, detail = r.detail, up = r.transport == "sse",
      transport = r.transport, endpoint = endpoint }
  end
  return { ok = true, mcp = r, latency_ms = r.latency_ms, endpoint = endpoint }
end

-- ---- entries --------------------------------------------------------------------------------

-- The raw document kept for an MCP server: what it said about itself and its listing.
local function mcp_document(r)
  local doc = json.encode({ serverInfo = r.server_info, protocolVersion = r.protocol_version,
    transport = r.transport, capabilities = r.capabilities, instructions = r.instructions,
    tools = r.tools or json.array(), resources = r.resources or json.array(), prompts = r.prompts or json.array() })
  if doc and #doc <= catalog.MAX_RAW_CARD then
    return { data = doc, content_type = "application/json" }
  end
  return nil
end

-- entry_of(item, outcome) -> the entry to write (before the transforms)
function M.entry_of(item, outcome)
  local e = { source = item.source, protocol = item.protocol, discovery_key = item.key, endpoint = item.url,
    display_name = item.key, description = "", categories = {}, metadata = {} }
  if outcome.ok and outcome.parsed then
    local p = outcome.parsed
    e.endpoint = nonempty(p.endpoint) or item.url
    e.display_name = nonempty(p.display_name) or item.key
    e.description, e.version, e.spec_version = p.description or "", p.version, p.spec_version
    if type(p.provider) == "table" then
      e.provider = { organization = p.provider.organization, team = p.provider.organization, url = p.provider.url }
    end
    for _, c in ipairs(p.categories or {}) do
      e.categories[#e.categories + 1] = c
    end
    e.capabilities = p.capabilities
    e.raw_card = { data = outcome.raw, content_type = nonempty(outcome.content_type) or "application/json" }
    e.metadata.card_url = outcome.card_url
    e.state = "registered"
  elseif outcome.ok and outcome.mcp then
    local r = outcome.mcp
    e.endpoint = outcome.endpoint or item.url
    local info = type(r.server_info) == "table" and r.server_info or {}
    e.display_name = nonempty(info.title) or nonempty(info.name) or item.key
    e.description = nonempty(info.description) or ""
    e.version, e.spec_version = info.version, r.protocol_version
    e.capabilities = r.capabilities_list
    e.raw_card = mcp_document(r)
    e.metadata.mcp_server_name = info.name
    e.metadata.mcp_transport = r.transport
    e.state = "registered"
  elseif outcome.up then
    e.endpoint = outcome.endpoint or item.url
    e.metadata.mcp_transport = outcome.transport
    e.last_error = outcome.reason or ""
    e.state = "registered"
  else
    e.state = "offline"
    e.last_error = outcome.reason or "error"
  end
  if item.team then
    e.provider = copy(e.provider)
    e.provider.team = item.team
  end
  for _, t in ipairs(item.tags) do
    e.categories[#e.categories + 1] = t
  end
  e.metadata.discovery_key = item.key
  e.metadata.card_path = item.card_path
  e.metadata["kubernetes.namespace"] = item.namespace
  return e
end

local function capability_signature(caps)
  local parts = {}
  for i, c in ipairs(caps or {}) do
    parts[i] = json.encode({ c.kind, c.name, c.description or "", c.properties or json.object() }) or ""
  end
  return table.concat(parts, "\n")
end

local function record_drift(entry_id, old_caps, new_caps)
  if capability_signature(old_caps) == capability_signature(new_caps) then
    return
  end
  local ok, drift = pcall(require, "agentlens.health.drift")
  if not ok or type(drift) ~= "table" or type(drift.record) ~= "function" then
    return
  end
  local done, err = pcall(drift.record, entry_id, old_caps, new_caps)
  if not done then
    log.warn("tool drift not recorded", { entry_id = entry_id, error = tostring(err) })
  end
end

-- apply(item, outcome) -> entry, info | nil, message, code: writes the outcome of a fetch.
function M.apply(item, outcome)
  local existing, err, code = catalog.discovered(item.source, item.key)
  if existing == nil and err then
    return nil, err, code
  end
  if not outcome.ok and not outcome.up and existing then
    local ok
    ok, err, code = catalog.clear_gone(existing.id)
    if not ok then
      return nil, err, code
    end
    log.info("discovery: fetch failed; the entry keeps its last known card", { key = item.key,
      entry_id = existing.id, reason = outcome.reason, detail = outcome.detail })
    local entry
    entry, err, code = catalog.get(existing.id)
    if not entry then
      return nil, err or "entry disappeared", code
    end
    return entry, { action = "unchanged", reason = outcome.reason,
      note = "fetch failed (" .. tostring(outcome.reason) .. "); the entry keeps its last known card" }
  end
  local e = rules.transform(M.entry_of(item, outcome), item)
  local old
  if existing then
    old = catalog.get(existing.id)
  end
  local id, action, note = catalog.upsert(e)
  if not id then
    return nil, action, note
  end
  local entry
  entry, err, code = catalog.get(id)
  if not entry then
    return nil, err or "entry disappeared", code
  end
  if action == "inserted" then
    log.info("discovery: entry added", { key = item.key, entry_id = id, protocol = item.protocol,
      endpoint = entry.endpoint, state = entry.state, reason = outcome.reason })
  elseif action == "kept" then
    log.debug("discovery: a pushed entry has this endpoint; left unchanged", { key = item.key, entry_id = id })
  elseif action == "updated" and old and old.id == id then
    record_drift(id, old.capabilities, entry.capabilities)
  end
  return entry, { action = action, note = note, reason = outcome.reason }
end

-- prepare(source, item) -> item | nil, message, code (invalid item, or dropped by a filter)
local function prepare(source, item)
  local it, why = M.normalize(source, item)
  if not it then
    return nil, why, "invalid"
  end
  local keep, by = rules.filter(it)
  if not keep then
    M.gone(source, it.key, "filtered out by a discovery rule")
    return nil, "filtered out by the discovery rule in " .. tostring(by), "filtered"
  end
  return it
end

function M.upsert(source, item, opts)
  local it, err, code = prepare(source, item)
  if not it then
    return nil, err, code
  end
  return M.apply(it, M.fetch(it, opts))
end

function M.upsert_many(source, items, opts)
  opts = opts or {}
  local results, todo, tasks = {}, {}, {}
  for i, item in ipairs(items) do
    local it, err, code = prepare(source, item)
    if it then
      todo[#todo + 1] = { i = i, item = it }
      tasks[#tasks + 1] = function(request)
        local o = {}
        for k, v in pairs(opts) do
          o[k] = v
        end
        o.request = opts.request or request
        return M.fetch(it, o)
      end
    else
      results[i] = { error = err, code = code }
    end
  end
  local outcomes = batch.run(tasks, { concurrency = opts.concurrency, request_many = opts.request_many })
  for k, t in ipairs(todo) do
    local o = outcomes[k]
    local outcome = o.ok and o.value or { ok = false, reason = "error", detail = o.error }
    local ok, entry, info, code = pcall(M.apply, t.item, outcome)
    if not ok then
      results[t.i] = { error = tostring(entry), code = "error" }
    elseif entry then
      results[t.i] = { entry = entry, info = info }
    else
      results[t.i] = { error = info, code = code }
    end
  end
  return results
end

function M.gone(source, key, reason)
  if not M.SOURCES[source] or not nonempty(key) then
    return nil, "gone(source, key): source must be k8s or config and key non-empty"
  end
  local n, err = catalog.mark_gone(source, key, reason or M.GONE_REASON)
  if not n then
    return nil, err
  end
  if n > 0 then
    log.info("discovery: item gone; entry offline until the removal grace ends", { source = source, key = key,
      reason = reason or M.GONE_REASON })
  end
  return true
end

function M.retain(source, keys)
  local present, err = catalog.discovered_keys(source)
  if not present then
    return nil, err
  end
  local n = 0
  for key, e in pairs(present) do
    -- also when a health probe has brought a gone entry back to life: it stays offline
    if not keys[key] and not (e.gone_at and (e.state == "offline" or e.state == "deprecated")) then
      local ok
      ok, err = M.gone(source, key)
      if not ok then
        return nil, err
      end
      n = n + 1
    end
  end
  return n
end

local function grace_ms()
  local ok, v = pcall(function()
    return require("agentlens.config").get("discovery.removal_grace")
  end)
  return ok and tonumber(v) or M.DEFAULT_GRACE_MS
end

function M.sweep_removed(opts)
  opts = opts or {}
  local grace = opts.grace_ms or grace_ms()
  local before = time.rfc3339((opts.now or time.now()) - grace / 1000)
  local ids, err = catalog.delete_gone(before)
  if not ids then
    return nil, err
  end
  if #ids > 0 then
    log.info("discovery: entries deleted after the removal grace", { count = #ids, grace_ms = grace })
  end
  return ids
end

return M
