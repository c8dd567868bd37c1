/* SPDX-License-Identifier: Apache-2.0 */
/* agentlens.time: wall and monotonic clocks, RFC 3339, durations. */
#include <lauxlib.h>
#include <math.h>

#include "core/clock.h"
#include "core/units.h"
#include "lua/api.h"

/* time.now() -> seconds since the epoch (float, microsecond resolution) */
static int l_now(lua_State *L)
{
	lua_pushnumber(L, (lua_Number)al_now_us() / 1e6);
	return 1;
}

/* time.monotonic() -> seconds (float) from an arbitrary origin; never goes backwards */
static int l_monotonic(lua_State *L)
{
	lua_pushnumber(L, (lua_Number)al_monotonic_ns() / 1e9);
	return 1;
}

/* time.rfc3339([seconds]) -> "2026-12-04T16:26:10.123Z" */
static int l_rfc3339(lua_State *L)
{
	int64_t us = lua_isnoneornil(L, 1) ? al_now_us() : (int64_t)llround(luaL_checknumber(L, 1) * 1e6);
	char out[40];
	size_t n = al_rfc3339(us, out, sizeof out);
	lua_pushlstring(L, out, n);
	return 1;
}

/* time.parse_rfc3339(s) -> seconds | nil, message */
static int l_parse_rfc3339(lua_State *L)
{
	size_t len;
	const char *s = luaL_checklstring(L, 1, &len);
	int64_t us;
	if (!al_rfc3339_parse(s, len, &us)) {
		lua_pushnil(L);
		lua_pushfstring(L, "invalid RFC 3339 time \"%s\"", s);
		return 2;
	}
	lua_pushnumber(L, (lua_Number)us / 1e6);
	return 1;
}

/* time.parse_duration("30s") -> milliseconds | nil, message */
static int l_parse_duration(lua_State *L)
{
	const char *s = luaL_checkstring(L, 1);
	int64_t ms;
	if (!al_parse_duration_ms(s, &ms)) {
		lua_pushnil(L);
		lua_pushfstring(L, "invalid duration \"%s\" (expected e.g. 1500ms, 30s, 5m, 24h)", s);
		return 2;
	}
	lua_pushnumber(L, (lua_Number)ms);
	return 1;
}

/* testing.set_clock_offset(seconds): shifts the clock the product sees (lockout and expiry
 * tests). Only in the agentlens.testing namespace, which operator scripts cannot require. */
static int l_set_clock_offset(lua_State *L)
{
	al_clock_set_offset_us((int64_t)llround(luaL_checknumber(L, 1) * 1e6));
	return 0;
}

int al_open_testing(lua_State *L)
{
	static const luaL_Reg fns[] = {{"set_clock_offset", l_set_clock_offset}, {NULL, NULL}};
	lua_newtable(L);
	luaL_register(L, NULL, fns);
	return 1;
}

int al_open_time(lua_State *L)
{
	static const luaL_Reg fns[] = {
		{"now", l_now},
		{"monotonic", l_monotonic},
		{"rfc3339", l_rfc3339},
		{"parse_rfc3339", l_parse_rfc3339},
		{"parse_duration", l_parse_duration},
		{NULL, NULL},
	};
	lua_newtable(L);
	luaL_register(L, NULL, fns);
	return 1;
}
