#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The web UI. Targets:
#   initial JavaScript: the scripts index.html loads (<script src> and <link rel="modulepreload">),
#             each gzip -9, add up to <= 200 KB (200,000 bytes);
#   catalog:  with 10,000 entries (10 capabilities each, seeded through the store by
#             scripts/bench/catalog_seed.lua), the catalog page in headless Chromium shows its
#             rows and an enabled search box, which then takes typed text, within 1 s of
#             navigation start: p95 over the runs <= 1000 ms (spec/e2e/catalog_perf.mjs; every run
#             a fresh browser context, so a cold cache). Reference in the same run: a static HTML
#             page with the same first page of rows and a search box, served by nginx. Context
#             without a target: the same loads with a warm cache (one browser context).
#   BENCH_WEB_ENTRIES=10000   entries seeded
#   BENCH_WEB_RUNS=7          measured page loads of each page (after one warm-up load)
#   BENCH_WEB_BUDGET=300      seconds for the whole run (every step is cut off)
set -euo pipefail
# shellcheck source=scripts/bench/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

unset AGENTLENS_CONFIG AGENTLENS_DATA_DIR "${!AGENTLENS_DB_@}"

ENTRIES=${BENCH_WEB_ENTRIES:-10000}
RUNS=${BENCH_WEB_RUNS:-7}
BUDGET=${BENCH_WEB_BUDGET:-300}
JS_TARGET=200000
LOAD_TARGET=1000
ADMIN_PASSWORD='Bench-Adm1n-Pass!'
SEED=$BENCH_ROOT/scripts/bench/catalog_seed.lua
E2E=$BENCH_ROOT/spec/e2e
for _n in ENTRIES RUNS BUDGET; do
	[[ ${!_n} =~ ^[1-9][0-9]*$ ]] || bench_die "$_n must be a positive integer, not '${!_n}'"
done
unset _n
DEADLINE=$((SECONDS + BUDGET))
BUDGET_SETTING=BENCH_WEB_BUDGET

bin=$(bench_agentlens_bin) || exit 1
for _tool in node npm gzip timeout; do
	command -v "$_tool" >/dev/null 2>&1 || bench_die "$_tool is not installed (run: scripts/deps.sh bench)"
done
unset _tool
chromium=${AGENTLENS_CHROMIUM:-/usr/bin/chromium}
[[ -x $chromium ]] || bench_die "Chromium not found at $chromium (run: scripts/deps.sh bench)"

export AGENTLENS_ADMIN_PASSWORD=$ADMIN_PASSWORD
export AGENTLENS_JWT_SECRET=bench-secret-0123456789-abcdefghij-KLMNOP

bench_tmpdir
WORK=$BENCH_TMPDIR
LOG=$WORK/step.log

verdicts=()
verdict() { # verdict PASS|FAIL TEXT
	echo "$1: $2"
	verdicts+=("$1")
}

# playwright-core for the page-load measurement (spec/e2e/package-lock.json).
bench_step cmake -DDIR="$E2E" -DNPM="$(command -v npm)" -P "$BENCH_ROOT/cmake/npm-ci.cmake" ||
	bench_step_fail "npm ci in spec/e2e"

# ---- the catalog, seeded, and the server ---------------------------------------------------
data=$WORK/data
bench_log "bench: seeding $ENTRIES entries with 10 capabilities each"
out=$(AGENTLENS_DATA_DIR=$data bench_step "$bin" run "$SEED" "$ENTRIES" 10 500) ||
	bench_step_fail "agentlens run $SEED"
seeded=$(grep '^seed ' <<<"$out") || bench_die "no result line from catalog_seed.lua"
echo "== web: $seeded"

bench_agentlens_start "$(bench_free_port)" warn --cookie-secure=false --db-sqlite-path "$data/agentlens.db" \
	--no-jobs-enabled || bench_die "AgentLens did not start"
url=$BENCH_AGENTLENS_URL
admin_login_ok() {
	curl -fsS -o /dev/null -H 'Content-Type: application/json' \
		-d "{\"username\":\"admin\",\"password\":\"$ADMIN_PASSWORD\"}" "$url/api/v1/auth/login" 2>/dev/null
}
bench_poll 20000 "$BENCH_AGENTLENS_PID" admin_login_ok ||
	bench_die "the admin never logged in; AgentLens log: $(tail -n 20 "$BENCH_AGENTLENS_LOG")"

# ---- initial JavaScript ----------------------------------------------------------------------
curl -fsS "$url/" >"$WORK/index.html" || bench_die "GET / failed"
grep -q 'id="root"' "$WORK/index.html" ||
	bench_die "GET / is not the web UI (was the binary built with -DAGENTLENS_WEB=OFF?)"
mapfile -t scripts < <(grep -oE '<(script|link)[^>]*>' "$WORK/index.html" |
	grep -E '<script[^>]*type="module"|rel="modulepreload"' |
	grep -oE '(src|href)="/[^"]+\.js"' | sed -E 's/^(src|href)="([^"]+)"$/\2/' | sort -u)
((${#scripts[@]} > 0)) || bench_die "index.html references no JavaScript"
echo "== web: initial JavaScript (referenced by index.html), gzip -9"
js_total=0
for s in "${scripts[@]}"; do
	curl -fsS -o "$WORK/script.js" "$url$s" || bench_die "GET $s failed"
	raw=$(wc -c <"$WORK/script.js")
	gz=$(gzip -9 -c "$WORK/script.js" | wc -c)
	js_total=$((js_total + gz))
	printf '  %-48s %8d bytes, %7d gzipped\n' "$s" "$raw" "$gz"
done
echo "initial_js_gzip_bytes=$js_total"
if ((js_total <= JS_TARGET)); then ok=PASS; else ok=FAIL; fi
verdict "$ok" "web initial JavaScript: $js_total bytes gzipped (<= $JS_TARGET)"

# ---- catalog page load: the SPA and the static reference ---------------------------------------
bench_step node "$E2E/catalog_perf.mjs" --url "$url" --password "$ADMIN_PASSWORD" \
	--write-reference "$WORK/reference" >/dev/null || bench_step_fail "writing the reference page"
port=$(bench_free_port)
bench_start_nginx "$WORK/reference" "$port"
echo "== web: catalog page, $ENTRIES entries, headless Chromium, $RUNS cold loads each (after a warm-up)"
perf=$(bench_step node "$E2E/catalog_perf.mjs" --url "$url" --password "$ADMIN_PASSWORD" --runs "$RUNS" \
	--reference-url "http://127.0.0.1:$port") || bench_step_fail "the page-load measurement"
while IFS= read -r line; do echo "  $line"; done <<<"$perf"
get() { bench_get "$1" <<<"$perf"; }
spa_p50=$(get spa_p50_ms)
spa_p95=$(get spa_p95_ms)
ref_p50=$(get ref_p50_ms)
ref_p95=$(get ref_p95_ms)
[[ -n $spa_p95 && -n $ref_p95 ]] || bench_die "no summary lines from catalog_perf.mjs"
echo "catalog page: p50=${spa_p50} ms p95=${spa_p95} ms; static reference: p50=${ref_p50} ms p95=${ref_p95} ms"
echo "catalog page, warm cache (context, no target): p50=$(get spa_warm_p50_ms) ms p95=$(get spa_warm_p95_ms) ms"
echo "ratio spa/reference: p50=$(bench_ratio "$spa_p50" "$ref_p50") p95=$(bench_ratio "$spa_p95" "$ref_p95")"
if bench_ge "$LOAD_TARGET" "$spa_p95"; then ok=PASS; else ok=FAIL; fi
verdict "$ok" "web catalog page with $ENTRIES entries interactive: p95 ${spa_p95} ms (<= $LOAD_TARGET ms), p50 ${spa_p50} ms"

ok=PASS
for v in "${verdicts[@]}"; do
	[[ $v == PASS ]] || ok=FAIL
done
verdict "$ok" "web: initial JavaScript $js_total bytes gzipped, catalog page p95 ${spa_p95} ms"
[[ $ok == PASS ]]
