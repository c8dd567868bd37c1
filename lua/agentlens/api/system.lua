-- SPDX-License-Identifier: Apache-2.0
-- System endpoints: version, Lua generation and last reload error, reload trigger.
local json = require "agentlens.json"
local system = require "agentlens.system"

local M = {}

function M.version(_req)
  return 200, { version = system.version() }
end

function M.lua_status(_req)
  return 200, {
    generation = system.generation() or json.null,
    last_reload_error = system.last_reload_error() or json.null,
  }
end

function M.reload(_req)
  system.reload()
  return 202, { status = "reload requested" }
end

return M
