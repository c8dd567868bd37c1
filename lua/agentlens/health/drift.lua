-- SPDX-License-Identifier: Apache-2.0
-- Tool drift: what changed in the tools of a catalog entry between two listings, and when
-- (migration 0008). Tracked kinds: MCP tools ("mcp.tool") and A2A skills ("a2a.skill"). A tool
-- is identified by kind and name; its hash (16 hex digits) covers the canonical JSON of its
-- description, title, input and output schemas and annotations (A2A: description, tags,
-- examples, input and output modes), so a changed schema or description is a "changed" tool.
--
--   record(entry_id, old_caps, new_caps[, opts]) -> record | false (nothing changed) | nil, message, code
--     old_caps / new_caps: capability lists ({kind, name, description, properties} as the store
--     returns them, or their wire form with the properties inline) or raw MCP tools ({name,
--     description, inputSchema, ...}, no kind). The baseline is the entry's last snapshot when
--     there is one (so a change seen by a probe and then by discovery sync is recorded once),
--     else old_caps. With neither a snapshot nor any tracked tool in old_caps, the first listing
--     only becomes the snapshot (registration without tools is not drift). A record is
--     {at, source, added = [{kind, name, hash}], removed = [...], changed = [{kind, name, before,
--     after, fields = ["description", "input_schema", ...]}], tools_before, tools_after}; the
--     newest M.HISTORY_MAX records per entry are kept. opts.source names who saw it ("probe",
--     "discovery"; default "discovery").
--   observe(entry_id, tools) -> record | false | nil, message, code: a health probe's tools/list
--     (raw MCP tools) against the entry's stored mcp.tool capabilities (source "probe").
--   list(entry_id[, limit]) -> {record, ...} newest first | nil, message, code
--   hash(cap) -> kind, name, hash, fields table (exposed for specs)
local bit = require "bit"
local db = require "agentlens.db"
local json = require "agentlens.json"
local time = require "agentlens.time"

local M = {}

M.HISTORY_MAX = 100
M.KINDS = { ["mcp.tool"] = true, ["a2a.skill"] = true }
M.MAX_LIST = 500 -- names kept per added/removed/changed list of one record

-- The fields hashed per kind: {field name in the record, property names (wire or MCP raw)}.
local FIELDS = {
  ["mcp.tool"] = {
    { "description", { "description" } },
    { "title", { "title" } },
    { "input_schema", { "input_schema", "inputSchema" } },
    { "output_schema", { "output_schema", "outputSchema" } },
    { "annotations", { "annotations" } },
  },
  ["a2a.skill"] = {
    { "description", { "description" } },
    { "tags", { "tags" } },
    { "examples", { "examples" } },
    { "input_modes", { "input_modes", "inputModes" } },
    { "output_modes", { "output_modes", "outputModes" } },
  },
}

-- FNV-1a over s with a 32-bit offset basis; multiplication by 16777619 = 2^24 + 403 split so
-- every intermediate stays exact in a double.
local function fnv1a(s, basis)
  local h = basis
  for i = 1, #s do
    h = bit.bxor(h, s:byte(i))
    h = bit.tobit(bit.lshift(h, 24) + (h % 4294967296) * 403)
  end
  return h
end

local function hex64(s)
  return bit.tohex(fnv1a(s, 0x811c9dc5)) .. bit.tohex(fnv1a(s, 0x050c5d1f))
end

-- The value of a field of cap: properties first (store form), then the capability itself (wire
-- form, raw MCP tool).
local function field(cap, names)
  local props = type(cap.properties) == "table" and cap.properties or nil
  for _, n in ipairs(names) do
    local v = props and props[n]
    if v == nil then
      v = cap[n]
    end
    if v ~= nil and v ~= json.null then
      return v
    end
  end
  return nil
end

-- hash(cap) -> kind, name, hash, {field = hash} | nil (not a tracked tool)
function M.hash(cap)
  if type(cap) ~= "table" then
    return nil
  end
  local kind = cap.kind
  if kind == nil then
    kind = "mcp.tool" -- a raw MCP tool
  end
  if not M.KINDS[kind] then
    return nil
  end
  local name = cap.name
  if type(name) ~= "string" or name == "" then
    name = field(cap, { "name", "id" })
  end
  if type(name) ~= "string" or name == "" then
    return nil
  end
  local whole, parts = {}, {}
  for _, f in ipairs(FIELDS[kind]) do
    local v = field(cap, f[2])
    if kind == "mcp.tool" and f[1] == "input_schema" and type(v) == "table" and next(v) == nil then
      v = nil -- an empty schema object and no schema are the same
    end
    if v ~= nil then
      whole[f[1]] = v
      parts[f[1]] = hex64(json.encode(v))
    end
  end
  return kind, name, hex64(json.encode(json.object(whole))), parts
end

-- index(caps) -> {["kind name"] = {kind, name, hash, parts}}, count
local function index(caps)
  local out, n = {}, 0
  for _, c in ipairs(type(caps) == "table" and caps or {}) do
    local kind, name, h, parts = M.hash(c)
    if kind then
      local key = kind .. " " .. name
      if not out[key] then
        n = n + 1
      end
      out[key] = { kind = kind, name = name, hash = h, parts = parts }
    end
  end
  return out, n
end

local function sorted_keys(t)
  local keys = {}
  for k in pairs(t) do
    keys[#keys + 1] = k
  end
  table.sort(keys)
  return keys
end

local function push(list, item)
  if #list < M.MAX_LIST then
    list[#list + 1] = item
  end
end

-- diff(before, after) where both are {key = {kind, name, hash, parts}} -> added, removed, changed
local function diff(before, after)
  local added, removed, changed = json.array(), json.array(), json.array()
  for _, key in ipairs(sorted_keys(after)) do
    local a, b = after[key], before[key]
    if b == nil then
      push(added, { kind = a.kind, name = a.name, hash = a.hash })
    else
      if b.hash ~= a.hash then
        local fields = json.array()
        for _, f in ipairs(FIELDS[a.kind]) do
          if b.parts[f[1]] ~= a.parts[f[1]] then
            fields[#fields + 1] = f[1]
          end
        end
        push(changed, { kind = a.kind, name = a.name, before = b.hash, after = a.hash, fields = fields })
      end
    end
  end
  for _, key in ipairs(sorted_keys(before)) do
    if after[key] == nil then
      local b = before[key]
      push(removed, { kind = b.kind, name = b.name, hash = b.hash })
    end
  end
  return added, removed, changed
end

-- The stored form of an index: {key = {h = hash, p = {field = hash}}}.
local function snapshot_of(idx)
  local out = {}
  for key, t in pairs(idx) do
    out[key] = { h = t.hash, p = json.object(t.parts) }
  end
  return json.object(out)
end

local function load_snapshot(entry_id)
  local rows, err, code = db.query("SELECT tools FROM catalog_tool_snapshots WHERE entry_id = ?", entry_id)
  if not rows then
    return nil, err, code
  end
  if not rows[1] then
    return false
  end
  local t = json.decode(rows[1].tools)
  local idx = {}
  for key, v in pairs(type(t) == "table" and t or {}) do
    local kind, name = tostring(key):match("^(%S+) (.*)$")
    if kind and M.KINDS[kind] and type(v) == "table" and type(v.h) == "string" then
      idx[key] = { kind = kind, name = name, hash = v.h, parts = type(v.p) == "table" and v.p or {} }
    end
  end
  return idx
end

local function save_snapshot(entry_id, idx, now)
  local text = json.encode(snapshot_of(idx))
  local n, err, code = db.exec("UPDATE catalog_tool_snapshots SET tools = ?, at = ? WHERE entry_id = ?",
    text, now, entry_id)
  if not n then
    return nil, err, code
  end
  if n == 0 then
    n, err, code = db.exec("INSERT INTO catalog_tool_snapshots (entry_id, tools, at) VALUES (?, ?, ?)",
      entry_id, text, now)
    if not n then
      return nil, err, code
    end
  end
  return true
end

function M.record(entry_id, old_caps, new_caps, opts)
  if type(entry_id) ~= "string" or entry_id == "" then
    return nil, "drift.record: entry_id must be a non-empty string", "invalid"
  end
  opts = opts or {}
  local now = time.rfc3339()
  local after, after_n = index(new_caps)
  local record
  local ok, err, code = db.tx(function()
    local snap, serr, scode = load_snapshot(entry_id)
    if snap == nil then
      return nil, serr, scode
    end
    local before, before_n
    if snap then
      before, before_n = snap, 0
      for _ in pairs(snap) do
        before_n = before_n + 1
      end
    else
      before, before_n = index(old_caps)
      if before_n == 0 then
        -- the first listing of an entry registered without tools: a baseline, not drift
        return save_snapshot(entry_id, after, now)
      end
    end
    local added, removed, changed = diff(before, after)
    if #added == 0 and #removed == 0 and #changed == 0 then
      if not snap then
        return save_snapshot(entry_id, after, now)
      end
      return true
    end
    local n, e, c = db.exec([[INSERT INTO catalog_tool_drift (entry_id, at, source, added, removed, changed,
      tools_before, tools_after) VALUES (?, ?, ?, ?, ?, ?, ?, ?)]], entry_id, now, tostring(opts.source or "discovery"),
      json.encode(added), json.encode(removed), json.encode(changed), before_n, after_n)
    if not n then
      return nil, e, c
    end
    n, e, c = db.exec([[DELETE FROM catalog_tool_drift WHERE entry_id = ? AND id NOT IN
      (SELECT id FROM catalog_tool_drift WHERE entry_id = ? ORDER BY id DESC LIMIT ?)]], entry_id, entry_id,
      M.HISTORY_MAX)
    if not n then
      return nil, e, c
    end
    record = { at = now, source = tostring(opts.source or "discovery"), added = added, removed = removed,
      changed = changed, tools_before = before_n, tools_after = after_n }
    return save_snapshot(entry_id, after, now)
  end)
  if not ok then
    return nil, err, code
  end
  return record or false
end

function M.observe(entry_id, tools)
  local rows, err, code = db.query([[SELECT name, description, properties FROM catalog_capabilities
    WHERE entry_id = ? AND kind = 'mcp.tool' ORDER BY position]], entry_id)
  if not rows then
    return nil, err, code
  end
  local stored = {}
  for i, r in ipairs(rows) do
    local props = json.decode(r.properties or "{}")
    stored[i] = { kind = "mcp.tool", name = r.name, description = r.description,
      properties = type(props) == "table" and props or {} }
  end
  return M.record(entry_id, stored, tools, { source = "probe" })
end

local function decoded_list(text)
  local v = json.decode(text or "[]")
  return json.array(type(v) == "table" and v or {})
end

function M.list(entry_id, limit)
  local rows, err, code = db.query([[SELECT at, source, added, removed, changed, tools_before, tools_after
    FROM catalog_tool_drift WHERE entry_id = ? ORDER BY id DESC LIMIT ?]], entry_id, limit or M.HISTORY_MAX)
  if not rows then
    return nil, err, code
  end
  local out = json.array()
  for i, r in ipairs(rows) do
    out[i] = { at = r.at, source = r.source, added = decoded_list(r.added), removed = decoded_list(r.removed),
      changed = decoded_list(r.changed), tools_before = tonumber(r.tools_before),
      tools_after = tonumber(r.tools_after) }
  end
  return out
end

return M
