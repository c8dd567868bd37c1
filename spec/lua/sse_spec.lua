-- SPDX-License-Identifier: Apache-2.0
-- Server-Sent Events parsing (WHATWG event-stream interpretation) and the JSON-RPC lookups the
-- MCP probe does on SSE replies (agentlens.protocols.sse).
local sse = require "agentlens.protocols.sse"

local function strip(events)
  local out = {}
  for i, e in ipairs(events) do
    out[i] = { event = e.event, data = e.data, id = e.id, retry = e.retry }
  end
  return out
end

describe("sse.parse", function()
  it("parses one event with the default type", function()
    assert.are.same({ { event = "message", data = "hello" } }, strip(sse.parse("data: hello\n\n")))
  end)

  it("joins several data lines with LF and takes the event type", function()
    local evs = sse.parse("event: message\ndata: a\ndata: b\ndata:c\n\n")
    assert.are.same({ { event = "message", data = "a\nb\nc" } }, strip(evs))
  end)

  it("accepts CRLF, CR and LF line ends, mixed in one stream", function()
    local evs = sse.parse("data: one\r\n\r\ndata: two\r\rdata: three\n\nevent: x\r\ndata: four\r\n\r\n")
    assert.are.same({ "one", "two", "three", "four" }, { evs[1].data, evs[2].data, evs[3].data, evs[4].data })
    assert.equal("x", evs[4].event)
    assert.equal(4, #evs)
  end)

  it("removes exactly one space after the colon, keeps the rest", function()
    local evs = sse.parse("data:  two spaces\ndata:none\n\n")
    assert.equal(" two spaces\nnone", evs[1].data)
  end)

  it("ignores comments, unknown fields and a leading BOM", function()
    local evs = sse.parse("\239\187\191: keep-alive\nfoo: bar\n:another\ndata: x\n\n")
    assert.are.same({ { event = "message", data = "x" } }, strip(evs))
  end)

  it("treats a line without a colon as a field with an empty value", function()
    local evs = sse.parse("data\ndata\n\n")
    assert.equal("\n", evs[1].data)
  end)

  it("does not dispatch an event without data lines, and resets the type", function()
    local evs = sse.parse("event: ping\nid: 7\n\ndata: after\n\n")
    assert.are.same({ { event = "message", data = "after", id = "7" } }, strip(evs))
  end)

  it("keeps the last event id for later events; ignores an id with NUL", function()
    local evs = sse.parse("id: 1\ndata: a\n\ndata: b\n\nid: x\0y\ndata: c\n\nid\ndata: d\n\n")
    assert.are.same({ "1", "1", "1", "" }, { evs[1].id, evs[2].id, evs[3].id, evs[4].id })
  end)

  it("reads retry only when it is all digits", function()
    local evs = sse.parse("retry: 1500\ndata: a\n\nretry: 1.5\ndata: b\n\n")
    assert.equal(1500, evs[1].retry)
    assert.is_nil(evs[2].retry)
  end)

  it("dispatches a priming event (empty data) with data \"\"", function()
    local evs = sse.parse("id: 1\ndata: \n\nid: 2\nevent: message\ndata: {}\n\n")
    assert.equal(2, #evs)
    assert.equal("", evs[1].data)
    assert.equal("{}", evs[2].data)
  end)

  it("discards an unterminated last event unless partial", function()
    assert.equal(0, #sse.parse("data: cut"))
    assert.equal(0, #sse.parse("data: cut\n"))
    assert.are.same({ { event = "message", data = "cut" } }, strip(sse.parse("data: cut\n", { partial = true })))
    assert.are.same({ { event = "message", data = "cut" } }, strip(sse.parse("data: cut", { partial = true })))
  end)

  it("returns nothing for empty or non-string input", function()
    assert.are.same({}, sse.parse(""))
    assert.are.same({}, sse.parse(nil))
    assert.are.same({}, sse.parse("\n\n\r\n"))
  end)

  it("keeps colons inside the value", function()
    assert.equal('{"a":"b:c"}', sse.parse('data: {"a":"b:c"}\n\n')[1].data)
  end)
end)

describe("sse.find_response", function()
  it("finds the response to our id among priming, notifications and server requests", function()
    local body = table.concat({
      "id: 1", "data: ", "",
      ": comment", "",
      'event: message', 'data: {"jsonrpc":"2.0","method":"notifications/progress","params":{}}', "",
      'data: {"jsonrpc":"2.0","id":99,"method":"sampling/createMessage","params":{}}', "",
      'data: {"jsonrpc":"2.0","id":3,"result":{"other":true}}', "",
      'event: other', 'data: {"jsonrpc":"2.0","id":2,"result":{"wrong":"type"}}', "",
      'data: {"jsonrpc":"2.0",', 'data:  "id":2,"result":{"tools":[]}}', "", "",
    }, "\r\n")
    local msg = assert(sse.find_response(body, 2))
    assert.are.same({ tools = {} }, msg.result)
  end)

  it("matches string ids exactly and returns error responses", function()
    local body = 'data: {"jsonrpc":"2.0","id":"2","error":{"code":-32601,"message":"nope"}}\n\n'
    assert.is_nil((sse.find_response(body, 2)))
    local msg = assert(sse.find_response(body, "2"))
    assert.equal(-32601, msg.error.code)
  end)

  it("does not take a server request with our id for a response", function()
    local body = 'data: {"jsonrpc":"2.0","id":1,"method":"ping"}\n\n'
    local msg, why = sse.find_response(body, 1)
    assert.is_nil(msg)
    assert.equal("no response", why)
  end)

  it("reports undecodable data as an invalid response", function()
    local msg, why = sse.find_response("data: {not json\n\n", 1)
    assert.is_nil(msg)
    assert.equal("invalid response", why)
  end)

  it("accepts a response whose stream was cut before the final blank line", function()
    local msg = assert(sse.find_response('event: message\ndata: {"jsonrpc":"2.0","id":5,"result":{}}\n', 5))
    assert.are.same({}, msg.result)
  end)
end)

describe("sse.messages and sse.endpoint", function()
  it("lists decoded message events in order and marks bad ones", function()
    local list = sse.messages('data: {"a":1}\n\ndata: \n\ndata: [\n\nevent: x\ndata: {"b":2}\n\n')
    assert.equal(2, #list)
    assert.equal(1, list[1].a)
    assert.equal("[", list[2].invalid)
  end)

  it("reads the legacy transport's endpoint event", function()
    assert.equal("/messages?sessionId=abc",
      sse.endpoint("event: endpoint\r\ndata: /messages?sessionId=abc\r\n\r\nevent: message\r\ndata: {}\r\n\r\n"))
    assert.is_nil(sse.endpoint("data: /messages\n\n"))
  end)
end)
