/* SPDX-License-Identifier: Apache-2.0 */
/* Migration runner: embedded SQL files, checksums, advisory lock, one transaction each. */
#include "db/migrate.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "core/embedded.h"
#include "core/log.h"
#include "db/driver.h"

/* pg_advisory_lock key: "AgLensMg" read as a 64-bit integer. */
#define ADVISORY_KEY "4708116935049815911"

struct migration {
	int64_t version;
	char name[128];
	const struct al_embedded_file *file;
};

struct applied {
	int64_t version;
	char name[128];
	char checksum[65];
	char applied_at[40];
};

struct applied_list {
	struct applied *items;
	size_t n, cap;
	bool oom;
};

static const char *dialect_dir(struct al_db *db)
{
	return al_db_dialect(db) == AL_DB_POSTGRES ? "postgres/" : "sqlite/";
}

/* The binary's migrations for db's dialect, sorted by version (file names sort that way). */
static size_t known_migrations(struct al_db *db, struct migration *out, size_t max)
{
	const char *dir = dialect_dir(db);
	size_t n = 0, dlen = strlen(dir);
	for (size_t i = 0; i < al_embedded_migrations_count && n < max; i++) {
		const struct al_embedded_file *f = &al_embedded_migrations[i];
		if (strncmp(f->path, dir, dlen) != 0)
			continue;
		const char *base = f->path + dlen;
		char *end;
		long long v = strtoll(base, &end, 10);
		if (end == base || *end != '_' || v <= 0)
			continue;
		struct migration *m = &out[n++];
		m->version = v;
		m->file = f;
		snprintf(m->name, sizeof m->name, "%.*s", (int)(strlen(end + 1) - 4), end + 1);
	}
	return n;
}

static int collect_applied(void *ud, size_t ncols, const char *const *names, const struct al_db_value *v)
{
	struct applied_list *l = ud;
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 16;
		struct applied *grown = realloc(l->items, cap * sizeof *grown);
		if (!grown) {
			l->oom = true;
			return 1;
		}
		l->items = grown;
		l->cap = cap;
	}
	struct applied *a = &l->items[l->n++];
	memset(a, 0, sizeof *a);
	a->version = v[0].v.i;
	snprintf(a->name, sizeof a->name, "%.*s", (int)v[1].v.s.len, v[1].v.s.p);
	snprintf(a->checksum, sizeof a->checksum, "%.*s", (int)v[2].v.s.len, v[2].v.s.p);
	snprintf(a->applied_at, sizeof a->applied_at, "%.*s", (int)v[3].v.s.len, v[3].v.s.p);
	return 0;
}

static bool ensure_table(struct al_db *db, struct al_db_error *err)
{
	const char *sql = al_db_dialect(db) == AL_DB_POSTGRES
				  ? "CREATE TABLE IF NOT EXISTS schema_migrations (version BIGINT PRIMARY KEY, "
				    "name TEXT NOT NULL, checksum TEXT NOT NULL, applied_at TIMESTAMPTZ NOT NULL)"
				  : "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, "
				    "name TEXT NOT NULL, checksum TEXT NOT NULL, applied_at TEXT NOT NULL)";
	return al_db_exec(db, sql, NULL, 0, NULL, NULL, NULL, err);
}

static bool load_applied(struct al_db *db, struct applied_list *l, struct al_db_error *err)
{
	l->n = 0;
	if (!al_db_exec(db, "SELECT version, name, checksum, applied_at FROM schema_migrations ORDER BY version", NULL,
			0, collect_applied, l, NULL, err))
		return false;
	if (l->oom) {
		al_db_set_error(err, AL_DB_ERROR, "out of memory");
		return false;
	}
	return true;
}

static const struct applied *find_applied(const struct applied_list *l, int64_t version)
{
	for (size_t i = 0; i < l->n; i++)
		if (l->items[i].version == version)
			return &l->items[i];
	return NULL;
}

/* Every applied migration must be one the binary knows, with the same checksum. */
static bool verify(struct al_db *db, const struct migration *known, size_t nknown, const struct applied_list *l,
		   struct al_db_error *err)
{
	for (size_t i = 0; i < l->n; i++) {
		const struct applied *a = &l->items[i];
		const struct migration *m = NULL;
		for (size_t j = 0; j < nknown && !m; j++)
			if (known[j].version == a->version)
				m = &known[j];
		if (!m) {
			al_db_set_error(err, AL_DB_ERROR,
					"the database has migration %04lld_%s, which this binary does not know: it was "
					"migrated by a newer AgentLens; run that version (migrations are forward-only)",
					(long long)a->version, a->name);
			return false;
		}
		if (strcmp(m->file->sha256, a->checksum) != 0) {
			al_db_set_error(err, AL_DB_ERROR,
					"migration %s%04lld_%s.sql was changed after it was applied on %s (checksum %.12s "
					"in the database, %.12s in this binary); applied migrations must never change: "
					"restore the file and add a new migration instead",
					dialect_dir(db), (long long)m->version, m->name, a->applied_at, a->checksum,
					m->file->sha256);
			return false;
		}
	}
	return true;
}

static bool apply_one(struct al_db *db, const struct migration *m, bool *skipped, struct al_db_error *err)
{
	*skipped = false;
	if (!al_db_begin(db, err))
		return false;
	/* Re-check inside the transaction: another process may have applied it meanwhile. */
	struct applied_list l = {0};
	bool ok = load_applied(db, &l, err);
	if (ok && find_applied(&l, m->version)) {
		*skipped = true;
		free(l.items);
		return al_db_rollback(db, err);
	}
	free(l.items);
	char *sql = ok ? strndup(m->file->data, m->file->size) : NULL;
	if (ok && !sql) {
		al_db_set_error(err, AL_DB_ERROR, "out of memory");
		ok = false;
	}
	if (ok && !al_db_exec_script(db, sql, err)) {
		char msg[sizeof err->message];
		snprintf(msg, sizeof msg, "%s", err->message);
		al_db_set_error(err, err->code, "migration %s%04lld_%s.sql failed: %s", dialect_dir(db),
				(long long)m->version, m->name, msg);
		ok = false;
	}
	free(sql);
	if (ok) {
		char now[40];
		al_rfc3339(al_now_us(), now, sizeof now);
		struct al_db_value p[] = {
			{.type = AL_DB_INT, .v.i = m->version},
			{.type = AL_DB_TEXT, .v.s = {m->name, strlen(m->name)}},
			{.type = AL_DB_TEXT, .v.s = {m->file->sha256, strlen(m->file->sha256)}},
			{.type = AL_DB_TEXT, .v.s = {now, strlen(now)}},
		};
		ok = al_db_exec(db, "INSERT INTO schema_migrations (version, name, checksum, applied_at) VALUES (?, ?, ?, ?)",
				p, 4, NULL, NULL, NULL, err);
	}
	if (!ok) {
		struct al_db_error ignored;
		al_db_rollback(db, &ignored);
		return false;
	}
	return al_db_commit(db, err);
}

#define MAX_MIGRATIONS 1024

bool al_migrate_apply(struct al_db *db, int *applied, struct al_db_error *err)
{
	static struct migration known[MAX_MIGRATIONS];
	struct applied_list l = {0};
	bool pg = al_db_dialect(db) == AL_DB_POSTGRES, locked = false, ok = false;
	int count = 0;
	size_t nknown = known_migrations(db, known, MAX_MIGRATIONS);
	if (pg) {
		if (!al_db_exec(db, "SELECT pg_advisory_lock(" ADVISORY_KEY ")", NULL, 0, NULL, NULL, NULL, err))
			goto done;
		locked = true;
	}
	if (!ensure_table(db, err) || !load_applied(db, &l, err) || !verify(db, known, nknown, &l, err))
		goto done;
	for (size_t i = 0; i < nknown; i++) {
		if (find_applied(&l, known[i].version))
			continue;
		bool skipped;
		int64_t t0 = al_monotonic_ns();
		if (!apply_one(db, &known[i], &skipped, err))
			goto done;
		if (skipped)
			continue;
		count++;
		struct al_log_field f[] = {
			AL_LINT("version", known[i].version), AL_LSTR("name", known[i].name),
			AL_LDBL("duration_ms", (double)(al_monotonic_ns() - t0) / 1e6),
		};
		al_log_fields(AL_LOG_INFO, "migration applied", f, 3);
	}
	ok = true;
done:
	if (locked) {
		struct al_db_error ignored;
		al_db_exec(db, "SELECT pg_advisory_unlock(" ADVISORY_KEY ")", NULL, 0, NULL, NULL, NULL, &ignored);
	}
	free(l.items);
	if (applied)
		*applied = count;
	return ok;
}

bool al_migrate_status(struct al_db *db, struct al_migration_status **out, size_t *n, struct al_db_error *err)
{
	static struct migration known[MAX_MIGRATIONS];
	struct applied_list l = {0};
	size_t nknown = known_migrations(db, known, MAX_MIGRATIONS);
	*out = NULL;
	*n = 0;
	if (!ensure_table(db, err) || !load_applied(db, &l, err))
		return false;
	struct al_migration_status *s = calloc(nknown + l.n + 1, sizeof *s);
	if (!s) {
		free(l.items);
		al_db_set_error(err, AL_DB_ERROR, "out of memory");
		return false;
	}
	size_t k = 0;
	for (size_t i = 0; i < nknown; i++) {
		const struct applied *a = find_applied(&l, known[i].version);
		s[k].version = known[i].version;
		snprintf(s[k].name, sizeof s[k].name, "%s", known[i].name);
		s[k].state = !a ? AL_MIG_PENDING : strcmp(a->checksum, known[i].file->sha256) ? AL_MIG_CHANGED
											 : AL_MIG_APPLIED;
		if (a)
			snprintf(s[k].applied_at, sizeof s[k].applied_at, "%s", a->applied_at);
		k++;
	}
	for (size_t i = 0; i < l.n; i++) {
		bool is_known = false;
		for (size_t j = 0; j < nknown; j++)
			is_known = is_known || known[j].version == l.items[i].version;
		if (is_known)
			continue;
		s[k] = (struct al_migration_status){.version = l.items[i].version, .state = AL_MIG_UNKNOWN};
		snprintf(s[k].name, sizeof s[k].name, "%s", l.items[i].name);
		snprintf(s[k].applied_at, sizeof s[k].applied_at, "%s", l.items[i].applied_at);
		k++;
	}
	free(l.items);
	*out = s;
	*n = k;
	return true;
}
