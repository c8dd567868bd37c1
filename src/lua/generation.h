/* SPDX-License-Identifier: Apache-2.0 */
/* Lua generations: an immutable set of module and script sources plus the router built from
 * them. A reload builds and validates a new generation, then publishes it atomically; workers
 * notice the new id at their next request and rebuild their state from it. */
#ifndef AL_LUA_GENERATION_H
#define AL_LUA_GENERATION_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct al_router;
struct al_config;

struct al_source {
	char *name;      /* module name ("agentlens.api.system") or script name ("deny-delete") */
	char *file;      /* what error messages show: "lua/agentlens/api/system.lua", or a disk path */
	char *code;      /* owned */
	size_t len;
};

struct al_generation {
	uint64_t id;
	atomic_int refs;
	struct al_source *modules;
	size_t nmodules;
	struct al_source *scripts;
	size_t nscripts;
	struct al_router *router; /* owned; built from the route table while validating */
	int64_t created_us;
	const char *origin; /* "embedded" or the lua_dir path (static or owned by the config) */
};

/* Configuration the Lua host was started with (read-only; lives as long as the process). */
extern const struct al_config *al_lua_config;

/* Reads sources, validates them in a scratch state, publishes on success. On failure records
 * the error (file and line) as the last reload error and keeps the current generation. */
bool al_generation_reload(char *err, size_t errlen);
/* Current generation with a reference taken (never NULL after a successful start). */
struct al_generation *al_generation_acquire(void);
void al_generation_release(struct al_generation *g);
/* Id of the published generation (cheap: one atomic load). */
uint64_t al_generation_current_id(void);
/* Drops the published generation (shutdown). */
void al_generation_clear(void);

struct al_reload_error {
	bool present;
	char message[1024];
	char file[256];
	int line;
	int64_t at_us;
};
/* Copies the last reload error (present=false when the last reload succeeded). */
void al_generation_last_error(struct al_reload_error *out);

/* Finds a module source by name; NULL when absent. */
const struct al_source *al_generation_module(const struct al_generation *g, const char *name);

#endif
