/* SPDX-License-Identifier: Apache-2.0 */
/* Versioned, forward-only migrations embedded from migrations/<dialect>/NNNN_name.sql. */
#ifndef AL_DB_MIGRATE_H
#define AL_DB_MIGRATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "db/db.h"

enum al_migration_state { AL_MIG_PENDING, AL_MIG_APPLIED, AL_MIG_CHANGED, AL_MIG_UNKNOWN };

struct al_migration_status {
	int64_t version;
	char name[128];
	enum al_migration_state state;
	char applied_at[40]; /* RFC 3339, "" when pending */
};

/* Applies every pending migration, each in its own transaction, recording version, name,
 * checksum and time in schema_migrations. On PostgreSQL an advisory lock serialises
 * concurrent start-ups of several replicas. Refuses to run (AL_DB_ERROR, clear message) when an
 * applied migration's file changed or the database has versions this binary does not know.
 * *applied (may be NULL) receives how many migrations ran. */
bool al_migrate_apply(struct al_db *db, int *applied, struct al_db_error *err);

/* Lists every migration known to the binary or recorded in the database, in version order.
 * Caller frees *out. */
bool al_migrate_status(struct al_db *db, struct al_migration_status **out, size_t *n, struct al_db_error *err);

#endif
