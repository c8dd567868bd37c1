-- SPDX-License-Identifier: Apache-2.0
-- Static discovery: the `sources:` of the configuration file (agentlens.config.sources()) and
-- the sources operator scripts add (discovery.sources() in agentlens.discovery.rules), synced
-- into the catalog by the "discovery" background job (lua/agentlens/jobs.lua).
--
--   items([opts]) -> list of sync items {key = "config/<name>", protocol, url, headers, team,
--              tags, labels, name, interval_ms?, origin = "config" | <script file>}; script
--              sources are asked for every SCRIPT_SOURCES_EVERY (5) seconds
--   round([opts]) -> {synced, failed, gone, deleted}
--     Syncs every source that is due (never synced by this Lua state, or its interval --
--     its own `interval`, else discovery.interval -- has passed) in one concurrent batch
--     (sync.upsert_many), marks the entries of sources that are no longer configured as gone
--     (sync.retain) and deletes entries gone longer than discovery.removal_grace
--     (sync.sweep_removed). The job calls it every second; the first call, at start-up, syncs
--     every source. A Lua reload starts a new state, so every source is synced again at once
--     (new or changed rules apply without waiting for an interval).
--   headers(key) -> the headers of a configured or script source, or nil (for health probes).
--   opts: now (monotonic seconds), request_many, config_sources (a list shaped like
--   config.sources(), instead of the configuration), housekeeping_every (seconds, 5): specs.
local config = require "agentlens.config"
local log = require "agentlens.log"
local time = require "agentlens.time"
local sync = require "agentlens.discovery.sync"
local rules = require "agentlens.discovery.rules"

local M = {}

M.SOURCE = "config"
M.FETCH_TIMEOUT_MS = 10000
M.CONCURRENCY = 16
M.HOUSEKEEPING_EVERY = 5
M.SCRIPT_SOURCES_EVERY = 5

local last_sync = {} -- key -> monotonic seconds of the last sync in this state
local script_sources, script_sources_at -- rules.sources(), asked again every SCRIPT_SOURCES_EVERY s
local last_housekeeping
local last_keys -- the configured key set seen by the last housekeeping, as a sorted string

local function config_sources()
  local ok, list = pcall(config.sources)
  if not ok then
    log.warn("discovery: cannot read the configured sources", { error = tostring(list) })
    return {}
  end
  return list
end

function M.items(opts)
  local now = opts and opts.now or time.monotonic()
  if not script_sources or now - script_sources_at >= M.SCRIPT_SOURCES_EVERY or now < script_sources_at then
    script_sources, script_sources_at = rules.sources(), now
  end
  local out, seen = {}, {}
  for _, s in ipairs(opts and opts.config_sources or config_sources()) do
    local key = "config/" .. s.name
    seen[key] = "the configuration"
    out[#out + 1] = { key = key, name = s.name, protocol = s.type, url = s.url, headers = s.headers,
      team = s.team, tags = s.tags, labels = {}, interval_ms = s.interval_ms, origin = "config" }
  end
  for _, s in ipairs(script_sources) do
    local key = "config/" .. s.name
    if seen[key] then
      log.warn("discovery: a script source has the name of another source; ignored",
        { script = s.script, name = s.name, first = seen[key] })
    else
      seen[key] = s.script
      out[#out + 1] = { key = key, name = s.name, protocol = s.protocol, url = s.url, card_path = s.card_path,
        headers = s.headers, team = s.team, tags = s.tags, labels = s.labels or {}, origin = s.script }
    end
  end
  return out
end

local function default_interval_s()
  local ok, ms = pcall(config.get, "discovery.interval")
  return (ok and tonumber(ms) or 60000) / 1000
end

local function key_string(keys)
  local list = {}
  for k in pairs(keys) do
    list[#list + 1] = k
  end
  table.sort(list)
  return table.concat(list, "\n")
end

function M.round(opts)
  opts = opts or {}
  local now = opts.now or time.monotonic()
  local default = default_interval_s()
  local items = M.items(opts)
  local due, keys = {}, {}
  for _, it in ipairs(items) do
    keys[it.key] = true
    local interval = it.interval_ms and it.interval_ms / 1000 or default
    -- a little slack so that a 1 s tick does not push an interval to the next tick
    if not last_sync[it.key] or now - last_sync[it.key] >= interval - 0.2 then
      due[#due + 1] = it
    end
  end
  local out = { synced = 0, failed = 0, gone = 0, deleted = 0 }
  if #due > 0 then
    local results = sync.upsert_many(M.SOURCE, due, { timeout_ms = M.FETCH_TIMEOUT_MS,
      concurrency = M.CONCURRENCY, request_many = opts.request_many })
    for i, it in ipairs(due) do
      last_sync[it.key] = now
      local r = results[i]
      if r.entry then
        out.synced = out.synced + 1
        if r.info and r.info.reason then
          log.warn("discovery: source not reachable", { source = it.name, url = it.url, reason = r.info.reason,
            entry_id = r.entry.id })
        end
      elseif r.code ~= "filtered" then
        out.failed = out.failed + 1
        log.warn("discovery: source not synced", { source = it.name, url = it.url, error = r.error, code = r.code })
      end
    end
  end
  -- forget what is no longer configured, so it is synced at once if it comes back
  for key in pairs(last_sync) do
    if not keys[key] then
      last_sync[key] = nil
    end
  end
  local ks = key_string(keys)
  local every = opts.housekeeping_every or M.HOUSEKEEPING_EVERY
  if not last_housekeeping or now - last_housekeeping >= every or ks ~= last_keys then
    last_housekeeping, last_keys = now, ks
    local n, err = sync.retain(M.SOURCE, keys)
    if n then
      out.gone = n
    else
      log.warn("discovery: cannot mark removed sources", { error = err })
    end
    local ids
    ids, err = sync.sweep_removed()
    if ids then
      out.deleted = #ids
    else
      log.warn("discovery: cannot delete removed entries", { error = err })
    end
  end
  return out
end

-- headers_by_key() -> { ["config/<name>"] = headers } for the static sources that send headers
-- (copies, bearer token included): probes of discovered entries need the same credentials as
-- their discovery (they are never stored with the entry). One call serves a whole sweep.
function M.headers_by_key()
  local out = {}
  for _, it in ipairs(M.items()) do
    if it.headers and next(it.headers) ~= nil then
      local h = {}
      for k, v in pairs(it.headers) do
        h[k] = v
      end
      out[it.key] = h
    end
  end
  return out
end

-- reset(): forgets the sync times of this state (specs).
function M.reset()
  last_sync, last_housekeeping, last_keys, script_sources, script_sources_at = {}, nil, nil, nil, nil
end

return M
