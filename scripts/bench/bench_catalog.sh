#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The catalog at scale, per dialect (SQLite in a temporary data directory, PostgreSQL on a
# throwaway server from spec/support/pg.sh): 10,000 entries with 10 capabilities each (100,000),
# seeded through the store by scripts/bench/catalog_seed.lua. Targets, per dialect:
#   list:     GET /api/v1/catalog?limit=50 with a Bearer token (wrk -t2 -c64 --latency) at
#             >= 0.5 of the requests/s of nginx serving the same bytes as a static file (same
#             wrk settings, same run), and p99 <= 20 ms;
#   search:   GET /api/v1/catalog?limit=50&q=TERM, rotating among 20 terms: p99 <= 25 ms;
#   register: 10,000 distinct A2A 1.0 cards POSTed to /api/v1/catalog/register on a fresh
#             server and database (scripts/bench/catalog_register.js, 8 in flight): <= 30 s,
#             every answer 201.
# Context lines without a target: the same list and search with the response cache bypassed
# (a distinct dummy query parameter per request, so every request queries the database).
#   BENCH_CATALOG_DIALECTS="sqlite postgres"  dialects to measure
#   BENCH_CATALOG_ENTRIES=10000               entries seeded (10 capabilities each)
#   BENCH_CATALOG_CARDS=10000                 cards registered
#   BENCH_CATALOG_CONTEXT_SECONDS=3           length of each uncached context run (0 = skip)
#   BENCH_CATALOG_BUDGET=300                  seconds for the whole run (every step is cut off)
set -euo pipefail
# shellcheck source=scripts/bench/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# Only what this script sets reaches the programs it measures (before any variable of ours is
# set: PG_SH starts with PG too).
unset AGENTLENS_CONFIG AGENTLENS_DATA_DIR "${!AGENTLENS_DB_@}"
for _v in "${!PG@}"; do
	[[ $_v == PG_BIN ]] || unset "$_v"
done
unset _v
PG_DIR= # lib.sh's: unset above with the rest, but bench_pg_stop reads it on every exit path

DIALECTS=${BENCH_CATALOG_DIALECTS:-sqlite postgres}
ENTRIES=${BENCH_CATALOG_ENTRIES:-10000}
CARDS=${BENCH_CATALOG_CARDS:-10000}
CONTEXT_SECONDS=${BENCH_CATALOG_CONTEXT_SECONDS:-3}
BUDGET=${BENCH_CATALOG_BUDGET:-300}
SECONDS_RUN=${BENCH_SECONDS:-10}
RATIO_TARGET=0.5
LIST_P99_TARGET=20
SEARCH_P99_TARGET=25
REGISTER_TARGET=30
REGISTER_CONCURRENCY=8
LIST_PATH='/api/v1/catalog?limit=50'
SEARCH_TERMS=(invoice weather translate kubernetes summarize sql pdf calendar fraud payroll sentiment
	image route ticket compliance genomics "customer support" inventory shipping "security audit")
ADMIN_PASSWORD='Bench-Adm1n-Pass!'
PG_SH=$BENCH_PG_SH
SEED=$BENCH_ROOT/scripts/bench/catalog_seed.lua
REGISTER_JS=$BENCH_ROOT/scripts/bench/catalog_register.js
CARD=$BENCH_ROOT/spec/fixtures/cards/a2a/v1.0-translation-agent.json
for _n in ENTRIES CARDS BUDGET SECONDS_RUN; do
	[[ ${!_n} =~ ^[1-9][0-9]*$ ]] || bench_die "$_n must be a positive integer, not '${!_n}'"
done
unset _n
[[ $CONTEXT_SECONDS =~ ^[0-9]+$ ]] || bench_die "BENCH_CATALOG_CONTEXT_SECONDS must be a non-negative integer"
DEADLINE=$((SECONDS + BUDGET))

bin=$(bench_agentlens_bin) || exit 1
command -v node >/dev/null 2>&1 || bench_die "node is not installed (it POSTs the cards)"
command -v timeout >/dev/null 2>&1 || bench_die "timeout (coreutils) is not installed"
[[ -r $CARD ]] || bench_die "card fixture $CARD not found"

export AGENTLENS_ADMIN_PASSWORD=$ADMIN_PASSWORD
export AGENTLENS_JWT_SECRET=bench-secret-0123456789-abcdefghij-KLMNOP

# The throwaway PostgreSQL server is stopped (and its directory removed) on every exit path,
# after AgentLens (which holds connections to it).
catalog_cleanup() {
	bench_cleanup
	bench_pg_stop
}
trap catalog_cleanup EXIT
trap 'catalog_cleanup; trap - INT; kill -INT $$' INT
trap 'catalog_cleanup; trap - TERM; kill -TERM $$' TERM

bench_tmpdir
WORK=$BENCH_TMPDIR
LOG=$WORK/step.log

BUDGET_SETTING=BENCH_CATALOG_BUDGET

# start_server LABEL [ARGS...]: AgentLens at log level warn; sets TOKEN once the admin can log in
# (the first admin is created once the database is ready, shortly after /healthz answers).
start_server() {
	local label=$1
	shift
	bench_agentlens_start "$(bench_free_port)" warn --cookie-secure=false "$@" ||
		bench_die "$label: AgentLens did not start"
	bench_poll 20000 "$BENCH_AGENTLENS_PID" bench_admin_ready ||
		bench_die "$label: the admin never logged in; AgentLens log: $(tail -n 20 "$BENCH_AGENTLENS_LOG")"
	TOKEN=$(bench_admin_token)
}

# The wrk scripts: auth.lua adds the Bearer header; paths.lua also builds each request's path:
# with BENCH_SEARCH=1 the search terms in turn, with BENCH_UNCACHED=1 a distinct dummy parameter
# "nc" (ignored by the handler, but part of the response cache key).
write_wrk_scripts() {
	local dir=$1 token=$2 t terms=""
	for t in "${SEARCH_TERMS[@]}"; do
		terms+="\"${t// /%20}\", "
	done
	printf 'wrk.headers["Authorization"] = "Bearer %s"\n' "$token" >"$dir/auth.lua"
	cat >"$dir/paths.lua" <<-EOF
		wrk.headers["Authorization"] = "Bearer $token"
		local terms = { $terms}
		local uncached = os.getenv("BENCH_UNCACHED") == "1"
		local search = os.getenv("BENCH_SEARCH") == "1"
		local threads = 0
		n, tid = 0, 0 -- per thread, set by setup()
		function setup(thread)
		  threads = threads + 1
		  thread:set("tid", threads)
		  thread:set("n", threads * 7)
		end
		function request()
		  n = n + 1
		  local path = "/api/v1/catalog?limit=50"
		  if search then
		    path = path .. "&q=" .. terms[n % #terms + 1]
		  end
		  if uncached then
		    path = path .. "&nc=" .. tostring(tid) .. "-" .. n
		  end
		  return wrk.format(nil, path)
		end
	EOF
}

# run_wrk LABEL SECONDS [WRK ARGS...] URL: prints one result line; sets RUN_OUT.
run_wrk() {
	local label=$1 secs=$2 out
	shift 2
	if ! out=$(bench_step wrk -t2 -c64 -d"${secs}s" --latency "$@"); then
		bench_log "bench: wrk $* failed: $out"
		bench_step_fail "wrk ($label)"
	fi
	[[ ${BENCH_VERBOSE:-0} == 1 ]] && bench_log "$out"
	RUN_OUT=$(bench_wrk_parse <<<"$out") || exit 1
	printf '  %-40s rps=%-9s p99_ms=%-7s requests=%-7s non2xx=%s socket_errors=%s\n' "$label" \
		"$(bench_get rps <<<"$RUN_OUT")" "$(bench_get p99_ms <<<"$RUN_OUT")" "$(bench_get requests <<<"$RUN_OUT")" \
		"$(bench_get non2xx <<<"$RUN_OUT")" "$(bench_get socket_errors <<<"$RUN_OUT")"
}
warm() { bench_step wrk -t2 -c64 -d"${BENCH_WARMUP_SECONDS:-2}s" "$@" >/dev/null 2>&1 || true; }
clean() { [[ $(bench_get non2xx <<<"$1") == 0 && $(bench_get socket_errors <<<"$1") == 0 ]]; }
le() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a != "" && a != "n/a" && a + 0 <= b + 0) }'; }

VERDICTS=()
FAILED=0
verdict() { # verdict PASS|FAIL TEXT
	VERDICTS+=("$1: $2")
	echo "$1: $2"
	[[ $1 == PASS ]] || FAILED=1
}

# seed DIALECT: ENTRIES entries into the configured database.
seed() {
	local out
	bench_log "bench: $1: seeding $ENTRIES entries with 10 capabilities each"
	out=$(bench_step "$bin" run "$SEED" "$ENTRIES" 10 500) || bench_step_fail "agentlens run $SEED"
	out=$(grep '^seed ' <<<"$out") || bench_die "no result line from catalog_seed.lua"
	echo "  $out"
}

# measure DIALECT [SERVER ARGS...]: list against nginx, search, the uncached context, on the
# seeded database.
measure() {
	local dialect=$1 dir www port ng_url ng al sr ratio p99 sp99 ok size total dirty
	shift
	start_server "$dialect" "$@"
	dir=$WORK/$dialect-wrk
	mkdir -p "$dir"
	write_wrk_scripts "$dir" "$TOKEN"
	# The exact bytes of the list, served by nginx under the same path (it ignores the query).
	www=$WORK/$dialect-www
	mkdir -p "$www/api/v1"
	total=$(curl -fsS -D - -o "$www/api/v1/catalog" -H "Authorization: Bearer $TOKEN" "$BENCH_AGENTLENS_URL$LIST_PATH" |
		tr -d '\r' | awk -F': ' 'tolower($1) == "x-total-count" { print $2 }') ||
		bench_die "$dialect: GET $LIST_PATH failed"
	size=$(wc -c <"$www/api/v1/catalog")
	[[ $total == "$ENTRIES" ]] || bench_die "$dialect: the catalog lists '$total' entries, expected $ENTRIES"
	echo "  GET $LIST_PATH: $size bytes, X-Total-Count $total"
	port=$(bench_free_port)
	bench_start_nginx "$www" "$port" off
	ng_url=http://127.0.0.1:$port$LIST_PATH
	cmp -s <(curl -fsS "$ng_url") "$www/api/v1/catalog" || bench_die "nginx does not serve the same bytes at $ng_url"
	warm "$ng_url"
	run_wrk "nginx static, same bytes" "$SECONDS_RUN" "$ng_url"
	ng=$RUN_OUT
	bench_stop "$BENCH_NGINX_PID"

	warm -s "$dir/auth.lua" "$BENCH_AGENTLENS_URL$LIST_PATH"
	run_wrk "agentlens list (Bearer)" "$SECONDS_RUN" -s "$dir/auth.lua" "$BENCH_AGENTLENS_URL$LIST_PATH"
	al=$RUN_OUT
	BENCH_SEARCH=1 warm -s "$dir/paths.lua" "$BENCH_AGENTLENS_URL"
	BENCH_SEARCH=1 run_wrk "agentlens search, ${#SEARCH_TERMS[@]} terms (Bearer)" "$SECONDS_RUN" \
		-s "$dir/paths.lua" "$BENCH_AGENTLENS_URL"
	sr=$RUN_OUT
	if ((CONTEXT_SECONDS > 0)); then
		BENCH_UNCACHED=1 run_wrk "context: list, cache bypassed" "$CONTEXT_SECONDS" \
			-s "$dir/paths.lua" "$BENCH_AGENTLENS_URL"
		BENCH_UNCACHED=1 BENCH_SEARCH=1 run_wrk "context: search, cache bypassed" "$CONTEXT_SECONDS" \
			-s "$dir/paths.lua" "$BENCH_AGENTLENS_URL"
	fi
	bench_stop "$BENCH_AGENTLENS_PID"

	ratio=$(bench_ratio "$(bench_get rps <<<"$al")" "$(bench_get rps <<<"$ng")")
	p99=$(bench_get p99_ms <<<"$al")
	sp99=$(bench_get p99_ms <<<"$sr")
	echo "  ratio agentlens/nginx: rps=$ratio p99=$(bench_ratio "$p99" "$(bench_get p99_ms <<<"$ng")")"
	ok=PASS dirty=""
	clean "$al" && clean "$ng" || dirty=", non-2xx responses or socket errors"
	[[ -z $dirty ]] && bench_ge "$ratio" "$RATIO_TARGET" && le "$p99" "$LIST_P99_TARGET" || ok=FAIL
	verdict "$ok" "catalog $dialect list: rps ratio $ratio (>= $RATIO_TARGET), p99 $p99 ms (<= $LIST_P99_TARGET ms)$dirty"
	ok=PASS dirty=""
	clean "$sr" || dirty=", non-2xx responses or socket errors"
	[[ -z $dirty ]] && le "$sp99" "$SEARCH_P99_TARGET" || ok=FAIL
	verdict "$ok" "catalog $dialect search: p99 $sp99 ms (<= $SEARCH_P99_TARGET ms) at $(bench_get rps <<<"$sr") rps$dirty"
}

# register DIALECT [SERVER ARGS...]: CARDS cards into a fresh server and database.
register() {
	local dialect=$1 out secs n201 ok
	shift
	start_server "$dialect (register)" "$@"
	bench_log "bench: $dialect: registering $CARDS cards, $REGISTER_CONCURRENCY in flight"
	out=$(bench_step node "$REGISTER_JS" "$BENCH_AGENTLENS_URL" "$TOKEN" "$CARD" "$CARDS" "$REGISTER_CONCURRENCY") ||
		bench_step_fail "node $REGISTER_JS"
	bench_stop "$BENCH_AGENTLENS_PID"
	out=$(grep '^register ' <<<"$out") || bench_die "no result line from catalog_register.js"
	echo "  $out"
	secs=$(tr ' ' '\n' <<<"$out" | bench_get seconds)
	n201=$(tr ' ' '\n' <<<"$out" | bench_get status_201)
	ok=PASS
	[[ $n201 == "$CARDS" ]] && le "$secs" "$REGISTER_TARGET" || ok=FAIL
	verdict "$ok" "catalog $dialect register: $CARDS cards in $secs s (<= $REGISTER_TARGET s), $n201 answered 201"
}

bench_sqlite() {
	local data=$WORK/sqlite-seed
	echo "== catalog sqlite: $ENTRIES entries, $((ENTRIES * 10)) capabilities; wrk -t2 -c64 -d${SECONDS_RUN}s"
	AGENTLENS_DATA_DIR=$data seed sqlite
	measure sqlite --db-sqlite-path "$data/agentlens.db"
	register sqlite # a fresh data directory
}

bench_postgres() {
	echo "== catalog postgres: $ENTRIES entries, $((ENTRIES * 10)) capabilities; wrk -t2 -c64 -d${SECONDS_RUN}s"
	bench_log "bench: postgres: starting a throwaway server"
	PG_DIR=$(mktemp -d /tmp/agentlens-bench-pg.XXXXXX)
	bench_step "$PG_SH" start "$PG_DIR" || bench_step_fail "pg.sh start"
	bench_step "$PG_SH" createdb "$PG_DIR" agentlens_register || bench_step_fail "pg.sh createdb"
	# shellcheck source=/dev/null
	. "$PG_DIR/env"
	AGENTLENS_DATA_DIR=$WORK/pg-seed seed postgres
	measure postgres
	AGENTLENS_DB_POSTGRES_DBNAME=agentlens_register register postgres
	unset "${!AGENTLENS_DB_@}" PGHOST PGPORT PGUSER PG_TEST_DIR PG_TEST_BIN PG_TEST_SH
	bench_pg_stop
}

read -r load1 _ </proc/loadavg || load1=n/a
cpus=$(nproc 2>/dev/null || echo 1)
busy=""
bench_ge "$load1" "$cpus" && busy=" (busy: the figures are inflated; rerun on an idle machine)"
echo "machine: $cpus CPUs, load average $load1 at the start$busy"

for dialect in $DIALECTS; do
	case $dialect in
	sqlite) bench_sqlite ;;
	postgres) bench_postgres ;;
	*) bench_die "unknown dialect in BENCH_CATALOG_DIALECTS: $dialect" ;;
	esac
done

echo "== summary"
printf '%s\n' "${VERDICTS[@]}"
npass=$(printf '%s\n' "${VERDICTS[@]}" | grep -c '^PASS' || true)
summary="$npass of ${#VERDICTS[@]} targets met (list rps ratio >= $RATIO_TARGET and p99 <= $LIST_P99_TARGET ms,"
summary+=" search p99 <= $SEARCH_P99_TARGET ms, $CARDS registrations <= $REGISTER_TARGET s; dialects: $DIALECTS)"
if ((FAILED)); then
	echo "FAIL: catalog: $summary"
	exit 1
fi
echo "PASS: catalog: $summary"
