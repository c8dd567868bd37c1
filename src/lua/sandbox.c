/* SPDX-License-Identifier: Apache-2.0 */
/* Sandbox for operator scripts: an allow-list environment, text chunks only, no global
 * writes, unknown globals are errors, and an instruction budget while the script loads. */
#include <lauxlib.h>
#include <luajit.h>
#include <stdio.h>
#include <string.h>

#include "lua/api.h"
#include "lua/generation.h"

/* Instructions a script may run while it loads (declares its rules). */
#define LOAD_BUDGET 10000000
#define HOOK_EVERY 10000

static const char *const base_functions[] = {
	"assert", "error", "ipairs", "next", "pairs", "pcall", "select", "tonumber", "tostring", "type", "unpack",
	"xpcall", "rawequal", "rawget", "setmetatable", NULL,
};

struct lib_allow {
	const char *lib;
	const char *const *names; /* NULL: every function of the library */
};

static const char *const os_names[] = {"time", "clock", "date", "difftime", NULL};
static const char *const math_deny[] = {"randomseed", NULL};
static const char *const string_deny[] = {"dump", NULL};

static const char *const requirable[] = {
	"agentlens.json", "agentlens.log", "agentlens.time", "agentlens.crypto", "agentlens.config", NULL,
};

static bool listed(const char *const *list, const char *name)
{
	for (size_t i = 0; list && list[i]; i++)
		if (strcmp(list[i], name) == 0)
			return true;
	return false;
}

/* Stack: [..., env] -> unchanged; env[lib] = copy of _G[lib] filtered by allow or deny list. */
static void copy_lib(lua_State *L, const char *lib, const char *const *allow, const char *const *deny)
{
	lua_getglobal(L, lib);
	if (!lua_istable(L, -1)) {
		lua_pop(L, 1);
		return;
	}
	lua_newtable(L);
	lua_pushnil(L);
	while (lua_next(L, -3)) {
		const char *k = lua_type(L, -2) == LUA_TSTRING ? lua_tostring(L, -2) : NULL;
		if (k && (allow ? listed(allow, k) : !listed(deny, k))) {
			lua_pushvalue(L, -2);
			lua_insert(L, -2);
			lua_rawset(L, -4);
		} else {
			lua_pop(L, 1);
		}
	}
	lua_setfield(L, -3, lib);
	lua_pop(L, 1);
}

static int l_sandbox_require(lua_State *L)
{
	const char *name = luaL_checkstring(L, 1);
	if (!listed(requirable, name))
		return luaL_error(L, "require of '%s' is not allowed in scripts (allowed: agentlens.json, agentlens.log, "
				  "agentlens.time, agentlens.crypto, agentlens.config)", name);
	lua_getglobal(L, "require");
	lua_pushvalue(L, 1);
	lua_call(L, 1, 1);
	return 1;
}

static int l_env_index(lua_State *L)
{
	return luaL_error(L, "unknown global '%s'", luaL_checkstring(L, 2));
}

static int l_env_newindex(lua_State *L)
{
	return luaL_error(L, "global writes are not allowed in scripts (assignment to '%s'); use local",
			  lua_tostring(L, 2) ? lua_tostring(L, 2) : "?");
}

static void push_env(lua_State *L)
{
	lua_newtable(L);
	for (size_t i = 0; base_functions[i]; i++) {
		lua_getglobal(L, base_functions[i]);
		lua_setfield(L, -2, base_functions[i]);
	}
	lua_pushcfunction(L, l_sandbox_require);
	lua_setfield(L, -2, "require");
	copy_lib(L, "string", NULL, string_deny);
	copy_lib(L, "table", NULL, NULL);
	copy_lib(L, "math", NULL, math_deny);
	copy_lib(L, "os", os_names, NULL);
	copy_lib(L, "coroutine", NULL, NULL);
	copy_lib(L, "bit", NULL, NULL);
	lua_createtable(L, 0, 3);
	lua_pushcfunction(L, l_env_index);
	lua_setfield(L, -2, "__index");
	lua_pushcfunction(L, l_env_newindex);
	lua_setfield(L, -2, "__newindex");
	lua_pushliteral(L, "scripts cannot inspect their environment");
	lua_setfield(L, -2, "__metatable");
	lua_setmetatable(L, -2);
}

static __thread long budget_left;

static void budget_hook(lua_State *L, lua_Debug *ar)
{
	budget_left -= HOOK_EVERY;
	if (budget_left <= 0)
		luaL_error(L, "script exceeded its instruction budget while loading (endless loop?)");
}

static int l_traceback(lua_State *L)
{
	luaL_traceback(L, L, lua_tostring(L, 1) ? lua_tostring(L, 1) : "error", 1);
	return 1;
}

bool al_sandbox_run(lua_State *L, const struct al_source *src, char *err, size_t errlen)
{
	int top = lua_gettop(L);
	char chunk[512];
	snprintf(chunk, sizeof chunk, "@%s", src->file);
	lua_pushcfunction(L, l_traceback);
	/* "t": text only; precompiled bytecode could break the VM's safety guarantees. */
	if (luaL_loadbufferx(L, src->code, src->len, chunk, "t") != 0) {
		snprintf(err, errlen, "%s", lua_tostring(L, -1));
		lua_settop(L, top);
		return false;
	}
	/* Interpreted only, so the instruction hook always runs (compiled traces skip hooks). */
	luaJIT_setmode(L, -1, LUAJIT_MODE_ALLFUNC | LUAJIT_MODE_OFF);
	push_env(L);
	lua_setfenv(L, -2);
	budget_left = LOAD_BUDGET;
	lua_sethook(L, budget_hook, LUA_MASKCOUNT, HOOK_EVERY);
	int rc = lua_pcall(L, 0, 1, top + 1);
	lua_sethook(L, NULL, 0, 0);
	if (rc != 0) {
		snprintf(err, errlen, "%s", lua_tostring(L, -1) ? lua_tostring(L, -1) : "script failed");
		lua_settop(L, top);
		return false;
	}
	if (lua_isnil(L, -1)) {
		lua_pop(L, 1);
		lua_newtable(L);
	} else if (!lua_istable(L, -1)) {
		snprintf(err, errlen, "%s: a script must return a table (or nothing), not a %s", src->file,
			 luaL_typename(L, -1));
		lua_settop(L, top);
		return false;
	}
	lua_remove(L, top + 1);
	return true;
}
