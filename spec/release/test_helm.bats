#!/usr/bin/env bats
# SPDX-License-Identifier: Apache-2.0
# deploy/helm/agentlens: no helm binary runs here, so the chart is rendered by
# spec/release/helm/render (Go text/template + sprig from Debian's packages, the Helm built-ins the
# chart uses) for three value sets (deploy/helm/agentlens/ci/*-values.yaml: sqlite, postgres,
# no-discovery), every object is validated against the Kubernetes schemas (npm kubernetes-models)
# and the values against values.schema.json (ajv), and the facts that matter are asserted:
# replicas and strategy per dialect, the AGENTLENS_* variables (real names, accepted by
# `agentlens check-config`), Secrets, probes, security context, least-privilege RBAC.
#
#   bats spec/release/test_helm.bats              (ctest -L release; AGENTLENS_BIN=the binary)
#
# Needs: scripts/deps.sh test (golang-go golang-github-masterminds-sprig-dev
# golang-gopkg-yaml.v2-dev nodejs npm jq yamllint); node_modules of spec/release/helm come from
# `npm ci --prefix spec/release/helm` (run here when missing or older than the lock file; offline
# afterwards).

bats_require_minimum_version 1.5.0
load '/usr/lib/bats/bats-support/load'
load '/usr/lib/bats/bats-assert/load'

SETS="sqlite postgres no-discovery"

# AGENTLENS_* names the chart sets before the binary knows them (they arrive with discovery):
# accepted while `agentlens --help` does not list them (the binary ignores unknown AGENTLENS_*
# variables); once it lists them they are checked like every other name.
PENDING_ENV="AGENTLENS_KUBERNETES_ENABLED"

setup_file() {
	load common
	release_repo_and_binary
	CHART=$REPO/deploy/helm/agentlens
	HELM_SPEC=$REPO/spec/release/helm
	export CHART HELM_SPEC

	local p
	for p in go jq node npm yamllint; do
		command -v "$p" >/dev/null || {
			echo "$p is needed (scripts/deps.sh test)" >&2
			return 1
		}
	done
	for p in github.com/Masterminds/sprig gopkg.in/yaml.v2; do
		[ -d "/usr/share/gocode/src/$p" ] || {
			echo "/usr/share/gocode/src/$p is missing (scripts/deps.sh test)" >&2
			return 1
		}
	done

	# The renderer: GOPATH mode against Debian's Go sources, nothing downloaded.
	RENDER=$BATS_FILE_TMPDIR/helm-render
	export RENDER
	(cd "$HELM_SPEC/render" && env -u GOFLAGS GO111MODULE=off GOPATH=/usr/share/gocode \
		GOCACHE="$BATS_FILE_TMPDIR/gocache" GOPROXY=off go build -o "$RENDER" .) >&3 2>&1 || {
		echo "building spec/release/helm/render failed" >&2
		return 1
	}

	# The validators' packages: npm ci once (node_modules is gitignored), then offline.
	if [ ! -f "$HELM_SPEC/node_modules/.package-lock.json" ] ||
		[ "$HELM_SPEC/package-lock.json" -nt "$HELM_SPEC/node_modules/.package-lock.json" ]; then
		npm ci --prefix "$HELM_SPEC" --no-audit --no-fund >&3 2>&1 || {
			echo "npm ci --prefix spec/release/helm failed" >&2
			return 1
		}
	fi

	OUT=$BATS_FILE_TMPDIR/out
	export OUT
	mkdir -p "$OUT"
	local set
	for set in $SETS; do
		"$RENDER" --chart "$CHART" --release agentlens --namespace agents \
			-f "$CHART/ci/$set-values.yaml" --values-out "$OUT/$set.values.json" \
			--json-out "$OUT/$set.json" --notes-out "$OUT/$set.notes.txt" >"$OUT/$set.yaml" || {
			echo "rendering the $set value set failed" >&2
			return 1
		}
	done
	"$RENDER" --chart "$CHART" --values-out "$OUT/defaults.values.json" --json-out "$OUT/defaults.json" \
		>"$OUT/defaults.yaml"
	"$AGENTLENS_BIN" --help >"$OUT/help.txt"
}

# render ARG...: the renderer on the chart with more arguments; $output is its stdout+stderr.
render() {
	run "$RENDER" --chart "$CHART" "$@"
}

# q SET JQ-FILTER...: jq -r on the objects of one value set.
q() {
	local set=$1
	shift
	jq -r "$@" "$OUT/$set.json"
}

# deploy SET [-c] JQ-FILTER: the filter applied to the Deployment (-c: compact JSON).
deploy() {
	local set=$1 opts=()
	shift
	if [ "$1" = -c ]; then
		opts=(-c)
		shift
	fi
	q "$set" "${opts[@]}" ".[] | select(.kind == \"Deployment\") | $1"
}

# env_of SET NAME: the plain value of one container variable ("null" when absent).
env_of() {
	deploy "$1" ".spec.template.spec.containers[0].env[] | select(.name == \"$2\") | .value // \"valueFrom\"" |
		grep . || echo null
}

# schema VALUES-JSON: validate values against values.schema.json.
schema() {
	run node "$HELM_SPEC/validate.mjs" values "$CHART/values.schema.json" "$1"
}

@test "the chart: Chart.yaml, values.yaml and ci/ lint clean and have what release.yml rewrites" {
	run yamllint -d '{extends: default, rules: {document-start: disable, line-length: {max: 110}}}' \
		"$CHART/Chart.yaml" "$CHART/values.yaml" "$CHART"/ci/*.yaml
	assert_success
	grep -qx 'apiVersion: v2' "$CHART/Chart.yaml"
	grep -qx 'name: agentlens' "$CHART/Chart.yaml"
	grep -qE '^version: [0-9]+\.[0-9]+\.[0-9]+$' "$CHART/Chart.yaml"
	grep -qE '^appVersion: "[0-9]+\.[0-9]+\.[0-9]+"$' "$CHART/Chart.yaml"
	# The renderer has no subcharts, and `helm dependency update` would need the network.
	run grep -q '^dependencies:' "$CHART/Chart.yaml"
	assert_failure
	for set in $SETS; do
		[ -s "$OUT/$set.yaml" ]
		[ "$(jq length "$OUT/$set.json")" -gt 0 ]
		# as `helm lint --strict` (release.yml): no reference to a value that does not exist
		render --strict -f "$CHART/ci/$set-values.yaml"
		assert_success
	done
	# strict mode does catch one
	mkdir -p "$BATS_TEST_TMPDIR/chart"
	cp -r "$CHART/." "$BATS_TEST_TMPDIR/chart/"
	printf 'x: {{ .Values.noSuchKey }}\n' >"$BATS_TEST_TMPDIR/chart/templates/x.yaml"
	run "$RENDER" --strict --chart "$BATS_TEST_TMPDIR/chart"
	assert_failure
	assert_output --partial 'map has no entry for key "noSuchKey"'
}

@test "every rendered object validates against the Kubernetes schemas" {
	for set in defaults $SETS; do
		run node "$HELM_SPEC/validate.mjs" objects "$OUT/$set.json"
		assert_success
		assert_output --partial "objects valid"
	done
	# The validator does reject a wrong object.
	jq '(.[] | select(.kind == "Deployment") | .spec.replicas) = "two"' "$OUT/sqlite.json" >"$BATS_TEST_TMPDIR/bad.json"
	run node "$HELM_SPEC/validate.mjs" objects "$BATS_TEST_TMPDIR/bad.json"
	assert_failure
	assert_output --partial "spec/replicas must be integer"
}

@test "the objects of each value set" {
	kinds() { q "$1" '[.[] | .kind + "/" + .metadata.name] | sort | join(" ")'; }
	assert_equal "$(kinds sqlite)" "ClusterRole/agentlens ClusterRoleBinding/agentlens Deployment/agentlens Ingress/agentlens PersistentVolumeClaim/agentlens-data Pod/agentlens-test-connection Secret/agentlens Service/agentlens ServiceAccount/agentlens"
	assert_equal "$(kinds postgres)" "ClusterRole/agentlens ClusterRoleBinding/agentlens ConfigMap/agentlens-scripts Deployment/agentlens Pod/agentlens-test-connection Secret/agentlens Service/agentlens ServiceAccount/agentlens"
	assert_equal "$(kinds no-discovery)" "Deployment/agentlens Pod/agentlens-test-connection Service/agentlens"
	# namespaced objects land in the release's namespace
	assert_equal "$(q postgres '[.[] | select(.kind | test("^Cluster") | not) | .metadata.namespace] | unique | join(" ")')" agents
}

@test "values.schema.json accepts the defaults and the value sets" {
	for set in defaults $SETS; do
		schema "$OUT/$set.values.json"
		assert_success
	done
}

@test "values.schema.json rejects bad values" {
	reject() { # YAML MESSAGE-PART
		printf '%s\n' "$1" >"$BATS_TEST_TMPDIR/v.yaml"
		"$RENDER" --chart "$CHART" -f "$BATS_TEST_TMPDIR/v.yaml" --values-out "$BATS_TEST_TMPDIR/v.json" >/dev/null 2>&1 || true
		schema "$BATS_TEST_TMPDIR/v.json"
		assert_failure
		assert_output --partial "$2"
	}
	reject 'database: {dialect: mysql}' '/database/dialect: must be equal to one of the allowed values'
	reject 'database: {postgres: {sslmode: sometimes}}' '/database/postgres/sslmode: must be equal to one of'
	reject 'replicaCount: "2"' '/replicaCount: must be integer'
	reject 'service: {port: 70000}' '/service/port: must be <= 65535'
	reject 'replicas: 2' 'must NOT have additional properties'
	reject 'env: {log_level: debug}' 'property name must be valid'
	reject 'env: {AGENTLENS_KUBERNETES_ENABLED: true}' '/env/AGENTLENS_KUBERNETES_ENABLED: must be string'
	reject 'env: {AGENTLENS_LOG_LEVEL: verbose}' '/env/AGENTLENS_LOG_LEVEL: must be equal to one of'
	reject 'auth: {jwtSecret: too-short}' '/auth/jwtSecret: must match a schema in anyOf'
	reject 'persistence: {enabled: "yes"}' '/persistence/enabled: must be boolean'
	reject 'scripts: {files: {policy.txt: "x"}}' 'property name must be valid'
}

@test "SQLite (defaults): one replica, Recreate, /data on a 1Gi ReadWriteOnce claim, /tmp an emptyDir" {
	assert_equal "$(deploy sqlite .spec.replicas)" 1
	assert_equal "$(deploy sqlite .spec.strategy.type)" Recreate
	assert_equal "$(deploy sqlite '.spec.strategy.rollingUpdate // "none"')" none
	assert_equal "$(q sqlite '.[] | select(.kind == "PersistentVolumeClaim") | .spec.resources.requests.storage')" 1Gi
	assert_equal "$(q sqlite '.[] | select(.kind == "PersistentVolumeClaim") | .spec.accessModes | join(",")')" ReadWriteOnce
	assert_equal "$(deploy sqlite '.spec.template.spec.volumes[] | select(.name == "data") | .persistentVolumeClaim.claimName')" agentlens-data
	assert_equal "$(deploy sqlite '.spec.template.spec.volumes[] | select(.name == "tmp") | .emptyDir | length')" 0
	assert_equal "$(deploy sqlite '.spec.template.spec.containers[0].volumeMounts | map(.name + "=" + .mountPath) | join(" ")')" "data=/data tmp=/tmp"
	assert_equal "$(env_of sqlite AGENTLENS_DATA_DIR)" /data
	assert_equal "$(env_of sqlite AGENTLENS_DB_DIALECT)" sqlite
	assert_equal "$(env_of sqlite AGENTLENS_DB_POSTGRES_HOST)" null
	assert_equal "$(env_of sqlite AGENTLENS_LOG_LEVEL)" info
	assert_equal "$(env_of sqlite AGENTLENS_KUBERNETES_ENABLED)" true
	# image tag "" -> appVersion
	app=$(sed -n 's/^appVersion: "\(.*\)"$/\1/p' "$CHART/Chart.yaml")
	assert_equal "$(deploy sqlite '.spec.template.spec.containers[0].image')" "ghcr.io/pawelharacz/agentlens:$app"
	# no persistence: an emptyDir and no claim
	assert_equal "$(deploy no-discovery '.spec.template.spec.volumes[] | select(.name == "data") | has("emptyDir")')" true
}

@test "service: port 80 to the container's 8080 (AGENTLENS_PORT), optional ingress to it" {
	svc() { q "$1" ".[] | select(.kind == \"Service\") | $2"; }
	assert_equal "$(svc defaults '.spec.ports[0].port')" 80
	assert_equal "$(svc defaults '.spec.ports[0].targetPort')" http
	assert_equal "$(deploy defaults '.spec.template.spec.containers[0].ports[] | select(.name == "http") | .containerPort')" 8080
	assert_equal "$(env_of defaults AGENTLENS_PORT)" 8080
	assert_equal "$(svc defaults '.spec.selector | to_entries | map(.key + "=" + .value) | join(",")')" \
		"$(deploy defaults '.spec.selector.matchLabels | to_entries | map(.key + "=" + .value) | join(",")')"
	assert_equal "$(q defaults '[.[] | select(.kind == "Ingress")] | length')" 0
	assert_equal "$(q sqlite '.[] | select(.kind == "Ingress") | .spec.rules[0] | .host + " " + .http.paths[0].path + " " + .http.paths[0].backend.service.name + ":" + .http.paths[0].backend.service.port.name')" \
		"agentlens.example.com / agentlens:http"
	assert_equal "$(q sqlite '.[] | select(.kind == "Ingress") | .spec.tls[0].secretName')" agentlens-tls
	# another targetPort moves the container and AGENTLENS_PORT with it
	render --set-string service.targetPort=9090 --json-out "$BATS_TEST_TMPDIR/o.json"
	assert_success
	assert_equal "$(jq -r '.[] | select(.kind == "Deployment") | .spec.template.spec.containers[0].env[] | select(.name == "AGENTLENS_PORT") | .value' "$BATS_TEST_TMPDIR/o.json")" 9090
}

@test "PostgreSQL: replicas, RollingUpdate, AGENTLENS_DB_* and the password from the Secret, no claim" {
	assert_equal "$(deploy postgres .spec.replicas)" 3
	assert_equal "$(deploy postgres .spec.strategy.type)" RollingUpdate
	assert_equal "$(deploy postgres .spec.strategy.rollingUpdate.maxUnavailable)" 0
	assert_equal "$(q postgres '[.[] | select(.kind == "PersistentVolumeClaim")] | length')" 0
	assert_equal "$(deploy postgres '.spec.template.spec.volumes[] | select(.name == "data") | has("emptyDir")')" true
	assert_equal "$(env_of postgres AGENTLENS_DB_DIALECT)" postgres
	assert_equal "$(env_of postgres AGENTLENS_DB_POSTGRES_HOST)" postgres.databases.svc.cluster.local
	assert_equal "$(env_of postgres AGENTLENS_DB_POSTGRES_PORT)" 5432
	assert_equal "$(env_of postgres AGENTLENS_DB_POSTGRES_USER)" agentlens
	assert_equal "$(env_of postgres AGENTLENS_DB_POSTGRES_DBNAME)" agentlens
	assert_equal "$(env_of postgres AGENTLENS_DB_POSTGRES_SSLMODE)" verify-full
	assert_equal "$(deploy postgres '.spec.template.spec.containers[0].env[] | select(.name == "AGENTLENS_DB_POSTGRES_PASSWORD") | .valueFrom.secretKeyRef | .name + "/" + .key')" agentlens/postgres-password
	assert_equal "$(q postgres '.[] | select(.kind == "Secret") | .data["postgres-password"] | @base64d')" change-me
	assert_equal "$(deploy postgres '.spec.template.spec.containers[0].image')" ghcr.io/pawelharacz/agentlens:1.2.3
	# the password from a Secret of one's own
	render -f "$CHART/ci/postgres-values.yaml" --set-string database.postgres.existingSecret=pg \
		--set-string database.postgres.existingSecretKey=password --json-out "$BATS_TEST_TMPDIR/o.json"
	assert_success
	assert_equal "$(jq -r '.[] | select(.kind == "Deployment") | .spec.template.spec.containers[0].env[] | select(.name == "AGENTLENS_DB_POSTGRES_PASSWORD") | .valueFrom.secretKeyRef | .name + "/" + .key' "$BATS_TEST_TMPDIR/o.json")" pg/password
	assert_equal "$(jq -r '.[] | select(.kind == "Secret") | .data | has("postgres-password")' "$BATS_TEST_TMPDIR/o.json")" false
}

@test "several replicas with SQLite fail with a clear message; PostgreSQL needs a host" {
	render --set-string replicaCount=2
	assert_failure
	assert_output --partial "Error: execution error at (agentlens/templates/deployment.yaml"
	assert_output --partial "replicaCount is 2 but database.dialect is sqlite: several replicas need database.dialect=postgres"
	printf 'replicaCount: 2\n' >"$BATS_TEST_TMPDIR/v.yaml"
	render -f "$BATS_TEST_TMPDIR/v.yaml"
	assert_failure
	assert_output --partial "several replicas need database.dialect=postgres"
	printf 'replicaCount: 2\ndatabase: {dialect: postgres, postgres: {host: db}}\n' >"$BATS_TEST_TMPDIR/v.yaml"
	render -f "$BATS_TEST_TMPDIR/v.yaml"
	assert_success
	printf 'database: {dialect: postgres}\n' >"$BATS_TEST_TMPDIR/v.yaml"
	render -f "$BATS_TEST_TMPDIR/v.yaml"
	assert_failure
	assert_output --partial "database.postgres.host is required when database.dialect is postgres"
	render --set-string auth.jwtSecret=short
	assert_failure
	assert_output --partial "auth.jwtSecret must be at least 32 characters"
}

@test "secrets: AGENTLENS_JWT_SECRET and AGENTLENS_ADMIN_PASSWORD from the Secret, generated when empty" {
	ref() { deploy "$1" ".spec.template.spec.containers[0].env[] | select(.name == \"$2\") | .valueFrom.secretKeyRef | .name + \"/\" + .key + \" optional=\" + (.optional | tostring)"; }
	secret() { q "$1" ".[] | select(.kind == \"Secret\") | .data[\"$2\"] | @base64d"; }
	assert_equal "$(ref sqlite AGENTLENS_JWT_SECRET)" "agentlens/jwt-secret optional=null"
	assert_equal "$(ref sqlite AGENTLENS_ADMIN_PASSWORD)" "agentlens/admin-password optional=false"
	# generated (lookup finds nothing offline): 48 and 24 characters
	[[ $(secret sqlite jwt-secret) =~ ^[A-Za-z0-9]{48}$ ]]
	[[ $(secret sqlite admin-password) =~ ^[A-Za-z0-9]{24}$ ]]
	# given in values
	assert_equal "$(secret postgres jwt-secret)" 0123456789abcdef0123456789abcdef0123456789abcdef
	assert_equal "$(secret postgres admin-password)" initial-admin-password
	# a Secret of one's own: the chart makes none, admin-password may be absent from it
	assert_equal "$(ref no-discovery AGENTLENS_JWT_SECRET)" "agentlens-credentials/jwt-secret optional=null"
	assert_equal "$(ref no-discovery AGENTLENS_ADMIN_PASSWORD)" "agentlens-credentials/admin-password optional=true"
	# the secret never appears as a plain value
	run grep -c 'initial-admin-password\|0123456789abcdef0123456789abcdef' "$OUT/postgres.yaml"
	assert_output 0
	# `lookup` keeps the generated values on upgrade; offline it finds nothing: documented
	grep -q 'lookup' "$CHART/templates/secret.yaml"
	grep -q 'helm template' "$CHART/values.yaml"
}

@test "discovery: token and ClusterRole only while AGENTLENS_KUBERNETES_ENABLED is on" {
	assert_equal "$(deploy sqlite .spec.template.spec.automountServiceAccountToken)" true
	assert_equal "$(deploy postgres .spec.template.spec.automountServiceAccountToken)" true
	assert_equal "$(deploy no-discovery .spec.template.spec.automountServiceAccountToken)" false
	assert_equal "$(env_of no-discovery AGENTLENS_KUBERNETES_ENABLED)" false
	assert_equal "$(q sqlite '.[] | select(.kind == "ServiceAccount") | .automountServiceAccountToken')" false
	assert_equal "$(deploy sqlite .spec.template.spec.serviceAccountName)" agentlens
	assert_equal "$(deploy no-discovery .spec.template.spec.serviceAccountName)" default
	# clusterRole.create=false: the token still, no RBAC objects
	render --set-string clusterRole.create= --json-out "$BATS_TEST_TMPDIR/o.json"
	assert_success
	assert_equal "$(jq -r '[.[] | select(.kind | test("^ClusterRole"))] | length' "$BATS_TEST_TMPDIR/o.json")" 0
	assert_equal "$(jq -r '.[] | select(.kind == "Deployment") | .spec.template.spec.automountServiceAccountToken' "$BATS_TEST_TMPDIR/o.json")" true
}

@test "RBAC: exactly get/list/watch on Services and EndpointSlices, bound to the service account" {
	for set in sqlite postgres; do
		assert_equal "$(q "$set" -c '.[] | select(.kind == "ClusterRole") | .rules')" \
			'[{"apiGroups":[""],"resources":["services"],"verbs":["get","list","watch"]},{"apiGroups":["discovery.k8s.io"],"resources":["endpointslices"],"verbs":["get","list","watch"]}]'
		assert_equal "$(q "$set" -c '.[] | select(.kind == "ClusterRoleBinding") | [.roleRef.kind, .roleRef.name, .subjects[0].kind, .subjects[0].name, .subjects[0].namespace]')" \
			'["ClusterRole","agentlens","ServiceAccount","agentlens","agents"]'
	done
	# no other Role or RoleBinding anywhere
	assert_equal "$(q sqlite '[.[] | select(.kind == "Role" or .kind == "RoleBinding")] | length')" 0
}

@test "probes: liveness and startup GET /healthz, readiness GET /readyz, on the http port" {
	for set in defaults $SETS; do
		assert_equal "$(deploy "$set" '.spec.template.spec.containers[0] | [.livenessProbe.httpGet.path, .readinessProbe.httpGet.path, .startupProbe.httpGet.path, .livenessProbe.httpGet.port, .readinessProbe.httpGet.port] | join(" ")')" \
			"/healthz /readyz /healthz http http"
	done
	assert_equal "$(deploy defaults '.spec.template.spec.containers[0].livenessProbe | [.initialDelaySeconds, .periodSeconds, .timeoutSeconds, .failureThreshold] | join("/")')" 5/10/3/3
	assert_equal "$(deploy defaults '.spec.template.spec.containers[0].readinessProbe | [.initialDelaySeconds, .periodSeconds, .timeoutSeconds, .failureThreshold] | join("/")')" 5/5/3/3
	assert_equal "$(deploy defaults '.spec.template.spec.containers[0].startupProbe | [.initialDelaySeconds, .periodSeconds, .timeoutSeconds, .failureThreshold] | join("/")')" 2/5/3/30
}

@test "security context: non-root uid 65532 (the image's user), read-only root FS, no privilege escalation, drop ALL" {
	grep -qx 'USER 65532:65532' "$REPO/Dockerfile"
	grep -qx 'ENV AGENTLENS_DATA_DIR=/data' "$REPO/Dockerfile"
	grep -qx 'EXPOSE 8080' "$REPO/Dockerfile"
	for set in defaults $SETS; do
		assert_equal "$(deploy "$set" -c '.spec.template.spec.securityContext | [.runAsNonRoot, .runAsUser, .runAsGroup, .fsGroup, .seccompProfile.type]')" \
			'[true,65532,65532,65532,"RuntimeDefault"]'
		assert_equal "$(deploy "$set" -c '.spec.template.spec.containers[0].securityContext | [.runAsNonRoot, .runAsUser, .readOnlyRootFilesystem, .allowPrivilegeEscalation, .capabilities.drop, (.privileged // false)]')" \
			'[true,65532,true,false,["ALL"],false]'
		# the test pod too
		assert_equal "$(q "$set" -c '.[] | select(.kind == "Pod") | [.spec.securityContext.runAsNonRoot, .spec.containers[0].securityContext.readOnlyRootFilesystem, .spec.containers[0].securityContext.capabilities.drop]')" \
			'[true,true,["ALL"]]'
	done
}

@test "every AGENTLENS_* name the chart sets is one the binary knows" {
	known=$(grep -o 'AGENTLENS_[A-Z0-9_]*' "$OUT/help.txt" | sort -u)
	names=$( (for set in defaults $SETS; do
		deploy "$set" '.spec.template.spec.containers[0].env[].name'
	done; grep -rhoE 'AGENTLENS_[A-Z0-9_]*[A-Z0-9]\b' "$CHART/values.yaml" "$CHART/ci" "$CHART/templates") | sort -u)
	[ -n "$names" ]
	unknown=()
	for n in $names; do
		grep -qx "$n" <<<"$known" && continue
		[[ " $PENDING_ENV " == *" $n "* ]] && continue
		unknown+=("$n")
	done
	[ ${#unknown[@]} -eq 0 ] || fail "names agentlens --help does not list: ${unknown[*]}"
	for n in AGENTLENS_DATA_DIR AGENTLENS_PORT AGENTLENS_DB_DIALECT AGENTLENS_JWT_SECRET AGENTLENS_ADMIN_PASSWORD AGENTLENS_LOG_LEVEL AGENTLENS_KUBERNETES_ENABLED; do
		deploy sqlite '.spec.template.spec.containers[0].env[].name' | grep -qx "$n" || fail "$n is not set"
	done
	# no variable twice
	for set in defaults $SETS; do
		assert_equal "$(deploy "$set" '.spec.template.spec.containers[0].env | map(.name) | (length == (unique | length))')" true
	done
}

@test "agentlens check-config accepts the environment and the scripts each value set renders" {
	for set in $SETS; do
		dir=$BATS_TEST_TMPDIR/$set
		mkdir -p "$dir/data" "$dir/scripts"
		# Lua scripts of the ConfigMap, as the volume lays them out
		q "$set" -c '.[] | select(.kind == "ConfigMap") | .data | to_entries[]' | while read -r entry; do
			jq -r .value <<<"$entry" >"$dir/scripts/$(jq -r .key <<<"$entry")"
		done
		# Plain values as they are; secretKeyRef from the rendered Secret (a stand-in for a Secret
		# of one's own); the container's paths moved into the temporary directory.
		envs=()
		while IFS=$'\t' read -r name value secret key; do
			if [ "$secret" != - ]; then
				value=$(q "$set" ".[] | select(.kind == \"Secret\" and .metadata.name == \"$secret\") | .data[\"$key\"] // empty | @base64d")
				[ -n "$value" ] || value=stand-in-secret-value-of-at-least-32-bytes
			fi
			case $name in
			AGENTLENS_DATA_DIR) value=$dir/data ;;
			AGENTLENS_SCRIPTS_DIR) value=$dir/scripts ;;
			esac
			envs+=("$name=$value")
		done < <(deploy "$set" '.spec.template.spec.containers[0].env[] | [.name, (.value // ""), (.valueFrom.secretKeyRef.name // "-"), (.valueFrom.secretKeyRef.key // "-")] | @tsv')
		run env -i PATH=/usr/bin:/bin "${envs[@]}" "$AGENTLENS_BIN" check-config
		assert_success
		assert_output --partial "configuration is valid"
		if [ "$set" = postgres ]; then
			assert_output --partial '"scripts":1'
			assert_output --regexp 'database\.dialect +postgres'
		fi
	done
}

@test "operator scripts: a ConfigMap mounted read-only at AGENTLENS_SCRIPTS_DIR, a change rolls the pods" {
	assert_equal "$(q postgres '.[] | select(.kind == "ConfigMap") | .data | keys | join(" ")')" 10-example.lua
	assert_equal "$(env_of postgres AGENTLENS_SCRIPTS_DIR)" /etc/agentlens/scripts
	assert_equal "$(deploy postgres '.spec.template.spec.containers[0].volumeMounts[] | select(.name == "scripts") | .mountPath + " " + (.readOnly | tostring)')" "/etc/agentlens/scripts true"
	assert_equal "$(deploy postgres '.spec.template.spec.volumes[] | select(.name == "scripts") | .configMap.name')" agentlens-scripts
	[[ $(deploy postgres '.spec.template.metadata.annotations["checksum/scripts"]') =~ ^[0-9a-f]{64}$ ]]
	# without scripts: no ConfigMap, no variable, no mount
	assert_equal "$(env_of sqlite AGENTLENS_SCRIPTS_DIR)" null
	assert_equal "$(q sqlite '[.[] | select(.kind == "ConfigMap")] | length')" 0
}

@test "helm test: a hook pod that GETs /readyz through the Service" {
	assert_equal "$(q sqlite '.[] | select(.kind == "Pod") | .metadata.annotations["helm.sh/hook"]')" test
	assert_equal "$(q sqlite '.[] | select(.kind == "Pod") | .spec.restartPolicy')" Never
	q sqlite '.[] | select(.kind == "Pod") | .spec.containers[0].command | join(" ")' | grep -q 'wget .*http://agentlens:80/readyz$'
	grep -q 'helm test' "$OUT/sqlite.notes.txt"
}

@test "the chart's README documents every value of values.yaml" {
	[ -f "$CHART/README.md" ]
	missing=()
	for key in $(jq -r 'paths(type != "object" or length == 0) | map(tostring) | join(".")' "$OUT/defaults.values.json" |
		grep -v -E '^(ingress\.hosts|livenessProbe|readinessProbe|startupProbe|resources|podSecurityContext|securityContext)\.' | sed -E 's/\.[0-9]+(\..*)?$//' | sort -u); do
		grep -qF "\`$key\`" "$CHART/README.md" || missing+=("$key")
	done
	[ ${#missing[@]} -eq 0 ] || fail "README.md does not mention: ${missing[*]}"
}
