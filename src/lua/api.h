/* SPDX-License-Identifier: Apache-2.0 */
/* The agentlens.* C namespaces: one luaopen-style function per binding file. */
#ifndef AL_LUA_API_H
#define AL_LUA_API_H

#include <lua.h>
#include <stdbool.h>
#include <stddef.h>

struct al_request;
struct al_source;

int al_open_config(lua_State *L);
int al_open_crypto(lua_State *L);
int al_open_db(lua_State *L);
int al_open_http(lua_State *L);
int al_open_httpc(lua_State *L);
int al_open_json(lua_State *L);
int al_open_log(lua_State *L);
int al_open_shared(lua_State *L);
int al_open_system(lua_State *L);
int al_open_testing(lua_State *L);
int al_open_time(lua_State *L);
int al_open_yaml(lua_State *L);

/* Builds the request table for r (stack: +1). The metatable must be at registry ref mt_ref. */
void al_http_push_request(lua_State *L, struct al_request *r, int mt_ref);
/* Pushes the metatable of request tables (stack: +1). */
void al_http_push_request_metatable(lua_State *L);

/* Sandbox for operator scripts: loads and runs src in an allow-list environment and pushes
 * what it returned (a table, or an empty table for nil). Returns false with err set (stack
 * unchanged). */
bool al_sandbox_run(lua_State *L, const struct al_source *src, char *err, size_t errlen);

#endif
