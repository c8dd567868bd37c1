-- SPDX-License-Identifier: Apache-2.0
-- SQL for runtime settings (one row per key, the value as text). Failures return nil, message,
-- code (see agentlens.db).
local db = require "agentlens.db"

local M = {}

-- all() -> rows {key, value, category, description, updated_at}
function M.all()
  return db.query("SELECT key, value, category, description, updated_at FROM settings ORDER BY key")
end

-- write(changes, now): changes = { {key, value = text | nil (reset), category, description} }, in
-- one transaction.
function M.write(changes, now)
  return db.tx(function()
    for _, c in ipairs(changes) do
      local ok, err, code
      if c.value == nil then
        ok, err, code = db.exec("DELETE FROM settings WHERE key = ?", c.key)
      else
        ok, err, code = db.exec([[INSERT INTO settings (key, value, category, description, updated_at)
          VALUES (?, ?, ?, ?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value,
          category = excluded.category, description = excluded.description, updated_at = excluded.updated_at]],
          c.key, c.value, c.category, c.description, now)
      end
      if not ok then
        return nil, err, code
      end
    end
    return true
  end)
end

return M
