-- SPDX-License-Identifier: Apache-2.0
-- A2A Agent Cards (0.1, 0.2.x, 0.3.x, 1.0 and dual-format): version detection, validation and
-- normalization into a catalog entry with capability records. Pure: no I/O, no database.
--
--   a2a.validate(card)  -> ValidationResult
--   a2a.parse(card)     -> entry, ValidationResult | nil, ValidationResult
--   a2a.detect_version(card) -> {format=, spec_version=, protocol_versions=, dual=}
--
-- `card` is a decoded table or JSON text. Field paths follow agentlens.lib.validate (0-based
-- indices: `skills[2].id`, `supportedInterfaces[0].url`). Security schemes and requirements are
-- read in both formats (0.3 OpenAPI `type` objects / `security`, 1.0 wrapped one-ofs /
-- `securityRequirements`), whichever the card uses, since both occur in the wild.
local json = require "agentlens.json"
local V = require "agentlens.lib.validate"
local capability = require "agentlens.protocols.capability"
local security = require "agentlens.protocols.a2a_security"

local present, key, index = V.present, V.key, V.index

local M = {}

-- Bounds that keep one card's cost predictable; exceeding one is an error.
M.LIMITS = {
  skills = 1000,
  tags = 100, -- per skill
  examples = 100, -- per skill
  modes = 64,
  interfaces = 32,
  extensions = 64,
  signatures = 16,
  name_len = 512,
  text_len = 16384,
  url_len = 2048,
  jws_len = 16384,
}
local L = M.LIMITS

M.BINDINGS = { JSONRPC = true, GRPC = true, ["HTTP+JSON"] = true }
M.KNOWN_VERSIONS = { ["0.1"] = true, ["0.2"] = true, ["0.3"] = true, ["1.0"] = true }

-- ---- versions ------------------------------------------------------------------------------

-- major_minor("0.3.0") -> "0.3", true (a patch part was present) | nil.
local function major_minor(s)
  local maj, min, rest = s:match("^(%d+)%.(%d+)(.*)$")
  if not maj or (rest ~= "" and not rest:match("^%.%d+")) then
    return nil
  end
  return tonumber(maj) .. "." .. tonumber(min), rest ~= ""
end
M.major_minor = major_minor

-- detect_version(card) -> {format = "1.0" | "0.x" | nil, spec_version = "1.0" | "0.3" | ... | "",
-- protocol_versions = {...}, dual = bool}. Protocol reference 1.6; never keyed on fields that no
-- released version defines.
function M.detect_version(card)
  local si = card.supportedInterfaces
  if V.kind(si) == "array" and #si > 0 then
    local versions, seen = {}, {}
    for _, iface in ipairs(si) do
      local pv = type(iface) == "table" and iface.protocolVersion
      local mm = type(pv) == "string" and major_minor(pv)
      if mm and not seen[mm] then
        seen[mm] = true
        versions[#versions + 1] = mm
      end
    end
    local dual = present(card.url) or present(card.protocolVersion) or present(card.preferredTransport)
      or present(card.additionalInterfaces)
    return { format = "1.0", spec_version = "1.0", protocol_versions = versions, dual = dual }
  end
  local pv = card.protocolVersion
  if type(pv) == "string" then
    local mm = major_minor(pv)
    return { format = "0.x", spec_version = mm or "", protocol_versions = { mm }, dual = false }
  end
  if present(card.url) then
    local v = "0.2"
    if V.is_object(card.authentication) and not present(card.securitySchemes) then
      v = "0.1"
    end
    return { format = "0.x", spec_version = v, protocol_versions = { v }, dual = false }
  end
  return { format = nil, spec_version = "", protocol_versions = {}, dual = false }
end

-- ---- small helpers -------------------------------------------------------------------------

local B64 = {}
do
  local alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
  for i = 1, 64 do
    B64[alphabet:byte(i)] = i - 1
  end
end

-- base64url(s) -> bytes | nil (unpadded or padded input).
local function base64url(s)
  s = s:gsub("=+$", "")
  if s:find("[^%w_%-]") or #s % 4 == 1 then
    return nil
  end
  local out, acc, nbits = {}, 0, 0
  for i = 1, #s do
    acc = acc * 64 + B64[s:byte(i)]
    nbits = nbits + 6
    if nbits >= 8 then
      nbits = nbits - 8
      local scale = 2 ^ nbits
      local byte = math.floor(acc / scale)
      out[#out + 1] = string.char(byte)
      acc = acc - byte * scale
    end
  end
  return table.concat(out)
end
M.base64url_decode = base64url

-- ---- card sections -------------------------------------------------------------------------

local function check_interface_1x(r, iface, p)
  if not V.is_object(iface) then
    r:type_error(p, "object", iface)
    return nil
  end
  local bp = key(p, "protocolBinding")
  local binding
  if not present(iface.protocolBinding) then
    local hint = ""
    if present(iface.transport) then
      hint = " (`transport` is the 0.3 name)"
    elseif present(iface.binding) then
      hint = " (found `binding`)"
    end
    r:error(bp, bp .. " is required" .. hint)
  else
    binding = r:get(iface, "protocolBinding", bp, "string", { non_empty = true, max_len = L.name_len })
    if binding and not M.BINDINGS[binding] then
      r:warn(bp, "unknown protocol binding \"" .. binding .. "\" (core bindings: JSONRPC, GRPC, HTTP+JSON)")
    end
  end
  local url = r:url(iface, "url", key(p, "url"),
    { required = true, strict = true, allow_authority = binding == "GRPC", max_len = L.url_len })
  local vp = key(p, "protocolVersion")
  local pv = r:get(iface, "protocolVersion", vp, "string", { required = true })
  local mm, patch
  if pv then
    mm, patch = major_minor(pv)
    if not mm then
      r:error(vp, vp .. " must be Major.Minor such as \"1.0\" or \"0.3\", got \"" .. pv .. "\"")
    elseif patch then
      r:warn(vp, vp .. " should be Major.Minor without a patch number (\"" .. mm .. "\")")
    elseif not M.KNOWN_VERSIONS[mm] then
      r:warn(vp, "unknown A2A protocol version \"" .. mm .. "\"")
    end
  end
  local tenant = r:get(iface, "tenant", key(p, "tenant"), "string", { max_len = L.name_len })
  if url and binding and mm then
    return { url = url, binding = binding, protocol_version = mm, tenant = tenant }
  end
  return nil
end

-- 0.2.4+/0.3 endpoint fields: url, preferredTransport, additionalInterfaces. Returns interfaces.
local function check_interfaces_0x(r, card, protocol_version, required)
  local out = {}
  local url
  if not present(card.url) then
    if required then
      r:error("url", "url or supportedInterfaces is required")
    end
  else
    url = r:url(card, "url", "url", { strict = true, max_len = L.url_len })
  end
  local pt = r:get(card, "preferredTransport", "preferredTransport", "string", { max_len = L.name_len })
  if pt and not M.BINDINGS[pt] then
    r:warn("preferredTransport", "unknown transport \"" .. pt .. "\" (JSONRPC, GRPC, HTTP+JSON)")
  end
  local binding = pt or "JSONRPC"
  if url then
    out[1] = { url = url, binding = binding, protocol_version = protocol_version }
  end
  local extra = r:get(card, "additionalInterfaces", "additionalInterfaces", "array", { max_items = L.interfaces })
  for i, iface in ipairs(extra or {}) do
    local p = index("additionalInterfaces", i)
    if not V.is_object(iface) then
      r:type_error(p, "object", iface)
    else
      local t = r:get(iface, "transport", key(p, "transport"), "string", { required = true, non_empty = true })
      if t and not M.BINDINGS[t] then
        r:warn(key(p, "transport"), "unknown transport \"" .. t .. "\" (JSONRPC, GRPC, HTTP+JSON)")
      end
      local u = r:url(iface, "url", key(p, "url"),
        { required = true, strict = true, allow_authority = t == "GRPC", max_len = L.url_len })
      if u and t and not (u == url and t == binding) then
        out[#out + 1] = { url = u, binding = t, protocol_version = protocol_version }
      end
    end
  end
  return out
end

local function check_capabilities(r, card, ctx, model)
  local caps = r:get(card, "capabilities", "capabilities", "object", { required = true })
  local flags = {}
  if caps then
    flags.streaming = r:get(caps, "streaming", "capabilities.streaming", "boolean")
    flags.push_notifications = r:get(caps, "pushNotifications", "capabilities.pushNotifications", "boolean")
    flags.extended_agent_card = r:get(caps, "extendedAgentCard", "capabilities.extendedAgentCard", "boolean")
    flags.state_transition_history = r:get(caps, "stateTransitionHistory", "capabilities.stateTransitionHistory",
      "boolean")
    if present(caps.stateTransitionHistory) and ctx.format == "1.0" and not ctx.dual then
      r:warn("capabilities.stateTransitionHistory", "capabilities.stateTransitionHistory was removed in A2A 1.0; "
        .. "ignored")
    end
    if present(caps.extendedAgentCard) and ctx.format == "0.x" then
      ctx.signals[#ctx.signals + 1] = { "capabilities.extendedAgentCard",
        "capabilities.extendedAgentCard is the A2A 1.0 field (0.x cards use supportsAuthenticatedExtendedCard)" }
    end
    local exts = r:get(caps, "extensions", "capabilities.extensions", "array", { max_items = L.extensions })
    for i, ext in ipairs(exts or {}) do
      local p = index("capabilities.extensions", i)
      if not V.is_object(ext) then
        r:type_error(p, "object", ext)
      else
        local uri = r:get(ext, "uri", key(p, "uri"), "string",
          { required = true, non_empty = true, max_len = L.url_len })
        local rec = {
          uri = uri,
          description = r:get(ext, "description", key(p, "description"), "string", { max_len = L.text_len }),
          required = r:get(ext, "required", key(p, "required"), "boolean") or false,
          params = r:get(ext, "params", key(p, "params"), "object"),
        }
        if uri then
          model.extensions[#model.extensions + 1] = rec
        end
      end
    end
  end
  if present(card.stateTransitionHistory) then
    r:warn("stateTransitionHistory", "stateTransitionHistory belongs in capabilities; ignored at the card root")
  end
  local legacy_flag = r:get(card, "supportsAuthenticatedExtendedCard", "supportsAuthenticatedExtendedCard", "boolean")
  if legacy_flag ~= nil and ctx.format == "1.0" and not ctx.dual then
    r:warn("supportsAuthenticatedExtendedCard",
      "supportsAuthenticatedExtendedCard is the 0.x flag; A2A 1.0 uses capabilities.extendedAgentCard")
  end
  if flags.extended_agent_card == nil then
    flags.extended_agent_card = legacy_flag
  end
  if present(card.supportsExtendedAgentCard) then
    r:warn("supportsExtendedAgentCard", "supportsExtendedAgentCard is not defined by any A2A version; ignored "
      .. "(use capabilities.extendedAgentCard)")
  end
  model.flags = flags
end

local function check_skills(r, card, ctx, model)
  local skills = r:get(card, "skills", "skills", "array", { required = true, max_items = L.skills })
  if not skills then
    return
  end
  if #skills == 0 then
    r:warn("skills", "skills is empty: the agent advertises no skills")
  end
  local ids = {}
  for i, skill in ipairs(skills) do
    local p = index("skills", i)
    if not V.is_object(skill) then
      r:type_error(p, "object", skill)
    else
      local rec = {
        id = r:get(skill, "id", key(p, "id"), "string", { required = true, non_empty = true, max_len = L.name_len }),
        name = r:get(skill, "name", key(p, "name"), "string", { required = true, max_len = L.name_len }),
        description = r:get(skill, "description", key(p, "description"), "string",
          { required = true, max_len = L.text_len }),
        tags = r:string_list(skill, "tags", key(p, "tags"),
          { required = true, max_items = L.tags, max_len = L.name_len }),
        examples = r:string_list(skill, "examples", key(p, "examples"),
          { max_items = L.examples, max_len = L.text_len }),
        inputModes = r:string_list(skill, "inputModes", key(p, "inputModes"),
          { max_items = L.modes, max_len = L.name_len }),
        outputModes = r:string_list(skill, "outputModes", key(p, "outputModes"),
          { max_items = L.modes, max_len = L.name_len }),
      }
      if rec.tags and #rec.tags == 0 and ctx.format == "1.0" then
        r:warn(key(p, "tags"), key(p, "tags") .. " is empty (A2A 1.0 expects at least one tag)")
      end
      if rec.id then
        if ids[rec.id] then
          r:warn(key(p, "id"), "duplicate skill id \"" .. rec.id .. "\" (also " .. ids[rec.id] .. ")")
        else
          ids[rec.id] = p
        end
      end
      if present(skill.security) and ctx.spec_version == "0.2" then
        ctx.signals[#ctx.signals + 1] = { key(p, "security"), "per-skill security was added in A2A 0.3.0" }
      end
      for _, req in ipairs(security.requirements(r, skill, p, ctx)) do
        model.skill_requirements[#model.skill_requirements + 1] = { schemes = req, skill_ref = rec.name,
          skill_id = rec.id }
      end
      model.skills[#model.skills + 1] = rec
    end
  end
end

local function check_signatures(r, card, ctx, model)
  local sigs = r:get(card, "signatures", "signatures", "array", { max_items = L.signatures })
  if sigs and #sigs > 0 and ctx.spec_version == "0.2" then
    ctx.signals[#ctx.signals + 1] = { "signatures", "card signatures were added in A2A 0.3.0" }
  end
  for i, sig in ipairs(sigs or {}) do
    local p = index("signatures", i)
    if not V.is_object(sig) then
      r:type_error(p, "object", sig)
    else
      local pp, sp = key(p, "protected"), key(p, "signature")
      local jws = { required = true, non_empty = true, max_len = L.jws_len }
      local protected = r:get(sig, "protected", pp, "string", jws)
      local signature = r:get(sig, "signature", sp, "string", jws)
      local header = r:get(sig, "header", key(p, "header"), "object")
      if signature and signature:find("[^%w_%-=]") then
        r:error(sp, sp .. " must be base64url-encoded")
        signature = nil
      end
      local hdr
      if protected then
        local raw = base64url(protected)
        hdr = raw and json.decode(raw)
        if not raw then
          r:error(pp, pp .. " must be base64url-encoded")
          protected = nil
        elseif not V.is_object(hdr) then
          r:warn(pp, pp .. " does not decode to a JSON object (JWS protected header); the signature cannot verify")
          hdr = nil
        end
      end
      if protected and signature then
        local rec = { protected = protected, signature = signature, header = header }
        if hdr then
          rec.algorithm = type(hdr.alg) == "string" and hdr.alg or nil
          rec.keyId = type(hdr.kid) == "string" and hdr.kid or nil
          rec.typ = type(hdr.typ) == "string" and hdr.typ or nil
          rec.jku = type(hdr.jku) == "string" and hdr.jku or nil
          if not rec.algorithm then
            r:warn(pp, "the JWS protected header has no `alg`")
          elseif rec.algorithm:lower() == "none" then
            r:warn(pp, "the JWS protected header uses alg \"none\", which is never accepted")
          end
          if not rec.keyId then
            r:warn(pp, "the JWS protected header has no `kid`")
          end
        end
        model.signatures[#model.signatures + 1] = rec
      end
    end
  end
end

-- ---- validation ----------------------------------------------------------------------------

-- check(card) -> report, info, model. `model` holds the normalized card when the report is clean.
local function check(card)
  local r = V.report()
  local info = M.detect_version(card)
  local ctx = { format = info.format, dual = info.dual, spec_version = info.spec_version, signals = {},
    declared = {} }
  local model = { skills = {}, extensions = {}, schemes = {}, requirements = {}, skill_requirements = {},
    signatures = {}, interfaces = {} }
  local is_0_1 = info.spec_version == "0.1"

  model.name = r:get(card, "name", "name", "string", { required = true, non_empty = true, max_len = L.name_len })
  model.description = r:get(card, "description", "description", "string",
    { required = not is_0_1, max_len = L.text_len })
  model.version = r:get(card, "version", "version", "string", { required = true, max_len = L.name_len })
  model.icon_url = r:url(card, "iconUrl", "iconUrl")
  model.documentation_url = r:url(card, "documentationUrl", "documentationUrl")

  local provider = r:get(card, "provider", "provider", "object")
  if provider then
    model.provider = {
      organization = r:get(provider, "organization", "provider.organization", "string",
        { required = true, max_len = L.name_len }),
      url = r:url(provider, "url", "provider.url", { required = true }),
    }
  end

  -- Protocol version and endpoints.
  local pv = r:get(card, "protocolVersion", "protocolVersion", "string", { max_len = 64 })
  if info.format == "1.0" then
    local list = r:get(card, "supportedInterfaces", "supportedInterfaces", "array", { max_items = L.interfaces })
    for i, iface in ipairs(list or {}) do
      local rec = check_interface_1x(r, iface, index("supportedInterfaces", i))
      if rec then
        model.interfaces[#model.interfaces + 1] = rec
      end
    end
    if info.dual then
      local compat = check_interfaces_0x(r, card, pv and major_minor(pv) or "0.3", false)
      local url = compat[1] and compat[1].url
      local listed = false
      for _, iface in ipairs(model.interfaces) do
        listed = listed or iface.url == url
      end
      if url and not listed then
        r:warn("url", "url (0.3 compatibility field) matches no supportedInterfaces[].url")
      end
    end
  else
    if present(card.supportedInterfaces) then
      if V.is_array(card.supportedInterfaces) then
        r:warn("supportedInterfaces", "supportedInterfaces is empty; the 0.x url is used")
      else
        r:type_error("supportedInterfaces", "array", card.supportedInterfaces)
      end
    end
    if pv then
      local mm = major_minor(pv)
      if not mm then
        r:error("protocolVersion", "protocolVersion must be a version such as \"0.3.0\", got \"" .. pv .. "\"")
      elseif mm == "1.0" then
        r:warn("protocolVersion", "protocolVersion is 1.0 but the card has no supportedInterfaces; "
          .. "validated with the 0.3 layout")
      elseif not M.KNOWN_VERSIONS[mm] then
        r:warn("protocolVersion", "unknown A2A protocol version \"" .. pv .. "\"; validated with the 0.3 rules")
      end
    elseif info.spec_version == "0.2" then
      r:warn("protocolVersion", "protocolVersion is required since A2A 0.2.5; assuming 0.2")
    end
    if is_0_1 then
      r:warn("authentication", "A2A 0.1 card: the authentication object was replaced by securitySchemes in 0.2.0")
    end
    model.interfaces = check_interfaces_0x(r, card, info.spec_version ~= "" and info.spec_version or "0.3", true)
  end

  check_capabilities(r, card, ctx, model)

  local mode_opts = { required = not is_0_1, max_items = L.modes, max_len = L.name_len }
  model.default_input_modes = r:string_list(card, "defaultInputModes", "defaultInputModes", mode_opts)
  model.default_output_modes = r:string_list(card, "defaultOutputModes", "defaultOutputModes", mode_opts)
  if info.format == "1.0" then
    for _, f in ipairs({ "defaultInputModes", "defaultOutputModes" }) do
      local list = f == "defaultInputModes" and model.default_input_modes or model.default_output_modes
      if list and #list == 0 then
        r:warn(f, f .. " is empty (A2A 1.0 expects at least one media type)")
      end
    end
  end

  -- Security: schemes first, so requirements can be checked against the declared names.
  model.schemes = security.schemes(r, card, ctx)
  if is_0_1 then
    security.authentication_0_1(r, card, model)
  elseif present(card.authentication) then
    r:warn("authentication", "authentication is the A2A 0.1 field, replaced by securitySchemes; ignored")
  end
  for _, req in ipairs(security.requirements(r, card, "", ctx)) do
    model.requirements[#model.requirements + 1] = req
  end

  check_skills(r, card, ctx, model)
  check_signatures(r, card, ctx, model)

  for _, s in ipairs(ctx.signals) do
    r:warn(s[1], s[2] .. " (card detected as " .. (info.spec_version ~= "" and info.spec_version or "unknown") .. ")")
  end
  return r, info, model
end

local function preview_of(info, model)
  local scheme_names, interfaces = json.array(), json.array()
  for _, s in ipairs(model.schemes) do
    scheme_names[#scheme_names + 1] = s.scheme_name
  end
  for _, iface in ipairs(model.interfaces) do
    interfaces[#interfaces + 1] = iface.binding or iface.url
  end
  local primary = model.interfaces[1] or {}
  return {
    display_name = model.name,
    description = model.description,
    version = model.version,
    protocol = "a2a",
    spec_version = info.spec_version,
    protocol_versions = V.strings(info.protocol_versions),
    dual_format = info.dual,
    endpoint = primary.url,
    provider = model.provider,
    skills_count = #model.skills,
    extensions_count = #model.extensions,
    signatures_count = #model.signatures,
    security_schemes = scheme_names,
    interfaces = interfaces,
  }
end

-- validate(card) -> ValidationResult {valid, spec_version, protocol="a2a", errors, warnings,
-- preview (valid only)}. Never raises on bad input.
function M.validate(card)
  local doc, err = V.document(card)
  if not doc then
    local r = V.report()
    r:error("json", err)
    return r:result("", nil, { protocol = "a2a" })
  end
  local r, info, model = check(doc)
  return r:result(info.spec_version, preview_of(info, model), { protocol = "a2a" })
end

-- ---- normalization -------------------------------------------------------------------------

local function requirement_name(schemes)
  local names = V.sorted_keys(schemes)
  return #names > 0 and table.concat(names, " + ") or "(anonymous)"
end

local function capabilities_of(model)
  local caps = json.array()
  local function add(kind, name, description, props)
    caps[#caps + 1] = capability.new(kind, name, description, props)
  end
  for i, iface in ipairs(model.interfaces) do
    add("a2a.interface", iface.url, nil, { url = iface.url, binding = iface.binding,
      protocol_version = iface.protocol_version, tenant = iface.tenant, preferred = i == 1 })
  end
  for _, s in ipairs(model.skills) do
    add("a2a.skill", s.name, s.description, { id = s.id, name = s.name, description = s.description,
      tags = s.tags, inputModes = s.inputModes or json.array(), outputModes = s.outputModes or json.array(),
      examples = s.examples or json.array() })
  end
  for _, e in ipairs(model.extensions) do
    add("a2a.extension", e.uri, e.description, { uri = e.uri, required = e.required, description = e.description,
      params = e.params })
  end
  for _, s in ipairs(model.schemes) do
    add("a2a.security_scheme", s.scheme_name, s.description, s)
  end
  for _, req in ipairs(model.requirements) do
    add("a2a.security_requirement", requirement_name(req), nil, { schemes = req })
  end
  for _, req in ipairs(model.skill_requirements) do
    add("a2a.security_requirement", requirement_name(req.schemes), nil, { schemes = req.schemes,
      skill_ref = req.skill_ref, skill_id = req.skill_id })
  end
  for i, sig in ipairs(model.signatures) do
    add("a2a.signature", sig.keyId or ("signature " .. (i - 1)), nil, sig)
  end
  return caps
end

local function categories_of(model)
  local seen, out = {}, json.array()
  for _, s in ipairs(model.skills) do
    for _, t in ipairs(s.tags or {}) do
      if not seen[t] then
        seen[t] = true
        out[#out + 1] = t
      end
    end
  end
  table.sort(out)
  return out
end

-- parse(card) -> entry, ValidationResult | nil, ValidationResult. The entry:
-- {protocol="a2a", display_name, description, version, spec_version, protocol_versions[],
--  endpoint, binding, tenant, provider={organization, url} | nil, categories[] (union of skill
--  tags, sorted), capabilities[] ({kind, name, description, properties}), details={...}}.
function M.parse(card)
  local doc, err = V.document(card)
  if not doc then
    local r = V.report()
    r:error("json", err)
    return nil, r:result("", nil, { protocol = "a2a" })
  end
  local r, info, model = check(doc)
  local result = r:result(info.spec_version, preview_of(info, model), { protocol = "a2a" })
  if not result.valid then
    return nil, result
  end
  local primary = model.interfaces[1] or {}
  local flags = model.flags or {}
  return {
    protocol = "a2a",
    display_name = model.name,
    description = model.description or "",
    version = model.version,
    spec_version = info.spec_version,
    protocol_versions = V.strings(info.protocol_versions),
    endpoint = primary.url,
    binding = primary.binding,
    tenant = primary.tenant,
    provider = model.provider,
    categories = categories_of(model),
    capabilities = capabilities_of(model),
    details = {
      card_format = info.format,
      dual_format = info.dual,
      icon_url = model.icon_url,
      documentation_url = model.documentation_url,
      streaming = flags.streaming,
      push_notifications = flags.push_notifications,
      extended_agent_card = flags.extended_agent_card,
      state_transition_history = flags.state_transition_history,
      default_input_modes = model.default_input_modes or json.array(),
      default_output_modes = model.default_output_modes or json.array(),
      signature_status = #model.signatures > 0 and "unverified" or "absent",
    },
  }, result
end

return M
