/* SPDX-License-Identifier: Apache-2.0 */
/* Benchmark (not a test; built as the `bench_db` target, run by scripts/bench/bench_db.sh).
 * N inserts in one transaction, then N single-row reads by primary key, through
 *   - al_db_exec (src/db/db.h: our drivers, statement cache included), and
 *   - the raw driver: the sqlite3 C API (prepared once; bind, step, reset) or libpq (PQprepare
 *     once, PQexecPrepared; text parameters and results),
 * on table (id BIGINT PRIMARY KEY, name TEXT, n BIGINT). Each round recreates the tables and runs
 * both paths one after the other (so a burst of load elsewhere on the machine hits both alike);
 * the fastest of ROUNDS rounds is printed, one line per path:
 *   al_db_exec insert_us=0.984 read_us=3.068 rows=10000 check=350235000
 *   raw insert_us=0.894 read_us=2.781 rows=10000 check=350235000
 * (µs per operation; rows = rows the reads returned, check = a sum over them).
 *
 *   bench_db sqlite DIR [N [ROUNDS]]   database files DIR/al_db.db and DIR/raw.db (the raw one
 *                                      with the driver's pragmas: WAL, synchronous=NORMAL,
 *                                      foreign_keys=ON)
 *   bench_db postgres [N [ROUNDS]]     the server named by AGENTLENS_DB_POSTGRES_{HOST,PORT,USER,
 *                                      PASSWORD,DBNAME,SSLMODE}; tables bench_al_db, bench_raw
 * Defaults: N 10000, ROUNDS 3. */
#define _GNU_SOURCE
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libpq-fe.h>
#include <sqlite3.h>

#include "db/db.h"

static int n_ops = 10000;
static int rounds = 3;

struct result {
	double insert_us, read_us; /* per operation */
	int64_t rows, check;
};

static double now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

/* The same values everywhere (db_bench.lua and the tool files of bench_db.sh too): ids 1..N,
 * name "agent-%06d.example" (20 bytes), n = id * 7; the reads visit every id once, in the order
 * (i * 7919) % N + 1 (7919 is prime: a permutation of 1..N unless N is a multiple of it). */
static void name_of(int64_t id, char *out, size_t len)
{
	snprintf(out, len, "agent-%06" PRId64 ".example", id);
}

static int64_t read_id(int i)
{
	return ((int64_t)i * 7919) % n_ops + 1;
}

static void die(const char *what, const char *msg)
{
	fprintf(stderr, "bench_db: %s: %s\n", what, msg);
	exit(1);
}

static void keep_best(struct result *best, const struct result *r, int round)
{
	if (round == 0 || r->insert_us < best->insert_us)
		best->insert_us = r->insert_us;
	if (round == 0 || r->read_us < best->read_us)
		best->read_us = r->read_us;
	best->rows = r->rows;
	best->check = r->check;
}

static void print_result(const char *label, const struct result *r)
{
	printf("%s insert_us=%.3f read_us=%.3f rows=%" PRId64 " check=%" PRId64 "\n", label, r->insert_us, r->read_us,
	       r->rows, r->check);
}

/* ---- al_db_exec ------------------------------------------------------------------------- */

static int sum_row(void *ud, size_t ncols, const char *const *names, const struct al_db_value *values)
{
	(void)names;
	struct result *r = ud;
	if (ncols != 3 || values[2].type != AL_DB_INT || values[1].type != AL_DB_TEXT)
		return 1;
	r->rows++;
	r->check += values[2].v.i + (int64_t)values[1].v.s.len;
	return 0;
}

static struct al_db *al_db_connect(const struct al_db_options *o)
{
	struct al_db_error err;
	struct al_db *db = al_db_open(o, &err);
	if (!db)
		die("al_db_open", err.message);
	return db;
}

static void al_db_round(struct al_db *db, struct result *r)
{
	static const char *const ins = "INSERT INTO bench_al_db (id, name, n) VALUES (?, ?, ?)";
	static const char *const sel = "SELECT id, name, n FROM bench_al_db WHERE id = ?";
	struct al_db_error err;
	char name[32];
	if (!al_db_exec(db, "DROP TABLE IF EXISTS bench_al_db", NULL, 0, NULL, NULL, NULL, &err) ||
	    !al_db_exec(db, "CREATE TABLE bench_al_db (id BIGINT PRIMARY KEY, name TEXT, n BIGINT)", NULL, 0, NULL,
			NULL, NULL, &err))
		die("al_db_exec: create table", err.message);

	double t0 = now_us();
	if (!al_db_begin(db, &err))
		die("al_db_begin", err.message);
	for (int i = 1; i <= n_ops; i++) {
		name_of(i, name, sizeof name);
		struct al_db_value p[] = {{.type = AL_DB_INT, .v.i = i},
					  {.type = AL_DB_TEXT, .v.s = {name, strlen(name)}},
					  {.type = AL_DB_INT, .v.i = (int64_t)i * 7}};
		if (!al_db_exec(db, ins, p, 3, NULL, NULL, NULL, &err))
			die("al_db_exec: insert", err.message);
	}
	if (!al_db_commit(db, &err))
		die("al_db_commit", err.message);
	double t1 = now_us();
	for (int i = 1; i <= n_ops; i++) {
		struct al_db_value p = {.type = AL_DB_INT, .v.i = read_id(i)};
		if (!al_db_exec(db, sel, &p, 1, sum_row, r, NULL, &err))
			die("al_db_exec: select", err.message);
	}
	double t2 = now_us();
	r->insert_us = (t1 - t0) / n_ops;
	r->read_us = (t2 - t1) / n_ops;
}

/* ---- raw sqlite3 ------------------------------------------------------------------------ */

static void sqlite_exec(sqlite3 *db, const char *sql)
{
	if (sqlite3_exec(db, sql, NULL, NULL, NULL) != SQLITE_OK)
		die(sql, sqlite3_errmsg(db));
}

static sqlite3 *sqlite_connect(const char *path)
{
	sqlite3 *db;
	if (sqlite3_open(path, &db) != SQLITE_OK)
		die(path, sqlite3_errmsg(db));
	sqlite_exec(db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON");
	return db;
}

static void sqlite_round(sqlite3 *db, struct result *r)
{
	static const char *const ins_sql = "INSERT INTO bench_raw (id, name, n) VALUES (?, ?, ?)";
	static const char *const sel_sql = "SELECT id, name, n FROM bench_raw WHERE id = ?";
	sqlite3_stmt *ins, *sel;
	char name[32];
	sqlite_exec(db, "DROP TABLE IF EXISTS bench_raw");
	sqlite_exec(db, "CREATE TABLE bench_raw (id BIGINT PRIMARY KEY, name TEXT, n BIGINT)");
	if (sqlite3_prepare_v2(db, ins_sql, -1, &ins, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(db, sel_sql, -1, &sel, NULL) != SQLITE_OK)
		die("sqlite3_prepare_v2", sqlite3_errmsg(db));

	double t0 = now_us();
	sqlite_exec(db, "BEGIN IMMEDIATE"); /* what al_db_begin does */
	for (int i = 1; i <= n_ops; i++) {
		name_of(i, name, sizeof name);
		sqlite3_bind_int64(ins, 1, i);
		sqlite3_bind_text(ins, 2, name, -1, SQLITE_STATIC);
		sqlite3_bind_int64(ins, 3, (int64_t)i * 7);
		if (sqlite3_step(ins) != SQLITE_DONE)
			die("sqlite3_step: insert", sqlite3_errmsg(db));
		sqlite3_reset(ins);
	}
	sqlite_exec(db, "COMMIT");
	double t1 = now_us();
	for (int i = 1; i <= n_ops; i++) {
		sqlite3_bind_int64(sel, 1, read_id(i));
		int rc;
		while ((rc = sqlite3_step(sel)) == SQLITE_ROW) {
			r->rows++;
			r->check += sqlite3_column_int64(sel, 2) + sqlite3_column_bytes(sel, 1);
		}
		if (rc != SQLITE_DONE)
			die("sqlite3_step: select", sqlite3_errmsg(db));
		sqlite3_reset(sel);
	}
	double t2 = now_us();
	sqlite3_finalize(ins);
	sqlite3_finalize(sel);
	r->insert_us = (t1 - t0) / n_ops;
	r->read_us = (t2 - t1) / n_ops;
}

/* ---- raw libpq -------------------------------------------------------------------------- */

static void pg_check(PGconn *pg, PGresult *res, ExecStatusType want, const char *what)
{
	if (PQresultStatus(res) != want)
		die(what, PQerrorMessage(pg));
}

static void pg_exec(PGconn *pg, const char *sql)
{
	PGresult *res = PQexec(pg, sql);
	pg_check(pg, res, PGRES_COMMAND_OK, sql);
	PQclear(res);
}

static PGconn *pg_connect(const struct al_db_options *o)
{
	char port[24];
	snprintf(port, sizeof port, "%" PRId64, o->pg_port);
	const char *kw[] = {"host", "port", "user", "password", "dbname", "sslmode", NULL};
	const char *val[] = {o->pg_host, port, o->pg_user, o->pg_password, o->pg_dbname, o->pg_sslmode, NULL};
	PGconn *pg = PQconnectdbParams(kw, val, 0);
	if (PQstatus(pg) != CONNECTION_OK)
		die("PQconnectdbParams", PQerrorMessage(pg));
	pg_exec(pg, "SET client_min_messages = warning"); /* no NOTICE for DROP TABLE IF EXISTS */
	return pg;
}

static void pg_round(PGconn *pg, struct result *r)
{
	static const Oid ins_types[] = {20 /* int8 */, 25 /* text */, 20}, sel_types[] = {20};
	char id[24], n[24], name[32];
	const char *vals[3] = {id, name, n};
	PGresult *res;

	pg_exec(pg, "DROP TABLE IF EXISTS bench_raw");
	pg_exec(pg, "CREATE TABLE bench_raw (id BIGINT PRIMARY KEY, name TEXT, n BIGINT)");
	pg_exec(pg, "DEALLOCATE ALL"); /* the previous round's statements */
	res = PQprepare(pg, "ins", "INSERT INTO bench_raw (id, name, n) VALUES ($1, $2, $3)", 3, ins_types);
	pg_check(pg, res, PGRES_COMMAND_OK, "PQprepare insert");
	PQclear(res);
	res = PQprepare(pg, "sel", "SELECT id, name, n FROM bench_raw WHERE id = $1", 1, sel_types);
	pg_check(pg, res, PGRES_COMMAND_OK, "PQprepare select");
	PQclear(res);

	double t0 = now_us();
	pg_exec(pg, "BEGIN");
	for (int i = 1; i <= n_ops; i++) {
		snprintf(id, sizeof id, "%d", i);
		snprintf(n, sizeof n, "%" PRId64, (int64_t)i * 7);
		name_of(i, name, sizeof name);
		res = PQexecPrepared(pg, "ins", 3, vals, NULL, NULL, 0);
		pg_check(pg, res, PGRES_COMMAND_OK, "PQexecPrepared insert");
		PQclear(res);
	}
	pg_exec(pg, "COMMIT");
	double t1 = now_us();
	for (int i = 1; i <= n_ops; i++) {
		snprintf(id, sizeof id, "%" PRId64, read_id(i));
		const char *v = id;
		res = PQexecPrepared(pg, "sel", 1, &v, NULL, NULL, 0);
		pg_check(pg, res, PGRES_TUPLES_OK, "PQexecPrepared select");
		for (int row = 0; row < PQntuples(res); row++) {
			r->rows++;
			r->check += strtoll(PQgetvalue(res, row, 2), NULL, 10) + PQgetlength(res, row, 1);
		}
		PQclear(res);
	}
	double t2 = now_us();
	r->insert_us = (t1 - t0) / n_ops;
	r->read_us = (t2 - t1) / n_ops;
}

/* ---- main ------------------------------------------------------------------------------- */

static const char *env_or(const char *name, const char *def)
{
	const char *v = getenv(name);
	return v && *v ? v : def;
}

static int usage(void)
{
	fprintf(stderr, "usage: bench_db sqlite DIR [N [ROUNDS]]\n       bench_db postgres [N [ROUNDS]]\n");
	return 2;
}

int main(int argc, char **argv)
{
	if (argc < 2)
		return usage();
	bool sqlite = strcmp(argv[1], "sqlite") == 0;
	if (!sqlite && strcmp(argv[1], "postgres") != 0)
		return usage();
	int first = sqlite ? 3 : 2; /* index of N */
	if (argc < first || argc > first + 2)
		return usage();
	if (argc > first)
		n_ops = atoi(argv[first]);
	if (argc > first + 1)
		rounds = atoi(argv[first + 1]);
	if (n_ops < 1 || rounds < 1)
		return usage();

	struct result best_al = {0}, best_raw = {0};
	struct al_db *db;
	sqlite3 *lite = NULL;
	PGconn *pg = NULL;
	char al_path[4096], raw_path[4096];
	struct al_db_options o;
	if (sqlite) {
		snprintf(al_path, sizeof al_path, "%s/al_db.db", argv[2]);
		snprintf(raw_path, sizeof raw_path, "%s/raw.db", argv[2]);
		o = (struct al_db_options){.dialect = AL_DB_SQLITE, .sqlite_path = al_path, .busy_timeout_ms = 5000};
		lite = sqlite_connect(raw_path);
	} else {
		o = (struct al_db_options){
		    .dialect = AL_DB_POSTGRES,
		    .pg_host = env_or("AGENTLENS_DB_POSTGRES_HOST", "localhost"),
		    .pg_port = strtoll(env_or("AGENTLENS_DB_POSTGRES_PORT", "5432"), NULL, 10),
		    .pg_user = env_or("AGENTLENS_DB_POSTGRES_USER", "agentlens"),
		    .pg_password = env_or("AGENTLENS_DB_POSTGRES_PASSWORD", ""),
		    .pg_dbname = env_or("AGENTLENS_DB_POSTGRES_DBNAME", "agentlens"),
		    .pg_sslmode = env_or("AGENTLENS_DB_POSTGRES_SSLMODE", "disable"),
		    .connect_timeout_ms = 5000,
		    .application_name = "bench_db",
		};
		pg = pg_connect(&o);
	}
	db = al_db_connect(&o);

	for (int round = 0; round < rounds; round++) {
		struct result r = {0};
		al_db_round(db, &r);
		keep_best(&best_al, &r, round);
		r = (struct result){0};
		if (sqlite)
			sqlite_round(lite, &r);
		else
			pg_round(pg, &r);
		keep_best(&best_raw, &r, round);
	}
	print_result("al_db_exec", &best_al);
	print_result("raw", &best_raw);

	al_db_close(db);
	if (lite)
		sqlite3_close(lite);
	if (pg)
		PQfinish(pg);
	return 0;
}
