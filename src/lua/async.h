/* SPDX-License-Identifier: Apache-2.0 */
/* Slow work from Lua without blocking a worker: the handler's coroutine yields, the connection
 * is suspended, the work runs on the work pool, and the handler resumes with its result. */
#ifndef AL_LUA_ASYNC_H
#define AL_LUA_ASYNC_H

#include <lua.h>
#include <stdbool.h>

/* True when the calling C function runs inside a request's handler coroutine, where
 * al_async_yield may be used; otherwise the caller does the work synchronously. */
bool al_async_available(lua_State *L);

/* From a C function bound to Lua: schedules work(arg) on the work pool and yields. When the
 * work is done, push(L, arg) pushes the values the C function returns, then free_arg(arg)
 * releases arg (also when the request is abandoned). Use as: return al_async_yield(...). */
int al_async_yield(lua_State *L, void (*work)(void *), int (*push)(lua_State *, void *), void (*free_arg)(void *),
		   void *arg);

#endif
