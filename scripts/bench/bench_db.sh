#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Database round trips, per dialect (SQLite in a temporary data directory, PostgreSQL on a
# throwaway server from spec/support/pg.sh): 10,000 INSERTs in one transaction and 10,000
# single-row SELECTs by primary key, in µs per operation, through
#   lua api      agentlens run scripts/bench/db_bench.lua (agentlens.db: db.tx + db.exec, db.query)
#   al_db_exec   build/spec/bench_db: our C database interface (src/db/db.h)
#   raw driver   build/spec/bench_db: sqlite3 prepared once (bind/step/reset) / libpq PQprepare
#                once + PQexecPrepared
#   CLI tool     sqlite3 / psql running a generated SQL file (literal values), wall time / 10,000
#   pgbench      PostgreSQL only: pgbench -n -M prepared -t 10000, one statement per transaction
#                (autocommit)
# Every figure is the fastest of several runs: the programs of the first three rows run
# BENCH_DB_PASSES times, alternating, each doing BENCH_DB_ROUNDS rounds on a fresh table; the
# tools run BENCH_DB_ROUNDS times.
# Target, per dialect: Lua API / raw driver < 2.0 for both inserts and reads.
#   BENCH_DB_DIALECTS="sqlite postgres"  dialects to measure
#   BENCH_DB_ROUNDS                      rounds per program run and runs per tool (default 10 for
#                                        SQLite, whose rounds take milliseconds, 3 for PostgreSQL)
#   BENCH_DB_PASSES=2                    runs of db_bench.lua and bench_db each
#   BENCH_DB_BUDGET=110                  seconds for the whole run (every step is cut off there)
#   BENCH_DB_BIN                         the bench_db program (default: next to AGENTLENS_BIN,
#                                        <build>/spec/bench_db)
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

N=10000
ROUNDS= # per dialect
PASSES=${BENCH_DB_PASSES:-2}
DIALECTS=${BENCH_DB_DIALECTS:-sqlite postgres}
BUDGET=${BENCH_DB_BUDGET:-110}
TARGET=2.0
PG_SH=$BENCH_PG_SH
LUA_SCRIPT=$BENCH_ROOT/scripts/bench/db_bench.lua
[[ ${BENCH_DB_ROUNDS:-1} =~ ^[1-9][0-9]*$ ]] || bench_die "BENCH_DB_ROUNDS must be a positive integer"
[[ $PASSES =~ ^[1-9][0-9]*$ ]] || bench_die "BENCH_DB_PASSES must be a positive integer"
[[ $BUDGET =~ ^[1-9][0-9]*$ ]] || bench_die "BENCH_DB_BUDGET must be a positive integer (seconds)"
DEADLINE=$((SECONDS + BUDGET))

bin=$(bench_agentlens_bin) || exit 1
bench_db=${BENCH_DB_BIN:-$(dirname "$bin")/spec/bench_db}
[[ -x $bench_db ]] || bench_die "bench_db not found at $bench_db: build it (cmake --build build --target bench_db, or make build) or set BENCH_DB_BIN"
command -v timeout >/dev/null 2>&1 || bench_die "timeout (coreutils) is not installed"

# The throwaway PostgreSQL server is stopped (and its directory removed) on every exit path.
db_cleanup() {
	bench_pg_stop
	bench_cleanup
}
trap db_cleanup EXIT
trap 'db_cleanup; trap - INT; kill -INT $$' INT
trap 'db_cleanup; trap - TERM; kill -TERM $$' TERM

bench_tmpdir
WORK=$BENCH_TMPDIR
LOG=$WORK/step.log

BUDGET_SETTING=BENCH_DB_BUDGET

now_us() { echo "${EPOCHREALTIME//[!0-9]/}"; }
per_op() { awk -v d="$1" -v n="$N" 'BEGIN { printf "%.3f\n", d / n }'; }

# below A B: true when the number A is below B ("n/a" and "" are not).
below() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a != "" && a != "n/a" && a + 0 < b + 0) }'; }
# The smaller of the number A and the number B (A may be empty: then B).
smaller() { if [[ -z $1 ]] || below "$2" "$1"; then echo "$2"; else echo "$1"; fi; }

# The value of KEY in a "label key=value ..." line.
field() { awk -v k="$2" '{ for (i = 2; i <= NF; i++) { split($i, a, "="); if (a[1] == k) print a[2] } }' <<<"$1"; }

# wall CMD...: the wall time of CMD (stdout discarded) in µs per operation, the fastest of ROUNDS
# runs; the function named in SETUP (if any) runs before each, untimed.
SETUP=
wall() {
	local best="" t0 t1 r
	for ((r = 0; r < ROUNDS; r++)); do
		[[ -z $SETUP ]] || "$SETUP"
		t0=$(now_us)
		bench_step "$@" >/dev/null || return 1
		t1=$(now_us)
		best=$(smaller "$best" "$(per_op $((t1 - t0)))")
	done
	echo "$best"
}

# The statement files for the CLI tools: the same values as bench_db.c and db_bench.lua.
awk -v n="$N" 'BEGIN {
	print "BEGIN;"
	for (i = 1; i <= n; i++) printf "INSERT INTO bench_cli (id, name, n) VALUES (%d, '\''agent-%06d.example'\'', %d);\n", i, i, i * 7
	print "COMMIT;"
}' >"$WORK/insert.sql"
awk -v n="$N" 'BEGIN {
	for (i = 1; i <= n; i++) printf "SELECT id, name, n FROM bench_cli WHERE id = %d;\n", (i * 7919) % n + 1
}' >"$WORK/read.sql"
printf '%s\n' '\set id random(1, '"$N"')' 'SELECT id, name, n FROM bench_cli WHERE id = :id;' >"$WORK/read.pgbench"
# Unique keys without a counter: 10,000 draws from 9e18 values (a collision is ~1e-11 likely).
printf '%s\n' '\set id random(1, 9000000000000000000)' '\set n random(1, 1000000)' \
	"INSERT INTO bench_pgbench (id, name, n) VALUES (:id, 'agent-000000.example', :n);" >"$WORK/insert.pgbench"

CREATE_CLI="CREATE TABLE bench_cli (id BIGINT PRIMARY KEY, name TEXT, n BIGINT)"
VERDICTS=()
FAILED=0

# report DIALECT LUA_LINE AL_LINE RAW_LINE CLI_NAME CLI_INSERT CLI_READ [PGB_INSERT PGB_READ]
report() {
	local dialect=$1 lua=$2 al=$3 raw=$4 cli=$5 cli_ins=$6 cli_read=$7 pgb_ins=${8:-n/a} pgb_read=${9:-n/a}
	local line label r_ins r_read why=()
	[[ -n $lua && -n $al && -n $raw ]] || bench_die "$dialect: a result line is missing"

	echo "== db ($dialect): $N inserts in one transaction, $N reads by primary key; µs per operation"
	printf '%-28s %14s %12s\n' "" "insert µs/op" "read µs/op"
	for line in "$lua" "$al" "$raw"; do
		case ${line%% *} in
		lua) label="lua api" ;;
		al_db_exec) label="al_db_exec" ;;
		*) label="raw driver" ;;
		esac
		printf '%-28s %14s %12s\n' "$label" "$(field "$line" insert_us)" "$(field "$line" read_us)"
	done
	printf '%-28s %14s %12s\n' "CLI tool ($cli)" "$cli_ins" "$cli_read"
	printf '%-28s %14s %12s\n' "pgbench" "$pgb_ins" "$pgb_read"
	echo "(lua api, al_db_exec, raw driver: the fastest of $((PASSES * ROUNDS)) rounds, $ROUNDS in each of $PASSES runs;" \
		"CLI tool: wall time of a whole run / $N, literal SQL parsed per statement, process start included, fastest of $ROUNDS runs)"
	if [[ $dialect == postgres ]]; then
		echo "(pgbench insert: AUTOCOMMIT, one INSERT per transaction, not one transaction for all;" \
			"pgbench read: random ids; both: 1e6 / pgbench's tps, -M prepared, 1 client, fastest of $ROUNDS runs)"
	fi
	r_ins=$(bench_ratio "$(field "$lua" insert_us)" "$(field "$raw" insert_us)")
	r_read=$(bench_ratio "$(field "$lua" read_us)" "$(field "$raw" read_us)")
	echo "Lua API / raw driver: insert $r_ins, read $r_read (target < $TARGET)"
	echo "Lua API / al_db_exec: insert $(bench_ratio "$(field "$lua" insert_us)" "$(field "$al" insert_us)")," \
		"read $(bench_ratio "$(field "$lua" read_us)" "$(field "$al" read_us)") (the Lua binding alone)"
	for line in "$lua" "$al" "$raw"; do
		[[ $(field "$line" rows) == "$N" ]] || why+=("${line%% *}: $(field "$line" rows) rows read, expected $N")
	done
	below "$r_ins" "$TARGET" || why+=("insert ratio $r_ins not below $TARGET")
	below "$r_read" "$TARGET" || why+=("read ratio $r_read not below $TARGET")
	if ((${#why[@]} == 0)); then
		echo "$dialect: PASS"
		VERDICTS+=("$dialect insert $r_ins read $r_read")
	else
		printf -v line '%s; ' "${why[@]}"
		echo "$dialect: FAIL (${line%; })"
		VERDICTS+=("$dialect insert $r_ins read $r_read (FAIL: ${line%; })")
		FAILED=1
	fi
	echo
}

# merge A B: the result line B, with insert_us and read_us the smaller of A's and B's, and A's
# rows when A read a wrong number of rows. A may be empty.
merge() {
	local rows
	[[ -n $1 ]] || {
		echo "$2"
		return
	}
	rows=$(field "$2" rows)
	[[ $(field "$1" rows) == "$N" ]] || rows=$(field "$1" rows)
	echo "${2%% *} insert_us=$(smaller "$(field "$1" insert_us)" "$(field "$2" insert_us)")" \
		"read_us=$(smaller "$(field "$1" read_us)" "$(field "$2" read_us)") rows=$rows"
}

# api_and_driver ARGS...: runs db_bench.lua and bench_db ARGS PASSES times each, alternating which
# goes first; sets LUA, AL and RAW to their merged result lines.
api_and_driver() {
	local p out
	LUA="" AL="" RAW=""
	for ((p = 1; p <= PASSES; p++)); do
		((p % 2 == 0)) || lua_pass "$p"
		bench_log "bench: $DIALECT: al_db_exec and the raw driver (run $p of $PASSES)"
		out=$(raw_driver "$@") || exit 1
		AL=$(merge "$AL" "$(grep '^al_db_exec ' <<<"$out")")
		RAW=$(merge "$RAW" "$(grep '^raw ' <<<"$out")")
		((p % 2)) || lua_pass "$p"
	done
}
lua_pass() {
	local out
	bench_log "bench: $DIALECT: Lua API (run $1 of $PASSES)"
	out=$(lua_api) || exit 1
	LUA=$(merge "$LUA" "$out")
}

# Runs db_bench.lua against the configured database; prints its result line.
lua_api() {
	local out
	out=$(bench_step "$bin" run "$LUA_SCRIPT" "$N" "$ROUNDS") || bench_step_fail "agentlens run $LUA_SCRIPT"
	grep '^lua ' <<<"$out" || bench_die "no result line from db_bench.lua: $out"
}

# Runs bench_db with ARGS; prints its al_db_exec and raw lines.
raw_driver() {
	local out
	out=$(bench_step "$bench_db" "$@" "$N" "$ROUNDS") || bench_step_fail "$bench_db $*"
	grep -E '^(al_db_exec|raw) ' <<<"$out" || bench_die "no result lines from bench_db: $out"
}

bench_sqlite() {
	local cli=$WORK/sqlite-cli.db ins read count
	DIALECT=sqlite ROUNDS=${BENCH_DB_ROUNDS:-10}
	mkdir -p "$WORK/sqlite"
	command -v sqlite3 >/dev/null 2>&1 || bench_die "sqlite3 is not installed (run: scripts/deps.sh bench)"
	AGENTLENS_DB_DIALECT=sqlite AGENTLENS_DATA_DIR=$WORK/sqlite api_and_driver sqlite "$WORK"
	bench_log "bench: sqlite: sqlite3 CLI"
	# The driver's settings: WAL (kept in the file) and synchronous=NORMAL (per connection).
	sqlite_setup() {
		rm -f -- "$cli" "$cli-wal" "$cli-shm"
		bench_step sqlite3 -bail "$cli" "PRAGMA journal_mode=WAL" "$CREATE_CLI" >/dev/null || bench_step_fail "sqlite3 setup"
	}
	SETUP=sqlite_setup
	ins=$(wall sqlite3 -bail "$cli" "PRAGMA synchronous=NORMAL" ".read $WORK/insert.sql") || bench_step_fail "sqlite3 insert.sql"
	SETUP=
	count=$(bench_step sqlite3 "$cli" "SELECT count(*) FROM bench_cli") || bench_step_fail "sqlite3 count"
	[[ $count == "$N" ]] || bench_die "sqlite3: $count rows after insert.sql, expected $N"
	read=$(wall sqlite3 -bail "$cli" "PRAGMA synchronous=NORMAL" ".read $WORK/read.sql") || bench_step_fail "sqlite3 read.sql"
	report sqlite "$LUA" "$AL" "$RAW" sqlite3 "$ins" "$read"
}

bench_postgres() {
	local ins read count pgb_ins pgb_read psql pgbench conn
	DIALECT=postgres ROUNDS=${BENCH_DB_ROUNDS:-3}
	bench_log "bench: postgres: starting a throwaway server"
	PG_DIR=$(mktemp -d /tmp/agentlens-bench-pg.XXXXXX)
	bench_step "$PG_SH" start "$PG_DIR" || bench_step_fail "pg.sh start"
	# shellcheck source=/dev/null
	. "$PG_DIR/env"
	psql=$PG_TEST_BIN/psql pgbench=$PG_TEST_BIN/pgbench
	[[ -x $psql ]] || psql=$(command -v psql) || bench_die "psql is not installed"
	[[ -x $pgbench ]] || pgbench=$(command -v pgbench) || bench_die "pgbench is not installed (run: scripts/deps.sh bench)"
	conn=(-h "$PGHOST" -p "$PGPORT" -U "$AGENTLENS_DB_POSTGRES_USER")
	# A fresh server is slow for its first second or so: warm it up (discarded).
	bench_step "$bench_db" postgres 2000 1 >/dev/null || bench_step_fail "bench_db postgres (warm-up)"
	AGENTLENS_DATA_DIR=$WORK/pg-data api_and_driver postgres
	bench_log "bench: postgres: psql and pgbench"
	pg_setup() {
		bench_step "$psql" -X -q -v ON_ERROR_STOP=1 "${conn[@]}" -d "$AGENTLENS_DB_POSTGRES_DBNAME" \
			-c "SET client_min_messages = warning" -c "DROP TABLE IF EXISTS bench_cli" -c "$CREATE_CLI" >/dev/null ||
			bench_step_fail "psql setup"
	}
	SETUP=pg_setup
	ins=$(wall "$psql" -X -q -v ON_ERROR_STOP=1 "${conn[@]}" -d "$AGENTLENS_DB_POSTGRES_DBNAME" -f "$WORK/insert.sql") ||
		bench_step_fail "psql -f insert.sql"
	SETUP=
	count=$(bench_step "$psql" -X -tA "${conn[@]}" -d "$AGENTLENS_DB_POSTGRES_DBNAME" -c "SELECT count(*) FROM bench_cli") ||
		bench_step_fail "psql count"
	[[ $count == "$N" ]] || bench_die "psql: $count rows after insert.sql, expected $N"
	read=$(wall "$psql" -X -q -v ON_ERROR_STOP=1 "${conn[@]}" -d "$AGENTLENS_DB_POSTGRES_DBNAME" -f "$WORK/read.sql") ||
		bench_step_fail "psql -f read.sql"
	bench_step "$psql" -X -q -v ON_ERROR_STOP=1 "${conn[@]}" -d "$AGENTLENS_DB_POSTGRES_DBNAME" \
		-c "CREATE TABLE bench_pgbench (id BIGINT PRIMARY KEY, name TEXT, n BIGINT)" >/dev/null || bench_step_fail "psql setup"
	pgb_ins=$(pgbench_us insert) || bench_step_fail "pgbench insert.pgbench"
	pgb_read=$(pgbench_us read) || bench_step_fail "pgbench read.pgbench"
	report postgres "$LUA" "$AL" "$RAW" psql "$ins" "$read" "$pgb_ins" "$pgb_read"
	bench_pg_stop
}

# pgbench_us insert|read: µs per transaction (1e6 / pgbench's tps without the initial connection
# time: finer than its "latency average", printed in whole µs), the fastest of ROUNDS runs.
pgbench_us() {
	local best="" out tps r
	for ((r = 0; r < ROUNDS; r++)); do
		out=$(bench_step "$pgbench" -n -M prepared -c 1 -t "$N" -f "$WORK/$1.pgbench" "${conn[@]}" \
			"$AGENTLENS_DB_POSTGRES_DBNAME") || return 1
		tps=$(awk '/^tps = / && /without initial connection time/ { print $3 }' <<<"$out")
		below 0 "$tps" || {
			echo "no tps in pgbench's output: $out" >"$LOG"
			return 1
		}
		best=$(smaller "$best" "$(awk -v tps="$tps" 'BEGIN { printf "%.3f\n", 1e6 / tps }')")
	done
	echo "$best"
}

# Context: on a busy machine every figure is inflated and the ratios swing (see docs/benchmarks.md).
read -r load1 _ </proc/loadavg || load1=n/a
cpus=$(nproc 2>/dev/null || echo 1)
busy=""
below "$load1" "$cpus" || busy=" (busy: the figures are inflated and the ratios unreliable; rerun on an idle machine)"
echo "machine: $cpus CPUs, load average $load1 at the start$busy"
echo

for dialect in $DIALECTS; do
	case $dialect in
	sqlite) bench_sqlite ;;
	postgres) bench_postgres ;;
	*) bench_die "unknown dialect in BENCH_DB_DIALECTS: $dialect" ;;
	esac
done

printf -v summary '%s; ' "${VERDICTS[@]}"
summary="Lua API / raw driver < $TARGET: ${summary%; }"
if ((FAILED)); then
	echo "FAIL: db: $summary"
	exit 1
fi
echo "PASS: db: $summary"
