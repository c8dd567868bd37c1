-- SPDX-License-Identifier: Apache-2.0
-- A2A security schemes and requirements in both card formats: 0.2/0.3 OpenAPI `type` objects with
-- `security: [{name: [scopes]}]`, and 1.0 wrapped one-ofs with
-- `securityRequirements: [{"schemes": {name: {"list": [scopes]}}}]`, plus the 0.1 `authentication`
-- object. Produces the a2a.security_scheme / a2a.security_requirement properties (reference section 4).
local json = require "agentlens.json"
local V = require "agentlens.lib.validate"

local present, key, index = V.present, V.key, V.index

local M = {}

M.LIMITS = { schemes = 64, requirements = 64, scopes = 256, name_len = 512, text_len = 16384 }
local L = M.LIMITS

-- 1.0 wrapper key -> normalized scheme type (reference section 4 spells mTLS `mutualTls`).
local WRAPPED = {
  apiKeySecurityScheme = "apiKey",
  httpAuthSecurityScheme = "http",
  oauth2SecurityScheme = "oauth2",
  openIdConnectSecurityScheme = "openIdConnect",
  mtlsSecurityScheme = "mutualTls",
}
-- 0.2/0.3 OpenAPI `type` -> normalized scheme type.
local OPENAPI = { apiKey = "apiKey", http = "http", oauth2 = "oauth2", openIdConnect = "openIdConnect",
  mutualTLS = "mutualTls" }
local API_KEY_LOCATIONS = { query = true, header = true, cookie = true }

-- Flow name -> {capability flow_type, deprecated, required fields (0.3 form), required (1.0 form)}.
local FLOWS = {
  { name = "authorizationCode", deprecated = false,
    openapi = { "authorizationUrl", "tokenUrl", "scopes" }, wrapped = { "authorizationUrl", "tokenUrl", "scopes" } },
  { name = "clientCredentials", deprecated = false,
    openapi = { "tokenUrl", "scopes" }, wrapped = { "tokenUrl", "scopes" } },
  { name = "deviceCode", deprecated = false,
    openapi = { "deviceAuthorizationUrl", "tokenUrl", "scopes" },
    wrapped = { "deviceAuthorizationUrl", "tokenUrl", "scopes" } },
  { name = "implicit", deprecated = true, openapi = { "authorizationUrl", "scopes" }, wrapped = {} },
  { name = "password", deprecated = true, openapi = { "tokenUrl", "scopes" }, wrapped = {} },
}
local FLOW_BY_NAME = {}
for _, f in ipairs(FLOWS) do
  FLOW_BY_NAME[f.name] = f
end

local function count_keys(t)
  local n = 0
  for _ in pairs(t) do
    n = n + 1
  end
  return n
end

-- parse_scopes(r, obj, name, path, required) -> json.object {scope: description}, empty when
-- absent or invalid.
local function parse_scopes(r, obj, name, path, required)
  local scopes = r:get(obj, name, path, "object", { required = required })
  local out = json.object()
  if not scopes then
    return out
  end
  if count_keys(scopes) > L.scopes then
    r:error(path, path .. " must have at most " .. L.scopes .. " scopes")
    return out
  end
  for _, s in ipairs(V.sorted_keys(scopes)) do
    local d = scopes[s]
    if type(d) ~= "string" then
      r:type_error(key(path, s), "string", d)
    else
      out[s] = d
    end
  end
  return out
end

local function parse_flows(r, flows, path, form, is_1_0)
  local out = json.array()
  for _, k in ipairs(V.sorted_keys(flows)) do
    if not FLOW_BY_NAME[k] then
      r:warn(key(path, k), key(path, k) .. " is not a known OAuth flow; ignored")
    end
  end
  for _, f in ipairs(FLOWS) do
    local fp = key(path, f.name)
    local flow = r:get(flows, f.name, fp, "object")
    if flow then
      local required = {}
      for _, field in ipairs(f[form]) do
        required[field] = true
      end
      local rec = {
        flow_type = f.name,
        deprecated = f.deprecated,
        authorization_url = r:url(flow, "authorizationUrl", key(fp, "authorizationUrl"),
          { required = required.authorizationUrl }),
        token_url = r:url(flow, "tokenUrl", key(fp, "tokenUrl"), { required = required.tokenUrl }),
        refresh_url = r:url(flow, "refreshUrl", key(fp, "refreshUrl")),
        device_auth_url = r:url(flow, "deviceAuthorizationUrl", key(fp, "deviceAuthorizationUrl"),
          { required = required.deviceAuthorizationUrl }),
        scopes = parse_scopes(r, flow, "scopes", key(fp, "scopes"), required.scopes),
        pkce_required = r:get(flow, "pkceRequired", key(fp, "pkceRequired"), "boolean"),
      }
      if f.deprecated and is_1_0 then
        r:warn(fp, "the " .. f.name .. " OAuth flow is deprecated in A2A 1.0")
      end
      out[#out + 1] = rec
    end
  end
  if #out == 0 then
    r:error(path, path .. " must define at least one OAuth flow")
  elseif #out > 1 and form == "wrapped" then
    r:warn(path, path .. " holds " .. #out .. " flows; an A2A 1.0 OAuthFlows holds exactly one (all are kept)")
  end
  return out
end

-- parse_scheme(r, name, v, path, ctx) -> scheme properties (a2a.security_scheme) | nil
local function parse_scheme(r, name, v, path, ctx)
  if not V.is_object(v) then
    r:type_error(path, "object", v)
    return nil
  end
  local wrappers, unknown_wrapper = {}, nil
  for _, k in ipairs(V.sorted_keys(v)) do
    if WRAPPED[k] then
      wrappers[#wrappers + 1] = k
    elseif k:match("SecurityScheme$") then
      unknown_wrapper = unknown_wrapper or k
    end
  end
  local form, typ, body, bp
  if #wrappers > 1 then
    r:error(path, path .. " must hold exactly one security scheme, got " .. table.concat(wrappers, ", "))
    return nil
  elseif #wrappers == 1 then
    form, typ = "wrapped", WRAPPED[wrappers[1]]
    bp = key(path, wrappers[1])
    body = r:get(v, wrappers[1], bp, "object", { required = true })
    if not body then
      return nil
    end
    if present(v.type) then
      r:warn(key(path, "type"), path .. " has both `type` and a wrapped 1.0 scheme; the wrapped scheme is used")
    end
  elseif present(v.type) then
    local t = r:get(v, "type", key(path, "type"), "string")
    if not t then
      return nil
    end
    form, body, bp = "openapi", v, path
    typ = OPENAPI[t]
    if not typ then
      typ = t
      local hint = t:lower() == "mutualtls" and " (A2A 0.3 spells it mutualTLS)" or ""
      r:warn(key(path, "type"), "unknown security scheme type \"" .. t .. "\"" .. hint .. "; kept as is")
    end
  elseif unknown_wrapper then
    r:warn(key(path, unknown_wrapper), "unknown security scheme " .. unknown_wrapper .. "; kept as is")
    form, typ, body, bp = "wrapped", unknown_wrapper, {}, key(path, unknown_wrapper)
  else
    r:error(path, path .. " must have a `type` (A2A 0.2/0.3) or one wrapped scheme such as "
      .. "apiKeySecurityScheme (A2A 1.0)")
    return nil
  end

  if form == "wrapped" and ctx.format == "0.x" then
    ctx.signals[#ctx.signals + 1] = { path, "wrapped security schemes are the A2A 1.0 format" }
  elseif form == "openapi" and ctx.format == "1.0" and not ctx.dual then
    ctx.signals[#ctx.signals + 1] = { path, "type-discriminated security schemes are the A2A 0.2/0.3 format" }
  end
  if typ == "mutualTls" and ctx.spec_version == "0.2" then
    ctx.signals[#ctx.signals + 1] = { path, "the mutualTLS scheme was added in A2A 0.3.0" }
  end

  local rec = {
    scheme_name = name,
    type = typ,
    format = form == "wrapped" and "1.0" or "0.3",
    description = r:get(body, "description", key(bp, "description"), "string", { max_len = L.text_len }),
  }
  if typ == "apiKey" then
    local own, other = "in", "location"
    if form == "wrapped" then
      own, other = "location", "in"
    end
    local lk = own
    if not present(body[own]) and present(body[other]) then
      lk = other
      r:warn(key(bp, other), key(bp, other) .. " is the " .. (form == "wrapped" and "0.3" or "1.0")
        .. " name; this scheme format uses `" .. own .. "`")
    end
    local loc = r:get(body, lk, key(bp, lk), "string", { required = true })
    if loc and not API_KEY_LOCATIONS[loc] then
      r:error(key(bp, lk), key(bp, lk) .. " must be one of query, header, cookie, got \"" .. loc .. "\"")
    end
    rec.api_key_location = loc
    rec.api_key_name = r:get(body, "name", key(bp, "name"), "string", { required = true, non_empty = true })
  elseif typ == "http" then
    rec.http_scheme = r:get(body, "scheme", key(bp, "scheme"), "string", { required = true, non_empty = true })
    rec.bearer_format = r:get(body, "bearerFormat", key(bp, "bearerFormat"), "string")
  elseif typ == "oauth2" then
    rec.oauth2_metadata_url = r:url(body, "oauth2MetadataUrl", key(bp, "oauth2MetadataUrl"))
    local flows = r:get(body, "flows", key(bp, "flows"), "object", { required = true })
    rec.oauth_flows = flows and parse_flows(r, flows, key(bp, "flows"), form, ctx.format == "1.0") or json.array()
  elseif typ == "openIdConnect" then
    rec.openid_connect_url = r:url(body, "openIdConnectUrl", key(bp, "openIdConnectUrl"), { required = true })
  end
  return rec
end

-- One requirement: schemes {name: json.array(scopes)}; names must be declared schemes.
local function check_names(r, schemes_map, declared, path_of)
  for _, n in ipairs(V.sorted_keys(schemes_map)) do
    if not declared[n] then
      local p = path_of(n)
      r:error(p, p .. " refers to an undeclared security scheme \"" .. n .. "\"")
    end
  end
end

-- One 0.2/0.3 requirement object {name: [scopes]} at path p -> schemes map.
local function parse_requirement_0x(r, req, p, declared)
  local schemes = json.object()
  for _, n in ipairs(V.sorted_keys(req)) do
    schemes[n] = r:string_list(req, n, key(p, n), { max_items = L.scopes, max_len = L.name_len }) or json.array()
  end
  check_names(r, req, declared, function(n) return key(p, n) end)
  return schemes
end

-- 0.2/0.3 `security`: [{name: [scopes]}]
local function parse_security_0x(r, list, path, declared)
  local out = {}
  for i, req in ipairs(list) do
    local p = index(path, i)
    if not V.is_object(req) then
      r:type_error(p, "object", req)
    else
      out[#out + 1] = parse_requirement_0x(r, req, p, declared)
    end
  end
  return out
end

-- 1.0 `securityRequirements`: [{"schemes": {name: {"list": [scopes]}}}]
local function parse_security_1x(r, list, path, declared)
  local out = {}
  for i, req in ipairs(list) do
    local p = index(path, i)
    if not V.is_object(req) then
      r:type_error(p, "object", req)
    elseif not present(req.schemes) and next(req) ~= nil then
      r:warn(p, p .. " should be {\"schemes\": {name: {\"list\": [scopes]}}}; read as the 0.3 {name: [scopes]} shape")
      out[#out + 1] = parse_requirement_0x(r, req, p, declared)
    else
      local schemes = json.object()
      local sp = key(p, "schemes")
      local map = r:get(req, "schemes", sp, "object") or {}
      for _, n in ipairs(V.sorted_keys(map)) do
        local np, entry = key(sp, n), map[n]
        if V.kind(entry) == "array" then
          r:warn(np, np .. " should be {\"list\": [scopes]}; read as a scope array")
          schemes[n] = r:string_list(map, n, np, { max_items = L.scopes, max_len = L.name_len }) or json.array()
        elseif V.is_object(entry) then
          schemes[n] = r:string_list(entry, "list", key(np, "list"), { max_items = L.scopes, max_len = L.name_len })
            or json.array()
        else
          r:type_error(np, "object", entry)
        end
      end
      check_names(r, map, declared, function(n) return key(sp, n) end)
      out[#out + 1] = schemes
    end
  end
  return out
end

-- requirements(r, obj, base, ctx) -> list of schemes maps {name: json.array(scopes)}, reading
-- whichever field the object has (both in a dual-format card: checked, `securityRequirements`
-- wins). `base` is the path of obj ("" for the card, "skills[i]" for a skill). ctx: format
-- ("1.0" | "0.x" | nil), dual, spec_version, declared {scheme name = true}, signals (out: format
-- hints, reported as warnings by the caller).
function M.requirements(r, obj, base, ctx)
  local new_p, old_p = key(base, "securityRequirements"), key(base, "security")
  local new = r:get(obj, "securityRequirements", new_p, "array", { max_items = L.requirements })
  local old = r:get(obj, "security", old_p, "array", { max_items = L.requirements })
  if new then
    if ctx.format == "0.x" then
      ctx.signals[#ctx.signals + 1] = { new_p, "securityRequirements is the A2A 1.0 field (0.x cards use security)" }
    end
    if old then
      parse_security_0x(r, old, old_p, ctx.declared) -- dual-format: checked, the 1.0 field wins
    end
    return parse_security_1x(r, new, new_p, ctx.declared)
  elseif old then
    if ctx.format == "1.0" and not ctx.dual then
      ctx.signals[#ctx.signals + 1] = { old_p, "security is the A2A 0.3 field; 1.0 cards use securityRequirements "
        .. "(read as the 0.3 shape)" }
    end
    return parse_security_0x(r, old, old_p, ctx.declared)
  end
  return {}
end

-- authentication_0_1(r, card, model): A2A 0.1 `authentication: {schemes: [...]}` -> one scheme
-- (legacy `method`) and one alternative requirement each, appended to model.schemes/requirements.
function M.authentication_0_1(r, card, model)
  local auth = r:get(card, "authentication", "authentication", "object")
  if not auth then
    return
  end
  local schemes = r:string_list(auth, "schemes", "authentication.schemes",
    { max_items = L.schemes, max_len = L.name_len }) or {}
  for _, s in ipairs(schemes) do
    local lower = s:lower()
    local rec = { scheme_name = s, method = s, format = "0.1", type = s }
    if lower == "bearer" or lower == "basic" or lower == "digest" then
      rec.type, rec.http_scheme = "http", s
    elseif lower == "apikey" or lower == "api_key" then
      rec.type = "apiKey"
    end
    model.schemes[#model.schemes + 1] = rec
    model.requirements[#model.requirements + 1] = json.object({ [s] = json.array() })
  end
end

-- schemes(r, card, ctx) -> list of scheme properties (a2a.security_scheme), sorted by name; fills
-- ctx.declared with every declared name (also the invalid ones, so requirements are not
-- reported twice).
function M.schemes(r, card, ctx)
  local out = {}
  local schemes = r:get(card, "securitySchemes", "securitySchemes", "object")
  if not schemes then
    return out
  end
  local names = V.sorted_keys(schemes)
  if #names > L.schemes then
    r:error("securitySchemes", "securitySchemes must have at most " .. L.schemes .. " schemes")
    return out
  end
  for _, n in ipairs(names) do
    ctx.declared[n] = true
    local rec = parse_scheme(r, n, schemes[n], key("securitySchemes", n), ctx)
    if rec then
      out[#out + 1] = rec
    end
  end
  return out
end

return M
