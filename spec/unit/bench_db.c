/* SPDX-License-Identifier: Apache-2.0 */
/* Benchmark (not a test): 10,000 inserts in one transaction and 10,000 reads by primary key through
 * al_db_exec on SQLite, next to the same statements on raw sqlite3 prepared statements (the
 * driver's overhead). With an argument DIR it also writes DIR/insert.sql and DIR/read.sql, the
 * same statements for the sqlite3 CLI (.timer on). Build by hand, e.g.
 *   cc -O2 -Isrc spec/unit/bench_db.c src/db/{db,sqlite,pg}.c src/core/{config_options,clock}.c \
 *      $(pkg-config --cflags --libs sqlite3 libpq) -lpthread -o /tmp/bench_db */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "db/db.h"

enum { N = 10000 };

static double now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

static void name_of(int i, char *out, size_t len)
{
	snprintf(out, len, "agent-%06d.example", i);
}

static int sum_row(void *ud, size_t ncols, const char *const *names, const struct al_db_value *values)
{
	*(int64_t *)ud += values[2].v.i + (int64_t)values[1].v.s.len;
	return 0;
}

static void die(const char *what, const char *msg)
{
	fprintf(stderr, "%s: %s\n", what, msg);
	exit(1);
}

static const char *const setup_sql = "DROP TABLE IF EXISTS bench;"
				     "CREATE TABLE bench (id INTEGER PRIMARY KEY, name TEXT NOT NULL, n INTEGER)";

static void bench_al_db(const char *path)
{
	struct al_db_options o = {.dialect = AL_DB_SQLITE, .sqlite_path = path, .busy_timeout_ms = 5000};
	struct al_db_error err;
	struct al_db *db = al_db_open(&o, &err);
	char name[32];
	int64_t sum = 0;

	if (!db || !al_db_exec_script(db, setup_sql, &err))
		die("al_db", err.message);
	double t0 = now_us();
	if (!al_db_begin(db, &err))
		die("begin", err.message);
	for (int i = 1; i <= N; i++) {
		name_of(i, name, sizeof name);
		struct al_db_value p[] = {{.type = AL_DB_INT, .v.i = i},
					  {.type = AL_DB_TEXT, .v.s = {name, strlen(name)}},
					  {.type = AL_DB_INT, .v.i = i * 7}};
		if (!al_db_exec(db, "INSERT INTO bench (id, name, n) VALUES (?, ?, ?)", p, 3, NULL, NULL, NULL, &err))
			die("insert", err.message);
	}
	if (!al_db_commit(db, &err))
		die("commit", err.message);
	double t1 = now_us();
	for (int i = 1; i <= N; i++) {
		struct al_db_value p = {.type = AL_DB_INT, .v.i = (i * 7919) % N + 1};
		if (!al_db_exec(db, "SELECT id, name, n FROM bench WHERE id = ?", &p, 1, sum_row, &sum, NULL, &err))
			die("select", err.message);
	}
	double t2 = now_us();
	printf("al_db_exec   insert (1 tx): %6.2f us/op   read by pk: %6.2f us/op   (check %lld)\n", (t1 - t0) / N,
	       (t2 - t1) / N, (long long)sum);
	al_db_close(db);
}

/* The floor: the same work on sqlite3 directly, one prepared statement each, same pragmas. */
static void bench_raw(const char *path)
{
	sqlite3 *db;
	sqlite3_stmt *ins, *sel;
	char name[32];
	int64_t sum = 0;

	if (sqlite3_open(path, &db) != SQLITE_OK ||
	    sqlite3_exec(db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;", NULL, NULL,
			 NULL) != SQLITE_OK ||
	    sqlite3_exec(db, setup_sql, NULL, NULL, NULL) != SQLITE_OK)
		die("sqlite3", sqlite3_errmsg(db));
	sqlite3_prepare_v2(db, "INSERT INTO bench (id, name, n) VALUES (?, ?, ?)", -1, &ins, NULL);
	sqlite3_prepare_v2(db, "SELECT id, name, n FROM bench WHERE id = ?", -1, &sel, NULL);
	double t0 = now_us();
	sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL);
	for (int i = 1; i <= N; i++) {
		name_of(i, name, sizeof name);
		sqlite3_bind_int64(ins, 1, i);
		sqlite3_bind_text(ins, 2, name, -1, SQLITE_STATIC);
		sqlite3_bind_int64(ins, 3, i * 7);
		if (sqlite3_step(ins) != SQLITE_DONE)
			die("insert", sqlite3_errmsg(db));
		sqlite3_reset(ins);
	}
	sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
	double t1 = now_us();
	for (int i = 1; i <= N; i++) {
		sqlite3_bind_int64(sel, 1, (i * 7919) % N + 1);
		while (sqlite3_step(sel) == SQLITE_ROW)
			sum += sqlite3_column_int64(sel, 2) + sqlite3_column_bytes(sel, 1);
		sqlite3_reset(sel);
	}
	double t2 = now_us();
	printf("raw sqlite3  insert (1 tx): %6.2f us/op   read by pk: %6.2f us/op   (check %lld)\n", (t1 - t0) / N,
	       (t2 - t1) / N, (long long)sum);
	sqlite3_finalize(ins);
	sqlite3_finalize(sel);
	sqlite3_close(db);
}

static void write_cli_files(const char *dir)
{
	char path[4096], name[32];
	snprintf(path, sizeof path, "%s/insert.sql", dir);
	FILE *f = fopen(path, "w");
	if (!f)
		die(path, "cannot write");
	fprintf(f,
		"PRAGMA journal_mode=WAL;\nPRAGMA synchronous=NORMAL;\nPRAGMA foreign_keys=ON;\n%s;\n.timer on\n"
		"BEGIN IMMEDIATE;\n",
		setup_sql);
	for (int i = 1; i <= N; i++) {
		name_of(i, name, sizeof name);
		fprintf(f, "INSERT INTO bench (id, name, n) VALUES (%d, '%s', %d);\n", i, name, i * 7);
	}
	fprintf(f, "COMMIT;\n");
	fclose(f);
	snprintf(path, sizeof path, "%s/read.sql", dir);
	if (!(f = fopen(path, "w")))
		die(path, "cannot write");
	fprintf(f, ".output /dev/null\n.timer on\n");
	for (int i = 1; i <= N; i++)
		fprintf(f, "SELECT id, name, n FROM bench WHERE id = %d;\n", (i * 7919) % N + 1);
	fclose(f);
}

int main(int argc, char **argv)
{
	char dir[] = "/tmp/al_bench_db_XXXXXX", path[64];
	if (!mkdtemp(dir))
		die("mkdtemp", "failed");
	for (int round = 0; round < 3; round++) {
		snprintf(path, sizeof path, "%s/al.db", dir);
		bench_al_db(path);
		snprintf(path, sizeof path, "%s/raw.db", dir);
		bench_raw(path);
	}
	if (argc > 1)
		write_cli_files(argv[1]);
	const char *const files[] = {"al.db", "al.db-wal", "al.db-shm", "raw.db", "raw.db-wal", "raw.db-shm"};
	for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
		snprintf(path, sizeof path, "%s/%s", dir, files[i]);
		unlink(path);
	}
	rmdir(dir);
	return 0;
}
