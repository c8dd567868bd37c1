-- SPDX-License-Identifier: Apache-2.0
-- A2A Agent Card validation and normalization (0.1, 0.2.x, 0.3, 1.0, dual-format), against the
-- fixtures in spec/fixtures/cards/a2a.
local json = require "agentlens.json"
local V = require "agentlens.lib.validate"
local a2a = require "agentlens.protocols.a2a"
local capability = require "agentlens.protocols.capability"

local fixtures = require "card_fixtures"

local function text(name)
  return fixtures.text("a2a/" .. name)
end

local function card(name)
  return fixtures.decoded("a2a/" .. name)
end

local wire, fields = fixtures.wire, fixtures.fields

local function caps_of(entry, kind)
  local out = {}
  for _, c in ipairs(entry.capabilities) do
    if c.kind == kind then
      out[#out + 1] = wire(capability.to_json(c))
    end
  end
  return out
end

local function valid_parse(doc)
  local entry, res = a2a.parse(doc)
  assert.is_table(entry, res and json.encode(res.errors))
  assert.is_true(res.valid)
  return entry, res
end

describe("agentlens.lib.validate", function()
  it("builds 0-based field paths and quotes odd keys", function()
    assert.equal("name", V.key("", "name"))
    assert.equal("skills[2].id", V.key(V.index("skills", 3), "id"))
    assert.equal('securitySchemes["my key"]', V.key("securitySchemes", "my key"))
    assert.equal('_meta["io.example/x"].status', V.key(V.key("_meta", "io.example/x"), "status"))
  end)

  it("classifies JSON kinds, decoded and Lua-built", function()
    assert.equal("array", V.kind(json.decode("[]")))
    assert.equal("empty", V.kind(json.decode("{}")))
    assert.equal("object", V.kind(json.object()))
    assert.equal("array", V.kind({ "a", "b" }))
    assert.equal("object", V.kind({ a = 1 }))
    assert.equal("null", V.kind(json.null))
    assert.equal("number", V.kind(1.5))
    assert.is_nil(V.kind(nil))
  end)

  it("checks URL shapes", function()
    assert.is_true(V.is_http_url("https://a.example/x?y"))
    assert.is_true(V.is_http_url("http://[::1]:8080/"))
    assert.is_nil(V.is_http_url("a.example/x"))
    assert.is_nil(V.is_http_url("https:///x"))
    assert.is_nil(V.is_http_url("https://a b"))
    local ok, why = V.is_http_url("ftp://a.example/")
    assert.is_nil(ok)
    assert.equal("must use http or https, not ftp", why)
  end)
end)

describe("a2a version detection", function()
  local cases = {
    { "v0.1-echo.json", "0.x", "0.1", false },
    { "v0.2-no-protocol-version.json", "0.x", "0.2", false },
    { "v0.2-recipe-planner.json", "0.x", "0.2", false },
    { "v0.3-travel-desk.json", "0.x", "0.3", false },
    { "v1.0-translation-agent.json", "1.0", "1.0", false },
    { "v1.0-spec-sample-mixed.json", "1.0", "1.0", false },
    { "dual-format.json", "1.0", "1.0", true },
  }
  for _, c in ipairs(cases) do
    it(c[1] .. " is card format " .. c[2] .. ", version " .. c[3], function()
      local info = a2a.detect_version(card(c[1]))
      assert.equal(c[2], info.format)
      assert.equal(c[3], info.spec_version)
      assert.equal(c[4], info.dual)
      assert.equal(c[3], a2a.validate(text(c[1])).spec_version)
    end)
  end

  it("lists the protocol versions a 1.0 card serves, in interface order", function()
    assert.same({ "1.0", "0.3" }, a2a.detect_version(card("v1.0-translation-agent.json")).protocol_versions)
    assert.same({ "1.0", "0.3" }, a2a.detect_version(card("dual-format.json")).protocol_versions)
  end)

  it("normalizes protocol versions to Major.Minor", function()
    assert.equal("0.3", a2a.major_minor("0.3.0"))
    assert.equal("0.2", a2a.major_minor("0.2.5"))
    assert.equal("1.0", a2a.major_minor("1.0"))
    assert.is_nil(a2a.major_minor("v1"))
    assert.is_nil(a2a.major_minor("1.0-beta"))
  end)

  it("does not key detection on supportsExtendedAgentCard", function()
    local c = card("v0.2-no-protocol-version.json")
    c.supportsExtendedAgentCard = true
    local res = a2a.validate(c)
    assert.equal("0.2", res.spec_version)
    assert.same({ "protocolVersion", "supportsExtendedAgentCard" }, fields(res.warnings))
  end)

  it("treats an empty supportedInterfaces beside url as a 0.x card", function()
    local c = card("v0.3-travel-desk.json")
    c.supportedInterfaces = json.array()
    local res = a2a.validate(c)
    assert.is_true(res.valid)
    assert.equal("0.3", res.spec_version)
    assert.same({ "supportedInterfaces" }, fields(res.warnings))
  end)

  it("reports an empty spec_version when nothing identifies the card", function()
    local res = a2a.validate(card("invalid/no-endpoint.json"))
    assert.equal("", res.spec_version)
  end)

  it("validates a 0.x card claiming protocolVersion 1.0 with the 0.3 layout", function()
    local c = card("v0.3-travel-desk.json")
    c.protocolVersion = "1.0"
    local res = a2a.validate(c)
    assert.is_true(res.valid)
    assert.equal("1.0", res.spec_version)
    assert.same({ "protocolVersion" }, fields(res.warnings))
  end)
end)

describe("a2a.validate on valid cards", function()
  it("accepts the 0.2, 0.3, 1.0 and dual-format cards without warnings", function()
    for _, name in ipairs({ "v0.2-recipe-planner.json", "v0.3-travel-desk.json", "v1.0-translation-agent.json",
      "dual-format.json" }) do
      local res = a2a.validate(text(name))
      assert.is_true(res.valid, name)
      assert.same({}, res.errors, name)
      assert.same({}, res.warnings, name)
    end
  end)

  it("accepts a table and JSON text alike", function()
    assert.same(wire(a2a.validate(text("v0.3-travel-desk.json"))), wire(a2a.validate(card("v0.3-travel-desk.json"))))
  end)

  it("builds the preview (reference 5.7)", function()
    local res = a2a.validate(text("v1.0-translation-agent.json"))
    assert.same({
      display_name = "Translation Agent",
      description = "Multi-language translation with glossary support.",
      version = "3.0.0",
      protocol = "a2a",
      spec_version = "1.0",
      protocol_versions = { "1.0", "0.3" },
      dual_format = false,
      endpoint = "https://translate.example.com/a2a/v1",
      provider = { organization = "LangTech", url = "https://langtech.example.com" },
      skills_count = 2,
      extensions_count = 1,
      signatures_count = 1,
      security_schemes = { "bearer", "device", "key", "mtls" },
      interfaces = { "JSONRPC", "HTTP+JSON", "JSONRPC" },
    }, wire(res.preview))
  end)

  it("warns about the 1.0 spec sample's 0.3 leftovers but accepts it", function()
    local res = a2a.validate(text("v1.0-spec-sample-mixed.json"))
    assert.is_true(res.valid)
    assert.same({
      { field = "capabilities.stateTransitionHistory",
        message = "capabilities.stateTransitionHistory was removed in A2A 1.0; ignored" },
      { field = "security", message = "security is the A2A 0.3 field; 1.0 cards use securityRequirements "
        .. "(read as the 0.3 shape) (card detected as 1.0)" },
    }, res.warnings)
  end)

  it("warns about stateTransitionHistory at the card root, not about the 0.x capability", function()
    local c = card("v0.2-recipe-planner.json")
    c.stateTransitionHistory = true
    local res = a2a.validate(c)
    assert.same({ { field = "stateTransitionHistory",
      message = "stateTransitionHistory belongs in capabilities; ignored at the card root" } }, res.warnings)
  end)

  it("keeps unknown security scheme types with a warning", function()
    local res = a2a.validate(text("unknown-scheme-type.json"))
    assert.is_true(res.valid)
    assert.same({ { field = "securitySchemes.kerb.type",
      message = "unknown security scheme type \"kerberos\"; kept as is" } }, res.warnings)
  end)

  it("accepts an A2A 0.1 card with a warning", function()
    local res = a2a.validate(text("v0.1-echo.json"))
    assert.is_true(res.valid)
    assert.same({ "authentication" }, fields(res.warnings))
  end)

  it("warns about odd but valid things", function()
    local c = card("v1.0-translation-agent.json")
    c.skills = json.array()
    c.defaultInputModes = json.array()
    c.supportedInterfaces[2].protocolVersion = "1.0.1"
    c.supportedInterfaces[3].protocolBinding = "WEBSOCKET"
    c.supportsAuthenticatedExtendedCard = true
    c.securitySchemes.device.oauth2SecurityScheme.flows.implicit = { authorizationUrl = "https://a.example/auth",
      scopes = {} }
    c.securitySchemes.key.apiKeySecurityScheme = { ["in"] = "header", name = "X-Key" }
    c.securityRequirements[2] = { device = { "translate" } }
    c.signatures[1].protected = "eyJ0eXAiOiJKT1NFIn0" -- {"typ":"JOSE"}: no alg, no kid
    local res = a2a.validate(c)
    assert.is_true(res.valid, json.encode(res.errors))
    assert.same({
      "supportedInterfaces[1].protocolVersion",
      "supportedInterfaces[2].protocolBinding",
      "supportsAuthenticatedExtendedCard",
      "defaultInputModes",
      "securitySchemes.device.oauth2SecurityScheme.flows.implicit",
      "securitySchemes.device.oauth2SecurityScheme.flows",
      "securitySchemes.key.apiKeySecurityScheme.in",
      "securityRequirements[1]",
      "skills",
      "signatures[0].protected",
      "signatures[0].protected",
    }, fields(res.warnings))
    assert.equal("securitySchemes.device.oauth2SecurityScheme.flows holds 2 flows; an A2A 1.0 OAuthFlows holds "
      .. "exactly one (all are kept)", res.warnings[6].message)
  end)

  it("warns about 1.0 fields in a 0.x card (corroborating signals)", function()
    local c = card("v0.3-travel-desk.json")
    c.capabilities.extendedAgentCard = true
    c.securitySchemes.mtls = { mtlsSecurityScheme = {} }
    local res = a2a.validate(c)
    assert.is_true(res.valid)
    assert.same({ "capabilities.extendedAgentCard", "securitySchemes.mtls" }, fields(res.warnings))
    assert.matches("(card detected as 0.3)", res.warnings[1].message, 1, true)
  end)

  it("reads 0.3-form schemes in a 1.0 card and unknown wrapped schemes, with warnings", function()
    local c = card("v1.0-translation-agent.json")
    c.securitySchemes.bearer = { type = "http", scheme = "Bearer" }
    c.securitySchemes.future = { webAuthnSecurityScheme = { rpId = "langtech.example.com" } }
    local entry, res = valid_parse(c)
    assert.same({
      { field = "securitySchemes.future.webAuthnSecurityScheme",
        message = "unknown security scheme webAuthnSecurityScheme; kept as is" },
      { field = "securitySchemes.bearer", message = "type-discriminated security schemes are the A2A 0.2/0.3 "
        .. "format (card detected as 1.0)" },
    }, res.warnings)
    local schemes = caps_of(entry, "a2a.security_scheme")
    assert.same({ kind = "a2a.security_scheme", scheme_name = "bearer", type = "http", format = "0.3",
      http_scheme = "Bearer" }, schemes[1])
    assert.same({ kind = "a2a.security_scheme", scheme_name = "future", type = "webAuthnSecurityScheme",
      format = "1.0" }, schemes[3])
  end)

  it("flags 0.3 additions in a 0.2 card", function()
    local c = card("v0.2-recipe-planner.json")
    c.securitySchemes.mtls = { type = "mutualTLS" }
    c.skills[1].security = { { bearer = {} } }
    c.signatures = card("v0.3-travel-desk.json").signatures
    local res = a2a.validate(c)
    assert.is_true(res.valid)
    assert.same({ "securitySchemes.mtls", "skills[0].security", "signatures" }, fields(res.warnings))
  end)

  it("accepts gRPC interfaces as host:port", function()
    local c = card("v0.3-travel-desk.json")
    c.additionalInterfaces[2].url = "travel.example.com:443"
    assert.is_true(a2a.validate(c).valid)
    c.additionalInterfaces[3].url = "travel.example.com:443"
    assert.same({ "additionalInterfaces[2].url" }, fields(a2a.validate(c).errors))
  end)
end)

describe("a2a.validate errors", function()
  local cases = {
    { "invalid/missing-name.json", { { field = "name", message = "name is required" } } },
    { "invalid/skills-not-array.json", { { field = "skills", message = "skills must be an array, got object" } } },
    { "invalid/skill-missing-id.json", { { field = "skills[3].id", message = "skills[3].id is required" } } },
    { "invalid/bad-url.json", { { field = "url", message = "url is not an absolute URL (scheme://host)" } } },
    { "invalid/no-endpoint.json", { { field = "url", message = "url or supportedInterfaces is required" } } },
    { "invalid/not-an-object.json", { { field = "json", message = "document must be a JSON object, got array" } } },
    { "invalid/extension-missing-uri.json", { { field = "capabilities.extensions[1].uri",
      message = "capabilities.extensions[1].uri is required" } } },
    { "invalid/scheme-without-type.json", { { field = "securitySchemes.bearer",
      message = "securitySchemes.bearer must have a `type` (A2A 0.2/0.3) or one wrapped scheme such as "
        .. "apiKeySecurityScheme (A2A 1.0)" } } },
    { "invalid/undeclared-scheme.json", { { field = "skills[2].security[0].sso",
      message = "skills[2].security[0].sso refers to an undeclared security scheme \"sso\"" } } },
    { "invalid/missing-required.json", {
      { field = "description", message = "description is required" },
      { field = "version", message = "version is required" },
      { field = "capabilities", message = "capabilities is required" },
      { field = "defaultInputModes", message = "defaultInputModes is required" },
      { field = "defaultOutputModes", message = "defaultOutputModes is required" },
    } },
    { "invalid/wrong-types.json", {
      { field = "name", message = "name must be a string, got number" },
      { field = "version", message = "version must be a string, got number" },
      { field = "capabilities.streaming", message = "capabilities.streaming must be a boolean, got string" },
      { field = "defaultInputModes", message = "defaultInputModes must be an array, got string" },
      { field = "skills[0].tags", message = "skills[0].tags must be an array, got string" },
      { field = "skills[1].examples[1]", message = "skills[1].examples[1] must be a string, got number" },
    } },
    { "invalid/bad-interfaces.json", {
      { field = "supportedInterfaces[0].url",
        message = "supportedInterfaces[0].url is not an absolute URL (scheme://host)" },
      { field = "supportedInterfaces[1].protocolBinding",
        message = "supportedInterfaces[1].protocolBinding is required (`transport` is the 0.3 name)" },
      { field = "supportedInterfaces[2].protocolVersion",
        message = "supportedInterfaces[2].protocolVersion must be Major.Minor such as \"1.0\" or \"0.3\", got \"v1\"" },
    } },
    { "invalid/bad-security-1.0.json", {
      { field = "securitySchemes.both", message = "securitySchemes.both must hold exactly one security scheme, got "
        .. "httpAuthSecurityScheme, mtlsSecurityScheme" },
      { field = "securitySchemes.cc.oauth2SecurityScheme.flows.clientCredentials.tokenUrl",
        message = "securitySchemes.cc.oauth2SecurityScheme.flows.clientCredentials.tokenUrl is required" },
      { field = "securitySchemes.key.apiKeySecurityScheme.location", message =
        "securitySchemes.key.apiKeySecurityScheme.location must be one of query, header, cookie, got \"body\"" },
      { field = "securitySchemes.key.apiKeySecurityScheme.name",
        message = "securitySchemes.key.apiKeySecurityScheme.name is required" },
      { field = "securitySchemes.oauth.oauth2SecurityScheme.flows",
        message = "securitySchemes.oauth.oauth2SecurityScheme.flows is required" },
    } },
    { "invalid/bad-signatures.json", {
      { field = "signatures[0].protected", message = "signatures[0].protected must be base64url-encoded" },
      { field = "signatures[1].signature", message = "signatures[1].signature is required" },
    } },
  }
  for _, c in ipairs(cases) do
    it(c[1], function()
      local res = a2a.validate(text(c[1]))
      assert.is_false(res.valid)
      assert.same(c[2], res.errors)
      assert.is_nil(res.preview)
      local entry, res2 = a2a.parse(text(c[1]))
      assert.is_nil(entry)
      assert.same(c[2], res2.errors)
    end)
  end

  it("rejects text that is not JSON, and non-object documents", function()
    local res = a2a.validate("{not json")
    assert.is_false(res.valid)
    assert.equal("json", res.errors[1].field)
    assert.matches("^invalid JSON at line 1", res.errors[1].message)
    assert.same({ { field = "json", message = "document must be a JSON object, got string" } },
      a2a.validate('"card"').errors)
    assert.same({ { field = "json", message = "document must be a JSON object, got null" } },
      a2a.validate("null").errors)
    assert.same({ { field = "json", message = "document must be a JSON object, got number" } }, a2a.validate(42).errors)
    assert.same({ { field = "json", message = "document must be a JSON object, got nothing" } }, a2a.validate().errors)
  end)

  it("rejects documents over the size limit", function()
    local res = a2a.validate('{"name": "' .. ("x"):rep(V.MAX_DOCUMENT_BYTES) .. '"}')
    assert.same({ { field = "json", message = "document is larger than 1048576 bytes" } }, res.errors)
  end)

  it("bounds skills and other lists", function()
    local c = card("v1.0-translation-agent.json")
    local skills = json.array()
    for i = 1, 1001 do
      skills[i] = { id = "s" .. i, name = "S", description = "d", tags = { "t" } }
    end
    c.skills = skills
    assert.same({ { field = "skills", message = "skills must have at most 1000 items, got 1001" } },
      a2a.validate(c).errors)
    skills[1001] = nil
    assert.is_true(a2a.validate(c).valid)

    c = card("v1.0-translation-agent.json")
    c.name = ("n"):rep(513)
    c.skills[1].tags = {}
    for i = 1, 101 do
      c.skills[1].tags[i] = "t" .. i
    end
    assert.same({ "name", "skills[0].tags" }, fields(a2a.validate(c).errors))
  end)

  it("lists at most 100 errors and counts the rest", function()
    local c = card("v1.0-translation-agent.json")
    for i = 1, 150 do
      c.skills[i] = { name = "no id " .. i, description = "d", tags = { "t" } }
    end
    local res = a2a.validate(c)
    assert.equal(101, #res.errors)
    assert.same({ field = "json", message = "50 more errors not listed" }, res.errors[101])
  end)

  it("names the expected type for skills, interfaces, schemes and requirements", function()
    local c = card("v1.0-translation-agent.json")
    c.skills[2] = "translate"
    c.supportedInterfaces[2] = json.array()
    c.securitySchemes.bearer = "Bearer"
    c.securityRequirements[1] = { schemes = { bearer = "none" } }
    c.provider = { url = "https://langtech.example.com" }
    c.name = ""
    assert.same({
      { field = "name", message = "name must not be empty" },
      { field = "provider.organization", message = "provider.organization is required" },
      { field = "supportedInterfaces[1]", message = "supportedInterfaces[1] must be an object, got array" },
      { field = "securitySchemes.bearer", message = "securitySchemes.bearer must be an object, got string" },
      { field = "securityRequirements[0].schemes.bearer",
        message = "securityRequirements[0].schemes.bearer must be an object, got string" },
      { field = "skills[1]", message = "skills[1] must be an object, got string" },
    }, a2a.validate(c).errors)
  end)

  it("checks 0.x interfaces, transports and protocolVersion", function()
    local c = card("v0.3-travel-desk.json")
    c.additionalInterfaces[2].transport = nil
    c.additionalInterfaces[3].url = "not a url"
    c.protocolVersion = "latest"
    assert.same({
      { field = "protocolVersion", message = "protocolVersion must be a version such as \"0.3.0\", got \"latest\"" },
      { field = "additionalInterfaces[1].transport", message = "additionalInterfaces[1].transport is required" },
      { field = "additionalInterfaces[2].url",
        message = "additionalInterfaces[2].url contains whitespace or control characters" },
    }, a2a.validate(c).errors)
  end)

  it("checks security requirements and OAuth flows", function()
    local c = card("v0.3-travel-desk.json")
    c.security = { { oauth = { 1 } }, { nope = {} } }
    c.securitySchemes.oauth.flows = { magic = {} }
    c.securitySchemes.oidc.openIdConnectUrl = nil
    c.securitySchemes.partnerKey["in"] = "body"
    local res = a2a.validate(c)
    assert.same({
      { field = "securitySchemes.oauth.flows",
        message = "securitySchemes.oauth.flows must define at least one OAuth flow" },
      { field = "securitySchemes.oidc.openIdConnectUrl",
        message = "securitySchemes.oidc.openIdConnectUrl is required" },
      { field = "securitySchemes.partnerKey.in",
        message = "securitySchemes.partnerKey.in must be one of query, header, cookie, got \"body\"" },
      { field = "security[0].oauth[0]", message = "security[0].oauth[0] must be a string, got number" },
      { field = "security[1].nope", message = "security[1].nope refers to an undeclared security scheme \"nope\"" },
    }, res.errors)
    assert.same({ "securitySchemes.oauth.flows.magic" }, fields(res.warnings))
  end)

  it("checks 1.0 flow scopes and requirement lists", function()
    local c = card("v1.0-translation-agent.json")
    c.securitySchemes.device.oauth2SecurityScheme.flows.deviceCode.scopes = { translate = true }
    c.securityRequirements[2].schemes.device.list = "translate"
    assert.same({
      { field = "securitySchemes.device.oauth2SecurityScheme.flows.deviceCode.scopes.translate",
        message = "securitySchemes.device.oauth2SecurityScheme.flows.deviceCode.scopes.translate must be a string, "
          .. "got boolean" },
      { field = "securityRequirements[1].schemes.device.list",
        message = "securityRequirements[1].schemes.device.list must be an array, got string" },
    }, a2a.validate(c).errors)
  end)

  it("warns about malformed but parseable JWS headers", function()
    local c = card("v1.0-translation-agent.json")
    c.signatures[1].protected = "bm90IGpzb24" -- "not json"
    local res = a2a.validate(c)
    assert.is_true(res.valid)
    assert.same({ "signatures[0].protected" }, fields(res.warnings))
    c.signatures[1].protected = "eyJhbGciOiJub25lIiwia2lkIjoiayJ9" -- {"alg":"none","kid":"k"}
    res = a2a.validate(c)
    assert.same({ { field = "signatures[0].protected",
      message = "the JWS protected header uses alg \"none\", which is never accepted" } }, res.warnings)
  end)
end)

describe("a2a.parse", function()
  it("normalizes a 1.0 card into an entry", function()
    local entry = valid_parse(text("v1.0-translation-agent.json"))
    assert.equal("a2a", entry.protocol)
    assert.equal("Translation Agent", entry.display_name)
    assert.equal("Multi-language translation with glossary support.", entry.description)
    assert.equal("3.0.0", entry.version)
    assert.equal("1.0", entry.spec_version)
    assert.equal("https://translate.example.com/a2a/v1", entry.endpoint)
    assert.equal("JSONRPC", entry.binding)
    assert.equal("acme", entry.tenant)
    assert.same({ organization = "LangTech", url = "https://langtech.example.com" }, entry.provider)
    assert.same({ "admin", "nlp", "translation" }, wire(entry.categories))
    assert.same({ card_format = "1.0", dual_format = false, streaming = true, push_notifications = false,
      extended_agent_card = true, icon_url = "https://langtech.example.com/translate.png",
      documentation_url = "https://langtech.example.com/docs/translate", default_input_modes = { "text/plain" },
      default_output_modes = { "text/plain" }, signature_status = "unverified" }, wire(entry.details))
  end)

  it("extracts interfaces in order with binding, version and tenant", function()
    local entry = valid_parse(text("v1.0-translation-agent.json"))
    assert.same({
      { kind = "a2a.interface", url = "https://translate.example.com/a2a/v1", binding = "JSONRPC",
        protocol_version = "1.0", tenant = "acme", preferred = true },
      { kind = "a2a.interface", url = "https://translate.example.com/a2a/rest", binding = "HTTP+JSON",
        protocol_version = "1.0", preferred = false },
      { kind = "a2a.interface", url = "https://translate.example.com/a2a/legacy", binding = "JSONRPC",
        protocol_version = "0.3", preferred = false },
    }, caps_of(entry, "a2a.interface"))
  end)

  it("builds 0.3 interfaces from url, preferredTransport and additionalInterfaces", function()
    local entry = valid_parse(text("v0.3-travel-desk.json"))
    assert.equal("https://travel.example.com/a2a/jsonrpc", entry.endpoint)
    local got = {}
    for _, i in ipairs(caps_of(entry, "a2a.interface")) do
      got[#got + 1] = i.binding .. " " .. i.url .. " " .. i.protocol_version
    end
    assert.same({ -- the additional interface repeating url + transport is not listed twice
      "JSONRPC https://travel.example.com/a2a/jsonrpc 0.3",
      "GRPC https://travel.example.com/a2a/grpc 0.3",
      "HTTP+JSON https://travel.example.com/a2a/rest 0.3",
    }, got)
    local c = card("v0.2-recipe-planner.json")
    c.preferredTransport = nil
    entry = valid_parse(c)
    assert.same({ { kind = "a2a.interface", url = "https://recipes.example.org/a2a", binding = "JSONRPC",
      protocol_version = "0.2", preferred = true } }, caps_of(entry, "a2a.interface"))
  end)

  it("takes the endpoint of a dual-format card from supportedInterfaces", function()
    local c = card("dual-format.json")
    c.url = "https://old.triage.example.io/a2a"
    local entry, res = valid_parse(c)
    assert.equal("https://triage.example.io/a2a", entry.endpoint)
    assert.is_true(entry.details.dual_format)
    assert.same({ { field = "url", message = "url (0.3 compatibility field) matches no supportedInterfaces[].url" } },
      res.warnings)
    -- the 1.0 requirement wins over the 0.3 copy
    assert.same({ { kind = "a2a.security_requirement", schemes = { apiKey = {} } } },
      caps_of(entry, "a2a.security_requirement"))
  end)

  it("extracts skills with the section 4 fields", function()
    local entry = valid_parse(text("v0.3-travel-desk.json"))
    local skills = caps_of(entry, "a2a.skill")
    assert.equal(3, #skills)
    assert.same({ kind = "a2a.skill", id = "search-flights", name = "Search flights",
      description = "Finds flights between two airports for given dates.", tags = { "travel", "flights" },
      inputModes = { "text/plain" }, outputModes = { "application/json" },
      examples = { "Flights from MUC to LIS next Tuesday morning" } }, skills[1])
    assert.same({}, skills[2].inputModes)
    assert.equal("Search flights", entry.capabilities[4].name)
    assert.equal("Finds flights between two airports for given dates.", entry.capabilities[4].description)
    assert.equal("a2a.skill", entry.capabilities[4].kind)
    assert.same({ "booking", "flights", "hotels", "travel" }, wire(entry.categories))
  end)

  it("reads 0.3 OpenAPI security schemes (mutualTLS, multi-flow OAuth)", function()
    local entry = valid_parse(text("v0.3-travel-desk.json"))
    local schemes = caps_of(entry, "a2a.security_scheme")
    assert.same({ "mtls", "oauth", "oidc", "partnerKey" },
      { schemes[1].scheme_name, schemes[2].scheme_name, schemes[3].scheme_name, schemes[4].scheme_name })
    assert.same({ kind = "a2a.security_scheme", scheme_name = "mtls", type = "mutualTls", format = "0.3",
      description = "Partner certificates" }, schemes[1])
    assert.same({
      kind = "a2a.security_scheme", scheme_name = "oauth", type = "oauth2", format = "0.3",
      description = "Corporate SSO",
      oauth2_metadata_url = "https://sso.example.com/.well-known/oauth-authorization-server",
      oauth_flows = {
        { flow_type = "authorizationCode", deprecated = false, authorization_url = "https://sso.example.com/authorize",
          token_url = "https://sso.example.com/token", refresh_url = "https://sso.example.com/token",
          scopes = { ["trips:read"] = "Read trips", ["trips:book"] = "Book trips" } },
        { flow_type = "clientCredentials", deprecated = false, token_url = "https://sso.example.com/token",
          scopes = { ["trips:read"] = "Read trips" } },
      },
    }, schemes[2])
    assert.same({ kind = "a2a.security_scheme", scheme_name = "oidc", type = "openIdConnect", format = "0.3",
      openid_connect_url = "https://sso.example.com/.well-known/openid-configuration" }, schemes[3])
    assert.same({ kind = "a2a.security_scheme", scheme_name = "partnerKey", type = "apiKey", format = "0.3",
      api_key_location = "header", api_key_name = "X-Partner-Key" }, schemes[4])
  end)

  it("reads 1.0 wrapped security schemes (location, deviceCode, mTLS)", function()
    local entry = valid_parse(text("v1.0-translation-agent.json"))
    local schemes = caps_of(entry, "a2a.security_scheme")
    assert.same({ kind = "a2a.security_scheme", scheme_name = "bearer", type = "http", format = "1.0",
      http_scheme = "Bearer", bearer_format = "JWT" }, schemes[1])
    assert.same({ kind = "a2a.security_scheme", scheme_name = "device", type = "oauth2", format = "1.0",
      description = "Device login for CLI tools",
      oauth_flows = { { flow_type = "deviceCode", deprecated = false,
        device_auth_url = "https://auth.langtech.example.com/device",
        token_url = "https://auth.langtech.example.com/token",
        scopes = { translate = "Translate documents" } } } }, schemes[2])
    assert.same({ kind = "a2a.security_scheme", scheme_name = "key", type = "apiKey", format = "1.0",
      api_key_location = "query", api_key_name = "api_key" }, schemes[3])
    assert.same({ kind = "a2a.security_scheme", scheme_name = "mtls", type = "mutualTls", format = "1.0",
      description = "Private network clients" }, schemes[4])
  end)

  it("flags deprecated OAuth flows", function()
    local c = card("v0.3-travel-desk.json")
    c.securitySchemes.oauth.flows.implicit = { authorizationUrl = "https://sso.example.com/authorize",
      scopes = { ["trips:read"] = "Read" } }
    local entry, res = valid_parse(c)
    assert.same({}, res.warnings) -- not deprecated in 0.3
    local flows = caps_of(entry, "a2a.security_scheme")[2].oauth_flows
    assert.same({ "authorizationCode", "clientCredentials", "implicit" },
      { flows[1].flow_type, flows[2].flow_type, flows[3].flow_type })
    assert.is_true(flows[3].deprecated)
  end)

  it("reads requirements in both formats, OR across entries, per skill with skill_ref", function()
    local entry = valid_parse(text("v0.3-travel-desk.json"))
    assert.same({
      { kind = "a2a.security_requirement", schemes = { oauth = { "trips:read" } } },
      { kind = "a2a.security_requirement", schemes = { mtls = {}, partnerKey = {} } },
      { kind = "a2a.security_requirement", schemes = { oauth = { "trips:book" } }, skill_ref = "Book trip",
        skill_id = "book-trip" },
    }, caps_of(entry, "a2a.security_requirement"))
    entry = valid_parse(text("v1.0-translation-agent.json"))
    assert.same({
      { kind = "a2a.security_requirement", schemes = { bearer = {} } },
      { kind = "a2a.security_requirement", schemes = { device = { "translate" } } },
      { kind = "a2a.security_requirement", schemes = { mtls = {}, key = {} }, skill_ref = "Manage glossary",
        skill_id = "glossary-admin" },
    }, caps_of(entry, "a2a.security_requirement"))
    local names = {}
    for _, c in ipairs(entry.capabilities) do
      if c.kind == "a2a.security_requirement" then
        names[#names + 1] = c.name
      end
    end
    assert.same({ "bearer", "device", "key + mtls" }, names)
  end)

  it("reads the 0.3-shaped requirement inside securityRequirements leniently", function()
    local c = card("v1.0-translation-agent.json")
    c.securityRequirements = { { bearer = {} }, { schemes = { device = { "translate" } } } }
    local entry, res = valid_parse(c)
    assert.same({ "securityRequirements[0]", "securityRequirements[1].schemes.device" }, fields(res.warnings))
    local reqs = caps_of(entry, "a2a.security_requirement")
    assert.same({ bearer = {} }, reqs[1].schemes)
    assert.same({ device = { "translate" } }, reqs[2].schemes)
  end)

  it("maps the 0.1 authentication object", function()
    local entry = valid_parse(text("v0.1-echo.json"))
    assert.same({ { kind = "a2a.security_scheme", scheme_name = "Bearer", method = "Bearer", type = "http",
      http_scheme = "Bearer", format = "0.1" } }, caps_of(entry, "a2a.security_scheme"))
    assert.same({ { kind = "a2a.security_requirement", schemes = { Bearer = {} } } },
      caps_of(entry, "a2a.security_requirement"))
  end)

  it("extracts extensions", function()
    local entry = valid_parse(text("v0.3-travel-desk.json"))
    assert.same({
      { kind = "a2a.extension", uri = "https://travel.example.com/ext/policy/v1", required = false,
        description = "Travel policy checks", params = { maxNightlyRate = 180 } },
      { kind = "a2a.extension", uri = "https://a2a.example.org/ext/traceability/v1", required = true },
    }, caps_of(entry, "a2a.extension"))
  end)

  it("records signatures as JWS with algorithm and keyId from the protected header", function()
    local c = card("v0.3-travel-desk.json")
    local entry = valid_parse(c)
    local sigs = caps_of(entry, "a2a.signature")
    assert.equal(1, #sigs)
    assert.same({
      kind = "a2a.signature", algorithm = "ES256", keyId = "travel-2025-08", typ = "JOSE",
      jku = "https://travel.example.com/.well-known/jwks.json",
      protected = c.signatures[1].protected, signature = c.signatures[1].signature,
      header = { timestamp = "2025-08-14T09:00:00Z" },
    }, sigs[1])
    assert.equal("unverified", entry.details.signature_status)
    assert.equal("absent", valid_parse(text("dual-format.json")).details.signature_status)
  end)

  it("decodes base64url", function()
    assert.equal('{"alg":"ES256"}', a2a.base64url_decode("eyJhbGciOiJFUzI1NiJ9"))
    assert.equal("ab", a2a.base64url_decode("YWI="))
    assert.equal("\255\254", a2a.base64url_decode("__4"))
    assert.is_nil(a2a.base64url_decode("a+b/"))
    assert.is_nil(a2a.base64url_decode("abcde"))
  end)

  it("uses only known capability kinds", function()
    for _, name in ipairs({ "v0.1-echo.json", "v0.2-recipe-planner.json", "v0.3-travel-desk.json",
      "v1.0-translation-agent.json", "dual-format.json", "v1.0-spec-sample-mixed.json" }) do
      for _, c in ipairs(valid_parse(text(name)).capabilities) do
        assert.is_not_nil(capability.KINDS[c.kind], c.kind)
        assert.is_string(c.name)
        assert.is_table(c.properties)
      end
    end
  end)
end)

describe("a2a JSON encoding", function()
  it("encodes empty errors and warnings as []", function()
    local s = json.encode(a2a.validate(text("v0.3-travel-desk.json")))
    assert.matches('"errors":[]', s, 1, true)
    assert.matches('"warnings":[]', s, 1, true)
    assert.matches('"valid":true', s, 1, true)
    s = json.encode(a2a.validate(text("invalid/missing-name.json")))
    assert.matches('"warnings":[]', s, 1, true)
    assert.matches('"errors":[{"field":"name","message":"name is required"}]', s, 1, true)
    assert.is_nil(s:find('"preview"', 1, true))
  end)

  it("encodes a Lua-built card's empty lists as arrays and its scopes as objects", function()
    local c = {
      name = "Lua Agent", description = "built in Lua", version = "1", url = "https://lua.example/a2a",
      protocolVersion = "0.3.0", capabilities = {}, defaultInputModes = { "text" }, defaultOutputModes = { "text" },
      securitySchemes = { o = { type = "oauth2", flows = { clientCredentials = { tokenUrl = "https://t.example/",
        scopes = {} } } } },
      security = { { o = {} } },
      skills = { { id = "a", name = "A", description = "a", tags = {} } },
    }
    local entry, res = a2a.parse(c)
    assert.is_true(res.valid, json.encode(res.errors))
    local caps = json.array()
    for _, cap in ipairs(entry.capabilities) do
      caps[#caps + 1] = capability.to_json(cap)
    end
    entry.capabilities = caps
    local s = json.encode(entry)
    assert.matches('"tags":[]', s, 1, true)
    assert.matches('"examples":[]', s, 1, true)
    assert.matches('"scopes":{}', s, 1, true)
    assert.matches('"schemes":{"o":[]}', s, 1, true)
    assert.matches('"categories":[]', s, 1, true)
  end)
end)
