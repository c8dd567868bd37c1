-- SPDX-License-Identifier: Apache-2.0
-- Per-worker cache of encoded catalog answers (list and detail bodies), keyed by the request
-- (path and query) and valid only for the catalog version it was built at: every store write
-- bumps the process-wide counter "catalog" (agentlens.store.catalog.version()), which empties
-- the cache at the next lookup, so a write is visible to the next read on every worker. On
-- PostgreSQL the version is a row in the database, so writes by another replica invalidate too
-- (one primary-key read per lookup instead of rebuilding answers on a timer).
--
-- Each Lua state (one per HTTP worker thread, rebuilt on reload) has its own module table, so
-- no locking is needed. Bodies do not depend on the caller (the route permission is checked
-- before the handler runs).
local catalog = require "agentlens.store.catalog"
local json = require "agentlens.json"
local time = require "agentlens.time"

local M = {}

M.MAX_ENTRIES = 256
M.MAX_BODY = 256 * 1024 -- larger answers are not kept

local state = { version = nil, n = 0, items = {} }

-- key(req) -> a string naming the path and the query (parameters sorted).
function M.key(req)
  local names = {}
  for k in pairs(req.query or {}) do
    names[#names + 1] = k
  end
  table.sort(names)
  local parts = { req.path or "" }
  for _, k in ipairs(names) do
    parts[#parts + 1] = k .. "=" .. tostring(req.query[k])
  end
  return table.concat(parts, "\0")
end

local function reset(version)
  state = { version = version, n = 0, items = {} }
end

-- version() -> the current catalog version; read it before querying the store.
function M.version()
  return catalog.version()
end

-- get(key) -> status, body (string), headers | nil
function M.get(key)
  local v = catalog.version()
  if v == nil or state.version ~= v then
    reset(v)
    return nil
  end
  local hit = state.items[key]
  if not hit then
    return nil
  end
  local headers = {}
  for k, val in pairs(hit.headers) do
    headers[k] = val
  end
  return hit.status, hit.body, headers
end

-- put(key, version, status, body, headers) -> status, body (encoded), headers. version: the
-- catalog version read before the store was queried (a write in between makes it stale at once).
function M.put(key, version, status, body, headers)
  headers = headers or {}
  headers["Content-Type"] = "application/json"
  local text = json.encode(body)
  if status == 200 and version ~= nil and #text <= M.MAX_BODY and version == catalog.version() then
    if state.version ~= version then
      reset(version)
    end
    if state.n >= M.MAX_ENTRIES then
      reset(version)
    end
    if not state.items[key] then
      state.n = state.n + 1
    end
    local copy = {}
    for k, val in pairs(headers) do
      copy[k] = val
    end
    state.items[key] = { status = status, body = text, headers = copy, at = time.monotonic() }
  end
  return status, text, headers
end

return M
