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
-- Concurrency: a sweep probes the due entries (least recently probed first, never probed first;
-- at most opts.limit, M.SWEEP_LIMIT) concurrently through agentlens.health.pool: one curl multi
-- handle with health.check_concurrency transfers in flight, each request with its own timeout
-- (health.check_timeout) and size cap (M.MAX_CARD_BYTES for an A2A card, M.MAX_BYTES for an MCP
-- response); health.check_concurrency * M.WINDOW_FACTOR probes are alive at once, so memory is
-- bounded by that many capped responses. The results of each wave are written in one
-- transaction (store.record_many) and catalog caches are invalidated every M.TOUCH_EVERY seconds
-- and when a state changes, not after every probe. The sweep stops starting new probes once its
-- time budget is spent (opts.budget_ms, default 80 % of health.check_interval); the entries left
-- over are the least recently probed ones at the next round, so every entry is probed in turn.
--
-- opts.should_stop (the job's ctx.should_stop): checked before each probe starts; once true no
-- probe starts and the sweep ends after the requests in flight (at most one probe timeout).
--
-- MCP entries are probed with the full listing (handshake, tools/resources/prompts) at every
-- sweep, so a change of tools is seen within one interval and recorded by
-- agentlens.health.drift (opts.drift = false turns it off). On-demand probes (probe_entry) only
-- ping.
local log = require "agentlens.log"
local time = require "agentlens.time"
local probe = require "agentlens.health.probe"
local lifecycle = require "agentlens.health.lifecycle"
local store = require "agentlens.store.health"
local catalog = require "agentlens.store.catalog"
local pool = require "agentlens.health.pool"

local M = {}

M.SWEEP_LIMIT = 20000
M.TOUCH_EVERY = 5 -- seconds
M.MAX_BYTES = 1024 * 1024 -- per MCP response (one page of a list)
M.MAX_CARD_BYTES = 256 * 1024 -- per A2A card (the catalog keeps no larger raw card)
M.WINDOW_FACTOR = 4 -- probes alive per transfer slot (agentlens.health.pool window)
M.MAX_PAGES = 10 -- per MCP list during a sweep

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

-- The headers each static source sends ({ [discovery key] = headers }), so a probe of a
-- protected agent is authenticated like its discovery; {} when there are none.
local function source_headers()
  local ok, by_key = pcall(function()
    return require("agentlens.discovery.static").headers_by_key()
  end)
  if not ok then
    log.warn("health: cannot read the static sources' headers", { error = tostring(by_key) })
    return {}
  end
  return by_key
end

function M.probe_entry(entry, opts)
  opts = opts or {}
  local popts = { ssrf_guard = false, timeout_ms = opts.timeout_ms, request = opts.request,
    headers = source_headers()[entry.discovery_key or store.discovery_key(entry.id) or false] }
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

-- Drift hook: agentlens.health.drift when present (loaded lazily; a failure only logs).
local function observe_drift(entry, listing)
  local ok, drift = pcall(require, "agentlens.health.drift")
  if not ok or type(drift) ~= "table" or type(drift.observe) ~= "function" then
    return
  end
  local okc, err = pcall(drift.observe, entry.id, listing.tools)
  if not okc then
    log.warn("tool drift check failed", { entry_id = entry.id, error = tostring(err) })
  end
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
  local cfg = opts.config or lifecycle.config()
  local concurrency = tonumber(opts.concurrency) or tonumber(setting("health.check_concurrency", 64)) or 64
  local timeout_ms = (tonumber(setting("health.check_timeout", 5)) or 5) * 1000
  local check_drift = opts.drift ~= false
  local probed, failed_writes, over_budget, write_s, stopped = 0, 0, false, 0, false
  -- Catalog response caches learn about new health data every TOUCH_EVERY seconds and at the
  -- end of the sweep (state changes at once), not after every probe.
  local touched = started
  local function touch()
    catalog.touch()
    touched = time.monotonic()
  end

  local tasks, headers_of = {}, source_headers()
  for i, e in ipairs(entries) do
    local headers = headers_of[e.discovery_key or false]
    tasks[i] = function(request)
      return probe.probe(e, { ssrf_guard = false, request = request, batched = true, timeout_ms = timeout_ms,
        headers = headers,
        max_bytes = e.protocol == "a2a" and M.MAX_CARD_BYTES or M.MAX_BYTES, max_pages = M.MAX_PAGES,
        listing = check_drift and e.protocol == "mcp" })
    end
  end

  local function on_done(list)
    local items, changes = {}, {}
    for _, done in ipairs(list) do
      local e = entries[done.index]
      local result = done.result
      if type(result) ~= "table" then
        log.warn("health probe failed", { entry_id = e.id, error = tostring(done.error) })
      else
        local state, n, rule = lifecycle.next_state(e.state, tonumber(e.consecutive_failures) or 0, result, cfg)
        items[#items + 1] = { entry_id = e.id, result = result, state = state, failures = n }
        if state ~= e.state and e.state ~= "deprecated" then
          changes[#changes + 1] = { entry_id = e.id, from = e.state, to = state, rule = rule, reason = result.reason }
        end
        if result.listing and check_drift then
          observe_drift(e, result.listing)
        end
      end
    end
    local w0 = time.monotonic()
    local ok, werr, wcode = store.record_many(items)
    write_s = write_s + (time.monotonic() - w0)
    if not ok then
      failed_writes = failed_writes + #items
      log.warn("health sweep: cannot store probe results", { error = werr, code = wcode, count = #items })
      return
    end
    probed = probed + #items
    for _, c in ipairs(changes) do
      log.info("catalog entry state changed by a health probe", c)
    end
    if #changes > 0 or time.monotonic() - touched >= M.TOUCH_EVERY then
      touch()
    end
  end

  local stats = pool.run(tasks, {
    concurrency = concurrency,
    window = opts.window or concurrency * M.WINDOW_FACTOR,
    request_many = opts.request_many,
    should_start = function()
      if opts.should_stop and opts.should_stop() then
        stopped = true
        return false
      end
      if (time.monotonic() - started) * 1000 >= budget_ms then
        over_budget = true
        return false
      end
      return true
    end,
    on_done = on_done,
  })
  if probed > 0 then
    touch()
  end
  local skipped = #entries - stats.started
  local duration_ms = math.floor((time.monotonic() - started) * 1000 + 0.5)
  if over_budget and skipped > 0 then
    log.warn("health sweep: time budget spent; the rest waits for the next round", { probed = probed, left = skipped })
  end
  log.info("health sweep finished", { probed = probed, skipped = skipped, concurrency = concurrency,
    duration_ms = duration_ms, waves = stats.waves, stopped = stopped or nil,
    write_ms = math.floor(write_s * 1000 + 0.5),
    http_ms = math.floor(stats.wave_s * 1000 + 0.5) })
  return { probed = probed, skipped = skipped, failed = failed_writes, duration_ms = duration_ms,
    concurrency = concurrency, waves = stats.waves, stopped = stopped }
end

return M
