-- SPDX-License-Identifier: Apache-2.0
-- Runs several network conversations at once on one thread: each task is a function that
-- receives a `request` function with the shape of agentlens.httpc.request and runs in a coroutine
-- of its own; whenever every unfinished task waits for a response, the waiting requests go out
-- together through httpc.request_many (curl multi, under a concurrency limit) and each task
-- resumes with its own response. The A2A card fetch and the MCP probe take such a `request`
-- (opts.request), so a card fetch and a whole MCP handshake of many sources overlap.
--
--   run(tasks, opts) -> results: results[i] = {ok = true, value = <what task i returned>}
--                                         | {ok = false, error = message}
--   opts: concurrency (default 8), request_many (replacement for specs).
local M = {}

M.DEFAULT_CONCURRENCY = 8
M.MAX_BATCH = 10000

function M.run(tasks, opts)
  opts = opts or {}
  local many = opts.request_many or require("agentlens.httpc").request_many
  local results, waiting, cos = {}, {}, {}
  local function request(req)
    return coroutine.yield(req)
  end
  local function step(i, ...)
    local out = { coroutine.resume(cos[i], ...) }
    if not out[1] then
      results[i] = { ok = false, error = tostring(out[2]) }
    elseif coroutine.status(cos[i]) == "dead" then
      results[i] = { ok = true, value = out[2] }
    elseif type(out[2]) ~= "table" then
      results[i] = { ok = false, error = "a task yielded something other than a request" }
    else
      waiting[#waiting + 1] = { i = i, req = out[2] }
    end
  end
  for i, task in ipairs(tasks) do
    cos[i] = coroutine.create(task)
    step(i, request)
  end
  while #waiting > 0 do
    local round = waiting
    waiting = {}
    for first = 1, #round, M.MAX_BATCH do
      local last = math.min(#round, first + M.MAX_BATCH - 1)
      local reqs = {}
      for k = first, last do
        reqs[#reqs + 1] = round[k].req
      end
      local ok, resps = pcall(many, reqs, { concurrency = opts.concurrency or M.DEFAULT_CONCURRENCY })
      for k = first, last do
        local w = round[k]
        local r = ok and resps[k - first + 1] or { error = tostring(resps), code = "error" }
        if type(r) == "table" and r.error == nil then
          step(w.i, r)
        else
          step(w.i, nil, type(r) == "table" and r.error or "no response", type(r) == "table" and r.code or "error")
        end
      end
    end
  end
  return results
end

return M
