/* SPDX-License-Identifier: Apache-2.0 */
/* One database interface over two drivers (sqlite.c, pg.c): connections, bound statements,
 * transactions, typed values and error codes. No Lua here (src/lua/api_db.c binds it). */
#ifndef AL_DB_DB_H
#define AL_DB_DB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct al_config;

enum al_db_dialect { AL_DB_SQLITE, AL_DB_POSTGRES };

/* What went wrong, as callers need to tell it apart (never by parsing driver text). */
enum al_db_code {
	AL_DB_OK = 0,
	AL_DB_ERROR,       /* anything else: syntax, unknown table, type mismatch ... */
	AL_DB_UNIQUE,      /* unique or primary key violation */
	AL_DB_FOREIGN_KEY, /* foreign key violation */
	AL_DB_NOT_NULL,    /* NOT NULL violation */
	AL_DB_CHECK,       /* CHECK constraint violation */
	AL_DB_UNAVAILABLE, /* cannot reach the server, connection lost, disk/file unusable */
	AL_DB_TIMEOUT,     /* statement_timeout (PostgreSQL) */
	AL_DB_BUSY,        /* lock not obtained within busy_timeout (SQLite), deadlock/serialization (PG) */
	AL_DB_READONLY,    /* the database or its directory cannot be written */
};

struct al_db_error {
	enum al_db_code code;
	char message[512]; /* driver text for logs and operators, e.g. "UNIQUE constraint failed: t.x" */
};

enum al_db_type { AL_DB_NULL, AL_DB_BOOL, AL_DB_INT, AL_DB_FLOAT, AL_DB_TEXT, AL_DB_BLOB };

/* A parameter or a result column. TEXT and BLOB bytes are borrowed: for parameters from the
 * caller for the duration of the call, for results until the row callback returns. */
struct al_db_value {
	enum al_db_type type;
	union {
		bool b;
		int64_t i;
		double f;
		struct {
			const char *p;
			size_t len;
		} s;
	} v;
};

/* Result typing rules, identical on both dialects:
 * - NULL -> AL_DB_NULL
 * - SQLite column declared BOOLEAN / PostgreSQL boolean -> AL_DB_BOOL
 * - integer types -> AL_DB_INT (exact int64); PostgreSQL numeric with no fraction that fits
 *   int64 -> INT, otherwise FLOAT
 * - real / double precision -> AL_DB_FLOAT
 * - BLOB / bytea -> AL_DB_BLOB (PostgreSQL hex output decoded)
 * - PostgreSQL timestamptz/timestamp -> TEXT in RFC 3339 UTC with milliseconds,
 *   "2026-12-04T16:26:10.123Z", which is how SQLite schemas store times as TEXT
 * - everything else (text, varchar, uuid, json, jsonb) -> AL_DB_TEXT
 * Parameters: written as ? in SQL (the PostgreSQL driver rewrites them to $1..$n, skipping
 * ? inside quotes and comments). On PostgreSQL INT binds as int8, FLOAT as float8, BOOL as
 * boolean, BLOB as bytea (binary), TEXT as "unknown" so the server infers the column type
 * (text, timestamptz, jsonb, uuid ...). On SQLite BOOL binds as integer 0/1. */

/* Called once per result row; names and values are valid only during the call. Returning
 * non-zero stops the statement (the call then fails with AL_DB_ERROR "aborted by caller"). */
typedef int (*al_db_row_fn)(void *ud, size_t ncols, const char *const *names, const struct al_db_value *values);

struct al_db; /* one connection; used by one thread at a time */

struct al_db_options {
	enum al_db_dialect dialect;
	/* sqlite */
	const char *sqlite_path;     /* file; created if missing */
	int64_t busy_timeout_ms;
	/* postgres */
	const char *pg_host, *pg_user, *pg_password, *pg_dbname, *pg_sslmode;
	int64_t pg_port;
	int64_t connect_timeout_ms;
	int64_t statement_timeout_ms;
	const char *application_name; /* e.g. "agentlens" */
};

/* Fills opts from the configuration (strings borrowed from cfg). */
void al_db_options_from_config(struct al_db_options *opts, const struct al_config *cfg);

/* Opens a connection; NULL with err filled (code AL_DB_UNAVAILABLE or AL_DB_READONLY, message
 * naming the file, or host:port and the libpq message). Caller owns the result. */
struct al_db *al_db_open(const struct al_db_options *opts, struct al_db_error *err);
void al_db_close(struct al_db *db);
enum al_db_dialect al_db_dialect(const struct al_db *db);

/* Runs one statement with bound parameters; row_fn may be NULL. *changes (may be NULL) gets
 * the rows inserted/updated/deleted. On PostgreSQL a lost connection is re-established (with
 * backoff between attempts) on the next call; statements are prepared and cached per
 * connection on both drivers. */
bool al_db_exec(struct al_db *db, const char *sql, const struct al_db_value *params, size_t nparams,
		al_db_row_fn row_fn, void *ud, int64_t *changes, struct al_db_error *err);

/* Several statements without parameters (migrations). */
bool al_db_exec_script(struct al_db *db, const char *sql, struct al_db_error *err);

/* Transactions. begin on SQLite is BEGIN IMMEDIATE (takes the write lock up front, so two
 * writers never deadlock on lock upgrade). Nested begin is an error. */
bool al_db_begin(struct al_db *db, struct al_db_error *err);
bool al_db_commit(struct al_db *db, struct al_db_error *err);
bool al_db_rollback(struct al_db *db, struct al_db_error *err);
bool al_db_in_transaction(const struct al_db *db);

/* Cheap liveness check (SELECT 1); reconnects a lost PostgreSQL connection. */
bool al_db_ping(struct al_db *db, struct al_db_error *err);

/* Process-wide options for per-thread connections (copied; strings must outlive the process's
 * use of the database, e.g. borrowed from the configuration). */
void al_db_configure(const struct al_db_options *opts);
bool al_db_configured(void);
/* The calling thread's connection, opened on first use and closed when the thread exits.
 * After a failed open, further opens on any thread fail fast for a short while (so an outage
 * does not stack connect timeouts on every worker). NULL with err set on failure. */
struct al_db *al_db_thread(struct al_db_error *err);
/* Closes the calling thread's connection now (thread shutdown, tests). */
void al_db_thread_close(void);

/* "unique", "foreign_key", ... as the Lua API reports codes. */
const char *al_db_code_name(enum al_db_code code);

/* Online backup of a SQLite database file (src/db/backup.c), safe while other connections and
 * processes write it. Writes dst_path.tmp, checks it with PRAGMA integrity_check and renames it
 * over dst_path (an existing file there is replaced; on failure it is left untouched). Refuses
 * dst == src and a dst with -wal/-journal files. The copy is a single file in rollback-journal
 * mode. Returns false with err set. */
bool al_db_sqlite_backup(const char *src_path, const char *dst_path, struct al_db_error *err);

#endif
