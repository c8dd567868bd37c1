#!/usr/bin/env bats
# SPDX-License-Identifier: Apache-2.0
# examples/: the two compose files and agentlens.yaml. No Docker engine runs here, so the compose
# files are parsed (yamllint, PyYAML) and their structure checked, and every AgentLens setting
# they use (environment and configuration) is run through `agentlens check-config`.
#
#   bats spec/release/test_compose.bats           (ctest -L release; AGENTLENS_BIN=the binary)

setup_file() {
	load common
	release_repo_and_binary
	release_python_yaml || return 1
	command -v yamllint >/dev/null || {
		echo "yamllint is needed (scripts/deps.sh test)" >&2
		return 1
	}
}

YAMLLINT_CONFIG='{extends: default, rules: {document-start: disable, line-length: {max: 100}}}'

# check NAME: one named check (the Python program below).
check() {
	"$PY" - "$@" <<'PY'
import os, re, subprocess, sys, tempfile
import yaml

REPO = os.environ["REPO"]
BIN = os.environ["AGENTLENS_BIN"]
EX = os.path.join(REPO, "examples")
errors = []


def need(cond, msg):
    if not cond:
        errors.append(msg)


def run(args, env=None, cwd=None):
    return subprocess.run([BIN] + args, capture_output=True, text=True,
                          env=env if env is not None else {"PATH": "/usr/bin:/bin"}, cwd=cwd)


def options():
    """The option table of `agentlens config-reference`: key -> (env, default)."""
    md = run(["config-reference"]).stdout
    rows = {}
    for line in md.splitlines():
        m = re.match(r"^\| `([a-z0-9_.]+)` \| `(AGENTLENS_[A-Z0-9_]+)` \|", line)
        if m:
            rows[m.group(1)] = m.group(2)
    return rows


def help_env():
    return set(re.findall(r"AGENTLENS_[A-Z0-9_]+", run(["--help"]).stdout))


def flatten(node, prefix=""):
    out = {}
    for k, v in node.items():
        key = f"{prefix}{k}"
        if isinstance(v, dict) and v:
            out.update(flatten(v, key + "."))
        else:
            out[key] = v
    return out


def effective(result):
    """The `key value` lines check-config prints, without its first line (which names sources)."""
    return [l for l in result.stdout.splitlines()[1:] if l.startswith("  ")]


def interpolate(value):
    """Compose interpolation with an empty environment: ${X:-d}, ${X-d}, ${X}, $$."""
    if not isinstance(value, str):
        return value
    value = re.sub(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::?-([^}]*))?\}", lambda m: m.group(2) or "", value)
    return value.replace("$$", "$")


def load(name):
    with open(os.path.join(EX, name), encoding="utf-8") as f:
        return yaml.safe_load(f)


def env_of(service):
    env = service.get("environment", {})
    if isinstance(env, list):
        env = dict(e.split("=", 1) for e in env)
    return env


def check_config_with(service_env, config_text, what):
    """check-config with the service's environment and its configuration file."""
    env = {"PATH": "/usr/bin:/bin"}
    env.update({k: str(interpolate(v)) for k, v in service_env.items() if k.startswith("AGENTLENS_")})
    data = yaml.safe_load(config_text) if config_text else {}
    need(isinstance(data, dict), f"{what}: the configuration is a mapping")
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "agentlens.yaml")
        with open(path, "w", encoding="utf-8") as f:
            yaml.safe_dump(data or {}, f)
        r = run(["check-config", "--config", path], env=env, cwd=tmp)
        need(r.returncode == 0, f"{what}: check-config failed: {r.stderr.strip()}")


def published_ports(service):
    ports = []
    for p in service.get("ports", []):
        if isinstance(p, dict):
            ports.append(int(p.get("target")))
        else:
            ports.append(int(str(p).split(":")[-1].split("/")[0]))
    return ports


def check_agentlens_service(doc, name, svc):
    what = f"{name}: services.agentlens"
    need("agentlens" in str(svc.get("image", "")), f"{what}: an agentlens image")
    build = svc.get("build", {})
    ctx = build.get("context") if isinstance(build, dict) else build
    need(ctx is not None and os.path.isfile(os.path.join(EX, ctx, (build.get("dockerfile") if isinstance(build, dict) else None) or "Dockerfile")),
         f"{what}: build.context points at the Dockerfile of this checkout")
    need(8080 in published_ports(svc), f"{what}: publishes container port 8080")
    vols = [v for v in svc.get("volumes", []) if isinstance(v, str) and v.split(":")[1:2] == ["/data"]]
    need(len(vols) == 1 and vols[0].split(":")[0] in (doc.get("volumes") or {}),
         f"{what}: a named volume (declared under volumes:) at /data")
    need(svc.get("read_only") is True and "/tmp" in svc.get("tmpfs", []), f"{what}: read_only with a tmpfs /tmp")
    need("ALL" in svc.get("cap_drop", []), f"{what}: cap_drop ALL")
    need("healthcheck" not in svc, f"{what}: no healthcheck (the distroless image has no shell or curl)")
    env = env_of(svc)
    for k, v in env.items():
        need(isinstance(v, str), f"{what}: environment {k} must be a string (quote it), not {v!r}")
    known = help_env()
    for k in env:
        if k.startswith("AGENTLENS_"):
            need(k in known, f"{what}: {k} is not a variable of agentlens --help")
    # the configuration file: from configs: (content), at the path given to --config
    cmd = svc.get("command", [])
    cfg_path = cmd[cmd.index("--config") + 1] if "--config" in cmd else None
    content = None
    for c in svc.get("configs", []):
        if isinstance(c, dict) and c.get("target") == cfg_path:
            content = ((doc.get("configs") or {}).get(c.get("source")) or {}).get("content")
    need(cfg_path is None or content is not None, f"{what}: --config {cfg_path} is a config with content")
    check_config_with(env, content, what)
    return yaml.safe_load(content) if content else {}


def check_mocks(doc, name, config):
    services = doc["services"]
    for mock, target in (("a2a-agent", "a2a-agent"), ("mcp-server", "mcp-server")):
        svc = services.get(mock)
        need(svc is not None, f"{name}: services.{mock}")
        if not svc:
            continue
        b = svc.get("build", {})
        need(isinstance(b, dict) and b.get("context") == "./mock-agents" and b.get("target") == target,
             f"{name}: {mock} builds ./mock-agents, target {target}")
        port = env_of(svc).get("PORT")
        need(port is not None and [str(p) for p in svc.get("expose", [])] == [port],
             f"{name}: {mock} exposes its PORT")
        need(mock in (services["agentlens"].get("depends_on") or {}), f"{name}: agentlens depends on {mock}")
        srcs = [s for s in (config or {}).get("sources", []) if isinstance(s, dict)]
        base = f"http://{mock}:{port}"
        mine = [s for s in srcs if str(s.get("url", "")) == base or str(s.get("url", "")).startswith(base + "/")]
        need(len(mine) == 1, f"{name}: one source of the configuration reaches {mock} at {base}")
        for s in mine:
            # interface of `sources:`: A2A = base URL or card URL, MCP = the MCP endpoint
            want = "a2a" if mock == "a2a-agent" else "mcp"
            need(s.get("type") == want, f"{name}: the source of {mock} has type {want}")
            if want == "mcp":
                need(s.get("url") == base + "/mcp", f"{name}: the MCP source url is the endpoint {base}/mcp")
            else:
                need(s.get("url") in (base, base + "/.well-known/agent-card.json"),
                     f"{name}: the A2A source url is the base URL or the card URL")
    names = [s.get("name") for s in (config or {}).get("sources", [])]
    need(len(names) == len(set(names)) and all(names), f"{name}: sources have unique names")
    # examples/mock-agents/ arrives with discovery; once there, it has both targets
    df = os.path.join(EX, "mock-agents", "Dockerfile")
    if os.path.isdir(os.path.join(EX, "mock-agents")):
        text = open(df, encoding="utf-8").read() if os.path.isfile(df) else ""
        for target in ("a2a-agent", "mcp-server"):
            need(re.search(rf"^FROM\s.*\sAS\s+{target}\s*$", text, re.M | re.I) is not None,
                 f"examples/mock-agents/Dockerfile: a stage named {target}")
    else:
        print("note: examples/mock-agents/ does not exist yet (it arrives with discovery)")


def check_top(doc, name):
    need(set(doc) <= {"name", "services", "volumes", "configs", "networks", "secrets"} | {k for k in doc if k.startswith("x-")},
         f"{name}: unexpected top-level keys {sorted(set(doc))} (no obsolete `version:`)")


what = sys.argv[1]

if what == "example-keys":
    doc = load("agentlens.yaml")
    keys = set(flatten(doc))
    opts = set(options())
    need(len(opts) > 10, "config-reference: the option table was not found")
    need(not opts - keys, f"examples/agentlens.yaml lacks {sorted(opts - keys)}")
    need(not keys - opts, f"examples/agentlens.yaml has keys that are not options: {sorted(keys - opts)}")
    # each setting has its comment right above it
    lines = open(os.path.join(EX, "agentlens.yaml"), encoding="utf-8").read().splitlines()
    for n, line in enumerate(lines):
        m = re.match(r"^(\s*)([a-z0-9_]+):\s*(\S.*)?$", line)
        if m and m.group(3) is not None:
            need(n > 0 and lines[n - 1].strip().startswith("#"),
                 f"examples/agentlens.yaml line {n + 1}: `{m.group(2)}` has no comment above it")

elif what == "example-defaults":
    path = os.path.join(EX, "agentlens.yaml")
    with tempfile.TemporaryDirectory() as tmp:
        with_file = run(["check-config", "--config", path], cwd=tmp)
        defaults = run(["check-config"], cwd=tmp)
    need(with_file.returncode == 0, f"check-config --config examples/agentlens.yaml: {with_file.stderr.strip()}")
    need(defaults.returncode == 0, f"check-config (defaults): {defaults.stderr.strip()}")
    a, b = effective(with_file), effective(defaults)
    need(len(a) > 10 and a == b, "examples/agentlens.yaml: the effective values differ from the defaults:\n"
         + "\n".join(f"  file: {x!r}  default: {y!r}" for x, y in zip(a, b) if x != y))

elif what == "compose-sqlite":
    name = "docker-compose.yaml"
    doc = load(name)
    check_top(doc, name)
    need(set(doc.get("services", {})) == {"agentlens", "a2a-agent", "mcp-server"},
         f"{name}: services agentlens, a2a-agent, mcp-server")
    svc = doc["services"]["agentlens"]
    config = check_agentlens_service(doc, name, svc)
    dialect = env_of(svc).get("AGENTLENS_DB_DIALECT", "sqlite")
    need(dialect == "sqlite", f"{name}: SQLite (the default dialect)")
    check_mocks(doc, name, config)

elif what == "compose-postgres":
    name = "docker-compose.postgres.yaml"
    doc = load(name)
    check_top(doc, name)
    services = doc.get("services", {})
    need({"agentlens", "postgres"} <= set(services), f"{name}: services agentlens and postgres")
    pg = services.get("postgres", {})
    need(str(pg.get("image", "")).startswith("postgres:16"), f"{name}: postgres image postgres:16")
    hc = pg.get("healthcheck", {})
    test = hc.get("test", [])
    test_text = " ".join(test) if isinstance(test, list) else str(test)
    need("pg_isready" in test_text, f"{name}: postgres healthcheck runs pg_isready")
    for k in ("interval", "timeout", "retries"):
        need(k in hc, f"{name}: postgres healthcheck sets {k}")
    need("pgdata:/var/lib/postgresql/data" in pg.get("volumes", []) and "pgdata" in (doc.get("volumes") or {}),
         f"{name}: postgres keeps its data in the pgdata volume")
    pg_env = {k: interpolate(v) for k, v in env_of(pg).items()}
    svc = services.get("agentlens", {})
    dep = (svc.get("depends_on") or {}).get("postgres", {})
    need(isinstance(dep, dict) and dep.get("condition") == "service_healthy",
         f"{name}: agentlens depends_on postgres with condition service_healthy")
    env = {k: interpolate(v) for k, v in env_of(svc).items()}
    expect = {
        "AGENTLENS_DB_DIALECT": "postgres",
        "AGENTLENS_DB_POSTGRES_HOST": "postgres",
        "AGENTLENS_DB_POSTGRES_PORT": "5432",
        "AGENTLENS_DB_POSTGRES_USER": pg_env.get("POSTGRES_USER"),
        "AGENTLENS_DB_POSTGRES_PASSWORD": pg_env.get("POSTGRES_PASSWORD"),
        "AGENTLENS_DB_POSTGRES_DBNAME": pg_env.get("POSTGRES_DB"),
    }
    for k, v in expect.items():
        need(v is not None and env.get(k) == v, f"{name}: agentlens {k}={v!r} (matching the postgres service), not {env.get(k)!r}")
    need(env_of(svc).get("AGENTLENS_DB_POSTGRES_PASSWORD") == env_of(pg).get("POSTGRES_PASSWORD"),
         f"{name}: both services take the password from the same expression")
    need(f"-U {pg_env.get('POSTGRES_USER')}" in test_text and f"-d {pg_env.get('POSTGRES_DB')}" in test_text,
         f"{name}: pg_isready checks the user and database the server uses")
    config = check_agentlens_service(doc, name, svc)
    check_mocks(doc, name, config)

else:
    errors.append(f"unknown check {what}")

for e in errors:
    print("FAIL:", e)
sys.exit(1 if errors else 0)
PY
}

@test "examples: yamllint (strict) on the compose files and agentlens.yaml" {
	run yamllint -s -d "$YAMLLINT_CONFIG" "$REPO/examples/docker-compose.yaml" \
		"$REPO/examples/docker-compose.postgres.yaml" "$REPO/examples/agentlens.yaml"
	echo "$output"
	[ "$status" -eq 0 ]
}

@test "agentlens.yaml: check-config accepts it" {
	cd "$BATS_TEST_TMPDIR"
	run env -i PATH=/usr/bin:/bin "$AGENTLENS_BIN" check-config --config "$REPO/examples/agentlens.yaml"
	echo "$output"
	[ "$status" -eq 0 ]
}

@test "agentlens.yaml: every option of config-reference, each with its comment, and nothing else" {
	check example-keys
}

@test "agentlens.yaml: every value is the default" {
	check example-defaults
}

@test "docker-compose.yaml: AgentLens on SQLite with the mock agents, settings the binary accepts" {
	check compose-sqlite
}

@test "docker-compose.postgres.yaml: PostgreSQL 16 with a health check, pgdata, matching settings" {
	check compose-postgres
}
