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
	"rawequal", "rawget", "setmetatable", NULL,
};

/* Instructions left while a script loads; spent once the hook has raised the budget error. */
static __thread long budget_left;
static __thread bool budget_spent;

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

static int l_module_newindex(lua_State *L)
{
	return luaL_error(L, "modules are read-only in scripts (assignment to '%s')",
			  lua_tostring(L, 2) ? lua_tostring(L, 2) : "?");
}

/* The shipped modules get the same module tables from require, so a script sees a read-only
 * view: it must not be able to replace, say, agentlens.json.encode for the whole VM. */
static int l_sandbox_require(lua_State *L)
{
	const char *name = luaL_checkstring(L, 1);
	if (!listed(requirable, name))
		return luaL_error(L, "require of '%s' is not allowed in scripts (allowed: agentlens.json, agentlens.log, "
				  "agentlens.time, agentlens.crypto, agentlens.config)", name);
	lua_getglobal(L, "require");
	lua_pushvalue(L, 1);
	lua_call(L, 1, 1);
	if (!lua_istable(L, -1))
		return 1;
	lua_newtable(L);
	lua_createtable(L, 0, 3);
	lua_pushvalue(L, -3);
	lua_setfield(L, -2, "__index");
	lua_pushcfunction(L, l_module_newindex);
	lua_setfield(L, -2, "__newindex");
	lua_pushliteral(L, "modules are read-only in scripts");
	lua_setfield(L, -2, "__metatable");
	lua_setmetatable(L, -2);
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

/* The handler of an error raised by the budget hook runs inside the hook, with hooks off: a
 * looping handler would never be stopped, so it is skipped once the budget is spent.
 * Stack: [msg] -> [msg or handler(msg)]; upvalue 1 is the script's handler. */
static int l_sandbox_xpcall_handler(lua_State *L)
{
	if (budget_spent)
		return 1;
	lua_pushvalue(L, lua_upvalueindex(1));
	lua_insert(L, 1);
	lua_call(L, lua_gettop(L) - 1, 1);
	return 1;
}

/* xpcall(f, handler) with the handler wrapped as above; upvalue 1 is the real xpcall. */
static int l_sandbox_xpcall(lua_State *L)
{
	if (lua_gettop(L) < 2)
		return luaL_error(L, "bad argument #2 to 'xpcall' (value expected)");
	lua_settop(L, 2);
	lua_pushcclosure(L, l_sandbox_xpcall_handler, 1);
	lua_pushvalue(L, lua_upvalueindex(1));
	lua_insert(L, 1);
	lua_call(L, 2, LUA_MULTRET);
	return lua_gettop(L);
}

static void push_env(lua_State *L)
{
	lua_newtable(L);
	for (size_t i = 0; base_functions[i]; i++) {
		lua_getglobal(L, base_functions[i]);
		lua_setfield(L, -2, base_functions[i]);
	}
	lua_getglobal(L, "xpcall");
	lua_pushcclosure(L, l_sandbox_xpcall, 1);
	lua_setfield(L, -2, "xpcall");
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

static void budget_hook(lua_State *L, lua_Debug *ar)
{
	budget_left -= HOOK_EVERY;
	if (budget_left > 0)
		return;
	budget_spent = true;
	/* From now on every instruction fails, so a pcall in the script cannot swallow the error
	 * and loop again. Level 0 in a hook is the running Lua function: "file:line:" first. */
	lua_sethook(L, budget_hook, LUA_MASKCOUNT, 1);
	luaL_where(L, 0);
	lua_pushliteral(L, "script exceeded its instruction budget while loading (endless loop?)");
	lua_concat(L, 2);
	lua_error(L);
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
	if (src->len > 0 && src->code[0] == LUA_SIGNATURE[0]) {
		snprintf(err, errlen, "%s: precompiled bytecode is not allowed in scripts (give the Lua source)",
			 src->file);
		return false;
	}
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
	budget_spent = false;
	lua_sethook(L, budget_hook, LUA_MASKCOUNT, HOOK_EVERY);
	int rc = lua_pcall(L, 0, 1, top + 1);
	lua_sethook(L, NULL, 0, 0);
	budget_spent = false;
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
