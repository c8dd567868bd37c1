-- SPDX-License-Identifier: Apache-2.0
-- Spec helpers for card fixtures under spec/fixtures/cards: reading, decoding, wire views.
local json = require "agentlens.json"

local M = {}

M.DIR = "spec/fixtures/cards/"

-- text(name) -> the bytes of spec/fixtures/cards/<name>
function M.text(name)
  local f = assert(io.open(M.DIR .. name, "rb"))
  local s = f:read("*a")
  f:close()
  return s
end

-- decoded(name) -> the fixture as a Lua value
function M.decoded(name)
  return assert(json.decode(M.text(name)))
end

-- wire(v) -> v encoded and decoded again: what clients would see.
function M.wire(v)
  return json.decode(json.encode(v))
end

-- fields(list) -> the `field` of each {field, message} item
function M.fields(list)
  local out = {}
  for _, e in ipairs(list) do
    out[#out + 1] = e.field
  end
  return out
end

return M
