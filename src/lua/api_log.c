/* SPDX-License-Identifier: Apache-2.0 */
/* agentlens.log: leveled structured logging from Lua; adds the request id inside requests. */
#include <lauxlib.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/log.h"
#include "http/request.h"
#include "lua/api.h"
#include "lua/api_json.h"
#include "lua/vm.h"

#define MAX_FIELDS 32

struct key_index {
	const char *key;
	int stack; /* index of the value, copied to the stack */
};

static int cmp_key(const void *a, const void *b)
{
	return strcmp(((const struct key_index *)a)->key, ((const struct key_index *)b)->key);
}

/* log.<level>(message[, fields]) */
static int log_at(lua_State *L, enum al_log_level level)
{
	const char *msg = luaL_checkstring(L, 1);
	if (!lua_isnoneornil(L, 2))
		luaL_checktype(L, 2, LUA_TTABLE);
	if (!al_log_enabled(level))
		return 0;
	struct al_log_field f[MAX_FIELDS + 1];
	struct al_buf encoded[MAX_FIELDS];
	struct key_index keys[MAX_FIELDS];
	size_t n = 0, nkeys = 0;
	struct al_request *r = al_vm_current_request();
	if (r)
		f[n++] = AL_LSTR("request_id", r->id);
	lua_settop(L, 2);
	if (lua_istable(L, 2)) {
		lua_pushnil(L);
		while (nkeys < MAX_FIELDS && lua_next(L, 2)) {
			if (lua_type(L, -2) != LUA_TSTRING || !lua_checkstack(L, 4)) {
				lua_pop(L, 1);
				continue;
			}
			/* keep key and value on the stack so the borrowed strings stay alive */
			lua_pushvalue(L, -2);
			lua_insert(L, -2);
			keys[nkeys].key = lua_tostring(L, -2);
			keys[nkeys].stack = lua_gettop(L);
			nkeys++;
			lua_pushvalue(L, -2);
		}
	}
	qsort(keys, nkeys, sizeof keys[0], cmp_key);
	size_t nenc = 0;
	for (size_t i = 0; i < nkeys; i++) {
		int idx = keys[i].stack;
		const char *k = keys[i].key;
		switch (lua_type(L, idx)) {
		case LUA_TNUMBER: {
			lua_Number v = lua_tonumber(L, idx);
			if (v == (lua_Number)(int64_t)v)
				f[n++] = AL_LINT(k, (int64_t)v);
			else
				f[n++] = AL_LDBL(k, v);
			break;
		}
		case LUA_TBOOLEAN:
			f[n++] = AL_LBOOL(k, lua_toboolean(L, idx));
			break;
		case LUA_TSTRING: {
			size_t len;
			const char *s = lua_tolstring(L, idx, &len);
			f[n++] = AL_LSTRN(k, s, len);
			break;
		}
		default: {
			struct al_buf *b = &encoded[nenc];
			*b = (struct al_buf)AL_BUF_INIT;
			char err[128];
			if (al_json_encode_value(L, idx, b, err, sizeof err)) {
				nenc++;
				f[n++] = AL_LSTRN(k, b->data, b->len);
			} else {
				al_buf_free(b);
				f[n++] = AL_LSTR(k, luaL_typename(L, idx));
			}
		}
		}
	}
	al_log_fields(level, msg, f, n);
	for (size_t i = 0; i < nenc; i++)
		al_buf_free(&encoded[i]);
	return 0;
}

static int l_debug(lua_State *L)
{
	return log_at(L, AL_LOG_DEBUG);
}

static int l_info(lua_State *L)
{
	return log_at(L, AL_LOG_INFO);
}

static int l_warn(lua_State *L)
{
	return log_at(L, AL_LOG_WARN);
}

static int l_error(lua_State *L)
{
	return log_at(L, AL_LOG_ERROR);
}

static int l_enabled(lua_State *L)
{
	enum al_log_level level;
	if (!al_log_level_parse(luaL_checkstring(L, 1), &level))
		return luaL_argerror(L, 1, "expected debug, info, warn or error");
	lua_pushboolean(L, al_log_enabled(level));
	return 1;
}

int al_open_log(lua_State *L)
{
	static const luaL_Reg fns[] = {
		{"debug", l_debug}, {"info", l_info}, {"warn", l_warn},
		{"error", l_error}, {"enabled", l_enabled}, {NULL, NULL},
	};
	lua_newtable(L);
	luaL_register(L, NULL, fns);
	return 1;
}
