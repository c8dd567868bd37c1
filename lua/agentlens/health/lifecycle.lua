-- SPDX-License-Identifier: Apache-2.0
-- The lifecycle state machine of catalog entries driven by health probes, and the bounded probe
-- history (uptime, latency charts). Pure: no I/O, no clock; the caller passes results with `at`.
--
-- States: registered → active → degraded → offline; deprecated is manual only.
--
--   next_state(current, consecutive_failures, result, cfg) -> new_state, new_failures, rule
--
-- cfg = {degraded_latency = ms (1500), failure_threshold = n (3)}; M.config() reads both from
-- agentlens.settings. `current` nil counts as "registered". `rule` names the rule applied (for
-- logs and tests). The rules, first match wins:
--
--   1. deprecated: stays deprecated, counter unchanged ("deprecated"). Probes never leave or
--      enter it.
--   2. result.skipped (no probe was made, e.g. no MCP client yet): state and counter unchanged
--      ("skipped").
--   3. ok: counter 0; "degraded" when latency_ms > degraded_latency ("slow"), else "active"
--      ("ok"). This holds from every state, offline included: an answer is proof of life.
--   4. reason "auth required" (401, or 403 from the A2A fetch) or "forbidden" (403 from the MCP
--      client): the entry is reachable. Counter 0; registered and offline become "active",
--      active and degraded keep their state (rule "auth required"). Never offline (reference 15
--      item 33); the reason stays in the result/history.
--   5. reason "rate limited" (429): reachable but throttled; counter 0, state unchanged
--      ("rate limited").
--   6. any other failure: counter + 1 = n.
--      a. n < failure_threshold: state unchanged ("below threshold"): an active entry stays
--         active until the threshold is reached (reference 15 item 34), a registered one stays
--         registered, an offline one stays offline.
--      b. n >= failure_threshold and the reason is a partial failure (the server answered, but
--         wrongly: "invalid card", "protocol error", "invalid response", "unsupported protocol
--         version"; M.PARTIAL): "degraded" ("partial failure").
--      c. n >= failure_threshold otherwise (timeout, connection refused, HTTP 5xx, not an
--         A2A agent / not an MCP server, ...): "offline" ("threshold reached").
--
-- So "degraded" means: slow, or failing at the protocol level past the threshold; "offline"
-- means: unreachable (or not the protocol at all) for failure_threshold probes in a row.
--
--   record(history, result, max = 100) -> history: appends a compact copy {at, ok, reason,
--     latency_ms, status} and drops the oldest entries beyond max (skipped results are not kept).
--   uptime(history[, since]) -> ratio 0..1, up, total | nil (no probes): "up" = ok, or
--     auth required / forbidden / rate limited (reachable, M.REACHABLE). `since` (seconds) ignores older records.
--   latency_series(history[, since]) -> {{at, latency_ms}, ...} of the ok probes, oldest first.
local M = {}

M.STATES = { "registered", "active", "degraded", "offline", "deprecated" }
M.DEFAULTS = { degraded_latency = 1500, failure_threshold = 3 }
M.HISTORY_MAX = 100

-- Failures where the server answered at the protocol level, only wrongly.
M.PARTIAL = { ["invalid card"] = true, ["protocol error"] = true, ["invalid response"] = true,
  ["unsupported protocol version"] = true }
-- Outcomes that need credentials: reachable, never offline.
M.AUTH = { ["auth required"] = true, forbidden = true }
-- Outcomes that prove the server is reachable without being a success (uptime counts them up).
M.REACHABLE = { ["auth required"] = true, forbidden = true, ["rate limited"] = true }

-- config() -> cfg from the runtime settings (defaults when they cannot be read).
function M.config()
  local ok, settings = pcall(require, "agentlens.settings")
  local cfg = {}
  for key, def in pairs(M.DEFAULTS) do
    local v = ok and select(2, pcall(settings.get, "health." .. key))
    cfg[key] = tonumber(v) or def
  end
  return cfg
end

function M.next_state(current, failures, result, cfg)
  cfg = cfg or M.DEFAULTS
  local threshold = cfg.failure_threshold or M.DEFAULTS.failure_threshold
  local slow = cfg.degraded_latency or M.DEFAULTS.degraded_latency
  current = current or "registered"
  failures = tonumber(failures) or 0

  if current == "deprecated" then
    return current, failures, "deprecated"
  end
  if result.skipped then
    return current, failures, "skipped"
  end
  if result.ok then
    if tonumber(result.latency_ms) and result.latency_ms > slow then
      return "degraded", 0, "slow"
    end
    return "active", 0, "ok"
  end
  if M.AUTH[result.reason] then
    if current == "registered" or current == "offline" then
      return "active", 0, "auth required"
    end
    return current, 0, "auth required"
  end
  if result.reason == "rate limited" then
    return current, 0, "rate limited"
  end
  local n = failures + 1
  if n < threshold then
    return current, n, "below threshold"
  end
  if M.PARTIAL[result.reason] then
    return "degraded", n, "partial failure"
  end
  return "offline", n, "threshold reached"
end

function M.record(history, result, max)
  history = history or {}
  max = max or M.HISTORY_MAX
  if result.skipped then
    return history
  end
  history[#history + 1] = {
    at = result.at,
    ok = result.ok == true,
    reason = result.reason,
    latency_ms = result.latency_ms,
    status = result.status,
  }
  local extra = #history - max
  if extra > 0 then
    -- shift down by hand (LuaJIT has no table.move)
    for i = 1, #history - extra do
      history[i] = history[i + extra]
    end
    for i = #history, #history - extra + 1, -1 do
      history[i] = nil
    end
  end
  return history
end

local function considered(h, since)
  return since == nil or (tonumber(h.at) or 0) >= since
end

function M.uptime(history, since)
  local up, total = 0, 0
  for _, h in ipairs(history or {}) do
    if considered(h, since) then
      total = total + 1
      if h.ok or M.REACHABLE[h.reason] then
        up = up + 1
      end
    end
  end
  if total == 0 then
    return nil
  end
  return up / total, up, total
end

function M.latency_series(history, since)
  local out = {}
  for _, h in ipairs(history or {}) do
    if h.ok and tonumber(h.latency_ms) and considered(h, since) then
      out[#out + 1] = { at = h.at, latency_ms = h.latency_ms }
    end
  end
  return out
end

return M
