/* SPDX-License-Identifier: Apache-2.0 */
/* PostgreSQL-specific tests of the database layer (src/db/pg.c): placeholder rewriting, result
 * typing, the statement cache, statement_timeout, losing and regaining the server. Run through
 * spec/support/with-pg-env.sh, which points AGENTLENS_DB_* at a fresh database. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "core/clock.h"
#include "core/config.h"
#include "db/db.h"

extern char **environ;

/* ---- helpers ---------------------------------------------------------------------------- */

/* Opens a connection from the environment, overriding it with the NAME=VALUE settings in
 * extra (NULL-terminated, may be NULL). */
static struct al_db *open_env2(char *const *extra)
{
	char *env[512];
	size_t n = 0;
	for (size_t i = 0; extra && extra[i]; i++)
		env[n++] = extra[i];
	for (char **e = environ; *e && n < 511; e++) {
		bool overridden = false;
		for (size_t i = 0; extra && extra[i]; i++) {
			size_t len = strcspn(extra[i], "=") + 1;
			overridden |= strncmp(*e, extra[i], len) == 0;
		}
		if (!overridden)
			env[n++] = *e;
	}
	env[n] = NULL;

	struct al_config cfg = {0};
	struct al_config_error cerr = {{0}};
	if (!al_config_load(&cfg, NULL, env, 0, NULL, &cerr))
		fail_msg("config: %s", cerr.message);
	assert_int_equal(cfg.db_dialect, AL_DB_POSTGRES);
	struct al_db_options opts;
	al_db_options_from_config(&opts, &cfg);
	struct al_db_error err = {0};
	struct al_db *db = al_db_open(&opts, &err);
	if (!db)
		fail_msg("open: %s", err.message);
	al_config_free(&cfg); /* libpq copied what it needs */
	return db;
}

static struct al_db *open_env(const char *extra)
{
	char *const one[] = {(char *)extra, NULL};
	return open_env2(extra ? one : NULL);
}

static void exec_ok(struct al_db *db, const char *sql)
{
	struct al_db_error err = {0};
	if (!al_db_exec(db, sql, NULL, 0, NULL, NULL, NULL, &err))
		fail_msg("%s: %s", sql, err.message);
}

static void script_ok(struct al_db *db, const char *sql)
{
	struct al_db_error err = {0};
	if (!al_db_exec_script(db, sql, &err))
		fail_msg("%s: %s", sql, err.message);
}

/* Copies of the first row's values, as a row callback collects them. */
struct row {
	int rows;
	size_t ncols;
	char names[8][64];
	struct al_db_value v[8];
	char text[8][256];
};

static int collect(void *ud, size_t ncols, const char *const *names, const struct al_db_value *values)
{
	struct row *r = ud;
	if (r->rows++ > 0)
		return 0;
	r->ncols = ncols;
	for (size_t i = 0; i < ncols && i < 8; i++) {
		snprintf(r->names[i], sizeof r->names[i], "%s", names[i]);
		r->v[i] = values[i];
		if (values[i].type == AL_DB_TEXT || values[i].type == AL_DB_BLOB) {
			size_t len = values[i].v.s.len < sizeof r->text[i] ? values[i].v.s.len : sizeof r->text[i] - 1;
			memcpy(r->text[i], values[i].v.s.p, len);
			r->text[i][len] = '\0';
			r->v[i].v.s.p = NULL; /* the copy is r->text[i]: r moves */
		}
	}
	return 0;
}

/* Runs sql with params and returns its first row; fails the test on error. */
static struct row query(struct al_db *db, const char *sql, const struct al_db_value *params, size_t n)
{
	struct row r;
	memset(&r, 0, sizeof r);
	struct al_db_error err = {0};
	if (!al_db_exec(db, sql, params, n, collect, &r, NULL, &err))
		fail_msg("%s: %s", sql, err.message);
	return r;
}

static int64_t query_int(struct al_db *db, const char *sql)
{
	struct row r = query(db, sql, NULL, 0);
	assert_int_equal(r.rows, 1);
	assert_int_equal(r.v[0].type, AL_DB_INT);
	return r.v[0].v.i;
}

/* Column i of r is TEXT equal to want. */
static void assert_text(const struct row *r, int i, const char *want)
{
	assert_int_equal(r->v[i].type, AL_DB_TEXT);
	assert_int_equal(r->v[i].v.s.len, strlen(want));
	assert_string_equal(r->text[i], want);
}

static struct al_db_value text(const char *s)
{
	return (struct al_db_value){.type = AL_DB_TEXT, .v.s = {s, strlen(s)}};
}

static struct al_db_value integer(int64_t i)
{
	return (struct al_db_value){.type = AL_DB_INT, .v.i = i};
}

static int64_t ms_since(int64_t start_ns)
{
	return (al_monotonic_ns() - start_ns) / 1000000;
}

static void sleep_ms(int ms)
{
	struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000};
	nanosleep(&ts, NULL);
}

/* Retries ping until it succeeds or timeout_ms elapse; returns whether it did. */
static bool ping_within(struct al_db *db, int timeout_ms)
{
	int64_t start = al_monotonic_ns();
	struct al_db_error err = {0};
	while (!al_db_ping(db, &err)) {
		assert_int_equal(err.code, AL_DB_UNAVAILABLE);
		if (ms_since(start) > timeout_ms)
			return false;
		sleep_ms(20);
	}
	return true;
}

/* Terminates the backend with this pid from another connection and waits until it is gone. */
static void terminate_from(struct al_db *other, int64_t pid)
{
	struct al_db_value p = integer(pid);
	struct row r = query(other, "SELECT pg_terminate_backend(?::int)", &p, 1);
	assert_true(r.v[0].type == AL_DB_BOOL && r.v[0].v.b);
	for (int i = 0; i < 500; i++) {
		r = query(other, "SELECT count(*) FROM pg_stat_activity WHERE pid = ?::int", &p, 1);
		if (r.v[0].v.i == 0)
			return;
		sleep_ms(10);
	}
	fail_msg("backend %lld did not exit", (long long)pid);
}

static int setup(void **state)
{
	*state = open_env(NULL);
	return 0;
}

static int teardown(void **state)
{
	al_db_close(*state);
	return 0;
}

/* ---- placeholders ----------------------------------------------------------------------- */

static void test_placeholders_skip_quotes_and_comments(void **state)
{
	struct al_db *db = *state;
	struct al_db_value p[2] = {text("a"), text("b")};

	struct row r = query(db, "SELECT ?, '?', ?", p, 2);
	assert_int_equal(r.ncols, 3);
	assert_text(&r, 0, "a");
	assert_text(&r, 1, "?");
	assert_text(&r, 2, "b");

	r = query(db,
		  "SELECT ? AS \"what?\", -- a comment? yes\n"
		  " /* block ? /* nested ? */ still ? */ 'it''s ?' AS q, E'\\'?' AS e, $$dollar ?$$ AS d,"
		  " $tag$ ? $ ? $tag$ AS t, ? AS last",
		  p, 2);
	assert_int_equal(r.ncols, 6);
	assert_string_equal(r.names[0], "what?");
	assert_text(&r, 0, "a");
	assert_text(&r, 1, "it's ?");
	assert_text(&r, 2, "'?");
	assert_text(&r, 3, "dollar ?");
	assert_text(&r, 4, " ? $ ? ");
	assert_text(&r, 5, "b");

	/* ?? is a literal ? (the jsonb operators) */
	struct al_db_value k = text("x");
	r = query(db, "SELECT '{\"x\": 1}'::jsonb ?? ?", &k, 1);
	assert_int_equal(r.v[0].type, AL_DB_BOOL);
	assert_true(r.v[0].v.b);

	/* a count mismatch is reported before anything reaches the server */
	struct al_db_error err = {0};
	assert_false(al_db_exec(db, "SELECT ?, ?", p, 1, NULL, NULL, NULL, &err));
	assert_int_equal(err.code, AL_DB_ERROR);
	assert_non_null(strstr(err.message, "2 placeholders but 1 parameters"));
}

/* ---- typing -------------------------------------------------------------------------------- */

static void test_parameter_and_result_types(void **state)
{
	struct al_db *db = *state;
	struct al_db_value p[5] = {
	    integer(-9007199254740993LL),
	    {.type = AL_DB_FLOAT, .v.f = 0.1},
	    {.type = AL_DB_BOOL, .v.b = true},
	    {.type = AL_DB_NULL},
	    text("héllo"),
	};
	struct row r = query(db, "SELECT ?, ?, ?, ?::text, ?", p, 5);
	assert_int_equal(r.v[0].type, AL_DB_INT);
	assert_true(r.v[0].v.i == -9007199254740993LL);
	assert_int_equal(r.v[1].type, AL_DB_FLOAT);
	assert_true(r.v[1].v.f == 0.1);
	assert_int_equal(r.v[2].type, AL_DB_BOOL);
	assert_true(r.v[2].v.b);
	assert_int_equal(r.v[3].type, AL_DB_NULL);
	assert_text(&r, 4, "héllo");

	r = query(db, "SELECT 1::int2, 2::int4, 3::int8, 4::oid, 1.5::float4, 2.5::float8, false", NULL, 0);
	for (int i = 0; i < 4; i++) {
		assert_int_equal(r.v[i].type, AL_DB_INT);
		assert_int_equal(r.v[i].v.i, i + 1);
	}
	assert_int_equal(r.v[4].type, AL_DB_FLOAT);
	assert_true(r.v[4].v.f == 1.5);
	assert_true(r.v[5].v.f == 2.5);
	assert_int_equal(r.v[6].type, AL_DB_BOOL);
	assert_false(r.v[6].v.b);

	/* text parameters are typed by the server from their use */
	script_ok(db, "CREATE TABLE typed (id int PRIMARY KEY, at timestamptz, doc jsonb, u uuid, n numeric)");
	struct al_db_value ins[5] = {integer(1), text("2026-12-04T16:26:10.5+01:00"), text("{\"a\": [1, 2]}"),
				     text("6f1c2d3e-0000-4000-8000-00000000abcd"), text("12.50")};
	struct al_db_error err = {0};
	int64_t changes = -1;
	assert_true(al_db_exec(db, "INSERT INTO typed VALUES (?, ?, ?, ?, ?)", ins, 5, NULL, NULL, &changes, &err));
	assert_int_equal(changes, 1);
	r = query(db, "SELECT at, doc, u, n FROM typed", NULL, 0);
	assert_text(&r, 0, "2026-12-04T15:26:10.500Z");
	assert_text(&r, 1, "{\"a\": [1, 2]}");
	assert_text(&r, 2, "6f1c2d3e-0000-4000-8000-00000000abcd");
	assert_int_equal(r.v[3].type, AL_DB_FLOAT);
	assert_true(r.v[3].v.f == 12.5);
}

static void test_timestamps_rfc3339_utc_millis(void **state)
{
	struct al_db *db = *state;
	struct row r =
	    query(db,
		  "SELECT '2026-12-04 16:26:10.123456+00'::timestamptz, '2026-12-04 16:26:10.9999'::timestamp,"
		  " '2026-12-04 16:26:10'::timestamptz, '2026-12-04 18:26:10.5+02'::timestamptz,"
		  " 'infinity'::timestamptz, '1999-01-02 03:04:05.06'::timestamp",
		  NULL, 0);
	assert_text(&r, 0, "2026-12-04T16:26:10.123Z"); /* truncated, not rounded */
	assert_text(&r, 1, "2026-12-04T16:26:10.999Z");
	assert_text(&r, 2, "2026-12-04T16:26:10.000Z");
	assert_text(&r, 3, "2026-12-04T16:26:10.500Z");
	assert_text(&r, 4, "infinity");
	assert_text(&r, 5, "1999-01-02T03:04:05.060Z");

	/* a session that changed its time zone still gets UTC */
	exec_ok(db, "SET TimeZone = 'Asia/Kolkata'");
	r = query(db, "SELECT '2026-12-04 16:26:10.123+00'::timestamptz", NULL, 0);
	assert_text(&r, 0, "2026-12-04T16:26:10.123Z");
	exec_ok(db, "SET TimeZone = 'UTC'");
}

static void test_numeric_integral_or_fractional(void **state)
{
	struct al_db *db = *state;
	struct row r =
	    query(db,
		  "SELECT 42::numeric, -7::numeric, 1.5::numeric, 2.00::numeric, 12345678901234567890::numeric,"
		  " 'NaN'::numeric, (SELECT sum(x) FROM generate_series(1, 4) x), (SELECT avg(x) FROM "
		  "generate_series(1, 3) x)",
		  NULL, 0);
	assert_int_equal(r.v[0].type, AL_DB_INT);
	assert_int_equal(r.v[0].v.i, 42);
	assert_int_equal(r.v[1].type, AL_DB_INT);
	assert_int_equal(r.v[1].v.i, -7);
	assert_int_equal(r.v[2].type, AL_DB_FLOAT);
	assert_true(r.v[2].v.f == 1.5);
	assert_int_equal(r.v[3].type, AL_DB_FLOAT); /* written with a fraction: a scaled column stays FLOAT */
	assert_true(r.v[3].v.f == 2.0);
	assert_int_equal(r.v[4].type, AL_DB_FLOAT); /* beyond int64 */
	assert_true(r.v[4].v.f == 12345678901234567890.0);
	assert_int_equal(r.v[5].type, AL_DB_FLOAT);
	assert_true(r.v[5].v.f != r.v[5].v.f);
	assert_int_equal(r.v[6].type, AL_DB_INT); /* sum(int) is numeric in PostgreSQL */
	assert_int_equal(r.v[6].v.i, 10);
	assert_int_equal(r.v[7].type, AL_DB_FLOAT); /* avg always has a fraction */
	assert_true(r.v[7].v.f == 2.0);
}

/* Keeps a copy of the first column of the first row (a blob of any size). */
struct blob {
	int rows;
	enum al_db_type type;
	size_t len;
	unsigned char b[512];
};

static int collect_blob(void *ud, size_t ncols, const char *const *names, const struct al_db_value *values)
{
	struct blob *x = ud;
	if (x->rows++ == 0) {
		x->type = values[0].type;
		x->len = values[0].v.s.len;
		if (x->type == AL_DB_BLOB && x->len <= sizeof x->b)
			memcpy(x->b, values[0].v.s.p, x->len);
	}
	return 0;
}

static void test_bytea_binary_round_trip(void **state)
{
	struct al_db *db = *state;
	unsigned char bytes[256];
	for (int i = 0; i < 256; i++)
		bytes[i] = (unsigned char)(255 - i); /* every byte value, NUL last */
	script_ok(db, "CREATE TABLE blobs (id int PRIMARY KEY, b bytea)");
	struct al_db_value p[2] = {integer(1), {.type = AL_DB_BLOB, .v.s = {(const char *)bytes, sizeof bytes}}};
	struct al_db_error err = {0};
	assert_true(al_db_exec(db, "INSERT INTO blobs VALUES (?, ?)", p, 2, NULL, NULL, NULL, &err));
	p[0] = integer(2);
	p[1].v.s.p = NULL; /* an empty blob is not NULL */
	p[1].v.s.len = 0;
	assert_true(al_db_exec(db, "INSERT INTO blobs VALUES (?, ?)", p, 2, NULL, NULL, NULL, &err));

	struct blob x = {0};
	assert_true(al_db_exec(db, "SELECT b FROM blobs WHERE id = 1", NULL, 0, collect_blob, &x, NULL, &err));
	assert_int_equal(x.type, AL_DB_BLOB);
	assert_int_equal(x.len, 256);
	assert_memory_equal(x.b, bytes, 256);

	memset(&x, 0, sizeof x);
	assert_true(al_db_exec(db, "SELECT b FROM blobs WHERE id = 2", NULL, 0, collect_blob, &x, NULL, &err));
	assert_int_equal(x.type, AL_DB_BLOB);
	assert_int_equal(x.len, 0);

	/* the server saw the exact bytes */
	struct al_db_value want = {.type = AL_DB_BLOB, .v.s = {(const char *)bytes, sizeof bytes}};
	struct row r = query(db, "SELECT length(b), b = ?, get_byte(b, 255) FROM blobs WHERE id = 1", &want, 1);
	assert_int_equal(r.v[0].v.i, 256);
	assert_true(r.v[1].v.b);
	assert_int_equal(r.v[2].v.i, 0);

	/* text parameters cannot carry NUL (PostgreSQL text cannot) */
	struct al_db_value nul = {.type = AL_DB_TEXT, .v.s = {"a\0b", 3}};
	assert_false(al_db_exec(db, "SELECT ?", &nul, 1, NULL, NULL, NULL, &err));
	assert_int_equal(err.code, AL_DB_ERROR);
}

/* ---- the statement cache ------------------------------------------------------------------- */

static void test_statement_cache_reuse_and_schema_change(void **state)
{
	struct al_db *db = *state;
	script_ok(db, "CREATE TABLE cache_t (id int PRIMARY KEY, a text)");
	struct al_db_error err = {0};
	for (int i = 0; i < 500; i++) {
		struct al_db_value p[2] = {integer(i), text("v")};
		if (!al_db_exec(db, "INSERT INTO cache_t (id, a) VALUES (?, ?)", p, 2, NULL, NULL, NULL, &err))
			fail_msg("insert %d: %s", i, err.message);
	}
	/* one server-side prepared statement for the 500 inserts (plus this query's own) */
	int64_t n =
	    query_int(db, "SELECT count(*) FROM pg_prepared_statements WHERE statement LIKE 'INSERT INTO cache_t%'");
	assert_int_equal(n, 1);
	struct row r = query(db, "SELECT * FROM cache_t WHERE id = 7", NULL, 0);
	assert_int_equal(r.ncols, 2);

	/* a schema change through exec_script drops the cache: SELECT * sees the new column */
	script_ok(db, "ALTER TABLE cache_t ADD COLUMN b int DEFAULT 5");
	r = query(db, "SELECT * FROM cache_t WHERE id = 7", NULL, 0);
	assert_int_equal(r.ncols, 3);
	assert_int_equal(r.v[2].v.i, 5);

	/* a change made by another connection: "cached plan must not change result type" is retried */
	struct al_db *other = open_env(NULL);
	script_ok(other, "ALTER TABLE cache_t ADD COLUMN c text DEFAULT 'c'");
	r = query(db, "SELECT * FROM cache_t WHERE id = 7", NULL, 0);
	assert_int_equal(r.ncols, 4);
	assert_text(&r, 3, "c");

	/* statements the server forgot (DEALLOCATE ALL behind the cache's back) are prepared again */
	exec_ok(db, "DEALLOCATE ALL");
	r = query(db, "SELECT * FROM cache_t WHERE id = 7", NULL, 0);
	assert_int_equal(r.ncols, 4);
	al_db_close(other);

	/* more distinct statements than the cache holds: old ones are evicted and deallocated */
	char sql[64];
	for (int i = 0; i < 300; i++) {
		snprintf(sql, sizeof sql, "SELECT %d AS n", i);
		assert_int_equal(query_int(db, sql), i);
	}
	n = query_int(db, "SELECT count(*) FROM pg_prepared_statements");
	assert_true(n <= 128);
	assert_int_equal(query_int(db, "SELECT 299 AS n"), 299);
}

/* ---- errors ----------------------------------------------------------------------------------- */

static void test_error_codes(void **state)
{
	struct al_db *db = *state;
	script_ok(db, "CREATE TABLE parent (id int PRIMARY KEY);"
		      "CREATE TABLE child (id int PRIMARY KEY, p int REFERENCES parent, n int NOT NULL CHECK (n > 0))");
	exec_ok(db, "INSERT INTO parent VALUES (1)");
	struct {
		const char *sql;
		enum al_db_code code;
	} cases[] = {
	    {"INSERT INTO parent VALUES (1)", AL_DB_UNIQUE},
	    {"INSERT INTO child VALUES (1, 2, 1)", AL_DB_FOREIGN_KEY},
	    {"INSERT INTO child VALUES (1, 1, NULL)", AL_DB_NOT_NULL},
	    {"INSERT INTO child VALUES (1, 1, 0)", AL_DB_CHECK},
	    {"SELECT * FROM no_such_table", AL_DB_ERROR},
	    {"SELEC 1", AL_DB_ERROR},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct al_db_error err = {0};
		assert_false(al_db_exec(db, cases[i].sql, NULL, 0, NULL, NULL, NULL, &err));
		if (err.code != cases[i].code)
			fail_msg("%s: got %s (%s)", cases[i].sql, al_db_code_name(err.code), err.message);
	}
	struct al_db_error err = {0};
	assert_false(al_db_exec(db, "INSERT INTO parent VALUES (1)", NULL, 0, NULL, NULL, NULL, &err));
	assert_string_equal(err.message, "duplicate key value violates unique constraint \"parent_pkey\"");

	/* a read-only transaction */
	assert_true(al_db_begin(db, &err));
	exec_ok(db, "SET TRANSACTION READ ONLY");
	assert_false(al_db_exec(db, "INSERT INTO parent VALUES (2)", NULL, 0, NULL, NULL, NULL, &err));
	assert_int_equal(err.code, AL_DB_READONLY);
	assert_true(al_db_rollback(db, &err));

	/* NOTICEs stay quiet */
	exec_ok(db, "DROP TABLE IF EXISTS surely_not_there");
}

static void test_statement_timeout(void **state)
{
	struct al_db *db = open_env("AGENTLENS_DB_STATEMENT_TIMEOUT=300ms");
	struct al_db_error err = {0};
	int64_t start = al_monotonic_ns();
	assert_false(al_db_exec(db, "SELECT pg_sleep(2)", NULL, 0, NULL, NULL, NULL, &err));
	assert_int_equal(err.code, AL_DB_TIMEOUT);
	assert_true(ms_since(start) < 1500);
	assert_true(al_db_ping(db, &err)); /* the connection is still good */
	struct row r = query(db, "SHOW statement_timeout", NULL, 0);
	assert_text(&r, 0, "300ms");
	al_db_close(db);
}

/* ---- losing the connection ---------------------------------------------------------------- */

static void test_terminated_in_flight_fails_then_reconnects(void **state)
{
	struct al_db *db = *state;
	int64_t pid = query_int(db, "SELECT pg_backend_pid()");
	struct al_db_error err = {0};
	assert_false(al_db_exec(db, "SELECT pg_terminate_backend(pg_backend_pid())", NULL, 0, NULL, NULL, NULL, &err));
	assert_int_equal(err.code, AL_DB_UNAVAILABLE);
	assert_non_null(strstr(err.message, "connection lost"));
	/* the next call reconnects at once (a loss is not a failed attempt) */
	int64_t pid2 = query_int(db, "SELECT pg_backend_pid()");
	assert_true(pid2 != pid);
	/* prepared statements were dropped with the old session and are prepared again */
	assert_int_equal(query_int(db, "SELECT 41 + 1"), 42);
	assert_int_equal(query_int(db, "SELECT 41 + 1"), 42);
}

static void test_terminated_while_idle_is_transparent(void **state)
{
	struct al_db *db = *state;
	struct al_db *other = open_env(NULL);
	int64_t pid = query_int(db, "SELECT pg_backend_pid()");
	terminate_from(other, pid);
	/* nothing had been sent: the statement goes to a new connection */
	int64_t pid2 = query_int(db, "SELECT pg_backend_pid()");
	assert_true(pid2 != pid);
	al_db_close(other);
}

static void test_terminated_inside_transaction(void **state)
{
	struct al_db *db = *state;
	struct al_db *other = open_env(NULL);
	struct al_db_error err = {0};
	script_ok(db, "CREATE TABLE tx_t (id int PRIMARY KEY)");
	assert_true(al_db_begin(db, &err));
	exec_ok(db, "INSERT INTO tx_t VALUES (1)");
	terminate_from(other, query_int(db, "SELECT pg_backend_pid()"));

	/* the rest of the transaction must not run in autocommit on a new connection */
	assert_false(al_db_exec(db, "INSERT INTO tx_t VALUES (2)", NULL, 0, NULL, NULL, NULL, &err));
	assert_int_equal(err.code, AL_DB_UNAVAILABLE);
	assert_false(al_db_exec(db, "INSERT INTO tx_t VALUES (3)", NULL, 0, NULL, NULL, NULL, &err));
	assert_int_equal(err.code, AL_DB_UNAVAILABLE);
	assert_false(al_db_commit(db, &err));
	assert_int_equal(err.code, AL_DB_UNAVAILABLE);
	assert_false(al_db_in_transaction(db));
	assert_int_equal(query_int(db, "SELECT count(*) FROM tx_t"), 0);

	/* same, ended with ROLLBACK */
	assert_true(al_db_begin(db, &err));
	exec_ok(db, "INSERT INTO tx_t VALUES (4)");
	terminate_from(other, query_int(db, "SELECT pg_backend_pid()"));
	assert_false(al_db_exec(db, "INSERT INTO tx_t VALUES (5)", NULL, 0, NULL, NULL, NULL, &err));
	assert_int_equal(err.code, AL_DB_UNAVAILABLE);
	assert_true(al_db_rollback(db, &err));
	exec_ok(db, "INSERT INTO tx_t VALUES (6)");
	assert_int_equal(query_int(db, "SELECT count(*) FROM tx_t"), 1);
	al_db_close(other);
}

/* Runs pg.sh (PG_TEST_SH, from the env file) with a subcommand on dir. */
static void pg_sh(const char *sub, const char *dir)
{
	char cmd[512];
	snprintf(cmd, sizeof cmd, "'%s' %s '%s' >/dev/null", getenv("PG_TEST_SH"), sub, dir);
	if (system(cmd) != 0)
		fail_msg("%s failed", cmd);
}

/* The private server of test_server_stopped_and_resumed, stopped by its teardown even on failure. */
static char private_tmp[] = "/tmp/al_pg_pause_XXXXXX";
static char private_dir[64];

static int stop_private_server(void **state)
{
	if (private_dir[0]) {
		pg_sh("stop", private_dir);
		rmdir(private_tmp);
		private_dir[0] = '\0';
	}
	return 0;
}

/* pg.sh pause/resume on a private server: the shared one serves other tests in parallel. */
static void test_server_stopped_and_resumed(void **state)
{
	assert_non_null(getenv("PG_TEST_SH"));
	char *tmp = private_tmp, *dir = private_dir, path[96], line[256];
	assert_non_null(mkdtemp(tmp));
	assert_int_equal(chmod(tmp, 0755), 0); /* the postgres user must reach dir when we are root */
	snprintf(dir, sizeof private_dir, "%s/pg", tmp);
	pg_sh("start", dir);

	static char host[256], port[256];
	snprintf(path, sizeof path, "%s/env", dir);
	FILE *f = fopen(path, "r");
	assert_non_null(f);
	while (fgets(line, sizeof line, f)) {
		line[strcspn(line, "\n")] = '\0';
		if (strncmp(line, "export AGENTLENS_DB_POSTGRES_HOST=", 34) == 0)
			snprintf(host, sizeof host, "%s", line + 7);
		if (strncmp(line, "export AGENTLENS_DB_POSTGRES_PORT=", 34) == 0)
			snprintf(port, sizeof port, "%s", line + 7);
	}
	fclose(f);
	char *const extra[] = {host, port, "AGENTLENS_DB_POSTGRES_DBNAME=agentlens", NULL};
	struct al_db *db = open_env2(extra);
	assert_int_equal(query_int(db, "SELECT 1"), 1);

	pg_sh("pause", dir);
	struct al_db_error err = {0};
	int64_t start = al_monotonic_ns();
	assert_false(al_db_ping(db, &err)); /* dead idle connection; the reconnect attempt is refused */
	assert_int_equal(err.code, AL_DB_UNAVAILABLE);
	assert_non_null(strstr(err.message, "cannot connect to PostgreSQL at /tmp/pgs."));
	assert_null(strstr(err.message, "password"));
	assert_false(al_db_ping(db, &err)); /* within the backoff: no attempt at all */
	assert_int_equal(err.code, AL_DB_UNAVAILABLE);
	assert_non_null(strstr(err.message, "next reconnect attempt in"));
	assert_true(ms_since(start) < 500);

	pg_sh("resume", dir);
	assert_true(ping_within(db, 6000)); /* the backoff never exceeds 5 s */
	assert_int_equal(query_int(db, "SELECT 2"), 2);

	/* a restart while idle goes unnoticed */
	pg_sh("restart", dir);
	assert_int_equal(query_int(db, "SELECT 3"), 3);
	al_db_close(db);
}

static void test_open_failure_names_server(void **state)
{
	struct al_config cfg = {0};
	struct al_config_error cerr = {{0}};
	char *env[] = {"AGENTLENS_DB_DIALECT=postgres",		"AGENTLENS_DB_POSTGRES_HOST=127.0.0.1",
		       "AGENTLENS_DB_POSTGRES_PORT=1",		"AGENTLENS_DB_POSTGRES_PASSWORD=s3cret-pw",
		       "AGENTLENS_DB_POSTGRES_SSLMODE=disable", NULL};
	assert_true(al_config_load(&cfg, NULL, env, 0, NULL, &cerr));
	struct al_db_options opts;
	al_db_options_from_config(&opts, &cfg);
	struct al_db_error err = {0};
	assert_null(al_db_open(&opts, &err));
	assert_int_equal(err.code, AL_DB_UNAVAILABLE);
	assert_non_null(strstr(err.message, "cannot connect to PostgreSQL at 127.0.0.1:1: "));
	assert_null(strstr(err.message, "s3cret"));
	assert_null(strchr(err.message, '\n'));
	al_config_free(&cfg);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_placeholders_skip_quotes_and_comments, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_parameter_and_result_types, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_timestamps_rfc3339_utc_millis, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_numeric_integral_or_fractional, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_bytea_binary_round_trip, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_statement_cache_reuse_and_schema_change, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_error_codes, setup, teardown),
	    cmocka_unit_test(test_statement_timeout),
	    cmocka_unit_test_setup_teardown(test_terminated_in_flight_fails_then_reconnects, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_terminated_while_idle_is_transparent, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_terminated_inside_transaction, setup, teardown),
	    cmocka_unit_test_teardown(test_server_stopped_and_resumed, stop_private_server),
	    cmocka_unit_test(test_open_failure_names_server),
	};
	if (!getenv("AGENTLENS_DB_POSTGRES_HOST")) {
		fprintf(stderr, "test_db_pg: run it through spec/support/with-pg-env.sh (no PostgreSQL settings)\n");
		return 1;
	}
	return cmocka_run_group_tests(tests, NULL, NULL);
}
