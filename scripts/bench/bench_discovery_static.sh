#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Static discovery at scale, on SQLite: BENCH_STATIC_SOURCES `sources:` in the configuration, all
# A2A, each at its own 127.1.x.y loopback address in front of one mock A2A agent
# (examples/mock-agents/a2a-agent.mjs writes the Host it was reached at into its card), so every
# source is a distinct catalog entry. Measures the time from AgentLens' start until every source
# is in the catalog (the first discovery round runs at start-up; card fetches go out
# concurrently through curl multi), polling the count of config entries (X-Total-Count) every
# 100 ms, and the peak RSS of AgentLens at that point.
# Target: 1,000 sources in the catalog within 20 s of the start.
#   BENCH_STATIC_SOURCES=1000   sources in the configuration
#   BENCH_STATIC_BUDGET=120     seconds for the whole run
set -euo pipefail
# shellcheck source=scripts/bench/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

unset AGENTLENS_CONFIG AGENTLENS_DATA_DIR "${!AGENTLENS_DB_@}" "${!AGENTLENS_DISCOVERY_@}"

SOURCES=${BENCH_STATIC_SOURCES:-1000}
BUDGET=${BENCH_STATIC_BUDGET:-120}
TARGET_S=20
ADMIN_PASSWORD='Bench-Adm1n-Pass!'
AGENT=$BENCH_ROOT/examples/mock-agents/a2a-agent.mjs
for _n in SOURCES BUDGET; do
	[[ ${!_n} =~ ^[1-9][0-9]*$ ]] || bench_die "$_n must be a positive integer, not '${!_n}'"
done
unset _n
((SOURCES <= 60000)) || bench_die "BENCH_STATIC_SOURCES must be at most 60000 (one address each in 127.1.0.0/16)"
DEADLINE=$((SECONDS + BUDGET))

bench_agentlens_bin >/dev/null || exit 1
command -v node >/dev/null 2>&1 || bench_die "node is not installed (mock agent)"
[[ -r $AGENT ]] || bench_die "$AGENT is missing"

export AGENTLENS_ADMIN_PASSWORD=$ADMIN_PASSWORD
export AGENTLENS_JWT_SECRET=bench-secret-0123456789-abcdefghij-KLMNOP

bench_tmpdir
WORK=$BENCH_TMPDIR

AGENT_PORT=$(bench_free_port)
PORT=$AGENT_PORT HOST=0.0.0.0 node "$AGENT" >"$WORK/agent.log" 2>&1 &
BENCH_PIDS+=("$!")
bench_poll 10000 "$!" bench_port_open "$AGENT_PORT" || bench_die "the mock agent did not start: $(tail -n 5 "$WORK/agent.log")"

{
	echo "discovery:"
	echo "  interval: 1h"
	echo "sources:"
	for ((i = 0; i < SOURCES; i++)); do
		printf '  - {name: agent-%d, type: a2a, url: "http://127.1.%d.%d:%d"}\n' \
			"$i" $(((i + 1) / 256)) $(((i + 1) % 256)) "$AGENT_PORT"
	done
} >"$WORK/agentlens.yaml"

config_total() { bench_catalog_total 'source=config&limit=1'; }

START_MS=$(bench_now_ms)
bench_agentlens_start "$(bench_free_port)" info --cookie-secure=false --config "$WORK/agentlens.yaml" ||
	bench_die "AgentLens did not start"
bench_poll 20000 "$BENCH_AGENTLENS_PID" bench_admin_ready ||
	bench_die "the admin never logged in; AgentLens log: $(tail -n 20 "$BENCH_AGENTLENS_LOG")"
TOKEN=$(bench_admin_token)

ok=1
while [[ $(config_total) != "$SOURCES" ]]; do
	if ((SECONDS >= DEADLINE)) || ! bench_alive "$BENCH_AGENTLENS_PID"; then
		ok=0
		break
	fi
	sleep 0.1
done
MS=$(($(bench_now_ms) - START_MS))
seen=$(config_total || echo 0)
RSS_KB=$(awk '/^VmHWM:/ { print $2 }' "/proc/$BENCH_AGENTLENS_PID/status" 2>/dev/null || echo 0)
S=$(awk -v ms="$MS" 'BEGIN { printf "%.1f", ms / 1000 }')
RSS_MB=$(awk -v kb="${RSS_KB:-0}" 'BEGIN { printf "%.0f", kb / 1024 }')
echo "  static sources: ${seen:-0}/$SOURCES in the catalog after ${S} s (from AgentLens' start; target <= ${TARGET_S} s), peak RSS ${RSS_MB} MB"

summary="$SOURCES static sources in the catalog in ${S} s, peak RSS ${RSS_MB} MB"
if ((ok)) && ((MS <= TARGET_S * 1000)); then
	echo "PASS: discovery_static: $summary"
else
	echo "FAIL: discovery_static: $summary (${seen:-0}/$SOURCES)"
	exit 1
fi
