-- SPDX-License-Identifier: Apache-2.0
-- Prints the route table as JSON: [{method, path, permission}, ...] in table order.
-- Usage: agentlens run spec/support/routes.lua (the authorization matrix spec reads it).
-- The modules come from the Lua tree agentlens run loads: the embedded one, or lua_dir
-- (AGENTLENS_LUA_DIR) when set.
local json = require "agentlens.json"
local app = require "agentlens.app"

local out = {}
for i, r in ipairs(app.routes) do
  out[i] = { method = r.method, path = r.path, permission = r.permission }
end
print(json.encode(out))
