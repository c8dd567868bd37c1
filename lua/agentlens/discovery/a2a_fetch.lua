-- SPDX-License-Identifier: Apache-2.0
-- Fetching an A2A Agent Card over HTTP (protocol reference 1.2, 1.7, 1.12 step 1), for discovery
-- and health probes. No database, no state: one call, one outcome.
--
--   fetch_card(url, opts)
--     -> {ok = true, card (decoded table), raw (bytes as received), content_type, url (where the
--         card was found, after redirects), status, etag, latency_ms, validation (a2a.validate
--         result, warnings included)}
--      | {ok = true, not_modified = true, url, status = 304, etag, latency_ms}   (opts.etag sent)
--      | {ok = false, reason, detail, status?, url?, latency_ms?, www_authenticate?,
--         resource_metadata?, validation? (reason "invalid card")}
--
-- Which URLs are tried, in order:
--   * `url` whose path ends in ".json": that URL only (it is the card URL);
--   * opts.card_path (an explicit path such as the `agentlens.io/card-path` annotation, or an
--     absolute URL): base .. card_path only;
--   * otherwise `{base}/.well-known/agent-card.json`, then `{base}/.well-known/agent.json`, and
--     when `base` has a path, the same two at the origin root. The next candidate is tried only
--     after a 404; any other outcome is final.
--
-- Every request sends `Accept: application/json` and `A2A-Version` (opts.a2a_version, "1.0"),
-- with a size cap (opts.max_bytes, 1 MiB), a timeout (opts.timeout_ms, 5000) and the SSRF guard
-- (opts.ssrf_guard, default true; tests of local servers turn it off).
--
-- Reasons (transport ones are the agentlens.httpc codes, as in agentlens.protocols.mcp_client):
-- "timeout", "connection refused", "dns", "tls", "refused" (SSRF guard), "bad url", "too many
-- redirects", "too large" (over the size cap), "auth required" (401/403; the WWW-Authenticate
-- header and its resource_metadata URL are kept), "rate limited" (429),
-- "HTTP <status>" (any other non-2xx), "not an A2A agent" (404 on every candidate, or HTML
-- instead of JSON), "invalid card" (bad JSON, not an object, or a2a.validate errors: the errors
-- are in `detail` and in `validation`), "error" (anything else the HTTP client reports).
--
-- opts.request replaces agentlens.httpc.request (specs inject a fake transport).
local json = require "agentlens.json"
local time = require "agentlens.time"
local V = require "agentlens.lib.validate"
local a2a = require "agentlens.protocols.a2a"

local M = {}

M.CARD_PATH = "/.well-known/agent-card.json"
M.LEGACY_CARD_PATH = "/.well-known/agent.json"
M.MAX_BYTES = 1024 * 1024
M.DEFAULT_TIMEOUT_MS = 5000
M.A2A_VERSION = "1.0"

-- httpc failure codes kept as reasons (anything else: "error")
local TRANSPORT_REASONS = {
  timeout = true,
  ["connection refused"] = true,
  dns = true,
  tls = true,
  ["too large"] = true,
  refused = true,
  ["too many redirects"] = true,
  ["bad url"] = true,
}

-- split(url) -> origin ("http://host:port"), path (no query or fragment, no trailing "/") | nil
local function split(url)
  if type(url) ~= "string" then
    return nil
  end
  local origin, rest = url:match("^([Hh][Tt][Tt][Pp][Ss]?://[^/?#]+)(.*)$")
  if not origin then
    return nil
  end
  local path = rest:match("^([^?#]*)") or ""
  return origin, (path:gsub("/+$", ""))
end
M.split = split

-- candidates(url, card_path) -> list of URLs | nil, message
function M.candidates(url, card_path)
  local origin, path = split(url)
  if not origin then
    return nil, "not an http(s) URL: " .. tostring(url)
  end
  if path:match("%.json$") then
    return { url }
  end
  local base = origin .. path
  if card_path and card_path ~= "" then
    if card_path:match("^[Hh][Tt][Tt][Pp][Ss]?://") then
      return { card_path }
    end
    return { base .. (card_path:sub(1, 1) == "/" and card_path or "/" .. card_path) }
  end
  local list = { base .. M.CARD_PATH, base .. M.LEGACY_CARD_PATH }
  if path ~= "" then
    list[#list + 1] = origin .. M.CARD_PATH
    list[#list + 1] = origin .. M.LEGACY_CARD_PATH
  end
  return list
end

local function header(r, name)
  return r.headers and r.headers[name]
end

-- The resource_metadata parameter of a WWW-Authenticate header (RFC 9728 §5.1), or nil.
function M.resource_metadata(www_authenticate)
  if type(www_authenticate) ~= "string" then
    return nil
  end
  return www_authenticate:match('[Rr][Ee][Ss][Oo][Uu][Rr][Cc][Ee]_[Mm][Ee][Tt][Aa][Dd][Aa][Tt][Aa]%s*=%s*"([^"]*)"')
    or www_authenticate:match("[Rr][Ee][Ss][Oo][Uu][Rr][Cc][Ee]_[Mm][Ee][Tt][Aa][Dd][Aa][Tt][Aa]%s*=%s*([^%s,]+)")
end

local function summary(errors)
  local parts = {}
  for i, e in ipairs(errors or {}) do
    if i > 5 then
      parts[#parts + 1] = ("(%d more)"):format(#errors - 5)
      break
    end
    parts[#parts + 1] = (e.field ~= "" and (e.field .. ": ") or "") .. tostring(e.message)
  end
  return table.concat(parts, "; ")
end

local function failure(reason, detail, extra)
  local out = extra or {}
  out.ok, out.reason, out.detail = false, reason, detail
  return out
end

-- The outcome of a completed HTTP exchange with status 200..299 or 304.
local function card_of(r, url, latency)
  local ctype = header(r, "content-type") or ""
  local body = r.body or ""
  local card, err = json.decode(body)
  if card == nil then
    local base = { status = r.status, url = url, latency_ms = latency, content_type = ctype }
    if ctype:lower():find("html", 1, true) then
      return failure("not an A2A agent", "HTML instead of an agent card (" .. ctype .. ")", base)
    end
    return failure("invalid card", "the card is not valid JSON: " .. tostring(err), base)
  end
  if not V.is_object(card) then
    return failure("invalid card", "the card is not a JSON object",
      { status = r.status, url = url, latency_ms = latency, content_type = ctype })
  end
  local validation = a2a.validate(card)
  if not validation.valid then
    return failure("invalid card", summary(validation.errors),
      { status = r.status, url = url, latency_ms = latency, content_type = ctype, validation = validation })
  end
  return {
    ok = true,
    card = card,
    raw = body,
    content_type = ctype,
    url = url,
    status = r.status,
    etag = header(r, "etag"),
    latency_ms = latency,
    validation = validation,
  }
end

function M.fetch_card(url, opts)
  opts = opts or {}
  local started = time.monotonic()
  local function elapsed()
    return math.floor((time.monotonic() - started) * 1000 + 0.5)
  end
  local list, err = M.candidates(url, opts.card_path)
  if not list then
    return failure("bad url", err, { latency_ms = 0 })
  end
  local request = opts.request or require("agentlens.httpc").request
  local headers = { Accept = "application/json", ["A2A-Version"] = opts.a2a_version or M.A2A_VERSION }
  if opts.etag then
    headers["If-None-Match"] = opts.etag
  end
  for k, v in pairs(opts.headers or {}) do
    headers[k] = v
  end
  local tried = {}
  for _, candidate in ipairs(list) do
    tried[#tried + 1] = candidate
    local r, msg, code = request {
      url = candidate,
      method = "GET",
      headers = headers,
      timeout_ms = opts.timeout_ms or M.DEFAULT_TIMEOUT_MS,
      max_bytes = opts.max_bytes or M.MAX_BYTES,
      max_redirects = opts.max_redirects or 3,
      ssrf_guard = opts.ssrf_guard ~= false,
    }
    if not r then
      return failure(TRANSPORT_REASONS[code] and code or "error", msg, { url = candidate, latency_ms = elapsed() })
    end
    local latency = r.duration_ms and math.floor(r.duration_ms + 0.5) or elapsed()
    local status, final = r.status, r.url or candidate
    if status == 304 then
      return { ok = true, not_modified = true, url = final, status = 304, etag = header(r, "etag") or opts.etag,
        latency_ms = latency }
    elseif status >= 200 and status < 300 then
      return card_of(r, final, latency)
    elseif status == 401 or status == 403 then
      local www = header(r, "www-authenticate")
      return failure("auth required", ("HTTP %d%s"):format(status, www and (": " .. www) or ""), {
        status = status, url = final, latency_ms = latency, www_authenticate = www,
        resource_metadata = M.resource_metadata(www),
      })
    elseif status == 429 then
      return failure("rate limited", "HTTP 429", { status = 429, url = final, latency_ms = latency,
        retry_after = header(r, "retry-after") })
    elseif status ~= 404 then
      return failure("HTTP " .. status, nil, { status = status, url = final, latency_ms = latency })
    end
  end
  return failure("not an A2A agent", "no agent card (404) at " .. table.concat(tried, ", "),
    { status = 404, url = tried[#tried], latency_ms = elapsed() })
end

return M
