-- SPDX-License-Identifier: Apache-2.0
-- The catalog (reference 5.4-5.8): list, push create, register a raw card, validate (dry run),
-- import from a URL, detail, delete, raw card, lifecycle, stats.
local http = require "agentlens.http"
local httpc = require "agentlens.httpc"
local json = require "agentlens.json"
local log = require "agentlens.log"
local system = require "agentlens.system"
local V = require "agentlens.lib.validate"
local catalog = require "agentlens.store.catalog"
local detect = require "agentlens.protocols.detect"
local http_errors = require "agentlens.lib.http_errors"
local paging = require "agentlens.lib.paging"
local request_body = require "agentlens.lib.request_body"
local cache = require "agentlens.catalog.cache"
local view = require "agentlens.catalog.view"
local health_store = require "agentlens.store.health"
local time = require "agentlens.time"

local M = {}

M.PROTOCOLS = { a2a = true, mcp = true, a2ui = true }
M.STATES = { registered = true, active = true, degraded = true, offline = true, deprecated = true }
M.SOURCES = { k8s = true, config = true, push = true, upstream = true }
-- API sort names (reference 5.5) -> store sort names.
M.SORTS = {
  lastSuccessAt_desc = "last_success",
  displayName_asc = "name",
  createdAt_desc = "-created_at",
}
M.MAX_RAW_CARD = 256 * 1024

local DUPLICATE = "an entry with this endpoint already exists"
local NOT_FOUND = "catalog entry not found"

local function bad_param(name, why)
  return http.error(400, ("invalid query parameter %q: %s"):format(name, why), { { field = name, message = why } })
end

local function one_of(set)
  local names = {}
  for k in pairs(set) do
    names[#names + 1] = k
  end
  table.sort(names)
  return table.concat(names, ", ")
end

local function comma_list(s)
  local out = {}
  for part in (s .. ","):gmatch("([^,]*),") do
    part = part:match("^%s*(.-)%s*$")
    if part ~= "" then
      out[#out + 1] = part
    end
  end
  return out
end

-- filters(query) -> store filter | nil, status, body
local function filters(query)
  local limit, offset, status, body = paging.parse(query)
  if not limit then
    return nil, status, body
  end
  local f = { limit = limit, offset = offset }
  if query.protocol ~= nil then
    if not M.PROTOCOLS[query.protocol] then
      return nil, bad_param("protocol", "must be one of: a2a, mcp, a2ui")
    end
    f.protocol = query.protocol
  end
  if query.state ~= nil then
    local states = comma_list(query.state)
    if #states == 0 then
      return nil, bad_param("state", "invalid state value")
    end
    for _, s in ipairs(states) do
      if not M.STATES[s] then
        return nil, bad_param("state", "invalid state value " .. ("%q"):format(s) .. " (allowed: "
          .. one_of(M.STATES) .. ")")
      end
    end
    f.states = states
  elseif query.status ~= nil then
    if not M.STATES[query.status] then
      return nil, bad_param("status", "must be one of: " .. one_of(M.STATES))
    end
    f.states = { query.status }
  end
  if query.source ~= nil then
    if not M.SOURCES[query.source] then
      return nil, bad_param("source", "must be one of: " .. one_of(M.SOURCES))
    end
    f.source = query.source
  end
  if query.team ~= nil and query.team ~= "" then
    f.team = query.team
  end
  if query.categories ~= nil then
    local cats = comma_list(query.categories)
    if #cats > 0 then
      f.categories = cats
    end
  end
  if query.q ~= nil and query.q ~= "" then
    if #query.q > 200 then
      return nil, bad_param("q", "must be at most 200 characters")
    end
    f.q = query.q
  end
  if query.sort ~= nil then
    local s = M.SORTS[query.sort]
    if not s then
      return nil, bad_param("sort", "must be one of: lastSuccessAt_desc, displayName_asc, createdAt_desc")
    end
    f.sort = s
  end
  return f
end

function M.list(req)
  local f, status, body = filters(req.query or {})
  if not f then
    return status, body
  end
  local s, b, h = cache.list(cache.key(req), f)
  if not s then
    return http_errors.db_failure(b, h)
  end
  return s, b, h
end

-- load(id) -> entry | nil, status, body
local function load(id)
  local e, err, code = catalog.get(id)
  if e == nil and err ~= nil then
    return nil, http_errors.db_failure(err, code)
  end
  if not e then
    return nil, http.error(404, NOT_FOUND)
  end
  return e
end

local function answer(id, status)
  local e, s, body = load(id)
  if not e then
    return s, body
  end
  return status or 200, view.entry(e, true)
end

function M.get(req)
  local key = cache.key(req)
  local s, b, h = cache.get(key)
  if s then
    return s, b, h
  end
  local version = cache.version()
  local status, body = answer(req.params.id)
  if status ~= 200 then
    return status, body
  end
  return cache.put(key, version, status, body)
end

-- insert(e) -> 201, entry | status, body
local function insert(e, req)
  local id, err, code = catalog.insert(e)
  if not id then
    if code == "unique" then
      return http.error(409, DUPLICATE)
    end
    if code == "too_large" then
      return http.error(413, ("agent card is larger than %d bytes"):format(M.MAX_RAW_CARD))
    end
    if code == "invalid" then
      return http.error(400, tostring(err))
    end
    return http_errors.db_failure(err, code)
  end
  log.info("catalog entry created", { entry_id = id, protocol = e.protocol, endpoint = e.endpoint,
    by = req.principal and req.principal.username })
  return answer(id, 201)
end

local CREATE = {
  fields = {
    { name = "display_name", required = true, trim = true, max = 200 },
    { name = "description", max = 4000 },
    { name = "protocol", required = true },
    { name = "endpoint", required = true, trim = true, max = 2048 },
    { name = "version", trim = true, max = 100 },
  },
}

-- POST /catalog: the minimal push form; no capabilities, no raw card.
function M.create(req)
  local v, status, err_body = request_body.parse(req, CREATE)
  if not v then
    return status, err_body
  end
  if not M.PROTOCOLS[v.protocol] then
    return http.error(400, "protocol must be one of: a2a, mcp, a2ui",
      { { field = "protocol", message = "protocol must be one of: a2a, mcp, a2ui" } })
  end
  local ok, why = V.is_http_url(v.endpoint)
  if not ok and not v.endpoint:match("^[%w.%-%[%]:]+:%d+$") then
    return http.error(400, "endpoint " .. why, { { field = "endpoint", message = "endpoint " .. why } })
  end
  return insert({
    protocol = v.protocol, endpoint = v.endpoint, display_name = v.display_name, description = v.description,
    version = v.version, source = "push", state = "registered",
  }, req)
end

local function invalid(result)
  return 422, result
end

-- protocol_param(req) -> protocol | nil (absent) | false, status, body
local function protocol_param(req)
  local p = req.query and req.query.protocol
  if p == nil or p == "" then
    return nil
  end
  if not detect.PARSERS[p] then
    return false, http.error(400, "unsupported protocol: " .. p)
  end
  return p
end

-- register_document(data, content_type, protocol, req) -> status, body: parses, validates and
-- stores a raw card (shared by register and import).
local function register_document(data, content_type, protocol, req)
  if #data > M.MAX_RAW_CARD then
    return http.error(413, ("agent card is larger than %d bytes"):format(M.MAX_RAW_CARD))
  end
  local parsed, result = detect.parse(data, protocol)
  if not parsed then
    local e1 = result.errors[1]
    if e1 and e1.field == "json" and #result.errors == 1 then
      return http.error(400, e1.message)
    end
    return invalid(result)
  end
  if not parsed.endpoint or parsed.endpoint == "" then
    result.valid = false
    result.preview = nil
    result.errors[#result.errors + 1] = { field = parsed.protocol == "mcp" and "remotes" or "url",
      message = "the card names no endpoint (url) to register" }
    return invalid(result)
  end
  local provider
  if type(parsed.provider) == "table" then
    provider = { organization = parsed.provider.organization, team = parsed.provider.organization,
      url = parsed.provider.url }
  end
  return insert({
    protocol = parsed.protocol,
    endpoint = parsed.endpoint,
    display_name = (parsed.display_name and parsed.display_name ~= "") and parsed.display_name or parsed.endpoint,
    description = parsed.description or "",
    version = parsed.version,
    spec_version = parsed.spec_version,
    provider = provider,
    categories = parsed.categories,
    source = "push",
    state = "registered",
    capabilities = parsed.capabilities,
    raw_card = { data = data, content_type = content_type },
  }, req)
end

local function request_content_type(req)
  local ct = req.headers and req.headers["content-type"]
  if type(ct) ~= "string" or ct == "" then
    return "application/json"
  end
  return ct
end

-- POST /catalog/register: a raw A2A card or MCP server description as the body.
function M.register(req)
  local data = req.body or ""
  if data:match("^%s*$") then
    return http.error(400, "request body is empty")
  end
  local protocol, status, body = protocol_param(req)
  if protocol == false then
    return status, body
  end
  return register_document(data, request_content_type(req), protocol, req)
end

-- POST /catalog/validate: dry run; the protocol is detected (or given as ?protocol=).
function M.validate(req)
  local data = req.body or ""
  if data:match("^%s*$") then
    return http.error(400, "request body is empty")
  end
  local protocol, status, body = protocol_param(req)
  if protocol == false then
    return status, body
  end
  local result = detect.validate(data, protocol)
  if not result.valid then
    return invalid(result)
  end
  return 200, result
end

local IMPORT = { fields = { { name = "url", required = true, trim = true, max = 2048 }, { name = "protocol" } } }

-- POST /catalog/import {url, protocol?}: fetch (SSRF-guarded), then as register.
function M.import(req)
  local v, status, err_body = request_body.parse(req, IMPORT)
  if not v then
    return status, err_body
  end
  if v.protocol ~= nil and not detect.PARSERS[v.protocol] then
    return http.error(400, "unsupported protocol: " .. v.protocol,
      { { field = "protocol", message = "protocol must be one of: a2a, mcp" } })
  end
  local ok, why = V.is_http_url(v.url)
  if not ok then
    return http.error(400, "url " .. why, { { field = "url", message = "url " .. why } })
  end
  local resp, err, code = httpc.request({
    url = v.url,
    ssrf_guard = true,
    json_only = true,
    timeout_ms = 10000,
    max_bytes = 1048576,
    max_redirects = 3,
    headers = { ["User-Agent"] = "AgentLens/" .. system.version(), Accept = "application/json" },
  })
  if not resp then
    log.info("catalog import fetch failed", { url = v.url, code = code, error = err })
    if code == "refused" or code == "bad url" then
      local reason = tostring(err):gsub("^refused: ", "")
      return http.error(400, "url refused: " .. reason, { { field = "url", message = reason } })
    end
    return http.error(502, "could not fetch card from url: " .. tostring(err))
  end
  if resp.status < 200 or resp.status > 299 then
    return http.error(502, ("could not fetch card from url: HTTP status %d"):format(resp.status))
  end
  local protocol = v.protocol
  if not protocol then
    local reason
    protocol, reason = detect.protocol(resp.body, resp.url or v.url)
    if not protocol then
      return http.error(400, "could not detect protocol; specify 'protocol' in the request body",
        { { field = "protocol", message = tostring(reason) } })
    end
  end
  local ct = resp.headers and (resp.headers["content-type"] or resp.headers["Content-Type"]) or "application/json"
  return register_document(resp.body, ct, protocol, req)
end

function M.delete(req)
  local ok, err, code = catalog.delete(req.params.id)
  if ok == nil then
    return http_errors.db_failure(err, code)
  end
  if not ok then
    return http.error(404, NOT_FOUND)
  end
  log.info("catalog entry deleted", { entry_id = req.params.id, by = req.principal and req.principal.username })
  return 204
end

-- etag_matches(header, etag): If-None-Match with weak comparison (RFC 9110 13.1.2).
local function etag_matches(header, etag)
  if type(header) ~= "string" then
    return false
  end
  local want = etag:gsub("^W/", "")
  for tag in header:gmatch("[^,]+") do
    tag = tag:match("^%s*(.-)%s*$")
    if tag == "*" or tag:gsub("^W/", "") == want then
      return true
    end
  end
  return false
end

local function quoted(etag)
  etag = tostring(etag)
  if etag:match('^W/".*"$') or etag:match('^".*"$') then
    return etag
  end
  return '"' .. etag .. '"'
end

-- GET /catalog/{id}/card: the stored bytes with their content type, ETag and 304.
function M.card(req)
  local e, status, body = load(req.params.id)
  if not e then
    return status, body
  end
  local raw = catalog.raw_card(e.id)
  if not raw then
    return http.error(404, "no raw card stored")
  end
  local headers = { ["Cache-Control"] = "private, no-cache" }
  if raw.etag then
    headers.ETag = quoted(raw.etag)
  end
  if raw.fetched_at then
    headers["X-Raw-Card-Fetched-At"] = tostring(raw.fetched_at)
  end
  if raw.etag and etag_matches(req.headers and req.headers["if-none-match"], headers.ETag) then
    return 304, "", headers
  end
  headers["Content-Type"] = raw.content_type or "application/json"
  return 200, raw.data, headers
end

-- PATCH /catalog/{id}/lifecycle {state: "deprecated" | "active"}
function M.lifecycle(req)
  local body, status, err_body = request_body.object(req)
  if not body then
    return status, err_body
  end
  local state = body.state
  if state ~= "deprecated" and state ~= "active" then
    return http.error(400, "state must be one of: deprecated, active",
      { { field = "state", message = "state must be one of: deprecated, active" } })
  end
  local e
  e, status, err_body = load(req.params.id)
  if not e then
    return status, err_body
  end
  local updated, err, code = catalog.set_state(e.id, state, { manual = true })
  if not updated then
    if err ~= nil then
      return http_errors.db_failure(err, code)
    end
    return http.error(404, NOT_FOUND)
  end
  log.info("catalog entry lifecycle changed", { entry_id = e.id, state = state,
    by = req.principal and req.principal.username })
  return 200, view.entry(updated, true)
end

-- ---- health (reference 5.4, 8) -------------------------------------------------------------

M.PROBE_INTERVAL = 5 -- seconds between two on-demand probes of one entry

-- When each entry was last probed on demand (time.monotonic()), per worker: every HTTP worker
-- thread has its own Lua state, so the limit holds per worker (with N workers an entry can be
-- probed up to N times in 5 s). Entries older than the interval are dropped as we go.
local last_probe = {}
local last_probe_count = 0

local function prune_probes(now)
  for id, t in pairs(last_probe) do
    if now - t >= M.PROBE_INTERVAL then
      last_probe[id] = nil
      last_probe_count = last_probe_count - 1
    end
  end
end

-- POST /catalog/{id}/probe: one probe now; 429 (checked first), 503 when disabled, 404.
function M.probe(req)
  local id = req.params.id
  local now = time.monotonic()
  local prev = last_probe[id]
  if prev and now - prev < M.PROBE_INTERVAL then
    local wait = math.max(1, math.ceil(M.PROBE_INTERVAL - (now - prev)))
    local status, body = http.error(429, ("probe rate limited; try again in %d s"):format(wait))
    return status, body, { ["Retry-After"] = tostring(wait) }
  end
  local health_run = require "agentlens.health.run"
  if not health_run.enabled() then
    return http.error(503, "health checking is disabled")
  end
  local e, status, body = load(id)
  if not e then
    return status, body
  end
  if last_probe_count > 1000 then
    prune_probes(now)
  end
  if not prev then
    last_probe_count = last_probe_count + 1
  end
  last_probe[id] = now
  local result, err, code = health_run.probe_entry(e)
  if not result then
    return http_errors.db_failure(err, code)
  end
  local updated
  updated, err, code = catalog.get(id)
  if not updated then
    if err ~= nil then
      return http_errors.db_failure(err, code)
    end
    return http.error(404, NOT_FOUND)
  end
  return 200, view.health(updated)
end

-- GET /catalog/{id}/health: {health, history, uptime, latency}.
function M.health(req)
  local e, status, body = load(req.params.id)
  if not e then
    return status, body
  end
  local rows, err, code = health_store.history(e.id)
  if not rows then
    return http_errors.db_failure(err, code)
  end
  return 200, view.health_report(e, rows)
end

-- GET /stats: {total, by_status, by_source, by_protocol}.
function M.stats(_req)
  local s, err, code = catalog.stats()
  if not s then
    return http_errors.db_failure(err, code)
  end
  return 200, {
    total = s.total or 0,
    by_status = json.object(s.by_state or {}),
    by_source = json.object(s.by_source or {}),
    by_protocol = json.object(s.by_protocol or {}),
  }
end

-- GET /catalog/{id}/drift: the tool drift records of the entry, newest first
-- (agentlens.health.drift): {drift: [{at, source, added, removed, changed, toolsBefore,
-- toolsAfter}]}.
function M.drift(req)
  local e, status, body = load(req.params.id)
  if not e then
    return status, body
  end
  local rows, err, code = require("agentlens.health.drift").list(e.id)
  if not rows then
    return http_errors.db_failure(err, code)
  end
  local out = json.array()
  for i, r in ipairs(rows) do
    out[i] = { at = r.at, source = r.source, added = r.added, removed = r.removed, changed = r.changed,
      toolsBefore = r.tools_before, toolsAfter = r.tools_after }
  end
  return 200, { drift = out }
end

return M
