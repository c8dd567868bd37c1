-- SPDX-License-Identifier: Apache-2.0
-- System endpoints: version, status (Lua generation and last reload error), reload trigger.
local json = require "agentlens.json"
local system = require "agentlens.system"

local M = {}

function M.version(_req)
  return 200, { version = system.version() }
end

-- GET /system: what runs, and why the last reload failed (null when it did not).
function M.status(_req)
  return 200, {
    version = system.version(),
    generation = system.generation() or json.null,
    last_reload_error = system.last_reload_error() or json.null,
  }
end

function M.reload(_req)
  system.reload()
  return 202, { status = "reload requested" }
end

return M
