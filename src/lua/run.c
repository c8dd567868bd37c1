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

bool al_lua_startup(char *err, size_t errlen)
{
	struct al_generation *g = al_generation_acquire();
	if (!g) {
		snprintf(err, errlen, "no Lua generation loaded");
		return false;
	}
	struct al_vm *vm = al_vm_new(g, AL_VM_WORKER, NULL, err, errlen);
	al_generation_release(g);
	if (!vm)
		return false;
	lua_State *L = vm->L;
	lua_getglobal(L, "require");
	lua_pushliteral(L, "agentlens.startup");
	bool ok = al_vm_pcall(vm, 1, 1, err, errlen) == 0;
	if (ok && (!lua_istable(L, -1) || (lua_getfield(L, -1, "run"), !lua_isfunction(L, -1)))) {
		snprintf(err, errlen, "agentlens.startup must return a table with a run function");
		ok = false;
	}
	if (ok) {
		lua_remove(L, -2);
		ok = al_vm_pcall(vm, 0, 2, err, errlen) == 0;
		if (ok && lua_isnil(L, -2)) {
			snprintf(err, errlen, "%s", lua_tostring(L, -1) ? lua_tostring(L, -1) : "start-up failed");
			ok = false;
		}
	}
	al_vm_free(vm);
	return ok;
}
