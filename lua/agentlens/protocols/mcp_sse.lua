-- SPDX-License-Identifier: Apache-2.0
-- The legacy MCP HTTP+SSE transport (protocol revision 2024-11-05), for agentlens.protocols.
-- mcp_client: the client GETs the server URL with `Accept: text/event-stream` and keeps the
-- stream open (agentlens.httpc.stream); the server's first event, `endpoint`, names the URI to
-- POST JSON-RPC messages to (same origin as the stream; relative URIs are resolved against it);
-- each POST answers 2xx (usually 202) and the JSON-RPC responses arrive as `message` events on
-- the stream. The exchange runs inside the stream's on_data callback (the POSTs are nested
-- agentlens.httpc.request calls) and ends the stream cleanly when it is done:
--   initialize -> notifications/initialized -> ping ("ping" mode)
--                                           -> tools/list, resources/list, prompts/list with
--                                              nextCursor pagination ("probe" mode)
--
--   session(p, mode) -> {legacy = true, ...result} | {not_sse = true, status?, detail}
--     p: the mcp_client probe state (url, headers, timeout / remaining_ms, max_bytes, max_pages,
--     ssrf_guard, warnings, and its accept_initialize / fail / list helpers); mode "probe" or
--     "ping". The result is what mcp_client.probe / ping answer, with transport "sse".
--     not_sse: the GET did not open an event stream with an `endpoint` event (not a legacy
--     server): the caller reports "not an MCP server".
--
-- Bounds: the whole exchange keeps to the probe's deadline (timeout_ms on the stream and on each
-- POST); the stream is capped at p.max_bytes * 4 bytes in total and at p.max_bytes per pending
-- event; before the `endpoint` event at most 64 KiB are read (a server that streams something
-- else is not waited for); `stopped` (shutdown, job stop) ends it promptly.
-- httpc.stream is not allowed inside a request handler: there session raises, and mcp_client
-- falls back to detection only.
local json = require "agentlens.json"
local httpc = require "agentlens.httpc"
local time = require "agentlens.time"
local sse = require "agentlens.protocols.sse"

local M = {}

M.PRE_ENDPOINT_BYTES = 64 * 1024
M.POST_MAX_BYTES = 64 * 1024

local function origin_of(url)
  return url:match("^([hH][tT][tT][pP][sS]?://[^/?#]+)")
end

-- The POST URI of an `endpoint` event: absolute (same origin only), absolute path, or relative
-- to the stream URL's directory. -> url | nil, why
function M.resolve_endpoint(stream_url, data)
  data = tostring(data or ""):match("^%s*(.-)%s*$")
  if data == "" or data:find("[%s%z]") then
    return nil, "the endpoint event carries no usable URI"
  end
  local origin = origin_of(stream_url)
  if not origin then
    return nil, "bad stream URL"
  end
  if data:match("^[hH][tT][tT][pP][sS]?://") then
    if origin_of(data):lower() ~= origin:lower() then
      return nil, "the endpoint event names another origin: " .. data:sub(1, 200)
    end
    return data
  end
  if data:match("^//") or data:match("^%a[%w+.-]*:") then
    return nil, "the endpoint event names an unsupported URI: " .. data:sub(1, 200)
  end
  if data:sub(1, 1) == "/" then
    return origin .. data
  end
  local path = stream_url:sub(#origin + 1):gsub("[?#].*$", "")
  local dir = path:match("^(.*/)") or "/"
  return origin .. dir .. data
end

-- Splits buffered stream text into complete events and the unterminated rest.
local function take_events(buffer)
  local last
  local pos = 1
  while true do
    local s, e = buffer:find("\r?\n\r?\n", pos)
    if not s then
      break
    end
    last, pos = e, e + 1
  end
  if not last then
    return {}, buffer
  end
  return sse.parse(buffer:sub(1, last)), buffer:sub(last + 1)
end

function M.session(p, mode)
  local started = time.monotonic()
  local state = {
    buffer = "", total = 0, endpoint = nil, pending = nil, step = nil, result = nil, failure = nil,
    listing = {}, list_index = 0, cursor = nil, page = 0, seen = {}, items = nil, saw_endpoint = false,
  }
  local lists = p.LISTS

  local function fail(reason, detail, extra)
    state.failure = p:fail(reason, detail, extra)
    state.failure.transport = "sse"
    return false
  end

  local function post(msg)
    local left = math.floor(p:remaining_ms())
    if left < 1 then
      return nil, p:fail("timeout", ("no complete exchange within %d ms (overall probe deadline)"):format(p.timeout_ms))
    end
    local h = { ["Content-Type"] = "application/json", Accept = "application/json, text/event-stream" }
    for k, v in pairs(p.headers) do
      h[k] = v
    end
    local okc, resp, msg_err, code = pcall(httpc.request, { url = state.endpoint, method = "POST", headers = h,
      body = json.encode(msg), timeout_ms = left, max_bytes = M.POST_MAX_BYTES, max_redirects = 0,
      ssrf_guard = p.ssrf_guard })
    if not okc then
      return nil, p:fail("error", tostring(resp))
    end
    if not resp then
      return nil, p:fail(code or "error", "POST " .. state.endpoint .. ": " .. tostring(msg_err))
    end
    if resp.status < 200 or resp.status >= 300 then
      local f = p:status_failure(resp)
      f.detail = "legacy HTTP+SSE message POST: " .. f.detail
      return nil, f
    end
    return resp
  end

  local function request(method, params)
    p.next_id = p.next_id + 1
    local msg = { jsonrpc = "2.0", id = p.next_id, method = method }
    if params ~= nil then
      msg.params = params
    end
    local ok, f = post(msg)
    if not ok then
      state.failure = f
      f.transport = "sse"
      return false
    end
    state.pending = { id = p.next_id, method = method }
    return true
  end

  -- Starts the next list (or finishes the probe). -> continue?
  local function next_list()
    while true do
      state.list_index = state.list_index + 1
      local spec = lists[state.list_index]
      if not spec then
        state.result = true
        return false
      end
      local cap = p.capabilities[spec.cap]
      if cap ~= nil and cap ~= json.null then
        state.items, state.cursor, state.page, state.seen = json.array(), nil, 0, {}
        state.step = spec
        return request(spec.method, nil)
      end
      state.listing[spec.kind] = json.array()
    end
  end

  local function on_reply(msg)
    local method = state.pending.method
    state.pending = nil
    if method == "initialize" then
      if msg.error ~= nil then
        local e = type(msg.error) == "table" and msg.error or {}
        return fail("protocol error", ("initialize failed: JSON-RPC error %s: %s"):format(tostring(e.code),
          tostring(e.message):sub(1, 200)), { rpc_error = e })
      end
      local ok, f = p:accept_initialize(msg.result, 200)
      if not ok then
        state.failure = f
        f.transport = "sse"
        return false
      end
      local nok, nf = post({ jsonrpc = "2.0", method = "notifications/initialized" })
      if not nok then
        state.failure = nf
        nf.transport = "sse"
        return false
      end
      if mode == "ping" then
        return request("ping", json.object())
      end
      return next_list()
    elseif method == "ping" then
      if msg.error ~= nil and not (type(msg.error) == "table" and msg.error.code == -32601) then
        local e = type(msg.error) == "table" and msg.error or {}
        return fail("protocol error", ("ping failed: JSON-RPC error %s: %s"):format(tostring(e.code),
          tostring(e.message):sub(1, 200)), { rpc_error = e })
      end
      state.result = true
      return false
    end
    -- a list page
    local spec = state.step
    if msg.error ~= nil then
      local e = type(msg.error) == "table" and msg.error or {}
      return fail("protocol error", ("%s failed: JSON-RPC error %s: %s"):format(spec.method, tostring(e.code),
        tostring(e.message):sub(1, 200)), { rpc_error = e })
    end
    local r = msg.result
    local list = type(r) == "table" and r[spec.kind] or nil
    if type(list) ~= "table" then
      return fail("invalid response", ("%s: the result has no %s array"):format(spec.method, spec.kind))
    end
    local limit = p.item_limit(spec.kind)
    for _, item in ipairs(list) do
      if #state.items >= limit then
        p.warnings[#p.warnings + 1] = ("%s: truncated at %d items"):format(spec.method, limit)
        state.listing[spec.kind] = state.items
        return next_list()
      end
      state.items[#state.items + 1] = item
    end
    state.page = state.page + 1
    local nextc = r.nextCursor
    if type(nextc) == "string" and nextc ~= "" and not state.seen[nextc] and state.page < p.max_pages then
      state.seen[nextc] = true
      return request(spec.method, { cursor = nextc })
    end
    if type(nextc) == "string" and nextc ~= "" then
      p.warnings[#p.warnings + 1] = state.seen[nextc]
        and (spec.method .. ": the server repeated a cursor; listing stopped")
        or ("%s: stopped after %d pages (max_pages)"):format(spec.method, p.max_pages)
    end
    state.listing[spec.kind] = state.items
    return next_list()
  end

  local function on_event(ev)
    if ev.event == "endpoint" and not state.endpoint then
      state.saw_endpoint = true
      local url, why = M.resolve_endpoint(p.url, ev.data)
      if not url then
        return fail("invalid response", "legacy HTTP+SSE: " .. why)
      end
      state.endpoint = url
      return request("initialize", { protocolVersion = p.LEGACY_VERSION, capabilities = json.object(),
        clientInfo = p.CLIENT_INFO })
    end
    if ev.event ~= "message" or ev.data == "" or not state.pending then
      return true
    end
    local msg = json.decode(ev.data)
    if type(msg) ~= "table" then
      return fail("invalid response", "legacy HTTP+SSE: a message event is not JSON: " .. ev.data:sub(1, 120))
    end
    if msg.id ~= state.pending.id or msg.method ~= nil or (msg.result == nil and msg.error == nil) then
      return true -- a notification, a server request or another response: not ours
    end
    return on_reply(msg)
  end

  local function on_data(chunk)
    state.total = state.total + #chunk
    state.buffer = state.buffer .. chunk
    if not state.endpoint and state.total > M.PRE_ENDPOINT_BYTES then
      return false
    end
    if #state.buffer > p.max_bytes then
      return fail("too large", ("legacy HTTP+SSE: an event exceeds %d bytes"):format(p.max_bytes))
    end
    local events
    events, state.buffer = take_events(state.buffer)
    for _, ev in ipairs(events) do
      if on_event(ev) == false then
        return false
      end
    end
    return true
  end

  local left = math.floor(p:remaining_ms())
  if left < 1 then
    return { not_sse = true, detail = "no time left for the GET" }
  end
  local h = { Accept = "text/event-stream" }
  for k, v in pairs(p.headers) do
    h[k] = v
  end
  local resp, err, code = httpc.stream { url = p.url, method = "GET", headers = h, timeout_ms = left,
    idle_timeout_ms = left, max_bytes = p.max_bytes * 4, max_redirects = 3, ssrf_guard = p.ssrf_guard,
    on_data = on_data }
  local elapsed = (time.monotonic() - started) * 1000
  if p.request then
    p.net_ms = p.net_ms + elapsed
  end
  if state.result then
    local r = p:success(state.listing)
    r.transport = "sse"
    r.message_url = state.endpoint
    r.legacy = true
    return r
  end
  if state.failure then
    state.failure.legacy = true
    state.failure.latency_ms = p:elapsed_ms()
    return state.failure
  end
  if not state.saw_endpoint then
    local ctype = resp and (resp.headers["content-type"] or ""):lower() or ""
    local detail
    if resp then
      detail = ("answered HTTP %d%s without an endpoint event"):format(resp.status,
        ctype ~= "" and (" (" .. ctype:sub(1, 80) .. ")") or "")
    else
      detail = "failed: " .. tostring(err):sub(1, 160)
    end
    return { not_sse = true, status = resp and resp.status, code = code, detail = detail }
  end
  -- the stream ended (or timed out) in the middle of the exchange
  local reason = code or "invalid response"
  if reason == "ok" or reason == "callback" then
    reason = "invalid response"
  end
  local f = p:fail(reason, ("legacy HTTP+SSE: the stream ended before the exchange completed%s"):format(
    err and (": " .. tostring(err):sub(1, 160)) or ""), { transport = "sse", legacy = true })
  return f
end

return M
