-- SPDX-License-Identifier: Apache-2.0
-- Server-Sent Events (WHATWG HTML "event stream interpretation") over a complete body, and the
-- JSON-RPC lookups MCP needs on top of it. Pure: no I/O.
--
--   sse.parse(text[, {partial = bool}]) -> list of {event, data, id?, retry?}
--   sse.find_response(text, id)         -> message | nil, reason
--   sse.messages(text)                  -> list of decoded JSON-RPC messages (in order)
--   sse.endpoint(text)                  -> data of the first `endpoint` event | nil
--
-- parse follows the WHATWG algorithm: a leading BOM is dropped; lines end in "\r\n", "\n" or
-- "\r"; a line starting with ":" is a comment; "field: value" loses one leading space of the
-- value; `data` lines of one event are joined with "\n"; `event` defaults to "message"; `id`
-- persists to later events (an id containing NUL is ignored); `retry` only when all digits;
-- unknown fields are ignored; an event is dispatched at a blank line, and not at all when it had
-- no `data` line. An event left unterminated by the end of the text is discarded, as the
-- algorithm says, unless partial = true (bodies cut by the peer closing the connection).
-- An event with an empty `data:` line (an MCP "priming" event) is dispatched with data "";
-- find_response and messages skip it.
local json = require "agentlens.json"

local M = {}

-- Splits on "\r\n", "\n" or "\r" (a final line without an end is kept).
local function lines_of(text)
  local out, pos, n = {}, 1, #text
  while pos <= n do
    local s, e = text:find("[\r\n]", pos)
    if not s then
      out[#out + 1] = text:sub(pos)
      return out
    end
    out[#out + 1] = text:sub(pos, s - 1)
    if text:sub(s, s) == "\r" and text:sub(s + 1, s + 1) == "\n" then
      e = s + 1
    end
    pos = e + 1
  end
  return out
end

function M.parse(text, opts)
  local events = {}
  if type(text) ~= "string" or text == "" then
    return events
  end
  if text:sub(1, 3) == "\239\187\191" then
    text = text:sub(4)
  end
  local partial = type(opts) == "table" and opts.partial == true
  local data, has_data, etype, last_id, retry = {}, false, "", nil, nil

  local function dispatch()
    if has_data then
      local ev = { event = etype ~= "" and etype or "message", data = table.concat(data, "\n"), id = last_id,
        retry = retry }
      events[#events + 1] = ev
    end
    data, has_data, etype, retry = {}, false, "", nil
  end

  local lines = lines_of(text)
  for _, line in ipairs(lines) do
    if line == "" then
      dispatch()
    elseif line:sub(1, 1) ~= ":" then
      local field, value = line:match("^([^:]*):(.*)$")
      if not field then
        field, value = line, ""
      elseif value:sub(1, 1) == " " then
        value = value:sub(2)
      end
      if field == "data" then
        data[#data + 1] = value
        has_data = true
      elseif field == "event" then
        etype = value
      elseif field == "id" then
        if not value:find("\0", 1, true) then
          last_id = value
        end
      elseif field == "retry" then
        if value:match("^%d+$") then
          retry = tonumber(value)
        end
      end
    end
  end
  if partial then
    dispatch()
  end
  return events
end

local function decoded_messages(text)
  local out = {}
  for _, ev in ipairs(M.parse(text, { partial = true })) do
    if ev.event == "message" and ev.data ~= "" then
      local msg = json.decode(ev.data)
      out[#out + 1] = msg == nil and { invalid = ev.data } or msg
    end
  end
  return out
end

-- messages(text): the JSON-RPC messages carried by `message` events; an event whose data is not
-- JSON appears as {invalid = data}. Priming (empty) and other event types are skipped.
function M.messages(text)
  return decoded_messages(text)
end

-- find_response(text, id): the JSON-RPC response to request `id` (an object with that id and a
-- `result` or `error` member). Notifications, server requests (method + id) and responses to
-- other ids are ignored. Reasons: "no response" (none found), "invalid response" (only
-- undecodable events were seen besides unrelated messages).
function M.find_response(text, id)
  local saw_invalid = false
  for _, msg in ipairs(decoded_messages(text)) do
    if type(msg) == "table" and msg.invalid == nil then
      if msg.id == id and msg.method == nil and (msg.result ~= nil or msg.error ~= nil) then
        return msg
      end
    else
      saw_invalid = true
    end
  end
  return nil, saw_invalid and "invalid response" or "no response"
end

-- endpoint(text): the data of the first `endpoint` event (the legacy HTTP+SSE transport's POST
-- URI, often relative), or nil.
function M.endpoint(text)
  for _, ev in ipairs(M.parse(text, { partial = true })) do
    if ev.event == "endpoint" then
      return ev.data
    end
  end
  return nil
end

return M
