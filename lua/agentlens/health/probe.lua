-- SPDX-License-Identifier: Apache-2.0
-- One protocol-aware health probe of a catalog entry (reference 15 items 32 and 33). No database
-- and no scheduling: the caller (the jobs engine, an on-demand API) stores the result and feeds
-- it to agentlens.health.lifecycle.
--
--   probe(entry, opts) -> {ok, reason, latency_ms, status?, detail?, at, protocol, url?,
--                          resource_metadata?, skipped?}
--
-- * A2A: the card fetch of agentlens.discovery.a2a_fetch against entry.card_url (or
--   entry.metadata.card_url) when set, else entry.endpoint (with entry.metadata.card_path or
--   opts.card_path as the explicit path). A valid card (or a 304 to opts.etag) is ok.
-- * MCP: agentlens.protocols.mcp_client.ping(url, opts) (or .probe when there is no ping),
--   always with the SSRF guard on unless opts.ssrf_guard == false (the client's own default is
--   off); a legacy HTTP+SSE server is probed over its event stream (transport "sse"); where
--   streams are not available (a request handler) a detected one counts as up. The module is
--   loaded lazily through M.mcp_client(); when it is missing or fails to load the result is
--   {ok = false, skipped = true, reason = "probe unavailable"}, which the lifecycle treats as
--   "no probe made" (state and counter unchanged). Errors it raises become "probe error".
-- * MCP with opts.listing: mcp_client.probe instead of ping (handshake plus tools/resources/
--   prompts listing); the result then carries `listing` = {tools, resources, prompts,
--   server_info, protocol_version, transport} for tool-drift detection. A server that completes
--   the handshake but fails the listing is up (health is about reachability); the listing
--   failure is kept in `detail` and no `listing` is returned.
-- * An entry without an endpoint: reason "no probeable endpoint" (a failure).
--
-- ok results carry reason = nil. `at` is opts.now or agentlens.time.now() (seconds since the
-- epoch, taken when the probe started). opts: timeout_ms (default: the setting
-- health.check_timeout), ssrf_guard (default true), card_path, etag, headers, request (replaces
-- agentlens.httpc.request: a fake transport for specs, or agentlens.health.pool's batched one),
-- max_bytes (per response), listing, batched (opts.request runs inside a concurrent batch: an
-- A2A failure's latency counts the probe's own transfers), fetch_card / mcp (replacements for
-- specs).
local time = require "agentlens.time"

local M = {}

M.MCP_CLIENT_MODULE = "agentlens.protocols.mcp_client"

local mcp_override -- set by M.set_mcp_client (specs)

-- mcp_client() -> module | nil, message. Not cached: the module may appear with a reload.
function M.mcp_client()
  if mcp_override ~= nil then
    return mcp_override or nil, "disabled"
  end
  local ok, mod = pcall(require, M.MCP_CLIENT_MODULE)
  if not ok then
    return nil, tostring(mod)
  end
  if type(mod) ~= "table" or (type(mod.ping) ~= "function" and type(mod.probe) ~= "function") then
    return nil, M.MCP_CLIENT_MODULE .. " has neither ping nor probe"
  end
  return mod
end

-- set_mcp_client(mod | false | nil): a replacement (false: none available; nil: the real one).
function M.set_mcp_client(mod)
  mcp_override = mod
end

-- The probe timeout in milliseconds: opts.timeout_ms, else the health.check_timeout setting.
local function timeout_of(opts)
  if opts.timeout_ms then
    return opts.timeout_ms
  end
  local ok, seconds = pcall(function()
    return require("agentlens.settings").get("health.check_timeout")
  end)
  return (ok and tonumber(seconds) or 5) * 1000
end

local function round(x)
  return x and math.floor(x + 0.5) or nil
end

-- The subset of a transport outcome kept as a probe result.
local function result_of(r, protocol, at)
  local reason
  if r.ok ~= true then
    reason = r.reason or "error"
  end
  return {
    ok = r.ok == true,
    reason = reason,
    latency_ms = round(tonumber(r.latency_ms)),
    status = r.status,
    detail = r.detail,
    url = r.url,
    resource_metadata = r.resource_metadata,
    not_modified = r.not_modified,
    skipped = r.skipped,
    listing = r.listing,
    at = at,
    protocol = protocol,
  }
end

local function probe_a2a(entry, opts, timeout_ms)
  local meta = type(entry.metadata) == "table" and entry.metadata or {}
  local url = entry.card_url or meta.card_url or entry.endpoint
  if type(url) ~= "string" or url == "" then
    return { ok = false, reason = "no probeable endpoint" }
  end
  local fetch = opts.fetch_card or require("agentlens.discovery.a2a_fetch").fetch_card
  local request, net_ms = opts.request, 0
  if opts.batched and request then
    -- inside a concurrent batch the wall clock includes the wait for the rest of the batch:
    -- a failure's latency is the time of the probe's own transfers
    local inner = request
    request = function(req)
      local resp, msg, code = inner(req)
      if resp and tonumber(resp.duration_ms) then
        net_ms = net_ms + resp.duration_ms
      elseif code == "timeout" then
        net_ms = net_ms + (tonumber(req.timeout_ms) or 0)
      end
      return resp, msg, code
    end
  end
  local r = fetch(url, {
    timeout_ms = timeout_ms,
    card_path = opts.card_path or entry.card_path or meta.card_path,
    ssrf_guard = opts.ssrf_guard ~= false,
    etag = opts.etag,
    headers = opts.headers,
    request = request,
    max_bytes = opts.max_bytes,
  })
  if opts.batched and request and type(r) == "table" and not r.ok then
    r.latency_ms = net_ms
  end
  return r
end

local function probe_mcp(entry, opts, timeout_ms)
  local url = entry.endpoint
  if type(url) ~= "string" or url == "" then
    return { ok = false, reason = "no probeable endpoint" }
  end
  local client, why = opts.mcp, nil
  if not client then
    client, why = M.mcp_client()
  end
  if not client then
    return { ok = false, skipped = true, reason = "probe unavailable", detail = "MCP client: " .. tostring(why) }
  end
  local fn = client.ping or client.probe
  if opts.listing and client.probe then
    fn = client.probe
  end
  local ok, r = pcall(fn, url, { timeout_ms = timeout_ms, ssrf_guard = opts.ssrf_guard ~= false,
    headers = opts.headers, request = opts.request, max_bytes = opts.max_bytes, max_pages = opts.max_pages })
  if not ok then
    return { ok = false, reason = "probe error", detail = tostring(r) }
  end
  if type(r) ~= "table" then
    return { ok = false, reason = "probe error", detail = "MCP client returned " .. type(r) }
  end
  if not r.ok and r.transport == "sse" and r.reason == "legacy transport not supported for listing" then
    -- a legacy HTTP+SSE server answered its event stream: up, though it cannot be pinged
    return { ok = true, status = r.status, latency_ms = r.latency_ms,
      detail = "legacy HTTP+SSE transport (" .. tostring(r.reason) .. ")" }
  end
  if fn == client.probe and fn ~= client.ping then
    if r.ok then
      return { ok = true, status = r.status, latency_ms = r.latency_ms, listing = {
        tools = r.tools, resources = r.resources, prompts = r.prompts, server_info = r.server_info,
        protocol_version = r.protocol_version, transport = r.transport } }
    elseif r.transport and r.server_info then
      -- the handshake worked, a list did not: reachable
      return { ok = true, latency_ms = r.latency_ms,
        detail = "listing failed: " .. tostring(r.reason) .. ": " .. tostring(r.detail) }
    end
  end
  return r
end

function M.probe(entry, opts)
  opts = opts or {}
  local at = opts.now or time.now()
  local started = time.monotonic()
  local protocol = entry and entry.protocol
  local timeout_ms = timeout_of(opts)
  local r
  if protocol == "a2a" then
    r = probe_a2a(entry, opts, timeout_ms)
  elseif protocol == "mcp" then
    r = probe_mcp(entry, opts, timeout_ms)
  else
    r = { ok = false, skipped = true, reason = "probe unavailable", detail = "unknown protocol " .. tostring(protocol) }
  end
  if r.latency_ms == nil and not r.skipped then
    r.latency_ms = (time.monotonic() - started) * 1000
  end
  return result_of(r, protocol, at)
end

return M
