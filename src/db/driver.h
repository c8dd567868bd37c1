/* SPDX-License-Identifier: Apache-2.0 */
/* The driver interface behind db.h: each driver fills one of these. */
#ifndef AL_DB_DRIVER_H
#define AL_DB_DRIVER_H

#include "db/db.h"

struct al_db_driver {
	const char *name;
	/* Returns the driver's connection state, or NULL with err set. */
	void *(*open)(const struct al_db_options *opts, struct al_db_error *err);
	void (*close)(void *conn);
	bool (*exec)(void *conn, const char *sql, const struct al_db_value *params, size_t nparams, al_db_row_fn row_fn,
		     void *ud, int64_t *changes, struct al_db_error *err);
	bool (*exec_script)(void *conn, const char *sql, struct al_db_error *err);
	/* Drops every cached prepared statement (after schema changes, or a reconnect). */
	void (*reset_cache)(void *conn);
};

extern const struct al_db_driver al_db_sqlite_driver;
extern const struct al_db_driver al_db_postgres_driver;

/* Shared helper for drivers: fills err (code + formatted message). */
void al_db_set_error(struct al_db_error *err, enum al_db_code code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#endif
