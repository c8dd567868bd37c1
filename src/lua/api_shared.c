/* SPDX-License-Identifier: Apache-2.0 */
/* agentlens.shared: process-wide counters that every worker's Lua state sees (cache epochs). */
#include <lauxlib.h>
#include <pthread.h>
#include <stdio.h>
#include <stdint.h>
#include <string.h>

#include "lua/api.h"

#define MAX_COUNTERS 64
#define NAME_MAX_LEN 48

static struct {
	pthread_mutex_t lock;
	char names[MAX_COUNTERS][NAME_MAX_LEN];
	uint64_t values[MAX_COUNTERS];
	int n;
} counters = {.lock = PTHREAD_MUTEX_INITIALIZER};

/* Index of name, created when absent; -1 when the table is full. Caller holds the lock. */
static int slot(const char *name)
{
	for (int i = 0; i < counters.n; i++)
		if (strcmp(counters.names[i], name) == 0)
			return i;
	if (counters.n == MAX_COUNTERS)
		return -1;
	snprintf(counters.names[counters.n], NAME_MAX_LEN, "%s", name);
	counters.values[counters.n] = 0;
	return counters.n++;
}

static const char *check_name(lua_State *L)
{
	size_t len;
	const char *name = luaL_checklstring(L, 1, &len);
	luaL_argcheck(L, len > 0 && len < NAME_MAX_LEN, 1, "counter names have 1 to 47 characters");
	return name;
}

/* shared.get(name) -> current value (0 for a new counter) */
static int l_get(lua_State *L)
{
	const char *name = check_name(L);
	pthread_mutex_lock(&counters.lock);
	int i = slot(name);
	uint64_t v = i >= 0 ? counters.values[i] : 0;
	pthread_mutex_unlock(&counters.lock);
	if (i < 0)
		return luaL_error(L, "shared: too many counters");
	lua_pushnumber(L, (lua_Number)v);
	return 1;
}

/* shared.bump(name) -> new value */
static int l_bump(lua_State *L)
{
	const char *name = check_name(L);
	pthread_mutex_lock(&counters.lock);
	int i = slot(name);
	uint64_t v = i >= 0 ? ++counters.values[i] : 0;
	pthread_mutex_unlock(&counters.lock);
	if (i < 0)
		return luaL_error(L, "shared: too many counters");
	lua_pushnumber(L, (lua_Number)v);
	return 1;
}

int al_open_shared(lua_State *L)
{
	static const luaL_Reg fns[] = {{"get", l_get}, {"bump", l_bump}, {NULL, NULL}};
	lua_newtable(L);
	luaL_register(L, NULL, fns);
	return 1;
}
