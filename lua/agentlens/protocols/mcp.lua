-- SPDX-License-Identifier: Apache-2.0
-- MCP server descriptions for push registration: the registry `server.json` (also wrapped as a
-- registry ServerResponse {server, _meta}), a tools/resources/prompts listing (tools/list-shaped,
-- optionally with the InitializeResult `serverInfo`, `protocolVersion`, `capabilities`), or both in
-- one document. Pure: no I/O. The live probe fills the same capability kinds through the
-- *_capability constructors below.
--
--   mcp.validate(desc) -> ValidationResult
--   mcp.parse(desc)    -> entry, ValidationResult | nil, ValidationResult
--   mcp.tool_capability(tool), mcp.resource_capability(resource), mcp.prompt_capability(prompt)
--   mcp.capabilities_from_listing(listing) -> json.array of capabilities
--
-- `desc` is a decoded table or JSON text; field paths as in agentlens.lib.validate.
local json = require "agentlens.json"
local V = require "agentlens.lib.validate"
local capability = require "agentlens.protocols.capability"

local present, key, index = V.present, V.key, V.index

local M = {}

M.LIMITS = {
  tools = 2000,
  resources = 2000,
  prompts = 2000,
  arguments = 64, -- per prompt
  remotes = 32,
  packages = 32,
  headers = 64,
  icons = 16,
  name_len = 512,
  text_len = 65536, -- tool descriptions and instructions are often long
  url_len = 2048,
}
local L = M.LIMITS

M.PROTOCOL_VERSIONS = { ["2024-11-05"] = true, ["2025-03-26"] = true, ["2025-06-18"] = true,
  ["2025-11-25"] = true, ["2026-07-28"] = true }
M.REMOTE_TRANSPORTS = { ["streamable-http"] = true, sse = true }
M.PACKAGE_TRANSPORTS = { stdio = true, ["streamable-http"] = true, sse = true }
local ICON_TYPES = { ["image/png"] = true, ["image/jpeg"] = true, ["image/jpg"] = true, ["image/svg+xml"] = true,
  ["image/webp"] = true }
local REGISTRY_NAME = "^[%w.%-]+/[%w._%-]+$"
local OFFICIAL_META = "io.modelcontextprotocol.registry/official"

-- ---- capability constructors (shared with the probe) ----------------------------------------

local function arguments_of(list)
  local out = json.array()
  for _, a in ipairs(type(list) == "table" and list or {}) do
    if type(a) == "table" and type(a.name) == "string" then
      local arg = { name = a.name, description = type(a.description) == "string" and a.description or nil }
      if type(a.required) == "boolean" then
        arg.required = a.required
      end
      out[#out + 1] = arg
    end
  end
  return out
end

local function str(v)
  return type(v) == "string" and v or nil
end

local function obj(v)
  return V.is_object(v) and v or nil
end

-- tool_capability(tool) -> mcp.tool {name, description, input_schema, title, output_schema, annotations}
function M.tool_capability(tool)
  local desc = str(tool.description)
  return capability.new("mcp.tool", tool.name, desc, {
    name = tool.name,
    description = desc,
    title = str(tool.title),
    input_schema = obj(tool.inputSchema) or json.object(),
    output_schema = obj(tool.outputSchema),
    annotations = obj(tool.annotations),
  })
end

-- resource_capability(resource) -> mcp.resource {name, uri, description, title, mime_type}
function M.resource_capability(res)
  local desc = str(res.description)
  return capability.new("mcp.resource", res.name, desc, {
    name = res.name,
    uri = res.uri,
    description = desc,
    title = str(res.title),
    mime_type = str(res.mimeType),
  })
end

-- prompt_capability(prompt) -> mcp.prompt {name, description, title, arguments[{name, description, required}]}
function M.prompt_capability(prompt)
  local desc = str(prompt.description)
  return capability.new("mcp.prompt", prompt.name, desc, {
    name = prompt.name,
    description = desc,
    title = str(prompt.title),
    arguments = arguments_of(prompt.arguments),
  })
end

-- capabilities_from_listing({tools=, resources=, prompts=}) -> json.array; items without the
-- required string fields are skipped (validate first to report them).
function M.capabilities_from_listing(listing)
  local caps = json.array()
  local function each(list, required, make)
    for _, item in ipairs(type(list) == "table" and list or {}) do
      local ok = type(item) == "table"
      for _, f in ipairs(required) do
        ok = ok and type(item[f]) == "string"
      end
      if ok then
        caps[#caps + 1] = make(item)
      end
    end
  end
  each(listing.tools, { "name" }, M.tool_capability)
  each(listing.resources, { "name", "uri" }, M.resource_capability)
  each(listing.prompts, { "name" }, M.prompt_capability)
  return caps
end

-- ---- helpers -------------------------------------------------------------------------------

-- Field names of server.json before the 2025-09-16 schema (snake_case), read as aliases.
local function pick(o, camel, aliases, model)
  if present(o[camel]) then
    return camel
  end
  for _, a in ipairs(aliases) do
    if present(o[a]) then
      model.legacy_names[#model.legacy_names + 1] = a
      return a
    end
  end
  return camel
end

local function is_range(v)
  return v:match("^[%^~<>=]") or v:match("[%s|]") or v:match("%.[xX*]$") or v:match("%.[xX*]%.") or v == "*"
end

local function is_semver(v)
  return v:match("^%d+%.%d+%.%d+$") or v:match("^%d+%.%d+%.%d+[-+][%w.%-+]+$")
end

local function check_icons(r, o, p)
  local icons = r:get(o, "icons", p, "array", { max_items = L.icons })
  for i, icon in ipairs(icons or {}) do
    local ip = index(p, i)
    if not V.is_object(icon) then
      r:type_error(ip, "object", icon)
    else
      local src = r:url(icon, "src", key(ip, "src"), { required = true, max_len = L.url_len })
      if src and not src:match("^https://") then
        r:warn(key(ip, "src"), key(ip, "src") .. " should be an HTTPS URL")
      end
      local mt = r:get(icon, "mimeType", key(ip, "mimeType"), "string")
      if mt and not ICON_TYPES[mt] then
        r:warn(key(ip, "mimeType"), "unusual icon media type \"" .. mt .. "\"")
      end
      r:string_list(icon, "sizes", key(ip, "sizes"), { max_items = 16, max_len = 32 })
      r:get(icon, "theme", key(ip, "theme"), "string")
    end
  end
end

-- URL of a remote or package transport: http(s) or a `{variable}` template. Returns url, templated.
local function check_transport_url(r, o, p, required)
  local url = r:get(o, "url", p, "string", { required = required, non_empty = true, max_len = L.url_len })
  if not url then
    return nil
  end
  if url:find("{", 1, true) then
    if not (url:match("^https?://") or url:match("^{")) then
      r:error(p, p .. " must start with http://, https:// or a {variable}")
      return nil
    end
    return url, true
  end
  local ok, why = V.is_http_url(url)
  if not ok then
    r:error(p, p .. " " .. why)
    return nil
  end
  return url, false
end

local function check_headers(r, o, p)
  local headers = r:get(o, "headers", p, "array", { max_items = L.headers })
  for i, h in ipairs(headers or {}) do
    local hp = index(p, i)
    if not V.is_object(h) then
      r:type_error(hp, "object", h)
    else
      r:get(h, "name", key(hp, "name"), "string", { required = true, non_empty = true, max_len = L.name_len })
    end
  end
end

-- ---- server.json ---------------------------------------------------------------------------

local function check_server_json(r, doc, base, model)
  local schema = r:get(doc, "$schema", key(base, "$schema"), "string", { max_len = L.url_len })
  model.schema_version = schema and schema:match("/(%d%d%d%d%-%d%d%-%d%d)/server%.schema%.json") or nil

  local np = key(base, "name")
  local name = r:get(doc, "name", np, "string", { required = true, non_empty = true, max_len = 200 })
  if name and not name:match(REGISTRY_NAME) then
    r:warn(np, np .. " is not a registry server name (namespace/name, e.g. io.github.user/weather)")
  end
  model.name = name

  local dp = key(base, "description")
  model.description = r:get(doc, "description", dp, "string", { required = true, max_len = L.text_len })
  if model.description and (#model.description == 0 or #model.description > 100) then
    r:warn(dp, dp .. " should be 1 to 100 characters (registry limit)")
  end

  local vp = key(base, "version")
  local version = r:get(doc, "version", vp, "string", { required = true, non_empty = true, max_len = 255 })
  if version and is_range(version) then
    r:error(vp, vp .. " must be a specific version, not a range (\"" .. version .. "\")")
    version = nil
  elseif version and not is_semver(version) then
    r:warn(vp, vp .. " should be a semantic version such as 1.2.3")
  end
  model.version = version

  local tp = key(base, "title")
  model.title = r:get(doc, "title", tp, "string", { max_len = L.name_len })
  if model.title and (#model.title == 0 or #model.title > 100) then
    r:warn(tp, tp .. " should be 1 to 100 characters (registry limit)")
  end
  local wk = pick(doc, "websiteUrl", { "website_url" }, model)
  model.website_url = r:url(doc, wk, key(base, wk), { max_len = L.url_len })

  local rp = key(base, "repository")
  local repo = r:get(doc, "repository", rp, "object")
  if repo then
    model.repository = {
      url = r:url(repo, "url", key(rp, "url"), { required = true, max_len = L.url_len }),
      source = r:get(repo, "source", key(rp, "source"), "string", { required = true, max_len = L.name_len }),
      id = r:get(repo, "id", key(rp, "id"), "string", { max_len = L.name_len }),
      subfolder = r:get(repo, "subfolder", key(rp, "subfolder"), "string", { max_len = L.url_len }),
    }
  end
  check_icons(r, doc, key(base, "icons"))

  local remotes_p = key(base, "remotes")
  local remotes = r:get(doc, "remotes", remotes_p, "array", { max_items = L.remotes })
  for i, remote in ipairs(remotes or {}) do
    local p = index(remotes_p, i)
    if not V.is_object(remote) then
      r:type_error(p, "object", remote)
    else
      local tk = pick(remote, "type", { "transport_type" }, model)
      local t = r:get(remote, tk, key(p, tk), "string", { required = true, non_empty = true })
      if t and not M.REMOTE_TRANSPORTS[t] then
        r:warn(key(p, tk), "unknown remote transport \"" .. t .. "\" (streamable-http, sse)")
      end
      local url, templated = check_transport_url(r, remote, key(p, "url"), true)
      check_headers(r, remote, key(p, "headers"))
      r:get(remote, "variables", key(p, "variables"), "object")
      if t and url then
        model.remotes[#model.remotes + 1] = { type = t, url = url, templated = templated }
      end
    end
  end

  local packages_p = key(base, "packages")
  local packages = r:get(doc, "packages", packages_p, "array", { max_items = L.packages })
  for i, pkg in ipairs(packages or {}) do
    local p = index(packages_p, i)
    if not V.is_object(pkg) then
      r:type_error(p, "object", pkg)
    else
      local rk = pick(pkg, "registryType", { "registry_type", "registry_name" }, model)
      local rec = {
        registry_type = r:get(pkg, rk, key(p, rk), "string", { required = true, non_empty = true }),
        identifier = r:get(pkg, pick(pkg, "identifier", { "name" }, model), key(p, "identifier"), "string",
          { required = true, non_empty = true, max_len = L.name_len }),
        version = r:get(pkg, "version", key(p, "version"), "string", { max_len = 255 }),
      }
      if rec.version and (rec.version == "latest" or is_range(rec.version)) then
        r:warn(key(p, "version"), key(p, "version") .. " should be a specific version, not \"" .. rec.version .. "\"")
      end
      local sk = pick(pkg, "fileSha256", { "file_sha256" }, model)
      local sha = r:get(pkg, sk, key(p, sk), "string")
      if sha and not sha:match("^" .. ("%x"):rep(64) .. "$") then
        r:warn(key(p, sk), key(p, sk) .. " should be 64 hexadecimal characters")
      elseif not sha and rec.registry_type == "mcpb" then
        r:warn(key(p, "fileSha256"), key(p, "fileSha256") .. " is required for mcpb packages")
      end
      for _, f in ipairs({ { "runtimeHint", "runtime_hint" }, { "registryBaseUrl", "registry_base_url" } }) do
        local k = pick(pkg, f[1], { f[2] }, model)
        r:get(pkg, k, key(p, k), "string", { max_len = L.url_len })
      end
      for _, f in ipairs({ { "runtimeArguments", "runtime_arguments" }, { "packageArguments", "package_arguments" },
        { "environmentVariables", "environment_variables" } }) do
        local k = pick(pkg, f[1], { f[2] }, model)
        r:get(pkg, k, key(p, k), "array", { max_items = 256 })
      end
      local tp2 = key(p, "transport")
      if not present(pkg.transport) then
        r:warn(tp2, tp2 .. " is required by the server.json schema; assuming stdio")
        rec.transport = "stdio"
      else
        local transport = r:get(pkg, "transport", tp2, "object")
        if transport then
          local t = r:get(transport, "type", key(tp2, "type"), "string", { required = true, non_empty = true })
          if t and not M.PACKAGE_TRANSPORTS[t] then
            r:warn(key(tp2, "type"), "unknown package transport \"" .. t .. "\" (stdio, streamable-http, sse)")
          end
          rec.transport = t
          if t and t ~= "stdio" then
            rec.url, rec.templated = check_transport_url(r, transport, key(tp2, "url"), M.REMOTE_TRANSPORTS[t])
            check_headers(r, transport, key(tp2, "headers"))
          end
        end
      end
      if rec.registry_type and rec.identifier then
        model.packages[#model.packages + 1] = rec
      end
    end
  end

  r:get(doc, "_meta", key(base, "_meta"), "object")
end

-- Registry status of a ServerResponse (`_meta` beside `server`) or of a server.json carrying it.
local function check_official_status(r, meta, path)
  local official = V.is_object(meta) and meta[OFFICIAL_META]
  if V.is_object(official) and (official.status == "deprecated" or official.status == "deleted") then
    r:warn(key(key(path, OFFICIAL_META), "status"), "the registry marks this server " .. official.status)
    return official.status
  end
  return nil
end

-- ---- listing -------------------------------------------------------------------------------

local function check_listing(r, doc, base, model)
  local sp = key(base, "serverInfo")
  local info = r:get(doc, "serverInfo", sp, "object")
  if info then
    model.server_info = {
      name = r:get(info, "name", key(sp, "name"), "string",
        { required = true, non_empty = true, max_len = L.name_len }),
      title = r:get(info, "title", key(sp, "title"), "string", { max_len = L.name_len }),
      version = r:get(info, "version", key(sp, "version"), "string", { max_len = 255 }),
      description = r:get(info, "description", key(sp, "description"), "string", { max_len = L.text_len }),
      website_url = r:url(info, "websiteUrl", key(sp, "websiteUrl"), { max_len = L.url_len }),
    }
    if not present(info.version) then
      r:warn(key(sp, "version"), key(sp, "version") .. " is required by MCP (Implementation.version)")
    end
    check_icons(r, info, key(sp, "icons"))
  end

  local pp = key(base, "protocolVersion")
  local pv = r:get(doc, "protocolVersion", pp, "string", { max_len = 64 })
  if pv and not M.PROTOCOL_VERSIONS[pv] then
    r:warn(pp, "unknown MCP protocol version \"" .. pv .. "\"")
  end
  model.protocol_version = pv
  model.server_capabilities = r:get(doc, "capabilities", key(base, "capabilities"), "object")
  model.instructions = r:get(doc, "instructions", key(base, "instructions"), "string", { max_len = L.text_len })
  if present(doc.nextCursor) then
    r:warn(key(base, "nextCursor"), "the listing is paginated (nextCursor present); only this page is registered")
  end

  local tools = r:get(doc, "tools", key(base, "tools"), "array", { max_items = L.tools })
  local seen = {}
  for i, tool in ipairs(tools or {}) do
    local p = index(key(base, "tools"), i)
    if not V.is_object(tool) then
      r:type_error(p, "object", tool)
    else
      local name = r:get(tool, "name", key(p, "name"), "string", { required = true, non_empty = true,
        max_len = L.name_len })
      r:get(tool, "title", key(p, "title"), "string", { max_len = L.name_len })
      r:get(tool, "description", key(p, "description"), "string", { max_len = L.text_len })
      local schema = r:get(tool, "inputSchema", key(p, "inputSchema"), "object", { required = true })
      if schema and schema.type ~= "object" then
        local tp = key(key(p, "inputSchema"), "type")
        r:warn(tp, tp .. " should be \"object\"")
      end
      r:get(tool, "outputSchema", key(p, "outputSchema"), "object")
      r:get(tool, "annotations", key(p, "annotations"), "object")
      local ex = r:get(tool, "execution", key(p, "execution"), "object")
      local tsp = key(key(p, "execution"), "taskSupport")
      local ts = ex and r:get(ex, "taskSupport", tsp, "string")
      if ts and ts ~= "forbidden" and ts ~= "optional" and ts ~= "required" then
        r:warn(tsp, "unknown taskSupport \"" .. ts .. "\" (forbidden, optional, required)")
      end
      if name then
        if not name:match("^[%w_.%-]+$") or #name > 128 then
          r:warn(key(p, "name"), "tool names should be 1 to 128 characters of A-Z a-z 0-9 _ - .")
        end
        if seen[name] then
          r:warn(key(p, "name"), "duplicate tool name \"" .. name .. "\" (also " .. seen[name] .. ")")
        else
          seen[name] = p
        end
        if schema then
          model.tools[#model.tools + 1] = tool
        end
      end
    end
  end

  local resources = r:get(doc, "resources", key(base, "resources"), "array", { max_items = L.resources })
  for i, res in ipairs(resources or {}) do
    local p = index(key(base, "resources"), i)
    if not V.is_object(res) then
      r:type_error(p, "object", res)
    else
      local uri = r:get(res, "uri", key(p, "uri"), "string", { required = true, non_empty = true, max_len = L.url_len })
      local name = r:get(res, "name", key(p, "name"), "string", { required = true, non_empty = true,
        max_len = L.name_len })
      r:get(res, "title", key(p, "title"), "string", { max_len = L.name_len })
      r:get(res, "description", key(p, "description"), "string", { max_len = L.text_len })
      r:get(res, "mimeType", key(p, "mimeType"), "string", { max_len = L.name_len })
      r:get(res, "size", key(p, "size"), "number")
      if uri and not V.parse_url(uri) and not uri:match("^[%a][%w+.%-]*:") then
        r:warn(key(p, "uri"), key(p, "uri") .. " is not a URI")
      end
      if uri and name then
        model.resources[#model.resources + 1] = res
      end
    end
  end

  local prompts = r:get(doc, "prompts", key(base, "prompts"), "array", { max_items = L.prompts })
  for i, prompt in ipairs(prompts or {}) do
    local p = index(key(base, "prompts"), i)
    if not V.is_object(prompt) then
      r:type_error(p, "object", prompt)
    else
      local name = r:get(prompt, "name", key(p, "name"), "string", { required = true, non_empty = true,
        max_len = L.name_len })
      r:get(prompt, "title", key(p, "title"), "string", { max_len = L.name_len })
      r:get(prompt, "description", key(p, "description"), "string", { max_len = L.text_len })
      local args = r:get(prompt, "arguments", key(p, "arguments"), "array", { max_items = L.arguments })
      for j, a in ipairs(args or {}) do
        local ap = index(key(p, "arguments"), j)
        if not V.is_object(a) then
          r:type_error(ap, "object", a)
        else
          r:get(a, "name", key(ap, "name"), "string", { required = true, non_empty = true, max_len = L.name_len })
          r:get(a, "description", key(ap, "description"), "string", { max_len = L.text_len })
          r:get(a, "required", key(ap, "required"), "boolean")
        end
      end
      if name then
        model.prompts[#model.prompts + 1] = prompt
      end
    end
  end
end

-- ---- validation ----------------------------------------------------------------------------

-- shape(doc) -> server_json (bool), listing (bool), inner document, base path. A registry
-- ServerResponse {server: {...}, _meta} is unwrapped to its server.
function M.shape(doc)
  local base = ""
  if not present(doc.name) and V.is_object(doc.server) and next(doc.server) ~= nil then
    doc, base = doc.server, "server"
  end
  local server_json = present(doc.name) or present(doc["$schema"]) or present(doc.remotes)
    or present(doc.packages) or present(doc.repository)
  local listing = present(doc.tools) or present(doc.resources) or present(doc.prompts) or present(doc.serverInfo)
  return server_json, listing, doc, base
end

local function check(doc)
  local r = V.report()
  local model = { remotes = {}, packages = {}, tools = {}, resources = {}, prompts = {}, legacy_names = {} }
  local server_json, listing, inner, base = M.shape(doc)
  model.shape = server_json and listing and "server.json+listing" or server_json and "server.json"
    or listing and "listing" or nil
  if not model.shape then
    r:error("json", "document is neither an MCP server.json (name, description, version, remotes/packages) "
      .. "nor a tools/resources/prompts listing")
    return r, model
  end
  if server_json then
    check_server_json(r, inner, base, model)
    model.registry_status = check_official_status(r, inner._meta, key(base, "_meta"))
      or (base ~= "" and check_official_status(r, doc._meta, "_meta")) or nil
  end
  if listing then
    check_listing(r, inner, base, model)
  end
  if #model.legacy_names > 0 then
    r:warn(base ~= "" and base or "json", "pre-2025-09-16 server.json field names ("
      .. table.concat(model.legacy_names, ", ") .. ") read as their camelCase equivalents")
  end

  -- Endpoint: the first usable streamable-http remote, else the first usable remote, else a
  -- package's HTTP transport URL. Templated URLs need values the catalog does not have.
  local first, any_template
  for pass = 1, 2 do
    for _, rem in ipairs(model.remotes) do
      any_template = any_template or rem.templated
      if not first and not rem.templated and (pass == 2 or rem.type == "streamable-http") then
        first = rem
      end
    end
  end
  if not first then
    for _, pkg in ipairs(model.packages) do
      if not first and pkg.url and not pkg.templated then
        first = { type = pkg.transport, url = pkg.url }
      end
    end
  end
  model.endpoint, model.transport = first and first.url, first and first.type
  if server_json and not first then
    if any_template then
      r:warn(key(base, "remotes"), "every remote URL is a template ({variable}); the registration must supply "
        .. "the endpoint")
    else
      r:warn(key(base, "remotes"), "no remote endpoint (packages only); the registration must supply the endpoint")
    end
  end
  if listing and not server_json and not (model.server_info and model.server_info.name) then
    r:warn(key(key(base, "serverInfo"), "name"), "no server name (serverInfo.name); the registration must supply a "
      .. "display name")
  end
  return r, model
end

local function display_name(model)
  local si = model.server_info or {}
  return model.title or si.title or si.name or model.name
end

local function preview_of(model)
  local si = model.server_info or {}
  return {
    display_name = display_name(model),
    description = model.description or si.description,
    version = model.version or si.version,
    protocol = "mcp",
    spec_version = model.protocol_version or "",
    shape = model.shape,
    registry_name = model.name,
    schema_version = model.schema_version,
    endpoint = model.endpoint,
    transport = model.transport,
    tools_count = #model.tools,
    resources_count = #model.resources,
    prompts_count = #model.prompts,
  }
end

-- validate(desc) -> ValidationResult {valid, spec_version (negotiated MCP version when the listing
-- carries protocolVersion, else ""), protocol="mcp", errors, warnings, preview (valid only)}.
function M.validate(desc)
  local doc, err = V.document(desc)
  if not doc then
    local r = V.report()
    r:error("json", err)
    return r:result("", nil, { protocol = "mcp" })
  end
  local r, model = check(doc)
  return r:result(model.protocol_version, preview_of(model), { protocol = "mcp" })
end

-- parse(desc) -> entry, ValidationResult | nil, ValidationResult. The entry:
-- {protocol="mcp", display_name, description, version, spec_version, endpoint, transport,
--  categories=[], capabilities[] (mcp.tool/resource/prompt), details={shape, registry_name,
--  schema_version, title, website_url, repository, remotes[], packages[], server_info,
--  server_capabilities, instructions}}.
function M.parse(desc)
  local doc, err = V.document(desc)
  if not doc then
    local r = V.report()
    r:error("json", err)
    return nil, r:result("", nil, { protocol = "mcp" })
  end
  local r, model = check(doc)
  local result = r:result(model.protocol_version, preview_of(model), { protocol = "mcp" })
  if not result.valid then
    return nil, result
  end
  local si = model.server_info or {}
  local remotes, packages = json.array(), json.array()
  for _, rem in ipairs(model.remotes) do
    remotes[#remotes + 1] = { type = rem.type, url = rem.url }
  end
  for _, pkg in ipairs(model.packages) do
    packages[#packages + 1] = { registry_type = pkg.registry_type, identifier = pkg.identifier, version = pkg.version,
      transport = pkg.transport, url = pkg.url }
  end
  return {
    protocol = "mcp",
    display_name = display_name(model),
    description = model.description or si.description or "",
    version = model.version or si.version,
    spec_version = model.protocol_version or "",
    endpoint = model.endpoint,
    transport = model.transport,
    categories = json.array(),
    capabilities = M.capabilities_from_listing(model),
    details = {
      shape = model.shape,
      registry_name = model.name,
      schema_version = model.schema_version,
      registry_status = model.registry_status,
      title = model.title,
      website_url = model.website_url or si.website_url,
      repository = model.repository,
      remotes = remotes,
      packages = packages,
      server_info = model.server_info,
      server_capabilities = model.server_capabilities,
      instructions = model.instructions,
    },
  }, result
end

return M
