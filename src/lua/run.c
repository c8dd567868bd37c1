/* SPDX-License-Identifier: Apache-2.0 */
/* `agentlens run SCRIPT`: a Lua interpreter with the agentlens namespaces (test tools). */
#include <lauxlib.h>
#include <stdio.h>
#include <string.h>

#include "core/log.h"
#include "db/db.h"
#include "db/migrate.h"
#include "lua/generation.h"
#include "lua/host.h"
#include "lua/vm.h"

int al_lua_run_script(const struct al_config *cfg, int argc, char *const argv[])
{
	char err[4096];
	al_lua_config = cfg;
	if (!al_generation_reload(err, sizeof err)) {
		fprintf(stderr, "agentlens run: %s\n", err);
		return 1;
	}
	/* The configured database, migrated, as the server would see it (specs use it). */
	struct al_db_options opts;
	al_db_options_from_config(&opts, cfg);
	al_db_configure(&opts);
	struct al_db_error dberr;
	struct al_db *db = al_db_thread(&dberr);
	if (!db || !al_migrate_apply(db, NULL, &dberr))
		al_warn("agentlens run: database not available: %s", dberr.message);
	struct al_generation *g = al_generation_acquire();
	struct al_vm *vm = al_vm_new(g, AL_VM_SCRIPT, NULL, err, sizeof err);
	al_generation_release(g);
	if (!vm) {
		fprintf(stderr, "agentlens run: %s\n", err);
		return 1;
	}
	lua_State *L = vm->L;
	/* arg table as the standalone interpreter builds it: arg[0] = script, arg[1..] = args */
	lua_createtable(L, argc, 1);
	for (int i = 0; i < argc; i++) {
		lua_pushstring(L, argv[i]);
		lua_rawseti(L, -2, i);
	}
	lua_setglobal(L, "arg");
	int status = 1;
	if (luaL_loadfile(L, argv[0]) != 0) {
		fprintf(stderr, "agentlens run: %s\n", lua_tostring(L, -1));
		goto done;
	}
	for (int i = 1; i < argc; i++)
		lua_pushstring(L, argv[i]);
	if (al_vm_pcall(vm, argc - 1, 0, err, sizeof err) != 0) {
		fprintf(stderr, "agentlens run: %s\n", err);
		goto done;
	}
	status = 0;
done:
	al_vm_free(vm);
	al_db_thread_close();
	al_generation_clear();
	return status;
}
