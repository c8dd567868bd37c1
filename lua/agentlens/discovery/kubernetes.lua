-- SPDX-License-Identifier: Apache-2.0
-- Kubernetes discovery: lists the Services of the cluster (or of kubernetes.namespace), then
-- watches them from the list's resourceVersion, and hands every annotated Service to
-- agentlens.discovery.sync ("k8s" source). Runs as the long-running job "kubernetes"
-- (lua/agentlens/jobs.lua, loop = true) on a thread of its own; docs/discovery-kubernetes.md.
--
--   item_of(service, opts) -> item | nil, why
--     The sync item of a Service: nil when it has no agentlens.io/protocol (or agentlens.io/type)
--     annotation, nil plus a reason when the annotations are unusable. opts.address = "dns"
--     (<name>.<namespace>.svc) or "cluster-ip".
--   connection(opts) -> conn | nil, message
--     In a cluster (KUBERNETES_SERVICE_HOST set and <service_account_dir>/token present): the API
--     server at https://$KUBERNETES_SERVICE_HOST:$KUBERNETES_SERVICE_PORT, ca.crt and the token
--     (read again before every request, so a rotated token is picked up). Otherwise the current
--     context of the kubeconfig (agentlens.discovery.kubeconfig).
--   list(conn, namespace[, opts]) -> {services, resource_version} | nil, message, status
--     Every Service, in pages of opts.limit (500) with continue tokens.
--   watch(conn, namespace, rv, on_event, opts) -> {reason, status?, message?, events}
--     One watch request; reason is "closed" (the server ended it, e.g. after timeoutSeconds),
--     "gone" (410, as status or ERROR event: re-list), "stopped" (the job must stop), "stop"
--     (on_event returned false) or "error" (dropped connection, HTTP error, ...).
--   run(ctx[, deps]) -> the job: list, reconcile, watch, re-list on 410, reconnect with capped
--     jittered backoff; every discovery.interval the cards of all known Services are fetched
--     again (a watch lasts at most that long, so the refresh is never late by more than one
--     watch); returns when ctx.should_stop(). deps (specs): settings, sync, conn, now.
local json = require "agentlens.json"
local log = require "agentlens.log"
local httpc = require "agentlens.httpc"
local time = require "agentlens.time"
local kubeconfig = require "agentlens.discovery.kubeconfig"

local M = {}

M.SOURCE = "k8s"
M.PAGE_LIMIT = 500
M.UPSERT_BATCH = 250
M.UPSERT_CONCURRENCY = 32
M.FETCH_TIMEOUT_MS = 5000
M.REQUEST_TIMEOUT_MS = 30000
M.MAX_LIST_BYTES = 128 * 1024 * 1024
M.BACKOFF_MIN_S = 0.5
M.BACKOFF_MAX_S = 30
M.DEFAULT_MCP_PATH = "/mcp"

local A = "agentlens.io/"

-- ---- Service -> sync item ---------------------------------------------------------------------

local function trim(s)
  return type(s) == "string" and s:match("^%s*(.-)%s*$") or nil
end

local function nonempty(s)
  s = trim(s)
  return s ~= "" and s or nil
end

local function is_https(port)
  local app, name = (port.appProtocol or ""):lower(), (port.name or ""):lower()
  return app == "https" or name == "https" or name:match("^https%-") ~= nil or port.port == 443
end

-- The Service port the annotation names (number or name), else the first one.
local function pick_port(ports, wanted)
  if type(ports) ~= "table" or #ports == 0 then
    return nil, "the Service has no ports"
  end
  if not wanted then
    return ports[1]
  end
  local n = tonumber(wanted)
  for _, p in ipairs(ports) do
    if (n and p.port == n) or (not n and p.name == wanted) then
      return p
    end
  end
  if n and n >= 1 and n <= 65535 and n == math.floor(n) then
    return { port = n }
  end
  return nil, ("%sport %q names no port of the Service"):format(A, wanted)
end

function M.item_of(svc, opts)
  opts = opts or {}
  local md = type(svc) == "table" and svc.metadata
  if type(md) ~= "table" or not nonempty(md.name) then
    return nil, "not a Service object"
  end
  local ann = type(md.annotations) == "table" and md.annotations or {}
  local proto = nonempty(ann[A .. "protocol"]) or nonempty(ann[A .. "type"])
  if not proto then
    return nil
  end
  proto = proto:lower()
  if proto ~= "a2a" and proto ~= "mcp" then
    return nil, ("%sprotocol must be a2a or mcp, got %q"):format(A, proto)
  end
  local ns = nonempty(md.namespace) or "default"
  local spec = type(svc.spec) == "table" and svc.spec or {}
  -- an ExternalName Service is a DNS alias to anywhere, not an agent in the cluster
  if spec.type == "ExternalName" then
    return nil, "ExternalName Services are not discovered"
  end
  local port, why = pick_port(spec.ports, nonempty(ann[A .. "port"]))
  if not port then
    return nil, why
  end
  local host = ("%s.%s.svc"):format(md.name, ns)
  local ip = nonempty(spec.clusterIP)
  if opts.address == "cluster-ip" and ip and ip ~= "None" then
    host = ip:find(":", 1, true) and ("[" .. ip .. "]") or ip
  end
  local base = ("%s://%s:%d"):format(is_https(port) and "https" or "http", host, port.port)
  -- a path only: whoever may annotate a Service must not make AgentLens fetch another host
  local path = nonempty(ann[A .. "card-path"])
  if path and (path:match("^%a[%w+.-]*:") or path:match("^//") or path:find("[%s\\]")) then
    return nil, ("%scard-path must be a path on the Service, got %q"):format(A, path)
  end
  if path and not path:match("^/") then
    path = "/" .. path
  end
  local item = { key = ("k8s/%s/%s"):format(ns, md.name), protocol = proto, namespace = ns, name = md.name,
    team = nonempty(ann[A .. "team"]), tags = {}, annotations = ann,
    labels = type(md.labels) == "table" and md.labels or {} }
  if proto == "mcp" then
    item.url = base .. (path or M.DEFAULT_MCP_PATH)
  else
    item.url, item.card_path = base, path
  end
  for t in (ann[A .. "tags"] or ""):gmatch("[^,]+") do
    t = nonempty(t)
    if t then
      item.tags[#item.tags + 1] = t
    end
  end
  return item
end

-- What a Service contributes to its catalog entry: an unchanged signature needs no new fetch.
local function signature(item)
  local labels = {}
  for k, v in pairs(item.labels) do
    labels[#labels + 1] = tostring(k) .. "=" .. tostring(v)
  end
  table.sort(labels)
  return table.concat({ item.protocol, item.url, item.card_path or "", item.team or "",
    table.concat(item.tags, ","), table.concat(labels, ",") }, "\n")
end
M.signature = signature

-- ---- the API server -----------------------------------------------------------------------------

local function read_file(path)
  local f = io.open(path, "rb")
  if not f then
    return nil
  end
  local s = f:read("*a")
  f:close()
  return s
end

local function file_exists(path)
  local f = io.open(path, "rb")
  if f then
    f:close()
    return true
  end
  return false
end

-- connection(opts): opts.service_account_dir, opts.kubeconfig, opts.temp_dir, opts.env (getenv)
function M.connection(opts)
  opts = opts or {}
  local getenv = opts.env or os.getenv
  local host, port = nonempty(getenv("KUBERNETES_SERVICE_HOST")), nonempty(getenv("KUBERNETES_SERVICE_PORT"))
  local sa = opts.service_account_dir or "/var/run/secrets/kubernetes.io/serviceaccount"
  local conn
  if host and file_exists(sa .. "/token") then
    if host:find(":", 1, true) then
      host = "[" .. host .. "]"
    end
    conn = { server = ("https://%s:%s"):format(host, port or "443"), token_file = sa .. "/token",
      mode = "in-cluster" }
    if file_exists(sa .. "/ca.crt") then
      conn.ca_file = sa .. "/ca.crt"
    end
  else
    local err
    conn, err = kubeconfig.load(opts.kubeconfig or "", { temp_dir = opts.temp_dir })
    if not conn then
      local where = host and ("KUBERNETES_SERVICE_HOST is set but there is no token at " .. sa .. "/token")
        or "not in a cluster (KUBERNETES_SERVICE_HOST is not set)"
      return nil, where .. ", and " .. err
    end
    conn.mode = "kubeconfig"
    if conn.insecure_skip_verify then
      log.warn("kubernetes: the kubeconfig's cluster has insecure-skip-tls-verify: the API server's "
        .. "certificate is not checked", { context = conn.context, server = conn.server })
    end
  end
  conn.tls = { ca_file = conn.ca_file, cert_file = conn.cert_file, key_file = conn.key_file,
    insecure_skip_verify = conn.insecure_skip_verify or nil }
  if not next(conn.tls) then
    conn.tls = nil
  end
  return conn
end

-- The request headers; a token file is read each time (rotation).
local function headers(conn)
  local h = { Accept = "application/json" }
  local token = conn.token
  if conn.token_file then
    token = trim(read_file(conn.token_file))
  end
  if token and token ~= "" then
    h.Authorization = "Bearer " .. token
  end
  return h
end

local function escape(s)
  return (tostring(s):gsub("[^%w%-%._~]", function(c)
    return ("%%%02X"):format(c:byte())
  end))
end

local function services_path(namespace)
  if namespace and namespace ~= "" then
    return "/api/v1/namespaces/" .. escape(namespace) .. "/services"
  end
  return "/api/v1/services"
end

local function query(params)
  local parts = {}
  for _, kv in ipairs(params) do
    if kv[2] ~= nil then
      parts[#parts + 1] = kv[1] .. "=" .. escape(kv[2])
    end
  end
  return #parts > 0 and ("?" .. table.concat(parts, "&")) or ""
end

-- The message of a Kubernetes Status body, else the status line; a hint for 401 and 403.
local function status_message(status, body)
  local doc = type(body) == "string" and body:sub(1, 1) == "{" and json.decode(body)
  local msg = ("HTTP %d"):format(status)
  if type(doc) == "table" and type(doc.message) == "string" then
    msg = msg .. ": " .. doc.message
  end
  if status == 401 then
    msg = msg .. " (the token or client certificate was not accepted)"
  elseif status == 403 then
    msg = msg .. " (the account needs get, list and watch on services; see docs/discovery-kubernetes.md)"
  end
  return msg
end

function M.list(conn, namespace, opts)
  opts = opts or {}
  local services, continue = {}, nil
  local rv
  repeat
    local url = conn.server .. services_path(namespace)
      .. query({ { "limit", opts.limit or M.PAGE_LIMIT }, { "continue", continue } })
    local r, err, code = httpc.request({ url = url, headers = headers(conn), tls = conn.tls, ssrf_guard = false,
      timeout_ms = M.REQUEST_TIMEOUT_MS, max_bytes = M.MAX_LIST_BYTES })
    if not r then
      return nil, ("list services: %s"):format(err), nil, code
    end
    if r.status ~= 200 then
      return nil, "list services: " .. status_message(r.status, r.body), r.status
    end
    local doc = json.decode(r.body)
    if type(doc) ~= "table" or type(doc.items) ~= "table" then
      return nil, "list services: the answer is not a ServiceList"
    end
    for _, s in ipairs(doc.items) do
      services[#services + 1] = s
    end
    local md = type(doc.metadata) == "table" and doc.metadata or {}
    rv = md.resourceVersion
    continue = nonempty(md.continue)
  until not continue
  return { services = services, resource_version = rv }
end

-- Splits complete lines off buf: lines, rest.
local function split_lines(buf)
  local lines, start = {}, 1
  while true do
    local nl = buf:find("\n", start, true)
    if not nl then
      break
    end
    local line = buf:sub(start, nl - 1)
    if line:match("%S") then
      lines[#lines + 1] = line
    end
    start = nl + 1
  end
  return lines, buf:sub(start)
end
M.split_lines = split_lines

-- on_event(events) is called with the decoded events of each chunk; false ends the watch.
function M.watch(conn, namespace, rv, on_event, opts)
  opts = opts or {}
  local timeout_s = opts.timeout_s or 300
  local url = conn.server .. services_path(namespace) .. query({ { "watch", "1" }, { "resourceVersion", rv },
    { "allowWatchBookmarks", "true" }, { "timeoutSeconds", timeout_s } })
  local buf, out = "", { events = 0 }
  local r, err, code = httpc.stream({
    url = url, headers = headers(conn), tls = conn.tls, ssrf_guard = false,
    connect_timeout_ms = 10000, idle_timeout_ms = (timeout_s + 30) * 1000,
    on_data = function(chunk)
      buf = buf .. chunk
      local lines
      lines, buf = split_lines(buf)
      if #buf > 16 * 1024 * 1024 then
        out.reason, out.message = "error", "a watch event is larger than 16 MiB"
        return false
      end
      local events = {}
      for _, line in ipairs(lines) do
        local ev = json.decode(line)
        if type(ev) ~= "table" or type(ev.type) ~= "string" then
          if ev and ev.kind == "Status" then
            out.status_body = line
          else
            out.reason, out.message = "error", "a watch line is not an event: " .. line:sub(1, 120)
            return false
          end
        else
          events[#events + 1] = ev
        end
      end
      out.events = out.events + #events
      if #events > 0 and on_event(events) == false then
        out.reason = out.reason or "stop"
        return false
      end
    end,
  })
  if not r then
    if code == "stopped" then
      return { reason = "stopped", events = out.events }
    end
    return { reason = "error", message = err, code = code, events = out.events }
  end
  local status = r.status
  if out.reason then
    return out
  end
  if status == 410 then
    return { reason = "gone", status = 410, events = out.events }
  end
  if status ~= 200 then
    return { reason = "error", status = status, events = out.events,
      message = "watch services: " .. status_message(status, out.status_body or buf) }
  end
  if buf:match("%S") then
    return { reason = "error", message = "the watch ended in the middle of an event", events = out.events }
  end
  out.reason = "closed"
  return out
end

-- ---- the job ------------------------------------------------------------------------------------

local function settings()
  local config = require "agentlens.config"
  local function get(k, def)
    local ok, v = pcall(config.get, k)
    if ok and v ~= nil then
      return v
    end
    return def
  end
  return {
    enabled = get("kubernetes.enabled", false),
    namespace = get("kubernetes.namespace", ""),
    kubeconfig = get("kubernetes.kubeconfig", ""),
    service_account_dir = get("kubernetes.service_account_dir", "/var/run/secrets/kubernetes.io/serviceaccount"),
    address = get("kubernetes.address", "dns"),
    watch_timeout_s = math.max(1, math.floor((get("kubernetes.watch_timeout", 300000)) / 1000)),
    interval_s = math.max(1, math.floor((get("discovery.interval", 60000)) / 1000)),
    temp_dir = get("data_dir", nil),
  }
end

-- Capped exponential backoff with jitter: each delay is between half and all of the current
-- step, which doubles from BACKOFF_MIN_S to BACKOFF_MAX_S.
local function backoff()
  local step = M.BACKOFF_MIN_S
  local b = {}
  function b.next()
    local d = step / 2 + math.random() * step / 2
    step = math.min(step * 2, M.BACKOFF_MAX_S)
    return d
  end
  function b.reset()
    step = M.BACKOFF_MIN_S
  end
  return b
end
M.backoff = backoff

-- A discovery session: what is known of the cluster and what was written.
local function session(cfg, sync)
  -- known: key -> signature of the item last written (or "invalid:<why>"); items: key -> item
  local s = { known = {}, items = {}, rv = nil, cfg = cfg }

  -- upserts the items (a list), fetching concurrently; records what was written
  local function upsert(items)
    if #items == 0 then
      return
    end
    local results = sync.upsert_many(M.SOURCE, items, { concurrency = M.UPSERT_CONCURRENCY,
      timeout_ms = M.FETCH_TIMEOUT_MS })
    for i, res in ipairs(results) do
      local it = items[i]
      if res.error and res.code ~= "filtered" then
        log.warn("kubernetes: cannot add the Service to the catalog", { key = it.key, error = res.error,
          code = res.code })
      end
    end
  end

  -- upserts a list in batches of UPSERT_BATCH; false when the job must stop first
  local function upsert_all(items, ctx)
    for i = 1, #items, M.UPSERT_BATCH do
      if ctx.should_stop() then
        return false
      end
      local chunk = {}
      for j = i, math.min(i + M.UPSERT_BATCH - 1, #items) do
        chunk[#chunk + 1] = items[j]
      end
      upsert(chunk)
    end
    return true
  end

  local function remember(item)
    s.known[item.key], s.items[item.key] = signature(item), item
  end

  local function forget(key)
    s.known[key], s.items[key] = nil, nil
  end

  local function gone(key)
    local ok, err = sync.gone(M.SOURCE, key)
    if not ok then
      log.warn("kubernetes: cannot mark the Service gone", { key = key, error = err })
    end
    forget(key)
  end

  -- item for a Service | nil, key, why (not annotated: why = nil; unusable annotations: logged
  -- once per change)
  local function item_for(svc)
    local item, why = M.item_of(svc, { address = cfg.address })
    if item then
      return item
    end
    local md = type(svc) == "table" and type(svc.metadata) == "table" and svc.metadata or {}
    local key = ("k8s/%s/%s"):format(tostring(nonempty(md.namespace) or "default"), tostring(md.name))
    if why and s.known[key] ~= "invalid:" .. why then
      log.warn("kubernetes: Service annotations ignored", { key = key, reason = why })
    end
    return nil, key, why
  end

  -- The whole list: upsert what is new or changed, mark gone what is no longer there.
  function s.relist(conn, ctx)
    local t0 = time.monotonic()
    local list, err, status = M.list(conn, cfg.namespace)
    if not list then
      return nil, err, status
    end
    local present, todo = {}, {}
    for _, svc in ipairs(list.services) do
      local item, key, why = item_for(svc)
      if item then
        present[item.key] = true
        if s.known[item.key] ~= signature(item) then
          todo[#todo + 1] = item
          remember(item)
        end
      elseif why then
        s.known[key] = "invalid:" .. why
      end
    end
    if not upsert_all(todo, ctx) then
      return nil, "stopped"
    end
    local n, rerr = sync.retain(M.SOURCE, present)
    if not n then
      log.warn("kubernetes: cannot reconcile removed Services", { error = rerr })
    end
    for key in pairs(s.known) do
      if not present[key] then
        forget(key)
      end
    end
    s.rv = list.resource_version
    log.info("kubernetes: services listed", { services = #list.services, agents = #todo,
      removed = n or 0, resource_version = s.rv, namespace = cfg.namespace ~= "" and cfg.namespace or "(all)",
      duration_ms = math.floor((time.monotonic() - t0) * 1000) })
    return true
  end

  -- Applies the events of one chunk in order: upserts go out together at the end (or before a
  -- deletion of the same key).
  function s.apply(events)
    local pending, order = {}, {}
    local function flush()
      local items = {}
      for _, key in ipairs(order) do
        if pending[key] then
          items[#items + 1] = pending[key]
        end
      end
      pending, order = {}, {}
      upsert(items)
    end
    for _, ev in ipairs(events) do
      local obj = type(ev.object) == "table" and ev.object or {}
      local md = type(obj.metadata) == "table" and obj.metadata or {}
      if ev.type == "ERROR" then
        flush()
        if obj.code == 410 then
          return "gone"
        end
        return "error", ("watch error event: %s"):format(tostring(obj.message or obj.reason or obj.code))
      end
      if md.resourceVersion then
        s.rv = md.resourceVersion
      end
      if ev.type == "ADDED" or ev.type == "MODIFIED" then
        local item, key, why = item_for(obj)
        if item then
          if s.known[item.key] ~= signature(item) then
            remember(item)
            if not pending[item.key] then
              order[#order + 1] = item.key
            end
            pending[item.key] = item
          end
        elseif key then
          local was = s.known[key]
          if was and not was:match("^invalid:") or pending[key] then
            pending[key] = nil
            gone(key)
          end
          forget(key)
          s.known[key] = why and ("invalid:" .. why) or nil
        end
      elseif ev.type == "DELETED" then
        local key = ("k8s/%s/%s"):format(tostring(md.namespace), tostring(md.name))
        pending[key] = nil
        gone(key)
      end
      -- BOOKMARK: only the resourceVersion above
    end
    flush()
    return "ok"
  end

  -- Fetches the cards of every known Service again (discovery.interval).
  function s.refresh(ctx)
    local items = {}
    for _, item in pairs(s.items) do
      items[#items + 1] = item
    end
    table.sort(items, function(a, b)
      return a.key < b.key
    end)
    log.debug("kubernetes: fetching the cards again", { agents = #items })
    return upsert_all(items, ctx)
  end

  return s
end

function M.run(ctx, deps)
  deps = deps or {}
  local cfg = deps.settings or settings()
  if not cfg.enabled then
    return
  end
  local sync = deps.sync or require "agentlens.discovery.sync"
  local conn, err = deps.conn, nil
  if not conn then
    conn, err = M.connection({ service_account_dir = cfg.service_account_dir, kubeconfig = cfg.kubeconfig,
      temp_dir = cfg.temp_dir })
  end
  if not conn then
    log.error("kubernetes: no API server to talk to", { error = err })
    ctx.sleep(M.BACKOFF_MAX_S)
    return
  end
  log.info("kubernetes: discovery started", { server = conn.server, mode = conn.mode,
    namespace = cfg.namespace ~= "" and cfg.namespace or "(all)" })
  local now = deps.now or time.monotonic
  local s = session(cfg, sync)
  local wait = backoff()
  local refreshed_at
  while not ctx.should_stop() do
    if s.rv and now() - refreshed_at >= cfg.interval_s then
      refreshed_at = now()
      if not s.refresh(ctx) then
        break
      end
    end
    if not s.rv then
      local ok, lerr, status = s.relist(conn, ctx)
      if ok then
        refreshed_at = refreshed_at or now() -- the first list fetched every card
      else
        if lerr == "stopped" then
          break
        end
        log.warn("kubernetes: cannot list services; retrying", { error = lerr, status = status })
        if not ctx.sleep(wait.next()) then
          break
        end
      end
    else
      local verdict, why
      local res = M.watch(conn, cfg.namespace, s.rv, function(events)
        verdict, why = s.apply(events)
        wait.reset()
        return verdict == "ok"
      end, { timeout_s = math.min(cfg.watch_timeout_s, cfg.interval_s) })
      if res.reason == "stopped" then
        break
      elseif res.reason == "gone" or verdict == "gone" then
        log.info("kubernetes: resourceVersion too old (410 Gone); listing again", { resource_version = s.rv })
        s.rv = nil
      elseif res.reason == "closed" then
        wait.reset()
      else
        local delay = wait.next()
        log.warn("kubernetes: watch ended; reconnecting", { error = why or res.message, status = res.status,
          code = res.code, retry_in_s = math.floor(delay * 1000) / 1000 })
        if not ctx.sleep(delay) then
          break
        end
      end
    end
  end
  log.info("kubernetes: discovery stopped", {})
end

return M
