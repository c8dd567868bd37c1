-- SPDX-License-Identifier: Apache-2.0
-- Runs many probe-like tasks concurrently over one curl multi handle (agentlens.httpc
-- request_many). Each task is a function(request) written as if it were sequential: it calls
-- request(req) (same contract as agentlens.httpc.request: response | nil, message, code) as
-- often as its protocol needs (an A2A card fetch with fallbacks, an MCP handshake and listing)
-- and returns its result. Each task runs in a coroutine; request() yields the request table.
--
--   pool.run(tasks, opts) -> {started = n, finished = n, waves = n, wave_s = seconds spent in
--     request_many}
--     tasks: array of function(request) -> result
--     opts.concurrency: transfers in flight at the same time (1..256, default 64)
--     opts.window: tasks alive at the same time (default concurrency * 4, at most 10000). The
--       pending requests of every live task form one "wave" handed to request_many; a finished
--       task is replaced by the next one at the following wave, so waves stay full.
--     opts.should_start(): false stops starting new tasks (time budget); live tasks finish.
--     opts.on_done(list): called after each wave with the tasks finished in it,
--       {{index = i, result = r} | {index = i, error = message}, ...} (batch writes).
--     opts.request_many: replacement for agentlens.httpc.request_many (specs).
--
-- Bounds: at most `window` responses are held at once, each capped by the task's own
-- max_bytes, so memory is bounded by window * max_bytes (plus the results the caller keeps).
-- Every request carries its own timeout, so a wave lasts at most the longest timeout of its
-- requests. A request request_many refuses (a malformed table raises for the whole batch) is
-- retried on its own so one bad task cannot fail the others.
local M = {}

M.DEFAULT_CONCURRENCY = 64
M.MAX_WINDOW = 10000 -- request_many's batch limit

local function resume(slot, ...)
  local ok, a = coroutine.resume(slot.co, ...)
  if not ok then
    slot.done, slot.error = true, tostring(a)
  elseif coroutine.status(slot.co) == "dead" then
    slot.done, slot.result = true, a
  elseif type(a) ~= "table" then
    slot.done, slot.error = true, "a task yielded " .. type(a) .. " instead of a request table"
  else
    slot.req = a
  end
end

local function yielding_request(req)
  return coroutine.yield(req)
end

-- One wave: responses for reqs, each response | {error = message, code = code}.
local function wave(many, reqs, concurrency)
  local ok, resps = pcall(many, reqs, { concurrency = concurrency })
  if ok and type(resps) == "table" then
    return resps
  end
  -- some request was malformed: run them one by one, each failure its own
  resps = {}
  for i, r in ipairs(reqs) do
    local okr, out = pcall(many, { r }, { concurrency = 1 })
    resps[i] = okr and type(out) == "table" and out[1] or { error = tostring(out), code = "error" }
  end
  return resps
end

function M.run(tasks, opts)
  opts = opts or {}
  local concurrency = math.max(1, math.min(256, math.floor(tonumber(opts.concurrency) or M.DEFAULT_CONCURRENCY)))
  local window = math.max(1, math.min(M.MAX_WINDOW, math.floor(tonumber(opts.window) or concurrency * 4)))
  local many = opts.request_many or require("agentlens.httpc").request_many
  local should_start = opts.should_start or function()
    return true
  end
  local on_done = opts.on_done or function() end
  local stats = { started = 0, finished = 0, waves = 0, wave_s = 0 }
  local clock = require("agentlens.time").monotonic
  local active, finished = {}, {}
  local next_task = 1

  local function finish(slot)
    finished[#finished + 1] = { index = slot.index, result = slot.result, error = slot.error }
    stats.finished = stats.finished + 1
  end

  while true do
    while #active < window and next_task <= #tasks and should_start() do
      local slot = { index = next_task, co = coroutine.create(tasks[next_task]) }
      next_task = next_task + 1
      stats.started = stats.started + 1
      resume(slot, yielding_request)
      if slot.done then
        finish(slot)
      else
        active[#active + 1] = slot
      end
    end
    if #finished > 0 then
      local list = finished
      finished = {}
      on_done(list)
    end
    if #active == 0 then
      break
    end
    local reqs = {}
    for i, slot in ipairs(active) do
      reqs[i] = slot.req
    end
    local w0 = clock()
    local resps = wave(many, reqs, concurrency)
    stats.wave_s = stats.wave_s + (clock() - w0)
    stats.waves = stats.waves + 1
    local still = {}
    for i, slot in ipairs(active) do
      local r = resps[i]
      slot.req = nil
      if type(r) ~= "table" then
        resume(slot, nil, "no response", "error")
      elseif r.error ~= nil and r.status == nil then
        resume(slot, nil, r.error, r.code or "error")
      else
        resume(slot, r)
      end
      if slot.done then
        finish(slot)
      else
        still[#still + 1] = slot
      end
    end
    active = still
  end
  return stats
end

return M
