-- SPDX-License-Identifier: Apache-2.0
-- SQL for health probes (migration 0004): the probe history of catalog entries and the health
-- columns of catalog_entries. Failures return nil, message, code (see agentlens.db).
--
--   record(entry_id, result, new_state, failures[, {batch, changed}]) -> true | nil, message, code
--     One transaction: inserts the probe row (skipped results are not stored), keeps the newest
--     M.HISTORY_MAX rows of the entry, updates the health columns (last_probed_at,
--     last_success_at when ok, latency_ms, consecutive_failures, last_error = reason or '') and
--     the state. Both updates are column-targeted and conditional on `state <> 'deprecated'`:
--     a probe never changes a deprecated entry (a manual deprecate made while the probe ran
--     wins), the probe row is still kept in the history.
--   record_many(items) -> true | nil, message, code: items = {{entry_id, result, state,
--     failures}, ...} written as record does, all in one transaction (a sweep writes a batch of
--     probe results at once); the caller invalidates catalog caches.
--   history(entry_id) -> {{at, ok, reason, latency_ms, status}, ...} oldest first
--   due(limit) -> {{id, protocol, endpoint, metadata, state, consecutive_failures}, ...}: entries
--     that are not deprecated, least recently probed first (never probed first).
local db = require "agentlens.db"
local json = require "agentlens.json"
local time = require "agentlens.time"

local M = {}

M.HISTORY_MAX = 100

local function truthy(v)
  return v == true or v == 1 or v == "1" or v == "t" or v == "true"
end

local function stamp(at)
  if type(at) == "number" then
    -- time.rfc3339 takes seconds (fractions kept as milliseconds)
    return time.rfc3339(at)
  end
  return time.rfc3339()
end

-- The statements of one probe result, inside the caller's transaction.
local function write(entry_id, result, new_state, failures, now)
  local at = stamp(result.at)
  local latency = tonumber(result.latency_ms)
  if latency then
    latency = math.floor(latency + 0.5)
  end
  local ok = result.ok == true
  local reason = (not ok) and tostring(result.reason or "error") or nil
  if reason and #reason > 512 then
    reason = reason:sub(1, 512)
  end
  do
    local n, e, c
    if not result.skipped then
      n, e, c = db.exec([[INSERT INTO catalog_probes (entry_id, at, ok, reason, latency_ms, status)
        VALUES (?, ?, ?, ?, ?, ?)]], entry_id, at, ok, reason, latency, tonumber(result.status))
      if not n then
        return nil, e, c
      end
      n, e, c = db.exec([[DELETE FROM catalog_probes WHERE entry_id = ? AND id NOT IN
        (SELECT id FROM catalog_probes WHERE entry_id = ? ORDER BY id DESC LIMIT ?)]],
        entry_id, entry_id, M.HISTORY_MAX)
      if not n then
        return nil, e, c
      end
    end
    local sets = { "health_last_probed_at = ?", "health_consecutive_failures = ?", "health_last_error = ?",
      "health_latency_ms = ?" }
    local args = { at, tonumber(failures) or 0, reason or "", ok and latency or 0 }
    if ok then
      sets[#sets + 1] = "health_last_success_at = ?"
      args[#args + 1] = at
    end
    if new_state and new_state ~= "deprecated" then
      sets[#sets + 1] = "state = ?"
      args[#args + 1] = new_state
    end
    sets[#sets + 1] = "updated_at = ?"
    args[#args + 1] = now
    args[#args + 1] = entry_id
    n, e, c = db.exec("UPDATE catalog_entries SET " .. table.concat(sets, ", ")
      .. " WHERE id = ? AND state <> 'deprecated'", unpack(args))
    if not n then
      return nil, e, c
    end
    return true
  end
end

function M.record(entry_id, result, new_state, failures, opts)
  local now = time.rfc3339()
  local done, err, code = db.tx(write, entry_id, result, new_state, failures, now)
  if not done then
    return nil, err, code
  end
  -- Response caches of catalog answers (the process counter, and on PostgreSQL the version
  -- row). A sweep (opts.batch) invalidates them itself every few seconds and at its end, so
  -- probing thousands of entries does not empty every cache after each probe; a change of
  -- state invalidates at once.
  if not (opts and opts.batch) or opts.changed then
    require("agentlens.store.catalog").touch()
  end
  return true
end

function M.record_many(items)
  if #items == 0 then
    return true
  end
  local now = time.rfc3339()
  return db.tx(function()
    for _, it in ipairs(items) do
      local ok, e, c = write(it.entry_id, it.result, it.state, it.failures, now)
      if not ok then
        return nil, e, c
      end
    end
    return true
  end)
end

function M.history(entry_id)
  local rows, err, code = db.query([[SELECT at, ok, reason, latency_ms, status FROM catalog_probes
    WHERE entry_id = ? ORDER BY id]], entry_id)
  if not rows then
    return nil, err, code
  end
  local out = json.array()
  for i, r in ipairs(rows) do
    out[i] = { at = r.at, ok = truthy(r.ok), reason = r.reason, latency_ms = r.latency_ms, status = r.status }
  end
  return out
end

-- discovery_key(id) -> key | nil: the external key of a discovered entry.
function M.discovery_key(id)
  local rows = db.query("SELECT discovery_key FROM catalog_entries WHERE id = ?", id)
  return rows and rows[1] and rows[1].discovery_key or nil
end

-- due(limit): the entries a sweep probes, least recently probed first: not deprecated, and not
-- gone from their discovery source (those stay offline until discovery deletes them).
function M.due(limit)
  local rows, err, code = db.query([[SELECT id, protocol, endpoint, metadata, state, discovery_key,
    health_consecutive_failures AS consecutive_failures FROM catalog_entries
    WHERE state <> 'deprecated' AND discovery_gone_at IS NULL
    ORDER BY health_last_probed_at ASC NULLS FIRST, created_at ASC, id ASC LIMIT ?]], limit or 1000)
  if not rows then
    return nil, err, code
  end
  for _, r in ipairs(rows) do
    local m = r.metadata and json.decode(r.metadata)
    r.metadata = type(m) == "table" and m or {}
  end
  return rows
end

return M
