-- SPDX-License-Identifier: Apache-2.0
-- Spec helper: an empty catalog on the configured dialect (entries and everything that cascades
-- from them; SQLite's FTS5 index is cleared too, since its rows are written by the store).
local db = require "agentlens.db"

local M = {}

function M.clean()
  assert(db.exec("DELETE FROM catalog_entries"))
  if db.dialect() ~= "postgres" then
    assert(db.exec("DELETE FROM catalog_fts"))
  end
end

return M
