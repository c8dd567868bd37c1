-- SPDX-License-Identifier: Apache-2.0
-- SQL for the catalog: entries, their capabilities, categories and raw cards (migration 0003).
-- Failures return nil, message, code (see agentlens.db; this module adds "invalid" for bad
-- arguments, "unique" for a duplicate endpoint and "too_large" for a raw card over 256 KiB).
--
-- Entries (get, set_state): {id, protocol, endpoint (as given), display_name, description,
-- version, spec_version, provider = {organization, team, url} | nil, categories (json.array),
-- metadata (json.object), source, state, health = {state, last_probed_at, last_success_at,
-- latency_ms, consecutive_failures, last_error} (absent values are nil), capabilities
-- (json.array of {kind, name, description, properties}), created_at, updated_at,
-- has_raw_card}. list() items carry capabilities too (loaded for the whole page with one
-- query, reference 15 item 23) and capabilities_count.
--
-- Uniqueness: (protocol, normalized endpoint), a real UNIQUE constraint; see M.normalize_endpoint.
-- Search: SQLite FTS5 table catalog_fts (rowid = catalog_entries.seq, written here in the
-- entry's transaction, deleted by a trigger), PostgreSQL a weighted tsvector column written with
-- the entry (GIN index, 'simple' configuration, no extension needed). Every whitespace-separated
-- term must match as a prefix (AND); user text is never interpolated into SQL or query syntax.
-- Weights: display name > capability names, tags, provider > description > capability
-- descriptions.
--
-- Raw cards: at most 256 KiB (larger ones are refused, never truncated); raw_card(id) returns
-- {data, content_type, fetched_at, etag} where etag is random hex written with the card (it
-- changes whenever the card is written).
--
-- Every successful write bumps a version for response caches (M.versions()): the entries' version
-- for what an entry is, the live version for state and health columns only (M.touch()).
-- list() is list_order() (the page's ids and the total) then entries() (the rows by id);
-- live(ids) reads only the state and health columns (agentlens.catalog.cache).
local db = require "agentlens.db"
local json = require "agentlens.json"
local crypto = require "agentlens.crypto"
local time = require "agentlens.time"
local shared = require "agentlens.shared"
local log = require "agentlens.log"

local M = {}

M.MAX_RAW_CARD = 256 * 1024
M.MAX_LIMIT = 500
M.DEFAULT_LIMIT = 50

M.PROTOCOLS = { "a2a", "mcp", "a2ui" }
M.SOURCES = { "k8s", "config", "push", "upstream" }
M.STATES = { "registered", "active", "degraded", "offline", "deprecated" }
M.KINDS = { "a2a.skill", "a2a.interface", "a2a.security_scheme", "a2a.security_requirement",
  "a2a.extension", "a2a.signature", "mcp.tool", "mcp.resource", "mcp.prompt" }
-- Kinds listed by capabilities() and indexed for search.
M.DISCOVERABLE_KINDS = { "a2a.skill", "mcp.tool", "mcp.resource", "mcp.prompt" }
-- States whose capabilities are listed (independent of the prober, reference item 43).
M.LISTED_STATES = { "registered", "active", "degraded" }

local function set_of(list)
  local s = {}
  for _, v in ipairs(list) do
    s[v] = true
  end
  return s
end

local PROTOCOL, SOURCE, STATE = set_of(M.PROTOCOLS), set_of(M.SOURCES), set_of(M.STATES)
local KIND, DISCOVERABLE = set_of(M.KINDS), set_of(M.DISCOVERABLE_KINDS)

local pg = function()
  return db.dialect() == "postgres"
end

local function invalid(message)
  return nil, message, "invalid"
end

local function nonempty(s)
  if type(s) == "string" and s ~= "" then
    return s
  end
  return nil
end

local function truthy(v)
  return v == true or v == 1
end

local function marks(n)
  return ("?, "):rep(n - 1) .. "?"
end

local function quoted_list(list)
  local out = {}
  for i, v in ipairs(list) do
    out[i] = "'" .. v .. "'" -- constants of this module only
  end
  return table.concat(out, ", ")
end

-- The Lua database binding takes at most this many parameters per statement.
local MAX_PARAMS = 256

-- query_in(head, ids, tail) -> rows | nil, message, code: head .. "(?, ...)" .. tail for the ids
-- in chunks of at most MAX_PARAMS - 16, rows of every chunk in one array (a page may hold up to
-- M.MAX_LIMIT ids).
local function query_in(head, ids, tail)
  local out, chunk = {}, MAX_PARAMS - 16
  if #ids == 0 then
    return out
  end
  for first = 1, #ids, chunk do
    local last = math.min(#ids, first + chunk - 1)
    local rows, err, code = db.query(head .. "(" .. marks(last - first + 1) .. ")" .. (tail or ""),
      unpack(ids, first, last))
    if not rows then
      return nil, err, code
    end
    for _, r in ipairs(rows) do
      out[#out + 1] = r
    end
  end
  return out
end

-- On PostgreSQL several replicas share the data: the version lives in the database
-- (catalog_version, one row); on SQLite there is one process and a process counter suffices.
local shared_db
local function versioned_in_db()
  if shared_db == nil then
    shared_db = db.dialect() == "postgres"
  end
  return shared_db
end

-- Two versions: "catalog" (column version) changes with every write of what an entry is (insert,
-- update, delete: bump), "catalog.live" (column live_version, migration 0006) with every write
-- of only its state and health columns (touch: probes, lifecycle changes). A cached answer that
-- does not depend on state or health (the order of a search, a total without a state filter)
-- survives health sweeps.
local function bump_version(counter, column)
  shared.bump(counter)
  if versioned_in_db() then
    local ok, err = db.exec("UPDATE catalog_version SET " .. column .. " = " .. column .. " + 1 WHERE id = 1")
    if not ok then
      log.warn("catalog version not bumped; other replicas may serve cached answers briefly", { error = err })
    end
  end
end

local function bump()
  bump_version("catalog", "version")
end

-- touch(): tells response caches that the state or health columns of entries changed (other
-- stores writing them, e.g. health results, call it after their write). Writes of anything
-- else go through the functions of this module, which bump the entries' version themselves.
function M.touch()
  bump_version("catalog.live", "live_version")
end

-- exec_bump(sql, ...) -> rows changed | nil, message, code: a write of entry data that bumps
-- the entries' version when it changed a row.
local function exec_bump(sql, ...)
  local n, err, code = db.exec(sql, ...)
  if n and n > 0 then
    bump()
  end
  return n, err, code
end

-- normalize_endpoint(s): lower-case scheme and host, no default port (http 80, https 443), no
-- trailing slash on the path; userinfo, path case, query and fragment are kept. A string without
-- "scheme://" only loses surrounding blanks and trailing slashes.
function M.normalize_endpoint(s)
  s = s:match("^%s*(.-)%s*$")
  local scheme, rest = s:match("^(%a[%w+.-]*)://(.*)$")
  if not scheme then
    return (s:gsub("/+$", ""))
  end
  scheme = scheme:lower()
  local authority, tail = rest:match("^([^/?#]*)(.*)$")
  local userinfo, hostport = authority:match("^(.*@)(.*)$")
  if not userinfo then
    userinfo, hostport = "", authority
  end
  local host, port
  if hostport:sub(1, 1) == "[" then
    host, port = hostport:match("^(%[[^%]]*%])(.*)$")
    if not host then
      host, port = hostport, ""
    end
  else
    host, port = hostport:match("^([^:]*)(.*)$")
  end
  if port == ":" or (scheme == "http" and port == ":80") or (scheme == "https" and port == ":443") then
    port = ""
  end
  local path, after = tail:match("^([^?#]*)(.*)$")
  path = path:gsub("/+$", "")
  return scheme .. "://" .. userinfo .. host:lower() .. port .. path .. after
end

-- ---- reading ------------------------------------------------------------------------------

local COLUMNS = [[
e.id, e.protocol, e.endpoint, e.display_name, e.description, e.version, e.spec_version,
e.provider_organization, e.provider_team, e.provider_url, e.categories, e.metadata, e.source, e.state,
e.health_last_probed_at, e.health_last_success_at, e.health_latency_ms, e.health_consecutive_failures,
e.health_last_error, e.created_at, e.updated_at,
EXISTS (SELECT 1 FROM catalog_raw_cards r WHERE r.entry_id = e.id) AS has_raw_card]]

local function decode(text, fallback)
  local v = text and json.decode(text)
  if type(v) ~= "table" then
    return fallback
  end
  return v
end

local attach_capabilities -- defined below

local function entry_of(r)
  local provider
  if r.provider_organization or r.provider_team or r.provider_url then
    provider = { organization = r.provider_organization, team = r.provider_team, url = r.provider_url }
  end
  return {
    id = r.id,
    protocol = r.protocol,
    endpoint = r.endpoint,
    display_name = r.display_name,
    description = r.description,
    version = r.version,
    spec_version = r.spec_version,
    provider = provider,
    categories = json.array(decode(r.categories, {})),
    metadata = json.object(decode(r.metadata, {})),
    source = r.source,
    state = r.state,
    health = {
      state = r.state,
      last_probed_at = r.health_last_probed_at,
      last_success_at = r.health_last_success_at,
      latency_ms = r.health_latency_ms,
      consecutive_failures = r.health_consecutive_failures,
      last_error = r.health_last_error,
    },
    created_at = r.created_at,
    updated_at = r.updated_at,
    has_raw_card = truthy(r.has_raw_card),
  }
end

-- attach_capabilities(entries) -> true | nil, message, code: sets e.capabilities (json.array of
-- {kind, name, description, properties}, in card order) and e.capabilities_count on every entry
-- with ONE query for all of them (bound parameters, never one query per entry).
attach_capabilities = function(entries)
  if #entries == 0 then
    return true
  end
  local ids, by_id = {}, {}
  for i, e in ipairs(entries) do
    ids[i] = e.id
    e.capabilities = json.array()
    by_id[e.id] = e
  end
  local rows, err, code = query_in([[SELECT entry_id, kind, name, description, properties
    FROM catalog_capabilities WHERE entry_id IN ]], ids, " ORDER BY entry_id, position")
  if not rows then
    return nil, err, code
  end
  for _, c in ipairs(rows) do
    local caps = by_id[c.entry_id].capabilities
    caps[#caps + 1] = { kind = c.kind, name = c.name, description = c.description,
      properties = json.object(decode(c.properties, {})) }
  end
  for _, e in ipairs(entries) do
    e.capabilities_count = #e.capabilities
  end
  return true
end

-- get(id) -> entry | nil (absent) | nil, message, code
function M.get(id)
  local rows, err, code = db.query("SELECT " .. COLUMNS .. " FROM catalog_entries e WHERE e.id = ?", id)
  if not rows then
    return nil, err, code
  end
  if not rows[1] then
    return nil
  end
  local e = entry_of(rows[1])
  local ok
  ok, err, code = attach_capabilities({ e })
  if not ok then
    return nil, err, code
  end
  return e
end

local SORTS = {
  name = "lower(e.display_name) ASC, e.display_name ASC, e.id ASC",
  ["-name"] = "lower(e.display_name) DESC, e.display_name DESC, e.id DESC",
  created_at = "e.created_at ASC, e.id ASC",
  ["-created_at"] = "e.created_at DESC, e.id DESC",
  updated_at = "e.updated_at ASC, e.id ASC",
  ["-updated_at"] = "e.updated_at DESC, e.id DESC",
  last_success = "e.health_last_success_at DESC NULLS LAST, lower(e.display_name) ASC, e.id ASC",
  relevance = "rank DESC, lower(e.display_name) ASC, e.id ASC",
}

local function paging(f)
  local limit, offset = f.limit or M.DEFAULT_LIMIT, f.offset or 0
  if type(limit) ~= "number" or limit % 1 ~= 0 or limit < 1 or limit > M.MAX_LIMIT then
    return nil, "limit must be an integer from 1 to " .. M.MAX_LIMIT
  end
  if type(offset) ~= "number" or offset % 1 ~= 0 or offset < 0 then
    return nil, "offset must be a non-negative integer"
  end
  return limit, offset
end

local function like_pattern(s)
  return "%" .. s:gsub("[\\%%_]", "\\%0") .. "%"
end

-- The FTS5 query for user text: each blank-separated term quoted (inner quotes doubled) as a
-- prefix; terms are ANDed. Any input is a valid query.
local function fts5_query(q)
  local terms = {}
  for term in q:gmatch("%S+") do
    terms[#terms + 1] = '"' .. term:gsub('"', '""') .. '"*'
  end
  return table.concat(terms, " ")
end

-- PostgreSQL: the lexemes of the user text ('simple' parser) become an AND of quoted prefix
-- terms; text without lexemes gives NULL, which matches nothing.
local PG_TSQUERY = [[to_tsquery('simple', (SELECT string_agg('''' || replace(replace(lexeme, '\', '\\'),
  '''', '''''') || ''':*', ' & ') FROM unnest(to_tsvector('simple', CAST(? AS TEXT)))))]]

-- plan(f) -> limit, offset, q, sort | nil, message: the checked paging, search text and sort.
local function plan(f)
  local limit, offset = paging(f)
  if not limit then
    return nil, offset
  end
  local q = type(f.q) == "string" and f.q:match("%S") and f.q or nil
  local sort = f.sort or (q and "relevance" or "last_success")
  if not SORTS[sort] then
    return nil, "sort must be one of: name, -name, created_at, -created_at, updated_at, -updated_at, "
      .. "relevance, last_success"
  end
  if sort == "relevance" and not q then
    sort = "last_success"
  end
  return limit, offset, q, sort
end

-- Sorts on columns that health probes and lifecycle changes write.
local LIVE_SORTS = { last_success = true, updated_at = true, ["-updated_at"] = true }

-- order_is_live(f) -> whether the order of list(f) can change with a write of state or health
-- columns only (a state filter, or a sort by last success or update time); when not, it changes
-- only with the entries' version (M.versions()). The total can change with them only when f
-- filters by state.
function M.order_is_live(f)
  f = f or {}
  if f.states and #f.states > 0 then
    return true
  end
  local limit, _, _, sort = plan(f)
  return limit ~= nil and LIVE_SORTS[sort] == true
end

-- list_order(f[, total]) -> ids, total | nil, message, code: the ids of the page of list(f) in
-- order and the total of matches, without reading the entries. total: the total when the caller
-- knows it (no count is made then).
function M.list_order(f, known_total)
  f = f or {}
  local limit, offset, q, sort = plan(f)
  if not limit then
    return invalid(offset)
  end

  local from, where, args = { "catalog_entries e" }, {}, {}
  local rank = "0 AS rank"
  if q then
    if pg() then
      from[#from + 1] = "CROSS JOIN (SELECT " .. PG_TSQUERY .. " AS tq) s"
      where[#where + 1] = "e.search @@ s.tq"
      rank = "ts_rank(e.search, s.tq) AS rank"
      args[#args + 1] = q
    else
      from[#from + 1] = [[JOIN (SELECT rowid AS fts_seq, -bm25(catalog_fts, 10.0, 2.0, 4.0, 4.0, 5.0, 1.0) AS fts_rank
        FROM catalog_fts WHERE catalog_fts MATCH ?) s ON s.fts_seq = e.seq]]
      rank = "s.fts_rank AS rank"
      args[#args + 1] = fts5_query(q)
    end
  end
  if f.protocol then
    where[#where + 1] = "e.protocol = ?"
    args[#args + 1] = f.protocol
  end
  if f.source then
    where[#where + 1] = "e.source = ?"
    args[#args + 1] = f.source
  end
  if f.states and #f.states > 0 then
    where[#where + 1] = "e.state IN (" .. marks(#f.states) .. ")"
    for _, s in ipairs(f.states) do
      args[#args + 1] = s
    end
  end
  if type(f.team) == "string" and f.team ~= "" then
    where[#where + 1] = [[lower(e.provider_team) LIKE lower(CAST(? AS TEXT)) ESCAPE '\']]
    args[#args + 1] = like_pattern(f.team)
  end
  if f.categories and #f.categories > 0 then
    local distinct = set_of(f.categories)
    local cats = {}
    for c in pairs(distinct) do
      cats[#cats + 1] = c
    end
    where[#where + 1] = "e.id IN (SELECT entry_id FROM catalog_categories WHERE category IN (" .. marks(#cats)
      .. ") GROUP BY entry_id HAVING count(*) = " .. #cats .. ")"
    for _, c in ipairs(cats) do
      args[#args + 1] = c
    end
  end

  local base = " FROM " .. table.concat(from, " ")
  if #where > 0 then
    base = base .. " WHERE " .. table.concat(where, " AND ")
  end
  local n = #args
  args[n + 1], args[n + 2] = limit, offset
  -- The page is ordered and cut on narrow rows (ids and sort keys); the entries are read by id
  -- afterwards. On PostgreSQL a search ranks every match anyway, so its total comes from the
  -- same pass (a window count: 26 ms instead of 23 + 19 ms for a broad term over 10k entries);
  -- on SQLite the window materializes every match and costs more than a second, FTS-only count
  -- (18-30 ms against 8-18 + 2-3 ms), and a plain list walks an index for the page, so those
  -- count separately.
  local page, err, code
  if q and not known_total and pg() then
    page, err, code = db.query("SELECT e.id AS id, " .. rank .. ", count(*) OVER () AS total" .. base
      .. " ORDER BY " .. SORTS[sort] .. " LIMIT ? OFFSET ?", unpack(args, 1, n + 2))
    if not page then
      return nil, err, code
    end
  else
    page, err, code = db.query("SELECT e.id AS id, " .. rank .. base .. " ORDER BY " .. SORTS[sort]
      .. " LIMIT ? OFFSET ?", unpack(args, 1, n + 2))
    if not page then
      return nil, err, code
    end
  end
  local total = known_total or (page[1] and page[1].total)
  if total == nil then
    local counted
    counted, err, code = db.query("SELECT count(*) AS n" .. base, unpack(args, 1, n))
    if not counted then
      return nil, err, code
    end
    total = counted[1].n
  end
  local ids = {}
  for i, r in ipairs(page) do
    ids[i] = r.id
  end
  return ids, tonumber(total)
end

-- entries(ids) -> items | nil, message, code: the entries with these ids in the order given
-- (as list() items: capabilities loaded with one query for all of them); ids that name no entry
-- are left out.
function M.entries(ids)
  local items = {}
  if #ids == 0 then
    return json.array(items)
  end
  local at = {}
  for i, id in ipairs(ids) do
    at[id] = i
  end
  local rows, err, code = query_in("SELECT " .. COLUMNS .. " FROM catalog_entries e WHERE e.id IN ", ids)
  if not rows then
    return nil, err, code
  end
  local found = {}
  for _, r in ipairs(rows) do
    found[at[r.id]] = entry_of(r)
  end
  for i = 1, #ids do -- an entry deleted in between is left out, not a hole
    if found[i] then
      items[#items + 1] = found[i]
    end
  end
  local ok
  ok, err, code = attach_capabilities(items)
  if not ok then
    return nil, err, code
  end
  return json.array(items)
end

-- live(ids) -> {[id] = {state, updated_at, health = (as get())}} | nil, message, code: the
-- columns that health probes and lifecycle changes write, for the entries that exist.
function M.live(ids)
  local out = {}
  if #ids == 0 then
    return out
  end
  local rows, err, code = query_in([[SELECT id, state, updated_at, health_last_probed_at, health_last_success_at,
    health_latency_ms, health_consecutive_failures, health_last_error FROM catalog_entries WHERE id IN ]], ids)
  if not rows then
    return nil, err, code
  end
  for _, r in ipairs(rows) do
    out[r.id] = { state = r.state, updated_at = r.updated_at, health = {
      state = r.state,
      last_probed_at = r.health_last_probed_at,
      last_success_at = r.health_last_success_at,
      latency_ms = r.health_latency_ms,
      consecutive_failures = r.health_consecutive_failures,
      last_error = r.health_last_error,
    } }
  end
  return out
end

-- list(f) -> items, total | nil, message, code. See the header for f and the items.
function M.list(f)
  local ids, total, code = M.list_order(f)
  if not ids then
    return nil, total, code
  end
  local items, err
  items, err, code = M.entries(ids)
  if not items then
    return nil, err, code
  end
  return items, total
end

-- raw_card(id) -> {data, content_type, fetched_at, etag} | nil | nil, message, code
function M.raw_card(id)
  local rows, err, code = db.query([[SELECT data, content_type, fetched_at, etag FROM catalog_raw_cards
    WHERE entry_id = ?]], id)
  if not rows then
    return nil, err, code
  end
  return rows[1]
end

local CAPABILITY_SORTS = {
  name = "lower(c.name), c.name, lower(e.display_name), e.display_name, e.id, c.kind",
  agent_name = "lower(e.display_name), e.display_name, e.id, lower(c.name), c.name, c.kind",
}

-- capabilities(f) -> items, total | nil, message, code. f = {kind?, q?, sort?, limit, offset}.
-- Only discoverable kinds, only entries in registered, active or degraded (M.LISTED_STATES: a
-- search must not depend on the prober having run, reference 15 item 43); q is a
-- case-insensitive substring of the name, description or properties JSON. sort "name"
-- (default: capability name, then agent name) or "agent_name" (agent name, then capability
-- name). Items: {kind, name, description, properties, agent_id, agent_name, protocol, state,
-- spec_version, provider_org, provider_url, latency_ms}.
function M.capabilities(f)
  f = f or {}
  local limit, offset = paging(f)
  if not limit then
    return invalid(offset)
  end
  local order = CAPABILITY_SORTS[f.sort or "name"]
  if not order then
    return invalid("sort must be one of: name, agent_name")
  end
  local where = { "e.state IN (" .. quoted_list(M.LISTED_STATES) .. ")",
    "c.kind IN (" .. quoted_list(M.DISCOVERABLE_KINDS) .. ")" }
  local args = {}
  if f.kind then
    where[#where + 1] = "c.kind = ?"
    args[#args + 1] = f.kind
  end
  if type(f.q) == "string" and f.q ~= "" then
    where[#where + 1] = [[(lower(c.name) LIKE lower(CAST(? AS TEXT)) ESCAPE '\'
      OR lower(c.description) LIKE lower(CAST(? AS TEXT)) ESCAPE '\'
      OR lower(c.properties) LIKE lower(CAST(? AS TEXT)) ESCAPE '\')]]
    local p = like_pattern(f.q)
    args[#args + 1], args[#args + 2], args[#args + 3] = p, p, p
  end
  local base = " FROM catalog_capabilities c JOIN catalog_entries e ON e.id = c.entry_id WHERE "
    .. table.concat(where, " AND ")
  local counted, err, code = db.query("SELECT count(*) AS n" .. base, unpack(args))
  if not counted then
    return nil, err, code
  end
  local n = #args
  args[n + 1], args[n + 2] = limit, offset
  local rows
  rows, err, code = db.query([[SELECT c.kind, c.name, c.description, c.properties, e.id AS agent_id,
    e.display_name AS agent_name, e.protocol, e.state, e.spec_version, e.provider_organization AS provider_org,
    e.provider_url, e.health_latency_ms AS latency_ms]] .. base .. " ORDER BY " .. order
    .. " LIMIT ? OFFSET ?", unpack(args, 1, n + 2))
  if not rows then
    return nil, err, code
  end
  for _, r in ipairs(rows) do
    r.properties = json.object(decode(r.properties, {}))
  end
  return rows, counted[1].n
end

-- capability(kind, name) -> {capability = {kind, name, description}, agents = {{id, display_name,
-- protocol, state, spec_version, provider = {organization, team, url} | nil, health (as get()),
-- capability = {kind, name, description, properties}}}} | nil (no entry has it) | nil, message,
-- code. All states; one query.
function M.capability(kind, name)
  local rows, err, code = db.query([[SELECT c.kind, c.name, c.description, c.properties, e.id, e.display_name,
    e.protocol, e.state, e.spec_version, e.provider_organization, e.provider_team, e.provider_url,
    e.health_last_probed_at, e.health_last_success_at, e.health_latency_ms, e.health_consecutive_failures,
    e.health_last_error FROM catalog_capabilities c JOIN catalog_entries e ON e.id = c.entry_id
    WHERE c.kind = ? AND c.name = ? ORDER BY lower(e.display_name), e.display_name, e.id]], kind, name)
  if not rows then
    return nil, err, code
  end
  if not rows[1] then
    return nil
  end
  local agents = {}
  for i, r in ipairs(rows) do
    local e = entry_of(r)
    agents[i] = { id = e.id, display_name = e.display_name, protocol = e.protocol, state = e.state,
      spec_version = e.spec_version, provider = e.provider, health = e.health,
      capability = { kind = r.kind, name = r.name, description = r.description,
        properties = json.object(decode(r.properties, {})) } }
  end
  return { capability = { kind = kind, name = name, description = rows[1].description },
    agents = json.array(agents) }
end

-- stats() -> {total, by_state, by_protocol, by_source} (every known key present).
function M.stats()
  local out = { total = 0 }
  for _, g in ipairs({ { "by_state", "state", M.STATES }, { "by_protocol", "protocol", M.PROTOCOLS },
    { "by_source", "source", M.SOURCES } }) do
    local counts = {}
    for _, k in ipairs(g[3]) do
      counts[k] = 0
    end
    local rows, err, code = db.query("SELECT " .. g[2] .. " AS k, count(*) AS n FROM catalog_entries GROUP BY "
      .. g[2])
    if not rows then
      return nil, err, code
    end
    local total = 0
    for _, r in ipairs(rows) do
      counts[r.k] = r.n
      total = total + r.n
    end
    out[g[1]] = counts
    out.total = total
  end
  return out
end

-- versions() -> entries, live: the entries' version (changes with every write of what an entry
-- is: insert, update, delete) and the live version (every write of state or health columns
-- only), also for writes by other replicas on PostgreSQL; nil when they cannot be read (then
-- nothing may be cached).
function M.versions()
  if versioned_in_db() then
    local rows = db.query("SELECT version, live_version FROM catalog_version WHERE id = 1")
    local r = rows and rows[1]
    if not r then
      return nil
    end
    return tonumber(r.version), tonumber(r.live_version)
  end
  return shared.get("catalog"), shared.get("catalog.live")
end

-- version() -> a number that changes with every catalog write of either kind, or nil.
function M.version()
  local entries, live = M.versions()
  if entries == nil then
    return nil
  end
  return entries + live
end

-- ---- writing ------------------------------------------------------------------------------

-- The name of a capability without one (reference 3.1): scheme_name, uri, url, type or algorithm.
local function capability_name(c, props, i)
  local name = nonempty(c.name)
  if name then
    return name
  end
  for _, k in ipairs({ "scheme_name", "uri", "url", "type", "algorithm" }) do
    if nonempty(props[k]) then
      return props[k]
    end
  end
  return c.kind .. "#" .. i
end

local function copy(t)
  local out = {}
  for k, v in pairs(t or {}) do
    out[k] = v
  end
  return out
end

-- Text of an entry for the search index: name, description, provider, tags, capability
-- names, capability descriptions.
local function search_doc(e, caps, categories)
  local provider = e.provider or {}
  local tags, names, texts = {}, {}, {}
  for _, c in ipairs(categories) do
    tags[#tags + 1] = c
  end
  for _, c in ipairs(caps) do
    if DISCOVERABLE[c.kind] then
      names[#names + 1] = c.name
      texts[#texts + 1] = c.description
      if type(c.props.tags) == "table" then
        for _, t in ipairs(c.props.tags) do
          if type(t) == "string" then
            tags[#tags + 1] = t
          end
        end
      end
    end
  end
  return e.display_name, e.description or "",
    table.concat({ provider.organization or "", provider.team or "" }, " "),
    table.concat(tags, " "), table.concat(names, " "), table.concat(texts, " ")
end

local PG_SEARCH = [[setweight(to_tsvector('simple', CAST(? AS TEXT)), 'A')
  || setweight(to_tsvector('simple', CAST(? AS TEXT)), 'C')
  || setweight(to_tsvector('simple', CAST(? AS TEXT)), 'B')
  || setweight(to_tsvector('simple', CAST(? AS TEXT)), 'B')
  || setweight(to_tsvector('simple', CAST(? AS TEXT)), 'B')
  || setweight(to_tsvector('simple', CAST(? AS TEXT)), 'D')]]

local function check_entry(e)
  if type(e) ~= "table" then
    return "entry must be a table"
  end
  if not PROTOCOL[e.protocol] then
    return "protocol must be one of: " .. table.concat(M.PROTOCOLS, ", ")
  end
  if not nonempty(e.endpoint) or not e.endpoint:match("%S") then
    return "endpoint is required"
  end
  if not nonempty(e.display_name) then
    return "display_name is required"
  end
  if not SOURCE[e.source] then
    return "source must be one of: " .. table.concat(M.SOURCES, ", ")
  end
  if e.state ~= nil and not STATE[e.state] then
    return "state must be one of: " .. table.concat(M.STATES, ", ")
  end
  for _, c in ipairs(e.capabilities or {}) do
    if not KIND[c.kind] then
      return "unknown capability kind: " .. tostring(c.kind)
    end
  end
  if e.raw_card ~= nil and (type(e.raw_card) ~= "table" or type(e.raw_card.data) ~= "string") then
    return "raw_card.data must be a string"
  end
end

-- prepare(e) -> parts | nil, message, code: the checked and normalised pieces of an entry that
-- insert and upsert write (categories without duplicates, named capabilities, metadata, search
-- document).
local function prepare(e)
  local bad = check_entry(e)
  if bad then
    return invalid(bad)
  end
  if e.raw_card and #e.raw_card.data > M.MAX_RAW_CARD then
    return nil, "raw card exceeds 256 KiB", "too_large"
  end
  local categories, seen = {}, {}
  for _, c in ipairs(e.categories or {}) do
    if type(c) == "string" and c ~= "" and not seen[c] then
      seen[c] = true
      categories[#categories + 1] = c
    end
  end
  local caps, taken = {}, {}
  for i, c in ipairs(e.capabilities or {}) do
    local props = copy(type(c.properties) == "table" and c.properties or nil)
    local name = capability_name(c, props, i)
    local key = c.kind .. "\0" .. name
    if not taken[key] then
      taken[key] = true
      caps[#caps + 1] = { kind = c.kind, name = name, description = c.description or "", props = props }
    end
  end
  local metadata = {}
  for k, v in pairs(e.metadata or {}) do
    metadata[tostring(k)] = tostring(v)
  end
  return { categories = categories, caps = caps, metadata = metadata, doc = { search_doc(e, caps, categories) },
    provider = e.provider or {} }
end

-- The columns of catalog_entries that insert and upsert write from the entry itself (state and
-- health columns excluded), in the order of entry_values().
local ENTRY_COLUMNS = { "endpoint", "endpoint_norm", "display_name", "description", "version", "spec_version",
  "provider_organization", "provider_team", "provider_url", "categories", "metadata", "source" }

local function entry_values(e, p)
  local provider = p.provider
  return { e.endpoint:match("^%s*(.-)%s*$"), M.normalize_endpoint(e.endpoint),
    e.display_name, e.description or "", e.version or "", e.spec_version or "",
    nonempty(provider.organization), nonempty(provider.team), nonempty(provider.url),
    json.encode(json.array(p.categories)), json.encode(json.object(p.metadata)), e.source }
end

-- insert_rows(prefix, width, rows) -> true | nil, message, code: multi-row INSERTs of rows of
-- width values ("prefix (?, ?), (?, ?) ..."), as many rows per statement as MAX_PARAMS allows:
-- one round trip for the capabilities of a typical card instead of one per capability.
local function insert_rows(prefix, width, rows)
  local first = 1
  local tuple = "(" .. marks(width) .. ")"
  local per = math.floor(MAX_PARAMS / width)
  while first <= #rows do
    local last = math.min(#rows, first + per - 1)
    local args, k = {}, 0 -- counted, never # (a value may be NULL)
    for i = first, last do
      for j = 1, width do
        args[k + j] = rows[i][j]
      end
      k = k + width
    end
    local n, err, code = db.exec(prefix .. (tuple .. ", "):rep(last - first) .. tuple, unpack(args, 1, k))
    if not n then
      return nil, err, code
    end
    first = last + 1
  end
  return true
end

-- write_children(id, seq, e, p, now, replace) -> true | nil, message, code (inside the entry's
-- transaction): the SQLite search row, categories, capabilities and the raw card. With replace,
-- the old search row, categories and capabilities go first; the raw card is replaced only when e
-- has one.
local function write_children(id, seq, e, p, now, replace)
  local n, rows, c
  if replace then
    for _, sql in ipairs({ "DELETE FROM catalog_categories WHERE entry_id = ?",
      "DELETE FROM catalog_capabilities WHERE entry_id = ?",
      e.raw_card and "DELETE FROM catalog_raw_cards WHERE entry_id = ?" or nil }) do
      n, rows, c = db.exec(sql, id)
      if not n then
        return nil, rows, c
      end
    end
    if seq then
      n, rows, c = db.exec("DELETE FROM catalog_fts WHERE rowid = ?", seq)
      if not n then
        return nil, rows, c
      end
    end
  end
  if seq then
    n, rows, c = db.exec([[INSERT INTO catalog_fts (rowid, name, description, provider, tags, cap_names, cap_text)
      VALUES (?, ?, ?, ?, ?, ?, ?)]], seq, unpack(p.doc))
    if not n then
      return nil, rows, c
    end
  end
  local cat_rows, cap_rows = {}, {}
  for i, cat in ipairs(p.categories) do
    cat_rows[i] = { id, cat }
  end
  for i, cap in ipairs(p.caps) do
    cap_rows[i] = { id, i, cap.kind, cap.name, cap.description, json.encode(json.object(cap.props)) }
  end
  n, rows, c = insert_rows("INSERT INTO catalog_categories (entry_id, category) VALUES ", 2, cat_rows)
  if not n then
    return nil, rows, c
  end
  n, rows, c = insert_rows("INSERT INTO catalog_capabilities (entry_id, position, kind, name, description, "
    .. "properties) VALUES ", 6, cap_rows)
  if not n then
    return nil, rows, c
  end
  if e.raw_card then
    n, rows, c = db.exec([[INSERT INTO catalog_raw_cards (entry_id, data, content_type, fetched_at, etag)
      VALUES (?, ?, ?, ?, ?)]], id, db.blob(e.raw_card.data), e.raw_card.content_type or "application/json",
      now, crypto.random_hex(8))
    if not n then
      return nil, rows, c
    end
  end
  return true
end

-- insert_row(id, e, p, now) -> true | nil, message, code (inside a transaction): the entry row
-- and its children. e.discovery_key and e.last_error (health_last_error) are written when set.
local function insert_row(id, e, p, now)
  local postgres = pg()
  local cols = "id, protocol, " .. table.concat(ENTRY_COLUMNS, ", ")
    .. ", state, health_last_error, discovery_key, created_at, updated_at"
  -- args holds NULLs (nil): its length is counted, never taken with #
  local args, count = { id, e.protocol }, 2
  local values = entry_values(e, p)
  for i = 1, #ENTRY_COLUMNS do
    args[count + i] = values[i]
  end
  count = count + #ENTRY_COLUMNS
  args[count + 1], args[count + 2], args[count + 3] = e.state or "registered", e.last_error or "",
    nonempty(e.discovery_key)
  args[count + 4], args[count + 5] = now, now
  count = count + 5
  local vals = marks(count)
  local returning = " RETURNING seq"
  if postgres then
    cols = cols .. ", search"
    vals = vals .. ", " .. PG_SEARCH
    for i, v in ipairs(p.doc) do
      args[count + i] = v
    end
    count = count + #p.doc
    returning = ""
  end
  local n, rows, c = db.exec("INSERT INTO catalog_entries (" .. cols .. ") VALUES (" .. vals .. ")" .. returning,
    unpack(args, 1, count))
  if not n then
    if c == "unique" then
      return nil, "an entry with this endpoint already exists", "unique"
    end
    return nil, rows, c
  end
  return write_children(id, not postgres and rows[1].seq or nil, e, p, now, false)
end

-- insert(e) -> id | nil, message, code. One transaction; see the brief in the header.
function M.insert(e)
  local p, err, code = prepare(e)
  if not p then
    return nil, err, code
  end
  local id, now = crypto.uuid(), time.rfc3339()
  local ok
  ok, err, code = db.tx(function()
    return insert_row(id, e, p, now)
  end)
  if not ok then
    return nil, err, code
  end
  bump()
  return id
end

-- Sources whose entries discovery may write; entries of any other source ("push", "upstream")
-- are never changed by upsert.
local DISCOVERED = { k8s = true, config = true }

-- upsert(e) -> id, action, note | nil, message, code. For discovery: e as for insert, with
-- e.source "k8s" or "config" and e.discovery_key (the item's stable external key). One
-- transaction:
-- * an entry with the same protocol and normalised endpoint whose source is not a discovery
--   source (a pushed one) is left exactly as it is: action "kept", with a note;
-- * else the entry with that endpoint, or else the entry holding e.discovery_key for e.source,
--   is updated: entry columns, capabilities, categories, search document and (when e has one) the
--   raw card are replaced, the key is recorded and the "gone" mark cleared; state and health
--   columns are kept, except that an offline entry takes e.state when one is given (the caller
--   has just reached the agent). A deprecated entry keeps its state. action "updated";
-- * else the entry is inserted: action "inserted".
-- Another entry still holding the key for e.source (e.g. a minimal one written while the card
-- could not be fetched, under another endpoint) is deleted. Every call bumps the catalog version.
function M.upsert(e)
  if type(e) ~= "table" or not DISCOVERED[e.source] then
    return invalid("upsert is for discovered entries: source must be k8s or config")
  end
  local p, err, code = prepare(e)
  if not p then
    return nil, err, code
  end
  local key, postgres = nonempty(e.discovery_key), pg()
  local now = time.rfc3339()
  local id, action, note
  local ok
  ok, err, code = db.tx(function()
    local seq = postgres and "" or ", seq"
    local rows, qerr, qcode = db.query("SELECT id, source, state" .. seq
      .. " FROM catalog_entries WHERE protocol = ? AND endpoint_norm = ?", e.protocol, M.normalize_endpoint(e.endpoint))
    if not rows then
      return nil, qerr, qcode
    end
    local target = rows[1]
    if target and not DISCOVERED[target.source] then
      id, action = target.id, "kept"
      note = ("a %s entry has this endpoint; discovery leaves it unchanged"):format(target.source)
    elseif not target and key then
      rows, qerr, qcode = db.query("SELECT id, source, state" .. seq .. [[ FROM catalog_entries
        WHERE discovery_key = ? AND source = ? ORDER BY created_at, id LIMIT 1]], key, e.source)
      if not rows then
        return nil, qerr, qcode
      end
      target = rows[1]
    end
    if key then
      local n, derr, dcode = db.exec("DELETE FROM catalog_entries WHERE discovery_key = ? AND source = ? AND id <> ?",
        key, e.source, target and target.id or "")
      if not n then
        return nil, derr, dcode
      end
    end
    if action == "kept" then
      return true
    end
    if not target then
      id, action = crypto.uuid(), "inserted"
      return insert_row(id, e, p, now)
    end
    id, action = target.id, "updated"
    local sets = {}
    for i, col in ipairs(ENTRY_COLUMNS) do
      sets[i] = col .. " = ?"
    end
    local args, count = entry_values(e, p), #ENTRY_COLUMNS -- holds NULLs: counted, never #
    local function add(sql, ...)
      sets[#sets + 1] = sql
      for i = 1, select("#", ...) do
        count = count + 1
        args[count] = select(i, ...)
      end
    end
    add("discovery_key = ?", key)
    add("discovery_gone_at = NULL")
    add("updated_at = ?", now)
    if e.state and STATE[e.state] and e.state ~= "deprecated" and target.state == "offline" then
      add("state = ?", e.state)
    end
    if postgres then
      add("search = " .. PG_SEARCH, unpack(p.doc))
    end
    count = count + 1
    args[count] = id -- the WHERE parameter
    local n, uerr, ucode = db.exec("UPDATE catalog_entries SET " .. table.concat(sets, ", ") .. " WHERE id = ?",
      unpack(args, 1, count))
    if not n then
      if ucode == "unique" then
        return nil, "an entry with this endpoint already exists", "unique"
      end
      return nil, uerr, ucode
    end
    return write_children(id, target.seq, e, p, now, true)
  end)
  if not ok then
    return nil, err, code
  end
  bump()
  return id, action, note
end

-- discovered(source, key) -> {id, state, endpoint, gone_at} | nil | nil, message, code: the
-- entry that holds a discovery key.
function M.discovered(source, key)
  local rows, err, code = db.query([[SELECT id, state, endpoint, discovery_gone_at AS gone_at FROM catalog_entries
    WHERE discovery_key = ? AND source = ? ORDER BY created_at, id LIMIT 1]], key, source)
  if not rows then
    return nil, err, code
  end
  return rows[1]
end

-- discovered_keys(source) -> {key = {id, state, gone_at}} | nil, message, code
function M.discovered_keys(source)
  local rows, err, code = db.query([[SELECT id, state, discovery_key, discovery_gone_at AS gone_at
    FROM catalog_entries WHERE source = ? AND discovery_key IS NOT NULL]], source)
  if not rows then
    return nil, err, code
  end
  local out = {}
  for _, r in ipairs(rows) do
    out[r.discovery_key] = { id = r.id, state = r.state, gone_at = r.gone_at }
  end
  return out
end

-- mark_gone(source, key, reason) -> number of entries marked | nil, message, code. The entries
-- holding the key become offline (a deprecated one keeps its state) with reason as last error;
-- the first mark's time is kept (sweep_gone counts the grace from it).
function M.mark_gone(source, key, reason)
  local now = time.rfc3339()
  return exec_bump([[UPDATE catalog_entries SET discovery_gone_at = COALESCE(discovery_gone_at, ?),
    state = CASE WHEN state = 'deprecated' THEN state ELSE 'offline' END, health_last_error = ?, updated_at = ?
    WHERE discovery_key = ? AND source = ? AND (discovery_gone_at IS NULL OR state NOT IN ('offline', 'deprecated'))]],
    now, reason or "removed from its discovery source", now, key, source)
end

-- clear_gone(id) -> true | nil, message, code: the item is back in its source.
function M.clear_gone(id)
  local n, err, code = exec_bump("UPDATE catalog_entries SET discovery_gone_at = NULL WHERE id = ? AND "
    .. "discovery_gone_at IS NOT NULL", id)
  if not n then
    return nil, err, code
  end
  return true
end

-- delete_gone(before) -> ids deleted | nil, message, code: entries marked gone at or before the
-- RFC 3339 time `before`.
function M.delete_gone(before)
  local rows, err, code = db.query("DELETE FROM catalog_entries WHERE discovery_gone_at IS NOT NULL AND "
    .. "discovery_gone_at <= ? RETURNING id", before)
  if not rows then
    return nil, err, code
  end
  local ids = {}
  for i, r in ipairs(rows) do
    ids[i] = r.id
  end
  if #ids > 0 then
    bump()
  end
  return ids
end

-- delete(id) -> true | false (absent) | nil, message, code. Capabilities, categories, the raw
-- card and the search row go with the entry.
function M.delete(id)
  local n, err, code = exec_bump("DELETE FROM catalog_entries WHERE id = ?", id)
  if not n then
    return nil, err, code
  end
  return n > 0
end

-- set_state(id, state, opts) -> entry | nil (absent) | nil, message, code. Column-targeted.
-- "deprecated" is entered and left only with opts.manual; without it (or with
-- opts.only_if_not_deprecated) a deprecated entry is left as it is and returned unchanged.
function M.set_state(id, state, opts)
  opts = opts or {}
  if not STATE[state] then
    return invalid("state must be one of: " .. table.concat(M.STATES, ", "))
  end
  if state == "deprecated" and not opts.manual then
    return invalid("only a manual change may deprecate an entry")
  end
  local sql = "UPDATE catalog_entries SET state = ?, updated_at = ? WHERE id = ?"
  if not opts.manual or opts.only_if_not_deprecated then
    sql = sql .. " AND state <> 'deprecated'"
  end
  local n, err, code = db.exec(sql, state, time.rfc3339(), id)
  if not n then
    return nil, err, code
  end
  if n > 0 then
    M.touch() -- state and updated_at only
  end
  return M.get(id)
end

return M
