-- SPDX-License-Identifier: Apache-2.0
-- Per-worker cache of catalog answers. Two versions decide what is still valid
-- (agentlens.store.catalog.versions()): the entries' version changes with every write of what an
-- entry is (insert, update, delete), the live version with every write of only state and health
-- columns (health probes, lifecycle changes). On PostgreSQL both are a row in the database, so
-- writes by another replica invalidate too (one primary-key read per lookup); on SQLite they are
-- process counters. Three layers:
--
--   bodies     key -> encoded answer (list pages, details): valid for both versions.
--   orders     key -> the ids of a list page in order and the total: valid for the entries'
--              version, and for the live version too when the query filters by state or sorts
--              by a column health writes (agentlens.store.catalog.order_is_live). The order of
--              a search survives a health sweep.
--   totals     key -> the total of a list query without a state filter: valid for the entries'
--              version (a live order is rebuilt without counting again).
--   lasting    entry id -> its encoded list view without status, health and updated_at: valid
--              for the entries' version.
--
-- A list page missing from bodies is assembled from its order, the lasting parts of its entries
-- and their live columns read fresh by id (agentlens.store.catalog.live: one narrow query for
-- the page), so a state or health change is in the next answer without rebuilding every entry;
-- only what is missing is read from the database. Data read after the versions is at least as
-- new as they are, and any later write changes a version, which empties the affected layers at
-- the next lookup: nothing older than the last write is ever served.
--
-- Each Lua state (one per HTTP worker thread, rebuilt on reload) has its own module table, so
-- no locking is needed. Bodies do not depend on the caller (the route permission is checked
-- before the handler runs).
local catalog = require "agentlens.store.catalog"
local json = require "agentlens.json"
local view = require "agentlens.catalog.view"

local M = {}

M.MAX_ENTRIES = 256 -- bodies
M.MAX_BODY = 256 * 1024 -- larger answers are not kept
M.MAX_ORDERS = 1024 -- per kind (entries-only, live)
M.MAX_LASTING = 4096 -- entries

local function layer()
  return { n = 0, items = {} }
end

local state = { entries = nil, live = nil, bodies = layer(), orders = layer(), live_orders = layer(),
  totals = layer(), lasting = layer() }

-- counters of the last lookups, for specs: what each layer answered
M.stats = { body_hits = 0, order_hits = 0, total_hits = 0, lasting_hits = 0, lasting_reads = 0 }

local function keep(l, max, key, value)
  if l.items[key] == nil then
    if l.n >= max then
      l.n, l.items = 0, {}
    end
    l.n = l.n + 1
  end
  l.items[key] = value
end

-- sync() -> true when answers may be cached: reads the versions and empties what they outdate.
local function sync()
  local entries, live = catalog.versions()
  if entries == nil then
    state.entries, state.live = nil, nil
    state.bodies, state.orders, state.live_orders, state.lasting = layer(), layer(), layer(), layer()
    state.totals = layer()
    return false
  end
  if entries ~= state.entries then
    state.bodies, state.orders, state.live_orders, state.lasting = layer(), layer(), layer(), layer()
    state.totals = layer()
  elseif live ~= state.live then
    state.bodies, state.live_orders = layer(), layer()
  end
  state.entries, state.live = entries, live
  return true
end

-- key(req) -> a string naming the path and the query (parameters sorted).
function M.key(req)
  local names = {}
  for k in pairs(req.query or {}) do
    names[#names + 1] = k
  end
  table.sort(names)
  local parts = { req.path or "" }
  for _, k in ipairs(names) do
    parts[#parts + 1] = k .. "=" .. tostring(req.query[k])
  end
  return table.concat(parts, "\0")
end

local function copy(t)
  local out = {}
  for k, v in pairs(t) do
    out[k] = v
  end
  return out
end

-- version() -> the versions read by the last get(), as one value for put(); nil: do not cache.
function M.version()
  if state.entries == nil then
    return nil
  end
  return state.entries .. ":" .. state.live
end

-- get(key) -> status, body (string), headers | nil. Reads the versions first.
function M.get(key)
  if not sync() then
    return nil
  end
  local hit = state.bodies.items[key]
  if not hit then
    return nil
  end
  M.stats.body_hits = M.stats.body_hits + 1
  return hit.status, hit.body, copy(hit.headers)
end

-- put(key, version, status, body, headers) -> status, body (encoded), headers. version: what
-- version() said after the get() that missed.
function M.put(key, version, status, body, headers)
  headers = headers or {}
  headers["Content-Type"] = "application/json"
  local text = type(body) == "string" and body or json.encode(body)
  if status == 200 and version ~= nil and version == M.version() and #text <= M.MAX_BODY then
    keep(state.bodies, M.MAX_ENTRIES, key, { status = status, body = text, headers = copy(headers) })
  end
  return status, text, headers
end

-- The encoded lasting part of an entry, without its closing brace.
local function lasting_text(e)
  return json.encode(view.lasting(e)):sub(1, -2)
end

-- page(ids, cached) -> encoded json array | nil, message, code: the entries in the order of ids,
-- live columns read now; cached: whether lasting parts may be kept.
local function page(ids, cached)
  local live, err, code = catalog.live(ids)
  if not live then
    return nil, err, code
  end
  local lasting = state.lasting.items
  local parts, missing = {}, {}
  for _, id in ipairs(ids) do
    if live[id] and not (cached and lasting[id]) then
      missing[#missing + 1] = id
    end
  end
  local read = {}
  if #missing > 0 then
    local items
    items, err, code = catalog.entries(missing)
    if not items then
      return nil, err, code
    end
    for _, e in ipairs(items) do
      read[e.id] = lasting_text(e)
      if cached then
        keep(state.lasting, M.MAX_LASTING, e.id, read[e.id])
      end
    end
    M.stats.lasting_reads = M.stats.lasting_reads + #items
  end
  -- one concatenation for the whole body: "[", lasting, ",", live fields, ",", lasting, ... "]"
  local k, n = 1, 0
  parts[1] = "["
  for _, id in ipairs(ids) do
    local l = live[id]
    local text = read[id] or (cached and lasting[id])
    if l and text then -- an entry deleted in between is left out
      if n > 0 then
        k = k + 1
        parts[k] = ","
      end
      -- the lasting object always has "id", so a comma joins the live fields ("{" dropped)
      parts[k + 1], parts[k + 2], parts[k + 3] = text, ",", json.encode(view.live(l)):sub(2)
      k, n = k + 3, n + 1
    end
  end
  parts[k + 1] = "]"
  M.stats.lasting_hits = M.stats.lasting_hits + n - #missing
  return table.concat(parts)
end

-- list(key, f) -> 200, body (string), headers | nil, message, code: GET /catalog for the store
-- filter f (agentlens.store.catalog.list); key: key(req).
function M.list(key, f)
  local s, b, h = M.get(key)
  if s then
    return s, b, h
  end
  local cached = state.entries ~= nil
  local version = M.version()
  local orders = catalog.order_is_live(f) and state.live_orders or state.orders
  local o = cached and orders.items[key]
  if o then
    M.stats.order_hits = M.stats.order_hits + 1
  else
    -- without a state filter the total outlives a live order (no count after a health write)
    local lasting_total = not (f.states and #f.states > 0)
    local known = cached and lasting_total and state.totals.items[key] or nil
    if known then
      M.stats.total_hits = M.stats.total_hits + 1
    end
    local ids, total, code = catalog.list_order(f, known)
    if not ids then
      return nil, total, code
    end
    o = { ids = ids, total = total }
    if cached then
      keep(orders, M.MAX_ORDERS, key, o)
      if lasting_total then
        keep(state.totals, M.MAX_ORDERS, key, total)
      end
    end
  end
  local text, err, code = page(o.ids, cached)
  if not text then
    return nil, err, code
  end
  return M.put(key, version, 200, text, { ["X-Total-Count"] = ("%d"):format(o.total) })
end

return M
