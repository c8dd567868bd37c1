#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# One health sweep over 10,000 catalog entries on loopback (SQLite in a temporary data
# directory). The mock agents are one nginx serving a valid A2A 1.0 card under 10,000 distinct
# paths (http://127.0.0.1:PORT/a/N/.well-known/agent-card.json): each entry's endpoint is
# http://127.0.0.1:PORT/a/N, so they are 10,000 distinct catalog entries, and serving them costs
# next to nothing. The entries are seeded through the store (agentlens run, 1,000 per
# transaction), then AgentLens starts and its first sweep (at start-up) probes them all.
# Targets:
#   sweep: every entry probed (and active) in one sweep of <= 10 s ("health sweep finished"
#          log line: duration_ms, probed);
#   RSS:   the AgentLens process's peak resident set (VmHWM in /proc/PID/status, read after the
#          sweep) <= 128 MB.
# Reference measured in the same run: curl fetching the same 10,000 URLs from the same nginx
# with the same parallelism (curl --parallel --parallel-max CONCURRENCY); the ratio is the
# sweep's time over curl's.
#   BENCH_HEALTH_ENTRIES=10000      entries (and mock endpoints)
#   BENCH_HEALTH_CONCURRENCY=64     health.check_concurrency (and curl's --parallel-max)
#   BENCH_HEALTH_BUDGET=180         seconds for the whole run (every step is cut off)
set -euo pipefail
# shellcheck source=scripts/bench/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

unset AGENTLENS_CONFIG AGENTLENS_DATA_DIR "${!AGENTLENS_DB_@}" "${!AGENTLENS_HEALTH_@}"

ENTRIES=${BENCH_HEALTH_ENTRIES:-10000}
CONCURRENCY=${BENCH_HEALTH_CONCURRENCY:-64}
BUDGET=${BENCH_HEALTH_BUDGET:-180}
# shellcheck disable=SC2034 # read by bench_step
BUDGET_SETTING=BENCH_HEALTH_BUDGET
SWEEP_TARGET_MS=10000
RSS_TARGET_KB=$((128 * 1024))
for _n in ENTRIES CONCURRENCY BUDGET; do
	[[ ${!_n} =~ ^[1-9][0-9]*$ ]] || bench_die "$_n must be a positive integer, not '${!_n}'"
done
unset _n
((CONCURRENCY <= 256)) || bench_die "BENCH_HEALTH_CONCURRENCY must be at most 256"
DEADLINE=$((SECONDS + BUDGET))
CARD=$BENCH_ROOT/spec/fixtures/cards/a2a/v1.0-translation-agent.json
[[ -f $CARD ]] || bench_die "missing card fixture $CARD"

bin=$(bench_agentlens_bin) || exit 1
command -v timeout >/dev/null 2>&1 || bench_die "timeout (coreutils) is not installed"
command -v python3 >/dev/null 2>&1 || bench_die "python3 is not installed (it writes the mock endpoints)"

bench_tmpdir
WORK=$BENCH_TMPDIR
# shellcheck disable=SC2034 # read by bench_step
LOG=$WORK/step.log

# ---- the mock: one card under ENTRIES paths, served by nginx -------------------------------
www=$WORK/www
bench_log "bench: writing $ENTRIES mock endpoints"
# /a/N -> one directory holding .well-known/agent-card.json (symlinks: cheap to make and serve)
mkdir -p "$www/card/.well-known" "$www/a"
cp "$CARD" "$www/card/.well-known/agent-card.json"
python3 - "$www" "$ENTRIES" <<'EOF'
import os, sys
www, n = sys.argv[1], int(sys.argv[2])
for i in range(1, n + 1):
    os.symlink("../card", os.path.join(www, "a", str(i)))
EOF
mock_port=$(bench_free_port)
bench_start_nginx "$www" "$mock_port" || bench_die "nginx did not start"
MOCK=http://127.0.0.1:$mock_port
curl -fsS -o /dev/null "$MOCK/a/$ENTRIES/.well-known/agent-card.json" || bench_die "the mock does not serve cards"

# ---- reference: curl fetching the same URLs with the same parallelism ----------------------
cfg=$WORK/curl.cfg
for ((i = 1; i <= ENTRIES; i++)); do
	printf 'url = "%s/a/%d/.well-known/agent-card.json"\noutput = "/dev/null"\n' "$MOCK" "$i"
done >"$cfg"
t0=$(bench_now_ms)
bench_step curl -fsS --parallel --parallel-max "$CONCURRENCY" -H 'Accept: application/json' -K "$cfg" ||
	bench_step_fail "curl (reference)"
curl_ms=$(($(bench_now_ms) - t0))
((curl_ms > 0)) || curl_ms=1

# ---- seed the catalog --------------------------------------------------------------------
data=$WORK/data
cat >"$WORK/seed.lua" <<'EOF'
-- Inserts arg[2] A2A entries with endpoints arg[1]/a/N through the store, 1,000 per transaction.
local db = require("agentlens.db")
local time = require("agentlens.time")
local catalog = require("agentlens.store.catalog")
local base, n = arg[1], tonumber(arg[2])
local real_tx = db.tx
local t0 = time.monotonic()
local done = 0
while done < n do
	local last = math.min(done + 1000, n)
	assert(real_tx(function()
		db.tx = function(fn, ...)
			return fn(...)
		end
		for i = done + 1, last do
			local id, err = catalog.insert({ protocol = "a2a", endpoint = ("%s/a/%d"):format(base, i),
				display_name = ("Mock Agent %05d"):format(i), source = "push", state = "registered" })
			if not id then
				db.tx = real_tx
				return nil, err
			end
		end
		db.tx = real_tx
		return true
	end))
	done = last
end
print(("seed entries=%d seconds=%.3f"):format(done, time.monotonic() - t0))
EOF
bench_log "bench: seeding $ENTRIES catalog entries"
out=$(AGENTLENS_DATA_DIR=$data bench_step "$bin" run "$WORK/seed.lua" "$MOCK" "$ENTRIES") ||
	bench_step_fail "agentlens run seed.lua"
grep '^seed ' <<<"$out" >&2 || bench_die "no result line from the seed script"

# ---- AgentLens: the first sweep runs at start-up ------------------------------------------
port=$(bench_free_port)
alog=$WORK/agentlens.log
AGENTLENS_HEALTH_CHECK_INTERVAL=1h AGENTLENS_HEALTH_CHECK_CONCURRENCY=$CONCURRENCY \
	AGENTLENS_HEALTH_CHECK_TIMEOUT=5s AGENTLENS_ADMIN_PASSWORD='Bench-Adm1n-Pass!' \
	"$bin" serve --bind 127.0.0.1 --port "$port" --data-dir "$data" --log-level info --log-format json \
	--http-shutdown-timeout 2s >"$alog" 2>&1 &
pid=$!
BENCH_PIDS+=("$pid")
swept() { grep -q '"msg":"health sweep finished"' "$alog"; }
left_ms=$(((DEADLINE - SECONDS) * 1000))
((left_ms > 0)) || bench_die "the time budget of ${BUDGET} s is used up (BENCH_HEALTH_BUDGET)"
if ! bench_poll "$left_ms" "$pid" swept; then
	bench_log "bench: no finished sweep; the end of the AgentLens log:"
	tail -n 20 "$alog" >&2
	exit 1
fi
line=$(grep -m1 '"msg":"health sweep finished"' "$alog")
sweep_ms=$(sed -n 's/.*"duration_ms":\([0-9]*\).*/\1/p' <<<"$line")
probed=$(sed -n 's/.*"probed":\([0-9]*\).*/\1/p' <<<"$line")
waves=$(sed -n 's/.*"waves":\([0-9]*\).*/\1/p' <<<"$line")
http_ms=$(sed -n 's/.*"http_ms":\([0-9]*\).*/\1/p' <<<"$line")
write_ms=$(sed -n 's/.*"write_ms":\([0-9]*\).*/\1/p' <<<"$line")
hwm_kb=$(awk '/^VmHWM:/ {print $2}' "/proc/$pid/status")
rss_kb=$(awk '/^VmRSS:/ {print $2}' "/proc/$pid/status")
bench_stop "$pid"

cat >"$WORK/states.lua" <<'EOF'
local db = require("agentlens.db")
for _, r in ipairs(assert(db.query("SELECT state, COUNT(*) AS n FROM catalog_entries GROUP BY state ORDER BY state"))) do
	io.write(("%s=%s "):format(r.state, tostring(r.n)))
end
io.write("\n")
EOF
states=$(AGENTLENS_DATA_DIR=$data bench_step "$bin" run "$WORK/states.lua") || bench_step_fail "agentlens run states.lua"

printf 'health sweep: entries=%d probed=%s waves=%s concurrency=%d sweep_ms=%s (http_ms=%s db_write_ms=%s)\n' \
	"$ENTRIES" "$probed" "$waves" "$CONCURRENCY" "$sweep_ms" "$http_ms" "$write_ms"
printf 'health states after the sweep: %s\n' "$states"
printf 'reference: curl --parallel-max %d, same %d URLs: %d ms; ratio sweep/curl = %s\n' "$CONCURRENCY" "$ENTRIES" \
	"$curl_ms" "$(bench_ratio "$sweep_ms" "$curl_ms")"
printf 'agentlens rss: peak=%d KiB (%d MiB) after_sweep=%d KiB\n' "$hwm_kb" $((hwm_kb / 1024)) "$rss_kb"

fail=()
[[ $probed == "$ENTRIES" ]] || fail+=("probed $probed of $ENTRIES entries")
[[ $states == "active=$ENTRIES " ]] || fail+=("not every entry is active: $states")
((sweep_ms <= SWEEP_TARGET_MS)) || fail+=("sweep took $sweep_ms ms > $SWEEP_TARGET_MS ms")
((hwm_kb <= RSS_TARGET_KB)) || fail+=("peak RSS $((hwm_kb / 1024)) MiB > 128 MiB")
if ((${#fail[@]} == 0)); then
	echo "PASS: health: $ENTRIES endpoints in one sweep of $sweep_ms ms (<= 10 s), peak RSS $((hwm_kb / 1024)) MiB (<= 128 MiB)"
else
	printf 'FAIL: health: %s\n' "$(IFS=';'; echo "${fail[*]}")"
	exit 1
fi
