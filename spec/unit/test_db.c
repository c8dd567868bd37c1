/* SPDX-License-Identifier: Apache-2.0 */
/* Conformance tests of the database interface (src/db/db.h) on the dialect the environment
 * selects: SQLite in a temporary directory by default, PostgreSQL with AGENTLENS_DB_DIALECT=postgres
 * and AGENTLENS_DB_POSTGRES_*. Then SQLite-only tests: pragmas, unwritable paths, lock waits,
 * statement re-entrancy and the online backup. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "core/config.h"
#include "db/db.h"

extern char **environ;

static struct al_config cfg;
static struct al_db_options opts;
static bool is_sqlite;
static char tmpdir[64]; /* SQLite only: holds test.db and every other file the tests make */
static char db_path[128];
static struct al_db *db; /* opened by setup for each test */

/* ---- values and results ------------------------------------------------------------------ */

#define VNULL ((struct al_db_value){.type = AL_DB_NULL})
#define VBOOL(x) ((struct al_db_value){.type = AL_DB_BOOL, .v.b = (x)})
#define VINT(x) ((struct al_db_value){.type = AL_DB_INT, .v.i = (x)})
#define VFLOAT(x) ((struct al_db_value){.type = AL_DB_FLOAT, .v.f = (x)})
#define VTEXT(str) ((struct al_db_value){.type = AL_DB_TEXT, .v.s = {(str), strlen(str)}})
#define VBYTES(t, ptr, n) ((struct al_db_value){.type = (t), .v.s = {(const char *)(ptr), (n)}})
/* A parameter list: P(VINT(1), VTEXT("a")) expands to "array, count". */
#define P(...)                                                                                                         \
	(const struct al_db_value[]){__VA_ARGS__},                                                                     \
	    sizeof((const struct al_db_value[]){__VA_ARGS__}) / sizeof(struct al_db_value)

enum { MAX_COLS = 64 };

/* Rows copied out of the row callback (TEXT/BLOB bytes owned, NUL-terminated for convenience). */
struct result {
	size_t nrows, ncols;
	char names[MAX_COLS][32];
	struct al_db_value *vals; /* nrows * ncols */
	size_t cap;
	const char *bad;   /* set by the callback instead of asserting inside the driver */
	size_t stop_after; /* non-zero: ask the driver to stop after this many rows */
};

static int collect(void *ud, size_t ncols, const char *const *names, const struct al_db_value *values)
{
	struct result *r = ud;
	if (r->nrows == 0) {
		if (ncols > MAX_COLS) {
			r->bad = "too many columns";
			return 1;
		}
		r->ncols = ncols;
		for (size_t i = 0; i < ncols; i++)
			snprintf(r->names[i], sizeof r->names[i], "%s", names[i]);
	} else if (ncols != r->ncols) {
		r->bad = "column count changed between rows";
		return 1;
	}
	if ((r->nrows + 1) * ncols > r->cap) {
		r->cap = r->cap ? r->cap * 2 : 64;
		while (r->cap < (r->nrows + 1) * ncols)
			r->cap *= 2;
		r->vals = realloc(r->vals, r->cap * sizeof *r->vals);
	}
	for (size_t i = 0; i < ncols; i++) {
		struct al_db_value v = values[i];
		if (v.type == AL_DB_TEXT || v.type == AL_DB_BLOB) {
			if (!v.v.s.p) {
				r->bad = "TEXT/BLOB value with a NULL pointer";
				return 1;
			}
			char *copy = malloc(v.v.s.len + 1);
			memcpy(copy, v.v.s.p, v.v.s.len);
			copy[v.v.s.len] = '\0';
			v.v.s.p = copy;
		}
		r->vals[r->nrows * ncols + i] = v;
	}
	r->nrows++;
	return r->stop_after && r->nrows >= r->stop_after;
}

static void result_free(struct result *r)
{
	for (size_t i = 0; i < r->nrows * r->ncols; i++)
		if (r->vals[i].type == AL_DB_TEXT || r->vals[i].type == AL_DB_BLOB)
			free((void *)r->vals[i].v.s.p);
	free(r->vals);
	memset(r, 0, sizeof *r);
}

static const struct al_db_value *cell(const struct result *r, size_t row, size_t col)
{
	assert_true(row < r->nrows && col < r->ncols);
	return &r->vals[row * r->ncols + col];
}

static void assert_value_equal(const struct al_db_value *got, const struct al_db_value *want)
{
	assert_int_equal(got->type, want->type);
	switch (want->type) {
	case AL_DB_NULL:
		break;
	case AL_DB_BOOL:
		assert_int_equal(got->v.b, want->v.b);
		break;
	case AL_DB_INT:
		assert_true(got->v.i == want->v.i);
		break;
	case AL_DB_FLOAT:
		assert_memory_equal(&got->v.f, &want->v.f, sizeof(double));
		break;
	case AL_DB_TEXT:
	case AL_DB_BLOB:
		assert_int_equal(got->v.s.len, want->v.s.len);
		if (want->v.s.len)
			assert_memory_equal(got->v.s.p, want->v.s.p, want->v.s.len);
		break;
	}
}

/* Runs a statement on c that must succeed; returns *changes. */
static int64_t exec_on(struct al_db *c, const char *sql, const struct al_db_value *params, size_t n)
{
	struct al_db_error err = {0};
	int64_t changes = -1;
	if (!al_db_exec(c, sql, params, n, NULL, NULL, &changes, &err))
		fail_msg("%s: %s (%s)", sql, err.message, al_db_code_name(err.code));
	return changes;
}

static int64_t exec_ok(const char *sql, const struct al_db_value *params, size_t n)
{
	return exec_on(db, sql, params, n);
}

static void query_on(struct al_db *c, struct result *r, const char *sql, const struct al_db_value *params, size_t n)
{
	struct al_db_error err = {0};
	int64_t changes = -1;
	memset(r, 0, sizeof *r);
	if (!al_db_exec(c, sql, params, n, collect, r, &changes, &err))
		fail_msg("%s: %s (%s)", sql, err.message, al_db_code_name(err.code));
	if (r->bad)
		fail_msg("%s: %s", sql, r->bad);
	assert_int_equal(changes, 0);
}

static void query(struct result *r, const char *sql, const struct al_db_value *params, size_t n)
{
	query_on(db, r, sql, params, n);
}

/* Runs a statement that must fail; returns its code (the message must say something). */
static enum al_db_code exec_fails(const char *sql, const struct al_db_value *params, size_t n)
{
	struct al_db_error err = {0};
	if (al_db_exec(db, sql, params, n, NULL, NULL, NULL, &err))
		fail_msg("%s: succeeded, expected an error", sql);
	assert_true(err.message[0] != '\0');
	return err.code;
}

static int64_t scalar_int_on(struct al_db *c, const char *sql, const struct al_db_value *params, size_t n)
{
	struct result r;
	query_on(c, &r, sql, params, n);
	assert_int_equal(r.nrows, 1);
	assert_int_equal(cell(&r, 0, 0)->type, AL_DB_INT);
	int64_t v = cell(&r, 0, 0)->v.i;
	result_free(&r);
	return v;
}

static int64_t count_on(struct al_db *c, const char *table)
{
	char sql[128];
	snprintf(sql, sizeof sql, "SELECT count(*) FROM %s", table);
	return scalar_int_on(c, sql, NULL, 0);
}

static int64_t count_rows(const char *table)
{
	return count_on(db, table);
}

static void scalar_text(const char *sql, char *out, size_t outlen)
{
	struct result r;
	query(&r, sql, NULL, 0);
	assert_int_equal(r.nrows, 1);
	assert_int_equal(cell(&r, 0, 0)->type, AL_DB_TEXT);
	snprintf(out, outlen, "%s", cell(&r, 0, 0)->v.s.p);
	result_free(&r);
}

static double now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* ---- schema ------------------------------------------------------------------------------ */

/* Dialect-specific DDL: $I integer, $F float, $B blob, $T timestamp. Static buffer. */
static const char *ddl(const char *tmpl)
{
	static char out[4096];
	const char *i = is_sqlite ? "INTEGER" : "BIGINT", *f = is_sqlite ? "REAL" : "DOUBLE PRECISION",
		   *b = is_sqlite ? "BLOB" : "BYTEA", *t = is_sqlite ? "TEXT" : "TIMESTAMPTZ";
	size_t o = 0;
	for (const char *p = tmpl; *p && o < sizeof out - 32; p++) {
		const char *sub = NULL;
		if (p[0] == '$' && p[1]) {
			sub = p[1] == 'I' ? i : p[1] == 'F' ? f : p[1] == 'B' ? b : p[1] == 'T' ? t : NULL;
		}
		if (sub) {
			o += (size_t)snprintf(out + o, sizeof out - o, "%s", sub);
			p++;
		} else {
			out[o++] = *p;
		}
	}
	out[o] = '\0';
	return out;
}

static const char *const schema =
    "DROP TABLE IF EXISTS al_test_child;"
    "DROP TABLE IF EXISTS al_test_parent;"
    "DROP TABLE IF EXISTS al_test_types;"
    "DROP TABLE IF EXISTS al_test_items;"
    "DROP TABLE IF EXISTS al_test_script;"
    "CREATE TABLE al_test_types (id $I PRIMARY KEY, n $I, f $F, s TEXT, b $B, flag BOOLEAN, ts $T);"
    "CREATE TABLE al_test_parent (id $I PRIMARY KEY, name TEXT);"
    "CREATE TABLE al_test_child (id $I PRIMARY KEY,"
    " parent_id $I REFERENCES al_test_parent (id),"
    " later_id $I REFERENCES al_test_parent (id) DEFERRABLE INITIALLY DEFERRED,"
    " name TEXT NOT NULL, qty $I CHECK (qty >= 0), code TEXT UNIQUE);"
    "CREATE TABLE al_test_items (id $I PRIMARY KEY, n $I, payload TEXT);";

static void script_ok(struct al_db *c, const char *sql)
{
	struct al_db_error err = {0};
	if (!al_db_exec_script(c, sql, &err))
		fail_msg("script failed: %s (%s)", err.message, al_db_code_name(err.code));
}

static struct al_db *open_ok(const struct al_db_options *o)
{
	struct al_db_error err = {0};
	struct al_db *c = al_db_open(o, &err);
	if (!c)
		fail_msg("al_db_open: %s (%s)", err.message, al_db_code_name(err.code));
	return c;
}

static int setup(void **state)
{
	struct al_db_error err = {0};
	if (!(db = al_db_open(&opts, &err))) {
		fprintf(stderr, "al_db_open: %s\n", err.message);
		return -1;
	}
	if (!al_db_exec_script(db, ddl(schema), &err)) {
		fprintf(stderr, "schema: %s\n", err.message);
		return -1;
	}
	return 0;
}

static int teardown(void **state)
{
	if (db && al_db_in_transaction(db)) {
		struct al_db_error err;
		al_db_rollback(db, &err);
	}
	al_db_close(db);
	db = NULL;
	return 0;
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	return remove(path);
}

static int group_setup(void **state)
{
	const char *dialect = getenv("AGENTLENS_DB_DIALECT");
	struct al_config_error err;

	is_sqlite = !dialect || !dialect[0] || strcmp(dialect, "sqlite") == 0;
	if (is_sqlite) {
		snprintf(tmpdir, sizeof tmpdir, "/tmp/al_test_db_XXXXXX");
		if (!mkdtemp(tmpdir))
			return -1;
		snprintf(db_path, sizeof db_path, "%s/test.db", tmpdir);
		setenv("AGENTLENS_DB_SQLITE_PATH", db_path, 1);
		setenv("AGENTLENS_DB_SQLITE_BUSY_TIMEOUT", "200ms", 1);
	}
	if (!al_config_load(&cfg, NULL, environ, 0, NULL, &err)) {
		fprintf(stderr, "configuration: %s\n", err.message);
		return -1;
	}
	al_db_options_from_config(&opts, &cfg);
	return 0;
}

static int group_teardown(void **state)
{
	al_config_free(&cfg);
	if (tmpdir[0])
		nftw(tmpdir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	return 0;
}

/* ---- both dialects ----------------------------------------------------------------------- */

static void round_trip(int64_t id, const char *column, const struct al_db_value *v)
{
	char ins[128], sel[128];
	struct result r;

	snprintf(ins, sizeof ins, "INSERT INTO al_test_types (id, %s) VALUES (?, ?)", column);
	snprintf(sel, sizeof sel, "SELECT %s FROM al_test_types WHERE id = ?", column);
	assert_int_equal(exec_ok(ins, P(VINT(id), *v)), 1);
	query(&r, sel, P(VINT(id)));
	assert_int_equal(r.nrows, 1);
	assert_int_equal(r.ncols, 1);
	assert_string_equal(r.names[0], column);
	assert_value_equal(cell(&r, 0, 0), v);
	result_free(&r);
}

static void test_round_trip_every_type(void **state)
{
	static const char utf8[] =
	    "h\xc3\xa9llo w\xc3\xb6rld \xe2\x80\x94 \xe2\x9c\x93 \xf0\x9f\x98\x80 \xe4\xb8\xad\xe6\x96\x87";
	static const char with_nul[] = "a\0b\0\xc3\xa9";
	unsigned char all_bytes[256];
	for (int i = 0; i < 256; i++)
		all_bytes[i] = (unsigned char)i;

	const struct {
		const char *column;
		struct al_db_value v;
	} cases[] = {
	    {"n", VNULL},
	    {"f", VNULL},
	    {"s", VNULL},
	    {"b", VNULL},
	    {"flag", VNULL},
	    {"ts", VNULL},
	    {"flag", VBOOL(true)},
	    {"flag", VBOOL(false)},
	    {"n", VINT(0)},
	    {"n", VINT(-1)},
	    {"n", VINT(INT64_MAX)},
	    {"n", VINT(INT64_MIN)},
	    {"n", VINT((INT64_C(1) << 53) + 1)}, /* not representable as a double */
	    {"f", VFLOAT(0.1)},
	    {"f", VFLOAT(-1e300)},
	    {"f", VFLOAT(0.0)},
	    {"s", VTEXT(utf8)},
	    {"s", VTEXT("")}, /* empty text is not NULL */
	    {"b", VBYTES(AL_DB_BLOB, all_bytes, sizeof all_bytes)},
	    {"b", VBYTES(AL_DB_BLOB, "", 0)}, /* empty blob is not NULL */
	    {"ts", VTEXT("2026-12-04T16:26:10.123Z")},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
		round_trip((int64_t)i + 1, cases[i].column, &cases[i].v);

	/* NUL bytes inside text: PostgreSQL text cannot hold them, so both drivers refuse them (never
	 * truncate) and the dialects behave the same; bytes with NUL go in blobs. */
	struct al_db_value nul_text = VBYTES(AL_DB_TEXT, with_nul, sizeof with_nul - 1);
	exec_fails("INSERT INTO al_test_types (id, s) VALUES (?, ?)", P(VINT(100), nul_text));

	/* A NULL pointer with length 0 is empty text, not NULL. */
	round_trip(101, "s", &VBYTES(AL_DB_TEXT, NULL, 0));
	struct result r;
	query(&r, "SELECT s FROM al_test_types WHERE id = ?", P(VINT(101)));
	assert_int_equal(cell(&r, 0, 0)->type, AL_DB_TEXT);
	result_free(&r);

	/* Every column of one row at once, typed by column. */
	assert_int_equal(exec_ok("INSERT INTO al_test_types (id, n, f, s, b, flag, ts) VALUES (?, ?, ?, ?, ?, ?, ?)",
				 P(VINT(200), VINT(42), VFLOAT(2.5), VTEXT("x"), VBYTES(AL_DB_BLOB, "\x00\xff", 2),
				   VBOOL(true), VTEXT("2026-01-02T03:04:05.006Z"))),
			 1);
	query(&r, "SELECT id, n, f, s, b, flag, ts FROM al_test_types WHERE id = ?", P(VINT(200)));
	assert_int_equal(r.ncols, 7);
	assert_value_equal(cell(&r, 0, 0), &VINT(200));
	assert_value_equal(cell(&r, 0, 1), &VINT(42));
	assert_value_equal(cell(&r, 0, 2), &VFLOAT(2.5));
	assert_value_equal(cell(&r, 0, 3), &VTEXT("x"));
	assert_value_equal(cell(&r, 0, 4), &VBYTES(AL_DB_BLOB, "\x00\xff", 2));
	assert_value_equal(cell(&r, 0, 5), &VBOOL(true));
	assert_value_equal(cell(&r, 0, 6), &VTEXT("2026-01-02T03:04:05.006Z"));
	result_free(&r);
}

static void test_rows_and_column_names(void **state)
{
	for (int i = 1; i <= 3; i++)
		exec_ok("INSERT INTO al_test_items (id, n, payload) VALUES (?, ?, ?)",
			P(VINT(i), VINT(i * 10), i == 2 ? VNULL : VTEXT(i == 1 ? "one" : "three")));

	struct result r;
	query(&r, "SELECT id, n AS number, payload FROM al_test_items ORDER BY id", NULL, 0);
	assert_int_equal(r.nrows, 3);
	assert_int_equal(r.ncols, 3);
	assert_string_equal(r.names[0], "id");
	assert_string_equal(r.names[1], "number");
	assert_string_equal(r.names[2], "payload");
	for (size_t i = 0; i < 3; i++) {
		assert_value_equal(cell(&r, i, 0), &VINT((int64_t)i + 1));
		assert_value_equal(cell(&r, i, 1), &VINT(((int64_t)i + 1) * 10));
	}
	assert_value_equal(cell(&r, 0, 2), &VTEXT("one"));
	assert_value_equal(cell(&r, 1, 2), &VNULL);
	assert_value_equal(cell(&r, 2, 2), &VTEXT("three"));
	result_free(&r);

	/* No rows: the callback is never called. */
	query(&r, "SELECT id FROM al_test_items WHERE id > ?", P(VINT(100)));
	assert_int_equal(r.nrows, 0);
	result_free(&r);

	/* A row callback returning non-zero stops the statement with an error. */
	struct al_db_error err = {0};
	memset(&r, 0, sizeof r);
	r.stop_after = 1;
	assert_false(al_db_exec(db, "SELECT id FROM al_test_items ORDER BY id", NULL, 0, collect, &r, NULL, &err));
	assert_int_equal(err.code, AL_DB_ERROR);
	assert_string_equal(err.message, "aborted by caller");
	assert_int_equal(r.nrows, 1);
	result_free(&r);

	/* Wide rows (more columns than the drivers keep on the stack). */
	char sql[1024];
	size_t o = (size_t)snprintf(sql, sizeof sql, "SELECT ");
	for (int i = 0; i < 40; i++)
		o += (size_t)snprintf(sql + o, sizeof sql - o, "%s%d AS c%d", i ? ", " : "", i, i);
	query(&r, sql, NULL, 0);
	assert_int_equal(r.ncols, 40);
	assert_string_equal(r.names[39], "c39");
	assert_value_equal(cell(&r, 0, 39), &VINT(39));
	result_free(&r);

	struct al_db_error perr = {0};
	assert_true(al_db_ping(db, &perr));
}

static void test_changes(void **state)
{
	assert_int_equal(exec_ok("INSERT INTO al_test_items (id, n) VALUES (?, ?), (?, ?), (?, ?)",
				 P(VINT(1), VINT(1), VINT(2), VINT(2), VINT(3), VINT(3))),
			 3);
	assert_int_equal(exec_ok("UPDATE al_test_items SET payload = ? WHERE n >= ?", P(VTEXT("x"), VINT(2))), 2);
	assert_int_equal(exec_ok("UPDATE al_test_items SET payload = ? WHERE n > ?", P(VTEXT("x"), VINT(100))), 0);
	assert_int_equal(exec_ok("SELECT * FROM al_test_items", NULL, 0), 0);
	assert_int_equal(exec_ok("CREATE INDEX al_test_items_n ON al_test_items (n)", NULL, 0), 0);
	assert_int_equal(exec_ok("DELETE FROM al_test_items WHERE id = ?", P(VINT(1))), 1);
	assert_int_equal(exec_ok("DELETE FROM al_test_items", NULL, 0), 2);
	assert_int_equal(count_rows("al_test_items"), 0);
}

static void test_placeholder_count_mismatch(void **state)
{
	const char *sql = "SELECT n FROM al_test_items WHERE id = ?";
	struct al_db_error err = {0};

	assert_false(al_db_exec(db, sql, NULL, 0, NULL, NULL, NULL, &err));
	assert_int_equal(err.code, AL_DB_ERROR);
	assert_non_null(strstr(err.message, "parameter"));
	memset(&err, 0, sizeof err);
	assert_false(al_db_exec(db, sql, P(VINT(1), VINT(2)), NULL, NULL, NULL, &err));
	assert_int_equal(err.code, AL_DB_ERROR);
	assert_non_null(strstr(err.message, "parameter"));
	/* ? inside a string literal is not a placeholder */
	struct result r;
	query(&r, "SELECT '?' AS q, n FROM al_test_items WHERE id = ?", P(VINT(1)));
	assert_int_equal(r.nrows, 0);
	result_free(&r);
	/* the connection still works */
	assert_int_equal(exec_ok("INSERT INTO al_test_items (id) VALUES (?)", P(VINT(1))), 1);
}

static void test_constraint_violations(void **state)
{
	const char *ins = "INSERT INTO al_test_child (id, parent_id, name, qty, code) VALUES (?, ?, ?, ?, ?)";

	exec_ok("INSERT INTO al_test_parent (id, name) VALUES (?, ?)", P(VINT(1), VTEXT("p")));
	assert_int_equal(exec_ok(ins, P(VINT(1), VINT(1), VTEXT("a"), VINT(0), VTEXT("A"))), 1);

	assert_int_equal(exec_fails(ins, P(VINT(1), VINT(1), VTEXT("b"), VINT(0), VTEXT("B"))), AL_DB_UNIQUE);
	assert_int_equal(exec_fails(ins, P(VINT(2), VINT(1), VTEXT("b"), VINT(0), VTEXT("A"))), AL_DB_UNIQUE);
	assert_int_equal(exec_fails(ins, P(VINT(3), VINT(999), VTEXT("c"), VINT(0), VTEXT("C"))), AL_DB_FOREIGN_KEY);
	assert_int_equal(exec_fails(ins, P(VINT(4), VINT(1), VNULL, VINT(0), VTEXT("D"))), AL_DB_NOT_NULL);
	assert_int_equal(exec_fails(ins, P(VINT(5), VINT(1), VTEXT("e"), VINT(-1), VTEXT("E"))), AL_DB_CHECK);
	assert_int_equal(exec_fails("DELETE FROM al_test_parent WHERE id = ?", P(VINT(1))), AL_DB_FOREIGN_KEY);
	assert_int_equal(exec_fails("SELECT nope FROM al_test_child", NULL, 0), AL_DB_ERROR);
	assert_int_equal(exec_fails("SELEKT 1", NULL, 0), AL_DB_ERROR);

	assert_int_equal(count_rows("al_test_child"), 1);
	assert_int_equal(count_rows("al_test_parent"), 1);
}

static void test_transaction_commit(void **state)
{
	struct al_db_error err = {0};
	struct al_db *other = open_ok(&opts);

	assert_false(al_db_in_transaction(db));
	assert_true(al_db_begin(db, &err));
	assert_true(al_db_in_transaction(db));
	exec_ok("INSERT INTO al_test_items (id, n) VALUES (?, ?), (?, ?)", P(VINT(1), VINT(1), VINT(2), VINT(2)));
	assert_int_equal(count_rows("al_test_items"), 2);      /* visible inside */
	assert_int_equal(count_on(other, "al_test_items"), 0); /* not outside before COMMIT */
	assert_true(al_db_commit(db, &err));
	assert_false(al_db_in_transaction(db));
	assert_int_equal(count_on(other, "al_test_items"), 2);
	al_db_close(other);
}

static void test_transaction_rollback(void **state)
{
	struct al_db_error err = {0};

	assert_true(al_db_begin(db, &err));
	exec_ok("INSERT INTO al_test_items (id, n) VALUES (?, ?)", P(VINT(1), VINT(1)));
	assert_true(al_db_rollback(db, &err));
	assert_false(al_db_in_transaction(db));
	assert_int_equal(count_rows("al_test_items"), 0);
}

static void test_transaction_failure_leaves_nothing(void **state)
{
	struct al_db_error err = {0};

	assert_true(al_db_begin(db, &err));
	exec_ok("INSERT INTO al_test_items (id, n) VALUES (?, ?)", P(VINT(1), VINT(1)));
	exec_ok("INSERT INTO al_test_items (id, n) VALUES (?, ?)", P(VINT(2), VINT(2)));
	assert_int_equal(exec_fails("INSERT INTO al_test_items (id, n) VALUES (?, ?)", P(VINT(1), VINT(3))),
			 AL_DB_UNIQUE);
	assert_true(al_db_in_transaction(db));
	assert_true(al_db_rollback(db, &err));
	assert_int_equal(count_rows("al_test_items"), 0);
}

static void test_transaction_nesting_and_misuse(void **state)
{
	struct al_db_error err = {0};

	assert_false(al_db_commit(db, &err));
	assert_int_equal(err.code, AL_DB_ERROR);
	assert_false(al_db_rollback(db, &err));
	assert_int_equal(err.code, AL_DB_ERROR);

	assert_true(al_db_begin(db, &err));
	memset(&err, 0, sizeof err);
	assert_false(al_db_begin(db, &err));
	assert_int_equal(err.code, AL_DB_ERROR);
	assert_true(err.message[0] != '\0');
	assert_true(al_db_in_transaction(db)); /* the outer one is still open */
	exec_ok("INSERT INTO al_test_items (id, n) VALUES (?, ?)", P(VINT(1), VINT(1)));
	assert_true(al_db_rollback(db, &err));
	assert_int_equal(count_rows("al_test_items"), 0);
}

/* A deferred foreign key fails at COMMIT; nothing of the transaction stays. */
static void test_transaction_deferred_foreign_key(void **state)
{
	struct al_db_error err = {0};

	assert_true(al_db_begin(db, &err));
	exec_ok("INSERT INTO al_test_child (id, later_id, name, qty) VALUES (?, ?, ?, ?)",
		P(VINT(1), VINT(999), VTEXT("orphan"), VINT(1)));
	memset(&err, 0, sizeof err);
	assert_false(al_db_commit(db, &err));
	assert_int_equal(err.code, AL_DB_FOREIGN_KEY);
	assert_false(al_db_in_transaction(db));
	assert_int_equal(count_rows("al_test_child"), 0);
	/* usable afterwards */
	exec_ok("INSERT INTO al_test_parent (id) VALUES (?)", P(VINT(999)));
	exec_ok("INSERT INTO al_test_child (id, later_id, name, qty) VALUES (?, ?, ?, ?)",
		P(VINT(1), VINT(999), VTEXT("child"), VINT(1)));
	assert_int_equal(count_rows("al_test_child"), 1);
}

static void test_statement_cache(void **state)
{
	enum { DISTINCT = 500, ROWS = 10 };
	char sql[128];

	for (int i = 1; i <= ROWS; i++)
		exec_ok("INSERT INTO al_test_items (id, n) VALUES (?, ?)", P(VINT(i), VINT(i)));
	for (int pass = 0; pass < 3; pass++) {
		for (int k = 0; k < DISTINCT; k++) {
			int kk = pass == 1 ? DISTINCT - 1 - k : k; /* forwards, backwards, forwards */
			int64_t id = kk % ROWS + 1;
			snprintf(sql, sizeof sql, "SELECT n + %d FROM al_test_items WHERE id = ?", kk);
			assert_int_equal(scalar_int_on(db, sql, P(VINT(id))), id + kk);
		}
	}
	for (int i = 0; i < 1000; i++) /* one hot statement, re-used */
		assert_int_equal(scalar_int_on(db, "SELECT n FROM al_test_items WHERE id = ?", P(VINT(i % ROWS + 1))),
				 i % ROWS + 1);
}

/* Cached statements must not outlive a schema change made by a script. */
static void test_script_resets_statement_cache(void **state)
{
	struct result r;

	script_ok(db, ddl("DROP TABLE IF EXISTS al_test_script; CREATE TABLE al_test_script (a $I, b TEXT)"));
	exec_ok("INSERT INTO al_test_script (a, b) VALUES (?, ?)", P(VINT(1), VTEXT("x")));
	query(&r, "SELECT * FROM al_test_script", NULL, 0);
	assert_int_equal(r.ncols, 2);
	result_free(&r);

	script_ok(db, "ALTER TABLE al_test_script ADD COLUMN c TEXT");
	query(&r, "SELECT * FROM al_test_script", NULL, 0);
	assert_int_equal(r.ncols, 3);
	assert_string_equal(r.names[2], "c");
	assert_value_equal(cell(&r, 0, 0), &VINT(1));
	assert_value_equal(cell(&r, 0, 2), &VNULL);
	result_free(&r);

	script_ok(db, "DROP TABLE al_test_script; CREATE TABLE al_test_script (z TEXT)");
	exec_ok("INSERT INTO al_test_script (z) VALUES (?)", P(VTEXT("q")));
	query(&r, "SELECT * FROM al_test_script", NULL, 0);
	assert_int_equal(r.ncols, 1);
	assert_string_equal(r.names[0], "z");
	assert_value_equal(cell(&r, 0, 0), &VTEXT("q"));
	result_free(&r);

	/* Script errors carry codes too. */
	struct al_db_error err = {0};
	assert_false(al_db_exec_script(db,
				       "INSERT INTO al_test_parent (id) VALUES (7); "
				       "INSERT INTO al_test_parent (id) VALUES (7)",
				       &err));
	assert_int_equal(err.code, AL_DB_UNIQUE);
	assert_false(al_db_exec_script(db, "CREATE TABLE", &err));
	assert_int_equal(err.code, AL_DB_ERROR);
}

/* ---- SQLite only ------------------------------------------------------------------------- */

#define SQLITE_ONLY()                                                                                                  \
	do {                                                                                                           \
		if (!is_sqlite)                                                                                        \
			skip();                                                                                        \
	} while (0)

static void test_sqlite_pragmas(void **state)
{
	SQLITE_ONLY();
	char text[32];
	scalar_text("PRAGMA journal_mode", text, sizeof text);
	assert_string_equal(text, "wal");
	assert_int_equal(scalar_int_on(db, "PRAGMA foreign_keys", NULL, 0), 1);
	assert_int_equal(scalar_int_on(db, "PRAGMA synchronous", NULL, 0), 1); /* NORMAL */
	assert_int_equal(scalar_int_on(db, "PRAGMA busy_timeout", NULL, 0), 200);

	char wal[160];
	snprintf(wal, sizeof wal, "%s-wal", db_path);
	assert_int_equal(access(wal, F_OK), 0);
}

static void expect_readonly(const char *path, const char *why)
{
	struct al_db_options o = opts;
	struct al_db_error err = {0};
	o.sqlite_path = path;
	struct al_db *c = al_db_open(&o, &err);
	if (c) {
		al_db_close(c);
		fail_msg("%s: opened, expected AL_DB_READONLY", path);
	}
	if (err.code != AL_DB_READONLY || !strstr(err.message, path) || !strstr(err.message, "cannot be written") ||
	    !strstr(err.message, why))
		fail_msg("%s: got %s: %s", path, al_db_code_name(err.code), err.message);
}

static void test_sqlite_unwritable_paths(void **state)
{
	SQLITE_ONLY();
	char file[160], path[200];

	/* Fails as root too: a regular file where the directory should be. */
	snprintf(file, sizeof file, "%s/a_file", tmpdir);
	int fd = open(file, O_CREAT | O_WRONLY, 0644);
	assert_true(fd >= 0);
	close(fd);
	snprintf(path, sizeof path, "%s/agentlens.db", file);
	expect_readonly(path, "is not a directory");

	snprintf(path, sizeof path, "%s/missing/agentlens.db", tmpdir);
	expect_readonly(path, "does not exist");

	if (geteuid() == 0) /* permission bits do not stop root */
		return;
	char dir[160];
	snprintf(dir, sizeof dir, "%s/ro", tmpdir);
	assert_int_equal(mkdir(dir, 0755), 0);
	snprintf(path, sizeof path, "%s/agentlens.db", dir);
	assert_int_equal(chmod(dir, 0555), 0);
	expect_readonly(path, "is not writable");
	/* an existing database in a directory that became read-only (no -wal can be made) */
	assert_int_equal(chmod(dir, 0755), 0);
	struct al_db_options o = opts;
	o.sqlite_path = path;
	al_db_close(open_ok(&o));
	assert_int_equal(chmod(dir, 0555), 0);
	expect_readonly(path, "is not writable");
	/* a read-only file in a writable directory */
	assert_int_equal(chmod(dir, 0755), 0);
	assert_int_equal(chmod(path, 0444), 0);
	expect_readonly(path, "not writable");
	chmod(path, 0644);
}

static void test_sqlite_busy(void **state)
{
	SQLITE_ONLY();
	struct al_db_error err = {0};
	struct al_db *other = open_ok(&opts);

	assert_true(al_db_begin(other, &err)); /* BEGIN IMMEDIATE: holds the write lock */
	double t0 = now_ms();
	assert_int_equal(exec_fails("INSERT INTO al_test_items (id) VALUES (?)", P(VINT(1))), AL_DB_BUSY);
	double waited = now_ms() - t0;
	assert_true(waited >= 150 && waited < 3000);

	memset(&err, 0, sizeof err);
	assert_false(al_db_begin(db, &err));
	assert_int_equal(err.code, AL_DB_BUSY);
	assert_false(al_db_in_transaction(db));
	assert_int_equal(count_rows("al_test_items"), 0); /* readers are not blocked (WAL) */

	/* opening a connection does not wait for the write lock (its write probe accepts BUSY) */
	t0 = now_ms();
	struct al_db *third = open_ok(&opts);
	assert_true(now_ms() - t0 < 150);
	assert_int_equal(count_on(third, "al_test_items"), 0);
	al_db_close(third);

	assert_true(al_db_rollback(other, &err));
	assert_int_equal(exec_ok("INSERT INTO al_test_items (id) VALUES (?)", P(VINT(1))), 1);
	al_db_close(other);
}

/* A row callback that runs the statement it is called from, and another one. */
struct nested {
	struct al_db *db;
	int64_t sum;
	bool failed;
};

static int nested_row(void *ud, size_t ncols, const char *const *names, const struct al_db_value *values)
{
	struct nested *n = ud;
	struct al_db_error err;
	struct result r = {0};
	if (!al_db_exec(n->db, "SELECT id FROM al_test_items ORDER BY id", NULL, 0, collect, &r, NULL, &err) ||
	    r.nrows != 3 ||
	    !al_db_exec(n->db, "UPDATE al_test_items SET payload = ? WHERE id = ?", P(VTEXT("seen"), values[0]), NULL,
			NULL, NULL, &err))
		n->failed = true;
	result_free(&r);
	n->sum += values[0].v.i;
	return 0;
}

static void test_sqlite_nested_statements(void **state)
{
	SQLITE_ONLY();
	struct al_db_error err = {0};
	struct nested n = {.db = db};

	for (int i = 1; i <= 3; i++)
		exec_ok("INSERT INTO al_test_items (id) VALUES (?)", P(VINT(i)));
	assert_true(al_db_exec(db, "SELECT id FROM al_test_items ORDER BY id", NULL, 0, nested_row, &n, NULL, &err));
	assert_false(n.failed);
	assert_int_equal(n.sum, 6);
	assert_int_equal(scalar_int_on(db, "SELECT count(*) FROM al_test_items WHERE payload = 'seen'", NULL, 0), 3);
	assert_int_equal(scalar_int_on(db, "SELECT count(*) FROM al_test_items", NULL, 0), 3);
}

static void test_sqlite_one_statement_per_exec(void **state)
{
	SQLITE_ONLY();
	assert_int_equal(exec_fails("INSERT INTO al_test_items (id) VALUES (1); DELETE FROM al_test_items", NULL, 0),
			 AL_DB_ERROR);
	assert_int_equal(count_rows("al_test_items"), 0);
	exec_ok("INSERT INTO al_test_items (id) VALUES (1); -- a trailing comment", NULL, 0);
	assert_int_equal(exec_fails("", NULL, 0), AL_DB_ERROR);
	assert_int_equal(exec_fails("-- only a comment", NULL, 0), AL_DB_ERROR);
	assert_int_equal(count_rows("al_test_items"), 1);
}

/* Writes pairs of rows, one transaction per pair, until told to stop. */
struct writer {
	atomic_int pairs;
	atomic_bool stop, failed;
	char error[600]; /* read after failed is set, or after the join */
};

enum { WRITER_MAX_PAIRS = 3000 };

static void *writer_main(void *arg)
{
	struct writer *w = arg;
	struct al_db_error err = {0};
	struct al_db *c = al_db_open(&opts, &err);
	char payload[1024];

	memset(payload, 'p', sizeof payload);
	if (!c) {
		snprintf(w->error, sizeof w->error, "open: %s", err.message);
		atomic_store(&w->failed, true);
		return NULL;
	}
	for (int i = 0; i < WRITER_MAX_PAIRS && !atomic_load(&w->stop); i++) {
		struct al_db_value a[] = {VINT(2 * i + 1), VBYTES(AL_DB_TEXT, payload, sizeof payload)};
		struct al_db_value b[] = {VINT(2 * i + 2), VBYTES(AL_DB_TEXT, payload, sizeof payload)};
		const char *sql = "INSERT INTO al_test_items (id, payload) VALUES (?, ?)";
		if (!al_db_begin(c, &err) || !al_db_exec(c, sql, a, 2, NULL, NULL, NULL, &err) ||
		    !al_db_exec(c, sql, b, 2, NULL, NULL, NULL, &err) || !al_db_commit(c, &err)) {
			snprintf(w->error, sizeof w->error, "pair %d: %s", i, err.message);
			atomic_store(&w->failed, true);
			break;
		}
		atomic_fetch_add(&w->pairs, 1);
	}
	al_db_close(c);
	return NULL;
}

static void test_sqlite_backup_while_writing(void **state)
{
	SQLITE_ONLY();
	struct writer w = {0};
	struct al_db_error err = {0};
	pthread_t thread;
	char dst[160];

	snprintf(dst, sizeof dst, "%s/backup.db", tmpdir);
	assert_int_equal(pthread_create(&thread, NULL, writer_main, &w), 0);
	while (atomic_load(&w.pairs) < 100 && !atomic_load(&w.failed))
		usleep(1000);
	int before = atomic_load(&w.pairs);
	bool ok = al_db_sqlite_backup(db_path, dst, &err);
	int after = atomic_load(&w.pairs);
	atomic_store(&w.stop, true);
	pthread_join(thread, NULL);
	if (w.error[0])
		fail_msg("writer: %s", w.error);
	if (!ok)
		fail_msg("backup: %s (%s)", err.message, al_db_code_name(err.code));

	/* one self-contained file: no WAL flag in the header (bytes 18-19 are 1 for rollback mode) */
	unsigned char header[100];
	int fd = open(dst, O_RDONLY);
	assert_true(fd >= 0);
	assert_int_equal(read(fd, header, sizeof header), (ssize_t)sizeof header);
	close(fd);
	assert_memory_equal(header, "SQLite format 3", 16);
	assert_int_equal(header[18], 1);
	assert_int_equal(header[19], 1);
	char tmp[200];
	snprintf(tmp, sizeof tmp, "%s.tmp", dst);
	assert_int_equal(access(tmp, F_OK), -1);

	struct al_db_options o = opts;
	o.sqlite_path = dst;
	struct al_db *copy = open_ok(&o);
	struct result r;
	query_on(copy, &r, "PRAGMA integrity_check", NULL, 0);
	assert_int_equal(r.nrows, 1);
	assert_value_equal(cell(&r, 0, 0), &VTEXT("ok"));
	result_free(&r);
	/* a consistent prefix: whole pairs, ids 1..count with no gap */
	query_on(copy, &r, "SELECT count(*), coalesce(min(id), 0), coalesce(max(id), 0) FROM al_test_items", NULL, 0);
	int64_t count = cell(&r, 0, 0)->v.i, min = cell(&r, 0, 1)->v.i, max = cell(&r, 0, 2)->v.i;
	result_free(&r);
	al_db_close(copy);
	assert_true(count % 2 == 0);
	assert_true(count >= 2 * (int64_t)before && count <= 2 * (int64_t)after);
	assert_int_equal(min, 1);
	assert_int_equal(max, count);
	print_message("backup: %lld rows copied while the writer went from %d to %d pairs\n", (long long)count, before,
		      after);
}

static void test_sqlite_backup_refusals_and_overwrite(void **state)
{
	SQLITE_ONLY();
	struct al_db_error err = {0};
	char dst[160], missing[200], tmp[256];

	exec_ok("INSERT INTO al_test_items (id) VALUES (?)", P(VINT(1)));

	assert_false(al_db_sqlite_backup(db_path, db_path, &err));
	assert_int_equal(err.code, AL_DB_ERROR);

	snprintf(missing, sizeof missing, "%s/nope.db", tmpdir);
	snprintf(dst, sizeof dst, "%s/b2.db", tmpdir);
	assert_false(al_db_sqlite_backup(missing, dst, &err));
	assert_int_equal(access(dst, F_OK), -1);

	snprintf(missing, sizeof missing, "%s/no_dir/b.db", tmpdir);
	assert_false(al_db_sqlite_backup(db_path, missing, &err));
	snprintf(tmp, sizeof tmp, "%s.tmp", missing);
	assert_int_equal(access(tmp, F_OK), -1);

	/* an existing file is replaced */
	int fd = open(dst, O_CREAT | O_WRONLY | O_TRUNC, 0644);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "junk", 4), 4);
	close(fd);
	if (!al_db_sqlite_backup(db_path, dst, &err))
		fail_msg("backup: %s", err.message);
	struct al_db_options o = opts;
	o.sqlite_path = dst;
	struct al_db *copy = open_ok(&o);
	assert_int_equal(count_on(copy, "al_test_items"), 1);
	al_db_close(copy);

	/* but not a database that has a -wal file (open, or not cleanly closed) */
	char wal[200];
	snprintf(wal, sizeof wal, "%s-wal", dst);
	fd = open(wal, O_CREAT | O_WRONLY, 0644);
	assert_true(fd >= 0);
	close(fd);
	assert_false(al_db_sqlite_backup(db_path, dst, &err));
	assert_non_null(strstr(err.message, "-wal"));
	unlink(wal);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_round_trip_every_type, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_rows_and_column_names, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_changes, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_placeholder_count_mismatch, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_constraint_violations, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_transaction_commit, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_transaction_rollback, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_transaction_failure_leaves_nothing, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_transaction_nesting_and_misuse, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_transaction_deferred_foreign_key, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_statement_cache, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_script_resets_statement_cache, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_sqlite_pragmas, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_sqlite_unwritable_paths, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_sqlite_busy, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_sqlite_nested_statements, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_sqlite_one_statement_per_exec, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_sqlite_backup_while_writing, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_sqlite_backup_refusals_and_overwrite, setup, teardown),
	};
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
