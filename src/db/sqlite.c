/* SPDX-License-Identifier: Apache-2.0 */
/* The SQLite driver: connection set-up (WAL, foreign keys, a write probe), a per-connection
 * statement cache, typed parameters and results, and result codes mapped to enum al_db_code. */
#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sqlite3.h>

#include "db/driver.h"

#ifndef SQLITE_OPEN_EXRESCODE /* SQLite < 3.37: sqlite3_extended_result_codes() below does it */
#define SQLITE_OPEN_EXRESCODE 0
#endif

enum {
	CACHE_CAP = 128,   /* prepared statements kept per connection (least recently used evicted) */
	CACHE_SLOTS = 256, /* open-addressing table, a power of two at least twice CACHE_CAP */
	STACK_COLS = 32,   /* result rows this wide need no allocation */
};

struct cached_stmt {
	char *sql; /* owned copy of the key */
	uint64_t hash;
	uint64_t used; /* LRU tick */
	sqlite3_stmt *stmt;
};

/* A statement is taken out of the cache while it runs and put back afterwards, so a row callback
 * that runs the same SQL again (or resets the cache) never touches a statement in use. */
struct sqlite_conn {
	sqlite3 *db;
	uint64_t tick;
	uint64_t generation; /* bumped by reset_cache: statements taken before it are not put back */
	size_t n;
	struct cached_stmt entries[CACHE_CAP];
	int16_t slots[CACHE_SLOTS]; /* index into entries, or -1 */
};

/* ---- result codes ----------------------------------------------------------------------- */

static enum al_db_code map_code(int rc)
{
	switch (rc) {
	case SQLITE_CONSTRAINT_UNIQUE:
	case SQLITE_CONSTRAINT_PRIMARYKEY:
		return AL_DB_UNIQUE;
	case SQLITE_CONSTRAINT_FOREIGNKEY:
		return AL_DB_FOREIGN_KEY;
	case SQLITE_CONSTRAINT_NOTNULL:
		return AL_DB_NOT_NULL;
	case SQLITE_CONSTRAINT_CHECK:
		return AL_DB_CHECK;
	}
	switch (rc & 0xff) {
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
		return AL_DB_BUSY;
	case SQLITE_READONLY:
		return AL_DB_READONLY;
	case SQLITE_IOERR:
	case SQLITE_CANTOPEN:
	case SQLITE_CORRUPT:
	case SQLITE_FULL:
	case SQLITE_NOTADB:
		return AL_DB_UNAVAILABLE;
	}
	return AL_DB_ERROR;
}

/* The connection's last error (extended code and message) into err. */
static bool fail_db(sqlite3 *db, struct al_db_error *err)
{
	al_db_set_error(err, map_code(sqlite3_extended_errcode(db)), "%s", sqlite3_errmsg(db));
	return false;
}

/* ---- statement cache -------------------------------------------------------------------- */

static uint64_t sql_hash(const char *s)
{
	uint64_t h = 14695981039346656037ull; /* FNV-1a */
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ull;
	return h;
}

/* The slot holding sql, or the empty slot where it would go (*found false). */
static size_t cache_probe(const struct sqlite_conn *c, const char *sql, uint64_t hash, bool *found)
{
	size_t i = hash & (CACHE_SLOTS - 1);
	for (;; i = (i + 1) & (CACHE_SLOTS - 1)) {
		int e = c->slots[i];
		if (e < 0) {
			*found = false;
			return i;
		}
		if (c->entries[e].hash == hash && strcmp(c->entries[e].sql, sql) == 0) {
			*found = true;
			return i;
		}
	}
}

/* Empties slot s, shifting later members of its probe run back (no tombstones). */
static void slot_delete(struct sqlite_conn *c, size_t s)
{
	const size_t mask = CACHE_SLOTS - 1;
	size_t hole = s;
	for (size_t j = (s + 1) & mask; c->slots[j] >= 0; j = (j + 1) & mask) {
		size_t home = c->entries[c->slots[j]].hash & mask;
		/* j may move into the hole unless its home lies cyclically in (hole, j] */
		bool stays = hole <= j ? (hole < home && home <= j) : (hole < home || home <= j);
		if (!stays) {
			c->slots[hole] = c->slots[j];
			hole = j;
		}
	}
	c->slots[hole] = -1;
}

/* Removes the entry in slot s from the table and the dense entry array (ownership to caller). */
static struct cached_stmt cache_remove(struct sqlite_conn *c, size_t s)
{
	size_t e = (size_t)c->slots[s];
	struct cached_stmt out = c->entries[e];
	slot_delete(c, s);
	size_t last = --c->n;
	if (e != last) {
		bool found;
		size_t ls = cache_probe(c, c->entries[last].sql, c->entries[last].hash, &found);
		c->entries[e] = c->entries[last];
		c->slots[ls] = (int16_t)e;
	}
	return out;
}

/* Takes sql's statement out of the cache; NULL on a miss. *key gets the owned SQL copy. */
static sqlite3_stmt *cache_take(struct sqlite_conn *c, const char *sql, uint64_t hash, char **key)
{
	bool found;
	size_t s = cache_probe(c, sql, hash, &found);
	if (!found)
		return NULL;
	struct cached_stmt e = cache_remove(c, s);
	*key = e.sql;
	return e.stmt;
}

static void stmt_drop(char *key, sqlite3_stmt *stmt)
{
	sqlite3_finalize(stmt);
	free(key);
}

/* Puts a statement (reset, bindings cleared) back; takes ownership of key and stmt. */
static void cache_put(struct sqlite_conn *c, char *key, uint64_t hash, sqlite3_stmt *stmt, uint64_t generation)
{
	bool found;
	size_t s = cache_probe(c, key, hash, &found);
	if (found || generation != c->generation) { /* a nested call cached its own copy, or a reset */
		stmt_drop(key, stmt);
		return;
	}
	if (c->n == CACHE_CAP) {
		size_t lru = 0;
		for (size_t i = 1; i < c->n; i++)
			if (c->entries[i].used < c->entries[lru].used)
				lru = i;
		size_t ls = cache_probe(c, c->entries[lru].sql, c->entries[lru].hash, &found);
		struct cached_stmt old = cache_remove(c, ls);
		stmt_drop(old.sql, old.stmt);
		s = cache_probe(c, key, hash, &found); /* the removal may have shifted the run */
	}
	c->entries[c->n] = (struct cached_stmt){.sql = key, .hash = hash, .used = ++c->tick, .stmt = stmt};
	c->slots[s] = (int16_t)c->n++;
}

static void cache_clear(struct sqlite_conn *c)
{
	for (size_t i = 0; i < c->n; i++)
		stmt_drop(c->entries[i].sql, c->entries[i].stmt);
	c->n = 0;
	memset(c->slots, 0xff, sizeof c->slots);
	c->generation++;
}

/* ---- statements ------------------------------------------------------------------------- */

/* Prepares exactly one statement: empty SQL and trailing statements are refused (they would
 * otherwise be ignored silently; exec_script runs several). */
static bool prepare(struct sqlite_conn *c, const char *sql, size_t len, sqlite3_stmt **out, struct al_db_error *err)
{
	const char *tail = NULL;
	sqlite3_stmt *st = NULL;

	if (len >= INT_MAX) {
		al_db_set_error(err, AL_DB_ERROR, "SQL text too long (%zu bytes)", len);
		return false;
	}
	if (sqlite3_prepare_v3(c->db, sql, (int)len + 1, SQLITE_PREPARE_PERSISTENT, &st, &tail) != SQLITE_OK)
		return fail_db(c->db, err);
	if (!st) {
		al_db_set_error(err, AL_DB_ERROR, "no SQL statement to run");
		return false;
	}
	while (tail && (*tail == ';' || *tail == ' ' || *tail == '\t' || *tail == '\n' || *tail == '\r'))
		tail++;
	if (tail && *tail) {
		sqlite3_stmt *more = NULL;
		int rc = sqlite3_prepare_v2(c->db, tail, -1, &more, NULL);
		sqlite3_finalize(more);
		if (rc != SQLITE_OK || more) { /* only a trailing comment is fine */
			sqlite3_finalize(st);
			al_db_set_error(err, AL_DB_ERROR,
					"exec runs one statement, but more SQL follows the first: \"%.60s\" "
					"(use a script for several statements)",
					tail);
			return false;
		}
	}
	*out = st;
	return true;
}

static bool bind_params(sqlite3_stmt *st, const struct al_db_value *params, size_t nparams, struct al_db_error *err)
{
	int want = sqlite3_bind_parameter_count(st);
	if ((size_t)want != nparams) {
		al_db_set_error(err, AL_DB_ERROR, "the statement has %d parameter placeholder%s but %zu value%s given",
				want, want == 1 ? "" : "s", nparams, nparams == 1 ? " was" : "s were");
		return false;
	}
	for (size_t k = 0; k < nparams; k++) {
		const struct al_db_value *v = &params[k];
		int i = (int)k + 1, rc;
		switch (v->type) {
		case AL_DB_NULL:
			rc = sqlite3_bind_null(st, i);
			break;
		case AL_DB_BOOL:
			rc = sqlite3_bind_int(st, i, v->v.b ? 1 : 0);
			break;
		case AL_DB_INT:
			rc = sqlite3_bind_int64(st, i, v->v.i);
			break;
		case AL_DB_FLOAT:
			rc = sqlite3_bind_double(st, i, v->v.f);
			break;
		case AL_DB_TEXT: /* a NULL pointer would bind SQL NULL; "" keeps empty text empty */
			/* PostgreSQL text cannot hold NUL; refuse it here too so both dialects agree. */
			if (v->v.s.len && memchr(v->v.s.p, '\0', v->v.s.len)) {
				al_db_set_error(err, AL_DB_ERROR,
						"parameter %zu: text contains a NUL byte (bind it as a blob)", k + 1);
				return false;
			}
			rc = sqlite3_bind_text64(st, i, v->v.s.p ? v->v.s.p : "", v->v.s.len, SQLITE_STATIC,
						 SQLITE_UTF8);
			break;
		case AL_DB_BLOB:
			rc = v->v.s.len == 0 ? sqlite3_bind_zeroblob(st, i, 0)
					     : sqlite3_bind_blob64(st, i, v->v.s.p, v->v.s.len, SQLITE_STATIC);
			break;
		default:
			al_db_set_error(err, AL_DB_ERROR, "parameter %zu has an unknown type (%d)", k + 1,
					(int)v->type);
			return false;
		}
		if (rc != SQLITE_OK) {
			al_db_set_error(err, AL_DB_ERROR, "parameter %zu: %s", k + 1, sqlite3_errstr(rc));
			return false;
		}
	}
	return true;
}

/* Fills one row's values; false only when SQLite ran out of memory converting a value. */
static bool read_row(sqlite3_stmt *st, int ncols, const unsigned char *is_bool, struct al_db_value *vals)
{
	for (int i = 0; i < ncols; i++) {
		struct al_db_value *v = &vals[i];
		switch (sqlite3_column_type(st, i)) {
		case SQLITE_INTEGER:
			if (is_bool[i]) {
				v->type = AL_DB_BOOL;
				v->v.b = sqlite3_column_int64(st, i) != 0;
			} else {
				v->type = AL_DB_INT;
				v->v.i = sqlite3_column_int64(st, i);
			}
			break;
		case SQLITE_FLOAT:
			v->type = AL_DB_FLOAT;
			v->v.f = sqlite3_column_double(st, i);
			break;
		case SQLITE_TEXT:
		case SQLITE_BLOB: {
			bool text = sqlite3_column_type(st, i) == SQLITE_TEXT;
			const void *p = text ? (const void *)sqlite3_column_text(st, i) : sqlite3_column_blob(st, i);
			int len = sqlite3_column_bytes(st, i);
			if (!p && len > 0)
				return false;
			v->type = text ? AL_DB_TEXT : AL_DB_BLOB;
			v->v.s.p = p ? p : ""; /* an empty blob comes back as NULL */
			v->v.s.len = (size_t)len;
			break;
		}
		default:
			v->type = AL_DB_NULL;
			break;
		}
	}
	return true;
}

/* Steps st to the end, handing rows to row_fn. */
static bool run(struct sqlite_conn *c, sqlite3_stmt *st, al_db_row_fn row_fn, void *ud, int64_t *changes,
		struct al_db_error *err)
{
	const char *names_buf[STACK_COLS];
	struct al_db_value vals_buf[STACK_COLS];
	unsigned char bool_buf[STACK_COLS];
	const char **names = NULL;
	struct al_db_value *vals = vals_buf;
	unsigned char *is_bool = bool_buf;
	int ncols = 0, rc;
	bool ok = false;
	sqlite3_int64 before = sqlite3_total_changes64(c->db);

	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (!row_fn)
			continue;
		if (!names) { /* after the first step: a re-prepare may have changed the columns */
			ncols = sqlite3_column_count(st);
			names = names_buf;
			if (ncols > STACK_COLS) {
				names = malloc((size_t)ncols * sizeof *names);
				vals = malloc((size_t)ncols * sizeof *vals);
				is_bool = malloc((size_t)ncols);
				if (!names || !vals || !is_bool) {
					al_db_set_error(err, AL_DB_ERROR, "out of memory");
					goto out;
				}
			}
			for (int i = 0; i < ncols; i++) {
				const char *name = sqlite3_column_name(st, i);
				const char *decl = sqlite3_column_decltype(st, i);
				names[i] = name ? name : "";
				is_bool[i] = decl && strcasecmp(decl, "BOOLEAN") == 0;
			}
		}
		if (!read_row(st, ncols, is_bool, vals)) {
			al_db_set_error(err, AL_DB_ERROR, "out of memory");
			goto out;
		}
		if (row_fn(ud, (size_t)ncols, names, vals)) {
			al_db_set_error(err, AL_DB_ERROR, "aborted by caller");
			goto out;
		}
	}
	if (rc != SQLITE_DONE) {
		fail_db(c->db, err);
		goto out;
	}
	/* sqlite3_changes64 keeps the count of the last INSERT/UPDATE/DELETE, so DDL and other
	 * statements that changed no row would report a stale figure without the total check. */
	if (changes)
		*changes = !sqlite3_stmt_readonly(st) && sqlite3_total_changes64(c->db) != before
			       ? sqlite3_changes64(c->db)
			       : 0;
	ok = true;
out:
	if (names != names_buf) {
		free(names);
		free(vals == vals_buf ? NULL : vals);
		free(is_bool == bool_buf ? NULL : is_bool);
	}
	return ok;
}

static bool conn_exec(void *conn, const char *sql, const struct al_db_value *params, size_t nparams,
		      al_db_row_fn row_fn, void *ud, int64_t *changes, struct al_db_error *err)
{
	struct sqlite_conn *c = conn;
	uint64_t hash = sql_hash(sql), generation = c->generation;
	char *key = NULL;
	sqlite3_stmt *st = cache_take(c, sql, hash, &key);

	if (!st) {
		if (!prepare(c, sql, strlen(sql), &st, err))
			return false;
		if (!(key = strdup(sql))) {
			sqlite3_finalize(st);
			al_db_set_error(err, AL_DB_ERROR, "out of memory");
			return false;
		}
	}
	bool ok = bind_params(st, params, nparams, err) && run(c, st, row_fn, ud, changes, err);
	sqlite3_reset(st);
	sqlite3_clear_bindings(st); /* SQLITE_STATIC bytes belong to this call only */
	cache_put(c, key, hash, st, generation);
	return ok;
}

static bool conn_exec_script(void *conn, const char *sql, struct al_db_error *err)
{
	struct sqlite_conn *c = conn;
	char *msg = NULL;

	if (sqlite3_exec(c->db, sql, NULL, NULL, &msg) == SQLITE_OK)
		return true;
	al_db_set_error(err, map_code(sqlite3_extended_errcode(c->db)), "%s", msg ? msg : sqlite3_errmsg(c->db));
	sqlite3_free(msg);
	return false;
}

static void conn_reset_cache(void *conn)
{
	cache_clear(conn);
}

/* ---- connections ------------------------------------------------------------------------ */

/* Why path cannot be created or written, found from the file system; false when it does not
 * say (running as root, permission bits are not the cause). */
static bool describe_unwritable(const char *path, char *out, size_t outlen)
{
	char dir[PATH_MAX];
	const char *slash = strrchr(path, '/');
	struct stat st;

	if (!slash)
		snprintf(dir, sizeof dir, ".");
	else if (slash == path)
		snprintf(dir, sizeof dir, "/");
	else
		snprintf(dir, sizeof dir, "%.*s", (int)(slash - path), path);

	if (stat(dir, &st) != 0) {
		if (errno == ENOENT)
			snprintf(out, outlen, "the data directory \"%s\" does not exist", dir);
		else
			snprintf(out, outlen, "the data directory \"%s\" cannot be used: %s", dir, strerror(errno));
		return true;
	}
	if (!S_ISDIR(st.st_mode)) {
		snprintf(out, outlen, "\"%s\" is not a directory", dir);
		return true;
	}
	if (access(dir, W_OK) != 0) {
		if (errno == EACCES)
			snprintf(out, outlen, "the data directory \"%s\" is not writable", dir);
		else
			snprintf(out, outlen, "the data directory \"%s\" is not writable: %s", dir, strerror(errno));
		return true;
	}
	if (stat(path, &st) == 0) {
		if (S_ISDIR(st.st_mode)) {
			snprintf(out, outlen, "it is a directory");
			return true;
		}
		if (access(path, W_OK) != 0) {
			snprintf(out, outlen, "the file is not writable: %s", strerror(errno));
			return true;
		}
	}
	static const char *const sidecars[] = {"-wal", "-shm", "-journal"};
	for (size_t i = 0; i < sizeof sidecars / sizeof sidecars[0]; i++) {
		char side[PATH_MAX + 16];
		snprintf(side, sizeof side, "%s%s", path, sidecars[i]);
		if (access(side, F_OK) == 0 && access(side, W_OK) != 0) {
			snprintf(out, outlen, "%s is not writable: %s", side, strerror(errno));
			return true;
		}
	}
	return false;
}

/* Fills err for a failure while opening path; rc is the extended code, msg SQLite's text. */
static void open_error(struct al_db_error *err, const char *path, int rc, const char *msg)
{
	char why[PATH_MAX + 128];
	int primary = rc & 0xff;
	bool write_problem = primary == SQLITE_CANTOPEN || primary == SQLITE_READONLY || primary == SQLITE_PERM ||
			     primary == SQLITE_IOERR;

	if (write_problem && describe_unwritable(path, why, sizeof why))
		al_db_set_error(err, AL_DB_READONLY, "database file %s cannot be written: %s (%s)", path, why, msg);
	else if (primary == SQLITE_READONLY)
		al_db_set_error(err, AL_DB_READONLY, "database file %s cannot be written (%s)", path, msg);
	else
		al_db_set_error(err, AL_DB_UNAVAILABLE, "database file %s cannot be opened: %s", path, msg);
}

/* Runs a statement and copies the first column of its first row into out ("" without rows). */
static int query_text(sqlite3 *db, const char *sql, char *out, size_t outlen)
{
	sqlite3_stmt *st = NULL;
	int rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);

	out[0] = '\0';
	if (rc != SQLITE_OK)
		return sqlite3_extended_errcode(db);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		const unsigned char *t = sqlite3_column_text(st, 0);
		snprintf(out, outlen, "%s", t ? (const char *)t : "");
		while ((rc = sqlite3_step(st)) == SQLITE_ROW)
			;
	}
	rc = rc == SQLITE_DONE ? SQLITE_OK : sqlite3_extended_errcode(db);
	sqlite3_finalize(st);
	return rc;
}

static void *conn_open(const struct al_db_options *opts, struct al_db_error *err)
{
	const char *path = opts->sqlite_path;
	struct sqlite_conn *c = NULL;
	char value[64];
	int rc;

	if (!path || !path[0]) {
		al_db_set_error(err, AL_DB_UNAVAILABLE, "no SQLite database file is configured");
		return NULL;
	}
	if (!(c = calloc(1, sizeof *c))) {
		al_db_set_error(err, AL_DB_UNAVAILABLE, "out of memory");
		return NULL;
	}
	memset(c->slots, 0xff, sizeof c->slots);

	rc = sqlite3_open_v2(path, &c->db,
			     SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_EXRESCODE,
			     NULL);
	if (rc != SQLITE_OK) {
		open_error(err, path, c->db ? sqlite3_extended_errcode(c->db) : rc,
			   c->db ? sqlite3_errmsg(c->db) : sqlite3_errstr(rc));
		goto fail;
	}
	sqlite3_extended_result_codes(c->db, 1);
	/* READWRITE silently falls back to read-only when the file cannot be opened for writing. */
	if (sqlite3_db_readonly(c->db, "main") == 1) {
		open_error(err, path, SQLITE_READONLY, sqlite3_errstr(SQLITE_READONLY));
		goto fail;
	}
	int busy_ms = opts->busy_timeout_ms > INT_MAX ? INT_MAX : (int)opts->busy_timeout_ms;
	sqlite3_busy_timeout(c->db, busy_ms);

	/* On a new file this is the first write, so an unwritable directory shows up here. */
	if ((rc = query_text(c->db, "PRAGMA journal_mode=WAL", value, sizeof value)) != SQLITE_OK) {
		open_error(err, path, rc, sqlite3_errmsg(c->db));
		goto fail;
	}
	if (strcasecmp(value, "wal") != 0) {
		al_db_set_error(err, AL_DB_UNAVAILABLE,
				"database file %s: PRAGMA journal_mode=WAL returned \"%s\", not \"wal\" (WAL needs a "
				"local file system with shared memory; network file systems and :memory: cannot)",
				path, value);
		goto fail;
	}
	if ((rc = query_text(c->db, "PRAGMA foreign_keys=ON", value, sizeof value)) != SQLITE_OK ||
	    (rc = query_text(c->db, "PRAGMA foreign_keys", value, sizeof value)) != SQLITE_OK) {
		open_error(err, path, rc, sqlite3_errmsg(c->db));
		goto fail;
	}
	if (strcmp(value, "1") != 0) {
		al_db_set_error(err, AL_DB_UNAVAILABLE,
				"database file %s: PRAGMA foreign_keys=ON did not take effect (SQLite %s built "
				"without foreign key support?)",
				path, sqlite3_libversion());
		goto fail;
	}
	if ((rc = query_text(c->db, "PRAGMA synchronous=NORMAL", value, sizeof value)) != SQLITE_OK) {
		open_error(err, path, rc, sqlite3_errmsg(c->db));
		goto fail;
	}
	/* A write probe: on an existing WAL file nothing above wrote. It does not wait for the lock:
	 * BUSY means another connection holds it, which is normal while a server runs. */
	sqlite3_busy_timeout(c->db, 0);
	rc = sqlite3_exec(c->db, "BEGIN IMMEDIATE; COMMIT", NULL, NULL, NULL);
	if (rc != SQLITE_OK) {
		rc = sqlite3_extended_errcode(c->db);
		char msg[256];
		snprintf(msg, sizeof msg, "%s", sqlite3_errmsg(c->db));
		if (!sqlite3_get_autocommit(c->db))
			sqlite3_exec(c->db, "ROLLBACK", NULL, NULL, NULL);
		if ((rc & 0xff) != SQLITE_BUSY) {
			open_error(err, path, rc, msg);
			goto fail;
		}
	}
	sqlite3_busy_timeout(c->db, busy_ms);
	return c;
fail:
	sqlite3_close_v2(c->db);
	free(c);
	return NULL;
}

static void conn_close(void *conn)
{
	struct sqlite_conn *c = conn;
	if (!c)
		return;
	cache_clear(c);
	sqlite3_close_v2(c->db);
	free(c);
}

const struct al_db_driver al_db_sqlite_driver = {
    .name = "sqlite",
    .open = conn_open,
    .close = conn_close,
    .exec = conn_exec,
    .exec_script = conn_exec_script,
    .reset_cache = conn_reset_cache,
};
