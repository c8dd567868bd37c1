-- SPDX-License-Identifier: Apache-2.0
-- List paging from the query string: ?limit=1..500 (default 50) & offset>=0 (default 0).
local http = require "agentlens.http"
local json = require "agentlens.json"
local http_errors = require "agentlens.lib.http_errors"

local M = {}

M.DEFAULT_LIMIT = 50
M.MAX_LIMIT = 500
local MAX_OFFSET = 2147483647

local function bad(name, why)
  local message = ("invalid query parameter %q: %s"):format(name, why)
  return nil, nil, http.error(400, message, { { field = name, message = why } })
end

-- parse(query) -> limit, offset | nil, nil, status, body (400 naming the parameter).
function M.parse(query)
  query = query or {}
  local limit, offset = M.DEFAULT_LIMIT, 0
  if query.limit ~= nil then
    local n = query.limit:match("^%d+$") and tonumber(query.limit)
    if not n or n < 1 or n > M.MAX_LIMIT then
      return bad("limit", ("must be an integer from 1 to %d"):format(M.MAX_LIMIT))
    end
    limit = n
  end
  if query.offset ~= nil then
    local n = query.offset:match("^%d+$") and tonumber(query.offset)
    if not n or n > MAX_OFFSET then
      return bad("offset", "must be an integer of 0 or more")
    end
    offset = n
  end
  return limit, offset
end

-- The header that carries the total of a paged list.
function M.total_header(total)
  return { ["X-Total-Count"] = ("%d"):format(total) }
end

-- respond(req, store, view) -> status, body, headers for a plain paged list: store.count() and
-- store.list(limit, offset) from an agentlens.store module, each row through view(row).
function M.respond(req, store, view)
  local limit, offset, status, body = M.parse(req.query)
  if not limit then
    return status, body
  end
  local total, err, code = store.count()
  local rows
  if total then
    rows, err, code = store.list(limit, offset)
  end
  if not rows then
    return http_errors.db_failure(err, code)
  end
  local out = json.array()
  for i, row in ipairs(rows) do
    out[i] = view(row)
  end
  return 200, out, M.total_header(total)
end

return M
