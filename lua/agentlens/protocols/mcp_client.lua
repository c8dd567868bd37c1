-- SPDX-License-Identifier: Apache-2.0
-- Live MCP probe over HTTP (agentlens.httpc): identity, capabilities and the tools / resources /
-- prompts listing of a server, for discovery and health checks. Follows
-- ../shared/reference/protocols.md §2 (Streamable HTTP 2025-03-26 … 2025-11-25, the stateless
-- 2026-07-28 revision, the legacy HTTP+SSE fallback rule).
--
--   mcp_client.probe(url[, opts]) -> result    (never raises on network or peer garbage)
--   mcp_client.ping(url[, opts])  -> {ok, latency_ms, reason?, detail?, status?}
--
-- opts: timeout_ms (overall deadline, default 10000), headers (name -> value, e.g.
-- Authorization), ssrf_guard (default false: the caller decides), max_bytes (per response,
-- default 4 MiB), max_pages (per list, default 50), modern (true: try `server/discover` first),
-- request (replaces agentlens.httpc.request; agentlens.health.pool passes one that runs the
-- exchange inside a concurrent batch: latency and the overall deadline then count the time
-- spent on the probe's own transfers (their duration_ms; a timed-out transfer counts its whole
-- timeout), not the time spent waiting for the rest of the batch).
--
-- probe result, success: {ok = true, transport = "streamable-http"|"stateless", protocol_version,
--   server_info = {name, title, version, description?, website_url?}, capabilities (the server's
--   object), instructions?, tools, resources, prompts (raw items), capabilities_list
--   (mcp.capabilities_from_listing), session_id?, latency_ms (whole probe), warnings[]}.
-- failure: {ok = false, reason, detail, status?, resource_metadata?, www_authenticate?,
--   retry_after?, transport? ("sse" for a detected legacy server), latency_ms}. reason is one of
--   "timeout", "connection refused", "dns", "tls", "refused" (SSRF guard), "too large",
--   "bad url", "auth required" (401), "forbidden" (403), "rate limited" (429), "HTTP <status>",
--   "not an MCP server", "invalid response", "protocol error" (JSON-RPC error from the server),
--   "unsupported protocol version", "legacy transport not supported for listing", "error".
--
-- Streamable HTTP: every message is a POST with `Accept: application/json, text/event-stream`;
-- replies are JSON or an SSE stream (the response is the `message` event whose JSON-RPC id is the
-- request's; priming and unrelated events are ignored). After `initialize` every request carries
-- `Mcp-Session-Id` (when issued) and `MCP-Protocol-Version`; `notifications/initialized` is sent;
-- lists follow `nextCursor` up to max_pages and stop on a repeated cursor; a 404 on a request
-- carrying the session re-initializes once.
--
-- Legacy HTTP+SSE transport (2024-11-05): when POST `initialize` answers a 4xx other than
-- 401/403/429 (without a modern error body), the client GETs the URL as an event stream
-- (agentlens.httpc.stream) and, when the server sends an `endpoint` event, speaks JSON-RPC
-- over it (agentlens.protocols.mcp_sse): initialize (protocol version 2024-11-05),
-- notifications/initialized, then ping or the three lists with pagination; the result carries
-- transport "sse" and message_url. A GET that opens no such stream gives "not an MCP server".
-- httpc.stream is not allowed inside a request handler: there (the on-demand probe) a legacy
-- server is only detected, with a bounded GET: {ok = false, transport = "sse", reason =
-- "legacy transport not supported for listing"} (health probes count it as up).
--
-- Limitations of agentlens.httpc.request (whole bodies only):
-- * the session cannot be ended with DELETE; the session id is returned instead, and servers
--   expire idle sessions themselves;
-- * an SSE reply is parsed once the server ends it (Streamable HTTP servers end the stream after
--   the response), so a server that keeps the stream open after answering times out.
local json = require "agentlens.json"
local httpc = require "agentlens.httpc"
local time = require "agentlens.time"
local mcp = require "agentlens.protocols.mcp"
local sse = require "agentlens.protocols.sse"
local V = require "agentlens.lib.validate"

local M = {}

M.CLIENT_INFO = { name = "agentlens", version = "1.0.0" }
M.LATEST = "2025-11-25" -- legacy-era version requested in initialize
M.MODERN = "2026-07-28"
M.DEFAULTS = { timeout_ms = 10000, max_bytes = 4 * 1024 * 1024, max_pages = 50 }
local LEGACY_GET_MS = 3000 -- bound of the GET that detects a legacy HTTP+SSE server
local ACCEPT = "application/json, text/event-stream"
local MODERN_ERRORS = { [-32020] = true, [-32021] = true, [-32022] = true }
local LISTS = {
  { kind = "tools", method = "tools/list", cap = "tools" },
  { kind = "resources", method = "resources/list", cap = "resources" },
  { kind = "prompts", method = "prompts/list", cap = "prompts" },
}
-- Header names the probe sets itself; caller headers with these names are dropped.
local OWN_HEADERS = { accept = true, ["content-type"] = true, ["mcp-session-id"] = true,
  ["mcp-protocol-version"] = true, ["mcp-method"] = true, origin = true }

local is_object = V.is_object

local function str(v)
  return type(v) == "string" and v or nil
end

local function clip(s, n)
  s = tostring(s or "")
  n = n or 300
  return #s > n and s:sub(1, n) .. "…" or s
end

-- ---- one probe's state ------------------------------------------------------------------------

local Probe = {}
Probe.__index = Probe

local function new_probe(url, opts)
  opts = type(opts) == "table" and opts or {}
  local function int(v, def, lo, hi)
    v = tonumber(v)
    if not v or v ~= v then
      return def
    end
    v = math.floor(v)
    return math.max(lo, math.min(hi, v))
  end
  local headers = {}
  if type(opts.headers) == "table" then
    for k, v in pairs(opts.headers) do
      if type(k) == "string" and type(v) == "string" and not OWN_HEADERS[k:lower()]
        and k:match("^[%w!#$%%&'*+%-.^_`|~]+$") and not v:find("[\r\n%z]")
        and k:lower() ~= "content-length" and k:lower() ~= "transfer-encoding" then
        headers[k] = v
      end
    end
  end
  return setmetatable({
    url = url,
    timeout_ms = int(opts.timeout_ms, M.DEFAULTS.timeout_ms, 1, 300000),
    max_bytes = int(opts.max_bytes, M.DEFAULTS.max_bytes, 1, 256 * 1024 * 1024),
    max_pages = int(opts.max_pages, M.DEFAULTS.max_pages, 1, 100000),
    ssrf_guard = opts.ssrf_guard == true,
    modern = opts.modern == true,
    headers = headers,
    request = type(opts.request) == "function" and opts.request or nil,
    net_ms = 0,
    started = time.monotonic(),
    next_id = 0,
    LISTS = LISTS,
    LEGACY_VERSION = "2024-11-05",
    CLIENT_INFO = M.CLIENT_INFO,
    item_limit = function(kind)
      return mcp.LIMITS[kind] or 2000
    end,
    warnings = json.array(),
  }, Probe)
end

function Probe:elapsed_ms()
  if self.request then
    return math.floor(self.net_ms + 0.5)
  end
  return math.floor((time.monotonic() - self.started) * 1000 + 0.5)
end

function Probe:remaining_ms()
  if self.request then
    return self.timeout_ms - self.net_ms
  end
  return self.timeout_ms - (time.monotonic() - self.started) * 1000
end

function Probe:fail(reason, detail, extra)
  local r = { ok = false, reason = reason, detail = detail or reason, latency_ms = self:elapsed_ms() }
  for k, v in pairs(extra or {}) do
    r[k] = v
  end
  return r
end

-- Raw HTTP exchange: response | nil, failure-table. Never raises.
function Probe:http(method, url, headers, body, extra)
  local left = math.floor(self:remaining_ms())
  if left < 1 then
    return nil, self:fail("timeout", ("no complete response within %d ms (overall probe deadline)"):format(
      self.timeout_ms))
  end
  local h = {}
  for k, v in pairs(self.headers) do
    h[k] = v
  end
  for k, v in pairs(headers or {}) do
    h[k] = v
  end
  local req = { url = url, method = method, headers = h, body = body, timeout_ms = left,
    max_bytes = self.max_bytes, max_redirects = 3, ssrf_guard = self.ssrf_guard }
  for k, v in pairs(extra or {}) do
    req[k] = v
  end
  local okc, resp, msg, code = pcall(self.request or httpc.request, req)
  if not okc then
    return nil, self:fail("error", clip(resp))
  end
  if self.request then
    if resp and tonumber(resp.duration_ms) then
      self.net_ms = self.net_ms + resp.duration_ms
    elseif not resp and code == "timeout" then
      self.net_ms = self.net_ms + req.timeout_ms
    end
  end
  if not resp then
    local reason = code or "error"
    if reason == "ok" then
      reason = "error"
    end
    return nil, self:fail(reason, msg or reason), code
  end
  return resp
end

-- Classifies a non-2xx HTTP status into a failure (nil for statuses the caller handles).
function Probe:status_failure(resp)
  local st = resp.status
  local extra = { status = st }
  if st == 401 or st == 403 then
    local www = resp.headers["www-authenticate"]
    if www then
      extra.www_authenticate = clip(www, 1000)
      extra.resource_metadata = www:match('resource_metadata%s*=%s*"([^"]*)"')
        or www:match("resource_metadata%s*=%s*([^%s,]+)")
    end
    if st == 401 then
      return self:fail("auth required", "HTTP 401: the server requires authentication", extra)
    end
    return self:fail("forbidden", "HTTP 403: " .. clip(resp.body, 200), extra)
  end
  if st == 429 then
    extra.retry_after = resp.headers["retry-after"]
    return self:fail("rate limited", "HTTP 429: rate limited", extra)
  end
  if st < 200 or st >= 300 then
    return self:fail("HTTP " .. st, ("HTTP %d: %s"):format(st, clip(resp.body, 200)), extra)
  end
  return nil
end

-- Decodes a JSON-RPC reply to request `id` from a 2xx (or error-status) body: message | nil, failure.
function Probe:decode_reply(resp, id)
  local ctype = (resp.headers["content-type"] or ""):lower()
  local mime = ctype:match("^%s*([^;%s]+)") or ""
  if mime == "text/event-stream" then
    local msg, why = sse.find_response(resp.body, id)
    if not msg then
      if why == "no response" then
        return nil, self:fail("invalid response", "the SSE stream ended without a response to request " .. id,
          { status = resp.status })
      end
      return nil, self:fail("invalid response", "the SSE stream carries data that is not JSON",
        { status = resp.status })
    end
    return msg
  end
  if mime == "application/json" or mime:match("%+json$") then
    local msg = json.decode(resp.body)
    if msg == nil then
      return nil, self:fail("invalid response", "the body is not valid JSON: " .. clip(resp.body, 120),
        { status = resp.status })
    end
    if type(msg) ~= "table" or msg.jsonrpc ~= "2.0" or (msg.result == nil and msg.error == nil) then
      return nil, self:fail("not an MCP server", "the JSON body is not a JSON-RPC response: " .. clip(resp.body, 120),
        { status = resp.status })
    end
    if msg.id ~= id then
      return nil, self:fail("invalid response", ("JSON-RPC response id %s does not match request id %s"):format(
        clip(json.encode(msg.id), 40), id), { status = resp.status })
    end
    return msg
  end
  return nil, self:fail("not an MCP server", ("Content-Type %s is neither JSON nor an event stream"):format(
    ctype ~= "" and clip(ctype, 80) or "missing"), { status = resp.status })
end

function Probe:post(msg, headers)
  local h = { Accept = ACCEPT, ["Content-Type"] = "application/json" }
  for k, v in pairs(headers or {}) do
    h[k] = v
  end
  return self:http("POST", self.url, h, json.encode(msg))
end

-- Session headers after initialize (legacy era) or the modern per-request headers.
function Probe:headers_for(method)
  if self.transport == "stateless" then
    return { ["MCP-Protocol-Version"] = self.protocol_version, ["Mcp-Method"] = method }
  end
  local h = {}
  if self.protocol_version then
    h["MCP-Protocol-Version"] = self.protocol_version
  end
  if self.session_id then
    h["Mcp-Session-Id"] = self.session_id
  end
  return h
end

local function modern_params(params)
  params = params or {}
  params._meta = {
    ["io.modelcontextprotocol/protocolVersion"] = M.MODERN,
    ["io.modelcontextprotocol/clientCapabilities"] = json.object(),
    ["io.modelcontextprotocol/clientInfo"] = M.CLIENT_INFO,
  }
  return params
end

-- One JSON-RPC request: result | nil, failure, rpc_error. failure.status is set for HTTP replies.
function Probe:call(method, params, headers)
  self.next_id = self.next_id + 1
  local id = self.next_id
  local msg = { jsonrpc = "2.0", id = id, method = method }
  if params ~= nil then
    msg.params = params
  end
  local resp, failure = self:post(msg, headers)
  if not resp then
    return nil, failure
  end
  local st = resp.status
  if st < 200 or st >= 300 then
    -- keep the JSON-RPC error body of a 4xx (modern errors, method not found on 404)
    local body = (st >= 400 and st < 500 and st ~= 401 and st ~= 403 and st ~= 429) and json.decode(resp.body) or nil
    local f = self:status_failure(resp)
    if type(body) == "table" and type(body.error) == "table" then
      f.rpc_error = body.error
    end
    return nil, f
  end
  local reply, bad = self:decode_reply(resp, id)
  if not reply then
    return nil, bad
  end
  if reply.error ~= nil then
    local e = type(reply.error) == "table" and reply.error or {}
    local f = self:fail("protocol error", ("%s failed: JSON-RPC error %s: %s"):format(method, tostring(e.code),
      clip(e.message, 200)), { status = st, rpc_error = e })
    return nil, f
  end
  return reply.result, nil, resp
end

-- ---- handshakes ---------------------------------------------------------------------------------

local function server_info_of(info)
  info = is_object(info) and info or {}
  return { name = str(info.name), title = str(info.title), version = str(info.version),
    description = str(info.description), website_url = str(info.websiteUrl) }
end

-- Checks an initialize result and keeps what it says. -> true | nil, failure
function Probe:accept_initialize(r, st)
  if not is_object(r) or type(r.protocolVersion) ~= "string" or not is_object(r.capabilities)
    or not is_object(r.serverInfo) then
    return nil, self:fail("invalid response",
      "the initialize result lacks protocolVersion, capabilities or serverInfo", { status = st })
  end
  if not mcp.PROTOCOL_VERSIONS[r.protocolVersion] or r.protocolVersion == M.MODERN then
    return nil, self:fail("unsupported protocol version", "the server negotiated protocol version "
      .. clip(r.protocolVersion, 40), { status = st, protocol_version = r.protocolVersion })
  end
  self.protocol_version = r.protocolVersion
  self.server_info = server_info_of(r.serverInfo)
  self.capabilities = r.capabilities
  self.instructions = str(r.instructions)
  return true
end

-- Legacy-era initialize. Returns true | nil, failure.
function Probe:initialize()
  self.next_id = self.next_id + 1
  local id = self.next_id
  local msg = { jsonrpc = "2.0", id = id, method = "initialize", params = {
    protocolVersion = M.LATEST, capabilities = json.object(), clientInfo = M.CLIENT_INFO } }
  local resp, failure = self:post(msg)
  if not resp then
    return nil, failure
  end
  local st = resp.status
  if st < 200 or st >= 300 then
    local f = self:status_failure(resp)
    local body = json.decode(resp.body)
    if type(body) == "table" and type(body.error) == "table" then
      f.rpc_error = body.error
    end
    f.initialize_status = st
    return nil, f
  end
  local reply, bad = self:decode_reply(resp, id)
  if not reply then
    return nil, bad
  end
  if reply.error ~= nil then
    local e = type(reply.error) == "table" and reply.error or {}
    return nil, self:fail("protocol error", ("initialize failed: JSON-RPC error %s: %s"):format(tostring(e.code),
      clip(e.message, 200)), { status = st, rpc_error = e })
  end
  local accepted, af = self:accept_initialize(reply.result, st)
  if not accepted then
    return nil, af
  end
  local sid = resp.headers["mcp-session-id"]
  if sid ~= nil and not sid:match("^[\33-\126]+$") then
    return nil, self:fail("invalid response", "the Mcp-Session-Id header holds characters outside 0x21-0x7E",
      { status = st })
  end
  self.transport = "streamable-http"
  self.session_id = sid
  -- notifications/initialized: no id; 202 expected, any 2xx accepted.
  local nresp, nfail = self:post({ jsonrpc = "2.0", method = "notifications/initialized" }, self:headers_for())
  if not nresp then
    return nil, nfail
  end
  if nresp.status < 200 or nresp.status >= 300 then
    self.warnings[#self.warnings + 1] = ("notifications/initialized answered HTTP %d"):format(nresp.status)
  end
  return true
end

-- Modern-era server/discover. Returns true | nil, failure.
function Probe:discover()
  local saved = self.transport
  self.transport, self.protocol_version = "stateless", M.MODERN
  local r, failure = self:call("server/discover", modern_params(), self:headers_for("server/discover"))
  if not r then
    self.transport, self.protocol_version = saved, nil
    return nil, failure
  end
  local versions = type(r.supportedVersions) == "table" and r.supportedVersions or nil
  local supported = false
  for _, v in ipairs(versions or {}) do
    supported = supported or v == M.MODERN
  end
  if not versions or not is_object(r.capabilities) then
    self.transport, self.protocol_version = saved, nil
    return nil, self:fail("invalid response", "the server/discover result lacks supportedVersions or capabilities")
  end
  if not supported then
    self.transport, self.protocol_version = saved, nil
    return nil, self:fail("unsupported protocol version", "server/discover does not list " .. M.MODERN)
  end
  local meta = is_object(r._meta) and r._meta or {}
  self.server_info = server_info_of(meta["io.modelcontextprotocol/serverInfo"])
  self.capabilities = r.capabilities
  self.instructions = str(r.instructions)
  self.supported_versions = versions
  self.ttl_ms = type(r.ttlMs) == "number" and math.max(0, r.ttlMs) or nil
  return true
end

-- A GET with Accept: text/event-stream, bounded; true when the URL answers with an SSE stream.
function Probe:legacy_sse()
  local left = math.floor(math.min(self:remaining_ms(), LEGACY_GET_MS))
  if left < 1 then
    return false
  end
  local resp, failure, code = self:http("GET", self.url, { Accept = "text/event-stream" }, nil,
    { json_only = true, timeout_ms = left })
  if resp then
    return false, resp.status
  end
  -- httpc stops at the first body byte of a non-JSON reply and names its type and status
  return code == "not json" and failure.detail:find("text/event-stream", 1, true) ~= nil
    and failure.detail:find("(status 200)", 1, true) ~= nil, failure
end

-- ---- listing --------------------------------------------------------------------------------------

function Probe:list(spec)
  local items, seen, cursor = json.array(), {}, nil
  local cap = mcp.LIMITS[spec.kind] or 2000
  for page = 1, self.max_pages do
    local params = cursor and { cursor = cursor } or nil
    if self.transport == "stateless" then
      params = modern_params(params)
    end
    local r, failure = self:call(spec.method, params, self:headers_for(spec.method))
    if not r then
      failure.detail = spec.method .. ": " .. failure.detail
      return nil, failure
    end
    local list = r[spec.kind]
    if type(list) ~= "table" then
      return nil, self:fail("invalid response", ("%s: the result has no %s array"):format(spec.method, spec.kind))
    end
    for _, item in ipairs(list) do
      if #items >= cap then
        self.warnings[#self.warnings + 1] = ("%s: truncated at %d items"):format(spec.method, cap)
        return items
      end
      items[#items + 1] = item
    end
    local nextc = r.nextCursor
    if type(nextc) ~= "string" or nextc == "" then
      return items
    end
    if seen[nextc] then
      self.warnings[#self.warnings + 1] = spec.method .. ": the server repeated a cursor; listing stopped"
      return items
    end
    seen[nextc] = true
    cursor = nextc
    if page == self.max_pages then
      self.warnings[#self.warnings + 1] = ("%s: stopped after %d pages (max_pages)"):format(spec.method,
        self.max_pages)
    end
  end
  return items
end

function Probe:list_all()
  local out = {}
  for _, spec in ipairs(LISTS) do
    if self.capabilities[spec.cap] ~= nil and self.capabilities[spec.cap] ~= json.null then
      local items, failure = self:list(spec)
      if not items then
        return nil, failure
      end
      out[spec.kind] = items
    else
      out[spec.kind] = json.array()
    end
  end
  return out
end

function Probe:success(listing)
  local info = self.server_info
  return {
    ok = true,
    transport = self.transport,
    protocol_version = self.protocol_version,
    server_info = info,
    capabilities = self.capabilities,
    instructions = self.instructions,
    supported_versions = self.supported_versions,
    ttl_ms = self.ttl_ms,
    tools = listing.tools,
    resources = listing.resources,
    prompts = listing.prompts,
    capabilities_list = mcp.capabilities_from_listing(listing),
    session_id = self.session_id,
    latency_ms = self:elapsed_ms(),
    warnings = self.warnings,
  }
end

-- Is a failed legacy initialize a reason to try server/discover (a modern-only server)?
local function wants_modern(f)
  local code = type(f.rpc_error) == "table" and f.rpc_error.code or nil
  return code == -32601 or MODERN_ERRORS[code] == true
end

-- Handshake for either era; fills self or returns the failure.
function Probe:handshake()
  if self.modern then
    local ok = self:discover()
    if ok then
      return true
    end
  end
  local ok, f = self:initialize()
  if ok then
    return true
  end
  if wants_modern(f) and not self.modern then
    local mok, mf = self:discover()
    if mok then
      return true
    end
    -- keep the discover failure when it is more telling than "method not found"
    if mf and mf.reason ~= "HTTP 404" and mf.reason ~= "protocol error" then
      return nil, mf
    end
    return nil, f
  end
  local st = f.initialize_status
  f.initialize_status = nil
  if st and st >= 400 and st < 500 and st ~= 401 and st ~= 403 and st ~= 429 and not wants_modern(f) then
    local okl, lr = pcall(function()
      return require("agentlens.protocols.mcp_sse").session(self, self.mode)
    end)
    if okl and type(lr) == "table" and not lr.not_sse then
      return nil, { legacy = lr }
    elseif okl and type(lr) == "table" then
      return nil, self:fail("not an MCP server", ("POST initialize answered HTTP %d; GET with Accept: "
        .. "text/event-stream %s"):format(st, lr.detail), { status = st })
    end
    -- httpc.stream is not available here (a request handler): detection only
    local legacy, why = self:legacy_sse()
    if legacy then
      return nil, self:fail("legacy transport not supported for listing",
        ("POST initialize answered HTTP %d and GET answers an SSE stream: a legacy HTTP+SSE (2024-11-05) server; "
          .. "agentlens.httpc cannot keep the stream open while posting"):format(st),
        { transport = "sse", status = st })
    end
    local detail = ("POST initialize answered HTTP %d; GET with Accept: text/event-stream %s"):format(st,
      type(why) == "table" and ("failed: " .. clip(why.detail, 160))
        or type(why) == "number" and ("answered HTTP " .. why) or "was not tried")
    return nil, self:fail("not an MCP server", detail, { status = st })
  end
  return nil, f
end

-- ---- public ---------------------------------------------------------------------------------------

function M.probe(url, opts)
  local p = new_probe(url, opts)
  p.mode = "probe"
  if type(url) ~= "string" or not url:match("^[hH][tT][tT][pP][sS]?://") then
    return p:fail("bad url", "the URL must be an absolute http(s) URL")
  end
  local ok, failure = p:handshake()
  if not ok then
    return failure.legacy or failure
  end
  local listing, lf = p:list_all()
  if not listing and lf.status == 404 and p.session_id then
    -- the session expired or was terminated: re-initialize once without the header
    p.session_id, p.protocol_version = nil, nil
    p.warnings[#p.warnings + 1] = "the session was not found (HTTP 404); re-initialized once"
    ok, failure = p:handshake()
    if not ok then
      return failure
    end
    listing, lf = p:list_all()
  end
  if not listing then
    lf.transport = p.transport
    lf.protocol_version = p.protocol_version
    lf.server_info = p.server_info
    lf.session_id = p.session_id
    lf.latency_ms = p:elapsed_ms()
    return lf
  end
  return p:success(listing)
end

-- ping: a health check. Legacy era: initialize (+ notifications/initialized) and `ping` in the
-- session; a server without `ping` that initialized fine still counts as up. Stateless servers
-- (no `ping` in 2026-07-28): server/discover.
function M.ping(url, opts)
  local p = new_probe(url, opts)
  p.mode = "ping"
  if type(url) ~= "string" or not url:match("^[hH][tT][tT][pP][sS]?://") then
    local f = p:fail("bad url", "the URL must be an absolute http(s) URL")
    return { ok = false, reason = f.reason, detail = f.detail, latency_ms = f.latency_ms }
  end
  local ok, f = p:handshake()
  if f and f.legacy then
    local l = f.legacy
    if l.ok then
      return { ok = true, transport = "sse", protocol_version = l.protocol_version, latency_ms = l.latency_ms }
    end
    return { ok = false, reason = l.reason, detail = l.detail, status = l.status, transport = "sse",
      latency_ms = l.latency_ms }
  end
  if not ok then
    return { ok = false, reason = f.reason, detail = f.detail, status = f.status, transport = f.transport,
      resource_metadata = f.resource_metadata, latency_ms = p:elapsed_ms() }
  end
  if p.transport ~= "stateless" then
    local r, pf = p:call("ping", json.object(), p:headers_for("ping"))
    if not r and not (pf.rpc_error and pf.rpc_error.code == -32601) then
      return { ok = false, reason = pf.reason, detail = pf.detail, status = pf.status, latency_ms = p:elapsed_ms() }
    end
  end
  return { ok = true, transport = p.transport, protocol_version = p.protocol_version, latency_ms = p:elapsed_ms() }
end

return M
