/* SPDX-License-Identifier: Apache-2.0 */
/* Online backup of the SQLite database (agentlens backup FILE): a consistent copy taken while
 * the server keeps writing, checked, then renamed into place. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sqlite3.h>

#include "db/driver.h"

enum {
	BUSY_TIMEOUT_MS = 5000, /* per lock wait on either file */
	RETRY_SLEEP_MS = 50,
	MAX_RETRIES = 600, /* 30 s of BUSY/LOCKED from backup_step before giving up */
};

static const char *const sidecars[] = {"", "-journal", "-wal", "-shm"};

static void remove_with_sidecars(const char *path)
{
	char p[PATH_MAX + 16];
	for (size_t i = 0; i < sizeof sidecars / sizeof sidecars[0]; i++) {
		snprintf(p, sizeof p, "%s%s", path, sidecars[i]);
		unlink(p);
	}
}

/* fsync of the directory holding path, so the rename survives a crash. */
static void sync_parent_dir(const char *path)
{
	char dir[PATH_MAX];
	const char *slash = strrchr(path, '/');
	if (!slash)
		snprintf(dir, sizeof dir, ".");
	else
		snprintf(dir, sizeof dir, "%.*s", slash == path ? 1 : (int)(slash - path), path);
	int fd = open(dir, O_RDONLY | O_DIRECTORY);
	if (fd >= 0) {
		fsync(fd);
		close(fd);
	}
}

static bool fail_sqlite(struct al_db_error *err, sqlite3 *db, const char *what, const char *path)
{
	int rc = sqlite3_extended_errcode(db) & 0xff;
	enum al_db_code code = AL_DB_UNAVAILABLE;
	if (rc == SQLITE_BUSY || rc == SQLITE_LOCKED)
		code = AL_DB_BUSY;
	else if (rc == SQLITE_READONLY || rc == SQLITE_CANTOPEN)
		code = AL_DB_READONLY;
	al_db_set_error(err, code, "backup: %s %s: %s", what, path, sqlite3_errmsg(db));
	return false;
}

/* Copies the database at src_path to dst_path. The copy is written to dst_path.tmp, switched to
 * journal_mode=DELETE (one self-contained file), checked with PRAGMA integrity_check and only
 * then renamed over dst_path: an existing file there is replaced, a failure leaves it as it was.
 * Refuses dst == src and a dst that has -wal/-journal files (an open or crashed database).
 * Safe while other connections or processes write src: in WAL mode the copy reads one snapshot
 * and does not block writers. Strings are borrowed. */
bool al_db_sqlite_backup(const char *src_path, const char *dst_path, struct al_db_error *err)
{
	char tmp[PATH_MAX], value[256];
	sqlite3 *src = NULL, *dst = NULL;
	sqlite3_backup *bk = NULL;
	sqlite3_stmt *st = NULL;
	struct stat ss, ds;
	int rc, retries = 0;
	bool ok = false;

	if (snprintf(tmp, sizeof tmp, "%s.tmp", dst_path) >= (int)sizeof tmp) {
		al_db_set_error(err, AL_DB_ERROR, "backup: destination path too long");
		return false;
	}
	if (stat(src_path, &ss) != 0) {
		al_db_set_error(err, AL_DB_UNAVAILABLE, "backup: database file %s: %s", src_path, strerror(errno));
		return false;
	}
	if (strcmp(src_path, dst_path) == 0 ||
	    (stat(dst_path, &ds) == 0 && ds.st_dev == ss.st_dev && ds.st_ino == ss.st_ino)) {
		al_db_set_error(err, AL_DB_ERROR, "backup: the destination %s is the database itself", dst_path);
		return false;
	}
	for (size_t i = 1; i < 3; i++) { /* -journal, -wal: a hot journal would be applied to the copy */
		char side[PATH_MAX + 16];
		snprintf(side, sizeof side, "%s%s", dst_path, sidecars[i]);
		if (access(side, F_OK) == 0) {
			al_db_set_error(err, AL_DB_ERROR,
					"backup: refusing to replace %s: %s exists (is that database open?)", dst_path,
					side);
			return false;
		}
	}

	/* READONLY: the backup never writes the live database. */
	if (sqlite3_open_v2(src_path, &src, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
		fail_sqlite(err, src, "cannot open", src_path);
		goto fail;
	}
	sqlite3_busy_timeout(src, BUSY_TIMEOUT_MS);
	remove_with_sidecars(tmp); /* a leftover of an interrupted backup */
	if (sqlite3_open_v2(tmp, &dst, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL) !=
	    SQLITE_OK) {
		fail_sqlite(err, dst, "cannot create", tmp);
		goto fail;
	}
	sqlite3_busy_timeout(dst, BUSY_TIMEOUT_MS);

	if (!(bk = sqlite3_backup_init(dst, "main", src, "main"))) {
		fail_sqlite(err, dst, "cannot start copying to", tmp);
		goto fail;
	}
	/* All pages in one step: the read transaction then spans the whole copy, so it sees one
	 * snapshot. Stepping in chunks would restart from page 1 after every write another
	 * connection commits, which never finishes under a steady write load. */
	while ((rc = sqlite3_backup_step(bk, -1)) != SQLITE_DONE) {
		if ((rc == SQLITE_BUSY || rc == SQLITE_LOCKED) && ++retries <= MAX_RETRIES) {
			sqlite3_sleep(RETRY_SLEEP_MS);
			continue;
		}
		if (rc == SQLITE_OK) /* not expected with -1, but harmless: keep stepping */
			continue;
		sqlite3_backup_finish(bk);
		bk = NULL;
		al_db_set_error(err, rc == SQLITE_BUSY || rc == SQLITE_LOCKED ? AL_DB_BUSY : AL_DB_UNAVAILABLE,
				"backup: copying %s to %s failed: %s", src_path, tmp, sqlite3_errstr(rc));
		goto fail;
	}
	rc = sqlite3_backup_finish(bk);
	bk = NULL;
	if (rc != SQLITE_OK) {
		fail_sqlite(err, dst, "copying to", tmp);
		goto fail;
	}
	sqlite3_close_v2(src);
	src = NULL;

	/* The copy carries the source's WAL flag; make it one file that opens anywhere. */
	if (sqlite3_exec(dst, "PRAGMA journal_mode=DELETE", NULL, NULL, NULL) != SQLITE_OK) {
		fail_sqlite(err, dst, "cannot finish", tmp);
		goto fail;
	}
	if (sqlite3_prepare_v2(dst, "PRAGMA integrity_check", -1, &st, NULL) != SQLITE_OK) {
		fail_sqlite(err, dst, "cannot check", tmp);
		goto fail;
	}
	value[0] = '\0';
	if ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const unsigned char *t = sqlite3_column_text(st, 0);
		snprintf(value, sizeof value, "%s", t ? (const char *)t : "");
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_ROW) {
		fail_sqlite(err, dst, "cannot check", tmp);
		goto fail;
	}
	if (strcmp(value, "ok") != 0) {
		al_db_set_error(err, AL_DB_UNAVAILABLE, "backup: the copy failed PRAGMA integrity_check: %s", value);
		goto fail;
	}
	if (sqlite3_close(dst) != SQLITE_OK) {
		fail_sqlite(err, dst, "cannot close", tmp);
		goto fail;
	}
	dst = NULL;
	if (rename(tmp, dst_path) != 0) {
		al_db_set_error(err, AL_DB_READONLY, "backup: cannot rename %s to %s: %s", tmp, dst_path,
				strerror(errno));
		goto fail;
	}
	sync_parent_dir(dst_path);
	ok = true;
fail:
	if (bk)
		sqlite3_backup_finish(bk);
	sqlite3_close_v2(src);
	sqlite3_close_v2(dst);
	if (!ok)
		remove_with_sidecars(tmp);
	return ok;
}
