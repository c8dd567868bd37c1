-- SPDX-License-Identifier: Apache-2.0
-- Health checking of catalog entries: one probe of one entry (probe_entry, used by the on-demand
-- API) and the sweep over every entry (sweep, run by the "health" background job every
-- health.check_interval seconds, the first time at start-up).
--
--   probe_entry(entry, opts) -> result, new_state, failures, rule | nil, message, code
--     agentlens.health.probe.probe, then lifecycle.next_state with lifecycle.config(), then
--     agentlens.store.health.record (which never changes a deprecated entry).
--   sweep(opts) -> {probed = n, skipped = n (left for the next round), disabled = bool}
--
-- The SSRF guard is off for health probes: they probe registered entries, which are operator
-- data (in-cluster services on private addresses are the normal case). Importing a card from a
-- URL given in a request (POST /catalog/import) stays guarded.
--
-- Concurrency: a sweep probes the due entries one after the other (least recently probed first,
-- never probed first) on the scheduler thread. It stops starting new probes once its time budget
-- is spent (opts.budget_ms, default 80 % of health.check_interval); the entries left over are
-- the least recently probed ones at the next round, so every entry is probed in turn. At most
-- opts.limit (1000) entries are considered per sweep.
local log = require "agentlens.log"
local time = require "agentlens.time"
local probe = require "agentlens.health.probe"
local lifecycle = require "agentlens.health.lifecycle"
local store = require "agentlens.store.health"
local catalog = require "agentlens.store.catalog"

local M = {}

M.SWEEP_LIMIT = 1000
M.TOUCH_EVERY = 5 -- seconds

local function setting(key, default)
  local ok, v = pcall(function()
    return require("agentlens.settings").get(key)
  end)
  if ok and v ~= nil then
    return v
  end
  return default
end

function M.enabled()
  return setting("health.check_enabled", true) ~= false
end

function M.probe_entry(entry, opts)
  opts = opts or {}
  local popts = { ssrf_guard = false, timeout_ms = opts.timeout_ms, request = opts.request }
  local result = probe.probe(entry, popts)
  local current = entry.state
  local failures = entry.consecutive_failures
  if failures == nil and type(entry.health) == "table" then
    failures = entry.health.consecutive_failures
  end
  local cfg = opts.config or lifecycle.config()
  local state, n, rule = lifecycle.next_state(current, tonumber(failures) or 0, result, cfg)
  local ok, err, code = store.record(entry.id, result, state, n, { batch = opts.batch, changed = state ~= current })
  if not ok then
    return nil, err, code
  end
  if state ~= current then
    log.info("catalog entry state changed by a health probe", { entry_id = entry.id, from = current, to = state,
      rule = rule, reason = result.reason })
  end
  return result, state, n, rule
end

function M.sweep(opts)
  opts = opts or {}
  if not M.enabled() then
    return { probed = 0, skipped = 0, disabled = true }
  end
  local budget_ms = opts.budget_ms or (tonumber(setting("health.check_interval", 30)) or 30) * 800
  local entries, err, code = store.due(opts.limit or M.SWEEP_LIMIT)
  if not entries then
    log.warn("health sweep: cannot list entries", { error = err, code = code })
    return { probed = 0, skipped = 0, error = err }
  end
  local started = time.monotonic()
  local cfg = lifecycle.config()
  local probed = 0
  -- Catalog response caches learn about new health data every TOUCH_EVERY seconds and at the
  -- end of the sweep (state changes at once), not after every probe.
  local touched = started
  local function touch()
    catalog.touch()
    touched = time.monotonic()
  end
  for i, e in ipairs(entries) do
    if (time.monotonic() - started) * 1000 >= budget_ms then
      log.warn("health sweep: time budget spent; the rest waits for the next round",
        { probed = probed, left = #entries - i + 1 })
      touch()
      return { probed = probed, skipped = #entries - i + 1 }
    end
    local ok, perr = pcall(M.probe_entry, e, { config = cfg, batch = true })
    if not ok then
      log.warn("health probe failed", { entry_id = e.id, error = tostring(perr) })
    end
    probed = probed + 1
    if time.monotonic() - touched >= M.TOUCH_EVERY then
      touch()
    end
  end
  if probed > 0 then
    touch()
  end
  return { probed = probed, skipped = 0 }
end

return M
