-- SPDX-License-Identifier: Apache-2.0
-- Maps operational failures (database codes) to HTTP answers, in one place.
local http = require "agentlens.http"
local log = require "agentlens.log"

local M = {}

local DB_STATUS = {
  unavailable = { 503, "the database is unavailable; try again shortly" },
  timeout = { 503, "the database did not answer in time; try again shortly" },
  busy = { 503, "the database is busy; try again shortly" },
  readonly = { 503, "the database cannot be written" },
  unique = { 409, "already exists" },
  foreign_key = { 409, "refers to something that does not exist, or is still referenced" },
  not_null = { 422, "a required value is missing" },
  check = { 422, "a value is out of range" },
}

-- db_failure(message, code[, what]) -> status, body. Logs the driver message; the client gets
-- a stable, non-leaking message (prefixed with `what` for constraint codes, e.g. "endpoint").
function M.db_failure(message, code, what)
  local entry = DB_STATUS[code]
  log.warn("database operation failed", { code = code or "error", error = message })
  if not entry then
    return http.error(500, "internal database error")
  end
  local text = entry[2]
  if what and entry[1] ~= 503 then
    text = what .. " " .. text
  end
  return http.error(entry[1], text)
end

return M
