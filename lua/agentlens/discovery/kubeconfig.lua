-- SPDX-License-Identifier: Apache-2.0
-- Kubeconfig reading for Kubernetes discovery outside a cluster.
--
--   parse(text) -> document table | nil, message
--     YAML read by libyaml through agentlens.yaml (anchors, aliases, tags, duplicate keys and
--     several documents are refused with a message naming the line), or JSON.
--   resolve(doc, opts) -> connection | nil, message
--     The current context's cluster and user: {server, namespace?, token?, ca_file?,
--     cert_file?, key_file?, insecure_skip_verify?, context}. *-data fields are written to
--     private files (mode 0600, opts.temp_dir or os.tmpname's directory) because libcurl takes
--     files (opts.temp_dir/kubeconfig-<what>, else $TMPDIR or /tmp); relative paths are resolved
--     against the kubeconfig's directory (opts.base_dir).
--   load(path, opts) -> connection | nil, message: reads, parses and resolves a file.
--   default_path() -> $KUBECONFIG (its first entry) or ~/.kube/config
local json = require "agentlens.json"
local yaml = require "agentlens.yaml"
local bit = require "bit"

local M = {}

-- ---- parsing ------------------------------------------------------------------------------------

function M.parse(text)
  if type(text) ~= "string" then
    return nil, "kubeconfig: not a string"
  end
  local first = text:match("^%s*(.)")
  if first == "{" then
    local doc, err = json.decode(text)
    if type(doc) ~= "table" then
      return nil, "kubeconfig: invalid JSON: " .. tostring(err)
    end
    return doc
  end
  local doc, err = yaml.decode(text)
  if doc == nil then
    return nil, "kubeconfig: " .. err
  end
  if type(doc) ~= "table" or json.is_array(doc) then
    return nil, "kubeconfig: the document is not a mapping"
  end
  return doc
end

-- ---- resolving the current context --------------------------------------------------------------

local function named(list, name, what)
  if type(list) ~= "table" then
    return nil, ("kubeconfig: no %s list"):format(what)
  end
  for _, e in ipairs(list) do
    if type(e) == "table" and e.name == name then
      return type(e[what]) == "table" and e[what] or {}
    end
  end
  return nil, ("kubeconfig: %s %q not found"):format(what, tostring(name))
end

local function dirname(path)
  return path:match("^(.*)/[^/]*$") or "."
end

local function absolute(path, base)
  if path:sub(1, 1) == "/" or not base then
    return path
  end
  return base .. "/" .. path
end

-- Writes data to a private file (created with mode 0600, truncated when it exists) and returns
-- its path. Plain io.open would create it with the umask's wider mode first.
local ffi_ok, ffi = pcall(require, "ffi")
if ffi_ok then
  pcall(ffi.cdef, [[
    int open(const char *path, int flags, ...);
    long write(int fd, const void *buf, size_t n);
    int close(int fd);
    int fchmod(int fd, unsigned int mode);
  ]])
end
local O_WRONLY, O_CREAT, O_TRUNC, O_NOFOLLOW, O_CLOEXEC = 1, 0x40, 0x200, 0x20000, 0x80000

local function private_file(data, opts, suffix)
  local dir = opts.temp_dir or os.getenv("TMPDIR") or "/tmp"
  local path = ("%s/kubeconfig-%s"):format(dir, suffix)
  if not ffi_ok then
    return nil, "kubeconfig: cannot write private files (no FFI)"
  end
  local fd = ffi.C.open(path, bit.bor(O_WRONLY, O_CREAT, O_TRUNC, O_NOFOLLOW, O_CLOEXEC), ffi.new("int", 384))
  if fd < 0 then
    return nil, "kubeconfig: cannot create " .. path
  end
  ffi.C.fchmod(fd, 384) -- 0600 also when the file existed
  local off, ok = 0, true
  while off < #data do
    local n = tonumber(ffi.C.write(fd, ffi.cast("const char *", data) + off, #data - off))
    if n <= 0 then
      ok = false
      break
    end
    off = off + n
  end
  ffi.C.close(fd)
  if not ok then
    return nil, "kubeconfig: cannot write " .. path
  end
  return path
end

local function base64_decode(s)
  local b = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
  s = s:gsub("[^%w%+/=]", "")
  if #s % 4 ~= 0 then
    return nil
  end
  local out = {}
  for i = 1, #s, 4 do
    local n, pad = 0, 0
    for j = 0, 3 do
      local c = s:sub(i + j, i + j)
      local v
      if c == "=" then
        v, pad = 0, pad + 1
      else
        v = b:find(c, 1, true)
        if not v then
          return nil
        end
        v = v - 1
      end
      n = n * 64 + v
    end
    local bytes = string.char(math.floor(n / 65536) % 256, math.floor(n / 256) % 256, n % 256)
    out[#out + 1] = bytes:sub(1, 3 - pad)
  end
  return table.concat(out)
end
M.base64_decode = base64_decode

-- file_or_data(section, field, opts, suffix) -> path | nil (absent) | false, message
local function file_or_data(section, field, opts, suffix)
  local data = section[field .. "-data"]
  if type(data) == "string" and data ~= "" then
    local raw = base64_decode(data)
    if not raw then
      return false, ("kubeconfig: %s-data is not valid base64"):format(field)
    end
    local path, err = private_file(raw, opts, suffix)
    if not path then
      return false, err
    end
    return path
  end
  local path = section[field]
  if type(path) == "string" and path ~= "" then
    return absolute(path, opts.base_dir)
  end
  return nil
end

function M.resolve(doc, opts)
  opts = opts or {}
  local name = opts.context or doc["current-context"]
  if type(name) ~= "string" or name == "" then
    return nil, "kubeconfig: no current-context"
  end
  local ctx, err = named(doc.contexts, name, "context")
  if not ctx then
    return nil, err
  end
  local cluster
  cluster, err = named(doc.clusters, ctx.cluster, "cluster")
  if not cluster then
    return nil, err
  end
  local user = {}
  if ctx.user ~= nil and ctx.user ~= json.null then
    user, err = named(doc.users, ctx.user, "user")
    if not user then
      return nil, err
    end
  end
  if type(cluster.server) ~= "string" or not cluster.server:match("^https?://") then
    return nil, ("kubeconfig: cluster %q has no http(s) server"):format(tostring(ctx.cluster))
  end
  local conn = { server = cluster.server:gsub("/+$", ""), context = name,
    insecure_skip_verify = cluster["insecure-skip-tls-verify"] == true,
    namespace = type(ctx.namespace) == "string" and ctx.namespace or nil }
  local ca, cert, key
  ca, err = file_or_data(cluster, "certificate-authority", opts, "ca.crt")
  if ca == false then
    return nil, err
  end
  cert, err = file_or_data(user, "client-certificate", opts, "client.crt")
  if cert == false then
    return nil, err
  end
  key, err = file_or_data(user, "client-key", opts, "client.key")
  if key == false then
    return nil, err
  end
  if (cert == nil) ~= (key == nil) then
    return nil, "kubeconfig: client-certificate and client-key go together"
  end
  conn.ca_file, conn.cert_file, conn.key_file = ca, cert, key
  if type(user.token) == "string" and user.token ~= "" then
    conn.token = user.token
  elseif type(user.tokenFile) == "string" and user.tokenFile ~= "" then
    conn.token_file = absolute(user.tokenFile, opts.base_dir)
  end
  if user.exec ~= nil or user["auth-provider"] ~= nil then
    if not conn.token and not conn.token_file and not conn.cert_file then
      return nil, ("kubeconfig: user %q needs an exec or auth-provider plugin, which AgentLens does not run; "
        .. "use a token or a client certificate"):format(tostring(ctx.user))
    end
  end
  return conn
end

function M.default_path()
  local env = os.getenv("KUBECONFIG")
  if env and env ~= "" then
    return env:match("^([^:]+)")
  end
  local home = os.getenv("HOME")
  if home and home ~= "" then
    return home .. "/.kube/config"
  end
  return nil
end

function M.load(path, opts)
  opts = opts or {}
  path = path ~= "" and path or M.default_path()
  if not path then
    return nil, "kubeconfig: no path (set kubernetes.kubeconfig, KUBECONFIG or HOME)"
  end
  local f, err = io.open(path, "rb")
  if not f then
    return nil, "kubeconfig: " .. tostring(err)
  end
  local text = f:read("*a")
  f:close()
  local doc
  doc, err = M.parse(text)
  if not doc then
    return nil, err .. " (" .. path .. ")"
  end
  local o = {}
  for k, v in pairs(opts) do
    o[k] = v
  end
  o.base_dir = o.base_dir or dirname(path)
  local conn
  conn, err = M.resolve(doc, o)
  if not conn then
    return nil, err .. " (" .. path .. ")"
  end
  conn.path = path
  return conn
end

return M
