#!/usr/bin/env bats
# SPDX-License-Identifier: Apache-2.0
# examples/k8s/: no cluster runs here, so every object is validated against the Kubernetes schemas
# (npm kubernetes-models, as spec/release/test_helm.bats does for the chart), the wiring is
# checked (annotations, Service -> Deployment selectors and ports, the code ConfigMap equal to
# examples/mock-agents/), and each Deployment's container is run with node as the pod would run
# it (its command, environment and the ConfigMap's files) and answers on the annotated port/path;
# AgentLens's own Service -> item mapping (agentlens.discovery.kubernetes) turns each Service into
# the intended catalog item.
#
#   bats spec/release/test_k8s.bats               (ctest -L release; AGENTLENS_BIN=the binary)

bats_require_minimum_version 1.5.0
load '/usr/lib/bats/bats-support/load'
load '/usr/lib/bats/bats-assert/load'

setup_file() {
	load common
	release_repo_and_binary
	HELM_SPEC=$REPO/spec/release/helm
	K8S=$REPO/examples/k8s
	export REPO HELM_SPEC K8S
	release_python_yaml || return 1
	local p
	for p in node npm jq yamllint curl; do
		command -v "$p" >/dev/null || {
			echo "$p is needed (scripts/deps.sh test)" >&2
			return 1
		}
	done
	# The validator's packages: npm ci once (node_modules is gitignored), then offline.
	if [ ! -f "$HELM_SPEC/node_modules/.package-lock.json" ] ||
		[ "$HELM_SPEC/package-lock.json" -nt "$HELM_SPEC/node_modules/.package-lock.json" ]; then
		npm ci --prefix "$HELM_SPEC" --no-audit --no-fund >&3 2>&1 || {
			echo "npm ci --prefix spec/release/helm failed" >&2
			return 1
		}
	fi
	# Every document of every file, as one JSON array (what kubectl apply -f examples/k8s/ sends).
	OBJECTS=$BATS_FILE_TMPDIR/objects.json
	export OBJECTS
	"$PY" - "$K8S" >"$OBJECTS" <<'PY'
import glob, json, os, sys
import yaml
objs = []
for path in sorted(glob.glob(os.path.join(sys.argv[1], "*.yaml"))):
    with open(path, encoding="utf-8") as f:
        objs += [d for d in yaml.safe_load_all(f) if d is not None]
json.dump(objs, sys.stdout)
PY
}

teardown() {
	[ -z "${MOCK_PID:-}" ] || kill "$MOCK_PID" 2>/dev/null || true
}

q() {
	jq -r "$@" "$OBJECTS"
}

@test "examples/k8s: yamllint" {
	run yamllint -s -d '{extends: default, rules: {document-start: disable, line-length: {max: 100}}}' \
		"$K8S/a2a-agent.yaml" "$K8S/mcp-server.yaml"
	assert_success
	# the ConfigMap carries source code, whose lines may be longer
	run yamllint -s -d '{extends: default, rules: {document-start: disable, line-length: disable}}' \
		"$K8S/mock-agents-code.yaml"
	assert_success
}

@test "examples/k8s: every object validates against the Kubernetes schemas" {
	assert_equal "$(q '[.[] | .kind + "/" + .metadata.name] | sort | join(" ")')" \
		"ConfigMap/agentlens-mock-agents Deployment/a2a-agent Deployment/mcp-server Service/a2a-agent Service/mcp-server"
	run node "$HELM_SPEC/validate.mjs" objects "$OBJECTS"
	assert_success
	assert_output --partial "5 objects valid"
	# No namespace in the files: `kubectl apply -n NAMESPACE` chooses it.
	assert_equal "$(q '[.[] | select(.metadata.namespace)] | length')" 0
	# the validator rejects a broken one
	jq '(.[] | select(.kind == "Service") | .spec.ports[0].port) = "http"' "$OBJECTS" >"$BATS_TEST_TMPDIR/bad.json"
	run node "$HELM_SPEC/validate.mjs" objects "$BATS_TEST_TMPDIR/bad.json"
	assert_failure
}

@test "the Services: discovery annotations, a port that exists, selectors that pick the Deployment's pods" {
	for svc in a2a-agent:a2a mcp-server:mcp; do
		name=${svc%%:*} proto=${svc#*:}
		s=".[] | select(.kind == \"Service\" and .metadata.name == \"$name\")"
		d=".[] | select(.kind == \"Deployment\" and .metadata.name == \"$name\")"
		assert_equal "$(q "$s | .metadata.annotations[\"agentlens.io/protocol\"]")" "$proto"
		for a in port card-path team tags; do
			[ -n "$(q "$s | .metadata.annotations[\"agentlens.io/$a\"] // empty")" ] || fail "$name: agentlens.io/$a"
		done
		# every annotation value is a string (a number would make kubectl refuse the object)
		assert_equal "$(q "$s | .metadata.annotations | map(type) | unique | join(\",\")")" string
		port=$(q "$s | .metadata.annotations[\"agentlens.io/port\"]")
		assert_equal "$(q "$s | [.spec.ports[] | select((.port | tostring) == \"$port\" or .name == \"$port\")] | length")" 1
		# selector -> pod labels (each selector label on the pods); targetPort (a name) -> the container port
		sel=$(q -c "$s | .spec.selector")
		assert_equal "$(q --argjson sel "$sel" "$d | .spec.template.metadata.labels | contains(\$sel)")" true
		[ "$sel" != "{}" ]
		assert_equal "$(q "$d | .spec.selector.matchLabels | to_entries | map(.key + \"=\" + .value) | join(\",\")")" \
			"$(q "$s | .spec.selector | to_entries | map(.key + \"=\" + .value) | join(\",\")")"
		target=$(q "$s | .spec.ports[0].targetPort")
		assert_equal "$(q "$d | .spec.template.spec.containers[0].ports[] | select(.name == \"$target\") | .containerPort")" "$port"
		assert_equal "$(q "$d | .spec.template.spec.containers[0].env[] | select(.name == \"PORT\") | .value")" "$port"
		# hardened like the chart's pod
		assert_equal "$(q -c "$d | .spec.template.spec.containers[0].securityContext | [.allowPrivilegeEscalation, .readOnlyRootFilesystem, .capabilities.drop]")" \
			'[false,true,["ALL"]]'
		assert_equal "$(q "$d | .spec.template.spec.securityContext.runAsNonRoot")" true
	done
	assert_equal "$(q '.[] | select(.metadata.name == "a2a-agent" and .kind == "Service") | .metadata.annotations["agentlens.io/card-path"]')" \
		/.well-known/agent-card.json
	assert_equal "$(q '.[] | select(.metadata.name == "mcp-server" and .kind == "Service") | .metadata.annotations["agentlens.io/card-path"]')" /mcp
}

@test "the code ConfigMap is examples/mock-agents/, and each Deployment mounts what it runs" {
	for f in common.mjs a2a-agent.mjs mcp-server.mjs; do
		q --arg f "$f" '.[] | select(.kind == "ConfigMap") | .data[$f]' >"$BATS_TEST_TMPDIR/$f"
		# jq -r adds one newline to the value, which already ends with one
		head -c -1 "$BATS_TEST_TMPDIR/$f" | cmp -s - "$REPO/examples/mock-agents/$f" ||
			fail "examples/k8s/mock-agents-code.yaml: $f differs from examples/mock-agents/$f (run scripts/k8s-example-code.sh)"
	done
	for name in a2a-agent mcp-server; do
		d=".[] | select(.kind == \"Deployment\" and .metadata.name == \"$name\") | .spec.template.spec"
		assert_equal "$(q "$d | .volumes[0].configMap.name")" agentlens-mock-agents
		assert_equal "$(q "$d | .volumes[0].configMap.items | map(.key) | join(\" \")")" "common.mjs $name.mjs"
		assert_equal "$(q "$d | .containers[0].command | join(\" \")")" "node /app/$name.mjs"
		assert_equal "$(q "$d | .containers[0].volumeMounts[0].mountPath")" /app
	done
}

# run_pod NAME: the Deployment's container with node on this machine: the ConfigMap's files in
# a directory standing for /app, its environment (PORT moved to a free port); sets BASE.
run_pod() {
	local name=$1 app=$BATS_TEST_TMPDIR/app-$1 d i
	d=".[] | select(.kind == \"Deployment\" and .metadata.name == \"$name\") | .spec.template.spec"
	mkdir -p "$app"
	for f in $(q "$d | .volumes[0].configMap.items[].key"); do
		q --arg f "$f" '.[] | select(.kind == "ConfigMap") | .data[$f]' | head -c -1 >"$app/$f"
	done
	local envs=()
	while IFS=$'\t' read -r k v; do
		[ "$k" = PORT ] && v=0
		[ "$k" = HOST ] && v=127.0.0.1
		envs+=("$k=$v")
	done < <(q "$d | .containers[0].env[] | [.name, .value] | @tsv")
	local script
	script=$(q "$d | .containers[0].command[1]")
	env "${envs[@]}" node "$app/${script#/app/}" >"$BATS_TEST_TMPDIR/$name.out" 2>&1 3>&- &
	MOCK_PID=$!
	for ((i = 0; i < 100; i++)); do
		grep -q '"event":"listening"' "$BATS_TEST_TMPDIR/$name.out" && break
		sleep 0.1
	done
	BASE=http://127.0.0.1:$(grep -o '"port":[0-9]*' "$BATS_TEST_TMPDIR/$name.out" | head -n 1 | cut -d: -f2)
}

@test "the A2A pod serves its card at the annotated path, named as the Deployment says" {
	run_pod a2a-agent
	path=$(q '.[] | select(.kind == "Service" and .metadata.name == "a2a-agent") | .metadata.annotations["agentlens.io/card-path"]')
	run curl -fsS "$BASE$path"
	assert_success
	assert_equal "$(jq -r .name <<<"$output")" demo-a2a-agent
	run curl -fsS "$BASE/healthz"
	assert_success
}

@test "the MCP pod answers initialize at the annotated endpoint path" {
	run_pod mcp-server
	path=$(q '.[] | select(.kind == "Service" and .metadata.name == "mcp-server") | .metadata.annotations["agentlens.io/card-path"]')
	run curl -fsS -X POST -H 'Content-Type: application/json' -H 'Accept: application/json, text/event-stream' \
		-d '{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"spec","version":"1"}}}' \
		"$BASE$path"
	assert_success
	assert_equal "$(jq -r .result.serverInfo.name <<<"$output")" demo-mcp-server
}

@test "AgentLens's Kubernetes discovery maps each example Service to the intended catalog item" {
	q -c '[.[] | select(.kind == "Service") | .metadata.namespace = "agents-demo"]' >"$BATS_TEST_TMPDIR/services.json"
	cat >"$BATS_TEST_TMPDIR/map.lua" <<'LUA'
local json = require "agentlens.json"
local k8s = require "agentlens.discovery.kubernetes"
local f = assert(io.open(arg[1], "rb"))
local services = json.decode(f:read("*a"))
f:close()
for _, svc in ipairs(services) do
  local item, why = k8s.item_of(svc, { address = "dns" })
  assert(item, why or ("not discovered: " .. svc.metadata.name))
  print(table.concat({ item.key, item.protocol, item.url, item.card_path or "-", item.team or "-",
    table.concat(item.tags, ",") }, " "))
end
LUA
	run env -i PATH=/usr/bin:/bin AGENTLENS_DATA_DIR="$BATS_TEST_TMPDIR/data" "$AGENTLENS_BIN" run "$BATS_TEST_TMPDIR/map.lua" "$BATS_TEST_TMPDIR/services.json"
	assert_success
	assert_line "k8s/agents-demo/a2a-agent a2a http://a2a-agent.agents-demo.svc:9001 /.well-known/agent-card.json demo demo,a2a,echo"
	assert_line "k8s/agents-demo/mcp-server mcp http://mcp-server.agents-demo.svc:9002/mcp - demo demo,mcp,tools"
}
