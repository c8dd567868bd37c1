/* SPDX-License-Identifier: Apache-2.0 */
/* agentlens.system: the Lua generation, the last reload error, reload triggers. */
#include <lauxlib.h>
#include <stdio.h>

#include "core/clock.h"
#include "http/router.h"
#include "lua/api.h"
#include "lua/generation.h"
#include "lua/host.h"

static void push_time(lua_State *L, int64_t us)
{
	char out[40];
	size_t n = al_rfc3339(us, out, sizeof out);
	lua_pushlstring(L, out, n);
}

/* system.generation() -> {id, created_at, origin, modules, scripts, routes} of the published
 * generation, or nil before start-up finished. */
static int l_generation(lua_State *L)
{
	struct al_generation *g = al_generation_acquire();
	if (!g)
		return 0;
	lua_createtable(L, 0, 6);
	lua_pushnumber(L, (lua_Number)g->id);
	lua_setfield(L, -2, "id");
	push_time(L, g->created_us);
	lua_setfield(L, -2, "created_at");
	lua_pushstring(L, g->origin);
	lua_setfield(L, -2, "origin");
	lua_pushinteger(L, (lua_Integer)g->nmodules);
	lua_setfield(L, -2, "modules");
	lua_pushinteger(L, (lua_Integer)g->nscripts);
	lua_setfield(L, -2, "scripts");
	lua_pushinteger(L, (lua_Integer)al_router_count(g->router));
	lua_setfield(L, -2, "routes");
	al_generation_release(g);
	return 1;
}

/* system.last_reload_error() -> {message, file, line, at} | nil when the last reload worked */
static int l_last_reload_error(lua_State *L)
{
	struct al_reload_error e;
	al_generation_last_error(&e);
	if (!e.present)
		return 0;
	lua_createtable(L, 0, 4);
	lua_pushstring(L, e.message);
	lua_setfield(L, -2, "message");
	if (e.file[0]) {
		lua_pushstring(L, e.file);
		lua_setfield(L, -2, "file");
		lua_pushinteger(L, e.line);
		lua_setfield(L, -2, "line");
	}
	push_time(L, e.at_us);
	lua_setfield(L, -2, "at");
	return 1;
}

/* system.reload() -> true; the reload runs on the reload thread, its outcome shows in
 * generation() and last_reload_error(). */
static int l_reload(lua_State *L)
{
	al_lua_request_reload();
	lua_pushboolean(L, 1);
	return 1;
}

/* system.version() -> the AgentLens version string */
static int l_version(lua_State *L)
{
	lua_pushstring(L, AL_VERSION);
	return 1;
}

/* system.print(text): writes text to standard output, not to the log (the first-start admin
 * password banner must not end up in log storage). */
static int l_print(lua_State *L)
{
	size_t len;
	const char *s = luaL_checklstring(L, 1, &len);
	fwrite(s, 1, len, stdout);
	fflush(stdout);
	return 0;
}

int al_open_system(lua_State *L)
{
	static const luaL_Reg fns[] = {
		{"generation", l_generation},
		{"last_reload_error", l_last_reload_error},
		{"reload", l_reload},
		{"version", l_version},
		{"print", l_print},
		{NULL, NULL},
	};
	lua_newtable(L);
	luaL_register(L, NULL, fns);
	return 1;
}
