#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Kubernetes discovery at scale, on SQLite, against the fake API server of the tests
# (spec/support/fake-kube.mjs, bearer token, bookmarks) and one mock A2A agent
# (examples/mock-agents/a2a-agent.mjs) that answers for every Service: each Service gets its own
# 127.1.x.y cluster IP and AgentLens runs with kubernetes.address = cluster-ip, so every Service
# is a distinct catalog entry while all of them reach the same agent on the loopback.
# Targets:
#   list:   5,000 annotated Services (created before AgentLens starts) in the catalog within
#           30 s of AgentLens' start (the count of k8s entries, X-Total-Count, polled every 100 ms);
#   events: a Service added while AgentLens watches is in the catalog within 1 s at p99 (50
#           Services added one after the other; scripts/bench/kubernetes_events.mjs); p50 and
#           p99 are printed.
#   BENCH_K8S_SERVICES=5000   Services listed at start-up
#   BENCH_K8S_EVENTS=50       Services added one by one for the event latency
#   BENCH_K8S_BUDGET=240      seconds for the whole run (every step is cut off)
set -euo pipefail
# shellcheck source=scripts/bench/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

unset AGENTLENS_CONFIG AGENTLENS_DATA_DIR "${!AGENTLENS_DB_@}" "${!AGENTLENS_KUBERNETES_@}" KUBECONFIG \
	KUBERNETES_SERVICE_HOST KUBERNETES_SERVICE_PORT

SERVICES=${BENCH_K8S_SERVICES:-5000}
EVENTS=${BENCH_K8S_EVENTS:-50}
BUDGET=${BENCH_K8S_BUDGET:-240}
LIST_TARGET_S=30
EVENT_P99_TARGET_MS=1000
TOKEN_K8S=bench-kube-token
ADMIN_PASSWORD='Bench-Adm1n-Pass!'
FAKE=$BENCH_ROOT/spec/support/fake-kube.mjs
AGENT=$BENCH_ROOT/examples/mock-agents/a2a-agent.mjs
EVENTS_JS=$BENCH_ROOT/scripts/bench/kubernetes_events.mjs
for _n in SERVICES EVENTS BUDGET; do
	[[ ${!_n} =~ ^[1-9][0-9]*$ ]] || bench_die "$_n must be a positive integer, not '${!_n}'"
done
unset _n
((SERVICES <= 60000)) || bench_die "BENCH_K8S_SERVICES must be at most 60000 (one cluster IP each in 127.1.0.0/16)"
DEADLINE=$((SECONDS + BUDGET))
# shellcheck disable=SC2034 # read by bench_step in lib.sh
BUDGET_SETTING=BENCH_K8S_BUDGET

bench_agentlens_bin >/dev/null || exit 1
command -v node >/dev/null 2>&1 || bench_die "node is not installed (fake API server, mock agent)"
command -v timeout >/dev/null 2>&1 || bench_die "timeout (coreutils) is not installed"
[[ -r $FAKE && -r $AGENT && -r $EVENTS_JS ]] || bench_die "fake-kube.mjs, a2a-agent.mjs or kubernetes_events.mjs is missing"

export AGENTLENS_ADMIN_PASSWORD=$ADMIN_PASSWORD
export AGENTLENS_JWT_SECRET=bench-secret-0123456789-abcdefghij-KLMNOP

bench_tmpdir
WORK=$BENCH_TMPDIR
# shellcheck disable=SC2034 # read by bench_step in lib.sh
LOG=$WORK/step.log

# ---- the mock agent and the fake API server ------------------------------------------------

AGENT_PORT=$(bench_free_port)
PORT=$AGENT_PORT HOST=0.0.0.0 node "$AGENT" >"$WORK/agent.log" 2>&1 &
BENCH_PIDS+=("$!")
bench_poll 10000 "$!" bench_port_open "$AGENT_PORT" || bench_die "the mock agent did not start: $(tail -n 5 "$WORK/agent.log")"

node "$FAKE" --token "$TOKEN_K8S" --bookmark-ms 1000 >"$WORK/fake.log" 2>&1 &
FAKE_PID=$!
BENCH_PIDS+=("$FAKE_PID")
fake_ready() { grep -q '"listening"' "$WORK/fake.log"; }
bench_poll 10000 "$FAKE_PID" fake_ready || bench_die "the fake API server did not start: $(tail -n 5 "$WORK/fake.log")"
KUBE_PORT=$(sed -n 's/.*"port":\([0-9]*\).*/\1/p' "$WORK/fake.log" | head -n 1)
CONTROL_URL=http://127.0.0.1:$(sed -n 's/.*"controlPort":\([0-9]*\).*/\1/p' "$WORK/fake.log" | head -n 1)

# 5,000 annotated Services (half A2A with team and tags, spread over 10 namespaces), in one
# control request, plus 500 Services without the annotation that discovery must skip.
# shellcheck disable=SC2016 # JavaScript, not shell
node -e '
const [n, port] = [Number(process.argv[1]), Number(process.argv[2])];
const bulk = [];
for (let i = 0; i < n; i++) {
  bulk.push({ namespace: `ns-${i % 10}`, name: `agent-${i}`,
    annotations: { "agentlens.io/protocol": "a2a", "agentlens.io/team": `team-${i % 7}`, "agentlens.io/tags": "bench,k8s" },
    labels: { app: `agent-${i}` }, ports: [{ name: "http", port }] });
}
for (let i = 0; i < n / 10; i++) bulk.push({ namespace: "plain", name: `web-${i}`, ports: [{ name: "http", port }] });
process.stdout.write(JSON.stringify({ bulk }));
' "$SERVICES" "$AGENT_PORT" >"$WORK/services.json"
curl -fsS -o /dev/null -d @"$WORK/services.json" "$CONTROL_URL/services" || bench_die "cannot create the Services"

cat >"$WORK/kubeconfig" <<EOF
apiVersion: v1
kind: Config
current-context: bench
clusters:
- name: fake
  cluster:
    server: http://127.0.0.1:$KUBE_PORT
contexts:
- name: bench
  context:
    cluster: fake
    user: bench
users:
- name: bench
  user:
    token: $TOKEN_K8S
EOF

# ---- AgentLens ---------------------------------------------------------------------------------

k8s_total() { bench_catalog_total 'source=k8s&limit=1'; }

START_MS=$(bench_now_ms)
bench_agentlens_start "$(bench_free_port)" info --cookie-secure=false --kubernetes-enabled \
	--kubernetes-kubeconfig "$WORK/kubeconfig" --kubernetes-address cluster-ip ||
	bench_die "AgentLens did not start"
bench_poll 20000 "$BENCH_AGENTLENS_PID" bench_admin_ready ||
	bench_die "the admin never logged in; AgentLens log: $(tail -n 20 "$BENCH_AGENTLENS_LOG")"
TOKEN=$(bench_admin_token)

# ---- 1. the initial list ----------------------------------------------------------------------

list_done() { [[ $(k8s_total) == "$SERVICES" ]]; }
LIST_LIMIT_MS=$((LIST_TARGET_S * 2000))
left_ms=$(((DEADLINE - SECONDS) * 1000))
((LIST_LIMIT_MS < left_ms)) || LIST_LIMIT_MS=$left_ms
list_ok=1
while ! list_done; do
	if (($(bench_now_ms) - START_MS > LIST_LIMIT_MS)) || ! bench_alive "$BENCH_AGENTLENS_PID"; then
		list_ok=0
		break
	fi
	sleep 0.1
done
LIST_MS=$(($(bench_now_ms) - START_MS))
seen=$(k8s_total || echo 0)
LIST_S=$(awk -v ms="$LIST_MS" 'BEGIN { printf "%.1f", ms / 1000 }')
listed_log=$(grep -m1 '"kubernetes: services listed"' "$BENCH_AGENTLENS_LOG" || true)
echo "  list: ${seen:-0}/$SERVICES annotated Services in the catalog after ${LIST_S} s (from AgentLens' start; target <= ${LIST_TARGET_S} s)"
[[ -n $listed_log ]] && echo "  list: AgentLens log: $(sed -n 's/.*"duration_ms":\([0-9]*\).*/list+fetch+write took \1 ms/p' <<<"$listed_log")"

# ---- 2. watch events --------------------------------------------------------------------------

EVENTS_OUT=
if ((list_ok)); then
	if ! EVENTS_OUT=$(bench_step node "$EVENTS_JS" "$CONTROL_URL" "$BENCH_AGENTLENS_URL" "$TOKEN" "$AGENT_PORT" \
		"$EVENTS" 10000); then
		bench_step_fail "the event latency run"
	fi
fi
p50=$(sed -n 's/^p50_ms=//p' <<<"$EVENTS_OUT")
p99=$(sed -n 's/^p99_ms=//p' <<<"$EVENTS_OUT")
lost=$(sed -n 's/^lost=//p' <<<"$EVENTS_OUT")
[[ -n $EVENTS_OUT ]] && echo "  events: $EVENTS Services added one by one: event -> catalog p50=${p50} ms p99=${p99} ms max=$(sed -n 's/^max_ms=//p' <<<"$EVENTS_OUT") ms lost=${lost} (target p99 <= ${EVENT_P99_TARGET_MS} ms)"

# ---- verdict ----------------------------------------------------------------------------------

why=
((list_ok)) && ((LIST_MS <= LIST_TARGET_S * 1000)) || why+="list took ${LIST_S} s for ${seen:-0}/$SERVICES; "
if [[ -z $EVENTS_OUT ]]; then
	why+="events not measured; "
elif [[ $lost != 0 ]] || ! awk -v p="$p99" -v t="$EVENT_P99_TARGET_MS" 'BEGIN { exit !(p + 0 <= t) }'; then
	why+="event p99 ${p99} ms (lost ${lost}); "
fi
summary="$SERVICES Services listed in ${LIST_S} s; event -> catalog p50 ${p50:-n/a} ms, p99 ${p99:-n/a} ms"
if [[ -n $why ]]; then
	echo "FAIL: kubernetes: ${why%; } ($summary)"
	exit 1
fi
echo "PASS: kubernetes: $summary"
