-- SPDX-License-Identifier: Apache-2.0
-- agentlens.discovery.kubernetes (Service -> sync item, watch lines, backoff, the job's session
-- with a recording sync) and agentlens.discovery.kubeconfig (YAML through agentlens.yaml,
-- contexts, -data files), without a network: the API server and agents are in spec/api/kubernetes.test.mjs.
local k8s = require "agentlens.discovery.kubernetes"
local kubeconfig = require "agentlens.discovery.kubeconfig"

local function service(name, ns, annotations, ports, extra)
  extra = extra or {}
  return {
    metadata = { name = name, namespace = ns, annotations = annotations, labels = extra.labels,
      resourceVersion = extra.rv },
    spec = { clusterIP = extra.ip or "10.96.0.10", ports = ports or { { name = "http", port = 8080 } } },
  }
end

describe("kubernetes.item_of", function()
  it("maps an annotated A2A Service to a sync item with the cluster DNS name", function()
    local item = assert(k8s.item_of(service("weather", "agents", {
      ["agentlens.io/protocol"] = "A2A", ["agentlens.io/team"] = " payments ",
      ["agentlens.io/tags"] = "demo, weather,,", ["agentlens.io/card-path"] = "cards/agent.json",
    }, nil, { labels = { app = "weather" } })))
    assert.same({
      key = "k8s/agents/weather", protocol = "a2a", namespace = "agents", name = "weather",
      url = "http://weather.agents.svc:8080", card_path = "/cards/agent.json", team = "payments",
      tags = { "demo", "weather" }, labels = { app = "weather" },
      annotations = { ["agentlens.io/protocol"] = "A2A", ["agentlens.io/team"] = " payments ",
        ["agentlens.io/tags"] = "demo, weather,,", ["agentlens.io/card-path"] = "cards/agent.json" },
    }, item)
  end)

  it("uses agentlens.io/type, the named port and /mcp for MCP; https by port name", function()
    local item = assert(k8s.item_of(service("tools", "ml",
      { ["agentlens.io/type"] = "mcp", ["agentlens.io/port"] = "api" },
      { { name = "metrics", port = 9090 }, { name = "api", port = 8443, appProtocol = "https" } })))
    assert.equal("mcp", item.protocol)
    assert.equal("https://tools.ml.svc:8443/mcp", item.url)
    assert.is_nil(item.card_path)
    local custom = assert(k8s.item_of(service("tools", "ml", { ["agentlens.io/protocol"] = "mcp",
      ["agentlens.io/card-path"] = "/v1/mcp", ["agentlens.io/port"] = "9090" },
      { { name = "https-web", port = 443 }, { name = "metrics", port = 9090 } })))
    assert.equal("http://tools.ml.svc:9090/v1/mcp", custom.url)
    local first = assert(k8s.item_of(service("s", "ml", { ["agentlens.io/protocol"] = "mcp" },
      { { name = "https-web", port = 4443 } })))
    assert.equal("https://s.ml.svc:4443/mcp", first.url)
  end)

  it("uses the cluster IP with address = cluster-ip (IPv6 in brackets), the DNS name without one", function()
    local ann = { ["agentlens.io/protocol"] = "a2a" }
    assert.equal("http://10.1.2.3:8080", k8s.item_of(service("a", "b", ann, nil, { ip = "10.1.2.3" }),
      { address = "cluster-ip" }).url)
    assert.equal("http://[fd00::5]:8080", k8s.item_of(service("a", "b", ann, nil, { ip = "fd00::5" }),
      { address = "cluster-ip" }).url)
    assert.equal("http://a.b.svc:8080", k8s.item_of(service("a", "b", ann, nil, { ip = "None" }),
      { address = "cluster-ip" }).url)
  end)

  it("ignores Services without the annotation and explains unusable annotations", function()
    assert.is_nil(k8s.item_of(service("plain", "default", nil)))
    local item, why = k8s.item_of(service("x", "default", { ["agentlens.io/protocol"] = "grpc" }))
    assert.is_nil(item)
    assert.matches("must be a2a or mcp", why)
    item, why = k8s.item_of(service("x", "default",
      { ["agentlens.io/protocol"] = "a2a", ["agentlens.io/port"] = "grpc" }))
    assert.is_nil(item)
    assert.matches("names no port", why)
    item, why = k8s.item_of(service("x", "default", { ["agentlens.io/protocol"] = "a2a" }, {}))
    assert.is_nil(item)
    assert.matches("no ports", why)
    for _, bad in ipairs({ "http://169.254.169.254/latest", "//evil.example/card.json", "file:/etc/passwd", "/a b" }) do
      item, why = k8s.item_of(service("x", "default",
        { ["agentlens.io/protocol"] = "a2a", ["agentlens.io/card-path"] = bad }))
      assert.is_nil(item, bad)
      assert.matches("card%-path must be a path on the Service", why)
    end
    local ext = service("x", "default", { ["agentlens.io/protocol"] = "a2a" })
    ext.spec.type = "ExternalName"
    item, why = k8s.item_of(ext)
    assert.is_nil(item)
    assert.matches("ExternalName", why)
    item, why = k8s.item_of({ kind = "Status" })
    assert.is_nil(item)
    assert.equal("not a Service object", why)
  end)

  it("defaults the namespace to default", function()
    assert.equal("k8s/default/a", k8s.item_of(service("a", nil, { ["agentlens.io/protocol"] = "a2a" })).key)
  end)
end)

describe("kubernetes helpers", function()
  it("splits complete watch lines and keeps the rest", function()
    local lines, rest = k8s.split_lines('{"a":1}\n\n{"b":2}\n{"c"')
    assert.same({ '{"a":1}', '{"b":2}' }, lines)
    assert.equal('{"c"', rest)
  end)

  it("backs off with jitter between half and all of a doubling step, capped", function()
    local b = k8s.backoff()
    local steps = { 0.5, 1, 2, 4, 8, 16, 30, 30 }
    for _, step in ipairs(steps) do
      local d = b.next()
      assert.is_true(d >= step / 2 and d <= step, ("%s not in [%s, %s]"):format(d, step / 2, step))
    end
    b.reset()
    assert.is_true(b.next() <= 0.5)
  end)
end)

describe("kubernetes.run with a fake API server transport", function()
  -- A recording sync and a job context that stops after the given number of watch calls.
  local function harness()
    local h = { upserts = {}, gone = {}, retained = nil }
    h.sync = {
      upsert_many = function(_, items)
        local out = {}
        for i, it in ipairs(items) do
          h.upserts[#h.upserts + 1] = it.key
          out[i] = { entry = { id = it.key }, info = { action = "inserted" } }
        end
        return out
      end,
      gone = function(_, key)
        h.gone[#h.gone + 1] = key
        return true
      end,
      retain = function(_, keys)
        h.retained = keys
        return 0
      end,
    }
    return h
  end

  it("applies ADDED, MODIFIED (only when the item changed), annotation removal, DELETED and BOOKMARK", function()
    local h = harness()
    local list = { services = {
      service("a", "ns", { ["agentlens.io/protocol"] = "a2a" }),
      service("plain", "ns", nil),
    }, resource_version = "10" }
    local watches = 0
    local real_list, real_watch = k8s.list, k8s.watch
    k8s.list = function()
      return list
    end
    k8s.watch = function(_, _, rv, on_event)
      watches = watches + 1
      if watches == 1 then
        assert.equal("10", rv)
        on_event({
          { type = "ADDED", object = service("b", "ns", { ["agentlens.io/protocol"] = "mcp" }, nil, { rv = "11" }) },
          -- same item: no new upsert
          { type = "MODIFIED", object = service("a", "ns", { ["agentlens.io/protocol"] = "a2a" }, nil, { rv = "12" }) },
          { type = "MODIFIED", object = service("a", "ns", { ["agentlens.io/protocol"] = "a2a",
            ["agentlens.io/team"] = "t" }, nil, { rv = "13" }) },
        })
        on_event({ -- the next chunk
          { type = "MODIFIED", object = service("b", "ns", {}, nil, { rv = "14" }) }, -- annotation removed
          { type = "DELETED", object = service("a", "ns", {}, nil, { rv = "15" }) },
          { type = "BOOKMARK", object = { metadata = { resourceVersion = "20" } } },
        })
        return { reason = "closed", events = 6 }
      end
      assert.equal("20", rv) -- the bookmark's resourceVersion
      return { reason = "stopped" }
    end
    local ok, err = pcall(k8s.run, { should_stop = function() return false end, sleep = function() return true end },
      { sync = h.sync, conn = { server = "https://kube.test" }, settings = { enabled = true, namespace = "",
        address = "dns", watch_timeout_s = 60, interval_s = 60 } })
    k8s.list, k8s.watch = real_list, real_watch
    assert.is_true(ok, err)
    assert.equal(2, watches)
    assert.same({ "k8s/ns/a", "k8s/ns/b", "k8s/ns/a" }, h.upserts)
    assert.same({ "k8s/ns/b", "k8s/ns/a" }, h.gone)
    assert.same({ ["k8s/ns/a"] = true }, h.retained)
  end)

  it("fetches the cards of every known Service again each discovery interval", function()
    local h = harness()
    local list = { services = {
      service("a", "ns", { ["agentlens.io/protocol"] = "a2a" }),
      service("b", "ns", { ["agentlens.io/protocol"] = "mcp" }),
    }, resource_version = "10" }
    local clock, timeouts = 1000, {}
    local real_list, real_watch = k8s.list, k8s.watch
    k8s.list = function()
      return list
    end
    k8s.watch = function(_, _, _, on_event, opts)
      timeouts[#timeouts + 1] = opts.timeout_s
      if #timeouts == 1 then
        clock = clock + 10 -- within the interval: nothing fetched again
      elseif #timeouts == 2 then
        on_event({ { type = "DELETED", object = service("b", "ns", {}, nil, { rv = "11" }) } })
        clock = clock + 25 -- past the interval (30 s) since the list
      else
        return { reason = "stopped" }
      end
      return { reason = "closed", events = 0 }
    end
    local ok, err = pcall(k8s.run, { should_stop = function() return false end, sleep = function() return true end },
      { sync = h.sync, conn = { server = "https://kube.test" }, now = function() return clock end,
        settings = { enabled = true, namespace = "", address = "dns", watch_timeout_s = 300, interval_s = 30 } })
    k8s.list, k8s.watch = real_list, real_watch
    assert.is_true(ok, err)
    -- the list, then one refresh of what is still known (b was deleted)
    assert.same({ "k8s/ns/a", "k8s/ns/b", "k8s/ns/a" }, h.upserts)
    -- a watch never outlasts the interval
    assert.same({ 30, 30, 30 }, timeouts)
  end)
end)

describe("kubeconfig", function()
  local dir = os.getenv("TMPDIR") or "/tmp"

  local KC = [[
apiVersion: v1
kind: Config
preferences: {}
current-context: "dev"   # the one in use
clusters:
- name: dev-cluster
  cluster:
    server: https://10.0.0.1:6443/
    certificate-authority: certs/ca.crt
- cluster:
    server: 'http://other:8080'
    insecure-skip-tls-verify: true
  name: other
contexts:
- name: dev
  context:
    cluster: dev-cluster
    user: dev-user
    namespace: team-a
- name: insecure
  context: {cluster: other}
users:
- name: dev-user
  user:
    token: "abc\"def"
    client-certificate-data: aGVsbG8=
    client-key-data: d29ybGQ=
]]

  it("parses the YAML kubectl writes", function()
    local doc = kubeconfig.parse(KC:gsub("  context: {cluster: other}", "  context:\n    cluster: other"))
    assert.equal("dev", doc["current-context"])
    assert.equal(2, #doc.clusters)
    assert.equal("http://other:8080", doc.clusters[2].cluster.server)
    assert.is_true(doc.clusters[2].cluster["insecure-skip-tls-verify"])
    assert.equal('abc"def', doc.users[1].user.token)
    assert.same({}, doc.preferences)
  end)

  it("reads flow collections like their block form", function()
    local flow = assert(kubeconfig.parse(KC))
    local block = assert(kubeconfig.parse(KC:gsub("  context: {cluster: other}", "  context:\n    cluster: other")))
    assert.same({ cluster = "other" }, flow.contexts[2].context)
    assert.same(block, flow)
  end)

  it("refuses what it does not understand, naming the line", function()
    local doc, err = kubeconfig.parse((KC:gsub("  context: {cluster: other}", "  context: !!map {cluster: other}")))
    assert.is_nil(doc)
    assert.equal("kubeconfig: line 21 column 12: YAML tags are not supported", err)
    doc, err = kubeconfig.parse("a: &x 1\n")
    assert.is_nil(doc)
    assert.equal("kubeconfig: line 1 column 4: YAML anchors and aliases are not supported", err)
    doc, err = kubeconfig.parse("a: 1\n  b: 2\n")
    assert.is_nil(doc)
    assert.matches("^kubeconfig: line 2 column %d+: ", err)
    doc, err = kubeconfig.parse("a: 1\na: 2\n")
    assert.is_nil(doc)
    assert.equal("kubeconfig: line 2 column 1: duplicate key a", err)
    doc, err = kubeconfig.parse("")
    assert.is_nil(doc)
    assert.equal("kubeconfig: the document is empty", err)
    doc, err = kubeconfig.parse("# only a comment\n")
    assert.is_nil(doc)
    assert.equal("kubeconfig: the document is empty", err)
    doc, err = kubeconfig.parse("- a\n- b\n")
    assert.is_nil(doc)
    assert.equal("kubeconfig: the document is not a mapping", err)
  end)

  it("accepts JSON", function()
    local doc = assert(kubeconfig.parse('{"current-context": "x", "clusters": []}'))
    assert.equal("x", doc["current-context"])
  end)

  it("resolves the current context, writes -data fields to private files and resolves relative paths", function()
    local doc = assert(kubeconfig.parse(KC:gsub("  context: {cluster: other}", "  context:\n    cluster: other")))
    local conn = assert(kubeconfig.resolve(doc, { base_dir = "/etc/kube", temp_dir = dir }))
    assert.equal("https://10.0.0.1:6443", conn.server)
    assert.equal("team-a", conn.namespace)
    assert.equal("/etc/kube/certs/ca.crt", conn.ca_file)
    assert.equal('abc"def', conn.token)
    assert.equal(dir .. "/kubeconfig-client.crt", conn.cert_file)
    local f = assert(io.open(conn.cert_file, "rb"))
    assert.equal("hello", f:read("*a"))
    f:close()
    f = assert(io.open(conn.key_file, "rb"))
    assert.equal("world", f:read("*a"))
    f:close()
    local p = io.popen("stat -c %a " .. conn.key_file)
    assert.equal("600", p:read("*l"))
    p:close()
    local other = assert(kubeconfig.resolve(doc, { context = "insecure" }))
    assert.is_true(other.insecure_skip_verify)
    assert.is_nil(other.token)
  end)

  it("explains a missing context, cluster or server", function()
    local doc = assert(kubeconfig.parse("current-context: nope\ncontexts: []\n"))
    local conn, err = kubeconfig.resolve(doc)
    assert.is_nil(conn)
    assert.equal('kubeconfig: context "nope" not found', err)
    doc = assert(kubeconfig.parse("contexts: []\n"))
    conn, err = kubeconfig.resolve(doc)
    assert.is_nil(conn)
    assert.equal("kubeconfig: no current-context", err)
    conn, err = kubeconfig.load(dir .. "/agentlens-no-such-kubeconfig")
    assert.is_nil(conn)
    assert.matches("No such file", err)
  end)

  it("decodes base64", function()
    assert.equal("hello world", kubeconfig.base64_decode("aGVsbG8gd29ybGQ="))
    assert.equal("ab", kubeconfig.base64_decode("YWI="))
    assert.is_nil(kubeconfig.base64_decode("abc"))
  end)
end)
