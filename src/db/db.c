/* SPDX-License-Identifier: Apache-2.0 */
/* The database interface: driver selection, transactions, liveness, error codes. */
#include "db/db.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "core/config.h"
#include "db/driver.h"

struct al_db {
	const struct al_db_driver *driver;
	void *conn;
	enum al_db_dialect dialect;
	bool in_tx;
};

void al_db_set_error(struct al_db_error *err, enum al_db_code code, const char *fmt, ...)
{
	if (!err)
		return;
	err->code = code;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err->message, sizeof err->message, fmt, ap);
	va_end(ap);
}

const char *al_db_code_name(enum al_db_code code)
{
	switch (code) {
	case AL_DB_OK:
		return "ok";
	case AL_DB_ERROR:
		return "error";
	case AL_DB_UNIQUE:
		return "unique";
	case AL_DB_FOREIGN_KEY:
		return "foreign_key";
	case AL_DB_NOT_NULL:
		return "not_null";
	case AL_DB_CHECK:
		return "check";
	case AL_DB_UNAVAILABLE:
		return "unavailable";
	case AL_DB_TIMEOUT:
		return "timeout";
	case AL_DB_BUSY:
		return "busy";
	case AL_DB_READONLY:
		return "readonly";
	}
	return "error";
}

struct al_db *al_db_open(const struct al_db_options *opts, struct al_db_error *err)
{
	struct al_db *db = calloc(1, sizeof *db);
	if (!db) {
		al_db_set_error(err, AL_DB_ERROR, "out of memory");
		return NULL;
	}
	db->dialect = opts->dialect;
	db->driver = opts->dialect == AL_DB_POSTGRES ? &al_db_postgres_driver : &al_db_sqlite_driver;
	if (!(db->conn = db->driver->open(opts, err))) {
		free(db);
		return NULL;
	}
	return db;
}

void al_db_close(struct al_db *db)
{
	if (!db)
		return;
	db->driver->close(db->conn);
	free(db);
}

enum al_db_dialect al_db_dialect(const struct al_db *db)
{
	return db->dialect;
}

bool al_db_exec(struct al_db *db, const char *sql, const struct al_db_value *params, size_t nparams,
		al_db_row_fn row_fn, void *ud, int64_t *changes, struct al_db_error *err)
{
	if (changes)
		*changes = 0;
	err->code = AL_DB_OK;
	err->message[0] = '\0';
	return db->driver->exec(db->conn, sql, params, nparams, row_fn, ud, changes, err);
}

bool al_db_exec_script(struct al_db *db, const char *sql, struct al_db_error *err)
{
	err->code = AL_DB_OK;
	err->message[0] = '\0';
	bool ok = db->driver->exec_script(db->conn, sql, err);
	db->driver->reset_cache(db->conn); /* the schema may have changed under cached statements */
	return ok;
}

bool al_db_begin(struct al_db *db, struct al_db_error *err)
{
	if (db->in_tx) {
		al_db_set_error(err, AL_DB_ERROR, "a transaction is already open on this connection");
		return false;
	}
	const char *sql = db->dialect == AL_DB_SQLITE ? "BEGIN IMMEDIATE" : "BEGIN";
	if (!al_db_exec(db, sql, NULL, 0, NULL, NULL, NULL, err))
		return false;
	db->in_tx = true;
	return true;
}

bool al_db_commit(struct al_db *db, struct al_db_error *err)
{
	if (!db->in_tx) {
		al_db_set_error(err, AL_DB_ERROR, "no transaction is open");
		return false;
	}
	bool ok = al_db_exec(db, "COMMIT", NULL, 0, NULL, NULL, NULL, err);
	if (!ok) {
		/* A failed COMMIT leaves nothing applied; make sure the connection is usable again. */
		struct al_db_error ignored;
		al_db_exec(db, "ROLLBACK", NULL, 0, NULL, NULL, NULL, &ignored);
	}
	db->in_tx = false;
	return ok;
}

bool al_db_rollback(struct al_db *db, struct al_db_error *err)
{
	if (!db->in_tx) {
		al_db_set_error(err, AL_DB_ERROR, "no transaction is open");
		return false;
	}
	db->in_tx = false;
	return al_db_exec(db, "ROLLBACK", NULL, 0, NULL, NULL, NULL, err);
}

bool al_db_in_transaction(const struct al_db *db)
{
	return db->in_tx;
}

bool al_db_ping(struct al_db *db, struct al_db_error *err)
{
	return al_db_exec(db, "SELECT 1", NULL, 0, NULL, NULL, NULL, err);
}

void al_db_options_from_config(struct al_db_options *opts, const struct al_config *cfg)
{
	*opts = (struct al_db_options){
		.dialect = (enum al_db_dialect)cfg->db_dialect,
		.sqlite_path = cfg->db_sqlite_path,
		.busy_timeout_ms = cfg->db_busy_timeout_ms,
		.pg_host = cfg->db_pg_host,
		.pg_port = cfg->db_pg_port,
		.pg_user = cfg->db_pg_user,
		.pg_password = cfg->db_pg_password,
		.pg_dbname = cfg->db_pg_dbname,
		.pg_sslmode = al_db_sslmode_choices[cfg->db_pg_sslmode],
		.connect_timeout_ms = cfg->db_connect_timeout_ms,
		.statement_timeout_ms = cfg->db_statement_timeout_ms,
		.application_name = "agentlens",
	};
}

/* ---- per-thread connections ------------------------------------------------------------- */

#define OPEN_RETRY_NS (500 * 1000000LL)

static struct al_db_options thread_opts;
static atomic_bool configured;
static _Atomic int64_t next_open_ns; /* fail fast until then after a failed open */
static pthread_key_t thread_key;
static pthread_once_t thread_key_once = PTHREAD_ONCE_INIT;
static __thread struct al_db *thread_db;

static void thread_db_destructor(void *p)
{
	al_db_close(p);
}

static void make_thread_key(void)
{
	pthread_key_create(&thread_key, thread_db_destructor);
}

void al_db_configure(const struct al_db_options *opts)
{
	thread_opts = *opts;
	atomic_store(&configured, true);
}

bool al_db_configured(void)
{
	return atomic_load(&configured);
}

struct al_db *al_db_thread(struct al_db_error *err)
{
	if (thread_db)
		return thread_db;
	if (!atomic_load(&configured)) {
		al_db_set_error(err, AL_DB_UNAVAILABLE, "no database is configured");
		return NULL;
	}
	int64_t now = al_monotonic_ns();
	if (now < atomic_load(&next_open_ns)) {
		al_db_set_error(err, AL_DB_UNAVAILABLE, "the database is unreachable (retrying shortly)");
		return NULL;
	}
	pthread_once(&thread_key_once, make_thread_key);
	struct al_db *db = al_db_open(&thread_opts, err);
	if (!db) {
		atomic_store(&next_open_ns, now + OPEN_RETRY_NS);
		return NULL;
	}
	thread_db = db;
	pthread_setspecific(thread_key, db);
	return db;
}

void al_db_thread_close(void)
{
	if (!thread_db)
		return;
	pthread_once(&thread_key_once, make_thread_key);
	pthread_setspecific(thread_key, NULL);
	al_db_close(thread_db);
	thread_db = NULL;
}
