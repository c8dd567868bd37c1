/* SPDX-License-Identifier: Apache-2.0 */
/* agentlens.http: the request object handed to handlers, and response helpers. */
#include <lauxlib.h>
#include <stdlib.h>
#include <string.h>

#include "http/request.h"
#include "lua/api.h"
#include "lua/vm.h"

/* Stack: request table at 1. Returns the live request it stands for, or raises. */
static struct al_request *check_live(lua_State *L)
{
	luaL_checktype(L, 1, LUA_TTABLE);
	struct al_request *r = al_vm_current_request();
	lua_getfield(L, 1, "serial");
	lua_Number serial = lua_tonumber(L, -1);
	lua_pop(L, 1);
	if (!r || (lua_Number)r->serial != serial)
		luaL_error(L, "request object used outside of its request");
	return r;
}

static int add_value(void *ud, const char *name, const char *value)
{
	lua_State *L = ud;
	lua_pushstring(L, value);
	lua_setfield(L, -2, name);
	return 0;
}

/* Header names are folded to lower case so handlers need not guess the client's spelling. */
static int add_header(void *ud, const char *name, const char *value)
{
	lua_State *L = ud;
	char lower[256];
	size_t n = strlen(name);
	if (n >= sizeof lower)
		return 0;
	for (size_t i = 0; i <= n; i++)
		lower[i] = (char)((name[i] >= 'A' && name[i] <= 'Z') ? name[i] + 32 : name[i]);
	lua_pushstring(L, value);
	lua_setfield(L, -2, lower);
	return 0;
}

static int l_req_header(lua_State *L)
{
	struct al_request *r = check_live(L);
	const char *v = al_request_get(r, AL_REQ_HEADER, luaL_checkstring(L, 2));
	if (!v)
		return 0;
	lua_pushstring(L, v);
	return 1;
}

static int l_req_cookie(lua_State *L)
{
	struct al_request *r = check_live(L);
	const char *v = al_request_get(r, AL_REQ_COOKIE, luaL_checkstring(L, 2));
	if (!v)
		return 0;
	lua_pushstring(L, v);
	return 1;
}

/* req:json() -> value | nil, message. An empty body is an error too. */
static int l_req_json(lua_State *L)
{
	struct al_request *r = check_live(L);
	if (r->body.len == 0) {
		lua_pushnil(L);
		lua_pushliteral(L, "request body is empty; expected a JSON document");
		return 2;
	}
	lua_getglobal(L, "require");
	lua_pushliteral(L, "agentlens.json");
	lua_call(L, 1, 1);
	lua_getfield(L, -1, "decode");
	lua_pushlstring(L, r->body.data, r->body.len);
	lua_call(L, 1, 2);
	if (lua_isnil(L, -2)) {
		lua_pushfstring(L, "request body is not valid JSON: %s", lua_tostring(L, -1));
		lua_replace(L, -2);
	}
	return 2;
}

/* __index of request tables: methods, then lazily built fields (cached in the table). */
static int l_req_index(lua_State *L)
{
	const char *k = lua_tostring(L, 2);
	if (!k)
		return 0;
	if (strcmp(k, "header") == 0) {
		lua_pushcfunction(L, l_req_header);
		return 1;
	}
	if (strcmp(k, "cookie") == 0) {
		lua_pushcfunction(L, l_req_cookie);
		return 1;
	}
	if (strcmp(k, "json") == 0) {
		lua_pushcfunction(L, l_req_json);
		return 1;
	}
	enum al_request_kind kind;
	if (strcmp(k, "query") == 0)
		kind = AL_REQ_QUERY;
	else if (strcmp(k, "headers") == 0)
		kind = AL_REQ_HEADER;
	else if (strcmp(k, "cookies") == 0)
		kind = AL_REQ_COOKIE;
	else if (strcmp(k, "body") == 0 || strcmp(k, "peer") == 0)
		kind = AL_REQ_HEADER; /* handled below */
	else
		return 0;
	struct al_request *r = check_live(L);
	if (strcmp(k, "body") == 0) {
		lua_pushlstring(L, r->body.data ? r->body.data : "", r->body.len);
	} else if (strcmp(k, "peer") == 0) {
		char peer[64];
		al_request_peer(r, peer, sizeof peer);
		lua_pushstring(L, peer);
	} else {
		lua_newtable(L);
		al_request_each(r, kind, kind == AL_REQ_HEADER ? add_header : add_value, L);
	}
	lua_pushvalue(L, 2);
	lua_pushvalue(L, -2);
	lua_rawset(L, 1);
	return 1;
}

void al_http_push_request_metatable(lua_State *L)
{
	lua_createtable(L, 0, 2);
	lua_pushcfunction(L, l_req_index);
	lua_setfield(L, -2, "__index");
	lua_pushliteral(L, "agentlens.request");
	lua_setfield(L, -2, "__name");
}

void al_http_push_request(lua_State *L, struct al_request *r, int mt_ref)
{
	lua_createtable(L, 0, 8);
	lua_pushstring(L, r->id);
	lua_setfield(L, -2, "id");
	lua_pushstring(L, r->method);
	lua_setfield(L, -2, "method");
	lua_pushstring(L, r->path);
	lua_setfield(L, -2, "path");
	lua_pushnumber(L, (lua_Number)r->serial);
	lua_setfield(L, -2, "serial");
	lua_createtable(L, 0, (int)r->match.nparams);
	for (size_t i = 0; i < r->match.nparams; i++) {
		const struct al_route_param *p = &r->match.params[i];
		lua_pushlstring(L, p->name, p->name_len);
		lua_pushlstring(L, p->value, p->value_len);
		lua_rawset(L, -3);
	}
	lua_setfield(L, -2, "params");
	lua_rawgeti(L, LUA_REGISTRYINDEX, mt_ref);
	lua_setmetatable(L, -2);
}

/* http.error(status, message[, details]) -> status, {error = message, details = details} */
static int l_http_error(lua_State *L)
{
	int status = (int)luaL_checkinteger(L, 1);
	luaL_checkstring(L, 2);
	if (status < 400 || status > 599)
		return luaL_error(L, "http.error: status %d is not an error status", status);
	lua_settop(L, 3); /* details may be absent: keep index 3 nil, not a pushed value */
	lua_pushinteger(L, status);
	lua_createtable(L, 0, 2);
	lua_pushvalue(L, 2);
	lua_setfield(L, -2, "error");
	if (!lua_isnoneornil(L, 3)) {
		lua_pushvalue(L, 3);
		lua_setfield(L, -2, "details");
	}
	return 2;
}

/* http.request_id() -> id of the request being handled, or nil */
static int l_http_request_id(lua_State *L)
{
	struct al_request *r = al_vm_current_request();
	if (!r)
		return 0;
	lua_pushstring(L, r->id);
	return 1;
}

int al_open_http(lua_State *L)
{
	static const luaL_Reg fns[] = {
		{"error", l_http_error},
		{"request_id", l_http_request_id},
		{NULL, NULL},
	};
	lua_newtable(L);
	luaL_register(L, NULL, fns);
	return 1;
}
