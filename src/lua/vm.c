/* SPDX-License-Identifier: Apache-2.0 */
/* Lua states built from a generation: loader for embedded modules, namespaces, handlers. */
#include "lua/vm.h"

#include <lauxlib.h>
#include <luajit.h>
#include <lualib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "http/router.h"
#include "lua/api.h"
#include "lua/generation.h"

static __thread struct al_request *current_request;

struct al_request *al_vm_current_request(void)
{
	return current_request;
}

void al_vm_set_current_request(struct al_request *r)
{
	current_request = r;
}

static int l_traceback(lua_State *L)
{
	const char *msg = lua_tostring(L, 1);
	if (!msg)
		msg = lua_isnoneornil(L, 1) ? "error (nil)" : "error (a non-string value)";
	luaL_traceback(L, L, msg, 1);
	return 1;
}

int al_vm_pcall(struct al_vm *vm, int nargs, int nresults, char *err, size_t errlen)
{
	lua_State *L = vm->L;
	int base = lua_gettop(L) - nargs;
	lua_pushcfunction(L, l_traceback);
	lua_insert(L, base);
	int rc = lua_pcall(L, nargs, nresults, base);
	lua_remove(L, base);
	if (rc != 0) {
		if (rc == LUA_ERRMEM)
			vm->broken = true;
		if (err && errlen)
			snprintf(err, errlen, "%s", lua_tostring(L, -1) ? lua_tostring(L, -1) : "unknown error");
		lua_pop(L, 1);
	}
	return rc;
}

/* package.loaders entry: finds product modules in the generation (upvalue 1). */
static int l_searcher(lua_State *L)
{
	const char *name = luaL_checkstring(L, 1);
	const struct al_generation *g = lua_touserdata(L, lua_upvalueindex(1));
	const struct al_source *s = al_generation_module(g, name);
	if (!s) {
		lua_pushfstring(L, "\n\tno module '%s' in the Lua generation", name);
		return 1;
	}
	char chunk[512];
	snprintf(chunk, sizeof chunk, "@%s", s->file);
	if (luaL_loadbufferx(L, s->code, s->len, chunk, "t") != 0)
		return lua_error(L);
	return 1;
}

static int l_scripts(lua_State *L)
{
	lua_getfield(L, LUA_REGISTRYINDEX, "agentlens.scripts");
	return 1;
}

void al_vm_preload(lua_State *L)
{
	static const luaL_Reg mods[] = {
		{"agentlens.config", al_open_config}, {"agentlens.crypto", al_open_crypto},
		{"agentlens.db", al_open_db},
		{"agentlens.http", al_open_http},     {"agentlens.json", al_open_json},
		{"agentlens.log", al_open_log},       {"agentlens.system", al_open_system},
		{"agentlens.time", al_open_time},     {"agentlens.scripts", l_scripts},
		{"agentlens.shared", al_open_shared}, {"agentlens.testing", al_open_testing},
		{"agentlens.httpc", al_open_httpc},   {"agentlens.yaml", al_open_yaml},
		{NULL, NULL},
	};
	lua_getglobal(L, "package");
	lua_getfield(L, -1, "preload");
	for (const luaL_Reg *m = mods; m->name; m++) {
		lua_pushcfunction(L, m->func);
		lua_setfield(L, -2, m->name);
	}
	lua_pop(L, 2);
}

/* Stack: package.loaders gets [preload searcher, generation searcher(, file searchers)]. */
static void install_searcher(lua_State *L, struct al_generation *g, bool keep_files)
{
	lua_getglobal(L, "package");
	lua_getfield(L, -1, "loaders");
	int loaders = lua_gettop(L);
	int n = (int)lua_objlen(L, loaders);
	lua_newtable(L);
	lua_rawgeti(L, loaders, 1);
	lua_rawseti(L, -2, 1);
	lua_pushlightuserdata(L, g);
	lua_pushcclosure(L, l_searcher, 1);
	lua_rawseti(L, -2, 2);
	for (int i = 2; keep_files && i <= n; i++) {
		lua_rawgeti(L, loaders, i);
		lua_rawseti(L, -2, i + 1);
	}
	lua_setfield(L, loaders - 1, "loaders");
	lua_pop(L, 2);
}

/* Runs the operator scripts in their sandboxes; registry["agentlens.scripts"] becomes an
 * array of {name = ..., file = ..., exports = <what the script returned>}. */
static bool load_scripts(struct al_vm *vm, char *err, size_t errlen)
{
	lua_State *L = vm->L;
	lua_newtable(L);
	for (size_t i = 0; i < vm->gen->nscripts; i++) {
		const struct al_source *s = &vm->gen->scripts[i];
		if (!al_sandbox_run(L, s, err, errlen)) {
			lua_pop(L, 1);
			return false;
		}
		lua_createtable(L, 0, 3);
		lua_pushstring(L, s->name);
		lua_setfield(L, -2, "name");
		lua_pushstring(L, s->file);
		lua_setfield(L, -2, "file");
		lua_insert(L, -2);
		lua_setfield(L, -2, "exports");
		lua_rawseti(L, -2, (int)i + 1);
	}
	lua_setfield(L, LUA_REGISTRYINDEX, "agentlens.scripts");
	return true;
}

/* After start-up, reading or writing an undeclared global is a bug: make it an error. */
static const char strict_globals[] =
	"local mt = {}\n"
	"function mt.__newindex(_, k) error(\"assignment to undeclared global '\" .. tostring(k) .. \"'\", 2) end\n"
	"function mt.__index(_, k) error(\"read of undeclared global '\" .. tostring(k) .. \"'\", 2) end\n"
	"setmetatable(_G, mt)\n";

/* Calls agentlens.server.init(); stack after: routes array. */
static bool init_server(struct al_vm *vm, enum al_vm_mode mode, struct al_router **router_out, char *err,
			size_t errlen)
{
	lua_State *L = vm->L;
	lua_getglobal(L, "require");
	lua_pushliteral(L, "agentlens.server");
	if (al_vm_pcall(vm, 1, 1, err, errlen) != 0)
		return false;
	lua_getfield(L, -1, "dispatch");
	if (!lua_isfunction(L, -1)) {
		snprintf(err, errlen, "agentlens.server: dispatch is not a function");
		lua_pop(L, 2);
		return false;
	}
	vm->dispatch_ref = luaL_ref(L, LUA_REGISTRYINDEX);
	lua_getfield(L, -1, "init");
	lua_remove(L, -2);
	if (al_vm_pcall(vm, 0, 1, err, errlen) != 0)
		return false;
	if (!lua_istable(L, -1)) {
		snprintf(err, errlen, "agentlens.server.init must return the route list");
		lua_pop(L, 1);
		return false;
	}
	struct al_router *router = NULL;
	if (mode == AL_VM_VALIDATE && !(router = al_router_new())) {
		snprintf(err, errlen, "out of memory");
		lua_pop(L, 1);
		return false;
	}
	vm->nroutes = lua_objlen(L, -1);
	for (size_t i = 1; router && i <= vm->nroutes; i++) {
		lua_rawgeti(L, -1, (int)i);
		lua_getfield(L, -1, "method");
		lua_getfield(L, -2, "path");
		const char *method = lua_tostring(L, -2), *path = lua_tostring(L, -1);
		char why[256];
		bool ok = method && path && al_router_add(router, method, path, (int)i - 1, why, sizeof why);
		if (!ok)
			snprintf(err, errlen, "route table, entry %zu: %s", i,
				 method && path ? why : "method and path must be strings");
		lua_pop(L, 3);
		if (!ok) {
			al_router_free(router);
			lua_pop(L, 1);
			return false;
		}
	}
	lua_pop(L, 1);
	if (router_out)
		*router_out = router;
	return true;
}

struct al_vm *al_vm_new(struct al_generation *gen, enum al_vm_mode mode, struct al_router **router_out, char *err,
			size_t errlen)
{
	struct al_vm *vm = calloc(1, sizeof *vm);
	if (!vm || !(vm->L = luaL_newstate())) {
		snprintf(err, errlen, "cannot create a Lua state: out of memory");
		free(vm);
		return NULL;
	}
	atomic_fetch_add(&gen->refs, 1);
	vm->gen = gen;
	vm->dispatch_ref = LUA_NOREF;
	lua_State *L = vm->L;
	luaL_openlibs(L);
	al_vm_preload(L);
	install_searcher(L, gen, mode == AL_VM_SCRIPT);
	al_http_push_request_metatable(L);
	vm->req_mt_ref = luaL_ref(L, LUA_REGISTRYINDEX);
	if (!load_scripts(vm, err, errlen))
		goto fail;
	if (mode == AL_VM_SCRIPT)
		return vm;
	if (!init_server(vm, mode, router_out, err, errlen))
		goto fail;
	if (luaL_dostring(L, strict_globals) != 0) {
		snprintf(err, errlen, "strict globals: %s", lua_tostring(L, -1));
		goto fail;
	}
	lua_gc(L, LUA_GCCOLLECT, 0);
	return vm;
fail:
	al_vm_free(vm);
	return NULL;
}

void al_vm_free(struct al_vm *vm)
{
	if (!vm)
		return;
	if (vm->L)
		lua_close(vm->L);
	if (vm->gen)
		al_generation_release(vm->gen);
	free(vm);
}
