-- SPDX-License-Identifier: Apache-2.0
-- MCP server descriptions (registry server.json, ServerResponse, tools/resources/prompts listing)
-- and protocol detection, against the fixtures in spec/fixtures/cards.
local json = require "agentlens.json"
local mcp = require "agentlens.protocols.mcp"
local detect = require "agentlens.protocols.detect"
local capability = require "agentlens.protocols.capability"

local fixtures = require "card_fixtures"

local function text(name)
  return fixtures.text("" .. name)
end

local function doc(name)
  return fixtures.decoded("" .. name)
end

local wire, fields = fixtures.wire, fixtures.fields

local function wire_caps(entry)
  local out = {}
  for _, c in ipairs(entry.capabilities) do
    out[#out + 1] = wire(capability.to_json(c))
  end
  return out
end

local function valid_parse(d)
  local entry, res = mcp.parse(d)
  assert.is_table(entry, res and json.encode(res.errors))
  assert.is_true(res.valid)
  return entry, res
end

describe("mcp server.json", function()
  it("accepts the registry server.json and prefers a streamable-http remote", function()
    local entry, res = valid_parse(text("mcp/server.json"))
    assert.same({}, res.warnings)
    assert.equal("", res.spec_version)
    assert.equal("mcp", entry.protocol)
    assert.equal("Weather", entry.display_name) -- title over the registry name
    assert.equal("Current conditions and forecasts for any city.", entry.description)
    assert.equal("1.2.0", entry.version)
    assert.equal("https://weather.example.com/mcp", entry.endpoint)
    assert.equal("streamable-http", entry.transport)
    assert.same({}, wire(entry.capabilities)) -- server.json has no tools; the probe fills them
    assert.same({
      shape = "server.json",
      registry_name = "io.github.example-org/weather",
      schema_version = "2025-12-11",
      title = "Weather",
      website_url = "https://weather.example.com",
      repository = { url = "https://github.com/example-org/weather-mcp", source = "github", id = "812345678",
        subfolder = "server" },
      remotes = { { type = "sse", url = "https://weather.example.com/sse" },
        { type = "streamable-http", url = "https://weather.example.com/mcp" } },
      packages = {
        { registry_type = "npm", identifier = "@example-org/weather-mcp", version = "1.2.0", transport = "stdio" },
        { registry_type = "oci", identifier = "ghcr.io/example-org/weather-mcp:1.2.0", transport = "streamable-http",
          url = "http://localhost:{port}/mcp" },
      },
    }, wire(entry.details))
    assert.same({ display_name = "Weather", description = "Current conditions and forecasts for any city.",
      version = "1.2.0", protocol = "mcp", spec_version = "", shape = "server.json",
      registry_name = "io.github.example-org/weather", schema_version = "2025-12-11",
      endpoint = "https://weather.example.com/mcp", transport = "streamable-http",
      tools_count = 0, resources_count = 0, prompts_count = 0 }, wire(res.preview))
  end)

  it("falls back to an sse remote, and warns when only templates or packages remain", function()
    local d = doc("mcp/server.json")
    table.remove(d.remotes, 2)
    local entry = valid_parse(d)
    assert.equal("https://weather.example.com/sse", entry.endpoint)
    assert.equal("sse", entry.transport)

    d.remotes[1].url = "https://{tenant}.weather.example.com/sse"
    local res
    entry, res = valid_parse(d)
    assert.is_nil(entry.endpoint)
    assert.same({ { field = "remotes", message = "every remote URL is a template ({variable}); the registration "
      .. "must supply the endpoint" } }, res.warnings)

    d.remotes = nil
    entry, res = valid_parse(d)
    assert.is_nil(entry.endpoint)
    assert.same({ "remotes" }, fields(res.warnings))
  end)

  it("unwraps a registry ServerResponse and reports its status", function()
    local entry, res = valid_parse(text("mcp/server-response.json"))
    assert.equal("Weather", entry.display_name)
    assert.equal("deprecated", entry.details.registry_status)
    assert.same({ { field = '_meta["io.modelcontextprotocol.registry/official"].status',
      message = "the registry marks this server deprecated" } }, res.warnings)
    local d = doc("mcp/server-response.json")
    d.server.description = nil
    d.server.remotes[2].url = "mailto:x"
    assert.same({
      { field = "server.description", message = "server.description is required" },
      { field = "server.remotes[1].url", message = "server.remotes[1].url is not an absolute URL (scheme://host)" },
    }, mcp.validate(d).errors)
  end)

  it("reads pre-2025-09-16 snake_case documents with one warning", function()
    local entry, res = valid_parse(text("mcp/server-snake-case.json"))
    assert.same({ { field = "json", message = "pre-2025-09-16 server.json field names (website_url, transport_type, "
      .. "registry_type, runtime_hint) read as their camelCase equivalents" } }, res.warnings)
    assert.equal("https://notes.example.dev/sse", entry.endpoint)
    assert.equal("sse", entry.transport)
    assert.equal("https://notes.example.dev", entry.details.website_url)
    assert.equal("pypi", entry.details.packages[1].registry_type)
  end)

  it("warns about registry constraints that do not stop registration", function()
    local d = doc("mcp/server.json")
    d.name = "Weather Server"
    d.description = ("d"):rep(101)
    d.version = "2024.1"
    d.icons[1].src = "http://weather.example.com/i.png"
    d.packages[1].version = "latest"
    d.packages[2].registryType = "mcpb"
    d.packages[2].transport = nil
    local res = mcp.validate(d)
    assert.is_true(res.valid, json.encode(res.errors))
    assert.same({ "name", "description", "version", "icons[0].src", "packages[0].version", "packages[1].fileSha256",
      "packages[1].transport" }, fields(res.warnings))
  end)

  it("rejects version ranges", function()
    for _, v in ipairs({ "^1.2.0", "~1.2", ">=1.0.0", "1.x", "1.*", "1.2.x", "*", "1.0.0 - 2.0.0" }) do
      local d = doc("mcp/server.json")
      d.version = v
      assert.same({ { field = "version", message = "version must be a specific version, not a range (\"" .. v
        .. "\")" } }, mcp.validate(d).errors, v)
    end
    local d = doc("mcp/server.json")
    d.version = "1.0.0-rc.1+build.5"
    assert.same({}, mcp.validate(d).warnings)
  end)

  local cases = {
    { "mcp/invalid/server-missing-name.json", { { field = "name", message = "name is required" } } },
    { "mcp/invalid/version-range.json",
      { { field = "version", message = "version must be a specific version, not a range (\"^1.2.0\")" } } },
    { "mcp/invalid/remote-bad-url.json", {
      { field = "remotes[0].type", message = "remotes[0].type is required" },
      { field = "remotes[1].url", message = "remotes[1].url must use http or https, not ws" },
      { field = "packages[0].identifier", message = "packages[0].identifier is required" },
    } },
    { "mcp/invalid/listing-bad-items.json", {
      { field = "tools[2].name", message = "tools[2].name is required" },
      { field = "tools[3].inputSchema", message = "tools[3].inputSchema is required" },
      { field = "resources[0].uri", message = "resources[0].uri is required" },
      { field = "prompts[0].arguments[1].name", message = "prompts[0].arguments[1].name is required" },
    } },
    { "mcp/invalid/neither.json", { { field = "json", message = "document is neither an MCP server.json (name, "
      .. "description, version, remotes/packages) nor a tools/resources/prompts listing" } } },
  }
  for _, c in ipairs(cases) do
    it("reports " .. c[1], function()
      local res = mcp.validate(text(c[1]))
      assert.is_false(res.valid)
      assert.same(c[2], res.errors)
      assert.is_nil(res.preview)
      local entry = mcp.parse(text(c[1]))
      assert.is_nil(entry)
    end)
  end

  it("names expected types", function()
    local d = doc("mcp/server.json")
    d.name = { "io.x/y" }
    d.remotes = { type = "sse" }
    d.packages[1].transport = "stdio"
    d.repository.source = nil
    assert.same({
      { field = "name", message = "name must be a string, got array" },
      { field = "repository.source", message = "repository.source is required" },
      { field = "remotes", message = "remotes must be an array, got object" },
      { field = "packages[0].transport", message = "packages[0].transport must be an object, got string" },
    }, mcp.validate(d).errors)
  end)
end)

describe("mcp listings", function()
  it("extracts tools, resources and prompts with the section 4 fields", function()
    local entry, res = valid_parse(text("mcp/tools-listing.json"))
    assert.same({}, res.warnings)
    assert.equal("2025-06-18", res.spec_version)
    assert.equal("GitHub Issues", entry.display_name) -- serverInfo.title, then serverInfo.name
    assert.equal("0.6.1", entry.version)
    assert.is_nil(entry.endpoint)
    local caps = wire_caps(entry)
    assert.equal(4, #caps)
    assert.same({ kind = "mcp.tool", name = "search_issues", title = "Search issues",
      description = "Full-text search over issues.",
      input_schema = { type = "object", properties = { query = { type = "string" },
        state = { type = "string", enum = { "open", "closed", "all" } } }, required = { "query" } },
      annotations = { readOnlyHint = true, openWorldHint = true } }, caps[1])
    assert.same({ type = "object", properties = { number = { type = "integer" } } }, caps[2].output_schema)
    assert.same({ kind = "mcp.resource", name = "readme", uri = "repo://example-org/weather-mcp/readme",
      title = "README", description = "Repository README", mime_type = "text/markdown" }, caps[3])
    assert.same({ kind = "mcp.prompt", name = "triage", description = "Triage new issues",
      arguments = { { name = "label", description = "Label to apply", required = false },
        { name = "since", required = true } } }, caps[4])
    assert.same({ name = "github-issues", title = "GitHub Issues", version = "0.6.1" },
      wire(entry.details.server_info))
    assert.equal("Use search_issues before create_issue to avoid duplicates.", entry.details.instructions)
    assert.same({ display_name = "GitHub Issues", version = "0.6.1", protocol = "mcp", spec_version = "2025-06-18",
      shape = "listing", tools_count = 2, resources_count = 1, prompts_count = 1 }, wire(res.preview))
  end)

  it("accepts a bare tools/list result and asks for a name", function()
    local entry, res = valid_parse({ tools = { { name = "ping", inputSchema = { type = "object" } } } })
    assert.is_nil(entry.display_name)
    assert.same({ { field = "serverInfo.name", message = "no server name (serverInfo.name); the registration must "
      .. "supply a display name" } }, res.warnings)
    assert.equal(1, #entry.capabilities)
  end)

  it("accepts the combined server.json + tools document", function()
    local entry, res = valid_parse(text("mcp/combined.json"))
    assert.equal("server.json+listing", entry.details.shape)
    assert.equal("Weather (combined)", entry.display_name)
    assert.equal("https://wx.example.net/mcp", entry.endpoint)
    assert.same({ "name" }, fields(res.warnings)) -- not a reverse-DNS registry name
    assert.same({ { kind = "mcp.tool", name = "forecast", description = "Five-day forecast",
      input_schema = { type = "object", properties = { city = { type = "string" } } } } }, wire_caps(entry))
  end)

  it("warns about odd listings", function()
    local d = doc("mcp/tools-listing.json")
    d.protocolVersion = "2099-01-01"
    d.nextCursor = "abc"
    d.serverInfo.version = nil
    d.tools[2].name = "search_issues"
    d.tools[1].inputSchema.type = "array"
    d.tools[1].execution = { taskSupport = "sometimes" }
    d.tools[1].name = "search issues!"
    local res = mcp.validate(d)
    assert.is_true(res.valid, json.encode(res.errors))
    assert.same({ "serverInfo.version", "protocolVersion", "nextCursor", "tools[0].inputSchema.type",
      "tools[0].execution.taskSupport", "tools[0].name" }, fields(res.warnings))
    d.tools[1].name = "search_issues"
    assert.same({ field = "tools[1].name", message = "duplicate tool name \"search_issues\" (also tools[0])" },
      mcp.validate(d).warnings[6])
  end)

  it("names expected types in listings", function()
    local d = doc("mcp/tools-listing.json")
    d.tools[1] = "search_issues"
    d.tools[2].inputSchema = "object"
    d.resources = { uri = "x" }
    d.prompts[1].arguments[1].required = "no"
    d.serverInfo = { title = "no name" }
    assert.same({
      { field = "serverInfo.name", message = "serverInfo.name is required" },
      { field = "tools[0]", message = "tools[0] must be an object, got string" },
      { field = "tools[1].inputSchema", message = "tools[1].inputSchema must be an object, got string" },
      { field = "resources", message = "resources must be an array, got object" },
      { field = "prompts[0].arguments[0].required",
        message = "prompts[0].arguments[0].required must be a boolean, got string" },
    }, mcp.validate(d).errors)
  end)

  it("bounds the number of tools", function()
    local tools = json.array()
    for i = 1, mcp.LIMITS.tools + 1 do
      tools[i] = { name = "t" .. i, inputSchema = { type = "object" } }
    end
    assert.same({ { field = "tools", message = "tools must have at most 2000 items, got 2001" } },
      mcp.validate({ tools = tools }).errors)
  end)

  it("builds capabilities for the probe from raw list results", function()
    local caps = mcp.capabilities_from_listing({
      tools = { { name = "a", inputSchema = { type = "object" } }, { description = "no name" } },
      resources = { { name = "r", uri = "file:///r" }, { name = "no uri" } },
      prompts = { { name = "p" } },
    })
    assert.equal(3, #caps)
    assert.same({ "mcp.tool", "mcp.resource", "mcp.prompt" }, { caps[1].kind, caps[2].kind, caps[3].kind })
    assert.same({ kind = "mcp.tool", name = "a", input_schema = { type = "object" } },
      wire(capability.to_json(caps[1])))
    assert.same({ kind = "mcp.prompt", name = "p", arguments = {} }, wire(capability.to_json(caps[3])))
    assert.equal('{"input_schema":{},"kind":"mcp.tool","name":"b"}',
      json.encode(capability.to_json(mcp.tool_capability({ name = "b" }))))
  end)

  it("encodes empty errors, warnings and lists as []", function()
    local s = json.encode(mcp.validate(text("mcp/server.json")))
    assert.matches('"errors":[]', s, 1, true)
    assert.matches('"warnings":[]', s, 1, true)
    local entry = valid_parse(text("mcp/server.json"))
    s = json.encode(entry)
    assert.matches('"capabilities":[]', s, 1, true)
    assert.matches('"categories":[]', s, 1, true)
    entry = valid_parse(text("mcp/tools-listing.json"))
    s = json.encode(entry)
    assert.matches('"remotes":[]', s, 1, true)
    assert.matches('"packages":[]', s, 1, true)
  end)
end)

describe("agentlens.protocols.detect", function()
  local cases = {
    { "a2a/v0.1-echo.json", "a2a" },
    { "a2a/v0.2-recipe-planner.json", "a2a" },
    { "a2a/v0.3-travel-desk.json", "a2a" },
    { "a2a/v1.0-translation-agent.json", "a2a" },
    { "a2a/dual-format.json", "a2a" },
    { "a2a/invalid/missing-name.json", "a2a" },
    { "mcp/server.json", "mcp" },
    { "mcp/server-response.json", "mcp" },
    { "mcp/server-snake-case.json", "mcp" },
    { "mcp/tools-listing.json", "mcp" },
    { "mcp/combined.json", "mcp" },
  }
  for _, c in ipairs(cases) do
    it(c[1] .. " -> " .. c[2], function()
      local p, reason = detect.protocol(text(c[1]))
      assert.equal(c[2], p)
      assert.is_string(reason)
      assert.equal(c[2], detect.protocol(doc(c[1])))
    end)
  end

  it("explains its choice", function()
    local _, reason = detect.protocol(text("mcp/tools-listing.json"))
    assert.equal("MCP server fields: tools, resources, prompts, serverInfo, protocolVersion (date)", reason)
    _, reason = detect.protocol({ name = "x", supportedInterfaces = { {} }, skills = {} })
    assert.equal("A2A agent card fields: supportedInterfaces, skills", reason)
  end)

  it("returns nil with a reason for ambiguous, empty and non-JSON documents", function()
    local p, reason = detect.protocol({ skills = {}, tools = {} })
    assert.is_nil(p)
    assert.equal("ambiguous: A2A fields (skills) and MCP fields (tools)", reason)
    p, reason = detect.protocol(text("mcp/invalid/neither.json"))
    assert.is_nil(p)
    assert.equal("no A2A (skills, supportedInterfaces, url) or MCP (tools, serverInfo, remotes) fields", reason)
    p, reason = detect.protocol("[1]")
    assert.is_nil(p)
    assert.equal("document must be a JSON object, got array", reason)
    p, reason = detect.protocol("{")
    assert.is_nil(p)
    assert.matches("^invalid JSON", reason)
  end)

  it("falls back to the URL only when the document says nothing", function()
    assert.equal("a2a", detect.protocol({ name = "x" }, "https://a.example/.well-known/agent-card.json"))
    assert.equal("mcp", detect.protocol({ name = "x" }, "https://a.example/mcp"))
    assert.equal("mcp", detect.protocol({ tools = {} }, "https://a.example/.well-known/agent.json"))
    assert.is_nil(detect.protocol({ name = "x" }, "https://a.example/"))
  end)

  it("validates with the detected protocol", function()
    local res = detect.validate(text("mcp/tools-listing.json"))
    assert.is_true(res.valid)
    assert.equal("mcp", res.protocol)
    res = detect.validate(text("a2a/invalid/skill-missing-id.json"))
    assert.equal("a2a", res.protocol)
    assert.same({ { field = "skills[3].id", message = "skills[3].id is required" } }, res.errors)
  end)

  it("honours an explicit protocol and rejects unknown ones", function()
    local res = detect.validate(text("mcp/server.json"), "a2a")
    assert.equal("a2a", res.protocol)
    assert.is_false(res.valid)
    res = detect.validate(text("mcp/server.json"), "a2ui")
    assert.same({ { field = "protocol", message = "unsupported protocol: a2ui" } }, res.errors)
    res = detect.validate(text("mcp/invalid/neither.json"))
    assert.same({ "protocol" }, fields(res.errors))
    assert.equal("[]", json.encode(res.warnings))
    res = detect.validate("nope")
    assert.same({ "json" }, fields(res.errors))
  end)

  it("parses with the detected protocol", function()
    local entry, res = detect.parse(text("a2a/v1.0-translation-agent.json"))
    assert.is_true(res.valid)
    assert.equal("a2a", entry.protocol)
    entry = detect.parse(text("mcp/server.json"))
    assert.equal("mcp", entry.protocol)
    local none, bad = detect.parse({ about = "nothing" })
    assert.is_nil(none)
    assert.is_false(bad.valid)
  end)
end)
