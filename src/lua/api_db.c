/* SPDX-License-Identifier: Apache-2.0 */
/* agentlens.db: query/exec/tx over the calling thread's database connection. */
#include <lauxlib.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db/db.h"
#include "lua/api.h"

#define BLOB_MT "agentlens.db.blob"
#define ARRAY_MT "agentlens.json.array" /* rows lists encode as [] even when empty */
#define INT64_HELPERS "agentlens.db.int64"  /* registry: {to_int64(hi, lo), from_int64(v)} */
#define MAX_PARAMS 256

/* Integers beyond 2^53 cannot be Lua numbers exactly: they travel as LuaJIT int64 cdata. */
static const char int64_helpers[] =
	"local ffi = require 'ffi'\n"
	"local int64, uint64 = ffi.typeof('int64_t'), ffi.typeof('uint64_t')\n"
	"local function to_int64(hi, lo) return ffi.new(int64, hi) * 4294967296LL + lo end\n"
	"local function from_int64(v)\n"
	"  if ffi.istype(int64, v) or ffi.istype(uint64, v) then return (tostring(v):gsub('U?LL$', '')) end\n"
	"end\n"
	"return { to_int64, from_int64 }\n";

static const lua_Number exact_limit = 9007199254740992.0; /* 2^53 */

/* Stack: +1 (the value). */
static void push_value(lua_State *L, const struct al_db_value *v)
{
	switch (v->type) {
	case AL_DB_NULL:
		lua_pushnil(L);
		break;
	case AL_DB_BOOL:
		lua_pushboolean(L, v->v.b);
		break;
	case AL_DB_INT:
		if (v->v.i >= -(int64_t)exact_limit && v->v.i <= (int64_t)exact_limit) {
			lua_pushnumber(L, (lua_Number)v->v.i);
		} else {
			lua_getfield(L, LUA_REGISTRYINDEX, INT64_HELPERS);
			lua_rawgeti(L, -1, 1);
			lua_remove(L, -2);
			lua_pushnumber(L, (lua_Number)(int32_t)(v->v.i >> 32));
			lua_pushnumber(L, (lua_Number)(uint32_t)(v->v.i & 0xffffffffu));
			lua_call(L, 2, 1);
		}
		break;
	case AL_DB_FLOAT:
		lua_pushnumber(L, v->v.f);
		break;
	case AL_DB_TEXT:
	case AL_DB_BLOB:
		lua_pushlstring(L, v->v.s.p, v->v.s.len);
		break;
	}
}

struct rows_ctx {
	lua_State *L;
	int list; /* stack index of the rows array */
	int n;
	bool want;
};

static int on_row(void *ud, size_t ncols, const char *const *names, const struct al_db_value *values)
{
	struct rows_ctx *c = ud;
	if (!c->want)
		return 0;
	lua_State *L = c->L;
	if (!lua_checkstack(L, 8))
		return 1;
	lua_createtable(L, 0, (int)ncols);
	for (size_t i = 0; i < ncols; i++) {
		if (values[i].type == AL_DB_NULL)
			continue;
		push_value(L, &values[i]);
		lua_setfield(L, -2, names[i]);
	}
	lua_rawseti(L, c->list, ++c->n);
	return 0;
}

/* Converts Lua arguments first..top into params (text borrowed from the Lua stack, which
 * holds the strings for the duration of the call). Raises on unsupported types (misuse). */
static size_t collect_params(lua_State *L, int first, struct al_db_value *p)
{
	int top = lua_gettop(L);
	if (top - first + 1 > MAX_PARAMS)
		luaL_error(L, "too many parameters (at most %d)", MAX_PARAMS);
	size_t n = 0;
	for (int i = first; i <= top; i++, n++) {
		struct al_db_value *v = &p[n];
		switch (lua_type(L, i)) {
		case LUA_TNIL:
			v->type = AL_DB_NULL;
			break;
		case LUA_TBOOLEAN:
			v->type = AL_DB_BOOL;
			v->v.b = lua_toboolean(L, i);
			break;
		case LUA_TNUMBER: {
			lua_Number x = lua_tonumber(L, i);
			if (x == floor(x) && x >= -9223372036854775808.0 && x < 9223372036854775808.0) {
				v->type = AL_DB_INT;
				v->v.i = (int64_t)x;
			} else if (isfinite(x)) {
				v->type = AL_DB_FLOAT;
				v->v.f = x;
			} else {
				luaL_error(L, "parameter %d: NaN and infinity cannot be stored", (int)n + 1);
			}
			break;
		}
		case LUA_TSTRING:
			v->type = AL_DB_TEXT;
			v->v.s.p = lua_tolstring(L, i, &v->v.s.len);
			break;
		case LUA_TTABLE:
			if (lua_getmetatable(L, i)) {
				luaL_getmetatable(L, BLOB_MT);
				bool blob = lua_rawequal(L, -1, -2);
				lua_pop(L, 2);
				if (blob) {
					lua_rawgeti(L, i, 1);
					v->type = AL_DB_BLOB;
					v->v.s.p = lua_tolstring(L, -1, &v->v.s.len);
					lua_replace(L, i); /* keep the string alive in the argument slot */
					break;
				}
			}
			luaL_error(L, "parameter %d: tables cannot be bound (encode JSON first, or db.blob(s))", (int)n + 1);
			break;
		default:
			if (lua_type(L, i) == 10 /* LuaJIT cdata */) {
				lua_getfield(L, LUA_REGISTRYINDEX, INT64_HELPERS);
				lua_rawgeti(L, -1, 2);
				lua_pushvalue(L, i);
				lua_call(L, 1, 1);
				const char *s = lua_tostring(L, -1);
				char *end;
				long long x = s ? strtoll(s, &end, 10) : 0;
				if (s && *end == '\0') {
					v->type = AL_DB_INT;
					v->v.i = x;
					lua_pop(L, 2);
					break;
				}
			}
			luaL_error(L, "parameter %d: a %s cannot be bound", (int)n + 1, luaL_typename(L, i));
		}
	}
	return n;
}

/* Returns nil, message, code (Stack: +3). */
static int push_failure(lua_State *L, const struct al_db_error *err)
{
	lua_pushnil(L);
	lua_pushstring(L, err->message);
	lua_pushstring(L, al_db_code_name(err->code));
	return 3;
}

/* Runs the statement at arg 1 with params from arg 2; Stack: +1 (rows list). */
static bool run(lua_State *L, int64_t *changes, struct rows_ctx *c, struct al_db_error *err)
{
	const char *sql = luaL_checkstring(L, 1);
	struct al_db_value params[MAX_PARAMS];
	size_t n = collect_params(L, 2, params);
	struct al_db *db = al_db_thread(err);
	lua_createtable(L, 0, 0);
	luaL_getmetatable(L, ARRAY_MT);
	lua_setmetatable(L, -2);
	c->L = L;
	c->list = lua_gettop(L);
	return db && al_db_exec(db, sql, params, n, on_row, c, changes, err);
}

/* db.query(sql, ...) -> rows | nil, message, code */
static int l_query(lua_State *L)
{
	struct al_db_error err;
	struct rows_ctx c = {.want = true};
	if (!run(L, NULL, &c, &err))
		return push_failure(L, &err);
	return 1;
}

/* db.exec(sql, ...) -> affected rows[, returned rows when the statement has RETURNING]
 *                    | nil, message, code */
static int l_exec(lua_State *L)
{
	struct al_db_error err;
	struct rows_ctx c = {.want = true};
	int64_t changes = 0;
	if (!run(L, &changes, &c, &err))
		return push_failure(L, &err);
	lua_pushnumber(L, (lua_Number)changes);
	if (c.n == 0)
		return 1;
	lua_pushvalue(L, c.list);
	return 2;
}

/* db.tx(fn, ...) -> fn's results after COMMIT | nil, message, code after ROLLBACK.
 * Rolls back when fn raises, or returns nil plus an error (the usual failure shape). */
static int l_tx(lua_State *L)
{
	luaL_checktype(L, 1, LUA_TFUNCTION);
	struct al_db_error err;
	struct al_db *db = al_db_thread(&err);
	if (!db)
		return push_failure(L, &err);
	if (al_db_in_transaction(db))
		return luaL_error(L, "db.tx: transactions do not nest");
	if (!al_db_begin(db, &err))
		return push_failure(L, &err);
	int base = lua_gettop(L);
	lua_pushvalue(L, 1);
	lua_insert(L, 2);
	int rc = lua_pcall(L, base - 1, LUA_MULTRET, 0);
	int nres = lua_gettop(L) - 1;
	if (rc != 0) {
		struct al_db_error ignored;
		al_db_rollback(db, &ignored);
		lua_pushnil(L);
		lua_insert(L, -2);
		lua_pushliteral(L, "error");
		return 3;
	}
	if (nres >= 2 && lua_isnil(L, 2) && !lua_isnil(L, 3)) {
		struct al_db_error ignored;
		al_db_rollback(db, &ignored);
		return nres;
	}
	if (!al_db_commit(db, &err))
		return push_failure(L, &err);
	return nres;
}

/* db.dialect() -> "sqlite" | "postgres" */
static int l_dialect(lua_State *L)
{
	struct al_db_error err;
	struct al_db *db = al_db_thread(&err);
	if (!db)
		return push_failure(L, &err);
	lua_pushstring(L, al_db_dialect(db) == AL_DB_POSTGRES ? "postgres" : "sqlite");
	return 1;
}

/* db.blob(s) -> a value bound as BLOB/bytea instead of text */
static int l_blob(lua_State *L)
{
	luaL_checkstring(L, 1);
	lua_createtable(L, 1, 0);
	lua_pushvalue(L, 1);
	lua_rawseti(L, -2, 1);
	luaL_getmetatable(L, BLOB_MT);
	lua_setmetatable(L, -2);
	return 1;
}

int al_open_db(lua_State *L)
{
	static const luaL_Reg fns[] = {
		{"query", l_query}, {"exec", l_exec}, {"tx", l_tx},
		{"dialect", l_dialect}, {"blob", l_blob}, {NULL, NULL},
	};
	lua_getglobal(L, "require");
	lua_pushliteral(L, "agentlens.json"); /* creates the array metatable */
	lua_call(L, 1, 0);
	luaL_newmetatable(L, BLOB_MT);
	lua_pop(L, 1);
	if (luaL_loadbuffer(L, int64_helpers, sizeof int64_helpers - 1, "=agentlens.db.int64") != 0)
		return lua_error(L);
	lua_call(L, 0, 1);
	lua_setfield(L, LUA_REGISTRYINDEX, INT64_HELPERS);
	lua_newtable(L);
	luaL_register(L, NULL, fns);
	return 1;
}
